"""axe-core over our widgets in a notebook host (JupyterLab, Notebook 7), light and dark, written once for the
tests (``test_a11y_hosts.py``) and for ``tools/a11y_counts.py`` (the before/after table of issue 29).

One notebook shows the three widgets: the explorer (``notebooks.BUILD``), a :class:`ChartWidget` and a finished
live training view (a :class:`TrainingMonitor` fed two logs and two measurements). axe runs scoped to each
widget's own root element (the host's chrome is not ours), and once over the whole page for information. The
explorer is checked in each of its four views and with its data table open, its violations merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .axe import axe_details
from .hosts import JupyterHost
from .notebooks import explorer_notebook
from .timeouts import PAGE_LOAD, RENDER

CHART_CELL = '''\
from nb_condense import charts
from nb_condense.widgets.chart import ChartWidget
result = session.measure()
ChartWidget(charts.heatmap(result, select=False, title="Pooled heatmap"))'''

MONITOR_CELL = '''\
monitor = nbc.TrainingMonitor(max_steps=20)
monitor.log(5, {"loss": 3.0, "dispersion_loss": -0.1})
monitor.log(10, {"loss": 2.5, "dispersion_loss": -0.2})
monitor.measured(0, result)
monitor.measured(10, result)
monitor.done()
monitor'''

WIDGETS = {"explorer": ".nbc-explorer", "chart": ".nbc-chart-only", "live view": ".nbc-monitor"}
"""Each widget's root element: what axe is scoped to."""
DRAWN = {"explorer": ".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)",
         "chart": ".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)",
         "live view": ".nbc-monitor .nbc-panel[data-panel='heatmap'] .nbc-vega > :is(canvas, svg)"}
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
NOTEBOOK = "widgets.ipynb"


def widgets_notebook(folder: Path) -> Path:
    """The notebook of the three widgets (cells 0, 1, 2) in ``folder``: 30 texts, as a lesson shows (the sample
    list scrolls)."""
    return explorer_notebook(folder, NOTEBOOK, n_texts=30, extra_cells=(CHART_CELL, MONITOR_CELL))


def in_full_view(page: Any, selector: str) -> None:
    """Make the window tall enough for the widget ``selector`` and scroll it to the top: axe checks the contrast
    of text on screen only, and a notebook clips its cells to its scrolling area."""
    height = page.locator(selector).first.evaluate("el => el.getBoundingClientRect().height")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height) + 400, 4000)})
    page.wait_for_timeout(500)  # the host relays out
    page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    box = page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]; }")
    assert box[0] >= 0 and box[1] <= box[2], f"{selector} is not wholly on screen: {box}"


def show_widgets(page: Any, host: JupyterHost, url: str, notebook: str = NOTEBOOK) -> None:
    """Open ``notebook`` (made by :func:`widgets_notebook`) and run its cells until each widget is drawn."""
    host.open(page, url, notebook)
    if page.evaluate("document.body.dataset.jpThemeLight") != "true":  # a theme left by an earlier page
        host.switch_theme(page, THEMES["light"])
    for index, widget in enumerate(WIDGETS):
        host.run_cell(page, index)
        page.wait_for_selector(DRAWN[widget], timeout=PAGE_LOAD)
    page.wait_for_selector(".nbc-monitor[data-status='done']", timeout=RENDER)


def axe_in_host(page: Any, host: JupyterHost) -> dict[str, dict[str, list[dict]]]:
    """axe-core's violations (:func:`.axe.axe_details`) in the light then the dark theme, over each widget's root
    and over the whole ``page``: ``{theme: {widget or "page": [violation, ...]}}``. The widgets must be shown
    (:func:`show_widgets`)."""
    found: dict[str, dict[str, list[dict]]] = {}
    size = page.viewport_size
    for theme, name in THEMES.items():
        if page.evaluate("document.body.dataset.jpThemeLight") != ("true" if theme == "light" else "false"):
            host.switch_theme(page, name)
            page.wait_for_timeout(3500)  # the widgets' theme watcher re-checks up to 3 s after a change
        found[theme] = {}
        for widget, selector in WIDGETS.items():
            in_full_view(page, selector)
            found[theme][widget] = axe_details(page, selector)
            if widget == "explorer":
                found[theme][widget] = merged(found[theme][widget], *explorer_states(page, selector))
        page.set_viewport_size(size)
        found[theme]["page"] = axe_details(page)
    return found


def explorer_states(page: Any, selector: str) -> list[list[dict]]:
    """axe over the explorer in its other views (the Tokens view's samples are radios, the Trend view's list
    scrolls) and with its data table open (where the explorer has one), back in the heatmap view afterwards."""
    from .checks import choose_view

    found = []
    for view in ("distributions", "trend", "tokens"):
        choose_view(page, view)
        in_full_view(page, selector)
        found.append(axe_details(page, selector))
    toggle = page.locator(f"{selector} .nbc-table-toggle")
    if toggle.count():  # 0.3 has no data table
        toggle.click()
        page.wait_for_selector(f"{selector} .nbc-table-region:not([hidden]) tbody tr", timeout=RENDER)
        in_full_view(page, selector)
        found.append(axe_details(page, selector))
        toggle.click()
    choose_view(page, "heatmap")
    return found


def merged(*runs: list[dict]) -> list[dict]:
    """Violations of several axe runs over one widget, each rule once with the union of its elements."""
    rules: dict[str, dict] = {}
    for run in runs:
        for violation in run:
            rule = rules.setdefault(violation["id"], {**violation, "nodes": []})
            rule["nodes"] += [n for n in violation["nodes"] if n not in rule["nodes"]]
    return list(rules.values())


def counts(violations: list[dict]) -> str:
    """``"0"``, or ``"2 rules, 19 elements (color-contrast 18, region 1)"``."""
    if not violations:
        return "0"
    nodes = sum(len(v["nodes"]) for v in violations)
    rules = ", ".join(f"{v['id']} {len(v['nodes'])}" for v in sorted(violations, key=lambda v: v["id"]))
    return f"{len(violations)} rule{'s' * (len(violations) > 1)}, {nodes} element{'s' * (nodes > 1)} ({rules})"
