"""The lab's models: small untrained GPT-2 and Llama-style language models, seeded without touching the global RNG."""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoConfig

from ...measurement.models import random_model

__all__ = ["LAPTOP_DROPOUT", "PAPER_GPT2", "tiny_gpt2", "tiny_llama"]

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
    paper's runs use 0.1 (:data:`PAPER_GPT2`). Id 0 is BOS, EOS and pad, as in
    :func:`~nb_condense.training.lab.data.train_tokenizer`.
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
