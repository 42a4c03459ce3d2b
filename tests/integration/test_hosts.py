"""Where widgets display: a script that imports or runs marimo is not a notebook (issue 23.2; the browser tier
checks that `marimo run` shows the live view)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = '''
import marimo
from nb_condense.widgets.monitor import in_marimo, in_notebook
print(in_marimo(), in_notebook())
'''


@pytest.mark.slow  # a fresh interpreter that imports marimo, ~5 s
def test_a_script_that_imports_marimo_is_not_a_notebook():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]  # so CondensationCallback(live=True) only logs there


@pytest.mark.slow  # a fresh interpreter that imports marimo, ~5 s
def test_a_marimo_app_run_as_a_script_is_not_a_notebook(tmp_path):
    app = tmp_path / "app.py"
    app.write_text('''import marimo

app = marimo.App()


@app.cell
def _():
    import pathlib
    from nb_condense.widgets.monitor import in_marimo, in_notebook
    pathlib.Path("answer.txt").write_text(f"{in_marimo()} {in_notebook()}")
    return


if __name__ == "__main__":
    app.run()
''')
    # `python app.py` runs the app as a script (no kernel): not a notebook either
    done = subprocess.run([sys.executable, str(app)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "answer.txt").read_text() == "False False"
