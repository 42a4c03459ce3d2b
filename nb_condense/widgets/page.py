"""The explorer as one offline HTML file that needs no kernel: ``save_page(sessions, "explorer.html")``.

The page holds every loaded model's per-text histograms and per-token means (once, gzip-compressed), the explorer's
bundle, and one Vega-Lite spec per model and view, with each view's text alternative and data table for every
choice of all texts or one and all layers or one (precomputed, :func:`_page_texts`: the page never computes a
statistic; for another choice it shows the nearest of those and says which). The specs declare every computation the
page does when a control changes: filter the chosen texts (a Vega param), sum their counts per layer and bin,
divide by each layer's total (the pooled density), fill empty bins with zeros; the tokens view's default text and
layer are declared too. So Python still defines the maths, the page only evaluates it; the same controls as the
notebook's explorer drive the params, and the controls' options are the explorer's own
(:func:`~nb_condense.widgets._protocol.explorer_state`).

Example
-------
>>> import nb_condense as nbc, tempfile, pathlib
>>> result = nbc.measure("embedded", dataset="builtin", n_texts=2, max_length=32, show_progress=False)
>>> path = save_page({"MiniLM": result}, pathlib.Path(tempfile.mkdtemp()) / "explorer.html")
>>> path.read_text()[:15]
'<!doctype html>'
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..charts import specs
from ..charts.base import live_title
from ..charts.describe import describe_view
from ..charts.templates import explorer_distributions, explorer_heatmap, explorer_tokens
from ..core.files import write_text
from ..core.result import CondensationResult
from ..explore.session import CondensationSession, named_sessions
from ._bundle import STYLES, bundle
from ._protocol import explorer_state
from ._views import Choice, token_default, trend_heading, trend_spec
from ._views import view as explorer_view

__all__ = ["choice_key", "page_payload", "save_page"]

TOKEN_DIGITS = 4
"""Per-token mean cosines are stored with 4 decimals (a colour in the Tokens view; 1e-4 is below what it shows)."""


def _measured(sessions: Any) -> dict[str, CondensationSession]:
    """``{name: session}`` from what the explorer accepts; every session must be measured (a page never measures)."""
    named = named_sessions(sessions, where="save_page")
    for session in named.values():
        session.measured_result()  # raises, naming the session, when it is not measured
    return named


def _pooling(result: CondensationResult, *, layers: bool) -> list[dict[str, Any]]:
    """The declared maths of a pooled density: chosen texts -> summed counts -> density per layer and bin."""
    bins, n = result.bins, len(result.layers)
    steps: list[dict[str, Any]] = [{"filter": "length(samples) == 0 || indexof(samples, datum.text) >= 0"}]
    if layers:
        steps.append({"filter": "length(layers) == 0 || indexof(layers, datum.layer) >= 0"})
    steps += [
        {"flatten": ["bins", "counts"], "as": ["bin", "count"]},
        {"aggregate": [{"op": "sum", "field": "count", "as": "count"}], "groupby": ["layer", "bin"]},
    ]
    if layers:  # every bin of every layer, as session.distribution() gives: empty bins have density 0
        steps.append({"impute": "count", "key": "bin", "keyvals": {"start": 0, "stop": bins}, "groupby": ["layer"],
                      "value": 0})
    fraction = f"datum.layer / {max(result.n_entries - 1, 1)}"
    steps += [
        {"joinaggregate": [{"op": "sum", "field": "count", "as": "total"}], "groupby": ["layer"]},
        {"calculate": f"datum.count / (datum.total * {2 / bins!r})", "as": "density"},
        {"calculate": fraction, "as": "layer_fraction"},
    ]
    if layers:
        return [*steps, {"calculate": f"-1 + (datum.bin + 0.5) * {2 / bins!r}", "as": "cosine"}]
    half = 0.5 / max(n - 1, 1) if n > 1 else 0.5
    return [*steps, {"filter": "datum.density > 0"},
            {"calculate": f"datum.layer_fraction - {half!r}", "as": "x0"},
            {"calculate": f"datum.layer_fraction + {half!r}", "as": "x1"},
            {"calculate": f"-1 + datum.bin * {2 / bins!r}", "as": "cosine_low"},
            {"calculate": f"-1 + (datum.bin + 1) * {2 / bins!r}", "as": "cosine_high"}]


def _declared(chart: Any, transforms: list[dict[str, Any]], params: dict[str, Any], data: str) -> dict[str, Any]:
    """A chart's spec with the page's params and transforms, reading the named dataset ``data``."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec.pop("datasets", None)
    spec["data"] = {"name": data}
    spec["transform"] = transforms + spec.get("transform", [])
    spec["params"] = [{"name": name, "value": value} for name, value in params.items()] + spec.get("params", [])
    return spec


