"""The heatmap's density ramp, as Vega draws it, moves monotonically away from the background's lightness.

Vega itself (vl-convert) renders the real heatmap spec with its background param set to each host's background;
the cells' fills (alpha composited over that background) are converted to CIELAB lightness from the sRGB
formulas, here, and must get further from the background's lightness as density grows, in both themes.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

vl_convert = pytest.importorskip("vl_convert")

from cielab import lightness  # noqa: E402  (tests/unit is on the path)
from test_spec_templates import synthetic_result  # noqa: E402  (tests/unit is on the path)

from nb_condense import charts  # noqa: E402
from nb_condense.charts.base import BACKGROUND_PARAM, DENSITY_CLIP  # noqa: E402

BACKGROUNDS = {
    "light": {"white": (255, 255, 255), "JupyterLab light grey": (250, 250, 250)},
    "dark": {"JupyterLab dark": (17, 17, 17), "marimo dark": (24, 24, 24), "VS Code dark": (30, 30, 30),
             "Colab dark": (56, 56, 56)},
}
DENSITIES = np.linspace(0.0, DENSITY_CLIP * 1.2, 49)


def test_lightness_formula_on_known_colours():
    assert lightness([[255, 255, 255], [0, 0, 0]]).round(6).tolist() == [100.0, 0.0]
    assert lightness([[119, 119, 119]])[0] == pytest.approx(50.0, abs=0.1)  # #777 is about mid-grey


def _fills(spec: dict, frame: pd.DataFrame, background: tuple[int, int, int]) -> np.ndarray:
    """The rect marks' fills of ``spec`` drawing ``frame`` on ``background``, composited: opaque RGB ``[n, 3]``."""
    spec["datasets"] = {spec["data"]["name"]: json.loads(frame.to_json(orient="records"))}
    (param,) = [p for p in spec["params"] if p["name"] == BACKGROUND_PARAM]
    param["value"] = "rgb({}, {}, {})".format(*background)
    svg = vl_convert.vegalite_to_svg(spec)
    marks = re.search(r'class="mark-rect role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    assert marks is not None, "no rect marks in the SVG"
    fills = re.findall(r'fill="rgba?\(([^)]*)\)"', marks.group(1))
    assert len(fills) == len(frame)
    out = []
    for fill in fills:
        parts = [float(v) for v in fill.split(",")]
        colour, alpha = np.array(parts[:3]), (parts[3] if len(parts) == 4 else 1.0)
        out.append(alpha * colour + (1 - alpha) * np.array(background))  # over the background
    return np.array(out)


def drawn_fills(background: tuple[int, int, int]) -> np.ndarray:
    """The heatmap's cells at :data:`DENSITIES` as Vega draws them on ``background``: opaque RGB ``[n, 3]``."""
    spec = charts.heatmap(synthetic_result(1), select=False).to_dict()
    edges = np.linspace(-1, 1, len(DENSITIES) + 1)
    frame = pd.DataFrame({"layer": 0, "layer_fraction": 0.0, "x0": -0.5, "x1": 0.5, "cosine_low": edges[:-1],
                          "cosine_high": edges[1:], "density": DENSITIES})
    return _fills(spec, frame, background)


def drawn_token_fills(background: tuple[int, int, int]) -> np.ndarray:
    """The token strip's cells for mean cosines from -0.3 to 1.1, as Vega draws them on ``background``."""
    values = np.linspace(-0.3, 1.1, 36)
    tokens = pd.DataFrame({"position": np.arange(len(values)), "token": [f"t{k}" for k in range(len(values))],
                           "mean_cosine": values})
    figure = charts.token_strip.figure(tokens)
    cells = figure.chart.data.values
    return _fills(figure.chart.to_dict(), pd.DataFrame(json.loads(cells)), background)


CASES = [(t, h, b) for t, hosts in BACKGROUNDS.items() for h, b in hosts.items()]


@pytest.mark.parametrize("theme,host,background", CASES)
def test_more_density_is_further_from_the_background(theme, host, background):
    distance = np.abs(lightness(drawn_fills(background)) - lightness(np.array([background]))[0])
    steps = np.diff(distance)
    assert distance[0] < 0.5, f"{host}: density 0 should show the background"
    assert np.all(steps >= -1e-9), (
        f"{theme} theme on {host}: lightness distance from the background falls along the ramp: "
        f"{distance.round(1).tolist()}")
    assert distance[-1] > 40, f"{host}: the ramp spans too little lightness ({distance[-1]:.1f})"


@pytest.mark.parametrize("theme,host,background", CASES)
def test_a_higher_token_cosine_is_further_from_the_background(theme, host, background):
    distance = np.abs(lightness(drawn_token_fills(background)) - lightness(np.array([background]))[0])
    assert np.all(np.diff(distance) >= -1e-9), (
        f"{theme} theme on {host}: the token ramp comes back towards the background: {distance.round(1).tolist()}")
    assert distance[-1] - distance[0] > 40, f"{host}: the token ramp spans too little lightness"
