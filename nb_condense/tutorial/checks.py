"""The "implement, then check" exercises of the tutorials.

Each check runs the student's function on fresh inputs beside the package's own computation (never beside the
solution shown in the dropdown) and, when they differ, names the likely mistake. Inputs are drawn so that no listed
mistake can pass by chance: continuous parameters, lengths over a wide range, several cases per call. Where the
exercise is a loss, the student's gradient is compared with the reference's too.

Every check prints "All tests in `check_...` passed!" when the function is right and prints that it is not written
yet (so "Run all" goes on) when it raises ``NotImplementedError``. A wrong answer raises :class:`ExerciseError`,
which IPython shows as its one-line hint, without the package's traceback. A check returns None; its outcome is
kept in :data:`CHECKS`. ``check_X`` checks the function named ``X``; ``seed=`` draws reproducible inputs (the tests
use it). Torch is imported only when a check runs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np

CHECKS: dict[str, str] = {}
"""Outcome of every check run in this kernel: ``"passed"``, ``"not implemented"`` or the hint given."""

UNKNOWN = "not a mistake we know; compare your steps with the formula above the exercise"


class ExerciseError(AssertionError):
    """A student's function gave a wrong answer; the message names the likely mistake.

    In IPython and Jupyter only the message is shown (``_render_traceback_``), not the package's traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass
class Case:
    """One test case: the arguments, the right answer, and (wrong answer, hint) pairs.

    ``grad_arg`` names the positional argument (a tensor) whose gradient the answer must match: ``expected_grad``,
    with ``grad_mistakes`` (wrong gradient, hint).
    """

    args: tuple[Any, ...]
    expected: Any
    mistakes: list[tuple[Any, str]] = field(default_factory=list)
    tolerance: float = 1e-6
    kwargs: dict[str, Any] = field(default_factory=dict)
    grad_arg: int | None = None
    expected_grad: Any = None
    grad_mistakes: list[tuple[Any, str]] = field(default_factory=list)


def _array(value: Any) -> np.ndarray:
    if isinstance(value, (tuple, list)):
        return np.asarray([float(_array(v)) for v in value], dtype=np.float64)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _close(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=tolerance, rtol=0, equal_nan=True))


def _shown(value: np.ndarray) -> str:
    flat = [float(f"{v:.4g}") for v in value.ravel().tolist()]
    return str(flat[:6])[:-1] + (", ...]" if len(flat) > 6 else "]") if value.ndim else f"{float(value):.4g}"


def _fail(name: str, hint: str, got: np.ndarray | None = None, want: np.ndarray | None = None) -> None:
    CHECKS[name] = hint
    detail = "" if got is None or want is None else f" (expected {_shown(want)}, got {_shown(got)})"
    raise ExerciseError(f"`{name}`: {hint}{detail}.")


def _compare(name: str, got: Any, want: Any, mistakes: list[tuple[Any, str]], tolerance: float,
             what: str = "") -> None:
    got_array, want_array = _array(got), _array(want)
    if got_array.shape != want_array.shape:
        hint = f"expected {what}an answer of shape {want_array.shape}, got {got_array.shape}"
        if want_array.ndim == 1 and got_array.ndim == 0:
            hint += ": return one value per layer, not one number"
        for wrong, mistake in mistakes:
            if _array(wrong).shape == got_array.shape and _close(got_array, _array(wrong), tolerance):
                hint = mistake
        _fail(name, hint)
    if _close(got_array, want_array, tolerance):
        return
    for wrong, hint in mistakes:
        if _close(got_array, _array(wrong), tolerance):
            _fail(name, f"{what}{hint}", got_array, want_array)
    _fail(name, f"{what}{UNKNOWN}", got_array, want_array)


def _gradient(name: str, case: Case, got: Any, leaf: Any) -> None:
    import torch

    no_gradient = not bool(_array(case.expected_grad).any())  # right when nothing may reach this input
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        if no_gradient:
            return
        _fail(name, _CONNECTED)
    (grad,) = torch.autograd.grad(got.sum(), leaf, allow_unused=True)
    grad = torch.zeros_like(leaf) if grad is None else grad
    _compare(name, grad, case.expected_grad, case.grad_mistakes, case.tolerance, "the gradient: ")


def _fresh(case: Case) -> tuple[tuple[Any, ...], Any]:
    """The case's arguments, copied (a student's in-place edit cannot leak), with a fresh leaf for the gradient."""
    args = tuple(a.clone() if hasattr(a, "clone") else a.copy() if hasattr(a, "copy") else a for a in case.args)
    leaf = None
    if case.grad_arg is not None:
        leaf = args[case.grad_arg].detach().clone().requires_grad_(True)
        args = args[: case.grad_arg] + (leaf,) + args[case.grad_arg + 1:]
    return args, leaf


def _not_implemented(name: str) -> None:
    CHECKS[name] = "not implemented"
    print(f"`{name}`: not implemented yet. Write the function's body, then run this cell again.")


def _passed(name: str) -> None:
    CHECKS[name] = "passed"
    print(f"All tests in `{name}` passed!")


def _run(name: str, function: Callable[..., Any], cases: list[Case]) -> None:
    """Run ``function`` on each case; print "passed", "not implemented yet", or raise the hint."""
    for case in cases:
        args, leaf = _fresh(case)
        try:
            got = function(*args, **case.kwargs)
        except NotImplementedError:
            _not_implemented(name)
            return
        _compare(name, got, case.expected, case.mistakes, case.tolerance)
        if leaf is not None:
            _gradient(name, case, got, leaf)
    _passed(name)


F = TypeVar("F", bound=Callable[..., None])


def _one_thread(check: F) -> F:
    """Run ``check`` on one torch thread: its inputs are tiny, and on a busy 2-core machine threads only wait."""

    @functools.wraps(check)
    def wrapper(function: Callable[..., Any], seed: int | None = None) -> None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            check(function, seed)
        finally:
            torch.set_num_threads(threads)

    return cast(F, wrapper)


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


_DRAWN: dict[tuple[str, int], Any] = {}


def _cases(draw: Callable[[np.random.Generator], Any], seed: int | None) -> Any:
    """``draw``'s inputs for ``seed`` (fresh ones for None).

    A seeded draw is kept, so a battery of wrong answers pays for the reference once per seed (the cases are copied
    before each call).
    """
    if seed is None:
        return draw(_rng(None))
    key = (draw.__name__, int(seed))
    if key not in _DRAWN:
        if len(_DRAWN) > 64:
            _DRAWN.clear()
        _DRAWN[key] = draw(_rng(seed))
    return _DRAWN[key]


def _away_from(rng: np.random.Generator, low: float, high: float, avoid: tuple[float, ...], gap: float) -> float:
    """A uniform draw in [low, high] at least ``gap`` from every value in ``avoid``."""
    while True:
        value = float(rng.uniform(low, high))
        if all(abs(value - a) >= gap for a in avoid):
            return value


# ----- 00: the diagonal, the attention mask, pair weighting ----------------------------------------------------------


def _token_cloud(rng: np.random.Generator, n_tokens: int, dim: int, shared: float) -> np.ndarray:
    """``n_tokens`` vectors around a shared direction, with lengths that differ (so dot products are not cosines)."""
    direction = rng.normal(size=dim)
    noise = rng.normal(size=(n_tokens, dim))
    return (shared * direction + noise) * rng.uniform(0.3, 4.0, size=(n_tokens, 1))


