"""metrics against independent numpy / brute-force computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nb_condense.measurement import binning as binning_module
from nb_condense.measurement import metrics


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


# ----- the upper-triangle kernels (strips, fused-index counts) against numpy / brute force -----------------------

@pytest.fixture(params=["cpu", "sync-free"])
def binning(request, monkeypatch):
    """Both binning paths on this CPU: floor + edge re-check with bincount, and bucketize + index_add_."""
    if request.param == "sync-free":
        monkeypatch.setattr(binning_module, "avoids_sync", lambda device: True)
    return request.param


def edge_values(bins: int) -> np.ndarray:
    """float32 values exactly on numpy's edges (built in float32, as numpy does), one ulp either side, -1 and 1."""
    edges = np.linspace(-1, 1, bins + 1).astype(np.float32)
    below = np.nextafter(edges, np.float32(-2))
    above = np.nextafter(edges, np.float32(2))
    values = np.concatenate([edges, below[1:], above[:-1], [-1.0, 1.0, 0.0]]).astype(np.float32)
    return values


def brute_force(cos: np.ndarray, bins: int, include_diagonal: bool) -> dict[str, np.ndarray]:
    """Per-layer counts, mean, std and token means of full matrices [layer, n, n] by plain numpy loops."""
    layers, n, _ = cos.shape
    keep = np.ones((n, n), bool) if include_diagonal else ~np.eye(n, dtype=bool)
    out: dict[str, list] = {"counts": [], "mean": [], "std": [], "token_means": []}
    for m in cos.astype(np.float64):
        values = m[keep]
        out["counts"].append(np.histogram(m.astype(np.float32)[keep], bins=bins, range=(-1, 1))[0])
        out["mean"].append(values.mean())
        out["std"].append(values.std())
        out["token_means"].append([np.delete(m[i], i).mean() for i in range(n)])
    return {k: np.asarray(v) for k, v in out.items()}


def check_statistics(stats: metrics.TextLayerStatistics, cos: np.ndarray, bins: int, include_diagonal: bool) -> None:
    expected = brute_force(cos, bins, include_diagonal)
    assert stats.counts.tolist() == expected["counts"].tolist()
    np.testing.assert_allclose(stats.mean.numpy(), expected["mean"], atol=1e-7)
    np.testing.assert_allclose(stats.std.numpy(), expected["std"], atol=1e-7)
    np.testing.assert_allclose(stats.token_means.numpy(), expected["token_means"], atol=1e-6)


@pytest.mark.parametrize("bins", [128, 10, 7, 3, 1])
def test_bin_index_is_numpys_bin_on_and_around_every_edge(binning, bins):
    values = torch.from_numpy(edge_values(bins)).reshape(1, -1)
    index = binning_module.bin_index(values, bins).long().reshape(-1)
    counts = np.bincount(index.numpy(), minlength=bins)
    assert counts.tolist() == np.histogram(values.numpy().ravel(), bins=bins, range=(-1, 1))[0].tolist()
    # and value by value: numpy's digitize on the same float32 edges, the last bin closed
    edges = np.linspace(-1, 1, bins + 1).astype(np.float32)
    expected = np.clip(np.digitize(values.numpy().ravel(), edges[1:-1], right=False), 0, bins - 1)
    assert index.tolist() == expected.tolist()


@pytest.mark.parametrize("include_diagonal", [False, True])
@pytest.mark.parametrize(("n", "rows"), [(2, 128), (3, 1), (17, 4), (17, 128), (64, 16), (129, 128), (200, 64)])
def test_strip_statistics_equal_brute_force_on_the_full_matrices(binning, n, rows, include_diagonal):
    hidden = torch.randn(3, n, 8, generator=torch.Generator().manual_seed(n)) * 4
    strips = metrics.cosine_strips(list(hidden), rows=rows)
    full = strips.full()
    np.testing.assert_allclose(full.numpy(), metrics.cosine_matrix(hidden).numpy(), atol=1e-6)
    assert torch.equal(full, full.transpose(-1, -2))
    assert torch.equal(strips.diagonal(), full.diagonal(dim1=-2, dim2=-1))
    stats = metrics.text_layer_statistics(strips, 64, include_diagonal)
    check_statistics(stats, full.numpy(), 64, include_diagonal)


