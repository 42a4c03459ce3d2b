"""CondensationExplorer in Python: traits, the specs it sends (from `charts`), errors, export, the bundle."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest
import traitlets

import nb_condense as nbc
from conftest import Failing, invoke, tiny_model
from nb_condense import charts
from nb_condense.charts.base import live_title
from nb_condense.widgets import _protocol

ROOT = Path(__file__).resolve().parents[2]
CDN = re.compile(r"esm\.sh|jsdelivr|unpkg\.com|cdnjs|skypack|googleapis")


@pytest.fixture()
def session(tokenizer, mixed_texts):
    return nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=64, bins=32,
                                   name="tiny-gpt2", show_progress=False)


def titled(chart, heading, kind):
    """``chart`` as the explorer draws it: titled ``heading`` (a live title) over the caption of ``kind``."""
    from nb_condense.charts.base import live_title
    from nb_condense.charts.specs import caption

    return live_title(chart, heading, caption(kind)).to_dict()


def shape(session):
    return len(session.measured_result().layers), session.measured_result().n_texts


@pytest.fixture()
def explorer(session):
    return nbc.CondensationExplorer(session, background=False)


def test_first_chart_is_the_sessions_heatmap(explorer, session):
    assert explorer.status == "idle" and explorer.error == "" and explorer._revision == 1
    n_layers, n_texts = shape(session)
    assert explorer._spec == titled(charts.heatmap(session, selected=[], title=""),
                                    f"tiny-gpt2 · all {n_layers} layers · all {n_texts} samples", "pooled")
    assert explorer._models == ["tiny-gpt2"] and explorer.model == "tiny-gpt2"
    assert [v["value"] for v in explorer._views] == ["heatmap", "distributions", "trend", "tokens"]
    assert [o["layer"] for o in explorer._layer_options] == session.measured_result().layers.tolist()
    assert [o["n_tokens"] for o in explorer._sample_options] == session.measured_result().token_counts.tolist()
    assert explorer._sample_options[1]["words"] == "A short sentence about cosine similarity."


def rows(values: str) -> pd.DataFrame:
    return pd.DataFrame(json.loads(values))


def test_choices_yield_the_charts_specs_and_data(explorer, session):
    first = explorer._spec
    explorer.samples = [3, 0, 3]
    assert explorer.samples == [0, 3]
    # a sample change swaps the heatmap's data only: same spec, new values for its named dataset
    assert explorer._spec == first and explorer._revision == 1
    assert explorer._data["revision"] == 1 and explorer._data["name"] == first["data"]["name"]
    expected = charts.heatmap.figure(session, [0, 3]).data
    pd.testing.assert_frame_equal(rows(explorer._data["values"]), expected.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(explorer.data(), expected)
    n_layers, _ = shape(session)
    assert explorer._params == {"nbc_title": f"tiny-gpt2 · all {n_layers} layers · samples #0, #3"}
    assert explorer.chart().to_dict() == titled(charts.heatmap(session, [0, 3], selected=[], title=""),
                                                f"tiny-gpt2 · all {n_layers} layers · samples #0, #3", "pooled")
    explorer.view = "distributions"
    assert explorer._spec == titled(charts.distributions(session, None, [0, 3]),
                                    f"tiny-gpt2 · all {n_layers} layers · samples #0, #3", "distributions")
    assert explorer._revision == 2
    explorer.layers = [-1, 1]
    assert explorer.layers == [1, 2]  # negative index stored as the hidden-state index, sorted
    assert explorer._revision == 2  # layers of the distributions: data only, and the title that names them
    assert explorer._params == {"nbc_title": "tiny-gpt2 · layers 1, 2 · samples #0, #3"}
    frame = session.distribution([1, 2], [0, 3])[["layer", "layer_fraction", "cosine", "density"]]
    pd.testing.assert_frame_equal(explorer.data().reset_index(drop=True), frame, check_dtype=False)
    pd.testing.assert_frame_equal(rows(explorer._data["values"]), frame, check_dtype=False)
    explorer.view = "heatmap"  # a new spec; the page highlights the chosen layers itself
    assert explorer._spec == titled(charts.heatmap(session, [0, 3], selected=[], title=""),
                                    f"tiny-gpt2 · all {n_layers} layers · samples #0, #3", "pooled")
    assert explorer.chart().to_dict()["params"][0]["value"] == [{"layer": 1}, {"layer": 2}]
    explorer.view = "trend"
    caption = f"shaded: 95 % bootstrap interval over the {session.measured_result().n_texts} texts"
    assert explorer._spec == live_title(charts.layer_trend({"tiny-gpt2": session}, ci=0.95),
                                        "Mean cosine per layer · 1 model · all samples", caption).to_dict()
    explorer.view = "tokens"  # first chosen sample and layer; the title param is the new view's, not the last swap's
    assert explorer._params == {"nbc_title": "tiny-gpt2 · sample #0 · layer 1"}
    assert explorer._spec == titled(charts.token_strip(session, 0, 1, title=""), "tiny-gpt2 · sample #0 · layer 1",
                                    "tokens")
    explorer.samples = [4]  # the tokens view depends on the sample: a new spec
    assert explorer._spec == titled(charts.token_strip(session, 4, 1, title=""), "tiny-gpt2 · sample #4 · layer 1",
                                    "tokens")


def test_choices_are_answered_and_only_what_changed_is_sent(explorer):
    revision, seq = explorer._revision, explorer._data.get("seq", 0)
    explorer.set_state({"layers": [], "samples": []})  # the front end re-sent the same choices
    assert invoke(explorer, "answer") == ({}, []) and explorer._revision == revision
    explorer.set_state({"layers": [0]})  # the heatmap's highlight is the page's business
    assert invoke(explorer, "answer") == ({}, [])
    assert explorer._revision == revision and explorer._data.get("seq", 0) == seq
    explorer.samples = [1]
    assert explorer._revision == revision and explorer._data["seq"] == seq + 1
    explorer.view = "distributions"
    assert explorer._revision == revision + 1


def drawn_rows(explorer) -> pd.DataFrame:
    """The rows the page draws now: the newest ``_data`` for the drawn spec, else the spec's own dataset."""
    if explorer._data and explorer._data["revision"] == explorer._revision:
        return rows(explorer._data["values"])
    return pd.DataFrame(explorer._spec["datasets"][explorer._spec["data"]["name"]])


