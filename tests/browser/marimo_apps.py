"""marimo apps the browser tier serves with ``marimo run``: the explorer (``notebooks.BUILD``) and a chart widget
shown through ``mo.ui.anywidget``, and a training cell with the live view."""

from __future__ import annotations

import textwrap
from pathlib import Path

from .notebooks import BUILD
from .test_live_view import TRAIN

HEADER = "import marimo\n\napp = marimo.App()\n"
FOOTER = '\n\nif __name__ == "__main__":\n    app.run()\n'


def cell(source: str, args: str = "", returns: str = "") -> str:
    """One ``@app.cell`` whose body is ``source``; it takes ``args`` and returns ``returns`` (comma-separated)."""
    body = textwrap.indent(source.rstrip() + (f"\nreturn ({returns},)" if returns else "\nreturn"), "    ")
    return f"\n\n@app.cell\ndef _({args}):\n{body}\n"


def write_app(path: Path, cells: list[str]) -> Path:
    path.write_text(HEADER + "".join(cells) + FOOTER, encoding="utf-8")
    return path


def explorer_app(folder: Path, extra_cells: tuple[str, ...] = ()) -> Path:
    """The explorer over a tiny model (state.json follows its traits), a dependent cell that reads the explorer's
    traits when the wrapper changes, and a heatmap drawn by the chart widget (then ``extra_cells``)."""
    # debounce_wait left to the explorer: 0 in marimo (its default there)
    build = BUILD.format(n_layer=3, n_texts=6, max_length=64, debounce=30).rsplit("\nexplorer", 1)[0]
    build = build.replace("nbc.CondensationExplorer(session, debounce_wait=30)", "nbc.CondensationExplorer(session)")
    return write_app(folder / "explorer_app.py", [
        cell("import marimo as mo", returns="mo"),
        cell(build, returns="explorer, nbc, session"),
        cell("view = mo.ui.anywidget(explorer)\nview", args="explorer, mo", returns="view"),
        cell('view.value  # re-run when the explorer changes; read the explorer\'s own (checked) traits\n'
             'mo.md(f"PYTHON SAYS layers={explorer.layers} samples={explorer.samples} view={explorer.view}")',
             args="explorer, mo, view"),
        cell("from nb_condense.widgets.chart import ChartWidget\n"
             "result = session.measure()  # waits for the explorer\'s background measurement\n"
             "chart = mo.ui.anywidget(ChartWidget(nbc.charts.heatmap(result, select=False).to_dict()))\nchart",
             args="mo, nbc, session", returns="chart, result"),
        *extra_cells,
    ])


def live_app(folder: Path, train: str = TRAIN) -> Path:
    """The training cell of the JupyterLab live-view test (or ``train``, a variant of it); the callback shows the
    monitor through marimo.

    Two things differ from Jupyter, as the README says: transformers' notebook progress table is turned off
    (``disable_tqdm=True``: in marimo its updates replace the whole cell output, the monitor included), and the
    cell ends with an assignment (a last expression would replace the cell's output when the cell ends).
    """
    write = 'pathlib.Path("monitor.json").write_text('
    train = train.replace(write, "_written = " + write)
    train = train.replace("logging_steps=1)", "logging_steps=1, disable_tqdm=True)")
    assert train.count("_written") == 1 and train.count("disable_tqdm") == 1
    return write_app(folder / "live_app.py", [cell(train)])
