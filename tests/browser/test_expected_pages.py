"""The committed expected outputs (docs/teaching/expected/) open offline in Chromium: every notebook page without
a script error, its charts decoded, its run named; every explorer page draws its first chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import vega_items
from .timeouts import PAGE_LOAD, RENDER

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPECTED = Path(__file__).resolve().parents[2] / "docs" / "teaching" / "expected"
RECORDS = sorted(EXPECTED.glob("*.json"))


def test_the_expected_outputs_are_there():
    """Every notebook the script runs has its output here (01 needs the hub and is not run)."""
    assert {p.stem for p in RECORDS} == {"00_quickstart", "02_controlled_mlp_width",
                                         "03_condensation_at_initialisation", "04_distillation", "05_dispersion_loss"}


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_a_notebook_page_opens_offline(record, guarded):
    run = json.loads(record.read_text())["run"]
    page = guarded.page
    page.goto(record.with_suffix(".html").as_uri(), timeout=PAGE_LOAD)
    page.wait_for_load_state("load")
    header = page.locator(".jp-MarkdownCell").first.inner_text()
    assert run["started_utc"][:16].replace("T", " ") in header and run["machine"]["cpu"] in header
    assert ("Stand-in:" in header) == bool(run["stand_in"])
    images = page.evaluate("() => [...document.images].filter(i => i.src.startsWith('data:'))"
                           ".map(i => [i.complete, i.naturalWidth])")
    assert images and all(done and width > 0 for done, width in images)  # every chart's static copy decodes
    assert guarded.page_errors == [] and guarded.blocked == []  # the badges once came from the web
    assert [text for kind, text in guarded.console if kind == "error"] == []
    badges = page.evaluate("() => [...document.links].filter(a => /colab|mybinder/.test(a.href)).map(a => a.innerText)")
    assert badges == ["Open In Colab", "Launch Binder"]  # still there, as links with their names


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_its_explorer_pages_draw(record, guarded):
    explorers = json.loads(record.read_text())["explorers"]
    assert explorers, f"{record.name}: the notebook's explorer was not saved"
    page = guarded.page
    for name, explorer in explorers.items():
        page.goto((EXPECTED / record.stem / f"{name}.html").as_uri(), timeout=PAGE_LOAD)
        page.wait_for_selector(".nbc-chart[data-revision] .nbc-vega > :is(canvas, svg)", timeout=RENDER)
        assert vega_items(page, ".nbc-chart", "rect") or vega_items(page, ".nbc-chart", "line")
        assert page.evaluate("() => document.body.innerText").count(explorer["models"][0]) >= 1
    assert guarded.page_errors == [] and guarded.blocked == []
    assert [text for kind, text in guarded.console if kind == "error"] == []