def _samples_expr(n_samples: int) -> str:
    """A Vega expression naming the chosen samples as :func:`~nb_condense.charts.specs.samples_text` does."""
    return (f"(length(samples) == 0 ? 'all {n_samples} samples' : (length(samples) == 1 ? 'sample #' : 'samples #')"
            " + join(samples, ', #'))")


def _layers_expr(n_layers: int) -> str:
    """A Vega expression naming the chosen layers as :func:`~nb_condense.charts.specs.layers_text` does."""
    return (f"(length(layers) == 0 ? 'all {n_layers} layers' : (length(layers) == 1 ? 'layer ' : 'layers ')"
            " + join(layers, ', '))")


def _live_title(spec: dict[str, Any], expr: str) -> dict[str, Any]:
    """``spec`` with its title param defined by ``expr`` over the page's params (it follows the controls)."""
    spec["params"] = [{"name": specs.TITLE_PARAM, "expr": expr} if p["name"] == specs.TITLE_PARAM else p
                      for p in spec["params"]]
    return spec


def _model_specs(name: str, result: CondensationResult) -> dict[str, Any]:
    frame = specs.heatmap_frame(result.density(), result.layer_fractions, result.layers)
    diagonal = bool(result.metadata.get("include_diagonal"))
    n_layers, n_samples = len(result.layers), result.n_texts
    quoted = json.dumps(name).replace("'", "\\'")[1:-1]
    heat = live_title(explorer_heatmap(specs.x_range(frame)), name, specs.caption("pooled", diagonal))
    heatmap = _live_title(_declared(heat, _pooling(result, layers=False), {"samples": []}, "histograms"),
                          f"'{quoted} · all {n_layers} layers · ' + {_samples_expr(n_samples)}")
    curves = live_title(explorer_distributions(n_layers <= specs.DISCRETE_LIMIT), name,
                        specs.caption("distributions", diagonal))
    distributions = _live_title(_declared(curves, _pooling(result, layers=True), {"samples": [], "layers": []},
                                          "histograms"),
                                f"'{quoted} · ' + {_layers_expr(n_layers)} + ' · ' + {_samples_expr(n_samples)}")
    default = token_default(result.layers)  # the text and layer shown when none is chosen, as the explorer's
    strip = live_title(explorer_tokens(specs.TOKEN_ROW_HEIGHT), name, specs.caption("tokens"))
    tokens = _declared(strip, [
        {"filter": "datum.text == sample"},
        {"calculate": "datum.means[indexof(layer_list, layer)]", "as": "mean_cosine"},
        {"calculate": _READABLE, "as": "label"},
    ], {"samples": [], "layers": [], "layer_list": [int(k) for k in result.layers]}, "tokens")
    tokens["params"][:0] = [
        {"name": "sample", "expr": f"length(samples) ? samples[0] : {default['sample']}"},
        {"name": "layer", "expr": f"length(layers) ? layers[0] : {default['layer']}"},
    ]
    # the cells' places (x0, x1, y0, y1) and the strip's height: the page's front end lays out the chosen text's
    # tokens for its width (js/src/flow.js, as for the explorer's strip)
    tokens = _live_title(tokens, f"'{quoted} · sample #' + sample + ' · layer ' + layer")
    return {"heatmap": heatmap, "distributions": distributions, "tokens": tokens if result.has_tokens else None}


