"""The bundle in headless Chromium against a fake anywidget model: controls, clicks, pushed specs, export, the
commands it invokes; and the loader: the bundle travels once per page."""

from __future__ import annotations

import pytest

from nb_condense import charts

from .conftest import ARTIFACTS
from .harness import command, open_harness, open_loader_harness, state_for
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
    page.wait_for_selector(f".nbc-chart[data-revision='{revision}'] svg", timeout=RENDER)


def test_controls_render_from_the_model(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    assert page.locator(".nbc-chips .nbc-chip").count() == len(session.result.layers)
    assert page.locator(".nbc-sample-list li").count() == len(TEXTS)
    first = page.locator(".nbc-sample-list li").first.inner_text()
    assert "Embeddings condense into a narrow" in first and f"{session.result.token_counts[0]} tok" in first
    assert page.locator("button.nbc-view").all_inner_texts() == ["Heatmap", "Distributions", "Trend", "Tokens"]
    assert page.locator("button.nbc-view[aria-pressed='true']").inner_text() == "Heatmap"
    assert page.locator(".nbc-model-label").is_hidden()  # one model: no model picker
    assert page.locator(".nbc-error").is_hidden() and page.locator(".nbc-progress").is_hidden()
    # the heatmap is drawn: one rect per non-empty (layer, bin) cell
    result = session.result
    n_cells = len(charts.heatmap_frame(result.density(), result.layer_fractions, result.layers))
    assert page.locator(".nbc-chart svg path.mark-rect, .nbc-chart svg g.mark-rect path").count() >= 1
    assert page.evaluate("document.querySelectorAll('.nbc-chart .mark-rect.role-mark path').length") == n_cells
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
    assert page.evaluate(f"window.model.invoked('{command('answer')}')") == [{"msg": {}, "signal": True}]
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
    last = int(session.result.layers[-1])
    cell = page.evaluate("""(layer) => {
        const view = document.querySelector('.nbc-chart .mark-rect.role-mark');
        const paths = [...view.querySelectorAll('path')];
        const box = paths[paths.length - 1].getBoundingClientRect();
        return {x: box.x + box.width / 2, y: box.y + box.height / 2};
    }""", last)
    page.mouse.click(cell["x"], cell["y"])
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
    assert page.locator(".nbc-chart .mark-line.role-mark path").count() == 2  # one curve per chosen layer
    assert page.locator(".nbc-chart .mark-rect.role-mark path").count() == 0


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
    assert page.evaluate(f"window.model.invoked('{command('sync')}')") == [{"msg": {}, "signal": True}]
    assert page.evaluate("window.model.calls.filter((c) => c[0] === 'send')") == []  # no hand-made messages


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
    assert page.evaluate(f"window.model.invoked('{csv}')") == [{"msg": {}, "signal": True}]
    with page.expect_download() as info:
        page.evaluate(f"window.model.answer('{csv}', {{csv: 'a,b\\n1,2\\n'}})")
    path = tmp_path / "x.csv"
    info.value.save_as(path)
    names.append(info.value.suggested_filename)
    assert path.read_text() == "a,b\n1,2\n"
    assert names == ["n_inner_64_init_seed_0_-heatmap.svg", "n_inner_64_init_seed_0_-heatmap.png",
                     "n_inner_64_init_seed_0_-heatmap.csv"]
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
    colours = page.evaluate("""() => {
        const root = getComputedStyle(document.querySelector('.nbc-explorer'));
        const label = document.querySelector('.nbc-chart .role-axis-label text');
        const title = document.querySelector('.nbc-chart .role-title-text text');
        return {fg: root.color, bg: root.backgroundColor, label: label.getAttribute('fill'),
                title: title.getAttribute('fill')};
    }""")
    assert colours == {"fg": "rgb(238, 238, 238)", "bg": "rgb(17, 17, 17)", "label": "#bbbbbb", "title": "#eeeeee"}


def test_the_tokens_legend_title_is_not_cut(guarded, session):
    page = guarded.page
    spec = charts.token_strip(session, 0, -1).to_dict()
    open_harness(page, state_for(session, view="tokens", _spec=spec))
    wait_rendered(page, 1)
    lines = page.evaluate("() => [...document.querySelectorAll('.nbc-chart .role-legend-title tspan')]"
                          ".map((t) => t.textContent)")
    assert lines == ["Mean cosine", "to the others"]  # Vega would end a cut title with an ellipsis
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / "tokens_view.png"))


