"""The explorer's tasks by keyboard alone in Voila (a real kernel): Python's traits are read back after each step
(the task list is :func:`.keyboard.explorer_tasks_by_keyboard`, shared with JupyterLab)."""

from __future__ import annotations

import pytest

from .keyboard import explorer_tasks_by_keyboard
from .test_a11y import _tools  # noqa: F401  (the fixture skips without Chromium or axe-core)
from .test_voila import voila, wait_state  # noqa: F401  (the Voila server fixture)
from .timeouts import PAGE_LOAD

pytestmark = pytest.mark.browser


def test_every_task_by_keyboard_alone_in_voila(voila, guarded):  # noqa: F811
    server, folder = voila
    page = guarded.page
    page.goto(server.url, timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=PAGE_LOAD)
    wait_state(folder, lambda s: s["status"] == "idle" and s["_revision"] >= 1, "the first chart")
    explorer_tasks_by_keyboard(page, lambda predicate, what: wait_state(folder, predicate, what))
    final = wait_state(folder, lambda s: s["status"] == "idle", "idle")
    assert final["error"] == ""
    assert guarded.page_errors == []
