"""The result of a measurement: per-text histograms, a tidy statistics frame, trends, metadata.

Saved as one ``.npz`` file (arrays + a JSON metadata entry); ``CondensationResult.load`` restores
it exactly, without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .metrics import (
    QUANTILES,
    TrendStatistics,
    bin_edges,
    density_from_counts,
    histogram_quantiles,
    trend_statistics,
)

__all__ = ["CondensationResult", "STAT_COLUMNS"]

STAT_COLUMNS = ["mean", "std", *[f"q{round(q * 100):02d}" for q in QUANTILES]]
"""Per-text per-layer statistics in :meth:`CondensationResult.to_frame` (q50 is the median)."""
_FORMAT = "nb_condense.CondensationResult/1"


@dataclass
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
        Hidden-state index of each histogram layer (0 = embedding output; the logits "layer", when
        included, has index ``n_hidden_states``).
    token_counts : np.ndarray
        Tokens of each text after truncation.
    metadata : dict
        Model name, parameter count, n_layers, max_length, corpus, seed, bins, versions, ...
    texts : list of str or None
        The measured texts (kept unless ``keep_texts=False``).
    cossim_by_layer : np.ndarray or None
        Only from :func:`measure_embedding_condensation`: the reference's position-averaged cosine
        matrices ``[layer, S, S]`` (diagonal included).

    Notes
    -----
    By default the diagonal (each token with itself) is excluded: counts cover the ``n (n - 1)``
    ordered pairs of distinct tokens; ``metadata["include_diagonal"]`` says which.
    """

    histograms: np.ndarray
    stats: pd.DataFrame
    layers: np.ndarray
    token_counts: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    texts: list[str] | None = None
    cossim_by_layer: np.ndarray | None = None
    chart: Any = field(default=None, repr=False, compare=False)

    # ----- shape -----------------------------------------------------------------------------------
    @property
    def n_texts(self) -> int:
        return int(self.histograms.shape[0])

    @property
    def n_layers(self) -> int:
        """Number of measured layers (columns of the heatmap)."""
        return int(self.histograms.shape[1])

    @property
    def bins(self) -> int:
        return int(self.histograms.shape[2])

    @property
    def bin_edges(self) -> np.ndarray:
        return bin_edges(self.bins)

    @property
    def bin_centers(self) -> np.ndarray:
        edges = self.bin_edges
        return (edges[:-1] + edges[1:]) / 2

    @property
    def layer_fractions(self) -> np.ndarray:
        """``layer / (n_entries - 1)``: 0 = embedding output, 1 = last hidden state (or logits)."""
        total = int(self.metadata.get("n_entries", int(self.layers.max()) + 1))
        return self.layers / max(total - 1, 1)

    # ----- views -----------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy per-text per-layer statistics, with ``layer_fraction`` (a copy)."""
        frame = self.stats.copy()
        fractions = dict(zip(self.layers.tolist(), self.layer_fractions.tolist()))
        frame.insert(2, "layer_fraction", frame["layer"].map(fractions))
        return frame

    def density(self, samples: list[int] | None = None) -> np.ndarray:
        """Pooled probability density ``[layer, bin]`` over the chosen texts (all by default).

        Counts are summed over texts, so each text weighs by its number of pairs; ``density.sum(-1) *
        bin_width == 1`` for every layer.
        """
        counts = self.histograms if samples is None else self.histograms[np.asarray(samples, dtype=int)]
        return density_from_counts(counts.sum(axis=0))

    def heatmap(self, *, title: str | None = None, clip: float = 10.0) -> Any:
        """The paper's heatmap of the pooled densities (an Altair chart; see :mod:`nb_condense.charts`)."""
        from .charts import heatmap_chart

        return heatmap_chart(self.density(), self.layer_fractions, layers=self.layers, clip=clip, title=title)

    @property
    def layer_means(self) -> np.ndarray:
        """Mean cosine per layer over all pairs of all texts (pair-count weighted)."""
        table = self.stats.pivot(index="text", columns="layer", values="mean").to_numpy()
        pairs = self.stats.pivot(index="text", columns="layer", values="n_pairs").to_numpy()
        return (table * pairs).sum(axis=0) / pairs.sum(axis=0)

    def summary(self) -> pd.DataFrame:
        """One row per layer: pooled mean and std (exact), quartiles (q25, q50, q75) of the pooled histogram."""
        grouped = self.stats.assign(
            sum=self.stats["mean"] * self.stats["n_pairs"],
            sumsq=(self.stats["std"] ** 2 + self.stats["mean"] ** 2) * self.stats["n_pairs"],
        ).groupby("layer", sort=True)[["sum", "sumsq", "n_pairs"]].sum()
        mean = grouped["sum"] / grouped["n_pairs"]
        std = np.sqrt(np.clip(grouped["sumsq"] / grouped["n_pairs"] - mean**2, 0, None))
        pooled = torch.from_numpy(self.histograms.sum(axis=0))
        quantiles = histogram_quantiles(pooled, (0.25, 0.5, 0.75)).numpy()
        frame = pd.DataFrame(
            {
                "layer": self.layers,
                "layer_fraction": self.layer_fractions,
                "mean": mean.to_numpy(),
                "std": std.to_numpy(),
                "q25": quantiles[:, 0],
                "q50": quantiles[:, 1],
                "q75": quantiles[:, 2],
            }
        )
        if "effective_rank" in self.stats:
            frame["effective_rank"] = self.stats.groupby("layer", sort=True)["effective_rank"].mean().to_numpy()
        return frame

    def trend(self, last_n: tuple[int, ...] = (1, 2, 3, 4, 5)) -> TrendStatistics:
        """Spearman rho / Kendall tau of layer means vs depth, last-N and last-half means."""
        return trend_statistics(self.layer_means, last_n)

    def __repr__(self) -> str:
        meta = self.metadata
        trend = self.trend() if self.n_layers >= 2 else None
        head = (
            f"CondensationResult(model={meta.get('model_name')!r}, texts={self.n_texts}, "
            f"layers={self.n_layers}, bins={self.bins}, include_diagonal={meta.get('include_diagonal')}"
        )
        if trend is not None:
            head += f", rho={trend.spearman_rho:.3f}, last_layer_mean={trend.layer_means[-1]:.3f}"
        return head + ")"

    # ----- persistence -----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write everything to one ``.npz`` file (the suffix is added if missing); returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "histograms": self.histograms,
            "layers": self.layers,
            "token_counts": self.token_counts,
        }
        for column in self.stats.columns:
            arrays[f"stats__{column}"] = self.stats[column].to_numpy()
        if self.texts is not None:
            arrays["texts"] = np.array(self.texts, dtype=np.str_)
        if self.cossim_by_layer is not None:
            arrays["cossim_by_layer"] = self.cossim_by_layer
        header = {"format": _FORMAT, "metadata": self.metadata, "stat_columns": list(self.stats.columns)}
        arrays["header"] = np.array(json.dumps(header))
        np.savez_compressed(path, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> CondensationResult:
        """Read a file written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            if "header" not in data:
                raise ValueError(f"{path} is not a saved CondensationResult (no header entry).")
            header = json.loads(str(data["header"]))
            if header.get("format") != _FORMAT:
                raise ValueError(f"{path} has format {header.get('format')!r}; expected {_FORMAT!r}.")
            stats = pd.DataFrame({c: data[f"stats__{c}"] for c in header["stat_columns"]})
            return cls(
                histograms=data["histograms"],
                stats=stats,
                layers=data["layers"],
                token_counts=data["token_counts"],
                metadata=header["metadata"],
                texts=data["texts"].tolist() if "texts" in data else None,
                cossim_by_layer=data["cossim_by_layer"] if "cossim_by_layer" in data else None,
            )