_READABLE = "datum.token"
for _marker, _shown in specs.SPACE_MARKERS.items():
    _READABLE = f"replace({_READABLE}, regexp('{_marker}', 'g'), '{_shown}')"
"""The Vega expression of :func:`~nb_condense.charts.specs.readable_tokens`."""


def _model_data(result: CondensationResult) -> dict[str, Any]:
    """Per-text histograms (non-empty bins only) and per-token means, compactly (columns, not records)."""
    text, layer, bins, counts = [], [], [], []
    for t in range(result.n_texts):
        for k, index in enumerate(result.layers.tolist()):
            nonzero = np.flatnonzero(result.histograms[t, k])
            text.append(t)
            layer.append(int(index))
            bins.append(nonzero.tolist())
            counts.append(result.histograms[t, k, nonzero].tolist())
    data: dict[str, Any] = {"histograms": {"text": text, "layer": layer, "bins": bins, "counts": counts}}
    if result.has_tokens:
        assert result.token_strings is not None and result.token_means is not None
        owner = np.repeat(np.arange(result.n_texts), result.token_counts)
        starts = np.concatenate([[0], np.cumsum(result.token_counts)[:-1]])
        data["tokens"] = {"text": owner.tolist(), "position": (np.arange(len(owner)) - starts[owner]).tolist(),
                          "token": result.token_strings.tolist(),
                          "means": np.round(result.token_means.astype(np.float64), TOKEN_DIGITS).tolist()}
    return data


def page_payload(sessions: Any) -> dict[str, Any]:
    """Everything the page needs, as JSON-ready data: per model the explorer's state, declared specs and data.

    ``state`` is :func:`~nb_condense.widgets._protocol.explorer_state` (views, models, layer and sample options),
    exactly what the notebook's explorer sends for that model.
    """
    named = _measured(sessions)
    results = {name: session.measured_result() for name, session in named.items()}
    models = [{"name": name, "state": explorer_state(named, name), "specs": _model_specs(name, result),
               "data": _model_data(result), "texts": _page_texts(named, name)} for name, result in results.items()]
    trend, _ = trend_spec(results)
    trend_text = describe_view("trend", results, title=trend_heading(len(results))).to_dict()
    return {"models": models, "trend": trend, "trend_text": trend_text}


def choice_key(layers: list[int], samples: list[int]) -> str:
    """The key of a choice in the page's precomputed texts: ``"3|"`` is layer 3 over all texts, ``"|"`` the default."""
    return f"{','.join(map(str, layers))}|{','.join(map(str, samples))}"


