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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use (below): `nb_condense.charts.specs` stays free of Altair
    from .base import DENSITY_CLIP, OKABE_ITO, Figure, grid, returns_chart
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
    from .specs import LAYER_SELECTION, heatmap_frame
    from .tokens import token_strip_figure

    heatmap = returns_chart(heatmap_figure)
    distributions = returns_chart(distributions_figure)
    heatmap_with_curves = returns_chart(heatmap_with_curves_figure)
    layer_trend = returns_chart(layer_trend_figure)
    trend_chart = returns_chart(trend_figure)
    token_strip = returns_chart(token_strip_figure)
    training_history = returns_chart(training_history_figure)
    training_losses = returns_chart(training_losses_figure)

__all__ = [
    "DENSITY_CLIP",
    "Figure",
    "LAYER_SELECTION",
    "OKABE_ITO",
    "distributions",
    "enable_static_charts",
    "grid",
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

_OWNERS = {"DENSITY_CLIP": "base", "Figure": "base", "LAYER_SELECTION": "specs", "OKABE_ITO": "base",
           "grid": "base", "enable_static_charts": "output", "save_chart": "output", "heatmap_frame": "specs"}
"""Where each public name that is not a chart lives."""
_CHARTS = {"heatmap": "heatmaps.heatmap_figure", "distributions": "lines.distributions_figure",
           "heatmap_with_curves": "lines.heatmap_with_curves_figure", "layer_trend": "lines.layer_trend_figure",
           "trend_chart": "lines.trend_figure", "token_strip": "tokens.token_strip_figure",
           "training_history": "lines.training_history_figure", "training_losses": "lines.training_losses_figure"}
"""Each chart function and the figure maker it wraps (a chart is its figure's Altair chart)."""


def __getattr__(name: str) -> Any:
    """The public names, imported on first use: importing ``nb_condense.charts.specs`` loads no Altair."""
    if name in _OWNERS:
        value = getattr(importlib.import_module(f".{_OWNERS[name]}", __name__), name)
    elif name in _CHARTS:
        module, figure = _CHARTS[name].split(".")
        base = importlib.import_module(".base", __name__)
        value = base.returns_chart(getattr(importlib.import_module(f".{module}", __name__), figure))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
