"""Text sources: the paper's four corpora (via ``datasets``) and an offline builtin corpus.

Every source is a list of *rows* (paragraphs). A measurement text starts at a seeded random row in
``[0, 0.95 * n_rows)`` (``numpy.random.default_rng(seed)``) and takes consecutive rows until it has at
least ``min_word_count`` words. Two constructions, chosen with ``construction=``:

``"reference"`` (default for ``wikipedia``, ``pubmed``, ``imdb``, ``squad``)
    The paper's texts, built as the authors' sampler builds them: rows concatenated exactly as they are
    (no separator, no stripping: wikitext rows keep their leading space and trailing newline; rows of the
    other corpora fuse their edge words), squad rows *not* de-duplicated, and after each row the words of
    the **whole** text so far are counted. The counter (see :func:`reference_word_counter`) is NLTK's
    ``word_tokenize``, as in the paper, when NLTK and its ``punkt_tab`` data are installed (nothing is ever
    downloaded); otherwise :func:`count_words` on the whole text, an approximation: it keeps clitics whole
    (``don't`` is 1 word, NLTK: ``do`` ``n't``), splits every ``.``/``,`` (``U.S.``, ``1,000``, ``3.5``,
    ``...`` are 3-4 words, NLTK: 1) and ``"`` is one mark for both. A text can then stop one row earlier
    or later than the paper's. :func:`describe_construction` says which counter a run uses.
``"clean"`` (default for ``builtin``)
    Rows stripped and joined with one space, squad's consecutive duplicate contexts removed, words counted
    per row with :func:`count_words` and summed. The ``builtin`` rows are already clean paragraphs, so
    concatenating them without a separator would fuse words: it keeps this rule unless asked otherwise.

The last row is always kept whole, so a text can pass ``max_word_count`` by part of one row (measurements
truncate to ``max_length`` tokens). At the end of the corpus a text stops short (the reference raises).

Example
-------
>>> from nb_condense.measurement.corpus import sample_texts
>>> texts = sample_texts("builtin", 3, min_word_count=50, max_word_count=80)
>>> len(texts), all(count_words(t) >= 50 for t in texts)
(3, True)
>>> sample_text([" = A = \\n", "", " one two ,\\n", "three"], 0, 4, 6, construction="reference",
...             word_counter="regex")
' one two ,\\nthree'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONSTRUCTIONS",
    "CORPORA",
    "WORD_COUNTERS",
    "CorpusUnavailableError",
    "WordCounterUnavailableError",
    "count_words",
    "default_construction",
    "describe_construction",
    "load_rows",
    "reference_word_counter",
    "sample_text",
    "sample_texts",
]

# Words as a word tokenizer sees them: runs of word characters (with inner hyphens/apostrophes) and
# single punctuation marks. Close to NLTK's Treebank counts, linear time, no data download.
_WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")

CONSTRUCTIONS = ("reference", "clean")
WORD_COUNTERS = ("nltk", "regex")


@dataclass(frozen=True)
class HubCorpus:
    """Where one of the paper's corpora lives on the Hugging Face hub."""

    path: str
    config: str | None
    field: str
    dedupe_consecutive: bool = False  # applied by the "clean" construction only


# The paper's data sets under their current hub ids (the bare legacy names redirect to these).
CORPORA: dict[str, HubCorpus] = {
    "wikipedia": HubCorpus("Salesforce/wikitext", "wikitext-103-v1", "text"),
    "pubmed": HubCorpus("qiaojin/PubMedQA", "pqa_labeled", "long_answer"),
    "imdb": HubCorpus("stanfordnlp/imdb", None, "text"),
    # Consecutive SQuAD rows repeat one context (one row per question): "clean" keeps each context once.
    "squad": HubCorpus("rajpurkar/squad", None, "context", dedupe_consecutive=True),
}
BUILTIN = "builtin"


class CorpusUnavailableError(RuntimeError):
    """A hub corpus could not be loaded (offline, or the data set is missing)."""


class WordCounterUnavailableError(RuntimeError):
    """``word_counter="nltk"`` was asked for but NLTK or its ``punkt_tab`` data is not installed."""


def count_words(text: str) -> int:
    """Number of words and punctuation marks in ``text`` (linear time, no NLTK).

    >>> count_words("Hello, world: two words.")
    7
    """
    return sum(1 for _ in _WORD.finditer(text))


def _nltk_word_tokenize() -> Callable[[str], list[str]] | None:
    """NLTK's ``word_tokenize`` if NLTK and its tokenizer data are installed, else None. Never downloads."""
    try:
        from nltk.tokenize import word_tokenize

        word_tokenize("Arbitrary sentence.")
    except (ImportError, LookupError):  # no NLTK / no punkt_tab data
        return None
    tokenize: Callable[[str], list[str]] = word_tokenize  # nltk is untyped (see the mypy overrides)
    return tokenize


