"""The "implement, then check" exercises of the tutorials.

Each check runs the student's function on fresh inputs beside the package's own computation and, when they
differ, names the likely mistake.

Every check prints "All tests in `check_...` passed!" when the function is right, prints that it is not written
yet (so "Run all" goes on) when it raises ``NotImplementedError``, and raises :class:`ExerciseError` with the hint
otherwise. It returns None, so a notebook cell that ends with the check shows only that line; the outcome is kept
in :data:`CHECKS`. Torch is imported only when a check runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

CHECKS: dict[str, str] = {}
"""Outcome of every check run in this kernel: ``"passed"``, ``"not implemented"`` or the hint given."""


class ExerciseError(AssertionError):
    """A student's function gave a wrong answer; the message names the likely mistake."""


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


Case = tuple[tuple[Any, ...], dict[str, Any], Any, list[tuple[Any, str]]]
"""One test case: positional and keyword arguments, the right answer, and (wrong answer, hint) pairs."""


def _run(name: str, function: Callable[..., Any], cases: list[Case], tolerance: float) -> None:
    """Run ``function`` on each case ``(args, kwargs, expected, [(wrong answer, hint), ...])``."""
    for args, kwargs, expected, mistakes in cases:
        try:
            got = function(*args, **kwargs)
        except NotImplementedError:
            CHECKS[name] = "not implemented"
            print(f"`{name}`: not implemented yet. Write the function's body, run its cell, then this one.")
            return
        got_array, want = _array(got), _array(expected)
        if got_array.shape != want.shape:
            hint = f"expected an answer of shape {want.shape}, got {got_array.shape}"
            if want.ndim == 1 and got_array.ndim == 0:
                hint += ": return one value per layer, not one number"
            CHECKS[name] = hint
            raise ExerciseError(f"`{name}`: {hint}.")
        if np.allclose(got_array, want, atol=tolerance, rtol=0, equal_nan=True):
            continue
        for wrong, hint in mistakes:
            wrong_array = _array(wrong)
            if wrong_array.shape == want.shape and np.allclose(got_array, wrong_array, atol=tolerance, rtol=0):
                CHECKS[name] = hint
                raise ExerciseError(f"`{name}`: {hint} (expected {np.round(want, 4).tolist()}, "
                                    f"got {np.round(got_array, 4).tolist()}).")
        hint = "not a mistake we know; compare your steps with the formula above the exercise"
        CHECKS[name] = hint
        raise ExerciseError(f"`{name}`: expected {np.round(want, 4).tolist()}, got {np.round(got_array, 4).tolist()}"
                            f": {hint}.")
    CHECKS[name] = "passed"
    print(f"All tests in `{name}` passed!")


# ----- 00: one text's layer-mean cosine -------------------------------------------------------------------------


def _condensed_hidden_states(rng: np.random.Generator) -> tuple[Any, ...]:
    """Fresh hidden states ``(layer -> [1, S, d])`` that condense with depth: a shared direction grows."""
    import torch

    n_tokens, dim, n_layers = int(rng.integers(5, 12)), int(rng.integers(8, 24)), int(rng.integers(3, 6))
    shared = rng.normal(size=dim)
    states = []
    for layer in range(n_layers):
        noise = rng.normal(size=(n_tokens, dim)) * rng.uniform(0.5, 3.0, size=(n_tokens, 1))
        states.append(torch.tensor((layer * shared + noise)[None], dtype=torch.float32))
    return tuple(states)


