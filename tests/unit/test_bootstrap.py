"""Bootstrap intervals over texts: equal to a plain-numpy bootstrap, cover the truth, shrink as 1/sqrt(n)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from conftest import bootstrap_oracle
from nb_condense.core import bootstrap
from nb_condense.core.result import CondensationResult


def per_text(rng: np.random.Generator, n_texts: int, n_entries: int, spread: float = 0.15):
    """Per-text means rising with depth and pair counts of texts of unequal lengths (3 to 80 tokens)."""
    tokens = rng.integers(3, 81, size=n_texts)
    pairs = np.repeat((tokens * (tokens - 1))[:, None], n_entries, axis=1)
    means = np.linspace(0.1, 0.6, n_entries) + rng.normal(0, spread, size=(n_texts, n_entries))
    return tokens, means, pairs


def result_of(tokens: np.ndarray, means: np.ndarray, pairs: np.ndarray) -> CondensationResult:
    """A result holding these per-text statistics (histograms are not used by the trend)."""
    n_texts, n_entries = means.shape
    stats = pd.DataFrame({"text": np.repeat(np.arange(n_texts), n_entries),
                          "layer": np.tile(np.arange(n_entries), n_texts),
                          "n_tokens": np.repeat(tokens, n_entries), "n_pairs": pairs.ravel(),
                          "mean": means.ravel(), "std": np.full(means.size, 0.1)})
    return CondensationResult(histograms=np.ones((n_texts, n_entries, 8), dtype=np.int64), stats=stats,
                              layers=np.arange(n_entries), token_counts=tokens,
                              metadata={"model_name": "synthetic", "n_entries": n_entries})


@pytest.mark.parametrize(("n_entries", "ci", "seed"), [(13, 0.95, 0), (7, 0.9, 5), (4, 0.8, 11)])
def test_intervals_equal_a_plain_numpy_bootstrap_with_the_same_resamples(n_entries, ci, seed):
    tokens, means, pairs = per_text(np.random.default_rng(seed), 23, n_entries)
    trend = result_of(tokens, means, pairs).trend(ci=ci, n_boot=300, seed=seed)
    indices = np.random.default_rng(seed).integers(0, 23, size=(300, 23))  # the documented draw
    np.testing.assert_array_equal(bootstrap.resample_indices(23, 300, seed), indices)
    expected, layers = bootstrap_oracle(means, pairs, indices, ci)
    assert trend.intervals is not None and set(trend.intervals) == set(expected)
    for name, bounds in expected.items():
        np.testing.assert_allclose(trend.intervals[name], bounds, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(trend.layer_mean_intervals, layers, rtol=0, atol=1e-12)
    assert (trend.ci, trend.n_boot, trend.method, trend.n_texts) == (ci, 300, "percentile", 23)


def test_rank_statistics_with_tied_layer_means_equal_scipy():
    values = np.random.default_rng(2).integers(0, 4, size=(300, 9)).astype(float)  # many ties
    values = values[~np.all(values == values[:, :1], axis=1)]
    got = bootstrap.trend_replicates(values)
    depth = np.arange(9)
    np.testing.assert_allclose(got["spearman_rho"], [scipy.stats.spearmanr(depth, v)[0] for v in values], atol=1e-12)
    np.testing.assert_allclose(got["kendall_tau"], [scipy.stats.kendalltau(depth, v)[0] for v in values], atol=1e-12)
    assert np.isnan(bootstrap.trend_replicates(np.ones((1, 5)))["spearman_rho"]).all()


def skewed_per_text(seed: int, n_texts: int, n_entries: int):
    """Per-text means with a long right tail (exponential noise): BCa and percentile intervals part."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(3, 81, size=n_texts)
    pairs = np.repeat((tokens * (tokens - 1))[:, None], n_entries, axis=1)
    means = np.linspace(0.1, 0.6, n_entries) + rng.exponential(0.3, size=(n_texts, n_entries)) ** 2
    return tokens, means, pairs


