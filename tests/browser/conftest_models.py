"""A tiny measured session for the browser tier (random 2-block GPT-2, MiniLM tokenizer)."""

from __future__ import annotations

import nb_condense as nbc


def tiny_session(texts, name="tiny-gpt2", seed=0, n_layer=2):
    from transformers import AutoConfig

    from nb_condense.measurement.models import load_tokenizer, random_model

    config = AutoConfig.for_model("gpt2", n_layer=n_layer, n_embd=32, n_head=2, n_positions=128, vocab_size=30522,
                                 bos_token_id=0, eos_token_id=0)
    model = random_model(config, seed=seed)
    session = nbc.CondensationSession(model, load_tokenizer("embedded"), texts=texts, max_length=64, bins=64,
                                      name=name, show_progress=False)
    session.measure()
    return session
