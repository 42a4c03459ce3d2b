"""Accessibility of our widgets in JupyterLab and Notebook 7 (issue 29).

- axe-core at the WCAG 2.0/2.1 A and AA tags over the explorer (its four views and its data table), a
  ``ChartWidget`` and the live training view, in each host's light and dark theme. axe is scoped to each widget's
  own root element: the host's chrome is not ours. The whole page's violations (the host's own) are printed and
  kept in ``.pytest_artifacts/a11y_hosts_axe.json`` for information (``tools/a11y_counts.py`` prints the table).
- In JupyterLab, the explorer's tasks by keyboard alone (``keyboard.py``, the list Voila runs too), Python's traits
  read back after each; the arrow keys never move the Lab's active cell; Escape returns the focus to the explorer,
  then to the cell; the Tab order through the explorer is at most 8 stops.
- Screenshots of the keyboard focus on a heatmap column in JupyterLab, light and dark, 420 and 1280 px wide.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .a11y_hosts import THEMES, WIDGETS, axe_in_host, counts, show_widgets, widgets_notebook
from .axe import axe_details, need_tools
from .checks import wait_python
from .chromium import GuardedPage
from .colours import contrast
from .conftest import ARTIFACTS
from .hosts import LAB, NOTEBOOK7, JupyterHost
from .keyboard import explorer_tasks_by_keyboard, tab_stops_from, tab_to
from .notebooks import explorer_notebook, read_state
from .servers import Server, lab_server, notebook7_server
from .timeouts import PAGE_LOAD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# each JupyterLab test group in a workspace of its own: a Lab reopens the documents of its workspace, and one
# notebook open at a time keeps the cell indices (and the hosts' selectors) unambiguous
AXE_LAB = JupyterHost(LAB.name, "lab/workspaces/axe/tree")
KEYS_LAB = JupyterHost(LAB.name, "lab/workspaces/keys/tree")
HOSTS = {"jupyterlab": (AXE_LAB, lab_server), "notebook7": (NOTEBOOK7, notebook7_server)}
EXPLORER = ".nbc-explorer"


@pytest.fixture(autouse=True)
def _tools() -> None:
    need_tools()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Server, Path]]]:
    """Each host's server, started when first asked for (``start(name)``), all stopped at the module's end."""
    import contextlib

    with contextlib.ExitStack() as stack:
        started: dict[str, tuple[Server, Path]] = {}

        def start(name: str) -> tuple[Server, Path]:
            if name not in started:
                folder = tmp_path_factory.mktemp(name)
                for sub in ("axe", "keys"):
                    (folder / sub).mkdir()
                widgets_notebook(folder / "axe")
                explorer_notebook(folder / "keys", "explorer.ipynb",
                                  extra_cells=('print("PYTHON SAYS", explorer.layers, explorer.samples)',))
                started[name] = (stack.enter_context(HOSTS[name][1](folder)), folder)
            return started[name]

        yield start  # type: ignore[misc]


@pytest.fixture(scope="module", params=list(HOSTS))
def axe_found(request, browser, servers) -> tuple[str, dict]:
    """axe's findings in one host: ``(host, {theme: {widget or "page": violations}})``."""
    name = request.param
    host: JupyterHost = HOSTS[name][0]
    server, folder = servers(name)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    guarded = GuardedPage(context.new_page())
    try:
        show_widgets(guarded.page, host, server.url, "axe/widgets.ipynb")
        found = axe_in_host(guarded.page, host)
        assert guarded.blocked == []
    finally:
        context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    record = ARTIFACTS / "a11y_hosts_axe.json"
    everything = json.loads(record.read_text()) if record.exists() else {}
    everything[name] = found
    record.write_text(json.dumps(everything, indent=1))
    for theme, widgets in found.items():
        print(f"{name} {theme}: " + "; ".join(f"{w}: {counts(v)}" for w, v in widgets.items()))
    return name, found


@pytest.mark.parametrize("widget", list(WIDGETS))
@pytest.mark.parametrize("theme", list(THEMES))
def test_axe_finds_no_wcag_violation_in_our_widgets(axe_found, theme, widget):
    host, found = axe_found
    assert found[theme][widget] == [], f"{host}, {theme}, {widget}: {counts(found[theme][widget])}"


