"""The explorer's views: what each button is called and which chart it draws for the current choice.

The front end receives this list (labels and tooltips) from Python and builds its buttons from it, so a view
is added here and nowhere else (see docs/architecture.md, "Adding a view").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import charts
from .session import CondensationSession

__all__ = ["VIEWS", "Choice", "View", "build_view"]


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


@dataclass(frozen=True)
class View:
    """One of the explorer's views: its trait value, button label, tooltip and figure builder."""

    value: str
    label: str
    title: str
    build: Callable[[Choice], charts.Figure]


def _heatmap(c: Choice) -> charts.Figure:
    return charts.heatmap_figure(c.session, c.samples or None, selected=c.layers)


def _distributions(c: Choice) -> charts.Figure:
    return charts.distributions_figure(c.session, c.layers or None, c.samples or None)


def _trend(c: Choice) -> charts.Figure:
    return charts.layer_trend_figure(dict(c.sessions))


def _tokens(c: Choice) -> charts.Figure:
    result = c.session.measured_result()
    layer = c.layers[0] if c.layers else int(result.layers[-1])
    return charts.token_strip_figure(result, c.samples[0] if c.samples else 0, layer)


VIEWS = (
    View("heatmap", "Heatmap", "Layer fraction vs cosine similarity, pooled over the chosen samples; "
         "click a column to pick a layer", _heatmap),
    View("distributions", "Distributions", "Cosine density of the chosen layers over the chosen samples",
         _distributions),
    View("trend", "Trend", "Mean cosine per layer for every loaded model (all samples)", _trend),
    View("tokens", "Tokens", "The first chosen sample's tokens coloured by mean cosine at the first chosen layer",
         _tokens),
)
"""The explorer's views, in the order of their buttons."""


def build_view(choice: Choice) -> charts.Figure:
    """The figure of ``choice.view`` for the current choice (the sessions it needs must be measured)."""
    for view in VIEWS:
        if view.value == choice.view:
            return view.build(choice)
    raise ValueError(f"Unknown view {choice.view!r}; the views are {[v.value for v in VIEWS]}.")
