"""A chart saved as HTML keeps hostile text as text (issue 23.7; the browser tier checks it in Chromium)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import altair as alt
import pandas as pd

import nb_condense as nbc

HOSTILE = "</script><script>window.__pwned = 1</script><img src=x onerror=alert(1)> &amp; <!-- co"


class Elements(HTMLParser):
    """The start tags of a document, as the browser's tokenizer sees them, and each script's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_data(self, data):
        if self.tags and self.tags[-1] == "script" and self.scripts:
            self.scripts[-1] += data


def parsed(path) -> Elements:
    elements = Elements()
    elements.feed(path.read_text(encoding="utf-8"))
    return elements


def chart(title: str) -> alt.Chart:
    frame = pd.DataFrame({"token": [title, "plain"], "x": [0, 1]})
    return alt.Chart(frame).mark_text().encode(x="x:Q", text="token:N", tooltip=["token:N"]).properties(title=title)


def test_hostile_text_in_a_saved_html_chart_adds_no_element_and_reads_back_literally(tmp_path):
    plain = parsed(nbc.save_chart(chart("A title"), tmp_path / "plain.html"))
    hostile = parsed(nbc.save_chart(chart(HOSTILE), tmp_path / "hostile.html"))
    assert hostile.tags == plain.tags  # no <script> or <img> of the text's own
    spec_script = next(s for s in hostile.scripts if "var spec" in s or "spec =" in s)
    spec = json.loads(re.search(r"spec\s*=\s*(\{.*?\});?\s*\n", spec_script, re.S).group(1))
    assert spec["title"] == HOSTILE
    values = next(iter(spec["datasets"].values()))
    assert values[0]["token"] == HOSTILE
