"""marimo (issue 23.1-2): ``marimo run`` of apps that show the explorer and a chart widget through
``mo.ui.anywidget``, and the live view of a training cell; the same checks as in the Jupyter hosts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .checks import (
    assert_clean,
    check_explorer,
    check_fit,
    check_live_view,
    check_theme,
    hover_last_rect,
    page_sleep,
    screenshot,
    wait_python,
)
from .marimo_apps import explorer_app, live_app
from .notebooks import read_state
from .servers import Server, marimo_server
from .timeouts import PAGE_LOAD, RENDER, ROUND_TRIP

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def explorer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo")
    with marimo_server(explorer_app(folder)) as server:
        yield server, folder


def open_explorer_app(page, server: Server) -> None:
    """Open the explorer app and wait until it has run to its end: the explorer and the chart drawn (the chart
    cell waits for the measurement). A click made while a cell runs is answered when the cell ends
    (test_marimo_commands), which can take longer than ROUND_TRIP on a busy machine."""
    page.goto(server.url, timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)


def test_explorer_and_a_chart_in_marimo(explorer_server, guarded):
    server, folder = explorer_server
    page = guarded.page
    open_explorer_app(page, server)
    check_explorer(page, guarded, folder, "marimo")
    # the dependent cell re-ran and read the explorer's traits
    page.wait_for_selector("text=PYTHON SAYS layers=[1] samples=[2] view=heatmap", timeout=ROUND_TRIP)
    assert read_state(folder)["view"] == "heatmap"
    page.click(".nbc-explorer button.nbc-view[data-view='distributions']")
    wait_python(lambda: read_state(folder), lambda s: s.get("view") == "distributions", "view == distributions",
                sleep=page_sleep(page))
    page.wait_for_selector(".nbc-explorer .nbc-chart .mark-line.role-mark path", timeout=RENDER)
    page.wait_for_selector("text=PYTHON SAYS layers=[1] samples=[2] view=distributions", timeout=ROUND_TRIP)

    page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    page.locator(".nbc-chart-only").first.scroll_into_view_if_needed()
    hover_last_rect(page, ".nbc-chart-only")
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    assert "density" in page.locator("#vg-tooltip-element").inner_text()
    screenshot(page, "marimo_page")
    assert_clean(guarded)


def test_the_explorer_fits_and_follows_the_theme_in_marimo(explorer_server, guarded):
    """Issue 23's done-when: the width and theme checks of the charts issue, in marimo (its theme set to
    "system", so the page follows ``prefers-color-scheme``, emulated here)."""
    server, _ = explorer_server
    page = guarded.page
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.emulate_media(color_scheme="light")
    open_explorer_app(page, server)
    check_fit(page, guarded, "marimo")
    check_theme(page, guarded, "marimo", lambda: page.emulate_media(color_scheme="dark"),
                lambda: page.emulate_media(color_scheme="light"))


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo-live")
    with marimo_server(live_app(folder)) as server:
        yield server, folder


def test_the_live_view_in_marimo(live_server, guarded):
    server, folder = live_server
    page = guarded.page
    page.goto(server.url, timeout=PAGE_LOAD)
    report = folder / "monitor.json"  # written by the cell when the training ends
    seen = check_live_view(page, guarded, lambda: not report.exists(), "marimo")
    assert len(seen - {0}) >= 5, f"the view redrew only {sorted(seen)} while training"
    result = json.loads(report.read_text())
    assert result["status"] == "done" and result["step"] == 12
