"""The measurement's entry points: :func:`measure` (a model and a source of texts) and :func:`measure_texts`.

A measurement is planned (:mod:`~nb_condense.measurement.plan`: texts checked and tokenized, the batch size, a
resumed checkpoint, this process's shard), run (:mod:`~nb_condense.measurement.run`: the batched forward passes,
reduced on the fly) and assembled (:mod:`~nb_condense.measurement.assemble`: statistics and metadata).

Example
-------
The last layer's mean cosine of a text is the mean of its tokens' off-diagonal cosine similarities there:

>>> import numpy as np, torch
>>> import nb_condense as nbc
>>> from nb_condense.measurement.models import load_model
>>> model, tokenizer = load_model("embedded")
>>> texts = ["The river carried sand to the sea, and the sea gave it back as beaches.",
...          "A small lamp burned in the window while the rain fell on the quiet street."]
>>> result = nbc.measure(model, tokenizer, texts=texts, max_length=64, show_progress=False)
>>> result.histograms.shape                                     # [text, layer, bin]
(2, 7, 128)
>>> with torch.no_grad():
...     last = model(**tokenizer(texts[0], return_tensors="pt"), output_hidden_states=True).hidden_states[-1][0]
>>> unit = last.numpy() / np.linalg.norm(last.numpy(), axis=1, keepdims=True)
>>> cos, n = unit @ unit.T, len(unit)
>>> plain = (cos.sum() - np.trace(cos)) / (n * (n - 1))
>>> measured = result.stats.query("text == 0 and layer == 6")["mean"].item()
>>> bool(np.isclose(measured, plain, atol=1e-5))
True

The trend's rho is Spearman's correlation of the pooled layer means with depth:

>>> from scipy.stats import spearmanr
>>> bool(np.isclose(result.trend().spearman_rho, spearmanr(result.layers, result.layer_means).statistic))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from typing_extensions import Unpack

from ..core.result import CondensationResult
from ._options import MeasureOptions
from .assemble import assemble_result, model_name
from .plan import plan_measurement
from .run import Progress, progress_label, run_measurement
from .settings import (
    MeasureSettings,
    TextSource,
    merge_settings,
    split_options,
    with_options_signature,
)

__all__ = ["measure", "measure_texts", "model_name", "progress_label", "resolve_model"]


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
    """Measure fixed ``texts`` with ``settings`` (the engine behind :func:`measure`): plan, run, assemble.

    ``progress(done, total)`` is called after each text (raise from it to stop). ``on_text(text_index, cos)``
    receives each text's cosine matrices ``[layer, n, n]`` before they are freed. ``keep_texts=False`` keeps
    neither the texts nor their tokens. With ``checkpoint`` (a file path), the partial measurement is saved
    every ``checkpoint_every`` texts and, when the file exists for the same texts, settings and model, only
    the texts not yet measured are run; the file is removed once the measurement is complete.
    ``distributed``: ``None`` shards the texts over the processes of an initialised torch.distributed group
    (every process must call this), ``False`` measures all texts in this process alone. ``label`` names the
    progress bar (default: the model's name), so that several measurements in one cell tell which is which.
    """
    plan = plan_measurement(model, tokenizer, texts, settings if settings is not None else MeasureSettings(),
                            keep_texts=keep_texts, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                            distributed=distributed, streaming=on_text is not None)
    partial, batch_size = run_measurement(model, plan, label=label or model_name(model), show_progress=show_progress,
                                          progress=progress, on_text=on_text)
    return assemble_result(model, plan, partial, batch_size, metadata)


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
