"""Median time of the calls the widget makes on every click: session.distribution(...) + its chart spec.

Run:  python benchmarks/bench_session.py    (targets: heatmap spec <= 20 ms, heatmap + curves <= 50 ms, others <= 50 ms;
                                            25 layers x 100 texts x 128 bins)

The session is measured once (a tiny random 24-block GPT-2 on 100 builtin texts, so 25 hidden-state layers);
every timed call is answered from the cached histograms.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from transformers import AutoConfig  # noqa: E402

import nb_condense as nbc  # noqa: E402
from nb_condense import charts  # noqa: E402
from nb_condense.measurement.models import load_tokenizer, random_model  # noqa: E402


def median_ms(function, runs: int = 50) -> float:  # type: ignore[no-untyped-def]
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    config = AutoConfig.for_model("gpt2", n_layer=24, n_embd=64, n_head=2, n_positions=128, vocab_size=30522,
                                 bos_token_id=0, eos_token_id=0)
    texts = nbc.sample_texts("builtin", 100, min_word_count=80, max_word_count=120)
    session = nbc.CondensationSession(random_model(config), load_tokenizer("embedded"), texts=texts, max_length=96,
                                      show_progress=False)
    print(f"session: {session.measure().histograms.shape} [text, layer, bin]")
    rng = np.random.default_rng(0)

    def click() -> None:  # a new choice of layers and samples, as a widget control change makes
        layers = sorted(rng.choice(25, size=4, replace=False).tolist())
        samples = sorted(rng.choice(100, size=10, replace=False).tolist())
        charts.distributions(session, layers, samples).to_dict()

    rows = {  # name: (call, target in ms)
        "distribution() frame": (lambda: session.distribution(layers=[0, 12, 24], samples=list(range(0, 100, 7))),
                                 50),
        "distribution() + chart spec": (click, 50),
        "heatmap spec (all texts)": (lambda: charts.heatmap(session).to_dict(), 20),
        "explore spec (heatmap + curves)": (lambda: charts.heatmap_with_curves(session, [0, 12, 24]).to_dict(), 50),
    }
    for name, (function, target) in rows.items():
        median = median_ms(function)
        verdict = "ok" if median <= target else "MISSED"
        print(f"  {name:<34} median {median:7.2f} ms   (target <= {target} ms: {verdict})")


if __name__ == "__main__":
    main()
