"""A chart's text alternative read off its Vega-Lite spec, and written into static copies (SVG, HTML, PNG).

:func:`spec_text` names any Vega-Lite spec by its title and describes it by its ``description`` or, for the
frames nb_condense's charts draw (heatmap cells, distributions, layer means, tokens, training history and losses),
by a summary of the spec's own data (:mod:`nb_condense.charts.describe`). The ``with_*`` functions put a
:class:`~nb_condense.charts.describe.ChartText` into rendered files: ``<title>``/``<desc>`` and ``role="img"`` in
an SVG, a page title, a named figure and a caption in HTML, ``Title``/``Description`` text chunks in a PNG. All
text is escaped: a title holding markup stays text. No Altair import.
"""

from __future__ import annotations

import html
import json
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .describe import ChartText, describe_panel

__all__ = ["spec_data", "spec_text", "spec_title", "with_html_text", "with_png_text", "with_svg_text"]

TITLE_ID, DESC_ID = "nbc-chart-title", "nbc-chart-desc"


def spec_title(spec: Mapping[str, Any]) -> str:
    """A spec's title as text: a string, lines joined, or a live title's param value (``{"expr": name}``)."""
    title = spec.get("title", "")
    text = title.get("text", "") if isinstance(title, Mapping) else title
    if isinstance(text, Mapping) and "expr" in text:
        values = {p.get("name"): p.get("value") for p in spec.get("params", []) if isinstance(p, Mapping)}
        text = values.get(text["expr"], "")
    if isinstance(text, (list, tuple)):
        text = " ".join(str(line) for line in text)
    return str(text or "")


def spec_data(spec: Mapping[str, Any]) -> pd.DataFrame:
    """The rows a spec draws: its first inline dataset (values given as a list or as a JSON string)."""
    datasets = spec.get("datasets", {})
    candidates: list[Any] = list(datasets.values())
    data = spec.get("data")
    if isinstance(data, Mapping) and "values" in data:
        candidates.insert(0, data["values"])
    elif isinstance(data, Mapping) and data.get("name") in datasets:  # a named dataset (Altair's concat) first
        candidates.insert(0, datasets[data["name"]])
    for values in candidates:
        rows = json.loads(values) if isinstance(values, str) else values
        if isinstance(rows, list) and rows:
            return pd.DataFrame(rows)
    return pd.DataFrame()


def _course(frame: pd.DataFrame, key: str, label: str) -> str:
    values, keys = frame["mean"].to_numpy(dtype=np.float64), frame[key].tolist()
    top, bottom = int(np.argmax(values)), int(np.argmin(values))
    return (f"from {values[0]:.2f} at {label} {keys[0]} to {values[-1]:.2f} at {label} {keys[-1]}; highest "
            f"{values[top]:.2f} at {label} {keys[top]}, lowest {values[bottom]:.2f} at {label} {keys[bottom]}")


def _heatmap_summary(cells: pd.DataFrame) -> str:
    width = cells["cosine_high"] - cells["cosine_low"]
    centre = (cells["cosine_high"] + cells["cosine_low"]) / 2
    mass = cells["density"] * width
    means = (centre * mass).groupby(cells["layer"]).sum() / mass.groupby(cells["layer"]).sum()
    frame = pd.DataFrame({"layer": means.index, "mean": means.to_numpy()})
    top = cells.iloc[int(np.argmax(cells["density"].to_numpy()))]
    return (f"Heatmap of pairwise cosine similarity by layer, {len(frame)} layers. The histogram mean cosine goes "
            f"{_course(frame, 'layer', 'layer')}. The densest cell is at layer {top['layer']:g}, cosine "
            f"{top['cosine_low']:.2f} to {top['cosine_high']:.2f} (density {top['density']:.1f}).")


def _distributions_summary(curves: pd.DataFrame) -> str:
    peaks = curves.iloc[curves.groupby("layer")["density"].idxmax().to_numpy()]
    top = peaks.iloc[int(np.argmax(peaks["density"].to_numpy()))]
    return (f"Probability density of pairwise cosine similarity, {len(peaks)} layers "
            f"({', '.join(str(k) for k in peaks['layer'])}). The peaks move from cosine {peaks['cosine'].iloc[0]:.2f} "
            f"at layer {peaks['layer'].iloc[0]} to {peaks['cosine'].iloc[-1]:.2f} at layer {peaks['layer'].iloc[-1]}; "
            f"the highest peak is layer {top['layer']:g}'s at cosine {top['cosine']:.2f}.")


def _means_summary(means: pd.DataFrame) -> str:
    parts = [f"{model}: the mean cosine goes {_course(rows.reset_index(drop=True), 'layer', 'layer')}."
             for model, rows in means.groupby("model", sort=False)]
    band = " The shaded band is each layer mean's bootstrap interval." if "low" in means else ""
    return f"Mean cosine per layer, {means['model'].nunique()} model(s). " + " ".join(parts) + band


def _tokens_summary(tokens: pd.DataFrame) -> str:
    values = tokens["mean_cosine"].to_numpy(dtype=np.float64)
    top, bottom = int(np.argmax(values)), int(np.argmin(values))
    return (f"{len(tokens)} tokens coloured by their mean cosine to the other tokens (mean {values.mean():.2f}). "
            f"Highest {values[top]:.2f}: {tokens['token'].iloc[top]!r} at position {tokens['position'].iloc[top]}; "
            f"lowest {values[bottom]:.2f}: {tokens['token'].iloc[bottom]!r} at position "
            f"{tokens['position'].iloc[bottom]}.")