def test_data_updates_equal_a_numpy_oracle(explorer, session):
    """What the explorer sends for each choice equals the pooled density computed here from the raw counts:
    sum ``histograms[samples]`` over texts, divide each layer by its total times the bin width."""
    import random

    result = session.measured_result()
    width = 2 / result.bins
    layer_list = result.layers.tolist()
    rng = random.Random(0)
    for view in ("heatmap", "distributions"):
        explorer.view = view
        for _ in range(6):
            explorer.layers = sorted(rng.sample(range(3), rng.randint(0, 3)))
            explorer.samples = sorted(rng.sample(range(5), rng.randint(0, 5)))
            texts = explorer.samples or list(range(result.n_texts))
            counts = np.asarray(result.histograms, dtype=np.float64)[texts].sum(axis=0)  # [layer, bin]
            density = counts / (counts.sum(axis=1, keepdims=True) * width)
            sent = drawn_rows(explorer)
            if view == "heatmap":  # every layer, non-empty cells only
                k, b = np.nonzero(density > 0)
                expected = pd.DataFrame({"layer": result.layers[k], "cosine_low": -1 + b * width,
                                         "density": density[k, b]})
                keys = ["layer", "cosine_low"]
            else:  # the chosen layers (all by default), every bin
                positions = [layer_list.index(layer) for layer in explorer.layers] or list(range(len(layer_list)))
                k = np.repeat(positions, result.bins)
                b = np.tile(np.arange(result.bins), len(positions))
                expected = pd.DataFrame({"layer": result.layers[k], "cosine": -1 + (b + 0.5) * width,
                                         "density": density[k, b]})
                keys = ["layer", "cosine"]
            got = sent[list(expected.columns)].sort_values(keys).reset_index(drop=True)
            expected = expected.sort_values(keys).reset_index(drop=True)
            assert len(got) == len(expected), (view, explorer.layers, explorer.samples)
            np.testing.assert_array_equal(got["layer"].to_numpy(), expected["layer"].to_numpy())
            np.testing.assert_allclose(got[keys[1]].to_numpy(float), expected[keys[1]].to_numpy(float), atol=1e-12)
            np.testing.assert_allclose(got["density"].to_numpy(float), expected["density"].to_numpy(float),
                                       rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("layers", [99], r"Layer 99 was not measured; measured layers: \[0, 1, 2\]"),
        ("samples", [5], r"Unknown sample\(s\) \[5\]: samples are text indices 0..4"),
        ("view", "scatter", "view"),
        ("model", "gpt2-xl", r"Unknown model 'gpt2-xl': the sessions are \['tiny-gpt2'\]"),
        ("debounce_wait", -1, "debounce_wait"),
    ],
)
def test_bad_trait_values_are_refused(explorer, name, value, message):
    before = getattr(explorer, name)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(explorer, name, value)
    assert getattr(explorer, name) == before


