"""The documentation site in Chromium (issue 32): built once with the documented command, served on 127.0.0.1.

Every page opens with no console error and no request outside the site; each walkthrough page's embedded explorer
draws the saved results (read from the Vega view's own data, compared with the package's numbers) and a click on a
layer redraws it; axe-core finds no WCAG 2.1 A/AA violation on the home page, a how-to, a tutorial and a walkthrough
page, in light and dark; screenshots of the home page and a walkthrough page at 1280 and 420 CSS px go to
``$NBC_ARTIFACTS`` (default ``.pytest_artifacts/``). The pages tested are picked from what the built site contains.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import nb_condense as nbc
from tests.integration.test_site import need_sphinx
from tests.unit.js_tools import missing

from .axe import axe_run, need_tools
from .chromium import CHROMIUM
from .conftest import ARTIFACTS
from .test_page import DATASET
from .timeouts import RENDER

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH_DATA = ROOT / "docs" / "walkthrough" / "data"
DRAWN = ".nbc-chart[data-revision] .nbc-vega > canvas"
VIEW = "document.querySelector('.nbc-chart').vegaView"
SKIP_DIRS = ("_static", "_sources", "_images", "_modules", "_downloads")  # downloads are files, not pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once into a temporary folder with the documented command (warnings are errors).

    ``NBC_SITE=<folder>`` tests a site built already with that command instead (while editing the tests).
    """
    if built := os.environ.get("NBC_SITE"):
        return Path(built)
    need_sphinx()
    out = tmp_path_factory.mktemp("site") / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html", "docs", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>/`` serving the built site (a thread, stopped after the module)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if not Path(CHROMIUM).exists():
        missing(f"No Chromium at {CHROMIUM}: `apt-get install chromium` or set NBC_CHROMIUM")


def pages(site: Path) -> list[str]:
    """Every HTML page of the site, relative to its root (the explorers under explorers/ included)."""
    found = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return [p for p in found if not p.startswith(SKIP_DIRS)]


def first_page(site: Path, section: str) -> str:
    """The first page under ``section/`` other than its index (its index when it has no other page)."""
    under = [p for p in pages(site) if p.startswith(f"{section}/")]
    assert under, f"the site has no page under {section}/"
    others = [p for p in under if p != f"{section}/index.html"]
    return (others or under)[0]


class Recorder:
    """A page whose every request is recorded; those outside the site are aborted; console errors are kept."""

    def __init__(self, context: object, origin: str) -> None:
        self.origin = origin
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.page = context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def _route(self, route: object) -> None:
        url = route.request.url
        if url.startswith((self.origin, "data:", "blob:", "about:")):
            route.fallback()
        else:
            self.outside.append(url)
            route.abort()

    def problems(self) -> dict[str, list[str]]:
        found = {"outside the site": self.outside, "console errors": self.errors, "failed requests": self.failed}
        return {k: v for k, v in found.items() if v}


@pytest.fixture
def recorder(browser: object, server: str) -> Iterator[Recorder]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    try:
        yield Recorder(context, server)
    finally:
        context.close()


def open_explorers(page: object) -> list[object]:
    """Scroll each embedded explorer into view (they load lazily) and return their frames, once drawn."""
    frames = []
    for k in range(page.locator("iframe").count()):
        frame_element = page.locator("iframe").nth(k)
        frame_element.scroll_into_view_if_needed()
        frame = frame_element.element_handle().content_frame()
        frame.wait_for_selector(DRAWN, timeout=RENDER * 3)
        frame.wait_for_function(f"{VIEW}.data('histograms').length > 0", timeout=RENDER)
        frames.append(frame)
    return frames


def test_every_page_opens_with_no_console_error_and_no_request_outside_the_site(site, server, recorder):
    every = pages(site)
    assert "index.html" in every and any(p.startswith("walkthrough/") for p in every)
    problems = {}
    for path in every:
        recorder.page.goto(server + path, wait_until="load")
        open_explorers(recorder.page)  # the lazy iframes load too, so their requests are seen
        recorder.page.wait_for_timeout(100)
        if found := recorder.problems():
            problems[path] = found
        recorder.outside, recorder.errors, recorder.failed = [], [], []
    print(f"{len(every)} pages opened")
    assert problems == {}


def walkthrough_pages(site: Path) -> list[str]:
    """The walkthrough's finding pages, Finding 1's first when there is one (the others in name order)."""
    found = [p for p in pages(site) if p.startswith("walkthrough/") and p != "walkthrough/index.html"]
    return sorted(found, key=lambda p: (p != "walkthrough/f1.html", p))


