"""Dispersion losses on hidden states: push the tokens of each sequence apart (the paper's fix).

Re-implemented from the formulas in the paper (Liu et al., ICML 2026, section 5 of our notes); padding aware.

Example
-------
>>> import torch
>>> loss = DispersionLoss()                        # angular_spread, tau 1.0, eps 1e-2, clamp 0.25
>>> same = torch.ones(1, 4, 8)                     # a collapsed cone: every token identical
>>> spread = torch.eye(8)[:4].unsqueeze(0)         # orthogonal tokens
>>> bool(loss(same) > loss(spread))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["DISPERSION_LOCATIONS", "DISPERSION_VARIANTS", "DispersionLoss", "dispersion_layers",
           "dispersion_penalty"]

DISPERSION_VARIANTS = ("angular_spread", "l2_repel", "decorrelation", "orthogonalization", "perplexity_entropy")
DISPERSION_LOCATIONS = ("all", "last", "early_half", "late_half")
L2_REPEL_WEIGHT = 0.1  # weight of the mean(z**2) term of l2_repel


def _straight_through_clamp(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Forward: ``clamp(x, low, high)``; backward: identity, so a later arccos sees its boundary slope."""
    return x + (x.clamp(low, high) - x).detach()


class DispersionLoss(torch.nn.Module):
    """A dispersion loss on one layer's hidden states ``[batch, tokens, features]``.

    Parameters
    ----------
    variant
        Per sequence of ``n`` valid tokens ``z_1 .. z_n``, with ``lme`` = log-mean-exp
        (``log(sum(exp(x)) / count)``):

        - ``"angular_spread"`` (default, the paper's loss): ``lme_{i != j}(-D_ij / tau) + eps`` with
          ``D_ij = arccos(clamp(u_i . u_j)) / pi`` and ``u = z / (||z|| + eps)``;
        - ``"l2_repel"``: ``lme_{all i, j}(-||z_i - z_j||^2 / tau) + eps + 0.1 * mean(z^2)``, the diagonal
          included;
        - ``"decorrelation"``: mean over ``i != j`` of ``C_ij^2``, ``C = s s^T / (F - 1)``, each token
          standardised over its ``F`` features, ``s = (z - mean) / std`` with the unbiased std and **no eps**
          (a token with std exactly 0 gives ``s = 0``);
        - ``"orthogonalization"``: mean over ``i != j`` of ``max(0, margin - D_ij)^2``;
        - ``"perplexity_entropy"``: ``-mean_i H_i``, ``H_i = -sum_j p_ij log2(p_ij + eps)``,
          ``p_ij = softmax_{j != i}(-||z_i - z_j||^2 / tau)``.

        The ``+ eps`` of the two log-mean-exps is the reference's ``logsumexp(logit + eps)``: it shifts the
        logged value, not the gradient. Squared distances come from the Gram identity on tokens centred per
        sequence (memory O(batch x tokens^2), no ``[batch, tokens, tokens, features]`` tensor).
    tau, eps
        Temperature; ``eps`` in ``z / (||z|| + eps)``, added inside the log-sum-exp of ``angular_spread`` and
        ``l2_repel``, and in the entropy's ``log2(p + eps)``. The decorrelation has no eps.
    clamp_threshold
        Cosines are clamped to ``[-1 + t, 1 - t]`` by a straight-through clamp before arccos (forward:
        clamped; backward: the arccos slope at the boundary). The class default 0.25 is the reference
        class's and its Qwen3 / toy recipes'; its GPT-2 mid-training recipe uses 0.1.
    margin
        Angular margin of ``orthogonalization`` (in units of pi).
    max_tokens
        At most this many tokens per sequence enter the loss: a random subset when longer (``None``:
        all). Without a mask one subset is shared by the batch (as the reference); with a mask each
        sequence draws among its own valid tokens.
    generator
        ``torch.Generator`` for the subset (deterministic subsets); the global RNG otherwise.

    Notes
    -----
    ``forward(hidden, attention_mask=None)`` returns the mean over the sequences that have at least two
    valid tokens; pad positions never enter the loss. It raises when no sequence has two valid tokens.
    """

    def __init__(
        self,
        variant: str = "angular_spread",
        tau: float = 1.0,
        eps: float = 1e-2,
        clamp_threshold: float = 0.25,
        margin: float = 0.5,
        max_tokens: int | None = 256,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if variant not in DISPERSION_VARIANTS:
            raise ValueError(f"Unknown dispersion variant {variant!r}; choose one of {', '.join(DISPERSION_VARIANTS)}.")
        if tau <= 0:
            raise ValueError(f"tau must be > 0, got {tau}.")
        if not 0 <= clamp_threshold < 1:
            raise ValueError(f"clamp_threshold must be in [0, 1), got {clamp_threshold}.")
        if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens < 2):
            raise ValueError(f"max_tokens must be >= 2 or None, got {max_tokens!r}.")
        self.variant, self.tau, self.eps = variant, float(tau), float(eps)
        self.clamp_threshold, self.margin, self.max_tokens = float(clamp_threshold), float(margin), max_tokens
        self.generator = generator

    def extra_repr(self) -> str:
        """The settings, shown in the module's repr."""
        return (f"variant={self.variant!r}, tau={self.tau}, eps={self.eps}, clamp_threshold={self.clamp_threshold}, "
                f"margin={self.margin}, max_tokens={self.max_tokens}")

    # ----- token subset ---------------------------------------------------------------------------
    def _random_device(self, fallback: torch.device) -> torch.device:
        return self.generator.device if self.generator is not None else fallback

    def _subset(self, hidden: torch.Tensor, valid: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """At most ``max_tokens`` tokens per sequence, and the mask of the valid ones among them."""
        batch, tokens, _ = hidden.shape
        k = self.max_tokens
        if valid is None:
            mask = torch.ones(batch, tokens, dtype=torch.bool, device=hidden.device)
            if k is None or tokens <= k:
                return hidden, mask
            device = self._random_device(hidden.device)
            index = torch.randperm(tokens, generator=self.generator, device=device)[:k].to(hidden.device)
            return hidden[:, index], mask[:, :k]
        if k is None or int(valid.sum(1).max()) <= k:
            return hidden, valid
        device = self._random_device(hidden.device)
        scores = torch.rand(batch, tokens, generator=self.generator, device=device).to(hidden.device)
        index = scores.masked_fill(~valid, 2.0).argsort(dim=1)[:, :k]  # a random subset of valid tokens first
        gathered = hidden.gather(1, index.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
        return gathered, valid.gather(1, index)

    # ----- pairwise quantities --------------------------------------------------------------------
    def _angular_distance(self, z: torch.Tensor) -> torch.Tensor:
        unit = z / (torch.linalg.vector_norm(z, dim=-1, keepdim=True) + self.eps)
        cos = unit @ unit.transpose(-1, -2)
        t = self.clamp_threshold
        return torch.arccos(_straight_through_clamp(cos, -1.0 + t, 1.0 - t)) / math.pi

    @staticmethod
    def _squared_distances(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``||z_i - z_j||^2`` ``[batch, tokens, tokens]`` by the Gram identity, memory O(batch x tokens^2).

        Each sequence is first centred on the mean of its valid tokens (distances are unchanged): hidden
        states share a large common offset, and ``|a|^2 + |b|^2 - 2 a.b`` of uncentred vectors would cancel
        badly in float32. Rounding below 0 is clamped to 0, and the diagonal is exactly 0 (its gradient too).
        """
        weights = mask.unsqueeze(-1).to(z.dtype)
        centre = (z * weights).sum(1, keepdim=True) / weights.sum(1, keepdim=True).clamp_min(1.0)
        centred = z - centre
        norms = centred.square().sum(-1)
        gram = centred @ centred.transpose(-1, -2)
        squared = (norms.unsqueeze(-1) + norms.unsqueeze(-2) - 2.0 * gram).clamp_min(0.0)
        diagonal = torch.eye(z.shape[1], dtype=torch.bool, device=z.device)
        return squared.masked_fill(diagonal, 0.0)

    @staticmethod
    def _log_mean_exp(values: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Log mean exp over the marked pairs of each sequence (0 for a sequence without pairs; ignored later)."""
        has_pairs = pairs.flatten(1).any(1).view(-1, 1, 1)
        masked = values.masked_fill(~pairs & has_pairs, float("-inf")).masked_fill(~has_pairs, 0.0)
        count = pairs.flatten(1).sum(1).clamp_min(1).to(values.dtype)
        return torch.logsumexp(masked.flatten(1), dim=1) - torch.log(count)

    # ----- the loss -------------------------------------------------------------------------------
    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar loss of ``hidden`` ``[batch, tokens, features]`` (pads, where ``attention_mask == 0``, excluded)."""
        if hidden.ndim != 3:
            raise ValueError(f"Expected hidden states [batch, tokens, features], got shape {tuple(hidden.shape)}.")
        if hidden.shape[-1] < 2:
            raise ValueError(f"The feature dimension must be >= 2 for a dispersion loss, got {hidden.shape[-1]}.")
        if not torch.isfinite(hidden).all():
            raise ValueError("The hidden states contain NaN or inf; the dispersion loss is undefined.")
        valid = None
        if attention_mask is not None:
            if attention_mask.shape != hidden.shape[:2]:
                raise ValueError(f"attention_mask {tuple(attention_mask.shape)} does not match hidden states "
                                 f"{tuple(hidden.shape[:2])}.")
            valid = attention_mask.to(hidden.device).bool()
        z, mask = self._subset(hidden if hidden.dtype in (torch.float32, torch.float64) else hidden.float(), valid)
        counts = mask.sum(1)
        usable = counts >= 2
        if not bool(usable.any()):
            raise ValueError(
                "Every sequence in the batch has fewer than 2 valid tokens: a dispersion loss needs at least one "
                "pair of tokens. Use longer sequences or check the attention mask."
            )
        pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2)
        distinct = pairs & ~torch.eye(z.shape[1], dtype=torch.bool, device=z.device)
        per_sequence = self._per_sequence(z, mask, pairs, distinct)
        return per_sequence[usable].mean()

    def _per_sequence(self, z: torch.Tensor, mask: torch.Tensor, pairs: torch.Tensor,
                      distinct: torch.Tensor) -> torch.Tensor:
        variant = self.variant
        if variant == "angular_spread":
            return self._log_mean_exp(-self._angular_distance(z) / self.tau, distinct) + self.eps
        if variant == "orthogonalization":
            hinge = (self.margin - self._angular_distance(z)).clamp_min(0.0).square()
            return (hinge * distinct).flatten(1).sum(1) / distinct.flatten(1).sum(1).clamp_min(1)
        if variant == "l2_repel":
            repel = self._log_mean_exp(-self._squared_distances(z, mask) / self.tau, pairs) + self.eps
            valid_values = mask.sum(1).clamp_min(1) * z.shape[-1]
            return repel + L2_REPEL_WEIGHT * (z.square().sum(-1) * mask).sum(1) / valid_values
        if variant == "decorrelation":
            centred = z - z.mean(-1, keepdim=True)
            std = centred.std(-1, keepdim=True, correction=1)  # unbiased, as torch.std in the reference
            # no eps: only an exactly constant token (std 0, centred 0) is divided by 1 instead of 0
            standard = centred / torch.where(std > 0, std, torch.ones_like(std))
            corr = standard @ standard.transpose(-1, -2) / (z.shape[-1] - 1)
            return (corr.square() * distinct).flatten(1).sum(1) / distinct.flatten(1).sum(1).clamp_min(1)
        # perplexity_entropy
        rows = distinct.any(-1)  # tokens with at least one partner
        logits = -self._squared_distances(z, mask) / self.tau
        logits = logits.masked_fill(~distinct & rows.unsqueeze(-1), float("-inf"))
        p = torch.softmax(logits.masked_fill(~rows.unsqueeze(-1), 0.0), dim=-1)  # partner-less rows: finite, unused
        entropy = -(p * torch.log2(p + self.eps)).sum(-1)
        return -(entropy * rows).sum(1) / rows.sum(1).clamp_min(1)


def dispersion_layers(blocks: int, loc: str) -> list[int]:
    """Indices into ``hidden_states`` (0 = embedding output) that ``loc`` selects, L = ``blocks``.

    ``"all"``: 1..L (the recipe); ``"last"``: L; ``"early_half"``: the first ``max(1, L // 2)`` blocks;
    ``"late_half"``: blocks ``L // 2 + 1`` .. L. As the reference trainer: on one block both halves are
    block 1 (the only one); otherwise the halves split the blocks without overlap, the late half taking the
    odd one.

    >>> [dispersion_layers(blocks, "early_half") for blocks in (1, 2, 3, 12)]
    [[1], [1], [1], [1, 2, 3, 4, 5, 6]]
    >>> [dispersion_layers(blocks, "late_half") for blocks in (1, 2, 3, 12)]
    [[1], [2], [2, 3], [7, 8, 9, 10, 11, 12]]
    """
    if blocks < 1:
        raise ValueError(f"A dispersion penalty needs at least one block, got {blocks}.")
    half = blocks // 2
    chosen = {"all": range(1, blocks + 1), "last": range(blocks, blocks + 1),
              "early_half": range(1, max(1, half) + 1), "late_half": range(half + 1, blocks + 1)}
    if loc not in chosen:
        raise ValueError(f"Unknown loc {loc!r}; choose one of {', '.join(DISPERSION_LOCATIONS)}.")
    return list(chosen[loc])


def dispersion_penalty(
    hidden_states: Sequence[torch.Tensor],
    attention_mask: torch.Tensor | None = None,
    loc: str = "all",
    loss: DispersionLoss | None = None,
) -> torch.Tensor:
    """Mean dispersion loss over the chosen layers of a model's ``hidden_states`` (embedding output excluded).

    ``hidden_states`` has ``L + 1`` entries (index 0 = embedding output), ``L >= 1``. ``loc`` picks the
    entries (see :func:`dispersion_layers`): ``"all"`` = 1..L (the recipe), ``"last"`` = L,
    ``"early_half"`` = the first ``max(1, L // 2)`` blocks, ``"late_half"`` = blocks ``L // 2 + 1`` .. L
    (on one block both halves are block 1).
    """
    loss = loss if loss is not None else DispersionLoss()
    blocks = len(hidden_states) - 1
    if blocks < 1:
        raise ValueError("dispersion_penalty needs the embedding output and at least one block's hidden "
                         f"states (got {len(hidden_states)} hidden-state tensor(s)).")
    chosen = dispersion_layers(blocks, loc)
    return torch.stack([loss(hidden_states[i], attention_mask) for i in chosen]).mean()
