"""Checks for notebooks 00 and 01.

The cosine matrix, the attention mask, pair weighting, rho, the paper's matrix,
the last-half rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._harness import Case, _cases, _one_thread, _run

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
    from ...core.bootstrap import layer_means_of

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

    from ...core.summaries import trend_statistics

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

    from ...measurement.metrics import PositionAverage

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
    from ...core.summaries import trend_statistics

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
