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

__all__ = ["DENSITY_CLIP", "heatmap_chart", "heatmap_frame", "save_chart"]

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
    data = alt.InlineData(values=frame.to_dict(orient="records"))
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
