"""Saved charts carry their text alternative: parsed back from the SVG, HTML, PNG and JSON that save_chart writes,
and compared with what charts/describe says; hostile names stay text in every format."""

from __future__ import annotations

import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from test_spec_templates import synthetic_result  # noqa: E402

from nb_condense import charts  # noqa: E402
from nb_condense.charts.alt_text import spec_text  # noqa: E402
from nb_condense.charts.describe import describe_heatmap, describe_panel  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'q\' </title><desc>'


class Page(HTMLParser):
    """What a browser's accessibility tree would start from: the page title, the figure's name and caption."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.title = self.caption = ""
        self.figure: dict[str, str | None] = {}
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if attributes.get("id") == "vis":
            self.figure = attributes

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "title":
            self.title += data
        if self.stack and self.stack[-1] == "figcaption":
            self.caption += data


def png_texts(data: bytes) -> dict[str, str]:
    """The iTXt chunks of a PNG, read with the format's own layout (length, type, data, CRC), CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at, kinds = {}, 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in a {kind!r} chunk"
        kinds.append(kind)
        if kind == b"iTXt":
            key, rest = body.split(b"\x00", 1)
            assert rest[:2] == b"\x00\x00", "uncompressed"
            _language, _translated, value = rest[2:].split(b"\x00", 2)
            out[key.decode("latin-1")] = value.decode("utf-8")
        at += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    return out


@pytest.fixture(scope="module")
def result():
    result = synthetic_result(2)
    result.metadata["model_name"] = HOSTILE
    return result


def test_svg_has_role_title_and_desc_from_describe(result, tmp_path):
    text = describe_heatmap(result)
    path = charts.save_chart(charts.heatmap(result, select=False), tmp_path / "h.svg", text=text)
    root = ET.parse(path).getroot()
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert list(root)[:2] == [title, desc], "<title> and <desc> come first"
    assert title.text == text.name == HOSTILE
    assert desc.text == text.summary
    assert root.get("aria-labelledby") == title.get("id") and root.get("aria-describedby") == desc.get("id")


def test_default_description_is_a_summary_of_the_drawn_data(result, tmp_path):
    chart = charts.heatmap(result, select=False)
    path = charts.save_chart(chart, tmp_path / "h.svg")
    desc = ET.parse(path).getroot().find(f"{SVG}desc").text
    cells = charts.heatmap.figure(result, select=False).data
    centre = (cells["cosine_low"] + cells["cosine_high"]) / 2
    mass = cells["density"] * (cells["cosine_high"] - cells["cosine_low"])
    means = (centre * mass).groupby(cells["layer"]).sum() / mass.groupby(cells["layer"]).sum()
    assert f"goes from {means.iloc[0]:.2f} at layer 0 to {means.iloc[-1]:.2f} at layer {means.index[-1]}" in desc
    assert desc == spec_text(chart.to_dict()).summary


def test_html_page_is_titled_named_and_captioned(result, tmp_path):
    text = describe_heatmap(result)
    path = charts.save_chart(charts.heatmap(result, select=False), tmp_path / "h.html", text=text)
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert page.lang == "en"
    assert page.title == HOSTILE
    assert page.figure.get("role") == "img" and page.figure.get("aria-label") == HOSTILE
    assert page.caption == text.summary
    assert "<script>alert" not in path.read_text(encoding="utf-8").split("<body>")[1].split("<script")[0]


def test_png_and_json_carry_the_description(result, tmp_path):
    text = describe_panel("heatmap", result)
    png = charts.save_chart(charts.heatmap(result, select=False), tmp_path / "h.png", text=text).read_bytes()
    assert png_texts(png) == {"Title": text.name, "Description": text.summary}
    spec = json.loads(charts.save_chart(charts.heatmap(result), tmp_path / "h.json", text=text).read_text())
    assert spec["description"] == text.summary


def test_training_charts_get_their_panel_summary(tmp_path):
    history = pd.DataFrame({"step": np.repeat([0, 10], 3), "layer": np.tile([0, 1, 2], 2),
                            "layer_fraction": np.tile([0, 0.5, 1], 2), "mean": [0.1, 0.3, 0.6, 0.1, 0.2, 0.4]})
    path = charts.save_chart(charts.training_history(history), tmp_path / "t.svg")
    root = ET.parse(path).getroot()
    assert root.find(f"{SVG}desc").text == describe_panel("means", history).summary
    assert root.find(f"{SVG}title").text == "Mean cosine per layer vs step"


def test_a_grid_is_described_by_every_chart_in_it(tmp_path):
    """00 [10] shows the paper's heatmap beside the pooled one (``charts.grid``): its text alternative was
    "Chart" and the first heatmap's summary only. It now names each chart and describes each from its own data."""
    first, second = synthetic_result(0), synthetic_result(1)
    left = charts.heatmap(first, select=False, title="The paper's heatmap")
    right = charts.heatmap(second, select=False, title="Pooled pairs")
    text = spec_text(charts.grid(left, right, shared_colour=True).to_dict())
    assert text.name == "The paper's heatmap; Pooled pairs"
    for number, (result, title) in enumerate([(first, "The paper's heatmap"), (second, "Pooled pairs")], start=1):
        cells = charts.heatmap.figure(result, select=False).data  # each part's mean from its own cells
        centre = (cells["cosine_low"] + cells["cosine_high"]) / 2
        mass = cells["density"] * (cells["cosine_high"] - cells["cosine_low"])
        means = (centre * mass).groupby(cells["layer"]).sum() / mass.groupby(cells["layer"]).sum()
        part = f"goes from {means.iloc[0]:.2f} at layer 0 to {means.iloc[-1]:.2f} at layer {means.index[-1]}"
        assert f"{number}. {title}: " in text.summary and part in text.summary.split(f"{number}. {title}: ")[1]
    assert text.summary.startswith("2 charts. ")
    svg = charts.save_chart(charts.grid(left, right), tmp_path / "g.svg")
    assert ET.parse(svg).getroot().find(f"{SVG}desc").text == text.summary
