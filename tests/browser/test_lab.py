"""JupyterLab smoke test: run the explorer cell in a real Lab, click a layer, read the trait back in a cell."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .notebooks import explorer_notebook, read_state
from .servers import Server, lab_server
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD, RENDER, ROUND_TRIP

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("lab")
    explorer_notebook(folder, "smoke.ipynb", extra_cells=('print("PYTHON SAYS", explorer.layers, explorer.view)',))
    with lab_server(folder) as server:
        yield server, folder


def wait_kernel_idle(page, url: str) -> None:
    """Lab shows 'idle' before the kernel exists; poll the REST API instead (while Playwright pumps events)."""
    deadline = time.monotonic() + KERNEL_IDLE_S
    while True:
        with urllib.request.urlopen(f"{url}/api/kernels", timeout=5) as response:
            kernels = json.loads(response.read())
        if kernels and all(k["execution_state"] == "idle" and k["connections"] >= 1 for k in kernels):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel not idle after {KERNEL_IDLE_S} s: {kernels}")
        page.wait_for_timeout(200)


def run_cell(page, index: int) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")


def open_and_run_first_cell(page, url: str, notebook: str) -> None:
    """Open ``notebook`` in the Lab at ``url``, wait for its kernel, run its first cell."""
    page.goto(f"{url}/lab/tree/{notebook}", timeout=PAGE_LOAD)
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=PAGE_LOAD)
    wait_kernel_idle(page, url)
    run_cell(page, 0)


def test_explorer_in_jupyterlab(lab, guarded):
    server, folder = lab
    page = guarded.page
    open_and_run_first_cell(page, server.url, "smoke.ipynb")
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] svg", timeout=PAGE_LOAD)
    page.click(".nbc-chip[data-layer='1']")
    page.wait_for_selector(".nbc-chip[data-layer='1'][aria-pressed='true']", timeout=RENDER)
    deadline = time.monotonic() + ROUND_TRIP / 1000
    while read_state(folder).get("layers") != [1]:
        assert time.monotonic() < deadline, f"Python never saw layers == [1]: {read_state(folder)}"
        page.wait_for_timeout(100)
    run_cell(page, 1)
    page.wait_for_selector("text=PYTHON SAYS [1] heatmap", timeout=ROUND_TRIP)
    assert guarded.page_errors == [] and guarded.blocked == []
