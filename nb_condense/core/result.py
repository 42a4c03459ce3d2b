"""The result of a measurement: per-text histograms, statistics, per-token means, metadata; saved as one file.

Everything here is numpy and pandas: a saved result can be explored (frames, charts, the explorer) on a machine
without torch or a model. Saved as one ``.npz`` file (arrays + a JSON header); :meth:`CondensationResult.load`
restores it exactly, without pickle.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from .bootstrap import trend_intervals
from .files import FileFormatError, read_archive, save_archive
from .layer_selection import resolve_layers
from .summaries import (
    QUANTILES,
    TrendStatistics,
    bin_centers,
    bin_edges,
    density_from_counts,
    histogram_quantiles,
    matrix_density,
    trend_statistics,
)

__all__ = ["CondensationResult", "MeasuredSource", "STAT_COLUMNS", "TokensUnavailableError", "result_path"]

STAT_COLUMNS = ["mean", "std", *[f"q{round(q * 100):02d}" for q in QUANTILES]]
"""Per-text per-layer statistics in :meth:`CondensationResult.to_frame` (q50 is the median)."""
FORMAT = "nb_condense.CondensationResult/2"
_MOVED = {"heatmap": "nb_condense.charts.heatmap(result, ...)"}


class TokensUnavailableError(ValueError):
    """The result holds no per-token data (an older file, or measured with ``keep_texts=False``)."""


@runtime_checkable
class MeasuredSource(Protocol):
    """Anything that holds a finished measurement under a name (a measured session, for instance).

    Charts and the explorer accept these besides results; ``measured_result()`` must never start a
    measurement (it raises when there is none yet).
    """

    @property
    def name(self) -> str:
        """The label shown in charts and tables."""

    def measured_result(self) -> CondensationResult:
        """The finished measurement (raises ``ValueError`` when there is none yet)."""


@dataclass(eq=False)
class CondensationResult:
    """Cosine-similarity distributions of one model, layer by layer, over a set of texts.

    Attributes
    ----------
    histograms : np.ndarray
        int64 counts ``[text, layer, bin]`` of the token-pair cosines of each text on [-1, 1].
    stats : pd.DataFrame
        One row per (text, layer): ``text, layer, n_tokens, n_pairs`` and ``mean, std`` (exact),
        ``q05, q25, q50, q75, q95`` (read off the histogram), ``effective_rank`` when measured.
    layers : np.ndarray
        Hidden-state index of each measured entry (0 = embedding output; the logits entry, when
        measured, is the last index ``n_entries - 1``).
    token_counts : np.ndarray
        Tokens of each text after truncation.
    metadata : dict
        Model name, parameter count, ``n_layers`` (blocks), ``n_entries``, max_length, corpus, bins, versions, ...
    texts : list of str or None
        The measured texts (kept unless ``keep_texts=False``).
    token_strings : np.ndarray or None
        Every text's tokens, texts one after another (``token_counts`` says where each text starts).
    token_means : np.ndarray or None
        float32 ``[token, layer]``, aligned with ``token_strings``: each token's mean cosine to the other
        tokens of its text at each measured layer.
    cossim_by_layer : np.ndarray or None
        Position-averaged cosine matrices ``[layer, S, S]`` (diagonal included), as the reference computes them.

    Notes
    -----
    By default the diagonal (each token with itself) is excluded from the histograms: counts cover the
    ``n (n - 1)`` ordered pairs of distinct tokens; ``metadata["include_diagonal"]`` says which.
    """

    histograms: np.ndarray
    stats: pd.DataFrame
    layers: np.ndarray
    token_counts: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    texts: list[str] | None = None
    token_strings: np.ndarray | None = None
    token_means: np.ndarray | None = None
    cossim_by_layer: np.ndarray | None = None

    def __getattr__(self, name: str) -> Any:
        if name in _MOVED:
            raise AttributeError(f"CondensationResult.{name}() was removed in 0.3: use {_MOVED[name]}.")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ----- shape -----------------------------------------------------------------------------------
    @property
    def n_texts(self) -> int:
        """Number of measured texts."""
        return int(self.histograms.shape[0])

    @property
    def n_entries(self) -> int:
        """Hidden-state entries of the model: blocks + 1 (embedding output), + 1 when the logits are measured."""
        return int(self.metadata.get("n_entries", int(self.layers.max()) + 1))

    @property
    def n_layers(self) -> int:
        """Number of transformer blocks of the measured model (GPT-2 small: 12)."""
        default = self.n_entries - 1 - int(bool(self.metadata.get("include_logits_layer")))
        return int(self.metadata.get("n_layers", default))

    @property
    def bins(self) -> int:
        """Histogram bins on [-1, 1]."""
        return int(self.histograms.shape[2])

    @property
    def bin_edges(self) -> np.ndarray:
        """The ``bins + 1`` bin edges on [-1, 1]."""
        return bin_edges(self.bins)

    @property
    def bin_centers(self) -> np.ndarray:
        """The centre of each bin."""
        return bin_centers(self.bins)

    @property
    def layer_fractions(self) -> np.ndarray:
        """``layer / (n_entries - 1)``: 0 = embedding output, 1 = last hidden state (or logits)."""
        return self.layers / max(self.n_entries - 1, 1)

    # ----- choosing layers and texts ----------------------------------------------------------------
    def layer_positions(self, layers: int | Iterable[int] | None = None) -> np.ndarray:
        """Positions in :attr:`layers` of the chosen hidden-state indices (negative count from the end)."""
        chosen = resolve_layers(layers, self.n_entries, measured=self.layers.tolist())
        position = {int(layer): i for i, layer in enumerate(self.layers)}
        return np.array([position[layer] for layer in chosen], dtype=np.int64)

    def sample_indices(self, samples: int | Iterable[int] | None = None) -> np.ndarray:
        """The chosen text indices, sorted and de-duplicated (``None`` = all texts)."""
        n = self.n_texts
        if samples is None:
            return np.arange(n)
        items = [samples] if isinstance(samples, (int, np.integer)) else list(samples)
        chosen = set()
        for sample in items:
            if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < n:
                raise ValueError(f"Unknown sample {sample!r}: samples are text indices 0..{n - 1}.")
            chosen.add(int(sample))
        if not chosen:
            raise ValueError("`samples` is empty: pass None for all texts or a list of text indices.")
        return np.array(sorted(chosen), dtype=np.int64)

    # ----- views -----------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy per-text per-layer statistics, with ``layer_fraction`` (a copy)."""
        frame = self.stats.copy()
        fractions = dict(zip(self.layers.tolist(), self.layer_fractions.tolist()))
        frame.insert(2, "layer_fraction", frame["layer"].map(fractions))
        return frame

    def density(self, samples: int | Iterable[int] | None = None) -> np.ndarray:
        """Pooled probability density ``[layer, bin]`` over the chosen texts (all by default).

        Counts are summed over texts, so each text weighs by its number of pairs; ``density.sum(-1) *
        bin_width == 1`` for every layer.
        """
        counts = self.histograms if samples is None else self.histograms[self.sample_indices(samples)]
        return density_from_counts(counts.sum(axis=0))

    def distribution(self, layers: int | Iterable[int] | None = None,
                     samples: int | Iterable[int] | None = None) -> pd.DataFrame:
        """Pooled density per layer over the chosen texts: one row per (layer, bin).

        Columns: ``layer, layer_fraction, bin, cosine`` (bin centre), ``cosine_low, cosine_high, density``.
        Pooling sums counts, so a text weighs by its number of pairs; each layer's density integrates to 1.
        """
        positions = self.layer_positions(layers)
        counts = self.histograms[self.sample_indices(samples)][:, positions].sum(axis=0)
        bins, edges, n = self.bins, self.bin_edges, len(positions)
        return pd.DataFrame({
            "layer": np.repeat(self.layers[positions], bins),
            "layer_fraction": np.repeat(self.layer_fractions[positions], bins),
            "bin": np.tile(np.arange(bins), n),
            "cosine": np.tile(self.bin_centers, n),
            "cosine_low": np.tile(edges[:-1], n),
            "cosine_high": np.tile(edges[1:], n),
            "density": density_from_counts(counts).reshape(-1),
        })

    def paper_density(self) -> np.ndarray:
        """The paper's heatmap data ``[layer, bin]``: the density of every entry of each position-averaged matrix.

        Needs :attr:`cossim_by_layer` (``measure(..., position_average=True)`` or the drop-in).
        """
        if self.cossim_by_layer is None:
            raise ValueError("This result has no position-averaged matrices: measure with position_average=True "
                             "(or with measure_embedding_condensation) to draw the paper's heatmap.")
        return matrix_density(self.cossim_by_layer, self.bins)

    @property
    def layer_means(self) -> npt.NDArray[np.float64]:
        """Mean cosine per measured layer.

        Pooled over all pairs of all texts (pair-count weighted); for the drop-in's results
        (``metadata["layer_means"] == "position_average"``), the mean of each position-averaged matrix, as the
        reference computes it.
        """
        if self.metadata.get("layer_means") == "position_average" and self.cossim_by_layer is not None:
            averaged: npt.NDArray[np.float64] = self.cossim_by_layer.mean(axis=(1, 2), dtype=np.float64)
            return averaged
        means = self.stats["mean"].to_numpy(dtype=np.float64).reshape(self.n_texts, -1)
        pairs = self.stats["n_pairs"].to_numpy(dtype=np.float64).reshape(self.n_texts, -1)
        pooled: npt.NDArray[np.float64] = (means * pairs).sum(axis=0) / pairs.sum(axis=0)
        return pooled

    @property
    def resamplable(self) -> bool:
        """Whether the layer means are pooled from per-text means, so that intervals over texts exist.

        False for the drop-in's results: the reference's position-averaged matrices keep no per-text share.
        """
        return not (self.metadata.get("layer_means") == "position_average" and self.cossim_by_layer is not None)

    def summary(self) -> pd.DataFrame:
        """One row per layer: pooled mean and std (exact), quartiles (q25, q50, q75) of the pooled histogram."""
        n = self.n_texts
        pairs = self.stats["n_pairs"].to_numpy().reshape(n, -1)
        means = self.stats["mean"].to_numpy().reshape(n, -1)
        squares = (self.stats["std"].to_numpy().reshape(n, -1) ** 2 + means**2) * pairs
        mean = (means * pairs).sum(0) / pairs.sum(0)
        std = np.sqrt(np.clip(squares.sum(0) / pairs.sum(0) - mean**2, 0, None))
        quantiles = histogram_quantiles(self.histograms.sum(axis=0), (0.25, 0.5, 0.75))
        frame = pd.DataFrame({"layer": self.layers, "layer_fraction": self.layer_fractions, "mean": mean,
                              "std": std, "q25": quantiles[:, 0], "q50": quantiles[:, 1], "q75": quantiles[:, 2]})
        if "effective_rank" in self.stats:
            frame["effective_rank"] = self.stats["effective_rank"].to_numpy().reshape(n, -1).mean(0)
        return frame

    def trend(self, last_n: tuple[int, ...] = (1, 2, 3, 4, 5), *, ci: float | None = None, n_boot: int = 1000,
              seed: int | np.random.Generator | None = 0, method: str = "percentile") -> TrendStatistics:
        """Spearman rho / Kendall tau of layer means vs depth, last-N and last-half means (the paper's tables).

        Parameters
        ----------
        last_n
            The last-N means to report.
        ci
            With a coverage such as ``0.95``, every statistic and every layer mean gets an interval from a
            bootstrap over the texts (``intervals``, ``layer_mean_intervals``): the texts are drawn ``n_boot``
            times with replacement and each statistic is recomputed from the stored per-text means and pair counts
            exactly as here. No model runs. ``None`` (the default) computes no interval.
        n_boot, seed
            Resamples and the seed that draws them (the same seed gives the same intervals).
        method
            ``"percentile"`` (default) or ``"bca"``; see :func:`nb_condense.core.bootstrap.interval` for why
            percentile is the default.
        """
        trend = trend_statistics(self.layer_means, last_n)
        if ci is None:
            return trend
        if not self.resamplable:
            raise ValueError("This result's layer means are the reference's position averages (the drop-in), which "
                             "keep no per-text share: intervals over texts need pair-pooled means. Measure with "
                             "nbc.measure(...) to get intervals.")
        means, pairs = self._per_text("mean"), self._per_text("n_pairs")
        intervals, layers = trend_intervals(means, pairs, ci=ci, n_boot=n_boot, seed=seed, method=method,
                                            last_n=last_n)
        return dataclasses.replace(trend, intervals=intervals, layer_mean_intervals=layers, ci=float(ci),
                                   n_boot=int(n_boot), method=method, n_texts=self.n_texts)

    def _per_text(self, column: str) -> np.ndarray:
        """A statistics column as ``[n_texts, n_layers]``."""
        return self.stats[column].to_numpy().reshape(self.n_texts, -1)

    def trend_row(self, model: str | None = None, *, ci: float | None = None, n_boot: int = 1000,
                  seed: int | np.random.Generator | None = 0, method: str = "percentile") -> dict[str, Any]:
        """One table row: model, n_parameters, n_layers, rho/tau (p-values), last-N/half/layer means.

        With ``ci`` (see :meth:`trend`), each statistic is followed by ``<name>_low`` and ``<name>_high``.
        """
        trend = self.trend(ci=ci, n_boot=n_boot, seed=seed, method=method)
        return {"model": model or str(self.metadata.get("model_name")),
                "n_parameters": self.metadata.get("n_parameters"), "n_layers": self.n_layers,
                **trend.as_dict(), "last_layer_mean": float(trend.layer_means[-1])}

    def samples(self, n_words: int = 8) -> pd.DataFrame:
        """One row per text: ``sample, first_words, n_tokens, last_layer_mean``."""
        texts = self.texts if self.texts is not None else [""] * self.n_texts
        return pd.DataFrame({
            "sample": np.arange(self.n_texts),
            "first_words": [" ".join(t.split()[:n_words]) for t in texts],
            "n_tokens": self.token_counts,
            "last_layer_mean": self.stats["mean"].to_numpy().reshape(self.n_texts, -1)[:, -1],
        })

    @property
    def has_tokens(self) -> bool:
        """Whether per-token data was kept (needed by :meth:`tokens`)."""
        return self.token_strings is not None and self.token_means is not None

    def tokens(self, sample: int, layer: int) -> pd.DataFrame:
        """Per-token view of one text at one layer: ``position, token, mean_cosine`` (to the other tokens).

        Read from the data kept while measuring: no model and no forward pass.
        """
        if not self.has_tokens:
            raise TokensUnavailableError(
                "This result has no per-token data: it was saved by nb_condense < 0.2 or measured with "
                "keep_texts=False. Measure again (nb_condense >= 0.2, keep_texts=True) to see tokens."
            )
        index = int(self.sample_indices(sample)[0])
        position = int(self.layer_positions(layer)[0])
        start = int(self.token_counts[:index].sum())
        stop = start + int(self.token_counts[index])
        assert self.token_strings is not None and self.token_means is not None
        return pd.DataFrame({"position": np.arange(stop - start), "token": self.token_strings[start:stop].tolist(),
                             "mean_cosine": self.token_means[start:stop, position].astype(np.float64)})

    def __repr__(self) -> str:
        meta = self.metadata
        head = (f"CondensationResult(model={meta.get('model_name')!r}, texts={self.n_texts}, "
                f"layers={len(self.layers)}, bins={self.bins}, include_diagonal={meta.get('include_diagonal')}")
        if len(self.layers) >= 2:
            trend = self.trend()
            head += f", rho={trend.spearman_rho:.3f}, last_layer_mean={trend.layer_means[-1]:.3f}"
        return head + ")"

    # ----- persistence -----------------------------------------------------------------------------
    def arrays(self) -> dict[str, Any]:
        """Everything as named arrays, the JSON header included (what :meth:`save` writes)."""
        arrays: dict[str, Any] = {"histograms": self.histograms, "layers": self.layers,
                                         "token_counts": self.token_counts}
        for column in self.stats.columns:
            arrays[f"stats__{column}"] = self.stats[column].to_numpy()
        optional = {"texts": None if self.texts is None else np.array(self.texts, dtype=np.str_),
                    "token_strings": self.token_strings, "token_means": self.token_means,
                    "cossim_by_layer": self.cossim_by_layer}
        arrays.update({k: v for k, v in optional.items() if v is not None})
        header = {"format": FORMAT, "metadata": self.metadata, "stat_columns": list(self.stats.columns)}
        arrays["header"] = np.array(json.dumps(header))
        return arrays

    def save(self, path: str | Path) -> Path:
        """Write everything to one ``.npz`` file (the suffix is added if missing), atomically; returns the path.

        A failed write (a full disk, say) leaves any previous file at ``path`` intact and no partial file.
        """
        return save_archive(result_path(path), self.arrays())

    @classmethod
    def load(cls, path: str | Path) -> CondensationResult:
        """Read a file written by :meth:`save` (files of nb_condense 0.1 load too, without per-token data).

        Raises :class:`~nb_condense.core.files.FileFormatError` naming the file when it is not a saved result, is
        truncated or damaged, lacks an entry, or was written by a newer version.
        """
        header, data = read_archive(path, expected="result", required=("histograms", "layers", "token_counts"))
        columns = list(header.get("stat_columns", []))
        missing = [c for c in columns if f"stats__{c}" not in data]
        if missing or "metadata" not in header:
            entry = f"stats__{missing[0]}" if missing else "metadata"
            raise FileFormatError(f"{path} is damaged: the entry {entry!r} is missing.")
        return cls(
            histograms=data["histograms"],
            stats=pd.DataFrame({c: data[f"stats__{c}"] for c in columns}),
            layers=data["layers"],
            token_counts=data["token_counts"],
            metadata=header["metadata"],
            texts=data["texts"].tolist() if "texts" in data else None,
            **{k: data.get(k) for k in ("token_strings", "token_means", "cossim_by_layer")},
        )


def result_path(path: str | Path) -> Path:
    """Where :meth:`CondensationResult.save` writes ``path``: the ``.npz`` suffix added when missing."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")
