"""Hostile text stays text (issue 23.7): texts, token strings, a model name and titles holding ``<script>``,
``</script>``, ``<img onerror=...>`` and entities are shown literally, and nothing runs, in the offline page, a
chart saved as HTML (its tooltip) and the explorer and a chart widget in JupyterLab."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import nb_condense as nbc

from .checks import VEGA_MARKS_OF
from .conftest import ARTIFACTS
from .hostile import MODEL, TEXTS, TITLE, TOKENS, assert_nothing_ran, hostile_result
from .notebooks import read_state, write_notebook
from .servers import Server, lab_server
from .test_lab import run_cell, wait_kernel_idle
from .timeouts import PAGE_LOAD, RENDER, ROUND_TRIP

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def result() -> nbc.CondensationResult:
    return hostile_result()


def drawn_texts(page, scope: str, role: str) -> list[str]:
    """The texts of the text marks of ``role`` (``mark``: the tokens; ``title-text``: the title) that the Vega view
    in ``scope`` drew, read from its scenegraph (canvas and SVG alike)."""
    marks = page.locator(scope).first.evaluate(VEGA_MARKS_OF) or []
    items = [i for m in marks if m["marktype"] == "text" and m["role"] == role for i in m["items"]
             if i["text"] is not None]
    items.sort(key=lambda i: i["datum"].get("position", 0))  # the tokens in text order
    return ["".join(i["text"]) if isinstance(i["text"], list) else str(i["text"]) for i in items]


def wait_texts(page, scope: str, title_part: str) -> list[str]:
    """Poll the view in ``scope`` until its title holds ``title_part`` and it drew token texts; those texts."""
    deadline = time.monotonic() + ROUND_TRIP / 1000
    while True:
        title = "".join(drawn_texts(page, scope, "title-text"))
        tokens = drawn_texts(page, scope, "mark")
        if title_part in title and tokens:
            return tokens
        if time.monotonic() > deadline:
            raise AssertionError(f"no tokens under a title holding {title_part!r} in {scope}: title {title!r}")
        page.wait_for_timeout(100)


def words(text: str) -> str:
    """What the sample list shows of a text: its first 8 words."""
    return " ".join(text.split()[:8])


def shown_token(text: str, token: str) -> bool:
    """A drawn token is the token itself, or its start and an ellipsis (Vega's ``limit`` truncates)."""
    return text == token or (text.endswith("…") and token.startswith(text[:-1]))


def hover_first_token(page, scope: str) -> str:
    """Hover the first token cell of the token strip in ``scope``; the tooltip's text."""
    host = page.locator(scope).first  # the tokens view draws on a canvas: its cells are read from the Vega view
    host.scroll_into_view_if_needed()
    marks = host.evaluate(VEGA_MARKS_OF) or []
    rects = [i for m in marks if m["marktype"] == "rect" and m["role"] == "mark" for i in m["items"]]
    assert rects, f"no token cells drawn in {scope}"
    x1, y1, x2, y2 = rects[0]["bounds"]
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2)  # the word: it carries the token's tooltip
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    return page.locator("#vg-tooltip-element").inner_text()


def test_the_offline_page_shows_hostile_text_literally(result, guarded, tmp_path):
    path = nbc.save_page({MODEL: result}, tmp_path / "hostile.html", title=TITLE)
    page = guarded.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
    assert page.title() == TITLE and page.inner_text("h1") == TITLE
    assert page.locator(".nbc-model option").all_inner_texts() == [MODEL]
    assert "".join(drawn_texts(page, ".nbc-chart", "title-text")).startswith(MODEL + " · ")  # the name, literally
    listed = page.locator(".nbc-sample-list li").all_inner_texts()
    assert [words(text) in row for text, row in zip(TEXTS, listed)] == [True] * len(TEXTS), listed

    page.click(".nbc-sample-list li[data-sample='0'] input")
    page.click("button.nbc-view[data-view='tokens']")
    drawn = wait_texts(page, ".nbc-chart", "sample #0")
    expected = result.tokens(0, -1)["token"].tolist()
    assert len(drawn) == len(expected) and all(map(shown_token, drawn, expected)), (drawn, expected)
    tooltip = hover_first_token(page, ".nbc-chart")
    assert TOKENS[0] in tooltip, tooltip  # the whole token, as text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile_page.png"), full_page=True)
    assert dialogs == []
    assert_nothing_ran(page, guarded)


