"""The measurement engine: batched forward passes reduced on the fly to histograms and statistics.

Memory does not grow with the number of texts beyond ``texts x layers x bins`` counts and one float per token
and layer: each batch's hidden states and each text's cosine matrices are reduced and freed before the next batch.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from typing_extensions import Unpack

from .._version import __version__
from ..core.files import remove_stale_temporaries
from ..core.result import STAT_COLUMNS, CondensationResult
from ..core.summaries import QUANTILES, histogram_quantiles
from ._options import MeasureOptions
from .binning import avoids_sync
from .extract import (
    auto_batch_size,
    default_batch_size,
    input_device,
    iter_hidden_states,
    max_positions,
    tokenize_texts,
)
from .metrics import CosineStrips, PositionAverage, cosine_strips, text_layer_statistics
from .models import describe_identity, model_identity
from .partial import PartialMeasurement, identity
from .settings import (
    MeasureSettings,
    TextSource,
    check_texts,
    merge_settings,
    positive_int,
    split_options,
    with_options_signature,
)

__all__ = ["measure", "measure_texts", "resolve_model"]

logger = logging.getLogger("nb_condense")

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called after each text; raising from it stops the measurement."""


def model_name(model: torch.nn.Module) -> str:
    """The model's hub id / folder (``config._name_or_path``), else its class name."""
    config = getattr(model, "config", None)
    name = getattr(config, "_name_or_path", "") or ""
    return str(name) or type(model).__name__


def progress_label(name: str, width: int = 40) -> str:
    """A measurement bar's description: ``condensation · <name>``, the name cut to ``width`` characters."""
    name = " ".join(str(name).split())
    return f"condensation · {name if len(name) <= width else name[:width - 1] + '…'}"


def _n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _versions() -> dict[str, str]:
    import transformers

    return {"nb_condense": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version()}


def _distributed() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed process group, else (0, 1)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather(partial: PartialMeasurement | None, token_counts: np.ndarray) -> PartialMeasurement:
    """Merge every process's shard so each process holds all texts (identical to a one-process run)."""
    shards: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(shards, None if partial is None else partial.shard())
    return PartialMeasurement.merge(shards, token_counts)


def _pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


def _check_finite(finite: np.ndarray, text_index: int, layer_indices: Sequence[int]) -> None:
    """Raise, naming the text and the first layer, unless every layer's flag in ``finite`` is set."""
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"The model produced non-finite hidden states (NaN/inf) for texts[{text_index}] at "
            f"layer {layer_indices[bad]}; check the model's dtype and weights."
        )


def _position_average(partial: PartialMeasurement | None, settings: MeasureSettings,
                      device: torch.device) -> PositionAverage | None:
    """The running position average to continue (restored from a checkpoint), or None when not measured."""
    if not settings.position_average:
        return None
    if partial is not None and partial.position is not None:
        return PositionAverage.from_state(*partial.position, device=device)
    return PositionAverage()


def _column_names(settings: MeasureSettings) -> list[str]:
    return ["mean", "std"] + (["effective_rank"] if settings.effective_rank else [])


class _Pending:
    """Texts reduced on their device whose numbers have not come to the host yet: one transfer per batch.

    Each text's finite flags, counts, statistics and token means are packed into one float64 vector (exact
    for counts below 2**53 and for float32 token means); :meth:`flush` copies them all at once, then checks,
    records and reports each text in order.
    """

    def __init__(self, partial: PartialMeasurement, settings: MeasureSettings, recorded: Callable[[], None]):
        self.partial, self.settings, self.recorded = partial, settings, recorded
        self.texts: list[tuple[int, int, torch.Tensor]] = []

    def add(self, text_index: int, strips: CosineStrips) -> None:
        # a NaN/inf anywhere in a token's vector makes its self-similarity NaN: the diagonal flags each layer
        finite = torch.isfinite(strips.diagonal()).all(-1)
        if not avoids_sync(finite.device):  # nothing to wait for: check now (CPU binning needs finite values)
            _check_finite(finite.numpy(), text_index, self.partial.layer_indices)
        s = self.settings
        stats = text_layer_statistics(strips, s.bins, s.include_diagonal, s.effective_rank)
        rows = [finite, stats.counts, stats.mean, stats.std, stats.effective_rank, stats.token_means]
        self.texts.append((text_index, strips.n, torch.cat([r.reshape(-1).double() for r in rows if r is not None])))

    def flush(self) -> None:
        if not self.texts:
            return
        texts, self.texts = self.texts, []
        host = torch.cat([packed for _, _, packed in texts]).cpu().numpy()
        layers, bins, names = len(self.partial.layer_indices), self.settings.bins, _column_names(self.settings)
        ends = np.cumsum([layers * (1 + bins + len(names) + n) for _, n, _ in texts])
        for (text_index, n, _), packed in zip(texts, np.split(host, ends[:-1])):
            finite, counts, columns, token_means = np.split(packed, layers * np.cumsum([1, bins, len(names)]))
            _check_finite(finite == 1, text_index, self.partial.layer_indices)
            self.partial.record(text_index, counts.reshape(layers, bins).astype(np.int64),
                                dict(zip(names, columns.reshape(len(names), layers))),
                                token_means.reshape(layers, n).astype(np.float32))
            self.recorded()


