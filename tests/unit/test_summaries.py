"""summaries (numpy: densities, quantiles, depth trends) against independent computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nb_condense.core import summaries


def brute_kendall_tau_b(x, y):
    concordant = discordant = ties_x = ties_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            ties_x += 1
        elif dy == 0:
            ties_y += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / np.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))


def test_histogram_quantiles_match_numpy_interpolation():
    counts = np.array([[0, 4, 0, 2, 2, 0, 0, 8], [1, 1, 1, 1, 1, 1, 1, 1]])
    edges = np.linspace(-1, 1, 9)
    qs = (0.05, 0.3, 0.45, 0.7, 0.95)  # none on a bin boundary of the cdf, where quantiles are not unique
    out = summaries.histogram_quantiles(counts, qs)
    for row, c in enumerate(counts):
        cdf = np.concatenate([[0.0], np.cumsum(c) / c.sum()])
        # knots of the piecewise-linear cdf: each bin with mass runs from its left to its right edge
        xs = np.concatenate([[cdf[k], cdf[k + 1]] for k in range(len(c)) if c[k] > 0])
        ys = np.concatenate([[edges[k], edges[k + 1]] for k in range(len(c)) if c[k] > 0])
        np.testing.assert_allclose(out[row], np.interp(qs, xs, ys), atol=1e-12)


def ranks(v):
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(1, len(v) + 1)
    for value in np.unique(v):  # average ranks for ties
        r[v == value] = r[v == value].mean()
    return r


def test_trend_statistics_match_brute_force():
    means = np.array([0.3, 0.5, 0.45, 0.5, 0.7, 0.9, 0.2])
    trend = summaries.trend_statistics(means)
    index = np.arange(len(means))
    assert trend.spearman_rho == pytest.approx(np.corrcoef(ranks(index), ranks(means))[0, 1])
    assert trend.kendall_tau == pytest.approx(brute_kendall_tau_b(index, means))
    assert trend.last_n_means[1] == pytest.approx(0.2)
    assert trend.last_n_means[3] == pytest.approx((0.7 + 0.9 + 0.2) / 3)
    # the paper's tables: the last max(1, 7 // 2) = 3 of the 7 layer means
    assert trend.last_half_mean == pytest.approx((0.7 + 0.9 + 0.2) / 3)
    eight = summaries.trend_statistics([*means, 0.4])  # 8 entries (7 blocks): the last 4
    assert eight.last_half_mean == pytest.approx((0.9 + 0.2 + 0.7 + 0.4) / 4)


# max(1, len(layer_means) // 2) over every entry, embedding output (and logits) included, as in the paper's tables
@pytest.mark.parametrize(("entries", "expected"), [(2, 1), (3, 1), (4, 2), (5, 2), (8, 4), (13, 6), (25, 12), (26, 13)])
def test_last_half_size_is_the_papers(entries, expected):
    assert summaries.last_half_size(entries) == expected


def test_trend_of_constant_means_is_nan_not_zero():
    trend = summaries.trend_statistics([0.5, 0.5, 0.5])
    assert np.isnan(trend.spearman_rho) and np.isnan(trend.kendall_tau)


def test_trend_needs_two_layers():
    with pytest.raises(ValueError, match="at least 2 layer means"):
        summaries.trend_statistics([0.4])


def test_density_integrates_to_one_and_bin_edges_are_numpys():
    counts = np.array([[1, 0, 3, 4], [0, 0, 0, 2]])
    density = summaries.density_from_counts(counts)
    np.testing.assert_allclose(density.sum(-1) * (2 / 4), 1.0)
    np.testing.assert_allclose(density[0], counts[0] / counts[0].sum() / 0.5)
    np.testing.assert_array_equal(summaries.bin_edges(8), np.histogram_bin_edges([], bins=8, range=(-1, 1)))


def test_quantiles_of_an_empty_histogram_are_nan():
    assert np.isnan(summaries.histogram_quantiles(np.zeros((1, 4)), (0.5,))).all()
