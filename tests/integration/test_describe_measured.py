"""Text alternatives of a real (tiny random) model's measurement and of a live training view, against the session's
own numbers: the result's trend and intervals, its stored histograms and per-token means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nb_condense as nbc
from conftest import tiny_model
from nb_condense.charts.describe import VIEWS, describe_panel, describe_view
from nb_condense.widgets.monitor import TrainingMonitor


@pytest.fixture(scope="module")
def result(tokenizer, mixed_texts):
    session = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=64,
                                      show_progress=False, name="tiny <b>gpt2</b>")
    session.measure()
    return session.measured_result()


def test_views_use_the_sessions_own_trend_and_intervals(result):
    trend = result.trend(ci=0.95)
    text = describe_view("trend", {"tiny": result})
    np.testing.assert_allclose(text.table["Mean cosine"], trend.layer_means, rtol=1e-12)
    np.testing.assert_allclose(text.table[["Interval low (95 %)", "Interval high (95 %)"]],
                               trend.layer_mean_intervals, rtol=1e-12)
    low, high = trend.intervals["spearman_rho"]
    assert f"rho {trend.spearman_rho:+.2f} (95 % interval {low:.2f} to {high:.2f})" in text.summary
    assert ("cannot tell" in text.summary) == (low <= 0 <= high)
    heat = describe_view("heatmap", {"tiny": result})
    pd.testing.assert_frame_equal(heat.table[text.table.columns[1:]], text.table[text.table.columns[1:]])
    counts = result.histograms.sum(axis=0)
    assert heat.table["Densest bin from"].tolist() == (-1 + counts.argmax(1) * 2 / result.bins).tolist()


def test_tokens_view_names_the_stored_extremes(result):
    text = describe_view("tokens", {"tiny": result}, samples=[1], layers=[2])
    start = int(result.token_counts[0])
    values = result.token_means[start:start + int(result.token_counts[1]), list(result.layers).index(2)]
    assert len(text.table) == len(values)
    assert f"Highest {values.max():.2f}" in text.summary and f"lowest {values.min():.2f}" in text.summary


def test_every_view_describes_a_real_result(result):
    for view in VIEWS:
        text = describe_view(view, {"tiny": result})
        assert text.name and text.summary and len(text.table)


def test_live_panels_describe_what_the_monitor_drew(result):
    monitor = TrainingMonitor(max_steps=20)
    for step, loss in ((5, 3.1), (10, 2.8), (15, 2.9)):
        monitor.log(step, {"loss": loss, "dispersion_loss": -loss / 30})
    monitor.measured(5, result)
    monitor.measured(15, result)
    losses = describe_panel("losses", monitor.losses)
    assert losses.table["Total loss"].tolist() == [3.1, 2.8, 2.9]
    assert "falls from 3.10 at step 5 to 2.90 at step 15; highest 3.10 at step 5, lowest 2.80 at step 10" \
        in losses.summary
    means = describe_panel("means", monitor.history)
    last = float(result.layer_means[-1])
    assert f"stays from {last:.2f} at step 5 to {last:.2f} at step 15" in means.summary
    heat = describe_panel("heatmap", monitor.latest)
    assert heat.name == "Latest condensation measurement"
    np.testing.assert_allclose(heat.table["Mean cosine"], result.layer_means, rtol=1e-12)