def test_a_chart_saved_as_html_shows_hostile_text_literally(result, guarded, tmp_path):
    chart = nbc.charts.token_strip(result, sample=0, layer=-1, title=TITLE)
    path = nbc.save_chart(chart, tmp_path / "tokens.html")
    page = guarded.page
    page.goto(path.as_uri())
    page.wait_for_selector("#vis canvas, #vis svg.marks", timeout=RENDER)  # Altair's HTML: canvas by default
    box = page.locator("#vis canvas, #vis svg.marks").first.bounding_box()
    tooltip = ""
    for y in range(4, 240, 3):  # down the first column, past the title and the legend above the cells, to a tooltip
        page.mouse.move(box["x"] + 8, box["y"] + y)
        page.wait_for_timeout(60)
        if page.locator("#vg-tooltip-element.visible").count():
            tooltip = page.locator("#vg-tooltip-element").inner_text()
            break
    assert TOKENS[0] in tooltip, tooltip
    assert page.locator("#vg-tooltip-element *").evaluate_all(
        "(nodes) => nodes.filter((n) => ['SCRIPT', 'IMG', 'B'].includes(n.tagName)).length") == 0
    assert_nothing_ran(page, guarded)


# ----- JupyterLab: the explorer and an offline chart widget ------------------------------------------------
LAB_CELLS = [
    '''\
import json, pathlib
import nb_condense as nbc
result = nbc.CondensationResult.load("hostile.npz")
name = result.metadata["model_name"]
explorer = nbc.CondensationExplorer({name: result})
explorer.observe(lambda _: pathlib.Path("state.json").write_text(json.dumps({"samples": explorer.samples,
                 "view": explorer.view})), names=["samples", "view"])
explorer''',
    '''\
nbc.enable_offline_charts()
nbc.charts.token_strip(result, sample=0, layer=-1, title=TITLE)''',
]


@pytest.fixture(scope="module")
def lab(result, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("hostile-lab")
    result.save(folder / "hostile.npz")
    write_notebook(folder, "hostile.ipynb", [LAB_CELLS[0], f"TITLE = {TITLE!r}\n" + LAB_CELLS[1]])
    with lab_server(folder) as server:
        yield server, folder


def test_jupyterlab_shows_hostile_text_literally(result, lab, guarded):
    server, folder = lab
    page = guarded.page
    page.goto(f"{server.url}/lab/tree/hostile.ipynb", timeout=PAGE_LOAD)
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=PAGE_LOAD)
    wait_kernel_idle(page, server.url, "hostile.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)",
                           timeout=PAGE_LOAD)
    assert page.locator(".nbc-explorer .nbc-model option").all_inner_texts() == [MODEL]
    assert "".join(drawn_texts(page, ".nbc-explorer .nbc-chart", "title-text")).startswith(MODEL + " · ")
    listed = page.locator(".nbc-explorer .nbc-sample-list li").all_inner_texts()
    assert [words(text) in row for text, row in zip(TEXTS, listed)] == [True] * len(TEXTS), listed

    page.click(".nbc-explorer .nbc-sample-list li[data-sample='0'] input")
    page.click(".nbc-explorer button.nbc-view[data-view='tokens']")
    drawn = wait_texts(page, ".nbc-explorer .nbc-chart", "sample #0")
    assert read_state(folder) == {"samples": [0], "view": "tokens"}  # Python saw the clicks
    expected = result.tokens(0, -1)["token"].tolist()
    assert len(drawn) == len(expected) and all(map(shown_token, drawn, expected)), (drawn, expected)
    assert TOKENS[0] in hover_first_token(page, ".nbc-explorer .nbc-chart")

    run_cell(page, 1)
    page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    assert "".join(drawn_texts(page, ".nbc-chart-only", "title-text")) == TITLE
    page.mouse.move(0, 0)
    assert TOKENS[0] in hover_first_token(page, ".nbc-chart-only")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile_lab.png"), full_page=True)
    assert_nothing_ran(page, guarded)
