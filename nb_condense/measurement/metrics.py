"""Pure tensor maths on hidden states: cosine matrices, histogram counts, per-text statistics.

Every function works on any device and does its arithmetic in float32 (float64 for sums), whatever
dtype the hidden states come in. Shapes are written ``[layer, token, token]`` etc. in the docstrings.
Summaries that need no torch (densities, quantiles, depth trends) live in :mod:`nb_condense.core.summaries`.

A text's cosine matrices are symmetric: the measurement multiplies and reads only their upper triangle,
as row strips (:class:`CosineStrips`), and bins every layer through one count of a fused index
(``layer x bins + bin``): ``bincount`` on a CPU, ``index_add_`` on an accelerator (nothing waits for it).

Example
-------
>>> import torch
>>> x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])   # [layer=1, token=3, dim=2]
>>> histogram_counts(cosine_matrix(x), bins=4).tolist()          # off-diagonal pairs only
[[0, 0, 2, 4]]
>>> text_layer_statistics(cosine_strips(list(x)), bins=4).counts.tolist()
[[0, 0, 2, 4]]
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .binning import avoids_sync, check_bins, fused_counts, histogram_counts

__all__ = [
    "NORM_EPS", "STRIP_ROWS", "CosineStrips", "PositionAverage", "TextLayerStatistics", "avoids_sync",
    "cosine_matrices", "cosine_matrix", "cosine_strips", "effective_rank", "histogram_counts", "l2_normalize",
    "text_layer_statistics",
]

NORM_EPS = 1e-3
"""Norm floor of the reference implementation: ``x / max(||x||, 1e-3)`` (all-zero rows stay zero)."""

STRIP_ROWS = 128
"""Rows per strip of the upper triangle (at most): 512 tokens make 4 strips, 62.5 % of the full product."""


def _normalise_(z: torch.Tensor, eps: float) -> torch.Tensor:
    """Divide the rows of ``z`` (a fresh float tensor) by ``max(||row||, eps)`` in place; returns ``z``."""
    z /= torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min_(eps)
    return z


def l2_normalize(x: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Rows of ``x`` (``[..., token, dim]``) divided by ``max(||row||, eps)``, in float32."""
    return _normalise_(x.float().clone(), eps)


