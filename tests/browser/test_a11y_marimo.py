"""Accessibility of the widgets in marimo (issue 29): ``marimo run`` of the explorer app (the explorer and a
ChartWidget through ``mo.ui.anywidget``) and of the training cell (the live view), in light and dark.

axe-core runs at the WCAG 2.0/2.1 A and AA tags scoped to each widget's own element: marimo's page around it is
not ours (the whole page's counts are printed for information). A keyboard-only run does the explorer's tasks with
Python's state read back after each step; the widget's keys stay in the widget (marimo never sees them), Escape
gives the focus back to the explorer's root, and the Tab order through the explorer is at most 8 stops.
``python -m tests.browser.marimo_a11y`` prints the counts for any checkout (see there).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .checks import page_sleep, wait_python
from .conftest import ARTIFACTS
from .keyboard_tasks import do_tasks, focused, tab_stops, tab_to
from .marimo_a11y import (
    CHART_DRAWN,
    EXPLORER_DRAWN,
    LIVE_DONE,
    WIDGETS,
    axe_counts,
    axe_result,
    explain,
    open_app,
    set_scheme,
)
from .marimo_apps import cell, explorer_app, live_app
from .notebooks import read_state
from .servers import Server, marimo_server
from .test_a11y import _tools  # noqa: F401  (skips without Chromium or axe-core; fails under CI=true)
from .timeouts import KERNEL_IDLE_S, RENDER, ROUND_TRIP

pytestmark = pytest.mark.browser

marimo = pytest.importorskip("marimo", reason="marimo is not installed (pip install 'nb_condense[test]')")

TABLE_CELL = cell('''\
def _dump_table(_=None):  # the Data table's numbers as Python holds them
    import json, pathlib  # here: marimo deletes a cell's _names when the cell ends, before the observer runs

    pathlib.Path("table.json.tmp").write_text(json.dumps(explorer.table))
    pathlib.Path("table.json.tmp").replace("table.json")

explorer.observe(_dump_table, names=["table"])
_dump_table()''', args="explorer")
EXPLORER = WIDGETS["explorer"]


@pytest.fixture(scope="module")
def explorer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo-a11y")
    with marimo_server(explorer_app(folder, extra_cells=(TABLE_CELL,))) as server:
        yield server, folder


def scheme_violations(page, scheme: str) -> list[str]:
    """axe's violations in the explorer and the chart widget in ``scheme``, with the data table closed and
    open; prints the whole page's counts (marimo's own page included) for information."""
    set_scheme(page, scheme, [EXPLORER, WIDGETS["chart"]])
    found = []
    for widget in ("explorer", "chart"):
        violations = axe_result(page, WIDGETS[widget])
        print(f"axe marimo {scheme} {widget}: {axe_counts(page, WIDGETS[widget])}")
        found += [f"{scheme} {widget}: {line}" for line in explain(violations).splitlines()]
    print(f"axe marimo {scheme} whole page (for information): {axe_counts(page)}")
    return found


def test_axe_finds_no_violation_in_the_explorer_and_the_chart_in_marimo(explorer_server, guarded):
    server, _ = explorer_server
    page = guarded.page
    open_app(page, server.url, [EXPLORER_DRAWN, CHART_DRAWN])
    found = scheme_violations(page, "light") + scheme_violations(page, "dark")
    # the data table open, in the Tokens view (the longest table, scrolling in its region)
    explorer = page.locator(EXPLORER)
    explorer.locator(".nbc-table-toggle").click()
    explorer.locator("button.nbc-view[data-view='tokens']").click()
    page.wait_for_function("(el) => el.querySelectorAll('.nbc-table-region tbody tr').length > 20",
                           arg=explorer.element_handle(), timeout=ROUND_TRIP)
    for scheme in ("dark", "light"):
        set_scheme(page, scheme, [EXPLORER])
        found += [f"{scheme} explorer, table open: {line}"
                  for line in explain(axe_result(page, EXPLORER)).splitlines()]
    assert found == [], "\n".join(found)
    assert guarded.page_errors == [] and guarded.blocked == []


def test_the_accessibility_tree_in_marimo_names_the_view_panel_and_the_chart(explorer_server, guarded):
    """Inside marimo's shadow root: the tab panel is named by the selected tab, the chart is an image named by
    its title and described by Python's summary (the ``description`` trait)."""
    server, _ = explorer_server
    page = guarded.page
    open_app(page, server.url, [EXPLORER_DRAWN])
    explorer = page.locator(EXPLORER)
    page.wait_for_function("(el) => el.querySelector('.nbc-chart [role=img][aria-describedby]')",
                           arg=explorer.element_handle(), timeout=RENDER)
    snapshot = explorer.aria_snapshot()
    print(snapshot)
    assert 'tablist "View"' in snapshot and 'tabpanel "Heatmap"' in snapshot
    name = explorer.locator(".nbc-chart [role='img']").first.get_attribute("aria-label")
    assert name and f'img "{name}"' in snapshot
    described = explorer.evaluate("""(el) => { const img = el.querySelector('.nbc-chart [role=img]');
        return el.getRootNode().getElementById(img.getAttribute('aria-describedby'))?.textContent; }""")
    assert described and described.startswith("Heatmap of pairwise cosine similarity by layer")


