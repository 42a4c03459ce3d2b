"""nb_condense: measure, explore and counteract embedding condensation in transformer language models."""

from __future__ import annotations

__version__ = "0.1.0"

from .compat import measure_embedding_condensation, plot_similarity_heatmap  # noqa: E402
from .corpus import CorpusUnavailableError, sample_texts  # noqa: E402
from .measure import measure  # noqa: E402
from .models import load_model  # noqa: E402
from .result import CondensationResult  # noqa: E402
from .charts import enable_offline_charts, heatmap_chart, save_chart  # noqa: E402
from .session import CondensationSession, compare  # noqa: E402
from .dispersion import DispersionLoss, dispersion_penalty  # noqa: E402
from .widget import CondensationExplorer  # noqa: E402
from . import charts  # noqa: E402

# Training pulls in transformers' Trainer and accelerate (~3 s): imported on first use (PEP 562).
_LAZY = {"DispersionTrainer": "trainer", "CondensationCallback": "trainer", "training": None}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'nb_condense' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = getattr(module, name) if _LAZY[name] else module
    globals()[name] = value
    return value

__all__ = [
    "CondensationCallback",
    "CondensationExplorer",
    "CondensationResult",
    "CondensationSession",
    "charts",
    "training",
    "compare",
    "dispersion_penalty",
    "enable_offline_charts",
    "CorpusUnavailableError",
    "DispersionLoss",
    "DispersionTrainer",
    "__version__",
    "heatmap_chart",
    "load_model",
    "measure",
    "measure_embedding_condensation",
    "plot_similarity_heatmap",
    "sample_texts",
    "save_chart",
]
