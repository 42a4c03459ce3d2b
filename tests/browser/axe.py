"""axe-core for the browser tier: the WCAG 2.0/2.1 A and AA rules run over a whole page or one element.

axe-core is an npm devDependency of js/ (for the tests only, never bundled): ``cd js && npm ci``; ``NBC_AXE``
points at another ``axe.min.js``. :func:`need_tools` skips a test without it or without Chromium (under
``CI=true`` it fails instead: ``tests.unit.js_tools.missing``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.unit.js_tools import missing

from .chromium import CHROMIUM

AXE = Path(os.environ.get("NBC_AXE") or
           Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """(el, [tags, iframes]) => axe.run(el ?? document,
    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'], iframes}).then((r) => r.violations)"""


def need_tools() -> None:
    """Skip (fail under CI) unless Chromium and axe-core are here."""
    if not Path(CHROMIUM).exists():
        missing(f"No Chromium at {CHROMIUM}: `apt-get install chromium` or set NBC_CHROMIUM")
    if not AXE.exists():
        missing(f"{AXE} is absent: run `cd js && npm ci` (axe-core is a devDependency of the tests)")


def axe_run(page: Any, selector: str | None = None, iframes: bool = False) -> list[dict]:
    """axe-core's raw violations at the WCAG 2.1 A/AA tags: over the whole page, or over the first element that
    matches ``selector`` (through shadow roots: marimo draws widgets in one) and what it holds; ``iframes`` takes in
    the page's frames too. axe is evaluated into each frame, not added as a ``<script>``: no page policy stops it."""
    for frame in page.frames if iframes else [page.main_frame]:
        if not frame.evaluate("typeof window.axe === 'object'"):
            frame.evaluate(AXE.read_text())
    if selector is None:
        return page.evaluate(f"(args) => ({RUN})(null, args)", [TAGS, iframes])
    return page.locator(selector).first.evaluate(RUN, [TAGS, iframes])


def axe_details(page: Any, selector: str | None = None) -> list[dict]:
    """:func:`axe_run`, shortened to ``[{id, impact, nodes: [target, ...]}]``."""
    return [{"id": v["id"], "impact": v["impact"], "nodes": [" ".join(map(str, n["target"])) for n in v["nodes"]]}
            for v in axe_run(page, selector)]


def axe_violations(page: Any, selector: str | None = None) -> dict[str, int]:
    """axe-core's violations at the WCAG 2.1 A/AA tags (see :func:`axe_details`): rule id -> number of elements."""
    return {v["id"]: len(v["nodes"]) for v in axe_details(page, selector)}