def test_each_walkthrough_explorer_draws_the_saved_results_and_a_layer_click_redraws_it(site, server, recorder):
    manifest = json.loads((WALKTHROUGH_DATA / "manifest.json").read_text(encoding="utf-8"))["findings"]
    shown = walkthrough_pages(site)
    assert sorted(Path(p).stem for p in shown) == sorted(manifest)  # one page per finding, each with its data
    page = recorder.page
    for path in shown:
        page.goto(server + path, wait_until="load")
        (frame,) = open_explorers(page)
        first = manifest[Path(path).stem]["models"][0]  # the explorer shows the first model at first
        session = nbc.CondensationSession.from_result(nbc.CondensationResult.load(WALKTHROUGH_DATA / first["file"]),
                                                      name=first["label"])
        assert frame.evaluate(f"{VIEW}.signal('nbc_title')").startswith(first["label"]), path

        # the heatmap: the drawn cells are the package's heatmap of all texts of that model
        cells = frame.evaluate(DATASET, ["layer", "cosine_low", "density"])
        kernel = nbc.charts.heatmap.figure(session).data
        assert len(cells) == len(kernel), path
        got = sorted((c["layer"], round(c["cosine_low"], 9), c["density"]) for c in cells)
        want = sorted(zip(kernel["layer"], kernel["cosine_low"].round(9), kernel["density"]))
        np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], atol=1e-6)

        # the distributions of all layers; a click on the last layer's chip redraws them for that layer alone
        layers = [int(k) for k in session.measured_result().layers]
        frame.click("button.nbc-view[data-view='distributions']")
        frame.wait_for_function(f"document.querySelectorAll('.nbc-chart .mark-line.role-mark path').length"
                                f" === {len(layers)}", timeout=RENDER)
        before = {r["layer"] for r in frame.evaluate(DATASET, ["layer", "cosine", "density"])}
        assert before == set(layers), path
        frame.click(f".nbc-chip[data-layer='{layers[-1]}']")
        frame.wait_for_function("document.querySelectorAll('.nbc-chart .mark-line.role-mark path').length === 1",
                                timeout=RENDER)
        frame.wait_for_timeout(100)
        rows = frame.evaluate(DATASET, ["layer", "cosine", "density"])
        expected = session.distribution(layers=[layers[-1]])
        assert {r["layer"] for r in rows} == {layers[-1]}, path
        np.testing.assert_allclose(sorted(r["density"] for r in rows), sorted(expected["density"]), atol=1e-6)
    assert recorder.problems() == {}


def axe_violations(page: object) -> dict[str, list[str]]:
    """axe-core's WCAG 2.1 A/AA violations on the page and in its iframes: rule id -> the elements' selectors."""
    return {v["id"]: [" ".join(map(str, n["target"])) for n in v["nodes"]] for v in axe_run(page, iframes=True)}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_violation_on_four_kinds_of_page(site, server, browser, scheme):
    need_tools()
    chosen = ["index.html", first_page(site, "howto"), first_page(site, "tutorials"), walkthrough_pages(site)[0]]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme,
                                  reduced_motion="reduce")
    violations = {}
    try:
        recorder = Recorder(context, server)
        for path in chosen:
            recorder.page.goto(server + path, wait_until="load")
            assert recorder.page.evaluate("document.documentElement.dataset.theme") == scheme, path
            open_explorers(recorder.page)
            if found := axe_violations(recorder.page):
                violations[path] = found
    finally:
        context.close()
    print(f"axe {scheme} on {chosen}: {violations}")
    assert violations == {}


@pytest.mark.parametrize("width", [1280, 420])
def test_screenshots_of_the_home_page_and_a_walkthrough_page(site, server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, reduced_motion="reduce")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        recorder = Recorder(context, server)
        for path, name in (("index.html", "home"), (walkthrough_pages(site)[0], "walkthrough")):
            recorder.page.goto(server + path, wait_until="load")
            open_explorers(recorder.page)
            recorder.page.evaluate("window.scrollTo(0, 0)")  # the header sits at the top of the full-page shot
            recorder.page.wait_for_timeout(300)
            shot = ARTIFACTS / f"site_{name}_{width}.png"
            recorder.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            # nothing wider than the window: the page does not scroll sideways
            overflow = recorder.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} at {width} px scrolls sideways by {overflow} px"
        assert recorder.problems() == {}
    finally:
        context.close()
