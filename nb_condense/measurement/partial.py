"""A measurement in progress: per-text arrays filled as texts are measured, saved to resume, merged across processes.

A checkpoint file holds the arrays measured so far, which texts are done, and a fingerprint of the texts,
settings and model; resuming with anything different is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import read_archive, save_archive

__all__ = ["PartialMeasurement", "check_identity", "identity", "merge_position_states"]


FORMAT = "nb_condense.PartialMeasurement/2"


def identity(texts: Sequence[str], settings: object, model: dict[str, Any]) -> dict[str, Any]:
    """What makes two runs the same measurement: the texts, the settings and the model (weights included)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return {"texts": digest.hexdigest(), "n_texts": len(texts), "settings": repr(settings), "model": model}


def check_identity(path: Path, saved: dict[str, Any], current: dict[str, Any],
                   describe: Callable[[dict[str, object]], str]) -> None:
    """Refuse to resume a checkpoint of another measurement, saying what differs and what to do."""
    fix = f"Delete {path} or choose another checkpoint path."
    if saved.get("model") != current["model"]:
        raise ValueError(f"The checkpoint {path} was written for another model: {describe(saved['model'])}; this "
                         f"run measures {describe(current['model'])}. Resuming would mix two models. {fix}")
    if saved.get("texts") != current["texts"]:
        raise ValueError(f"The checkpoint {path} belongs to another measurement: other texts ({saved.get('n_texts')} "
                         f"then, {current['n_texts']} now). {fix}")
    if saved.get("settings") != current["settings"]:
        raise ValueError(f"The checkpoint {path} belongs to another measurement: other settings "
                         f"({saved.get('settings')} then, {current['settings']} now). {fix}")


class PartialMeasurement:
    """Per-text arrays of a measurement, filled as texts are measured.

    ``histograms [text, layer, bin]``, stat ``columns [text, layer]``, ``token_means [token, layer]`` (texts one
    after another) and ``done [text]``.
    """

    def __init__(self, token_counts: np.ndarray, layer_indices: Sequence[int], n_entries: int, bins: int,
                 column_names: Sequence[str]) -> None:
        n_texts, n_layers = len(token_counts), len(layer_indices)
        self.layer_indices, self.n_entries = [int(k) for k in layer_indices], int(n_entries)
        self.offsets = np.concatenate([[0], np.cumsum(token_counts)]).astype(np.int64)
        self.histograms = np.zeros((n_texts, n_layers, bins), dtype=np.int64)
        self.columns = {name: np.zeros((n_texts, n_layers), dtype=np.float64) for name in column_names}
        self.token_means = np.zeros((int(self.offsets[-1]), n_layers), dtype=np.float32)
        self.done = np.zeros(n_texts, dtype=bool)
        self.position: tuple[np.ndarray, np.ndarray] | None = None
        """The position average's state (sum ``[layer, S, S]``, lengths) when it is measured."""

    def record(self, text: int, counts: np.ndarray, columns: dict[str, np.ndarray],
               token_means: np.ndarray) -> None:
        """Store one text: ``counts [layer, bin]``, each column ``[layer]``, ``token_means [layer, token]``."""
        self.histograms[text] = counts
        for name, values in columns.items():
            self.columns[name][text] = values
        self.token_means[self.offsets[text] : self.offsets[text + 1]] = token_means.T
        self.done[text] = True

    # ----- checkpoints -----------------------------------------------------------------------------
    def save(self, path: Path, key: dict[str, Any]) -> None:
        """Write atomically (a crash or a full disk while saving leaves the previous checkpoint intact)."""
        header = {"format": FORMAT, "identity": key, "layer_indices": self.layer_indices,
                  "n_entries": self.n_entries, "columns": list(self.columns)}
        arrays: dict[str, Any] = {"header": np.array(json.dumps(header)), "histograms": self.histograms,
                                  "done": self.done, "offsets": self.offsets, "token_means": self.token_means,
                                  **{f"column__{k}": v for k, v in self.columns.items()}}
        if self.position is not None:
            arrays["position_total"], arrays["position_lengths"] = self.position
        save_archive(path, arrays, compressed=False)

    @classmethod
    def load(cls, path: Path, key: dict[str, Any],
             describe: Callable[[dict[str, object]], str] = repr) -> PartialMeasurement:
        """Read a checkpoint written by :meth:`save` for the measurement identified by ``key``.

        Refuses (ValueError) a checkpoint of other texts, settings or model, naming both models; raises
        :class:`~nb_condense.core.files.FileFormatError` for a file that is not a checkpoint or is damaged.
        """
        header, data = read_archive(path, expected="checkpoint", readable=(2,),
                                    required=("histograms", "done", "offsets", "token_means"))
        check_identity(path, header["identity"], key, describe)
        partial = cls.__new__(cls)
        partial.layer_indices, partial.n_entries = header["layer_indices"], header["n_entries"]
        partial.histograms, partial.done = data["histograms"], data["done"]
        partial.offsets, partial.token_means = data["offsets"], data["token_means"]
        partial.columns = {k: data[f"column__{k}"] for k in header["columns"]}
        has_position = "position_total" in data
        partial.position = (data["position_total"], data["position_lengths"]) if has_position else None
        return partial

    # ----- several processes -----------------------------------------------------------------------
    def shard(self) -> dict[str, Any]:
        """The texts this process measured, as plain arrays (what :meth:`merge` takes from every process)."""
        index = np.flatnonzero(self.done)
        tokens = np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in index]) if index.size \
            else np.zeros(0, dtype=np.int64)
        return {"layer_indices": self.layer_indices, "n_entries": self.n_entries, "index": index,
                "histograms": self.histograms[index], "columns": {k: v[index] for k, v in self.columns.items()},
                "tokens": tokens, "token_means": self.token_means[tokens], "position": self.position}

    @classmethod
    def merge(cls, shards: Sequence[dict[str, Any] | None], token_counts: np.ndarray) -> PartialMeasurement:
        """One measurement from every process's :meth:`shard` (identical to a one-process run)."""
        present = [s for s in shards if s is not None]
        first = present[0]
        merged = cls(token_counts, first["layer_indices"], first["n_entries"], first["histograms"].shape[-1],
                     list(first["columns"]))
        for shard in present:
            merged.histograms[shard["index"]] = shard["histograms"]
            for name, values in shard["columns"].items():
                merged.columns[name][shard["index"]] = values
            merged.token_means[shard["tokens"]] = shard["token_means"]
            merged.done[shard["index"]] = True
        merged.position = merge_position_states([s["position"] for s in present if s["position"] is not None])
        return merged


def merge_position_states(states: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray] | None:
    """One position-average state from several (sums padded to the longest ``S`` and added; lengths joined)."""
    if not states:
        return None
    size = max(total.shape[-1] for total, _ in states)
    merged = np.zeros((states[0][0].shape[0], size, size), dtype=np.float64)
    for total, _ in states:
        n = total.shape[-1]
        merged[:, :n, :n] += total
    return merged, np.concatenate([lengths for _, lengths in states])
