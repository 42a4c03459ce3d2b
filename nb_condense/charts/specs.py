"""Chart data and ready-made Vega-Lite specs, without Altair: what the explorer draws from, fast and light.

The tidy frames every chart draws (heatmap cells, distribution curves, layer means, token cells) are made here,
from results, in numpy and pandas. The explorer's specs come from templates that :mod:`nb_condense.charts`
generated with Altair and that ship in ``charts/spec_templates.json``: filling one costs a millisecond and
needs no Altair import (about 2 s in a fresh Jupyter kernel, most of it jsonschema's format checkers), so
the first chart appears within a second of the explorer's creation. ``tests/unit/test_spec_templates.py``
checks that the shipped templates are what ``charts`` makes, and that every filled spec equals the Altair
chart's ``to_dict()``; ``python -m nb_condense.charts.templates`` rewrites them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.result import CondensationResult
from ..core.summaries import bin_edges

__all__ = [
    "BAND_CI",
    "BAND_TITLE",
    "BARS_TITLE",
    "DISCRETE_LIMIT",
    "DISTRIBUTION_COLUMNS",
    "LAYER_SELECTION",
    "TEMPLATES",
    "TITLE_PARAM",
    "TOKENS_PER_ROW",
    "TOKEN_FLOW",
    "TOKEN_ROW_HEIGHT",
    "TOKEN_WIDTH",
    "caption",
    "data_values",
    "dataset_name",
    "heatmap_frame",
    "interval_caption",
    "layer_means_frame",
    "no_band_reason",
    "layers_text",
    "samples_text",
    "readable_tokens",
    "spec",
    "token_cells",
    "token_strip_height",
]

TEMPLATES = Path(__file__).with_name("spec_templates.json")
PARAMS = json.loads(Path(__file__).with_name("params.json").read_text(encoding="utf-8"))
"""The names of the Vega params the charts define and the front end drives (``js/src/chart.js`` imports the file)."""
TITLE, SUBTITLE = "__nbc_title__", "__nbc_subtitle__"
X_LO, X_HI, HEIGHT = "__nbc_x_lo__", "__nbc_x_hi__", "__nbc_height__"
"""Placeholders that the templates carry where a spec's own title, caption, x range or height go."""
DISTRIBUTION_COLUMNS = ["layer", "layer_fraction", "cosine", "density"]
TITLE_PARAM: str = PARAMS["title"]
"""Name of the param that holds a view's live title: the explorer updates it without a new spec."""
DISCRETE_LIMIT = 10
"""Up to this many layers get a discrete palette with a legend; beyond, a sequential scale over their range."""
TOKENS_PER_ROW = 12
"""The old token grid's cells to a row: ``token_strip(per_row=n)`` still asks for a strip ``n`` x 60 px wide."""
SPACE_MARKERS = {"\u0120": "\u2423", "\u2581": "\u2423", "\u010a": "\u23ce"}
"""Tokenizers' markers shown readably: byte-level BPE's space (Ġ) and newline (Ċ), SentencePiece's space (▁)
become ␣ and ⏎."""
TOKEN_ROW_HEIGHT = 22
TOKEN_WIDTH = 720
"""The token strip's lines are 22 px high; a chart drawn without a front end wraps them at 720 px."""
TOKEN_FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
TOKEN_FONT_SIZE, TOKEN_PAD, TOKEN_GAP = 11, 4, 2
TOKEN_FLOW: dict[str, Any] = {"font": TOKEN_FONT, "fontSize": TOKEN_FONT_SIZE, "pad": TOKEN_PAD, "gap": TOKEN_GAP,
                              "rowHeight": TOKEN_ROW_HEIGHT, "markers": SPACE_MARKERS}
"""How the token strip lays its cells out: each token a cell as wide as its word (in ``font`` at ``fontSize`` px,
``pad`` px either side), ``gap`` px apart, in reading order, wrapping whole cells at the chart's width. The charts
carry it (``usermeta.nbc_flow``): the front end lays the cells out again with the words' measured widths whenever
the chart's width changes (``js/src/flow.js``); without a front end the cells keep the layout made here."""
TOKEN_EM = 0.62
"""A monospace character's advance, in em, as :func:`token_cells` estimates it (the common monospace fonts' is
0.60 em; a wide East Asian character counts twice)."""
LAYER_SELECTION: str = PARAMS["layerSelection"]
"""Name of the point selection on ``layer`` that heatmaps define (click a column to pick a layer); the front end
reads it from the same file (``charts/params.json``)."""
BAND_CI = 0.95
"""The coverage of the bands the explorer's Trend view and the offline page draw."""
BAND_TITLE = "Mean cosine per layer"
BARS_TITLE = "Rank correlation of the layer means with depth"
"""Titles of the charts with intervals when none is given (Vega draws no caption under an empty title)."""