def test_the_explorer_tasks_by_keyboard_alone_in_marimo(explorer_server, guarded):
    server, folder = explorer_server
    page = guarded.page
    open_app(page, server.url, [EXPLORER_DRAWN, CHART_DRAWN])  # the chart cell waits for the measurement
    state = wait_read(page, lambda: read_state(folder), lambda s: s.get("status") == "idle" and s["_revision"] >= 1,
                      "the first chart")
    assert state["layers"] == [] and state["samples"] == []
    # the app's last cell ran; the view's first choice is still sent only once marimo answered its sync, when the
    # kernel is free (a few seconds more on a busy machine: the first wait below is longer)
    wait_read(page, lambda: {"table": (folder / "table.json").exists()}, lambda s: s["table"], "the last cell run")
    layers = [int(x) for x in page.locator(f"{EXPLORER} .nbc-chips .nbc-chip").evaluate_all(
        "els => els.map(e => e.dataset.layer)")]
    # every keydown that reaches marimo's document (bubbling up from the widget's shadow root) is counted
    page.evaluate("""() => { window.__leaked = [];
        document.addEventListener('keydown', (e) => window.__leaked.push(e.key)); }""")

    waits = iter([KERNEL_IDLE_S])

    def wait(predicate, what):
        return wait_read(page, lambda: read_state(folder), predicate, what, next(waits, ROUND_TRIP / 1000))

    do_tasks(page, wait, layers)
    assert focused(page, "el.closest('.nbc-sample-group') !== null")

    # the data table, opened by keyboard; CSV by keyboard downloads its rows, which are Python's table
    tab_to(page, "el.matches('.nbc-table-toggle')")
    page.keyboard.press("Enter")
    assert page.locator(f"{EXPLORER} .nbc-table-toggle").get_attribute("aria-expanded") == "true"
    table = wait_read(page, lambda: json.loads((folder / "table.json").read_text()),
                        lambda t: t.get("rows") and page.locator(f"{EXPLORER} .nbc-table-region tbody tr").count()
                        == len(t["rows"]), "the table of the chosen sample")
    tab_to(page, "el.closest('.nbc-export')")
    page.keyboard.press("End")
    assert focused(page, "el.dataset.export") == "csv"
    with page.expect_download(timeout=ROUND_TRIP) as download:
        page.keyboard.press("Enter")
    check_csv(Path(download.value.path()).read_text(), table)

    # Escape leaves the control for the explorer's root: no trap
    page.keyboard.press("Escape")
    assert focused(page, f"el.matches('{EXPLORER}')")
    assert page.evaluate("window.__leaked.filter((k) => k !== 'Escape' && k !== 'Tab')") == []
    final = read_state(folder)
    assert final["error"] == "" and final["layers"] == [layers[-2]] and final["samples"] == [1]
    assert guarded.page_errors == [] and guarded.blocked == []


def wait_read(page, read: Callable[[], dict], predicate: Callable[[dict], bool], what: str,
              timeout_s: float = ROUND_TRIP / 1000) -> dict:
    """:func:`.checks.wait_python`, waiting in Playwright between reads (see there why marimo needs it)."""
    return wait_python(read, predicate, what, timeout_s, sleep=page_sleep(page))


def check_csv(text: str, table: dict) -> None:
    """The downloaded CSV holds Python's table: its columns, and its rows (in any order, to 4 decimals)."""
    import pandas as pd

    exported = pd.read_csv(io.StringIO(text))
    # Python's rows as pandas reads them back from CSV (None, a missing interval, becomes NaN as in the download)
    expected = pd.read_csv(io.StringIO(pd.DataFrame(table["rows"], columns=table["columns"]).to_csv(index=False)))
    assert list(exported.columns) == table["columns"] and len(exported) == len(table["rows"]) > 0
    key = table["columns"]
    pd.testing.assert_frame_equal(exported.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True), check_dtype=False, atol=1e-4)


