"""The live training view in Python: what it holds and sends is what the callback measured and the Trainer logged;
the caller passes the view (``monitor=``); without one ``live=True`` only logs, and only on the main process.
(The browser tier draws it.)"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_trainer import BLOCK, Blocks, tiny_lm
from transformers import Trainer, TrainingArguments

import nb_condense as nbc
from nb_condense.widgets import monitor as monitor_module


def train(tmp_path, tokenizer, callback, *, dispersion: bool, steps: int = 6):  # type: ignore[no-untyped-def]
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, max_steps=steps,
                             logging_steps=1, learning_rate=1e-3, report_to=[], save_strategy="no", use_cpu=True,
                             seed=0, data_seed=0, disable_tqdm=True)
    common = dict(model=tiny_lm(), args=args, train_dataset=Blocks(tokenizer), callbacks=[callback])
    trainer = nbc.DispersionTrainer(dispersion_coeff=0.1, **common) if dispersion else Trainer(**common)
    trainer.train()
    return trainer


@pytest.fixture
def shown(monkeypatch):
    """Pretend to run in a notebook; collect what would be displayed."""
    displayed = []
    monkeypatch.setattr(monitor_module, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", displayed.append)
    return displayed


@pytest.fixture
def sent(monkeypatch):
    """Every state update a monitor sends to its page, in order (what the comm would carry)."""
    updates: list[dict[str, Any]] = []

    def record(self, msg, buffers=None):  # type: ignore[no-untyped-def]
        if msg.get("method") == "update":
            updates.append(json.loads(json.dumps(msg["state"])))  # as the page receives it

    monkeypatch.setattr(nbc.TrainingMonitor, "_send", record)
    return updates


def page_view(updates: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Replay ``updates`` as the page does: the traits it holds, and each panel's drawn rows (its spec's own
    dataset, then the newest rows Python sent for that spec)."""
    state: dict[str, Any] = {}
    drawn: dict[str, Any] = {}
    revisions: dict[str, int] = {}
    for update in updates:
        state.update(update)
        for name, panel in update.get("_panels", {}).items():
            if revisions.get(name) != panel["revision"]:
                revisions[name] = panel["revision"]
                spec = panel["spec"]
                drawn[name] = spec["datasets"][spec["data"]["name"]]
        data = update.get("_data")
        if data and revisions.get(data["panel"]) == data["revision"]:
            drawn[data["panel"]] = json.loads(data["values"])
    return state, {name: pd.DataFrame(rows) for name, rows in drawn.items()}


@pytest.mark.slow
@pytest.mark.parametrize("dispersion", [True, False], ids=["DispersionTrainer", "plain Trainer"])
def test_the_monitor_sends_what_the_callback_measured_and_the_trainer_logged(tmp_path, tokenizer, shown, sent,
                                                                             dispersion):
    texts = nbc.sample_texts("builtin", 3, min_word_count=40, max_word_count=80)
    callback = nbc.CondensationCallback(texts, tokenizer, every_n_steps=2, max_length=BLOCK,
                                        monitor=nbc.TrainingMonitor())
    trainer = train(tmp_path, tokenizer, callback, dispersion=dispersion)
    monitor = callback.monitor
    assert shown == [monitor] and isinstance(monitor, nbc.TrainingMonitor)
    page, drawn = page_view(sent)
    assert page["status"] == "done" and page["step"] == 6 and monitor.max_steps == 6  # max_steps: sent on open
    assert set(drawn) == {"losses", "means", "heatmap"}
    # the mean cosine per layer the page draws: exactly the callback's measurements (steps 0, 2, 4, 6)
    means = drawn["means"].sort_values(["step", "layer"]).reset_index(drop=True)
    measured = callback.history.sort_values(["step", "layer"]).reset_index(drop=True)
    assert sorted(set(means["step"])) == [0, 2, 4, 6]
    np.testing.assert_array_equal(means["step"].to_numpy(int), measured["step"].to_numpy(int))
    np.testing.assert_allclose(means["mean"].to_numpy(float), measured["mean"].to_numpy(float), rtol=1e-12)
    # the losses the page draws: exactly the Trainer's logs, per series
    logged = [row for row in trainer.state.log_history if "loss" in row and "train_runtime" not in row]
    series = ["loss", "ce_loss", "dispersion_loss"] if dispersion else ["loss"]
    losses = drawn["losses"]
    assert set(losses["series"]) == set(series)
    for name in series:
        rows = losses[losses["series"] == name].sort_values("step")
        assert rows["step"].tolist() == [row["step"] for row in logged]
        np.testing.assert_allclose(rows["value"].to_numpy(float), [row[name] for row in logged], rtol=1e-12)
    # the heatmap the page draws: the last measurement's pooled density, from its raw counts here
    latest = callback.latest
    counts = np.asarray(latest.histograms, dtype=np.float64).sum(axis=0)
    density = counts / (counts.sum(axis=1, keepdims=True) * (2 / latest.bins))
    k, b = np.nonzero(density > 0)
    heat = drawn["heatmap"].sort_values(["layer", "cosine_low"]).reset_index(drop=True)
    np.testing.assert_array_equal(heat["layer"].to_numpy(int), latest.layers[k])
    np.testing.assert_allclose(heat["cosine_low"].to_numpy(float), -1 + b * 2 / latest.bins, atol=1e-12)
    np.testing.assert_allclose(heat["density"].to_numpy(float), density[k, b], rtol=1e-12)
    last = callback.trend_history.iloc[-1]
    assert f"last-layer mean cosine {last['last_layer_mean']:.3f}" in page["summary"]
    assert repr(monitor).startswith("TrainingMonitor(done, step 6 of 6")