def check_layer_mean_cosine(function: Callable[[tuple[Any, ...]], Any]) -> None:
    """Check ``function(hidden_states) -> [layer]``: each layer's mean cosine over pairs of distinct tokens.

    ``hidden_states`` is what ``model(..., output_hidden_states=True).hidden_states`` gives for one text: one
    tensor ``[1, S, d]`` per layer. The reference is the package's own per-text statistic
    (``measurement.metrics``), which the measurements use.
    """
    import torch

    from ..measurement.metrics import cosine_matrices, text_layer_statistics

    rng = np.random.default_rng()
    cases: list[Case] = []
    for _ in range(3):
        hidden = _condensed_hidden_states(rng)
        per_layer = [h[0] for h in hidden]
        expected = text_layer_statistics(cosine_matrices(per_layer)).mean.numpy()
        n = per_layer[0].shape[0]
        with_diagonal = (expected * n * (n - 1) + n) / (n * n)
        dots = np.array([float((h @ h.T).sum() - h.pow(2).sum()) / (n * (n - 1)) for h in per_layer])
        wrong_axis = [torch.nn.functional.normalize(h, dim=0) for h in per_layer]
        by_tokens = np.array([float((z @ z.T).sum() - (z * z).sum()) / (n * (n - 1)) for z in wrong_axis])
        mistakes = [(with_diagonal, "off by the diagonal: you counted each token with itself (cosine 1); average "
                                    "over the S(S - 1) pairs of distinct tokens"),
                    (dots, "you averaged dot products, not cosines: divide each token vector by its length first"),
                    (by_tokens, "you normalised over the tokens (dim 0), not each token vector over its features "
                                "(dim -1)")]
        cases.append(((hidden,), {}, expected, mistakes))
    return _run("check_layer_mean_cosine", function, cases, 1e-4)


# ----- 01: Spearman's rho of the layer means ----------------------------------------------------------------------


def check_spearman_rho(function: Callable[[Any], float]) -> None:
    """Check ``function(layer_means) -> float``: Spearman's rank correlation of the layer means with depth.

    The reference is :func:`nb_condense.core.summaries.trend_statistics` (scipy's ``spearmanr``). Fresh inputs
    include tied layer means.
    """
    from scipy import stats

    from ..core.summaries import trend_statistics

    rng = np.random.default_rng()
    cases: list[Case] = []
    for ties in (False, True, True):
        n = int(rng.integers(7, 26))
        means = np.cumsum(rng.normal(0.02, 0.05, size=n)) + 0.3
        if ties:
            means = np.round(means, 1)
            while len(set(means)) == n:  # make sure at least one tie exists
                means[int(rng.integers(1, n))] = means[0]
        depth = np.arange(n)
        expected = trend_statistics(means).spearman_rho
        ranks = np.argsort(np.argsort(means)).astype(float)  # ties broken by position, not averaged
        average = stats.rankdata(means)
        no_tie_formula = 1 - 6 * ((average - depth - 1) ** 2).sum() / (n * (n**2 - 1))
        mistakes = [(-expected, "the sign is flipped: rank depth and the layer means the same way (smallest = "
                                "rank 1 for both)"),
                    (float(np.corrcoef(depth, means)[0, 1]), "you correlated the values, not their ranks (that is "
                                                            "Pearson's r)"),
                    (float(np.corrcoef(depth, ranks)[0, 1]), "ties: tied layer means must share the average of "
                                                            "their ranks (scipy.stats.rankdata does it)"),
                    (no_tie_formula, "with ties, 1 - 6 sum(d^2) / (n (n^2 - 1)) is not exact: take Pearson's r of "
                                     "the average ranks")]
        if ties and abs(no_tie_formula - expected) < 1e-6:
            mistakes = mistakes[:3]
        cases.append(((means.copy(),), {}, expected, mistakes))
    return _run("check_spearman_rho", function, cases, 1e-6)


# ----- 02: the parameters of one MLP ----------------------------------------------------------------------------


def check_mlp_parameters(function: Callable[[int, int], int]) -> None:
    """Check ``function(n_embd, n_inner) -> int``: the parameters of one GPT-2 block's MLP.

    The reference counts the parameters of ``training.tiny_gpt2(...)``'s first MLP.
    """
    from ..training.lab import tiny_gpt2

    rng = np.random.default_rng()
    cases: list[Case] = []
    for _ in range(3):
        n_embd, n_inner = 2 * int(rng.integers(4, 40)), int(rng.integers(8, 300))
        model: Any = tiny_gpt2(n_layer=2, n_embd=n_embd, n_head=2, n_inner=n_inner, vocab_size=64, n_positions=16)
        expected = sum(p.numel() for p in model.transformer.h[0].mlp.parameters())
        mistakes = [(2 * n_embd * n_inner, "you left out the biases: n_inner for the first matrix, n_embd for the "
                                           "second"),
                    (n_embd * n_inner + n_inner, "the MLP has two matrices: up (n_embd -> n_inner) and down "
                                                 "(n_inner -> n_embd)"),
                    (2 * (2 * n_embd * n_inner + n_inner + n_embd), "count one block's MLP, not every block's")]
        cases.append(((n_embd, n_inner), {}, expected, mistakes))
    return _run("check_mlp_parameters", function, cases, 0.5)