OPACITY_BY_LAYER = """() => {
    const view = document.querySelector('.nbc-chart');
    const opacities = {};
    for (const path of view.querySelectorAll('.mark-rect.role-mark path')) {
        const layer = path.__data__?.datum?.layer;
        (opacities[layer] ??= new Set()).add(Number(path.getAttribute('opacity') ?? path.style.opacity ?? 1));
    }
    return Object.fromEntries(Object.entries(opacities).map(([k, v]) => [k, [...v]]));
}"""


def test_a_layer_click_highlights_the_column_without_a_re_embed(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"
    before = page.evaluate(OPACITY_BY_LAYER)
    assert all(values == [1] for values in before.values())  # nothing selected: every column opaque
    page.click(".nbc-chip[data-layer='1']")
    page.wait_for_function("document.querySelector('.nbc-chart').dataset.updates === '2'")
    after = page.evaluate(OPACITY_BY_LAYER)
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
    assert page.locator(".nbc-chart .mark-rect.role-mark path").count() == len(figure.data)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"
    densities = page.evaluate("() => [...document.querySelectorAll('.nbc-chart .mark-rect.role-mark path')]"
                              ".map((p) => p.__data__.datum.density)")
    assert sorted(densities) == pytest.approx(sorted(figure.data["density"]), rel=1e-9)


def test_chart_mode_draws_one_chart_with_tooltips_and_redraws(guarded, session):
    """ChartWidget (the offline notebook renderer): the bundle's chart-only mode, no controls."""
    page = guarded.page
    open_harness(page, {"_kind": "chart", "spec": charts.heatmap(session).to_dict()})
    page.wait_for_selector(".nbc-chart-only[data-rendered] svg", timeout=RENDER)
    assert page.locator(".nbc-explorer").count() == 0 and page.locator(".nbc-chip").count() == 0
    result = session.result
    n_cells = len(charts.heatmap_frame(result.density(), result.layer_fractions, result.layers))
    assert page.evaluate("document.querySelectorAll('.nbc-chart-only .mark-rect.role-mark path').length") == n_cells
    box = page.locator(".nbc-chart-only .mark-rect.role-mark path").last.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    tooltip = page.locator("#vg-tooltip-element").inner_text()
    assert "density" in tooltip and f"{int(session.result.layers[-1])}" in tooltip
    page.evaluate("(spec) => window.model.push({spec})", charts.distributions(session, [1, 2]).to_dict())
    page.wait_for_function("document.querySelectorAll('.nbc-chart-only .mark-line.role-mark path').length === 2")
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
    page.wait_for_selector("#first .nbc-chart-only[data-rendered] svg", timeout=RENDER)
    page.evaluate("(state) => { window.second = window.show('second', state); }", state)
    page.wait_for_selector("#second .nbc-chart-only[data-rendered] svg", timeout=RENDER)
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
    assert page.evaluate(f"window.first.invoked('{bundle}')") == [{"msg": {}, "signal": True}]
    assert "Loading the chart" in page.locator("#second").inner_text()
    page.evaluate(f"window.first.answer('{bundle}', {{hash: 'other-hash'}}, [window.code])")
    page.wait_for_selector("#first .nbc-chart-only[data-rendered] svg", timeout=RENDER)
    page.wait_for_selector("#second .nbc-chart-only[data-rendered] svg", timeout=RENDER)
    # a failure is shown, not swallowed: a third page-load with a kernel that answers an error
    page.evaluate("(state) => { window.third = window.show('first', state); }", {**state, "_bundle_hash": "h3"})
    page.wait_for_function(f"window.third.invoked('{bundle}').length === 1")
    page.evaluate(f"window.third.answer('{bundle}', {{error: 'OSError: the bundle file is missing'}})")
    page.wait_for_selector("#first:has-text('could not load: OSError: the bundle file is missing')", timeout=RENDER)
