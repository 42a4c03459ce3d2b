"""Reference solutions of the "implement, then check" exercises (what the collapsed dropdowns show).

A notebook never runs these: each exercise's stub is the only executed cell that defines the student's function,
and a dropdown shows the solution's source (:func:`solution_markdown`). The notebook tier runs every solution
through its check. ``check_X`` checks the function named ``X``; :data:`SOLUTIONS` maps each check to its solution.
Torch is imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

# ----- 00 -------------------------------------------------------------------------------------------------------


def layer_mean_cosine(hidden_states):
    """Mean cosine similarity between distinct tokens, per layer (one text)."""
    import torch

    means = []
    for h in hidden_states:
        z = torch.nn.functional.normalize(h[0].double(), dim=-1)  # each token vector divided by its length
        cos = z @ z.T
        n = cos.shape[0]
        means.append(float((cos.sum() - cos.diagonal().sum()) / (n * (n - 1))))  # the S(S - 1) distinct pairs
    return np.array(means)


def masked_layer_means(hidden_states, attention_mask):
    """Each text's mean cosine between distinct real tokens, per layer: an array [text, layer]."""
    import torch

    real = attention_mask.bool()
    n = real.sum(1).double()  # real tokens per text
    pair = (real[:, :, None] & real[:, None, :]).double()  # 1 where both tokens are real
    out = []
    for h in hidden_states:
        z = torch.nn.functional.normalize(h.double(), dim=-1)
        cos = z @ z.transpose(1, 2) * pair  # pads' rows and columns set to 0
        diagonal = cos.diagonal(dim1=1, dim2=2).sum(1)
        out.append((cos.sum((1, 2)) - diagonal) / (n * (n - 1)))
    return torch.stack(out, 1).cpu().numpy()


def pooled_layer_means(text_means, text_lengths):
    """The mean over every pair of distinct tokens of every text, per layer: texts weighted by S(S - 1)."""
    lengths = np.asarray(text_lengths, dtype=float)
    pairs = lengths * (lengths - 1)
    return (pairs[:, None] * np.asarray(text_means)).sum(0) / pairs.sum()


# ----- 01 -------------------------------------------------------------------------------------------------------


def spearman_rho(layer_means):
    """Spearman's rank correlation between depth (0, 1, 2, ...) and the layer means."""
    from scipy.stats import rankdata

    ranks = rankdata(layer_means)  # ties share their average rank
    depth = np.arange(1, len(layer_means) + 1)
    return float(np.corrcoef(depth, ranks)[0, 1])  # Pearson's r of the ranks


def position_averaged(matrices):
    """The paper's matrix: entry (i, j) averaged over the texts that have positions i and j, diagonal kept."""
    longest = max(m.shape[-1] for m in matrices)
    total = np.zeros((matrices[0].shape[0], longest, longest))
    count = np.zeros((longest, longest))
    for m in matrices:
        n = m.shape[-1]
        total[:, :n, :n] += m
        count[:n, :n] += 1
    return total / count


