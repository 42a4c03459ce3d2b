"""Charts in a real JupyterLab: they fit the space they are given and follow the theme, live.

The explorer's four views and a two-chart figure are drawn in output areas 420, 700 and 1100 px wide: nothing
overflows its container and no Vega item (title, axis, legend, mark) lies outside the drawn view. Then the Lab's
theme is switched Light -> Dark -> Light from its menu: the explorer's background is the theme's, and the chart
title and axis text reach a WCAG contrast of at least 4.5 against it, without a kernel round trip. Screenshots of
each view at each width, and in the dark theme, are kept in the test artifacts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .harness import VEGA_MARKS
from .notebooks import explorer_notebook
from .servers import Server, lab_server
from .test_lab import run_cell, wait_kernel_idle
from .timeouts import PAGE_LOAD, RENDER

pytestmark = pytest.mark.browser

VIEWS = ("heatmap", "distributions", "trend", "tokens")
WIDTHS = (420, 700, 1100)
FIGURE_CELL = """\
from nb_condense import charts
nbc.enable_offline_charts()
charts.grid(charts.heatmap(session, select=False, title="Pooled heatmap"),
            charts.distributions(session, [0, 1, 2], title="Three layers"))"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("fit")
    explorer_notebook(folder, "fit.ipynb", extra_cells=(FIGURE_CELL,))
    with lab_server(folder) as server:
        yield server, folder


def channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def rgba(text: str) -> tuple[float, float, float, float]:
    numbers = [float(x) for x in re.findall(r"[\d.]+", text)]
    if text.startswith("color(srgb ") and len(numbers) >= 3:  # what browsers resolve some CSS colours to
        return (numbers[0] * 255, numbers[1] * 255, numbers[2] * 255, numbers[3] if len(numbers) > 3 else 1.0)
    if not text.startswith("rgb") or len(numbers) < 3:
        raise ValueError(f"not an rgb() colour: {text!r}")
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)  # type: ignore[return-value]


def over(fg: str, bg: str) -> tuple[float, float, float]:
    """``fg`` composited over the opaque ``bg`` (a translucent text colour as the reader sees it)."""
    *top, alpha = rgba(fg)
    bottom = rgba(bg)[:3]
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top, bottom))  # type: ignore[return-value]


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of text ``fg`` on background ``bg`` (both CSS rgb()/rgba() strings)."""
    def luminance(rgb: tuple[float, ...]) -> float:
        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(over(fg, bg)), luminance(rgba(bg)[:3])), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_the_wcag_formula():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast("rgba(0, 0, 0, 0)", "rgb(10, 20, 30)") == pytest.approx(1.0)
    assert contrast("color(srgb 0 0 0)", "color(srgb 1 1 1 / 1)") == pytest.approx(21.0)


def open_notebook(page, server: Server) -> None:
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(f"{server.url}/lab/tree/fit.ipynb?reset", timeout=PAGE_LOAD)
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=PAGE_LOAD)
    wait_kernel_idle(page, server.url, "fit.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(".nbc-explorer .nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)
    run_cell(page, 1)
    page.wait_for_selector(".nbc-chart-only[data-rendered] .nbc-vega > :is(canvas, svg)", timeout=PAGE_LOAD)


def set_output_width(page, width: int) -> None:
    page.evaluate("""(width) => {
        let style = document.getElementById('nbc-test-width');
        if (!style) {
            style = document.createElement('style');
            style.id = 'nbc-test-width';
            document.body.append(style);  // not the head: a theme watcher must not see it as a new sheet
        }
        style.textContent = `.jp-OutputArea-output { width: ${width}px !important; max-width: ${width}px !important;
                                                     flex: none !important; }`;
    }""", width)
    page.wait_for_timeout(1200)  # the panes' resize observers fit their charts


def wait_view(page, view: str) -> None:
    before = page.get_attribute(".nbc-explorer .nbc-chart", "data-revision")
    page.click(f".nbc-explorer button.nbc-view[data-view='{view}']")
    page.wait_for_function("""([view, before]) => {
        const chart = document.querySelector('.nbc-explorer .nbc-chart');
        const pressed = document.querySelector(`.nbc-explorer button.nbc-view[aria-pressed='true']`);
        return pressed?.dataset.view === view && !chart.classList.contains('nbc-busy')
            && (chart.dataset.revision !== before || view === 'heatmap');
    }""", arg=[view, before], timeout=RENDER)
    page.wait_for_timeout(250)


def overflow(page, container: str) -> list[str]:
    """What sticks out: the container wider than its output area, its content wider than itself, Vega items
    outside the drawn canvas or SVG."""
    problems = []
    box = page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        const out = el.closest('.jp-OutputArea-output').getBoundingClientRect();
        const drawn = el.querySelector('.nbc-vega > canvas, .nbc-vega > svg').getBoundingClientRect();
        const own = el.getBoundingClientRect();
        return {out: [out.left, out.right], own: [own.left, own.right], drawn: [drawn.left, drawn.top, drawn.right,
                drawn.bottom], scroll: el.scrollWidth, client: el.clientWidth};
    }""", container)
    if box["own"][1] > box["out"][1] + 1:
        problems.append(f"{container} ends at {box['own'][1]:.0f}, past its output area ({box['out'][1]:.0f})")
    if box["scroll"] > box["client"] + 1:
        problems.append(f"{container} scrolls: {box['scroll']} px of content in {box['client']} px")
    if box["drawn"][2] > box["out"][1] + 1:
        problems.append(f"the drawn view ends at {box['drawn'][2]:.0f}, past the output area ({box['out'][1]:.0f})")
    left, top, right, bottom = box["drawn"]
    for mark in page.evaluate(VEGA_MARKS, container) or []:
        if mark["role"] in ("frame", "scope") or mark["marktype"] == "group":
            continue
        for item in mark["items"]:
            if item["bounds"] is None or item["opacity"] == 0:
                continue
            x1, y1, x2, y2 = item["bounds"]
            if x2 - x1 <= 0:
                continue
            if x1 < left - 1 or x2 > right + 1 or y1 < top - 1 or y2 > bottom + 1:
                problems.append(f"{mark['role']} {mark['marktype']} item {item.get('text') or ''} at "
                                f"[{x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f}] outside the drawn view "
                                f"[{left:.0f}, {top:.0f}, {right:.0f}, {bottom:.0f}]")
                break
    return problems


