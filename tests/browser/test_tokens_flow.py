"""The Tokens view wraps whole words (issue 29, item 4): every token is drawn in full in a cell sized to its word,
the cells follow each other in reading order, never overlap, and wrap at the container's width, at 420 and
1280 px, in the light and the dark theme. Read from the drawn Vega view's scenegraph; each word's full width is
measured by the browser itself (a canvas in the word's own font), and the words are compared with the session's."""

from __future__ import annotations

import json

import pytest

from nb_condense import CondensationExplorer
from nb_condense.charts.specs import readable_tokens
from nb_condense.widgets._protocol import EXPLORER_CHOICES, EXPLORER_STATE

from .chromium import GuardedPage
from .conftest import ARTIFACTS
from .harness import open_harness
from .timeouts import RENDER

pytestmark = pytest.mark.browser

# long words, so that a fixed-width cell would have to cut them
TEXTS = [
    "Internationalization responsibilities characteristically overwhelm administrators operationally.",
    "Short words: a cat sat on the mat, then representations of extraordinarily interdisciplinary contributions.",
]
DARK = ":root { --jp-layout-color0: #111111; --jp-ui-font-color1: #eeeeee; --jp-ui-font-color2: #bbbbbb; }"

CELLS = """() => {
    // The token strip as drawn: each cell (rect) and word (text) with its datum, page box and font; each word's
    // full width measured on a canvas in the word's own font and size.
    const host = document.querySelector('.nbc-chart');
    const view = host.vegaView;
    const canvas = host.querySelector('.nbc-vega canvas, .nbc-vega svg');
    const box = canvas.getBoundingClientRect();
    const [ox, oy] = view.origin();
    const ctx = document.createElement('canvas').getContext('2d');
    const out = {rects: [], words: []};
    const walk = (mark, x0, y0) => {
        for (const item of mark.items) {
            const d = item.datum ?? {};
            if (mark.role === 'mark' && 'mean_cosine' in d && item.bounds) {
                const b = [box.left + ox + x0 + item.bounds.x1, box.top + oy + y0 + item.bounds.y1,
                           box.left + ox + x0 + item.bounds.x2, box.top + oy + y0 + item.bounds.y2];
                if (mark.marktype === 'rect') out.rects.push({position: d.position, bounds: b});
                if (mark.marktype === 'text') {
                    ctx.font = `${item.fontStyle ?? ''} ${item.fontWeight ?? ''} ${item.fontSize}px ${item.font}`;
                    out.words.push({position: d.position, text: item.text, limit: item.limit ?? 0, bounds: b,
                                    full: ctx.measureText(String(item.text)).width});
                }
            }
            if (mark.marktype !== 'group') continue;
            for (const child of item.items ?? []) walk(child, x0 + (item.x ?? 0), y0 + (item.y ?? 0));
        }
    };
    walk(view.scenegraph().root, 0, 0);
    const chart = host.getBoundingClientRect();
    return {...out, left: chart.left, right: chart.left + host.clientWidth, scrollWidth: host.scrollWidth,
            clientWidth: host.clientWidth};
}"""


@pytest.fixture(scope="module")
def session():
    from .conftest_models import tiny_session

    return tiny_session(TEXTS)


def tokens_state(session, sample):
    """The synced state of a real explorer over ``session`` that shows text ``sample`` in the Tokens view."""
    explorer = CondensationExplorer(session, view="tokens", samples=[sample], layers=[-1], background=False,
                                    debounce_wait=40)
    names = ("_kind", *EXPLORER_CHOICES, *EXPLORER_STATE)
    return json.loads(json.dumps({name: getattr(explorer, name) for name in names}))


def drawn_strip(page):
    page.wait_for_selector(".nbc-chart[data-view='tokens'] .nbc-vega > :is(svg, canvas)", timeout=RENDER)
    page.wait_for_function("document.querySelector('.nbc-chart').vegaView?.scenegraph()", timeout=RENDER)
    page.wait_for_timeout(300)  # the resize observer's reflow
    return page.evaluate(CELLS)


