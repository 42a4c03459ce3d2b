"""Pure tensor maths: cosine matrices, histograms, per-text and per-model statistics.

Every function works on any device and does its arithmetic in float32 (float64 for sums), whatever
dtype the hidden states come in. Shapes are written ``[layer, token, token]`` etc. in the docstrings.

Example
-------
>>> import torch
>>> x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])   # [layer=1, token=3, dim=2]
>>> cos = cosine_matrix(x)
>>> histogram_counts(cos, bins=4).tolist()                       # off-diagonal pairs only
[[0, 0, 2, 4]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats as scipy_stats

__all__ = [
    "NORM_EPS",
    "PositionAverage",
    "QUANTILES",
    "TrendStatistics",
    "TextLayerStatistics",
    "bin_edges",
    "cosine_matrices",
    "cosine_matrix",
    "density_from_counts",
    "effective_rank",
    "histogram_counts",
    "histogram_quantiles",
    "l2_normalize",
    "last_half_size",
    "text_layer_statistics",
    "trend_statistics",
]

NORM_EPS = 1e-3
"""Norm floor of the reference implementation: ``x / max(||x||, 1e-3)`` (all-zero rows stay zero)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _normalise_(z: torch.Tensor, eps: float) -> torch.Tensor:
    """Divide the rows of ``z`` (a fresh float tensor) by ``max(||row||, eps)`` in place; returns ``z``."""
    z /= torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min_(eps)
    return z


