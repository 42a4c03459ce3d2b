"""End to end in Voila: a real kernel, the real comm; click a layer, pick samples, switch views, and check
both the page and the widget's Python traits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import vega_items
from .notebooks import explorer_notebook, read_state
from .servers import Server, free_port, jupyter_env
from .timeouts import PAGE_LOAD, RENDER, ROUND_TRIP

pytestmark = pytest.mark.browser

# Voila's page template links two font-awesome stylesheets (all.min.css, v4-shims.min.css) from a CDN:
# cosmetic, blocked, and the only requests tolerated off 127.0.0.1.
TOLERATED = "/npm/@fortawesome/fontawesome-free@"


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("voila")
    explorer_notebook(folder)
    port = free_port()
    with Server(["voila", "explorer.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
                cwd=folder, env=jupyter_env(folder), port=port, ready_path="/voila/static/", any_status=True) as server:
        yield server, folder


def wait_state(folder: Path, predicate, what: str, timeout_s: float = ROUND_TRIP / 1000) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        state = read_state(folder)
        if state and predicate(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"Python never reported {what}; last state: {state}")
        time.sleep(0.05)


def layer_column_centre(page, layer: int) -> dict:
    """Centre of a heatmap cell in the column of ``layer`` (columns are ordered by layer fraction)."""
    cells = [c for c in vega_items(page, ".nbc-chart", "rect") if c["datum"]["layer"] == layer]
    cell = max(cells, key=lambda c: c["datum"]["density"])  # read from the drawn view (a canvas)
    return {"x": cell["x"] + cell["width"] / 2, "y": cell["y"] + cell["height"] / 2}


def test_click_pick_switch_in_voila(voila, guarded):
    server, folder = voila
    page = guarded.page
    page.goto(server.url, timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=PAGE_LOAD)
    wait_state(folder, lambda s: s["status"] == "idle" and s["_revision"] >= 1, "the first chart")
    revision = int(page.get_attribute(".nbc-chart", "data-revision"))

    # click layer 2's column in the heatmap
    point = layer_column_centre(page, 2)
    page.mouse.click(point["x"], point["y"])
    wait_state(folder, lambda s: s["layers"] == [2], "layers == [2]")
    page.wait_for_selector(".nbc-chart:not(.nbc-busy)", timeout=ROUND_TRIP)  # Python's answer arrived
    assert page.get_attribute(".nbc-chip[data-layer='2']", "aria-pressed") == "true"
    # the page highlighted the column itself: same spec, no second embed
    assert page.get_attribute(".nbc-chart", "data-revision") == str(revision)
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"

    # pick two samples: Python sends the heatmap's new rows, the page swaps them in (no re-embed)
    updates = int(page.get_attribute(".nbc-chart", "data-updates"))
    page.click(".nbc-sample-list li[data-sample='1'] input")
    page.click(".nbc-sample-list li[data-sample='3'] input")
    wait_state(folder, lambda s: s["samples"] == [1, 3], "samples == [1, 3]")
    page.wait_for_function(f"Number(document.querySelector('.nbc-chart').dataset.updates) > {updates}",
                           timeout=RENDER)
    assert page.locator(".nbc-sample-list input:checked").count() == 2
    assert page.get_attribute(".nbc-chart", "data-embeds") == "1"

    # switch views: distributions (one curve: layer 2), then tokens (the text of sample 1)
    page.click("button.nbc-view[data-view='distributions']")
    wait_state(folder, lambda s: s["view"] == "distributions", "view change")
    page.wait_for_function("document.querySelectorAll('.nbc-chart .mark-line.role-mark path').length === 1",
                           timeout=RENDER)
    page.click("button.nbc-view[data-view='tokens']")
    wait_state(folder, lambda s: s["view"] == "tokens", "view == tokens")
    title = "document.querySelector('.nbc-chart').vegaView?.signal('nbc_title')"
    page.wait_for_function(f"{title}?.includes('sample #1')", timeout=RENDER)
    assert page.evaluate(title).endswith("sample #1 · layer 2")
    final = read_state(folder)
    assert final["status"] == "idle" and final["error"] == ""

    assert guarded.page_errors == []
    assert [url for url in guarded.blocked if TOLERATED not in url] == []
    assert len(guarded.blocked) <= 2
