"""Active forgetting (Chen et al. 2023), the paper's second baseline: periodically re-initialised input embeddings.

Three parts work together, as in the paper's GPT-2 recipe:

* :class:`ActiveForgettingCallback` re-draws the input embedding matrix every ``every_k_steps`` steps
  from N(0, ``std``), zeroes the tokenizer's pad row (the EOS row when the tokenizer has no pad token,
  as for GPT-2) and drops the embedding's Adam moments and step count;
* the embedding parameters get their own optimizer parameter group, whose learning rate follows
  :class:`EmbeddingSchedule` (peak 5e-5, linear warm-up over 8 % then linear decay, replayed
  ``T // every_k_steps`` times faster than the run: the "plasticity index"), while the body keeps
  the Trainer's schedule (cosine with warm-up in the recipe);
* :class:`ActiveForgettingTrainer` builds that group and schedule through the Trainer's own
  ``create_optimizer`` / ``create_scheduler``. :func:`nb_condense.training.pretrain` uses it whenever
  an :class:`ActiveForgettingCallback` is among its callbacks.

Example
-------
>>> from nb_condense.training.forgetting import EmbeddingSchedule
>>> schedule = EmbeddingSchedule(total_steps=100, every_k_steps=50)   # replayed twice: index = 2 n mod 100
>>> [round(schedule.multiplier(step), 3) for step in (1, 4, 8, 25, 49, 50, 51)]
[0.25, 1.0, 0.913, 0.543, 0.022, 0.0, 0.25]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from .trainer import DispersionTrainer

logger = logging.getLogger(__name__)

__all__ = ["EMBEDDING_GROUP", "ActiveForgettingCallback", "ActiveForgettingTrainer", "EmbeddingSchedule"]

EMBEDDING_GROUP = "input_embedding"
"""``name`` of the optimizer parameter group that holds the input embedding under active forgetting."""


@dataclass(frozen=True)
class EmbeddingSchedule:
    """The embedding's learning-rate multiplier under active forgetting (the reference's plasticity schedule).

    Optimizer step ``n`` (1-based) of a ``total_steps`` run reads the schedule at the index
    ``(n x (total_steps // every_k_steps)) mod total_steps``: a linear warm-up over the first
    ``int(warmup_ratio x total_steps)`` indices, then a linear decay to 0 at ``total_steps``. With
    ``every_k_steps`` dividing ``total_steps`` the schedule restarts right after every reset.
    """

    total_steps: int
    every_k_steps: int
    warmup_ratio: float = 0.08

    def __post_init__(self) -> None:
        if self.every_k_steps > self.total_steps:
            raise ValueError(
                f"ActiveForgettingCallback(every_k_steps={self.every_k_steps}) is more than the {self.total_steps} "
                f"training steps: the embeddings would never be reset and their schedule (replayed "
                f"{self.total_steps} // {self.every_k_steps} = 0 times) would freeze them. Lower every_k_steps."
            )
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"embedding_warmup_ratio must be in [0, 1), got {self.warmup_ratio}.")

    def multiplier(self, step: int) -> float:
        """Multiplier of the peak learning rate for optimizer step ``step`` (1-based)."""
        total = self.total_steps
        index = (step * (total // self.every_k_steps)) % total
        warmup = int(self.warmup_ratio * total)
        if index < warmup:
            return index / warmup
        return max(0.0, (total - index) / max(1, total - warmup))

    def __call__(self, completed_steps: int) -> float:
        """``LambdaLR`` form: the multiplier for the step that follows ``completed_steps`` steps."""
        return self.multiplier(completed_steps + 1)


def _pad_row(tokenizer: Any) -> int | None:
    """The tokenizer's pad id, else its EOS id (GPT-2: pad = eos); ``None`` when it defines neither."""
    tokenizer = getattr(tokenizer, "tokenizer", tokenizer)  # a multimodal processor carries its tokenizer
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, list):  # several EOS ids: the first is the one that pads
            value = value[0] if value else None
        if value is not None:
            return int(value)
    return None


class ActiveForgettingCallback(TrainerCallback):
    """Active forgetting (Chen et al. 2023): every ``every_k_steps`` steps re-initialise the input embeddings.

    Resets happen strictly before the last training step, never on it.

    Weights are drawn from N(0, ``std``) with a local generator (the global RNG is untouched; every
    process of a multi-process run draws the same matrix), the pad row is zeroed and the embedding's
    optimizer state (Adam moments and step) is dropped. The pad row is ``pad_token_id`` when given,
    else that of ``tokenizer`` or, failing that, of the Trainer's ``processing_class``; a tokenizer
    without a pad token gives its EOS row (GPT-2, whose pad is EOS in the recipe).

    Train with :func:`nb_condense.training.pretrain` (or :class:`ActiveForgettingTrainer`): the
    embedding then gets its own parameter group with peak learning rate ``embedding_peak_lr`` on
    :class:`EmbeddingSchedule`; any other Trainer raises at the start of training. With tied
    input/output embeddings (GPT-2) the LM head is the same tensor and is reset too: the reference
    recipe's behaviour, kept on purpose.
    """

    def __init__(self, every_k_steps: int = 1000, std: float = 0.02, seed: int = 0, *,
                 embedding_peak_lr: float = 5e-5, embedding_warmup_ratio: float = 0.08, tokenizer: Any = None,
                 pad_token_id: int | None = None) -> None:
        if every_k_steps < 1:
            raise ValueError(f"every_k_steps must be >= 1, got {every_k_steps}.")
        if embedding_peak_lr <= 0:
            raise ValueError(f"embedding_peak_lr must be > 0, got {embedding_peak_lr}.")
        self.every_k_steps, self.std = every_k_steps, std
        self.embedding_peak_lr, self.embedding_warmup_ratio = embedding_peak_lr, embedding_warmup_ratio
        self.tokenizer, self.pad_token_id = tokenizer, pad_token_id
        self.generator = torch.Generator().manual_seed(seed)
        self.resets: list[int] = []
        self._pad: int | None = None

    def resolve_pad_row(self, processing_class: Any = None) -> int:
        """The embedding row to zero: ``pad_token_id``, else the tokenizer's pad (or EOS) id."""
        if self.pad_token_id is not None:
            return int(self.pad_token_id)
        tokenizer = self.tokenizer if self.tokenizer is not None else processing_class
        if tokenizer is None:
            raise ValueError("ActiveForgettingCallback cannot tell which embedding row is padding: pass tokenizer= or "
                             "pad_token_id= to it, or processing_class=tokenizer to the Trainer (pretrain does).")
        pad = _pad_row(tokenizer)
        if pad is None:
            raise ValueError(f"The tokenizer {type(tokenizer).__name__} has no pad token and no EOS token, so "
                             "ActiveForgettingCallback cannot pick the row to zero: pass pad_token_id=.")
        return pad

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, model: Any = None,
                       processing_class: Any = None, optimizer: Any = None, **kwargs: Any) -> None:
        """Find the row to zero (the tokenizer's pad, else EOS) before the first step."""
        pad = self.resolve_pad_row(processing_class)
        rows = model.get_input_embeddings().weight.shape[0]
        if not 0 <= pad < rows:
            raise ValueError(f"Pad row {pad} is outside the input embedding's {rows} rows: check the tokenizer "
                             "matches the model, or pass pad_token_id=.")
        groups = [] if optimizer is None else [g.get("name") for g in optimizer.param_groups]
        if EMBEDDING_GROUP not in groups:
            raise ValueError("ActiveForgettingCallback needs the embedding learning-rate schedule of the recipe, and "
                             "this Trainer's optimizer has no input-embedding group: train with "
                             "nb_condense.training.pretrain(..., callbacks=[...]) or nb_condense.training.forgetting."
                             "ActiveForgettingTrainer.")
        self._pad = pad
        max_steps = int(getattr(state, "max_steps", 0) or 0)
        if max_steps and max_steps % self.every_k_steps == 0:
            logger.info("ActiveForgettingCallback: no reset at the last step (%d): the trained model keeps the "
                        "embeddings it learnt; resets after steps %s.", max_steps,
                        list(range(self.every_k_steps, max_steps, self.every_k_steps)) or "none")

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, model: Any = None,
                    optimizer: Any = None, **kwargs: Any) -> None:
        """Every ``every_k_steps`` steps, strictly before the last, re-initialise the input embeddings.

        Their optimizer state is reset too; a reset on the last step would hand back a model with freshly drawn
        embeddings, so the last step never resets.
        """
        step = state.global_step
        if model is None or step == 0 or step % self.every_k_steps or step >= state.max_steps:
            return
        if self._pad is None:
            raise RuntimeError("ActiveForgettingCallback.on_train_begin did not run: the pad row is unknown.")
        weight = model.get_input_embeddings().weight
        fresh = torch.randn(weight.shape, generator=self.generator) * self.std
        fresh[self._pad] = 0.0
        with torch.no_grad():
            weight.copy_(fresh.to(weight.device, weight.dtype))
        if optimizer is not None:
            optimizer.state.pop(weight, None)  # Adam restarts: zero moments, step 0
        self.resets.append(state.global_step)