def test_axe_over_every_view_with_a_lessons_30_texts_on_the_page(browser, tmp_path):
    """The quick check of what the hosts found: 30 texts make the sample list scroll; in every view something in
    it must take the keyboard (axe: scrollable-region-focusable), on the offline page drawn by the same bundle."""
    import nb_condense as nbc

    from .conftest_models import tiny_session
    from .test_a11y import open_page

    texts = nbc.sample_texts("builtin", 30, min_word_count=20, max_word_count=400, seed=0)
    path = nbc.CondensationExplorer(tiny_session(texts, name="tiny", n_layer=3), background=False).save_page(
        tmp_path / "explorer.html")
    page = open_page(browser, path)
    try:
        page.set_viewport_size({"width": 1280, "height": 2000})  # axe checks the contrast of text on screen only
        found = {}
        for view in ("heatmap", "distributions", "trend", "tokens"):
            page.click(f"button.nbc-view[data-view='{view}']")
            page.wait_for_function(f"document.querySelector('.nbc-chart').dataset.view === '{view}'")
            page.wait_for_timeout(300)
            scrolls = page.evaluate("(() => { const g = document.querySelector('.nbc-sample-list');"
                                    " return g.getBoundingClientRect().height < g.scrollHeight"
                                    " || g.parentElement.scrollHeight > g.parentElement.clientHeight; })()")
            assert scrolls, "30 texts should make the sample list scroll"
            found[view] = axe_details(page, EXPLORER)
        assert all(v == [] for v in found.values()), found
    finally:
        page.context.close()


# ----- JupyterLab by keyboard -----------------------------------------------------------------------------------
ACTIVE_CELL = "[...document.querySelectorAll('.jp-Notebook .jp-Cell')].findIndex(c => c.matches('.jp-mod-active'))"
IN_EXPLORER = f"document.activeElement.closest('{EXPLORER}') !== null"


def open_lab_explorer(page, url: str, folder: Path, host: JupyterHost, notebook: str) -> None:
    """Open ``notebook`` (an explorer in its first cell, state written to ``folder``) in ``host``, run the cell and
    wait until the chart is drawn and Python idle."""
    host.open(page, url, notebook)
    host.run_cell(page, 0)
    page.wait_for_selector(f"{EXPLORER} .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    wait_python(lambda: read_state(folder), lambda s: s["status"] == "idle" and s["_revision"] >= 1,
                "the first chart")


@pytest.fixture
def lab_explorer(servers, guarded) -> tuple[object, Path]:
    """The explorer notebook open in JupyterLab, its first cell run and drawn, Python idle."""
    server, folder = servers("jupyterlab")
    open_lab_explorer(guarded.page, server.url, folder / "keys", KEYS_LAB, "keys/explorer.ipynb")
    return guarded.page, folder / "keys"


def test_every_task_by_keyboard_alone_in_jupyterlab(lab_explorer, guarded):
    page, folder = lab_explorer
    page.focus(EXPLORER)  # where a click in the explorer, or Escape, leaves the focus
    cell = page.evaluate(ACTIVE_CELL)
    assert cell == 0

    def stays(step: str) -> None:  # the task pressed arrow keys: the focus is in the explorer, the Lab's cell unmoved
        assert page.evaluate(IN_EXPLORER), f"{step}: the focus left the explorer"
        assert page.evaluate(ACTIVE_CELL) == cell, f"{step}: the Lab's active cell moved"

    def python(predicate, what):
        state = wait_python(lambda: read_state(folder), predicate, what)
        stays(what)
        return state

    explorer_tasks_by_keyboard(page, python, EXPLORER, after_each=stays)
    assert read_state(folder)["error"] == ""
    assert guarded.page_errors == [] and guarded.blocked == []


def test_arrow_keys_stay_in_the_explorer_and_escape_returns_the_focus_to_the_cell_in_jupyterlab(lab_explorer):
    page, folder = lab_explorer
    page.focus(EXPLORER)
    for group in (".nbc-layer-group", ".nbc-sample-group", ".nbc-chart"):  # where moving changes no choice
        tab_to(page, f"el.closest('{group}')")
        for key in ("ArrowDown", "ArrowRight", "ArrowDown", "ArrowRight"):
            page.keyboard.press(key)
            assert page.evaluate(f"document.activeElement.closest('{group}') !== null"), f"{key} left {group}"
            assert page.evaluate(ACTIVE_CELL) == 0, f"{key} in {group} moved the Lab's active cell"
    assert read_state(folder)["layers"] == [] and read_state(folder)["samples"] == []  # arrows only move
    page.keyboard.press("Escape")
    assert page.evaluate(f"document.activeElement === document.querySelector('{EXPLORER}')")
    page.keyboard.press("Escape")
    where = page.evaluate("""() => { const a = document.activeElement;
        return {inExplorer: a.closest('.nbc-explorer') !== null,
                inNotebook: a.closest('.jp-Notebook') !== null, cls: a.className}; }""")
    assert not where["inExplorer"] and where["inNotebook"], where
    assert page.evaluate(ACTIVE_CELL) == 0
    # the Lab's own keys work again: ArrowDown moves its active cell to the next one (no keyboard trap)
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"{ACTIVE_CELL} === 1", timeout=5_000)


