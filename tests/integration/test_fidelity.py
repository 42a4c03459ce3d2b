"""The paper's numbers computed the paper's way: dtype, the position-averaged heatmap, the drop-in's trend."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

import nb_condense as nbc
from conftest import numpy_cosines, pooled_layer_means, position_average, spec_rows, tiny_model
from nb_condense import charts


@pytest.fixture(scope="module")
def gpt2():
    return tiny_model("gpt2")


def rows_to_density(rows, n_layers, bins):
    """Rebuild ``[layer, bin]`` densities from a heatmap spec's rows (empty cells are absent: zero)."""
    density = np.zeros((n_layers, bins))
    for row in rows:
        density[row["layer"], int(round((row["cosine_low"] + 1) * bins / 2))] = row["density"]
    return density


# ----- 1. dtype: float32 unless asked, whatever the checkpoint's dtype -------------------------------------
def test_a_bf16_checkpoint_loads_in_float32_by_default(tmp_path, tokenizer):
    model = tiny_model("gpt2").to(torch.bfloat16)
    model.save_pretrained(tmp_path / "bf16")
    tokenizer.save_pretrained(tmp_path / "bf16")
    loaded, _ = nbc.load_model(str(tmp_path / "bf16"))
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    kept, _ = nbc.load_model(str(tmp_path / "bf16"), dtype="auto")
    assert {p.dtype for p in kept.parameters()} == {torch.bfloat16}
    result = nbc.measure(str(tmp_path / "bf16"), texts=["a few words to measure here"], max_length=16,
                         show_progress=False)
    assert result.metadata["model_dtype"] == "float32"
    with pytest.raises(ValueError, match=r"Unknown dtype 'int8'.*'auto'"):
        nbc.load_model(str(tmp_path / "bf16"), dtype="int8")


# ----- 3. the paper's heatmap: histogram of the position-averaged matrices ----------------------------------
def test_position_average_is_kept_and_drawn_as_the_papers_heatmap(gpt2, tokenizer, mixed_texts):
    result = nbc.measure(gpt2, tokenizer, texts=mixed_texts, max_length=64, position_average=True,
                         show_progress=False)
    expected = position_average(numpy_cosines(gpt2, tokenizer, mixed_texts, 64))
    assert result.cossim_by_layer.shape == expected.shape
    np.testing.assert_allclose(result.cossim_by_layer, expected, atol=1e-5)
    spec = charts.heatmap(result, kind="paper").to_dict()
    got = rows_to_density(spec_rows(spec), 3, result.bins)
    reference = np.stack([np.histogram(m.ravel(), bins=128, range=(-1, 1), density=True)[0]
                          for m in result.cossim_by_layer])
    np.testing.assert_allclose(got, reference, atol=1e-6)
    assert "the paper's heatmap" in spec["title"]["subtitle"] and "diagonal included" in spec["title"]["subtitle"]
    pooled = charts.heatmap(result).to_dict()["title"]["subtitle"]
    assert pooled.startswith("pooled") and "not the paper's" in pooled


def test_the_papers_heatmap_is_narrower_than_the_pooled_one(gpt2, tokenizer):
    texts = nbc.sample_texts("builtin", 8, min_word_count=80, max_word_count=120)
    result = nbc.measure(gpt2, tokenizer, texts=texts, max_length=64, position_average=True, show_progress=False)
    centers = result.bin_centers

    def spread(density):  # std of the cosine distribution per layer
        mean = (density * centers).sum(-1) / density.sum(-1)
        return np.sqrt((density * (centers - mean[:, None]) ** 2).sum(-1) / density.sum(-1))

    assert (spread(result.paper_density()) < spread(result.density())).all()


def test_kind_errors(gpt2, tokenizer, mixed_texts):
    plain = nbc.measure(gpt2, tokenizer, texts=mixed_texts[:2], max_length=32, show_progress=False)
    with pytest.raises(ValueError, match="measure with position_average=True"):
        charts.heatmap(plain, kind="paper")
    with pytest.raises(ValueError, match="kind must be one of 'pooled', 'paper'"):
        charts.heatmap(plain, kind="averaged")
    averaged = nbc.measure(gpt2, tokenizer, texts=mixed_texts[:2], max_length=32, position_average=True,
                           show_progress=False)
    with pytest.raises(ValueError, match="no per-sample view"):
        charts.heatmap(averaged, [0], kind="paper")


def test_plot_similarity_heatmap_equals_the_references_histograms():
    rng = np.random.default_rng(0)
    mats = np.clip(rng.normal(0.3, 0.3, size=(5, 20, 20)), -1, 1).astype(np.float32)
    spec = nbc.plot_similarity_heatmap(mats, save_path=None, bins=128).to_dict()
    got = rows_to_density(spec_rows(spec), 5, 128)
    for layer in range(5):  # the reference: numpy.histogram(flatten, 128, range=(-1, 1), density=True)
        hist, _ = np.histogram(mats[layer].flatten(), bins=128, density=True, range=(-1, 1))
        np.testing.assert_allclose(got[layer], hist, atol=1e-6)


def test_position_average_survives_a_checkpoint_resume(gpt2, tokenizer, mixed_texts, tmp_path):
    path = tmp_path / "run.npz"

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nbc.measure(gpt2, tokenizer, texts=mixed_texts, max_length=64, position_average=True, batch_size=1,
                    checkpoint=path, checkpoint_every=1, progress=stop_after_three, show_progress=False)
    assert path.exists()
    resumed = nbc.measure(gpt2, tokenizer, texts=mixed_texts, max_length=64, position_average=True, batch_size=1,
                          checkpoint=path, checkpoint_every=1, show_progress=False)
    expected = position_average(numpy_cosines(gpt2, tokenizer, mixed_texts, 64))
    np.testing.assert_allclose(resumed.cossim_by_layer, expected, atol=1e-5)
    assert not path.exists()


# ----- 8. the drop-in's trend: from the mean of its own position-averaged matrices ---------------------------
def test_the_drop_ins_trend_is_that_of_its_matrices(gpt2, tokenizer, mixed_texts):
    result = nbc.measure_embedding_condensation(gpt2, tokenizer, texts=mixed_texts, repetitions=len(mixed_texts),
                                                max_length=64, plot=False, show_progress=False)
    means = position_average(numpy_cosines(gpt2, tokenizer, mixed_texts, 64)).mean(axis=(1, 2))  # independent
    trend = result.trend()
    np.testing.assert_allclose(trend.layer_means, means, atol=1e-6)
    assert trend.spearman_rho == pytest.approx(scipy.stats.spearmanr(np.arange(3), means)[0])
    # texts of unequal lengths: the pooled pair means differ from the matrices' means
    pooled = pooled_layer_means(numpy_cosines(gpt2, tokenizer, mixed_texts, 64), include_diagonal=True)
    assert np.abs(pooled - means).max() > 1e-3
