"""metrics against independent numpy / brute-force computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nb_condense import metrics


def np_cosine(x: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    z = x / np.maximum(norm, eps)
    return np.clip(z @ z.T, -1, 1)


@pytest.fixture
def hidden():
    return torch.randn(3, 17, 8, generator=torch.Generator().manual_seed(1)) * 4


def test_l2_normalize_matches_numpy_and_keeps_zero_rows_zero():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1e-4, 0.0]])
    out = metrics.l2_normalize(x).numpy()
    expected = x.numpy() / np.maximum(np.linalg.norm(x.numpy(), axis=1, keepdims=True), 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out[1].tolist() == [0.0, 0.0]
    assert out[2, 0] == pytest.approx(0.1)  # below eps: divided by eps, not by its norm


def test_cosine_matrix_matches_numpy(hidden):
    cos = metrics.cosine_matrix(hidden)
    for layer in range(hidden.shape[0]):
        np.testing.assert_allclose(cos[layer].numpy(), np_cosine(hidden[layer].double().numpy()), atol=1e-6)
    assert cos.dtype == torch.float32


def test_cosine_matrix_of_bfloat16_is_float32():
    x = torch.randn(5, 4).to(torch.bfloat16)
    assert metrics.cosine_matrix(x).dtype == torch.float32


@pytest.mark.parametrize("bins", [128, 7, 1])
@pytest.mark.parametrize("include_diagonal", [False, True])
def test_histogram_counts_equal_numpy(hidden, bins, include_diagonal):
    cos = metrics.cosine_matrix(hidden)
    counts = metrics.histogram_counts(cos, bins, include_diagonal)
    n = cos.shape[-1]
    for layer in range(cos.shape[0]):
        values = cos[layer].numpy()
        if not include_diagonal:
            values = values[~np.eye(n, dtype=bool)]
        expected, _ = np.histogram(values.ravel(), bins=bins, range=(-1, 1))
        assert counts[layer].tolist() == expected.tolist()


@pytest.mark.parametrize("bins", [128, 10, 3])
def test_histogram_bins_values_on_edges_as_numpy(bins):
    edges = np.linspace(-1, 1, bins + 1)
    values = np.concatenate([edges, edges[1:-1] - 1e-7, edges[1:-1] + 1e-7, [-1.0, 1.0, 0.0]]).astype(np.float32)
    grid = torch.from_numpy(np.resize(values, 9 * 9).reshape(1, 9, 9).copy())
    expected, _ = np.histogram(grid.numpy().ravel(), bins=bins, range=(-1, 1))
    assert metrics.histogram_counts(grid, bins, include_diagonal=True)[0].tolist() == expected.tolist()


def test_histogram_rejects_bad_input():
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        metrics.histogram_counts(torch.zeros(2, 2), bins=0)
    with pytest.raises(ValueError, match="square"):
        metrics.histogram_counts(torch.zeros(2, 3))


def test_effective_rank_matches_numpy_svd(hidden):
    cos = metrics.cosine_matrix(hidden)
    out = metrics.effective_rank(cos).numpy()
    for layer in range(hidden.shape[0]):
        x = hidden[layer].double().numpy()
        z = x / np.linalg.norm(x, axis=1, keepdims=True)
        s = np.linalg.svd(z, compute_uv=False)
        p = s / s.sum()
        assert out[layer] == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-4)


def test_effective_rank_of_a_collapsed_cone_is_one():
    same = torch.ones(1, 6, 4)
    assert metrics.effective_rank(metrics.cosine_matrix(same)).item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("include_diagonal", [False, True])
def test_text_layer_statistics_match_numpy(hidden, include_diagonal):
    cos = metrics.cosine_matrix(hidden)
    stats = metrics.text_layer_statistics(cos, 64, include_diagonal, with_effective_rank=True)
    n = cos.shape[-1]
    for layer in range(cos.shape[0]):
        values = cos[layer].double().numpy()
        values = values.ravel() if include_diagonal else values[~np.eye(n, dtype=bool)]
        assert stats.mean[layer].item() == pytest.approx(values.mean(), abs=1e-7)
        assert stats.std[layer].item() == pytest.approx(values.std(), abs=1e-7)
        assert int(stats.counts[layer].sum()) == values.size
        # each token's mean cosine to the *other* tokens, whatever include_diagonal says
        full = cos[layer].double().numpy()
        others = [np.delete(full[i], i).mean() for i in range(n)]
        np.testing.assert_allclose(stats.token_means[layer].numpy(), others, atol=1e-6)
    assert stats.effective_rank is not None and stats.effective_rank.shape == (3,)


def test_statistics_of_all_zero_vectors_have_no_nan():
    cos = metrics.cosine_matrix(torch.zeros(2, 5, 4))
    stats = metrics.text_layer_statistics(cos, 128, False, with_effective_rank=True)
    for tensor in (stats.mean, stats.std, stats.token_means, stats.effective_rank):
        assert torch.isfinite(tensor).all()
    assert stats.mean.tolist() == [0.0, 0.0]


def test_a_single_token_has_no_pairs():
    with pytest.raises(ValueError, match="at least 2 tokens"):
        metrics.text_layer_statistics(torch.ones(1, 1, 1), include_diagonal=False)


def test_position_average_matches_masked_numpy_mean():
    rng = np.random.default_rng(0)
    mats = [rng.uniform(-1, 1, size=(2, n, n)) for n in (5, 3, 5, 2)]
    avg = metrics.PositionAverage()
    for m in mats:
        avg.add(torch.from_numpy(m))
    total = np.zeros((2, 5, 5))
    count = np.zeros((5, 5))
    for m in mats:
        n = m.shape[-1]
        total[:, :n, :n] += m
        count[:n, :n] += 1
    np.testing.assert_allclose(avg.mean().numpy(), total / count, rtol=1e-12)