def cosine_matrix(x: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Cosine similarities ``[..., token, token]`` of the rows of ``x`` (``[..., token, dim]``), clipped to [-1, 1]."""
    return torch.matmul(z := l2_normalize(x, eps), z.transpose(-1, -2)).clamp_(-1.0, 1.0)


def cosine_matrices(hidden: Sequence[torch.Tensor], eps: float = NORM_EPS) -> torch.Tensor:
    """Full cosine matrices ``[layer, n, n]`` of per-layer token vectors ``[n, dim_k]`` (mirrored strips)."""
    return cosine_strips(hidden, eps).full()


@dataclass(frozen=True)
class _Layout:
    """Where the upper triangle of ``n x n`` matrices sits in a packed ``[layer, size]`` buffer.

    Strip ``(a, b, block, rest)`` (``height`` rows, the last maybe fewer) covers rows ``a:b``, columns ``a:n``. Its
    diagonal block (both orders of each pair, and the self-similarities) starts at ``block``: all blocks come
    first, ``diagonal_size`` values. The rest of the strip (pairs whose mirror is not stored) starts at ``rest``.
    """

    n: int
    height: int
    full_blocks: int
    spans: tuple[tuple[int, int, int, int], ...]
    diagonal_size: int
    size: int

    @functools.lru_cache(maxsize=64)  # noqa: B019 - a handful of text lengths, tiny values
    def diagonal_positions(self, device: torch.device) -> torch.Tensor:
        """Positions of the ``n`` self-similarities in the packed buffer, in token order."""
        # made on the device: a host-to-device copy would make the host wait for the device's queued work
        return torch.cat([block + torch.arange(b - a, device=device) * (b - a + 1) for a, b, block, _ in self.spans])


@functools.lru_cache(maxsize=64)
def _layout(n: int, rows: int) -> _Layout:
    if n < 1:
        raise ValueError(f"A text needs at least one token vector to have a cosine matrix, got {n}.")
    height = -(-n // -(-n // rows))  # ceil(n / number of strips): strips as even as full-height ones allow
    bounds = [*range(0, n, height), n]
    spans, block, rest = [], 0, sum((b - a) ** 2 for a, b in zip(bounds, bounds[1:]))  # blocks first
    for a, b in zip(bounds, bounds[1:]):
        spans.append((a, b, block, rest))
        block, rest = block + (b - a) ** 2, rest + (b - a) * (n - b)
    return _Layout(n, height, n // height, tuple(spans), spans[0][3], rest)


class CosineStrips:
    """The upper triangle of one text's symmetric cosine matrices ``[layer, n, n]``, packed ``[layer, size]``.

    Built by :func:`cosine_strips`, or from full matrices by :meth:`from_matrices`; :meth:`full` mirrors it back.
    """

    def __init__(self, values: torch.Tensor, layout: _Layout) -> None:
        self.values, self.layout, self.n, self.n_layers = values, layout, layout.n, values.shape[0]

    def blocks(self, values: torch.Tensor | None = None) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor]]:
        """``(a, b, diagonal block [layer, h, h], rest [layer, h, n - b])`` of each strip (views of ``values``)."""
        values = self.values if values is None else values
        for a, b, block, rest in self.layout.spans:
            h, width = b - a, self.n - b
            yield (a, b, values[:, block : block + h * h].view(values.shape[0], h, h),
                   values[:, rest : rest + h * width].view(values.shape[0], h, width))

    def full_height_blocks(self, values: torch.Tensor | None = None) -> torch.Tensor:
        """The diagonal blocks of the full-height strips side by side, ``[layer, strips, height, height]`` (a view)."""
        values = self.values if values is None else values
        count, h = self.layout.full_blocks, self.layout.height
        return values[:, : count * h * h].view(values.shape[0], count, h, h)

    def pieces(self) -> Iterator[tuple[slice, slice, torch.Tensor]]:
        """``(rows, columns, values [layer, rows, columns])`` covering the full matrices once (mirrors as views)."""
        for a, b, block, rest in self.blocks():
            yield slice(a, b), slice(a, b), block
            if b < self.n:
                yield slice(a, b), slice(b, self.n), rest
                yield slice(b, self.n), slice(a, b), rest.transpose(-1, -2)

    def diagonal(self) -> torch.Tensor:
        """The self-similarities ``[layer, n]``."""
        return self.values.index_select(1, self.layout.diagonal_positions(self.values.device))

    def full(self) -> torch.Tensor:
        """The full symmetric matrices ``[layer, n, n]``."""
        out = self.values.new_empty((self.n_layers, self.n, self.n))
        for rows, columns, piece in self.pieces():
            out[:, rows, columns] = piece
        return out

    @classmethod
    def from_matrices(cls, cos: torch.Tensor, rows: int = STRIP_ROWS) -> CosineStrips:
        """The upper triangles of symmetric matrices ``cos`` (``[layer, n, n]``), copied (the lower is not read)."""
        if cos.ndim != 3 or cos.shape[-1] != cos.shape[-2]:
            raise ValueError(f"Expected square matrices [layer, n, n], got shape {tuple(cos.shape)}.")
        layout = _layout(cos.shape[-1], rows)
        strips = cls(cos.new_empty((cos.shape[0], layout.size)), layout)
        for a, b, block, rest in strips.blocks():
            block.copy_(cos[:, a:b, a:b])
            rest.copy_(cos[:, a:b, b:])
        return strips


def cosine_strips(hidden: Sequence[torch.Tensor], eps: float = NORM_EPS, rows: int = STRIP_ROWS) -> CosineStrips:
    """The cosine matrices of per-layer token vectors ``[n, dim_k]``, computed on and above the diagonal only.

    Values as ``z @ z.T`` of the normalised rows, clipped to [-1, 1], for strips of at most ``rows`` rows:
    one product for the full-height diagonal blocks, one per strip for the rest. Layers of other widths or
    devices are multiplied apart; the result lives on the first layer's device.
    """
    n = hidden[0].shape[0] if hidden else 0
    if not hidden or any(h.ndim != 2 or h.shape[0] != n for h in hidden):
        raise ValueError(f"Expected per-layer hidden states [n_tokens, dim] of one text, got shapes "
                         f"{[tuple(h.shape) for h in hidden]}.")
    # consecutive layers of one shape on one device are stacked and multiplied at once
    groups = [list(group) for _, group in itertools.groupby(hidden, key=lambda t: (t.shape, t.device))]
    layout, target = _layout(n, rows), hidden[0].device
    strips = CosineStrips(torch.empty((len(hidden), layout.size), dtype=torch.float32, device=target), layout)
    count, h, first = layout.full_blocks, layout.height, 0
    for group in groups:
        z = torch.stack(group)  # a fresh copy, normalised in place
        z = _normalise_(z if z.dtype == torch.float32 else z.float(), eps)
        here = strips.values[first : first + len(group)]
        part = here if z.device == target else torch.empty_like(here, device=z.device)
        side_by_side = z[:, : count * h].view(len(group), count, h, -1)
        torch.matmul(side_by_side, side_by_side.transpose(-1, -2), out=strips.full_height_blocks(part))
        for a, b, block, rest in strips.blocks(part):
            if b - a < h:  # the shorter last strip
                torch.matmul(z[:, a:b], z[:, a:b].transpose(-1, -2), out=block)
            if b < n:
                torch.matmul(z[:, a:b], z[:, b:].transpose(-1, -2), out=rest)
        if part is not here:
            here.copy_(part)
        first += len(group)
    strips.values.clamp_(-1.0, 1.0)
    return strips


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
    """Per-layer statistics of one text: counts ``[layer, bins]``, mean, std ``[layer]``, token means ``[layer, n]``.

    ``token_means[l, i]``: token ``i``'s mean cosine to the *other* tokens at layer ``l`` (whatever include_diagonal).
    """

    counts: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    token_means: torch.Tensor
    effective_rank: torch.Tensor | None


def text_layer_statistics(cos: torch.Tensor | CosineStrips, bins: int = 128, include_diagonal: bool = False,
                          with_effective_rank: bool = False) -> TextLayerStatistics:
    """Histogram counts, exact mean/std and per-token means of one text's symmetric cosine matrices.

    ``cos`` is :class:`CosineStrips` or full matrices ``[layer, n, n]``, of which only the upper triangle is
    read. Sums, squared sums and each token's sum come from one walk over the strips.

    >>> cos = torch.tensor([[[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]])
    >>> stats = text_layer_statistics(cos, bins=4)
    >>> stats.mean.tolist(), stats.token_means.tolist()
    ([0.3333333333333333], [[0.25, 0.5, 0.25]])
    """
    check_bins(bins)
    strips = cos if isinstance(cos, CosineStrips) else CosineStrips.from_matrices(cos)
    n = strips.n
    if n < 2:
        raise ValueError("A text needs at least 2 tokens to have a pair of distinct tokens.")
    pairs = n * n if include_diagonal else n * (n - 1)
    # float64 sums of the float32 values: the variance E[x^2] - mean^2 keeps its digits even when std << mean.
    # Few large reductions, not many small ones: each one waits for every thread, and threads of a busy machine.
    values, lay = strips.values, strips.layout
    row_sums = torch.zeros((strips.n_layers, n), dtype=torch.float64, device=values.device)
    full_rows = lay.full_blocks * lay.height
    row_sums[:, :full_rows] = strips.full_height_blocks().sum(-1, dtype=torch.float64).view(-1, full_rows)
    total_sq = torch.linalg.vector_norm(values[:, : lay.diagonal_size], dim=-1, dtype=torch.float64).square()
    total_sq += 2 * torch.linalg.vector_norm(values[:, lay.diagonal_size :], dim=-1, dtype=torch.float64).square()
    for a, b, block, rest in strips.blocks():
        if a >= full_rows:  # the shorter last strip's block
            row_sums[:, a:b] += block.sum(-1, dtype=torch.float64)
        if b < n:  # the rest stands for itself and its mirror: its rows' and its columns' (short) float32 sums
            row_sums[:, a:b] += rest.sum(-1)
            row_sums[:, b:] += rest.sum(-2)
    diag = strips.diagonal().double()
    token_means = ((row_sums - diag) / (n - 1)).float()
    total = row_sums.sum(-1)
    if not include_diagonal:
        total = total - diag.sum(-1)
        total_sq = total_sq - diag.square().sum(-1)
    mean = total / pairs
    std = (total_sq / pairs - mean.square()).clamp_(min=0.0).sqrt()
    left_out = None if include_diagonal else strips.layout.diagonal_positions(strips.values.device)
    counts = fused_counts(strips.values, bins, twice_from=strips.layout.diagonal_size, left_out=left_out)
    return TextLayerStatistics(counts, mean, std, token_means,
                               effective_rank(strips.full()) if with_effective_rank else None)


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

    def add(self, matrices: torch.Tensor | CosineStrips) -> None:
        """Add one text's matrices ``[layer, n, n]`` or strips (``n`` may differ from earlier texts')."""
        tensor = matrices.values if isinstance(matrices, CosineStrips) else matrices
        layers, n = tensor.shape[0], matrices.n if isinstance(matrices, CosineStrips) else tensor.shape[-1]
        if self.total is None or n > self.total.shape[-1]:
            grown = tensor.new_zeros((layers, n, n), dtype=torch.float64)
            if self.total is not None:
                old = self.total.shape[-1]
                grown[:, :old, :old] = self.total
            self.total = grown
        elif layers != self.total.shape[0]:
            raise ValueError(f"Expected {self.total.shape[0]} layers, got {layers}.")
        pieces = matrices.pieces() if isinstance(matrices, CosineStrips) else [(slice(0, n), slice(0, n), tensor)]
        for rows, columns, piece in pieces:
            self.total[:, rows, columns] += piece
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
        lengths = torch.tensor(self.lengths, device=self.total.device)
        position = torch.arange(self.total.shape[-1], device=lengths.device)
        covering = (lengths.unsqueeze(0) > position.unsqueeze(1)).sum(1)  # texts with more than m tokens
        count = covering[torch.maximum(position.unsqueeze(0), position.unsqueeze(1))]
        return self.total / count.to(torch.float64)
