"""The drop-in measure_embedding_condensation against a plain reimplementation of the reference definition."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import nb_condense as nbc
from conftest import spec_rows, tiny_model


def reference_cossim(model, tokenizer, texts, max_length, include_logits_layer=False):
    """The reference definition (paper.md section 1), unbatched, in numpy: stack every matrix, then average.

    Unequal lengths: each entry averaged over the texts that have it (the reference itself crashes).
    """
    per_text = []
    model.eval()
    for text in texts:
        inputs = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
        with torch.no_grad():
            out = model(**inputs, output_hidden_states=True)
        layers = [h[0].float().numpy() for h in out.hidden_states]
        if include_logits_layer:
            layers.append(out.logits[0].float().numpy())
        mats = []
        for z in layers:
            z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-3)
            mats.append(np.clip(z @ z.T, -1, 1))
        per_text.append(np.stack(mats))
    size = max(m.shape[-1] for m in per_text)
    total = np.zeros((per_text[0].shape[0], size, size))
    count = np.zeros((size, size))
    for m in per_text:
        n = m.shape[-1]
        total[:, :n, :n] += m
        count[:n, :n] += 1
    return total / count


def dropin(model, tokenizer, texts, **kwargs):
    kwargs.setdefault("plot", False)
    return nbc.measure_embedding_condensation(
        model, tokenizer, texts=texts, repetitions=len(texts), show_progress=False, **kwargs
    )


@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_equal_length_parity(kind, tokenizer):
    texts = nbc.sample_texts("builtin", 4, min_word_count=80, max_word_count=120)
    model = tiny_model(kind)
    result = dropin(model, tokenizer, texts, max_length=48)
    expected = reference_cossim(model, tokenizer, texts, 48)
    assert result.cossim_by_layer.shape == expected.shape == (3, 48, 48)
    assert result.cossim_by_layer.dtype == np.float32
    np.testing.assert_allclose(result.cossim_by_layer, expected, atol=1e-5)
    # the drop-in's own statistics follow the reference convention: diagonal included
    assert result.metadata["include_diagonal"] is True
    assert (result.stats["n_pairs"] == 48 * 48).all()


def test_unequal_lengths_are_averaged_over_the_texts_that_have_each_entry(tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    result = dropin(model, tokenizer, mixed_texts, max_length=64)
    expected = reference_cossim(model, tokenizer, mixed_texts, 64)
    np.testing.assert_allclose(result.cossim_by_layer, expected, atol=1e-5)


def test_logits_layer_parity(tokenizer):
    texts = nbc.sample_texts("builtin", 2, min_word_count=40, max_word_count=80)
    model = tiny_model("gpt2", lm_head=True)
    result = dropin(model, tokenizer, texts, max_length=24, include_logits_layer=True)
    expected = reference_cossim(model, tokenizer, texts, 24, include_logits_layer=True)
    assert result.cossim_by_layer.shape[0] == 4
    np.testing.assert_allclose(result.cossim_by_layer, expected, atol=1e-5)
    assert result.layer_fractions[-1] == 1.0


@pytest.mark.slow
def test_parity_on_pretrained_minilm():
    model, tokenizer = nbc.load_model("embedded")
    texts = nbc.sample_texts("builtin", 3, min_word_count=150, max_word_count=200)
    result = dropin(model, tokenizer, texts, max_length=128, batch_size=3)
    expected = reference_cossim(model, tokenizer, texts, 128)
    np.testing.assert_allclose(result.cossim_by_layer, expected, atol=1e-5)
    assert result.trend().layer_means.shape == (7,)


def test_plot_false_writes_nothing(tokenizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = nbc.measure_embedding_condensation(
        tiny_model("gpt2"), tokenizer, texts=["one two three four", "five six seven"], repetitions=2,
        max_length=16, plot=False, show_progress=False)
    assert os.listdir(tmp_path) == [] and result.chart is None


def test_plot_without_save_path_returns_the_chart(tokenizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = nbc.measure_embedding_condensation(
        tiny_model("gpt2"), tokenizer, texts=["one two three four", "five six seven"], repetitions=2,
        max_length=16, plot=True, save_path=None, show_progress=False)
    assert os.listdir(tmp_path) == []
    spec = result.chart.to_dict()
    assert spec["mark"]["type"] == "rect" and spec["encoding"]["x"]["title"] == "Layer fraction"
    # the chart is the drop-in's: the core result class carries no UI slot, and a saved drop-in loads as a core result
    from nb_condense.compat import DropInResult

    assert isinstance(result, DropInResult) and isinstance(result, nbc.CondensationResult)
    assert "chart" not in {f.name for f in __import__("dataclasses").fields(nbc.CondensationResult)}
    loaded = nbc.CondensationResult.load(result.save(tmp_path / "r.npz"))
    assert type(loaded) is nbc.CondensationResult
    np.testing.assert_array_equal(loaded.histograms, result.histograms)


def test_default_save_path_writes_a_png(tokenizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nbc.measure_embedding_condensation(
        tiny_model("gpt2"), tokenizer, texts=["one two three four", "five six seven"], repetitions=2,
        max_length=16, show_progress=False)
    data = (tmp_path / "test_embedding_condensation.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_fewer_texts_than_repetitions_are_each_measured_once(tokenizer):
    texts = ["one two three four", "five six seven", "eight nine ten eleven"]
    with pytest.warns(UserWarning, match="each text is measured once"):
        result = nbc.measure_embedding_condensation(
            tiny_model("gpt2"), tokenizer, texts=texts, repetitions=10, max_length=16, plot=False,
            show_progress=False)
    assert result.n_texts == 3 and result.texts == texts
    more = nbc.measure_embedding_condensation(
        tiny_model("gpt2"), tokenizer, texts=texts, repetitions=2, max_length=16, plot=False, show_progress=False)
    assert more.texts == texts[:2]


@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_repetitions(tokenizer, value):
    with pytest.raises(ValueError, match="repetitions must be a positive integer"):
        nbc.measure_embedding_condensation(tiny_model("gpt2"), tokenizer, texts=["a b"], repetitions=value)


def test_plot_similarity_heatmap_matches_numpy_histograms(tmp_path):
    rng = np.random.default_rng(0)
    mats = [np.clip(rng.normal(0.3 * k, 0.2, size=(20, 20)), -1, 1).astype(np.float32) for k in range(4)]
    chart = nbc.plot_similarity_heatmap(mats, save_path=tmp_path / "h.svg", step=2, bins=16)
    spec = chart.to_dict()
    values = spec_rows(spec)
    assert {v["layer"] for v in values} == {0, 2}
    assert sorted({v["layer_fraction"] for v in values}) == pytest.approx([0.0, 2 / 3], abs=1e-14)
    for layer in (0, 2):
        expected, _ = np.histogram(mats[layer].ravel(), bins=16, range=(-1, 1), density=True)
        got = np.zeros(16)
        for v in values:
            if v["layer"] == layer:
                got[int(round((v["cosine_low"] + 1) * 8))] = v["density"]
        np.testing.assert_allclose(got, expected)
    assert (tmp_path / "h.svg").read_text().lstrip().startswith("<svg")
