"""The one collapsed cell at the end of every tutorial, out of the student's view.

It hands the run's numbers to the tests and the expected-outputs script; in class it does nothing.

``NB_CONDENSE_RECORD=<file>``: the kernel's plain values (numbers, strings, lists, dicts, tables, trend
statistics), every verdict and every exercise check are written there as JSON. ``NB_CONDENSE_PAGES=<folder>``:
each explorer in the namespace is saved there as an offline page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from ..core.files import write_text
from .checks import CHECKS
from .verdicts import VERDICTS

RECORD_VARIABLE, PAGES_VARIABLE = "NB_CONDENSE_RECORD", "NB_CONDENSE_PAGES"
_SKIP = object()


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data, or the private sentinel ``_SKIP`` when it is not plain data."""
    import numpy as np

    if depth > 6:
        return _SKIP
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return value.item() if hasattr(value, "item") else value
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 100_000 and value.dtype.kind in "biuf" else _SKIP
    if type(value).__name__ == "DataFrame":
        return plain(value.to_dict(orient="records"), depth + 1)
    if type(value).__name__ == "Series":
        return plain({str(k): v for k, v in value.items()}, depth + 1)
    if type(value).__name__ in ("TrendStatistics", "Verdict", "Contrast") or (
            is_dataclass(value) and not isinstance(value, type) and type(value).__name__.endswith("Difference")):
        return plain(asdict(value), depth + 1)
    if isinstance(value, Mapping):
        entries = {str(k): plain(v, depth + 1) for k, v in value.items()}
        return entries if all(v is not _SKIP for v in entries.values()) else _SKIP
    if isinstance(value, (list, tuple)):
        items = [plain(v, depth + 1) for v in value]
        return items if all(v is not _SKIP for v in items) else _SKIP
    return _SKIP


def _explorers(namespace: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in namespace.items()
            if type(value).__name__ == "CondensationExplorer" and not name.startswith("_")}


def record(namespace: Mapping[str, Any]) -> None:
    """Write the run's numbers (and explorer pages) where the environment asks; nothing otherwise.

    Returns nothing, so the cell shows nothing.
    """
    pages = os.environ.get(PAGES_VARIABLE)
    if pages:
        folder = Path(pages)
        folder.mkdir(parents=True, exist_ok=True)
        for name, explorer in _explorers(namespace).items():
            explorer.save_page(folder / f"{name}.html")
    target = os.environ.get(RECORD_VARIABLE)
    if not target:
        return
    values = {name: plain(value) for name, value in namespace.items()
              if not name.startswith("_") and name not in ("In", "Out")}
    data = {"values": {k: v for k, v in values.items() if v is not _SKIP},
            "explorers": {name: {"models": list(e.model_names), "view": e.view, "layers": list(e.layers)}
                          for name, e in _explorers(namespace).items()},
            "verdicts": [plain(asdict(v)) for v in VERDICTS],
            "checks": dict(CHECKS)}
    write_text(target, json.dumps(data, indent=1, allow_nan=True))  # atomic: a reader never sees half a record