@pytest.mark.parametrize(("name", "last", "ci", "seed"), [("last_half_mean", 3, 0.9, 1), ("last_1_mean", 1, 0.95, 8)])
def test_bca_equals_scipys_bca_on_the_same_resamples(name, last, ci, seed):
    """scipy.stats.bootstrap draws its resamples as ``rng.integers(0, n, (n_resamples, n))``, the documented draw
    of resample_indices: with the same seed both see the same texts, and the BCa intervals agree to rounding."""
    tokens, means, pairs = skewed_per_text(4, 30, 6)
    trend = result_of(tokens, means, pairs).trend(ci=ci, n_boot=400, seed=seed, method="bca")

    def statistic(rows):  # the pooled layer means of the drawn texts, then the mean of the last ``last``
        rows = rows.astype(int)
        return ((means[rows] * pairs[rows]).sum(0) / pairs[rows].sum(0))[-last:].mean()

    def scipy_interval(method):
        out = scipy.stats.bootstrap((np.arange(30),), statistic, vectorized=False, n_resamples=400,
                                    confidence_level=ci, method=method, rng=np.random.default_rng(seed))
        return np.array([out.confidence_interval.low, out.confidence_interval.high])

    bca, percentile = scipy_interval("BCa"), scipy_interval("percentile")
    np.testing.assert_allclose(trend.intervals[name], bca, rtol=0, atol=1e-12)
    # the test tells the two apart: a percentile interval in place of BCa would miss by far more than 1e-12
    assert np.abs(percentile - bca).max() > 1e-3
    np.testing.assert_allclose(result_of(tokens, means, pairs).trend(ci=ci, n_boot=400, seed=seed).intervals[name],
                               percentile, rtol=0, atol=1e-12)


def test_average_ranks_equal_scipys_rankdata():
    values = np.random.default_rng(6).integers(0, 5, size=(200, 11)).astype(float)  # many ties
    np.testing.assert_array_equal(bootstrap._average_ranks(values), scipy.stats.rankdata(values, axis=-1))


def test_95_percent_intervals_cover_the_population_value_92_to_98_percent_of_the_time():
    rng = np.random.default_rng(2026)
    truth = np.array([0.2, 0.35, 0.5])  # per-text means are independent of the pair counts: the pooled mean's target
    covered = {"last_half_mean": 0, "last_2_mean": 0}
    for _ in range(400):
        tokens = rng.integers(3, 81, size=40)
        pairs = np.repeat((tokens * (tokens - 1))[:, None], 3, axis=1)
        means = truth + rng.normal(0, 0.2, size=(40, 3))
        intervals, _ = bootstrap.trend_intervals(means, pairs, ci=0.95, n_boot=1000, seed=rng)
        for name, value in (("last_half_mean", truth[-1]), ("last_2_mean", truth[1:].mean())):
            low, high = intervals[name]
            covered[name] += low <= value <= high
    for name, count in covered.items():
        assert 0.92 <= count / 400 <= 0.98, (name, count / 400)


def test_the_interval_for_25_texts_is_about_twice_as_wide_as_for_100():
    rng = np.random.default_rng(7)
    widths = {25: [], 100: []}
    for n_texts in widths:
        for _ in range(60):
            tokens, means, pairs = per_text(rng, n_texts, 3)
            intervals, _ = bootstrap.trend_intervals(means, pairs, n_boot=1000, seed=rng)
            widths[n_texts].append(np.subtract(*intervals["last_half_mean"][::-1]))
    ratio = np.mean(widths[25]) / np.mean(widths[100])
    assert 1.8 <= ratio <= 2.2, ratio


def test_two_level_replicates_equal_a_loop_over_slots():
    rng = np.random.default_rng(3)
    runs = [per_text(rng, n, 5)[1:] for n in (12, 9, 15)]
    draws = rng.integers(0, 3, size=(200, 3))
    indices = [[rng.integers(0, m.shape[0], size=(200, m.shape[0])) for m, _ in runs] for _ in range(3)]
    got = bootstrap.two_level_replicates(runs, draws, indices)
    expected = []
    for b in range(200):
        values = []
        for j in range(3):
            means, pairs = runs[draws[b, j]]
            rows = indices[j][draws[b, j]][b]
            layer_means = (means[rows] * pairs[rows]).sum(0) / pairs[rows].sum(0)
            values.append(layer_means[-2:].mean())  # last half of 5 layer means: 2
        expected.append(np.mean(values))
    np.testing.assert_allclose(got["last_half_mean"], expected, rtol=0, atol=1e-12)


