"""Dispersion losses against hand-made inputs and independent numpy / float64 references; gradients; memory;
padding; layer selection; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from nb_condense.training.dispersion import (
    DISPERSION_VARIANTS,
    DispersionLoss,
    _straight_through_clamp,
    dispersion_penalty,
)

EPS = 1e-2


def numpy_loss(z: np.ndarray, variant: str, tau=1.0, eps=EPS, t=0.25, margin=0.5) -> float:
    """Loop-based reference of the formulas (one sequence, all tokens valid).

    As the authors' reference: eps is added inside the log-sum-exp of angular_spread and l2_repel, and the
    decorrelation standardises each token by its unbiased std (ddof 1) with no eps.
    """
    n, f = z.shape
    off = [(i, j) for i in range(n) for j in range(n) if i != j]
    unit = z / (np.linalg.norm(z, axis=1, keepdims=True) + eps)
    ang = np.arccos(np.clip(unit @ unit.T, -1 + t, 1 - t)) / math.pi
    sq = np.array([[sum((z[i, k] - z[j, k]) ** 2 for k in range(f)) for j in range(n)] for i in range(n)])
    if variant == "angular_spread":
        vals = np.array([-ang[i, j] / tau + eps for i, j in off])
        return float(np.log(np.sum(np.exp(vals))) - np.log(len(off)))
    if variant == "orthogonalization":
        return float(np.mean([max(0.0, margin - ang[i, j]) ** 2 for i, j in off]))
    if variant == "l2_repel":
        return float(np.log(np.sum(np.exp(-sq / tau + eps))) - np.log(n * n) + 0.1 * np.mean(z**2))
    if variant == "decorrelation":
        c = z - z.mean(1, keepdims=True)
        s = c / c.std(1, ddof=1, keepdims=True)
        corr = s @ s.T / (f - 1)
        return float(np.mean([corr[i, j] ** 2 for i, j in off]))
    entropies = []
    for i in range(n):
        logits = np.array([-sq[i, j] / tau for j in range(n) if j != i])
        p = np.exp(logits - logits.max())
        p /= p.sum()
        entropies.append(-(p * np.log2(p + eps)).sum())
    return float(-np.mean(entropies))


def float64_difference_loss(z: torch.Tensor, variant: str, tau: float = 1.0) -> torch.Tensor:
    """Independent float64 torch version of the distance-based variants on explicit z_i - z_j differences."""
    n = z.shape[1]
    squared = (z[:, :, None, :] - z[:, None, :, :]).pow(2).sum(-1)
    if variant == "l2_repel":
        lse = torch.logsumexp((-squared / tau + EPS).reshape(z.shape[0], -1), dim=1) - math.log(n * n)
        return lse.mean() + 0.1 * z.pow(2).mean()
    eye = torch.eye(n, dtype=torch.bool)
    p = torch.softmax((-squared / tau).masked_fill(eye, float("-inf")), dim=-1)
    return (p * torch.log2(p + EPS)).sum(-1).mean()


def float64_decorrelation(z: torch.Tensor) -> torch.Tensor:
    """Independent float64 torch decorrelation: unbiased std, no eps."""
    f, n = z.shape[-1], z.shape[1]
    standard = (z - z.mean(-1, keepdim=True)) / z.std(-1, keepdim=True, correction=1)
    corr = torch.einsum("btf,bsf->bts", standard, standard) / (f - 1)
    return corr.pow(2)[:, ~torch.eye(n, dtype=torch.bool)].mean()


@pytest.mark.parametrize("variant", DISPERSION_VARIANTS)
def test_matches_numpy_reference_on_random_batches(variant):
    z = torch.randn(3, 6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = DispersionLoss(variant, max_tokens=None)(z).item()
    expected = np.mean([numpy_loss(z[b].numpy(), variant) for b in range(3)])
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("scale", [1.0, 0.05, 1e-3])
def test_decorrelation_has_no_eps_at_any_scale(scale):
    z = scale * torch.randn(2, 7, 12, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    got = DispersionLoss("decorrelation", max_tokens=None)(z).item()
    expected = np.mean([numpy_loss(z[b].numpy(), "decorrelation") for b in range(2)])
    assert got == pytest.approx(expected, rel=1e-10)
    # the loss of a correlation is scale-free: the same value at every scale
    unit = torch.randn(2, 7, 12, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert got == pytest.approx(DispersionLoss("decorrelation", max_tokens=None)(unit).item(), rel=1e-10)


def test_decorrelation_gradient_matches_an_independent_float64_version():
    z = 0.05 * torch.randn(2, 6, 10, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    ours, theirs = z.clone().requires_grad_(), z.clone().requires_grad_()
    DispersionLoss("decorrelation", max_tokens=None)(ours).backward()
    float64_decorrelation(theirs).backward()
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-9, atol=1e-12)


def test_decorrelation_constant_token_is_guarded():
    """A token with zero std standardises to zeros (no 0 / 0): finite value and gradients."""
    g = torch.Generator().manual_seed(7)
    z = torch.randn(1, 5, 8, generator=g, dtype=torch.float64)
    z[0, 2] = 3.0  # constant over features: std 0
    z.requires_grad_()
    value = DispersionLoss("decorrelation", max_tokens=None)(z)
    value.backward()
    assert torch.isfinite(z.grad).all()
    rows = z.detach()[0].numpy()
    standard = [(r - r.mean()) / r.std(ddof=1) if i != 2 else np.zeros(8) for i, r in enumerate(rows)]
    corr = np.array(standard) @ np.array(standard).T / 7
    expected = np.mean([corr[i, j] ** 2 for i in range(5) for j in range(5) if i != j])
    assert value.item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("variant", ["l2_repel", "perplexity_entropy"])
def test_distance_variants_value_and_gradient_match_float64_differences(variant):
    g = torch.Generator().manual_seed(8)
    z = torch.randn(2, 7, 9, generator=g, dtype=torch.float64)
    z[0, 3] = z[0, 1]  # two identical tokens: zero distance off the diagonal too
    ours, theirs = z.clone().requires_grad_(), z.clone().requires_grad_()
    value = DispersionLoss(variant, max_tokens=None)(ours)
    expected = float64_difference_loss(theirs, variant)
    value.backward(), expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    assert torch.isfinite(ours.grad).all()
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("variant", ["l2_repel", "perplexity_entropy"])
def test_distance_variants_stay_accurate_in_float32_with_a_large_common_offset(variant):
    """Hidden states share a large offset (a condensed cone); the squared distances must not cancel badly."""
    g = torch.Generator().manual_seed(9)
    z = 300.0 + 0.3 * torch.randn(2, 16, 64, generator=g, dtype=torch.float64)
    z32 = z.float().requires_grad_()
    z64 = z32.detach().double().requires_grad_()
    value = DispersionLoss(variant, max_tokens=None)(z32)
    expected = float64_difference_loss(z64, variant)
    value.backward(), expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-4)
    torch.testing.assert_close(z32.grad.double(), z64.grad, rtol=1e-3, atol=1e-6)


class LargestTensor(TorchDispatchMode):
    """Records the element count of every tensor an operation returns, forward and backward."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.sizes += [leaf.numel() for leaf in tree_leaves(out) if isinstance(leaf, torch.Tensor)]
        return out


