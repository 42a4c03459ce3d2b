"""The training lab: tiny models, tokenizers and packed data, pre-training / distillation, perplexity.

Everything runs on a laptop CPU in minutes on the builtin corpus, and on the paper's settings when given them
(:data:`PAPER_GPT2`, :data:`PAPER_PRETRAINING`, :data:`PAPER_MIDTRAINING`). All training goes through
:class:`~nb_condense.training.trainer.DispersionTrainer` (a ``transformers.Trainer``); the active-forgetting baseline
lives in :mod:`nb_condense.training.forgetting`. The experiments return
:class:`~nb_condense.core.result.CondensationResult`
objects (explore one with ``CondensationSession.from_result``).

Example
-------
>>> from nb_condense import training, sample_texts
>>> texts = sample_texts("builtin", 20, min_word_count=60, max_word_count=120)
>>> tokenizer = training.train_tokenizer(texts, vocab_size=300)
>>> model = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=len(tokenizer))
>>> model, history = training.pretrain(model, tokenizer, texts, steps=2, block_size=32,
...                                     disable_tqdm=True)  # doctest: +ELLIPSIS
{'loss': ...}
>>> list(history.columns)[:3]
['step', 'loss', 'ce_loss']
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd
import torch
import transformers
from transformers import AutoConfig, PreTrainedTokenizerFast, TrainerCallback, TrainingArguments

from ..core.result import CondensationResult
from ..measurement.engine import measure_texts
from ..measurement.models import random_model
from ..measurement.settings import MeasureSettings
from .distillation import distillation_term
from .forgetting import ActiveForgettingCallback, ActiveForgettingTrainer
from .trainer import DispersionTrainer

__all__ = [
    "LAPTOP_DROPOUT", "NEFTUNE_ALPHA_GPT2", "NEFTUNE_ALPHA_QWEN3", "PAPER_GPT2", "PAPER_MIDTRAINING",
    "PAPER_MIDTRAINING_DISPERSION", "PAPER_PRETRAINING", "ActiveForgettingCallback", "continue_training",
    "controlled_width_experiment", "distill", "distillation_experiment", "distillation_term", "lm_blocks",
    "perplexity", "pretrain", "tiny_gpt2", "tiny_llama", "train_tokenizer",
]

EOS = "<|endoftext|>"

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
LAPTOP_DROPOUT = 0.0
"""Dropout of :func:`tiny_gpt2` by default: off, so short laptop runs learn fast and train deterministically."""
PAPER_GPT2: dict[str, Any] = {"n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024, "vocab_size": 50257,
                              "dropout": 0.1}
"""The paper's controlled GPT-2 (Finding 2), for ``tiny_gpt2(n_inner=width, **PAPER_GPT2)``: GPT-2 small's
sizes and its dropout 0.1 (what ``GPT2Config()`` has), not the laptop default :data:`LAPTOP_DROPOUT`."""


def tiny_gpt2(n_layer: int = 4, n_embd: int = 64, n_head: int = 4, n_inner: int | None = None,
              vocab_size: int = 4096, n_positions: int = 256, seed: int = 0, dropout: float = LAPTOP_DROPOUT
              ) -> torch.nn.Module:
    """An untrained GPT-2 LM (``n_inner``: MLP width, default 4 x n_embd), seeded without touching the global RNG.

    ``dropout`` (residual, embedding and attention) defaults to :data:`LAPTOP_DROPOUT` = 0; GPT-2 and the
    paper's runs use 0.1 (:data:`PAPER_GPT2`). Id 0 is BOS, EOS and pad, as in :func:`train_tokenizer`.
    """
    config = AutoConfig.for_model(
        "gpt2", n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_inner=n_inner, vocab_size=vocab_size,
        n_positions=n_positions, resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
        bos_token_id=0, eos_token_id=0, pad_token_id=0,
    )
    return random_model(config, seed=seed, lm_head=True)


def tiny_llama(n_layer: int = 4, hidden_size: int = 64, n_head: int = 4, intermediate_size: int | None = None,
               vocab_size: int = 4096, max_positions: int = 256, seed: int = 0) -> torch.nn.Module:
    """An untrained Llama-style LM (RMSNorm, rotary positions, SwiGLU MLP)."""
    config = AutoConfig.for_model(
        "llama", num_hidden_layers=n_layer, hidden_size=hidden_size, num_attention_heads=n_head,
        num_key_value_heads=n_head, intermediate_size=intermediate_size or 4 * hidden_size, vocab_size=vocab_size,
        max_position_embeddings=max_positions, bos_token_id=0, eos_token_id=0, pad_token_id=0,
    )
    return random_model(config, seed=seed, lm_head=True)


def train_tokenizer(texts: Sequence[str], vocab_size: int = 4096) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts`` (id 0 = ``<|endoftext|>``, also used as pad)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < 260:
        raise ValueError(f"vocab_size must be >= 260 (256 bytes + specials), got {vocab_size}.")
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS, bos_token=EOS, pad_token=EOS,
                                   unk_token=EOS)


def lm_blocks(texts: Sequence[str], tokenizer: Any, block_size: int = 128) -> Any:
    """Packed language-model blocks (a ``datasets.Dataset``): texts joined with EOS, cut into ``block_size`` tokens."""
    import datasets

    eos = tokenizer.eos_token_id
    ids: list[int] = []
    for row in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids.extend(row)
        if eos is not None:
            ids.append(eos)
    n_blocks = len(ids) // block_size
    if n_blocks == 0:
        raise ValueError(f"The texts give {len(ids)} tokens, fewer than one block of {block_size}: add text.")
    blocks = [ids[i * block_size : (i + 1) * block_size] for i in range(n_blocks)]
    return datasets.Dataset.from_dict(
        {"input_ids": blocks, "attention_mask": [[1] * block_size] * n_blocks, "labels": blocks}
    ).with_format("torch")


def _history(trainer: DispersionTrainer) -> pd.DataFrame:
    rows = [r for r in trainer.state.log_history if "loss" in r and "ce_loss" in r]
    return pd.DataFrame(rows, columns=["step", "loss", "ce_loss", "dispersion_loss", "learning_rate"])


def _training_arguments(steps: int, batch_size: int, learning_rate: float, seed: int, output_dir: str | None,
                        overrides: dict[str, Any]) -> TrainingArguments:
    """The paper's optimiser recipe at laptop size; any TrainingArguments field can be overridden.

    ``learning_rate`` is the single-process value: with N processes (the Trainer's ``world_size``, from
    accelerate / torch.distributed / ``WORLD_SIZE``) the optimizer gets ``learning_rate x sqrt(N)``.
    """
    settings = {**PAPER_PRETRAINING, "learning_rate": learning_rate, "per_device_train_batch_size": batch_size,
                "max_steps": steps, "logging_steps": max(1, steps // 20), "report_to": [], "save_strategy": "no",
                "seed": seed, "data_seed": seed, "dataloader_pin_memory": torch.cuda.is_available(), **overrides}
    args = TrainingArguments(output_dir=output_dir or tempfile.mkdtemp(prefix="nb_condense_"), **settings)
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
    """
    args = _training_arguments(steps, batch_size, learning_rate, seed, output_dir, training_args)
    forgetting = [c for c in callbacks if isinstance(c, ActiveForgettingCallback)]
    if len(forgetting) > 1:
        raise ValueError(f"Pass at most one ActiveForgettingCallback in callbacks, got {len(forgetting)}.")
    kind, extra = (ActiveForgettingTrainer, {"forgetting": forgetting[0]}) if forgetting else (DispersionTrainer, {})
    trainer = kind(  # processing_class: what callbacks receive as the tokenizer (active forgetting's pad row)
        model=model, args=args, train_dataset=lm_blocks(texts, tokenizer, block_size), processing_class=tokenizer,
        data_collator=transformers.default_data_collator, dispersion_coeff=dispersion_coeff,
        dispersion_variant=dispersion_variant, dispersion_loc=dispersion_loc, dispersion_options=dispersion_options,
        callbacks=list(callbacks), **extra,
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

    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if not model.training:
            return (loss, outputs) if return_outputs else loss
        with torch.no_grad():
            teacher_logits = self.teacher(input_ids=inputs["input_ids"],
                                          attention_mask=inputs.get("attention_mask")).logits
        kd = distillation_term(outputs.logits, teacher_logits.to(outputs.logits.device), self.temperature)
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
    seed: int = 0,
    **training_args: Any,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Logit distillation: ``alpha x (LM loss [+ dispersion]) + (1 - alpha) x T^2 x KL(teacher_T || student_T)``.

    Teacher and student must share the tokenizer's vocabulary. Returns the student and its log frame.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}.")
    teacher_vocab, student_vocab = cast(Any, teacher).config.vocab_size, cast(Any, student).config.vocab_size
    if teacher_vocab != student_vocab:
        raise ValueError(f"Teacher vocabulary {teacher_vocab} != student {student_vocab}.")
    dispersion = {k: training_args.pop(k) for k in list(training_args) if k.startswith("dispersion_")}
    args = _training_arguments(steps, batch_size, learning_rate, seed, None, training_args)
    trainer = _DistillationTrainer(model=student, args=args, train_dataset=lm_blocks(texts, tokenizer, block_size),
                                   teacher=teacher, temperature=temperature, alpha=alpha,
                                   **{"dispersion_coeff": 0.0, **dispersion})
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


def _lab_data(n_texts: int, measure_texts: int, vocab_size: int, seed: int) -> tuple[list[str], list[str], Any]:
    """Builtin training texts, disjoint-seed held-out texts, and a BPE tokenizer trained on the former."""
    from ..measurement.corpus import sample_texts

    train_texts = sample_texts("builtin", n_texts, min_word_count=200, max_word_count=400, seed=seed)
    held_out = sample_texts("builtin", measure_texts, min_word_count=200, max_word_count=400, seed=seed + 10_000)
    return train_texts, held_out, train_tokenizer(train_texts, vocab_size=vocab_size)


def _evaluate(model: torch.nn.Module, tokenizer: Any, held_out: list[str], block_size: int, name: str
              ) -> tuple[dict[str, Any], CondensationResult]:
    """Condensation trend and perplexity of ``model`` on held-out texts, and its measurement (named ``name``)."""
    result = measure_texts(model, tokenizer, held_out, MeasureSettings(max_length=block_size), show_progress=False,
                           metadata={"model_name": name})
    trend = result.trend_row(name)
    row = {k: trend[k] for k in ("spearman_rho", "kendall_tau", "last_layer_mean")}
    return {**row, "perplexity": perplexity(model, tokenizer, held_out, block_size)}, result


def controlled_width_experiment(
    widths: Sequence[int] = (32, 128, 512),
    *,
    steps: int = 150,
    n_layer: int = 4,
    n_embd: int = 64,
    n_head: int = 4,
    n_texts: int = 120,
    block_size: int = 64,
    vocab_size: int = 2048,
    measure_texts: int = 20,
    dispersion_coeff: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[int, dict[str, CondensationResult]]]:
    """Finding 2 at laptop scale: GPT-2-like models that differ only in MLP width (``n_inner``).

    Each width is measured at initialisation and after ``steps`` training steps on the builtin corpus
    (held-out builtin texts for the measurement). Returns a table (``width, n_parameters, stage,
    spearman_rho, kendall_tau, last_layer_mean, perplexity``) and the measurements
    (:class:`~nb_condense.core.result.CondensationResult`, named ``"n_inner=<width> (<stage>)"``) per width and
    stage. The paper's setting (``PAPER_GPT2``, n_inner 64..4096, fineweb-edu) is a GPU job: build
    ``tiny_gpt2(n_inner=width, **PAPER_GPT2)`` and train it on your own texts with :func:`pretrain`.
    """
    train_texts, held_out, tokenizer = _lab_data(n_texts, measure_texts, vocab_size, seed)
    rows: list[dict[str, Any]] = []
    results: dict[Any, dict[str, CondensationResult]] = {}
    for width in widths:
        model = tiny_gpt2(n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_inner=width, vocab_size=len(tokenizer),
                          n_positions=max(block_size, 128), seed=seed)
        results[width] = {}
        for stage in ("init", "trained"):
            if stage == "trained":
                model, _ = pretrain(model, tokenizer, train_texts, steps=steps, block_size=block_size,
                                    dispersion_coeff=dispersion_coeff, seed=seed)
            row, result = _evaluate(model, tokenizer, held_out, block_size, f"n_inner={width} ({stage})")
            rows.append({"width": width, "n_parameters": result.metadata["n_parameters"], "stage": stage, **row})
            results[width][stage] = result
    return pd.DataFrame(rows), results


def distillation_experiment(
    *,
    teacher_width: int = 1024,
    student_width: int = 32,
    steps: int = 150,
    n_layer: int = 4,
    n_embd: int = 64,
    n_head: int = 4,
    n_texts: int = 120,
    block_size: int = 64,
    vocab_size: int = 2048,
    measure_texts: int = 20,
    temperature: float = 2.0,
    alpha: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Finding 4 at laptop scale: test whether logit distillation from a wide teacher transfers its resistance.

    Trains a wide-MLP teacher, then the same narrow student twice from the same initialisation: from
    scratch (LM loss) and distilled (:func:`distill`). Returns ``model, spearman_rho, kendall_tau,
    last_layer_mean, perplexity`` for teacher, scratch student and distilled student.
    """
    train_texts, held_out, tokenizer = _lab_data(n_texts, measure_texts, vocab_size, seed)

    def make(width: int) -> torch.nn.Module:
        return tiny_gpt2(n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_inner=width, vocab_size=len(tokenizer),
                         n_positions=max(block_size, 128), seed=seed)

    teacher, _ = pretrain(make(teacher_width), tokenizer, train_texts, steps=steps, block_size=block_size, seed=seed)
    scratch, _ = pretrain(make(student_width), tokenizer, train_texts, steps=steps, block_size=block_size, seed=seed)
    distilled, _ = distill(teacher, make(student_width), tokenizer, train_texts, temperature=temperature,
                           alpha=alpha, steps=steps, block_size=block_size, seed=seed)
    models = ((f"teacher n_inner={teacher_width}", teacher), (f"scratch n_inner={student_width}", scratch),
              (f"distilled n_inner={student_width}", distilled))
    return pd.DataFrame([{"model": name, **_evaluate(model, tokenizer, held_out, block_size, name)[0]}
                         for name, model in models])
