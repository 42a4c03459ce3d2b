"""The lessons' text alternatives (issue 29, item 5): every chart a tutorial shows is followed by a reading in a
markdown cell, and every markdown image has alt text.

Which cells show a chart is found from the code's structure (its syntax tree), never from its output: a cell shows
a chart when the value it displays (its last statement, an expression) is, or is a name the cell bound to, a call of
a chart maker (a chart function of ``nb_condense.charts``, anything made from ``alt``, ``.chart()``, the explorer or
the chart widget), or when it passes such a value to ``display``. The reading is the next cell: a markdown cell whose
text does not open with a heading or an exercise's title (those start the next part, they do not read the chart).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

from nb_condense import charts

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CHART_FUNCTIONS = {name for name in charts.__all__ if name[0].islower() and name not in {"enable_static_charts",
                                                                                       "save_chart", "heatmap_frame"}}
WIDGETS = {"CondensationExplorer", "ChartWidget", "TrainingMonitor"}
NOT_A_READING = re.compile(r"^\s*(#|\*\*Exercise \d+\.\*\*)")


def _makes_chart(node: ast.AST, charted: set[str]) -> bool:
    """Whether an expression is, or contains, a call that makes a chart (or a name bound to one)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in charted | {"alt"}:
            return True
        if not isinstance(sub, ast.Call):
            continue
        func = sub.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if (owner == "charts" and func.attr in CHART_FUNCTIONS) or func.attr in WIDGETS or func.attr == "chart":
                return True
        elif isinstance(func, ast.Name) and func.id in WIDGETS | CHART_FUNCTIONS:
            return True
    return False


def shows_chart(source: str) -> bool:
    """Whether a code cell displays a chart (see the module's docstring for the rule)."""
    from IPython.core.inputtransformer2 import TransformerManager

    body = ast.parse(TransformerManager().transform_cell(source)).body
    charted: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.Assign) and _makes_chart(statement.value, charted):
            charted |= {t.id for target in statement.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    displays = [n for n in ast.walk(ast.Module(body=body, type_ignores=[])) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name) and n.func.id == "display"]
    if any(_makes_chart(arg, charted) for call in displays for arg in call.args):
        return True
    last = body[-1] if body else None
    return isinstance(last, ast.Expr) and _makes_chart(last.value, charted)


def unread_charts(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells that show a chart and are not followed by a markdown reading."""
    cells = notebook.cells
    missing = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or not shows_chart(cell.source):
            continue
        after = cells[index + 1] if index + 1 < len(cells) else None
        reading = after is not None and after.cell_type == "markdown" and after.source.strip()
        if not reading or NOT_A_READING.match(after.source):
            missing.append(index)
    return missing


def images_without_alt(notebook: nbformat.NotebookNode) -> list[str]:
    """Every markdown image (Markdown syntax or an HTML ``<img>``) whose alternative text is empty."""
    parser = MarkdownIt("commonmark")
    missing = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for token in parser.parse(cell.source):
            for child in token.children or []:
                if child.type == "image" and not child.content.strip():
                    missing.append(str(child.attrGet("src")))
                if child.type == "html_inline":
                    missing += _html_images_without_alt(child.content)
            if token.type == "html_block":
                missing += _html_images_without_alt(token.content)
    return missing


def _html_images_without_alt(html: str) -> list[str]:
    found = []
    for tag in re.findall(r"<img\b[^>]*>", html, flags=re.I):
        alt = re.search(r"""\balt\s*=\s*(["'])(.*?)\1""", tag, flags=re.I | re.S)
        if alt is None or not alt.group(2).strip():
            found.append(tag)
    return found


# ----- the rule itself, on made-up cells (it must be able to fail) ------------------------------------------------

@pytest.mark.parametrize("source", [
    'charts.layer_trend(sessions, title="x")',
    'paper = charts.heatmap(result)\ncharts.grid(paper, paper)',
    '(charts.layer_trend(a) | charts.trend_chart(a))',
    'explorer = nbc.CondensationExplorer(session)\nexplorer',
    'panels = [alt.Chart(df).mark_circle() for v in "ab"]\nalt.hconcat(*panels)',
    'figure = explorer.chart()\ndisplay(figure)',
    'charts.layer_trend(results) if results else None',
])
def test_the_rule_finds_charts(source):
    assert shows_chart(source)


@pytest.mark.parametrize("source", [
    'result.summary().round(3)',
    'figure = charts.heatmap(result)\nprint("saved")',
    'table = nbc.compare(sessions)\ntable.round(4)',
    'nbc.save_chart(view, "a.png")',
    'explorer.view = "tokens"\ntokens = explorer.data()\ntokens.nlargest(5, "mean_cosine")',
])
def test_the_rule_leaves_other_cells(source):
    assert not shows_chart(source)


def test_a_chart_followed_by_code_or_a_heading_is_unread():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("charts.heatmap(result)"), nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("charts.heatmap(result)"), nbformat.v4.new_markdown_cell("## Next part"),
        nbformat.v4.new_code_cell("charts.heatmap(result)"), nbformat.v4.new_markdown_cell("Each column is a layer."),
        nbformat.v4.new_code_cell("charts.heatmap(result)"),
    ])
    assert unread_charts(notebook) == [0, 2, 6]


def test_images_without_alt_are_found():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        '![](a.png) ![a cone of arrows](b.png) <img src="c.png"> <img src="d.png" alt="the cone">')])
    assert images_without_alt(notebook) == ["a.png", '<img src="c.png">']


# ----- the lessons ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_chart_has_a_reading_after_it(path):
    notebook = nbformat.read(path, as_version=4)
    unread = unread_charts(notebook)
    assert not unread, f"{path.name}: the charts of cells {unread} have no markdown reading right after them"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_markdown_image_has_alt_text(path):
    missing = images_without_alt(nbformat.read(path, as_version=4))
    assert not missing, f"{path.name}: images without alt text: {missing}"


def test_the_lessons_show_charts():
    """The rule finds the lessons' charts at all (otherwise the tests above would pass on nothing)."""
    shown = sum(shows_chart(c.source) for p in PATHS for c in nbformat.read(p, as_version=4).cells
                if c.cell_type == "code")
    assert shown >= len(PATHS)
