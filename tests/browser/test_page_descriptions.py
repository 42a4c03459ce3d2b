"""The offline page's description and data table follow the reader's choice (issue 29): after picking layers and
samples on a page saved by save_page (no kernel), the chart's accessible description and the data table equal
``describe_view`` computed in Python from the session for that choice. A choice the page holds no text for (several
texts, or several layers but not all) is described by a choice it holds, and the description names that choice."""

from __future__ import annotations

import json

import pytest

from nb_condense import CondensationExplorer
from nb_condense.charts.describe import describe_view
from nb_condense.widgets._views import Choice
from nb_condense.widgets._views import view as explorer_view

from .chromium import GuardedPage
from .timeouts import RENDER

pytestmark = pytest.mark.browser

TEXTS = [
    "Embeddings condense into a narrow cone as depth grows in small models.",
    "Larger models resist condensation, keeping token vectors spread apart.",
    "A dispersion loss on hidden states counteracts the collapse during training.",
]
MODEL = "tiny-gpt2"
STATE = "(name) => window.nbcPage.model.get(name)"
DESCRIBED = """() => { const id = document.querySelector('.nbc-chart [role=img]')?.getAttribute('aria-describedby');
    return id ? document.getElementById(id).textContent : null; }"""


@pytest.fixture(scope="module")
def session():
    from .conftest_models import tiny_session

    return tiny_session(TEXTS, name=MODEL)


@pytest.fixture(scope="module")
def page_path(session, tmp_path_factory):
    return CondensationExplorer(session, background=False).save_page(tmp_path_factory.mktemp("p") / "page.html")


def wait_state(page, name, value):
    page.wait_for_function(f"(v) => JSON.stringify(window.nbcPage.model.get({json.dumps(name)})) === v",
                           arg=json.dumps(value, separators=(",", ":")), timeout=RENDER)


def expected(session, view, layers, samples):
    """describe_view for the choice, titled as the page titles it (the explorer's heading)."""
    heading = explorer_view(view).heading(Choice({MODEL: session}, MODEL, layers, samples, view))
    return describe_view(view, {MODEL: session.measured_result()}, model=MODEL, layers=layers, samples=samples,
                         title=heading).to_dict()


def choose(page, view, layers, samples):
    """Pick ``view``, then exactly ``layers`` and ``samples`` by clicking the chips and the sample list."""
    page.click(f"button.nbc-view[data-view='{view}']")
    wait_state(page, "view", view)
    if page.evaluate(STATE, "layers") != layers:
        if view != "tokens":  # the Tokens view shows one layer and one text: a chip or a text replaces the last
            page.click(".nbc-chip[data-layer='all']")
        for layer in layers:
            page.click(f".nbc-chip[data-layer='{layer}']")
    if page.evaluate(STATE, "samples") != samples:
        if view != "tokens":
            page.click("button.nbc-all-samples")
        for sample in samples:
            page.click(f".nbc-sample-list li[data-sample='{sample}'] input")
    wait_state(page, "layers", layers)
    wait_state(page, "samples", samples)
    page.wait_for_function("document.querySelector('.nbc-chart [role=img]')?.getAttribute('aria-describedby')",
                           timeout=RENDER)


@pytest.mark.parametrize(("view", "layers", "samples"), [
    ("heatmap", [], [1]),
    ("heatmap", [], [2]),
    ("distributions", [1], []),
    ("distributions", [], [0]),
    ("distributions", [2], [1]),
    ("tokens", [1], [2]),
    ("tokens", [0], [1]),
])
def test_the_page_describes_the_chosen_layers_and_samples(browser, session, page_path, view, layers, samples):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = GuardedPage(context.new_page()).page  # offline: every request off this machine is aborted
    try:
        page.goto(page_path.as_uri())
        page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=RENDER)
        choose(page, view, layers, samples)
        want = expected(session, view, layers, samples)
        assert page.evaluate(DESCRIBED) == page.evaluate(STATE, "description") == want["summary"]
        table = page.evaluate(STATE, "table")
        assert table["name"] == want["name"] and table["columns"] == want["columns"]
        digits = 4 if view == "tokens" else 12  # the page stores per-token means to 4 decimals (TOKEN_DIGITS)
        assert len(table["rows"]) == len(want["rows"])
        for got, row in zip(table["rows"], want["rows"]):
            assert [round(v, digits) if isinstance(v, float) else v for v in got] == \
                   [round(v, digits) if isinstance(v, float) else v for v in row]
    finally:
        context.close()


def test_a_choice_the_page_cannot_describe_names_the_choice_it_describes(browser, session, page_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = GuardedPage(context.new_page()).page  # offline: every request off this machine is aborted
    try:
        page.goto(page_path.as_uri())
        page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=RENDER)
        for view, layers, samples, described in (("heatmap", [], [0, 2], ([], [])),
                                                 ("distributions", [0, 2], [1], ([], [1]))):
            choose(page, view, layers, samples)
            want = expected(session, view, *described)
            text = page.evaluate(DESCRIBED)
            assert text.startswith(want["summary"]) and want["name"] in text and "not your choice" in text
            table = page.evaluate(STATE, "table")
            assert table["rows"] == want["rows"] and want["name"] in table["name"]
    finally:
        context.close()
