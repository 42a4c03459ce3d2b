"""Line and point charts: per-layer cosine densities, layer means across models, rank correlations, training."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import pandas as pd

from .base import (
    COSINE_TITLE,
    DASHES,
    DISCRETE_LIMIT,
    LAYER_SELECTION,
    LAYER_TITLE,
    OKABE_ITO,
    ChartData,
    Figure,
    as_result,
    as_results,
    inline,
    layer_colour,
    with_data,
)
from .heatmaps import heatmap_figure
from .specs import BAND_TITLE, BARS_TITLE, DISTRIBUTION_COLUMNS, interval_caption, layer_means_frame

__all__ = ["LOSS_SERIES", "distributions_figure", "heatmap_with_curves_figure", "layer_trend_figure",
           "training_history_figure", "training_losses_figure", "trend_figure"]


def distributions_figure(
    data: ChartData,
    layers: Any = None,
    samples: Any = None,
    *,
    facet: bool = False,
    title: str | None = None,
    width: int = 420,
    height: int = 240,
) -> Figure:
    """Per-layer cosine densities of the chosen texts: overlaid lines, or one row per layer (``facet=True``).

    Up to ten layers get a colour-blind-safe palette (and a dash each) in layer order, with a legend; more get a
    sequential scale over the drawn layers. Hovering a curve's points shows layer, cosine and density; the y axis
    leaves 10 % headroom above the highest peak. A layer picked in a heatmap shown beside (param
    ``layer_pick``) is highlighted (see :func:`heatmap_with_curves`).
    """
    _, result = as_result(data)
    frame = result.distribution(layers, samples)[DISTRIBUTION_COLUMNS]
    n_layers = int(frame["layer"].nunique())
    template = distributions_template(bool(facet), title or "", int(width), int(height), n_layers <= DISCRETE_LIMIT)
    return Figure(with_data(template, frame), frame)


DENSITY_TITLE = "Probability density"
DISTRIBUTION_TOOLTIP = [alt.Tooltip("layer:Q", title="layer"),
                        alt.Tooltip("layer_fraction:Q", title="layer fraction", format=".2f"),
                        alt.Tooltip("cosine:Q", title="cosine", format=".3f"),
                        alt.Tooltip("density:Q", title="density", format=".3f")]
HEADROOM = 1.1
"""The y axis reaches at least this multiple of the highest peak (peaks never touch the top edge)."""


@functools.lru_cache(maxsize=64)
def distributions_template(facet: bool, title: str, width: int, height: int, discrete: bool = True) -> Any:
    """The distributions chart without its data, made once per look (``discrete``: at most ten layers)."""
    colour, dash = layer_colour(1 if discrete else DISCRETE_LIMIT + 1)
    x = alt.X("cosine:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False))
    y = alt.Y("density:Q", title=DENSITY_TITLE)
    empty = alt.InlineData(values="[]", format={"type": "json"})  # a facet or layer needs data at the top
    if facet:
        chart = (alt.Chart(empty).mark_area(opacity=0.8, interpolate="step")
                 .encode(x=x, y=y, color=colour, tooltip=DISTRIBUTION_TOOLTIP).properties(width=width, height=40))
        chart = chart.facet(row=alt.Row("layer:O", title="Layer", header=alt.Header(labelAngle=0)), spacing=2)
        return chart.properties(title=title) if title else chart
    base = alt.Chart()
    lines = base.mark_line(interpolate="step").encode(x=x, y=y, color=colour, strokeDash=dash, detail="layer:N")
    hover = base.mark_point(opacity=0, size=60, filled=True).encode(x=x, y=y, tooltip=DISTRIBUTION_TOOLTIP)
    headroom = base.mark_point(opacity=0).encode(y=alt.Y("top:Q")).transform_aggregate(
        peak="max(density)").transform_calculate(top=f"datum.peak * {HEADROOM!r}")
    chart = alt.layer(lines, hover, headroom, data=empty).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def heatmap_with_curves_figure(data: ChartData, layers: Any = None, samples: Any = None) -> Figure:
    """Heatmap and distributions side by side; click a heatmap column to highlight that layer's curve."""
    left = heatmap_figure(data, samples, select=True)  # defines the click selection `layer_pick`
    _, result = as_result(data)
    frame = result.distribution(layers, samples)[DISTRIBUTION_COLUMNS]
    discrete = int(frame["layer"].nunique()) <= DISCRETE_LIMIT
    chart = alt.hconcat(left.chart, with_data(_linked_curves_template(discrete), frame))
    chart = chart.resolve_scale(color="independent", strokeDash="independent").resolve_legend(
        color="independent", strokeDash="independent")
    return Figure(chart, frame)


