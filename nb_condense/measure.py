"""Measure embedding condensation: batched forward passes reduced on the fly to histograms and statistics.

Memory does not grow with the number of texts beyond ``texts x layers x bins`` counts: each batch's
hidden states and each text's cosine matrices are reduced and freed before the next batch.

Example
-------
>>> import nb_condense as nbc
>>> result = nbc.measure("embedded", dataset="builtin", n_texts=4, max_length=64, show_progress=False)
>>> result.histograms.shape                                     # [text, layer, bin]
(4, 7, 128)
>>> -1 <= result.trend().spearman_rho <= 1
True
"""

from __future__ import annotations

import datetime as _dt
import logging
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import __version__
from .corpus import sample_texts
from .checkpoint import PartialMeasurement, fingerprint
from .extract import input_device, iter_hidden_states, max_positions, tokenize_texts
from .metrics import QUANTILES, cosine_matrices, text_layer_statistics
from .result import STAT_COLUMNS, CondensationResult

__all__ = ["MeasureSettings", "auto_batch_size", "choose_texts", "measure", "measure_texts"]

logger = logging.getLogger("nb_condense")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_texts(texts: Any) -> list[str]:
    """The texts as a list of strings, or a specific error."""
    if isinstance(texts, str):
        raise TypeError("`texts` must be a list of strings, not one string: wrap it as texts=[text].")
    texts = list(texts)
    if not texts:
        raise ValueError("`texts` is empty: pass at least one text, or use dataset= to sample texts.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str.")
    return texts


@dataclass(frozen=True)
class MeasureSettings:
    """How texts are turned into histograms (everything except the texts and the model)."""

    max_length: int = 512
    batch_size: int | str | None = None
    bins: int = 128
    include_diagonal: bool = False
    layers: tuple[int, ...] | int | None = None
    include_logits_layer: bool = False
    effective_rank: bool = False

    def __post_init__(self) -> None:
        if self.layers is not None:  # accept one index or any sequence; store a hashable tuple
            layers = [self.layers] if isinstance(self.layers, int) else self.layers
            object.__setattr__(self, "layers", tuple(layers))
        _positive_int("max_length", self.max_length)
        if self.batch_size is not None and self.batch_size != "auto":
            _positive_int("batch_size", self.batch_size)
        _positive_int("bins", self.bins)
        if self.max_length < 2:
            raise ValueError(f"max_length must be >= 2 (a text needs two tokens to form a pair), got {self.max_length}.")


def _model_name(model: torch.nn.Module) -> str:
    config = getattr(model, "config", None)
    name = getattr(config, "_name_or_path", "") or ""
    return str(name) or type(model).__name__


def _n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _versions() -> dict[str, str]:
    import transformers

    return {
        "nb_condense": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }


CPU_BATCH_SIZE = 1
"""Default on a CPU: one 512-token text already fills the matrix units; batches of 4-8 measured slower."""
ACCELERATOR_BATCH_SIZE = 8


def default_batch_size(model: torch.nn.Module) -> int:
    """8 texts per forward pass on an accelerator, 1 on a CPU."""
    return CPU_BATCH_SIZE if input_device(model).type == "cpu" else ACCELERATOR_BATCH_SIZE


ACTIVATION_FACTOR = 4
"""Activation memory per hidden state kept, relative to the hidden states themselves (MLP, attention, copies)."""