def _page_texts(sessions: dict[str, CondensationSession], name: str) -> dict[str, Any]:
    """Each view's text alternative and data table, precomputed for every choice the page can describe.

    The page has no Python, and its views' statistics depend on the chosen texts (every subset of them) and
    layers, so it carries them for all texts or one text, and all layers or one layer, in a compact form:

    - ``heatmap``: ``{"texts": {key: ChartText dict}}`` for all texts and each text (its layers are all drawn);
    - ``distributions``: ``{"tables": {samples key: {columns, rows}}, "texts": {key: {name, summary}}}``: one
      table of every layer per text choice (a layer's row does not depend on the other layers: the page picks
      the chosen layer's row), a name and a summary per layer and text choice;
    - ``tokens``: ``{"texts": {key: {name, summary}}, "columns", "layers", "default"}``: a summary per text and
      layer; the page makes the table from the per-token means it carries (to :data:`TOKEN_DIGITS` decimals).

    Keys are :func:`choice_key`. Another choice (several texts, several layers but not all) is described by the
    nearest one the page holds, all texts or all layers, and the page says which (``js/src/page.js``).
    """
    results = {key: session.measured_result() for key, session in sessions.items()}
    result = results[name]

    def text(view: str, layers: list[int], samples: list[int]) -> dict[str, Any]:
        heading = explorer_view(view).heading(Choice(sessions, name, layers, samples, view))
        return describe_view(view, results, model=name, layers=layers, samples=samples, title=heading).to_dict()

    def short(full: dict[str, Any]) -> dict[str, Any]:
        return {"name": full["name"], "summary": full["summary"]}

    layer_choices = [[], *([int(k)] for k in result.layers)]
    sample_choices = [[], *([s] for s in range(result.n_texts))]
    texts: dict[str, Any] = {"heatmap": {"texts": {choice_key([], s): text("heatmap", [], s) for s in sample_choices}}}
    tables, summaries = {}, {}
    for samples in sample_choices:
        full = text("distributions", [], samples)
        tables[choice_key([], samples)] = {"columns": full["columns"], "rows": full["rows"]}
        summaries[choice_key([], samples)] = short(full)
        for layers in layer_choices[1:]:
            summaries[choice_key(layers, samples)] = short(text("distributions", layers, samples))
    texts["distributions"] = {"tables": tables, "texts": summaries}
    if not result.has_tokens:
        texts["tokens"] = None
        return texts
    default = token_default(result.layers)
    tokens = {choice_key(layers, [s]): text("tokens", layers, [s])
              for s in range(result.n_texts) for layers in layer_choices[1:]}
    texts["tokens"] = {"texts": {key: short(full) for key, full in tokens.items()},
                       "columns": next(iter(tokens.values()))["columns"],
                       "layers": [int(k) for k in result.layers],
                       "default": {"sample": int(default["sample"]), "layer": int(default["layer"])}}
    return texts


def _packed(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<meta name="generator" content="nb_condense {version}">
<style>body {{ font-family: system-ui, sans-serif; margin: 16px; color-scheme: light dark; background: Canvas;
color: CanvasText; }} {styles}</style></head>
<body><h1 style="font-size: 1.2em">{title}</h1><main id="explorer">Loading the explorer…</main>
<noscript>This page needs JavaScript (and a browser from 2023 or later) to draw the explorer.</noscript>
<script type="application/octet-stream" id="nbc-bundle">{bundle}</script>
<script type="application/octet-stream" id="nbc-payload">{payload}</script>
<script type="module">
const unpack = async (id) => {{
  const bytes = Uint8Array.from(atob(document.getElementById(id).textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}};
const el = document.getElementById("explorer");
try {{
  const code = await unpack("nbc-bundle");
  const url = URL.createObjectURL(new Blob([code], {{ type: "text/javascript" }}));
  const explorer = (await import(url)).default;
  window.nbcPage = explorer.renderPage({{ el, payload: JSON.parse(await unpack("nbc-payload")) }});
}} catch (error) {{
  el.textContent = "The explorer could not start: " + (error.message ?? error);
}}
</script></body></html>
"""


def save_page(sessions: Any, path: str | Path, *, title: str = "Embedding condensation explorer") -> Path:
    """Write the whole explorer as one self-contained, offline HTML file (no kernel, no network).

    ``sessions``: measured sessions or results, a list of them or a ``{name: session}`` dict, as the explorer
    takes. The page has every model, layer and sample, the four views and the same controls.
    """
    from .._version import __version__

    path = Path(path)
    if path.suffix.lower() != ".html":
        raise ValueError(f"save_page writes an .html file, got {path.name!r}.")
    payload = json.dumps(page_payload(sessions), separators=(",", ":"), allow_nan=False)
    text = PAGE.format(title=html.escape(title), version=__version__, styles=STYLES.read_text(encoding="utf-8"),
                       bundle=_packed(bundle()[1]), payload=_packed(payload.encode("utf-8")))
    return write_text(path, text)

