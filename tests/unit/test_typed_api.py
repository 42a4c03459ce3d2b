"""The public API as static tools see it: py.typed in the wheel, typed ``**options``, mypy on a user's snippet."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_ships_the_py_typed_marker(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    assert "nb_condense/py.typed" in zipfile.ZipFile(wheel).namelist()
