"""One settings object: every MeasureSettings / TextSource field reaches every entry point that measures."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import nb_condense as nbc
from conftest import tiny_model
from nb_condense import cli, compat
from nb_condense.measurement import corpus, engine
from nb_condense.measurement.settings import MeasureSettings, TextSource, split_options
from nb_condense.training import trainer

# A valid non-default value for every field; a new field without one here fails test_every_field_has_a_probe.
SETTING_PROBES = {
    "max_length": (77, ["--max-length", "77"]),
    "batch_size": (3, ["--batch-size", "3"]),
    "bins": (17, ["--bins", "17"]),
    "include_diagonal": (True, ["--include-diagonal"]),
    "layers": ((0, -1), ["--layers", "0,-1"]),
    "include_logits_layer": (True, ["--include-logits-layer"]),
    "effective_rank": (True, ["--effective-rank"]),
    "position_average": (True, ["--position-average"]),
}
SAMPLED = dict(dataset="builtin", n_texts=3, min_word_count=30, max_word_count=40, seed=5, construction="reference",
               word_counter="regex")
SOURCE_FLAGS = ["--dataset", "builtin", "--n-texts", "3", "--min-word-count", "30", "--max-word-count", "40",
                "--seed", "5", "--construction", "reference", "--word-counter", "regex"]


class Reached(Exception):
    """Raised by the spy instead of measuring: carries what the engine was asked to do."""

    def __init__(self, texts, settings):
        super().__init__("reached the engine")
        self.texts, self.settings = list(texts), settings


def spy(*args, **kwargs):
    texts, settings = args[2], args[3] if len(args) > 3 else kwargs.get("settings")
    raise Reached(texts, settings)


@pytest.fixture()
def caught(monkeypatch):
    for module in (engine, compat, trainer):
        monkeypatch.setattr(module, "measure_texts", spy)


def expected_texts():
    return corpus.sample_texts("builtin", 3, min_word_count=30, max_word_count=40, seed=5, construction="reference",
                               word_counter="regex")


def test_every_field_has_a_probe():
    assert [f.name for f in dataclasses.fields(MeasureSettings)] == list(SETTING_PROBES)
    assert {f.name for f in dataclasses.fields(TextSource)} == {"texts", *SAMPLED}


@pytest.mark.parametrize("field", list(SETTING_PROBES))
def test_each_setting_reaches_measure_session_callback_and_cli(caught, tokenizer, field):
    value, flags = SETTING_PROBES[field]
    model = tiny_model("gpt2")
    runs = {
        "measure": lambda: nbc.measure(model, tokenizer, **SAMPLED, **{field: value}),
        "session": lambda: nbc.CondensationSession(model, tokenizer, **SAMPLED, **{field: value}).measure(),
        "callback": lambda: nbc.CondensationCallback(["some text here"], tokenizer, **{field: value})._measure(
            0, model, type("State", (), {"is_world_process_zero": True, "log_history": []})()),
        "cli": lambda: cli.main(["measure", "random:gpt2", "--tokenizer", "embedded", *SOURCE_FLAGS, *flags]),
    }
    for where, run in runs.items():
        with pytest.raises(Reached) as reached:
            run()
        got = getattr(reached.value.settings, field)
        assert got == value, (where, got)
        if where != "callback":
            assert reached.value.texts == expected_texts(), where


@pytest.mark.parametrize("field", list(SETTING_PROBES))
def test_each_setting_reaches_the_drop_in_or_is_fixed_by_it(caught, tokenizer, field):
    value, _ = SETTING_PROBES[field]
    model = tiny_model("gpt2")
    call = dict(dataset="builtin", repetitions=3, min_word_count=30, max_word_count=40, plot=False, **{field: value})
    if field in compat.FIXED and value != compat.FIXED[field]:
        with pytest.raises(ValueError, match=f"with {field}="):
            compat.measure_embedding_condensation(model, tokenizer, **call)
        return
    with pytest.raises(Reached) as reached:
        compat.measure_embedding_condensation(model, tokenizer, **call)
    assert getattr(reached.value.settings, field) == value
    assert reached.value.settings.include_diagonal is True  # the reference's definition
    assert reached.value.texts == corpus.sample_texts("builtin", 3, min_word_count=30, max_word_count=40, seed=0)


def test_given_texts_reach_every_entry_point(caught, tokenizer, tmp_path):
    texts = ["first text of the probe", "second one, a little longer than the first"]
    model = tiny_model("gpt2")
    (tmp_path / "texts.txt").write_text("\n".join(texts))
    runs = [
        lambda: nbc.measure(model, tokenizer, texts=texts),
        lambda: nbc.CondensationSession(model, tokenizer, texts=texts).measure(),
        lambda: compat.measure_embedding_condensation(model, tokenizer, texts=texts, repetitions=2, plot=False),
        lambda: cli.main(["measure", "random:gpt2", "--tokenizer", "embedded", "--texts-file",
                          str(tmp_path / "texts.txt")]),
    ]
    for run in runs:
        with pytest.raises(Reached) as reached:
            run()
        assert reached.value.texts == texts


def test_signatures_show_every_field_with_its_default():
    for entry, defaults in ((nbc.measure, {}), (nbc.CondensationSession, {}),
                            (nbc.CondensationCallback, trainer.CALLBACK_DEFAULTS)):
        parameters = inspect.signature(entry).parameters
        for item in dataclasses.fields(MeasureSettings):
            assert parameters[item.name].default == defaults.get(item.name, item.default), (entry, item.name)
    for name in ("texts", *SAMPLED):
        assert name in inspect.signature(nbc.measure).parameters


def test_unknown_settings_get_a_hint(tokenizer):
    with pytest.raises(TypeError, match=r"measure\(\) got an unexpected keyword argument 'bin'; did you mean 'bins'\?"):
        nbc.measure(tiny_model("gpt2"), tokenizer, texts=["a b"], bin=3)
    with pytest.raises(TypeError, match="CondensationSession"):
        nbc.CondensationSession(texts=["a b"], max_lenght=4)
    with pytest.raises(TypeError, match="'dataset'"):
        split_options({"dataset": "builtin"}, where="CondensationCallback()", allowed=("bins",))


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(max_length=1), "max_length must be >= 2"),
    (dict(bins=0), "bins must be a positive integer"),
    (dict(batch_size="big"), "batch_size must be a positive integer"),
    (dict(layers=[]), "`layers` is empty"),
    (dict(layers=["1"]), "Layer indices must be integers"),
    (dict(include_diagonal="yes"), "include_diagonal must be True or False"),
])
def test_settings_are_validated_once_for_everyone(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        MeasureSettings(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(n_texts=0), "n_texts must be a positive integer"),
    (dict(min_word_count=50, max_word_count=10), r"max_word_count \(10\) must be >= min_word_count \(50\)"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(texts="one string"), "not one string"),
    (dict(construction="tidy"), "construction must be one of 'reference', 'clean'"),
    (dict(word_counter="spacy"), "word_counter must be one of 'nltk', 'regex'"),
])
def test_text_sources_are_validated(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        TextSource(**kwargs)
