"""The engine's per-text reduction: the accelerator path (no host sync per text) agrees with the CPU path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nb_condense as nbc
from conftest import architectures, numpy_cosines, tiny_model
from nb_condense.measurement import binning, engine, run


@pytest.fixture
def sync_free(monkeypatch):
    """Run the accelerator path on this CPU: bucketize + index_add_, finite flags checked after the batch."""
    for module in (binning, run):
        monkeypatch.setattr(module, "avoids_sync", lambda device: True)


def measured(texts, tokenizer, kind="gpt2", **options):  # type: ignore[no-untyped-def]
    return nbc.measure(tiny_model(kind), tokenizer, texts=texts, max_length=64, show_progress=False, **options)


@pytest.mark.parametrize("options", [
    dict(bins=32, batch_size=3),
    dict(bins=50, batch_size=2, include_diagonal=True, effective_rank=True),
    dict(bins=7, batch_size=5, position_average=True),
])
@architectures("gpt2")
def test_the_accelerator_path_gives_the_cpu_paths_numbers(request, tokenizer, mixed_texts, options, kind):
    on_cpu = measured(mixed_texts, tokenizer, kind, **options)
    request.getfixturevalue("sync_free")
    deferred = measured(mixed_texts, tokenizer, kind, **options)
    np.testing.assert_array_equal(deferred.histograms, on_cpu.histograms)
    np.testing.assert_allclose(deferred.stats.drop(columns=["text", "layer"]).to_numpy(float),
                               on_cpu.stats.drop(columns=["text", "layer"]).to_numpy(float), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(deferred.token_means, on_cpu.token_means)
    if options.get("position_average"):
        np.testing.assert_array_equal(deferred.cossim_by_layer, on_cpu.cossim_by_layer)


@architectures("gpt2")
def test_histograms_match_numpy_on_both_paths(request, tokenizer, mixed_texts, kind):
    for path in ("cpu", "sync-free"):
        if path == "sync-free":
            request.getfixturevalue("sync_free")
        model = tiny_model(kind)
        result = nbc.measure(model, tokenizer, texts=mixed_texts, max_length=64, batch_size=2, bins=20,
                             show_progress=False)
        for t, text in enumerate(mixed_texts):
            for layer, cos in enumerate(numpy_cosines(model, tokenizer, [text], 64)[0]):
                off = cos[~np.eye(cos.shape[0], dtype=bool)]
                expected, _ = np.histogram(off, bins=20, range=(-1, 1))
                assert np.abs(result.histograms[t, layer] - expected).sum() <= 4  # float32 vs float64 at edges


@pytest.mark.parametrize("path", ["cpu", "sync-free"])
def test_non_finite_states_name_the_text_when_checked_after_the_batch(request, tokenizer, mixed_texts, path):
    if path == "sync-free":
        request.getfixturevalue("sync_free")
    model = tiny_model("gpt2")
    with torch.no_grad():
        model.h[1].mlp.c_fc.weight.fill_(float("nan"))
    texts = [mixed_texts[1], mixed_texts[0]]  # the longest text goes first in its batch: texts[1]
    seen: list[int] = []
    with pytest.raises(ValueError, match=r"non-finite hidden states.*texts\[1\] at layer 2"):
        nbc.measure(model, tokenizer, texts=texts, max_length=16, batch_size=2, show_progress=False,
                    progress=lambda done, total: seen.append(done))
    assert seen == []  # no text was reported measured


def test_progress_is_reported_once_per_text_in_order(tokenizer, mixed_texts):
    seen: list[tuple[int, int]] = []
    measured(mixed_texts, tokenizer, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, len(mixed_texts)) for i in range(1, len(mixed_texts) + 1)]


@architectures("gpt2")
def test_on_text_gets_the_full_symmetric_matrices(tokenizer, mixed_texts, kind):
    model = tiny_model(kind)
    got: dict[int, torch.Tensor] = {}
    engine.measure_texts(model, tokenizer, mixed_texts[:3], nbc.MeasureSettings(max_length=64, batch_size=2),
                         show_progress=False, on_text=lambda i, cos: got.__setitem__(i, cos.clone()))
    for i, cos in got.items():
        expected = np.stack(numpy_cosines(model, tokenizer, [mixed_texts[i]], 64)[0])
        np.testing.assert_allclose(cos.numpy(), expected, atol=1e-5)
    assert sorted(got) == [0, 1, 2]
