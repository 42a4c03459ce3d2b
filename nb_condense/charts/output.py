"""Charts out of the kernel: files (PNG, SVG, PDF, self-contained HTML, JSON) and offline notebook rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt

__all__ = ["enable_offline_charts", "save_chart"]

SAVE_FORMATS = (".png", ".svg", ".pdf", ".html", ".json")


def save_chart(chart: Any, path: str | Path, *, scale_factor: float = 2.0) -> Path:
    """Save ``chart`` by suffix: ``.png``, ``.svg``, ``.pdf``, ``.html`` (inline JS, offline) or ``.json``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise ValueError(f"Cannot save a chart as {path.name!r}: use one of {', '.join(SAVE_FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        chart.save(str(path), inline=True)
    elif suffix == ".png":
        chart.save(str(path), scale_factor=scale_factor)
    else:
        chart.save(str(path))
    return path


def enable_offline_charts(renderer: str = "svg") -> Any:
    """Render Altair charts in notebooks as static images without any CDN (``"svg"`` or ``"png"``, vl-convert).

    For interactive charts (tooltips, selections) that stay offline, use ``nb_condense.enable_offline_charts()``
    (:mod:`nb_condense.chart_widget`), which falls back to this function for ``"svg"`` and ``"png"``.
    """
    if renderer not in ("svg", "png"):
        raise ValueError(f"renderer must be 'svg' or 'png' (offline), got {renderer!r}.")
    return alt.renderers.enable(renderer)