@pytest.mark.parametrize("include_diagonal", [False, True])
@pytest.mark.parametrize("bins", [128, 10, 7])
def test_strip_counts_of_values_on_bin_edges(binning, bins, include_diagonal):
    # a symmetric matrix whose entries (diagonal included) are edges, their float32 neighbours, -1 and 1
    values = edge_values(bins)
    n = 24
    upper = np.resize(values, n * (n + 1) // 2)
    matrix = np.zeros((n, n), np.float32)
    matrix[np.triu_indices(n)] = upper
    matrix = np.triu(matrix) + np.triu(matrix, 1).T
    cos = torch.from_numpy(np.stack([matrix, -matrix]))
    stats = metrics.text_layer_statistics(metrics.CosineStrips.from_matrices(cos, rows=5), bins, include_diagonal)
    check_statistics(stats, cos.numpy(), bins, include_diagonal)


@pytest.mark.parametrize("include_diagonal", [False, True])
def test_all_equal_cosines_and_two_tokens(binning, include_diagonal):
    same = torch.ones(2, 6, 4)  # every cosine is 1 (the closed last bin)
    strips = metrics.cosine_strips(list(same), rows=4)
    check_statistics(metrics.text_layer_statistics(strips, 16, include_diagonal), strips.full().numpy(), 16,
                     include_diagonal)
    pair = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [-1.0, 0.0]]])  # cosines 0 and -1: edges
    strips = metrics.cosine_strips(list(pair))
    stats = metrics.text_layer_statistics(strips, 4, include_diagonal)
    check_statistics(stats, strips.full().numpy(), 4, include_diagonal)
    assert stats.counts.sum(-1).tolist() == [4 if include_diagonal else 2] * 2


def test_histogram_counts_of_several_groups_do_not_leak_between_groups(binning):
    cos = torch.stack([torch.ones(5, 5), -torch.ones(5, 5), torch.zeros(5, 5)]).reshape(3, 1, 5, 5)
    counts = metrics.histogram_counts(cos, 4, include_diagonal=True)
    assert counts.reshape(3, 4).tolist() == [[0, 0, 0, 25], [25, 0, 0, 0], [0, 0, 25, 0]]


def test_strips_of_layers_with_different_widths_match_full_matrices(binning):
    generator = torch.Generator().manual_seed(3)
    hidden = [torch.randn(40, 8, generator=generator), torch.randn(40, 8, generator=generator),
              torch.randn(40, 50, generator=generator)]  # e.g. the logits "layer": another width
    strips = metrics.cosine_strips(hidden, rows=16)
    expected = np.stack([np_cosine(h.double().numpy()) for h in hidden])
    np.testing.assert_allclose(strips.full().numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(metrics.cosine_matrices(hidden).numpy(), expected, atol=1e-6)
    check_statistics(metrics.text_layer_statistics(strips, 32), strips.full().numpy(), 32, False)


def test_strip_statistics_with_effective_rank_match_the_full_path(hidden):
    strips = metrics.cosine_strips(list(hidden), rows=5)
    ranks = metrics.text_layer_statistics(strips, with_effective_rank=True).effective_rank
    assert ranks is not None
    np.testing.assert_allclose(ranks.numpy(), metrics.effective_rank(strips.full()).numpy(), rtol=1e-12)


def test_cosine_strips_reject_hidden_states_of_different_lengths():
    with pytest.raises(ValueError, match="one text"):
        metrics.cosine_strips([torch.ones(3, 2), torch.ones(4, 2)])


def test_position_average_of_strips_equals_that_of_full_matrices():
    generator = torch.Generator().manual_seed(5)
    by_strips, by_matrices = metrics.PositionAverage(), metrics.PositionAverage()
    for n in (7, 3, 12, 5):
        strips = metrics.cosine_strips(list(torch.randn(2, n, 4, generator=generator)), rows=3)
        by_strips.add(strips)
        by_matrices.add(strips.full())
    assert torch.equal(by_strips.mean(), by_matrices.mean())


def test_a_text_without_tokens_is_refused_by_name():
    with pytest.raises(ValueError, match="at least one token"):
        metrics.cosine_strips([torch.zeros(0, 4)])