class ActiveForgettingTrainer(DispersionTrainer):
    """A :class:`~nb_condense.training.trainer.DispersionTrainer` whose input embedding has the forgetting schedule.

    ``forgetting`` is the :class:`ActiveForgettingCallback` (added to the callbacks if absent). The
    optimizer is the Trainer's own (``optim``, weight decay, betas) with the input embedding moved to
    a group of its own (``name`` :data:`EMBEDDING_GROUP`); the scheduler is the Trainer's own for the
    body and :class:`EmbeddingSchedule` x ``embedding_peak_lr`` for that group. ``dispersion_coeff``
    defaults to 0 here: the paper's baselines train with the LM loss alone.
    """

    def __init__(self, *args: Any, forgetting: ActiveForgettingCallback, **kwargs: Any) -> None:
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if not any(c is forgetting for c in callbacks):
            callbacks.append(forgetting)
        kwargs.setdefault("dispersion_coeff", 0.0)
        self.forgetting = forgetting
        super().__init__(*args, callbacks=callbacks, **kwargs)

    def create_optimizer(self, *args: Any, **kwargs: Any) -> torch.optim.Optimizer:
        """The Trainer's optimizer, with the input embeddings in a parameter group of their own."""
        if self.optimizer is not None and any(g.get("name") == EMBEDDING_GROUP for g in self.optimizer.param_groups):
            return self.optimizer
        if self.optimizer is not None:
            raise ValueError("ActiveForgettingTrainer builds its own optimizer (the embedding needs its own group): "
                             "do not pass optimizers=.")
        optimizer = super().create_optimizer(*args, **kwargs)
        embedding = self.accelerator.unwrap_model(self.model).get_input_embeddings().weight
        settings = None
        for group in optimizer.param_groups:  # nothing has stepped yet: the groups can still be rearranged
            kept = [p for p in group["params"] if p is not embedding]
            if len(kept) < len(group["params"]):
                settings = {k: v for k, v in group.items() if k != "params"}
                group["params"] = kept
        optimizer.param_groups[:] = [group for group in optimizer.param_groups if group["params"]]
        if settings is None:
            raise ValueError("The input embedding is not among the optimized parameters (frozen?): active "
                             "forgetting re-trains it, so it must require grad.")
        optimizer.add_param_group({**settings, "params": [embedding], "lr": self.forgetting.embedding_peak_lr,
                                   "name": EMBEDDING_GROUP})
        return optimizer

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        """The Trainer's schedule for the body, the plasticity schedule for the embedding group."""
        if getattr(self, "_forgetting_scheduler", None) is not None and self.lr_scheduler is not None:
            return self.lr_scheduler
        body = super().create_scheduler(num_training_steps, optimizer)
        if not isinstance(body, LambdaLR):  # a wrong lr_scheduler_type value, hence ValueError
            raise ValueError(  # noqa: TRY004
                f"Active forgetting combines per-group learning-rate functions and needs a LambdaLR schedule; "
                f"lr_scheduler_type={self.args.lr_scheduler_type!r} gives {type(body).__name__}. Use 'cosine' "
                "(the recipe) or 'linear'.")
        optimizer = body.optimizer
        schedule = EmbeddingSchedule(num_training_steps, self.forgetting.every_k_steps,
                                     self.forgetting.embedding_warmup_ratio)
        functions = [schedule if g.get("name") == EMBEDDING_GROUP else f
                     for g, f in zip(optimizer.param_groups, body.lr_lambdas)]
        self.lr_scheduler = self._forgetting_scheduler = LambdaLR(optimizer, functions)
        return self.lr_scheduler