def test_the_tab_order_through_the_explorer_in_marimo_is_at_most_8_stops(explorer_server, guarded):
    server, _ = explorer_server
    page = guarded.page
    open_app(page, server.url, [EXPLORER_DRAWN])
    stops = tab_stops(page, EXPLORER)
    print(f"tab stops in marimo ({len(stops)}): {stops}")
    assert 0 < len(stops) <= 8, stops


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_explorer_in_marimo(explorer_server, guarded, scheme):
    """The explorer at a narrow (420 px) and a wide (1280 px) window: it fits the window (no part of it past the
    right edge); the pictures are kept as ``marimo_a11y_{scheme}_{width}.png``."""
    server, _ = explorer_server
    page = guarded.page
    page.emulate_media(color_scheme=scheme)
    open_app(page, server.url, [EXPLORER_DRAWN])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (420, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        set_scheme(page, scheme, [EXPLORER])
        explorer = page.locator(EXPLORER)
        explorer.scroll_into_view_if_needed()
        right = explorer.evaluate("(el) => el.getBoundingClientRect().right")
        page.screenshot(path=str(ARTIFACTS / f"marimo_a11y_{scheme}_{width}.png"), full_page=True)
        assert right <= width, f"the explorer ends at {right} px in a {width} px window"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo-a11y-live")
    with marimo_server(live_app(folder)) as server:
        yield server, folder


def test_axe_finds_no_violation_in_the_live_view_in_marimo(live_server, guarded):
    server, _ = live_server
    page = guarded.page
    open_app(page, server.url, [LIVE_DONE], timeout=KERNEL_IDLE_S * 4 * 1000)
    found = []
    for scheme in ("light", "dark"):
        set_scheme(page, scheme, [WIDGETS["live view"]])
        print(f"axe marimo {scheme} live view: {axe_counts(page, WIDGETS['live view'])}; "
              f"whole page (for information): {axe_counts(page)}")
        found += [f"{scheme}: {line}" for line in explain(axe_result(page, WIDGETS["live view"])).splitlines()]
    assert page.locator(".nbc-monitor .nbc-panel [role=img][aria-describedby]").count() == 3
    assert found == [], "\n".join(found)
    assert guarded.page_errors == [] and guarded.blocked == []


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo-a11y-edit")
    with marimo_server(explorer_app(folder), mode="edit") as server:
        yield server, folder


CHIP = "el.closest('.nbc-layer-group') ? el.dataset.layer : null"


def test_the_widgets_keys_stay_in_the_widget_in_the_marimo_editor(editor_server, guarded):
    """In ``marimo edit`` the arrow keys move between cells: inside the explorer they move between its own
    controls, and neither marimo's page nor its cells see them; Escape gives the focus to the explorer's root."""
    server, folder = editor_server
    page = guarded.page
    open_app(page, server.url, [EXPLORER_DRAWN, CHART_DRAWN])
    page.evaluate("""() => { window.__leaked = [];
        document.addEventListener('keydown', (e) => window.__leaked.push(e.key)); }""")
    chips = ["all", *page.locator(f"{EXPLORER} .nbc-chips .nbc-chip").evaluate_all(
        "els => els.map(e => e.dataset.layer)")]
    page.locator(f"{EXPLORER} .nbc-all").focus()
    moves = {"ArrowRight": 1, "ArrowDown": 1, "ArrowLeft": -1, "ArrowUp": -1}
    at = 0
    for key in ["ArrowRight", "ArrowRight", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowDown", "End", "Home"]:
        page.keyboard.press(key)
        at = {"End": len(chips) - 1, "Home": 0}.get(key, at + moves.get(key, 0))
        assert focused(page, CHIP) == chips[at], f"after {key} the focus is not on chip {chips[at]}"
    page.locator(f"{EXPLORER} .nbc-chart").focus()
    for key in ["ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp", "End", "Home"]:
        page.keyboard.press(key)
        assert focused(page, "el.matches('.nbc-chart')"), f"after {key} the focus left the heatmap"
    page.keyboard.press("Escape")
    assert focused(page, f"el.matches('{EXPLORER}')")
    assert page.evaluate("window.__leaked.filter((k) => k !== 'Escape')") == []
    assert read_state(folder)["layers"] == []  # arrows move the focus; only Space and Enter choose
