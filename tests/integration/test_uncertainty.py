"""Intervals on real measurements: model differences, compare(ci), saved files, chart bands, the explorer and page.

The embedded MiniLM (trained) and the same architecture with random weights, on 30 builtin texts at 32 tokens.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import nb_condense as nbc
from conftest import bootstrap_oracle, spec_rows
from nb_condense import charts
from nb_condense.core.bootstrap import resample_indices
from nb_condense.core.result import CondensationResult

N_TEXTS = 30
pytestmark = pytest.mark.slow  # measures the pretrained MiniLM (and its random twin) on 30 texts


@pytest.fixture(scope="module")
def texts():
    return nbc.sample_texts("builtin", N_TEXTS)


@pytest.fixture(scope="module")
def trained(texts):
    return nbc.measure("embedded", texts=texts, max_length=32, show_progress=False)


@pytest.fixture(scope="module")
def untrained(texts):
    from nb_condense.measurement.models import embedded_model_path

    return nbc.measure(f"random:{embedded_model_path()}", texts=texts, max_length=32, show_progress=False)


def per_text(result: CondensationResult) -> tuple[np.ndarray, np.ndarray]:
    n = result.n_texts
    return result.stats["mean"].to_numpy().reshape(n, -1), result.stats["n_pairs"].to_numpy().reshape(n, -1)


def subset(result: CondensationResult, rows: list[int]) -> CondensationResult:
    """The measurement of only these texts (what measuring them alone gives: each text is measured on its own)."""
    stats = result.stats[result.stats["text"].isin(rows)].copy()
    stats["text"] = stats["text"].map({old: new for new, old in enumerate(rows)})
    return CondensationResult(histograms=result.histograms[rows], stats=stats.reset_index(drop=True),
                              layers=result.layers, token_counts=result.token_counts[rows],
                              metadata=dict(result.metadata), texts=[result.texts[i] for i in rows])


def assert_reads(answer, pattern: str, numbers: tuple[float, ...]) -> None:
    """The reading has this shape and its numbers are these, rounded to the decimals written (and not -0.00)."""
    match = re.fullmatch(pattern, answer.reading)
    assert match, answer.reading
    for written, value in zip(match.groups(), numbers):
        decimals = len(written.split(".")[1])
        assert decimals >= 2 and abs(float(written) - value) <= 0.5 * 10**-decimals + 1e-15, (written, value)
        assert float(written) != 0 or value == 0, written  # a number that is not 0 is not written 0.00


def test_trend_intervals_of_a_measurement_equal_the_oracle(trained):
    trend = trained.trend(ci=0.95, n_boot=400, seed=5)
    means, pairs = per_text(trained)
    expected, layers = bootstrap_oracle(means, pairs, resample_indices(N_TEXTS, 400, 5), 0.95)
    for name, bounds in expected.items():
        np.testing.assert_allclose(trend.intervals[name], bounds, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(trend.layer_mean_intervals, layers, rtol=0, atol=1e-12)


def test_two_halves_of_one_corpus_on_one_model_cannot_be_told_apart(trained):
    first, second = subset(trained, list(range(15))), subset(trained, list(range(15, 30)))
    answer = nbc.difference(first, second, names=("first half", "second half"))
    low, high = answer.interval
    assert not answer.paired and low < 0 < high and answer.verdict == "cannot_tell"
    assert answer.estimate == pytest.approx(first.trend().last_half_mean - second.trend().last_half_mean)
    assert_reads(answer, r"cannot tell first half and second half apart in the last half at 15 texts \(difference "
                 r"(\S+), 95 % interval (\S+) to (\S+)\): measure more texts", (answer.estimate, low, high))


def test_a_trained_and_a_random_model_differ_and_pairing_narrows_the_interval(trained, untrained):
    paired = nbc.difference(untrained, trained, names=("random", "trained"))
    unpaired = nbc.difference(untrained, trained, names=("random", "trained"), paired=False)
    assert paired.paired and not unpaired.paired
    assert paired.interval[0] > 0 and paired.verdict == "a_more"
    assert np.diff(paired.interval)[0] < np.diff(unpaired.interval)[0]
    # the interval is the percentile interval of the difference over the same resamples of the same texts
    indices = np.random.default_rng(0).integers(0, N_TEXTS, size=(1000, N_TEXTS))
    (ma, pa), (mb, pb) = per_text(untrained), per_text(trained)
    half = len(trained.layers) // 2

    def last_half(means, pairs, rows):
        return ((means[rows] * pairs[rows]).sum(0) / pairs[rows].sum(0))[-half:].mean()

    differences = [last_half(ma, pa, rows) - last_half(mb, pb, rows) for rows in indices]
    np.testing.assert_allclose(paired.interval, np.percentile(differences, [2.5, 97.5]), rtol=0, atol=1e-12)
    assert_reads(paired, r"random condenses more than trained in the last half \(difference (\S+), 95 % interval "
                         r"(\S+) to (\S+)\)", (paired.estimate, *paired.interval))
    flipped = nbc.difference(trained, untrained, names=("trained", "random"))
    assert flipped.verdict == "b_more" and flipped.reading == paired.reading  # said the natural way round


def test_several_seeds_are_resampled_then_their_texts(trained, untrained):
    halves = [subset(trained, list(range(15))), subset(trained, list(range(15, 30)))]
    answer = nbc.difference(halves, [untrained], names=("trained", "random"))
    assert answer.n_seeds == (2, 1) and not answer.paired
    assert answer.estimate == pytest.approx(np.mean([h.trend().last_half_mean for h in halves])
                                            - untrained.trend().last_half_mean)
    assert " over 2 and 1 seeds " in answer.reading
    table = nbc.compare({"trained": halves, "random": untrained}, ci=0.95)
    assert list(table["n_seeds"]) == [2, 1] and np.isnan(table.loc[0, "spearman_p"])
    assert table.loc[0, "last_half_mean"] == pytest.approx(np.mean([h.trend().last_half_mean for h in halves]))


def test_compare_with_ci_adds_the_results_intervals(trained, untrained):
    plain = nbc.compare([trained, untrained])
    table = nbc.compare({"trained": trained, "random": untrained}, ci=0.9, n_boot=500, seed=3)
    assert [c for c in table.columns if not c.endswith(("_low", "_high"))] == list(plain.columns)
    for row, result in zip(table.itertuples(), (trained, untrained)):
        intervals = result.trend(ci=0.9, n_boot=500, seed=3).intervals
        for name, (low, high) in intervals.items():
            assert (getattr(row, f"{name}_low"), getattr(row, f"{name}_high")) == (low, high)


def test_a_saved_result_gives_the_same_intervals_without_torch(trained, untrained, tmp_path):
    trained.save(tmp_path / "trained.npz")
    untrained.save(tmp_path / "random.npz")
    script = (
        "import json, sys\n"
        "import nb_condense as nbc\n"
        "a = nbc.CondensationSession.from_file(sys.argv[1], name='trained')\n"
        "b = nbc.CondensationResult.load(sys.argv[2])\n"
        "t = a.trend(ci=0.95)\n"
        "d = nbc.difference(b, a, names=('random', 'trained'))\n"
        "print(json.dumps({'intervals': t.intervals, 'layers': t.layer_mean_intervals.tolist(),\n"
        "                  'difference': d.interval, 'reading': d.reading,\n"
        "                  'heavy': sorted(m for m in ('torch', 'transformers') if m in sys.modules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "trained.npz"), str(tmp_path / "random.npz")],
                         capture_output=True, text=True, check=True, env=env)
    got = json.loads(out.stdout)
    assert got["heavy"] == []
    trend = trained.trend(ci=0.95)
    assert {k: tuple(v) for k, v in got["intervals"].items()} == trend.intervals
    assert np.array_equal(got["layers"], trend.layer_mean_intervals)
    here = nbc.difference(untrained, trained, names=("random", "trained"))
    assert tuple(got["difference"]) == here.interval and got["reading"] == here.reading


def test_chart_bands_and_error_bars_draw_the_intervals(trained, untrained):
    spec = charts.layer_trend({"trained": trained, "random": untrained}, ci=0.95).to_dict()
    rows = pd.DataFrame(spec_rows(spec))
    assert spec["title"]["subtitle"] == "shaded: 95 % bootstrap interval over the 30 texts"
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line"]
    for name, result in (("trained", trained), ("random", untrained)):
        _, layers = bootstrap_oracle(*per_text(result), resample_indices(N_TEXTS, 1000, 0), 0.95)
        mine = rows[rows["model"] == name]
        np.testing.assert_allclose(mine[["low", "high"]].to_numpy(), layers, rtol=0, atol=1e-12)
    bars = charts.trend_chart({"trained": trained, "random": untrained}, ci=0.95).to_dict()
    rule = next(layer for layer in bars["layer"] if layer["mark"]["type"] == "rule" and "y2" in layer["encoding"])
    points = pd.DataFrame(spec_rows(bars, rule["data"]["name"]))
    expected, _ = bootstrap_oracle(*per_text(untrained), resample_indices(N_TEXTS, 1000, 0), 0.95)
    row = points[(points["model"] == "random") & (points["statistic"] == "Kendall tau")].iloc[0]
    np.testing.assert_allclose([row["low"], row["high"]], expected["kendall_tau"], rtol=0, atol=1e-12)


def test_the_explorer_and_the_page_embed_the_bands(trained, untrained):
    from nb_condense.widgets.page import page_payload

    explorer = nbc.CondensationExplorer({"trained": trained, "random": untrained}, background=False, view="trend")
    payload = page_payload({"trained": trained, "random": untrained})
    for spec in (explorer._spec, payload["trend"]):
        rows = pd.DataFrame(spec_rows(spec))
        assert "95 % bootstrap interval over the 30 texts" in spec["title"]["subtitle"]
        for name, result in (("trained", trained), ("random", untrained)):
            _, layers = bootstrap_oracle(*per_text(result), resample_indices(N_TEXTS, 1000, 0), 0.95)
            np.testing.assert_allclose(rows.loc[rows["model"] == name, ["low", "high"]].to_numpy(), layers,
                                       rtol=0, atol=1e-12)


def test_a_drop_in_result_gets_no_band_and_the_caption_says_why(trained):
    from nb_condense.widgets._views import trend_spec

    drop_in = dataclasses.replace(trained, metadata={**trained.metadata, "layer_means": "position_average"},
                                  cossim_by_layer=np.ones((len(trained.layers), 4, 4)))
    spec, frame = trend_spec({"trained": trained, "drop-in": drop_in})
    assert spec["title"]["subtitle"] == ("shaded: 95 % bootstrap interval over the 30 texts; none for drop-in "
                                         "(position-averaged means keep no per-text share)")
    rows = pd.DataFrame(spec_rows(spec))
    assert rows.loc[rows["model"] == "drop-in", ["low", "high"]].isna().all().all()
    assert rows.loc[rows["model"] == "trained", ["low", "high"]].notna().all().all()
    with pytest.raises(ValueError, match="position-averaged layer means"):
        nbc.difference(trained, drop_in)
    one = subset(trained, [3])  # one text: nothing to resample, so no band (and the view still draws)
    spec, _ = trend_spec({"drop-in": drop_in, "one": one})
    assert spec["title"]["subtitle"] == ("shaded: no bootstrap interval for drop-in (position-averaged means keep no "
                                         "per-text share); one (one text: nothing to resample)")
    assert pd.DataFrame(spec_rows(spec))[["low", "high"]].isna().all().all()
    table = nbc.compare({"trained": trained, "drop-in": drop_in})  # without intervals, as before
    assert table.loc[1, "last_half_mean"] == pytest.approx(drop_in.trend().last_half_mean)
    with pytest.raises(ValueError, match="compare\\(\\): 'drop-in' holds the reference's position-averaged"):
        nbc.compare({"trained": trained, "drop-in": drop_in}, ci=0.95)


def test_difference_refuses_what_it_cannot_compare(trained, untrained):
    with pytest.raises(ValueError, match=r"statistic='median': choose one of \['spearman_rho'"):
        nbc.difference(trained, untrained, statistic="median")
    with pytest.raises(ValueError, match="paired=True needs both models measured on the same texts"):
        nbc.difference(subset(trained, [0, 1, 2]), subset(untrained, [3, 4, 5]), paired=True)
    with pytest.raises(TypeError, match="difference\\(\\) takes CondensationResult or CondensationSession"):
        nbc.difference(trained, "gpt2")
    with pytest.raises(ValueError, match="ci=1.5"):
        nbc.difference(trained, untrained, ci=1.5)
