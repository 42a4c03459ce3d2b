"""The plan of a measurement: texts checked and tokenized, the batch size, a resumed checkpoint, this process's shard.

:func:`plan_measurement` reads the settings once and does everything that happens before the first forward pass;
:mod:`~nb_condense.measurement.run` runs the plan and :mod:`~nb_condense.measurement.assemble` makes its result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.files import remove_stale_temporaries
from .extract import auto_batch_size, default_batch_size, max_positions, tokenize_texts
from .models import describe_identity, model_identity
from .partial import PartialMeasurement, identity
from .settings import MeasureSettings, check_texts, positive_int

__all__ = ["MeasurementPlan", "plan_measurement"]

logger = logging.getLogger("nb_condense")


@dataclass
class MeasurementPlan:
    """What a measurement will do: every text's tokens, which texts this process runs, and where it saves."""

    settings: MeasureSettings
    texts: list[str]
    encodings: list[dict[str, torch.Tensor]]
    """Each text's token ids (truncated to ``settings.max_length``), unpadded."""
    token_counts: np.ndarray
    tokens: list[list[str]] | None
    """Each text's token strings (None with ``keep_texts=False``)."""
    batch_size: int
    pad_id: int
    todo: list[int]
    """Indices of the texts this process measures (not yet in the checkpoint; this process's shard)."""
    world: int
    """Processes sharing the texts (1 unless a torch.distributed group is initialised)."""
    partial: PartialMeasurement | None = None
    """The measurement resumed from the checkpoint, if any."""
    checkpoint: Path | None = None
    checkpoint_every: int = 50
    key: dict[str, Any] | None = None
    """The checkpoint's fingerprint (texts, settings, model)."""


def plan_measurement(model: torch.nn.Module, tokenizer: Any, texts: Any, settings: MeasureSettings, *,
                     keep_texts: bool = True, checkpoint: str | Path | None = None, checkpoint_every: int = 50,
                     distributed: bool | None = None, streaming: bool = False) -> MeasurementPlan:
    """Check the inputs and plan the measurement; ``streaming``: a callback receives each text's matrices."""
    texts = check_texts(texts)
    if checkpoint is not None and streaming:
        raise ValueError("checkpoint= cannot be combined with on_text= (the callback's own state is not saved).")
    checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
    encodings, token_counts = _tokenize(model, tokenizer, texts, settings.max_length)
    tokens = [tokenizer.convert_ids_to_tokens(e["input_ids"].tolist()) for e in encodings] if keep_texts else None
    path = None if checkpoint is None else Path(checkpoint)
    key = None if path is None else identity(texts, settings, model_identity(model))
    partial = _resume(path, key)
    todo = [i for i in range(len(texts)) if partial is None or not partial.done[i]]
    rank, world = distributed_rank() if distributed is not False else (0, 1)
    if world > 1:
        if path is not None or streaming:
            raise ValueError("checkpoint= and on_text= are not supported in a multi-process run yet: measure in one "
                             "process, or without them.")
        todo = todo[rank::world]  # each process measures a strided shard of the texts
    return MeasurementPlan(settings=settings, texts=texts, encodings=encodings, token_counts=token_counts,
                           tokens=tokens, batch_size=_batch_size(model, settings), pad_id=pad_id(tokenizer),
                           todo=todo, world=world, partial=partial, checkpoint=path,
                           checkpoint_every=checkpoint_every, key=key)


def _batch_size(model: torch.nn.Module, settings: MeasureSettings) -> int:
    if settings.batch_size == "auto":
        batch_size = auto_batch_size(model, settings.max_length)
        logger.info("batch_size='auto' chose %d texts per forward pass.", batch_size)
        return batch_size
    return int(settings.batch_size or default_batch_size(model))


def _tokenize(model: torch.nn.Module, tokenizer: Any, texts: list[str], max_length: int
              ) -> tuple[list[dict[str, torch.Tensor]], np.ndarray]:
    """Each text's token ids truncated to ``max_length`` and their counts; refuse a length or text that cannot work."""
    limit = max_positions(model)
    if limit is not None and max_length > limit:
        raise ValueError(
            f"max_length={max_length} is larger than the {limit} positions this model has "
            f"embeddings for: pass max_length <= {limit}."
        )
    encodings = tokenize_texts(tokenizer, texts, max_length)
    token_counts = np.array([len(e["input_ids"]) for e in encodings], dtype=np.int64)
    short = np.flatnonzero(token_counts < 2)
    if short.size:
        i = int(short[0])
        raise ValueError(
            f"texts[{i}] ({texts[i][:40]!r}) has {token_counts[i]} token(s) after tokenization; at least 2 "
            f"are needed to form a pair ({short.size} such text(s)). Remove or lengthen them."
        )
    return encodings, token_counts


def _resume(path: Path | None, key: dict[str, Any] | None) -> PartialMeasurement | None:
    """The measurement saved at ``path`` for the same texts, settings and model, or None when there is none."""
    if path is None or key is None:
        return None
    remove_stale_temporaries(path)  # a save killed between writing and renaming left its temporary file
    return PartialMeasurement.load(path, key, describe_identity) if path.exists() else None


def distributed_rank() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed process group, else (0, 1)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def pad_id(tokenizer: Any) -> int:
    """The id batches are padded with: the tokenizer's pad token, else its end-of-sequence token, else 0."""
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0
