"""The cost of intervals: ``result.trend(ci=0.95)`` (1000 resamples of 100 texts x 25 layers) vs ``ci=None``.

Run:  python benchmarks/bench_uncertainty.py    (target: 1000 resamples of 100 texts x 25 layers well under 1 s;
                                                 a few seconds in all, no model)

The result is synthetic (per-text means and pair counts of texts of 20-400 tokens, 25 hidden-state layers):
a bootstrap reads only those, so the numbers are those of a measured result of that size. Each timing is the
best of ``--repeats`` interleaved runs after one warm-up; the ratio is printed side by side.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import nb_condense as nbc
from nb_condense.core.result import CondensationResult


def synthetic(n_texts: int = 100, n_entries: int = 25, seed: int = 0) -> CondensationResult:
    """A result of ``n_texts`` texts x ``n_entries`` layers with realistic per-text statistics (no model)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(20, 401, size=n_texts)
    means = np.linspace(0.1, 0.6, n_entries) + rng.normal(0, 0.1, size=(n_texts, n_entries))
    stats = pd.DataFrame({"text": np.repeat(np.arange(n_texts), n_entries),
                          "layer": np.tile(np.arange(n_entries), n_texts),
                          "n_tokens": np.repeat(tokens, n_entries),
                          "n_pairs": np.repeat(tokens * (tokens - 1), n_entries),
                          "mean": means.ravel(), "std": np.full(means.size, 0.1)})
    return CondensationResult(histograms=np.zeros((n_texts, n_entries, 128), dtype=np.int64), stats=stats,
                              layers=np.arange(n_entries), token_counts=tokens,
                              metadata={"model_name": "synthetic", "n_entries": n_entries})


def best_ms(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time (ms) of each function over ``repeats`` interleaved runs, after one warm-up each."""
    for function in functions.values():
        function()
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], (time.perf_counter() - start) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    result, other = synthetic(seed=0), synthetic(seed=1)
    other.texts = result.texts = [f"text {i}" for i in range(result.n_texts)]  # the same texts: paired
    times = best_ms({
        "trend(ci=None)": lambda: result.trend(),
        "trend(ci=0.95), percentile": lambda: result.trend(ci=0.95),
        "trend(ci=0.95), bca": lambda: result.trend(ci=0.95, method="bca"),
        "difference(a, b), paired": lambda: nbc.difference(result, other, names=("a", "b")),
        "compare([a, b], ci=0.95)": lambda: nbc.compare({"a": result, "b": other}, ci=0.95),
    }, args.repeats)
    base = times["trend(ci=None)"]
    print(f"{result.n_texts} texts x {len(result.layers)} layers, 1000 resamples; best of {args.repeats} runs")
    print(f"{'call':32s} {'ms':>9s} {'x ci=None':>10s}")
    for name, ms in times.items():
        print(f"{name:32s} {ms:9.1f} {ms / base:10.1f}")
    verdict = "PASS" if times["trend(ci=0.95), percentile"] < 250 else "FAIL"
    print(f"\n1000 resamples of 100 texts x 25 layers: {times['trend(ci=0.95), percentile']:.0f} ms "
          f"(target well under 1 s: < 250 ms) {verdict}")


if __name__ == "__main__":
    main()
