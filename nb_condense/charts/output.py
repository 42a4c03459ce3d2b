"""Charts out of the kernel: files (PNG, SVG, PDF, self-contained HTML, JSON) and offline notebook rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt

from ..core.files import to_bytes, write_bytes

__all__ = ["check_chart_path", "enable_static_charts", "save_chart"]

SAVE_FORMATS = (".png", ".svg", ".pdf", ".html", ".json")


def check_chart_path(path: str | Path) -> Path:
    """``path`` as a Path, or a ValueError when its suffix is not a format :func:`save_chart` writes."""
    path = Path(path)
    if path.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"Cannot save a chart as {path.name!r}: use one of {', '.join(SAVE_FORMATS)}.")
    return path


def save_chart(chart: Any, path: str | Path, *, scale_factor: float = 2.0) -> Path:
    """Save ``chart`` by suffix: ``.png``, ``.svg``, ``.pdf``, ``.html`` (inline JS, offline) or ``.json``.

    The file is rendered in memory, then written atomically: a failure leaves any previous file intact.
    """
    path = check_chart_path(path)
    suffix = path.suffix.lower()
    options: dict[str, Any] = {"inline": True} if suffix == ".html" else {}
    if suffix == ".png":
        options["scale_factor"] = scale_factor
    text = suffix in (".svg", ".html", ".json")
    return write_bytes(path, to_bytes(lambda handle: chart.save(handle, format=suffix[1:], **options), text))


def enable_static_charts(renderer: str = "svg") -> Any:
    """Render Altair charts in notebooks as static images without any CDN (``"svg"`` or ``"png"``, vl-convert).

    Returns Altair's renderer registry state (as ``alt.renderers.enable`` does). For interactive charts (tooltips,
    selections) that stay offline, use ``nb_condense.enable_offline_charts()`` (:mod:`nb_condense.widgets.chart`),
    which falls back to this function for ``"svg"`` and ``"png"``.
    """
    if renderer not in ("svg", "png"):
        raise ValueError(f"renderer must be 'svg' or 'png' (offline), got {renderer!r}.")
    return alt.renderers.enable(renderer)
