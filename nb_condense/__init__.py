"""nb_condense: measure, explore and counteract embedding condensation in transformer language models.

``import nb_condense`` is instant: it imports none of torch, transformers, datasets, altair or anywidget. Every
public name is resolved on first use (PEP 562), from the module that owns it (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:  # what static tools and IDEs see; at run time these names are lazy
    from . import charts as charts
    from . import training as training
    from .charts import save_chart as save_chart
    from .compat import measure_embedding_condensation as measure_embedding_condensation
    from .compat import plot_similarity_heatmap as plot_similarity_heatmap
    from .core.result import CondensationResult as CondensationResult
    from .explore.compare import Difference as Difference
    from .explore.compare import compare as compare
    from .explore.compare import difference as difference
    from .explore.session import CondensationSession as CondensationSession
    from .measurement.corpus import CorpusUnavailableError as CorpusUnavailableError
    from .measurement.corpus import sample_texts as sample_texts
    from .measurement.engine import measure as measure
    from .measurement.models import load_model as load_model
    from .measurement.settings import MeasureSettings as MeasureSettings
    from .measurement.settings import TextSource as TextSource
    from .training.dispersion import DispersionLoss as DispersionLoss
    from .training.dispersion import dispersion_penalty as dispersion_penalty
    from .training.trainer import CondensationCallback as CondensationCallback
    from .training.trainer import DispersionTrainer as DispersionTrainer
    from .widgets.chart import enable_offline_charts as enable_offline_charts
    from .widgets.explorer import CondensationExplorer as CondensationExplorer
    from .widgets.monitor import TrainingMonitor as TrainingMonitor
    from .widgets.page import save_page as save_page

_EXPORTS = {
    "CondensationCallback": "training.trainer",
    "CondensationExplorer": "widgets.explorer",
    "CondensationResult": "core.result",
    "CondensationSession": "explore.session",
    "CorpusUnavailableError": "measurement.corpus",
    "DispersionLoss": "training.dispersion",
    "DispersionTrainer": "training.trainer",
    "MeasureSettings": "measurement.settings",
    "TextSource": "measurement.settings",
    "Difference": "explore.compare",
    "compare": "explore.compare",
    "difference": "explore.compare",
    "dispersion_penalty": "training.dispersion",
    "enable_offline_charts": "widgets.chart",
    "load_model": "measurement.models",
    "measure": "measurement.engine",
    "measure_embedding_condensation": "compat",
    "plot_similarity_heatmap": "compat",
    "save_page": "widgets.page",
    "TrainingMonitor": "widgets.monitor",
    "sample_texts": "measurement.corpus",
    "save_chart": "charts",
}
_MODULES = ("charts", "training")

__all__ = sorted([*_EXPORTS, *_MODULES, "__version__"])


def __getattr__(name: str) -> Any:
    owner = _EXPORTS.get(name)
    if owner is not None:
        value = getattr(importlib.import_module(f".{owner}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'nb_condense' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
