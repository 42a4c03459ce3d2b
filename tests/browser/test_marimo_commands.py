"""The explorer's commands are answered in marimo (``marimo run``, ``mo.ui.anywidget``), whose front end gives
``render`` no working ``experimental.invoke`` (it always throws "anywidget.invoke not supported in marimo"): the
widget sends anywidget's command requests as custom messages itself (``js/src/command.js``).

A click is answered: Python's traits are read back by a dependent cell, the explorer draws Python's answer, the
CSV export (a command whose answer carries data) downloads exactly what Python holds, no error is shown and no
request leaves 127.0.0.1. The first click lands while a later cell still runs: marimo answers ``sync`` after it and
echoes no update back, which once left the view showing the older choice. A screenshot is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .servers import Server, free_port
from .timeouts import PAGE_LOAD, ROUND_TRIP

pytestmark = pytest.mark.browser

marimo = pytest.importorskip("marimo", reason="marimo is not installed (pip install 'nb_condense[test]')")

SLEEP_S = 12  # the cell after the explorer's: the first click lands while it runs

APP = '''\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import nb_condense as nbc
    from transformers import AutoConfig
    from nb_condense.measurement.models import load_tokenizer, random_model

    config = AutoConfig.for_model("gpt2", n_layer=3, n_embd=32, n_head=2, n_positions=128, vocab_size=30522,
                                  bos_token_id=0, eos_token_id=0)
    texts = nbc.sample_texts("builtin", 6, min_word_count=20, max_word_count=400, seed=0)
    session = nbc.CondensationSession(random_model(config, seed=0), load_tokenizer("embedded"), texts=texts,
                                      max_length=64, name="tiny-gpt2", show_progress=False)
    session.measure()
    explorer = nbc.CondensationExplorer(session, debounce_wait=30)
    widget = mo.ui.anywidget(explorer)
    widget
    return explorer, mo, widget


@app.cell
def _(widget):
    import time

    time.sleep({sleep})
    slept = True
    return (slept,)


@app.cell
def _(explorer, mo, slept, widget):
    import pathlib

    widget.value  # re-run on every change the page sends; read the explorer's own traits
    if explorer.status == "idle":
        pathlib.Path("python.csv").write_text(explorer.data().to_csv(index=False))
    mo.md(f"PYTHON SAYS layers={{explorer.layers}} view={{explorer.view}} status={{explorer.status}}")
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("marimo")
    (folder / "app.py").write_text(APP.format(sleep=SLEEP_S))
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", MARIMO_SKIP_UPDATE_CHECK="1")
    for name in ("CONFIG", "CACHE", "STATE", "DATA"):  # marimo's user config and caches stay in the folder
        env[f"XDG_{name}_HOME"] = str(folder / f"xdg_{name.lower()}")
    port = free_port()
    with Server(["marimo", "run", "app.py", "--host", "127.0.0.1", "--port", str(port), "--headless"],
                cwd=folder, env=env, port=port, ready_path="/") as server:
        yield server, folder


def pressed(page) -> list[str]:
    return page.locator(".nbc-explorer .nbc-chips .nbc-chip[aria-pressed='true']").all_inner_texts()


def test_a_click_in_the_marimo_explorer_is_answered(marimo_app, guarded):
    server, folder = marimo_app
    page = guarded.page
    page.goto(server.url, timeout=PAGE_LOAD)
    drawn = ".nbc-explorer .nbc-chart[data-revision='1'] .nbc-vega > :is(canvas, svg)"  # the heatmap: a canvas
    page.wait_for_selector(drawn, timeout=PAGE_LOAD)

    # the first click, while the sleeping cell holds the kernel (its dependent cell has not run yet)
    page.click(".nbc-explorer .nbc-chip[data-layer='2']")
    assert page.locator("text=PYTHON SAYS").count() == 0, f"the click came after the {SLEEP_S} s cell ended"
    page.wait_for_selector("text=PYTHON SAYS layers=[2] view=heatmap status=idle", timeout=PAGE_LOAD)
    page.wait_for_timeout(1000)  # anything marimo still sends has arrived
    assert pressed(page) == ["2"]  # the view agrees with Python

    # a view switch: Python's answer (a new spec) is drawn
    page.click(".nbc-explorer button.nbc-view[data-view='distributions']")
    page.wait_for_selector("text=PYTHON SAYS layers=[2] view=distributions status=idle", timeout=ROUND_TRIP)
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision='2']:not(.nbc-busy) svg", timeout=ROUND_TRIP)
    assert page.locator(".nbc-explorer .nbc-chart .mark-line path, .nbc-explorer .nbc-chart .mark-area path") \
        .count() > 0  # the distributions' curves, not the heatmap's cells
    assert pressed(page) == ["2"]

    # the CSV export: the command's answer is the data Python holds for the drawn chart
    with page.expect_download(timeout=ROUND_TRIP) as download:
        page.click(".nbc-explorer button:has-text('CSV')")
    downloaded = Path(download.value.path()).read_text()
    assert downloaded == (folder / "python.csv").read_text() and downloaded.count("\n") > 1

    assert page.locator(".nbc-explorer .nbc-error").is_hidden(), page.locator(".nbc-explorer").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "marimo_explorer_answered.png"))
    warnings = [text for kind, text in guarded.console if "anywidget" in text or "nb_condense" in text]
    assert warnings == [] and guarded.page_errors == []
    assert guarded.blocked == []
