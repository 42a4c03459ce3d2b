"""A finished measurement made into a :class:`~nb_condense.core.result.CondensationResult`: statistics and metadata."""

from __future__ import annotations

import datetime as _dt
import platform
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._version import __version__
from ..core.result import STAT_COLUMNS, CondensationResult
from ..core.summaries import QUANTILES, histogram_quantiles
from .extract import input_device
from .metrics import PositionAverage
from .partial import PartialMeasurement
from .plan import MeasurementPlan

__all__ = ["assemble_result", "model_name"]


def model_name(model: torch.nn.Module) -> str:
    """The model's hub id / folder (``config._name_or_path``), else its class name."""
    config = getattr(model, "config", None)
    name = getattr(config, "_name_or_path", "") or ""
    return str(name) or type(model).__name__


def _n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _versions() -> dict[str, str]:
    import transformers

    return {"nb_condense": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version()}


def metadata(model: torch.nn.Module, plan: MeasurementPlan, n_entries: int, batch_size: int) -> dict[str, Any]:
    """What a result records about how it was measured: the model, the settings, the versions, the time."""
    settings = plan.settings
    return {
        "model_name": model_name(model),
        "model_class": type(model).__name__,
        "n_parameters": _n_parameters(model),
        "n_layers": n_entries - 1 - int(settings.include_logits_layer),
        "n_entries": n_entries,
        "include_logits_layer": settings.include_logits_layer,
        "max_length": settings.max_length,
        "batch_size": batch_size,
        "bins": settings.bins,
        "include_diagonal": settings.include_diagonal,
        "position_average": settings.position_average,
        "quantiles": list(QUANTILES),
        "model_dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "device": str(input_device(model)),
        "corpus": "texts",
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _stats(partial: PartialMeasurement, token_counts: np.ndarray, include_diagonal: bool) -> pd.DataFrame:
    """One row per text and layer: token and pair counts, mean, std, the quantiles, and any further columns."""
    histograms = partial.histograms
    n_texts, n_layers = histograms.shape[:2]
    quantiles = histogram_quantiles(histograms)
    columns = {"mean": partial.columns["mean"], "std": partial.columns["std"],
               **{name: quantiles[..., k] for k, name in enumerate(STAT_COLUMNS[2:])},
               **{k: v for k, v in partial.columns.items() if k not in ("mean", "std")}}
    pairs = token_counts**2 if include_diagonal else token_counts * (token_counts - 1)
    return pd.DataFrame({
        "text": np.repeat(np.arange(n_texts), n_layers),
        "layer": np.tile(np.asarray(partial.layer_indices, dtype=np.int64), n_texts),
        "n_tokens": np.repeat(token_counts, n_layers),
        "n_pairs": np.repeat(pairs, n_layers),
        **{name: values.reshape(-1) for name, values in columns.items()},
    })


def assemble_result(model: torch.nn.Module, plan: MeasurementPlan, partial: PartialMeasurement, batch_size: int,
                    extra_metadata: dict[str, Any] | None = None) -> CondensationResult:
    """The result of a complete measurement; ``extra_metadata`` is added over the recorded metadata."""
    tokens = plan.tokens
    result = CondensationResult(
        histograms=partial.histograms, stats=_stats(partial, plan.token_counts, plan.settings.include_diagonal),
        layers=np.asarray(partial.layer_indices, dtype=np.int64), token_counts=plan.token_counts,
        metadata={**metadata(model, plan, partial.n_entries, batch_size), **(extra_metadata or {})},
        texts=plan.texts if tokens is not None else None,
        token_strings=None if tokens is None else np.array([t for text in tokens for t in text], dtype=np.str_),
        token_means=None if tokens is None else partial.token_means,
    )
    if partial.position is not None:
        result.cossim_by_layer = PositionAverage.from_state(*partial.position).mean().float().numpy()
    return result
