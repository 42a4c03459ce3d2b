"""The closing note of issue 20: every trend statistic of the embedded MiniLM with its 95 % interval over texts.

Run: ``python benchmarks/uncertainty_note.py [--cache DIR]`` (2-10 minutes on two CPU cores; no network). Prints

1. the table of each statistic with its interval, for the embedded MiniLM on 100 builtin texts (128 tokens);
2. ``difference`` readings: the trained MiniLM vs the same architecture with random weights, on the same texts;
3. how the interval narrows with the number of texts (the first n of the 100), for docs/uncertainty.md;

and saves the band chart to docs/uncertainty_bands.png.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

import nb_condense as nbc
from nb_condense import charts
from nb_condense.core.result import CondensationResult
from nb_condense.measurement.models import embedded_model_path

N_TEXTS, MAX_LENGTH, SUBSETS = 100, 128, 20
DOCS = Path(__file__).resolve().parents[1] / "docs"


def part(result: CondensationResult, rows: Iterable[int]) -> CondensationResult:
    """The measurement of only these texts (each text is measured on its own, so this is what measuring them gives)."""
    chosen = list(rows)
    stats = result.stats[result.stats["text"].isin(chosen)].copy()
    stats["text"] = stats["text"].map({old: new for new, old in enumerate(chosen)})
    return CondensationResult(histograms=result.histograms[chosen], stats=stats.reset_index(drop=True),
                              layers=result.layers, token_counts=result.token_counts[chosen],
                              metadata=dict(result.metadata),
                              texts=None if result.texts is None else [result.texts[i] for i in chosen])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="keep the two measurements here (reused when present)")
    args = parser.parse_args()
    texts = nbc.sample_texts("builtin", N_TEXTS)
    start = time.perf_counter()
    measured = {}
    for name, model in (("trained", "embedded"), ("random", f"random:{embedded_model_path()}")):
        path = args.cache / f"{name}.npz" if args.cache else None
        if path is not None and path.exists():
            measured[name] = CondensationResult.load(path)
            continue
        measured[name] = nbc.measure(model, texts=texts, max_length=MAX_LENGTH, show_progress=False)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            measured[name].save(path)
    trained, untrained = measured["trained"], measured["random"]
    print(f"2 x {N_TEXTS} texts measured or loaded in {time.perf_counter() - start:.0f} s (max_length={MAX_LENGTH})\n")

    trend = trained.trend(ci=0.95)
    assert trend.intervals is not None
    row = trend.as_dict()
    table = pd.DataFrame([{"statistic": name, "estimate": row[name], "low": low, "high": high,
                           "width": high - low} for name, (low, high) in trend.intervals.items()])
    print(f"embedded MiniLM, {N_TEXTS} builtin texts: 95 % percentile bootstrap intervals over texts (1000 resamples)")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    print(f"(for contrast, Spearman's p-value over the {len(trained.layers)} layer means: {trend.spearman_p:.2g})\n")

    for statistic in ("last_half_mean", "last_1_mean", "spearman_rho"):
        print(nbc.difference(trained, untrained, statistic, names=("trained MiniLM", "random MiniLM")).reading)
    print(nbc.difference(part(trained, range(50)), part(trained, range(50, 100)),
                         names=("MiniLM on texts 0-49", "MiniLM on texts 50-99")).reading)
    print()

    print(f"interval width vs number of texts: {SUBSETS} random subsets of n of the 100 texts (all 100 once);")
    print("width: mean width of the 95 % interval of the trained model's last_half_mean; told apart: share of subsets")
    print("where difference(random, trained, 'last_half_mean') excludes 0 (paired: the same texts for both)")
    rows = []
    rng = np.random.default_rng(0)
    for n in (10, 25, 50, 100):
        widths, diff_widths, apart = [], [], []
        for _ in range(SUBSETS if n < N_TEXTS else 1):
            chosen = range(N_TEXTS) if n == N_TEXTS else sorted(rng.choice(N_TEXTS, n, replace=False).tolist())
            a, b = part(trained, chosen), part(untrained, chosen)
            low, high = a.trend(ci=0.95).intervals["last_half_mean"]
            answer = nbc.difference(b, a, "last_half_mean", names=("random", "trained"))
            widths.append(high - low)
            diff_widths.append(answer.interval[1] - answer.interval[0])
            apart.append(answer.verdict != "cannot_tell")
        rows.append({"n_texts": n, "width": np.mean(widths), "width * sqrt(n)": np.mean(widths) * np.sqrt(n),
                     "difference width": np.mean(diff_widths), "told apart": f"{np.mean(apart):.0%}"})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.4f}"))

    chart = charts.layer_trend({"trained MiniLM": trained, "random MiniLM": untrained}, ci=0.95)
    charts.save_chart(chart, DOCS / "uncertainty_bands.png")
    print(f"\nsaved {DOCS / 'uncertainty_bands.png'}")


if __name__ == "__main__":
    main()
