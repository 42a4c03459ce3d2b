"""Long runs: out-of-memory retry with a smaller batch, batch_size="auto", resumable checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import nb_condense as nbc
from conftest import tiny_model
from nb_condense.measurement import extract
from nb_condense.measurement.extract import auto_batch_size


@pytest.fixture(scope="module")
def texts():
    return nbc.sample_texts("builtin", 7, min_word_count=30, max_word_count=60)


def test_out_of_memory_halves_the_batch_and_retries(texts, tokenizer, monkeypatch):
    model = tiny_model("gpt2")
    reference = nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=1, show_progress=False)
    real_forward = extract._forward
    attempts = []

    def forward_that_runs_out(model, batch, include_logits_layer):
        attempts.append(batch["input_ids"].shape[0])
        if batch["input_ids"].shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_forward(model, batch, include_logits_layer)

    monkeypatch.setattr(extract, "_forward", forward_that_runs_out)
    result = nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=8, show_progress=False)
    assert attempts[:3] == [7, 4, 2]  # batch 8 (all 7 texts) fails, 4 fails, 2 runs and is kept
    assert result.metadata["batch_size"] == 2
    assert np.abs(result.histograms - reference.histograms).sum() <= 4
    np.testing.assert_allclose(result.stats["mean"], reference.stats["mean"], atol=1e-5)


def test_other_errors_are_not_retried(texts, tokenizer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(extract, "_forward", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        nbc.measure(tiny_model("gpt2"), tokenizer, texts=texts, max_length=32, batch_size=4, show_progress=False)


def test_auto_batch_size(texts, tokenizer):
    model = tiny_model("gpt2")  # 2 layers, 32 wide, 2 heads, float32
    per_text = 3 * 128 * 32 * 4 * 4 + 2 * 128**2 * 4
    assert auto_batch_size(model, 128, free_bytes=10 * per_text) == 5
    assert auto_batch_size(model, 128, free_bytes=10**12) == 64
    assert auto_batch_size(model, 128, free_bytes=1) == 1
    assert auto_batch_size(model, 128) == 1  # on a CPU
    result = nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size="auto", show_progress=False)
    assert result.metadata["batch_size"] == 1
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        nbc.measure(model, tokenizer, texts=texts, batch_size="big")


class Interrupt(Exception):
    pass


@pytest.mark.slow
def test_interrupted_run_resumes_without_recomputing(texts, tokenizer, tmp_path):
    model = tiny_model("gpt2")
    whole = nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=1, show_progress=False)
    path = tmp_path / "partial.npz"
    calls = []

    def stop_after_four(module, args, kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise Interrupt

    handle = model.register_forward_pre_hook(stop_after_four, with_kwargs=True)
    with pytest.raises(Interrupt):
        nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=1, show_progress=False,
                    checkpoint=path, checkpoint_every=2)
    handle.remove()
    assert path.exists()

    counted = []
    handle = model.register_forward_pre_hook(lambda *a: counted.append(1))
    resumed = nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=1, show_progress=False,
                          checkpoint=path, checkpoint_every=2)
    handle.remove()
    assert len(counted) == 3  # 4 texts were saved; only the other 3 ran
    assert not path.exists()
    assert np.array_equal(resumed.histograms, whole.histograms)
    pd.testing.assert_frame_equal(resumed.stats, whole.stats)


def test_a_checkpoint_of_another_measurement_is_refused(texts, tokenizer, tmp_path):
    model = tiny_model("gpt2")
    path = tmp_path / "partial.npz"

    nbc.measure(model, tokenizer, texts=texts[:2], max_length=32, batch_size=1, show_progress=False,
                checkpoint=path, checkpoint_every=1)  # completes and removes its file
    assert not path.exists()
    calls = []

    def stop_after_two(module, args):
        calls.append(1)
        if len(calls) == 3:
            raise Interrupt

    handle = model.register_forward_pre_hook(stop_after_two)
    with pytest.raises(Interrupt):
        nbc.measure(model, tokenizer, texts=texts, max_length=32, batch_size=1, show_progress=False,
                    checkpoint=path, checkpoint_every=1)
    handle.remove()
    with pytest.raises(ValueError, match="belongs to another measurement"):
        nbc.measure(model, tokenizer, texts=texts[:5], max_length=32, batch_size=1, show_progress=False,
                    checkpoint=path)
