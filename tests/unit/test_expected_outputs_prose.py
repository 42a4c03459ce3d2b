"""make_expected_outputs.py --refresh-prose: new markdown into an executed copy, never over changed code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "05_dispersion_loss"  # any name the script knows; the notebooks themselves come from tmp_path


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_expected_outputs",
                                                  ROOT / "docs" / "teaching" / "make_expected_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(kind: str, cell_id: str, source: str, **extra) -> nbformat.NotebookNode:
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source, **extra)
    cell["id"] = cell_id
    return cell


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    """A source notebook and its 'executed' copy (outputs, papermill's injected cell, older prose)."""
    source, out = tmp_path / "notebooks", tmp_path / "expected"
    source.mkdir()
    out.mkdir()
    cells = [_cell("markdown", "intro", "# Lesson\nThe chart shows the cosine rising with depth."),
             _cell("code", "params", "STEPS = None", metadata={"tags": ["parameters"]}),
             _cell("code", "work", "print(6 * 7)"),
             _cell("markdown", "reading", "Reading: the last layers sit near 0.9.")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source / f"{NAME}.ipynb")
    ran = nbformat.v4.new_notebook(cells=[
        _cell("markdown", "intro", "# Lesson\nOld prose before the chart readings."),
        _cell("code", "params", "STEPS = None", metadata={"tags": ["parameters"]}),
        _cell("code", "injected", "# Parameters\nSTEPS = 120\n", metadata={"tags": ["injected-parameters"]}),
        _cell("code", "work", "print(6 * 7)",
              outputs=[nbformat.v4.new_output("stream", name="stdout", text="42-from-the-run\n")]),
        _cell("markdown", "gone", "A paragraph the author has since deleted."),
    ])
    nbformat.write(ran, out / f"{NAME}.ipynb")
    run = {"minutes": 7.5, "kernel_cpu_minutes": 9.0, "started_utc": "2026-12-06T15:00:00+00:00", "tiny": False,
           "stand_in": None, "load_average_1min": {"mean": 1.0, "min": 0.5, "max": 1.5},
           "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 24.0, "torch": "2.x"}}
    (out / f"{NAME}.json").write_text(json.dumps({"run": run, "verdicts": [], "checks": {}, "explorers": {}}))
    return source, out


def test_refresh_prose_copies_the_markdown_and_keeps_the_outputs(script, tmp_path):
    source, out = _folders(tmp_path)
    changed = script.refresh_prose(NAME, out, notebooks=source)
    refreshed = nbformat.read(out / f"{NAME}.ipynb", as_version=4)
    ids = [c.get("id") for c in refreshed.cells]
    assert ids == [script.HEADER_ID, "intro", "params", "injected", "work", "reading"]
    by_id = {c.get("id"): c for c in refreshed.cells}
    assert by_id["intro"].source == "# Lesson\nThe chart shows the cosine rising with depth."
    assert by_id["work"].outputs[0]["text"] == "42-from-the-run\n"  # nothing re-executed
    assert by_id["injected"].source == "# Parameters\nSTEPS = 120\n"
    assert changed == 3  # intro edited, reading added, gone deleted
    html = (out / f"{NAME}.html").read_text()
    assert "rising with depth" in html and "42-from-the-run" in html and "Old prose" not in html
    assert "Test CPU" in html  # the header names the machine


@pytest.mark.parametrize("edit", ["changed", "added", "removed"])
def test_refresh_prose_refuses_when_a_code_cell_changed(script, tmp_path, edit):
    source, out = _folders(tmp_path)
    notebook = nbformat.read(source / f"{NAME}.ipynb", as_version=4)
    if edit == "changed":
        notebook.cells[2].source = "print(6 * 9)"
    elif edit == "added":
        notebook.cells.append(_cell("code", "extra", "print('new')"))
    else:
        del notebook.cells[2]
    nbformat.write(notebook, source / f"{NAME}.ipynb")
    before = (out / f"{NAME}.ipynb").read_bytes()
    with pytest.raises(script.StaleCodeError, match="Run it again"):
        script.refresh_prose(NAME, out, notebooks=source)
    assert (out / f"{NAME}.ipynb").read_bytes() == before  # the executed copy is left as it was
    assert not (out / f"{NAME}.html").exists()


def test_refresh_prose_from_the_command_line_names_the_missing_run(script, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(["05", "--refresh-prose", "--out", str(tmp_path)])
    assert exit_info.value.code == 1
    assert f"{tmp_path / (NAME + '.ipynb')} is missing" in capsys.readouterr().err


def test_the_teachers_html_links_resolve_from_the_folder_it_is_written_to(script):
    """The executed notebooks' links were written for notebooks/ (``../docs/...``): from docs/teaching/expected
    they pointed nowhere. Rebased, every relative link of a real committed page names a file that exists."""
    import re as regex

    module = script
    out = ROOT / "docs" / "teaching" / "expected"
    html = '<a href="../docs/teaching/glossary.md#seed">seed</a> <a href="https://x.org/a">x</a> <a href="#top">t</a>'
    rebased = module.rebase_links(html, out)
    assert 'href="../glossary.md#seed"' in rebased and 'href="https://x.org/a"' in rebased and 'href="#top"' in rebased
    for page in sorted(out.glob("*.html")):
        for link in regex.findall(r'href="(?![a-z][a-z0-9+.-]*:|#|/)([^"#]+)', page.read_text(encoding="utf-8")):
            assert (out / link).exists(), (page.name, link)


def test_the_teachers_html_fetches_no_image_from_the_web(script):
    """The pages loaded the Colab and Binder badges from the web (a broken image offline): an image with a web
    address becomes its alt text, still inside its link; an image inlined as data stays."""
    html = ('<a href="https://colab.research.google.com/x"><img alt="Open In Colab" '
            'src="https://colab.research.google.com/assets/colab-badge.svg"/></a> '
            '<img alt="a chart" src="data:image/png;base64,AAAA"/>')
    offline = script.offline_images(html)
    assert '<a href="https://colab.research.google.com/x">Open In Colab</a>' in offline
    pair = script.offline_images('<p><a href="c"><img alt="Open In Colab" src="https://c/b.svg"/></a> '
                                 '<a href="b"><img alt="Launch Binder" src="https://b/l.svg"/></a></p>')
    assert pair == '<p><a href="c">Open In Colab</a> · <a href="b">Launch Binder</a></p>'  # not one run-on phrase
    assert '<img alt="a chart" src="data:image/png;base64,AAAA"/>' in offline
    for page in sorted((ROOT / "docs" / "teaching" / "expected").glob("*.html")):
        assert not regex_web_images(page.read_text(encoding="utf-8")), page.name


def regex_web_images(html: str) -> list[str]:
    import re

    return re.findall(r'<img[^>]*\ssrc="https?://[^"]*"', html)


def test_the_teachers_html_describes_every_chart(script):
    """The charts' static copies in the teacher's HTML had no text alternative ("No description has been provided
    for this image"): each is now an image whose alt text is the chart's own description (its text output)."""
    import base64

    from bs4 import BeautifulSoup

    view = {"version_major": 2, "version_minor": 0, "model_id": "m1"}
    chart = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": view, "image/png": base64.b64encode(b"png").decode(),
        "text/plain": 'Chart: layers. The mean rises "fast" & <far>.'})
    other = nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure size 4x3>"})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("chart", outputs=[chart, other])])
    described = script.described_images(notebook)
    html = described.cells[0].outputs[0].data["text/html"]
    image = BeautifulSoup(html, "html.parser").img
    assert image["alt"] == 'Chart: layers. The mean rises "fast" & <far>.'
    assert image["src"] == "data:image/png;base64," + chart.data["image/png"]
    assert "text/html" not in described.cells[0].outputs[1].data  # not a chart of ours: left as it is
    assert "text/html" not in notebook.cells[0].outputs[0].data  # the notebook itself is unchanged
    for page in sorted((ROOT / "docs" / "teaching" / "expected").glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        images = [img for img in soup.select(".jp-OutputArea img") if img.get("src", "").startswith("data:")]
        assert images, page.name
        assert all(img.get("alt", "").startswith("Chart: ") for img in images), page.name
