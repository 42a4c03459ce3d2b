"""Hugging Face Trainer integration: the dispersion loss as a Trainer add-on, condensation measured during training.

Two lines in a training script::

    from nb_condense import DispersionTrainer
    trainer = DispersionTrainer(model=model, args=args, train_dataset=ds, dispersion_coeff=0.1)

Total loss = language-model loss + ``dispersion_coeff`` x :func:`~nb_condense.training.dispersion.dispersion_penalty`
(training mode only). Both parts are logged at every logging step as ``ce_loss`` and ``dispersion_loss``.
Nothing assumes one device: the Trainer (and ``accelerate launch``) place the model and batches.
NEFTune-style embedding noise is the Trainer's own ``TrainingArguments(neftune_noise_alpha=...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.utils.notebook import NotebookProgressCallback
from typing_extensions import Unpack

from ..measurement._options import SettingsOptions
from ..measurement.engine import measure_texts
from ..measurement.settings import (
    SETTINGS_FIELDS,
    MeasureSettings,
    check_texts,
    merge_settings,
    split_options,
    with_options_signature,
)
from .dispersion import DISPERSION_LOCATIONS, DispersionLoss, dispersion_penalty
from .views import TrainingView

__all__ = ["CondensationCallback", "DispersionTrainer"]

logger = logging.getLogger(__name__)


class _NotebookBarOnly(NotebookProgressCallback):
    """The Trainer's notebook progress bar without its loss table (the run prints its own loss line)."""

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        super().on_train_begin(args, state, control, **kwargs)  # type: ignore[no-untyped-call]
        if self.training_tracker is not None:
            self.training_tracker.inner_table = None  # a table appears only if a loss is still logged