def _result(partial: PartialMeasurement, token_counts: np.ndarray, texts: list[str], tokens: list[list[str]] | None,
            settings: MeasureSettings, meta: dict[str, Any]) -> CondensationResult:
    histograms = partial.histograms
    n_texts, n_layers = histograms.shape[:2]
    quantiles = histogram_quantiles(histograms)
    columns = {"mean": partial.columns["mean"], "std": partial.columns["std"],
               **{name: quantiles[..., k] for k, name in enumerate(STAT_COLUMNS[2:])},
               **{k: v for k, v in partial.columns.items() if k not in ("mean", "std")}}
    pairs = token_counts**2 if settings.include_diagonal else token_counts * (token_counts - 1)
    stats = pd.DataFrame({
        "text": np.repeat(np.arange(n_texts), n_layers),
        "layer": np.tile(np.asarray(partial.layer_indices, dtype=np.int64), n_texts),
        "n_tokens": np.repeat(token_counts, n_layers),
        "n_pairs": np.repeat(pairs, n_layers),
        **{name: values.reshape(-1) for name, values in columns.items()},
    })
    return CondensationResult(
        histograms=histograms, stats=stats, layers=np.asarray(partial.layer_indices, dtype=np.int64),
        token_counts=token_counts, metadata=meta, texts=texts if tokens is not None else None,
        token_strings=None if tokens is None else np.array([t for text in tokens for t in text], dtype=np.str_),
        token_means=None if tokens is None else partial.token_means,
    )


