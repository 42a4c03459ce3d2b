"""The explorer's lifecycle in a real page: after measurements that fail or succeed at once, the page shows the
status Python holds (no "Measuring… 0 %" left behind), for many explorers in a row."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .notebooks import write_notebook
from .servers import Server, lab_server
from .test_lab import big_frames, open_and_run_first_cell, run_cell
from .timeouts import PAGE_LOAD, ROUND_TRIP

pytestmark = pytest.mark.browser
N = 20  # explorers whose measurement fails at once, and as many whose measurement succeeds at once

BUILD = f'''\
import json, pathlib
import ipywidgets
import nb_condense as nbc
from transformers import AutoConfig
from nb_condense.measurement.models import load_tokenizer, random_model

tokenizer = load_tokenizer("embedded")
config = AutoConfig.for_model("gpt2", n_layer=1, n_embd=8, n_head=2, n_positions=16, vocab_size=30522,
                              bos_token_id=0, eos_token_id=0)
model = random_model(config, seed=0)
texts = ["two words", "and three words"]
explorers = []
for i in range({N}):
    # max_length above the model's 16 positions: the measurement fails at once
    failing = nbc.CondensationSession(model, tokenizer, texts=texts, max_length=64, name=f"fails-{{i}}",
                                      show_progress=False)
    passing = nbc.CondensationSession(model, tokenizer, texts=texts, max_length=8, name=f"works-{{i}}",
                                      show_progress=False)
    explorers += [nbc.CondensationExplorer(failing), nbc.CondensationExplorer(passing)]
ipywidgets.VBox(explorers)'''

DUMP = '''\
for explorer in explorers:
    explorer.wait(60)
tmp = pathlib.Path("statuses.json.tmp")
tmp.write_text(json.dumps({"explorers": [[e.model, e.status, e.error] for e in explorers]}))
tmp.replace("statuses.json")'''


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    # JupyterLab, not Voila: Voila's page reads every widget's state after the notebook ran, while in Lab the
    # page must follow each change as it happens (the case that used to leave "Measuring… 0 %" on screen)
    folder = tmp_path_factory.mktemp("lifecycle")
    write_notebook(folder, "lifecycle.ipynb", [BUILD, DUMP])
    with lab_server(folder) as server:
        yield server, folder


def test_the_page_ends_in_the_status_python_holds(lab, guarded):
    server, folder = lab
    page = guarded.page
    frames = big_frames(page)
    open_and_run_first_cell(page, server.url, "lifecycle.ipynb")
    page.wait_for_function(f"document.querySelectorAll('.nbc-explorer').length === {2 * N}", timeout=PAGE_LOAD)
    run_cell(page, 1)
    deadline = time.monotonic() + PAGE_LOAD / 1000
    while not (folder / "statuses.json").exists():
        assert time.monotonic() < deadline, "the notebook never wrote the explorers' statuses"
        page.wait_for_timeout(200)
    report = json.loads((folder / "statuses.json").read_text())
    assert frames == [frames[0]] and frames[0] > 500_000  # one page, 40 explorers: the bundle travelled once
    python = report["explorers"]
    assert [status for _, status, _ in python] == ["error", "idle"] * N
    assert all("max_length=64 is larger than the 16 positions" in error for _, status, error in python
               if status == "error")
    expected = [status for _, status, _ in python]
    script = "() => [...document.querySelectorAll('.nbc-explorer')].map((root) => root.dataset.status)"
    deadline = time.monotonic() + ROUND_TRIP / 1000
    shown = page.evaluate(script)
    while shown != expected and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        shown = page.evaluate(script)
    wrong = [(python[i][0], shown[i], expected[i]) for i in range(len(expected)) if shown[i] != expected[i]]
    assert not wrong, f"the page disagrees with Python for {len(wrong)} explorers: {wrong[:6]}"
    progress = page.evaluate("() => [...document.querySelectorAll('.nbc-explorer .nbc-progress')]"
                             ".filter((p) => !p.hidden).length")
    assert progress == 0  # no progress bar left on screen
    errors = page.locator(".nbc-explorer .nbc-error:not([hidden])")
    assert errors.count() == N and "larger than the 16 positions" in errors.first.inner_text()
    assert page.locator(".nbc-explorer .nbc-chart[data-revision] svg").count() == N  # every working one drew
    assert guarded.page_errors == []