def data_values(frame: pd.DataFrame) -> str:
    """The rows of ``frame`` as the JSON string charts carry (15 significant digits, no index)."""
    return frame.to_json(orient="records", double_precision=15)


def dataset_name(values: str) -> str:
    """The name Altair gives a dataset of these values (a hash of their JSON), so specs made here match its."""
    return "data-" + hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]


def caption(kind: str, include_diagonal: bool = False) -> str:
    """The one-line caption that says what a chart of this ``kind`` shows.

    ``kind``: ``pooled`` or ``paper`` (heatmaps), ``distributions``, ``trend`` or ``tokens``.
    """
    diagonal = "diagonal included" if include_diagonal else "pairs of distinct tokens"
    captions = {
        "paper": "the paper's heatmap: cosine matrices averaged position by position over the texts, "
                 "diagonal included",
        "pooled": f"pooled: every token pair of the chosen texts ({diagonal}); not the paper's position-averaged "
                  "heatmap",
        "distributions": f"probability density of the cosine similarity of token pairs ({diagonal}), per layer, "
                         "pooled over the chosen texts",
        "trend": "mean cosine similarity of token pairs at each layer, over every text; one line per model",
        "tokens": "each token's mean cosine similarity to the other tokens of its text, at one layer",
    }
    if kind not in captions:
        raise ValueError(f"caption kind must be one of {sorted(captions)}, got {kind!r}.")
    return captions[kind]


def layers_text(layers: list[int], n_layers: int) -> str:
    """How a title names the chosen ``layers`` (all ``n_layers`` when none is chosen)."""
    if not layers:
        return f"all {n_layers} layers"
    return ("layer " if len(layers) == 1 else "layers ") + ", ".join(str(k) for k in layers)


def samples_text(samples: list[int], n_samples: int) -> str:
    """How a title names the chosen ``samples`` (all ``n_samples`` when none is chosen)."""
    if not samples:
        return f"all {n_samples} samples"
    return ("sample #" if len(samples) == 1 else "samples #") + ", #".join(str(k) for k in samples)


