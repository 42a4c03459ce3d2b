"""Temporary files left by a save killed between writing and renaming are removed by the next run (issue 23.6)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nb_condense as nbc
from conftest import tiny_model

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).parent / "scripts" / "paused_save.py"
TEXTS = [f"Text number {i}: tokens condense into a narrow cone as depth grows in small models." for i in range(4)]


class PausedSave:
    """A child process stopped inside the rename of a save of ``path``; kill it with :meth:`kill`."""

    def __init__(self, mode: str, path: Path, pause_at: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, str(SCRIPT), mode, str(path), str(pause_at)], cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()  # blocks until the child pauses (or ends)
        assert line[:1] == ["paused"], f"the save did not pause: {line}"
        self.temporary = Path(line[1])
        assert self.temporary.is_file() and self.temporary.parent == path.parent

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()  # reaped: its pid no longer runs


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def measure(path: Path | None = None, **options):
    return nbc.measure(tiny_model("gpt2"), nbc.measurement.models.load_tokenizer("embedded"), texts=TEXTS,
                       max_length=32, batch_size=1, show_progress=False, checkpoint=path, **options)


@pytest.mark.slow  # a killed process and a measurement, ~6 s
def test_a_checkpoint_killed_before_its_rename_leaves_nothing_after_the_next_run(tmp_path, caplog):
    path = tmp_path / "run.npz"
    save = PausedSave("checkpoint", path, pause_at=2)  # the second checkpoint: the first is on disk
    save.kill()
    assert path.is_file() and leftovers(path) == [save.temporary.name]
    with caplog.at_level(logging.WARNING, logger="nb_condense.core.files"):
        resumed = measure(path, checkpoint_every=100)  # completes before it would save a checkpoint itself
    assert leftovers(path) == [] and not path.exists()
    assert [r.getMessage() for r in caplog.records if save.temporary.name in r.getMessage()], caplog.text
    assert np.array_equal(resumed.histograms, measure().histograms)  # resumed from the checkpoint, exactly


@pytest.mark.slow  # a killed process and a measurement, ~6 s
def test_a_running_save_keeps_its_file_and_a_killed_one_is_removed_by_the_next_save(tmp_path, caplog):
    path = tmp_path / "result.npz"
    save = PausedSave("result", path, pause_at=1)
    result = measure()
    result.save(path)  # the other writer is still running: its temporary file is not ours to remove
    assert leftovers(path) == [save.temporary.name]
    save.kill()
    with caplog.at_level(logging.WARNING, logger="nb_condense.core.files"):
        result.save(path)
    assert leftovers(path) == []
    assert "interrupted save" in caplog.text and save.temporary.name in caplog.text
    assert np.array_equal(nbc.CondensationResult.load(path).histograms, result.histograms)