def _mean_off_diagonal(cos: np.ndarray) -> float:
    n = cos.shape[0]
    return float((cos.sum() - np.trace(cos)) / (n * (n - 1)))


def _unit(x: np.ndarray, axis: int = -1) -> np.ndarray:
    unit: np.ndarray = x / np.linalg.norm(x, axis=axis, keepdims=True)
    return unit


@_one_thread
def check_layer_mean_cosine(function: Callable[[tuple[Any, ...]], Any], seed: int | None = None) -> None:
    """Check ``layer_mean_cosine(hidden_states) -> [layer]``: each layer's mean cosine over distinct tokens.

    ``hidden_states`` is what ``model(..., output_hidden_states=True).hidden_states`` gives for one text: one
    tensor ``[1, S, d]`` per layer. The reference is numpy's (the notebook then compares the package's measurement).
    """
    _run("check_layer_mean_cosine", function, _cases(_draw_layer_mean_cosine, seed))


def _draw_layer_mean_cosine(rng: np.random.Generator) -> list[Case]:
    import torch

    cases = []
    for n_tokens in (int(rng.integers(3, 8)), int(rng.integers(8, 60))):
        dim, n_layers = int(rng.integers(6, 32)), int(rng.integers(3, 7))
        layers = [_token_cloud(rng, n_tokens, dim, shared=0.7 * layer) for layer in range(n_layers)]
        hidden = tuple(torch.tensor(h[None], dtype=torch.float64) for h in layers)
        expected = np.array([_mean_off_diagonal(_unit(h) @ _unit(h).T) for h in layers])
        n = n_tokens
        mistakes = [
            ((expected * n * (n - 1) + n) / (n * n), "off by the diagonal: you counted each token with itself "
                                                     "(cosine 1); average over the S(S - 1) pairs of distinct tokens"),
            ([_mean_off_diagonal(h @ h.T) for h in layers], "you averaged dot products, not cosines: divide each "
                                                            "token vector by its length first"),
            ([_mean_off_diagonal(_unit(h, 0) @ _unit(h, 0).T) for h in layers],
             "you normalised over the tokens (dim 0), not each token vector over its features (dim -1)"),
            ([float(expected.mean())] * n_layers, "return one value per layer, not one number for all layers"),
        ]
        cases.append(Case((hidden,), expected, mistakes, tolerance=1e-5))
    return cases


@_one_thread
def check_masked_layer_means(function: Callable[[tuple[Any, ...], Any], Any], seed: int | None = None) -> None:
    """Check ``masked_layer_means(hidden_states, attention_mask) -> [text, layer]``: padding and the attention mask.

    A batch of texts of unequal length, padded on the right: ``hidden_states`` has one ``[text, S, d]`` tensor per
    layer, ``attention_mask`` ``[text, S]`` is 1 for a real token and 0 for a pad. Each text's mean cosine over its
    pairs of distinct *real* tokens. The pads' vectors are not zero (a model computes something there too). The
    reference is numpy's, text by text.
    """
    _run("check_masked_layer_means", function, _cases(_draw_masked_layer_means, seed))


def _draw_masked_layer_means(rng: np.random.Generator) -> list[Case]:
    import torch

    n_texts, longest = int(rng.integers(2, 5)), int(rng.integers(8, 40))
    lengths = rng.integers(2, longest - 2, size=n_texts)
    lengths[int(rng.integers(n_texts))] = longest  # one text fills the batch, the others are padded
    lengths[(int(rng.integers(n_texts)) + 1) % n_texts] = int(rng.integers(2, longest - 3))  # one has >= 3 pads
    dim, n_layers = int(rng.integers(6, 24)), int(rng.integers(2, 5))
    mask = (np.arange(longest)[None] < lengths[:, None]).astype(np.int64)
    layers = []
    for layer in range(n_layers):
        texts = np.stack([_token_cloud(rng, longest, dim, shared=0.5 + 0.5 * layer) for _ in range(n_texts)])
        pads = rng.normal(size=(n_texts, longest, dim)) * 3 + 2 * rng.normal(size=dim)  # unlike the real tokens
        layers.append(np.where(mask[..., None] == 1, texts, pads))
    hidden = tuple(torch.tensor(h) for h in layers)
    expected = np.array([[_mean_off_diagonal(_unit(h[t, :n]) @ _unit(h[t, :n]).T) for h in layers]
                         for t, n in enumerate(lengths)])

    def wrong(mean_of: Callable[[np.ndarray, int], float]) -> np.ndarray:
        return np.array([[mean_of(_unit(h[t]) @ _unit(h[t]).T, int(lengths[t])) for h in layers]
                         for t in range(n_texts)])

    mistakes = [
        (wrong(lambda cos, n: _mean_off_diagonal(cos)), "the pads counted: use only the pairs where both tokens "
                                                        "have attention_mask 1"),
        (wrong(lambda cos, n: float((cos[:n].sum() - np.trace(cos[:n, :n])) / (n * (cos.shape[0] - 1)))),
         "you dropped the pads' rows but not their columns: a pad must not be anyone's partner either"),
        (wrong(lambda cos, n: float((cos[:n, :n].sum() - n) / (cos.shape[0] * (cos.shape[0] - 1)))),
         "you divided by the padded length's S(S - 1): count only the real tokens' pairs, n(n - 1)"),
        (wrong(lambda cos, n: float(cos[:n, :n].mean())), "off by the diagonal: leave out each token's cosine with "
                                                          "itself"),
        (expected.T, "return [text, layer] (one row per text), not [layer, text]"),
    ]
    return [Case((hidden, torch.tensor(mask)), expected, mistakes, 1e-6)]


@_one_thread
def check_pooled_layer_means(function: Callable[[Any, Any], Any], seed: int | None = None) -> None:
    """Check ``pooled_layer_means(text_means, text_lengths) -> [layer]``: pair weighting over texts.

    ``text_means[t, l]`` is text ``t``'s mean cosine over its pairs of distinct tokens at layer ``l``; texts have
    ``text_lengths[t]`` tokens. The pooled mean runs over every pair of every text, so a text weighs by its
    number of pairs, S(S - 1). The reference is the package's bootstrap layer means with every text drawn once.
    """
    _run("check_pooled_layer_means", function, _cases(_draw_pooled_layer_means, seed))


def _draw_pooled_layer_means(rng: np.random.Generator) -> list[Case]:
    from ..core.bootstrap import layer_means_of

    n_texts, n_layers = int(rng.integers(3, 9)), int(rng.integers(2, 8))
    lengths = np.concatenate([[int(rng.integers(2, 6)), int(rng.integers(150, 600))],
                              rng.integers(2, 600, size=n_texts - 2)])
    rng.shuffle(lengths)
    means = rng.uniform(-0.2, 0.95, size=(n_texts, n_layers))
    pairs = np.repeat((lengths * (lengths - 1))[:, None], n_layers, 1)
    expected = layer_means_of(np.ones((1, n_texts)), means, pairs)[0]

    def weighted(weights: np.ndarray) -> np.ndarray:
        averaged: np.ndarray = (weights[:, None] * means).sum(0) / weights.sum()
        return averaged

    mistakes = [
        (means.mean(0), "the plain mean of the texts' means gives a 5-token text the weight of a 500-token one: "
                        "weight each text by its number of pairs, S(S - 1)"),
        (weighted(lengths.astype(float)), "weight by pairs, S(S - 1), not by tokens, S"),
        (weighted(lengths.astype(float) ** 2), "S^2 counts the diagonal pairs (i, i): weight by S(S - 1)"),
        ((pairs[:, :1] * means).sum(0), "divide by the total number of pairs"),
    ]
    return [Case((means.copy(), lengths.copy()), expected, mistakes, 1e-9)]