def check_strip(strip, expected):
    """Every token in full, in its own cell, in reading order, inside the container's width."""
    words = sorted(strip["words"], key=lambda w: w["position"])
    rects = {r["position"]: r["bounds"] for r in strip["rects"]}
    assert [w["text"] for w in words] == expected  # the session's tokens, every one drawn
    assert sorted(rects) == [w["position"] for w in words]
    for word in words:
        x0, y0, x1, y1 = rects[word["position"]]
        # the whole word is drawn: Vega does not cut it (no limit below its width), and it fits its cell
        assert not word["limit"] or word["limit"] >= word["full"], word
        assert word["full"] <= x1 - x0, (word, rects[word["position"]])
        wx0, wy0, wx1, wy1 = word["bounds"]
        assert x0 - 0.5 <= wx0 and wx1 <= x1 + 0.5 and y0 - 0.5 <= wy0 and wy1 <= y1 + 0.5, (word, (x0, y0, x1, y1))
    boxes = [rects[w["position"]] for w in words]
    for a, b in zip(boxes, boxes[1:]):  # reading order: the next cell is to the right on its line, or lower
        same_line = abs(a[1] - b[1]) < 0.5
        assert (same_line and b[0] >= a[2]) or (not same_line and b[1] >= a[3]), (a, b)
    for i, a in enumerate(boxes):  # no two cells overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert max(b[2] for b in boxes) <= strip["right"] + 0.5  # inside the container's width
    assert strip["scrollWidth"] <= strip["clientWidth"]  # no horizontal scrolling
    lines = {round(b[1]) for b in boxes}
    return len(lines)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_tokens_view_wraps_whole_words_at_any_width(browser, session, theme):
    result = session.measured_result()
    lines = {}
    for width in (420, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            for sample in (0, 1):
                open_harness(page, tokens_state(session, sample), style=DARK if theme == "dark" else "")
                expected = readable_tokens(result.tokens(sample, -1)["token"]).tolist()
                assert max(map(len, expected)) >= 10  # long words: a fixed 60 px cell would cut them
                lines[width, sample] = check_strip(drawn_strip(page), expected)
                if sample == 0:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / f"tokens_flow_{theme}_{width}.png"))
        finally:
            context.close()
    assert all(lines[420, s] > lines[1280, s] for s in (0, 1))  # the narrow view wraps into more lines


def test_the_strip_is_laid_out_again_when_the_container_narrows(guarded, session):
    page = guarded.page
    open_harness(page, tokens_state(session, 0))
    result = session.measured_result()
    expected = readable_tokens(result.tokens(0, -1)["token"]).tolist()
    wide = check_strip(drawn_strip(page), expected)
    page.set_viewport_size({"width": 420, "height": 900})
    page.wait_for_function("document.querySelector('.nbc-chart').dataset.flowWidth < 420", timeout=RENDER)
    assert check_strip(drawn_strip(page), expected) > wide


def test_the_saved_token_strip_shows_every_word_whole(guarded, session):
    """The static chart (``charts.token_strip``, as saved or shown without the explorer) keeps the layout Python
    made with its estimate of the words' widths: drawn by the browser without a new layout, every word still
    fits its cell."""
    from nb_condense import charts

    result = session.measured_result()
    for sample in (0, 1):
        spec = charts.token_strip(session, sample, -1).to_dict()
        assert spec.pop("usermeta")["nbc_flow"]  # drawn as a front end without the layout would draw it
        guarded.page.set_viewport_size({"width": 1280, "height": 900})
        open_harness(guarded.page, tokens_state(session, sample) | {"_spec": spec})
        expected = readable_tokens(result.tokens(sample, -1)["token"]).tolist()
        check_strip(drawn_strip(guarded.page), expected)


def test_the_offline_page_wraps_the_chosen_texts_words(browser, session, tmp_path):
    """The page saved by save_page lays out the text the reader picks (its rows hold every text's tokens)."""
    path = CondensationExplorer(session, background=False).save_page(tmp_path / "explorer.html")
    result = session.measured_result()
    context = browser.new_context(viewport={"width": 420, "height": 900})
    page = GuardedPage(context.new_page()).page  # offline: every request off this machine is aborted
    try:
        page.goto(path.as_uri())
        page.click("button.nbc-view[data-view='tokens']")
        for sample in (0, 1):
            page.locator(f".nbc-sample-list li[data-sample='{sample}'] input").click()
            page.wait_for_function(f"document.querySelector('.nbc-chart').vegaView?.signal('sample') === {sample}",
                                   timeout=RENDER)
            expected = readable_tokens(result.tokens(sample, -1)["token"]).tolist()
            strip = drawn_strip(page)
            check_strip(strip, expected)
            boxes = [r["bounds"] for r in strip["rects"]]
            plot = page.evaluate("document.querySelector('.nbc-chart').vegaView.height()")
            assert max(b[3] for b in boxes) - min(b[1] for b in boxes) <= plot  # the strip is as tall as its lines
    finally:
        context.close()