def test_the_tab_order_through_the_explorer_in_jupyterlab_is_at_most_8_stops(lab_explorer):
    page, _ = lab_explorer
    closed = tab_stops_from(page, EXPLORER)
    page.click(f"{EXPLORER} .nbc-table-toggle")
    opened = tab_stops_from(page, EXPLORER)
    print(f"tab stops closed ({len(closed)}): {closed}\ntab stops open ({len(opened)}): {opened}")
    assert 0 < len(closed) <= 8 and len(opened) <= 8, (closed, opened)
    assert len(opened) == len(closed) + 2  # the table's scrolling region and its sort buttons (one stop)


NARROW = 420  # the notebook's width in the narrow screenshots, CSS px


@pytest.mark.parametrize("theme", list(THEMES))
def test_screenshots_of_the_focus_on_a_heatmap_column_in_jupyterlab(servers, guarded, theme):
    """The Lab (file browser collapsed) at 1280 px, then narrowed until its notebook is about 420 px wide; the
    heatmap's column focused by keyboard. Its outline reaches 3:1 against the widget's background and the notebook
    does not scroll sideways."""
    from .checks import THEME

    server, root = servers("jupyterlab")
    folder = root / f"shots-{theme}"  # a notebook, a workspace and a kernel of its own: nothing left by others
    folder.mkdir(exist_ok=True)
    explorer_notebook(folder, "explorer.ipynb")
    host = JupyterHost(LAB.name, f"lab/workspaces/shots-{theme}/tree")
    page = guarded.page
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab_explorer(page, server.url, folder, host, f"shots-{theme}/explorer.ipynb")
    if page.evaluate("document.body.dataset.jpThemeLight") != ("true" if theme == "light" else "false"):
        host.switch_theme(page, THEMES[theme])
        page.wait_for_timeout(3500)  # the widgets' theme watcher
    sidebar = page.locator(".jp-SideBar.lm-TabBar .lm-TabBar-tab.lm-mod-current")
    for tab in sidebar.all():  # collapse the file browser (and any side panel): the notebook gets the width
        tab.click()
    page.wait_for_timeout(500)
    chrome = 1280 - page.evaluate("document.querySelector('.jp-Notebook').getBoundingClientRect().width")
    for width in (1280, round(NARROW + chrome)):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(1200)  # the Lab relays out, the chart fits
        page.focus(EXPLORER)
        tab_to(page, "el.closest('.nbc-chart')")
        page.keyboard.press("ArrowRight")
        page.locator(f"{EXPLORER} .nbc-chart").scroll_into_view_if_needed()
        page.wait_for_selector(f"{EXPLORER} .nbc-column-focus:not([hidden])", timeout=5_000)
        page.wait_for_timeout(300)
        notebook = page.evaluate("document.querySelector('.jp-Notebook').getBoundingClientRect().width")
        name = "wide" if width == 1280 else "narrow"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lab_focus_column_{name}_{theme}.png"))
        print(f"{theme} {name}: window {width} px, notebook {notebook:.0f} px wide")
        assert name == "wide" or abs(notebook - NARROW) < 30, notebook
        assert page.evaluate("document.activeElement.closest('.nbc-chart') !== null")
        # the outline around the focused column: at least 3:1 against the widget's background
        outline = page.evaluate(f"getComputedStyle(document.querySelector('{EXPLORER} .nbc-column-focus'))"
                                ".borderTopColor")
        background = page.locator(EXPLORER).evaluate(THEME)["widget"]
        assert contrast(outline, background) >= 3, (outline, background)
        sizes = page.evaluate("(() => { const n = document.querySelector('.jp-WindowedPanel-outer') ??"
                              " document.querySelector('.jp-Notebook'); return [n.scrollWidth, n.clientWidth]; })()")
        assert sizes[0] <= sizes[1] + 1, f"the notebook scrolls sideways at {width} px: {sizes}"
    if theme == "dark":
        host.switch_theme(page, THEMES["light"])  # the theme is the Lab's setting: leave it as the others expect
