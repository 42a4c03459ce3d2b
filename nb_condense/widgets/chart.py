"""Interactive Altair charts that stay offline: :class:`ChartWidget` and the notebook renderer.

``enable_offline_charts()`` (the default ``renderer="interactive"``) makes every Altair chart a notebook
shows a :class:`ChartWidget`: the chart is drawn by the explorer's own bundle (``static/widget.js``: vega,
vega-lite and vega-embed, no CDN, nothing bundled at run time), so tooltips and click selections work. Each
output also carries a static copy (SVG by default, via vl-convert) that GitHub, nbviewer and exported HTML
show instead, since they run no widgets.

Example
-------
>>> import altair as alt, pandas as pd
>>> from nb_condense.widgets.chart import chart_mimebundle
>>> chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q", tooltip=["x:Q"])
>>> bundle = chart_mimebundle(chart.to_dict())
>>> sorted(bundle)
['application/vnd.jupyter.widget-view+json', 'image/svg+xml', 'text/plain']
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import altair as alt
import traitlets

from ..charts import enable_static_charts
from ..charts.alt_text import spec_text, with_png_text, with_svg_text
from ..charts.describe import ChartText
from ._protocol import CHART_STATE, BundledWidget, default

__all__ = ["FALLBACKS", "RENDERER", "ChartWidget", "chart_mimebundle", "enable_offline_charts"]

RENDERER = "nb_condense"
"""The name under which :func:`enable_offline_charts` registers the interactive renderer with Altair."""
FALLBACKS = ("svg", "png", None)
"""Static copies a rendered chart can carry for viewers without widgets (``None``: none)."""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class ChartWidget(BundledWidget):
    """One Altair / Vega-Lite chart drawn by the bundled vega (no CDN), with its tooltips and selections.

    Parameters
    ----------
    spec
        A Vega-Lite spec (``chart.to_dict()``), or an Altair chart.

    Notes
    -----
    The front end is the explorer's bundle in its chart-only mode (``_kind == "chart"``): the page loads the
    bundle once, however many charts and explorers it shows (:mod:`nb_condense.widgets._protocol`). Setting
    :attr:`spec` redraws the chart.
    """

    spec = traitlets.Dict(default("chartState", "spec")).tag(sync=True)
    """The Vega-Lite spec drawn. Type: dict. Default: ``{}``."""
    description = traitlets.Unicode(default("chartState", "description")).tag(sync=True)
    """The chart's text description for assistive technology: set from :attr:`spec` by
    :func:`nb_condense.charts.alt_text.spec_text` whenever the spec changes. Type: str."""

    _kind = traitlets.Enum(("chart",), default_value="chart").tag(sync=True)
    _synced = CHART_STATE

    _text: ChartText | None = None  # the whole text alternative read off the spec (name, summary, table)

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        if hasattr(spec, "to_dict"):
            spec = spec.to_dict()
        if not isinstance(spec, dict):
            raise TypeError(f"ChartWidget takes a Vega-Lite spec (dict) or an Altair chart, got {type(spec).__name__}.")
        super().__init__(spec=spec, **kwargs)
        self._describe({"new": spec})

    @traitlets.observe("spec")
    def _describe(self, change: dict[str, Any]) -> None:
        self._text = spec_text(change["new"]) if change["new"] else None
        self.description = self._text.summary if self._text else ""

    def __repr__(self) -> str:  # the default repr would print the whole spec, data included
        return f"ChartWidget(mark={self.spec.get('mark', '...')!r})" if self.spec else "ChartWidget()"


def _static_copy(spec: dict[str, Any], fallback: str, text: ChartText) -> dict[str, str]:
    """The chart as ``image/svg+xml`` or ``image/png`` (base64), rendered offline by vl-convert.

    The copy carries the chart's name and description: ``<title>``/``<desc>`` in an SVG, text chunks in a PNG.
    """
    from altair.utils.mimebundle import spec_to_mimebundle

    copy: Any = spec_to_mimebundle(spec, format=fallback, mode="vega-lite",  # type: ignore[call-overload]
                                   vegalite_version=alt.VEGALITE_VERSION)
    data = copy[0] if isinstance(copy, tuple) else copy  # png comes with (width, height) metadata
    if fallback == "png":
        return {"image/png": base64.b64encode(with_png_text(data["image/png"], text)).decode("ascii")}
    return {"image/svg+xml": with_svg_text(data["image/svg+xml"], text)}


def plain_text(text: ChartText) -> str:
    """The chart's text output, for viewers that show no widget and no image: ``"Chart: <name>. <summary>"``.

    An untitled chart (named "Chart" by :func:`~nb_condense.charts.alt_text.spec_text`) is ``"Chart: <summary>"``.
    """
    return f"Chart: {text.summary}" if text.name in ("", "Chart") else f"Chart: {text.name}. {text.summary}"


def chart_mimebundle(spec: dict[str, Any], fallback: str | None = "svg", **_metadata: Any) -> dict[str, Any]:
    """An Altair renderer: the chart as a :class:`ChartWidget` view plus a static copy (``fallback``).

    Front ends that run widgets (JupyterLab, Notebook 7, VS Code, Colab, Voila) draw the widget;
    GitHub, nbviewer and ``nbconvert --to html`` (without saved widget state) show the static copy, which carries
    the chart's name and description; a viewer that shows text only gets them as ``text/plain``.
    """
    if fallback not in FALLBACKS:
        raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}.")
    widget = ChartWidget(spec)
    widget.carry_bundle()  # displayed now: the first widget a kernel displays carries the bundle
    text = widget._text or spec_text(spec)  # read off the spec once, by the widget
    output: dict[str, Any] = {
        "text/plain": plain_text(text),
        WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
    }
    if fallback is not None:
        output.update(_static_copy(spec, fallback, text))
    return output


def enable_offline_charts(renderer: str = "interactive", *, fallback: str | None = "svg") -> None:
    """Show Altair charts in notebooks without any CDN.

    Parameters
    ----------
    renderer
        ``"interactive"`` (default): each chart is a :class:`ChartWidget` drawn by the bundled vega, with
        tooltips and selections, plus a static copy. ``"svg"`` or ``"png"``: static images only
        (:func:`nb_condense.charts.enable_static_charts`).
    fallback
        The static copy stored with interactive charts: ``"svg"`` (default), ``"png"`` or ``None``.
    """
    if renderer in ("svg", "png"):
        enable_static_charts(renderer)
        return
    if renderer != "interactive":
        raise ValueError(f"renderer must be 'interactive', 'svg' or 'png' (all offline), got {renderer!r}.")
    if fallback not in FALLBACKS:
        raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}.")
    alt.renderers.register(RENDERER, functools.partial(chart_mimebundle, fallback=fallback))
    alt.renderers.enable(RENDERER)
