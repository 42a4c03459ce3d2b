"""The wheel a user installs (issue 31.4): the widget bundle, LICENSE, py.typed, the metadata (version, licence,
Project-URLs, the command), and nothing of the tests or the notebooks."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nb_condense._version import __version__
from tools.repository_url import tomllib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)], cwd=ROOT,
                   check=True, capture_output=True)
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name))


@pytest.mark.slow
def test_the_wheel_has_the_bundle_license_and_types(wheel):
    names = set(wheel.namelist())
    assert {"nb_condense/static/widget.js", "nb_condense/static/widget.css", "nb_condense/static/loader.js",
            "nb_condense/charts/spec_templates.json", "nb_condense/charts/params.json",
            "nb_condense/widgets/protocol.json", "nb_condense/py.typed"} <= names
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    assert wheel.read("nb_condense/static/widget.js") == (ROOT / "nb_condense" / "static" / "widget.js").read_bytes()


@pytest.mark.slow
def test_the_wheel_has_no_tests_or_notebooks(wheel):
    names = wheel.namelist()
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "tools/", "benchmarks/", "js/"))]
    assert not [n for n in names if n.endswith(".ipynb") or Path(n).name.startswith(("test_", "conftest"))]


@pytest.mark.slow
def test_the_wheels_metadata_says_version_license_and_urls(wheel, tmp_path):
    meta = metadata(wheel)
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT"
    urls = dict(value.split(", ", 1) for value in meta.get_all("Project-URL"))
    assert urls == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Source", "Issues", "Paper"}
    assert meta["Requires-Python"] == ">=3.10"
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "nb-condense = nb_condense.cli:main" in wheel.read(entry_points).decode()
    # the command prints the version the wheel says (run from the checkout the wheel was built from)
    done = subprocess.run([sys.executable, "-m", "nb_condense.cli", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert done.stdout.split() == ["nb-condense", meta["Version"]]
