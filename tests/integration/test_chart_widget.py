"""The offline interactive renderer: a ChartWidget view plus a static copy, in a kernel and in exported HTML."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

import altair as alt
import pandas as pd
import pytest
from ipywidgets.widgets.widget import _instances as live_widgets

import nb_condense as nbc
from nb_condense import charts
from nb_condense.widgets.chart import RENDERER, WIDGET_VIEW, ChartWidget, chart_mimebundle

FRAME = pd.DataFrame({"layer": [0, 1, 2], "mean": [0.1, 0.4, 0.9]})


def point_chart():
    return alt.Chart(FRAME, title="three layers").mark_point().encode(x="layer:Q", y="mean:Q", tooltip=["mean:Q"])


@pytest.fixture
def restore_renderer():
    previous = alt.renderers.active
    yield
    alt.renderers.enable(previous)


def widget_of(bundle):
    return live_widgets[bundle[WIDGET_VIEW]["model_id"]]


def test_the_interactive_renderer_shows_a_chart_widget_with_an_svg_copy(restore_renderer):
    assert nbc.enable_offline_charts() is None  # nothing for a notebook to print
    assert alt.renderers.active == RENDERER
    chart = point_chart()
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(bundle) == {"text/plain", WIDGET_VIEW, "image/svg+xml"}
    widget = widget_of(bundle)
    assert isinstance(widget, ChartWidget) and widget._kind == "chart"
    assert widget.spec["data"] == chart.to_dict()["data"] and widget.spec["mark"] == {"type": "point"}
    svg = ET.fromstring(bundle["image/svg+xml"])
    assert svg.tag.endswith("svg")
    texts = "".join(svg.itertext())
    assert "three layers" in texts and "layer" in texts  # title and axis drawn
    symbols = [g for g in svg.iter() if "mark-symbol" in g.get("class", "")]
    assert len(symbols) == 1 and len([p for p in symbols[0].iter() if p.tag.endswith("path")]) == len(FRAME)
    assert len(repr(widget)) < 100 and "{" not in bundle["text/plain"]  # no spec dump in a notebook


def test_the_chart_output_carries_its_text_alternative(restore_renderer):
    """A viewer without widgets (exported HTML, nbviewer, a terminal) got "Chart (interactive in Jupyter; ...)" and
    an image with no description: the text output and the static copies now name and describe the chart."""
    from test_static_alt_text import png_texts  # tests/integration is on the path (rootdir conftest)

    description = "The mean cosine rises from 0.10 at layer 0 to 0.90 at layer 2."
    for fallback in ("svg", "png"):
        bundle = chart_mimebundle(point_chart().properties(description=description).to_dict(), fallback=fallback)
        assert widget_of(bundle).description == description  # what assistive technology reads in Jupyter
        assert bundle["text/plain"] == f"Chart: three layers. {description}"
        if fallback == "svg":
            svg = ET.fromstring(bundle["image/svg+xml"])
            title, desc = (next(e for e in svg.iter() if e.tag.endswith(tag)).text for tag in ("title", "desc"))
            assert svg.get("role") == "img" and title == "three layers" and desc == description
            continue
        chunks = png_texts(base64.b64decode(bundle["image/png"]))  # read back chunk by chunk, CRCs checked
        assert chunks == {"Title": "three layers", "Description": description}
    untitled = alt.Chart(FRAME).mark_point().encode(x="layer:Q", y="mean:Q").properties(description=description)
    assert chart_mimebundle(untitled.to_dict(), fallback=None)["text/plain"] == f"Chart: {description}"


def test_png_copy_and_no_copy(restore_renderer):
    png = chart_mimebundle(point_chart().to_dict(), fallback="png")
    assert base64.b64decode(png["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(chart_mimebundle(point_chart().to_dict(), fallback=None)) == {"text/plain", WIDGET_VIEW}


def test_static_renderers_and_errors(restore_renderer):
    nbc.enable_offline_charts("svg")
    assert alt.renderers.active == "svg"
    with pytest.raises(ValueError, match="'interactive', 'svg' or 'png'"):
        nbc.enable_offline_charts("html")
    with pytest.raises(ValueError, match="fallback"):
        nbc.enable_offline_charts(fallback="gif")
    with pytest.raises(TypeError, match="Vega-Lite spec"):
        ChartWidget([1, 2])


def test_chart_widget_takes_a_chart_or_a_spec():
    chart = point_chart()
    assert ChartWidget(chart).spec == ChartWidget(chart.to_dict()).spec == json.loads(chart.to_json())


@pytest.mark.slow
def test_exported_html_shows_the_static_copy(tmp_path):
    """A notebook executed with the renderer, exported by nbconvert without widget state: the SVG is shown."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    cell = ("import altair as alt, pandas as pd\nimport nb_condense as nbc\nnbc.enable_offline_charts()\n"
            "alt.Chart(pd.DataFrame({'x': [1, 2, 3]}), title='exported').mark_bar().encode(x='x:Q', tooltip=['x:Q'])")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=False).execute()  # as Lab saves
    output = notebook.cells[0].outputs[0]
    assert WIDGET_VIEW in output["data"] and "image/svg+xml" in output["data"]
    html, _ = HTMLExporter().from_notebook_node(notebook)
    body = html[html.index("<body"):]
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', body)
    assert len(images) == 1 and b"exported" in base64.b64decode(images[0])
    assert 'type="application/vnd.jupyter.widget-view+json"' not in body


def test_charts_level_function_stays_static(restore_renderer):
    charts.enable_static_charts("png")
    assert alt.renderers.active == "png"
