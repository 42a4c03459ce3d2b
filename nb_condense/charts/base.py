"""What every chart shares: the data it accepts, the figure it returns, the paper's colour scale, inline data."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import altair as alt
import pandas as pd

from ..core.result import CondensationResult, MeasuredSource
from .specs import DISCRETE_LIMIT, LAYER_SELECTION, TITLE_PARAM, data_values

__all__ = [
    "BACKGROUND_PARAM", "DENSITY_CLIP", "DENSITY_RAMPS", "DISCRETE_LIMIT", "LAYER_SELECTION", "OKABE_ITO",
    "TITLE_PARAM", "Figure", "as_result", "as_results", "background_param", "data_values", "density_range", "grid",
    "layer_colour", "live_title", "returns_chart", "themed_colour", "with_data"]

DENSITY_CLIP = 10.0
"""The paper's colour scale tops out at a density of 10 (about 15.6 % of a layer's mass in one bin)."""
LAYER_TITLE = "Layer fraction"
COSINE_TITLE = "Cosine similarity"
# ColorBrewer "Reds" (matplotlib's Reds colormap interpolates the same nine colours), except that density 0 is
# transparent: the lowest stop is the first colour of the ramp with alpha 0, so empty and near-empty cells show the
# host's background.
REDS = ["#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"]
ZERO_DENSITY = "rgba(255, 245, 240, 0)"
"""The colour of density 0 (light theme): fully transparent (the theme's background shows through)."""
BACKGROUND_PARAM = "nbc_background"
"""The param holding the host's background colour: the front end sets it (``js/src/theme.js``); static copies
keep its default, white. Colour ramps pick their light- or dark-theme stops from it."""
DARK_BACKGROUND = 0.18
"""Relative luminance below which a background is dark (0.18: CIELAB lightness 50, halfway)."""
DENSITY_RAMPS = {
    "light": REDS[1:],
    "dark": REDS[-2::-1],
}
"""Opaque stops of the density ramp above 0, per theme, in order of density: every step moves further from the
background's lightness (light: darker reds; dark: from deep red to near-white), so more density is more ink.
The dark ramp starts at #a50f15 (lightness 33), above the dark hosts' backgrounds (JupyterLab 5, VS Code 11,
Colab 24)."""


def themed_colour(light: str, dark: str) -> dict[str, str]:
    """A colour that is ``light`` on a light background and ``dark`` on a dark one (an expression of the param)."""
    return {"expr": f"luminance({BACKGROUND_PARAM}) < {DARK_BACKGROUND} ? {json.dumps(dark)} : {json.dumps(light)}"}


def background_param() -> Any:
    """The param :data:`BACKGROUND_PARAM` (default white), for a chart whose colours follow the theme."""
    return alt.param(name=BACKGROUND_PARAM, value="white")


def transparent(colour: str) -> str:
    """``colour`` (``#rrggbb``) with alpha 0: where a ramp starts, so that it fades in from the background."""
    red, green, blue = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, 0)"


def density_range() -> list[Any]:
    """The density ramp's stops for both themes (:data:`DENSITY_RAMPS`), transparent at density 0."""
    light, dark = DENSITY_RAMPS["light"], DENSITY_RAMPS["dark"]
    return [themed_colour(ZERO_DENSITY, transparent(dark[0])),
            *(themed_colour(a, b) for a, b in zip(light, dark))]


OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999",
             "#882255"]
"""Ten colour-blind-safe colours for categories (Okabe & Ito 2008, blue first; then Tol's wine and a grey)."""
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3], [10, 2], [3, 6], [6, 2, 2, 2], [12, 4]]
"""Stroke dashes that go with :data:`OKABE_ITO` (colour plus dash: series stay apart without colour)."""


ChartData = CondensationResult | MeasuredSource
"""What a single-model chart takes: a result, or anything holding a finished measurement under a name."""


@dataclass
class Figure:
    """A chart and the tidy frame it draws (what a CSV export of the chart contains)."""

    chart: Any
    data: pd.DataFrame


def as_result(data: Any) -> tuple[str, CondensationResult]:
    """``(name, result)`` for a result or a measured source (a session); never starts a measurement."""
    if isinstance(data, CondensationResult):
        return str(data.metadata.get("model_name", "model")), data
    if isinstance(data, MeasuredSource):
        return data.name, data.measured_result()
    raise TypeError(
        f"Charts take a CondensationResult or a measured CondensationSession, got {type(data).__name__}. "
        "Measure first (nbc.measure(...) or session.measure())."
    )


def as_results(data: Any) -> list[tuple[str, CondensationResult]]:
    """``[(name, result)]`` for one result/source, a list of them, or a ``{name: result}`` mapping."""
    if isinstance(data, Mapping):
        return [(str(name), as_result(item)[1]) for name, item in data.items()]
    items = data if isinstance(data, (list, tuple)) else [data]
    if not items:
        raise ValueError("No results to chart: pass at least one result or measured session.")
    return [as_result(item) for item in items]