def test_unknown_options_get_a_spelling_hint(session):
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'layer'; did you mean 'layers'\?"):
        nbc.CondensationExplorer(session, layer=[1])
    with pytest.raises(TypeError, match="valid options: model, layers, samples, view"):
        nbc.CondensationExplorer(session, colour="red")


def test_bad_sessions_are_refused(session, tokenizer):
    empty = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=[], name="empty", show_progress=False)
    with pytest.raises(ValueError, match=r"Session 'empty' has no texts.*session.add_texts"):
        nbc.CondensationExplorer(empty)
    with pytest.raises(TypeError, match="takes CondensationSession or CondensationResult objects, got str"):
        nbc.CondensationExplorer("gpt2")
    with pytest.raises(ValueError, match="Two sessions are named 'tiny-gpt2'"):
        nbc.CondensationExplorer([session, session])
    with pytest.raises(ValueError, match="at least one session"):
        nbc.CondensationExplorer([])
    with pytest.raises(ValueError, match="Unknown model 'nope'"):
        nbc.CondensationExplorer(session, model="nope")


def test_errors_are_shown_logged_and_the_widget_stays_usable(session, caplog):
    result = nbc.measure(session.model, session.tokenizer, texts=session.texts, max_length=64, bins=32,
                         keep_texts=False, show_progress=False)  # keeps no tokens
    explorer = nbc.CondensationExplorer({"saved": result}, background=False)
    revision = explorer._revision
    with caplog.at_level(logging.ERROR, logger="nb_condense.widgets.explorer"):
        explorer.view = "tokens"  # needs per-token data, which this result lacks
    assert explorer.status == "error"
    assert explorer.error.startswith("TokensUnavailableError: This result has no per-token data")
    assert "no per-token data" in caplog.text and caplog.records[0].exc_info is not None
    assert explorer._revision == revision  # the last good chart stays
    explorer.view = "distributions"
    assert explorer.status == "idle" and explorer.error == "" and explorer._revision == revision + 1


def test_background_measurement_reports_progress(session):
    assert not session.measured
    seen = []
    explorer = nbc.CondensationExplorer(session, layers=[-1], view="distributions")
    explorer.observe(lambda change: seen.append(change["new"]), names="_progress")
    assert explorer.status in ("measuring", "idle")
    explorer.wait(60)
    assert explorer.status == "idle" and session.measured and explorer._progress == 1.0
    assert seen and seen == sorted(seen)
    assert explorer.layers == [2]  # validated (and normalised) once the measurement arrived
    n_layers, n_texts = shape(session)
    assert explorer._spec == titled(charts.distributions(session, [2], None),
                                    f"tiny-gpt2 · layer 2 · all {n_texts} samples", "distributions")


def test_bad_layers_for_an_unmeasured_session_show_an_error(session):
    explorer = nbc.CondensationExplorer(session, layers=[42]).wait(60)
    assert explorer.status == "error" and "Layer 42 was not measured" in explorer.error
    assert explorer.layers == [] and explorer._spec  # the heatmap of all layers is still drawn


