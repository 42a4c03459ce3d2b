"""The training lab: tiny models, tokenizers and packed data, pre-training / distillation, perplexity, experiments.

``models`` (tiny GPT-2 and Llama LMs) and ``data`` (a BPE tokenizer, packed blocks) -> ``runs`` (the paper's recipe:
pre-training, mid-training, distillation, perplexity) -> ``experiments`` (Findings 2 and 4, sized by one
:class:`~nb_condense.training.lab.experiments.LabConfig`). Every name is re-exported here.

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

from ..distillation import distillation_term
from ..forgetting import ActiveForgettingCallback
from .data import EOS as EOS
from .data import lm_blocks, train_tokenizer
from .experiments import LabConfig, controlled_width_experiment, distillation_experiment
from .models import LAPTOP_DROPOUT, PAPER_GPT2, tiny_gpt2, tiny_llama
from .runs import (
    NEFTUNE_ALPHA_GPT2,
    NEFTUNE_ALPHA_QWEN3,
    PAPER_MIDTRAINING,
    PAPER_MIDTRAINING_DISPERSION,
    PAPER_PRETRAINING,
    continue_training,
    distill,
    perplexity,
    pretrain,
)

__all__ = [
    "LAPTOP_DROPOUT", "NEFTUNE_ALPHA_GPT2", "NEFTUNE_ALPHA_QWEN3", "PAPER_GPT2", "PAPER_MIDTRAINING",
    "PAPER_MIDTRAINING_DISPERSION", "PAPER_PRETRAINING", "ActiveForgettingCallback", "LabConfig", "continue_training",
    "controlled_width_experiment", "distill", "distillation_experiment", "distillation_term", "lm_blocks",
    "perplexity", "pretrain", "tiny_gpt2", "tiny_llama", "train_tokenizer",
]
