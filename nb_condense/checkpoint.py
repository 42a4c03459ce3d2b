"""Partial measurements on disk, so a long run can resume after an interruption.

A checkpoint holds the per-text histograms and statistics measured so far, which texts are done, and a
fingerprint of the texts, settings and model; resuming with anything different is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PartialMeasurement", "fingerprint"]


def fingerprint(texts: Sequence[str], settings: Any, model_name: str, n_parameters: int) -> str:
    """A hash of what makes two runs the same measurement."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    digest.update(repr((settings, model_name, n_parameters)).encode("utf-8"))
    return digest.hexdigest()


class PartialMeasurement:
    """Per-text arrays filled as texts are measured: ``histograms [text, layer, bin]``, stat columns, ``done``."""

    def __init__(self, n_texts: int, layer_indices: list[int], n_available: int, bins: int,
                 column_names: Sequence[str]) -> None:
        shape = (n_texts, len(layer_indices))
        self.layer_indices, self.n_available = list(layer_indices), n_available
        self.histograms = np.zeros((*shape, bins), dtype=np.int64)
        self.columns = {name: np.zeros(shape, dtype=np.float64) for name in column_names}
        self.done = np.zeros(n_texts, dtype=bool)

    def save(self, path: Path, key: str) -> None:
        """Write atomically (a crash while saving leaves the previous checkpoint intact)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"fingerprint": key, "layer_indices": self.layer_indices, "n_available": self.n_available,
                  "columns": list(self.columns)}
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:
            np.savez(handle, header=np.array(json.dumps(header)), histograms=self.histograms, done=self.done,
                     **{f"column__{k}": v for k, v in self.columns.items()})
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, key: str) -> PartialMeasurement:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header["fingerprint"] != key:
                raise ValueError(
                    f"The checkpoint {path} belongs to another measurement (different texts, settings or model). "
                    "Delete it or pass another checkpoint path."
                )
            partial = cls.__new__(cls)
            partial.layer_indices, partial.n_available = header["layer_indices"], header["n_available"]
            partial.histograms, partial.done = data["histograms"].copy(), data["done"].copy()
            partial.columns = {k: data[f"column__{k}"].copy() for k in header["columns"]}
            return partial
