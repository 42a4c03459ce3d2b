"""Charts: valid Vega-Lite, expected encodings, offline PNG/SVG/PDF/HTML export, bounded spec size."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
import pytest

import nb_condense as nbc
from conftest import spec_rows, tiny_model
from nb_condense import charts
from nb_condense.charts.base import BACKGROUND_PARAM


@pytest.fixture(scope="module")
def session(tokenizer, mixed_texts):
    session = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=64,
                                      name="tiny", show_progress=False)
    session.measure()
    return session


def data_of(spec):
    return spec_rows(spec) if "data" in spec else None


def test_every_chart_validates_against_the_schema(session):
    made = [
        charts.heatmap(session),
        charts.distributions(session, [0, 2], [0, 1]),
        charts.distributions(session, facet=True),
        charts.heatmap_with_curves(session),
        charts.layer_trend([session]),
        charts.layer_trend({"a": session.measured_result(), "b": session}),
        charts.trend_chart([session]),
        charts.layer_trend({"a": session.measured_result(), "b": session}, ci=0.95),
        charts.trend_chart([session], ci=0.9),
        charts.token_strip(session, 1, 2),
    ]
    for chart in made:
        spec = chart.to_dict(validate=True)
        assert spec["$schema"] == alt.SCHEMA_URL


def test_heatmap_fields_titles_and_selection(session):
    spec = charts.heatmap(session).to_dict()
    assert spec["encoding"]["x"]["title"] == "Layer fraction"
    assert spec["encoding"]["y"]["title"] == "Cosine similarity"
    assert {t["field"] for t in spec["encoding"]["tooltip"]} >= {"layer", "density"}
    assert spec["params"][0]["name"] == charts.LAYER_SELECTION
    assert spec["title"]["text"] == "tiny"
    assert spec["title"]["subtitle"].startswith("pooled: every token pair of the chosen texts (pairs of distinct")


def test_distribution_chart_data_equals_the_session_frame(session):
    spec = charts.distributions(session, [0, 2], [1, 3]).to_dict()
    got = pd.DataFrame(data_of(spec)).sort_values(["layer", "cosine"]).reset_index(drop=True)
    expected = session.distribution([0, 2], [1, 3]).sort_values(["layer", "cosine"]).reset_index(drop=True)
    np.testing.assert_allclose(got["density"], expected["density"])
    lines = spec["layer"][0]
    assert lines["encoding"]["x"]["field"] == "cosine" and lines["encoding"]["y"]["field"] == "density"


def test_trend_charts_carry_the_comparison_values(session):
    spec = charts.trend_chart([session]).to_dict()
    values = {(r["statistic"]): r["value"] for r in spec_rows(spec, spec["layer"][1]["data"]["name"])}
    assert values["Spearman rho"] == pytest.approx(session.measured_result().trend().spearman_rho)
    rows = data_of(charts.layer_trend([session]).to_dict())
    np.testing.assert_allclose([r["mean"] for r in rows], session.measured_result().layer_means)


def test_heatmap_with_curves_links_heatmap_clicks_to_distribution_curves(session):
    spec = charts.heatmap_with_curves(session).to_dict()
    left, right = spec["hconcat"]
    params = spec.get("params", []) + left.get("params", [])  # Altair lifts concat params to the top
    assert [p["name"] for p in params] == [charts.LAYER_SELECTION, BACKGROUND_PARAM]  # the pick, then the theme
    assert right["encoding"]["strokeWidth"]["condition"]["param"] == charts.LAYER_SELECTION


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<svg"), (".pdf", b"%PDF"),
                                                (".html", b"<!DOCTYPE html>")])
def test_export_offline(session, tmp_path, suffix, magic):
    path = nbc.save_chart(charts.heatmap(session), tmp_path / f"h{suffix}")
    data = path.read_bytes()
    assert data.lstrip()[: len(magic)].lower() == magic.lower() and len(data) > 2000
    if suffix == ".html":
        assert b"cdn" not in data.lower() and b"https://" not in data.split(b"<script")[0]


def test_unknown_export_suffix(session, tmp_path):
    with pytest.raises(ValueError, match=r"Cannot save a chart as 'h.gif'"):
        nbc.save_chart(charts.heatmap(session), tmp_path / "h.gif")


def test_offline_renderer():
    previous = alt.renderers.active
    try:
        charts.enable_static_charts("svg")
        assert alt.renderers.active == "svg"
        with pytest.raises(ValueError, match="offline"):
            charts.enable_static_charts("html")
    finally:
        alt.renderers.enable(previous)


@pytest.mark.slow
def test_spec_stays_small_for_100_texts_25_layers(tokenizer):
    texts = nbc.sample_texts("builtin", 100, min_word_count=40, max_word_count=60)
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    config = AutoConfig.for_model("gpt2", n_layer=24, n_embd=32, n_head=2, n_positions=64, vocab_size=30522)
    big = nbc.CondensationSession(random_model(config), tokenizer, texts=texts, max_length=48, show_progress=False)
    assert big.measure().histograms.shape == (100, 25, 128)
    for chart in (charts.heatmap(big), charts.distributions(big), charts.heatmap_with_curves(big)):
        assert len(json.dumps(chart.to_dict())) < 1_000_000


def test_charts_take_data_and_never_measure(tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    calls = []
    model.register_forward_pre_hook(lambda *_: calls.append(1))
    fresh = nbc.CondensationSession(model, tokenizer, texts=mixed_texts[:2], max_length=32, name="fresh",
                                    show_progress=False)
    for draw in (charts.heatmap, charts.distributions, charts.layer_trend, charts.trend_chart, charts.token_strip):
        with pytest.raises(ValueError, match=r"Session 'fresh' is not measured yet: call session.measure\(\) first"):
            draw(fresh)
    assert calls == []
    with pytest.raises(TypeError, match="Charts take a CondensationResult or a measured CondensationSession, got str"):
        charts.heatmap("gpt2")


def test_a_result_and_its_measured_session_give_the_same_chart(session):
    assert charts.heatmap(session.measured_result(), title="tiny").to_dict() == charts.heatmap(session).to_dict()
    from_frame = charts.token_strip(session.tokens(1, 2), 1, 2)
    assert charts.token_strip(session.measured_result(), 1, 2).to_dict() == from_frame.to_dict()


def test_the_0_2_shims_are_gone_and_the_result_says_where_its_heatmap_went(session):
    for name in ("explore", "heatmap_chart", "enable_offline_charts"):
        assert not hasattr(charts, name), name
    assert not hasattr(nbc, "heatmap_chart")
    assert not hasattr(nbc.CondensationSession, "explore")
    with pytest.raises(AttributeError, match=r"removed in 0\.3: use nb_condense\.charts\.heatmap\(result, \.\.\.\)\.$"):
        session.measured_result().heatmap()
