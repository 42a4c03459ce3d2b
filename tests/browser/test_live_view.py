"""The live training view in JupyterLab: the charts redraw while trainer.train() runs in the cell."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .notebooks import write_notebook
from .servers import Server, lab_server
from .test_lab import open_and_run_first_cell
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD

pytestmark = pytest.mark.browser

TRAIN = '''\
import json, pathlib, time
import torch
torch.set_num_threads(1)  # leave the browser a core on a 2-core machine
import nb_condense as nbc
from nb_condense import training
from transformers import TrainerCallback

texts = nbc.sample_texts("builtin", 30, min_word_count=60, max_word_count=120)
tokenizer = training.train_tokenizer(texts, vocab_size=300)
model = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=len(tokenizer))

class Slowly(TrainerCallback):  # a tiny model trains in a blink: slow it so the view is seen redrawing
    def on_step_end(self, *args, **kwargs):
        time.sleep(0.7)

callback = nbc.CondensationCallback(texts[:4], tokenizer, every_n_steps=2, monitor=nbc.TrainingMonitor(), max_length=32)
model, log = training.pretrain(model, tokenizer, texts, steps=12, block_size=32, dispersion_coeff=0.1,
                               callbacks=[callback, Slowly()], logging_steps=1)
monitor = callback.monitor
pathlib.Path("monitor.json").write_text(json.dumps({"step": monitor.step, "status": monitor.status,
                                                    "update_ms": monitor.update_ms}))'''


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("live")
    write_notebook(folder, "live.ipynb", [TRAIN])
    with lab_server(folder) as server:
        yield server, folder


def cell_running(page) -> bool:
    """The cell's prompt reads [*] while it runs (the kernel API can read idle in between messages)."""
    return "*" in page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").inner_text()


UPDATES = """() => [...document.querySelectorAll('.nbc-monitor .nbc-panel')]
    .reduce((sum, panel) => sum + Number(panel.dataset.updates ?? 0), 0)"""


def test_the_live_view_redraws_while_the_cell_runs(lab, guarded):
    server, folder = lab
    page = guarded.page
    open_and_run_first_cell(page, server.url, "live.ipynb")
    page.wait_for_selector(".nbc-monitor", timeout=PAGE_LOAD)
    seen_while_running = set()
    deadline = time.monotonic() + KERNEL_IDLE_S * 3
    while cell_running(page):
        assert time.monotonic() < deadline, "the training cell never finished"
        seen_while_running.add(page.evaluate(UPDATES))
        page.wait_for_timeout(100)
    assert len(seen_while_running - {0}) >= 5, f"the view redrew only {sorted(seen_while_running)} while training"
    page.wait_for_function("document.querySelector('.nbc-monitor').dataset.status === 'done'", timeout=20_000)
    report = json.loads((folder / "monitor.json").read_text())
    assert report["status"] == "done" and report["step"] == 12
    assert page.get_attribute(".nbc-monitor", "data-step") == "12"
    assert "Done at step 12" in page.inner_text(".nbc-monitor-summary")
    for panel in ("losses", "means", "heatmap"):
        assert page.locator(f".nbc-panel[data-panel='{panel}'] .nbc-vega > :is(svg, canvas)").count() == 1
    assert page.locator(".nbc-panel[data-panel='losses'] .mark-line.role-mark path").count() == 3  # 3 losses
    assert guarded.blocked == [] and guarded.page_errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1400})  # the whole view in the picture, not cut by the Lab
    monitor = page.locator(".nbc-monitor")
    monitor.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # Lab relays out after the resize
    monitor.screenshot(path=str(ARTIFACTS / "live_view.png"))
    (ARTIFACTS / "live_view_update_ms.json").write_text(json.dumps(report["update_ms"]))
    if os.environ.get("NBC_UPDATE_SCREENSHOTS"):  # the README's picture, made here
        shutil.copy(ARTIFACTS / "live_view.png", Path(__file__).resolve().parents[2] / "docs" / "live_view.png")
