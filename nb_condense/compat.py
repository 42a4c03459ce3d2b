"""Drop-in replacements for the authors' package ``embedding-condensation`` (2.0).

``measure_embedding_condensation`` keeps its signature and defaults and returns a result whose
``cossim_by_layer`` equals the reference's position-averaged matrices, while streaming: memory is one
``[layer, S, S]`` running sum instead of every matrix of every repetition. It also accepts texts of
different lengths, and its result carries everything :func:`nb_condense.measure` gives.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from typing_extensions import Unpack

from .core.result import CondensationResult
from .core.summaries import matrix_density
from .measurement._options import DropInOptions
from .measurement.engine import measure_texts
from .measurement.settings import (
    MeasureSettings,
    TextSource,
    check_texts,
    positive_int,
    split_options,
    with_options_signature,
)

__all__ = ["DropInResult", "measure_embedding_condensation", "plot_similarity_heatmap"]


@dataclass(eq=False)
class DropInResult(CondensationResult):
    """What :func:`measure_embedding_condensation` returns: a :class:`CondensationResult` plus the reference's chart.

    ``chart`` is the Altair heatmap the reference draws (``plot=True``), or None (``plot=False``). Everything
    else is the core result (saved and loaded as a plain :class:`CondensationResult`; the chart is not saved).
    """

    chart: Any = field(default=None, repr=False)

FIXED = {"include_diagonal": True, "position_average": True}
"""Settings the reference fixes: every entry of every cosine matrix counts (the diagonal included), and the
matrices are averaged position by position over the texts."""


def plot_similarity_heatmap(
    cossim_matrix_by_layer: Sequence[np.ndarray] | np.ndarray,
    save_path: str | Path | None = None,
    step: int = 1,
    bins: int = 128,
) -> Any:
    """Heatmap of per-layer cosine matrices (every entry, diagonal included), as the reference draws it.

    Returns the Altair chart; with ``save_path`` it is also written (PNG, SVG, PDF or HTML by suffix).
    Every ``step``-th layer is drawn, at x = layer / (n_layers - 1).
    """
    from .charts import save_chart
    from .charts.heatmaps import density_heatmap

    step = positive_int("step", step)
    bins = positive_int("bins", bins)
    matrices = [np.asarray(m) for m in cossim_matrix_by_layer]
    if not matrices:
        raise ValueError("cossim_matrix_by_layer is empty.")
    denominator = max(len(matrices) - 1, 1)
    chosen = list(range(0, len(matrices), step))
    # numpy.histogram(density=True), as the reference
    density = matrix_density(np.stack([matrices[i] for i in chosen]), bins)
    chart = density_heatmap(density, np.array(chosen) / denominator, layers=np.array(chosen),
                            title="Position-averaged cosine matrices",
                            subtitle="every entry, diagonal included: the reference's heatmap").chart
    if save_path is not None:
        save_chart(chart, save_path)
    return chart


@with_options_signature(MeasureSettings, exclude=("max_length", "include_logits_layer", "batch_size",
                                                  *FIXED))
def measure_embedding_condensation(
    model: torch.nn.Module,
    tokenizer: Any,
    *,
    texts: Sequence[str] | None = None,
    dataset: str = "wikipedia",
    repetitions: int = 100,
    max_length: int = 512,
    min_word_count: int = 1024,
    max_word_count: int = 1280,
    include_logits_layer: bool = False,
    plot: bool = True,
    save_path: str | Path | None = "./test_embedding_condensation.png",
    show_progress: bool = True,
    batch_size: int | str | None = None,
    **options: Unpack[DropInOptions],
) -> DropInResult:
    """The reference measurement, streamed and batched; same arguments and defaults.

    ``result.cossim_by_layer`` (``[n_entries, S, S]``, float32) is the element-wise mean of the per-text
    cosine matrices, diagonal included. Texts of different lengths are aligned at token 0 and each entry is
    averaged over the texts that have it (``S`` = longest text).

    Differences from the reference, all deliberate:

    - ``texts``: each text is measured once. With more texts than ``repetitions`` the first
      ``repetitions`` are used; with fewer, all of them are used once and a warning says so (the
      reference cycles through them, silently re-weighting).
    - ``plot=False`` writes nothing; ``plot=True, save_path=None`` draws the chart without writing
      it. The Altair chart is returned as ``result.chart``.
    - the model's train/eval mode and the global RNG are left as they were.
    - ``batch_size`` (extra) sets how many texts go through the model at once (default: 8 on an
      accelerator, 1 on a CPU); ``**options`` (extra) are further ``MeasureSettings`` fields (``bins``,
      ``layers``, ``effective_rank``). ``include_diagonal`` is fixed to True, as in the reference.
    """
    extra = _reference_options(options)
    repetitions = positive_int("repetitions", repetitions)
    chosen, corpus = _reference_texts(texts, repetitions, lambda: TextSource(
        dataset=dataset, n_texts=repetitions, min_word_count=min_word_count, max_word_count=max_word_count).resolve())
    settings = MeasureSettings(max_length=max_length, batch_size=batch_size, include_logits_layer=include_logits_layer,
                               **{**extra, **FIXED})
    result = measure_texts(model, tokenizer, chosen, settings, show_progress=show_progress,
                           metadata={**corpus, "layer_means": "position_average"})
    chart = None
    if plot and result.cossim_by_layer is not None:
        chart = plot_similarity_heatmap(result.cossim_by_layer, save_path=save_path)
    core = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return DropInResult(**core, chart=chart)


def _reference_options(options: Mapping[str, object]) -> dict[str, Any]:
    """The extra ``MeasureSettings`` fields the drop-in takes; the reference's fixed ones may not change."""
    extra, _ = split_options(options, where="measure_embedding_condensation()",
                             allowed=tuple(DropInOptions.__annotations__))
    for name, value in FIXED.items():
        if extra.get(name, value) != value:
            raise ValueError(f"measure_embedding_condensation() measures as the reference does, with {name}="
                             f"{value}; use nbc.measure(..., {name}={extra[name]!r}) for another setting.")
    return extra


def _reference_texts(texts: Sequence[str] | None, repetitions: int,
                     sample: Callable[[], tuple[list[str], dict[str, Any]]]) -> tuple[list[str], dict[str, Any]]:
    """The texts measured (at most ``repetitions``, each once) and the corpus metadata; sampled without ``texts``."""
    if texts is None:
        return sample()
    chosen = check_texts(texts)
    if len(chosen) < repetitions:
        warnings.warn(
            f"{len(chosen)} texts for repetitions={repetitions}: each text is measured once "
            f"({len(chosen)} repetitions), not cycled as in embedding-condensation.",
            UserWarning,
            stacklevel=3,
        )
    return chosen[:repetitions], {"corpus": "texts"}
