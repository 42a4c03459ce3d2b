"""The explorer's tasks by keyboard alone, written once for every host (Voila, JupyterLab; the page has its own
finer-grained test): switch view, pick two layers by chip and one by heatmap column, pick a sample, open the data
table, download the CSV. After each step Python's traits are read back (``python(predicate, what)``: the state the
notebook of :mod:`.notebooks` writes to ``state.json``, waited for until ``predicate`` holds).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .keyboard_tasks import do_tasks, tab_to

__all__ = ["explorer_tasks_by_keyboard", "restart", "same_rows", "tab_stops_from", "tab_to"]

Python = Callable[[Callable[[dict], bool], str], dict]
"""``python(predicate, what)``: wait until Python's state satisfies ``predicate``; returns that state."""


def tab_stops_from(page: Any, root: str, limit: int = 60) -> list[str]:
    """The Tab stops inside ``root``, in order, from its start: focus the root (as Escape does) and press Tab until
    the focus leaves it or comes back to a stop already seen."""
    page.focus(root)
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        key = page.evaluate("""(root) => {
            const a = document.activeElement;
            if (!a || !a.closest(root) || a === document.querySelector(root)) return null;
            return a.tagName + '|' + (a.getAttribute('aria-label') || a.textContent.trim().slice(0, 20)) +
                '|' + [...document.querySelectorAll('*')].indexOf(a);
        }""", root)
        if key is None or key in stops:
            break
        stops.append(key)
    return stops


def restart(page: Any, root: str) -> None:
    """Escape: the focus goes back to the explorer's root; the next Tab starts from its first control."""
    page.keyboard.press("Escape")
    assert page.evaluate(f"document.activeElement === document.querySelector('{root}')"), \
        "Escape did not return the focus to the explorer"


def same_rows(shown: list[list], expected: list[list]) -> bool:
    """Rows equal cell by cell (numbers to 1e-9, missing values as NaN or None alike)."""
    def cell(a: Any, b: Any) -> bool:
        missing_a = a is None or (isinstance(a, float) and math.isnan(a))
        missing_b = b is None or (isinstance(b, float) and math.isnan(b))
        if missing_a or missing_b:
            return missing_a and missing_b
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            return isinstance(a, (int, float)) and math.isclose(float(a), float(b), abs_tol=1e-9)
        return str(a) == str(b)

    return len(shown) == len(expected) and all(
        len(r) == len(e) and all(cell(a, b) for a, b in zip(r, e, strict=True)) for r, e in zip(shown, expected,
                                                                                             strict=True))


def explorer_tasks_by_keyboard(page: Any, python: Python, root: str = ".nbc-explorer",
                               after_each: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Do the explorer's tasks by keyboard alone, the focus starting on (or before) the explorer's ``root``;
    ``after_each(step)`` runs after each step (a host's own checks). Returns what was done: the layers picked, the
    sample, the table shown and the CSV downloaded."""
    check = after_each or (lambda step: None)
    layers = [int(x) for x in page.eval_on_selector_all(f"{root} .nbc-chips .nbc-chip",
                                                        "els => els.map(e => e.dataset.layer)")]

    # switch view, two layers by chip, one by heatmap column, a sample (the steps every host shares)
    do_tasks(page, python, layers, after_each=check)
    state = python(lambda s: s["samples"] == [1] and s["status"] == "idle", "a sample by keyboard")

    # the data table: Enter on its toggle; it shows Python's table for this choice
    restart(page, root)
    tab_to(page, "el.matches('.nbc-table-toggle')")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{root} .nbc-table-region:not([hidden]) tbody tr")
    state = python(lambda s: bool(s.get("table", {}).get("rows")), "the data table")
    shown = page.evaluate(f"""() => {{ const t = document.querySelector('{root} .nbc-table-region table');
        return {{columns: [...t.tHead.rows[0].cells].map(c => c.textContent),
                 rows: t.tBodies[0].rows.length}}; }}""")
    table = state["table"]
    assert shown == {"columns": table["columns"], "rows": len(table["rows"])}, (shown, table["columns"])
    check("table")

    # the CSV: the export toolbar is one Tab stop; End reaches CSV, Enter downloads the open table's rows
    restart(page, root)
    tab_to(page, "el.closest('.nbc-export')")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.export") == "csv"
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    csv = pd.read_csv(io.StringIO(Path(download.value.path()).read_text()))
    assert list(csv.columns) == table["columns"]
    assert same_rows(json.loads(csv.to_json(orient="values")), table["rows"])
    check("csv")
    return {"layers": layers, "state": state, "table": table}
