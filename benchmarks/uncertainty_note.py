"""The closing note of issue 20: every trend statistic of the embedded MiniLM with its 95 % interval over texts.

Run: ``python benchmarks/uncertainty_note.py`` (about two minutes on two CPU cores; no network). Prints

1. the table of each statistic with its interval, for the embedded MiniLM on 100 builtin texts (128 tokens);
2. ``difference`` readings: the trained MiniLM vs the same architecture with random weights, on the same texts;
3. how the interval narrows with the number of texts (the first n of the 100), for docs/uncertainty.md;

and saves the band chart to docs/uncertainty_bands.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

import nb_condense as nbc
from nb_condense import charts
from nb_condense.core.result import CondensationResult
from nb_condense.measurement.models import embedded_model_path

N_TEXTS, MAX_LENGTH = 100, 128
DOCS = Path(__file__).resolve().parents[1] / "docs"


def part(result: CondensationResult, rows: range) -> CondensationResult:
    """The measurement of only these texts (each text is measured on its own, so this is what measuring them gives)."""
    chosen = list(rows)
    stats = result.stats[result.stats["text"].isin(chosen)].copy()
    stats["text"] = stats["text"].map({old: new for new, old in enumerate(chosen)})
    return CondensationResult(histograms=result.histograms[chosen], stats=stats.reset_index(drop=True),
                              layers=result.layers, token_counts=result.token_counts[chosen],
                              metadata=dict(result.metadata),
                              texts=None if result.texts is None else [result.texts[i] for i in chosen])


def main() -> None:
    texts = nbc.sample_texts("builtin", N_TEXTS)
    start = time.perf_counter()
    trained = nbc.measure("embedded", texts=texts, max_length=MAX_LENGTH, show_progress=False)
    untrained = nbc.measure(f"random:{embedded_model_path()}", texts=texts, max_length=MAX_LENGTH,
                            show_progress=False)
    print(f"measured 2 x {N_TEXTS} texts in {time.perf_counter() - start:.0f} s (max_length={MAX_LENGTH})\n")

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

    print("width of the 95 % interval of last_half_mean vs number of texts (the first n of the 100)")
    rows = []
    for n in (10, 25, 50, 100):
        a, b = part(trained, range(n)), part(untrained, range(n))
        low, high = a.trend(ci=0.95).intervals["last_half_mean"]
        answer = nbc.difference(b, a, "last_half_mean", names=("random", "trained"))
        rows.append({"n_texts": n, "width": high - low, "width * sqrt(n)": (high - low) * np.sqrt(n),
                     "random - trained": answer.estimate, "low": answer.interval[0], "high": answer.interval[1],
                     "verdict": answer.verdict})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.4f}"))

    chart = charts.layer_trend({"trained MiniLM": trained, "random MiniLM": untrained}, ci=0.95)
    charts.save_chart(chart, DOCS / "uncertainty_bands.png")
    print(f"\nsaved {DOCS / 'uncertainty_bands.png'}")


if __name__ == "__main__":
    main()