# ----- 03: a layer's change between two checkpoints -------------------------------------------------------------


def check_layer_change(function: Callable[[Any, int, int], Any]) -> None:
    """Check ``function(history, start, end) -> [layer]``: each layer's change of mean cosine.

    The change runs from step ``start`` to step ``end`` (end minus start), in layer order.

    ``history`` is shaped like ``CondensationCallback.history``: columns ``step, layer, layer_fraction, mean``.
    """
    import pandas as pd

    rng = np.random.default_rng()
    cases: list[Case] = []
    for _ in range(3):
        steps = np.sort(rng.choice(np.arange(0, 400, 10), size=int(rng.integers(4, 7)), replace=False))
        layers = np.arange(int(rng.integers(4, 9)))
        means = rng.uniform(0.1, 0.9, size=(len(steps), len(layers)))
        history = pd.DataFrame({"step": np.repeat(steps, len(layers)), "layer": np.tile(layers, len(steps)),
                                "layer_fraction": np.tile(layers / layers.max(), len(steps)),
                                "mean": means.reshape(-1)}).sample(frac=1, random_state=int(rng.integers(1000)))
        start, end = int(steps[1]), int(steps[-2])  # not the first and last rows: a position slip shows
        expected = means[-2] - means[1]
        mistakes = [(-expected, "the sign is flipped: the change is the later step minus the earlier one (a "
                                "negative change means the layer spread out)"),
                    (np.abs(expected), "keep the sign: a fall and a rise are different findings"),
                    (means[-1] - means[0], "you took the first and last steps measured, not the steps asked for")]
        cases.append(((history, start, end), {}, expected, mistakes))
    return _run("check_layer_change", function, cases, 1e-9)


# ----- 04: a logit-distillation loss ----------------------------------------------------------------------------


def check_distillation_loss(function: Callable[[Any, Any, float], Any]) -> None:
    """Check ``function(student_logits, teacher_logits, temperature) -> scalar``: a logit-distillation loss.

    The loss is T^2 KL(teacher || student) of the temperature-softened next-token distributions, averaged over
    tokens.

    The reference is the training lab's own term (:func:`nb_condense.training.lab.distillation_term`).
    """
    import torch

    from ..training.lab import distillation_term

    rng = np.random.default_rng()
    cases: list[Case] = []
    for _ in range(3):
        batch, length, vocab = int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(5, 30))
        temperature = float(rng.choice([0.5, 2.0, 3.0]))
        student = torch.tensor(rng.normal(size=(batch, length, vocab)) * 2, dtype=torch.float32)
        teacher = torch.tensor(rng.normal(size=(batch, length, vocab)) * 2, dtype=torch.float32)
        expected = float(distillation_term(student, teacher, temperature))
        t = temperature
        log_s, log_t = torch.log_softmax(student / t, -1), torch.log_softmax(teacher / t, -1)
        per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
        reverse = (log_s.exp() * (log_s - log_t)).sum(-1).mean() * t * t
        plain_s, plain_t = torch.log_softmax(student, -1), torch.log_softmax(teacher, -1)
        unsoftened = (plain_t.exp() * (plain_t - plain_s)).sum(-1).mean() * t * t
        mistakes = [(float(per_token.mean()), "scale by T^2: softened targets give gradients 1/T^2 smaller, and "
                                              "T^2 puts them back on the LM loss's scale"),
                    (float(reverse), "the KL runs the other way: KL(teacher || student) = sum p_teacher (log "
                                     "p_teacher - log p_student)"),
                    (float(unsoftened), "divide both logits by the temperature before the softmax"),
                    (float(per_token.sum() * t * t), "average over the tokens (batch x positions), do not sum"),
                    (float(per_token.mean() * t * t / vocab), "reduction='mean' also divides by the vocabulary "
                                                              "size: average over tokens only ('batchmean' on "
                                                              "flattened tokens)")]
        cases.append(((student, teacher, temperature), {}, expected, mistakes))
    return _run("check_distillation_loss", function, cases, 1e-5)


