"""The front end's sources pass ``biome check`` (js/biome.json), run by the same ``pytest`` as everything else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.gates

JS = Path(__file__).resolve().parents[2] / "js"


def test_biome_check_passes_on_js_src():
    biome = JS / "node_modules" / ".bin" / "biome"
    if not biome.exists() or shutil.which("node") is None:
        pytest.skip("js/node_modules is absent: run `cd js && npm ci` to lint the front end")
    out = subprocess.run([str(biome), "check", "--colors=off", "src"], cwd=JS, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
