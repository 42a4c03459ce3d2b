"""Accessibility of the explorer on the offline page (issue 29): axe-core's WCAG 2.1 A/AA rules in light and dark,
a keyboard-only run of the explorer's tasks (state read back after each step), the accessibility tree, the Tab
order's length, reflow at 320 CSS px and 200 % zoom.

axe-core is an npm devDependency of js/ (for these tests only, never bundled): ``cd js && npm ci``. Where it or
Chromium is absent the tests skip with the reason (under ``CI=true`` they fail instead).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nb_condense as nbc
from nb_condense.charts import LAYER_SELECTION

from .axe import axe_violations, need_tools
from .conftest import ARTIFACTS
from .harness import vega_items
from .keyboard import tab_to
from .timeouts import RENDER

pytestmark = pytest.mark.browser
ROOT = ".nbc-explorer"
STATE = "(name) => window.nbcPage.model.get(name)"
DRAWN = ".nbc-chart[data-revision] .nbc-vega > canvas"


@pytest.fixture(autouse=True)
def _tools() -> None:
    need_tools()


@pytest.fixture(scope="module")
def page_session():
    from .conftest_models import tiny_session

    texts = nbc.sample_texts("builtin", 5, min_word_count=30, max_word_count=60)
    return tiny_session(texts, name="tiny-a", seed=0, n_layer=7)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory, page_session):
    explorer = nbc.CondensationExplorer({"tiny-a": page_session}, background=False)
    return explorer.save_page(tmp_path_factory.mktemp("a11y") / "explorer.html")


def open_page(browser, path: Path, *, scheme: str = "light", width: int = 1280, scale: float = 1):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                  device_scale_factor=scale, reduced_motion="reduce")
    page = context.new_page()
    page.route("**/*", lambda route: route.fallback() if route.request.url.startswith(("file:", "data:", "blob:"))
               else route.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(DRAWN, timeout=RENDER)
    page.wait_for_timeout(200)
    return page


def tab_stops(page, limit: int = 80) -> list[str]:
    """The explorer's Tab stops, in order, from the page's start through one full cycle."""
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        key = page.evaluate("""(root) => {
            const a = document.activeElement;
            if (!a || a === document.body || !a.closest(root)) return null;
            return a.tagName + '|' + (a.getAttribute('aria-label') || a.textContent.trim().slice(0, 20)) +
                '|' + [...document.querySelectorAll('*')].indexOf(a);
        }""", ROOT)
        if key is None:
            if stops:
                break
            continue
        if key in stops:
            break
        stops.append(key)
    return stops


def focused(page) -> dict:
    return page.evaluate("""() => { const a = document.activeElement;
        return {role: a.getAttribute('role'), label: a.getAttribute('aria-label'), text: a.textContent.trim(),
                cls: a.className, tag: a.tagName, layer: a.dataset.layer,
                sample: a.closest('[data-sample]')?.dataset.sample}; }""")


def wait_state(page, name: str, value) -> None:
    page.wait_for_function(f"(v) => JSON.stringify(window.nbcPage.model.get({json.dumps(name)})) === v",
                           arg=json.dumps(value, separators=(",", ":")), timeout=RENDER)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_violation_on_the_page(browser, page_path, scheme):
    page = open_page(browser, page_path, scheme=scheme)
    try:
        violations = axe_violations(page)
        print(f"axe {scheme}: {violations}")
        assert violations == {}
    finally:
        page.context.close()


def test_the_tab_order_through_the_explorer_is_at_most_8_stops(browser, page_path):
    page = open_page(browser, page_path)
    try:
        stops = tab_stops(page)
        print(f"tab stops ({len(stops)}): {stops}")
        assert 0 < len(stops) <= 8, stops
    finally:
        page.context.close()


def test_every_task_by_keyboard_alone(browser, page_path):
    page = open_page(browser, page_path)
    try:
        # the view switcher: a tab list; ArrowRight moves to the next view and selects it
        tab_to(page, "el.getAttribute('role') === 'tab'")
        views = page.evaluate(STATE, "_views")
        assert page.evaluate(STATE, "view") == views[0]["value"]
        page.keyboard.press("ArrowRight")
        wait_state(page, "view", views[1]["value"])
        assert focused(page)["role"] == "tab"
        assert page.evaluate("document.activeElement.getAttribute('aria-selected')") == "true"
        page.keyboard.press("Home")
        wait_state(page, "view", views[0]["value"])  # back to the heatmap
        page.wait_for_selector(DRAWN, timeout=RENDER)

        # the layer chips: one Tab stop; arrows move, Space toggles
        tab_to(page, "el.closest('.nbc-layer-group')")
        assert focused(page)["layer"] == "all"  # the pressed one holds the group's Tab stop
        page.keyboard.press("ArrowRight")
        first = int(focused(page)["layer"])
        page.keyboard.press("Space")
        wait_state(page, "layers", [first])
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        second = int(focused(page)["layer"])
        assert second == first + 2
        page.keyboard.press("Space")
        wait_state(page, "layers", sorted([first, second]))

        # the heatmap: focusable, arrows move between layer columns (announced), Enter picks one as a click does
        tab_to(page, "el.closest('.nbc-chart')")
        announced = page.evaluate("document.querySelector('.nbc-announce').textContent")
        page.keyboard.press("End")
        page.keyboard.press("ArrowLeft")
        layer_options = [o["layer"] for o in page.evaluate(STATE, "_layer_options")]
        column = layer_options[-2]
        page.wait_for_function("(t) => document.querySelector('.nbc-announce').textContent !== t", arg=announced)
        assert f"layer {column}" in page.evaluate("document.querySelector('.nbc-announce').textContent").lower()
        # the outline is drawn around that column's cells (the Vega view's own items)
        cells = [i["bounds"] for i in vega_items(page, ".nbc-chart", "rect") if i["datum"].get("layer") == column]
        outline = page.evaluate("(() => { const r = document.querySelector('.nbc-column-focus')"
                                ".getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()")
        assert cells
        assert outline[0] <= min(c[0] for c in cells) + 1 and outline[2] >= max(c[2] for c in cells) - 1
        assert outline[1] <= min(c[1] for c in cells) + 1 and outline[3] >= max(c[3] for c in cells) - 1
        others = [i["bounds"] for i in vega_items(page, ".nbc-chart", "rect") if i["datum"].get("layer") == column - 1]
        assert outline[0] > max(c[0] for c in others)  # and not around its neighbour
        page.keyboard.press("Enter")
        wait_state(page, "layers", [column])
        # the drawn selection is the one the click path writes (the Vega view's own store)
        page.wait_for_function(
            "([c, s]) => { const v = document.querySelector('.nbc-chart').vegaView;"
            " return JSON.stringify(v.data(s + '_store').map(t => t.values[0])) === JSON.stringify([c]); }",
            arg=[column, LAYER_SELECTION], timeout=RENDER)
        # arrow keys stay inside the widget
        leaked = page.evaluate("""() => { let n = 0; const count = () => n++;
            document.addEventListener('keydown', count);
            window.__stopLeak = () => { document.removeEventListener('keydown', count); return n; }; }""")
        assert leaked is None
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("window.__stopLeak()") == 0
        # Escape leaves the chart for the explorer's root (no trap)
        page.keyboard.press("Escape")
        assert page.evaluate(f"document.activeElement === document.querySelector('{ROOT}')")

        # the samples: one Tab stop; arrows move, Space toggles
        tab_to(page, "el.closest('.nbc-sample-group')")
        assert "all samples" in focused(page)["text"]  # the pressed one holds the group's Tab stop
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        sample = int(focused(page)["sample"])
        assert sample == 1
        assert focused(page)["label"].startswith("#1 ")  # named by its first words
        page.keyboard.press("Space")
        wait_state(page, "samples", [sample])
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        wait_state(page, "samples", [1, 2])
        # Enter applies the focused one alone
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Enter")
        wait_state(page, "samples", [1])
        assert page.evaluate("document.activeElement.checked") is True
    finally:
        page.context.close()


def test_the_accessibility_tree_names_the_chart_and_the_controls(browser, page_path):
    page = open_page(browser, page_path)
    try:
        chart = page.locator(".nbc-chart [role='img']").first
        name = chart.get_attribute("aria-label")
        title = page.evaluate("document.querySelector('.nbc-chart').vegaView.signal('nbc_title')")
        assert name and title and title in name
        snapshot = page.locator(ROOT).aria_snapshot()
        print(snapshot)
        assert f'img "{name}"' in snapshot
        assert 'tablist "View"' in snapshot
        for label in ["Layers", "Samples", "Export"]:
            assert f'"{label}"' in snapshot
        # every sample checkbox is named by its text's first words
        for option in page.evaluate(STATE, "_sample_options"):
            first_words = " ".join(option["words"].split()[:3])
            assert page.get_by_role("checkbox", name=first_words).count() + page.get_by_role(
                "radio", name=first_words).count() >= 1
        # prefers-reduced-motion (the page is opened with it): the busy chart does not fade
        assert page.evaluate("getComputedStyle(document.querySelector('.nbc-chart')).transitionDuration") == "0s"
        # the page carries the view's description: the chart is described by it
        assert chart.get_attribute("aria-describedby")
    finally:
        page.context.close()


@pytest.mark.parametrize(("width", "scale", "scheme"), [(320, 1, "light"), (640, 2, "dark")])
def test_the_page_reflows_without_horizontal_scrolling(browser, page_path, width, scale, scheme):
    # 640 px at a device scale of 2 stands for 200 % zoom of a 1280 px window (CSS px halve)
    page = open_page(browser, page_path, width=width, scale=scale, scheme=scheme)
    try:
        sizes = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})")
        assert sizes["scroll"] <= sizes["client"], sizes
        side = page.evaluate("document.querySelector('.nbc-layers').getBoundingClientRect().height")
        chips = page.evaluate("document.querySelector('.nbc-chips').getBoundingClientRect().height")
        assert side < chips + 80, (side, chips)  # the Layers box takes the height its chips need
    finally:
        page.context.close()


@pytest.mark.parametrize(("width", "scheme"), [(420, "dark"), (420, "light"), (1280, "dark"), (1280, "light")])
def test_screenshot_of_the_focus_on_a_heatmap_column(browser, page_path, width, scheme):
    page = open_page(browser, page_path, width=width, scheme=scheme)
    try:
        tab_to(page, "el.closest('.nbc-chart')", limit=30)
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"a11y_focus_{width}_{scheme}.png"), full_page=True)
        assert page.evaluate("document.activeElement.closest('.nbc-chart') !== null")
    finally:
        page.context.close()


def test_the_chart_is_described_by_the_description_trait(guarded):
    from nb_condense.charts.describe import describe_view

    from .conftest_models import tiny_session
    from .harness import open_harness, state_for

    page = guarded.page
    texts = nbc.sample_texts("builtin", 3, min_word_count=30, max_word_count=60)
    session = tiny_session(texts, name="tiny", seed=0, n_layer=2)
    open_harness(page, state_for(session))
    page.wait_for_selector(DRAWN, timeout=RENDER)
    chart = page.locator(".nbc-chart [role='img']")
    # the explorer's own description (Python's summary of the drawn view) describes the chart
    first = chart.get_attribute("aria-describedby")
    expected = describe_view("heatmap", {"tiny": session.measured_result()}).summary
    assert first and page.evaluate("(id) => document.getElementById(id).textContent", first) == expected
    text = "Heatmap of pairwise cosine similarity by layer, tiny, 3 layers, 3 texts."
    page.evaluate("(t) => window.model.push({description: t})", text)
    described = chart.get_attribute("aria-describedby")
    assert described and page.evaluate("(id) => document.getElementById(id).textContent", described) == text
    # emptying it removes the reference
    page.evaluate("window.model.push({description: ''})")
    assert chart.get_attribute("aria-describedby") is None


def test_each_live_view_panel_is_described_by_its_python_summary(guarded):
    from nb_condense.charts.describe import describe_panel
    from nb_condense.widgets.monitor import TrainingMonitor

    from .conftest_models import tiny_session
    from .harness import open_harness

    result = tiny_session(nbc.sample_texts("builtin", 3, min_word_count=30, max_word_count=60), name="tiny",
                          seed=0, n_layer=2).measured_result()
    monitor = TrainingMonitor(max_steps=20)
    monitor.log(5, {"loss": 3.0, "dispersion_loss": -0.1})
    monitor.log(10, {"loss": 2.5, "dispersion_loss": -0.2})
    monitor.measured(10, result)
    names = ("_kind", "step", "max_steps", "status", "summary", "descriptions", "_panels", "_data")
    page = guarded.page
    open_harness(page, json.loads(json.dumps({name: getattr(monitor, name) for name in names})))
    expected = {"losses": describe_panel("losses", monitor.losses).summary,
                "means": describe_panel("means", monitor.history).summary,
                "heatmap": describe_panel("heatmap", result).summary}
    for panel, text in expected.items():
        target = f".nbc-panel[data-panel='{panel}'] [role=img][aria-describedby]"
        page.wait_for_selector(target, timeout=RENDER)
        described = page.evaluate(f"document.getElementById(document.querySelector(\"{target}\")"
                                  ".getAttribute('aria-describedby')).textContent")
        assert described == text, panel


def test_the_live_view_announces_done_at_step_n_not_every_step(guarded):
    from .harness import open_harness

    page = guarded.page
    open_harness(page, {"_kind": "monitor", "step": 0, "max_steps": 3, "status": "waiting", "summary": "",
                        "_panels": {}, "_data": {}})
    page.wait_for_selector(".nbc-monitor")
    live = "[...document.querySelectorAll('.nbc-monitor [aria-live], .nbc-monitor [role=status]')]"
    for step in range(1, 4):
        page.evaluate("(s) => window.model.push({status: 'training', step: s, summary: `step ${s}: loss 1.0`})", step)
        assert page.evaluate(f"{live}.map((e) => e.textContent).join('')") == ""  # steps are shown, not said
    page.evaluate("window.model.push({step: 3, status: 'done', summary: 'Done at step 3'})")
    assert page.evaluate(f"{live}.map((e) => e.textContent)") == ["Training done at step 3."]


def test_measuring_and_done_are_announced_politely_and_errors_as_alerts(guarded):
    from .conftest_models import tiny_session
    from .harness import open_harness, state_for

    page = guarded.page
    texts = nbc.sample_texts("builtin", 3, min_word_count=30, max_word_count=60)
    open_harness(page, state_for(tiny_session(texts, name="tiny", seed=0, n_layer=2)))
    page.wait_for_selector(DRAWN, timeout=RENDER)
    said = "document.querySelector('.nbc-explorer [role=status]').textContent"
    assert page.locator(".nbc-explorer [role=status]").count() == 1
    assert page.get_attribute(".nbc-explorer [role=status]", "aria-live") == "polite"
    page.evaluate("window.model.push({status: 'measuring', _progress: 0.25})")
    page.wait_for_function(f"{said} === 'Measuring…'")
    page.evaluate("window.model.push({_progress: 0.5})")  # progress is shown, not said again
    page.wait_for_timeout(100)
    assert page.evaluate(said) == "Measuring…"
    page.evaluate("window.model.push({status: 'idle', _progress: 1})")
    page.wait_for_function(f"{said}.startsWith('Done')")
    page.evaluate("window.model.push({status: 'error', error: 'No such layer'})")
    assert page.locator(".nbc-explorer [role=alert]").inner_text().startswith("No such layer")


def test_the_tokens_view_puts_its_legend_on_top_and_scrolls_inside_a_height_cap(browser, page_path):
    page = open_page(browser, page_path)
    try:
        page.click("button.nbc-view[data-view='tokens']")
        page.wait_for_function("document.querySelector('.nbc-chart').dataset.view === 'tokens'")
        page.wait_for_function("document.querySelector('.nbc-chart').vegaView?.data('tokens')?.length > 0",
                               timeout=RENDER)
        page.wait_for_timeout(200)
        cells = [i["bounds"] for i in vega_items(page, ".nbc-chart", "rect") if "mean_cosine" in i["datum"]]
        legend = [i["bounds"] for i in vega_items(page, ".nbc-chart", "rect", "legend-gradient")]
        assert cells and legend
        assert max(b[3] for b in legend) < min(b[1] for b in cells)  # the legend is read before the tokens
        cap = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.nbc-chart')).maxHeight)")
        assert 0 < cap <= 640
        assert page.evaluate("getComputedStyle(document.querySelector('.nbc-chart')).overflowY") == "auto"
    finally:
        page.context.close()


# ----- the text alternative and the data table (issue 29, wiring) ---------------------------------------------
TABLE = ".nbc-table-region"
TOGGLE = ".nbc-table-toggle"


def described_text(page) -> str | None:
    """The drawn chart's accessible description: the text of the element its aria-describedby names."""
    return page.evaluate("""() => { const id = document.querySelector('.nbc-chart [role=img]')
        ?.getAttribute('aria-describedby'); return id ? document.getElementById(id).textContent : null; }""")


