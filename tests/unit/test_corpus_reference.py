"""Reference text construction: the paper's texts, rebuilt by code written here independently.

The re-implementations below follow the paper's description of the reference sampler: start row from
``numpy.random.default_rng(seed).integers(0, int(0.95 * N))``; append rows exactly as they are (no
separator, no stripping); after each row count the words of the *whole* text so far; stop once the count
is ``>= min_word_count`` (or ``> max_word_count``). The counter is injected on both sides.
"""

from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest

from nb_condense.measurement import corpus

# The field each hub corpus reads, from the paper (docs/paper.md section 3).
PAPER_FIELDS = {"wikipedia": "text", "pubmed": "long_answer", "imdb": "text", "squad": "context"}
WORDS = ["the", "river", "well", "known", "U.S.", "@-@", "1", "@,@", "000", "don't", "it's", "(", ")", ",", "."]


def regex_count(text: str) -> int:
    """The regex counter applied to a whole text (written here, not imported)."""
    return len(re.findall(r"\w+(?:[-'’]\w+)*|[^\w\s]", text))


def reference_text(rows, seed, min_words, max_words, count) -> str:
    """The reference sampler, re-implemented: whole-text counts after every appended row."""
    text = ""
    index = int(np.random.default_rng(seed).integers(0, int(len(rows) * 0.95)))
    while count(text) < min_words and index < len(rows):
        text += rows[index]
        index += 1
        if count(text) > max_words:
            break
    return text


def clean_text(rows, seed, min_words, max_words, dedupe=False) -> str:
    """Today's (pre-reference) rule, re-implemented: per-row counts summed, rows stripped, joined by a space."""
    if dedupe:
        rows = [row for i, row in enumerate(rows) if i == 0 or row != rows[i - 1]]
    start = int(np.random.default_rng(seed).integers(0, int(len(rows) * 0.95)))
    taken, words = [], 0
    for row in rows[start:]:
        taken.append(row)
        words += regex_count(row)
        if words >= min_words or words > max_words:
            break
    return " ".join(row.strip() for row in taken if row.strip())


def wikitext_rows(n_rows: int = 400, seed: int = 7) -> list[str]:
    """Rows shaped like wikitext-103: headings, empty rows, paragraphs with a leading space and trailing newline."""
    rng = np.random.default_rng(seed)
    rows: list[str] = []
    for i in range(n_rows):
        kind = i % 7
        if kind == 0:
            rows.append(f" = Heading {i} = \n")
        elif kind in (1, 4):
            rows.append("" if kind == 1 else " \n")
        else:
            n_words = int(rng.integers(3, 60))
            rows.append(" " + " ".join(rng.choice(WORDS, n_words)) + " \n")
    return rows


