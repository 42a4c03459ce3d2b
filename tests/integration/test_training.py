"""The training lab: tokenizer, packed blocks, pretrain / distill / perplexity, active forgetting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import nb_condense as nbc
from nb_condense import training


@pytest.fixture(scope="module")
def texts():
    return nbc.sample_texts("builtin", 24, min_word_count=80, max_word_count=150)


@pytest.fixture(scope="module")
def tokenizer(texts):
    return training.train_tokenizer(texts, vocab_size=400)


def test_tokenizer_round_trips_and_blocks_are_packed(texts, tokenizer):
    assert len(tokenizer) <= 400 and tokenizer.pad_token_id == tokenizer.eos_token_id == 0
    sample = "def f(x):\n    return x * 2  # héllo"
    assert tokenizer.decode(tokenizer(sample)["input_ids"]) == sample
    blocks = training.lm_blocks(texts[:3], tokenizer, block_size=16)
    ids = [i for t in texts[:3] for i in tokenizer(t)["input_ids"] + [0]]
    assert len(blocks) == len(ids) // 16
    assert blocks[1]["input_ids"].tolist() == ids[16:32]
    assert torch.equal(blocks[0]["labels"], blocks[0]["input_ids"])
    with pytest.raises(ValueError, match="fewer than one block"):
        training.lm_blocks(["tiny"], tokenizer, block_size=64)


def test_tiny_models_are_deterministic_and_sized():
    a, b = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, n_inner=48), training.tiny_gpt2(
        n_layer=2, n_embd=32, n_head=2, n_inner=48)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert a.transformer.h[0].mlp.c_fc.weight.shape == (32, 48)
    llama = training.tiny_llama(n_layer=2, hidden_size=32, n_head=2)
    assert llama.config.num_hidden_layers == 2 and llama.config.intermediate_size == 128


def test_pretrain_lowers_perplexity_and_returns_history(texts, tokenizer):
    model = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=64)
    held_out = nbc.sample_texts("builtin", 4, min_word_count=80, max_word_count=150, seed=500)
    before = training.perplexity(model, tokenizer, held_out, block_size=32)
    model, history = training.pretrain(model, tokenizer, texts, steps=30, block_size=32, learning_rate=3e-3,
                                       dispersion_coeff=0.1)
    after = training.perplexity(model, tokenizer, held_out, block_size=32)
    assert after < before * 0.8
    assert list(history["step"])[-1] == 30 and history["dispersion_loss"].notna().all()


def test_perplexity_matches_a_direct_computation(texts, tokenizer):
    model = training.tiny_gpt2(n_layer=1, n_embd=16, n_head=2, vocab_size=len(tokenizer), n_positions=32)
    blocks = training.lm_blocks(texts[:2], tokenizer, block_size=16)
    with torch.no_grad():
        losses = [model(input_ids=blocks[i : i + 1]["input_ids"], labels=blocks[i : i + 1]["input_ids"]).loss.item()
                  for i in range(len(blocks))]
    assert training.perplexity(model, tokenizer, texts[:2], block_size=16) == pytest.approx(
        math.exp(np.mean(losses)), rel=1e-5)


def test_distill_moves_the_student_towards_the_teacher(texts, tokenizer):
    teacher, _ = training.pretrain(training.tiny_gpt2(n_layer=2, n_embd=64, n_head=2, vocab_size=len(tokenizer),
                                                      n_positions=64), tokenizer, texts, steps=20, block_size=32,
                                   learning_rate=3e-3)
    student = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=64, seed=1)
    blocks = training.lm_blocks(texts[:4], tokenizer, block_size=32)[:]["input_ids"]

    def kl(model):
        with torch.no_grad():
            t = torch.log_softmax(teacher(input_ids=blocks).logits, -1)
            s = torch.log_softmax(model(input_ids=blocks).logits, -1)
        return torch.nn.functional.kl_div(s, t, log_target=True, reduction="batchmean").item()

    before = kl(student)
    student, history = training.distill(teacher, student, tokenizer, texts, steps=20, block_size=32,
                                        learning_rate=3e-3, alpha=0.0)
    assert kl(student) < before * 0.7 and len(history) > 0
    with pytest.raises(ValueError, match="alpha must be in"):
        training.distill(teacher, student, tokenizer, texts, alpha=2.0)


def test_active_forgetting_reinitialises_embeddings_and_their_optimizer_state(texts, tokenizer):
    model = training.tiny_gpt2(n_layer=1, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=64)
    callback = training.ActiveForgettingCallback(every_k_steps=3, seed=0)
    seen = {}

    class Spy(training.TrainerCallback):
        def on_step_end(self, args, state, control, model=None, optimizer=None, **kwargs):
            weight = model.get_input_embeddings().weight
            seen[state.global_step] = (weight.detach().clone(), weight in optimizer.state)

    model, _ = training.pretrain(model, tokenizer, texts, steps=4, block_size=32, callbacks=[callback, Spy()])
    assert callback.resets == [3]
    assert model.config.pad_token_id is None  # no pad row to zero in this config
    fresh = torch.randn(seen[3][0].shape, generator=torch.Generator().manual_seed(0)) * 0.02
    torch.testing.assert_close(seen[3][0], fresh)
    assert seen[2][1] is True and seen[3][1] is False  # moments dropped at the reset
    assert model.lm_head.weight is model.get_input_embeddings().weight  # tied: the head was reset too


def test_experiments_return_their_tables():
    table, sessions = training.controlled_width_experiment((16, 64), steps=3, n_layer=2, n_embd=32, n_head=2,
                                                           n_texts=20, block_size=32, vocab_size=300, measure_texts=3)
    assert list(table["width"]) == [16, 16, 64, 64] and list(table["stage"]) == ["init", "trained"] * 2
    assert table["n_parameters"].iloc[2] > table["n_parameters"].iloc[0]
    assert table.iloc[0]["spearman_rho"] == pytest.approx(sessions[16]["init"].result.trend().spearman_rho)
    distilled = training.distillation_experiment(teacher_width=64, student_width=16, steps=3, n_layer=2, n_embd=32,
                                                 n_head=2, n_texts=20, block_size=32, vocab_size=300, measure_texts=3)
    assert len(distilled) == 3 and distilled["perplexity"].gt(1).all()


def test_neftune_noise_is_the_trainers_own_option(texts, tokenizer):
    model = training.tiny_gpt2(n_layer=1, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=64)
    model, history = training.pretrain(model, tokenizer, texts, steps=2, block_size=32, neftune_noise_alpha=5.0)
    assert len(history) == 2
