"""The bundle in headless Chromium against a fake anywidget model: controls, clicks, pushed specs, export."""

from __future__ import annotations

import pytest

from nb_condense import charts
from nb_condense.explorer_views import VIEWS

from .harness import open_harness
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


def state_for(session, **overrides):
    result = session.result
    state = {
        "model": session.name, "layers": [], "samples": [], "view": "heatmap", "debounce_wait": 40,
        "status": "idle", "error": "", "_models": [session.name],
        "_views": [{"value": v.value, "label": v.label, "title": v.title} for v in VIEWS],
        "_layer_options": [{"layer": int(k), "fraction": float(f)}
                           for k, f in zip(result.layers, result.layer_fractions)],
        "_sample_options": [{"sample": i, "words": " ".join(t.split()[:8]), "n_tokens": int(n)}
                            for i, (t, n) in enumerate(zip(session.texts, result.token_counts))],
        "_spec": charts.heatmap(session).to_dict(), "_revision": 1, "_request": 0, "_answered": 0, "_progress": 0.0,
    }
    state.update(overrides)
    return state


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
    n_cells = len(charts.heatmap_frame(session.result.density(), session.result.layer_fractions))
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
    assert page.evaluate("window.model.sets('_request')") == [1]
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
    page.evaluate("(spec) => window.model.push({_spec: spec, _revision: 2, _answered: 0})", stale)
    page.wait_for_timeout(200)
    assert page.get_attribute(".nbc-chart", "data-revision") == "1"  # answer to an older request: not drawn
    fresh = charts.distributions(session, [1, 2]).to_dict()
    page.evaluate("(spec) => window.model.push({_spec: spec, _revision: 3, _answered: 1})", fresh)
    wait_rendered(page, 3)
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


def test_export_png_svg_and_csv(guarded, session, tmp_path):
    page = guarded.page
    open_harness(page, state_for(session))
    wait_rendered(page, 1)
    for kind, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
        with page.expect_download() as info:
            page.click(f"button[data-export='{kind}']")
        download = info.value
        assert download.suggested_filename.endswith(f".{kind}")
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        assert magic in path.read_bytes()[:200]
    page.click("button[data-export='csv']")
    page.wait_for_function("window.model.sent.length === 1")
    request = page.evaluate("window.model.sent[0]")
    assert request["type"] == "csv" and request["id"]
    with page.expect_download() as info:
        page.evaluate("(id) => window.model.reply({id, filename: 'x-heatmap.csv', content: 'a,b\\n1,2\\n'})",
                      request["id"])
    path = tmp_path / "x.csv"
    info.value.save_as(path)
    assert info.value.suggested_filename == "x-heatmap.csv" and path.read_text() == "a,b\n1,2\n"
    # a Python-side failure of the export is shown
    page.click("button[data-export='csv']")
    page.wait_for_function("window.model.sent.length === 2")
    page.evaluate("(id) => window.model.reply({id, error: 'ValueError: No chart is drawn yet.'})",
                  page.evaluate("window.model.sent[1].id"))
    assert "No chart is drawn yet" in page.locator(".nbc-error").inner_text()


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


def test_chart_mode_draws_one_chart_with_tooltips_and_redraws(guarded, session):
    """ChartWidget (the offline notebook renderer): the bundle's chart-only mode, no controls."""
    page = guarded.page
    open_harness(page, {"_mode": "chart", "spec": charts.heatmap(session).to_dict()})
    page.wait_for_selector(".nbc-chart-only[data-rendered] svg", timeout=RENDER)
    assert page.locator(".nbc-explorer").count() == 0 and page.locator(".nbc-chip").count() == 0
    n_cells = len(charts.heatmap_frame(session.result.density(), session.result.layer_fractions))
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
