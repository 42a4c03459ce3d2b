"""Notebooks the end-to-end tests serve: an explorer over a tiny random model's session.

Every change of the explorer's traits is written to ``state.json`` beside the notebook, so a test can
assert on the Python side of the widget while it drives the browser.
"""

from __future__ import annotations

import json
from pathlib import Path

BUILD = '''\
import json, pathlib
import nb_condense as nbc
from transformers import AutoConfig
from nb_condense.measurement.models import load_tokenizer, random_model

config = AutoConfig.for_model("gpt2", n_layer={n_layer}, n_embd=32, n_head=2, n_positions=128, vocab_size=30522,
                              bos_token_id=0, eos_token_id=0)
texts = nbc.sample_texts("builtin", {n_texts}, min_word_count=20, max_word_count=400, seed=0)
session = nbc.CondensationSession(random_model(config, seed=0), load_tokenizer("embedded"), texts=texts,
                                  max_length={max_length}, name="tiny-gpt2", show_progress=False)
explorer = nbc.CondensationExplorer(session, debounce_wait={debounce})
TRAITS = ["model", "layers", "samples", "view", "status", "error", "_revision", "table"]

def dump(_=None):
    state = {{name: getattr(explorer, name, None) for name in TRAITS}}  # 0.3 had no table
    tmp = pathlib.Path("state.json.tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace("state.json")  # atomic: the test never reads half a file

explorer.observe(dump, names=TRAITS)
dump()
explorer'''


def write_notebook(folder: Path, name: str, cells: list[str]) -> Path:
    """A minimal nbformat-4 notebook with one code cell per source."""
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                   "source": source} for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / name
    path.write_text(json.dumps(notebook, indent=1))
    return path


def explorer_notebook(folder: Path, name: str = "explorer.ipynb", *, n_layer: int = 3, n_texts: int = 6,
                      max_length: int = 64, debounce: int = 30, extra_cells: tuple[str, ...] = ()) -> Path:
    source = BUILD.format(n_layer=n_layer, n_texts=n_texts, max_length=max_length, debounce=debounce)
    return write_notebook(folder, name, [source, *extra_cells])


def read_state(folder: Path) -> dict:
    path = folder / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}
