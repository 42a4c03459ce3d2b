"""The bundle in headless Chromium against a fake anywidget model: controls, clicks, pushed specs, export, the
commands it invokes; and the loader: the bundle travels once per page."""

from __future__ import annotations

import pytest

from nb_condense import charts

from .conftest import ARTIFACTS
from .harness import command, open_harness, open_loader_harness, state_for, vega_items
from .timeouts import RENDER

pytestmark = pytest.mark.browser

TEXTS = [
    "Embeddings condense into a narrow cone as depth grows in small models.",
    "Larger models resist condensation, keeping token vectors spread apart.",
    "A dispersion loss on hidden states counteracts the collapse during training.",
]


@pytest.fixture(scope="module")
def session():
    from .conftest_models import tiny_session

    return tiny_session(TEXTS)


def wait_rendered(page, revision):
    page.wait_for_selector(f".nbc-chart[data-revision='{revision}'] .nbc-vega > :is(svg, canvas)", timeout=RENDER)


def rects(page, where=".nbc-chart"):
    """The heatmap's cells, read from the drawn Vega view (it draws on a canvas)."""
    return vega_items(page, where, "rect")


def test_controls_render_from_the_model(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    assert page.locator(".nbc-chips .nbc-chip").count() == len(session.measured_result().layers)
    assert page.locator(".nbc-sample-list li").count() == len(TEXTS)
    first = page.locator(".nbc-sample-list li").first.inner_text()
    assert "Embeddings condense into a narrow" in first and f"{session.measured_result().token_counts[0]} tok" in first
    assert page.locator("button.nbc-view").all_inner_texts() == ["Heatmap", "Distributions", "Trend", "Tokens"]
    assert page.locator("button.nbc-view[aria-selected='true']").inner_text() == "Heatmap"
    assert page.locator(".nbc-model-label").is_hidden()  # one model: no model picker
    assert page.locator(".nbc-error").is_hidden() and page.locator(".nbc-progress").is_hidden()
    # the heatmap is drawn: one rect per non-empty (layer, bin) cell
    result = session.measured_result()
    n_cells = len(charts.heatmap_frame(result.density(), result.layer_fractions, result.layers))
    assert page.get_attribute(".nbc-chart", "data-renderer") == "canvas"  # many marks: a canvas
    assert len(rects(page)) == n_cells
    version_warnings = [text for kind, text in guarded.console if "version" in text.lower()]
    assert version_warnings == [] and guarded.page_errors == [] and guarded.blocked == []


def test_a_burst_of_clicks_sends_one_request(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session, debounce_wait=400))
    wait_rendered(page, 1)
    for layer in (1, 2, 2, 0):  # toggles: 1 on, 2 on, 2 off, 0 on
        page.click(f".nbc-chips .nbc-chip[data-layer='{layer}']")
    page.wait_for_function("window.model.saves() === 1")
    page.wait_for_timeout(500)  # nothing more is sent after the burst
    assert page.evaluate("window.model.saves()") == 1
    assert page.evaluate("window.model.sets('layers')") == [[0, 1]]
    assert page.evaluate(f"window.model.invoked('{command('answer')}')") == [{"msg": {}}]
    assert page.locator(".nbc-chips .nbc-chip[aria-pressed='true']").all_inner_texts() == ["0", "1"]
    # keyboard: focus the 'Distributions' button and press Enter
    page.focus("button.nbc-view[data-view='distributions']")
    page.keyboard.press("Enter")
    page.wait_for_function("window.model.saves() === 2")
    assert page.evaluate("window.model.get('view')") == "distributions"