def heatmap_frame(density: np.ndarray, layer_fractions: np.ndarray, layers: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy rows (one per layer x non-empty bin) of a density array ``[layer, bin]`` on [-1, 1]."""
    density = np.asarray(density, dtype=np.float64)
    n_layers, bins = density.shape
    layer_fractions = np.asarray(layer_fractions, dtype=np.float64)
    if layer_fractions.shape != (n_layers,):
        raise ValueError(f"Need one layer fraction per layer ({n_layers}), got shape {layer_fractions.shape}.")
    layers = np.arange(n_layers) if layers is None else np.asarray(layers)
    half = 0.5 / max(n_layers - 1, 1) if n_layers > 1 else 0.5
    edges = bin_edges(bins)
    row, col = np.nonzero(density > 0)
    return pd.DataFrame({
        "layer": layers[row],
        "layer_fraction": layer_fractions[row],
        "x0": layer_fractions[row] - half,
        "x1": layer_fractions[row] + half,
        "cosine_low": edges[col],
        "cosine_high": edges[col + 1],
        "density": density[row, col],
    })


def x_range(frame: pd.DataFrame) -> tuple[float, float]:
    """The heatmap's x domain: from the first cell's left edge to the last cell's right edge."""
    return (float(frame["x0"].min()), float(frame["x1"].max())) if len(frame) else (0.0, 1.0)


def layer_means_frame(results: Iterable[tuple[str, CondensationResult]], ci: float | None = None,
                      n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``model, layer, layer_fraction, mean``: each model's mean cosine per measured layer.

    With ``ci`` (e.g. 0.95), ``low`` and ``high`` follow: each layer mean's bootstrap interval over the model's
    texts (:meth:`CondensationResult.trend`, ``n_boot`` resamples drawn with ``seed``); NaN (no band) for a result
    that cannot be resampled (:func:`no_band_reason`), which :func:`interval_caption` names.
    """
    frames = []
    for name, r in results:
        frame = pd.DataFrame({"model": name, "layer": r.layers, "layer_fraction": r.layer_fractions,
                              "mean": r.layer_means})
        if ci is not None and no_band_reason(r):
            frame["low"] = frame["high"] = np.nan
        elif ci is not None:
            bands = r.trend(ci=ci, n_boot=n_boot, seed=seed).layer_mean_intervals
            assert bands is not None
            frame["low"], frame["high"] = bands[:, 0], bands[:, 1]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def no_band_reason(result: CondensationResult) -> str | None:
    """Why a result gets no interval over texts (``None`` when it gets one)."""
    if not result.resamplable:
        return "position-averaged means keep no per-text share"
    if result.n_texts < 2:
        return "one text: nothing to resample"
    return None


def interval_caption(ci: float, results: Iterable[tuple[str, CondensationResult]], mark: str = "shaded") -> str:
    """What a band or error bar is: "shaded: 95 % bootstrap interval over the 100 texts" (or each model's texts).

    Models that get no band (:func:`no_band_reason`) are named, with the reason.
    """
    pairs = list(results)
    counts = list(dict.fromkeys(r.n_texts for _, r in pairs if not no_band_reason(r)))
    over = f"the {counts[0]} texts" if len(counts) == 1 else f"each model's texts ({', '.join(map(str, counts))})"
    why = "; ".join(f"{name} ({reason})" for name, r in pairs if (reason := no_band_reason(r)))
    if not counts:
        return f"{mark}: no bootstrap interval for {why}"
    text = f"{mark}: {ci * 100:g} % bootstrap interval over {over}"
    return f"{text}; none for {why}" if why else text


_MARKERS = str.maketrans(SPACE_MARKERS)


def readable_tokens(tokens: pd.Series) -> pd.Series:
    """``tokens`` with the tokenizers' space and newline markers shown as ␣ and ⏎ (:data:`SPACE_MARKERS`)."""
    return tokens.astype(str).str.translate(_MARKERS)


def _label_width(label: str) -> float:
    """The estimated width in px of ``label`` in the strip's monospace font (:data:`TOKEN_EM`)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
                  for c in label)
    return columns * TOKEN_EM * TOKEN_FONT_SIZE


def token_cells(frame: pd.DataFrame, width: int = TOKEN_WIDTH) -> pd.DataFrame:
    """A token frame (``position, token, mean_cosine``) with each token's label and cell ``x0, x1, y0, y1`` (px).

    The cells make a strip ``width`` px wide, laid out by the rules of :data:`TOKEN_FLOW`.

    ``label`` is the token with readable space markers (:func:`readable_tokens`). Cells are as wide as their words
    and follow each other in position order, a new line starting where the next cell would cross ``width`` (a
    word wider than ``width`` gets a line of its own).
    """
    frame = frame.sort_values("position")
    labels = readable_tokens(frame["token"])
    pad, gap, height = TOKEN_PAD, TOKEN_GAP, TOKEN_ROW_HEIGHT
    x0, y0, x, line = [], [], 0.0, 0
    widths = [float(np.ceil(_label_width(label))) + 2 * pad for label in labels]
    for w in widths:
        if x > 0 and x + w > width:
            x, line = 0.0, line + 1
        x0.append(x)
        y0.append(line * height)
        x += w + gap
    return frame.assign(label=labels, x0=x0, x1=np.add(x0, widths), y0=y0, y1=np.add(y0, height - gap))


def token_strip_height(cells: pd.DataFrame) -> int:
    """The height in px of the strip of ``cells`` (from :func:`token_cells`)."""
    return int(cells["y1"].max() + TOKEN_GAP) if len(cells) else TOKEN_ROW_HEIGHT


@functools.cache
def templates() -> dict[str, Any]:
    """The shipped spec templates, by view name (read once)."""
    loaded: dict[str, Any] = json.loads(TEMPLATES.read_text(encoding="utf-8"))
    return loaded


def _fill(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, str):
        return values.get(node, node)
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    return node


def spec(view: str, frame: pd.DataFrame, **values: Any) -> dict[str, Any]:
    """The Vega-Lite spec of ``view`` drawing ``frame``, with the template's placeholders filled from ``values``.

    ``values`` names placeholders by role: ``title``, ``subtitle``, ``x_range`` (a pair) and ``height``.
    """
    replacements: dict[str, Any] = {TITLE: values.get("title", ""), SUBTITLE: values.get("subtitle", "")}
    if "x_range" in values:
        replacements[X_LO], replacements[X_HI] = values["x_range"]
    if "height" in values:
        replacements[HEIGHT] = values["height"]
    filled: dict[str, Any] = _fill(templates()[view], replacements)  # a new structure: the template stays
    data = data_values(frame)
    name = dataset_name(data)
    filled["data"] = {"name": name, "format": {"type": "json"}}
    filled["datasets"] = {name: data}
    return filled
