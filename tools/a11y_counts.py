"""axe-core's WCAG 2.0/2.1 A and AA violations of our widgets in JupyterLab and Notebook 7, light and dark.

The explorer, a ``ChartWidget`` and the live training view are shown in one notebook (``tests/browser/
a11y_hosts.py``, the same measurement as ``tests/browser/test_a11y_hosts.py``); axe runs scoped to each widget's
root element, and over the whole page for information. Prints a Markdown table of rules and elements::

    python tools/a11y_counts.py                        # the code of this checkout
    python tools/a11y_counts.py --code /path/to/old    # another checkout's nb_condense (its kernel imports it)
    python tools/a11y_counts.py --json counts.json     # also write every violation's targets

Needs Debian's chromium, JupyterLab, Notebook 7 and axe-core (``cd js && npm ci``), like the browser tier.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(code: Path, hosts: list[str]) -> dict[str, dict[str, dict[str, list[dict]]]]:
    """``{host: {theme: {widget or "page": violations}}}`` with the kernels importing ``code``'s nb_condense."""
    from playwright.sync_api import sync_playwright

    from tests.browser.a11y_hosts import axe_in_host, show_widgets, widgets_notebook
    from tests.browser.chromium import GuardedPage, launch
    from tests.browser.hosts import LAB, NOTEBOOK7
    from tests.browser.servers import lab_server, notebook7_server

    os.environ["PYTHONPATH"] = str(code)  # the servers' kernels inherit it (servers.jupyter_env)
    os.environ["HF_HUB_OFFLINE"] = "1"
    known = {"jupyterlab": (LAB, lab_server), "notebook7": (NOTEBOOK7, notebook7_server)}
    found = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for name in hosts:
            host, server_for = known[name]
            with tempfile.TemporaryDirectory() as folder, server_for(Path(folder)) as server:
                widgets_notebook(Path(folder))
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = GuardedPage(context.new_page()).page
                show_widgets(page, host, server.url)
                found[name] = axe_in_host(page, host)
                context.close()
        browser.close()
    return found


def table(found: dict[str, dict[str, dict[str, list[dict]]]]) -> str:
    """The Markdown table: one row per host and theme, one column per widget, then the whole page."""
    from tests.browser.a11y_hosts import WIDGETS, counts

    columns = [*WIDGETS, "page"]
    lines = ["| host | theme | " + " | ".join(f"{c} (scoped)" if c != "page" else "whole page (host + ours)"
                                            for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for host, themes in found.items():
        for theme, widgets in themes.items():
            lines.append(f"| {host} | {theme} | " + " | ".join(counts(widgets[c]) for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table (and write the details with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose nb_condense the kernels import")
    parser.add_argument("--hosts", nargs="+", default=["jupyterlab", "notebook7"],
                        choices=["jupyterlab", "notebook7"])
    parser.add_argument("--json", type=Path, help="write every violation (rule, impact, targets) here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still stops its servers
    sys.path.insert(0, str(ROOT))  # the tests' helpers come from this checkout, whatever --code says
    found = measure(args.code.resolve(), args.hosts)
    print(f"axe-core at the WCAG 2.0/2.1 A and AA tags; nb_condense from {args.code}")
    print(table(found))
    if args.json:
        args.json.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
