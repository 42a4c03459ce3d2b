"""Which notebook host runs this kernel (Jupyter or marimo), and showing a widget the way that host shows anywidgets.

Imports neither marimo nor Altair: the explorer asks it before drawing its first chart.
"""

from __future__ import annotations

import sys
from typing import Any

import anywidget

__all__ = ["in_marimo", "in_notebook", "show"]


def in_marimo() -> bool:
    """Whether this runs in a marimo notebook or app (``marimo edit`` / ``marimo run``); never imports marimo."""
    marimo = sys.modules.get("marimo")
    return marimo is not None and bool(marimo.running_in_notebook())


def in_notebook() -> bool:
    """Whether this runs where widgets display: a Jupyter kernel (Lab, Notebook 7, VS Code, Colab) or marimo."""
    if in_marimo():
        return True
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and hasattr(shell, "kernel")


def show(widget: anywidget.AnyWidget) -> Any:
    """Show ``widget`` in the output of the cell that is running, the way the host shows anywidgets.

    marimo: wrapped in ``mo.ui.anywidget`` and appended to the cell's output (returned, the wrapper);
    Jupyter: ``IPython.display.display`` (returns the widget). Changes to the widget's traits made while the
    cell still runs reach the page in both.
    """
    if in_marimo():
        marimo = sys.modules["marimo"]
        element = marimo.ui.anywidget(widget)
        marimo.output.append(element)
        return element
    from IPython.display import display

    display(widget)
    return widget
