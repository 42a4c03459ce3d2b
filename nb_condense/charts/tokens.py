"""The tokens of one text, each coloured by its mean cosine to the other tokens at one layer."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from .base import Figure, as_result, inline

__all__ = ["token_strip_figure"]

TOKEN_COLUMNS = {"position", "token", "mean_cosine"}


def token_strip_figure(data: Any, sample: int = 0, layer: int = -1, *, per_row: int = 12,
                       title: str | None = None) -> Figure:
    """One text's tokens in reading order, coloured by each token's mean cosine to the others at ``layer``.

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
    frame = frame.assign(row=frame["position"] // per_row, col=frame["position"] % per_row)
    base = alt.Chart(inline(frame), width=per_row * 60, height=22 * int(frame["row"].max() + 1))
    x, y = alt.X("col:O", axis=None), alt.Y("row:O", axis=None)
    cells = base.mark_rect(stroke="white").encode(
        x=x, y=y,
        color=alt.Color("mean_cosine:Q", scale=alt.Scale(scheme="reds", domain=[-0.2, 1]),
                        legend=alt.Legend(title=["Mean cosine", "to the others"], titleLimit=200)),
        tooltip=["position:Q", "token:N", alt.Tooltip("mean_cosine:Q", format=".3f")],
    )
    words = base.mark_text(fontSize=11, limit=56).encode(x=x, y=y, text="token:N")
    chart = alt.layer(cells, words).properties(title=title or f"Sample {sample}, layer {layer}")
    return Figure(chart, frame.drop(columns=["row", "col"]))
