"""js/src/fit.js as node runs it: a chart's caption wraps to the room it is given instead of ending in an ellipsis
(the heatmap's caption was cut at 420 and 700 px), and the wrapped lines are the caption, word for word."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nb_condense.charts.specs import caption

FIT = Path(__file__).resolve().parents[2] / "js" / "src" / "fit.js"


def fitted(spec: dict, available: int) -> dict:
    """``fitted(spec, available)[0]``, the spec as the front end draws it, computed by node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: js/src/fit.js cannot be run (install Node 20 to run this)")
    script = (f"import({json.dumps(FIT.as_uri())}).then((m) => "
              f"console.log(JSON.stringify(m.fitted({json.dumps(spec)}, {available})[0])))")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def single(subtitle: str) -> dict:
    return {"width": 400, "height": 200, "mark": "rect", "title": {"text": "Heatmap", "subtitle": subtitle}}


@pytest.mark.parametrize("available", [420, 700])
def test_a_long_caption_wraps_into_lines_that_fit_instead_of_an_ellipsis(available):
    text = caption("pooled")
    title = fitted(single(text), available)["title"]
    lines = title["subtitle"]
    assert isinstance(lines, list) and len(lines) >= 2, lines
    assert " ".join(lines) == text  # every word kept, in order
    room = min(available, 400 + 240) - 24  # the limit (width - 16) less the view's padding
    # an independent width: 0.6 em a character of Vega's 12 px subtitle is what node (no canvas) assumes
    assert all(len(line) * 12 * 0.6 <= room for line in lines), lines
    assert title["text"] == "Heatmap" and title["limit"] == {"expr": "max(120, containerSize()[0] - 16)"}


def test_a_caption_that_fits_stays_one_line():
    assert fitted(single("pooled over 6 texts"), 1100)["title"]["subtitle"] == "pooled over 6 texts"


def test_a_figures_captions_wrap_to_each_charts_share():
    part = single(caption("distributions"))
    spec = fitted({"hconcat": [part, part]}, 700)
    parts = spec.get("hconcat") or spec["concat"]
    columns = len(spec["hconcat"]) if "hconcat" in spec else spec["columns"]
    room = 700 // columns - 24
    for drawn in parts:
        lines = drawn["title"]["subtitle"]
        assert " ".join(lines) == caption("distributions") and drawn["title"]["limit"] == room
        assert all(len(line) * 12 * 0.6 <= room for line in lines), lines
