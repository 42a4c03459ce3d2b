"""Jupyter Notebook 7 (issue 23.1): the explorer, a tutorial chart with its tooltip, and the live view, driven
with the same checks as JupyterLab (``checks.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from .checks import check_chart_tooltip, check_explorer, check_live_view, wait_python
from .hosts import NOTEBOOK7
from .notebooks import explorer_notebook, write_notebook
from .servers import Server, notebook7_server
from .test_fit_and_theme import FIGURE_CELL
from .test_lab import CHART_CELL
from .test_live_view import TRAIN
from .timeouts import ROUND_TRIP

pytestmark = pytest.mark.browser
HOST = NOTEBOOK7


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("notebook7")
    explorer_notebook(folder, "explorer.ipynb",
                      extra_cells=('print("PYTHON SAYS", explorer.layers, explorer.samples)',))
    tutorial = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "00_quickstart.ipynb", as_version=4)
    setup = "\n".join(c.source for c in [c for c in tutorial.cells if c.cell_type == "code"][:2])  # parameters, setup
    write_notebook(folder, "chart.ipynb", [setup, CHART_CELL])
    write_notebook(folder, "live.ipynb", [TRAIN])
    explorer_notebook(folder, "fit.ipynb", extra_cells=(FIGURE_CELL,))
    with notebook7_server(folder) as server:
        yield server, folder


def test_explorer_in_notebook7(notebook7, guarded):
    server, folder = notebook7
    page = guarded.page
    HOST.open(page, server.url, "explorer.ipynb")
    HOST.run_cell(page, 0)
    check_explorer(page, guarded, folder, HOST.name)
    HOST.run_cell(page, 1)
    page.wait_for_selector("text=PYTHON SAYS [1] [2]", timeout=ROUND_TRIP)


def test_a_tutorial_chart_in_notebook7(notebook7, guarded):
    server, _ = notebook7
    page = guarded.page
    HOST.open(page, server.url, "chart.ipynb")
    HOST.run_cell(page, 0)
    page.wait_for_selector("text=DEVICE = 'cpu'", timeout=ROUND_TRIP)
    HOST.run_cell(page, 1)
    check_chart_tooltip(page, guarded, HOST.name)
    assert page.locator(".jp-OutputArea-output img").count() == 0  # the widget is shown, not the static copy


def test_the_live_view_redraws_in_notebook7(notebook7, guarded):
    server, folder = notebook7
    page = guarded.page
    HOST.open(page, server.url, "live.ipynb")
    HOST.run_cell(page, 0)
    seen = check_live_view(page, guarded, lambda: HOST.cell_running(page, 0), HOST.name)
    assert len(seen - {0}) >= 5, f"the view redrew only {sorted(seen)} while training"
    report = wait_python(lambda: json.loads((folder / "monitor.json").read_text())
                         if (folder / "monitor.json").exists() else {}, lambda r: "step" in r, "the run's end")
    assert report["status"] == "done" and report["step"] == 12


def test_the_explorer_fits_and_follows_the_theme_in_notebook7(notebook7, guarded):
    """Issue 23's done-when: the width and theme checks of the charts issue, in Notebook 7 (its Settings > Theme
    menu switches Light -> Dark -> Light)."""
    server, _ = notebook7
    HOST.check_fit_and_theme(guarded.page, guarded, server.url, "fit.ipynb")