def reds_scale(top: float) -> alt.Scale:
    """Linear density ramp on ``[0, top]``, saturating above ``top`` (matplotlib's vmin/vmax); 0 is transparent.

    Its stops follow the theme (:func:`density_range`): a chart using it needs :func:`background_param`.
    """
    stops = [top * k / len(DENSITY_RAMPS["light"]) for k in range(len(DENSITY_RAMPS["light"]) + 1)]
    return alt.Scale(domain=stops, range=density_range(), clamp=True, interpolate="rgb")


def layer_colour(n_layers: int, *, field: str = "layer", title: str = "Layer") -> tuple[Any, Any]:
    """Colour and dash encodings for ``n_layers`` series keyed by ``field``, in layer order.

    Up to :data:`DISCRETE_LIMIT` layers: the discrete colour-blind-safe :data:`OKABE_ITO` palette, a dash per
    layer and a legend naming each layer by index. Beyond: a sequential scale (viridis) over the drawn layers'
    range (the data's extent), and one solid dash.
    """
    if n_layers <= DISCRETE_LIMIT:
        colour = alt.Color(f"{field}:O", title=title, scale=alt.Scale(range=OKABE_ITO),
                           legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2))
        dash = alt.StrokeDash(f"{field}:O", title=title, scale=alt.Scale(range=DASHES))
        return colour, dash
    colour = alt.Color(f"{field}:Q", title=title, scale=alt.Scale(scheme="viridis", zero=False, nice=False),
                       legend=alt.Legend(format="d", tickMinStep=1))
    return colour, alt.StrokeDash(value=[1, 0])


def live_title(chart: Any, title: str, subtitle: str = "") -> Any:
    """``chart`` titled by the param :data:`TITLE_PARAM` (starting at ``title``), with a fixed ``subtitle``.

    The explorer sets the param when only the data changes (new layers or samples), so the title follows
    without a new spec; the saved page defines it as an expression of its controls' params.
    """
    chart = chart.add_params(alt.param(name=TITLE_PARAM, value=title))
    return chart.properties(title=alt.TitleParams(text=alt.expr(TITLE_PARAM), subtitle=subtitle or alt.Undefined,
                                                  anchor="start", subtitleFontStyle="italic"))


def grid(*charts: Any, columns: int = 2, title: str | None = None, shared_colour: bool = False) -> Any:
    """Charts side by side, wrapping after ``columns`` (at most 2 a row fits a notebook's output area).

    Colour, dash and shape scales and their legends stay each chart's own, unless ``shared_colour=True`` (one
    colour scale and legend, e.g. heatmaps compared on the same density scale). In the notebook's front end a
    figure wider than its output area wraps to fewer columns and narrows its charts.
    """
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    if not charts:
        raise ValueError("grid() needs at least one chart.")
    colour: Literal["shared", "independent"] = "shared" if shared_colour else "independent"
    figure = alt.concat(*charts, columns=columns).resolve_scale(
        color=colour, strokeDash="independent", shape="independent").resolve_legend(
        color=colour, strokeDash="independent", shape="independent")
    return figure.properties(title=title) if title else figure


JSON_FORMAT = {"type": "json"}


def inline(frame: pd.DataFrame) -> alt.InlineData:
    """A chart's data as one JSON string (Vega-Lite parses it in the page).

    One string instead of thousands of records: Altair copies a chart at every method call and walks its
    data at ``to_dict``, which costs ~100 ms for a 25-layer heatmap's records and ~1 ms for the string.
    """
    return alt.InlineData(values=data_values(frame), format=JSON_FORMAT)


def with_data(template: Any, frame: pd.DataFrame) -> Any:
    """A copy of a cached chart ``template`` (made without data) carrying ``frame`` as its data."""
    chart = template.copy(deep=True)
    chart.data = inline(frame)
    return chart


def layer_selection(selected: Any = None) -> Any:
    """The click selection on ``layer`` (param :data:`LAYER_SELECTION`), starting on ``selected`` layers."""
    value = [{"layer": int(layer)} for layer in selected] if selected else alt.Undefined
    return alt.selection_point(name=LAYER_SELECTION, fields=["layer"], on="click", clear="dblclick", value=value)


F = TypeVar("F", bound=Callable[..., Figure])


def returns_chart(builder: F) -> Callable[..., Any]:
    """The public form of a figure builder: same arguments and docs, returns the Altair chart only."""
    @functools.wraps(builder)
    def chart(*args: Any, **kwargs: Any) -> Any:
        return builder(*args, **kwargs).chart

    chart.__signature__ = inspect.signature(builder).replace(return_annotation="alt.Chart")  # type: ignore[attr-defined]
    chart.figure = builder  # type: ignore[attr-defined]
    return chart
