"""The explorer's views: what each button is called and what it draws for the current choice.

The front end receives this list (labels and tooltips) from Python and builds its buttons from it, so a view
is added here and nowhere else (see docs/architecture.md, "Adding a view"). Specs come from templates
(:mod:`nb_condense.explore.specs`, no Altair import); the same figures as Altair charts come from
:mod:`nb_condense.charts`, imported only when asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.result import CondensationResult
from ..explore import specs
from ..explore.session import CondensationSession

__all__ = ["VIEWS", "Choice", "View", "token_default", "trend_spec", "view"]


@dataclass(frozen=True)
class Choice:
    """What the user picked in the explorer: the sessions by name, one model, layers, samples, the view."""

    sessions: Mapping[str, CondensationSession]
    model: str
    layers: list[int]
    samples: list[int]
    view: str

    @property
    def session(self) -> CondensationSession:
        """The chosen model's session."""
        return self.sessions[self.model]

    def without(self, fields: tuple[str, ...]) -> Choice:
        """The same choice with ``fields`` (``"layers"``, ``"samples"``) emptied."""
        emptied: dict[str, Any] = {name: [] for name in fields}
        return dataclasses.replace(self, **emptied)


@dataclass(frozen=True)
class View:
    """One of the explorer's views: its trait value, button label, tooltip, spec and chart makers.

    ``spec(choice)`` returns the Vega-Lite spec and its tidy frame, from a template (no Altair: fast, light);
    ``chart(choice)`` the same figure as an Altair chart (for ``explorer.chart()`` and exports). A change of a
    field in ``data_fields`` only swaps the spec's data (``frame`` makes it: the page updates its Vega view in
    place); a change of a field in ``page_fields`` is drawn by the page alone (the heatmap's highlighted
    layers); any other change makes a new spec.
    """

    value: str
    label: str
    title: str
    spec: Callable[[Choice], tuple[dict[str, Any], pd.DataFrame]]
    chart: Callable[[Choice], Any]
    data_fields: tuple[str, ...] = ()
    page_fields: tuple[str, ...] = ()
    frame: Callable[[Choice], pd.DataFrame] | None = None


def _heatmap_frame(c: Choice) -> pd.DataFrame:
    result = c.session.measured_result()
    return specs.heatmap_frame(result.density(c.samples or None), result.layer_fractions, result.layers)


def _heatmap_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    frame = _heatmap_frame(c)
    note = specs.caption("pooled", bool(c.session.measured_result().metadata.get("include_diagonal")))
    return specs.spec("heatmap", frame, title=c.model, subtitle=note, x_range=specs.x_range(frame)), frame


def _heatmap_chart(c: Choice) -> Any:
    from .. import charts

    return charts.heatmap(c.session, c.samples or None, selected=c.layers, title=c.model)


def _distributions_frame(c: Choice) -> pd.DataFrame:
    return c.session.measured_result().distribution(c.layers or None, c.samples or None)[specs.DISTRIBUTION_COLUMNS]


def _distributions_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    frame = _distributions_frame(c)
    return specs.spec("distributions", frame), frame


def _distributions_chart(c: Choice) -> Any:
    from .. import charts

    return charts.distributions(c.session, c.layers or None, c.samples or None)


def _trend_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    return trend_spec({name: s.measured_result() for name, s in c.sessions.items()})


def trend_spec(results: Mapping[str, CondensationResult]) -> tuple[dict[str, Any], pd.DataFrame]:
    """The Trend view's spec and frame: each model's layer means with a band (computed here, in Python)."""
    frame = specs.layer_means_frame(results.items(), specs.BAND_CI)
    caption = specs.interval_caption(specs.BAND_CI, results.items(), "shaded")
    return specs.spec("trend", frame, title=specs.BAND_TITLE, subtitle=caption), frame


def _trend_chart(c: Choice) -> Any:
    from .. import charts

    return charts.layer_trend(dict(c.sessions), ci=specs.BAND_CI)


def token_default(layers: Any) -> dict[str, int]:
    """The text and hidden-state index the tokens view shows when none is chosen: text 0, the last layer.

    ``layers`` are a result's hidden-state indices. The offline page embeds this default (it has no Python).
    """
    return {"sample": 0, "layer": int(layers[-1])}


def _token_choice(c: Choice) -> tuple[int, int]:
    """The sample and hidden-state index the tokens view shows: the first chosen, else :func:`token_default`."""
    result = c.session.measured_result()
    default = token_default(result.layers)
    layer = c.layers[0] if c.layers else default["layer"]
    return (c.samples[0] if c.samples else default["sample"]), int(result.layers[result.layer_positions(layer)[0]])


def _tokens_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    sample, layer = _token_choice(c)
    frame = c.session.measured_result().tokens(sample, layer)
    cells = specs.token_cells(frame)
    height = 22 * int(cells["row"].max() + 1)
    return specs.spec("tokens", cells, title=f"Sample {sample}, layer {layer}", height=height), frame


def _tokens_chart(c: Choice) -> Any:
    from .. import charts

    return charts.token_strip(c.session, *_token_choice(c))


VIEWS = (
    View("heatmap", "Heatmap", "Layer fraction vs cosine similarity, pooled over the chosen samples; "
         "click a column to pick a layer", _heatmap_spec, _heatmap_chart, data_fields=("samples",),
         page_fields=("layers",), frame=_heatmap_frame),
    View("distributions", "Distributions", "Cosine density of the chosen layers over the chosen samples",
         _distributions_spec, _distributions_chart, data_fields=("layers", "samples"), frame=_distributions_frame),
    View("trend", "Trend", "Mean cosine per layer for every loaded model (all samples), shaded: its 95 % "
         "bootstrap interval over the texts", _trend_spec, _trend_chart),
    View("tokens", "Tokens", "The first chosen sample's tokens coloured by mean cosine at the first chosen layer",
         _tokens_spec, _tokens_chart),
)
"""The explorer's views, in the order of their buttons."""


def view(value: str) -> View:
    """The view whose trait value is ``value``."""
    for candidate in VIEWS:
        if candidate.value == value:
            return candidate
    raise ValueError(f"Unknown view {value!r}; the views are {[v.value for v in VIEWS]}.")
