"""The checks every host runs, written once: the explorer answers a click and Python sees it, a chart shows its
tooltip, the live view redraws while its cell runs. Each keeps a screenshot in ``ARTIFACTS`` and counts the
requests that left 127.0.0.1 (none allowed). Width and theme checks (issue 24) belong here too, so that every
host runs them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .conftest import ARTIFACTS
from .notebooks import read_state
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD, RENDER, ROUND_TRIP

HOST_ERRORS = {"Cannot read properties of undefined (reading 'schema')"}
"""Errors a host throws by itself: Notebook 7.6 throws this one while loading its settings, with a one-cell
``1+1`` notebook too (no nb_condense involved)."""


def assert_clean(guarded) -> None:
    """No page error of ours (the host's own, :data:`HOST_ERRORS`, aside) and no request off 127.0.0.1."""
    ours = [error for error in guarded.page_errors if error not in HOST_ERRORS]
    assert ours == [] and guarded.blocked == [], (ours, guarded.blocked)


def screenshot(page, name: str, selector: str | None = None) -> Path:
    """Keep a picture of ``selector`` (or the page) as ``ARTIFACTS/name.png``; returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).first.scroll_into_view_if_needed()
        page.locator(selector).first.screenshot(path=str(path))
    return path


def wait_python(read: Callable[[], dict], predicate: Callable[[dict], bool], what: str) -> dict:
    """Poll ``read()`` (Python's state, written by the kernel) until ``predicate`` holds."""
    deadline = time.monotonic() + ROUND_TRIP / 1000
    while True:
        state = read()
        if state and predicate(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"Python never reported {what}; last state: {state}")
        time.sleep(0.1)


def check_explorer(page, guarded, folder: Path, host: str) -> None:
    """The explorer of ``notebooks.BUILD`` draws, a layer click reaches Python, a sample click too."""
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] svg", timeout=PAGE_LOAD)
    page.click(".nbc-explorer .nbc-chip[data-layer='1']")
    page.wait_for_selector(".nbc-explorer .nbc-chip[data-layer='1'][aria-pressed='true']", timeout=RENDER)
    wait_python(lambda: read_state(folder), lambda s: s.get("layers") == [1], "layers == [1]")
    page.click(".nbc-explorer .nbc-sample-list li[data-sample='2'] input")
    wait_python(lambda: read_state(folder), lambda s: s.get("samples") == [2], "samples == [2]")
    page.wait_for_timeout(300)
    screenshot(page, f"{host}_explorer", ".nbc-explorer")
    size = page.viewport_size
    page.set_viewport_size({"width": 700, "height": size["height"]})  # a narrow window (the width checks go here)
    page.wait_for_timeout(500)
    screenshot(page, f"{host}_explorer_narrow")
    page.set_viewport_size(size)
    assert_clean(guarded)


def check_chart_tooltip(page, guarded, host: str) -> None:
    """A heatmap drawn by the offline chart widget: its cells are drawn and hovering one shows the tooltip."""
    cells = ".nbc-chart-only[data-rendered] svg .mark-rect.role-mark path"
    page.wait_for_selector(cells, timeout=PAGE_LOAD)
    page.locator(".nbc-chart-only").first.scroll_into_view_if_needed()
    box = page.locator(cells).last.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    tooltip = page.locator("#vg-tooltip-element").inner_text()
    screenshot(page, f"{host}_chart_tooltip")
    assert "density" in tooltip and "layer" in tooltip, tooltip
    assert_clean(guarded)


UPDATES = "(panels) => panels.reduce((sum, panel) => sum + Number(panel.dataset.updates ?? 0), 0)"
"""The redraws of every panel of the live view (evaluated on a locator: it reaches into marimo's shadow DOM)."""


def check_live_view(page, guarded, running: Callable[[], bool], host: str, steps: int = 12) -> set[int]:
    """The training monitor redraws while its cell runs (``running()``) and ends at ``steps``; the redraw
    counts seen while running are returned."""
    page.wait_for_selector(".nbc-monitor", timeout=PAGE_LOAD)
    seen_while_running = set()
    deadline = time.monotonic() + KERNEL_IDLE_S * 3
    while running():
        assert time.monotonic() < deadline, "the training cell never finished"
        seen_while_running.add(page.locator(".nbc-monitor .nbc-panel").evaluate_all(UPDATES))
        page.wait_for_timeout(100)
    page.wait_for_selector(".nbc-monitor[data-status='done']", timeout=20_000)
    assert page.get_attribute(".nbc-monitor", "data-step") == str(steps)
    for panel in ("losses", "means", "heatmap"):
        assert page.locator(f".nbc-monitor .nbc-panel[data-panel='{panel}'] svg").count() == 1
    screenshot(page, f"{host}_live_view", ".nbc-monitor")
    assert_clean(guarded)
    return seen_while_running
