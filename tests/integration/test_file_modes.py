"""Files nb_condense writes carry the user's permissions: the mode a plain ``open()`` would give (0666 & ~umask),
or the existing file's mode when one is replaced (issue 31.1)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import nb_condense as nbc
from nb_condense import charts
from nb_condense.cli import main
from nb_condense.core import files
from nb_condense.core.files import write_text
from tests.conftest import tiny_model

UMASKS = [0o022, 0o077, 0o002, 0o027]
TEXTS = ["The first text has a few words in it.", "A second one, longer than the first text is, by far.",
         "Third text: short.", "The fourth and last text of this little corpus."]


@pytest.fixture(params=UMASKS, ids=[f"umask{u:03o}" for u in UMASKS])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def plain_open_mode(folder: Path) -> int:
    """The mode a plain ``open(path, "w")`` gives a new file right now (an independent reading of the umask)."""
    with open(probe := folder / "probe-plain-open.txt", "w") as handle:
        handle.write("x")
    try:
        return mode_of(probe)
    finally:
        probe.unlink()


@pytest.fixture(scope="module")
def result(tokenizer):
    return nbc.measure(tiny_model("gpt2"), tokenizer, texts=TEXTS, max_length=32, batch_size=1, show_progress=False)


def test_the_umask_is_read_without_changing_it(umask):
    assert files.current_umask() == umask
    assert files.current_umask() == umask  # reading it left it as it was


def test_a_result_gets_the_users_mode(umask, result, tmp_path):
    path = result.save(tmp_path / "r.npz")
    assert mode_of(path) == 0o666 & ~umask == plain_open_mode(tmp_path)


def test_a_chart_gets_the_users_mode(umask, result, tmp_path):
    for name in ("h.svg", "h.html", "h.json"):
        path = nbc.save_chart(charts.heatmap(result, title="tiny", select=False), tmp_path / name)
        assert mode_of(path) == 0o666 & ~umask == plain_open_mode(tmp_path), name


def test_a_page_gets_the_users_mode(umask, result, tmp_path):
    path = nbc.save_page({"tiny": result}, tmp_path / "site" / "explorer.html")
    assert mode_of(path) == 0o666 & ~umask == plain_open_mode(tmp_path)


class Interrupt(Exception):
    pass


def test_a_checkpoint_gets_the_users_mode(umask, tokenizer, tmp_path):
    model = tiny_model("gpt2")
    calls: list[int] = []

    def stop_at_the_third(module, args, kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Interrupt

    model.register_forward_pre_hook(stop_at_the_third, with_kwargs=True)
    path = tmp_path / "partial.npz"
    with pytest.raises(Interrupt):
        nbc.measure(model, tokenizer, texts=TEXTS, max_length=32, batch_size=1, show_progress=False,
                    checkpoint=path, checkpoint_every=1)
    assert mode_of(path) == 0o666 & ~umask == plain_open_mode(tmp_path)


def test_a_replaced_file_keeps_its_own_mode(umask, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_text(path, "new")
    assert path.read_text() == "new" and mode_of(path) == 0o640  # as open(path, "w") would leave it


def test_the_mode_is_right_while_other_threads_write(tmp_path):
    old = os.umask(0o027)
    try:
        modes: list[int] = []
        threads = [threading.Thread(target=lambda i=i: modes.append(mode_of(write_text(tmp_path / f"{i}.txt", "x"))))
                   for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert modes == [0o640] * 16
        assert files.current_umask() == 0o027
    finally:
        os.umask(old)


@pytest.mark.slow
def test_the_demos_files_get_the_users_mode(tmp_path, monkeypatch, capsys):
    old = os.umask(0o022)
    try:
        monkeypatch.chdir(tmp_path)
        assert main(["demo", "--out-dir", "out", "--n-texts", "2", "--max-length", "16", "--no-progress"]) == 0
        for name in ("summary.csv", "result.npz", "heatmap.png"):
            assert mode_of(tmp_path / "out" / name) == 0o644, name
    finally:
        os.umask(old)
