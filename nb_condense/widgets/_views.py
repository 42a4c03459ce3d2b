"""The explorer's views: what each button is called and what it draws for the current choice.

The front end receives this list (labels and tooltips) from Python and builds its buttons from it, so a view
is added here and nowhere else (see docs/architecture.md, "Adding a view"). Specs come from templates
(:mod:`nb_condense.charts.specs`, no Altair import); the same figures as Altair charts come from
:mod:`nb_condense.charts`, imported only when asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..charts import specs
from ..core.result import CondensationResult
from ..explore.session import CondensationSession

__all__ = ["VIEWS", "Choice", "View", "token_default", "trend_heading", "trend_spec", "view", "view_heading"]


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
    place) unless ``variant(choice)`` changes too; a change of a field in ``page_fields`` is drawn by the page
    alone (the heatmap's highlighted layers); any other change makes a new spec. ``heading(choice)`` is the
    chart's title (the model, the layers, the samples), sent as the spec's title param when only data changes.
    ``off`` names the controls (``layers``, ``samples``) that do nothing in this view and why (the page disables
    them with that reason as their tooltip); ``single`` those that pick exactly one item here.
    """

    value: str
    label: str
    title: str
    spec: Callable[[Choice], tuple[dict[str, Any], pd.DataFrame]]
    chart: Callable[[Choice], Any]
    heading: Callable[[Choice], str]
    data_fields: tuple[str, ...] = ()
    page_fields: tuple[str, ...] = ()
    frame: Callable[[Choice], pd.DataFrame] | None = None
    variant: Callable[[Choice], Any] = lambda _: None
    off: Mapping[str, str] = dataclasses.field(default_factory=dict)
    single: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What the front end needs to build this view's button and set its controls (JSON-ready)."""
        return {"value": self.value, "label": self.label, "title": self.title, "off": dict(self.off),
                "single": list(self.single)}


def _diagonal(c: Choice) -> bool:
    return bool(c.session.measured_result().metadata.get("include_diagonal"))


def _shape(c: Choice) -> tuple[int, int]:
    result = c.session.measured_result()
    return len(result.layers), int(result.n_texts)


def _titled(chart: Any, c: Choice, view: str, caption: str) -> Any:
    from ..charts.base import live_title

    return live_title(chart, view_heading(view)(c), caption)


def _heatmap_heading(c: Choice) -> str:
    n_layers, n_samples = _shape(c)
    return f"{c.model} · {specs.layers_text([], n_layers)} · {specs.samples_text(c.samples, n_samples)}"


def _heatmap_frame(c: Choice) -> pd.DataFrame:
    result = c.session.measured_result()
    return specs.heatmap_frame(result.density(c.samples or None), result.layer_fractions, result.layers)


def _heatmap_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    frame = _heatmap_frame(c)
    return specs.spec("heatmap", frame, title=_heatmap_heading(c), subtitle=specs.caption("pooled", _diagonal(c)),
                      x_range=specs.x_range(frame)), frame


def _heatmap_chart(c: Choice) -> Any:
    from .. import charts

    chart = charts.heatmap(c.session, c.samples or None, selected=c.layers, title="")
    return _titled(chart, c, "heatmap", specs.caption("pooled", _diagonal(c)))


def _distributions_heading(c: Choice) -> str:
    n_layers, n_samples = _shape(c)
    return (f"{c.model} · {specs.layers_text(c.layers, n_layers)} · "
            f"{specs.samples_text(c.samples, n_samples)}")


def _distributions_frame(c: Choice) -> pd.DataFrame:
    return c.session.measured_result().distribution(c.layers or None, c.samples or None)[specs.DISTRIBUTION_COLUMNS]


def _discrete(c: Choice) -> bool:
    """Whether the distributions view colours its layers with the discrete palette (at most ten layers)."""
    return len(c.layers or c.session.measured_result().layers) <= specs.DISCRETE_LIMIT


def _distributions_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    frame = _distributions_frame(c)
    template = "distributions" if _discrete(c) else "distributions_many"
    return specs.spec(template, frame, title=_distributions_heading(c),
                      subtitle=specs.caption("distributions", _diagonal(c))), frame


