"""How the browser tier (and benchmarks/bench_widget.py) launch Debian chromium and guard its requests."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = os.environ.get("NBC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1"}


def launch(playwright: object) -> object:
    """Debian chromium, headless, with the flags above (a clear error when it is not installed)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"No Chromium at {CHROMIUM}: install Debian's (`apt-get install chromium fonts-dejavu-core`) or set "
            "NBC_CHROMIUM; deselect this tier with `-m 'not browser'`. Never `playwright install`."
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


class GuardedPage:
    """A page whose requests to hosts other than 127.0.0.1 are aborted and recorded in ``blocked``."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.blocked: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.page_errors: list[str] = []
        page.route("**/*", self._route)
        page.on("console", lambda message: self.console.append((message.type, message.text)))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _route(self, route: object) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "file:")) or host in LOCAL_HOSTS:
            route.fallback()
        else:
            self.blocked.append(url)
            route.abort()
