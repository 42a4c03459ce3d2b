"""Running a measurement's plan: batched forward passes, each text reduced on its device, checkpoints on the way.

Memory does not grow with the number of texts beyond ``texts x layers x bins`` counts and one float per token and
layer: each batch's hidden states and each text's cosine matrices are reduced and freed before the next batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .binning import avoids_sync
from .extract import HiddenStates, input_device, iter_hidden_states
from .metrics import CosineStrips, PositionAverage, cosine_strips, text_layer_statistics
from .partial import PartialMeasurement
from .plan import MeasurementPlan
from .settings import MeasureSettings

__all__ = ["Progress", "column_names", "progress_label", "run_measurement"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called after each text; raising from it stops the measurement."""
OnText = Callable[[int, torch.Tensor], None]
"""``on_text(text_index, cos)``: each text's cosine matrices ``[layer, n, n]`` before they are freed."""


def progress_label(name: str, width: int = 40) -> str:
    """A measurement bar's description: ``condensation · <name>``, the name cut to ``width`` characters."""
    name = " ".join(str(name).split())
    return f"condensation · {name if len(name) <= width else name[:width - 1] + '…'}"


def column_names(settings: MeasureSettings) -> list[str]:
    """The statistics measured per text and layer besides the histogram."""
    return ["mean", "std"] + (["effective_rank"] if settings.effective_rank else [])


def _check_finite(finite: np.ndarray, text_index: int, layer_indices: Sequence[int]) -> None:
    """Raise, naming the text and the first layer, unless every layer's flag in ``finite`` is set."""
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"The model produced non-finite hidden states (NaN/inf) for texts[{text_index}] at "
            f"layer {layer_indices[bad]}; check the model's dtype and weights."
        )


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
        layers, bins, names = len(self.partial.layer_indices), self.settings.bins, column_names(self.settings)
        ends = np.cumsum([layers * (1 + bins + len(names) + n) for _, n, _ in texts])
        for (text_index, n, _), packed in zip(texts, np.split(host, ends[:-1])):
            finite, counts, columns, token_means = np.split(packed, layers * np.cumsum([1, bins, len(names)]))
            _check_finite(finite == 1, text_index, self.partial.layer_indices)
            self.partial.record(text_index, counts.reshape(layers, bins).astype(np.int64),
                                dict(zip(names, columns.reshape(len(names), layers))),
                                token_means.reshape(layers, n).astype(np.float32))
            self.recorded()


@dataclass
class _Run:
    """The loop's state: the measurement filled so far, the running position average, texts done and since saved."""

    plan: MeasurementPlan
    progress: Progress | None
    on_text: OnText | None
    done: int
    average: PositionAverage | None = None
    pending: _Pending | None = None
    since_save: int = 0

    def recorded(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.plan.texts))

    def start(self, batch: HiddenStates) -> _Pending:
        """The pending texts' buffer, opening the measurement on the first batch (its layers are known then)."""
        plan = self.plan
        if plan.partial is None:
            s = plan.settings
            plan.partial = PartialMeasurement(plan.token_counts, batch.layer_indices, batch.n_entries, s.bins,
                                              column_names(s))
        if self.pending is None:
            self.pending = _Pending(plan.partial, plan.settings, self.recorded)
        return self.pending

    def reduce(self, batch: HiddenStates) -> None:
        """Reduce each text of ``batch`` to its numbers (and the position average); bring them to the host."""
        pending = self.start(batch)
        for position, text_index in ((p, self.plan.todo[i]) for p, i in enumerate(batch.text_indices)):
            strips = cosine_strips(batch.text(position))
            pending.add(text_index, strips)
            if self.average is not None:
                self.average.add(strips)
            if self.on_text is not None:  # the callback sees checked numbers: this text's come to the host now
                pending.flush()
                self.on_text(text_index, strips.full())
            del strips
        pending.flush()

    def save_every(self, n_texts: int) -> None:
        """Save the checkpoint once ``checkpoint_every`` texts were measured since the last save."""
        plan = self.plan
        self.since_save += n_texts
        if plan.checkpoint is not None and plan.partial is not None and self.since_save >= plan.checkpoint_every:
            plan.partial.position = self.position_state()
            plan.partial.save(plan.checkpoint, plan.key or {})
            self.since_save = 0

    def position_state(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self.average is None or self.average.total is None else self.average.state()


def _position_average(plan: MeasurementPlan, device: torch.device) -> PositionAverage | None:
    """The running position average to continue (restored from a checkpoint), or None when not measured."""
    if not plan.settings.position_average:
        return None
    partial = plan.partial
    if partial is not None and partial.position is not None:
        return PositionAverage.from_state(*partial.position, device=device)
    return PositionAverage()


def run_measurement(model: torch.nn.Module, plan: MeasurementPlan, *, label: str, show_progress: bool = True,
                    progress: Progress | None = None, on_text: OnText | None = None
                    ) -> tuple[PartialMeasurement, int]:
    """Measure the plan's texts; return the complete measurement (every process's shard) and the batch size used."""
    state = _Run(plan, progress, on_text, done=len(plan.texts) - len(plan.todo),
                 average=_position_average(plan, input_device(model)))
    used_batch_size = plan.batch_size
    s = plan.settings
    bar = tqdm(total=len(plan.texts), initial=state.done, desc=progress_label(label), unit="text",
               disable=not show_progress)
    try:
        for batch in iter_hidden_states(model, [plan.encodings[i] for i in plan.todo], pad_token_id=plan.pad_id,
                                        batch_size=plan.batch_size, layers=s.layers,
                                        include_logits_layer=s.include_logits_layer):
            used_batch_size = min(used_batch_size, batch.batch_size or plan.batch_size)
            state.reduce(batch)
            bar.update(len(batch.text_indices))
            state.save_every(len(batch.text_indices))
            del batch
    finally:
        bar.close()
    partial = plan.partial
    if partial is not None and state.position_state() is not None:
        partial.position = state.position_state()
    if plan.world > 1:
        partial = _gather(partial, plan.token_counts)
    assert partial is not None and partial.done.all()
    if plan.checkpoint is not None and plan.checkpoint.exists():
        plan.checkpoint.unlink()
    return partial, used_batch_size


def _gather(partial: PartialMeasurement | None, token_counts: np.ndarray) -> PartialMeasurement:
    """Merge every process's shard so each process holds all texts (identical to a one-process run)."""
    shards: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(shards, None if partial is None else partial.shard())
    return PartialMeasurement.merge(shards, token_counts)