def test_clicking_a_heatmap_column_selects_that_layer(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    last = int(session.measured_result().layers[-1])
    cell = max((c for c in rects(page) if c["datum"]["layer"] == last), key=lambda c: c["datum"]["density"])
    page.mouse.click(cell["x"] + cell["width"] / 2, cell["y"] + cell["height"] / 2)
    page.wait_for_function("window.model.saves() === 1")
    assert page.evaluate("window.model.get('layers')") == [last]
    assert page.locator(f".nbc-chip[data-layer='{last}']").get_attribute("aria-pressed") == "true"


def test_pushed_spec_redraws_and_stale_answers_are_dropped(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    page.click("button.nbc-view[data-view='distributions']")
    page.wait_for_function("window.model.saves() === 1")
    stale = charts.heatmap(session, selected=[1]).to_dict()
    page.evaluate("(spec) => window.model.push({_spec: spec, _revision: 2})", stale)
    page.wait_for_timeout(200)
    assert page.get_attribute(".nbc-chart", "data-revision") == "1"  # the answer is still awaited: not drawn
    fresh = charts.distributions(session, [1, 2]).to_dict()
    page.evaluate("(spec) => window.model.push({_spec: spec, _revision: 3})", fresh)
    page.evaluate(f"window.model.answer('{command('answer')}', {{}})")
    wait_rendered(page, 3)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "2"  # revision 2 was never drawn
    assert {item["datum"]["layer"] for item in vega_items(page, ".nbc-chart", "line")} == {1, 2}  # one curve each
    assert rects(page) == []


def test_progress_and_errors_are_shown(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session, _spec={}, _revision=0, status="measuring", _progress=0.25))
    assert page.locator(".nbc-progress").is_visible()
    assert "25 %" in page.locator(".nbc-status").inner_text()
    page.evaluate("window.model.push({status: 'error', error: 'RuntimeError: measuring failed'})")
    assert page.locator(".nbc-error[role='alert']").inner_text().startswith("RuntimeError: measuring failed")
    assert page.locator(".nbc-progress").is_hidden()
    page.click(".nbc-dismiss")
    assert page.evaluate("window.model.sets('error')") == [""]
    assert page.locator(".nbc-error").is_hidden()
    # still usable: a control change still sends a request
    page.click("button.nbc-view[data-view='trend']")
    page.wait_for_function("window.model.get('view') === 'trend'")


def test_a_rendered_view_asks_python_for_the_whole_state_with_a_timeout(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    assert page.evaluate(f"window.model.invoked('{command('sync')}')") == [{"msg": {}}]
    assert page.evaluate("window.model.calls.filter((c) => c[0] === 'send')") == []  # no hand-made messages


def test_a_choice_made_before_python_answered_sync_is_sent_after_the_state_it_re_sends(guarded, session):
    """marimo echoes no update back: a choice sent before the ``sync`` re-send would be overwritten in the view by
    that older state while Python keeps the choice. So the view holds its choices until ``sync`` is answered."""
    page = guarded.page
    open_harness(page, state_for(session, debounce_wait=30), synced=False)
    wait_rendered(page, 1)
    page.click(".nbc-chips .nbc-chip[data-layer='2']")
    page.wait_for_timeout(300)  # ten debounce waits: nothing is sent while sync is open
    assert page.evaluate("window.model.sets('layers')") == [] and page.evaluate("window.model.saves()") == 0
    assert page.locator(".nbc-chips .nbc-chip[aria-pressed='true']").all_inner_texts() == ["2"]  # shown at once
    page.evaluate("window.model.push({layers: []})")  # Python re-sends its state (the older choice) ...
    assert page.locator(".nbc-chips .nbc-chip[aria-pressed='true']").all_inner_texts() == ["2"]
    page.evaluate(f"window.model.answer('{command('sync')}', {{}})")  # ... then answers sync
    page.wait_for_function("window.model.saves() === 1")
    assert page.evaluate("window.model.sets('layers')") == [[2]]
    assert page.evaluate(f"window.model.invoked('{command('answer')}')") == [{"msg": {}}]
    assert page.locator(".nbc-chips .nbc-chip[aria-pressed='true']").all_inner_texts() == ["2"]


def test_export_png_svg_and_csv_with_one_file_name(guarded, session, tmp_path):
    page = guarded.page
    odd = "n_inner=64 (init) [seed 0]"  # spaces, brackets, '=': every download gets the same safe stem
    open_harness(page, state_for(session, model=odd, _models=[odd]))
    wait_rendered(page, 1)
    names = []
    for kind, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
        with page.expect_download() as info:
            page.click(f"button[data-export='{kind}']")
        download = info.value
        names.append(download.suggested_filename)
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        assert magic in path.read_bytes()[:200]
    csv = command("csv")
    page.click("button[data-export='csv']")
    page.wait_for_function(f"window.model.invoked('{csv}').length === 1")
    assert page.evaluate(f"window.model.invoked('{csv}')") == [{"msg": {}}]
    with page.expect_download() as info:
        page.evaluate(f"window.model.answer('{csv}', {{csv: 'a,b\\n1,2\\n'}})")
    path = tmp_path / "x.csv"
    info.value.save_as(path)
    names.append(info.value.suggested_filename)
    assert path.read_text() == "a,b\n1,2\n"
    stem = "n_inner_64_init_seed_0_heatmap_samples-all_layers-all"  # the model, the view, its samples and layers
    assert names == [f"{stem}.svg", f"{stem}.png", f"{stem}.csv"]
    # a Python-side failure of the export is shown
    page.click("button[data-export='csv']")
    page.wait_for_function(f"window.model.invoked('{csv}').length === 2")
    page.evaluate(f"window.model.answer('{csv}', {{error: 'ValueError: No chart is drawn yet.'}})")
    assert "No chart is drawn yet" in page.locator(".nbc-error").inner_text()


def test_unmeasured_samples_show_no_token_count(guarded, session):
    page = guarded.page
    options = [{"sample": i, "words": "some words", "n_tokens": None} for i in range(3)]
    open_harness(page, state_for(session, _sample_options=options, status="measuring", _spec={}, _revision=0))
    text = page.locator(".nbc-sample-list li").first.inner_text()
    assert "null" not in text and "tok" not in text


def test_follows_the_notebook_theme(guarded, session):
    """JupyterLab's dark theme sets these CSS variables; controls and chart text take them up."""
    page = guarded.page
    dark = ":root { --jp-layout-color0: #111111; --jp-ui-font-color1: #eeeeee; --jp-ui-font-color2: #bbbbbb; }"
    open_harness(page, state_for(session), style=dark)
    wait_rendered(page, 1)
    root = page.evaluate("""() => {
        const root = getComputedStyle(document.querySelector('.nbc-explorer'));
        return {fg: root.color, bg: root.backgroundColor};
    }""")
    label = vega_items(page, ".nbc-chart", "text", "axis-label")[0]["fill"]
    title = vega_items(page, ".nbc-chart", "text", "title-text")[0]["fill"]
    assert root == {"fg": "rgb(238, 238, 238)", "bg": "rgb(17, 17, 17)"}
    assert (label, title) == ("rgb(238, 238, 238)", "rgb(238, 238, 238)")


def test_the_tokens_legend_title_is_not_cut(guarded, session):
    page = guarded.page
    spec = charts.token_strip(session, 0, -1).to_dict()
    open_harness(page, state_for(session, view="tokens", _spec=spec))
    wait_rendered(page, 1)
    title = vega_items(page, ".nbc-chart", "text", "legend-title")[0]
    assert title["text"] == "Mean cosine to the other tokens"
    left, _, right, _ = title["bounds"]
    assert right - left < 300  # under the title's limit: Vega does not cut it (an ellipsis)
    chart = page.locator(".nbc-chart").bounding_box()
    assert right <= chart["x"] + chart["width"]  # and it is inside the chart's box
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / "tokens_view.png"))


