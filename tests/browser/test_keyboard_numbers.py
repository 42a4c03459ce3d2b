"""Vega's tooltips show only on hover (issue 29, item 7): a heatmap column focused by the keyboard is announced with
the numbers its tooltips show (the densest bin's cosine range and density, the layer fraction) and the layer's mean
cosine, checked against the session's own numbers (its layer means and density histogram)."""

from __future__ import annotations

import numpy as np
import pytest

from nb_condense.core.summaries import bin_edges

from .harness import open_harness, state_for
from .timeouts import RENDER

pytestmark = pytest.mark.browser

TEXTS = [
    "Embeddings condense into a narrow cone as depth grows in small models.",
    "Larger models resist condensation, keeping token vectors spread apart.",
    "A dispersion loss on hidden states counteracts the collapse during training.",
]
SAID = "document.querySelector('.nbc-announce').textContent"


@pytest.fixture(scope="module")
def session():
    from .conftest_models import tiny_session

    return tiny_session(TEXTS)


def test_a_focused_heatmap_column_is_announced_with_its_numbers(guarded, session):
    page = guarded.page
    open_harness(page, state_for(session))
    page.wait_for_selector(".nbc-chart[data-revision='1'] .nbc-vega > :is(svg, canvas)", timeout=RENDER)
    result = session.measured_result()
    density = result.density()  # [layer, bin], the heatmap's colour
    edges = bin_edges(result.bins)
    page.focus(".nbc-chart")
    for key, position in (("Home", 0), ("ArrowRight", 1), ("End", len(result.layers) - 1)):
        before = page.evaluate(SAID)
        page.keyboard.press(key)
        page.wait_for_function(f"(t) => {SAID} !== t && {SAID} !== ''", arg=before, timeout=RENDER)
        said = page.evaluate(SAID)
        layer = int(result.layers[position])
        peak = int(np.argmax(density[position]))
        assert said.startswith(f"Layer {layer}, column {position + 1} of {len(result.layers)}: ")
        expected = {"Layer fraction": result.layer_fractions[position], "Mean cosine": result.layer_means[position],
                    "Densest bin from": edges[peak], "Densest bin to": edges[peak + 1],
                    "Peak density": density[position, peak]}
        for name, value in expected.items():  # the tooltip's numbers, in the tooltip's format (3 decimals)
            assert f"{name} {value:.3f}" in said, (name, value, said)