def table_cells(page) -> dict:
    return page.evaluate(f"""() => {{ const t = document.querySelector('{TABLE} table');
        return {{caption: t.caption.textContent,
                 headers: [...t.tHead.rows[0].cells].map(c => ({{text: c.textContent, scope: c.getAttribute('scope'),
                                                                 sort: c.getAttribute('aria-sort')}})),
                 rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))}}; }}""")


def test_the_charts_description_is_the_python_summary_of_each_view(browser, page_path, page_session):
    from nb_condense.charts.describe import describe_view

    results = {"tiny-a": page_session.measured_result()}
    page = open_page(browser, page_path)
    try:
        for view in ("heatmap", "distributions", "trend", "tokens"):
            page.click(f"button.nbc-view[data-view='{view}']")
            wait_state(page, "view", view)
            page.wait_for_function(f"document.querySelector('.nbc-chart').dataset.view === '{view}'")
            page.wait_for_selector(".nbc-chart[data-revision] [role=img][aria-describedby]", timeout=RENDER)
            expected = describe_view(view, results, model="tiny-a").summary
            assert described_text(page) == page.evaluate(STATE, "description") == expected, view
        # one text: the page holds its description; two texts: it describes all texts, and says so
        page.click("button.nbc-view[data-view='heatmap']")
        page.locator(".nbc-sample-list input").nth(1).check()
        wait_state(page, "samples", [1])
        assert described_text(page) == describe_view("heatmap", results, model="tiny-a", samples=[1]).summary
        page.locator(".nbc-sample-list input").nth(0).check()
        wait_state(page, "samples", [0, 1])
        text = described_text(page)
        assert text.startswith(describe_view("heatmap", results, model="tiny-a").summary) and "not your choice" in text
    finally:
        page.context.close()


