"""Batched extraction: equals one-at-a-time, drops pads, leaves the model, tokenizer and RNG alone."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch

from conftest import DECODERS, TINY_CONFIGS, architectures, tiny_model
from nb_condense.core.layer_selection import resolve_layers
from nb_condense.measurement.extract import iter_hidden_states, tokenize_texts


def per_text(model, encodings, batch_size, **kwargs):
    out = {}
    for batch in iter_hidden_states(model, encodings, batch_size=batch_size, **kwargs):
        for position, index in enumerate(batch.text_indices):
            out[index] = batch.text(position)
    return out


@architectures(*TINY_CONFIGS)
def test_batched_equals_one_at_a_time(kind, tokenizer, mixed_texts):
    model = tiny_model(kind)
    encodings = tokenize_texts(tokenizer, mixed_texts, max_length=64)
    lengths = {len(e["input_ids"]) for e in encodings}
    assert len(lengths) >= 3, "the texts must tokenize to different lengths"
    batched = per_text(model, encodings, batch_size=4)
    single = per_text(model, encodings, batch_size=1)
    for index, encoding in enumerate(encodings):
        n = len(encoding["input_ids"])
        assert [t.shape for t in batched[index]] == [(n, 32)] * 3
        torch.testing.assert_close(batched[index], single[index], atol=2e-5, rtol=1e-4)


@architectures(*TINY_CONFIGS)
def test_unbatched_matches_a_direct_forward_pass(kind, tokenizer, mixed_texts):
    model = tiny_model(kind).eval()
    encodings = tokenize_texts(tokenizer, mixed_texts[:2], max_length=64)
    got = per_text(model, encodings, batch_size=2)
    for index, text in enumerate(mixed_texts[:2]):
        inputs = tokenizer(text, return_tensors="pt", truncation=True, max_length=64)
        with torch.no_grad():
            expected = [h[0] for h in model(**inputs, output_hidden_states=True).hidden_states]
        torch.testing.assert_close(got[index], expected, atol=2e-5, rtol=1e-4)


def test_model_tokenizer_and_rng_are_left_as_they_were(bare_tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    model.train()
    model.h[0].eval()  # a mixed state must survive too
    tok = copy.deepcopy(bare_tokenizer)
    assert tok.pad_token is None
    before_rng = torch.get_rng_state()
    dtype, device = model.dtype, model.device
    encodings = tokenize_texts(tok, mixed_texts, max_length=64)
    per_text(model, encodings, batch_size=3)
    assert model.training and not model.h[0].training and model.h[1].training
    assert tok.pad_token is None and tok.padding_side == bare_tokenizer.padding_side
    assert torch.equal(torch.get_rng_state(), before_rng)
    assert model.dtype == dtype and model.device == device


@architectures("bert")
def test_layer_subset_and_negative_indices(kind, tokenizer, mixed_texts):
    model = tiny_model(kind)
    encodings = tokenize_texts(tokenizer, mixed_texts[:2], max_length=32)
    every = per_text(model, encodings, batch_size=2)
    some = per_text(model, encodings, batch_size=2, layers=[-1, 0])
    torch.testing.assert_close(some[0], [every[0][0], every[0][2]])


def test_resolve_layers_errors():
    assert resolve_layers([2, -1, 0, 2], 4) == [0, 2, 3]
    with pytest.raises(ValueError, match=r"Layer 7 does not exist.*0\.\.3"):
        resolve_layers([7], 4)
    with pytest.raises(TypeError, match="integers"):
        resolve_layers(["1"], 4)
    with pytest.raises(ValueError, match="empty"):
        resolve_layers([], 4)


@architectures("gpt2", kinds=DECODERS)
def test_logits_layer_is_appended(kind, tokenizer, mixed_texts):
    model = tiny_model(kind, lm_head=True)
    encodings = tokenize_texts(tokenizer, mixed_texts[:1], max_length=16)
    out = per_text(model, encodings, batch_size=1, include_logits_layer=True)
    assert [t.shape for t in out[0]] == [(16, 32)] * 3 + [(16, 30522)]  # 3 hidden states + logits
    with pytest.raises(ValueError, match="returns no logits"):
        per_text(tiny_model(kind), encodings, batch_size=1, include_logits_layer=True)


def test_encoder_decoder_measures_its_encoder(tokenizer, mixed_texts):
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    config = AutoConfig.for_model("t5", vocab_size=30522, d_model=32, d_ff=64, d_kv=8, num_layers=2, num_heads=2)
    model = random_model(config)
    encodings = tokenize_texts(tokenizer, mixed_texts[:2], max_length=32)
    out = per_text(model, encodings, batch_size=2)
    assert [t.shape for t in out[0]] == [(len(encodings[0]["input_ids"]), 32)] * 3


def test_a_model_without_hidden_states_is_refused(tokenizer):
    class NoHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(30522, 4)

        def forward(self, input_ids, attention_mask=None, **kwargs):
            return SimpleNamespace(last_hidden_state=self.emb(input_ids), hidden_states=None)

    encodings = tokenize_texts(tokenizer, ["some text here"], max_length=16)
    with pytest.raises(ValueError, match="returned no hidden states"):
        per_text(NoHidden(), encodings, batch_size=1)


def test_a_forward_replaced_later_is_read_again():
    """Which arguments a forward takes is cached per module and per forward function (hooks may swap it)."""
    from nb_condense.measurement.extract import _accepts

    class Plain(torch.nn.Module):
        def forward(self, input_ids):  # type: ignore[no-untyped-def]
            return input_ids

    module = Plain()
    assert not _accepts(module, "use_cache")
    module.forward = lambda input_ids, use_cache=None: input_ids  # type: ignore[method-assign]
    assert _accepts(module, "use_cache")
