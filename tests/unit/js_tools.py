"""The front end's tools for the tests that run them: node, and the programs `npm ci` installs in js/node_modules.

Where one is missing the test is skipped with a reason that names what is missing and the command that installs
it (tests/README.md lists them). Under CI (``CI=true``) nothing is skipped: a missing tool fails the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

JS = Path(__file__).resolve().parents[2] / "js"
NODE_MISSING = "node is not installed: install Node.js 20 or later (https://nodejs.org) to run the front end's tests"
NODE_MODULES_MISSING = "js/node_modules/.bin/{name} is absent: run `cd js && npm ci` to install the front end's tools"


def under_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where a missing tool is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def missing(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it under CI."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: the front end's checks must run)", pytrace=False)
    pytest.skip(reason)


def node() -> str:
    """The ``node`` executable."""
    found = shutil.which("node")
    if found is None:
        missing(NODE_MISSING)
    return found


def node_bin(name: str) -> Path:
    """``js/node_modules/.bin/<name>`` (``biome``, ``tsc``), after checking that node itself is there."""
    node()
    path = JS / "node_modules" / ".bin" / name
    if not path.exists():
        missing(NODE_MODULES_MISSING.format(name=name))
    return path
