"""The checks every host runs, written once: the explorer answers a click and Python sees it, a chart shows its
tooltip, the live view redraws while its cell runs. Each keeps a screenshot in ``ARTIFACTS`` and counts the
requests that left 127.0.0.1 (none allowed). Width and theme checks (issue 24) belong here too, so that every
host runs them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .colours import contrast, rgba
from .conftest import ARTIFACTS
from .harness import VEGA_MARKS
from .notebooks import read_state
from .timeouts import KERNEL_IDLE_S, PAGE_LOAD, RENDER, ROUND_TRIP

HOST_ERRORS = {"Cannot read properties of undefined (reading 'schema')"}
"""Errors a host throws by itself: Notebook 7.6 throws this one while loading its settings, with a one-cell
``1+1`` notebook too (no nb_condense involved)."""


def assert_clean(guarded) -> None:
    """No page error of ours (the host's own, :data:`HOST_ERRORS`, aside) and no request off 127.0.0.1."""
    ours = [error for error in guarded.page_errors if error not in HOST_ERRORS]
    assert ours == [] and guarded.blocked == [], (ours, guarded.blocked)


def screenshot(page, name: str, selector: str | None = None) -> Path:
    """Keep a picture of ``selector`` (or the page) as ``ARTIFACTS/name.png``; returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).first.scroll_into_view_if_needed()
        page.locator(selector).first.screenshot(path=str(path))
    return path


def wait_python(read: Callable[[], dict], predicate: Callable[[dict], bool], what: str,
                timeout_s: float = ROUND_TRIP / 1000, sleep: Callable[[float], object] = time.sleep) -> dict:
    """Poll ``read()`` (Python's state, written by the kernel) until ``predicate`` holds. ``sleep(seconds)`` waits
    between reads: in marimo pass Playwright's (``page.wait_for_timeout``), because marimo sends a widget's changes
    as HTTP requests that the guarded page's route handler passes on only while Playwright runs."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = read()
        if state and predicate(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"Python never reported {what}; last state: {state}")
        sleep(0.1)


def page_sleep(page) -> Callable[[float], object]:
    """A ``sleep(seconds)`` for :func:`wait_python` that waits in Playwright, so the page's requests go on."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def check_explorer(page, guarded, folder: Path, host: str) -> None:
    """The explorer of ``notebooks.BUILD`` draws, a layer click reaches Python, a sample click too."""
    drawn = ".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)"
    page.wait_for_selector(drawn, timeout=PAGE_LOAD)
    page.click(".nbc-explorer .nbc-chip[data-layer='1']")
    page.wait_for_selector(".nbc-explorer .nbc-chip[data-layer='1'][aria-pressed='true']", timeout=RENDER)
    wait_python(lambda: read_state(folder), lambda s: s.get("layers") == [1], "layers == [1]", sleep=page_sleep(page))
    page.click(".nbc-explorer .nbc-sample-list li[data-sample='2'] input")
    wait_python(lambda: read_state(folder), lambda s: s.get("samples") == [2], "samples == [2]",
                sleep=page_sleep(page))
    page.wait_for_timeout(300)
    screenshot(page, f"{host}_explorer", ".nbc-explorer")
    size = page.viewport_size
    page.set_viewport_size({"width": 700, "height": size["height"]})  # a narrow window (the width checks go here)
    page.wait_for_timeout(500)
    screenshot(page, f"{host}_explorer_narrow")
    page.set_viewport_size(size)
    assert_clean(guarded)


def hover_last_rect(page, selector: str) -> None:
    """Move the mouse over the middle of the densest rect mark item of the Vega view in ``selector`` (read from the
    view's scenegraph: the heatmap draws on a canvas)."""
    marks = page.locator(selector).first.evaluate(VEGA_MARKS_OF) or []
    rects = [i for m in marks if m["marktype"] == "rect" and m["role"] == "mark" for i in m["items"]]
    assert rects, f"no rect marks drawn in {selector}"
    # the densest cell: density 0 is transparent, and a canvas picks no item where nothing is painted
    densest = max(rects, key=lambda item: item["datum"].get("density") or 0)
    x1, y1, x2, y2 = densest["bounds"]
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2)


def check_chart_tooltip(page, guarded, host: str) -> None:
    """A heatmap drawn by the offline chart widget: its cells are drawn and hovering one shows the tooltip."""
    page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    page.locator(".nbc-chart-only").first.scroll_into_view_if_needed()
    hover_last_rect(page, ".nbc-chart-only")
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=RENDER)
    tooltip = page.locator("#vg-tooltip-element").inner_text()
    screenshot(page, f"{host}_chart_tooltip")
    assert "density" in tooltip and "layer" in tooltip, tooltip
    assert_clean(guarded)


UPDATES = "(panels) => panels.reduce((sum, panel) => sum + Number(panel.dataset.updates ?? 0), 0)"
"""The redraws of every panel of the live view (evaluated on a locator: it reaches into marimo's shadow DOM)."""


def check_live_view(page, guarded, running: Callable[[], bool], host: str, steps: int = 12) -> set[int]:
    """The training monitor redraws while its cell runs (``running()``) and ends at ``steps``; the redraw
    counts seen while running are returned."""
    page.wait_for_selector(".nbc-monitor", timeout=PAGE_LOAD)
    seen_while_running = set()
    deadline = time.monotonic() + KERNEL_IDLE_S * 3
    while running():
        assert time.monotonic() < deadline, "the training cell never finished"
        seen_while_running.add(page.locator(".nbc-monitor .nbc-panel").evaluate_all(UPDATES))
        page.wait_for_timeout(100)
    page.wait_for_selector(".nbc-monitor[data-status='done']", timeout=20_000)
    assert page.get_attribute(".nbc-monitor", "data-step") == str(steps)
    for panel in ("losses", "means", "heatmap"):
        assert page.locator(f".nbc-monitor .nbc-panel[data-panel='{panel}'] :is(canvas, svg)").count() == 1
    screenshot(page, f"{host}_live_view", ".nbc-monitor")
    assert_clean(guarded)
    return seen_while_running


VEGA_MARKS_OF = VEGA_MARKS.replace("(selector) => {", "(host) => {", 1).replace(
    "const host = document.querySelector(selector);", "", 1)
"""JS: :data:`harness.VEGA_MARKS` evaluated on an element (a locator's): it reaches into marimo's shadow DOM."""

BOUNDS = """(el) => {
    const out = el.parentElement.getBoundingClientRect();
    const own = el.getBoundingClientRect();
    const chart = el.matches('.nbc-chart-only') ? el : el.querySelector('.nbc-chart');
    const drawn = chart.querySelector('.nbc-vega > canvas, .nbc-vega > svg').getBoundingClientRect();
    return {out: [out.left, out.right], own: [own.left, own.right], scroll: chart.scrollWidth,
            client: chart.clientWidth, drawn: [drawn.left, drawn.top, drawn.right, drawn.bottom]};
}"""


CUT_TEXT = """(host) => {
    // Title and subtitle lines that Vega cut with an ellipsis: a line wider, in the item's own font, than the
    // item's `limit` (the scenegraph keeps the whole text; the cut happens when it is drawn).
    const view = host?.vegaView;
    if (!view) return [];
    const context = document.createElement('canvas').getContext('2d');
    const cut = [];
    const walk = (mark) => {
        for (const item of mark.items) {
            if (mark.marktype === 'text' && String(mark.role).startsWith('title') && item.limit > 0) {
                context.font = `${item.fontStyle ?? 'normal'} ${item.fontWeight ?? 'normal'} ${item.fontSize ?? 11}px `
                    + `${item.font ?? 'sans-serif'}`;
                for (const line of [].concat(item.text ?? [])) {
                    const width = context.measureText(String(line)).width;
                    if (width > item.limit + 0.5) {
                        cut.push({role: mark.role, line: String(line), width, limit: item.limit});
                    }
                }
            }
            for (const child of item.items ?? []) walk(child);
        }
    };
    walk(view.scenegraph().root);
    return cut;
}"""
"""JS: the title lines a chart's Vega view cut short (with an ellipsis), on an element (a locator's)."""


def fit_problems(page, selector: str) -> list[str]:
    """What sticks out of the widget ``selector`` (``.nbc-explorer``, ``.nbc-chart-only``): the widget wider than
    its container, its chart scrolling, the drawn view past the container, Vega items outside the drawn view, and
    title or caption lines cut short with an ellipsis."""
    widget = page.locator(selector).first
    box = widget.evaluate(BOUNDS)
    problems = []
    if box["own"][1] > box["out"][1] + 1:
        problems.append(f"{selector} ends at {box['own'][1]:.0f}, past its container ({box['out'][1]:.0f})")
    if box["scroll"] > box["client"] + 1:
        problems.append(f"{selector}'s chart scrolls: {box['scroll']} px of content in {box['client']} px")
    if box["drawn"][2] > box["out"][1] + 1:
        problems.append(f"the drawn view ends at {box['drawn'][2]:.0f}, past the container ({box['out'][1]:.0f})")
    left, top, right, bottom = box["drawn"]
    chart = widget if selector.endswith("nbc-chart-only") else widget.locator(".nbc-chart").first
    for mark in chart.evaluate(VEGA_MARKS_OF) or []:
        if mark["role"] in ("frame", "scope") or mark["marktype"] == "group":
            continue
        for item in mark["items"]:
            if item["bounds"] is None or item["opacity"] == 0:
                continue
            x1, y1, x2, y2 = item["bounds"]
            if x2 - x1 > 0 and (x1 < left - 1 or x2 > right + 1 or y1 < top - 1 or y2 > bottom + 1):
                problems.append(f"{mark['role']} {mark['marktype']} {item.get('text') or ''} at "
                                f"[{x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f}] outside the drawn view "
                                f"[{left:.0f}, {top:.0f}, {right:.0f}, {bottom:.0f}]")
                break
    problems += [f"{cut['role']} cut with an ellipsis: {cut['line']!r} is {cut['width']:.0f} px for "
                 f"{cut['limit']:.0f}" for cut in chart.evaluate(CUT_TEXT)]
    return problems


def set_container_width(page, selector: str, width: int) -> None:
    """Give the container of the widget ``selector`` (its parent, whatever the host) ``width`` px."""
    page.locator(selector).first.evaluate("""(el, width) => {
        const box = el.parentElement;
        box.style.setProperty('width', `${width}px`, 'important');
        box.style.setProperty('max-width', `${width}px`, 'important');
        box.style.setProperty('flex', 'none', 'important');
    }""", width)
    page.wait_for_timeout(1200)  # the panes' resize observers fit their charts


def choose_view(page, view: str) -> None:
    """Press the explorer's ``view`` button and wait until the view is drawn."""
    explorer = page.locator(".nbc-explorer").first
    before = explorer.locator(".nbc-chart").get_attribute("data-revision")
    explorer.locator(f"button.nbc-view[data-view='{view}']").click()
    deadline = time.monotonic() + RENDER / 1000
    while True:
        state = explorer.evaluate("""(el) => ({
            pressed: el.querySelector(
                "button.nbc-view:is([aria-selected='true'], [aria-pressed='true'])")?.dataset.view,  // 0.4, 0.3
            busy: el.querySelector('.nbc-chart').classList.contains('nbc-busy'),
            revision: el.querySelector('.nbc-chart').dataset.revision})""")
        if state["pressed"] == view and not state["busy"] and (state["revision"] != before or view == "heatmap"):
            break
        assert time.monotonic() < deadline, f"the {view} view was never drawn: {state}"
        page.wait_for_timeout(100)
    page.wait_for_timeout(250)


VIEWS = ("heatmap", "distributions", "trend", "tokens")
WIDTHS = (420, 700, 1100)


CONTROLS_ABOVE = """(el) => el.querySelector('.nbc-side').getBoundingClientRect().bottom
    <= el.querySelector('.nbc-chart').getBoundingClientRect().top + 1"""
"""JS: whether the explorer's controls sit above its chart (the layout under 720 px) rather than beside it."""


def check_fit(page, guarded, host: str) -> None:
    """The explorer's four views at 420, 700 and 1100 px (and a chart widget, if the page has one): nothing
    overflows the container, no Vega item lies outside the drawn view, and the controls move above the chart
    below 720 px. Keeps ``{host}_{view}_{width}px.png`` (and ``{host}_chart_{width}px.png``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    figure = page.locator(".nbc-chart-only[data-rendered]").count() > 0
    for width in WIDTHS:
        set_container_width(page, ".nbc-explorer", width)
        for view in VIEWS:
            choose_view(page, view)
            problems += [f"{view} at {width}: {p}" for p in fit_problems(page, ".nbc-explorer")]
            screenshot(page, f"{host}_{view}_{width}px", ".nbc-explorer")
        above = page.locator(".nbc-explorer").first.evaluate(CONTROLS_ABOVE)
        if above != (width < 720):
            problems.append(f"at {width} px the controls are {'above' if above else 'beside'} the chart")
        if figure:
            set_container_width(page, ".nbc-chart-only", width)
            problems += [f"chart at {width}: {p}" for p in fit_problems(page, ".nbc-chart-only")]
            screenshot(page, f"{host}_chart_{width}px", ".nbc-chart-only")
    choose_view(page, "heatmap")
    assert problems == [], "\n".join(problems)
    assert_clean(guarded)


THEME = """(el) => {
    // the background the reader sees behind the widget: the first opaque one from the widget up (shadow roots
    // crossed), and the host page's own (the widget's container's, likewise)
    const opaque = (node) => {
        for (let n = node; n; n = n.parentElement ?? n.getRootNode?.().host ?? null) {
            const bg = getComputedStyle(n).backgroundColor;
            if (!/rgba\\(.*,\\s*0\\)$/.test(bg) && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
    };
    return {widget: opaque(el), page: opaque(el.parentElement)};
}"""


def theme_problems(page, selector: str, dark: bool, axes: bool = True,
                   background: Callable[[], str] | None = None) -> list[str]:
    """The widget's background is dark (or light) as the host's page is (and, given ``background``, exactly the
    colour it returns: the host theme's own), and its chart's title, axis labels and axis titles (``axes``: the
    tokens view has none) reach a WCAG contrast of 4.5 against it."""
    widget = page.locator(selector).first
    deadline = time.monotonic() + RENDER / 1000
    while True:  # the charts restyle on their own, a moment after the host's theme changed
        colours = widget.evaluate(THEME)
        if (sum(rgba(colours["widget"])[:3]) < 300) == dark or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(3500)  # the last of the watcher's re-checks
    colours = widget.evaluate(THEME)
    problems = []
    for name, colour in colours.items():
        if (sum(rgba(colour)[:3]) < 300) != dark:
            problems.append(f"{selector}: the {name} background {colour} is not {'dark' if dark else 'light'}")
    if background is not None and colours["widget"] != (theirs := background()):
        problems.append(f"{selector}: background {colours['widget']} is not the host theme's {theirs}")
    chart = widget if selector.endswith("nbc-chart-only") else widget.locator(".nbc-chart").first
    texts = {}
    for mark in chart.evaluate(VEGA_MARKS_OF) or []:
        if mark["role"] in ("title-text", "axis-label", "axis-title") and mark["items"]:
            texts.setdefault(mark["role"], mark["items"][0]["fill"])
    if set(texts) != ({"title-text", "axis-label", "axis-title"} if axes else {"title-text"}):
        problems.append(f"{selector}: missing chart text, found {sorted(texts)}")
    for role, fill in texts.items():
        ratio = contrast(fill, colours["widget"])
        if ratio < 4.5:
            problems.append(f"{selector} {role} {fill} on {colours['widget']}: contrast {ratio:.2f} < 4.5")
    return problems


def check_theme(page, guarded, host: str, to_dark: Callable[[], None], to_light: Callable[[], None],
                background: Callable[[], str] | None = None) -> None:
    """Light, then the host switched to dark (``to_dark``), then back (``to_light``): the explorer (and a chart
    widget, if any) follow without a kernel round trip. ``background`` (optional) reads the host theme's own
    background colour, which the widgets must then match exactly. Keeps ``{host}_dark_{view}.png`` (and
    ``{host}_dark_chart.png``)."""
    set_container_width(page, ".nbc-explorer", 700)
    widgets = [".nbc-explorer"] + ([".nbc-chart-only"] if page.locator(".nbc-chart-only").count() else [])
    problems = [f"light: {p}" for w in widgets for p in theme_problems(page, w, False, background=background)]
    to_dark()
    problems += [f"light->dark: {p}" for w in widgets for p in theme_problems(page, w, True, background=background)]
    for view in VIEWS:
        choose_view(page, view)
        problems += [f"dark {view}: {p}" for p in theme_problems(page, ".nbc-explorer", dark=True,
                                                                 axes=view != "tokens", background=background)]
        screenshot(page, f"{host}_dark_{view}", ".nbc-explorer")
    if ".nbc-chart-only" in widgets:
        screenshot(page, f"{host}_dark_chart", ".nbc-chart-only")
    choose_view(page, "heatmap")
    to_light()
    problems += [f"dark->light: {p}" for w in widgets for p in theme_problems(page, w, False, background=background)]
    assert problems == [], "\n".join(problems)
    assert_clean(guarded)