@functools.cache
def reference_word_counter() -> str:
    """The counter the reference construction uses here: ``"nltk"`` (as the paper) or ``"regex"``.

    ``"nltk"`` when ``nltk.tokenize.word_tokenize`` imports and runs with its installed data; ``"regex"``
    (:func:`count_words` on the whole text, see the module docstring) otherwise. Checked once per process.
    """
    return "regex" if _nltk_word_tokenize() is None else "nltk"


def default_construction(dataset: str) -> str:
    """``"clean"`` for the builtin corpus, ``"reference"`` (the paper's texts) for the hub corpora."""
    return "clean" if dataset == BUILTIN else "reference"


def _check_construction(construction: str) -> None:
    if construction not in CONSTRUCTIONS:
        raise ValueError(
            f"construction={construction!r} is not one of 'reference' (rows concatenated as they are, "
            "the paper's texts) or 'clean' (rows stripped and space-joined, squad de-duplicated)."
        )


def _resolve(construction: str, word_counter: str | None) -> str:
    """Check the options; return the word counter that the construction uses."""
    _check_construction(construction)
    if word_counter is not None and word_counter not in WORD_COUNTERS:
        raise ValueError(f"word_counter={word_counter!r} is not one of 'nltk', 'regex' or None (the default).")
    if construction == "clean":
        if word_counter is not None:
            raise ValueError(
                f"word_counter={word_counter!r} applies to construction='reference' only; the clean "
                "construction always sums count_words over rows. Leave word_counter unset."
            )
        return "regex"
    if word_counter is None:
        return reference_word_counter()
    if word_counter == "nltk" and _nltk_word_tokenize() is None:
        raise WordCounterUnavailableError(
            "word_counter='nltk' needs NLTK and its punkt_tab tokenizer data, which are not installed "
            "(nb_condense never downloads them): install them yourself (`pip install nltk`, then "
            "`python -m nltk.downloader punkt_tab`), or pass word_counter=\"regex\" for the approximation."
        )
    return word_counter


def describe_construction(
    dataset: str, construction: str | None = None, word_counter: str | None = None
) -> dict[str, str]:
    """How texts of ``dataset`` are built with these options, for measurement metadata.

    >>> describe_construction("builtin")
    {'construction': 'clean', 'word_counter': 'regex'}
    """
    construction = default_construction(dataset) if construction is None else construction
    return {"construction": construction, "word_counter": _resolve(construction, word_counter)}