def test_without_ci_the_trend_is_todays():
    tokens, means, pairs = per_text(np.random.default_rng(0), 10, 7)
    trend = result_of(tokens, means, pairs).trend()
    assert trend.intervals is None and trend.layer_mean_intervals is None
    assert list(trend.as_dict()) == ["spearman_rho", "spearman_p", "kendall_tau", "kendall_p", "last_1_mean",
                                     "last_2_mean", "last_3_mean", "last_4_mean", "last_5_mean", "last_half_mean"]
    with_ci = result_of(tokens, means, pairs).trend(ci=0.95).as_dict()
    assert list(with_ci)[:4] == ["spearman_rho", "spearman_rho_low", "spearman_rho_high", "spearman_p"]
    assert with_ci["last_half_mean_low"] <= with_ci["last_half_mean"] <= with_ci["last_half_mean_high"]


def test_bad_arguments_say_what_to_do():
    tokens, means, pairs = per_text(np.random.default_rng(0), 10, 7)
    result = result_of(tokens, means, pairs)
    with pytest.raises(ValueError, match=r"ci=95: give the interval's coverage as a fraction between 0 and 1"):
        result.trend(ci=95)
    with pytest.raises(ValueError, match=r"n_boot=10: use at least 100 resamples"):
        result.trend(ci=0.95, n_boot=10)
    with pytest.raises(ValueError, match=r"method='bootstrap-t': choose one of \['percentile', 'bca'\]"):
        result.trend(ci=0.95, method="bootstrap-t")
    one = result_of(tokens[:1], means[:1], pairs[:1])
    with pytest.raises(ValueError, match="needs at least 2 texts, got 1: measure more texts"):
        one.trend(ci=0.95)
    result.metadata["layer_means"] = "position_average"
    result.cossim_by_layer = np.ones((7, 3, 3))
    with pytest.raises(ValueError, match="position averages .* Measure with nbc.measure"):
        result.trend(ci=0.95)


@pytest.mark.parametrize(("verdict", "numbers", "texts", "seeds", "expected"), [
    ("a_more", (0.12, 0.09, 0.15), (100, 100), (1, 1),
     "gpt2 condenses more than gpt2-large in the last half (difference 0.12, 95 % interval 0.09 to 0.15)"),
    ("b_more", (-0.12, -0.15, -0.09), (100, 100), (1, 1),  # said the natural way round, with a positive number
     "gpt2-large condenses more than gpt2 in the last half (difference 0.12, 95 % interval 0.09 to 0.15)"),
    ("cannot_tell", (0.01, -0.02, 0.04), (30, 30), (1, 1),
     "cannot tell gpt2 and gpt2-large apart in the last half at 30 texts (difference 0.01, 95 % interval -0.02 to "
     "0.04): measure more texts"),
    ("cannot_tell", (0.01, -0.004, 0.024), (30, 40), (3, 3),  # 0.028 wide: margin 0.014 -> 3 decimals
     "cannot tell gpt2 and gpt2-large apart in the last half at 30 and 40 texts over 3 seeds each (difference "
     "0.010, 95 % interval -0.004 to 0.024): measure more texts or seeds"),
    ("b_more", (-0.12, -0.15, -0.09), (100, 100), (2, 1),  # turned round: the seed counts follow their names
     "gpt2-large condenses more than gpt2 in the last half over 1 and 2 seeds (difference 0.12, 95 % interval 0.09 "
     "to 0.15)"),
    ("b_more", (-0.12, -0.15, -0.09), (30, 40), (3, 1),
     "gpt2-large condenses more than gpt2 in the last half over 1 and 3 seeds (difference 0.12, 95 % interval 0.09 "
     "to 0.15)"),
])
def test_readings_have_the_issues_shape(verdict, numbers, texts, seeds, expected):
    from nb_condense.explore.compare import _reading

    estimate, low, high = numbers
    assert _reading(verdict, ("gpt2", "gpt2-large"), "last_half_mean", estimate, (low, high), 0.95, texts,
                    seeds) == expected
