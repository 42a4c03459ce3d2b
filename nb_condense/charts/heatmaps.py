"""The paper's figure: layer fraction (x) vs cosine similarity (y), colour = probability density."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np

from ..explore.specs import caption, heatmap_frame, x_range
from .base import (
    COSINE_TITLE,
    DENSITY_CLIP,
    LAYER_TITLE,
    ChartData,
    Figure,
    as_result,
    layer_selection,
    reds_scale,
    with_data,
)

__all__ = ["KINDS", "density_heatmap", "heatmap_figure"]

KINDS = ("pooled", "paper")
"""``pooled``: per-text histograms summed over the chosen texts; ``paper``: the histogram of the position-averaged
matrices (the paper's and the reference's figure)."""


@functools.lru_cache(maxsize=128)
def _heatmap_template(x_domain: tuple[Any, Any], clip: float, title: str, subtitle: str, selected: tuple[int, ...],
                      select: bool, width: int, height: int) -> alt.Chart:
    """The heatmap without its data, made once per look (Altair's encoding checks cost ~10 ms a chart)."""
    chart = (
        alt.Chart(width=width, height=height)
        .mark_rect(clip=True)
        .encode(
            x=alt.X("x0:Q", title=LAYER_TITLE, scale=alt.Scale(domain=list(x_domain), nice=False, zero=False),
                    axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1.0], format=".1f")),
            x2="x1:Q",
            y=alt.Y("cosine_low:Q", title=COSINE_TITLE, scale=alt.Scale(domain=[-1, 1], nice=False)),
            y2="cosine_high:Q",
            color=alt.Color("density:Q", title="Probability density", scale=reds_scale(clip),
                            legend=alt.Legend(orient="bottom", direction="horizontal", titleLimit=300,
                                              gradientLength=160, values=[0, clip / 2, clip] if clip > 0 else
                                              alt.Undefined)),
            tooltip=[
                alt.Tooltip("layer:Q", title="layer"),
                alt.Tooltip("layer_fraction:Q", title="layer fraction", format=".3f"),
                alt.Tooltip("cosine_low:Q", title="cosine from", format=".3f"),
                alt.Tooltip("cosine_high:Q", title="cosine to", format=".3f"),
                alt.Tooltip("density:Q", title="density", format=".3f"),
            ],
        )
    )
    if select:
        selection = layer_selection(selected)
        chart = chart.add_params(selection).encode(opacity=alt.condition(selection, alt.value(1.0), alt.value(0.35)))
    if title or subtitle:
        chart = chart.properties(title=alt.TitleParams(text=title, subtitle=subtitle or alt.Undefined,
                                                       anchor="start", subtitleFontStyle="italic"))
    return chart


def density_heatmap(
    density: np.ndarray,
    layer_fractions: np.ndarray,
    *,
    layers: np.ndarray | None = None,
    clip: float = DENSITY_CLIP,
    title: str | None = None,
    subtitle: str | None = None,
    selected: Any = None,
    select: bool = False,
    width: int = 420,
    height: int = 320,
) -> Figure:
    """A heatmap figure of a density array ``[layer, bin]``; the colour scale runs over ``[0, clip]`` (Reds).

    With ``select=True`` clicking a column selects that layer (param ``layer_pick``), starting on ``selected``.
    ``subtitle`` (a caption under the title) says what the density is of.
    """
    frame = heatmap_frame(density, layer_fractions, layers)
    x_domain = x_range(frame)
    chosen = tuple(int(k) for k in selected) if selected else ()
    template = _heatmap_template(x_domain, float(clip), title or "", subtitle or "", chosen, bool(select),
                                 int(width), int(height))
    chart = with_data(template, frame)
    return Figure(chart, frame)


def heatmap_figure(
    data: ChartData,
    samples: Any = None,
    *,
    kind: str = "pooled",
    selected: Any = None,
    clip: float = DENSITY_CLIP,
    title: str | None = None,
    select: bool = True,
    width: int = 420,
    height: int = 320,
) -> Figure:
    """Layer fraction (x) vs cosine similarity (y), colour = probability density, for one model.

    ``kind="pooled"`` (default) sums the per-text histograms of ``samples`` (text indices; ``None`` = all):
    every token pair counts once. ``kind="paper"`` is the paper's figure: the histogram of every entry of the
    position-averaged matrices (needs ``measure(..., position_average=True)`` or the drop-in; all texts).
    A caption under the title says which. ``data`` is a :class:`~nb_condense.CondensationResult` or a measured
    session (charts never measure). Clicking a column selects that layer (param ``layer_pick``); ``selected``
    (layer indices) starts the selection with those layers highlighted. The title defaults to the model's name.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}.")
    name, result = as_result(data)
    if kind == "paper":
        if samples is not None:
            raise ValueError("kind='paper' averages every text's matrices: it has no per-sample view (samples=None).")
        density = result.paper_density()
        note = caption("paper")
    else:
        density = result.density(samples)
        note = caption("pooled", bool(result.metadata.get("include_diagonal")))
    return density_heatmap(density, result.layer_fractions, layers=result.layers, clip=clip,
                           title=title if title is not None else name, subtitle=note, selected=selected,
                           select=select, width=width, height=height)
