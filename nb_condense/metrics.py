"""Pure tensor maths on hidden states: cosine matrices, histogram counts, per-text statistics.

Every function works on any device and does its arithmetic in float32 (float64 for sums), whatever
dtype the hidden states come in. Shapes are written ``[layer, token, token]`` etc. in the docstrings.
Summaries that need no torch (densities, quantiles, depth trends) live in :mod:`nb_condense.summaries`.

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

from .summaries import bin_edges

__all__ = [
    "NORM_EPS",
    "PositionAverage",
    "TextLayerStatistics",
    "cosine_matrices",
    "cosine_matrix",
    "effective_rank",
    "histogram_counts",
    "l2_normalize",
    "text_layer_statistics",
]

NORM_EPS = 1e-3
"""Norm floor of the reference implementation: ``x / max(||x||, 1e-3)`` (all-zero rows stay zero)."""


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
        edges = torch.from_numpy(bin_edges(bins).astype(dtype)).to(values.device)
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
    """Per-layer statistics of one text: counts ``[layer, bins]``, mean, std ``[layer]``, token means.

    ``token_means[l, i]`` is token ``i``'s mean cosine to the *other* tokens at layer ``l`` (whatever
    ``include_diagonal`` says: a token's similarity with itself tells nothing about it).
    """

    counts: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    token_means: torch.Tensor
    effective_rank: torch.Tensor | None


def text_layer_statistics(
    cos: torch.Tensor,
    bins: int = 128,
    include_diagonal: bool = False,
    with_effective_rank: bool = False,
) -> TextLayerStatistics:
    """Histogram counts, exact mean/std and per-token means of one text's cosine matrices ``[layer, n, n]``.

    >>> cos = torch.tensor([[[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]])
    >>> stats = text_layer_statistics(cos, bins=4)
    >>> stats.mean.tolist(), stats.token_means.tolist()
    ([0.3333333333333333], [[0.25, 0.5, 0.25]])
    """
    n = cos.shape[-1]
    pairs = n * n if include_diagonal else n * (n - 1)
    if n < 2:
        raise ValueError("A text needs at least 2 tokens to have a pair of distinct tokens.")
    # row sums in float32 (short, accurate), then float64 across rows
    row_sums = cos.sum(-1)
    diag = cos.diagonal(dim1=-2, dim2=-1)
    token_means = (row_sums - diag) / (n - 1)
    total = row_sums.double().sum(-1)
    total_sq = torch.linalg.vector_norm(cos, dim=-1).double().square().sum(-1)
    if not include_diagonal:
        diag64 = diag.double()
        total = total - diag64.sum(-1)
        total_sq = total_sq - diag64.square().sum(-1)
    mean = total / pairs
    std = (total_sq / pairs - mean.square()).clamp_(min=0.0).sqrt()
    return TextLayerStatistics(
        counts=histogram_counts(cos, bins, include_diagonal),
        mean=mean,
        std=std,
        token_means=token_means,
        effective_rank=effective_rank(cos) if with_effective_rank else None,
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
        """Add one text's matrices ``[layer, n, n]`` (``n`` may differ from earlier texts')."""
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

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """The running sum ``[layer, S, S]`` and the lengths added, as numpy arrays (to save or merge)."""
        if self.total is None:
            raise ValueError("No matrices were added.")
        return self.total.cpu().numpy(), np.asarray(self.lengths, dtype=np.int64)

    @classmethod
    def from_state(cls, total: np.ndarray, lengths: np.ndarray, device: torch.device | str = "cpu") -> PositionAverage:
        """A running mean restored from :meth:`state` (sums of several states merge by padding and adding)."""
        average = cls()
        average.total = torch.as_tensor(np.asarray(total, dtype=np.float64), device=device)
        average.lengths = [int(n) for n in lengths]
        return average

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
