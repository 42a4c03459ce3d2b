"""File problems on the installed ``nb-condense`` command: one ``error:`` line naming the file, exit 2, nothing
written (issue 23.5)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = 'random:{"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 64}'


def nb_condense(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point with this checkout first on the path."""
    command = shutil.which("nb-condense")
    assert command is not None, "the nb-condense entry point is not installed (pip install -e .)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([command, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert done.stdout == ""


def make_missing(folder: Path) -> Path:
    return folder / "texts.txt"


def make_empty(folder: Path) -> Path:
    (path := folder / "texts.txt").write_text("\n   \n\n", encoding="utf-8")
    return path


def make_unreadable(folder: Path) -> Path:
    # Permission bits do not stop root (these containers run as root), so the file is one whose read fails for
    # everyone: the reading process's own /proc/self/mem (EIO at offset 0).
    (path := folder / "texts.txt").symlink_to("/proc/self/mem")
    return path


def make_latin1(folder: Path) -> Path:
    (path := folder / "texts.txt").write_bytes("Un café au lait.\nDeux crèmes.\n".encode("latin-1"))
    return path


def make_folder(folder: Path) -> Path:
    (path := folder / "texts.txt").mkdir()
    return path


@pytest.mark.parametrize(("make", "says"), [
    (make_missing, "does not exist"),
    (make_empty, "no non-empty lines"),
    (make_unreadable, "cannot be read"),
    (make_latin1, "not UTF-8"),
    (make_folder, "is a folder"),
])
def test_a_bad_texts_file_is_one_error_line_and_writes_nothing(tmp_path, make, says):
    texts = make(tmp_path)
    before = files_under(tmp_path)
    done = nb_condense("measure", TINY, "--tokenizer", "embedded", "--texts-file", str(texts), "--no-progress",
                       "--out", str(tmp_path / "out" / "r.npz"), "--plot", str(tmp_path / "out" / "h.png"),
                       cwd=tmp_path)
    assert_one_error_line(done, "--texts-file", str(texts), says)
    assert files_under(tmp_path) == before  # not even the --out folder


def test_a_bad_result_file_for_the_page_is_one_error_line_and_writes_nothing(tmp_path):
    missing = tmp_path / "gpt2.npz"
    (bad := tmp_path / "notes.npz").write_text("not a saved result", encoding="utf-8")
    before = files_under(tmp_path)
    done = nb_condense("page", str(missing), "--out", str(tmp_path / "site" / "explorer.html"), cwd=tmp_path)
    assert_one_error_line(done, str(missing), "does not exist")
    done = nb_condense("page", str(bad), "--out", str(tmp_path / "site" / "explorer.html"), cwd=tmp_path)
    assert_one_error_line(done, str(bad), "not an nb_condense file")
    assert files_under(tmp_path) == before


def test_a_bad_flag_value_is_one_error_line(tmp_path):
    done = nb_condense("measure", TINY, "--layers", "0,last", cwd=tmp_path)
    assert_one_error_line(done, "--layers", "'0,last'")


def test_the_repetitions_alias_is_gone(tmp_path):
    done = nb_condense("measure", TINY, "--repetitions", "3", cwd=tmp_path)
    assert_one_error_line(done, "--repetitions")