# ----- 01: rho, the position-averaged matrix, the last-half rule ------------------------------------------------------


@_one_thread
def check_spearman_rho(function: Callable[[Any], float], seed: int | None = None) -> None:
    """Check ``spearman_rho(layer_means) -> float``: Spearman's rank correlation of the layer means with depth.

    The reference is the package's trend statistics (scipy's ``spearmanr``). Inputs have ties, and are not linear.
    """
    _run("check_spearman_rho", function, _cases(_draw_spearman_rho, seed))


def _draw_spearman_rho(rng: np.random.Generator) -> list[Case]:
    from scipy import stats

    from ..core.summaries import trend_statistics

    cases = []
    for _ in range(3):
        n = int(rng.integers(7, 26))
        means = np.round(np.cumsum(rng.normal(0.02, 0.08, size=n)) ** 3 + 0.3, 2)
        while len(set(means)) < n - 3:  # many distinct values: with two, Pearson's r of the values is rho
            means = np.round(np.cumsum(rng.normal(0.02, 0.08, size=n)) ** 3 + 0.3, 3)
        for _tie in range(int(rng.integers(1, 4))):  # at least one tie, away from a neighbour
            i, j = rng.choice(n, size=2, replace=False)
            means[i] = means[j]
        if np.all(means == means[0]):
            means[-1] += 0.1
        depth = np.arange(n)
        expected = trend_statistics(means).spearman_rho
        average = stats.rankdata(means)
        by_position = np.argsort(np.argsort(means, kind="stable"), kind="stable").astype(float)
        mistakes = [
            (-expected, "the sign is flipped: rank depth and the layer means the same way (smallest = rank 1 for "
                        "both)"),
            (float(np.corrcoef(depth, means)[0, 1]), "you correlated the values, not their ranks (that is Pearson's "
                                                     "r)"),
            (float(np.corrcoef(depth, by_position)[0, 1]), "ties: tied layer means must share the average of their "
                                                           "ranks (scipy.stats.rankdata does it)"),
            (1 - 6 * ((average - depth - 1) ** 2).sum() / (n * (n**2 - 1)),
             "with ties, 1 - 6 sum(d^2) / (n (n^2 - 1)) is not exact: take Pearson's r of the average ranks"),
        ]
        cases.append(Case((means.copy(),), expected, mistakes, 1e-9))
    return cases


@_one_thread
def check_position_averaged(function: Callable[[list[Any]], Any], seed: int | None = None) -> None:
    """Check ``position_averaged(matrices) -> [layer, S, S]``: the paper's position-averaged cosine matrix.

    ``matrices`` holds one ``[layer, S_t, S_t]`` cosine array per text, of unequal ``S_t``. Entry ``(i, j)`` of the
    result averages the texts that have positions ``i`` and ``j`` (aligned at position 0); the diagonal stays, as in
    the paper. The reference is the package's running position average.
    """
    _run("check_position_averaged", function, _cases(_draw_position_averaged, seed))


def _draw_position_averaged(rng: np.random.Generator) -> list[Case]:
    import torch

    from ..measurement.metrics import PositionAverage

    n_layers = int(rng.integers(2, 5))
    lengths = [int(rng.integers(3, 8)), int(rng.integers(9, 16)), *rng.integers(3, 16, size=int(rng.integers(0, 3)))]
    rng.shuffle(lengths)
    matrices = []
    for n in lengths:
        layers = [_unit(_token_cloud(rng, int(n), 6, shared=0.8 * layer)) for layer in range(n_layers)]
        matrices.append(np.stack([z @ z.T for z in layers]))
    average = PositionAverage()
    for m in matrices:
        average.add(torch.tensor(m))
    expected = average.mean().numpy()
    longest = max(lengths)
    padded = np.zeros((len(matrices), n_layers, longest, longest))
    for t, m in enumerate(matrices):
        padded[t, :, : m.shape[-1], : m.shape[-1]] = m
    no_diagonal = expected.copy()
    no_diagonal[:, np.arange(longest), np.arange(longest)] = 0
    shortest = min(lengths)
    mistakes = [
        (padded.mean(0), "you divided every entry by the number of texts: a text shorter than max(i, j) + 1 has no "
                         "entry (i, j); average over the texts that have it"),
        (no_diagonal, "keep the diagonal: the paper's matrix includes each token's cosine with itself"),
        (np.mean([m[:, :shortest, :shortest] for m in matrices], 0), "keep every position up to the longest text: "
                                                                      "do not cut the texts to the shortest"),
    ]
    return [Case(([m.copy() for m in matrices],), expected, mistakes, 1e-9)]


@_one_thread
def check_last_half_mean(function: Callable[[Any], float], seed: int | None = None) -> None:
    """Check ``last_half_mean(layer_means) -> float``: the mean of the last ``max(1, n // 2)`` layer means.

    ``n`` counts every entry, the embedding output included (GPT-2 small: 13 entries, the last 6). The reference is
    the package's trend statistics. Cases: an odd and an even number of entries, and a 1-block model.
    """
    _run("check_last_half_mean", function, _cases(_draw_last_half_mean, seed))


