"""The lab's training runs: the paper's optimiser recipe, pre-training, mid-training, distillation, perplexity.

All training goes through :class:`~nb_condense.training.trainer.DispersionTrainer` (a ``transformers.Trainer``).
A run without ``output_dir`` works in a temporary folder that is removed when the run ends, finished or not.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pandas as pd
import torch
import transformers
from transformers import TrainerCallback, TrainingArguments

from ..distillation import distillation_term
from ..forgetting import ActiveForgettingCallback, ActiveForgettingTrainer
from ..trainer import DispersionTrainer
from .data import lm_blocks

__all__ = [
    "NEFTUNE_ALPHA_GPT2", "NEFTUNE_ALPHA_QWEN3", "PAPER_MIDTRAINING", "PAPER_MIDTRAINING_DISPERSION",
    "PAPER_PRETRAINING", "continue_training", "distill", "perplexity", "pretrain",
]

# The paper's optimiser recipe (AdamW (0.9, 0.95), wd 0.1, cosine, warmup 0.2, clip 1.0); sizes scaled by the caller.
# Learning rates are single-process values: `pretrain` multiplies them by sqrt(world size), as the recipe does.
# Warm-up as a ratio of the steps: `warmup_ratio` in transformers < 5, a float `warmup_steps` from 5 on.
_WARMUP = {"warmup_ratio": 0.2} if "warmup_ratio" in TrainingArguments.__dataclass_fields__ else {"warmup_steps": 0.2}
PAPER_PRETRAINING: dict[str, Any] = dict(
    learning_rate=1e-5, adam_beta1=0.9, adam_beta2=0.95, weight_decay=0.1, lr_scheduler_type="cosine",
    max_grad_norm=1.0, **_WARMUP,
)
"""Controlled GPT-2 pre-training (Finding 2): lr 1e-5 x sqrt(world size) (the scaling is applied by
:func:`pretrain`), batch 16 x accumulation 8, 1024 tokens; the model is ``tiny_gpt2(n_inner=..., **PAPER_GPT2)``."""
PAPER_MIDTRAINING: dict[str, Any] = dict(
    PAPER_PRETRAINING, learning_rate=5e-5, per_device_train_batch_size=32, gradient_accumulation_steps=4,
    max_steps=1526, bf16=True,
)
"""GPT-2 mid-training recipe for a GPU: lr 5e-5 x sqrt(world size), 1024-token blocks, 131,072 tokens per step,
1526 steps (200M tokens); :func:`continue_training` adds :data:`PAPER_MIDTRAINING_DISPERSION`."""
PAPER_MIDTRAINING_DISPERSION: dict[str, Any] = {
    "dispersion_coeff": 0.1, "dispersion_variant": "angular_spread", "dispersion_loc": "all",
    "dispersion_options": {"clamp_threshold": 0.1},
}
"""The dispersion term of the GPT-2 mid-training recipe: angular spread, coeff 0.1, all layers, clamp 0.1."""
NEFTUNE_ALPHA_GPT2 = 1.0
"""NEFTune alpha of the paper's GPT-2 baseline: uniform noise U(-m, m), m = alpha / sqrt(S x H), added to the
input embeddings in training (``pretrain(..., neftune_noise_alpha=NEFTUNE_ALPHA_GPT2)``)."""
NEFTUNE_ALPHA_QWEN3 = 5.0
"""NEFTune alpha of the paper's Qwen3 baseline."""


def _history(trainer: DispersionTrainer) -> pd.DataFrame:
    rows = [r for r in trainer.state.log_history if "loss" in r and "ce_loss" in r]
    parts = [k for k in trainer._parts if k not in ("steps", "ce_loss", "dispersion_loss")]  # e.g. distillation
    return pd.DataFrame(rows, columns=["step", "loss", "ce_loss", "dispersion_loss", *parts, "learning_rate"])


