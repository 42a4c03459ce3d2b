"""Counting cosine values into numpy's bins on [-1, 1], on any device, without making the host wait.

Every layer of a text is counted at once, through one count of a fused index (``layer x bins + bin``):
``bincount`` on a CPU, ``index_add_`` on an accelerator, where ``bincount`` (and ``nonzero``, and any
host-to-device copy) would make the host wait for the device's queued work.

Example
-------
>>> import torch
>>> histogram_counts(torch.tensor([[1.0, 0.5], [0.5, 1.0]]), bins=4, include_diagonal=True).tolist()
[0, 0, 0, 4]
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ..core.summaries import bin_edges

__all__ = ["avoids_sync", "bin_index", "check_bins", "fused_counts", "histogram_counts"]


def avoids_sync(device: torch.device) -> bool:
    """Whether work on ``device`` avoids what makes the host wait for it (``nonzero``, ``bincount``): accelerators."""
    return device.type != "cpu"


def bin_index(values: torch.Tensor, bins: int) -> torch.Tensor:
    """The bin numpy gives each value (``edges[k] <= v < edges[k+1]``, the last closed, outliers clipped).

    A power-of-two number of bins makes ``v * bins / 2`` exact: its floor is the bin. Otherwise, on a CPU,
    ``floor((v + 1) * bins / 2)`` is re-checked against numpy's edges (in the data's dtype, as numpy builds them)
    for the values within round-off of an edge; on an accelerator, ``bucketize`` (it never waits for the device).
    """
    values = values if values.dtype == torch.float64 else values.float()
    half = bins // 2
    if bins >= 2 and bins & (bins - 1) == 0:
        return values.mul(half).floor_().clamp_(-half, half - 1).add_(half)
    if avoids_sync(values.device):
        return torch.bucketize(values, _inner_edges(bins, values.dtype, values.device), right=True)
    edges = torch.from_numpy(bin_edges(bins).astype(np.float64 if values.dtype == torch.float64 else np.float32))
    scaled = values.add(1.0).mul_(bins / 2.0).clamp_(0.0, float(bins))
    index = scaled.floor()
    offset = scaled.sub_(index)  # in [0, 1); 0 for v = 1 (index = bins) and for clipped values
    tol = 1e-6 * (bins + 1)  # well above the float32 round-off of (v + 1) * bins / 2
    where = (offset < tol).logical_or_(offset > 1.0 - tol).nonzero(as_tuple=True)
    if where[0].numel():
        v, k = values[where], index[where].long().clamp_(max=bins - 1)
        k -= (v < edges[k]).long()
        k += ((v >= edges[k + 1]) & (k != bins - 1)).long()
        index[where] = k.clamp_(0, bins - 1).to(index.dtype)
    return index


@functools.lru_cache(maxsize=16)
def _inner_edges(bins: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The inner bin edges numpy uses, in ``dtype`` on ``device``, copied there once (a copy makes the host wait)."""
    return torch.from_numpy(bin_edges(bins)[1:-1].astype(np.float64 if dtype == torch.float64 else np.float32)
                            ).to(device)


def fused_counts(values: torch.Tensor, bins: int, twice_from: int | None = None,
                  left_out: torch.Tensor | None = None) -> torch.Tensor:
    """Counts ``[group, bins]`` of ``values [group, m]``: columns from ``twice_from`` on twice, ``left_out`` never."""
    # one count of one fused index: slot x groups x bins + group x bins + bin (slot 1: counted twice)
    groups, slots = values.shape[0], 1 if twice_from is None else 2
    size, index = slots * groups * bins, bin_index(values, bins)
    if index.is_floating_point() and size >= 2**24:  # float holds exact integers up to 2**24 only
        index = index.long()
    offsets = torch.arange(groups, device=index.device).unsqueeze(1).to(index.dtype) * bins
    index[:, :twice_from] += offsets
    if twice_from is not None:
        index[:, twice_from:] += offsets + groups * bins
    if left_out is not None:
        index.index_fill_(1, left_out, size)
    flat = index.reshape(-1)
    if avoids_sync(flat.device):  # bincount would wait for the device (it checks the index's min and max)
        index = flat.long().clamp_(0, size)  # NaNs (reported once the host sees them) must not index out of range
        counted = torch.zeros(size + 1, dtype=torch.int64, device=flat.device)
        counted.index_add_(0, index, torch.ones(1, dtype=torch.int64, device=flat.device).expand(len(flat)))
    else:
        counted = torch.bincount(flat.int() if flat.is_floating_point() else flat, minlength=size + 1)
    counts = counted[:size].view(slots, groups, bins)
    return counts[0] if slots == 1 else counts[0] + 2 * counts[1]


def check_bins(bins: int) -> None:
    """Refuse anything but a positive integer number of bins."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")


def histogram_counts(cos: torch.Tensor, bins: int = 128, include_diagonal: bool = False) -> torch.Tensor:
    """Counts ``[..., bins]`` of the entries of square matrices ``cos`` (``[..., n, n]``) on [-1, 1].

    With ``include_diagonal=False`` (default) the ``n`` self-similarities are left out: the counts cover the
    ``n (n - 1)`` ordered pairs of distinct tokens; ``True`` counts all ``n**2`` entries, as the reference does.
    Equal to ``np.histogram(v, bins, range=(-1, 1))``. Every entry is read (the matrices need not be symmetric).
    """
    check_bins(bins)
    if cos.ndim < 2 or cos.shape[-1] != cos.shape[-2]:
        raise ValueError(f"Expected square matrices [..., n, n], got shape {tuple(cos.shape)}.")
    lead, n = cos.shape[:-2], cos.shape[-1]
    diagonal = None if include_diagonal else torch.arange(n, device=cos.device) * (n + 1)
    return fused_counts(cos.reshape(math.prod(lead), n * n), bins, left_out=diagonal).reshape(*lead, bins)
