"""Dispersion losses against hand-made inputs and a loop-based numpy reference; gradients; padding; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nb_condense.dispersion import DISPERSION_VARIANTS, DispersionLoss, _straight_through_clamp, dispersion_penalty


def numpy_loss(z: np.ndarray, variant: str, tau=1.0, eps=1e-2, t=0.25, margin=0.5) -> float:
    """Loop-based reference of the formulas (one sequence, all tokens valid)."""
    n, f = z.shape
    off = [(i, j) for i in range(n) for j in range(n) if i != j]
    unit = z / (np.linalg.norm(z, axis=1, keepdims=True) + eps)
    ang = np.arccos(np.clip(unit @ unit.T, -1 + t, 1 - t)) / math.pi
    sq = ((z[:, None] - z[None]) ** 2).sum(-1)
    if variant == "angular_spread":
        vals = np.array([-ang[i, j] / tau for i, j in off])
        return float(np.log(np.mean(np.exp(vals))))
    if variant == "orthogonalization":
        return float(np.mean([max(0.0, margin - ang[i, j]) ** 2 for i, j in off]))
    if variant == "l2_repel":
        return float(np.log(np.mean(np.exp(-sq / tau))) + 0.1 * np.mean(z**2))
    if variant == "decorrelation":
        c = z - z.mean(1, keepdims=True)
        s = c / (c.std(1, ddof=1, keepdims=True) + eps)
        corr = s @ s.T / (f - 1)
        return float(np.mean([corr[i, j] ** 2 for i, j in off]))
    entropies = []
    for i in range(n):
        logits = np.array([-sq[i, j] / tau for j in range(n) if j != i])
        p = np.exp(logits - logits.max())
        p /= p.sum()
        entropies.append(-(p * np.log2(p + eps)).sum())
    return float(-np.mean(entropies))


@pytest.mark.parametrize("variant", DISPERSION_VARIANTS)
def test_matches_numpy_reference_on_random_batches(variant):
    z = torch.randn(3, 6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = DispersionLoss(variant, max_tokens=None)(z).item()
    expected = np.mean([numpy_loss(z[b].numpy(), variant) for b in range(3)])
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_hand_made_angular_values():
    loss = DispersionLoss(max_tokens=None)
    identical = torch.ones(1, 3, 4, dtype=torch.float64)
    orthogonal = torch.eye(4, dtype=torch.float64)[:3].unsqueeze(0)
    antipodal = torch.tensor([[[1.0, 0.0], [-1.0, 0.0]]], dtype=torch.float64)
    assert loss(identical).item() == pytest.approx(-math.acos(0.75) / math.pi)  # clamped at 1 - 0.25
    assert loss(orthogonal).item() == pytest.approx(-0.5)
    assert loss(antipodal).item() == pytest.approx(-math.acos(-0.75) / math.pi)
    assert loss(identical) > loss(orthogonal) > loss(antipodal)  # lower = more dispersed
    ortho = DispersionLoss("orthogonalization", max_tokens=None)
    assert ortho(orthogonal).item() == pytest.approx(0.0)
    assert ortho(identical).item() == pytest.approx((0.5 - math.acos(0.75) / math.pi) ** 2)


def test_hand_made_l2_and_entropy_values():
    identical = torch.ones(1, 3, 4, dtype=torch.float64)
    assert DispersionLoss("l2_repel", max_tokens=None)(identical).item() == pytest.approx(0.1)
    orthonormal = torch.eye(3, dtype=torch.float64).unsqueeze(0)  # equidistant: uniform over the 2 partners
    value = DispersionLoss("perplexity_entropy", max_tokens=None)(orthonormal).item()
    assert value == pytest.approx(math.log2(0.5 + 1e-2))


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
    make = lambda seed: DispersionLoss(max_tokens=8, generator=torch.Generator().manual_seed(seed))  # noqa: E731
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


@pytest.mark.parametrize(("loc", "layers"), [("all", [1, 2, 3, 4, 5]), ("last", [5]), ("early_half", [1, 2]),
                                             ("late_half", [3, 4, 5])])
def test_penalty_layers(loc, layers):
    g = torch.Generator().manual_seed(4)
    hidden = [torch.randn(2, 6, 4, generator=g, dtype=torch.float64) for _ in range(6)]  # embeddings + 5 blocks
    loss = DispersionLoss(max_tokens=None)
    expected = torch.stack([loss(hidden[i]) for i in layers]).mean()
    torch.testing.assert_close(dispersion_penalty(hidden, loc=loc, loss=loss), expected)


def test_penalty_errors():
    with pytest.raises(ValueError, match="Unknown loc 'middle'"):
        dispersion_penalty([torch.randn(1, 3, 2)] * 3, loc="middle")
    with pytest.raises(ValueError, match="selects no layer"):
        dispersion_penalty([torch.randn(1, 3, 2)] * 2, loc="early_half")
