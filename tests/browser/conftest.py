"""Browser tier: Debian chromium driven by Playwright, every request off 127.0.0.1 blocked and counted.

Chromium comes from ``apt-get install chromium`` (``.ci/run`` does it); ``playwright install`` is never
used. A failing test leaves a screenshot in ``$NBC_ARTIFACTS`` (default ``.pytest_artifacts/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest


CHROMIUM = os.environ.get("NBC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(os.environ.get("NBC_ARTIFACTS", ".pytest_artifacts"))
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"No Chromium at {CHROMIUM}: install Debian's (`apt-get install chromium fonts-dejavu-core`) or set "
            "NBC_CHROMIUM; deselect this tier with `-m 'not browser'`. Never `playwright install`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


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
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.fallback()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture
def guarded(browser: object, request: pytest.FixtureRequest) -> Iterator[GuardedPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    guarded = GuardedPage(context.new_page())
    try:
        yield guarded
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"{request.node.name}.png"
            try:
                guarded.page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot}")
            except Exception as exc:  # the page may be gone; the test failure is what matters
                print(f"no screenshot: {exc}")
        context.close()