# ----- 05: the angular spread, and the floor of the mean cosine ---------------------------------------------------


def check_angular_spread(function: Callable[..., Any]) -> None:
    """Check ``function(z, tau=1.0, eps=1e-2, clamp=0.25) -> scalar``: the paper's angular-spread loss.

    ``z`` ``[T, F]`` is one sequence (the formula cell above the exercise gives the loss).

    The reference is ``nbc.DispersionLoss("angular_spread", ...)`` on the same tokens (all of them kept).
    """
    import torch

    from ..training.dispersion import DispersionLoss

    rng = np.random.default_rng()
    cases: list[Case] = []
    for _ in range(3):
        n, dim = int(rng.integers(4, 12)), int(rng.integers(3, 16))
        direction = rng.normal(size=dim)
        points = 40 * direction / np.linalg.norm(direction) + rng.normal(size=(n, dim)) * rng.uniform(5, 60)
        z = torch.tensor(points, dtype=torch.float64)
        tau, eps, clamp = float(rng.choice([0.5, 1.0])), 1e-2, float(rng.choice([0.1, 0.25]))
        reference = DispersionLoss("angular_spread", tau=tau, eps=eps, clamp_threshold=clamp, max_tokens=None)
        expected = float(reference(z[None]))
        unit = z / (z.norm(dim=-1, keepdim=True) + eps)
        cos = unit @ unit.T
        off = ~torch.eye(n, dtype=torch.bool)

        def lme(values: torch.Tensor) -> float:
            return float(torch.logsumexp(values, 0) - math.log(values.numel()))

        angle = torch.arccos(cos.clamp(-1 + clamp, 1 - clamp)) / math.pi
        raw_angle = torch.arccos(cos.clamp(-1, 1)) / math.pi
        mistakes = [(lme((-angle / tau).reshape(-1)) + eps, "off by the diagonal: the mean runs over the T(T - 1) "
                                                            "pairs i != j, not every (i, i) too"),
                    (lme(-angle[off] / tau) + eps + math.log(n * (n - 1)), "log-MEAN-exp: subtract log(T(T - 1)) "
                                                                           "from the log-sum-exp"),
                    (lme(angle[off] / tau) + eps, "the exponent is -D/tau: spread tokens (large D) must give a "
                                                  "low loss"),
                    (lme(-angle[off] * math.pi / tau) + eps, "D = arccos(c) / pi lies in [0, 1]: divide by pi"),
                    (lme(-raw_angle[off] / tau) + eps, "clamp the cosines to [-1 + t, 1 - t] before arccos"),
                    (lme(-angle[off] / tau), "the reference adds eps to the log-mean-exp (it shifts the value, not "
                                             "the gradient)")]
        cases.append(((z,), dict(tau=tau, eps=eps, clamp=clamp), expected, mistakes))
    return _run("check_angular_spread", function, cases, 2e-3)


def _simplex_mean_cosine(n: int) -> float:
    """Mean cosine over pairs of distinct vertices of a regular simplex of ``n`` unit vectors (built, not derived)."""
    vertices = np.eye(n) - 1 / n  # the corners of the standard simplex, centred: they sum to 0
    unit = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    cos = unit @ unit.T
    return float((cos.sum() - np.trace(cos)) / (n * (n - 1)))


def check_cosine_floor(function: Callable[[int], float]) -> None:
    """Check ``function(n) -> float``: the lowest mean pairwise cosine (pairs i != j) of ``n`` unit vectors.

    The reference builds a regular simplex of ``n`` unit vectors and measures it.
    """
    rng = np.random.default_rng()
    cases: list[Case] = []
    for n in sorted({2, int(rng.integers(3, 10)), int(rng.integers(10, 500))}):
        expected = _simplex_mean_cosine(n)
        mistakes = [(-1 / n, "each vector has n - 1 others: the floor is -1 / (n - 1)"),
                    (0.0, "the floor is below 0 for any finite n: the vectors of a regular simplex sum to 0, so "
                          "the n(n - 1) off-diagonal cosines sum to -n"),
                    (-1.0, "-1 is only reachable by 2 vectors; n vectors cannot all be opposite each other")]
        cases.append(((n,), {}, expected, mistakes))
    return _run("check_cosine_floor", function, cases, 1e-9)
