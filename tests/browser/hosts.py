"""One way to drive each notebook host (JupyterLab, Notebook 7), so the same check runs in every host.

A host opens a notebook, runs a cell and says whether a cell is running; the checks (explorer, chart, live view)
are written once against these and against the widgets' own DOM (``.nbc-explorer``, ``.nbc-chart-only``,
``.nbc-monitor``), which is the same in every host.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

from .checks import check_fit, check_theme
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD, RENDER


@dataclass(frozen=True)
class JupyterHost:
    """A Jupyter front end built on JupyterLab's notebook panel; ``path`` is the URL prefix of a notebook."""

    name: str
    path: str

    def open(self, page, url: str, notebook: str) -> None:
        """Open ``notebook`` and wait until its kernel is idle and connected."""
        page.goto(f"{url}/{self.path}/{notebook}", timeout=PAGE_LOAD)
        page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=PAGE_LOAD)
        wait_kernel_idle(page, url, notebook)

    def run_cell(self, page, index: int) -> None:
        page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")

    def cell_running(self, page, index: int) -> bool:
        """The cell's prompt reads [*] while it runs (the kernel API can read idle between messages)."""
        return "*" in page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").inner_text()

    def switch_theme(self, page, name: str) -> None:
        """Choose the theme ``name`` ("JupyterLab Dark", "JupyterLab Light") from the Settings menu, as a user
        does, and wait until the page says it applied."""
        page.click("li.lm-MenuBar-item:has-text('Settings')")
        page.hover("li.lm-Menu-item:has-text('Theme')")
        page.click(f"li.lm-Menu-item:has-text('{name}')")
        light = "true" if "Light" in name else "false"
        page.wait_for_function(f"document.body.dataset.jpThemeLight === '{light}'", timeout=RENDER)

    def theme_background(self, page) -> str:
        """The theme's own background colour (``--jp-layout-color0``, resolved by the browser)."""
        return page.evaluate("""() => {
            const probe = document.createElement('div');
            probe.style.background = 'var(--jp-layout-color0)';
            document.body.append(probe);
            const colour = getComputedStyle(probe).backgroundColor;
            probe.remove();
            return colour;
        }""")

    def check_fit_and_theme(self, page, guarded, url: str, notebook: str) -> None:
        """Open ``notebook`` (an explorer in cell 0, a chart widget in cell 1: ``FIGURE_CELL``), then run the
        shared width and theme checks; the widgets' background must be the theme's own."""
        page.set_viewport_size({"width": 1500, "height": 1000})
        self.open(page, url, notebook)
        self.run_cell(page, 0)
        page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)",
                               timeout=PAGE_LOAD)
        self.run_cell(page, 1)
        page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
        check_fit(page, guarded, self.name)
        check_theme(page, guarded, self.name, lambda: self.switch_theme(page, "JupyterLab Dark"),
                    lambda: self.switch_theme(page, "JupyterLab Light"), background=lambda: self.theme_background(page))


LAB = JupyterHost("jupyterlab", "lab/tree")
NOTEBOOK7 = JupyterHost("notebook7", "notebooks")


def wait_kernel_idle(page, url: str, notebook: str) -> None:
    """Poll the kernel of ``notebook``'s session until it is idle and connected; Playwright pumps events meanwhile."""
    deadline = time.monotonic() + KERNEL_IDLE_S
    while True:
        with urllib.request.urlopen(f"{url}/api/sessions", timeout=5) as response:
            kernels = [s["kernel"] for s in json.loads(response.read()) if s["path"].endswith(notebook)]
        if kernels and all(k["execution_state"] == "idle" and k["connections"] >= 1 for k in kernels):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {notebook} is not idle after {KERNEL_IDLE_S} s: {kernels}")
        page.wait_for_timeout(200)