def opacity_by_layer(page):
    opacities = {}
    for cell in rects(page):
        opacities.setdefault(str(cell["datum"]["layer"]), set()).add(cell["opacity"])
    return {layer: sorted(values) for layer, values in opacities.items()}


def test_a_layer_click_highlights_the_column_without_a_re_embed(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"
    before = opacity_by_layer(page)
    assert all(values == [1] for values in before.values())  # nothing selected: every column opaque
    page.click(".nbc-chip[data-layer='1']")
    page.wait_for_function("document.querySelector('.nbc-chart').dataset.updates === '2'")
    after = opacity_by_layer(page)
    assert after["1"] == [1] and after["0"] == [0.35] and after["2"] == [0.35]
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"  # the fast path: no new embed
    # Python acknowledges with the normalised layers: still no embed
    page.wait_for_function("window.model.sets('layers').length === 1")
    page.evaluate(f"window.model.push({{layers: [1]}}); window.model.answer('{command('answer')}', {{}})")
    page.wait_for_timeout(100)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"


def test_new_rows_replace_the_drawn_data_without_a_re_embed(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    figure = charts.heatmap.figure(session, [1])
    name = state_for(session)["_spec"]["data"]["name"]
    values = figure.data.to_json(orient="records")
    page.evaluate("(data) => window.model.push({_data: data})", {"revision": 1, "seq": 1, "name": name,
                                                                   "values": values})
    page.wait_for_function("document.querySelector('.nbc-chart').dataset.updates === '2'")
    assert len(rects(page)) == len(figure.data)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"
    densities = [cell["datum"]["density"] for cell in rects(page)]
    assert sorted(densities) == pytest.approx(sorted(figure.data["density"]), rel=1e-9)


def test_chart_mode_draws_one_chart_with_tooltips_and_redraws(guarded, session):
    """ChartWidget (the offline notebook renderer): the bundle's chart-only mode, no controls."""
    page = guarded.page
    open_harness(page, {"_kind": "chart", "spec": charts.heatmap(session).to_dict()})
    page.wait_for_selector(".nbc-chart-only[data-rendered] canvas", timeout=RENDER)
    assert page.locator(".nbc-explorer").count() == 0 and page.locator(".nbc-chip").count() == 0
    result = session.measured_result()
    n_cells = len(charts.heatmap_frame(result.density(), result.layer_fractions, result.layers))
    cells = rects(page, ".nbc-chart-only")
    assert len(cells) == n_cells
    box = max(cells, key=lambda c: (c["datum"]["layer"], c["datum"]["density"]))
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    tooltip = page.locator("#vg-tooltip-element").inner_text()
    assert "density" in tooltip and f"{int(session.measured_result().layers[-1])}" in tooltip
    page.evaluate("(spec) => window.model.push({spec})", charts.distributions(session, [1, 2]).to_dict())
    page.wait_for_function("document.querySelectorAll('.nbc-chart-only .mark-line.role-mark path').length === 2")
    assert page.get_attribute(".nbc-chart-only", "data-renderer") == "svg"  # few marks: SVG
    page.evaluate("window.model.push({spec: {mark: 'nonsense', data: {values: []}}})")
    page.wait_for_selector(".nbc-chart-only .nbc-error[role='alert']", timeout=RENDER)
    assert "Could not draw the chart" in page.locator(".nbc-chart-only .nbc-error").inner_text()
    assert guarded.page_errors == [] and guarded.blocked == []


def chart_state(session, **extra):
    return {"_kind": "chart", "_bundle_hash": "test-hash", "_bundle": None,
            "spec": charts.heatmap(session, select=False).to_dict(), **extra}


def test_the_loader_draws_from_a_carried_bundle_and_later_widgets_from_the_pages_cache(guarded, session):
    """The first widget displayed carries the bundle (``_bundle``): it draws without asking the kernel, and a later
    widget on the page takes the cached bundle; nobody invokes the ``bundle`` command."""
    page = guarded.page
    open_loader_harness(page)
    state = chart_state(session)
    page.evaluate("(state) => { window.first = window.show('first', {...state, _bundle: window.code}); }", state)
    page.wait_for_selector("#first .nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
    page.evaluate("(state) => { window.second = window.show('second', state); }", state)
    page.wait_for_selector("#second .nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
    bundle = command("bundle")
    assert page.evaluate(f"[window.first.invoked('{bundle}').length, window.second.invoked('{bundle}').length]") \
        == [0, 0]
    assert guarded.page_errors == [] and guarded.blocked == []


def test_without_a_carried_bundle_the_page_asks_the_kernel_once(guarded, session):
    page = guarded.page
    open_loader_harness(page)
    state = chart_state(session, _bundle_hash="other-hash")
    page.evaluate("(state) => { window.first = window.show('first', state); window.second = window.show('second', "
                  "state); }", state)
    bundle = command("bundle")
    page.wait_for_function(f"window.first.invoked('{bundle}').length === 1")
    assert page.evaluate(f"window.second.invoked('{bundle}')") == []  # the second waits for the first's answer
    assert page.evaluate(f"window.first.invoked('{bundle}')") == [{"msg": {}}]
    assert "Loading the chart" in page.locator("#second").inner_text()
    page.evaluate(f"window.first.answer('{bundle}', {{hash: 'other-hash'}}, [window.code])")
    page.wait_for_selector("#first .nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
    page.wait_for_selector("#second .nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
    # a failure is shown, not swallowed: a third page-load with a kernel that answers an error
    page.evaluate("(state) => { window.third = window.show('first', state); }", {**state, "_bundle_hash": "h3"})
    page.wait_for_function(f"window.third.invoked('{bundle}').length === 1")
    page.evaluate(f"window.third.answer('{bundle}', {{error: 'OSError: the bundle file is missing'}})")
    page.wait_for_selector("#first:has-text('could not load: OSError: the bundle file is missing')", timeout=RENDER)
