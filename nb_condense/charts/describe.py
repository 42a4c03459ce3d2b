"""Text alternatives for charts: a name, a one-paragraph summary naming the data's extremes, and a data table.

Every chart nb_condense draws (the explorer's four views, the live training view's three panels, any chart in a
:class:`~nb_condense.widgets.chart.ChartWidget`) gets a :class:`ChartText` made here from the same data as the
chart, in numpy and pandas only (no Altair import): the numbers are the session's own (pair-pooled layer means,
:func:`~nb_condense.core.summaries.trend_statistics`, the bootstrap intervals of
:mod:`nb_condense.core.bootstrap`). A verdict on depth carries its interval and says "cannot tell" when the
interval spans 0. The texts are plain text: whoever shows them sets them as text (never as HTML).

Example
-------
>>> import numpy as np, pandas as pd
>>> history = pd.DataFrame({"step": [0, 0, 10, 10], "layer": [0, 1, 0, 1], "layer_fraction": [0.0, 1.0] * 2,
...                         "mean": [0.10, 0.40, 0.12, 0.25]})
>>> text = describe_panel("means", history)
>>> text.name
'Mean cosine per layer vs step'
>>> print(text.summary)  # doctest: +NORMALIZE_WHITESPACE
Mean cosine per layer vs training step, 2 layers, measured at 2 steps (0 to 10). At the last layer (1) it
falls from 0.40 at step 0 to 0.25 at step 10. At step 10 the highest layer mean is 0.25 (layer 1), the lowest
0.12 (layer 0).
>>> list(text.table.columns)
['Step', 'Layer', 'Layer fraction', 'Mean cosine']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.bootstrap import trend_intervals
from ..core.result import CondensationResult
from ..core.summaries import bin_edges, histogram_quantiles, trend_statistics

__all__ = ["CI", "PANELS", "VIEWS", "ChartText", "describe_distributions", "describe_heatmap", "describe_panel",
           "describe_tokens", "describe_trend", "describe_view", "verdict"]

CI = 0.95
"""The coverage of the intervals the summaries quote (as the explorer's bands)."""
VIEWS = ("heatmap", "distributions", "trend", "tokens")
"""The explorer's views that :func:`describe_view` describes."""
PANELS = ("losses", "means", "heatmap")
"""The live training view's panels that :func:`describe_panel` describes."""
LOSS_NAMES = {"loss": "total loss", "ce_loss": "language-model (CE) loss", "dispersion_loss": "dispersion loss"}


@dataclass(frozen=True)
class ChartText:
    """A chart's text alternative: its accessible ``name`` (the title), a ``summary`` and the ``table`` behind it.

    ``table`` is tidy, with column headers a person can read (``"Mean cosine"``, ``"Interval low (95 %)"``).
    """

    name: str
    summary: str
    table: pd.DataFrame

    def to_csv(self, path: str | Path | None = None) -> str | None:
        """The table as CSV (the explorer's CSV export's format: no index); written to ``path`` when given."""
        text: str = self.table.to_csv(index=False)
        if path is None:
            return text
        from ..core.files import write_text

        write_text(Path(path), text)
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``name``, ``summary``, ``columns`` and ``rows`` (lists; NaN as ``None``)."""
        rows = self.table.astype(object).where(self.table.notna(), None).values.tolist()
        return {"name": self.name, "summary": self.summary, "columns": [str(c) for c in self.table.columns],
                "rows": rows}


# ----- wording ----------------------------------------------------------------------------------------------
def _n(value: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(rho: float, interval: tuple[float, float] | None, why_none: str = "") -> tuple[str, str]:
    """``(verb, clause)`` for a rank correlation with depth: "rises"/"falls" only when the interval excludes 0.

    >>> verdict(0.9, (0.5, 1.0))[1]
    'rho +0.90 (95 % interval 0.50 to 1.00): it rises with depth.'
    >>> verdict(0.3, (-0.2, 0.8))[1]  # doctest: +NORMALIZE_WHITESPACE
    'rho +0.30 (95 % interval -0.20 to 0.80): cannot tell whether it rises or falls with depth (the interval
    spans 0).'
    """
    if not math.isfinite(rho):
        return "stays", "no rank correlation: the means are all equal."
    if interval is None:
        return "goes", f"rho {rho:+.2f} (no interval: {why_none or 'nothing to resample'})."
    low, high = interval
    quoted = f"rho {rho:+.2f} ({CI * 100:g} % interval {_n(low)} to {_n(high)})"
    if low > 0:
        return "rises", f"{quoted}: it rises with depth."
    if high < 0:
        return "falls", f"{quoted}: it falls with depth."
    return "goes", f"{quoted}: cannot tell whether it rises or falls with depth (the interval spans 0)."


def _course(values: np.ndarray, labels: Sequence[Any], unit: str, verb: str) -> str:
    """"rises from 0.05 at layer 0 to 0.35 at layer 6; highest 0.36 at layer 5, lowest 0.05 at layer 0"."""
    top, bottom = int(np.nanargmax(values)), int(np.nanargmin(values))
    return (f"{verb} from {_n(values[0])} at {unit} {labels[0]} to {_n(values[-1])} at {unit} {labels[-1]}; "
            f"highest {_n(values[top])} at {unit} {labels[top]}, lowest {_n(values[bottom])} at {unit} "
            f"{labels[bottom]}")


# ----- per-layer numbers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layers:
    means: np.ndarray
    intervals: np.ndarray | None  # [layer, 2]
    rho: float
    rho_interval: tuple[float, float] | None
    why_none: str


def _why_no_interval(result: CondensationResult, n_texts: int) -> str:
    if not result.resamplable:
        return "position-averaged means keep no per-text share"
    return "one text: nothing to resample" if n_texts < 2 else ""


def _layer_numbers(result: CondensationResult, samples: Any = None, ci: float = CI, n_boot: int = 1000,
                   seed: int = 0) -> _Layers:
    """Layer means of the chosen texts (pair-pooled), rho with depth, and their bootstrap intervals over them."""
    index = result.sample_indices(samples)
    means = result.stats["mean"].to_numpy().reshape(result.n_texts, -1)[index]
    pairs = result.stats["n_pairs"].to_numpy().reshape(result.n_texts, -1)[index]
    if samples is None or not result.resamplable:
        layer_means = np.asarray(result.layer_means, dtype=np.float64)
    else:
        layer_means = (means * pairs).sum(0) / pairs.sum(0)
    rho = trend_statistics(layer_means).spearman_rho if len(layer_means) > 1 else float("nan")
    why = _why_no_interval(result, len(index))
    if why or len(layer_means) < 2:
        return _Layers(layer_means, None, rho, None, why or "one layer")
    statistics, layer_intervals = trend_intervals(means, pairs, ci=ci, n_boot=n_boot, seed=seed)
    return _Layers(layer_means, layer_intervals, rho, statistics["spearman_rho"], "")


def _interval_columns(frame: pd.DataFrame, intervals: np.ndarray | None, ci: float) -> pd.DataFrame:
    low, high = (np.full(len(frame), np.nan),) * 2 if intervals is None else (intervals[:, 0], intervals[:, 1])
    return frame.assign(**{f"Interval low ({ci * 100:g} %)": low, f"Interval high ({ci * 100:g} %)": high})


def _samples_phrase(result: CondensationResult, samples: Any) -> str:
    if samples is None:
        return _plural(result.n_texts, "text")
    chosen = result.sample_indices(samples)
    return f"{_plural(len(chosen), 'text')} (#{', #'.join(str(k) for k in chosen)})"


def _model(result: CondensationResult, model: str | None) -> str:
    return model if model is not None else str(result.metadata.get("model_name", "model"))


# ----- the explorer's views -----------------------------------------------------------------------------------
def describe_heatmap(result: CondensationResult, samples: Any = None, *, model: str | None = None,
                     title: str | None = None, ci: float = CI, n_boot: int = 1000, seed: int = 0) -> ChartText:
    """The heatmap of ``result`` over ``samples`` (text indices, ``None`` = all): its layers' means and densest bins.

    The table has one row per layer: mean cosine with its interval over the chosen texts, the median and the
    densest bin of the pooled histogram (what the heatmap's column shows).
    """
    name = _model(result, model)
    numbers = _layer_numbers(result, samples, ci, n_boot, seed)
    counts = result.histograms[result.sample_indices(samples)].sum(axis=0)
    density = counts / (counts.sum(-1, keepdims=True) * (2.0 / result.bins))
    edges = bin_edges(result.bins)
    peak = density.argmax(axis=1)
    table = _interval_columns(pd.DataFrame({
        "Layer": result.layers, "Layer fraction": result.layer_fractions, "Mean cosine": numbers.means}),
        numbers.intervals, ci).assign(**{
            "Median cosine": histogram_quantiles(counts, (0.5,))[:, 0], "Densest bin from": edges[peak],
            "Densest bin to": edges[peak + 1], "Peak density": density[np.arange(len(peak)), peak]})
    verb, clause = verdict(numbers.rho, numbers.rho_interval, numbers.why_none)
    cell = int(np.argmax(table["Peak density"].to_numpy()))
    summary = (f"Heatmap of pairwise cosine similarity by layer, {name}, {_plural(len(result.layers), 'layer')}, "
               f"{_samples_phrase(result, samples)}. The mean cosine "
               f"{_course(numbers.means, result.layers.tolist(), 'layer', verb)}; {clause} The densest cell is "
               f"at layer {result.layers[cell]}, cosine {_n(edges[peak[cell]])} to {_n(edges[peak[cell] + 1])} "
               f"(density {_n(density[cell, peak[cell]], 1)}).")
    return ChartText(title if title is not None else name, summary, table)


def describe_distributions(result: CondensationResult, layers: Any = None, samples: Any = None, *,
                           model: str | None = None, title: str | None = None) -> ChartText:
    """The distributions view: each chosen layer's peak (mode), median and quartiles of the pooled cosines."""
    name = _model(result, model)
    positions = result.layer_positions(layers)
    counts = result.histograms[result.sample_indices(samples)][:, positions].sum(axis=0)
    density = counts / (counts.sum(-1, keepdims=True) * (2.0 / result.bins))
    centres = (bin_edges(result.bins)[:-1] + bin_edges(result.bins)[1:]) / 2
    quartiles = histogram_quantiles(counts, (0.25, 0.5, 0.75))
    peak = density.argmax(axis=1)
    shown = result.layers[positions]
    table = pd.DataFrame({"Layer": shown, "Layer fraction": result.layer_fractions[positions],
                          "Peak at cosine": centres[peak], "Peak density": density[np.arange(len(peak)), peak],
                          "Lower quartile": quartiles[:, 0], "Median cosine": quartiles[:, 1],
                          "Upper quartile": quartiles[:, 2]})
    spread = quartiles[:, 2] - quartiles[:, 0]
    narrow, wide = int(np.argmin(spread)), int(np.argmax(spread))
    medians = quartiles[:, 1]
    course = (f"the median cosine goes from {_n(medians[0])} at layer {shown[0]} to {_n(medians[-1])} at layer "
              f"{shown[-1]}" if len(shown) > 1 else f"the median cosine is {_n(medians[0])}")
    summary = (f"Probability density of pairwise cosine similarity, {name}, {_plural(len(shown), 'layer')} "
               f"({', '.join(map(str, shown))}), {_samples_phrase(result, samples)}. Across these layers "
               f"{course}; the highest peak is layer {shown[int(np.argmax(table['Peak density']))]}'s at cosine "
               f"{_n(centres[peak[int(np.argmax(table['Peak density']))]])}; the narrowest spread (interquartile "
               f"range {_n(spread[narrow])}) is at layer {shown[narrow]}, the widest ({_n(spread[wide])}) at layer "
               f"{shown[wide]}.")
    return ChartText(title if title is not None else name, summary, table)


def describe_trend(results: Mapping[str, CondensationResult], *, title: str | None = None, ci: float = CI,
                   n_boot: int = 1000, seed: int = 0) -> ChartText:
    """The trend view: each model's layer means, their course with depth and rho with its interval."""
    if not results:
        raise ValueError("describe_trend needs at least one result: pass {name: result}.")
    frames, sentences = [], []
    for name, result in results.items():
        numbers = _layer_numbers(result, None, ci, n_boot, seed)
        frames.append(_interval_columns(pd.DataFrame({
            "Model": name, "Layer": result.layers, "Layer fraction": result.layer_fractions,
            "Mean cosine": numbers.means}), numbers.intervals, ci))
        verb, clause = verdict(numbers.rho, numbers.rho_interval, numbers.why_none)
        sentences.append(f"{name}: the mean cosine {_course(numbers.means, result.layers.tolist(), 'layer', verb)}; "
                         f"{clause}")
    heading = f"Mean cosine per layer, {_plural(len(results), 'model')}, all texts."
    return ChartText(title if title is not None else "Mean cosine per layer", " ".join([heading, *sentences]),
                     pd.concat(frames, ignore_index=True))


def describe_tokens(result: CondensationResult, sample: int = 0, layer: int = -1, *, model: str | None = None,
                    title: str | None = None) -> ChartText:
    """The tokens view: one text's tokens at one layer, naming the most and least condensed tokens."""
    frame = result.tokens(sample, layer)
    shown = int(result.layers[result.layer_positions(layer)[0]])
    values = frame["mean_cosine"].to_numpy()
    table = pd.DataFrame({"Position": frame["position"], "Token": frame["token"],
                          "Mean cosine to the other tokens": values})
    top, bottom = int(np.nanargmax(values)), int(np.nanargmin(values))
    summary = (f"Tokens of sample #{sample} at layer {shown}, {_model(result, model)}: "
               f"{_plural(len(frame), 'token')} coloured by their mean cosine to the other tokens (mean "
               f"{_n(float(np.nanmean(values)))}). Highest {_n(values[top])}: {frame['token'][top]!r} at position "
               f"{top}; lowest {_n(values[bottom])}: {frame['token'][bottom]!r} at position {bottom}.")
    return ChartText(title if title is not None else f"Sample {sample}, layer {shown}", summary, table)


def describe_view(view: str, results: Mapping[str, CondensationResult] | CondensationResult, *,
                  model: str | None = None, layers: Sequence[int] = (), samples: Sequence[int] = (),
                  title: str | None = None) -> ChartText:
    """The text alternative of the explorer's ``view`` for a choice (empty ``layers``/``samples``: all).

    Parameters
    ----------
    view
        One of :data:`VIEWS`.
    results
        ``{name: result}`` of the loaded models (or one result); the trend view describes them all.
    model
        The chosen model (default: the first).
    layers, samples
        The chosen hidden-state indices and text indices, as the explorer's traits hold them. The tokens view
        shows the first of each (default: sample 0, the last layer), as the explorer does.
    title
        The chart's title (its accessible name); default: the model's name.

    Examples
    --------
    ``describe_view("tokens", {"MiniLM": result}, samples=[1])`` names sample 1's most and least condensed
    tokens at the last layer; its ``table`` has one row per token and :meth:`ChartText.to_csv` exports it.
    """
    pairs = results if isinstance(results, Mapping) else {_model(results, model): results}
    if view not in VIEWS:
        raise ValueError(f"Unknown view {view!r}; the views are {list(VIEWS)}.")
    if view == "trend":
        return describe_trend(pairs, title=title)
    name = model if model is not None else next(iter(pairs))
    if name not in pairs:
        raise ValueError(f"Unknown model {name!r}; loaded: {list(pairs)}.")
    result, chosen = pairs[name], list(samples) or None
    if view == "heatmap":
        return describe_heatmap(result, chosen, model=name, title=title)
    if view == "distributions":
        return describe_distributions(result, list(layers) or None, chosen, model=name, title=title)
    sample = int(samples[0]) if samples else 0
    return describe_tokens(result, sample, int(layers[0]) if layers else int(result.layers[-1]), model=name,
                           title=title)


# ----- the live training view's panels -----------------------------------------------------------------------
def _describe_losses(losses: pd.DataFrame, title: str | None) -> ChartText:
    wide = losses.pivot_table(index="step", columns="series", values="value", aggfunc="last").reset_index()
    wide.columns.name = None
    present = [k for k in LOSS_NAMES if k in wide.columns]
    table = wide[["step", *present]].rename(columns={"step": "Step", **{k: LOSS_NAMES[k].capitalize()
                                                                          for k in present}})
    steps = wide["step"].to_numpy()
    parts = []
    for key in present:
        values = wide[key].to_numpy(dtype=np.float64)
        ok = np.isfinite(values)
        verb = "falls" if values[ok][-1] < values[ok][0] else "rises" if values[ok][-1] > values[ok][0] else "stays"
        parts.append(f"The {LOSS_NAMES[key]} {_course(values[ok], steps[ok].tolist(), 'step', verb)}.")
    head = (f"Training losses over {_plural(len(steps), 'logged step')} ({steps.min()} to {steps.max()}), one "
            f"panel per loss.")
    return ChartText(title if title is not None else "Training losses", " ".join([head, *parts]), table)


def _describe_history(history: pd.DataFrame, title: str | None) -> ChartText:
    frame = history.sort_values(["step", "layer"]).reset_index(drop=True)
    table = frame[["step", "layer", "layer_fraction", "mean"]].astype({"mean": float}).rename(columns={
        "step": "Step", "layer": "Layer", "layer_fraction": "Layer fraction", "mean": "Mean cosine"})
    steps = sorted(frame["step"].unique().tolist())
    last_layer = frame["layer"].max()
    course = frame[frame["layer"] == last_layer]
    values = course["mean"].to_numpy(dtype=np.float64)
    verb = "falls" if values[-1] < values[0] else "rises" if values[-1] > values[0] else "stays"
    final = frame[frame["step"] == steps[-1]]
    top, bottom = final["mean"].astype(float).idxmax(), final["mean"].astype(float).idxmin()
    summary = (f"Mean cosine per layer vs training step, {_plural(frame['layer'].nunique(), 'layer')}, measured at "
               f"{_plural(len(steps), 'step')} ({steps[0]} to {steps[-1]}). At the last layer ({last_layer}) it "
               f"{verb} from {_n(values[0])} at step {course['step'].iloc[0]} to {_n(values[-1])} at step "
               f"{course['step'].iloc[-1]}. At step {steps[-1]} the highest layer mean is "
               f"{_n(float(frame['mean'][top]))} (layer {frame['layer'][top]}), the lowest "
               f"{_n(float(frame['mean'][bottom]))} (layer {frame['layer'][bottom]}).")
    return ChartText(title if title is not None else "Mean cosine per layer vs step", summary, table)


def describe_panel(panel: str, data: pd.DataFrame | CondensationResult, *, title: str | None = None) -> ChartText:
    """The text alternative of a live training view's ``panel`` (one of :data:`PANELS`).

    ``data`` is what the monitor draws: its ``losses`` frame (``step, series, value``) for ``"losses"``, its
    ``history`` frame (``step, layer, layer_fraction, mean``) for ``"means"``, its ``latest`` result for
    ``"heatmap"``.
    """
    if panel not in PANELS:
        raise ValueError(f"Unknown panel {panel!r}; the live view's panels are {list(PANELS)}.")
    if panel == "heatmap":
        if not isinstance(data, CondensationResult):
            raise TypeError("The heatmap panel is described from the latest CondensationResult (monitor.latest).")
        return describe_heatmap(data, title=title if title is not None else "Latest condensation measurement")
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise ValueError(f"The {panel!r} panel has nothing to describe yet: pass the monitor's non-empty frame.")
    return _describe_losses(data, title) if panel == "losses" else _describe_history(data, title)
