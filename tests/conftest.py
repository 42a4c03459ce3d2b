"""Shared fixtures: offline hub, tiny random models built from configs, tokenizers that need no network."""

from __future__ import annotations

from typing import Any

import pytest
import torch

VOCAB = 30522  # the embedded MiniLM tokenizer's vocabulary, shared by every tiny model

TINY_CONFIGS = {
    "gpt2": dict(model_type="gpt2", n_layer=2, n_embd=32, n_head=2, n_positions=128, vocab_size=VOCAB),
    "llama": dict(
        model_type="llama", num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=128, vocab_size=VOCAB,
    ),
    "bert": dict(
        model_type="bert", num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=2,
        max_position_embeddings=128, vocab_size=VOCAB,
    ),
    # grouped-query attention (one key/value head) and biased q/k/v projections
    "qwen2": dict(
        model_type="qwen2", num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=128, vocab_size=VOCAB,
    ),
    # embeddings scaled by sqrt(hidden_size), (1 + weight) RMS norms, a sliding-window layer (4 tokens: shorter
    # than the texts, so the window matters) before a global one
    "gemma": dict(
        model_type="gemma3_text", num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, max_position_embeddings=128, vocab_size=VOCAB, sliding_window=4,
        layer_types=["sliding_attention", "full_attention"],
    ),
}
"""Tiny random models (2 blocks, width 32, seed 0) of five architectures, built from configs: no hub."""

DECODERS = ("gpt2", "llama", "qwen2", "gemma")
"""The tiny configs that are causal language models (``lm_head=True`` gives logits)."""


def architectures(*fast: str, kinds: tuple[str, ...] = tuple(TINY_CONFIGS)) -> pytest.MarkDecorator:
    """Parametrise a test's ``kind`` over tiny configs; those not in ``fast`` are marked ``slow``.

    The edit loop runs the ``fast`` ones; the full test command runs every architecture.
    """
    return pytest.mark.parametrize("kind", [kind if kind in fast else pytest.param(kind, marks=pytest.mark.slow)
                                            for kind in kinds])


class Failing(torch.nn.Module):
    """A model whose forward pass raises (a measurement that fails)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.config = None

    def forward(self, **_):
        raise RuntimeError("the GPU caught fire")


def tiny_model(kind: str, lm_head: bool = False, seed: int = 0) -> torch.nn.Module:
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    values = dict(TINY_CONFIGS[kind])
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    return random_model(config, seed=seed, lm_head=lm_head)


@pytest.fixture(scope="session")
def tokenizer():
    """The embedded MiniLM WordPiece tokenizer (adds [CLS]/[SEP], has a pad token)."""
    from nb_condense.measurement.models import load_tokenizer

    return load_tokenizer("embedded")


@pytest.fixture(scope="session")
def bare_tokenizer():
    """A word-level tokenizer with no special tokens and no pad token (like GPT-2's)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from nb_condense.measurement.corpus import load_rows

    words = sorted({w for row in load_rows("builtin")[:400] for w in row.split()})[: VOCAB - 1]
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(words)}}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")


