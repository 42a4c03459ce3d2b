"""The explorer's spec templates: the shipped file is what `charts` makes, and filled specs equal Altair's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nb_condense import charts
from nb_condense.charts import specs
from nb_condense.charts.base import live_title
from nb_condense.charts.templates import render_templates
from nb_condense.core.result import CondensationResult
from nb_condense.explore.session import CondensationSession
from nb_condense.widgets._views import VIEWS, Choice


def synthetic_result(seed: int, n_texts: int = 4, n_entries: int = 5, bins: int = 16) -> CondensationResult:
    """A result made up from random numbers (no model): enough for every view."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 12, size=n_texts)
    histograms = rng.integers(0, 5, size=(n_texts, n_entries, bins))
    stats = pd.DataFrame({"text": np.repeat(np.arange(n_texts), n_entries),
                          "layer": np.tile(np.arange(n_entries), n_texts),
                          "n_tokens": np.repeat(counts + 1, n_entries),
                          "n_pairs": np.repeat((counts + 1) * counts, n_entries),
                          "mean": rng.uniform(-0.2, 0.9, n_texts * n_entries),
                          "std": rng.uniform(0, 0.3, n_texts * n_entries)})
    total = int((counts + 1).sum())
    return CondensationResult(
        histograms=histograms, stats=stats, layers=np.arange(n_entries), token_counts=counts + 1,
        metadata={"model_name": f"model-{seed}", "n_entries": n_entries, "n_layers": n_entries - 1},
        texts=[f"text {i}" for i in range(n_texts)],
        token_strings=np.array([f"tok{i}" for i in range(total)]),
        token_means=rng.uniform(-0.2, 1, size=(total, n_entries)).astype(np.float32),
    )


def test_the_shipped_templates_are_what_charts_make_now():
    assert specs.TEMPLATES.read_text(encoding="utf-8") == render_templates(), (
        "nb_condense/charts/spec_templates.json is stale: run `python -m nb_condense.charts.templates`")


@pytest.mark.parametrize("seed", range(4))
def test_every_views_spec_equals_its_altair_chart(seed):
    rng = np.random.default_rng(seed)
    sessions = {f"m{k}": CondensationSession.from_result(synthetic_result(seed * 10 + k), name=f"m{k}")
                for k in range(2)}
    for view in VIEWS:
        layers = sorted(rng.choice(5, size=int(rng.integers(0, 3)), replace=False).tolist())
        samples = sorted(rng.choice(4, size=int(rng.integers(0, 3)), replace=False).tolist())
        choice = Choice(sessions, "m1", layers, samples, view.value)
        spec, frame = view.spec(choice.without(view.page_fields))
        chart = view.chart(choice.without(view.page_fields))
        assert spec == chart.to_dict(), view.value
        if view.frame is not None:
            pd.testing.assert_frame_equal(view.frame(choice).reset_index(drop=True), frame.reset_index(drop=True))


def test_the_heatmap_template_is_charts_heatmap():
    result = synthetic_result(7)
    frame = specs.heatmap_frame(result.density([1, 2]), result.layer_fractions, result.layers)
    filled = specs.spec("heatmap", frame, title="t", subtitle=specs.caption("pooled"), x_range=specs.x_range(frame))
    chart = live_title(charts.heatmap(result, [1, 2], title=""), "t", specs.caption("pooled"))
    assert filled == chart.to_dict()
