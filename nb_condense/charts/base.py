"""What every chart shares: the data it accepts, the figure it returns, the paper's colour scale, inline data."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import altair as alt
import pandas as pd

from ..core.result import CondensationResult, MeasuredSource
from ..explore.specs import LAYER_SELECTION, data_values

__all__ = ["DENSITY_CLIP", "Figure", "LAYER_SELECTION", "as_result", "as_results", "data_values", "returns_chart",
           "with_data"]

DENSITY_CLIP = 10.0
"""The paper's colour scale tops out at a density of 10 (about 15.6 % of a layer's mass in one bin)."""
LAYER_TITLE = "Layer fraction"
COSINE_TITLE = "Cosine similarity"
# ColorBrewer "Reds" (matplotlib's Reds colormap interpolates the same nine colours).
REDS = ["#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"]

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
    """Linear Reds colour scale on ``[0, top]``, saturating above ``top`` (matplotlib's vmin/vmax)."""
    stops = [top * k / (len(REDS) - 1) for k in range(len(REDS))]
    return alt.Scale(domain=stops, range=REDS, clamp=True)


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
