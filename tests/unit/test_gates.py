"""The quality gates run by the test command (so .ci/run enforces them): ruff, mypy, module jobs and sizes."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gates

ROOT = Path(__file__).resolve().parents[2]
TRIPWIRE = 600  # cohesion decides a module's size; this only catches a module that has clearly grown a second job


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    result = run("ruff", "check", ".", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_every_module_of_the_package():
    result = run("mypy")  # files and options: [tool.mypy] in pyproject.toml (the whole package)
    assert result.returncode == 0, result.stdout + result.stderr


def modules() -> list[Path]:
    return sorted(p for p in (ROOT / "nb_condense").rglob("*.py") if "static" not in p.parts)


def test_every_module_opens_with_a_docstring_naming_its_job():
    missing = [str(p.relative_to(ROOT)) for p in modules()
               if len((ast.get_docstring(ast.parse(p.read_text())) or "").split()) < 4]
    assert not missing, f"say in the module's first line what its one job is: {missing}"


def test_docs_architecture_lists_every_module_with_its_job():
    """docs/architecture.md has a bullet per module, ``- **tier/module** — job``, and no bullet for a ghost."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    listed = set(re.findall(r"^- \*\*([\w/]+)\*\* — \S", text, flags=re.M))
    expected = set()
    for path in modules():
        rel = path.relative_to(ROOT / "nb_condense").with_suffix("")
        if rel.name == "__init__" and len(rel.parts) > 1:
            continue  # a tier's __init__ is described by the tier's heading
        expected.add("/".join(rel.parts) if rel.name != "__init__" else "__init__")
    assert expected - listed == set(), f"add these to docs/architecture.md: {sorted(expected - listed)}"
    assert listed - expected == set(), f"these are listed but do not exist: {sorted(listed - expected)}"


def test_no_source_file_trips_the_size_wire():
    sources = [*modules(), *ROOT.glob("js/src/*.js")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > TRIPWIRE}
    assert not long, f"these modules have grown past {TRIPWIRE} lines: has a second job crept in? {long}"


def test_the_protocol_tables_in_the_docs_are_generated_from_protocol_json():
    from nb_condense.widgets import _protocol

    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index("<!-- protocol tables:")
    block = text[text.index("\n", start) + 1:text.index("<!-- end of protocol tables -->")]
    assert block == _protocol.markdown_table(), "run `python -m nb_condense.widgets._protocol` and paste its tables"
    declared = _protocol.load()
    traits_table, commands_table = block.split("\n\n")
    rows = [row.split(" | ") for row in traits_table.splitlines() if row.startswith("| `")]
    assert [(name.strip("| `"), writer, reader) for name, writer, reader, *_ in rows] == [
        (t["name"], ", ".join(t["writer"]), ", ".join(t["reader"])) for g in declared["groups"] for t in g["traits"]]
    commands = [row.split(" | ")[:2] for row in commands_table.splitlines() if row.startswith("| `")]
    assert [(name.strip("| `"), method.strip("`")) for name, method in commands] == [
        (c["name"], c["method"]) for c in declared["commands"]]