def l2_normalize(x: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Rows of ``x`` (``[..., token, dim]``) divided by ``max(||row||, eps)``, in float32."""
    return _normalise_(x.float().clone(), eps)


def cosine_matrix(x: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Cosine similarities ``[..., token, token]`` of the rows of ``x`` (``[..., token, dim]``), clipped to [-1, 1]."""
    return _gram_of_normalised(x.float().clone(), eps)  # the clone keeps the caller's tensor intact


def _gram_of_normalised(z: torch.Tensor, eps: float) -> torch.Tensor:
    """Normalise the float32 rows of ``z`` in place (it must be a fresh copy) and return their clipped Gram matrix."""
    z = _normalise_(z, eps)
    return (z @ z.transpose(-1, -2)).clamp_(-1.0, 1.0)


def cosine_matrices(hidden: Sequence[torch.Tensor], eps: float = NORM_EPS) -> torch.Tensor:
    """Cosine matrices ``[layer, n, n]`` of per-layer token vectors ``[n, dim_k]`` (widths and devices may vary).

    Consecutive layers of one width on one device are computed together; the result lives on the
    device of the first layer (only ``n x n`` matrices move, never the hidden states).
    """
    if not hidden:
        raise ValueError("No hidden states given.")
    groups: list[list[torch.Tensor]] = [[hidden[0]]]
    for tensor in hidden[1:]:
        last = groups[-1][-1]
        if tensor.shape == last.shape and tensor.device == last.device:
            groups[-1].append(tensor)
        else:
            groups.append([tensor])
    target = hidden[0].device
    parts = []
    for group in groups:
        stacked = torch.stack(group)  # a fresh copy
        z = stacked if stacked.dtype == torch.float32 else stacked.float()
        parts.append(_gram_of_normalised(z, eps).to(target))
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def bin_edges(bins: int) -> np.ndarray:
    """The ``bins + 1`` edges on [-1, 1], exactly as ``numpy.histogram(range=(-1, 1))`` uses them."""
    return np.linspace(-1.0, 1.0, bins + 1)


def _bin_index(values: torch.Tensor, bins: int) -> torch.Tensor:
    """Bin of each value as a float tensor: ``edges[k] <= v < edges[k+1]``, last bin closed (numpy's rule).

    The bin is ``floor((v + 1) * bins / 2)``; only values within round-off of an edge (a tiny fraction)
    are re-checked against numpy's edges, which numpy builds in the data's dtype. Works in place on
    fresh buffers: this runs on every cosine of every text.
    """
    if values.dtype != torch.float64:
        values = values.float()
    scaled = values + 1.0
    scaled.mul_(bins / 2.0)
    index = scaled.floor().clamp_(0, bins - 1)
    offset = scaled.sub_(index)  # in [0, 1) inside the range; 1 for v = 1 in the last bin
    tol = 1e-6 * (bins + 1)  # well above the float32 round-off of (v + 1) * bins / 2
    near = (offset < tol).logical_or_(offset > 1.0 - tol)
    where = near.nonzero(as_tuple=True)
    if where[0].numel():
        dtype = np.float64 if values.dtype == torch.float64 else np.float32
        edges = torch.from_numpy(np.linspace(-1.0, 1.0, bins + 1, dtype=dtype)).to(values.device)
        v = values[where]
        k = index[where].long()
        k -= (v < edges[k]).long()
        k += ((v >= edges[k + 1]) & (k != bins - 1)).long()
        index[where] = k.to(index.dtype)
    return index


def histogram_counts(cos: torch.Tensor, bins: int = 128, include_diagonal: bool = False) -> torch.Tensor:
    """Counts ``[..., bins]`` of the entries of square matrices ``cos`` (``[..., n, n]``) on [-1, 1].

    With ``include_diagonal=False`` (default) the ``n`` self-similarities are left out, so the counts
    cover the ``n (n - 1)`` ordered pairs of distinct tokens. ``True`` counts all ``n**2`` entries, as
    the reference implementation does. Values equal numpy's ``np.histogram(v, bins, range=(-1, 1))``.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")
    if cos.ndim < 2 or cos.shape[-1] != cos.shape[-2]:
        raise ValueError(f"Expected square matrices [..., n, n], got shape {tuple(cos.shape)}.")
    lead = cos.shape[:-2]
    n = cos.shape[-1]
    groups = math.prod(lead)

    def count(values: torch.Tensor) -> torch.Tensor:  # values [groups, m]
        index = _bin_index(values, bins)
        offsets = torch.arange(groups, device=values.device).unsqueeze(1) * bins
        if groups * bins < 2**24 and index.dtype == torch.float32:  # exact integers in float32
            flat = index.add_(offsets.to(index.dtype)).int()
        else:
            flat = index.long().add_(offsets)
        return torch.bincount(flat.reshape(-1), minlength=groups * bins).reshape(groups, bins)

    counts = count(cos.reshape(groups, n * n))
    if not include_diagonal:
        counts -= count(cos.diagonal(dim1=-2, dim2=-1).reshape(groups, n))
    return counts.reshape(*lead, bins)


def density_from_counts(counts: np.ndarray) -> np.ndarray:
    """Probability density ``[..., bins]`` on [-1, 1] from counts (``sum(density) * bin_width == 1``)."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts / (counts.sum(axis=-1, keepdims=True) * (2.0 / counts.shape[-1]))


def histogram_quantiles(counts: torch.Tensor, quantiles: Sequence[float] = QUANTILES) -> torch.Tensor:
    """Quantiles ``[..., len(quantiles)]`` read off histograms ``[..., bins]`` on [-1, 1].

    Mass is taken as uniform inside each bin (linear interpolation of the cumulative distribution).
    Empty histograms give NaN.
    """
    counts = counts.double()
    bins = counts.shape[-1]
    width = 2.0 / bins
    total = counts.sum(-1, keepdim=True)
    cdf = counts.cumsum(-1) / total  # [..., bins]
    q = torch.tensor(list(quantiles), dtype=torch.float64, device=counts.device)
    q = q.expand(*cdf.shape[:-1], len(quantiles)).contiguous()
    index = torch.searchsorted(cdf.contiguous(), q).clamp_(max=bins - 1)  # first bin whose cdf >= q
    below = torch.where(index > 0, cdf.gather(-1, (index - 1).clamp_(min=0)), torch.zeros_like(q))
    in_bin = counts.gather(-1, index) / total
    fraction = torch.where(in_bin > 0, (q - below) / in_bin, torch.zeros_like(q)).clamp_(0.0, 1.0)
    return -1.0 + (index.double() + fraction) * width


def effective_rank(cos: torch.Tensor) -> torch.Tensor:
    """RankMe effective rank ``[...]`` of the normalised token vectors behind ``cos`` (``[..., n, n]``).

    The singular values of the unit-norm token matrix are the square roots of the eigenvalues of its
    cosine (Gram) matrix; with ``p_k = s_k / sum(s)``, the effective rank is ``exp(-sum p_k log p_k)``
    (between 1 for a collapsed cone and ``min(n, dim)``).
    """
    eig = torch.linalg.eigvalsh(cos.double())
    # Eigenvalues below float32 round-off of the cosines are zeros (rank deficiency), not directions.
    tol = eig.amax(-1, keepdim=True) * cos.shape[-1] * torch.finfo(torch.float32).eps
    singular = torch.where(eig > tol, eig, torch.zeros_like(eig)).sqrt()
    p = singular / singular.sum(-1, keepdim=True).clamp_min(1e-30)
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)
    return entropy.exp()


@dataclass
class TextLayerStatistics:
    """Per-layer statistics of one text (each a tensor ``[layer]``, counts ``[layer, bins]``)."""

    counts: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    quantiles: torch.Tensor  # [layer, len(QUANTILES)]
    effective_rank: torch.Tensor | None