class DispersionTrainer(Trainer):
    """A ``transformers.Trainer`` whose training loss adds a dispersion penalty on the hidden states.

    Parameters (besides the Trainer's)
    ----------------------------------
    dispersion_coeff
        Weight of the penalty (the paper's recipe: 0.1; 0 trains with the LM loss alone but still logs it).
    dispersion_variant, dispersion_loc
        Loss variant (``"angular_spread"`` ...) and layers (``"all"``, ``"last"``, ``"early_half"``,
        ``"late_half"``); see :class:`~nb_condense.training.dispersion.DispersionLoss`.
    dispersion_options
        Further :class:`DispersionLoss` arguments: ``tau``, ``eps``, ``clamp_threshold`` (0.1 in the
        GPT-2 recipe), ``margin``, ``max_tokens``, ``generator``.

    Gradient accumulation: the penalty is put on the same footing as the LM loss, whether the Trainer
    normalises the LM loss over the accumulated batch (models that accept ``num_items_in_batch``) or
    divides each micro-batch loss by the number of accumulation steps.
    """

    def __init__(
        self,
        *args: Any,
        dispersion_coeff: float = 0.1,
        dispersion_variant: str = "angular_spread",
        dispersion_loc: str = "all",
        dispersion_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if dispersion_coeff < 0:
            raise ValueError(f"dispersion_coeff must be >= 0, got {dispersion_coeff}.")
        if dispersion_loc not in DISPERSION_LOCATIONS:
            raise ValueError(f"Unknown dispersion_loc {dispersion_loc!r}; "
                             f"choose one of {', '.join(DISPERSION_LOCATIONS)}.")
        self.dispersion_loss = DispersionLoss(dispersion_variant, **(dispersion_options or {}))
        self.dispersion_coeff = float(dispersion_coeff)
        self.dispersion_loc = dispersion_loc
        self._reset_parts()
        super().__init__(*args, **kwargs)
        self._quiet_when_watched()

    def train(self, *args: Any, **kwargs: Any) -> Any:
        """``Trainer.train``; a named run first prints one header line saying which run the output below is.

        The name is ``TrainingArguments(run_name=...)``: e.g. a condition of a comparison, as
        ``pretrain(..., run_name=...)`` passes it.
        """
        name = self.args.run_name
        if name and self.is_world_process_zero():
            penalty = f", dispersion coeff {self.dispersion_coeff:g}" if self.dispersion_coeff else ""
            print(f"── {name}: {self.args.max_steps} steps, batch {self.args.per_device_train_batch_size}, "
                  f"learning rate {self.args.learning_rate:g}{penalty}")
        return super().train(*args, **kwargs)

    def _quiet_when_watched(self) -> None:
        """Drop the Trainer's own progress bars and loss tables when a live view shows the same.

        A callback with a true ``prints_its_own_loss`` attribute (the lessons' one-line progress) keeps the
        notebook's bar but not its "Step / Training Loss" table, which would stay empty under the bar.
        """
        callbacks = self.callback_handler.callbacks
        if any(isinstance(c, CondensationCallback) and c.monitor is not None for c in callbacks):
            for progress in (ProgressCallback, NotebookProgressCallback, PrinterCallback):
                self.remove_callback(progress)
        elif (any(getattr(c, "prints_its_own_loss", False) for c in callbacks)
              and any(type(c) is NotebookProgressCallback for c in callbacks)):
            self.remove_callback(NotebookProgressCallback)
            self.add_callback(_NotebookBarOnly)

    def _reset_parts(self) -> None:
        # running sums since the last log, kept as tensors: no device sync on the training hot path; a subclass
        # may add parts of its own (each logged under its key, as a mean per optimizer step)
        self._parts: dict[str, Any] = {"ce_loss": 0.0, "dispersion_loss": 0.0, "steps": 0.0}

    def _accumulation_steps(self) -> int:
        return int(getattr(self, "current_gradient_accumulation_steps", 1) or 1)

    def _scaled_for_accumulation(self, num_items_in_batch: Any) -> bool:
        """Whether the Trainer leaves this micro-batch's loss undivided (it is already normalised)."""
        flag = getattr(self, "loss_is_scaled_for_ga", None)
        if flag is not None:
            return bool(flag)
        return bool((self.model_accepts_loss_kwargs and num_items_in_batch is not None) or self.compute_loss_func)

    def _accumulation_share(self, term: torch.Tensor, num_items_in_batch: Any) -> torch.Tensor:
        """A per-micro-batch mean ``term`` scaled to weigh like the LM loss under gradient accumulation.

        When the Trainer leaves the LM loss undivided (it is already a share of the accumulated batch),
        the term is divided by the accumulation steps here; otherwise the Trainer divides the sum.
        """
        return term / self._accumulation_steps() if self._scaled_for_accumulation(num_items_in_batch) else term

    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        """LM loss plus ``dispersion_coeff`` x the dispersion penalty (training mode only)."""
        if not model.training:
            return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)
        ce, outputs = super().compute_loss(model, {**inputs, "output_hidden_states": True}, return_outputs=True,
                                           num_items_in_batch=num_items_in_batch)
        hidden = getattr(outputs, "hidden_states", None)
        if not hidden:
            raise ValueError(f"{type(model).__name__} returned no hidden states; the dispersion loss needs them.")
        penalty = dispersion_penalty(hidden, inputs.get("attention_mask"), self.dispersion_loc, self.dispersion_loss)
        total = ce + self.dispersion_coeff * self._accumulation_share(penalty, num_items_in_batch)
        steps = self._accumulation_steps()
        # for the logs: each micro-batch's share of the optimizer step's mean LM loss and penalty
        ce_share = ce.detach() if self._scaled_for_accumulation(num_items_in_batch) else ce.detach() / steps
        self._parts["ce_loss"] = self._parts["ce_loss"] + ce_share
        self._parts["dispersion_loss"] = self._parts["dispersion_loss"] + penalty.detach() / steps
        self._parts["steps"] += 1.0 / steps
        return (total, outputs) if return_outputs else total

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        """Add the mean ``ce_loss`` and ``dispersion_loss`` (and a subclass's parts) since the last training log."""
        if "loss" in logs and self._parts["steps"] > 0:
            keys = [k for k in self._parts if k != "steps"]
            values = torch.stack([torch.as_tensor(self._parts[k], dtype=torch.float32, device=self.args.device)
                                  for k in keys]) / self._parts["steps"]
            values = self.accelerator.reduce(values, reduction="mean") if self.accelerator.num_processes > 1 else values
            logs = {**logs, **{k: round(float(v), 6) for k, v in zip(keys, values, strict=True)}}
            self._reset_parts()
        super().log(logs, *args, **kwargs)


CALLBACK_DEFAULTS = {"max_length": 128}
"""Where the callback's settings differ from :class:`~nb_condense.measurement.settings.MeasureSettings`
(short held-out texts)."""


