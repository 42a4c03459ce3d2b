"""The front end's unit tests (js/test/*.test.js, node's own test runner) run in the edit loop: one ``node --test``
for all of them, its failures reported here. Without node they are skipped, saying how to install it (CI fails)."""

from __future__ import annotations

import re
import subprocess

import js_tools
import pytest
from js_tools import JS, node

TESTS = sorted((JS / "test").glob("*.test.js"))


def node_test() -> subprocess.CompletedProcess[str]:
    """``node --test`` over every test file (named one by one: node 21+ no longer searches a directory argument)."""
    files = [str(path.relative_to(JS)) for path in TESTS]
    return subprocess.run([node(), "--test", "--test-reporter=tap", *files], cwd=JS, capture_output=True,
                          text=True, timeout=300)


def counts(tap: str) -> dict[str, int]:
    """The summary of a TAP report (``# tests 7``, ``# pass 7``, ``# fail 0``, ...)."""
    return {key: int(n) for key, n in re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", tap, re.M)}


def failures(tap: str) -> str:
    """The report's failing tests, each with its diagnostics (what was expected, what came, where)."""
    blocks = re.split(r"^(?=(?:not )?ok \d+ - )", tap, flags=re.M)
    return "\n".join(block for block in blocks if block.startswith("not ok"))


def test_the_front_ends_unit_tests_pass():
    assert TESTS, f"no *.test.js in {JS / 'test'}"
    run = node_test()
    summary = counts(run.stdout)
    report = failures(run.stdout) or run.stdout[-4000:]
    assert run.returncode == 0 and summary.get("fail") == 0, f"node --test failed:\n{report}\n{run.stderr}"
    assert summary.get("cancelled", 0) == 0 and summary.get("tests", 0) >= len(TESTS), summary


def test_a_missing_node_skips_naming_the_fix_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(js_tools.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install Node.js 20 or later"):
        node()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node is not installed"):
        node()


def test_missing_node_modules_skip_naming_npm_ci_and_fail_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(js_tools.shutil, "which", lambda name: "/usr/bin/node")  # node is there
    monkeypatch.setattr(js_tools, "JS", tmp_path)  # but `npm ci` never ran
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape("run `cd js && npm ci`")):
        js_tools.node_bin("tsc")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="js/node_modules/.bin/tsc is absent"):
        js_tools.node_bin("tsc")