def auto_batch_size(model: torch.nn.Module, max_length: int, free_bytes: int | None = None) -> int:
    """Texts per forward pass that fit half of the free accelerator memory (1 on a CPU, at most 64).

    Estimate per text: ``(layers + 1) x max_length x hidden x bytes x 4`` plus one attention map
    ``heads x max_length^2 x bytes``. An out-of-memory error still halves the batch and retries.
    """
    device = input_device(model)
    if free_bytes is None:
        if device.type != "cuda":
            return CPU_BATCH_SIZE
        free_bytes, _ = torch.cuda.mem_get_info(device)
    config = getattr(model, "config", None)
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "d_model", 0) or 1024)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0) or 24)
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "num_heads", 0) or 16)
    element = next(model.parameters()).element_size()
    per_text = (layers + 1) * max_length * hidden * element * ACTIVATION_FACTOR + heads * max_length**2 * element
    return int(min(64, max(1, free_bytes * 0.5 // per_text)))


def _distributed() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed process group, else (0, 1)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather(partial: PartialMeasurement | None, n_texts: int) -> PartialMeasurement:
    """Merge every process's shard so each process holds all texts (identical to a one-process run)."""
    mine = None
    if partial is not None:
        index = np.flatnonzero(partial.done)
        mine = (partial.layer_indices, partial.n_available, index, partial.histograms[index],
                {k: v[index] for k, v in partial.columns.items()})
    shards: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(shards, mine)
    present = [s for s in shards if s is not None]
    layer_indices, n_available = present[0][0], present[0][1]
    merged = PartialMeasurement(n_texts, layer_indices, n_available, present[0][3].shape[-1], list(present[0][4]))
    for _, _, index, histograms, columns in present:
        merged.histograms[index] = histograms
        for name, values in columns.items():
            merged.columns[name][index] = values
        merged.done[index] = True
    return merged


def _pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


def measure_texts(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    settings: MeasureSettings = MeasureSettings(),
    *,
    show_progress: bool = True,
    on_text: Callable[[int, torch.Tensor], None] | None = None,
    metadata: dict[str, Any] | None = None,
    keep_texts: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    distributed: bool | None = None,
) -> CondensationResult:
    """Measure fixed ``texts`` with ``settings`` (the engine behind :func:`measure`).

    ``distributed``: ``None`` shards the texts over the processes of an initialised torch.distributed
    group (every process must call this), ``False`` measures all texts in this process alone.

    ``on_text(text_index, cos)`` is called with each text's cosine matrices ``[layer, n, n]`` before
    they are freed (used by the reference-compatible position average). With ``checkpoint`` (a file
    path), the partial measurement is saved every ``checkpoint_every`` texts and, when the file exists
    for the same texts, settings and model, only the texts not yet measured are run; the file is
    removed once the measurement is complete.
    """
    texts = check_texts(texts)
    if checkpoint is not None and on_text is not None:
        raise ValueError("checkpoint= cannot be combined with on_text= (the callback's own state is not saved).")
    checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
    if settings.batch_size == "auto":
        batch_size = auto_batch_size(model, settings.max_length)
        logger.info("batch_size='auto' chose %d texts per forward pass.", batch_size)
    else:
        batch_size = settings.batch_size or default_batch_size(model)
    limit = max_positions(model)
    if limit is not None and settings.max_length > limit:
        raise ValueError(
            f"max_length={settings.max_length} is larger than the {limit} positions this model has "
            f"embeddings for: pass max_length <= {limit}."
        )
    encodings = tokenize_texts(tokenizer, texts, settings.max_length)
    token_counts = np.array([len(e["input_ids"]) for e in encodings], dtype=np.int64)
    short = np.flatnonzero(token_counts < 2)
    if short.size:
        i = int(short[0])
        raise ValueError(
            f"texts[{i}] ({texts[i][:40]!r}) has {token_counts[i]} token(s) after tokenization; at least 2 "
            f"are needed to form a pair ({short.size} such text(s)). Remove or lengthen them."
        )

    path = None if checkpoint is None else Path(checkpoint)
    key = fingerprint(texts, settings, _model_name(model), _n_parameters(model)) if path else ""
    partial = PartialMeasurement.load(path, key) if path is not None and path.exists() else None
    todo = [i for i in range(len(texts)) if partial is None or not partial.done[i]]
    rank, world = _distributed() if distributed is not False else (0, 1)
    if world > 1:
        if path is not None or on_text is not None:
            raise ValueError("checkpoint= and on_text= (the drop-in's position average) are not supported in a "
                             "multi-process run yet: measure in one process, or without them.")
        todo = todo[rank::world]  # each process measures a strided shard of the texts
    used_batch_size = batch_size
    since_save = 0
    progress = tqdm(total=len(texts), initial=len(texts) - len(todo), desc="condensation", unit="text",
                    disable=not show_progress)
    try:
        for batch in iter_hidden_states(
            model,
            [encodings[i] for i in todo],
            pad_token_id=_pad_id(tokenizer),
            batch_size=batch_size,
            layers=settings.layers,
            include_logits_layer=settings.include_logits_layer,
        ):
            if partial is None:
                names = [*STAT_COLUMNS] + (["effective_rank"] if settings.effective_rank else [])
                partial = PartialMeasurement(len(texts), batch.layer_indices, batch.n_available, settings.bins, names)
            histograms, columns, layer_indices = partial.histograms, partial.columns, partial.layer_indices
            used_batch_size = min(used_batch_size, batch.batch_size or batch_size)
            for position, text_index in ((p, todo[i]) for p, i in enumerate(batch.text_indices)):
                cos = cosine_matrices(batch.text(position))
                # a NaN/inf anywhere in a token's vector makes its self-similarity NaN: check the diagonal
                diagonal = cos.diagonal(dim1=-2, dim2=-1)
                if not torch.isfinite(diagonal).all():
                    bad = int((~torch.isfinite(diagonal)).any(1).nonzero()[0])
                    raise ValueError(
                        f"The model produced non-finite hidden states (NaN/inf) for texts[{text_index}] at "
                        f"layer {layer_indices[bad]}; check the model's dtype and weights."
                    )
                stats = text_layer_statistics(cos, settings.bins, settings.include_diagonal, settings.effective_rank)
                histograms[text_index] = stats.counts.cpu().numpy()
                columns["mean"][text_index] = stats.mean.cpu().numpy()
                columns["std"][text_index] = stats.std.cpu().numpy()
                quantiles = stats.quantiles.cpu().numpy()
                for k, name in enumerate(STAT_COLUMNS[2:]):
                    columns[name][text_index] = quantiles[:, k]
                if stats.effective_rank is not None:
                    columns["effective_rank"][text_index] = stats.effective_rank.cpu().numpy()
                if on_text is not None:
                    on_text(text_index, cos)
                partial.done[text_index] = True
                del cos, stats
            progress.update(len(batch.text_indices))
            since_save += len(batch.text_indices)
            if path is not None and since_save >= checkpoint_every:
                partial.save(path, key)
                since_save = 0
            del batch
    finally:
        progress.close()
    if world > 1:
        partial = _gather(partial, len(texts))
    assert partial is not None and partial.done.all()
    if path is not None and path.exists():
        path.unlink()
    histograms, columns = partial.histograms, partial.columns
    layer_indices, n_available = partial.layer_indices, partial.n_available

    n_texts, n_layers = histograms.shape[:2]
    pairs = token_counts**2 if settings.include_diagonal else token_counts * (token_counts - 1)
    stats_frame = pd.DataFrame(
        {
            "text": np.repeat(np.arange(n_texts), n_layers),
            "layer": np.tile(np.asarray(layer_indices, dtype=np.int64), n_texts),
            "n_tokens": np.repeat(token_counts, n_layers),
            "n_pairs": np.repeat(pairs, n_layers),
            **{name: values.reshape(-1) for name, values in columns.items()},
        }
    )
    n_hidden = n_available - int(settings.include_logits_layer)
    meta = {
        "model_name": _model_name(model),
        "model_class": type(model).__name__,
        "n_parameters": _n_parameters(model),
        "n_layers": n_hidden - 1,
        "n_hidden_states": n_hidden,
        "n_entries": n_available,
        "include_logits_layer": settings.include_logits_layer,
        "max_length": settings.max_length,
        "batch_size": used_batch_size,
        "bins": settings.bins,
        "include_diagonal": settings.include_diagonal,
        "quantiles": list(QUANTILES),
        "model_dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "corpus": "texts",
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update(metadata or {})
    return CondensationResult(
        histograms=histograms,
        stats=stats_frame,
        layers=np.asarray(layer_indices, dtype=np.int64),
        token_counts=token_counts,
        metadata=meta,
        texts=texts if keep_texts else None,
    )


def choose_texts(
    texts: Sequence[str] | None,
    dataset: str,
    n_texts: int,
    *,
    min_word_count: int,
    max_word_count: int,
    seed: int,
    allow_empty: bool = False,
) -> tuple[list[str], dict[str, Any]]:
    """The texts to measure (given, or sampled from ``dataset``) and the metadata that says where they came from."""
    if texts is not None:
        chosen = [] if allow_empty and len(texts) == 0 else check_texts(texts)
        return chosen, {"corpus": "texts"}
    n = _positive_int("n_texts", n_texts)
    chosen = sample_texts(dataset, n, min_word_count=min_word_count, max_word_count=max_word_count, seed=seed)
    return chosen, {"corpus": dataset, "seed": seed, "min_word_count": min_word_count, "max_word_count": max_word_count}


def resolve_model(model: Any, tokenizer: Any) -> tuple[torch.nn.Module, Any]:
    """Accept a loaded model + tokenizer, or a name for :func:`nb_condense.models.load_model`."""
    from .models import load_model, load_tokenizer

    if isinstance(model, str):
        return load_model(model, tokenizer=tokenizer)
    if tokenizer is None:
        raise ValueError("A tokenizer is required with a loaded model: measure(model, tokenizer, ...).")
    return model, load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer


def measure(
    model: torch.nn.Module | str,
    tokenizer: Any = None,
    *,
    texts: Sequence[str] | None = None,
    dataset: str = "wikipedia",
    n_texts: int = 100,
    max_length: int = 512,
    batch_size: int | None = None,
    bins: int = 128,
    include_diagonal: bool = False,
    layers: Sequence[int] | None = None,
    include_logits_layer: bool = False,
    effective_rank: bool = False,
    min_word_count: int = 1024,
    max_word_count: int = 1280,
    seed: int = 0,
    keep_texts: bool = True,
    show_progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
) -> CondensationResult:
    """Measure how token embeddings condense, layer by layer.

    Parameters
    ----------
    model, tokenizer
        A Hugging Face model and its tokenizer, or a name (hub id, folder, ``"embedded"``,
        ``"random:<spec>"``; see :func:`nb_condense.models.load_model`) with ``tokenizer=None``.
    texts
        Texts to measure, each once. When omitted, ``n_texts`` texts are sampled from ``dataset``
        (``"wikipedia"``, ``"pubmed"``, ``"imdb"``, ``"squad"`` from the hub, or the offline
        ``"builtin"``) with seeds ``seed .. seed + n_texts - 1``, as in the paper.
    max_length
        Tokens per text after truncation (the paper uses 512).
    batch_size
        Texts per forward pass (right-padded; pads never enter the maths). Default: 8 on an
        accelerator, 1 on a CPU (where larger batches were measured slower). ``"auto"`` sizes it from
        the free accelerator memory (:func:`auto_batch_size`). On out-of-memory the batch is halved
        and retried; ``metadata["batch_size"]`` says what ran.
    bins, include_diagonal
        Histogram bins on [-1, 1]; whether each token's similarity with itself is counted.
    layers
        Hidden-state indices to keep (default: all; 0 is the embedding output).
    include_logits_layer
        Also measure the output logits as a last "layer" (needs a model with an LM head).
    effective_rank
        Add the RankMe effective rank per text and layer (one eigendecomposition per layer and text,
        about 10 % more time on GPT-2-small on a CPU).
    checkpoint, checkpoint_every
        A file to save the partial measurement to every ``checkpoint_every`` texts; rerunning the same
        call after an interruption resumes from it (no text measured twice) and deletes it at the end.

    Returns
    -------
    CondensationResult
        Per-text histograms ``[text, layer, bin]``, statistics (``to_frame()``), ``trend()``, ``save()``.
    """
    settings = MeasureSettings(
        max_length=max_length,
        batch_size=batch_size,
        bins=bins,
        include_diagonal=include_diagonal,
        layers=layers,
        include_logits_layer=include_logits_layer,
        effective_rank=effective_rank,
    )
    chosen, corpus = choose_texts(texts, dataset, n_texts, min_word_count=min_word_count,
                                  max_word_count=max_word_count, seed=seed)
    model, tokenizer = resolve_model(model, tokenizer)
    return measure_texts(
        model, tokenizer, chosen, settings, show_progress=show_progress, metadata=corpus, keep_texts=keep_texts,
        checkpoint=checkpoint, checkpoint_every=checkpoint_every,
    )
