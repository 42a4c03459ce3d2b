"""Charts in a real JupyterLab: they fit the space they are given and follow the theme, live.

The explorer's four views and a two-chart figure are drawn in containers 420, 700 and 1100 px wide: nothing
overflows its container, no Vega item (title, axis, legend, mark) lies outside the drawn view, and the controls
move above the chart below 720 px. Then the Lab's theme is switched Light -> Dark -> Light from its menu: the
widgets' background is the theme's own, and the chart title and axis text reach a WCAG contrast of at least 4.5
against it, without a kernel round trip. The checks are the ones every host runs (``checks.py``); screenshots of
each view at each width, and in the dark theme, are kept in the test artifacts (``jupyterlab_*``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .colours import contrast
from .hosts import LAB
from .notebooks import explorer_notebook
from .servers import Server, lab_server

pytestmark = pytest.mark.browser

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


def test_contrast_is_the_wcag_formula():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast("rgba(0, 0, 0, 0)", "rgb(10, 20, 30)") == pytest.approx(1.0)
    assert contrast("color(srgb 0 0 0)", "color(srgb 1 1 1 / 1)") == pytest.approx(21.0)


def test_the_explorer_and_a_figure_fit_and_follow_the_theme_in_jupyterlab(lab, guarded):
    server, _ = lab
    LAB.check_fit_and_theme(guarded.page, guarded, server.url, "fit.ipynb")
