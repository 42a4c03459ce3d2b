"""The explorer's tasks by keyboard alone in Voila (a real kernel): Python's traits are read back after each step."""

from __future__ import annotations

import pytest

from .test_a11y import _tools, tab_to  # noqa: F401  (the fixture skips without Chromium or axe-core)
from .test_voila import voila, wait_state  # noqa: F401  (the Voila server fixture)
from .timeouts import PAGE_LOAD

pytestmark = pytest.mark.browser


def test_every_task_by_keyboard_alone_in_voila(voila, guarded):  # noqa: F811
    server, folder = voila
    page = guarded.page
    page.goto(server.url, timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=PAGE_LOAD)
    wait_state(folder, lambda s: s["status"] == "idle" and s["_revision"] >= 1, "the first chart")
    layers = [int(x) for x in page.eval_on_selector_all(".nbc-chips .nbc-chip", "els => els.map(e => e.dataset.layer)")]

    tab_to(page, "el.getAttribute('role') === 'tab'", limit=40)
    page.keyboard.press("ArrowRight")
    wait_state(folder, lambda s: s["view"] == "distributions", "view == distributions")
    page.keyboard.press("Home")
    wait_state(folder, lambda s: s["view"] == "heatmap", "view == heatmap")

    tab_to(page, "el.closest('.nbc-layer-group')")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait_state(folder, lambda s: s["layers"] == [layers[0]], "one layer by chip")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait_state(folder, lambda s: s["layers"] == [layers[0], layers[2]], "two layers by chip")

    tab_to(page, "el.closest('.nbc-chart')")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    wait_state(folder, lambda s: s["layers"] == [layers[-2]], "a layer by heatmap column")

    page.keyboard.press("Escape")
    tab_to(page, "el.closest('.nbc-sample-group')")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    wait_state(folder, lambda s: s["samples"] == [1], "a sample by keyboard")
    final = wait_state(folder, lambda s: s["status"] == "idle", "idle")
    assert final["error"] == ""
    assert guarded.page_errors == []