@pytest.fixture(scope="session")
def mixed_texts():
    """Texts of clearly different token lengths (some longer than max_length=64, some short)."""
    from nb_condense.measurement.corpus import sample_texts

    long = sample_texts("builtin", 3, min_word_count=120, max_word_count=200)
    return [long[0], "A short sentence about cosine similarity.", long[1],
            "Tokens condense with depth in small models.", long[2][:300]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tier where Chromium is missing (a fresh machine), saying how to install it.

    Under CI (``CI=true``) nothing is skipped: a missing Chromium fails the browser tests, loudly.
    """
    import os
    from pathlib import Path

    chromium = Path(os.environ.get("NBC_CHROMIUM", "/usr/bin/chromium"))
    if chromium.exists() or os.environ.get("CI", "").strip().lower() in ("true", "1"):
        return
    skip = pytest.mark.skip(reason=f"No Chromium at {chromium}: `apt-get install chromium fonts-dejavu-core` "
                                   "(or set NBC_CHROMIUM) runs the browser tier")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def numpy_cosines(model, tokenizer, texts, max_length: int) -> list[list]:
    """Independent reference: each text's per-layer cosine matrices, from one unbatched forward pass, in numpy.

    Follows the paper's definition: the tokenizer's full encoding, eval mode, rows divided by max(norm, 1e-3),
    float64 products clipped to [-1, 1]. Returns ``[text][layer] -> (n, n) array``.
    """
    import numpy as np

    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for text in texts:
                inputs = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**inputs, output_hidden_states=True).hidden_states
                layers = []
                for h in hidden:
                    x = h[0].double().numpy()
                    z = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-3)
                    layers.append(np.clip(z @ z.T, -1.0, 1.0))
                out.append(layers)
    finally:
        model.train(was_training)
    return out


def pooled_layer_means(cosines, include_diagonal: bool = False):
    """Mean over every pair of every text, per layer (pairs of distinct tokens unless ``include_diagonal``)."""
    import numpy as np

    means = []
    for layer in range(len(cosines[0])):
        values = [c[layer] if include_diagonal else c[layer][~np.eye(len(c[layer]), dtype=bool)] for c in cosines]
        means.append(np.concatenate([v.ravel() for v in values]).mean())
    return np.array(means)


def position_average(cosines):
    """Independent position average ``[layer, S, S]``: each entry averaged over the texts that have it."""
    import numpy as np

    size = max(len(c[0]) for c in cosines)
    total = np.zeros((len(cosines[0]), size, size))
    count = np.zeros((size, size))
    for layers in cosines:
        n = len(layers[0])
        total[:, :n, :n] += np.stack(layers)
        count[:n, :n] += 1
    return total / count


def spec_rows(spec: dict, name: str | None = None) -> list[dict]:
    """The rows of a Vega-Lite spec's dataset (its top-level ``data``, or ``name``): charts carry JSON strings."""
    import json

    values = spec["datasets"][name or spec["data"]["name"]]
    return json.loads(values) if isinstance(values, str) else values


def bootstrap_oracle(means, pairs, indices, ci: float):
    """Plain-numpy percentile bootstrap over texts, one resample at a time (independent of nb_condense's maths).

    ``means``, ``pairs``: per-text means and pair counts ``[text, layer]``; ``indices``: the resamples' text
    indices ``[n_boot, n_texts]``. Returns ``({statistic: (low, high)}, [layer, 2])``: layer means pooled by pair
    count, Spearman/Kendall from scipy, last-N means and the last half (``max(1, n // 2)`` last layer means).
    """
    import numpy as np
    import scipy.stats

    n_entries = means.shape[1]
    depth = np.arange(n_entries)
    rows, layer_rows = [], []
    for chosen in indices:
        layer_means = np.array([np.sum(means[chosen, k] * pairs[chosen, k]) / np.sum(pairs[chosen, k])
                                for k in range(n_entries)])
        layer_rows.append(layer_means)
        row = {"spearman_rho": scipy.stats.spearmanr(depth, layer_means)[0],
               "kendall_tau": scipy.stats.kendalltau(depth, layer_means)[0],
               "last_half_mean": layer_means[-max(1, n_entries // 2):].mean()}
        row.update({f"last_{k}_mean": layer_means[-k:].mean() for k in range(1, 6) if k <= n_entries})
        rows.append(row)
    tail = 100 * (1 - ci) / 2
    intervals = {name: tuple(np.percentile([r[name] for r in rows], [tail, 100 - tail])) for name in rows[0]}
    return intervals, np.percentile(np.array(layer_rows), [tail, 100 - tail], axis=0).T


def invoke(widget: Any, name: str, msg: Any = None) -> tuple[Any, list[Any]]:
    """Play the front end invoking ``widget``'s command ``name`` (nb_condense.widgets._protocol.COMMANDS) through
    anywidget's own message handler, as ``js/src/command.js`` sends it; return the answer and its buffers."""
    from nb_condense.widgets._protocol import COMMANDS

    sent: list[tuple[Any, Any]] = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))
    request = {"id": "r1", "kind": "anywidget-command", "name": COMMANDS[name], "msg": msg or {}}
    widget._handle_msg({"content": {"data": {"method": "custom", "content": request}}, "buffers": []})
    del widget.send
    answers = [(c, b) for c, b in sent if isinstance(c, dict) and c.get("kind") == "anywidget-command-response"]
    assert len(answers) == 1 and answers[0][0]["id"] == "r1", f"{name} was not answered once: {sent}"
    return answers[0][0]["response"], list(answers[0][1] or [])
