"""The explorer's tasks by keyboard alone, written once for every host with a kernel (Voila, JupyterLab,
marimo): switch view, pick two layers by chip and one by heatmap column, pick a sample; Python's state is read back
after each step.

The focused element is found through shadow roots (:data:`ACTIVE`): marimo draws a widget in one, where
``document.activeElement`` is only the shadow host.
"""

from __future__ import annotations

from collections.abc import Callable

ACTIVE = """(() => { let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return a; })()"""
"""JS: the focused element, inside shadow roots too."""

WaitPython = Callable[[Callable[[dict], bool], str], dict]
"""``wait(predicate, what)``: poll Python's state until ``predicate`` holds; returns the state."""


def focused(page, expression: str) -> object:
    """``expression`` evaluated on the focused element ``el`` (inside shadow roots too)."""
    return page.evaluate(f"(() => {{ const el = {ACTIVE}; return {expression}; }})()")


def tab_to(page, predicate: str, limit: int = 20) -> None:
    """Press Tab until the focused element ``el`` matches the JS ``predicate``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, f"Boolean(el && ({predicate}))"):
            return
    raise AssertionError(f"no Tab stop matches {predicate}")


def tab_stops(page, root: str, limit: int = 40) -> list[str]:
    """The Tab stops inside the widget ``root`` (a selector), in order: from the widget's root (focused first)
    until the focus leaves it or comes back to a stop already seen."""
    page.locator(root).first.focus()
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        key = focused(page, f"""el && el.closest('{root}') ? el.tagName + '|' +
            (el.getAttribute('aria-label') || el.textContent.trim().slice(0, 20)) + '|' +
            [...el.getRootNode().querySelectorAll('*')].indexOf(el) : null""")
        if key is None or key in stops:
            break
        stops.append(str(key))
    return stops


def do_tasks(page, wait: WaitPython, layers: list[int], limit: int = 40,
             after_each: Callable[[str], None] | None = None) -> None:
    """The tasks, from the page's start; ``layers``: the explorer's layer chips, in order; ``after_each(step)``
    runs after each step (a host's own checks). :func:`.keyboard.explorer_tasks_by_keyboard` goes on from here to
    the data table and the CSV."""
    check = after_each or (lambda step: None)
    tab_to(page, "el.closest('.nbc-explorer') && el.getAttribute('role') === 'tab'", limit=limit)
    page.keyboard.press("ArrowRight")
    wait(lambda s: s["view"] == "distributions", "view == distributions")
    check("view")
    page.keyboard.press("Home")
    wait(lambda s: s["view"] == "heatmap", "view == heatmap")

    tab_to(page, "el.closest('.nbc-layer-group')")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait(lambda s: s["layers"] == [layers[0]], "one layer by chip")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait(lambda s: s["layers"] == [layers[0], layers[2]], "two layers by chip")
    check("chips")

    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)")
    tab_to(page, "el.closest('.nbc-chart')")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    wait(lambda s: s["layers"] == [layers[-2]], "a layer by heatmap column")
    check("column")

    page.keyboard.press("Escape")
    tab_to(page, "el.closest('.nbc-sample-group')")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    wait(lambda s: s["samples"] == [1], "a sample by keyboard")
    check("sample")
