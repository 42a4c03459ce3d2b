"""Bootstrap over texts: how much a result's trend statistics would move with other texts (numpy only).

A result stores, for every text and layer, the mean cosine of the text's token pairs and their number. The
pooled layer mean is ``sum(mean * pairs) / sum(pairs)`` over texts, so a resample of the texts (drawn with
replacement) is a vector of counts ``c`` (how often each text was drawn), and its layer means are
``(c @ (mean * pairs)) / (c @ pairs)``: one matrix product for all resamples, no forward pass. Every trend
statistic (Spearman rho, Kendall tau-b, last-N and last-half means) is then recomputed from each resample's layer
means exactly as :func:`~nb_condense.core.summaries.trend_statistics` computes the point estimate.

Example
-------
>>> means = np.array([[0.1, 0.3, 0.5], [0.2, 0.2, 0.6]])     # 2 texts x 3 layers
>>> pairs = np.array([[6, 6, 6], [2, 2, 2]])
>>> counts = np.array([[1, 1], [2, 0]])                      # all texts once; text 0 twice
>>> layer_means_of(counts, means, pairs).round(3).tolist()
[[0.125, 0.275, 0.525], [0.1, 0.3, 0.5]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from .summaries import last_half_size

__all__ = [
    "INTERVAL_METHODS",
    "check_ci",
    "counts_of",
    "interval",
    "interval_digits",
    "jackknife_counts",
    "layer_means_of",
    "resample_indices",
    "trend_intervals",
    "trend_names",
    "trend_replicates",
    "two_level_replicates",
]

INTERVAL_METHODS = ("percentile", "bca")
"""How an interval is read off the bootstrap replicates (see :func:`interval`)."""


def trend_names(n_entries: int, last_n: Sequence[int] = (1, 2, 3, 4, 5)) -> list[str]:
    """The statistics that get an interval, for a result with ``n_entries`` layer means."""
    return ["spearman_rho", "kendall_tau", *[f"last_{k}_mean" for k in last_n if k <= n_entries], "last_half_mean"]


def check_ci(ci: float, n_boot: int, method: str = "percentile") -> None:
    """Raise a ``ValueError`` that names the argument when ``ci``, ``n_boot`` or ``method`` is unusable."""
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1:
        raise ValueError(f"ci={ci!r}: give the interval's coverage as a fraction between 0 and 1, e.g. ci=0.95.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot={n_boot!r}: use at least 100 resamples (1000 is the default; the interval's "
                         "ends are quantiles of the resamples, so fewer make them jump).")
    if method not in INTERVAL_METHODS:
        raise ValueError(f"method={method!r}: choose one of {list(INTERVAL_METHODS)}.")


def resample_indices(n_texts: int, n_boot: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Text indices ``[n_boot, n_texts]`` of ``n_boot`` resamples drawn with replacement (seeded, reproducible)."""
    if n_texts < 2:
        raise ValueError(f"A bootstrap over texts needs at least 2 texts, got {n_texts}: measure more texts.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.integers(0, n_texts, size=(n_boot, n_texts))


def counts_of(indices: np.ndarray, n_texts: int) -> np.ndarray:
    """How often each text was drawn in each resample: ``[n_boot, n_texts]`` counts from ``[n_boot, k]`` indices."""
    n_boot = indices.shape[0]
    flat = (indices + n_texts * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_texts).reshape(n_boot, n_texts)


def jackknife_counts(n_texts: int) -> np.ndarray:
    """Counts ``[n_texts, n_texts]`` of the leave-one-text-out samples (row i omits text i)."""
    return 1 - np.eye(n_texts, dtype=np.int64)


def layer_means_of(counts: npt.ArrayLike, means: npt.ArrayLike, pairs: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pair-weighted layer means ``[n_boot, n_entries]`` of resamples given as text counts ``[n_boot, n_texts]``.

    ``means`` and ``pairs`` are the stored per-text means and pair counts ``[n_texts, n_entries]``; a text drawn
    twice weighs twice, exactly as if it had been measured twice.
    """
    weights = np.asarray(counts, dtype=np.float64)
    n_pairs = np.asarray(pairs, dtype=np.float64)
    return (weights @ (np.asarray(means, dtype=np.float64) * n_pairs)) / (weights @ n_pairs)


def _average_ranks(values: np.ndarray) -> npt.NDArray[np.float64]:
    """Ranks 1..n along the last axis, ties sharing their average rank (scipy's ``rankdata`` default)."""
    below: npt.NDArray[np.int64] = (values[..., None, :] < values[..., :, None]).sum(-1)
    tied: npt.NDArray[np.int64] = (values[..., None, :] == values[..., :, None]).sum(-1)
    return below + (tied + 1) / 2


def _spearman_with_depth(values: np.ndarray) -> npt.NDArray[np.float64]:
    """Spearman's rho of each row against its position (Pearson's r of the average ranks); NaN for a constant row."""
    ranks = _average_ranks(values)
    depth = np.arange(1, values.shape[-1] + 1, dtype=np.float64)
    a = ranks - ranks.mean(-1, keepdims=True)
    b = depth - depth.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        rho: npt.NDArray[np.float64] = (a @ b) / np.sqrt((a * a).sum(-1) * (b @ b))
    return rho


def _kendall_with_depth(values: np.ndarray) -> npt.NDArray[np.float64]:
    """Kendall's tau-b of each row against its position (which has no ties); NaN for a constant row."""
    n = values.shape[-1]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    # sign(x_j - x_i) for i < j
    signs: npt.NDArray[np.float64] = np.sign(values[..., None, :] - values[..., :, None])[..., upper]
    pairs = n * (n - 1) / 2
    tied = (signs == 0).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau: npt.NDArray[np.float64] = signs.sum(-1) / np.sqrt((pairs - tied) * pairs)
    return tau


def trend_replicates(layer_means: np.ndarray, last_n: Sequence[int] = (1, 2, 3, 4, 5)) -> dict[str, np.ndarray]:
    """Every trend statistic of each row of ``layer_means`` ``[n_boot, n_entries]``, as in ``trend_statistics``.

    Returns ``{name: [n_boot]}`` for the names of :func:`trend_names`. A constant row has no rank correlation
    (NaN), as for the point estimate.
    """
    values = np.asarray(layer_means, dtype=np.float64)
    n = values.shape[-1]
    constant = np.all(values == values[..., :1], axis=-1)
    out = {"spearman_rho": np.where(constant, np.nan, _spearman_with_depth(values)),
           "kendall_tau": np.where(constant, np.nan, _kendall_with_depth(values))}
    out.update({f"last_{k}_mean": values[..., -k:].mean(-1) for k in last_n if k <= n})
    out["last_half_mean"] = values[..., -last_half_size(n):].mean(-1)
    return out


def interval(replicates: np.ndarray, ci: float, *, method: str = "percentile", estimate: float | None = None,
             jackknife: np.ndarray | None = None) -> tuple[float, float]:
    """The ``ci`` interval read off bootstrap ``replicates``.

    ``method="percentile"`` (the default): the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles of the replicates.
    It needs no model of the statistic, stays inside the statistic's range (rho in [-1, 1]) and follows any
    monotone change of scale.

    ``method="bca"``: bias-corrected and accelerated (Efron 1987): the quantile levels shift by the share of
    replicates below ``estimate`` and by the skewness of the leave-one-text-out values ``jackknife``. It is not the
    default because the rank statistics over 7-25 layers take few distinct values: often most replicates equal
    the estimate exactly (rho = 1), so the share below it, and with it the correction, jumps with one swapped layer
    (and is undefined when no replicate lies below). For the layer means (smooth ratios of sums) both agree closely.

    Replicates that are NaN (a resample whose layer means are all equal has no rank correlation) are left out;
    all NaN gives ``(nan, nan)``.
    """
    values = np.asarray(replicates, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - ci) / 2
    levels = np.array([alpha, 1 - alpha])
    if method == "bca":
        if estimate is None or jackknife is None:
            raise ValueError("method='bca' needs the point estimate and the leave-one-out (jackknife) values.")
        levels = _bca_levels(values, float(estimate), np.asarray(jackknife, dtype=np.float64), levels)
    low, high = np.quantile(values, levels)
    return float(low), float(high)


def _bca_levels(values: np.ndarray, estimate: float, jackknife: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The BCa quantile levels (Efron and Tibshirani 1993, eq. 14.10) for the nominal ``levels``."""
    normal = NormalDist()
    below = float(np.mean(values < estimate))
    if not 0 < below < 1:
        raise ValueError(f"The BCa interval is undefined here: {below:.0%} of the resamples lie below the estimate "
                         "(a rank statistic at its bound?). Use method='percentile'.")
    z0 = normal.inv_cdf(below)
    centred = jackknife[~np.isnan(jackknife)]
    centred = centred.mean() - centred
    spread = float((centred**2).sum())
    accel = float((centred**3).sum()) / (6 * spread**1.5) if spread > 0 else 0.0
    out = []
    for level in levels:
        z = z0 + normal.inv_cdf(float(level))
        out.append(normal.cdf(z0 + z / (1 - accel * z)))
    return np.array([min(max(p, 0.0), 1.0) for p in out])


def interval_digits(width: float) -> int:
    """Decimals that show half an interval's ``width`` (its margin) to one significant figure, at least 2.

    >>> interval_digits(0.06), interval_digits(0.0144), interval_digits(0.0)
    (2, 3, 2)
    """
    if not math.isfinite(width) or width <= 0:
        return 2
    return max(2, -math.floor(math.log10(width / 2)))


def trend_intervals(means: np.ndarray, pairs: np.ndarray, *, ci: float = 0.95, n_boot: int = 1000,
                    seed: int | np.random.Generator | None = 0, method: str = "percentile",
                    last_n: Sequence[int] = (1, 2, 3, 4, 5)) -> tuple[dict[str, tuple[float, float]], np.ndarray]:
    """Intervals of every trend statistic and of each layer mean, from per-text ``means`` and ``pairs``.

    ``means`` and ``pairs`` are ``[n_texts, n_entries]``. Returns ``({name: (low, high)}, [n_entries, 2])``.
    The resamples are :func:`resample_indices` ``(n_texts, n_boot, seed)``.
    """
    check_ci(ci, n_boot, method)
    means = np.asarray(means, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.float64)
    n_texts = means.shape[0]
    counts = counts_of(resample_indices(n_texts, n_boot, seed), n_texts)
    boot = layer_means_of(counts, means, pairs)
    replicates = trend_replicates(boot, last_n)
    if method == "bca":
        point = layer_means_of(np.ones((1, n_texts)), means, pairs)
        jack = layer_means_of(jackknife_counts(n_texts), means, pairs)
        points, jacks = trend_replicates(point, last_n), trend_replicates(jack, last_n)
        intervals = {name: interval(values, ci, method="bca", estimate=float(points[name][0]), jackknife=jacks[name])
                     for name, values in replicates.items()}
        layers = np.array([interval(boot[:, k], ci, method="bca", estimate=float(point[0, k]), jackknife=jack[:, k])
                           for k in range(boot.shape[1])])
    else:
        intervals = {name: interval(values, ci) for name, values in replicates.items()}
        alpha = (1 - ci) / 2
        layers = np.quantile(boot, [alpha, 1 - alpha], axis=0).T
    return intervals, layers


def two_level_replicates(runs: Sequence[tuple[np.ndarray, np.ndarray]], draws: np.ndarray,
                         indices: Sequence[Sequence[np.ndarray]],
                         last_n: Sequence[int] = (1, 2, 3, 4, 5)) -> dict[str, np.ndarray]:
    """Replicates of the mean over runs (seeds) of each trend statistic: seeds drawn, then texts within each.

    Parameters
    ----------
    runs
        ``(means, pairs)`` per run (one training seed, say), each ``[n_texts_k, n_entries]``.
    draws
        ``[n_boot, n_slots]``: which run fills each slot of each replicate (runs drawn with replacement).
    indices
        ``indices[j][k]``: text indices ``[n_boot, n_texts_k]`` that resample run ``k`` when it fills slot ``j``.

    Returns
    -------
    dict
        ``{name: [n_boot]}``: replicate ``b`` is the average over slots ``j`` of the statistic of run
        ``draws[b, j]`` on its texts resampled by ``indices[j][draws[b, j]][b]``. With one run and one slot this is
        the plain bootstrap over texts.
    """
    n_boot, n_slots = draws.shape
    per: dict[str, np.ndarray] = {}
    for j in range(n_slots):
        for k, (means, pairs) in enumerate(runs):
            n_texts = np.asarray(means).shape[0]
            stats = trend_replicates(layer_means_of(counts_of(indices[j][k], n_texts), means, pairs), last_n)
            for name, values in stats.items():
                per.setdefault(name, np.full((len(runs), n_slots, n_boot), np.nan))[k, j] = values
    rows = np.arange(n_boot)
    return {name: np.stack([table[draws[:, j], j, rows] for j in range(n_slots)]).mean(0)
            for name, table in per.items()}
