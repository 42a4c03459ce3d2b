"""The tokens of one text, each coloured by its mean cosine to the other tokens at one layer."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .base import REDS, Figure, as_result, background_param, themed_colour, with_data
from .specs import TOKEN_ROW_HEIGHT, TOKENS_PER_ROW, token_cells

__all__ = ["token_strip_figure", "token_template"]

TOKEN_COLUMNS = {"position", "token", "mean_cosine"}


def token_strip_figure(data: Any, sample: int = 0, layer: int = -1, *, per_row: int = TOKENS_PER_ROW,
                       title: str | None = None) -> Figure:
    """One text's tokens in reading order, coloured by each token's mean cosine to the others at ``layer``.

    Tokenizers' space markers show as ␣ (⏎ for a newline); each word is black or white, whichever reads
    better on its cell; hovering a cell or its word shows the raw token and its value.

    ``data`` is a result or measured session (the per-token values it kept while measuring are read:
    no model runs), or a frame with columns ``position, token, mean_cosine`` (e.g. ``result.tokens(0, -1)``).
    """
    if isinstance(data, pd.DataFrame):
        missing = TOKEN_COLUMNS - set(data.columns)
        if missing:
            raise ValueError(f"A token frame needs the columns {sorted(TOKEN_COLUMNS)}; it lacks {sorted(missing)}.")
        frame = data
    else:
        result = as_result(data)[1]
        frame = result.tokens(sample, layer)
        layer = int(result.layers[result.layer_positions(layer)[0]])  # -1 shown as the index it stands for
    cells = token_cells(frame, per_row)
    height = TOKEN_ROW_HEIGHT * int(cells["row"].max() + 1)
    heading = title if title is not None else f"Sample {sample}, layer {layer}"
    chart = with_data(token_template(int(per_row), height, heading), cells)
    return Figure(chart, frame)


TOKEN_DOMAIN = (-0.2, 1.0)
"""The mean cosines the token colour ramp spans (clamped outside)."""


def token_scale() -> alt.Scale:
    """The tokens' colour ramp on :data:`TOKEN_DOMAIN`, following the theme.

    ColorBrewer Reds, light to dark on a light background and dark to light on a dark one (the param of
    :func:`~nb_condense.charts.base.background_param`): a higher mean cosine is always further from the
    background's lightness.
    """
    light, dark = REDS, ["#a50f15", "#b81419", *REDS[-3::-1]]  # dark: from lightness 33 (above dark hosts' 5-24)
    stops = np.linspace(*TOKEN_DOMAIN, len(light)).round(6).tolist()
    return alt.Scale(domain=stops, range=[themed_colour(a, b) for a, b in zip(light, dark)], clamp=True,
                     interpolate="rgb")


TEXT_ON_CELL = ("contrast('#000000', scale('color', datum.mean_cosine)) >= "
                "contrast('#ffffff', scale('color', datum.mean_cosine)) ? '#000000' : '#ffffff'")
"""A word's colour: black or white, whichever contrasts more with its cell's colour (the cell's luminance)."""
TOKEN_TOOLTIP = [alt.Tooltip("position:Q", title="position"), alt.Tooltip("token:N", title="token"),
                 alt.Tooltip("mean_cosine:Q", title="mean cosine", format=".3f")]


@functools.lru_cache(maxsize=64)
def token_template(per_row: int, height: Any, title: str) -> Any:
    """The token strip without its data: one cell per token, ``per_row`` to a row; words fit their cells."""
    base = alt.Chart(width=per_row * 60, height=height)
    x, y = alt.X("col:O", axis=None), alt.Y("row:O", axis=None)
    cells = base.mark_rect(stroke="transparent", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("mean_cosine:Q", scale=token_scale(),
                        legend=alt.Legend(title="Mean cosine to the other tokens", orient="top",
                                          direction="horizontal", titleLimit=300, gradientLength=160)),
        tooltip=TOKEN_TOOLTIP,
    )
    words = base.mark_text(fontSize=11, limit=alt.expr(f"max(8, width / {per_row} - 4)"),
                           color=alt.expr(TEXT_ON_CELL)).encode(x=x, y=y, text="label:N", tooltip=TOKEN_TOOLTIP)
    chart = alt.layer(cells, words, data=alt.InlineData(values="[]", format={"type": "json"})).add_params(
        background_param())
    return chart.properties(title=title) if title else chart
