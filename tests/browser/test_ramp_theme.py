"""The explorer's heatmap in a dark and a light host theme: as the front end draws it, a denser cell is further
from the background's lightness (the front end hands the host's background to the spec's ramp param)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from .harness import open_harness, state_for, vega_items
from .test_widget_js import TEXTS, wait_rendered

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from cielab import lightness  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def session():
    from .conftest_models import tiny_session

    return tiny_session(TEXTS)


def composited(fill: str, background: np.ndarray) -> np.ndarray:
    parts = [float(v) for v in re.findall(r"[\d.]+", fill)]
    alpha = parts[3] if len(parts) == 4 else 1.0
    return alpha * np.array(parts[:3]) + (1 - alpha) * background


@pytest.mark.parametrize("background", ["#111111", "#ffffff"])
def test_denser_cells_are_further_from_the_background(guarded, session, background):
    page = guarded.page
    open_harness(page, state_for(session), style=f":root {{ --jp-layout-color0: {background}; }}")
    wait_rendered(page, 1)
    cells = vega_items(page, ".nbc-chart", "rect")
    assert len(cells) > 10
    bg = np.array([int(background[k:k + 2], 16) for k in (1, 3, 5)], dtype=float)
    density = np.array([cell["datum"]["density"] for cell in cells])
    distance = np.abs(lightness(np.array([composited(cell["fill"], bg) for cell in cells])) - lightness(bg[None])[0])
    order = np.argsort(density, kind="stable")
    assert np.all(np.diff(distance[order]) >= -0.5), list(zip(density[order].round(2), distance[order].round(1)))
    assert distance[order][-1] > distance[order][0] + 10  # the densest cell stands out
