"""axe-core over nb_condense's widgets in marimo (issue 29), written once for the tests (test_a11y_marimo.py) and
for the before/after counts.

marimo draws each widget in a shadow root inside its own page; axe runs scoped to the widget's own element (the
page around it is marimo's), and over the whole document for information. Run as a script to print the counts per
theme and widget, for this checkout or another one's package (the marimo server imports ``nb_condense`` from
``--package``; the apps and the checks are this checkout's)::

    python -m tests.browser.marimo_a11y                          # this checkout
    python -m tests.browser.marimo_a11y --package /path/to/0.3   # e.g. a worktree of the 0.3 release
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .axe import axe_run
from .checks import THEME
from .colours import rgba
from .marimo_apps import cell, explorer_app, live_app
from .servers import marimo_server
from .test_live_view import TRAIN
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD, RENDER

WIDGETS = {"explorer": ".nbc-explorer", "chart": ".nbc-chart-only", "live view": ".nbc-monitor"}
"""The widgets' own elements (what ``render`` draws into the element anywidget gives it)."""

EXPLORER_DRAWN = ".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)"
CHART_DRAWN = ".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)"
LIVE_DONE = ".nbc-monitor[data-status='done']"

def axe_result(page, selector: str | None = None) -> list[dict]:
    """axe-core's violations at the WCAG 2.0/2.1 A and AA tags, scoped to the first element of ``selector``
    (through shadow roots), or over the whole document (:func:`.axe.axe_run`)."""
    return axe_run(page, selector)


def axe_counts(page, selector: str | None = None) -> dict[str, int]:
    """:func:`axe_result` as rule id -> number of elements."""
    return {v["id"]: len(v["nodes"]) for v in axe_result(page, selector)}


def explain(violations: list[dict]) -> str:
    """The violations, one line per element: rule, target and axe's own summary of what fails."""
    return "\n".join(f"{v['id']} {node['target']}: {' '.join(node['failureSummary'].split())[:300]}"
                     for v in violations for node in v["nodes"])


def set_scheme(page, scheme: str, selectors: list[str]) -> None:
    """Emulate ``prefers-color-scheme: scheme`` (marimo's theme is "system": it follows) and wait until each widget
    of ``selectors`` shows a background of that lightness and the theme watcher's last re-check has run."""
    page.emulate_media(color_scheme=scheme)
    dark = scheme == "dark"
    deadline = time.monotonic() + RENDER / 1000
    for selector in selectors:
        while (sum(rgba(page.locator(selector).first.evaluate(THEME)["widget"])[:3]) < 300) != dark:
            assert time.monotonic() < deadline, f"{selector} never turned {scheme}"
            page.wait_for_timeout(200)
    page.wait_for_timeout(3500)  # the theme watcher re-checks up to 3 s after a change (theme.js)


def open_app(page, url: str, ready: list[str], timeout: float = PAGE_LOAD) -> None:
    page.goto(url, timeout=PAGE_LOAD)
    for selector in ready:
        page.wait_for_selector(selector, timeout=timeout)


def measure(browser, url: str, ready: list[str], widgets: list[str],
            prepare: Callable[[object], None] | None = None) -> dict[tuple[str, str], dict[str, int]]:
    """axe counts for each theme x (widget name or "whole page"), on a fresh page of ``url`` once ``ready``."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light").new_page()
    try:
        open_app(page, url, ready, timeout=KERNEL_IDLE_S * 4 * 1000)
        if prepare is not None:
            prepare(page)
        counts = {}
        for scheme in ("light", "dark"):
            set_scheme(page, scheme, [WIDGETS[w] for w in widgets])
            for widget in widgets:
                counts[(scheme, widget)] = axe_counts(page, WIDGETS[widget])
            counts[(scheme, f"whole page ({' + '.join(widgets)})")] = axe_counts(page)
        return counts
    finally:
        page.context.close()


def measure_all(browser, folder: Path, train: str = TRAIN) -> dict[tuple[str, str], dict[str, int]]:
    """The explorer app (explorer and chart) and the live app (the training monitor; ``train``: its cell), light
    and dark."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    source = cell('mo.md(f"NB_CONDENSE FROM {nbc.__file__}")', args="mo, nbc")  # which package the server runs

    def provenance(page) -> None:
        print(page.locator("text=NB_CONDENSE FROM").first.inner_text(), file=sys.stderr)

    with marimo_server(explorer_app(folder / "explorer", extra_cells=(source,))) as server:
        counts |= measure(browser, server.url, [EXPLORER_DRAWN, CHART_DRAWN], ["explorer", "chart"], provenance)
    with marimo_server(live_app(folder / "live", train)) as server:
        counts |= measure(browser, server.url, [LIVE_DONE], ["live view"])
    return counts


def table(counts: dict[tuple[str, str], dict[str, int]]) -> str:
    """The counts as a Markdown table: theme, widget, violations (elements), by rule."""
    lines = ["| Theme | Widget | Violations (elements) | By rule |", "| --- | --- | --- | --- |"]
    for (scheme, widget), rules in counts.items():
        by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items())) or "none"
        lines.append(f"| {scheme} | {widget} | {sum(rules.values())} | {by_rule} |")
    return "\n".join(lines)


def train_cell() -> str:
    """The live app's training cell for the package the servers import: releases before 0.4 show the monitor with
    ``CondensationCallback(..., live=True)`` (0.4 takes ``monitor=TrainingMonitor()``)."""
    probe = ("import inspect, nb_condense as n; "
             "print('monitor' in inspect.signature(n.CondensationCallback).parameters)")
    takes_monitor = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                   cwd=tempfile.gettempdir())  # not this checkout's folder: PYTHONPATH decides
    if takes_monitor.stdout.strip() == "True":
        return TRAIN
    old = TRAIN.replace("monitor=nbc.TrainingMonitor()", "live=True")
    assert old != TRAIN
    return old


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    from .chromium import launch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, help="the checkout whose nb_condense the marimo server imports")
    args = parser.parse_args(argv)
    if args.package is not None:  # the servers inherit the environment
        os.environ["PYTHONPATH"] = str(args.package.resolve())
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for name in ("explorer", "live"):
                (Path(tmp) / name).mkdir()
            print(table(measure_all(browser, Path(tmp), train_cell())))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
