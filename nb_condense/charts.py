"""Altair charts of condensation measurements, returned (never displayed) so they can be composed.

Charts never run a model: they take arrays or results. ``save_chart`` writes PNG, SVG, PDF or a
self-contained HTML file offline (vl-convert; no CDN).

In a notebook without internet, render charts offline with ``alt.renderers.enable("svg")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from altair.utils.schemapi import debug_mode

__all__ = [
    "DENSITY_CLIP",
    "distributions",
    "enable_offline_charts",
    "explore",
    "heatmap",
    "heatmap_chart",
    "heatmap_frame",
    "layer_trend",
    "save_chart",
    "token_strip",
    "training_history",
    "trend_chart",
]

DENSITY_CLIP = 10.0
"""The paper's colour scale tops out at a density of 10 (about 15.6 % of a layer's mass in one bin)."""
LAYER_TITLE = "Layer fraction"
COSINE_TITLE = "Cosine similarity"
SAVE_FORMATS = (".png", ".svg", ".pdf", ".html", ".json")
# ColorBrewer "Reds" (matplotlib's Reds colormap interpolates the same nine colours).
REDS = ["#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"]


def reds_scale(top: float) -> alt.Scale:
    """Linear Reds colour scale on ``[0, top]``, saturating above ``top`` (matplotlib's vmin/vmax)."""
    stops = [top * k / (len(REDS) - 1) for k in range(len(REDS))]
    return alt.Scale(domain=stops, range=REDS, clamp=True)


def _inline(frame: pd.DataFrame | list[dict[str, Any]]) -> alt.InlineData:
    """Inline data built without Altair's per-record validation (200 ms for 3,000 rows; the whole spec is
    still validated by ``to_dict``)."""
    values = frame.to_dict(orient="records") if isinstance(frame, pd.DataFrame) else frame
    with debug_mode(False):
        return alt.InlineData(values=values)


def heatmap_frame(density: np.ndarray, layer_fractions: np.ndarray, layers: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy rows (one per layer x non-empty bin) of a density array ``[layer, bin]`` on [-1, 1]."""
    density = np.asarray(density, dtype=np.float64)
    n_layers, bins = density.shape
    layer_fractions = np.asarray(layer_fractions, dtype=np.float64)
    if layer_fractions.shape != (n_layers,):
        raise ValueError(f"Need one layer fraction per layer ({n_layers}), got shape {layer_fractions.shape}.")
    layers = np.arange(n_layers) if layers is None else np.asarray(layers)
    half = 0.5 / max(n_layers - 1, 1) if n_layers > 1 else 0.5
    edges = np.linspace(-1.0, 1.0, bins + 1)
    row, col = np.nonzero(density > 0)
    return pd.DataFrame(
        {
            "layer": layers[row],
            "layer_fraction": layer_fractions[row],
            "x0": layer_fractions[row] - half,
            "x1": layer_fractions[row] + half,
            "cosine_low": edges[col],
            "cosine_high": edges[col + 1],
            "density": density[row, col],
        }
    )


def heatmap_chart(
    density: np.ndarray,
    layer_fractions: np.ndarray,
    *,
    layers: np.ndarray | None = None,
    clip: float = DENSITY_CLIP,
    title: str | None = None,
    width: int = 420,
    height: int = 320,
) -> alt.Chart:
    """The paper's figure: layer fraction (x) vs cosine similarity (y), colour = probability density.

    The colour scale runs over ``[0, clip]`` (Reds) and saturates above it; tooltips show the true
    density, layer index and bin.
    """
    frame = heatmap_frame(density, layer_fractions, layers)
    data = _inline(frame)
    x_domain = [float(frame["x0"].min()), float(frame["x1"].max())] if len(frame) else [0.0, 1.0]
    chart = (
        alt.Chart(data, width=width, height=height)
        .mark_rect(clip=True)
        .encode(
            x=alt.X("x0:Q", title=LAYER_TITLE, scale=alt.Scale(domain=x_domain, nice=False, zero=False),
                    axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1.0], format=".1f")),
            x2="x1:Q",
            y=alt.Y("cosine_low:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False)),
            y2="cosine_high:Q",
            color=alt.Color(
                "density:Q",
                title="Probability density",
                scale=reds_scale(clip),
                legend=alt.Legend(values=[0, clip / 2, clip] if clip > 0 else None),
            ),
            tooltip=[
                alt.Tooltip("layer:Q", title="layer"),
                alt.Tooltip("layer_fraction:Q", title="layer fraction", format=".3f"),
                alt.Tooltip("cosine_low:Q", title="cosine from", format=".3f"),
                alt.Tooltip("cosine_high:Q", title="cosine to", format=".3f"),
                alt.Tooltip("density:Q", title="density", format=".3f"),
            ],
        )
    )
    if title:
        chart = chart.properties(title=title)
    return chart


def save_chart(chart: Any, path: str | Path, *, scale_factor: float = 2.0) -> Path:
    """Save ``chart`` by suffix: ``.png``, ``.svg``, ``.pdf``, ``.html`` (inline JS, offline) or ``.json``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise ValueError(f"Cannot save a chart as {path.name!r}: use one of {', '.join(SAVE_FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        chart.save(str(path), inline=True)
    elif suffix == ".png":
        chart.save(str(path), scale_factor=scale_factor)
    else:
        chart.save(str(path))
    return path


# ----- charts over sessions (anything with .result / .distribution / .layer_means / .trend / .tokens) -----
LAYER_SELECTION = "layer_pick"
"""Name of the point selection on ``layer`` shared by :func:`heatmap` and :func:`distributions`."""


def enable_offline_charts(renderer: str = "svg") -> Any:
    """Render Altair charts in notebooks without any CDN (``"svg"`` or ``"png"``, via vl-convert)."""
    if renderer not in ("svg", "png"):
        raise ValueError(f"renderer must be 'svg' or 'png' (offline), got {renderer!r}.")
    return alt.renderers.enable(renderer)


def _layer_selection(selected: Any = None) -> Any:
    value = [{"layer": int(layer)} for layer in selected] if selected else alt.Undefined
    return alt.selection_point(name=LAYER_SELECTION, fields=["layer"], on="click", clear="dblclick", value=value)


def heatmap(
    session: Any,
    samples: Any = None,
    *,
    selected: Any = None,
    clip: float = DENSITY_CLIP,
    title: str | None = None,
    select: bool = True,
) -> alt.Chart:
    """The paper's figure for one session, pooled over ``samples`` (text indices; ``None`` = all).

    Clicking a column selects that layer (param ``layer_pick``); ``selected`` (layer indices) starts
    the selection with those layers highlighted.
    """
    result = session.result
    if samples is None:
        density = result.density()
    else:
        density = session.distribution(samples=samples)["density"].to_numpy().reshape(result.n_layers, result.bins)
    chart = heatmap_chart(density, result.layer_fractions, layers=result.layers, clip=clip,
                          title=title if title is not None else session.name)
    if select:
        selection = _layer_selection(selected)
        chart = chart.add_params(selection).encode(
            opacity=alt.condition(selection, alt.value(1.0), alt.value(0.35))
        )
    return chart


def distributions(
    session: Any,
    layers: Any = None,
    samples: Any = None,
    *,
    facet: bool = False,
    title: str | None = None,
    width: int = 420,
    height: int = 240,
) -> alt.Chart:
    """Per-layer cosine densities of the chosen texts: overlaid lines, or one row per layer (``facet=True``).

    Layers stay coloured by depth; a layer picked in :func:`heatmap` (param ``layer_pick``) is
    highlighted when both are shown together (see :func:`explore`).
    """
    frame = session.distribution(layers=layers, samples=samples)
    frame = frame[["layer", "layer_fraction", "cosine", "density"]]
    base = alt.Chart(_inline(frame))
    encoding = dict(
        x=alt.X("cosine:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False)),
        y=alt.Y("density:Q", title="Probability density"),
        color=alt.Color("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(scheme="viridis", domain=[0, 1])),
        detail="layer:N",
        tooltip=[alt.Tooltip("layer:Q"), alt.Tooltip("cosine:Q", format=".3f"), alt.Tooltip("density:Q", format=".3f")],
    )
    if facet:
        chart = base.mark_area(opacity=0.8, interpolate="step").encode(**encoding).properties(width=width, height=40)
        chart = chart.facet(row=alt.Row("layer:O", title="Layer", header=alt.Header(labelAngle=0)), spacing=2)
    else:
        chart = base.mark_line(interpolate="step").encode(**encoding).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def explore(session: Any, layers: Any = None, samples: Any = None) -> alt.HConcatChart:
    """Heatmap and distributions side by side; click a heatmap column to highlight that layer's curve."""
    selection = _layer_selection()
    left = heatmap(session, select=False).add_params(selection).encode(
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.35))
    )
    right = distributions(session, layers, samples).encode(
        strokeWidth=alt.condition(selection, alt.value(3), alt.value(1)),
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.3)),
    )
    return alt.hconcat(left, right).resolve_scale(color="independent").resolve_legend(color="independent")


def _as_list(sessions: Any) -> list[Any]:
    """One session or a list/tuple of them, as a list."""
    return list(sessions) if isinstance(sessions, (list, tuple)) else [sessions]


def layer_trend(sessions: Any, *, title: str | None = None) -> alt.Chart:
    """Mean cosine per layer vs layer fraction, one line per model (Findings 1 and 2 at a glance)."""
    frame = pd.concat([s.layer_means() for s in _as_list(sessions)], ignore_index=True)
    chart = (
        alt.Chart(_inline(frame), width=420, height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("mean:Q", title="Mean cosine similarity"),
            color=alt.Color("model:N", title="Model", sort=None),
            tooltip=["model:N", "layer:Q", alt.Tooltip("mean:Q", format=".4f")],
        )
    )
    return chart.properties(title=title) if title else chart


def trend_chart(sessions: Any, *, title: str | None = None) -> alt.Chart:
    """Spearman rho and Kendall tau per model (points on [-1, 1]; > 0 condenses with depth)."""
    table = pd.concat([s.trend() for s in _as_list(sessions)], ignore_index=True)
    frame = table.melt(id_vars=["model"], value_vars=["spearman_rho", "kendall_tau"], var_name="statistic")
    frame["statistic"] = frame["statistic"].map({"spearman_rho": "Spearman rho", "kendall_tau": "Kendall tau"})
    chart = (
        alt.Chart(_inline(frame), width=320, height=220)
        .mark_point(filled=True, size=90)
        .encode(
            x=alt.X("model:N", title="Model", sort=list(table["model"]), axis=alt.Axis(labelAngle=-30, labelLimit=180)),
            y=alt.Y("value:Q", title="Rank correlation with depth", scale=alt.Scale(domain=[-1, 1.05])),
            color=alt.Color("statistic:N", title=None, scale=alt.Scale(range=["#3182bd", "#de2d26"])),
            shape="statistic:N",
            tooltip=["model:N", "statistic:N", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    rule = alt.Chart(_inline([{"zero": 0}])).mark_rule(color="#999").encode(y="zero:Q")
    layered = alt.layer(rule, chart)
    return layered.properties(title=title) if title else layered


def token_strip(session: Any, sample: int, layer: int, *, per_row: int = 12, title: str | None = None) -> alt.Chart:
    """The tokens of one text, coloured by each token's mean cosine to the others at ``layer``.

    The per-token values come from ``session.tokens(sample, layer)`` (the session runs the model).
    """
    frame = session.tokens(sample, layer)
    frame = frame.assign(row=frame["position"] // per_row, col=frame["position"] % per_row)
    data = _inline(frame)
    base = alt.Chart(data, width=per_row * 60, height=22 * int(frame["row"].max() + 1))
    x = alt.X("col:O", axis=None)
    y = alt.Y("row:O", axis=None)
    cells = base.mark_rect(stroke="white").encode(
        x=x, y=y,
        color=alt.Color("mean_cosine:Q", title="Mean cosine", scale=alt.Scale(scheme="reds", domain=[-0.2, 1])),
        tooltip=["position:Q", "token:N", alt.Tooltip("mean_cosine:Q", format=".3f")],
    )
    words = base.mark_text(fontSize=11, limit=56).encode(x=x, y=y, text="token:N")
    chart = alt.layer(cells, words)
    return chart.properties(title=title or f"Sample {sample}, layer {layer}")


def training_history(history: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Mean cosine per layer vs training step (a :class:`~nb_condense.trainer.CondensationCallback` history).

    One line per layer, coloured by depth: Finding 3 (condensation at initialisation, mitigated by
    training) and the dispersion loss's effect, at a glance.
    """
    missing = {"step", "layer", "layer_fraction", "mean"} - set(history.columns)
    if missing:
        raise ValueError(f"The history frame lacks columns {sorted(missing)}; pass CondensationCallback.history.")
    chart = (
        alt.Chart(_inline(history[["step", "layer", "layer_fraction", "mean"]]), width=420, height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", title="Training step"),
            y=alt.Y("mean:Q", title="Mean cosine similarity"),
            color=alt.Color("layer_fraction:Q", title=LAYER_TITLE, scale=alt.Scale(scheme="viridis", domain=[0, 1])),
            detail="layer:N",
            tooltip=["step:Q", "layer:Q", alt.Tooltip("mean:Q", format=".4f")],
        )
    )
    return chart.properties(title=title) if title else chart