def test_a_failing_measurement_is_shown_and_other_models_still_work(session, tokenizer, caplog):
    broken = nbc.CondensationSession(Failing(), tokenizer, texts=["one two three", "four five six"],
                                     name="broken", show_progress=False)
    with caplog.at_level(logging.ERROR, logger="nb_condense.widgets.explorer"):
        explorer = nbc.CondensationExplorer([broken, session], view="distributions").wait(60)
    assert explorer.status == "error"
    assert explorer.error == "Measuring 'broken' failed: RuntimeError: the GPU caught fire"
    assert "the GPU caught fire" in caplog.text
    explorer.model = "tiny-gpt2"
    explorer.wait(60)
    assert explorer.status == "idle" and explorer.error == ""
    n_layers, n_texts = shape(session)
    assert explorer._spec == titled(charts.distributions(session),
                                    f"tiny-gpt2 · all {n_layers} layers · all {n_texts} samples", "distributions")
    explorer.model = "broken"  # not re-run on every click: the stored error is shown
    assert explorer.status == "error" and "refresh() retries" in explorer.error
    explorer.view = "trend"  # needs every model measured
    assert explorer.status == "error"
    explorer.refresh()
    explorer.wait(60)
    assert "the GPU caught fire" in explorer.error


def test_switching_models_keeps_the_layers_both_have(session, tokenizer, mixed_texts):
    deep = nbc.CondensationSession(tiny_model("llama"), tokenizer, texts=mixed_texts[:2], max_length=64, bins=32,
                                   layers=[0, 1], name="tiny-llama", show_progress=False)
    explorer = nbc.CondensationExplorer({"a": session, "b": deep}, layers=[1, 2], samples=[4], background=False)
    assert explorer.model_names == ["a", "b"]
    explorer.model = "b"  # only 2 texts and layers 0, 1
    assert explorer.layers == [1] and explorer.samples == []
    assert explorer._spec == titled(charts.heatmap(deep, None, selected=[], title=""),
                                    "b · all 2 layers · all 2 samples", "pooled")
    assert len(explorer._sample_options) == 2


def test_refresh_after_adding_texts(explorer, session):
    session.add_texts(["Another text about hidden states and their cosine similarity."])
    explorer.refresh()
    assert len(explorer._sample_options) == 6
    n_layers, _ = shape(session)
    assert explorer._spec == titled(charts.heatmap(session, selected=[], title=""),
                                    f"tiny-gpt2 · all {n_layers} layers · all 6 samples", "pooled")


def test_csv_export_command(explorer, session):
    explorer.layers = [1]
    explorer.view = "distributions"
    reply, buffers = invoke(explorer, "csv")
    assert set(reply) == {"csv"} and buffers == []  # the page names the file
    frame = pd.read_csv(io.StringIO(reply["csv"]))
    expected = session.distribution([1])[["layer", "layer_fraction", "cosine", "density"]]
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


def test_a_failing_command_answers_its_error(explorer, caplog):
    explorer._frame = None  # as before the first chart
    with caplog.at_level(logging.ERROR, logger="nb_condense.widgets._protocol"):
        reply, buffers = invoke(explorer, "csv")
    assert reply == {"error": "ValueError: No chart is drawn yet."} and buffers == []
    assert "_cmd_csv" in caplog.text and caplog.records[-1].exc_info is not None


def test_to_html_is_offline(explorer, tmp_path):
    path = explorer.to_html(tmp_path / "view.html")
    html = path.read_text()
    assert "vega" in html and not CDN.search(html) and len(html) > 100_000
    with pytest.raises(ValueError, match="writes an .html file"):
        explorer.to_html(tmp_path / "view.png")


# ----- the bundle ----------------------------------------------------------------------------------
def bundle_of_the_page() -> bytes:
    from nb_condense.widgets._bundle import bundle

    return bundle()[1]


def test_bundle_is_committed_offline_and_matches_altairs_vega_lite(explorer):
    bundle = (ROOT / "nb_condense" / "static" / "widget.js").read_text()
    assert len(bundle) > 500_000 and not CDN.search(bundle)
    assert bundle_of_the_page() == bundle.encode()  # the committed file is what the front end gets
    assert explorer._esm == (ROOT / "nb_condense" / "static" / "loader.js").read_text()
    package = json.loads((ROOT / "js" / "package.json").read_text())
    npm_major = package["devDependencies"]["vega-lite"].split(".")[0]
    assert alt.SCHEMA_VERSION.lstrip("v").split(".")[0] == npm_major