def _dedupe_consecutive(rows: Sequence[str]) -> list[str]:
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


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line, ending with a full stop."""
    return " ".join(str(exc).split()).rstrip(".") + "."


def _hub_rows(name: str) -> list[str]:
    spec = CORPORA[name]
    try:
        import datasets

        data = datasets.load_dataset(spec.path, spec.config, split="train")
    except Exception as exc:  # datasets raises many types when offline: wrap them all, keep the cause
        raise CorpusUnavailableError(
            f"Could not load the {name!r} corpus (Hugging Face data set {spec.path!r}"
            f"{', config ' + repr(spec.config) if spec.config else ''}): {_one_line(exc)} "
            "Pass your own texts with `texts=[...]`, or use the offline corpus with `dataset=\"builtin\"`."
        ) from exc
    return [str(row) for row in data[spec.field]]


@functools.cache
def _cached_rows(name: str, deduplicate: bool) -> tuple[str, ...]:
    if deduplicate:
        return tuple(_dedupe_consecutive(_cached_rows(name, False)))
    return tuple(_builtin_rows() if name == BUILTIN else _hub_rows(name))


def load_rows(name: str, construction: str | None = None) -> tuple[str, ...]:
    """All rows of a corpus as ``construction`` uses them, loaded once per process.

    ``name`` is one of ``"wikipedia"``, ``"pubmed"``, ``"imdb"``, ``"squad"`` (hub, via ``datasets``)
    or ``"builtin"`` (offline, ships with Python). Rows are as the data set has them, except that the
    ``"clean"`` construction drops squad's consecutive duplicates. ``construction=None``: the corpus's
    default (:func:`default_construction`).
    """
    if name != BUILTIN and name not in CORPORA:
        known = ", ".join(repr(k) for k in [*CORPORA, BUILTIN])
        raise ValueError(f"Unknown dataset {name!r}. Use one of {known}, or pass your own texts with `texts=`.")
    construction = default_construction(name) if construction is None else construction
    _check_construction(construction)
    deduplicate = construction == "clean" and name in CORPORA and CORPORA[name].dedupe_consecutive
    return _cached_rows(name, deduplicate)


def _check_word_counts(min_word_count: int, max_word_count: int) -> None:
    if min_word_count < 1:
        raise ValueError(f"min_word_count must be >= 1, got {min_word_count}.")
    if max_word_count < min_word_count:
        raise ValueError(
            f"max_word_count ({max_word_count}) must be >= min_word_count ({min_word_count})."
        )


def _last_whitespace(text: str) -> int:
    for index in range(len(text) - 1, -1, -1):
        if text[index].isspace():  # the same characters as the regex's \s
            return index
    return -1


def _regex_reference_text(rows: Sequence[str], min_words: int, max_words: int) -> str:
    """Rows concatenated; after each, ``count_words`` of the whole text, computed in linear time.

    No token crosses whitespace and the tokens before a whitespace character do not depend on what
    follows it, so the count of ``text[:cut]`` (``cut`` = last whitespace) is settled; only the tail
    after it is recounted when a row is appended (it can fuse with the row: ``well-`` + ``known``).
    """
    parts: list[str] = []
    settled, tail = 0, ""
    for row in rows:
        parts.append(row)
        tail += row
        words = settled + count_words(tail)
        if words >= min_words or words > max_words:
            break
        cut = _last_whitespace(tail)
        if cut > 0:
            tail = tail[cut:]
            settled = words - count_words(tail)
    return "".join(parts)


def _nltk_reference_text(rows: Sequence[str], min_words: int, max_words: int) -> str:
    """Rows concatenated; after each, NLTK's count of the whole text (one pass per non-empty row).

    NLTK's sentence splitting looks across row boundaries, so only a whole-text count is exact.
    """
    tokenize = _nltk_word_tokenize()
    if tokenize is None:  # checked by _resolve; data removed since
        raise WordCounterUnavailableError("NLTK's word_tokenize stopped working; pass word_counter=\"regex\".")
    text, words = "", 0
    for row in rows:
        if row:  # an empty row leaves the text, hence its count, unchanged
            text += row
            words = len(tokenize(text))
        if words >= min_words or words > max_words:
            break
    return text


def _clean_text(rows: Sequence[str], min_words: int, max_words: int) -> str:
    parts: list[str] = []
    words = 0
    for row in rows:
        parts.append(row)
        words += count_words(row)
        if words >= min_words or words > max_words:
            break
    return " ".join(part.strip() for part in parts if part.strip())


def sample_text(
    rows: Sequence[str],
    seed: int,
    min_word_count: int,
    max_word_count: int,
    *,
    construction: str = "reference",
    word_counter: str | None = None,
) -> str:
    """One text from ``rows`` (taken as given), starting at ``numpy.random.default_rng(seed)``'s row.

    ``construction``: ``"reference"`` (rows concatenated as they are, whole-text word counts with
    ``word_counter``: ``"nltk"``, ``"regex"`` or None for :func:`reference_word_counter`) or ``"clean"``
    (rows stripped and space-joined, per-row counts; ``word_counter`` must stay None). The module
    docstring describes both. Squad de-duplication is a property of the rows (:func:`load_rows`).
    """
    _check_word_counts(min_word_count, max_word_count)
    counter = _resolve(construction, word_counter)
    if not rows:
        raise ValueError("The corpus has no rows to sample from.")
    start = int(np.random.default_rng(seed).integers(0, max(1, int(len(rows) * 0.95))))
    following = rows[start:]
    if construction == "clean":
        return _clean_text(following, min_word_count, max_word_count)
    if counter == "nltk":
        return _nltk_reference_text(following, min_word_count, max_word_count)
    return _regex_reference_text(following, min_word_count, max_word_count)


def sample_texts(
    dataset: str,
    n: int,
    *,
    min_word_count: int = 1024,
    max_word_count: int = 1280,
    seed: int = 0,
    construction: str | None = None,
    word_counter: str | None = None,
) -> list[str]:
    """``n`` texts from ``dataset``; text ``r`` uses seed ``seed + r``.

    With the defaults on a hub corpus (``construction="reference"``, seed 0) these are the paper's
    texts, exactly so when NLTK's counter is available (``describe_construction(dataset)`` tells).
    ``construction=None`` picks :func:`default_construction`; ``"clean"`` gives space-joined, stripped
    rows (squad de-duplicated). ``word_counter``: ``"nltk"``, ``"regex"`` or None (automatic), for the
    reference construction only.

    >>> sample_texts("builtin", 2, min_word_count=20, max_word_count=40) == sample_texts(
    ...     "builtin", 2, min_word_count=20, max_word_count=40, construction="clean")
    True
    """
    if n < 1:
        raise ValueError(f"The number of texts must be >= 1, got {n}.")
    _check_word_counts(min_word_count, max_word_count)
    construction = default_construction(dataset) if construction is None else construction
    _resolve(construction, word_counter)
    rows = load_rows(dataset, construction)
    return [
        sample_text(rows, seed + r, min_word_count, max_word_count, construction=construction,
                    word_counter=word_counter)
        for r in range(n)
    ]