@pytest.mark.slow
def test_outside_a_notebook_live_only_logs(tmp_path, tokenizer, caplog):
    texts = nbc.sample_texts("builtin", 3, min_word_count=40, max_word_count=80)
    callback = nbc.CondensationCallback(texts, tokenizer, every_n_steps=3, max_length=BLOCK, live=True)
    with caplog.at_level(logging.INFO, logger="nb_condense.training.trainer"):
        train(tmp_path, tokenizer, callback, dispersion=True)
    assert callback.monitor is None  # pytest is no notebook: nothing displayed
    lines = [r.getMessage() for r in caplog.records if r.name == "nb_condense.training.trainer"]
    assert sum("condensation rho" in line for line in lines) == 3  # steps 0, 3, 6
    assert sum("dispersion_loss" in line for line in lines) == 6  # one per logging step


def test_only_the_main_process_reports(tokenizer, caplog, shown):
    callback = nbc.CondensationCallback(["a few words of text here"], tokenizer, every_n_steps=1, live=True)
    other = SimpleNamespace(is_world_process_zero=False, global_step=1, max_steps=4, log_history=[])
    with caplog.at_level(logging.INFO, logger="nb_condense.training.trainer"):
        callback.on_train_begin(None, other, None, model=tiny_lm())
        callback.on_log(None, other, None, logs={"loss": 1.0})
        callback.on_step_end(None, other, None, model=tiny_lm())
    assert shown == [] and callback.monitor is None and callback.history.empty
    assert not [r for r in caplog.records if r.name == "nb_condense.training.trainer"]
    view = Recorder()
    watched = nbc.CondensationCallback(["a few words of text here"], tokenizer, every_n_steps=1, monitor=view)
    watched.on_train_begin(None, other, None, model=tiny_lm())
    watched.on_log(None, other, None, logs={"loss": 1.0})
    watched.on_step_end(None, other, None, model=tiny_lm())
    watched.on_train_end(None, other, None)
    assert view.calls == [] and watched.history.empty


def test_a_monitor_without_the_views_methods_is_refused_by_name(tokenizer):
    with pytest.raises(TypeError, match=r"monitor must have start\(\), log\(\), measured\(\) and done\(\).*dict"):
        nbc.CondensationCallback(["a few words of text here"], tokenizer, monitor={})


def test_every_panel_is_titled_losses_get_a_panel_each_and_the_end_is_marked(tokenizer):
    """One small panel per loss with its own y axis; every panel says what it shows; "done at step N" at the end."""
    result = nbc.measure(tiny_lm(), tokenizer, texts=["A first text to measure.", "And a second one."],
                         max_length=BLOCK, show_progress=False)
    monitor = monitor_module.TrainingMonitor(max_steps=3)
    for step, (loss, ce, dispersion) in enumerate([(6.0, 6.4, -0.48), (5.5, 6.0, -0.47), (5.2, 5.7, -0.46)], 1):
        monitor.log(step, {"loss": loss, "ce_loss": ce, "dispersion_loss": dispersion})
    monitor.measured(3, result)
    panels = {name: panel["spec"] for name, panel in monitor._panels.items()}
    assert set(panels) == {"losses", "means", "heatmap"}
    titles = {name: spec["title"] if isinstance(spec["title"], str) else spec["title"]["text"]
              for name, spec in panels.items()}
    assert all(titles.values()), titles
    losses = panels["losses"]
    assert losses["resolve"]["scale"]["y"] == "independent" and "facet" in losses
    assert monitor.status == "training" and not monitor.summary.startswith("Done")
    monitor.done()
    assert monitor.summary.startswith("Done at step 3")


class Recorder:
    """A headless view: any object with the callback's four methods (no widget involved)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, max_steps: int) -> None:
        self.calls.append(("start", max_steps))

    def log(self, step: int, logs: dict[str, float]) -> None:
        self.calls.append(("log", step, dict(logs)))

    def measured(self, step: int, result: nbc.CondensationResult) -> None:
        self.calls.append(("measured", step, result.layer_means[-1]))

    def done(self) -> None:
        self.calls.append(("done",))


def test_the_caller_passes_the_view_and_the_callback_feeds_it(tmp_path, tokenizer):
    texts = nbc.sample_texts("builtin", 2, min_word_count=40, max_word_count=80)
    view = Recorder()
    callback = nbc.CondensationCallback(texts, tokenizer, every_n_steps=2, max_length=BLOCK, monitor=view)
    trainer = train(tmp_path, tokenizer, callback, dispersion=True, steps=4)
    assert callback.monitor is view and view.calls[0] == ("start", 4) and view.calls[-1] == ("done",)
    measured = [(c[1], c[2]) for c in view.calls if c[0] == "measured"]
    assert [step for step, _ in measured] == [0, 2, 4]
    np.testing.assert_allclose([m for _, m in measured], callback.history.query("layer == 2")["mean"], rtol=1e-12)
    logged = [(row["step"], row["loss"]) for row in trainer.state.log_history if "loss" in row and "ce_loss" in row]
    assert [(c[1], c[2]["loss"]) for c in view.calls if c[0] == "log" and "loss" in c[2]] == logged
