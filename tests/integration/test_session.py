"""CondensationSession and compare(): values checked against the stored histograms, caching, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import nb_condense as nbc
from conftest import numpy_cosines, pooled_layer_means, tiny_model
from nb_condense.core.summaries import TrendStatistics
from nb_condense.explore.session import NotMeasuredError


class CountingModel:
    """Counts forward calls of a model through a forward pre-hook."""

    def __init__(self, model):
        self.calls = 0
        model.register_forward_pre_hook(self._count)

    def _count(self, *_):
        self.calls += 1


@pytest.fixture()
def session(tokenizer, mixed_texts):
    model = tiny_model("gpt2")
    counter = CountingModel(model)
    s = nbc.CondensationSession(model, tokenizer, texts=mixed_texts, max_length=64, batch_size=2, bins=32,
                                name="tiny-gpt2", show_progress=False)
    s.counter = counter
    return s


def test_measures_lazily_once(session):
    assert session.counter.calls == 0 and "not measured" in repr(session)
    session.distribution()
    calls = session.counter.calls
    assert calls == 3  # 5 texts in batches of 2
    session.distribution(layers=[1], samples=[0, 2])
    session.summary(), session.trend(), session.samples(), session.layer_means()
    assert session.counter.calls == calls


def test_distribution_densities_are_count_weighted_averages(session):
    result = session.measure()
    frame = session.distribution(layers=[0, -1], samples=[1, 3])
    assert set(frame["layer"]) == {0, 2} and len(frame) == 2 * 32
    for layer, group in frame.groupby("layer"):
        assert group["density"].sum() * (2 / 32) == pytest.approx(1.0)
        per_text = [result.histograms[t, layer] / (result.histograms[t, layer].sum() * 2 / 32) for t in (1, 3)]
        weights = [result.histograms[t, layer].sum() for t in (1, 3)]
        expected = np.average(per_text, axis=0, weights=weights)
        np.testing.assert_allclose(group.sort_values("bin")["density"], expected)
    np.testing.assert_allclose(frame["cosine"], (frame["cosine_low"] + frame["cosine_high"]) / 2)


def test_samples_and_trend(session, mixed_texts):
    samples = session.samples(n_words=3)
    assert samples["first_words"][1] == "A short sentence"
    assert list(samples["n_tokens"]) == list(session.measured_result().token_counts)
    last = session.measured_result().to_frame().query("layer == 2").sort_values("text")["mean"]
    np.testing.assert_allclose(samples["last_layer_mean"], last)
    row = session.trend_row()
    assert row["model"] == "tiny-gpt2" and row["n_layers"] == 2
    means = pooled_layer_means(numpy_cosines(session.model, session.tokenizer, mixed_texts, 64))  # independent
    assert row["spearman_rho"] == pytest.approx(scipy.stats.spearmanr(np.arange(3), means)[0])
    assert row["last_layer_mean"] == pytest.approx(means[-1], abs=1e-6)
    trend = session.trend()  # the same type as result.trend()
    assert isinstance(trend, TrendStatistics)
    np.testing.assert_allclose(trend.layer_means, means, atol=1e-6)
    assert trend.spearman_rho == pytest.approx(scipy.stats.spearmanr(np.arange(3), means)[0])


def test_result_never_measures_and_names_measure(session):
    with pytest.raises(NotMeasuredError, match=r"Session 'tiny-gpt2' is not measured yet: call session.measure\(\)"):
        _ = session.measured_result()
    assert session.counter.calls == 0
    result = session.measure()
    assert session.counter.calls == 3 and session.measured_result() is result and session.measure() is result
    assert session.counter.calls == 3


def test_tokens_mean_cosine_to_the_others(session, tokenizer, mixed_texts):
    session.measure()
    calls = session.counter.calls
    frame = session.tokens(1, 2)
    assert session.counter.calls == calls  # read from the measurement: no forward pass
    ids = tokenizer(mixed_texts[1], truncation=True, max_length=64)["input_ids"]
    assert list(frame["token"]) == tokenizer.convert_ids_to_tokens(ids)
    # independent: an explicit unbatched forward pass and numpy cosines, mean over j != i
    cos = numpy_cosines(session.model, tokenizer, [mixed_texts[1]], 64)[0][2]
    n = len(ids)
    expected = (cos.sum(1) - np.diag(cos)) / (n - 1)
    np.testing.assert_allclose(frame["mean_cosine"], expected, atol=1e-5)
    assert list(frame["position"]) == list(range(n))


def test_add_texts_measures_only_the_new_ones(session):
    session.distribution()
    before = session.counter.calls
    old = session.measured_result().histograms.copy()
    new = session.add_texts(["Another text to add, with several words.", "And one more of them."])
    assert new == [5, 6] and session.counter.calls == before + 1
    assert session.measured_result().n_texts == 7 and np.array_equal(session.measured_result().histograms[:5], old)
    assert session.samples()["sample"].tolist() == list(range(7))
    assert (session.measured_result().stats["text"].value_counts() == 3).all()


def test_from_result_and_file(session, tmp_path):
    path = session.measure().save(tmp_path / "s.npz")
    restored = nbc.CondensationSession.from_file(path)
    pd.testing.assert_frame_equal(restored.distribution(samples=[0, 4]), session.distribution(samples=[0, 4]))
    pd.testing.assert_frame_equal(restored.tokens(3, -1), session.tokens(3, -1))  # no model needed
    with pytest.raises(ValueError, match="no model"):
        restored.add_texts(["one more text to measure"])


def test_compare_is_the_family_table(session, tokenizer, mixed_texts):
    other = nbc.CondensationSession(tiny_model("bert"), tokenizer, texts=mixed_texts, max_length=64, bins=32,
                                    name="tiny-bert", show_progress=False)
    table = nbc.compare([session, other])
    assert list(table["model"]) == ["tiny-gpt2", "tiny-bert"]
    for row, s in zip(table.itertuples(), (session, other)):
        means = pooled_layer_means(numpy_cosines(s.model, s.tokenizer, mixed_texts, 64))  # independent
        assert row.spearman_rho == pytest.approx(scipy.stats.spearmanr(np.arange(3), means)[0])
        assert row.kendall_tau == pytest.approx(scipy.stats.kendalltau(np.arange(3), means)[0])
        assert row.last_half_mean == pytest.approx(means[-1:].mean(), abs=1e-6)  # max(1, 3 // 2) = 1
        assert row.n_layers == 2
        assert row.n_parameters == sum(p.numel() for p in s.model.parameters())


# ----- bad input ---------------------------------------------------------------------------------

def test_unknown_layer_and_sample(session):
    with pytest.raises(ValueError, match=r"Layer 9 was not measured; measured layers: \[0, 1, 2\]"):
        session.distribution(layers=[9])
    with pytest.raises(ValueError, match=r"Unknown sample 5: samples are text indices 0\.\.4"):
        session.distribution(samples=[5])
    with pytest.raises(ValueError, match="Unknown sample"):
        session.tokens(-1, 0)


def test_comparing_different_settings(session, tokenizer, mixed_texts):
    other = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=64, bins=64,
                                    show_progress=False)
    with pytest.raises(ValueError, match="bins=32 vs 64"):
        nbc.compare([session, other])
    diag = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=64, bins=32,
                                   include_diagonal=True, show_progress=False)
    with pytest.raises(ValueError, match="include_diagonal=False vs True"):
        nbc.compare([session, diag])
    with pytest.raises(ValueError, match="at least one session"):
        nbc.compare([])


def test_empty_session(tokenizer):
    empty = nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=[], max_length=32, show_progress=False)
    with pytest.raises(ValueError, match=r"no texts yet: add some with session.add_texts"):
        empty.distribution()
    assert empty.add_texts(["now there is a text"]) == [0]
    assert empty.measured_result().n_texts == 1


def test_files_of_version_0_1_load_and_say_why_tokens_are_missing(session, tmp_path):
    import json

    arrays = session.measure().arrays()
    for name in ("token_strings", "token_means"):
        arrays.pop(name)
    header = json.loads(str(arrays["header"]))
    header["format"] = "nb_condense.CondensationResult/1"
    arrays["header"] = np.array(json.dumps(header))
    np.savez_compressed(tmp_path / "old.npz", **arrays)  # what nb_condense 0.1 wrote
    old = nbc.CondensationSession.from_file(tmp_path / "old.npz")
    pd.testing.assert_frame_equal(old.distribution(), session.distribution())
    assert not old.measured_result().has_tokens
    with pytest.raises(ValueError, match=r"no per-token data: it was saved by nb_condense < 0.2"):
        old.tokens(0, -1)


def test_each_measurement_bar_is_labelled_with_its_model(tokenizer, mixed_texts, monkeypatch):
    """Several measurements in one cell: each progress bar says which model it measures (not "condensation")."""
    from nb_condense.measurement import run

    descriptions = []
    real = run.tqdm

    def recording(*args, **kwargs):
        descriptions.append(kwargs.get("desc"))
        return real(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(run, "tqdm", recording)
    for name in ("small model", "a model with a very long name that would not fit on one progress bar line"):
        nbc.CondensationSession(tiny_model("gpt2"), tokenizer, texts=mixed_texts[:2], max_length=32, name=name,
                                show_progress=False).measure()
    assert descriptions[0] == "condensation · small model"
    assert descriptions[1].startswith("condensation · a model with") and descriptions[1].endswith("…")
    assert len(descriptions[1]) == len("condensation · ") + 40


def test_from_result_goes_through_init_so_an_attribute_is_declared_once(session):
    """A subclass that adds an attribute in ``__init__`` has it on a session made from a result, too."""

    class Tagged(nbc.CondensationSession):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.tag = "made by __init__"

    result = session.measure()
    made = Tagged.from_result(result, name="saved")
    assert made.tag == "made by __init__" and made.name == "saved" and made.model is None
    assert made.measured_result() is result and made.texts == result.texts
    assert made.settings == session.settings.replace(layers=tuple(int(k) for k in result.layers), batch_size=None)
    pd.testing.assert_frame_equal(made.distribution(), session.distribution())


def test_result_is_a_deprecated_name_of_measured_result(session):
    result = session.measure()
    with pytest.warns(DeprecationWarning, match=r"session.measured_result\(\)"):
        assert session.result is result is session.measured_result()