@contextlib.contextmanager
def _output_dir(output_dir: str | None) -> Iterator[str]:
    """The run's output folder: the one given (kept), else a temporary one removed when the run ends."""
    if output_dir is not None:
        yield output_dir
        return
    with tempfile.TemporaryDirectory(prefix="nb_condense_", ignore_cleanup_errors=True) as folder:
        yield folder


def _training_arguments(steps: int, batch_size: int, learning_rate: float, seed: int, output_dir: str,
                        overrides: dict[str, Any]) -> TrainingArguments:
    """The paper's optimiser recipe at laptop size; any TrainingArguments field can be overridden.

    ``learning_rate`` is the single-process value: with N processes (the Trainer's ``world_size``, from
    accelerate / torch.distributed / ``WORLD_SIZE``) the optimizer gets ``learning_rate x sqrt(N)``.
    """
    settings = {**PAPER_PRETRAINING, "learning_rate": learning_rate, "per_device_train_batch_size": batch_size,
                "max_steps": steps, "logging_steps": max(1, steps // 20), "report_to": [], "save_strategy": "no",
                "seed": seed, "data_seed": seed, "dataloader_pin_memory": torch.cuda.is_available(), **overrides}
    args = TrainingArguments(output_dir=output_dir, **settings)
    args.learning_rate = settings["learning_rate"] * math.sqrt(args.world_size)
    return args


def pretrain(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    steps: int = 200,
    batch_size: int = 8,
    block_size: int = 128,
    learning_rate: float = 1e-3,
    dispersion_coeff: float = 0.0,
    dispersion_variant: str = "angular_spread",
    dispersion_loc: str = "all",
    dispersion_options: dict[str, Any] | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    seed: int = 0,
    output_dir: str | None = None,
    **training_args: Any,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train ``model`` on packed blocks of ``texts`` for ``steps`` steps; returns the model and its log frame.

    The optimiser follows the paper (AdamW (0.9, 0.95), wd 0.1, cosine, warmup 0.2, clip 1.0) with a
    laptop-sized learning rate, multiplied by sqrt(world size) in a multi-process run as in the recipe;
    any ``TrainingArguments`` field can be overridden by keyword (e.g. ``neftune_noise_alpha=``
    :data:`NEFTUNE_ALPHA_GPT2` for the NEFTune baseline). An
    :class:`~nb_condense.training.forgetting.ActiveForgettingCallback` among ``callbacks`` trains with
    :class:`~nb_condense.training.forgetting.ActiveForgettingTrainer` (the embedding's own schedule).
    Without ``output_dir`` the Trainer works in a temporary folder, removed when the run ends.
    """
    forgetting = [c for c in callbacks if isinstance(c, ActiveForgettingCallback)]
    if len(forgetting) > 1:
        raise ValueError(f"Pass at most one ActiveForgettingCallback in callbacks, got {len(forgetting)}.")
    kind, extra = (ActiveForgettingTrainer, {"forgetting": forgetting[0]}) if forgetting else (DispersionTrainer, {})
    with _output_dir(output_dir) as folder:
        trainer = kind(  # processing_class: what callbacks receive as the tokenizer (active forgetting's pad row)
            model=model, args=_training_arguments(steps, batch_size, learning_rate, seed, folder, training_args),
            train_dataset=lm_blocks(texts, tokenizer, block_size), processing_class=tokenizer,
            data_collator=transformers.default_data_collator, dispersion_coeff=dispersion_coeff,
            dispersion_variant=dispersion_variant, dispersion_loc=dispersion_loc,
            dispersion_options=dispersion_options, callbacks=list(callbacks), **extra,
        )
        trainer.train()
    return cast(torch.nn.Module, trainer.model), _history(trainer)


def continue_training(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str], **kwargs: Any
                      ) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Mid-training of a pretrained model: :func:`pretrain` with the paper's mid-training settings.

    :data:`PAPER_MIDTRAINING` (meant for a GPU) and the recipe's dispersion term
    (:data:`PAPER_MIDTRAINING_DISPERSION`: coeff 0.1, all layers, clamp 0.1); override any of them by
    keyword, e.g. ``steps=50`` or ``dispersion_coeff=0`` for the CE-only run. ``dispersion_options``
    given here are merged over the recipe's clamp.
    """
    preset = {**PAPER_MIDTRAINING, **PAPER_MIDTRAINING_DISPERSION}
    preset["steps"] = preset.pop("max_steps")
    preset["batch_size"] = preset.pop("per_device_train_batch_size")
    if not torch.cuda.is_available():
        preset.pop("bf16")
    options = {**PAPER_MIDTRAINING_DISPERSION["dispersion_options"], **(kwargs.pop("dispersion_options", None) or {})}
    return pretrain(model, tokenizer, texts, **{**preset, **kwargs, "dispersion_options": options})


class _DistillationTrainer(DispersionTrainer):
    def __init__(self, *args: Any, teacher: torch.nn.Module, temperature: float, alpha: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.teacher, self.temperature, self.alpha = teacher.eval(), temperature, alpha

    def _reset_parts(self) -> None:
        super()._reset_parts()
        self._parts["distillation_loss"] = 0.0  # logged beside ce_loss and dispersion_loss

    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if not model.training:
            return (loss, outputs) if return_outputs else loss
        with torch.no_grad():
            teacher_logits = self.teacher(input_ids=inputs["input_ids"],
                                          attention_mask=inputs.get("attention_mask")).logits
        kd = distillation_term(outputs.logits, teacher_logits.to(outputs.logits.device), self.temperature)
        self._parts["distillation_loss"] = self._parts["distillation_loss"] + kd.detach() / self._accumulation_steps()
        total = self.alpha * loss + (1 - self.alpha) * self._accumulation_share(kd, num_items_in_batch)
        return (total, outputs) if return_outputs else total


def distill(
    teacher: torch.nn.Module,
    student: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
    steps: int = 200,
    batch_size: int = 8,
    block_size: int = 128,
    learning_rate: float = 1e-3,
    callbacks: Sequence[TrainerCallback] = (),
    seed: int = 0,
    output_dir: str | None = None,
    **training_args: Any,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Logit distillation: ``alpha x (LM loss [+ dispersion]) + (1 - alpha) x T^2 x KL(teacher_T || student_T)``.

    Teacher and student must share the tokenizer's vocabulary. Returns the student and its log frame, whose
    ``distillation_loss`` column (the second term, before its weight) sits beside ``ce_loss`` and
    ``dispersion_loss``; ``callbacks`` go to the Trainer. Without ``output_dir`` the Trainer works in a temporary
    folder, removed when the run ends.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}.")
    teacher_vocab, student_vocab = cast(Any, teacher).config.vocab_size, cast(Any, student).config.vocab_size
    if teacher_vocab != student_vocab:
        raise ValueError(f"Teacher vocabulary {teacher_vocab} != student {student_vocab}.")
    dispersion = {k: training_args.pop(k) for k in list(training_args) if k.startswith("dispersion_")}
    with _output_dir(output_dir) as folder:
        args = _training_arguments(steps, batch_size, learning_rate, seed, folder, training_args)
        trainer = _DistillationTrainer(model=student, args=args, train_dataset=lm_blocks(texts, tokenizer, block_size),
                                       teacher=teacher, temperature=temperature, alpha=alpha,
                                       callbacks=list(callbacks), **{"dispersion_coeff": 0.0, **dispersion})
        trainer.train()
    return cast(torch.nn.Module, trainer.model), _history(trainer)


def perplexity(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str], block_size: int = 128,
               batch_size: int = 8) -> float:
    """Perplexity of ``model`` on packed blocks of held-out ``texts`` (exp of the mean token cross-entropy)."""
    blocks = lm_blocks(texts, tokenizer, block_size)
    device = cast(Any, model).get_input_embeddings().weight.device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(blocks), batch_size):
                ids = blocks[start : start + batch_size]["input_ids"].to(device)
                logits = model(input_ids=ids).logits[:, :-1].float()
                loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten(), reduction="sum")
                total += float(loss)
                count += ids[:, 1:].numel()
    finally:
        model.train(was_training)
    return math.exp(total / count)
