"""Text sources: the paper's four corpora (via ``datasets``) and an offline builtin corpus.

Every source is a list of *rows* (paragraphs). A measurement text is sampled from the rows as in the
paper: a seeded random start row in ``[0, 0.95 * n_rows)``, then consecutive rows joined with a space
until the text has at least ``min_word_count`` words (or more than ``max_word_count``).

Example
-------
>>> from nb_condense.corpus import sample_texts
>>> texts = sample_texts("builtin", 3, min_word_count=50, max_word_count=80)
>>> len(texts), all(count_words(t) >= 50 for t in texts)
(3, True)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CORPORA",
    "CorpusUnavailableError",
    "count_words",
    "load_rows",
    "sample_text",
    "sample_texts",
]

# Words as a word tokenizer sees them: runs of word characters (with inner hyphens/apostrophes) and
# single punctuation marks. Close to NLTK's Treebank counts, linear time, no data download.
_WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class HubCorpus:
    """Where one of the paper's corpora lives on the Hugging Face hub."""

    path: str
    config: str | None
    field: str
    dedupe_consecutive: bool = False


# The paper's data sets under their current hub ids (the bare legacy names redirect to these).
CORPORA: dict[str, HubCorpus] = {
    "wikipedia": HubCorpus("Salesforce/wikitext", "wikitext-103-v1", "text"),
    "pubmed": HubCorpus("qiaojin/PubMedQA", "pqa_labeled", "long_answer"),
    "imdb": HubCorpus("stanfordnlp/imdb", None, "text"),
    # Consecutive SQuAD rows repeat one context (one row per question): keep each context once.
    "squad": HubCorpus("rajpurkar/squad", None, "context", dedupe_consecutive=True),
}
BUILTIN = "builtin"


class CorpusUnavailableError(RuntimeError):
    """A hub corpus could not be loaded (offline, or the data set is missing)."""


def count_words(text: str) -> int:
    """Number of words and punctuation marks in ``text`` (linear time, no NLTK).

    >>> count_words("Hello, world: two words.")
    7
    """
    return sum(1 for _ in _WORD.finditer(text))


def _dedupe_consecutive(rows: list[str]) -> list[str]:
    kept: list[str] = []
    for row in rows:
        if not kept or row != kept[-1]:
            kept.append(row)
    return kept


def _builtin_rows() -> list[str]:
    """Paragraphs of the Python reference manual topics that ship with CPython (``pydoc_data``)."""
    from pydoc_data.topics import topics

    rows: list[str] = []
    for key in sorted(topics):
        for paragraph in re.split(r"\n\s*\n", topics[key]):
            paragraph = " ".join(paragraph.split())
            if paragraph:
                rows.append(paragraph)
    return rows


def _hub_rows(name: str) -> list[str]:
    spec = CORPORA[name]
    try:
        import datasets

        data = datasets.load_dataset(spec.path, spec.config, split="train")
    except Exception as exc:  # datasets raises many types when offline: wrap them all, keep the cause
        raise CorpusUnavailableError(
            f"Could not load the {name!r} corpus (Hugging Face data set {spec.path!r}"
            f"{', config ' + repr(spec.config) if spec.config else ''}): {exc}. "
            "Pass your own texts with `texts=[...]`, or use the offline corpus with `dataset=\"builtin\"`."
        ) from exc
    rows = [str(row) for row in data[spec.field]]
    return _dedupe_consecutive(rows) if spec.dedupe_consecutive else rows


@functools.lru_cache(maxsize=None)
def _cached_rows(name: str) -> tuple[str, ...]:
    return tuple(_builtin_rows() if name == BUILTIN else _hub_rows(name))


def load_rows(name: str) -> tuple[str, ...]:
    """All rows of a corpus, loaded once per process.

    ``name`` is one of ``"wikipedia"``, ``"pubmed"``, ``"imdb"``, ``"squad"`` (hub, via ``datasets``)
    or ``"builtin"`` (offline, ships with Python).
    """
    if name != BUILTIN and name not in CORPORA:
        known = ", ".join(repr(k) for k in [*CORPORA, BUILTIN])
        raise ValueError(f"Unknown dataset {name!r}. Use one of {known}, or pass your own texts with `texts=`.")
    return _cached_rows(name)


def _check_word_counts(min_word_count: int, max_word_count: int) -> None:
    if min_word_count < 1:
        raise ValueError(f"min_word_count must be >= 1, got {min_word_count}.")
    if max_word_count < min_word_count:
        raise ValueError(
            f"max_word_count ({max_word_count}) must be >= min_word_count ({min_word_count})."
        )


def sample_text(rows: tuple[str, ...] | list[str], seed: int, min_word_count: int, max_word_count: int) -> str:
    """One text: rows from a random start (``numpy.random.default_rng(seed)``) joined with spaces.

    Rows are added until the text has ``>= min_word_count`` words, or ``> max_word_count`` words, or the
    corpus ends. As in the paper the last row is kept whole, so a text can pass ``max_word_count`` by
    part of one row; measurements truncate to ``max_length`` tokens anyway.
    """
    _check_word_counts(min_word_count, max_word_count)
    if not rows:
        raise ValueError("The corpus has no rows to sample from.")
    start = int(np.random.default_rng(seed).integers(0, max(1, int(len(rows) * 0.95))))
    parts: list[str] = []
    words = 0
    for row in rows[start:]:
        parts.append(row)
        words += count_words(row)
        if words >= min_word_count or words > max_word_count:
            break
    return " ".join(part.strip() for part in parts if part.strip())


def sample_texts(
    dataset: str,
    n: int,
    *,
    min_word_count: int = 1024,
    max_word_count: int = 1280,
    seed: int = 0,
) -> list[str]:
    """``n`` texts from ``dataset``; text ``r`` uses seed ``seed + r`` (seed 0 reproduces the paper).

    >>> sample_texts("builtin", 2, min_word_count=20, max_word_count=40) == sample_texts(
    ...     "builtin", 2, min_word_count=20, max_word_count=40)
    True
    """
    if n < 1:
        raise ValueError(f"The number of texts must be >= 1, got {n}.")
    _check_word_counts(min_word_count, max_word_count)
    rows = load_rows(dataset)
    return [sample_text(rows, seed + r, min_word_count, max_word_count) for r in range(n)]
