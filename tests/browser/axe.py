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

RUN = """async ([tags, selector]) => {
    const context = selector === null ? document : document.querySelector(selector);
    if (!context) throw new Error(`axe: nothing matches ${selector}`);
    const result = await axe.run(context, {runOnly: {type: 'tag', values: tags}});
    return result.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' '))}));
}"""


def need_tools() -> None:
    """Skip (fail under CI) unless Chromium and axe-core are here."""
    if not Path(CHROMIUM).exists():
        missing(f"No Chromium at {CHROMIUM}: `apt-get install chromium` or set NBC_CHROMIUM")
    if not AXE.exists():
        missing(f"{AXE} is absent: run `cd js && npm ci` (axe-core is a devDependency of the tests)")


def axe_details(page: Any, selector: str | None = None) -> list[dict]:
    """axe-core's violations at the WCAG 2.1 A/AA tags, over the page or (``selector``) the first element that
    matches it and what it holds: ``[{id, impact, nodes: [target, ...]}]``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN, [TAGS, selector])


def axe_violations(page: Any, selector: str | None = None) -> dict[str, int]:
    """axe-core's violations at the WCAG 2.1 A/AA tags (see :func:`axe_details`): rule id -> number of elements."""
    return {v["id"]: len(v["nodes"]) for v in axe_details(page, selector)}