def last_half_mean(layer_means):
    """Mean of the last max(1, n // 2) layer means (n counts the embedding output too)."""
    n = max(1, len(layer_means) // 2)
    return float(np.mean(layer_means[-n:]))


# ----- 02 -------------------------------------------------------------------------------------------------------


def bootstrap_interval(means, pairs, indices, ci=0.95):
    """Percentile interval of the pooled mean over resamples of texts (each row of `indices` is one resample)."""
    means, pairs = np.asarray(means, dtype=float), np.asarray(pairs, dtype=float)
    pooled = (means[indices] * pairs[indices]).sum(1) / pairs[indices].sum(1)  # a text drawn twice counts twice
    low, high = np.quantile(pooled, [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high)


def perplexity(logits, input_ids):
    """Exp of the mean cross-entropy of each next token, predicted from the logits one position earlier."""
    import torch

    predicted = logits[:, :-1].flatten(0, 1)  # position t predicts token t + 1
    targets = input_ids[:, 1:].flatten()
    return math.exp(float(torch.nn.functional.cross_entropy(predicted.double(), targets)))


def change_interval(before, after, indices, ci=0.95):
    """Percentile interval of mean(after - before) over resamples of the same texts (a paired bootstrap)."""
    change = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)  # one change per text
    means = change[indices].mean(1)
    low, high = np.quantile(means, [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high)


def learning_rates(total_steps, peak_lr, warmup_ratio):
    """The learning rate at each step: linear warm-up, then a cosine decay to 0 (the paper's schedule)."""
    warmup = math.ceil(warmup_ratio * total_steps)  # the Trainer rounds the warm-up up
    rates = []
    for step in range(total_steps):
        if step < warmup:
            rates.append(peak_lr * step / warmup)
        else:
            progress = (step - warmup) / max(1, total_steps - warmup)
            rates.append(peak_lr * 0.5 * (1 + math.cos(math.pi * progress)))
    return np.array(rates)


# ----- 03 -------------------------------------------------------------------------------------------------------


def rho_by_step(history):
    """Spearman's rho of the layer means with depth at each measured step, in step order."""
    from scipy.stats import spearmanr

    rhos = []
    for _, rows in sorted(history.groupby("step"), key=lambda item: item[0]):
        rows = rows.sort_values("layer")  # rank the layers by depth, not by row order
        rhos.append(float(spearmanr(rows["layer"], rows["mean"])[0]))
    return np.array(rhos)


def residual_cosine(shared, noise, depth):
    """Expected cosine of two tokens after `depth` blocks in a very high dimension.

    Each block adds one shared vector (norm `shared`) and independent random noise (norm `noise`).
    """
    signal = (depth * shared) ** 2  # the shared parts add up in one direction
    scatter = depth * noise**2  # independent noise adds up in squares
    return signal / (signal + scatter)


# ----- 04 -------------------------------------------------------------------------------------------------------


def distillation_loss(student_logits, teacher_logits, temperature):
    """T^2 KL(teacher || student) of the temperature-softened next-token distributions, averaged over tokens."""
    import torch

    t = temperature
    log_s = torch.log_softmax(student_logits / t, -1)
    log_t = torch.log_softmax(teacher_logits / t, -1)
    return (log_t.exp() * (log_t - log_s)).sum(-1).mean() * t * t


def distillation_objective(lm_loss, student_logits, teacher_logits, temperature, alpha):
    """Alpha x LM loss + (1 - alpha) x T^2 KL(teacher || student); no gradient reaches the teacher."""
    import torch

    t = temperature
    log_s = torch.log_softmax(student_logits / t, -1)
    log_t = torch.log_softmax(teacher_logits.detach() / t, -1)  # the teacher is fixed: detach it
    kd = (log_t.exp() * (log_t - log_s)).sum(-1).mean() * t * t
    return alpha * lm_loss + (1 - alpha) * kd


def softened_entropy(logits, temperature):
    """Mean entropy (nats) over tokens of softmax(logits / T): how soft the teacher's targets are."""
    import torch

    log_p = torch.log_softmax(logits.double() / temperature, -1)
    return float(-(log_p.exp() * log_p).sum(-1).mean())


# ----- 05 -------------------------------------------------------------------------------------------------------


def angular_spread(z, tau=1.0, eps=1e-2, clamp=0.25):
    """The paper's angular-spread loss of one sequence z [T, F] (a scalar tensor)."""
    import torch

    unit = z / (z.norm(dim=-1, keepdim=True) + eps)
    cos = unit @ unit.T
    clamped = cos + (cos.clamp(-1 + clamp, 1 - clamp) - cos).detach()  # straight through: the gradient passes
    distance = torch.arccos(clamped) / math.pi
    n = z.shape[0]
    off = ~torch.eye(n, dtype=torch.bool)  # pairs i != j
    return torch.logsumexp(-distance[off] / tau, 0) - math.log(n * (n - 1)) + eps


def dispersion_penalty(hidden_states, loss):
    """The recipe's penalty: the mean of `loss` over the blocks' outputs 1..L (the embedding output skipped)."""
    import torch

    return torch.stack([loss(h) for h in hidden_states[1:]]).mean()


def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
    """A Trainer's compute_loss: LM loss + self.dispersion_coeff x the penalty (training mode only)."""
    import torch

    outputs = model(**inputs, output_hidden_states=True)
    loss = outputs.loss
    if model.training:
        mask = inputs.get("attention_mask")
        layers = outputs.hidden_states[1:]  # the blocks' outputs, not the embedding output
        penalty = torch.stack([self.dispersion_loss(h, mask) for h in layers]).mean()
        loss = loss + self.dispersion_coeff * penalty
    return (loss, outputs) if return_outputs else loss


SOLUTIONS: dict[str, Callable[..., Any]] = {
    f"check_{f.__name__}": f for f in (
        layer_mean_cosine, masked_layer_means, pooled_layer_means, spearman_rho, position_averaged, last_half_mean,
        bootstrap_interval, perplexity, learning_rates, change_interval, rho_by_step, residual_cosine,
        distillation_loss,
        distillation_objective, softened_entropy, angular_spread, dispersion_penalty, compute_loss,
    )
}
"""The solution of each check, by the check's name."""


def solution_source(name: str) -> str:
    """The source of the solution of ``name`` (a function name or its check's name)."""
    function = SOLUTIONS[name if name.startswith("check_") else f"check_{name}"]
    return inspect.getsource(function)


def solution_markdown(name: str) -> str:
    """The collapsed dropdown a notebook shows below an exercise: ``<details>`` with the solution's code."""
    return ("<details><summary>Solution (click to open)</summary>\n\n```python\n"
            f"{solution_source(name).rstrip()}\n```\n\n</details>")
