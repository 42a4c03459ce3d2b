"""nb_condense: measure, explore and counteract embedding condensation in transformer language models.

``import nb_condense`` is instant: it imports none of torch, transformers, datasets, altair or anywidget. Every
public name is resolved on first use (PEP 562), from the module that owns it (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:  # what static tools and IDEs see; at run time these names are lazy
    from . import charts as charts
    from . import training as training
    from .chart_widget import enable_offline_charts as enable_offline_charts
    from .charts import save_chart as save_chart
    from .compat import measure_embedding_condensation as measure_embedding_condensation
    from .compat import plot_similarity_heatmap as plot_similarity_heatmap
    from .corpus import CorpusUnavailableError as CorpusUnavailableError
    from .corpus import sample_texts as sample_texts
    from .dispersion import DispersionLoss as DispersionLoss
    from .dispersion import dispersion_penalty as dispersion_penalty
    from .engine import measure as measure
    from .models import load_model as load_model
    from .monitor import TrainingMonitor as TrainingMonitor
    from .page import save_explorer as save_explorer
    from .result import CondensationResult as CondensationResult
    from .session import CondensationSession as CondensationSession
    from .session import compare as compare
    from .settings import MeasureSettings as MeasureSettings
    from .settings import TextSource as TextSource
    from .trainer import CondensationCallback as CondensationCallback
    from .trainer import DispersionTrainer as DispersionTrainer
    from .widget import CondensationExplorer as CondensationExplorer

_EXPORTS = {
    "CondensationCallback": "trainer",
    "CondensationExplorer": "widget",
    "CondensationResult": "result",
    "CondensationSession": "session",
    "CorpusUnavailableError": "corpus",
    "DispersionLoss": "dispersion",
    "DispersionTrainer": "trainer",
    "MeasureSettings": "settings",
    "TextSource": "settings",
    "compare": "session",
    "dispersion_penalty": "dispersion",
    "enable_offline_charts": "chart_widget",
    "load_model": "models",
    "measure": "engine",
    "measure_embedding_condensation": "compat",
    "plot_similarity_heatmap": "compat",
    "save_explorer": "page",
    "TrainingMonitor": "monitor",
    "sample_texts": "corpus",
    "save_chart": "charts",
}
_MODULES = ("charts", "training")
_DEPRECATED = {"heatmap_chart": "charts"}  # still resolvable (warns when called), no longer advertised

__all__ = sorted([*_EXPORTS, *_MODULES, "__version__"])


def _result_heatmap(self: Any, *, title: str | None = None, clip: float = 10.0) -> Any:
    """Deprecated: use ``nb_condense.charts.heatmap(result)``."""
    warnings.warn("CondensationResult.heatmap() is deprecated: use nb_condense.charts.heatmap(result).",
                  DeprecationWarning, stacklevel=2)
    from .charts import heatmap

    return heatmap(self, title=title, clip=clip, select=False)


def _session_explore(self: Any, **options: Any) -> Any:
    """Deprecated: use ``nb_condense.CondensationExplorer(session)``."""
    warnings.warn("CondensationSession.explore() is deprecated: use nb_condense.CondensationExplorer(session).",
                  DeprecationWarning, stacklevel=2)
    from .widget import CondensationExplorer

    return CondensationExplorer(self, **options)


_shims_installed = False


def _install_shims() -> None:
    """Attach the 0.1 conveniences that reach up the layers (deprecated) to the lower classes, once.

    The package root sits outside the layering contract: it wires the layers together, lazily.
    """
    global _shims_installed
    if _shims_installed:
        return
    _shims_installed = True
    from .result import CondensationResult
    from .session import CondensationSession

    CondensationResult.heatmap = _result_heatmap  # type: ignore[attr-defined]
    CondensationSession.explore = _session_explore  # type: ignore[attr-defined]


def __getattr__(name: str) -> Any:
    owner = _EXPORTS.get(name) or _DEPRECATED.get(name)
    if owner is not None:
        value = getattr(importlib.import_module(f".{owner}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'nb_condense' has no attribute {name!r}")
    _install_shims()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
