"""Comparing models: the paper's table with intervals over texts, and differences that say "clear" or "cannot tell".

:func:`compare` makes Finding 1's table (one row per model); with ``ci`` each statistic gets an interval.
:func:`difference` answers one question, "does model A condense more than model B?", with the difference of one
statistic, its bootstrap interval over texts (and over seeds, for several training runs of one setting) and a
sentence. Everything is computed from the stored per-text means and pair counts: no model runs.

Example
-------
>>> import nb_condense as nbc
>>> a = nbc.measure("embedded", dataset="builtin", n_texts=6, max_length=32, show_progress=False)
>>> answer = nbc.difference(a, a, names=("MiniLM", "itself"))
>>> answer.verdict, answer.paired, answer.estimate
('cannot_tell', True, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.bootstrap import check_ci, interval, interval_digits, resample_indices, two_level_replicates
from ..core.result import CondensationResult, MeasuredSource
from .session import CondensationSession

__all__ = ["Difference", "STATISTICS", "compare", "difference"]

STATISTICS = ("spearman_rho", "kendall_tau", "last_1_mean", "last_2_mean", "last_3_mean", "last_4_mean",
              "last_5_mean", "last_half_mean")
"""The statistics :func:`difference` compares (higher = more condensation for each)."""


@dataclass(frozen=True)
class Difference:
    """Model A minus model B on one statistic, with its bootstrap interval and a one-sentence reading.

    Attributes
    ----------
    estimate : float
        ``value_a - value_b`` (each the mean over that model's seeds when several are given).
    interval : tuple of float
        The ``ci`` percentile interval of the difference.
    paired : bool
        Whether both were measured on the same texts, so each resample drew the same texts for both.
    verdict : str
        ``"a_more"`` or ``"b_more"`` when the interval excludes 0 (which condenses more), else ``"cannot_tell"``.
    reading : str
        The verdict as a sentence, with the numbers.
    """

    statistic: str
    estimate: float
    interval: tuple[float, float]
    ci: float
    paired: bool
    verdict: str
    reading: str
    names: tuple[str, str]
    values: tuple[float, float]
    n_texts: tuple[int, int]
    n_seeds: tuple[int, int]
    n_boot: int

    def __str__(self) -> str:
        return self.reading


Runs = tuple[str, list[CondensationResult]]


def _one(item: Any, where: str) -> tuple[str, CondensationResult]:
    """``(name, result)`` of a result, a session (measured now if needed) or a measured source."""
    if isinstance(item, CondensationResult):
        return str(item.metadata.get("model_name", "model")), item
    if isinstance(item, CondensationSession):
        return item.name, item.measure()
    if isinstance(item, MeasuredSource):
        return item.name, item.measured_result()
    raise TypeError(f"{where} takes CondensationResult or CondensationSession objects (or a list of them, one per "
                    f"seed), got {type(item).__name__}.")


def _runs(item: Any, where: str, name: str | None = None, *, resampled: bool = True) -> Runs:
    """A model's name and its results: one, or one per seed when ``item`` is a list or tuple.

    ``resampled``: the texts will be resampled, so results without per-text layer means (the drop-in's) are refused.
    """
    items = list(item) if isinstance(item, (list, tuple)) else [item]
    if not items:
        raise ValueError(f"{where}: an empty list of results; give at least one result per model.")
    named = [_one(x, where) for x in items]
    for _, result in named:
        if resampled and not result.resamplable:
            raise ValueError(f"{where}: {name or named[0][0]!r} holds the reference's position-averaged layer means "
                             "(the drop-in), which keep no per-text share; measure with nbc.measure(...) for "
                             "intervals.")
    return name or named[0][0], [result for _, result in named]


def _check_comparable(models: Sequence[Runs]) -> None:
    """Raise when two models were measured with different ``bins`` or ``include_diagonal``."""
    first_name, first = models[0][0], models[0][1][0]
    for name, results in models:
        for result in results:
            for field, a, b in (("bins", first.bins, result.bins),
                                ("include_diagonal", bool(first.metadata.get("include_diagonal")),
                                 bool(result.metadata.get("include_diagonal")))):
                if a != b:
                    raise ValueError(f"Cannot compare {first_name!r} and {name!r}: measured with {field}={a} vs {b}. "
                                     "Measure both the same way.")


def _per_text(result: CondensationResult) -> tuple[np.ndarray, np.ndarray]:
    n = result.n_texts
    return (result.stats["mean"].to_numpy().reshape(n, -1), result.stats["n_pairs"].to_numpy().reshape(n, -1))


def _same_texts(results: Sequence[CondensationResult]) -> bool:
    """Whether every result holds the same stored texts, in the same order."""
    first = results[0].texts
    return first is not None and all(r.texts is not None and list(r.texts) == list(first) for r in results)


def _replicates(models: Sequence[list[CondensationResult]], *, n_boot: int, rng: np.random.Generator,
                paired: bool) -> list[dict[str, np.ndarray]]:
    """Two-level bootstrap replicates of every statistic, per model (texts shared across models when paired)."""
    n_slots = max(len(results) for results in models)
    shared = ([resample_indices(models[0][0].n_texts, n_boot, rng) for _ in range(n_slots)] if paired else None)
    out = []
    for results in models:
        m = len(results)
        draws = rng.integers(0, m, size=(n_boot, m)) if m > 1 else np.zeros((n_boot, 1), dtype=np.int64)
        indices = [[shared[j] if shared is not None else resample_indices(r.n_texts, n_boot, rng) for r in results]
                   for j in range(m)]
        out.append(two_level_replicates([_per_text(r) for r in results], draws, indices))
    return out


def _point(results: Sequence[CondensationResult], statistic: str) -> float:
    """The mean over seeds of one statistic's point estimate."""
    values = []
    for result in results:
        row = result.trend().as_dict()
        if statistic not in row:
            raise ValueError(f"{result.metadata.get('model_name')!r} has no {statistic} "
                             f"({len(result.layers)} layer means measured).")
        values.append(row[statistic])
    return float(np.mean(values))


def compare(sessions: Any, ci: float | None = None, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Finding 1's table: one row per model with n_parameters, n_layers, rho, tau, last-N and last-half means.

    Sessions must share ``bins`` and ``include_diagonal`` (their numbers are not comparable otherwise).

    Parameters
    ----------
    sessions
        Sessions or results, a list of them or a ``{name: item}`` mapping. An item that is itself a list holds one
        result per training seed of one setting: its row gives each statistic's mean over the seeds, an ``n_seeds``
        column is added, and the p-values (which do not average) are NaN.
    ci
        With a coverage such as ``0.95``, each statistic is followed by ``<name>_low`` and ``<name>_high``: a
        bootstrap interval over texts (over seeds, then texts within each, for a list of seeds).
    n_boot, seed
        Resamples and their seed.
    """
    if isinstance(sessions, Mapping):
        models = [_runs(item, "compare()", str(name), resampled=ci is not None) for name, item in sessions.items()]
    else:
        items = list(sessions) if isinstance(sessions, (list, tuple)) else [sessions]
        if not items:
            raise ValueError("compare() needs at least one session.")
        models = [_runs(item, "compare()", resampled=ci is not None) for item in items]
    _check_comparable(models)
    if ci is not None:
        check_ci(ci, n_boot)
    rng = np.random.default_rng(seed)
    seeded = any(len(results) > 1 for _, results in models)
    rows = []
    for name, results in models:
        if len(results) == 1:
            rows.append(results[0].trend_row(name, ci=ci, n_boot=n_boot, seed=seed))
            if seeded:
                rows[-1]["n_seeds"] = 1
            continue
        per_seed = pd.DataFrame([r.trend_row(name) for r in results])
        row: dict[str, Any] = {"model": name, "n_parameters": results[0].metadata.get("n_parameters"),
                               "n_layers": results[0].n_layers}
        replicates = _replicates([results], n_boot=n_boot, rng=rng, paired=False)[0] if ci is not None else {}
        for column in per_seed.columns[3:]:
            row[column] = float("nan") if column.endswith("_p") else float(per_seed[column].mean())
            if ci is not None and column in replicates:
                row[f"{column}_low"], row[f"{column}_high"] = interval(replicates[column], ci)
        row["n_seeds"] = len(results)
        rows.append(row)
    return pd.DataFrame(rows)


def difference(a: Any, b: Any, statistic: str = "last_half_mean", ci: float = 0.95, n_boot: int = 1000,
               seed: int = 0, *, paired: bool | None = None, names: tuple[str, str] | None = None) -> Difference:
    """Does model ``a`` condense more than model ``b``? The difference of one statistic with its interval.

    Parameters
    ----------
    a, b
        A result, a session (measured now if needed; from a saved file too), or a list of them: one per training
        seed of the same setting. Several seeds are resampled in two levels: seeds with replacement, then texts
        within each drawn seed; the estimate is the difference of the means over seeds.
    statistic
        One of :data:`STATISTICS` (higher means more condensation for each).
    ci, n_boot, seed
        Coverage of the percentile interval, resamples and their seed.
    paired
        ``None`` (default): paired when every result of both holds the same stored texts (each resample then
        draws the same texts for both, which removes the texts' shared variation). ``False`` resamples each model's
        texts on their own; ``True`` requires the same texts.
    names
        Labels for the reading (default: the session names or the results' model names).

    Returns
    -------
    Difference
        ``estimate``, ``interval``, ``verdict`` (``"a_more"``, ``"b_more"`` or ``"cannot_tell"``: the interval
        contains 0) and ``reading``, e.g. "gpt2 condenses more than gpt2-large in the last half (difference 0.12,
        95 % interval 0.09 to 0.15)".
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r}: choose one of {list(STATISTICS)}.")
    check_ci(ci, n_boot)
    if names is not None and (len(names) != 2 or names[0] == names[1]):
        raise ValueError(f"names={names!r}: give two different labels, one for a and one for b.")
    name_a, runs_a = _runs(a, "difference()", names[0] if names else None)
    name_b, runs_b = _runs(b, "difference()", names[1] if names else None)
    if name_a == name_b:
        name_a, name_b = f"{name_a} (a)", f"{name_b} (b)"
    _check_comparable([(name_a, runs_a), (name_b, runs_b)])
    same = _same_texts([*runs_a, *runs_b])
    if paired and not same:
        raise ValueError("paired=True needs both models measured on the same texts (the stored texts differ or "
                         "were not kept); pass paired=None to let difference() decide.")
    is_paired = same if paired is None else bool(paired)
    rng = np.random.default_rng(seed)
    rep_a, rep_b = _replicates([runs_a, runs_b], n_boot=n_boot, rng=rng, paired=is_paired)
    value_a, value_b = _point(runs_a, statistic), _point(runs_b, statistic)
    estimate = value_a - value_b
    low, high = interval(rep_a[statistic] - rep_b[statistic], ci)
    verdict = "a_more" if low > 0 else "b_more" if high < 0 else "cannot_tell"
    n_texts = (runs_a[0].n_texts, runs_b[0].n_texts)
    n_seeds = (len(runs_a), len(runs_b))
    reading = _reading(verdict, (name_a, name_b), statistic, estimate, (low, high), ci, n_texts, n_seeds)
    return Difference(statistic=statistic, estimate=float(estimate), interval=(low, high), ci=float(ci),
                      paired=is_paired, verdict=verdict, reading=reading, names=(name_a, name_b),
                      values=(value_a, value_b), n_texts=n_texts, n_seeds=n_seeds, n_boot=int(n_boot))


def _where(statistic: str) -> str:
    """Where (or how) the statistic measures condensation, as words."""
    if statistic == "last_half_mean":
        return "in the last half"
    if statistic == "last_1_mean":
        return "in the last layer"
    if statistic.startswith("last_"):
        return f"in the last {statistic.split('_')[1]} layers"
    return "with depth by " + ("Spearman's rho" if statistic == "spearman_rho" else "Kendall's tau")


def _reading(verdict: str, names: tuple[str, str], statistic: str, estimate: float, bounds: tuple[float, float],
             ci: float, n_texts: tuple[int, int], n_seeds: tuple[int, int]) -> str:
    """The verdict as one sentence: who condenses more (or "cannot tell"), with the numbers."""
    low, high = bounds
    if verdict == "b_more":  # say it the natural way round: the one that condenses more first, a positive number
        names, estimate, low, high = (names[1], names[0]), -estimate, -high, -low
        n_texts, n_seeds = (n_texts[1], n_texts[0]), (n_seeds[1], n_seeds[0])  # the counts follow their names
    digits = interval_digits(high - low)
    while digits < 4 and any(x != 0 and round(x, digits) == 0 for x in (estimate, low, high)):
        digits += 1  # a number that is not 0 is not written 0.00

    def number(x: float) -> str:
        return f"{round(x, digits) + 0.0:.{digits}f}"  # + 0.0: never "-0.00"

    numbers = f"(difference {number(estimate)}, {ci * 100:g} % interval {number(low)} to {number(high)})"
    seeds = ""
    if max(n_seeds) > 1:
        seeds = f" over {n_seeds[0]} seeds each" if n_seeds[0] == n_seeds[1] else \
            f" over {n_seeds[0]} and {n_seeds[1]} seeds"
    if verdict != "cannot_tell":
        return f"{names[0]} condenses more than {names[1]} {_where(statistic)}{seeds} {numbers}"
    texts = f"{n_texts[0]} texts" if n_texts[0] == n_texts[1] else f"{n_texts[0]} and {n_texts[1]} texts"
    more = "measure more texts or seeds" if max(n_seeds) > 1 else "measure more texts"
    return f"cannot tell {names[0]} and {names[1]} apart {_where(statistic)} at {texts}{seeds} {numbers}: {more}"