def test_the_data_table_opens_by_keyboard_has_headers_and_sorts(browser, page_path, page_session):
    from nb_condense.charts.describe import describe_view

    expected = describe_view("heatmap", {"tiny-a": page_session.measured_result()}, model="tiny-a").to_dict()
    page = open_page(browser, page_path)
    try:
        assert page.locator(TABLE).is_hidden()
        tab_to(page, f"el.matches('{TOGGLE}')")
        assert page.get_attribute(TOGGLE, "aria-expanded") == "false"
        controls = page.get_attribute(TOGGLE, "aria-controls")
        assert page.evaluate(f"document.getElementById('{controls}') === document.querySelector('{TABLE}')")
        page.keyboard.press("Enter")
        assert page.get_attribute(TOGGLE, "aria-expanded") == "true" and page.locator(TABLE).is_visible()
        page.keyboard.press("Space")
        assert page.get_attribute(TOGGLE, "aria-expanded") == "false" and page.locator(TABLE).is_hidden()
        page.keyboard.press("Space")
        assert page.locator(TABLE).is_visible()

        cells = table_cells(page)
        assert cells["caption"].strip()
        assert [h["text"] for h in cells["headers"]] == expected["columns"]
        assert all(h["scope"] == "col" and h["sort"] is None for h in cells["headers"])
        mean = expected["columns"].index("Mean cosine")
        shown = [float(row[mean]) for row in cells["rows"]]
        assert shown == pytest.approx([row[mean] for row in expected["rows"]], abs=5e-4)
        assert shown != sorted(shown)  # so that sorting must reorder the rows

        # one click on a header sorts by it (ascending), a second reverses; aria-sort says which
        page.locator(f"{TABLE} th button", has_text="Mean cosine").click()
        cells = table_cells(page)
        assert cells["headers"][mean]["sort"] == "ascending"
        assert [float(row[mean]) for row in cells["rows"]] == sorted(shown)
        layers = [int(row[0]) for row in cells["rows"]]
        assert layers == [int(r[0]) for r in sorted(expected["rows"], key=lambda r: r[mean])]
        page.keyboard.press("Enter")  # the header button has the focus: the keyboard sorts too
        cells = table_cells(page)
        assert cells["headers"][mean]["sort"] == "descending"
        assert [float(row[mean]) for row in cells["rows"]] == sorted(shown, reverse=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_with_the_data_table_open(browser, page_path, scheme):
    page = open_page(browser, page_path, scheme=scheme)
    try:
        page.click(TOGGLE)
        page.locator(f"{TABLE} th button").first.click()
        page.click("button.nbc-view[data-view='tokens']")  # the longest table: it scrolls in its region
        page.wait_for_function(f"document.querySelectorAll('{TABLE} tbody tr').length > 20", timeout=RENDER)
        assert page.evaluate(f"(() => {{ const r = document.querySelector('{TABLE}');"
                             " return r.scrollHeight > r.clientHeight; })()")
        violations = axe_violations(page)
        print(f"axe {scheme}, table open: {violations}")
        assert violations == {}
    finally:
        page.context.close()


def test_the_tab_order_with_the_data_table_open_is_at_most_8_stops(browser, page_path):
    page = open_page(browser, page_path)
    try:
        closed = tab_stops(page)
        page.click(TOGGLE)
        page.mouse.click(2, 2)  # the next Tab starts from the page's top again
        opened = tab_stops(page)
        print(f"tab stops closed ({len(closed)}): {closed}\ntab stops open ({len(opened)}): {opened}")
        assert len(closed) <= 8 and len(opened) <= 8
        # open, the table adds two stops: its scrolling region (named by its caption) and its sort buttons (one)
        assert opened[:len(closed)] == closed and len(opened) == len(closed) + 2
        assert opened[-2].startswith("DIV|Data behind the char") and opened[-1].startswith("BUTTON|Layer|")
    finally:
        page.context.close()


def test_the_csv_export_of_the_open_table_is_the_tables_numbers(browser, page_path, page_session):
    import io

    import pandas as pd

    from nb_condense.charts.describe import describe_view

    expected = describe_view("heatmap", {"tiny-a": page_session.measured_result()}, model="tiny-a").table
    page = open_page(browser, page_path)
    try:
        page.click(TOGGLE)
        with page.expect_download() as download:
            page.click("button[data-export='csv']")
        exported = pd.read_csv(io.StringIO(Path(download.value.path()).read_text()))
        assert list(exported.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(exported, expected, check_dtype=False, atol=1e-9)
    finally:
        page.context.close()


@pytest.mark.parametrize(("width", "scheme"), [(420, "light"), (420, "dark"), (1280, "light"), (1280, "dark")])
def test_screenshot_with_the_data_table_open(browser, page_path, width, scheme):
    page = open_page(browser, page_path, width=width, scheme=scheme)
    try:
        page.click(TOGGLE)
        page.wait_for_timeout(100)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"a11y_table_{width}_{scheme}.png"), full_page=True)
        sizes = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})")
        assert sizes["scroll"] <= sizes["client"], sizes  # a wide table scrolls in its region, not the page
    finally:
        page.context.close()