@functools.lru_cache(maxsize=2)
def _linked_curves_template(discrete: bool) -> Any:
    """Distribution curves whose width and opacity follow the heatmap's `layer_pick` selection."""
    picked = {"param": LAYER_SELECTION}
    colour, dash = layer_colour(1 if discrete else DISCRETE_LIMIT + 1)
    return alt.Chart(width=420, height=240).mark_line(interpolate="step").encode(
        x=alt.X("cosine:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False)),
        y=alt.Y("density:Q", title=DENSITY_TITLE),
        color=colour, strokeDash=dash, detail="layer:N", tooltip=DISTRIBUTION_TOOLTIP,
        strokeWidth=alt.StrokeWidthValue(1, condition={**picked, "value": 3}),
        opacity=alt.OpacityValue(0.3, condition={**picked, "value": 1.0}),
    )


def layer_trend_figure(data: Any, *, title: str | None = None, ci: float | None = None, n_boot: int = 1000,
                       seed: int = 0, legend: str = "Model") -> Figure:
    """Mean cosine per layer vs layer fraction, one line per model (Findings 1 and 2 at a glance).

    ``data``: one result or measured session, a list of them, or a ``{name: result}`` mapping. With ``ci``
    (e.g. 0.95) a shaded band around each line shows each layer mean's bootstrap interval over the texts
    (``n_boot`` resamples drawn with ``seed``), and the caption says so. ``legend`` titles the legend: what
    the lines differ by (``"Model"``, or ``"Text length"`` for one model's texts cut short).
    """
    results = as_results(data)
    frame = layer_means_frame(results, ci, n_boot, seed)
    if ci is None:
        return Figure(with_data(_layer_trend_template(title or "", legend), frame), frame)
    caption = interval_caption(ci, results, "shaded")
    return Figure(with_data(layer_band_template(title or BAND_TITLE, caption, legend), frame), frame)


def _layer_trend_encoding(legend: str = "Model") -> dict[str, Any]:
    """The x and colour channels; the one legend shows each line as drawn: its colour and dash (a short stroke)."""
    key = alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400)
    return dict(x=alt.X("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("model:N", title=legend, sort=None, scale=alt.Scale(range=OKABE_ITO), legend=key))


def _model_tooltip(legend: str) -> Any:
    return "model:N" if legend == "Model" else alt.Tooltip("model:N", title=legend.lower())


def _model_dash(legend: str) -> Any:
    return alt.StrokeDash("model:N", title=legend, sort=None, scale=alt.Scale(range=DASHES))


def _layer_trend_line(legend: str = "Model") -> Any:
    return alt.Chart().mark_line(point=True).encode(
        y=alt.Y("mean:Q", title="Mean cosine similarity"),
        strokeDash=_model_dash(legend),
        shape=alt.Shape("model:N", title=legend, sort=None, legend=None),  # Vega-Lite would add a 2nd legend
        tooltip=[_model_tooltip(legend), "layer:Q", alt.Tooltip("mean:Q", format=".4f")],
        **_layer_trend_encoding(legend))


@functools.lru_cache(maxsize=16)
def _layer_trend_template(title: str, legend: str = "Model") -> Any:
    """The layer-trend chart without its data, made once per title and legend title."""
    chart = _layer_trend_line(legend).properties(width=420, height=260)
    return chart.properties(title=title) if title else chart


@functools.lru_cache(maxsize=16)
def layer_band_template(title: str, subtitle: str, legend: str = "Model") -> Any:
    """The layer-trend chart with a band (columns ``low``, ``high``) under each line, without its data."""
    band = alt.Chart().mark_area(opacity=0.2).encode(
        y=alt.Y("low:Q", title="Mean cosine similarity"), y2="high:Q",
        tooltip=[_model_tooltip(legend), "layer:Q",
                 alt.Tooltip("low:Q", title="interval from", format=".4f"),
                 alt.Tooltip("high:Q", title="interval to", format=".4f")],
        **{**_layer_trend_encoding(legend), "color": alt.Color("model:N", sort=None, legend=None,
                                                               scale=alt.Scale(range=OKABE_ITO))})
    empty = alt.InlineData(values="[]", format={"type": "json"})  # a layer needs data at the top
    # The band's colours: its own scale, with the lines' domain (the same rows, in the same order) and range, and
    # no legend; one shared scale would merge the band's legend with the lines' and split off their dashes.
    chart = alt.layer(band, _layer_trend_line(legend), data=empty).resolve_scale(color="independent",
                                                                                    strokeDash="independent")
    chart = chart.properties(width=420, height=260)
    return chart.properties(title=alt.TitleParams(text=title, subtitle=subtitle, anchor="start",
                                                  subtitleFontStyle="italic"))


def trend_figure(data: Any, *, title: str | None = None, ci: float | None = None, n_boot: int = 1000,
                 seed: int = 0) -> Figure:
    """Spearman rho and Kendall tau per model (points on [-1, 1]; > 0 condenses with depth).

    With ``ci`` (e.g. 0.95) each point gets an error bar: its bootstrap interval over the model's texts.
    """
    results = as_results(data)
    table = pd.DataFrame([r.trend_row(name, ci=ci, n_boot=n_boot, seed=seed) for name, r in results])
    frame = table.melt(id_vars=["model"], value_vars=["spearman_rho", "kendall_tau"], var_name="statistic")
    if ci is not None:
        for end in ("low", "high"):
            frame[end] = [table.loc[table["model"] == m, f"{s}_{end}"].iloc[0]
                          for m, s in zip(frame["model"], frame["statistic"])]
    frame["statistic"] = frame["statistic"].map({"spearman_rho": "Spearman rho", "kendall_tau": "Kendall tau"})
    encoding = dict(
        x=alt.X("model:N", title="Model", sort=list(table["model"]), axis=alt.Axis(labelAngle=-30, labelLimit=180)),
        color=alt.Color("statistic:N", title=None, scale=alt.Scale(range=OKABE_ITO[:2])),
    )
    if ci is not None:  # side by side, so that the two error bars of a model do not hide each other
        encoding["xOffset"] = alt.XOffset("statistic:N")
    points = (
        alt.Chart(inline(frame), width=320, height=220)
        .mark_point(filled=True, size=90)
        .encode(
            y=alt.Y("value:Q", title="Rank correlation with depth", scale=alt.Scale(domain=[-1, 1.05])),
            shape="statistic:N",
            tooltip=["model:N", "statistic:N", alt.Tooltip("value:Q", format=".4f")],
            **encoding,
        )
    )
    zero = alt.Chart().mark_rule(color="#999").encode(y=alt.datum(0))
    layers = [zero, points]
    if ci is not None:
        bars = alt.Chart(inline(frame)).mark_rule(strokeWidth=2).encode(
            y=alt.Y("low:Q"), y2="high:Q",
            tooltip=["model:N", "statistic:N", alt.Tooltip("low:Q", title="interval from", format=".4f"),
                     alt.Tooltip("high:Q", title="interval to", format=".4f")], **encoding)
        layers.append(bars)
    chart = alt.layer(*layers)
    if ci is not None:
        caption = interval_caption(ci, results, "bars")
        return Figure(chart.properties(title=alt.TitleParams(text=title or BARS_TITLE, subtitle=caption, anchor="start",
                                                             subtitleFontStyle="italic")), frame)
    return Figure(chart.properties(title=title) if title else chart, frame)


def training_history_figure(history: pd.DataFrame, *, title: str | None = None, width: int = 420) -> Figure:
    """Mean cosine per layer vs training step (a :class:`~nb_condense.CondensationCallback` history).

    One line per layer, named by its index in the legend (its layer fraction is in the tooltip); up to ten
    layers get a colour-blind-safe palette and a dash each, more a sequential scale. Finding 3 (condensation at
    initialisation, relieved by training) and the dispersion loss's effect, at a glance.
    """
    missing = {"step", "layer", "layer_fraction", "mean"} - set(history.columns)
    if missing:
        raise ValueError(f"The history frame lacks columns {sorted(missing)}; pass CondensationCallback.history.")
    frame = history[["step", "layer", "layer_fraction", "mean"]]
    discrete = int(frame["layer"].nunique()) <= DISCRETE_LIMIT
    chart = with_data(_history_template(title or "Mean cosine per layer vs step", int(width), discrete), frame)
    return Figure(chart, frame)


_SPAN = "(domain('x')[1] - domain('x')[0])"
_RAW = f"({_SPAN} / 6)"
_BASE = f"pow(10, floor(log(max({_RAW}, 1e-9)) / LN10))"
_STEP = (f"max(1, {_RAW} <= {_BASE} ? {_BASE} : {_RAW} <= 2 * {_BASE} ? 2 * {_BASE} : "
         f"{_RAW} <= 5 * {_BASE} ? 5 * {_BASE} : 10 * {_BASE})")
STEP_TICKS = f"sequence(ceil(domain('x')[0] / {_STEP}) * {_STEP}, floor(domain('x')[1]) + 1, {_STEP})"
STEP_AXIS = alt.Axis(values=alt.expr(STEP_TICKS), format="d")
"""Training steps are whole numbers: at most about seven integer ticks (Vega's ``tickMinStep`` still puts
ticks between them)."""


def _versus_step(title: str, width: int, height: int = 260, **encoding: Any) -> Any:
    """Lines with points over the training step (x, integer ticks), drawn as ``encoding`` says."""
    chart = alt.Chart(width=width, height=height).mark_line(point=True).encode(
        x=alt.X("step:Q", title="Training step", axis=STEP_AXIS), **encoding)
    return chart.properties(title=title) if title else chart


@functools.lru_cache(maxsize=8)
def _history_template(title: str, width: int, discrete: bool = True) -> Any:
    colour, dash = layer_colour(1 if discrete else DISCRETE_LIMIT + 1)
    return _versus_step(
        title, width,
        y=alt.Y("mean:Q", title="Mean cosine similarity"),
        color=colour, strokeDash=dash, detail="layer:N",
        tooltip=[alt.Tooltip("step:Q", title="step"), alt.Tooltip("layer:Q", title="layer"),
                 alt.Tooltip("layer_fraction:Q", title="layer fraction", format=".2f"),
                 alt.Tooltip("mean:Q", title="mean cosine", format=".4f")],
    )


LOSS_SERIES = ("loss", "ce_loss", "dispersion_loss")
"""The losses a training log may hold: the total, its language-model part, the dispersion penalty."""
LOSS_TITLES = {"loss": "Total loss", "ce_loss": "Language-model (CE) loss", "dispersion_loss": "Dispersion loss"}
"""What each loss panel is titled."""


def training_losses_figure(log: pd.DataFrame, *, title: str | None = None, width: int = 420) -> Figure:
    """Training losses vs step: one small titled panel per loss, each with its own y axis.

    The losses are ``loss``, and ``ce_loss`` and ``dispersion_loss`` when logged: a loss of 6 and one of -0.5
    both show their course.

    ``log`` is tidy (``step, series, value``) or a Trainer's ``log_history`` as a frame (one column per loss).
    ``width`` is the whole figure's; panels wrap after three.
    """
    if {"step", "series", "value"} <= set(log.columns):
        frame = log[["step", "series", "value"]]
    else:
        present = [c for c in LOSS_SERIES if c in log.columns]
        if "step" not in log.columns or not present:
            raise ValueError(f"A training log needs a 'step' column and one of {list(LOSS_SERIES)}.")
        frame = log.melt(id_vars=["step"], value_vars=present, var_name="series").dropna(subset=["value"])
    return Figure(with_data(_losses_template(title or "Training losses", int(width)), frame),
                  frame.reset_index(drop=True))


@functools.lru_cache(maxsize=8)
def _losses_template(title: str, width: int) -> Any:
    panel = max(120, (width - 60) // len(LOSS_SERIES) - 50)
    names = "{" + ", ".join(f"'{k}': '{v}'" for k, v in LOSS_TITLES.items()) + "}"
    chart = alt.Chart(width=panel, height=140).mark_line(point=True).encode(
        x=alt.X("step:Q", title="Training step", axis=STEP_AXIS),
        y=alt.Y("value:Q", title="Loss", scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title="Loss", legend=None,
                        scale=alt.Scale(domain=list(LOSS_SERIES), range=OKABE_ITO[:len(LOSS_SERIES)])),
        strokeDash=alt.StrokeDash("series:N", legend=None,
                                  scale=alt.Scale(domain=list(LOSS_SERIES), range=DASHES[:len(LOSS_SERIES)])),
        shape=alt.Shape("series:N", legend=None, scale=alt.Scale(domain=list(LOSS_SERIES))),
        tooltip=[alt.Tooltip("step:Q", title="step"), alt.Tooltip("name:N", title="loss"),
                 alt.Tooltip("value:Q", title="value", format=".4f")],
    )
    facet = alt.Facet("name:N", title=None, sort=list(LOSS_TITLES.values()),
                      header=alt.Header(labelFontWeight="bold", labelAnchor="start"))
    figure = chart.facet(facet=facet, columns=len(LOSS_SERIES), spacing=16, data=alt.InlineData(
        values="[]", format={"type": "json"})).transform_calculate(name=f"{names}[datum.series] || datum.series")
    figure = figure.resolve_scale(y="independent")
    return figure.properties(title=title) if title else figure
