"""Summaries of measured histograms and layer means, in numpy: densities, quantiles and depth trends.

Everything here works on arrays that a saved result holds, so exploring a result needs neither torch nor a
model. Shapes are written ``[text, layer, bin]`` etc. in the docstrings; histograms live on [-1, 1].

Example
-------
>>> counts = np.array([[0, 2, 2, 0]])            # one layer, 4 bins on [-1, 1]
>>> density_from_counts(counts).tolist()         # integrates to 1: sum * bin width (0.5) == 1
[[0.0, 1.0, 1.0, 0.0]]
>>> histogram_quantiles(counts, (0.5,)).round(6).tolist()
[[0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "QUANTILES",
    "TrendStatistics",
    "bin_centers",
    "bin_edges",
    "density_from_counts",
    "histogram_quantiles",
    "last_half_size",
    "matrix_density",
    "trend_statistics",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles kept per text and layer (columns ``q05 .. q95`` of a result's statistics)."""


def bin_edges(bins: int) -> npt.NDArray[np.float64]:
    """The ``bins + 1`` edges on [-1, 1], exactly as ``numpy.histogram(range=(-1, 1))`` uses them."""
    return np.linspace(-1.0, 1.0, bins + 1)


def bin_centers(bins: int) -> npt.NDArray[np.float64]:
    """The centre of each of the ``bins`` bins on [-1, 1]."""
    edges = bin_edges(bins)
    return (edges[:-1] + edges[1:]) / 2


def density_from_counts(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Probability density ``[..., bins]`` on [-1, 1] from counts (``sum(density) * bin_width == 1``)."""
    values = np.asarray(counts, dtype=np.float64)
    density: npt.NDArray[np.float64] = values / (values.sum(axis=-1, keepdims=True) * (2.0 / values.shape[-1]))
    return density


def matrix_density(matrices: np.ndarray, bins: int) -> np.ndarray:
    """Density ``[layer, bins]`` of every entry of each ``[layer, S, S]`` matrix on [-1, 1], diagonal included.

    Exactly ``numpy.histogram(m.ravel(), bins, range=(-1, 1), density=True)`` per layer: the paper's heatmap of
    position-averaged matrices.
    """
    return np.stack([np.histogram(np.asarray(m).ravel(), bins=bins, range=(-1.0, 1.0), density=True)[0]
                     for m in matrices])


def histogram_quantiles(counts: np.ndarray, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Quantiles ``[..., len(quantiles)]`` read off histograms ``[..., bins]`` on [-1, 1].

    Mass is taken as uniform inside each bin (linear interpolation of the cumulative distribution).
    Empty histograms give NaN.
    """
    counts = np.asarray(counts, dtype=np.float64)
    bins = counts.shape[-1]
    q = np.asarray(quantiles, dtype=np.float64)
    total = counts.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = counts.cumsum(-1) / total
        # first bin whose cumulative share reaches q (numpy's searchsorted, batched)
        index = np.minimum((cdf[..., None, :] < q[:, None]).sum(-1), bins - 1)
        below = np.where(index > 0, np.take_along_axis(cdf, np.maximum(index - 1, 0), -1), 0.0)
        in_bin = np.take_along_axis(counts, index, -1) / total
        fraction = np.clip(np.where(in_bin > 0, (q - below) / in_bin, 0.0), 0.0, 1.0)
    values = -1.0 + (index + fraction) * (2.0 / bins)
    return np.where(total > 0, values, np.nan)


def last_half_size(n_layer_means: int) -> int:
    """How many of the last layer means form the "last half": ``max(1, n // 2)``, as in the paper's tables.

    ``n_layer_means`` counts every measured entry: the embedding output, each block, and the logits
    entry when it is measured.

    >>> last_half_size(13), last_half_size(8), last_half_size(2)   # GPT-2 small; 7 blocks; 1 block
    (6, 4, 1)
    """
    return max(1, n_layer_means // 2)


@dataclass
class TrendStatistics:
    """How condensation grows with depth, for one model (the paper's family tables).

    The p-values test "no trend" across the 7-25 layer means; they say nothing about how the numbers would move
    with other texts. That uncertainty is in ``intervals`` and ``layer_mean_intervals``, filled by
    ``result.trend(ci=0.95)`` (a bootstrap over texts, :mod:`nb_condense.core.bootstrap`); ``None`` otherwise.
    ``ci``, ``n_boot``, ``method`` and ``n_texts`` say how they were made.
    """

    layer_means: np.ndarray
    spearman_rho: float
    spearman_p: float
    kendall_tau: float
    kendall_p: float
    last_n_means: dict[int, float]
    last_half_mean: float
    intervals: dict[str, tuple[float, float]] | None = None
    layer_mean_intervals: np.ndarray | None = None
    ci: float | None = None
    n_boot: int | None = None
    method: str | None = None
    n_texts: int | None = None

    def as_dict(self) -> dict[str, float]:
        """Flat scalars (``last_1_mean`` ... ``last_5_mean``), for tables.

        With intervals, ``<name>_low`` and ``<name>_high`` follow each statistic that has one.
        """
        row = {
            "spearman_rho": self.spearman_rho,
            "spearman_p": self.spearman_p,
            "kendall_tau": self.kendall_tau,
            "kendall_p": self.kendall_p,
        }
        row.update({f"last_{k}_mean": v for k, v in self.last_n_means.items()})
        row["last_half_mean"] = self.last_half_mean
        if not self.intervals:
            return row
        out: dict[str, float] = {}
        for name, value in row.items():
            out[name] = value
            if name in self.intervals:
                out[f"{name}_low"], out[f"{name}_high"] = self.intervals[name]
        return out


def trend_statistics(
    layer_means: Sequence[float] | np.ndarray, last_n: Sequence[int] = (1, 2, 3, 4, 5)
) -> TrendStatistics:
    """Spearman rho and Kendall tau-b of layer means vs layer index, last-N and last-half means.

    A constant sequence has no rank correlation: rho and tau are NaN then (never a made-up 0).

    >>> t = trend_statistics([0.1, 0.2, 0.4, 0.9])
    >>> round(t.spearman_rho, 3), round(t.kendall_tau, 3), round(t.last_half_mean, 3)
    (1.0, 1.0, 0.65)
    """
    from scipy import stats as scipy_stats  # ~0.3 s: paid at the first trend, not at import

    means = np.asarray(layer_means, dtype=np.float64)
    if means.ndim != 1 or means.size < 2:
        raise ValueError(f"Need at least 2 layer means for a trend, got shape {means.shape}.")
    index = np.arange(means.size)
    if np.all(means == means[0]):
        rho = rho_p = tau = tau_p = float("nan")
    else:
        rho, rho_p = scipy_stats.spearmanr(index, means)
        tau, tau_p = scipy_stats.kendalltau(index, means)  # tau-b, scipy's default
    return TrendStatistics(
        layer_means=means,
        spearman_rho=float(rho),
        spearman_p=float(rho_p),
        kendall_tau=float(tau),
        kendall_p=float(tau_p),
        last_n_means={k: float(means[-k:].mean()) for k in last_n if k <= means.size},
        last_half_mean=float(means[-last_half_size(means.size):].mean()),
    )
