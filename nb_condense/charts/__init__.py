"""Altair charts of condensation measurements, returned (never displayed) so that they compose.

Charts take data, never a model: a :class:`~nb_condense.CondensationResult`, a measured
:class:`~nb_condense.CondensationSession` (anything with ``name`` and ``measured_result()``), lists of them or
``{name: result}`` mappings, or tidy frames. They never start a measurement. ``save_chart`` writes PNG, SVG, PDF
or a self-contained HTML file offline (vl-convert; no CDN).

Example
-------
>>> import nb_condense as nbc
>>> from nb_condense import charts
>>> result = nbc.measure("embedded", dataset="builtin", n_texts=2, max_length=32, show_progress=False)
>>> spec = charts.heatmap(result).to_dict()
>>> spec["encoding"]["x"]["title"], spec["encoding"]["y"]["title"]
('Layer fraction', 'Cosine similarity')
"""

from __future__ import annotations

from ..explore.specs import heatmap_frame
from .base import DENSITY_CLIP, LAYER_SELECTION, Figure, returns_chart
from .heatmaps import heatmap_figure
from .lines import (
    distributions_figure,
    heatmap_with_curves_figure,
    layer_trend_figure,
    training_history_figure,
    training_losses_figure,
    trend_figure,
)
from .output import enable_static_charts, save_chart
from .tokens import token_strip_figure

__all__ = [
    "DENSITY_CLIP",
    "Figure",
    "LAYER_SELECTION",
    "distributions",
    "enable_static_charts",
    "heatmap",
    "heatmap_frame",
    "heatmap_with_curves",
    "layer_trend",
    "save_chart",
    "token_strip",
    "training_history",
    "training_losses",
    "trend_chart",
]

heatmap = returns_chart(heatmap_figure)
distributions = returns_chart(distributions_figure)
heatmap_with_curves = returns_chart(heatmap_with_curves_figure)
layer_trend = returns_chart(layer_trend_figure)
trend_chart = returns_chart(trend_figure)
token_strip = returns_chart(token_strip_figure)
training_history = returns_chart(training_history_figure)
training_losses = returns_chart(training_losses_figure)