def _draw_last_half_mean(rng: np.random.Generator) -> list[Case]:
    from ..core.summaries import trend_statistics

    cases = []
    for n in (2 * int(rng.integers(2, 13)) + 1, 2 * int(rng.integers(3, 13)), 2):
        means = rng.uniform(-0.3, 1.0, size=n)
        expected = trend_statistics(means).last_half_mean
        half = max(1, n // 2)
        mistakes = [
            (float(means[-(half + 1):].mean()), "one layer too many: take the last max(1, n // 2) entries"),
            (float(means[-(n - half):].mean()) if n - half != half else None,
             "round down: the last half has n // 2 entries, not the ceiling"),
            (float(means[-max(1, (n - 1) // 2):].mean()) if max(1, (n - 1) // 2) != half else None,
             "n counts every entry, the embedding output too, not only the blocks"),
            (float(means[:half].mean()), "the last half: the deepest layers, at the end of the array"),
            (float(means.mean()), "only the last half of the layers, not all of them"),
            (float(np.median(means[-half:])), "the mean of the last half, not its median"),
        ]
        cases.append(Case((means.copy(),), expected, [(w, h) for w, h in mistakes if w is not None], 1e-9))
    return cases


# ----- 02: a bootstrap over texts, perplexity, the learning-rate schedule; 03: a paired change ---------------------


def _resamples(rng: np.random.Generator, n_texts: int) -> np.ndarray:
    from ..core.bootstrap import resample_indices

    return resample_indices(n_texts, int(rng.integers(200, 400)), rng)


@_one_thread
def check_bootstrap_interval(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``bootstrap_interval(means, pairs, indices, ci) -> (low, high)``: a percentile bootstrap over texts.

    ``means[t]`` and ``pairs[t]``: text ``t``'s mean cosine and number of pairs; each row of ``indices`` is one
    resample of the texts (drawn with replacement). The statistic is the pooled (pair-weighted) mean; the interval
    is the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles of its resampled values. The reference is the package's
    bootstrap (``ci`` drawn from a continuous range).
    """
    _run("check_bootstrap_interval", function, _cases(_draw_bootstrap_interval, seed))


def _draw_bootstrap_interval(rng: np.random.Generator) -> list[Case]:
    from ..core.bootstrap import counts_of, interval, layer_means_of

    n = int(rng.integers(6, 40))
    means = rng.uniform(0.0, 0.9, size=n)
    lengths = rng.integers(3, 300, size=n)
    pairs = (lengths * (lengths - 1)).astype(float)
    indices = _resamples(rng, n)
    ci = _away_from(rng, 0.6, 0.98, (), 0.0)
    pooled = layer_means_of(counts_of(indices, n), means[:, None], pairs[:, None])[:, 0]
    expected = interval(pooled, ci)
    plain = means[indices].mean(1)
    q = np.quantile
    alpha = (1 - ci) / 2
    mistakes = [
        (tuple(q(plain, [alpha, 1 - alpha])), "weight each text by its pairs inside every resample (the pooled "
                                              "mean), not a plain mean of the texts' means"),
        (tuple(q(pooled, [1 - ci, ci])), "the interval leaves (1 - ci) / 2 on each side: quantiles (1 - ci) / 2 "
                                         "and (1 + ci) / 2"),
        (tuple(q(pooled, [0, ci])), "a two-sided interval: cut (1 - ci) / 2 from each end, not 1 - ci from the top"),
        (tuple(q(means, [alpha, 1 - alpha])), "quantiles of the resampled statistic, not of the texts' own values"),
        ((float(pooled.mean() - 1.96 * pooled.std()), float(pooled.mean() + 1.96 * pooled.std())),
         "the percentile interval reads quantiles off the resamples; mean +- 1.96 sd assumes a normal shape and "
         "ignores ci"),
        (tuple(q(pooled, [0.025, 0.975])), "use the ci argument, not a fixed 95 %"),
    ]
    return [Case((means.copy(), pairs.copy(), indices.copy(), ci), expected, mistakes, 1e-9)]


@_one_thread
def check_perplexity(function: Callable[[Any, Any], float], seed: int | None = None) -> None:
    """Check ``perplexity(logits, input_ids) -> float``: exp of the mean next-token cross-entropy.

    ``logits`` ``[batch, T, vocab]`` from one forward pass over ``input_ids`` ``[batch, T]``: position ``t``
    predicts token ``t + 1`` (what ``transformers`` computes for ``labels=input_ids``). The reference is numpy's.
    """
    _run("check_perplexity", function, _cases(_draw_perplexity, seed))


def _draw_perplexity(rng: np.random.Generator) -> list[Case]:
    import torch

    batch, length, vocab = int(rng.integers(2, 5)), int(rng.integers(4, 20)), int(rng.integers(8, 60))
    logits = torch.tensor(rng.normal(size=(batch, length, vocab)) * rng.uniform(1, 4), dtype=torch.float64)
    ids = torch.tensor(rng.integers(0, vocab, size=(batch, length)))
    from scipy.special import log_softmax

    log_p = log_softmax(logits.numpy()[:, :-1], axis=-1)  # numpy, independent of torch's cross_entropy
    picked = np.take_along_axis(log_p, ids.numpy()[:, 1:, None], axis=-1)
    expected = math.exp(-float(picked.mean()))
    ce = torch.nn.functional.cross_entropy
    shifted = ce(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten(), reduction="none")
    unshifted = float(ce(logits.flatten(0, 1), ids.flatten()))
    mistakes = [
        (math.exp(unshifted), "position t predicts token t + 1: compare logits[:, :-1] with input_ids[:, 1:]"),
        (float(shifted.mean()), "perplexity is exp of the mean cross-entropy"),
        (math.exp(float(shifted.sum())), "the mean cross-entropy over tokens, not the sum"),
        (2 ** float(shifted.mean()), "the cross-entropy is in nats (natural log): exp, not 2 **"),
        (float(shifted.view(batch, -1).mean(1).exp().mean()), "one exp of the mean over every token, not the mean "
                                                              "of each sequence's perplexity"),
    ]
    return [Case((logits, ids), expected, mistakes, 1e-6 * expected)]


@_one_thread
def check_change_interval(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``change_interval(before, after, indices, ci) -> (low, high)``: a paired bootstrap of a change.

    ``before[t]`` and ``after[t]``: one statistic of text ``t`` measured before and after training (the same
    held-out texts). Resample the texts (each row of ``indices``), keep each text's pair together, and read the
    percentile interval of mean(after - before). The reference is the package's percentile interval.
    """
    _run("check_change_interval", function, _cases(_draw_change_interval, seed))


def _draw_change_interval(rng: np.random.Generator) -> list[Case]:
    from ..core.bootstrap import interval

    n = int(rng.integers(6, 40))
    before = rng.uniform(0.2, 0.9, size=n)
    after = before + rng.normal(rng.uniform(-0.1, 0.1), 0.03, size=n)  # texts vary a lot, changes little
    indices = _resamples(rng, n)
    ci = _away_from(rng, 0.6, 0.98, (), 0.0)
    expected = interval((after - before)[indices].mean(1), ci)
    alpha = (1 - ci) / 2
    q = np.quantile
    lo_b, hi_b = q(before[indices].mean(1), [alpha, 1 - alpha])
    lo_a, hi_a = q(after[indices].mean(1), [alpha, 1 - alpha])
    shuffled = indices[::-1]
    mistakes = [
        ((-expected[1], -expected[0]), "the change is after minus before"),
        ((lo_a - hi_b, hi_a - lo_b), "subtracting two intervals ignores that the same texts were measured twice: "
                                     "resample the per-text changes"),
        (tuple(q(after[indices].mean(1) - before[shuffled].mean(1), [alpha, 1 - alpha])),
         "keep each text's before and after together: the same indices for both"),
        (tuple(q((after - before)[indices].mean(1), [1 - ci, ci])), "quantiles (1 - ci) / 2 and (1 + ci) / 2"),
    ]
    return [Case((before.copy(), after.copy(), indices.copy(), ci), expected, mistakes, 1e-9)]


@_one_thread
def check_learning_rates(function: Callable[[int, float, float], Any], seed: int | None = None) -> None:
    """Check ``learning_rates(total_steps, peak_lr, warmup_ratio) -> [step]``: the paper's schedule, step by step.

    Linear warm-up over the first ``ceil(warmup_ratio x total_steps)`` steps from 0 to ``peak_lr``, then a cosine
    decay to 0 at ``total_steps``: the learning rate used at steps 0 .. total_steps - 1. The reference is
    ``transformers.get_cosine_schedule_with_warmup``, as the Trainer builds it.
    """
    _run("check_learning_rates", function, _cases(_draw_learning_rates, seed))


def _draw_learning_rates(rng: np.random.Generator) -> list[Case]:
    import torch
    from transformers import get_cosine_schedule_with_warmup

    cases = []
    for total in (int(rng.integers(10, 40)), int(rng.integers(40, 400))):
        ratio = _away_from(rng, 0.05, 0.4, (), 0.0)
        while math.ceil(ratio * total) == math.floor(ratio * total) or ratio * total < 1:  # ceil, floor differ
            ratio = _away_from(rng, 0.05, 0.4, (), 0.0)
        peak = float(np.exp(rng.uniform(math.log(1e-5), math.log(1e-2))))
        warmup = math.ceil(ratio * total)
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
        schedule = get_cosine_schedule_with_warmup(optimizer, warmup, total)
        expected = np.array([peak * schedule.lr_lambdas[0](step) for step in range(total)])
        steps = np.arange(total)

        def cosine(start: int, length: int, peak: float = peak, steps: np.ndarray = steps) -> np.ndarray:
            return peak * 0.5 * (1 + np.cos(np.pi * np.clip((steps - start) / max(1, length), 0, 1)))

        floor = math.floor(ratio * total)
        with_floor = np.where(steps < floor, peak * steps / max(1, floor), cosine(floor, total - floor))
        scale = peak * 1e-6
        mistakes = [
            (cosine(0, total), "warm up first: rise linearly from 0 over the first ceil(warmup_ratio x total) steps"),
            (with_floor, "the warm-up has ceil(warmup_ratio x total_steps) steps (round up, as the Trainer does)"),
            (np.where(steps < warmup, peak * steps / warmup, cosine(0, total)), "the cosine starts after the "
                                                                                "warm-up: its progress is (step - "
                                                                                "warmup) / (total - warmup)"),
            (np.where(steps < warmup, peak * steps / warmup, peak * (1 - (steps - warmup) / (total - warmup))),
             "after the warm-up the rate follows half a cosine, not a straight line"),
            (np.where(steps < warmup, peak * (steps + 1) / warmup, cosine(warmup, total - warmup)),
             "step 0 trains at rate 0: the warm-up is step / warmup"),
        ]
        cases.append(Case((total, peak, ratio), expected, mistakes, scale))
    return cases


# ----- 03: rho along training, the residual-stream hypothesis ---------------------------------------------------


@_one_thread
def check_rho_by_step(function: Callable[[Any], Any], seed: int | None = None) -> None:
    """Check ``rho_by_step(history) -> [step]``: Spearman's rho of layer mean with depth at every measured step.

    ``history`` is shaped like ``CondensationCallback.history`` (columns ``step, layer, layer_fraction, mean``), its
    rows in no particular order. The answer is in step order. The reference is the package's trend statistics.
    """
    _run("check_rho_by_step", function, _cases(_draw_rho_by_step, seed))


def _draw_rho_by_step(rng: np.random.Generator) -> list[Case]:
    import pandas as pd

    from ..core.summaries import trend_statistics

    steps = np.sort(rng.choice(np.arange(0, 500, 10), size=int(rng.integers(3, 7)), replace=False))
    layers = np.arange(int(rng.integers(5, 10)))
    means = np.stack([np.cumsum(rng.normal(rng.uniform(-0.05, 0.08), 0.06, size=len(layers))) ** 3
                      for _ in steps])
    while len({round(trend_statistics(m).spearman_rho, 6) for m in means}) < len(steps):  # else reversed = right
        means[int(rng.integers(len(steps)))] = rng.permutation(means[0])
    history = pd.DataFrame({"step": np.repeat(steps, len(layers)), "layer": np.tile(layers, len(steps)),
                            "layer_fraction": np.tile(layers / layers.max(), len(steps)), "mean": means.ravel()})
    shuffled = history.sample(frac=1, random_state=int(rng.integers(2**31)))
    expected = np.array([trend_statistics(m).spearman_rho for m in means])

    def by_row_order(values: Callable[[pd.DataFrame], np.ndarray]) -> np.ndarray:
        from scipy.stats import spearmanr

        return np.array([spearmanr(np.arange(len(g)), values(g))[0] for _, g in shuffled.groupby("step")])

    mistakes = [
        (by_row_order(lambda g: g["mean"].to_numpy()), "sort each step's rows by layer first: the rows of a history "
                                                       "are in no particular order"),
        (-expected, "the sign is flipped: rho > 0 means the mean cosine rises with depth"),
        (np.array([np.corrcoef(layers, m)[0, 1] for m in means]), "rank the layer means (Spearman), do not "
                                                                  "correlate the values (Pearson)"),
        (expected[::-1], "return the steps in increasing order"),
    ]
    return [Case((shuffled.copy(),), expected, mistakes, 1e-9)]


def _simulated_residual_cosine(shared: float, noise: float, depth: int) -> float:
    """The exact large-dimension limit, computed from the accumulated vectors' norms (not the closed form)."""
    shared_part = np.full(depth, shared).sum()  # the same unit direction every block
    noise_power = np.full(depth, noise**2).sum()  # independent, orthogonal in a high dimension
    return float(shared_part**2 / (shared_part**2 + noise_power))


@_one_thread
def check_residual_cosine(function: Callable[[float, float, int], float], seed: int | None = None) -> None:
    """Check ``residual_cosine(shared, noise, depth) -> float``: the hypothesis of the untrained residual stream.

    Each of ``depth`` blocks adds to every token the same vector (length ``shared``, one direction) and a random
    vector of length ``noise``, independent across tokens and blocks. In a very high dimension independent random
    vectors are orthogonal: the expected cosine of two tokens after ``depth`` blocks.
    """
    _run("check_residual_cosine", function, _cases(_draw_residual_cosine, seed))


def _draw_residual_cosine(rng: np.random.Generator) -> list[Case]:
    cases = []
    for depth in (1, int(rng.integers(2, 6)), int(rng.integers(6, 48))):
        shared, noise = float(rng.uniform(0.2, 2.0)), float(rng.uniform(0.5, 3.0))
        expected = _simulated_residual_cosine(shared, noise, depth)
        s, r, d = shared, noise, depth
        mistakes = [
            (s * s / (s * s + r * r), "the shared parts add up (length depth x shared) while independent noise adds "
                                      "in squares (squared length depth x noise^2): depth does not cancel"),
            (d * s / (d * s + math.sqrt(d) * r), "a cosine here is a ratio of squared lengths: (d s)^2 / ((d s)^2 + "
                                                 "d r^2)"),
            ((d * s) ** 2 / ((d * s) ** 2 + (d * r) ** 2), "independent noise adds in squares: its squared length is "
                                                           "depth x noise^2, not (depth x noise)^2"),
            (s * s / (s * s + d * r * r), "the shared vector is the same every block: its length grows like depth"),
        ]
        cases.append(Case((shared, noise, depth), expected, mistakes, 1e-9))
    return cases


# ----- 04: distillation -------------------------------------------------------------------------------------------


def _logits(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    import torch

    return torch.tensor(rng.normal(size=shape) * rng.uniform(1.0, 4.0), dtype=torch.float64)


def _kd_variants(student: Any, teacher: Any, t: float) -> dict[str, Any]:
    import torch

    log_s, log_t = torch.log_softmax(student / t, -1), torch.log_softmax(teacher / t, -1)
    per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
    plain_s, plain_t = torch.log_softmax(student, -1), torch.log_softmax(teacher, -1)
    return {"unscaled": per_token.mean(), "reverse": (log_s.exp() * (log_s - log_t)).sum(-1).mean() * t * t,
            "unsoftened": (plain_t.exp() * (plain_t - plain_s)).sum(-1).mean() * t * t,
            "summed": per_token.sum() * t * t, "per_vocab": per_token.mean() * t * t / student.shape[-1],
            "scaled_once": per_token.mean() * t}


def _kd_variant(student: Any, kind: str, teacher: Any, t: float) -> Any:
    return _kd_variants(student, teacher, t)[kind]


_KD_HINTS = {
    "unscaled": "scale by T^2: softened targets give gradients 1/T^2 smaller, and T^2 puts them back on the LM "
                "loss's scale",
    "reverse": "the KL runs the other way: KL(teacher || student) = sum p_teacher (log p_teacher - log p_student)",
    "unsoftened": "divide both logits by the temperature before the softmax",
    "summed": "average over the tokens (batch x positions), do not sum",
    "per_vocab": "reduction='mean' also divides by the vocabulary size: average over tokens only ('batchmean' on "
                 "flattened tokens)",
    "scaled_once": "scale by T^2, not T",
}


def _student_grad(loss: Callable[[Any], Any], student: Any) -> Any:
    import torch

    leaf = student.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(leaf), leaf)
    return grad


@_one_thread
def check_distillation_loss(function: Callable[[Any, Any, float], Any], seed: int | None = None) -> None:
    """Check ``distillation_loss(student_logits, teacher_logits, temperature) -> scalar tensor``.

    ``T^2 KL(teacher || student)`` of the temperature-softened next-token distributions, averaged over tokens; its
    gradient with respect to the student's logits is checked too. The reference is the training lab's own term.
    """
    _run("check_distillation_loss", function, _cases(_draw_distillation_loss, seed))


def _draw_distillation_loss(rng: np.random.Generator) -> list[Case]:
    from ..training import distillation_term

    cases = []
    for _ in range(2):
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(5, 30)))
        student, teacher = _logits(rng, shape), _logits(rng, shape)
        t = _away_from(rng, 0.3, 5.0, (1.0,), 0.2)
        variants = _kd_variants(student, teacher, t)
        mistakes = [(float(v), _KD_HINTS[k]) for k, v in variants.items()]
        grad = _student_grad(functools.partial(distillation_term, teacher_logits=teacher, temperature=t), student)
        grad_mistakes = [(_student_grad(functools.partial(_kd_variant, kind=k, teacher=teacher, t=t), student),
                          _KD_HINTS[k]) for k in variants]
        cases.append(Case((student, teacher, t), float(distillation_term(student, teacher, t)), mistakes,
                          tolerance=1e-7, grad_arg=0, expected_grad=grad, grad_mistakes=grad_mistakes))
    return cases


@_one_thread
def check_distillation_objective(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``distillation_objective(lm_loss, student_logits, teacher_logits, temperature, alpha)``.

    ``alpha x lm_loss + (1 - alpha) x T^2 KL(teacher || student)``, the loss a distillation ``Trainer`` minimises.
    The teacher is fixed: no gradient may reach its logits (checked), and ``alpha`` is drawn from (0, 1).
    """
    _run("check_distillation_objective", function, _cases(_draw_distillation_objective, seed))


def _draw_distillation_objective(rng: np.random.Generator) -> list[Case]:
    import torch

    from ..training import distillation_term

    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(5, 30)))
    student, teacher = _logits(rng, shape), _logits(rng, shape)
    t = _away_from(rng, 0.3, 5.0, (1.0,), 0.2)
    alpha = _away_from(rng, 0.05, 0.95, (0.5,), 0.1)
    lm = torch.tensor(float(rng.uniform(2.0, 6.0)), dtype=torch.float64)
    kd = float(distillation_term(student, teacher, t))
    expected = float(alpha * lm) + (1 - alpha) * kd
    variants = _kd_variants(student, teacher, t)
    mistakes = [
        ((1 - alpha) * float(lm) + alpha * kd, "alpha weighs the LM loss: alpha x lm_loss + (1 - alpha) x KD"),
        (float(lm) + kd, "mix the two with alpha and 1 - alpha; do not add them"),
        (alpha * float(lm) + (1 - alpha) * float(variants["unscaled"]), _KD_HINTS["unscaled"]),
        (alpha * float(lm) + (1 - alpha) * float(variants["reverse"]), _KD_HINTS["reverse"]),
    ]
    return [Case(
        (lm, student, teacher, t, alpha), expected, mistakes, tolerance=1e-7, grad_arg=2,
        expected_grad=torch.zeros_like(teacher),
        grad_mistakes=[(_student_grad(lambda x: distillation_term(student, x, t) * (1 - alpha), teacher),
                        "the teacher is fixed: detach its logits (or compute them under torch.no_grad()), or "
                        "training would move the teacher too")])]


@_one_thread
def check_softened_entropy(function: Callable[[Any, float], float], seed: int | None = None) -> None:
    """Check ``softened_entropy(logits, temperature) -> float``: the mean entropy (nats) of ``softmax(logits / T)``.

    How soft a teacher's targets are at temperature ``T`` (exercise 3 raises ``T``). The reference is
    ``torch.distributions.Categorical``'s entropy.
    """
    _run("check_softened_entropy", function, _cases(_draw_softened_entropy, seed))


def _draw_softened_entropy(rng: np.random.Generator) -> list[Case]:
    import torch

    cases = []
    for _ in range(2):
        logits = _logits(rng, (int(rng.integers(1, 4)), int(rng.integers(2, 8)), int(rng.integers(5, 50))))
        t = _away_from(rng, 0.3, 6.0, (1.0,), 0.2)
        entropy = torch.distributions.Categorical(logits=logits / t).entropy()
        expected = float(entropy.mean())
        plain = torch.distributions.Categorical(logits=logits).entropy()
        mistakes = [
            (float(plain.mean()), "divide the logits by the temperature before the softmax"),
            (float(torch.distributions.Categorical(logits=logits * t).entropy().mean()),
             "divide by T, do not multiply: a higher temperature flattens the distribution"),
            (expected / math.log(2), "in nats: use the natural log, not log2"),
            (float(entropy.sum()), "average over the tokens, do not sum"),
        ]
        cases.append(Case((logits, t), expected, mistakes, 1e-9))
    return cases


# ----- 05: the dispersion loss, the penalty over layers, the Trainer hook ---------------------------------------------


def _condensed_tokens(rng: np.random.Generator, clamp: float) -> Any:
    """A narrow cone of tokens (lengths varied) with at least two pairs closer than the clamp (cos > 1 - clamp)."""
    import torch

    n, dim = int(rng.integers(5, 16)), int(rng.integers(4, 16))
    direction = rng.normal(size=dim)
    points = direction / np.linalg.norm(direction) * 3 + rng.normal(size=(n, dim)) * rng.uniform(0.5, 2.0)
    for i in (1, 3):  # a near-copy of token 0: cos far above 1 - clamp, inside the clamp's flat part
        points[i] = points[0] * rng.uniform(0.5, 2.0) + rng.normal(size=dim) * 0.05 * clamp
    points *= rng.uniform(0.5, 3.0, size=(n, 1))
    return torch.tensor(points, dtype=torch.float64)


def _angular(z: Any, tau: float, eps: float, clamp: float, *, straight: bool = True, diagonal: bool = False,
             mean: bool = True, sign: float = -1.0, scale: float = 1 / math.pi, add_eps: bool = True,
             tau_power: float = -1.0, clamp_on: bool = True) -> Any:
    """The angular spread and its likely mistakes (for the hints), computed in one place."""
    import torch

    from ..training.dispersion import _straight_through_clamp

    unit = z / (z.norm(dim=-1, keepdim=True) + eps)
    cos = unit @ unit.T
    if clamp_on:
        cos = _straight_through_clamp(cos, -1 + clamp, 1 - clamp) if straight else cos.clamp(-1 + clamp, 1 - clamp)
    else:
        cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
    values = sign * torch.arccos(cos) * scale * tau**tau_power
    n = z.shape[0]
    chosen = values.reshape(-1) if diagonal else values[~torch.eye(n, dtype=torch.bool)]
    out = torch.logsumexp(chosen, 0) - (math.log(chosen.numel()) if mean else 0.0)
    return out + eps if add_eps else out


@_one_thread
def check_angular_spread(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``angular_spread(z, tau=1.0, eps=1e-2, clamp=0.25) -> scalar tensor``: the paper's dispersion loss.

    ``z`` ``[T, F]`` is one sequence. The value and the gradient with respect to ``z`` are compared with the
    package's ``DispersionLoss("angular_spread")``, whose clamp is straight-through: a plain ``clamp`` gives zero
    gradient to the most condensed pairs (cos > 1 - clamp), exactly the ones the loss must spread. ``tau``, ``eps``
    and ``clamp`` are drawn from continuous ranges, away from the defaults.
    """
    _run("check_angular_spread", function, _cases(_draw_angular_spread, seed))


def _draw_angular_spread(rng: np.random.Generator) -> list[Case]:
    import torch

    from ..training.dispersion import DispersionLoss

    tau = float(np.exp(_away_from(rng, math.log(0.2), math.log(5.0), (0.0,), 0.25)))
    eps = _away_from(rng, 1e-3, 5e-2, (1e-2,), 4e-3)
    clamp = _away_from(rng, 0.03, 0.45, (0.1, 0.25), 0.03)
    z = _condensed_tokens(rng, clamp)
    reference = DispersionLoss("angular_spread", tau=tau, eps=eps, clamp_threshold=clamp, max_tokens=None)
    leaf = z.clone().requires_grad_(True)
    value = reference(leaf[None])
    (grad,) = torch.autograd.grad(value, leaf)
    variants: list[tuple[dict[str, Any], str]] = [
        (dict(straight=False), "a plain clamp has zero gradient where it clips: the most condensed pairs (cos > 1 - "
                               "clamp) would get no push. Use a straight-through clamp: "
                               "c + (c.clamp(...) - c).detach()"),
        (dict(diagonal=True), "off by the diagonal: the mean runs over the T(T - 1) pairs i != j, not every (i, i) "
                              "too"),
        (dict(mean=False), "log-MEAN-exp: subtract log(T(T - 1)) from the log-sum-exp"),
        (dict(sign=1.0), "the exponent is -D/tau: spread tokens (large D) must give a low loss"),
        (dict(scale=1.0), "D = arccos(c) / pi lies in [0, 1]: divide by pi"),
        (dict(clamp_on=False), "clamp the cosines to [-1 + clamp, 1 - clamp] before arccos"),
        (dict(add_eps=False), "the reference adds eps to the log-mean-exp (it shifts the value, not the gradient)"),
        (dict(tau_power=1.0), "divide by tau, do not multiply"),
    ]
    mistakes, grad_mistakes = [], []
    for options, hint in variants:
        wrong_leaf = z.clone().requires_grad_(True)
        wrong = _angular(wrong_leaf, tau, eps, clamp, **options)
        mistakes.append((float(wrong.detach()), hint))
        grad_mistakes.append((torch.autograd.grad(wrong, wrong_leaf)[0], hint))
    for name, default in (("tau", 1.0), ("eps", 1e-2), ("clamp", 0.25), ("clamp", 0.1)):
        fixed = {"tau": tau, "eps": eps, "clamp": clamp, name: default}
        mistakes.append((float(_angular(z, fixed["tau"], fixed["eps"], fixed["clamp"])),
                         f"use the {name} argument, not a fixed {default}"))
    return [Case((z,), float(value.detach()), mistakes, 1e-7, dict(tau=tau, eps=eps, clamp=clamp), grad_arg=0,
                 expected_grad=grad, grad_mistakes=grad_mistakes)]


@_one_thread
def check_dispersion_penalty(function: Callable[[Any, Any], Any], seed: int | None = None) -> None:
    """Check ``dispersion_penalty(hidden_states, loss) -> scalar tensor``: the recipe's penalty over layers.

    ``hidden_states`` has ``L + 1`` entries (index 0 = the embedding output); ``loss(h)`` is one layer's dispersion
    loss. The recipe averages it over the blocks' outputs 1..L, skipping the embedding output. The reference is the
    package's ``dispersion_penalty(..., loc="all")``; the gradient on every layer is checked too.
    """
    import torch

    name = "check_dispersion_penalty"
    hidden, loss, expected, mistakes, grads = _cases(_draw_dispersion_penalty, seed)
    leaves = tuple(h.clone().requires_grad_(True) for h in hidden)
    try:
        got = function(leaves, loss)
    except NotImplementedError:
        _not_implemented(name)
        return
    _compare(name, got, expected, mistakes, 1e-7)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        _fail(name, _CONNECTED)
    got_grads = torch.autograd.grad(got, leaves, allow_unused=True)
    for layer, (g, want) in enumerate(zip(got_grads, grads, strict=True)):
        if not _close(_array(torch.zeros_like(want) if g is None else g), _array(want), 1e-7):
            _fail(name, f"the gradient of layer {layer} differs: each of the L blocks' outputs gets 1/L of its loss's "
                        "gradient, the embedding output none")
    _passed(name)


def _draw_dispersion_penalty(rng: np.random.Generator) -> tuple[Any, ...]:
    import torch

    from ..training.dispersion import DispersionLoss, dispersion_penalty

    n_layers = int(rng.integers(3, 7))
    batch, length, dim = int(rng.integers(1, 3)), int(rng.integers(4, 10)), int(rng.integers(4, 10))
    hidden = tuple(torch.tensor(rng.normal(size=(batch, length, dim)) + 0.4 * layer * rng.normal(size=dim),
                                dtype=torch.float64) for layer in range(n_layers))
    loss = DispersionLoss("angular_spread", tau=float(rng.uniform(0.3, 3)), max_tokens=None)
    per_layer = torch.stack([loss(h) for h in hidden]).detach()
    expected = float(dispersion_penalty(hidden, loss=loss, loc="all"))
    mistakes = [
        (float(per_layer.mean()), "skip the embedding output (index 0): the recipe spreads the blocks' outputs 1..L"),
        (float(per_layer[1:].sum()), "average over the layers, do not sum"),
        (float(per_layer[-1]), "every block's output 1..L, not only the last"),
        (float(per_layer[1:-1].mean()), "include the last entry: 1..L runs up to the final (normed) output"),
    ]
    grads = [torch.zeros_like(h) for h in hidden]
    for i in range(1, n_layers):
        leaf = hidden[i].clone().requires_grad_(True)
        grads[i] = torch.autograd.grad(loss(leaf) / (n_layers - 1), leaf)[0]
    return hidden, loss, expected, mistakes, grads


_CONNECTED = ("return a torch tensor that is still connected to the inputs (no float(), .item(), .detach() or numpy): "
              "training needs its gradient")
_HOOK_HINTS = {"embedding": "skip the embedding output: average over hidden_states[1:]",
               "no_mask": "pass the attention mask to the loss: pads are not tokens to spread",
               "last": "average over every block's output 1..L, not only the last",
               "sum": "average over the layers, do not sum",
               "no_coeff": "multiply the penalty by self.dispersion_coeff",
               "detached": "keep the penalty in the graph (no .item(), float() or .detach()): its gradient is the "
                           "point"}


@_one_thread
def check_compute_loss(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None)``: a Trainer hook.

    The method a ``transformers.Trainer`` subclass overrides: in training mode, the LM loss plus
    ``self.dispersion_coeff`` x the mean of ``self.dispersion_loss(h, attention_mask)`` over the blocks' hidden
    states 1..L; in evaluation mode the LM loss alone. The batch is padded (its attention mask has zeros). The
    reference is the package's ``dispersion_penalty``, as ``DispersionTrainer`` adds it; the gradient on the token
    embeddings is checked too.
    """
    import torch

    name = "check_compute_loss"
    drawn = _cases(_draw_compute_loss, seed)
    model, owner, inputs = drawn["model"], drawn["owner"], drawn["inputs"]
    embedding = model.get_input_embeddings().weight
    model.train()
    model.zero_grad()
    try:
        got = function(owner, model, dict(inputs))
    except NotImplementedError:
        _not_implemented(name)
        return
    if isinstance(got, tuple):
        _fail(name, "return the loss alone when return_outputs is False, (loss, outputs) when it is True")
    eval_hint = "add the penalty: in training mode the loss is LM + coeff x penalty"
    _compare(name, got, drawn["expected"], [*drawn["mistakes"], (drawn["eval_loss"], eval_hint)], 1e-9)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        _fail(name, _HOOK_HINTS["detached"])
    (got_grad,) = torch.autograd.grad(got, embedding)
    _compare(name, got_grad, drawn["grad"], drawn["grad_mistakes"], 1e-9, "the gradient: ")
    pair = function(owner, model, dict(inputs), return_outputs=True)
    if not (isinstance(pair, tuple) and len(pair) == 2 and hasattr(pair[1], "hidden_states")):
        _fail(name, "with return_outputs=True return (loss, outputs), the model's outputs as the Trainer expects")
    model.eval()
    try:
        with torch.no_grad():
            evaluated = function(owner, model, dict(inputs))
    finally:
        model.train()
    _compare(name, evaluated, drawn["eval_loss"], [(drawn["expected"], "evaluation (model.training False) scores "
                                                                       "the LM loss alone: add the penalty in "
                                                                       "training mode only")], 1e-9,
             "in evaluation mode, ")
    _passed(name)


def _draw_compute_loss(rng: np.random.Generator) -> dict[str, Any]:
    """A tiny padded batch, and the reference's loss and embedding gradient (and its mistakes') from one pass."""
    import types

    import torch

    from ..training import tiny_gpt2
    from ..training.dispersion import DispersionLoss, dispersion_penalty

    model = tiny_gpt2(n_layer=int(rng.integers(2, 4)), n_embd=16, n_head=2, vocab_size=50, n_positions=32,
                      seed=int(rng.integers(2**31))).double()  # float64: each mistake is far above round-off
    batch, length = int(rng.integers(2, 4)), int(rng.integers(8, 16))
    ids = torch.tensor(rng.integers(0, 50, size=(batch, length)))
    mask = torch.ones_like(ids)
    mask[0, int(rng.integers(3, length - 2)):] = 0  # the first sequence is padded
    inputs = {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}
    coeff = float(np.exp(rng.uniform(math.log(0.05), math.log(5.0))))
    loss = DispersionLoss(tau=float(rng.uniform(0.3, 3)), max_tokens=None)
    owner = types.SimpleNamespace(dispersion_coeff=coeff, dispersion_loss=loss)
    embedding = cast(Any, model).get_input_embeddings().weight
    model.train()
    outputs = cast(Any, model)(**inputs, output_hidden_states=True)
    hidden = outputs.hidden_states
    penalties = {"right": dispersion_penalty(hidden, mask, "all", loss),
                 "embedding": torch.stack([loss(h, mask) for h in hidden]).mean(),
                 "no_mask": dispersion_penalty(hidden, None, "all", loss),
                 "last": loss(hidden[-1], mask),
                 "sum": torch.stack([loss(h, mask) for h in hidden[1:]]).sum()}
    penalties["no_coeff"] = penalties["right"] / coeff
    penalties["detached"] = penalties["right"].detach()
    totals = {k: outputs.loss + coeff * p for k, p in penalties.items()}
    grads = {k: torch.autograd.grad(total, embedding, retain_graph=True)[0] for k, total in totals.items()}
    with torch.no_grad():
        model.eval()
        eval_loss = float(model(**inputs).loss)
        model.train()
    model.zero_grad()
    return {"model": model, "owner": owner, "inputs": inputs, "expected": float(totals["right"].detach()),
            "grad": grads["right"], "eval_loss": eval_loss,
            "mistakes": [(float(totals[k].detach()), hint) for k, hint in _HOOK_HINTS.items()],
            "grad_mistakes": [(grads[k], hint) for k, hint in _HOOK_HINTS.items()]}


ALL_CHECKS: dict[str, Callable[..., None]] = {
    f.__name__: f for f in (
        check_layer_mean_cosine, check_masked_layer_means, check_pooled_layer_means, check_spearman_rho,
        check_position_averaged, check_last_half_mean, check_bootstrap_interval, check_perplexity, check_learning_rates,
        check_change_interval, check_rho_by_step, check_residual_cosine, check_distillation_loss,
        check_distillation_objective, check_softened_entropy, check_angular_spread, check_dispersion_penalty,
        check_compute_loss,
    )
}
"""Every check, by name (``check_X`` checks the function ``X``)."""


def yours_or_ours(function: Callable[..., Any]) -> Callable[..., Any]:
    """The student's ``function`` once its check has passed in this kernel, else the package's solution.

    "Apply it to real data" cells call it, so a stub that is not written yet never blocks the lesson:
    ``measure = tutorial.yours_or_ours(layer_mean_cosine)``.
    """
    from .solutions import SOLUTIONS

    name = f"check_{function.__name__}"
    if name not in SOLUTIONS:
        raise ValueError(f"No exercise checks a function named {function.__name__!r}; the exercises' functions are "
                         f"{', '.join(sorted(n.removeprefix('check_') for n in SOLUTIONS))}.")
    if CHECKS.get(name) == "passed":
        print(f"Using your `{function.__name__}` (it passed `{name}`).")
        return function
    print(f"Using the package's `{function.__name__}`: yours has not passed `{name}` yet.")
    return SOLUTIONS[name]