@pytest.mark.parametrize("variant", DISPERSION_VARIANTS)
def test_no_tensor_of_size_tokens_squared_times_features(variant):
    batch, tokens, features = 2, 48, 96
    z = torch.randn(batch, tokens, features, generator=torch.Generator().manual_seed(10), requires_grad=True)
    mask = torch.ones(batch, tokens, dtype=torch.long)
    mask[1, 40:] = 0
    with LargestTensor() as record:
        value = DispersionLoss(variant, max_tokens=None)(z, mask)
        forward_ops = len(record.sizes)
        value.backward()
    assert len(record.sizes) > forward_ops  # the backward pass was recorded too
    assert z.grad is not None and torch.isfinite(z.grad).all()
    # O(B T^2 + B T F) = 4608 / 9216 elements; a broadcast difference tensor would have B T^2 F = 442368
    assert max(record.sizes) <= max(batch * tokens * tokens, batch * tokens * features)


def test_hand_made_angular_values():
    loss = DispersionLoss(max_tokens=None)
    identical = torch.ones(1, 3, 4, dtype=torch.float64)
    orthogonal = torch.eye(4, dtype=torch.float64)[:3].unsqueeze(0)
    antipodal = torch.tensor([[[1.0, 0.0], [-1.0, 0.0]]], dtype=torch.float64)
    assert loss(identical).item() == pytest.approx(-math.acos(0.75) / math.pi + EPS)  # clamped at 1 - 0.25
    assert loss(orthogonal).item() == pytest.approx(-0.5 + EPS)
    assert loss(antipodal).item() == pytest.approx(-math.acos(-0.75) / math.pi + EPS)
    assert loss(identical) > loss(orthogonal) > loss(antipodal)  # lower = more dispersed
    ortho = DispersionLoss("orthogonalization", max_tokens=None)
    assert ortho(orthogonal).item() == pytest.approx(0.0)
    assert ortho(identical).item() == pytest.approx((0.5 - math.acos(0.75) / math.pi) ** 2)


def test_hand_made_l2_and_entropy_values():
    identical = torch.ones(1, 3, 4, dtype=torch.float64)
    assert DispersionLoss("l2_repel", max_tokens=None)(identical).item() == pytest.approx(0.1 + EPS)
    assert DispersionLoss("l2_repel", eps=0.0, max_tokens=None)(identical).item() == pytest.approx(0.1)
    orthonormal = torch.eye(3, dtype=torch.float64).unsqueeze(0)  # equidistant: uniform over the 2 partners
    value = DispersionLoss("perplexity_entropy", max_tokens=None)(orthonormal).item()
    assert value == pytest.approx(math.log2(0.5 + EPS))


def test_straight_through_clamp_gives_the_boundary_slope():
    x = torch.tensor(0.9, dtype=torch.float64, requires_grad=True)
    y = torch.arccos(_straight_through_clamp(x, -0.75, 0.75))
    y.backward()
    assert y.item() == pytest.approx(math.acos(0.75))
    assert x.grad.item() == pytest.approx(-1 / math.sqrt(1 - 0.75**2))  # a hard clamp would give 0


