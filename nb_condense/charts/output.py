"""Charts out of the kernel: files (PNG, SVG, PDF, self-contained HTML, JSON) and offline notebook rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt

from ..core.files import to_bytes, write_bytes
from .alt_text import spec_text, with_html_text, with_png_text, with_svg_text
from .describe import ChartText

__all__ = ["check_chart_path", "described", "enable_static_charts", "save_chart"]

SAVE_FORMATS = (".png", ".svg", ".pdf", ".html", ".json")


class ScriptSafeJSONEncoder(json.JSONEncoder):
    """JSON that stays text inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as JSON unicode escapes: the values read back are the same, but a
    ``</script>`` or ``<!--`` in a title, a text or a token cannot end the element that holds the spec.
    """

    @staticmethod
    def _safe(text: str) -> str:
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def encode(self, o: Any) -> str:
        """The JSON text of ``o``, made safe to place inside ``<script>``."""
        return self._safe(super().encode(o))

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        """As :meth:`encode`, chunk by chunk (the characters replaced never span two chunks)."""
        return (self._safe(chunk) for chunk in super().iterencode(o, _one_shot))


def check_chart_path(path: str | Path) -> Path:
    """``path`` as a Path, or a ValueError when its suffix is not a format :func:`save_chart` writes."""
    path = Path(path)
    if path.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"Cannot save a chart as {path.name!r}: use one of {', '.join(SAVE_FORMATS)}.")
    return path


def save_chart(chart: Any, path: str | Path, *, scale_factor: float = 2.0,
               text: ChartText | str | None = None) -> Path:
    """Save ``chart`` by suffix: ``.png``, ``.svg``, ``.pdf``, ``.html`` (inline JS, offline) or ``.json``.

    Every copy carries the chart's text alternative: its title as the name and a summary as the description
    (``text``: a :class:`~nb_condense.charts.describe.ChartText` such as ``describe_heatmap(result)``, or a
    summary; by default the chart's own ``description``, else a summary of the data it draws,
    :func:`~nb_condense.charts.alt_text.spec_text`). The spec gets it as Vega-Lite's ``description``; an SVG
    gets ``role="img"``, ``<title>`` and ``<desc>``; an HTML page a title, a named figure and a caption; a PNG
    ``Title`` and ``Description`` text chunks.

    In ``.html`` the spec's ``<``, ``>`` and ``&`` are JSON escapes, so text holding ``</script>`` or markup is
    shown as text and never runs.

    The file is rendered in memory, then written atomically: a failure leaves any previous file intact.
    """
    path = check_chart_path(path)
    suffix = path.suffix.lower()
    chart, alternative = described(chart, text)
    # HTML: the spec sits in a <script>; hostile text in it (a title, a token) must stay text
    options: dict[str, Any] = {"inline": True, "json_kwds": {"cls": ScriptSafeJSONEncoder}} if suffix == ".html" \
        else {}
    if suffix == ".png":
        options["scale_factor"] = scale_factor
    text_file = suffix in (".svg", ".html", ".json")
    data = to_bytes(lambda handle: chart.save(handle, format=suffix[1:], **options), text_file)
    if suffix == ".svg":
        data = with_svg_text(data.decode("utf-8"), alternative).encode("utf-8")
    elif suffix == ".html":
        data = with_html_text(data.decode("utf-8"), alternative).encode("utf-8")
    elif suffix == ".png":
        data = with_png_text(data, alternative)
    return write_bytes(path, data)


def described(chart: Any, text: ChartText | str | None = None) -> tuple[Any, ChartText]:
    """``chart`` with Vega-Lite's ``description`` set to its summary, and its :class:`ChartText`.

    ``text`` as in :func:`save_chart`; by default the chart's own description or a summary of its data.
    """
    spec = chart.to_dict(validate=False)
    alternative = spec_text(spec)
    if isinstance(text, ChartText):
        alternative = text
    elif text is not None:
        alternative = ChartText(alternative.name, str(text), alternative.table)
    return chart.properties(description=alternative.summary), alternative


def enable_static_charts(renderer: str = "svg") -> Any:
    """Render Altair charts in notebooks as static images without any CDN (``"svg"`` or ``"png"``, vl-convert).

    Returns Altair's renderer registry state (as ``alt.renderers.enable`` does). For interactive charts (tooltips,
    selections) that stay offline, use ``nb_condense.enable_offline_charts()`` (:mod:`nb_condense.widgets.chart`),
    which falls back to this function for ``"svg"`` and ``"png"``.
    """
    if renderer not in ("svg", "png"):
        raise ValueError(f"renderer must be 'svg' or 'png' (offline), got {renderer!r}.")
    return alt.renderers.enable(renderer)
