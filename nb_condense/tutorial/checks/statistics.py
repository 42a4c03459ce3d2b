"""Checks for notebooks 02 and 03.

A bootstrap over texts, perplexity, the learning-rate schedule, a paired change,
rho along training.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._harness import Case, _away_from, _cases, _one_thread, _run

# ----- 02: a bootstrap over texts, perplexity, the learning-rate schedule; 03: a paired change ---------------------


def _resamples(rng: np.random.Generator, n_texts: int) -> np.ndarray:
    from ...core.bootstrap import resample_indices

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
    from ...core.bootstrap import counts_of, interval, layer_means_of

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
    from ...core.bootstrap import interval

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

    from ...core.summaries import trend_statistics

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