def scanned_for_cdn(root: Path) -> list[Path]:
    """What the CDN scan reads under ``root``: every module of the package at any depth, the static files it
    ships (the bundle, loader, css, spec templates) and the JS sources the bundle is built from."""
    package = [p for p in (root / "nb_condense").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    sources = [p for p in (root / "js" / "src").rglob("*") if p.is_file()]
    return sorted(package + sources)


def cdn_addresses(root: Path) -> dict[str, list[str]]:
    """``{file relative to root: CDN names in it}`` for every file of :func:`scanned_for_cdn` that names one."""
    found = {p.relative_to(root).as_posix(): CDN.findall(p.read_text(errors="replace")) for p in scanned_for_cdn(root)}
    return {name: hits for name, hits in found.items() if hits}


def test_no_module_static_file_or_js_source_names_a_cdn():
    assert cdn_addresses(ROOT) == {}
    scanned = set(scanned_for_cdn(ROOT))
    modules = set((ROOT / "nb_condense").rglob("*.py"))
    assert modules <= scanned and len(modules) > len(list((ROOT / "nb_condense").glob("*.py")))  # not just the root
    assert {ROOT / "nb_condense" / "static" / "widget.js", ROOT / "js" / "src" / "widget.js"} <= scanned


def test_the_cdn_scan_finds_an_address_planted_in_a_nested_module_or_a_js_source(tmp_path):
    shutil.copytree(ROOT / "nb_condense", tmp_path / "nb_condense", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "js" / "src", tmp_path / "js" / "src")
    assert cdn_addresses(tmp_path) == {}
    (tmp_path / "nb_condense" / "widgets" / "planted.py").write_text('VEGA = "https://cdn.jsdelivr.net/npm/vega@5"\n')
    (tmp_path / "js" / "src" / "planted.js").write_text('import "https://esm.sh/vega-embed@6";\n')
    with open(tmp_path / "nb_condense" / "static" / "loader.js", "a") as handle:
        handle.write("// https://unpkg.com/vega-lite@5\n")
    assert cdn_addresses(tmp_path) == {"js/src/planted.js": ["esm.sh"],
                                       "nb_condense/static/loader.js": ["unpkg.com"],
                                       "nb_condense/widgets/planted.py": ["jsdelivr"]}


@pytest.mark.slow
def test_wheel_contains_the_bundle(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"nb_condense/static/widget.js", "nb_condense/static/widget.css", "nb_condense/static/loader.js",
            "nb_condense/charts/spec_templates.json", "nb_condense/charts/params.json",
            "nb_condense/widgets/protocol.json"} <= set(names)


def test_a_background_measurement_can_be_cancelled(tokenizer):
    import threading

    gate = threading.Event()
    model = tiny_model("gpt2")
    model.register_forward_pre_hook(lambda *_: None if gate.wait(10) else None)  # each forward waits for the test
    texts = [f"text number {i} with a few words" for i in range(6)]
    session = nbc.CondensationSession(model, tokenizer, texts=texts, max_length=32, batch_size=1, name="slow",
                                      show_progress=False)
    explorer = nbc.CondensationExplorer(session)
    assert explorer.status == "measuring"
    explorer.cancel()
    gate.set()
    explorer.wait(30)
    assert explorer.status == "error" and "cancelled" in explorer.error
    assert not session.measured  # nothing half-measured is kept
    explorer.refresh()  # retries
    explorer.wait(30)
    assert explorer.status == "idle" and session.measured


def test_each_explorer_carries_a_small_loader_not_the_bundle(explorer):
    from nb_condense.widgets._bundle import bundle

    digest, code = bundle()
    # each widget carries ~8 KB (the loader, the command code and protocol.json); ~870 KB travels once per page
    assert len(explorer._esm) < 10_000 and len(code) > 500_000
    assert explorer._bundle_hash == digest and explorer._bundle == b""  # not displayed: carries nothing
    assert invoke(explorer, "bundle") == ({"hash": digest}, [code])


def test_sync_re_sends_the_whole_state_of_the_protocols_traits(explorer):
    sent = []
    explorer.send_state = lambda names=None: sent.append(list(names))
    assert invoke(explorer, "sync") == ({}, [])
    assert sent == [list(_protocol.EXPLORER_CHOICES + _protocol.EXPLORER_STATE)]
