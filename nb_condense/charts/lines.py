"""Line and point charts: per-layer cosine densities, layer means across models, rank correlations, training."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import pandas as pd

from ..explore.specs import BAND_TITLE, BARS_TITLE, DISTRIBUTION_COLUMNS, interval_caption, layer_means_frame
from .base import (
    COSINE_TITLE,
    LAYER_SELECTION,
    LAYER_TITLE,
    ChartData,
    Figure,
    as_result,
    as_results,
    inline,
    with_data,
)
from .heatmaps import heatmap_figure

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

    Layers are coloured by depth; a layer picked in a heatmap shown beside (param ``layer_pick``) is
    highlighted (see :func:`heatmap_with_curves`).
    """
    _, result = as_result(data)
    frame = result.distribution(layers, samples)[DISTRIBUTION_COLUMNS]
    return Figure(with_data(_distributions_template(bool(facet), title or "", int(width), int(height)), frame), frame)


@functools.lru_cache(maxsize=64)
def _distributions_template(facet: bool, title: str, width: int, height: int) -> Any:
    """The distributions chart without its data, made once per look."""
    encoding = dict(
        x=alt.X("cosine:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False)),
        y=alt.Y("density:Q", title="Probability density"),
        color=alt.Color("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(scheme="viridis", domain=[0, 1])),
        detail="layer:N",
        tooltip=[alt.Tooltip("layer:Q"), alt.Tooltip("cosine:Q", format=".3f"), alt.Tooltip("density:Q", format=".3f")],
    )
    base = alt.Chart(alt.InlineData(values="[]", format={"type": "json"}))  # a facet needs data at the top
    if facet:
        chart = base.mark_area(opacity=0.8, interpolate="step").encode(**encoding).properties(width=width, height=40)
        chart = chart.facet(row=alt.Row("layer:O", title="Layer", header=alt.Header(labelAngle=0)), spacing=2)
    else:
        chart = base.mark_line(interpolate="step").encode(**encoding).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def heatmap_with_curves_figure(data: ChartData, layers: Any = None, samples: Any = None) -> Figure:
    """Heatmap and distributions side by side; click a heatmap column to highlight that layer's curve."""
    left = heatmap_figure(data, samples, select=True)  # defines the click selection `layer_pick`
    _, result = as_result(data)
    frame = result.distribution(layers, samples)[DISTRIBUTION_COLUMNS]
    chart = alt.hconcat(left.chart, with_data(_linked_curves_template(), frame))
    chart = chart.resolve_scale(color="independent").resolve_legend(color="independent")
    return Figure(chart, frame)


@functools.lru_cache(maxsize=1)
def _linked_curves_template() -> Any:
    """Distribution curves whose width and opacity follow the heatmap's `layer_pick` selection."""
    picked = {"param": LAYER_SELECTION}
    return _distributions_template(False, "", 420, 240).encode(
        strokeWidth=alt.StrokeWidthValue(1, condition={**picked, "value": 3}),
        opacity=alt.OpacityValue(0.3, condition={**picked, "value": 1.0}),
    )


def layer_trend_figure(data: Any, *, title: str | None = None, ci: float | None = None, n_boot: int = 1000,
                       seed: int = 0) -> Figure:
    """Mean cosine per layer vs layer fraction, one line per model (Findings 1 and 2 at a glance).

    ``data``: one result or measured session, a list of them, or a ``{name: result}`` mapping. With ``ci``
    (e.g. 0.95) a shaded band around each line shows each layer mean's bootstrap interval over the texts
    (``n_boot`` resamples drawn with ``seed``), and the caption says so.
    """
    results = as_results(data)
    frame = layer_means_frame(results, ci, n_boot, seed)
    if ci is None:
        return Figure(with_data(_layer_trend_template(title or ""), frame), frame)
    caption = interval_caption(ci, results, "shaded")
    return Figure(with_data(_layer_band_template(title or BAND_TITLE, caption), frame), frame)


def _layer_trend_encoding() -> dict[str, Any]:
    return dict(x=alt.X("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("model:N", title="Model", sort=None))


def _layer_trend_line() -> Any:
    return alt.Chart().mark_line(point=True).encode(
        y=alt.Y("mean:Q", title="Mean cosine similarity"),
        tooltip=["model:N", "layer:Q", alt.Tooltip("mean:Q", format=".4f")], **_layer_trend_encoding())


@functools.lru_cache(maxsize=16)
def _layer_trend_template(title: str) -> Any:
    """The layer-trend chart without its data, made once per title."""
    chart = _layer_trend_line().properties(width=420, height=260)
    return chart.properties(title=title) if title else chart


@functools.lru_cache(maxsize=16)
def _layer_band_template(title: str, subtitle: str) -> Any:
    """The layer-trend chart with a band (columns ``low``, ``high``) under each line, without its data."""
    band = alt.Chart().mark_area(opacity=0.2).encode(
        y=alt.Y("low:Q", title="Mean cosine similarity"), y2="high:Q",
        tooltip=["model:N", "layer:Q", alt.Tooltip("low:Q", title="interval from", format=".4f"),
                 alt.Tooltip("high:Q", title="interval to", format=".4f")], **_layer_trend_encoding())
    empty = alt.InlineData(values="[]", format={"type": "json"})  # a layer needs data at the top
    chart = alt.layer(band, _layer_trend_line(), data=empty).properties(width=420, height=260)
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
        color=alt.Color("statistic:N", title=None, scale=alt.Scale(range=["#3182bd", "#de2d26"])),
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

    One line per layer, coloured by depth: Finding 3 (condensation at initialisation, relieved by training)
    and the dispersion loss's effect, at a glance.
    """
    missing = {"step", "layer", "layer_fraction", "mean"} - set(history.columns)
    if missing:
        raise ValueError(f"The history frame lacks columns {sorted(missing)}; pass CondensationCallback.history.")
    frame = history[["step", "layer", "layer_fraction", "mean"]]
    return Figure(with_data(_history_template(title or "", int(width)), frame), frame)


def _versus_step(title: str, width: int, **encoding: Any) -> Any:
    """Lines with points over the training step (x), drawn as ``encoding`` says."""
    chart = alt.Chart(width=width, height=260).mark_line(point=True).encode(
        x=alt.X("step:Q", title="Training step"), **encoding)
    return chart.properties(title=title) if title else chart


@functools.lru_cache(maxsize=8)
def _history_template(title: str, width: int) -> Any:
    return _versus_step(
        title, width,
        y=alt.Y("mean:Q", title="Mean cosine similarity"),
        color=alt.Color("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(scheme="viridis", domain=[0, 1])),
        detail="layer:N",
        tooltip=["step:Q", "layer:Q", alt.Tooltip("mean:Q", format=".4f")],
    )


LOSS_SERIES = ("loss", "ce_loss", "dispersion_loss")
"""The losses a training log may hold: the total, its language-model part, the dispersion penalty."""


def training_losses_figure(log: pd.DataFrame, *, title: str | None = None, width: int = 420) -> Figure:
    """Training losses vs step, one line per series (``loss``; ``ce_loss`` and ``dispersion_loss`` when logged).

    ``log`` is tidy (``step, series, value``) or a Trainer's ``log_history`` as a frame (one column per loss).
    """
    if {"step", "series", "value"} <= set(log.columns):
        frame = log[["step", "series", "value"]]
    else:
        present = [c for c in LOSS_SERIES if c in log.columns]
        if "step" not in log.columns or not present:
            raise ValueError(f"A training log needs a 'step' column and one of {list(LOSS_SERIES)}.")
        frame = log.melt(id_vars=["step"], value_vars=present, var_name="series").dropna(subset=["value"])
    return Figure(with_data(_losses_template(title or "", int(width)), frame), frame.reset_index(drop=True))


@functools.lru_cache(maxsize=8)
def _losses_template(title: str, width: int) -> Any:
    return _versus_step(
        title, width,
        y=alt.Y("value:Q", title="Loss", scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=list(LOSS_SERIES))),
        tooltip=["step:Q", "series:N", alt.Tooltip("value:Q", format=".4f")],
    )
