"""The front end's gates, run by the same ``pytest`` as everything else: Biome's linter and formatter
(js/biome.json) and TypeScript's checker over the JSDoc types (js/jsconfig.json, ``checkJs``).

They run wherever js/node_modules is installed; without it they are skipped, naming the fix (``cd js && npm ci``),
and under CI (``CI=true``) they fail instead."""

from __future__ import annotations

import subprocess

import pytest
from js_tools import JS, node_bin

pytestmark = pytest.mark.gates


def test_biome_lints_and_formats_the_front_end():
    """``biome ci``: the linter's rules and the formatter's layout (a file it would reformat fails), no writes.

    Fix what it reports with ``cd js && npx biome check --write``.
    """
    out = subprocess.run([str(node_bin("biome")), "ci", "--colors=off"], cwd=JS, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_tsc_finds_no_type_error_in_the_front_end():
    """``tsc --noEmit -p js/jsconfig.json``: the JSDoc types of js/src hold (``checkJs``)."""
    out = subprocess.run([str(node_bin("tsc")), "--noEmit", "--pretty", "false", "-p", "jsconfig.json"], cwd=JS,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
