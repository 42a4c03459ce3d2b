"""Text alternatives wired into the widgets: the explorer's ``description`` and ``table``, ChartWidget's
``description``, the live view's ``descriptions``, the offline page's precomputed texts.

The widgets only set what :mod:`nb_condense.charts.describe` makes; these tests check that the text follows the
choices (against ``describe_view`` for the same choice, computed here from the session's result) and that the
table's numbers are the data's (against numpy on the model's own hidden states).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

import nb_condense as nbc
from conftest import numpy_cosines, pooled_layer_means, tiny_model
from nb_condense.charts.alt_text import spec_text
from nb_condense.charts.describe import describe_panel, describe_view
from nb_condense.widgets.chart import ChartWidget
from nb_condense.widgets.monitor import TrainingMonitor
from nb_condense.widgets.page import choice_key, page_payload

MAX_LENGTH = 64


@pytest.fixture()
def session(tokenizer, mixed_texts):
    return nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=MAX_LENGTH,
                                   bins=32, name="tiny-gpt2", show_progress=False)


@pytest.fixture()
def explorer(session):
    return nbc.CondensationExplorer(session, background=False)


def table_frame(table: dict) -> pd.DataFrame:
    return pd.DataFrame(table["rows"], columns=table["columns"])


CHOICES = [("heatmap", [], []), ("heatmap", [], [0, 2]), ("distributions", [0, 2], [1]),
           ("distributions", [], []), ("trend", [], []), ("tokens", [2], [3]), ("tokens", [], [])]


@pytest.mark.parametrize(("view", "layers", "samples"), CHOICES)
def test_description_and_table_follow_the_choice(explorer, session, view, layers, samples):
    with explorer.hold_trait_notifications():
        explorer.view, explorer.layers, explorer.samples = view, layers, samples
    expected = describe_view(view, {"tiny-gpt2": session.measured_result()}, model="tiny-gpt2", layers=layers,
                             samples=samples)
    assert explorer.description == expected.summary != ""
    assert explorer.table["columns"] == expected.to_dict()["columns"]
    assert explorer.table["rows"] == expected.to_dict()["rows"]
    assert explorer.table["summary"] == explorer.description


def test_description_changes_with_the_samples(explorer):
    before = explorer.description
    explorer.samples = [1]
    assert explorer.description != before and "#1" in explorer.description.split(".")[0]


def test_heatmap_table_means_equal_numpy_on_the_hidden_states(explorer, session, tokenizer):
    explorer.samples = [0, 2]
    chosen = [session.texts[0], session.texts[2]]
    oracle = pooled_layer_means(numpy_cosines(session.model, tokenizer, chosen, MAX_LENGTH))
    table = table_frame(explorer.table)
    np.testing.assert_allclose(table["Mean cosine"].to_numpy(float), oracle, atol=1e-5)
    assert table["Layer"].tolist() == session.measured_result().layers.tolist()
    low, high = table["Interval low (95 %)"].to_numpy(float), table["Interval high (95 %)"].to_numpy(float)
    assert np.all(low <= oracle + 1e-9) and np.all(oracle <= high + 1e-9)


def test_tokens_table_equals_numpy_on_the_hidden_states(explorer, session, tokenizer):
    explorer.view, explorer.samples, explorer.layers = "tokens", [1], [2]
    cosines = numpy_cosines(session.model, tokenizer, [session.texts[1]], MAX_LENGTH)[0][2]
    n = len(cosines)
    oracle = (cosines.sum(1) - np.diag(cosines)) / (n - 1)  # each token's mean cosine to the other tokens
    table = table_frame(explorer.table)
    assert table["Position"].tolist() == list(range(n))
    np.testing.assert_allclose(table["Mean cosine to the other tokens"].to_numpy(float), oracle, atol=1e-4)


def test_chart_widget_describes_its_spec_and_follows_it():
    means = pd.DataFrame({"model": "m", "layer": [0, 1, 2], "mean": [0.10, 0.30, 0.20]})
    chart = alt.Chart(means, title="Layer means").mark_line().encode(x="layer:O", y="mean:Q")
    widget = ChartWidget(chart)
    assert widget.description == spec_text(chart.to_dict()).summary
    assert "0.10 at layer 0" in widget.description and "highest 0.30 at layer 1" in widget.description
    widget.spec = alt.Chart(means.assign(mean=[0.5, 0.4, 0.3])).mark_line().encode(x="layer:O", y="mean:Q").to_dict()
    assert "highest 0.50 at layer 0" in widget.description


def test_monitor_describes_each_panel_from_what_it_draws(session):
    monitor = TrainingMonitor(max_steps=20)
    assert monitor.descriptions == {}
    monitor.log(5, {"loss": 3.0, "dispersion_loss": -0.1})
    monitor.log(10, {"loss": 2.5, "dispersion_loss": -0.2})
    assert set(monitor.descriptions) == {"losses"}
    assert monitor.descriptions["losses"] == describe_panel("losses", monitor.losses).summary
    result = session.measure()
    monitor.measured(10, result)
    assert set(monitor.descriptions) == {"losses", "means", "heatmap"}
    assert monitor.descriptions["means"] == describe_panel("means", monitor.history).summary
    assert monitor.descriptions["heatmap"] == describe_panel("heatmap", result).summary


def test_page_payload_carries_each_views_texts_for_all_or_one_text_and_layer(session):
    session.measure()
    payload = page_payload({"tiny-gpt2": session})
    result = session.measured_result()
    results = {"tiny-gpt2": result}
    texts = payload["models"][0]["texts"]

    def expected(view, layers=(), samples=()):
        return describe_view(view, results, model="tiny-gpt2", layers=list(layers), samples=list(samples)).to_dict()

    for samples in ([], *([s] for s in range(result.n_texts))):
        key = choice_key([], samples)
        heatmap = texts["heatmap"]["texts"][key]
        assert (heatmap["summary"], heatmap["rows"]) == (expected("heatmap", [], samples)["summary"],
                                                         expected("heatmap", [], samples)["rows"])
        assert texts["distributions"]["tables"][key]["rows"] == expected("distributions", [], samples)["rows"]
        for layer in result.layers.tolist():
            assert texts["distributions"]["texts"][choice_key([layer], samples)]["summary"] == \
                   expected("distributions", [layer], samples)["summary"]
            if samples:
                assert texts["tokens"]["texts"][choice_key([layer], samples)]["summary"] == \
                       expected("tokens", [layer], samples)["summary"]
    assert payload["trend_text"]["summary"] == describe_view("trend", results).summary
