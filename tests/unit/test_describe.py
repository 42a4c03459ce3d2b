"""Text alternatives (charts/describe): every number in a summary and a table is checked against an independent
computation over the result's stored arrays (pandas group-bys, an explicit bootstrap loop, scipy's Spearman)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from test_spec_templates import synthetic_result  # tests/unit is on the path (rootdir conftest)

from nb_condense.charts.describe import (
    PANELS,
    VIEWS,
    describe_distributions,
    describe_heatmap,
    describe_panel,
    describe_tokens,
    describe_trend,
    describe_view,
)
from nb_condense.core.result import CondensationResult

HOSTILE = '<img src=x onerror=alert(1)> "quoted" & \'single\' </script>'


def trending_result(slope: float, noise: float, n_texts: int = 12, n_entries: int = 6, seed: int = 0,
                    name: str = "model") -> CondensationResult:
    """A result whose per-text layer means are ``slope * layer + noise``: a known direction (or none)."""
    result = synthetic_result(seed, n_texts=n_texts, n_entries=n_entries)
    rng = np.random.default_rng(seed + 100)
    layer = result.stats["layer"].to_numpy()
    result.stats["mean"] = 0.3 + slope * layer + rng.normal(0, noise, len(layer))
    result.metadata["model_name"] = name
    return result


def pooled(result: CondensationResult, texts=None) -> pd.Series:
    """Pair-weighted layer means over ``texts`` (all by default), by a pandas group-by."""
    rows = result.stats if texts is None else result.stats[result.stats["text"].isin(texts)]
    return rows.groupby("layer").apply(lambda g: np.average(g["mean"], weights=g["n_pairs"]), include_groups=False)


def bootstrap(result: CondensationResult, n_boot: int = 1000, seed: int = 0):
    """Percentile 95 % intervals of each layer mean and of rho, by an explicit loop over resamples."""
    n = result.n_texts
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    means_by_text = result.stats.pivot(index="text", columns="layer", values="mean").to_numpy()
    pairs_by_text = result.stats.pivot(index="text", columns="layer", values="n_pairs").to_numpy()
    means, rhos = [], []
    for draw in draws:
        layer_means = np.average(means_by_text[draw], axis=0, weights=pairs_by_text[draw])
        means.append(layer_means)
        rhos.append(scipy_stats.spearmanr(np.arange(len(layer_means)), layer_means).statistic)
    return np.quantile(np.array(means), [0.025, 0.975], axis=0).T, np.nanquantile(rhos, [0.025, 0.975])


@pytest.fixture(scope="module")
def rising():
    return trending_result(0.08, 0.05, name="rising")


def test_heatmap_table_and_summary_match_an_independent_computation(rising):
    text = describe_heatmap(rising)
    expected = pooled(rising).to_numpy()
    np.testing.assert_allclose(text.table["Mean cosine"], expected, rtol=1e-12)
    layer_ci, rho_ci = bootstrap(rising)
    np.testing.assert_allclose(text.table[["Interval low (95 %)", "Interval high (95 %)"]], layer_ci, rtol=1e-9)
    counts = rising.histograms.sum(axis=0)
    peak = counts.argmax(axis=1)
    np.testing.assert_allclose(text.table["Densest bin from"], -1 + peak * 2 / rising.bins)
    np.testing.assert_allclose(text.table["Peak density"], counts.max(axis=1) / counts.sum(axis=1) / (2 / rising.bins))
    cdf = np.concatenate([np.zeros((len(counts), 1)), counts.cumsum(1) / counts.sum(1, keepdims=True)], axis=1)
    medians = [np.interp(0.5, c, np.linspace(-1, 1, rising.bins + 1)) for c in cdf]
    np.testing.assert_allclose(text.table["Median cosine"], medians, atol=1e-12)
    rho = scipy_stats.spearmanr(np.arange(len(expected)), expected).statistic
    top, bottom = int(np.argmax(expected)), int(np.argmin(expected))
    summary = text.summary
    assert f"rises from {expected[0]:.2f} at layer 0 to {expected[-1]:.2f} at layer {len(expected) - 1}" in summary
    assert f"highest {expected[top]:.2f} at layer {top}, lowest {expected[bottom]:.2f} at layer {bottom}" in summary
    assert f"rho {rho:+.2f} (95 % interval {rho_ci[0]:.2f} to {rho_ci[1]:.2f}): it rises with depth." in summary
    assert f"{len(expected)} layers, {rising.n_texts} texts" in summary
    cell = int(np.argmax(counts.max(axis=1) / counts.sum(axis=1)))
    assert f"densest cell is at layer {cell}, cosine {-1 + peak[cell] * 2 / rising.bins:.2f}" in summary
    assert text.name == "rising"


def test_chosen_samples_are_described_from_those_samples_only(rising):
    text = describe_heatmap(rising, [2, 5, 7])
    np.testing.assert_allclose(text.table["Mean cosine"], pooled(rising, [2, 5, 7]).to_numpy(), rtol=1e-12)
    assert "3 texts (#2, #5, #7)" in text.summary


@pytest.mark.parametrize("slope,words", [(0.08, "it rises with depth"), (-0.08, "it falls with depth"),
                                         (0.0, "cannot tell whether it rises or falls with depth")])
def test_the_verdict_follows_the_interval(slope, words):
    result = trending_result(slope, 0.05 if slope else 0.3, seed=3)
    _, (low, high) = bootstrap(result)
    spans_zero = low <= 0 <= high
    assert spans_zero == (slope == 0.0), "the synthetic data should make the intended case"
    summary = describe_view("trend", {"m": result}).summary
    assert words in summary
    assert ("cannot tell" in summary) == spans_zero


def test_no_interval_is_said_so():
    one = trending_result(0.08, 0.05, n_texts=1)
    summary = describe_heatmap(one).summary
    assert "no interval: one text" in summary
    assert "rises with depth" not in summary and "falls with depth" not in summary
    assert describe_heatmap(one).table["Interval low (95 %)"].isna().all()


def test_trend_describes_every_model_with_its_own_numbers(rising):
    falling = trending_result(-0.05, 0.02, seed=5, name="falling")
    text = describe_trend({"rising": rising, "falling": falling})
    for name, result in (("rising", rising), ("falling", falling)):
        rows = text.table[text.table["Model"] == name]
        np.testing.assert_allclose(rows["Mean cosine"], pooled(result).to_numpy(), rtol=1e-12)
    assert "2 models" in text.summary and "rising:" in text.summary and "falling:" in text.summary
    assert "it falls with depth" in text.summary and "it rises with depth" in text.summary


def test_distributions_peaks_and_quartiles(rising):
    text = describe_distributions(rising, layers=[1, 4], samples=[0, 1])
    counts = rising.histograms[[0, 1]][:, [1, 4]].sum(axis=0)
    centres = np.linspace(-1, 1, rising.bins + 1)[:-1] + 1 / rising.bins
    np.testing.assert_allclose(text.table["Peak at cosine"], centres[counts.argmax(axis=1)])
    assert text.table["Layer"].tolist() == [1, 4]
    q = text.table[["Lower quartile", "Median cosine", "Upper quartile"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    spread = q[:, 2] - q[:, 0]
    assert f"narrowest spread (interquartile range {spread.min():.2f}) is at layer {[1, 4][spread.argmin()]}" \
        in text.summary


def test_tokens_name_the_most_and_least_condensed_token(rising):
    text = describe_tokens(rising, sample=2, layer=3)
    start = int(rising.token_counts[:2].sum())
    values = rising.token_means[start:start + rising.token_counts[2], 3].astype(np.float64)
    tokens = rising.token_strings[start:start + rising.token_counts[2]]
    np.testing.assert_allclose(text.table["Mean cosine to the other tokens"], values)
    top, bottom = int(values.argmax()), int(values.argmin())
    assert f"Highest {values[top]:.2f}: {str(tokens[top])!r} at position {top}" in text.summary
    assert f"lowest {values[bottom]:.2f}: {str(tokens[bottom])!r} at position {bottom}" in text.summary
    assert describe_view("tokens", rising, samples=[2], layers=[3]).table.equals(text.table)


def test_live_panels_match_the_frames_they_draw():
    rng = np.random.default_rng(1)
    steps = np.repeat([0, 5, 10], 4)
    history = pd.DataFrame({"step": steps, "layer": np.tile(range(4), 3), "layer_fraction": np.tile(range(4), 3) / 3,
                            "mean": rng.uniform(0, 1, 12)})
    text = describe_panel("means", history)
    last = history[history["layer"] == 3]["mean"].to_numpy()
    final = history[history["step"] == 10]
    assert f"from {last[0]:.2f} at step 0 to {last[-1]:.2f} at step 10" in text.summary
    top = final.loc[final["mean"].idxmax()]
    assert f"highest layer mean is {top['mean']:.2f} (layer {int(top['layer'])})" in text.summary
    losses = pd.DataFrame({"step": [1, 1, 2, 2, 3], "series": ["loss", "dispersion_loss", "loss", "dispersion_loss",
                                                                 "loss"], "value": [3.0, -0.1, 2.5, -0.3, 2.7]})
    text = describe_panel("losses", losses)
    assert text.table["Total loss"].tolist() == [3.0, 2.5, 2.7]
    assert "falls from 3.00 at step 1 to 2.70 at step 3; highest 3.00 at step 1, lowest 2.50 at step 2" in text.summary
    assert "dispersion loss falls from -0.10 at step 1 to -0.30 at step 2" in text.summary


def test_every_view_and_panel_has_a_name_a_summary_and_a_csv(rising):
    for view in VIEWS:
        text = describe_view(view, {"rising": rising})
        assert text.name and text.summary.endswith(".")
        back = pd.read_csv(io.StringIO(text.to_csv()))
        assert list(back.columns) == list(text.table.columns) and len(back) == len(text.table)
        json.dumps(text.to_dict(), allow_nan=False)
    assert describe_panel("heatmap", rising).name == "Latest condensation measurement"
    assert set(PANELS) == {"losses", "means", "heatmap"}
    with pytest.raises(ValueError, match="Unknown view"):
        describe_view("pie", rising)
    with pytest.raises(ValueError, match="nothing to describe"):
        describe_panel("losses", pd.DataFrame())


def test_hostile_names_and_tokens_stay_plain_text(rising):
    result = trending_result(0.08, 0.05, name=HOSTILE)
    result.token_strings = np.array([HOSTILE] * len(result.token_strings))
    for view in VIEWS:
        text = describe_view(view, {HOSTILE: result}, title=HOSTILE)
        assert text.name == HOSTILE
        assert json.loads(json.dumps(text.to_dict()))["name"] == HOSTILE
    assert HOSTILE in describe_heatmap(result).summary
