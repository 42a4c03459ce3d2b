"""Browser tier: Debian chromium driven by Playwright, every request off 127.0.0.1 blocked and counted.

Chromium comes from ``apt-get install chromium`` (``.ci/run`` does it); ``playwright install`` is never
used. A failing test leaves a screenshot in ``$NBC_ARTIFACTS`` (default ``.pytest_artifacts/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .chromium import GuardedPage, launch

ARTIFACTS = Path(os.environ.get("NBC_ARTIFACTS", ".pytest_artifacts"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


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
