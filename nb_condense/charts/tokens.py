"""The tokens of one text, each coloured by its mean cosine to the other tokens at one layer."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .base import REDS, Figure, as_result, background_param, themed_colour, with_data
from .specs import (
    TOKEN_FLOW,
    TOKEN_FONT,
    TOKEN_FONT_SIZE,
    TOKEN_GAP,
    TOKEN_PAD,
    TOKEN_ROW_HEIGHT,
    TOKEN_WIDTH,
    token_cells,
    token_strip_height,
)

__all__ = ["token_strip_figure", "token_template"]

TOKEN_COLUMNS = {"position", "token", "mean_cosine"}


def token_strip_figure(data: Any, sample: int = 0, layer: int = -1, *, width: int = TOKEN_WIDTH,
                       per_row: int | None = None, title: str | None = None) -> Figure:
    """One text's tokens in reading order, coloured by each token's mean cosine to the others at ``layer``.

    Every token shows whole, in a cell as wide as its word; the cells wrap like text at ``width`` px (the explorer
    and a notebook's front end wrap them at the width they have). Tokenizers' space markers show as ␣ (⏎ for a
    newline); each word is black or white, whichever reads better on its cell; hovering a cell or its word shows
    the raw token and its value. ``per_row`` (the old grid's cells to a row) asks for a strip ``per_row`` x 60 px
    wide instead.

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
    width = int(per_row) * 60 if per_row is not None else int(width)
    cells = token_cells(frame, width)
    heading = title if title is not None else f"Sample {sample}, layer {layer}"
    chart = with_data(token_template(width, token_strip_height(cells), heading), cells)
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
def token_template(width: int, height: Any, title: str) -> Any:
    """The token strip without its data: each token a cell at its place, its whole word in it (never cut).

    The places (``x0, x1, y0, y1`` in px) come from :func:`~nb_condense.charts.specs.token_cells`.
    """
    base = alt.Chart(width=width, height=height)
    at = dict(x=alt.X("x0:Q", scale=None, axis=None), y=alt.Y("y0:Q", scale=None, axis=None))
    cells = base.mark_rect(stroke="transparent", strokeWidth=0).encode(
        x2="x1:Q", y2="y1:Q",
        color=alt.Color("mean_cosine:Q", scale=token_scale(),
                        legend=alt.Legend(title="Mean cosine to the other tokens", orient="top",
                                          direction="horizontal", titleLimit=300, gradientLength=160)),
        tooltip=TOKEN_TOOLTIP, **at,
    )
    words = base.mark_text(font=TOKEN_FONT, fontSize=TOKEN_FONT_SIZE, align="left", baseline="middle", dx=TOKEN_PAD,
                           dy=(TOKEN_ROW_HEIGHT - TOKEN_GAP) / 2,
                           color=alt.expr(TEXT_ON_CELL)).encode(text="label:N", tooltip=TOKEN_TOOLTIP, **at)
    chart = alt.layer(cells, words, data=alt.InlineData(values="[]", format={"type": "json"})).add_params(
        background_param()).properties(usermeta={"nbc_flow": TOKEN_FLOW})
    return chart.properties(title=title) if title else chart