@pytest.mark.parametrize("variant", DISPERSION_VARIANTS)
def test_gradcheck_float64(variant):
    z = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    loss = DispersionLoss(variant, clamp_threshold=0.01, max_tokens=None)
    assert torch.autograd.gradcheck(lambda x: loss(x, mask), (z,))


@pytest.mark.parametrize("variant", DISPERSION_VARIANTS)
def test_padding_does_not_change_the_loss(variant):
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(1, 5, 8, generator=g), torch.randn(1, 3, 8, generator=g)
    padded = torch.cat([a, torch.cat([b, torch.full((1, 2, 8), 7.0)], 1)])
    mask = torch.tensor([[1] * 5, [1, 1, 1, 0, 0]])
    loss = DispersionLoss(variant, max_tokens=None)
    expected = (loss(a) + loss(b)) / 2
    torch.testing.assert_close(loss(padded, mask), expected)


def test_subset_is_deterministic_with_a_seeded_generator_and_stays_among_valid_tokens():
    z = torch.randn(2, 40, 8, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(2, 40, dtype=torch.long)
    mask[1, 30:] = 0
    z[1, 30:] = 1e3  # pads would dominate the loss if they were drawn
    def make(seed):
        return DispersionLoss(max_tokens=8, generator=torch.Generator().manual_seed(seed))
    assert make(0)(z, mask).item() == make(0)(z, mask).item()
    assert make(0)(z, mask).item() != make(1)(z, mask).item()
    assert make(0)(z).item() == make(0)(z).item()
    every = DispersionLoss(max_tokens=None)(z, mask)
    assert abs(make(0)(z, mask).item() - every.item()) < 0.2  # a subset of valid tokens, never the 1e3 pads


def test_errors_are_specific():
    with pytest.raises(ValueError, match="Unknown dispersion variant 'spread'"):
        DispersionLoss("spread")
    with pytest.raises(ValueError, match="feature dimension must be >= 2"):
        DispersionLoss()(torch.randn(1, 4, 1))
    with pytest.raises(ValueError, match="fewer than 2 valid tokens"):
        DispersionLoss()(torch.randn(2, 4, 3), torch.tensor([[1, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="NaN or inf"):
        DispersionLoss()(torch.tensor([[[1.0, float("nan")], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match="max_tokens must be >= 2"):
        DispersionLoss(max_tokens=1)


def test_sequences_with_one_token_are_left_out_of_the_mean():
    z = torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 1]])
    loss = DispersionLoss(max_tokens=None)
    assert loss(z, mask).item() == pytest.approx(loss(z[1:]).item())


class LayerRecorder(DispersionLoss):
    """Records which hidden-state index each call received (hidden_states[i] is filled with the value i)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def forward(self, hidden, attention_mask=None):
        self.seen.append(int(hidden[0, 0, 0]))
        return hidden[0, 0, 0]


LAYER_CASES = [  # (blocks, loc, hidden-state indices; 0 is the embedding output)
    (1, "all", [1]), (1, "last", [1]), (1, "early_half", [1]), (1, "late_half", [1]),
    (2, "all", [1, 2]), (2, "last", [2]), (2, "early_half", [1]), (2, "late_half", [2]),
    (3, "all", [1, 2, 3]), (3, "last", [3]), (3, "early_half", [1]), (3, "late_half", [2, 3]),
    (5, "all", [1, 2, 3, 4, 5]), (5, "last", [5]), (5, "early_half", [1, 2]), (5, "late_half", [3, 4, 5]),
    (12, "all", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), (12, "last", [12]),
    (12, "early_half", [1, 2, 3, 4, 5, 6]), (12, "late_half", [7, 8, 9, 10, 11, 12]),
]


@pytest.mark.parametrize(("blocks", "loc", "layers"), LAYER_CASES)
def test_penalty_layers(blocks, loc, layers):
    hidden = [torch.full((1, 2, 2), float(i)) for i in range(blocks + 1)]
    recorder = LayerRecorder()
    value = dispersion_penalty(hidden, loc=loc, loss=recorder)
    assert recorder.seen == layers
    assert value.item() == pytest.approx(sum(layers) / len(layers))


def test_penalty_averages_the_real_loss_over_the_chosen_layers():
    g = torch.Generator().manual_seed(4)
    hidden = [torch.randn(2, 6, 4, generator=g, dtype=torch.float64) for _ in range(6)]  # embeddings + 5 blocks
    loss = DispersionLoss(max_tokens=None)
    expected = torch.stack([loss(hidden[i]) for i in [3, 4, 5]]).mean()
    torch.testing.assert_close(dispersion_penalty(hidden, loc="late_half", loss=loss), expected)


def test_penalty_errors():
    with pytest.raises(ValueError, match="Unknown loc 'middle'"):
        dispersion_penalty([torch.randn(1, 3, 2)] * 3, loc="middle")
    with pytest.raises(ValueError, match="at least one block"):
        dispersion_penalty([torch.randn(1, 3, 2)], loc="all")