def _distributions_chart(c: Choice) -> Any:
    from .. import charts

    chart = charts.distributions(c.session, c.layers or None, c.samples or None)
    return _titled(chart, c, "distributions", specs.caption("distributions", _diagonal(c)))


def _trend_heading(c: Choice) -> str:
    return trend_heading(len(c.sessions))


def _trend_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    return trend_spec({name: s.measured_result() for name, s in c.sessions.items()})


def trend_heading(n_models: int) -> str:
    """The Trend view's title: it always shows every layer of every model over all samples."""
    return f"Mean cosine per layer · {n_models} model{'s' if n_models != 1 else ''} · all samples"


def _trend_caption(results: Mapping[str, CondensationResult]) -> str:
    """What the band is (the title already says what the lines are): it must fit under a narrow chart."""
    return specs.interval_caption(specs.BAND_CI, results.items(), "shaded")


def trend_spec(results: Mapping[str, CondensationResult]) -> tuple[dict[str, Any], pd.DataFrame]:
    """The Trend view's spec and frame: each model's layer means with a band (computed here, in Python).

    The explorer and the offline page both draw this spec.
    """
    frame = specs.layer_means_frame(results.items(), specs.BAND_CI)
    return specs.spec("trend", frame, title=trend_heading(len(results)), subtitle=_trend_caption(results)), frame


def _trend_chart(c: Choice) -> Any:
    from .. import charts

    results = {name: s.measured_result() for name, s in c.sessions.items()}
    return _titled(charts.layer_trend(results, ci=specs.BAND_CI), c, "trend", _trend_caption(results))


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


def _tokens_heading(c: Choice) -> str:
    sample, layer = _token_choice(c)
    return f"{c.model} · sample #{sample} · layer {layer}"


def _tokens_spec(c: Choice) -> tuple[dict[str, Any], pd.DataFrame]:
    sample, layer = _token_choice(c)
    frame = c.session.measured_result().tokens(sample, layer)
    cells = specs.token_cells(frame)
    height = specs.token_strip_height(cells)
    return specs.spec("tokens", cells, title=_tokens_heading(c), subtitle=specs.caption("tokens"),
                      height=height), frame


def _tokens_chart(c: Choice) -> Any:
    from .. import charts

    return _titled(charts.token_strip(c.session, *_token_choice(c), title=""), c, "tokens", specs.caption("tokens"))


TREND_OFF = "The trend view shows every layer of every model over all samples"
VIEWS = (
    View("heatmap", "Heatmap", "Layer fraction vs cosine similarity, pooled over the chosen samples; "
         "click a column to pick a layer", _heatmap_spec, _heatmap_chart, _heatmap_heading, data_fields=("samples",),
         page_fields=("layers",), frame=_heatmap_frame),
    View("distributions", "Distributions", "Cosine density of the chosen layers over the chosen samples",
         _distributions_spec, _distributions_chart, _distributions_heading, data_fields=("layers", "samples"),
         frame=_distributions_frame, variant=_discrete),
    View("trend", "Trend", "Mean cosine per layer for every loaded model (all samples), shaded: its 95 % "
         "bootstrap interval over the texts", _trend_spec, _trend_chart, _trend_heading,
         off={"layers": TREND_OFF, "samples": TREND_OFF}),
    View("tokens", "Tokens", "One sample's tokens coloured by their mean cosine at one layer (pick one of each)",
         _tokens_spec, _tokens_chart, _tokens_heading, single=("layers", "samples")),
)
"""The explorer's views, in the order of their buttons."""


def view_heading(value: str) -> Callable[[Choice], str]:
    """The title maker of the view ``value``."""
    return view(value).heading


def view(value: str) -> View:
    """The view whose trait value is ``value``."""
    for candidate in VIEWS:
        if candidate.value == value:
            return candidate
    raise ValueError(f"Unknown view {value!r}; the views are {[v.value for v in VIEWS]}.")