def test_views_and_a_figure_fit_420_700_and_1100_px(lab, guarded):
    server, _ = lab
    page = guarded.page
    open_notebook(page, server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        set_output_width(page, width)
        for view in VIEWS:
            wait_view(page, view)
            problems += [f"{view} at {width}: {p}" for p in overflow(page, ".nbc-explorer .nbc-chart")]
            page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / f"lab_{view}_{width}px.png"))
        problems += [f"figure at {width}: {p}" for p in overflow(page, ".nbc-chart-only")]
        page.locator(".nbc-chart-only").screenshot(path=str(ARTIFACTS / f"lab_figure_{width}px.png"))
        narrow = page.evaluate("""() => {
            const side = document.querySelector('.nbc-side').getBoundingClientRect();
            const chart = document.querySelector('.nbc-explorer .nbc-chart').getBoundingClientRect();
            return side.bottom <= chart.top + 1;
        }""")
        assert narrow == (width < 720), f"at {width} px the controls should {'' if width < 720 else 'not '}wrap above"
    assert problems == [], "\n".join(problems)
    assert guarded.page_errors == [] and guarded.blocked == []


def switch_theme(page, name: str) -> None:
    page.click("li.lm-MenuBar-item:has-text('Settings')")
    page.hover("li.lm-Menu-item:has-text('Theme')")
    page.click(f"li.lm-Menu-item:has-text('{name}')")
    light = "true" if "Light" in name else "false"
    page.wait_for_function(f"document.body.dataset.jpThemeLight === '{light}'", timeout=RENDER)


def theme_report(page) -> dict:
    """The Lab's background, the explorer's and the figure's, and the text colours of the drawn charts."""
    colours = page.evaluate("""() => {
        const probe = document.createElement('div');
        probe.style.background = 'var(--jp-layout-color0)';
        document.body.append(probe);
        const lab = getComputedStyle(probe).backgroundColor;
        probe.remove();
        return {lab, explorer: getComputedStyle(document.querySelector('.nbc-explorer')).backgroundColor,
                figure: getComputedStyle(document.querySelector('.nbc-chart-only')).backgroundColor};
    }""")
    texts = {}
    for where in (".nbc-explorer .nbc-chart", ".nbc-chart-only"):
        for mark in page.evaluate(VEGA_MARKS, where) or []:
            if mark["role"] in ("title-text", "axis-label", "axis-title") and mark["items"]:
                texts.setdefault(f"{where} {mark['role']}", mark["items"][0]["fill"])
    return {**colours, "texts": texts}


def check_theme(page, dark: bool) -> list[str]:
    # the charts restyle on their own, a moment after the theme's style sheet loaded
    page.wait_for_function("""(dark) => {
        const bg = getComputedStyle(document.querySelector('.nbc-explorer')).backgroundColor;
        const [r, g, b] = bg.match(/[\\d.]+/g).map(Number);
        return (r + g + b < 300) === dark;
    }""", arg=dark, timeout=RENDER)
    page.wait_for_timeout(3500)  # the last of the watcher's re-checks
    report = theme_report(page)
    problems = []
    if report["explorer"] != report["lab"]:
        problems.append(f"explorer background {report['explorer']} is not the theme's {report['lab']}")
    if report["figure"] != report["lab"]:
        problems.append(f"figure background {report['figure']} is not the theme's {report['lab']}")
    roles = {key.split()[-1] for key in report["texts"]}
    if not {"title-text", "axis-label", "axis-title"} <= roles:
        problems.append(f"missing chart text: {sorted(report['texts'])}")
    for key, fill in report["texts"].items():
        ratio = contrast(fill, report["lab"])
        if ratio < 4.5:
            problems.append(f"{key} {fill} on {report['lab']}: contrast {ratio:.2f} < 4.5")
    return problems


def test_the_charts_follow_the_lab_theme_both_ways(lab, guarded):
    server, _ = lab
    page = guarded.page
    open_notebook(page, server)
    set_output_width(page, 700)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = [f"light: {p}" for p in check_theme(page, dark=False)]
    switch_theme(page, "JupyterLab Dark")
    problems += [f"light->dark: {p}" for p in check_theme(page, dark=True)]
    for view in VIEWS:
        wait_view(page, view)
        problems += [f"dark {view}: {p}" for p in check_theme(page, dark=True)]
        page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / f"lab_dark_{view}.png"))
    page.locator(".nbc-chart-only").screenshot(path=str(ARTIFACTS / "lab_dark_figure.png"))
    wait_view(page, "heatmap")
    switch_theme(page, "JupyterLab Light")
    problems += [f"dark->light: {p}" for p in check_theme(page, dark=False)]
    assert problems == [], "\n".join(problems)
    assert guarded.page_errors == [] and guarded.blocked == []
