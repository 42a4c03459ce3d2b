"""Verdicts that carry their uncertainty: "agrees", "disagrees" or "cannot tell at this size", with the interval.

:func:`judge` reads a difference (``nbc.difference(a, b)``, or a :class:`Contrast`) against the direction a
finding predicts. :func:`contrast` is a paired bootstrap over texts (and seeds) for a weighted sum of several
results' statistics, e.g. the change training makes to a wide model minus the change it makes to a narrow one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

AGREES, DISAGREES, CANNOT_TELL = "agrees", "disagrees", "cannot tell at this size"
VERDICTS: list[Verdict] = []
"""Every verdict printed in this kernel, in order (the notebook tests read them)."""


@dataclass(frozen=True)
class Verdict:
    """One printed verdict: ``word`` is :data:`AGREES`, :data:`DISAGREES` or :data:`CANNOT_TELL`."""

    claim: str
    word: str
    estimate: float
    interval: tuple[float, float]
    sentence: str


def remember(verdict: Verdict) -> Verdict:
    """Add ``verdict`` to :data:`VERDICTS` and return it."""
    VERDICTS.append(verdict)
    return verdict


class HasInterval(Protocol):
    """A difference with its interval (``nbc.difference``'s result, or a :class:`Contrast`)."""

    estimate: float
    interval: tuple[float, float]


def judge(claim: str, difference: HasInterval, expect: Literal["positive", "negative"],
          unit: str = "", seeded: bool = False) -> Verdict:
    """Judge a claim that predicts the sign of ``difference``.

    ``agrees`` when the whole interval lies on the predicted side of 0, ``disagrees`` when it lies on the
    other side, ``cannot tell at this size`` when it contains 0. One line is printed: the claim, the verdict,
    the difference with its interval, and the sample it rests on (texts and seeds, when the difference says).

    ``seeded=True`` says the compared models come from random draws (an initialisation, a training run): a
    single run is then flagged as one seed, whose interval covers the texts only. Two seeds are always flagged
    as too few to estimate the spread between seeds. An interval of width 0 says why (every resample agreed).

    Examples
    --------
    >>> from nb_condense.tutorial.verdicts import Measured, judge
    >>> _ = judge("rho is positive", Measured(0.4, (0.1, 0.7), "spearman_rho"), "positive")
    rho is positive: agrees (spearman_rho +0.400, 95 % interval +0.100 to +0.700).
    """
    if expect not in ("positive", "negative"):
        raise ValueError(f"expect must be 'positive' or 'negative', got {expect!r}.")
    low, high = (float(v) for v in difference.interval)
    estimate = float(difference.estimate)
    sign = 1 if expect == "positive" else -1
    if sign * low > 0 and sign * high > 0:
        word = AGREES
    elif sign * low < 0 and sign * high < 0:
        word = DISAGREES
    else:
        word = CANNOT_TELL
    what = difference.name if isinstance(difference, Measured) else "difference"
    detail = f"{what} {estimate:+.3f}{unit}, 95 % interval {low:+.3f} to {high:+.3f}{same_every_resample(low, high)}"
    if size := sample_size(difference):
        detail += f"; {size}"
    if note := seed_note(difference, seeded):
        detail += f"; {note}"
    if word != AGREES:
        detail += f"; the claim predicts it {expect}"
    tail = " More texts or seeds could tell." if word == CANNOT_TELL else ""
    sentence = f"{claim}: {word} ({detail}).{tail}"
    print(sentence)
    return remember(Verdict(claim, word, estimate, (low, high), sentence))


def same_every_resample(low: float, high: float) -> str:
    """``" (every resample gave the same value ...)"`` for an interval of width 0, else ``""``."""
    if high - low > 1e-12:
        return ""
    return (": every resample gave the same value, e.g. every layer mean keeps its rank whichever texts are "
            "drawn; the spread is below what the texts can show, not zero")


def seed_note(difference: Any, seeded: bool = False) -> str:
    """What the seeds allow: one seed covers the texts only; two cannot estimate the spread between seeds."""
    value = getattr(difference, "n_seeds", None)
    seeds = (value if isinstance(value, (tuple, list)) else (value, value)) if value is not None else None
    if seeds is not None and max(int(s) for s in seeds) == 2:
        return "2 seeds are too few: they cannot estimate the spread between seeds"
    if seeded and (seeds is None or max(int(s) for s in seeds) == 1):
        return "one seed: the interval covers the texts, not the seeds"
    return ""


def sample_size(difference: Any) -> str:
    """What ``difference`` rests on: "20 texts, 2 seeds each" (or "30 vs 40 texts", "1 vs 2 seeds").

    Read from its ``n_texts`` and ``n_seeds`` (a pair for ``nbc.difference``, one number for a :class:`Contrast`);
    "" when it has no ``n_texts``.
    """

    def pair(value: Any) -> tuple[int, int] | None:
        if value is None:
            return None
        a, b = (value if isinstance(value, (tuple, list)) else (value, value))
        return int(a), int(b)

    texts, seeds = pair(getattr(difference, "n_texts", None)), pair(getattr(difference, "n_seeds", None))
    if texts is None:
        return ""
    words = f"{texts[0]} texts" if texts[0] == texts[1] else f"{texts[0]} vs {texts[1]} texts"
    if seeds is not None and max(seeds) > 1:
        words += f", {seeds[0]} seeds each" if seeds[0] == seeds[1] else f", {seeds[0]} vs {seeds[1]} seeds"
    return words


@dataclass(frozen=True)
class Measured:
    """One statistic with its interval (from ``result.trend(ci=...)``), to :func:`judge` a claim about its sign."""

    estimate: float
    interval: tuple[float, float]
    name: str


def measured(trend: Any, name: str) -> Measured:
    """``trend``'s statistic ``name`` (``"spearman_rho"``, ``"last_half_mean"``...) with its interval.

    ``trend`` must come from ``result.trend(ci=...)`` (it has ``intervals``).
    """
    intervals = getattr(trend, "intervals", None)
    if not intervals or name not in intervals:
        raise ValueError(f"No interval for {name!r}: compute the trend with result.trend(ci=0.95).")
    low, high = intervals[name]
    return Measured(float(trend.as_dict()[name]), (float(low), float(high)), name)


@dataclass(frozen=True)
class Contrast:
    """A weighted sum of several results' statistic, with a paired bootstrap interval."""

    estimate: float
    interval: tuple[float, float]
    statistic: str
    n_texts: int
    n_seeds: int
    reading: str = ""


def _runs(item: Any) -> list[Any]:
    items = list(item) if isinstance(item, (list, tuple)) else [item]
    results = []
    for run in items:
        result = run.measured_result() if hasattr(run, "measured_result") else run
        if not hasattr(result, "stats"):
            raise TypeError(f"contrast() takes CondensationResults, measured sessions or lists of them, got "
                            f"{type(run).__name__}.")
        results.append(result)
    return results


def _per_text(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-text layer means ``[text, layer]`` and pair counts (the weights of the pooled layer mean)."""
    n = result.n_texts
    means = result.stats["mean"].to_numpy(dtype=np.float64).reshape(n, -1)
    pairs = result.stats["n_pairs"].to_numpy(dtype=np.float64).reshape(n, -1)
    return means, pairs


def _statistic(layer_means: np.ndarray, statistic: str) -> np.ndarray:
    """``last_half_mean`` (the paper's last ``max(1, n // 2)`` layer means) or ``last_1_mean``, along the last axis."""
    if statistic == "last_half_mean":
        return layer_means[..., -max(1, layer_means.shape[-1] // 2):].mean(-1)
    if statistic == "last_1_mean":
        return layer_means[..., -1]
    raise ValueError(f"statistic must be 'last_half_mean' or 'last_1_mean', got {statistic!r}.")


def contrast(terms: Sequence[tuple[float, Any]], statistic: str = "last_half_mean", ci: float = 0.95,
             n_boot: int = 1000, seed: int = 0) -> Contrast:
    """``sum_k weight_k * statistic(results_k)`` with a percentile bootstrap interval, paired over texts and seeds.

    Parameters
    ----------
    terms
        ``(weight, results)`` pairs; ``results`` is a result, a measured session, or a list of them (one per
        training seed). Every result must be measured on the same texts, and every term must have the same
        number of seeds (seed ``s`` of one term is paired with seed ``s`` of the others).
    statistic
        ``"last_half_mean"`` or ``"last_1_mean"``, of the pooled (pair-weighted) layer means.
    ci, n_boot, seed
        Interval level, bootstrap resamples, and the seed of the resampling.

    Notes
    -----
    Each resample draws the texts with replacement (the same draw for every result) and, with several seeds,
    the seeds with replacement (the same draw for every term); each result's statistic is recomputed exactly as
    its point estimate, from the per-text means weighted by their pair counts. Percentile interval.
    """
    if not terms:
        raise ValueError("contrast() needs at least one (weight, results) term.")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}.")
    runs = [(float(w), _runs(r)) for w, r in terms]
    n_seeds = {len(r) for _, r in runs}
    if len(n_seeds) != 1:
        raise ValueError(f"Every term needs the same number of seeds, got {sorted(n_seeds)}.")
    (seeds,) = n_seeds
    first = runs[0][1][0]
    for _, results in runs:
        for result in results:
            same = (result.texts == first.texts) if first.texts is not None and result.texts is not None else (
                result.n_texts == first.n_texts)
            if not same:
                raise ValueError("contrast() pairs texts: every result must be measured on the same texts "
                                 "(measure them with texts=...).")
    n_texts = first.n_texts
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_texts, np.full(n_texts, 1 / n_texts), size=n_boot).astype(np.float64)
    seed_draws = rng.integers(0, seeds, size=(n_boot, seeds))
    estimate, boot = 0.0, np.zeros(n_boot)
    for weight, results in runs:
        point, per_seed = [], []
        for result in results:
            means, pairs = _per_text(result)
            point.append(_statistic((means * pairs).sum(0) / pairs.sum(0), statistic))
            per_seed.append(_statistic((counts @ (means * pairs)) / (counts @ pairs), statistic))
        estimate += weight * float(np.mean(point))
        stacked = np.stack(per_seed)  # [seed, resample]
        boot += weight * np.take_along_axis(stacked.T, seed_draws, axis=1).mean(1)
    low, high = np.quantile(boot, [(1 - ci) / 2, (1 + ci) / 2])
    return Contrast(estimate, (float(low), float(high)), statistic, n_texts, seeds)


def bootstrap_mean(values: Any, name: str, ci: float = 0.95, n_boot: int = 1000, seed: int = 0) -> Measured:
    """The mean of ``values`` (one per text, block or pair) with a percentile bootstrap interval over them.

    Each resample draws ``len(values)`` items with replacement (``numpy.random.default_rng(seed).integers``, one
    row of indices per resample). Judge the result with :func:`judge`.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size < 2:
        raise ValueError(f"bootstrap_mean needs at least 2 values, got {data.size}.")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}.")
    rng = np.random.default_rng(seed)
    boot = np.array([data[rng.integers(0, data.size, data.size)].mean() for _ in range(n_boot)])
    low, high = np.quantile(boot, [(1 - ci) / 2, (1 + ci) / 2])
    return Measured(float(data.mean()), (float(low), float(high)), name)


def paper_definition(result: Any, statistic: str = "spearman_rho", ci: float = 0.95, n_boot: int = 1000,
                     seed: int = 0) -> Measured:
    """``spearman_rho`` or ``kendall_tau`` as the paper defines it, with a bootstrap interval over the texts.

    The paper averages every text's cosine matrix position by position, **diagonal included**, and ranks the
    mean of that matrix per layer. Each text's full-matrix mean is recovered from its pooled statistics (the mean
    over its distinct pairs, plus its diagonal of ones); each resample draws the texts with replacement
    (``numpy.random.default_rng(seed).multinomial``) and averages them. This equals the position-averaged
    matrix's mean when every text has the same number of tokens (a 512-token cut of long texts); otherwise each
    text counts equally. A resample whose layer means tie everywhere has no rank correlation and is left out.
    """
    from nb_condense.core.summaries import trend_statistics

    if statistic not in ("spearman_rho", "kendall_tau"):
        raise ValueError(f"statistic must be 'spearman_rho' or 'kendall_tau', got {statistic!r}.")
    means, pairs = _per_text(result)
    tokens = np.asarray(result.token_counts, dtype=np.float64)[:, None]
    diagonal = 0.0 if result.metadata.get("include_diagonal") else tokens
    full = (means * pairs + diagonal) / tokens**2  # [text, layer], diagonal included
    rng = np.random.default_rng(seed)
    n = full.shape[0]
    counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(np.float64)
    boot = np.array([getattr(trend_statistics(layer_means), statistic) for layer_means in counts @ full / n])
    low, high = np.nanquantile(boot, [(1 - ci) / 2, (1 + ci) / 2])
    estimate = getattr(trend_statistics(full.mean(0)), statistic)
    return Measured(float(estimate), (float(low), float(high)), f"{statistic} (the paper's definition)")