def _data_summary(frame: pd.DataFrame) -> str:
    """A summary of the frames nb_condense's charts draw, recognised by their columns ("" otherwise)."""
    columns = set(frame.columns)
    if {"layer", "cosine_low", "cosine_high", "density"} <= columns:
        return _heatmap_summary(frame)
    if {"layer", "cosine", "density"} <= columns:
        return _distributions_summary(frame)
    if {"model", "layer", "mean"} <= columns:
        return _means_summary(frame)
    if {"position", "token", "mean_cosine"} <= columns:
        return _tokens_summary(frame)
    if {"step", "layer", "layer_fraction", "mean"} <= columns:
        return describe_panel("means", frame).summary
    if {"step", "series", "value"} <= columns:
        return describe_panel("losses", frame).summary
    return ""


def spec_text(spec: Mapping[str, Any]) -> ChartText:
    """The text alternative of a Vega-Lite spec: its title, its ``description`` (else a summary of its data).

    The table is the spec's first inline dataset. A spec whose data this module does not recognise and which
    has no ``description`` is described by its title and its number of rows. Charts side by side (a concat, e.g.
    :func:`~nb_condense.charts.grid`) are named by their titles and described one by one ("2 charts. 1. ...").
    """
    name = spec_title(spec)
    parts = _concat_parts(spec)
    if parts and not spec.get("description"):
        texts = [spec_text(part) for part in parts]
        summary = f"{len(texts)} charts. " + " ".join(f"{number}. {text.name}: {text.summary}"
                                                      for number, text in enumerate(texts, start=1))
        return ChartText(name or "; ".join(text.name for text in texts), summary, texts[0].table)
    frame = spec_data(spec)
    summary = str(spec.get("description") or "")
    if not summary and not frame.empty:
        try:
            summary = _data_summary(frame)
        except (KeyError, ValueError, TypeError):  # a look-alike frame of other types: described generically
            summary = ""
    if not summary:
        summary = f"Chart {name!r} of {len(frame)} data rows." if name else f"Chart of {len(frame)} data rows."
    return ChartText(name or "Chart", summary, frame)


def _concat_parts(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The charts of a concatenated spec (``charts.grid``), each with the top-level datasets it may name."""
    for key in ("concat", "hconcat", "vconcat"):
        if isinstance(spec.get(key), list):
            datasets = spec.get("datasets", {})
            return [{**part, "datasets": {**datasets, **part.get("datasets", {})}} for part in spec[key]
                    if isinstance(part, Mapping)]
    return []


# ----- static copies -----------------------------------------------------------------------------------------
def with_svg_text(svg: str, text: ChartText) -> str:
    """``svg`` with ``role="img"``, ``<title>`` (the name) and ``<desc>`` (the summary) first in its root element."""
    match = re.search(r"<svg\b[^>]*?(/?)>", svg)
    if match is None:
        raise ValueError("Not an SVG document: no <svg> element.")
    if match.group(1):
        raise ValueError("The SVG's root element is empty: nothing to describe.")
    head = svg[:match.end() - 1]
    for attribute in ("role", "aria-labelledby", "aria-describedby", "aria-label"):
        head = re.sub(rf'\s{attribute}="[^"]*"', "", head)
    head += f' role="img" aria-labelledby="{TITLE_ID}" aria-describedby="{DESC_ID}">'
    body = (f'<title id="{TITLE_ID}">{html.escape(text.name, quote=False)}</title>'
            f'<desc id="{DESC_ID}">{html.escape(text.summary, quote=False)}</desc>')
    return head + body + svg[match.end():]


def with_html_text(page: str, text: ChartText) -> str:
    """A saved chart page with a ``<title>``, ``lang``, the chart named by it and described by a caption."""
    name, summary = html.escape(text.name), html.escape(text.summary)
    page = re.sub(r"<html(?![^>]*\blang=)", '<html lang="en"', page, count=1)
    head = r'<meta charset="UTF-8">' if '<meta charset="UTF-8">' in page else r"<head>"
    page = re.sub(head, lambda found: f"{found.group(0)}\n  <title>{name}</title>", page, count=1)
    figure = (f'<figure style="margin: 0"><div class="vega-visualization" id="vis" role="img" aria-label="{name}" '
              f'aria-describedby="{DESC_ID}"></div>\n<figcaption id="{DESC_ID}">{summary}</figcaption></figure>')
    page, found = re.subn(r'<div class="vega-visualization" id="vis"></div>', lambda _: figure, page, count=1)
    if not found:
        page = re.sub(r"<body>", lambda _: f'<body>\n<p id="{DESC_ID}">{summary}</p>', page, count=1)
    return page


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def with_png_text(png: bytes, text: ChartText) -> bytes:
    """``png`` with international text chunks ``Title`` and ``Description`` (UTF-8) after its header chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("Not a PNG image.")
    end_of_header = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    chunks = b"".join(_png_chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))
                      for key, value in ((b"Title", text.name), (b"Description", text.summary)))
    return png[:end_of_header] + chunks + png[end_of_header:]
