"""The explorer saved as one HTML page: opened from file:// with the network blocked, every control works and
the distributions drawn equal session.distribution() for the same choice."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import nb_condense as nbc
from nb_condense.charts import specs

from .conftest import ARTIFACTS
from .harness import vega_items
from .timeouts import RENDER

pytestmark = pytest.mark.browser
VIEW = "document.querySelector('.nbc-chart').vegaView"
DOCS = Path(__file__).resolve().parents[2] / "docs"

# the data of every drawn mark item (the scenegraph of the Vega view) that carries all of `fields` (not the
# distributions' invisible hover points, which repeat the curves' rows)
DATASET = """(fields) => {
    const out = [];
    const visit = (node) => {
        if (!node) return;
        const datum = node.datum;
        if (datum && !['group', 'symbol'].includes(node.mark?.marktype) && fields.every((f) => f in datum)) {
            out.push(Object.fromEntries(fields.map((f) => [f, datum[f]])));
        }
        for (const child of node.items ?? []) visit(child);
    };
    visit(document.querySelector('.nbc-chart').vegaView.scenegraph().root);
    return out;
}"""


@pytest.fixture(scope="module")
def sessions():
    from .conftest_models import tiny_session

    texts = nbc.sample_texts("builtin", 5, min_word_count=30, max_word_count=60)
    return {"tiny-a": tiny_session(texts, name="tiny-a", seed=0, n_layer=2),
            "tiny-b": tiny_session(texts, name="tiny-b", seed=1, n_layer=3)}


@pytest.fixture(scope="module")
def page_path(sessions, tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "explorer.html"
    explorer = nbc.CondensationExplorer(sessions, background=False)
    return explorer.save_page(path)


def updates(page) -> int:
    return int(page.get_attribute(".nbc-chart", "data-updates") or 0)


def wait_update(page, before: int) -> None:
    page.wait_for_function(f"Number(document.querySelector('.nbc-chart').dataset.updates) > {before}",
                           timeout=RENDER)
    page.wait_for_timeout(50)


def test_the_saved_page_runs_offline_without_a_kernel(page_path, sessions, guarded):
    page = guarded.page
    page.goto(page_path.as_uri())
    page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > canvas", timeout=RENDER)
    page.wait_for_function(f"{VIEW}.data('histograms').length > 0", timeout=RENDER)
    a = sessions["tiny-a"]
    # the heatmap: as many cells as the kernel's heatmap of all texts has (read from the drawn view)
    expected = nbc.charts.heatmap.figure(a).data
    assert len(vega_items(page, ".nbc-chart", "rect")) == len(expected)

    # a layer click highlights that column
    before = updates(page)
    page.click(".nbc-chip[data-layer='1']")
    wait_update(page, before)
    assert page.get_attribute(".nbc-chip[data-layer='1']", "aria-pressed") == "true"

    # a sample: the heatmap's densities become those of that text alone
    before = updates(page)
    page.click(".nbc-sample-list li[data-sample='2'] input")
    wait_update(page, before)
    cells = page.evaluate(DATASET, ["layer", "cosine_low", "density"])
    kernel = nbc.charts.heatmap.figure(a, [2]).data
    assert len(cells) == len(kernel)
    got = sorted((c["layer"], round(c["cosine_low"], 9), c["density"]) for c in cells)
    want = sorted(zip(kernel["layer"], kernel["cosine_low"].round(9), kernel["density"]))
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], atol=1e-6)

    # distributions: the drawn densities equal session.distribution for the same choice
    before = updates(page)
    page.click("button.nbc-view[data-view='distributions']")
    page.wait_for_function("document.querySelectorAll('.nbc-chart .mark-line.role-mark path').length === 1",
                           timeout=RENDER)
    assert page.evaluate(f"{VIEW}.signal('nbc_title')") == "tiny-a · layer 1 · sample #2"
    # laid out again after its rows were swapped in: the y axis's title and labels are inside the drawn view
    page.wait_for_timeout(200)
    left = page.evaluate("document.querySelector('.nbc-chart .nbc-vega > *').getBoundingClientRect().left")
    for role in ("axis-title", "axis-label"):
        items = vega_items(page, ".nbc-chart", "text", role)
        assert items and min(item["bounds"][0] for item in items) >= left - 1, role
    rows = page.evaluate(DATASET, ["layer", "cosine", "density"])
    frame = a.distribution(layers=[1], samples=[2])
    assert len(rows) == len(frame)
    got = np.array(sorted((r["layer"], r["cosine"], r["density"]) for r in rows))
    want = np.array(sorted(zip(frame["layer"], frame["cosine"], frame["density"])))
    np.testing.assert_allclose(got, want, atol=1e-6)

    # the trend: one line per model; the tokens: the chosen text's tokens
    page.click("button.nbc-view[data-view='trend']")
    page.wait_for_function("document.querySelectorAll('.nbc-chart .mark-line.role-mark path').length === 2",
                           timeout=RENDER)
    # with a band per model: each layer mean's 95 % interval over the texts, computed in Python, drawn as is
    assert page.locator(".nbc-chart .mark-area.role-mark path").count() == 2
    assert "95 % bootstrap interval over the 5 texts" in page.inner_text(".nbc-chart")
    drawn = sorted({(r["model"], r["layer"], r["low"], r["high"])  # the band's and the line's items share rows
                    for r in page.evaluate(DATASET, ["model", "layer", "low", "high"])})
    measured = {name: s.measured_result() for name, s in sessions.items()}
    want = sorted((name, int(layer), lo, hi) for name, r in measured.items()
                  for layer, (lo, hi) in zip(r.layers, r.trend(ci=0.95).layer_mean_intervals))
    assert [d[:2] for d in drawn] == [w[:2] for w in want]
    np.testing.assert_allclose([d[2:] for d in drawn], [w[2:] for w in want], atol=1e-12)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".nbc-chart").screenshot(path=str(ARTIFACTS / "page_trend_bands.png"))
    page.click("button.nbc-view[data-view='tokens']")
    page.wait_for_function(f"{VIEW}?.signal('nbc_title')?.includes('sample #')", timeout=RENDER)
    page.wait_for_timeout(200)
    tokens = a.tokens(2, 1)
    words = vega_items(page, ".nbc-chart", "text")
    assert len(words) == len(tokens)
    shown = [w["text"] for w in sorted(words, key=lambda w: w["datum"]["position"])]
    assert shown == list(specs.readable_tokens(tokens["token"]))  # readable markers, as in the kernel's view
    assert page.evaluate(f"{VIEW}.signal('nbc_title')") == "tiny-a · sample #2 · layer 1"

    # a second model: its own heatmap (4 layers)
    page.click("button.nbc-view[data-view='heatmap']")
    page.select_option(".nbc-model", "tiny-b")
    page.wait_for_function(f"{VIEW}?.signal('nbc_title')?.startsWith('tiny-b')", timeout=RENDER)
    assert page.locator(".nbc-chips .nbc-chip").count() == 4
    assert guarded.blocked == [] and guarded.page_errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".nbc-explorer").screenshot(path=str(ARTIFACTS / "explorer_page.png"))
    if os.environ.get("NBC_UPDATE_SCREENSHOTS"):  # the README's picture, made here
        shutil.copy(ARTIFACTS / "explorer_page.png", DOCS / "explorer_page.png")


def test_the_page_is_small(page_path):
    assert page_path.stat().st_size < 1_500_000  # the bundle (~300 KB gzipped) and two tiny models