def text_layer_statistics(
    cos: torch.Tensor,
    bins: int = 128,
    include_diagonal: bool = False,
    with_effective_rank: bool = False,
) -> TextLayerStatistics:
    """Histogram counts, exact mean/std and histogram quantiles of one text's cosine matrices ``[layer, n, n]``."""
    n = cos.shape[-1]
    pairs = n * n if include_diagonal else n * (n - 1)
    if pairs == 0:
        raise ValueError("A text needs at least 2 tokens to have a pair of distinct tokens.")
    # row sums in float32 (short, accurate), then float64 across rows
    total = cos.sum(-1).double().sum(-1)
    total_sq = torch.linalg.vector_norm(cos, dim=-1).double().square().sum(-1)
    if not include_diagonal:
        diag = cos.diagonal(dim1=-2, dim2=-1).double()
        total = total - diag.sum(-1)
        total_sq = total_sq - diag.square().sum(-1)
    mean = total / pairs
    std = (total_sq / pairs - mean.square()).clamp_(min=0.0).sqrt()
    counts = histogram_counts(cos, bins, include_diagonal)
    return TextLayerStatistics(
        counts=counts,
        mean=mean,
        std=std,
        quantiles=histogram_quantiles(counts),
        effective_rank=effective_rank(cos) if with_effective_rank else None,
    )


def last_half_size(n_layer_means: int) -> int:
    """How many of the last layer means form the "last half": ``max(1, L // 2)`` with ``L = n - 1`` blocks.

    ``n_layer_means`` counts every entry (embedding output included), so ``L`` is the number of blocks.

    >>> last_half_size(13)   # GPT-2 small: 12 blocks -> last 6 layer means
    6
    """
    return max(1, (n_layer_means - 1) // 2)


@dataclass
class TrendStatistics:
    """How condensation grows with depth, for one model (the paper's family tables)."""

    layer_means: np.ndarray
    spearman_rho: float
    spearman_p: float
    kendall_tau: float
    kendall_p: float
    last_n_means: dict[int, float]
    last_half_mean: float

    def as_dict(self) -> dict[str, float]:
        """Flat scalars (``last_1_mean`` ... ``last_5_mean``), for tables."""
        row = {
            "spearman_rho": self.spearman_rho,
            "spearman_p": self.spearman_p,
            "kendall_tau": self.kendall_tau,
            "kendall_p": self.kendall_p,
        }
        row.update({f"last_{k}_mean": v for k, v in self.last_n_means.items()})
        row["last_half_mean"] = self.last_half_mean
        return row


def trend_statistics(layer_means: Sequence[float] | np.ndarray, last_n: Sequence[int] = (1, 2, 3, 4, 5)) -> TrendStatistics:
    """Spearman rho and Kendall tau-b of layer means vs layer index, last-N and last-half means.

    A constant sequence has no rank correlation: rho and tau are NaN then (never a made-up 0).

    >>> t = trend_statistics([0.1, 0.2, 0.4, 0.9])
    >>> round(t.spearman_rho, 3), round(t.kendall_tau, 3), round(t.last_half_mean, 3)
    (1.0, 1.0, 0.9)
    """
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


class PositionAverage:
    """Running element-wise mean of square matrices ``[layer, n, n]`` whose ``n`` varies.

    Matrices are aligned at the top-left (token position 0); entry ``(i, j)`` of the mean averages
    over the matrices that have it (texts with more than ``max(i, j)`` tokens). Memory is one float64
    ``[layer, S, S]`` sum for the longest ``S`` seen, whatever the number of matrices.

    >>> avg = PositionAverage()
    >>> avg.add(torch.ones(1, 2, 2)); avg.add(torch.zeros(1, 3, 3))
    >>> avg.mean()[0].tolist()
    [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.lengths: list[int] = []

    def add(self, matrices: torch.Tensor) -> None:
        n = matrices.shape[-1]
        if self.total is None or n > self.total.shape[-1]:
            grown = matrices.new_zeros((matrices.shape[0], n, n), dtype=torch.float64)
            if self.total is not None:
                old = self.total.shape[-1]
                grown[:, :old, :old] = self.total
            self.total = grown
        elif matrices.shape[0] != self.total.shape[0]:
            raise ValueError(f"Expected {self.total.shape[0]} layers, got {matrices.shape[0]}.")
        self.total[:, :n, :n] += matrices
        self.lengths.append(n)

    def mean(self) -> torch.Tensor:
        """The element-wise mean ``[layer, S, S]`` (float64)."""
        if self.total is None:
            raise ValueError("No matrices were added.")
        size = self.total.shape[-1]
        lengths = torch.tensor(self.lengths, device=self.total.device)
        # texts covering position m: those with more than m tokens
        covering = (lengths.unsqueeze(0) > torch.arange(size, device=lengths.device).unsqueeze(1)).sum(1)
        position = torch.arange(size, device=lengths.device)
        count = covering[torch.maximum(position.unsqueeze(0), position.unsqueeze(1))]
        return self.total / count.to(torch.float64)