def measure_texts(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    settings: MeasureSettings | None = None,
    *,
    show_progress: bool = True,
    progress: Progress | None = None,
    on_text: Callable[[int, torch.Tensor], None] | None = None,
    metadata: dict[str, Any] | None = None,
    keep_texts: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    distributed: bool | None = None,
    label: str | None = None,
) -> CondensationResult:
    """Measure fixed ``texts`` with ``settings`` (the engine behind :func:`measure`).

    ``progress(done, total)`` is called after each text (raise from it to stop). ``on_text(text_index, cos)``
    receives each text's cosine matrices ``[layer, n, n]`` before they are freed. ``keep_texts=False`` keeps
    neither the texts nor their tokens. With ``checkpoint`` (a file path), the partial measurement is saved
    every ``checkpoint_every`` texts and, when the file exists for the same texts, settings and model, only
    the texts not yet measured are run; the file is removed once the measurement is complete.
    ``distributed``: ``None`` shards the texts over the processes of an initialised torch.distributed group
    (every process must call this), ``False`` measures all texts in this process alone. ``label`` names the
    progress bar (default: the model's name), so that several measurements in one cell tell which is which.
    """
    settings = settings if settings is not None else MeasureSettings()
    texts = check_texts(texts)
    if checkpoint is not None and on_text is not None:
        raise ValueError("checkpoint= cannot be combined with on_text= (the callback's own state is not saved).")
    checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
    if settings.batch_size == "auto":
        batch_size = auto_batch_size(model, settings.max_length)
        logger.info("batch_size='auto' chose %d texts per forward pass.", batch_size)
    else:
        batch_size = int(settings.batch_size or default_batch_size(model))
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
    tokens = [tokenizer.convert_ids_to_tokens(e["input_ids"].tolist()) for e in encodings] if keep_texts else None

    path = None if checkpoint is None else Path(checkpoint)
    if path is not None:  # a save killed between writing and renaming left its temporary file: remove it now
        remove_stale_temporaries(path)
    key = identity(texts, settings, model_identity(model)) if path is not None else {}
    partial = PartialMeasurement.load(path, key, describe_identity) if path is not None and path.exists() else None
    todo = [i for i in range(len(texts)) if partial is None or not partial.done[i]]
    average = _position_average(partial, settings, input_device(model))
    rank, world = _distributed() if distributed is not False else (0, 1)
    if world > 1:
        if path is not None or on_text is not None:
            raise ValueError("checkpoint= and on_text= are not supported in a multi-process run yet: measure in one "
                             "process, or without them.")
        todo = todo[rank::world]  # each process measures a strided shard of the texts
    used_batch_size, since_save, done = batch_size, 0, len(texts) - len(todo)
    bar = tqdm(total=len(texts), initial=done, desc=progress_label(label or model_name(model)), unit="text",
               disable=not show_progress)
    pending: _Pending | None = None

    def recorded() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(texts))

    try:
        for batch in iter_hidden_states(model, [encodings[i] for i in todo], pad_token_id=_pad_id(tokenizer),
                                        batch_size=batch_size, layers=settings.layers,
                                        include_logits_layer=settings.include_logits_layer):
            if partial is None:
                partial = PartialMeasurement(token_counts, batch.layer_indices, batch.n_entries, settings.bins,
                                             _column_names(settings))
            if pending is None:
                pending = _Pending(partial, settings, recorded)
            used_batch_size = min(used_batch_size, batch.batch_size or batch_size)
            for position, text_index in ((p, todo[i]) for p, i in enumerate(batch.text_indices)):
                strips = cosine_strips(batch.text(position))
                pending.add(text_index, strips)
                if average is not None:
                    average.add(strips)
                if on_text is not None:  # the callback sees checked numbers: this text's come to the host now
                    pending.flush()
                    on_text(text_index, strips.full())
                del strips
            pending.flush()
            bar.update(len(batch.text_indices))
            since_save += len(batch.text_indices)
            if path is not None and since_save >= checkpoint_every:
                partial.position = None if average is None or average.total is None else average.state()
                partial.save(path, key)
                since_save = 0
            del batch
    finally:
        bar.close()
    if partial is not None and average is not None and average.total is not None:
        partial.position = average.state()
    if world > 1:
        partial = _gather(partial, token_counts)
    assert partial is not None and partial.done.all()
    if path is not None and path.exists():
        path.unlink()
    n_entries = partial.n_entries
    meta = {
        "model_name": model_name(model),
        "model_class": type(model).__name__,
        "n_parameters": _n_parameters(model),
        "n_layers": n_entries - 1 - int(settings.include_logits_layer),
        "n_entries": n_entries,
        "include_logits_layer": settings.include_logits_layer,
        "max_length": settings.max_length,
        "batch_size": used_batch_size,
        "bins": settings.bins,
        "include_diagonal": settings.include_diagonal,
        "position_average": settings.position_average,
        "quantiles": list(QUANTILES),
        "model_dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "device": str(input_device(model)),
        "corpus": "texts",
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    result = _result(partial, token_counts, texts, tokens, settings, meta)
    if partial.position is not None:
        result.cossim_by_layer = PositionAverage.from_state(*partial.position).mean().float().numpy()
    return result


def resolve_model(model: Any, tokenizer: Any) -> tuple[torch.nn.Module, Any]:
    """Accept a loaded model + tokenizer, or a name for :func:`nb_condense.measurement.models.load_model`."""
    from .models import load_model, load_tokenizer

    if isinstance(model, str):
        return load_model(model, tokenizer=tokenizer)
    if tokenizer is None:
        raise ValueError("A tokenizer is required with a loaded model: measure(model, tokenizer, ...).")
    return model, load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer


@with_options_signature(TextSource, MeasureSettings)
def measure(
    model: torch.nn.Module | str,
    tokenizer: Any = None,
    *,
    settings: MeasureSettings | None = None,
    source: TextSource | None = None,
    keep_texts: bool = True,
    show_progress: bool = True,
    progress: Progress | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    **options: Unpack[MeasureOptions],
) -> CondensationResult:
    """Measure how token embeddings condense, layer by layer.

    Parameters
    ----------
    model, tokenizer
        A Hugging Face model and its tokenizer, or a name (hub id, folder, ``"embedded"``,
        ``"random:<spec>"``; see :func:`nb_condense.measurement.models.load_model`) with ``tokenizer=None``.
    settings, source
        A :class:`~nb_condense.measurement.settings.MeasureSettings` (how texts become histograms) and a
        :class:`~nb_condense.measurement.settings.TextSource` (which texts); keyword ``options`` override their fields.
    keep_texts
        Keep the texts and their tokens in the result (needed by ``tokens()`` and the Tokens view).
    show_progress, progress
        A tqdm bar; a callback ``progress(done, total)`` after each text.
    checkpoint, checkpoint_every
        A file to save the partial measurement to every ``checkpoint_every`` texts; rerunning the same
        call after an interruption resumes from it (no text measured twice) and deletes it at the end.
    **options
        Any field of ``TextSource`` (``texts``, ``dataset``, ``n_texts``, ``min_word_count``,
        ``max_word_count``, ``seed``) or ``MeasureSettings`` (``max_length``, ``batch_size``, ``bins``,
        ``include_diagonal``, ``layers``, ``include_logits_layer``, ``effective_rank``); see their docs.

    Returns
    -------
    CondensationResult
        Per-text histograms ``[text, layer, bin]``, statistics (``to_frame()``), ``trend()``, ``save()``.
    """
    setting_options, source_options = split_options(options, where="measure()")
    settings = merge_settings(settings, setting_options)
    source = TextSource(**source_options) if source is None else source.replace(**source_options)
    texts, corpus = source.resolve()
    label = model if isinstance(model, str) else None  # the name the caller used ("embedded", a hub id)
    model, tokenizer = resolve_model(model, tokenizer)
    return measure_texts(model, tokenizer, texts, settings, show_progress=show_progress, progress=progress,
                         metadata=corpus, keep_texts=keep_texts, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every, label=label)