class CondensationCallback(TrainerCallback):
    """Measure condensation on fixed texts at step 0 and every ``every_n_steps`` steps.

    ``history`` is a tidy frame (``step, layer, layer_fraction, mean``) for plotting condensation vs
    training step (:func:`nb_condense.charts.training_history`); ``trend_history`` has one row per
    measurement (``step, spearman_rho, kendall_tau, last_layer_mean``). The same numbers go into the
    Trainer's ``log_history`` (keys ``condensation/...``). Measures on the main process only.

    ``monitor``: a live view the caller made, fed on the main process (any
    :class:`~nb_condense.training.views.TrainingView`). In a notebook pass ``monitor=nbc.TrainingMonitor()``: it
    shows the losses, the mean cosine per layer vs step and the latest heatmap, redrawn at every log and
    measurement while ``trainer.train()`` runs. ``live=True`` without a monitor (scripts, ``accelerate launch``)
    logs the same numbers instead (logger ``nb_condense.training.trainer``), on the main process only.

    ``settings`` / ``**options``: any :class:`~nb_condense.measurement.settings.MeasureSettings` field (``max_length``
    defaults to 128 here).
    """

    @with_options_signature(MeasureSettings, defaults=CALLBACK_DEFAULTS)
    def __init__(self, texts: Sequence[str], tokenizer: Any, every_n_steps: int = 100, *, live: bool = False,
                 monitor: TrainingView | None = None, settings: MeasureSettings | None = None,
                 **options: Unpack[SettingsOptions]) -> None:
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"every_n_steps must be a positive integer, got {every_n_steps!r}.")
        self.texts = check_texts(texts)
        self.tokenizer = tokenizer
        self.every_n_steps = every_n_steps
        setting_options, _ = split_options(options, where="CondensationCallback()", allowed=SETTINGS_FIELDS)
        self.settings = merge_settings(settings, setting_options, CALLBACK_DEFAULTS)
        self._layers: list[pd.DataFrame] = []
        self._trends: list[dict[str, float]] = []
        self._measured_steps: set[int] = set()
        if monitor is not None and not isinstance(monitor, TrainingView):
            raise TypeError(f"monitor must have start(), log(), measured() and done() (a TrainingView, e.g. "
                            f"nbc.TrainingMonitor()), got {type(monitor).__name__}.")
        self.live = bool(live) or monitor is not None
        self.monitor = monitor
        """The live view fed during training (given by the caller), or None."""
        self.latest: Any = None
        """The latest :class:`~nb_condense.CondensationResult` measured."""

    @property
    def history(self) -> pd.DataFrame:
        """Mean cosine per layer at each measured step: ``step, layer, layer_fraction, mean``."""
        columns = ["step", "layer", "layer_fraction", "mean"]
        return pd.concat(self._layers, ignore_index=True) if self._layers else pd.DataFrame(columns=columns)

    @property
    def trend_history(self) -> pd.DataFrame:
        """One row per measurement: ``step, spearman_rho, kendall_tau, last_layer_mean``."""
        return pd.DataFrame(self._trends, columns=["step", "spearman_rho", "kendall_tau", "last_layer_mean"])

    def _measure(self, step: int, model: torch.nn.Module, state: Any) -> None:
        if step in self._measured_steps or not state.is_world_process_zero:
            return
        self._measured_steps.add(step)
        result = measure_texts(model, self.tokenizer, self.texts, self.settings, show_progress=False,
                               keep_texts=False, distributed=False)  # main process only: no collectives
        self._layers.append(pd.DataFrame({"step": step, "layer": result.layers,
                                          "layer_fraction": result.layer_fractions, "mean": result.layer_means}))
        trend = result.trend_row()
        row = {"step": step, **{k: trend[k] for k in ("spearman_rho", "kendall_tau", "last_layer_mean")}}
        self._trends.append(row)
        state.log_history.append({f"condensation/{k}": v for k, v in row.items() if k != "step"} | {"step": step})
        self.latest = result
        if self.monitor is not None:
            self.monitor.measured(step, result)
        elif self.live:
            logger.info("step %d: condensation rho %.3f, last-layer mean cosine %.4f", step, row["spearman_rho"],
                        row["last_layer_mean"])

    def on_train_begin(self, args: Any, state: Any, control: Any, model: torch.nn.Module | None = None,
                       **kwargs: Any) -> None:
        """Start the live view (when one was given), then measure the model before training (step 0)."""
        if self.monitor is not None and state.is_world_process_zero:
            self.monitor.start(int(getattr(state, "max_steps", 0) or 0))
        if model is not None and state.global_step == 0:
            self._measure(0, model, state)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None,
               **kwargs: Any) -> None:
        """Send the losses of each training log to the live view (or the log, outside a notebook)."""
        if not self.live or not state.is_world_process_zero or not logs:
            return
        if self.monitor is not None:
            self.monitor.log(state.global_step, logs)
        elif "loss" in logs:
            logger.info("step %d: %s", state.global_step,
                        ", ".join(f"{k} {logs[k]:.4f}" for k in ("loss", "ce_loss", "dispersion_loss") if k in logs))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Mark the live view finished."""
        if self.monitor is not None and state.is_world_process_zero:
            self.monitor.done()

    def on_step_end(self, args: Any, state: Any, control: Any, model: torch.nn.Module | None = None,
                    **kwargs: Any) -> None:
        """Measure every ``every_n_steps`` optimizer steps."""
        if model is not None and state.global_step % self.every_n_steps == 0:
            self._measure(state.global_step, model, state)
