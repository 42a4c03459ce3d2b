"""Corpus sampling: word counts, determinism, de-duplication, clear errors when offline."""

from __future__ import annotations

import pytest

from nb_condense.measurement import corpus


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("one", 1), ("Hello, world.", 4), ("don't stop-gap  now", 3), ("a\nb\tc", 3), ("(x + y)", 5)],
)
def test_count_words(text, expected):
    assert corpus.count_words(text) == expected


def test_builtin_rows_are_loaded_once_and_nonempty():
    rows = corpus.load_rows("builtin")
    assert rows is corpus.load_rows("builtin")
    assert len(rows) > 1000 and all(r.strip() == r and r for r in rows)


def test_builtin_sampling_follows_the_paper_rule():
    rows = corpus.load_rows("builtin")
    texts = corpus.sample_texts("builtin", 5, min_word_count=200, max_word_count=300)
    assert texts == corpus.sample_texts("builtin", 5, min_word_count=200, max_word_count=300)
    assert len(set(texts)) == 5
    for text in texts:
        assert corpus.count_words(text) >= 200
    # seed r: default_rng(r) start, consecutive rows joined with a space, stop once >= min words
    import numpy as np

    start = int(np.random.default_rng(3).integers(0, int(len(rows) * 0.95)))
    expected, words = [], 0
    for row in rows[start:]:
        expected.append(row)
        words += corpus.count_words(row)
        if words >= 200:
            break
    assert texts[3] == " ".join(expected)


def test_seed_offsets_the_repetition_seeds():
    a = corpus.sample_texts("builtin", 3, min_word_count=50, max_word_count=80, seed=0)
    b = corpus.sample_texts("builtin", 2, min_word_count=50, max_word_count=80, seed=1)
    assert a[1:] == b


def test_consecutive_duplicates_are_removed_but_repeats_later_are_kept():
    assert corpus._dedupe_consecutive(["a", "a", "b", "b", "b", "a"]) == ["a", "b", "a"]
    assert corpus.CORPORA["squad"].dedupe_consecutive and not corpus.CORPORA["wikipedia"].dedupe_consecutive


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown dataset 'wikitext'.*'wikipedia'.*'builtin'.*texts="):
        corpus.sample_texts("wikitext", 2)


def test_unreachable_hub_corpus_says_what_to_do_and_does_not_switch_corpus():
    with pytest.raises(corpus.CorpusUnavailableError, match=r"'imdb' corpus.*texts=\[\.\.\.\].*dataset=\"builtin\""):
        corpus.sample_texts("imdb", 2)


@pytest.mark.parametrize(("lo", "hi", "match"), [(0, 10, "min_word_count"), (20, 10, "max_word_count")])
def test_bad_word_counts(lo, hi, match):
    with pytest.raises(ValueError, match=match):
        corpus.sample_texts("builtin", 1, min_word_count=lo, max_word_count=hi)


def test_bad_number_of_texts():
    with pytest.raises(ValueError, match="number of texts must be >= 1"):
        corpus.sample_texts("builtin", 0)