def fused_rows(n_rows: int = 300, seed: int = 3) -> list[str]:
    """Rows with no surrounding whitespace (pubmed/imdb/squad shape): words fuse across rows when concatenated."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_rows):
        body = " ".join(rng.choice(WORDS, int(rng.integers(1, 30))))
        rows.append(body + ("-" if i % 5 == 0 else "") + ("'" if i % 11 == 0 else ""))
    return rows


LIMITS = [(5, 8), (30, 40), (120, 160), (400, 500)]


@pytest.mark.parametrize(("min_words", "max_words"), LIMITS)
@pytest.mark.parametrize("make_rows", [wikitext_rows, fused_rows])
def test_reference_construction_matches_the_reference_sampler_with_the_regex_counter(make_rows, min_words, max_words):
    rows = make_rows()
    for seed in range(12):
        got = corpus.sample_text(rows, seed, min_words, max_words, construction="reference", word_counter="regex")
        assert got == reference_text(rows, seed, min_words, max_words, regex_count)


def test_reference_construction_differs_from_the_clean_one_on_wikitext_rows():
    # Guards against both options silently building the same text.
    rows = wikitext_rows()
    ref = corpus.sample_text(rows, 0, 120, 160, construction="reference", word_counter="regex")
    clean = corpus.sample_text(rows, 0, 120, 160, construction="clean")
    assert ref != clean and ref.endswith("\n") and ref.startswith(" ")


def _real_nltk_tokenize():
    try:
        from nltk.tokenize import word_tokenize

        word_tokenize("Arbitrary sentence.")
    except (ImportError, LookupError):
        return None
    return word_tokenize


@pytest.mark.skipif(
    _real_nltk_tokenize() is None,
    reason="NLTK or its punkt_tab tokenizer data is not installed here (the tests never download anything)",
)
@pytest.mark.parametrize(("min_words", "max_words"), LIMITS)
@pytest.mark.parametrize("make_rows", [wikitext_rows, fused_rows])
def test_reference_construction_matches_the_reference_sampler_with_nltk(make_rows, min_words, max_words):
    tokenize = _real_nltk_tokenize()
    rows = make_rows()
    for seed in range(6):
        got = corpus.sample_text(rows, seed, min_words, max_words, construction="reference", word_counter="nltk")
        assert got == reference_text(rows, seed, min_words, max_words, lambda text: len(tokenize(text)))


def _install_fake_nltk(monkeypatch, word_tokenize) -> None:
    nltk = types.ModuleType("nltk")
    tokenize = types.ModuleType("nltk.tokenize")
    tokenize.word_tokenize = word_tokenize
    nltk.tokenize = tokenize
    nltk.word_tokenize = word_tokenize
    monkeypatch.setitem(sys.modules, "nltk", nltk)
    monkeypatch.setitem(sys.modules, "nltk.tokenize", tokenize)
    corpus.reference_word_counter.cache_clear()


@pytest.fixture
def fresh_counter():
    corpus.reference_word_counter.cache_clear()
    yield
    corpus.reference_word_counter.cache_clear()


def test_nltk_with_its_data_is_the_default_counter_and_counts_the_whole_text(monkeypatch, fresh_counter):
    calls: list[str] = []

    def whitespace_tokenize(text: str) -> list[str]:  # stands in for NLTK: fuses words across rows
        calls.append(text)
        return text.split()

    _install_fake_nltk(monkeypatch, whitespace_tokenize)
    assert corpus.reference_word_counter() == "nltk"
    rows = fused_rows()
    for seed in range(8):
        got = corpus.sample_text(rows, seed, 60, 90, construction="reference")
        assert got == reference_text(rows, seed, 60, 90, lambda text: len(text.split()))
    assert any(len(text.split()) >= 60 for text in calls)  # whole accumulated texts were tokenized


def test_nltk_without_its_data_falls_back_to_regex_and_refuses_an_explicit_nltk(monkeypatch, fresh_counter):
    def missing_data(text: str) -> list[str]:
        raise LookupError("Resource 'punkt_tab' not found.")

    _install_fake_nltk(monkeypatch, missing_data)
    assert corpus.reference_word_counter() == "regex"
    rows = wikitext_rows()
    assert corpus.sample_text(rows, 1, 30, 40) == reference_text(rows, 1, 30, 40, regex_count)
    with pytest.raises(corpus.WordCounterUnavailableError, match=r"punkt_tab.*word_counter=\"regex\""):
        corpus.sample_text(rows, 1, 30, 40, word_counter="nltk")


def test_no_nltk_means_the_regex_counter(monkeypatch, fresh_counter):
    monkeypatch.setitem(sys.modules, "nltk", None)  # makes `import nltk` raise ImportError
    assert corpus.reference_word_counter() == "regex"


@pytest.fixture
def fake_hub(monkeypatch):
    """Every hub corpus served from ``datasets.Dataset.from_dict`` rows kept in the returned dict."""
    datasets = pytest.importorskip("datasets")
    served: dict[str, list[str]] = {}
    paths = {corpus.CORPORA[name].path: name for name in PAPER_FIELDS}

    def load_dataset(path, config=None, split=None, **kwargs):
        assert split == "train"
        name = paths[path]
        return datasets.Dataset.from_dict({PAPER_FIELDS[name]: served[name], "other": [0] * len(served[name])})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    corpus._cached_rows.cache_clear()
    yield served
    corpus._cached_rows.cache_clear()


def _counter_in_use():
    if corpus.reference_word_counter() == "regex":
        return regex_count
    tokenize = _real_nltk_tokenize()
    return lambda text: len(tokenize(text))


@pytest.mark.parametrize("name", list(PAPER_FIELDS))
def test_hub_corpora_default_to_the_reference_construction(fake_hub, name):
    rows = wikitext_rows() if name == "wikipedia" else fused_rows()
    if name == "squad":  # one row per question: each context repeated; the reference keeps the repeats
        rows = [row for row in rows for _ in range(3)]
    fake_hub[name] = rows
    count = _counter_in_use()
    expected = [reference_text(rows, seed, 80, 100, count) for seed in range(4, 9)]
    assert corpus.sample_texts(name, 5, min_word_count=80, max_word_count=100, seed=4) == expected
    assert corpus.load_rows(name) == tuple(rows)


@pytest.mark.parametrize("name", ["wikipedia", "squad"])
def test_clean_construction_reproduces_the_previous_texts(fake_hub, name):
    rows = wikitext_rows() if name == "wikipedia" else [row for row in fused_rows() for _ in range(4)]
    fake_hub[name] = rows
    expected = [clean_text(rows, seed, 80, 100, dedupe=name == "squad") for seed in range(5)]
    assert corpus.sample_texts(name, 5, min_word_count=80, max_word_count=100, construction="clean") == expected


def test_builtin_keeps_the_clean_rule_and_can_be_asked_for_the_reference_one():
    rows = list(corpus.load_rows("builtin"))
    assert corpus.sample_texts("builtin", 3, min_word_count=60, max_word_count=90) == [
        clean_text(rows, seed, 60, 90) for seed in range(3)
    ]
    got = corpus.sample_texts("builtin", 2, min_word_count=60, max_word_count=90, construction="reference",
                              word_counter="regex")
    assert got == [reference_text(rows, seed, 60, 90, regex_count) for seed in range(2)]


def test_describe_construction_names_the_rule_and_the_counter(fresh_counter):
    assert corpus.describe_construction("builtin") == {"construction": "clean", "word_counter": "regex"}
    assert corpus.describe_construction("wikipedia", word_counter="regex") == {
        "construction": "reference", "word_counter": "regex"}
    assert corpus.describe_construction("imdb")["word_counter"] == corpus.reference_word_counter()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"construction": "raw"}, ValueError, r"construction='raw'.*'reference'.*'clean'"),
        ({"word_counter": "spacy"}, ValueError, r"word_counter='spacy'.*'nltk'.*'regex'"),
        ({"construction": "clean", "word_counter": "regex"}, ValueError, r"word_counter.*construction='reference'"),
    ],
)
def test_bad_construction_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        corpus.sample_texts("builtin", 1, min_word_count=10, max_word_count=20, **kwargs)


def test_regex_reference_counting_reads_each_character_a_bounded_number_of_times(monkeypatch):
    # Not timed: counts the characters handed to the counter. Whole-text recounting would read ~rows/2 times more.
    rows = fused_rows(2000)
    seen = []
    original = corpus.count_words
    monkeypatch.setattr(corpus, "count_words", lambda text: seen.append(len(text)) or original(text))
    text = corpus.sample_text(rows, 0, 2000, 2400, construction="reference", word_counter="regex")
    assert text == reference_text(rows, 0, 2000, 2400, regex_count)
    assert sum(seen) <= 3 * len(text)
