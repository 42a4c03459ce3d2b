"""The one place where a measurement's settings and its texts are declared and validated.

:class:`MeasureSettings` says how texts become histograms; :class:`TextSource` says which texts. Every entry
point (``measure``, ``CondensationSession``, the drop-in, the command line, ``CondensationCallback``) takes these
objects or builds them from keyword arguments named after their fields, so a new setting is added once, here,
and reaches all of them (the command line generates its flags and help text from the fields).

A field's ``metadata`` holds its ``help`` and, where a keyword argument may be wider than the stored value (a list
of layers, one layer), ``accepts``: the argument's type. Static tools see the keyword arguments through the
TypedDicts of :mod:`nb_condense.measurement._options`, which :func:`options_module_source` generates from the fields
(``python -m nb_condense.measurement.settings`` rewrites it; a test fails while it is stale).

Example
-------
>>> settings = MeasureSettings(max_length=256, layers=[-1, 0])
>>> settings.layers, settings.replace(bins=64).bins
((-1, 0), 64)
>>> split_options({"bins": 64, "dataset": "builtin"}, where="measure()")
({'bins': 64}, {'dataset': 'builtin'})
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import numbers
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .corpus import CONSTRUCTIONS, WORD_COUNTERS

__all__ = ["MeasureSettings", "TextSource", "check_texts", "options_module_source", "split_options",
           "with_options_signature"]


def positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return value


def check_texts(texts: Iterable[str], *, allow_empty: bool = False) -> list[str]:
    """The texts as a list of strings, or a specific error saying which text is wrong and how to fix it.

    Every text must be a ``str`` with at least one non-space character and no lone surrogate (half of a
    UTF-16 pair, as scraped JSON often holds: such a string cannot be encoded, so no tokenizer can read it).
    """
    if isinstance(texts, str):
        raise TypeError("`texts` must be a list of strings, not one string: wrap it as texts=[text].")
    items = list(texts)
    if not items and not allow_empty:
        raise ValueError("`texts` is empty: pass at least one text, or use dataset= to sample texts.")
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str.")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or only whitespace ({text!r}): it has no words to measure. "
                             "Remove it.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"texts[{i}] has a lone surrogate {text[exc.start]!r} at position {exc.start} (half of a UTF-16 "
                "pair, e.g. a broken emoji from scraped JSON), which no tokenizer can read. Repair it, e.g. "
                "text.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace')."
            ) from None
    return items


@dataclass(frozen=True)
class MeasureSettings:
    """How texts are turned into histograms: everything except the texts and the model.

    Every field is also a keyword argument of :func:`nb_condense.measure`, :class:`~nb_condense.CondensationSession`,
    :class:`~nb_condense.CondensationCallback` and the drop-in, and a flag of ``nb-condense measure``.
    """

    max_length: int = field(default=512, metadata={"help": "tokens per text after truncation (the paper: 512)"})
    batch_size: int | str | None = field(default=None, metadata={
        "help": "texts per forward pass, or 'auto' from free accelerator memory (default: 8 on an accelerator, "
                "1 on a CPU); an out-of-memory error halves it and retries",
        "accepts": "int | Literal['auto'] | None"})
    bins: int = field(default=128, metadata={"help": "histogram bins on [-1, 1]"})
    include_diagonal: bool = field(default=False, metadata={
        "help": "count each token's similarity with itself (the reference does)"})
    layers: tuple[int, ...] | None = field(default=None, metadata={
        "help": "hidden-state indices to keep (0 = embedding output, negative from the end; default: all)",
        "accepts": "int | Sequence[int] | None"})
    include_logits_layer: bool = field(default=False, metadata={
        "help": "also measure the output logits as a last entry (needs a model with an LM head)"})
    effective_rank: bool = field(default=False, metadata={
        "help": "add the RankMe effective rank per text and layer (one eigendecomposition each)"})
    position_average: bool = field(default=False, metadata={
        "help": "also keep the position-averaged S x S cosine matrix per layer (diagonal included), from which the "
                "paper's heatmap is drawn (charts.heatmap(kind='paper')); memory O(layers x S^2)"})

    def __post_init__(self) -> None:
        if self.layers is not None:  # accept one index or any sequence; store a hashable tuple
            layers = [self.layers] if isinstance(self.layers, numbers.Integral) else list(self.layers)
            for layer in layers:
                if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
                    raise TypeError(f"Layer indices must be integers, got {layer!r}.")
            if not layers:
                raise ValueError("`layers` is empty: pass None for all layers or a list of layer indices.")
            object.__setattr__(self, "layers", tuple(int(k) for k in layers))
        positive_int("max_length", self.max_length)
        if self.max_length < 2:
            raise ValueError(
                f"max_length must be >= 2 (a text needs two tokens to form a pair), got {self.max_length}."
            )
        if self.batch_size is not None and self.batch_size != "auto":
            positive_int("batch_size", self.batch_size)
        positive_int("bins", self.bins)
        for name in ("include_diagonal", "include_logits_layer", "effective_rank", "position_average"):
            _flag(name, getattr(self, name))

    def replace(self, **changes: Any) -> MeasureSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class TextSource:
    """Which texts are measured: given ``texts``, or ``n_texts`` sampled from ``dataset`` as in the paper.

    Text ``r`` of a sample uses seed ``seed + r`` (seed 0 reproduces the paper's texts).
    """

    texts: tuple[str, ...] | None = field(default=None, metadata={
        "help": "texts to measure, each once (instead of sampling from a dataset)",
        "accepts": "Sequence[str] | None"})
    dataset: str = field(default="wikipedia", metadata={
        "help": "wikipedia, pubmed, imdb, squad (Hugging Face hub) or builtin (offline, ships with Python)"})
    n_texts: int = field(default=100, metadata={"help": "number of texts sampled from the dataset"})
    min_word_count: int = field(default=1024, metadata={"help": "a sampled text has at least this many words"})
    max_word_count: int = field(default=1280, metadata={"help": "stop adding rows once a text has more words"})
    seed: int = field(default=0, metadata={"help": "seed of the first sampled text (0 = the paper's texts)"})
    construction: str | None = field(default=None, metadata={
        "help": "how rows become a text: 'reference' (rows concatenated as the paper's code does; the default for "
                "hub corpora) or 'clean' (rows stripped and space-joined, squad de-duplicated; builtin's default)"})
    word_counter: str | None = field(default=None, metadata={
        "help": "words counted by 'nltk' (the reference's, when installed with its data) or 'regex' "
                "(an approximation); default: nltk when available"})

    def __post_init__(self) -> None:
        if self.texts is not None:
            object.__setattr__(self, "texts", tuple(check_texts(self.texts, allow_empty=True)))
            return
        positive_int("n_texts", self.n_texts)
        positive_int("min_word_count", self.min_word_count)
        if self.max_word_count < self.min_word_count:
            raise ValueError(
                f"max_word_count ({self.max_word_count}) must be >= min_word_count ({self.min_word_count})."
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}.")
        for name, allowed in (("construction", CONSTRUCTIONS), ("word_counter", WORD_COUNTERS)):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))} (or None), got {value!r}.")

    def resolve(self, *, allow_empty: bool = False) -> tuple[list[str], dict[str, Any]]:
        """The texts (sampled now if needed) and metadata saying where they came from."""
        if self.texts is not None:
            return check_texts(self.texts, allow_empty=allow_empty), {"corpus": "texts"}
        from .corpus import describe_construction, sample_texts

        texts = sample_texts(self.dataset, self.n_texts, min_word_count=self.min_word_count,
                             max_word_count=self.max_word_count, seed=self.seed, construction=self.construction,
                             word_counter=self.word_counter)
        return texts, {"corpus": self.dataset, "seed": self.seed, "min_word_count": self.min_word_count,
                       "max_word_count": self.max_word_count,
                       **describe_construction(self.dataset, self.construction, self.word_counter)}

    def replace(self, **changes: Any) -> TextSource:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


SETTINGS_FIELDS = tuple(f.name for f in dataclasses.fields(MeasureSettings))
SOURCE_FIELDS = tuple(f.name for f in dataclasses.fields(TextSource))


def split_options(
    options: Mapping[str, object], *, where: str, allowed: Iterable[str] = SETTINGS_FIELDS + SOURCE_FIELDS
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword arguments split into :class:`MeasureSettings` and :class:`TextSource` fields.

    An unknown name raises a TypeError naming ``where`` and the closest valid name.
    """
    allowed = tuple(allowed)
    for name in options:
        if name not in allowed:
            hint = difflib.get_close_matches(name, allowed, n=1)
            raise TypeError(
                f"{where} got an unexpected keyword argument {name!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; valid settings: {', '.join(allowed)}.")
            )
    return ({k: v for k, v in options.items() if k in SETTINGS_FIELDS},
            {k: v for k, v in options.items() if k in SOURCE_FIELDS})


def merge_settings(settings: MeasureSettings | None, options: dict[str, Any],
                   defaults: dict[str, Any] | None = None) -> MeasureSettings:
    """``settings`` (or the defaults) with the keyword ``options`` applied on top."""
    if settings is not None and not isinstance(settings, MeasureSettings):
        raise TypeError(f"settings must be a MeasureSettings, got {type(settings).__name__}.")
    base = settings if settings is not None else MeasureSettings(**(defaults or {}))
    return base.replace(**options) if options else base


F = TypeVar("F", bound=Callable[..., Any])


def with_options_signature(*classes: type, defaults: dict[str, Any] | None = None,
                           exclude: Sequence[str] = ()) -> Callable[[F], F]:
    """Show the dataclass fields that ``**options`` accepts in the function's signature (Jupyter's Shift-Tab).

    The function keeps its ``**options`` parameter; only ``inspect.signature`` (and so notebooks' help) lists the
    fields, as keyword-only parameters with their defaults (``defaults`` overrides some).
    """
    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        taken = {p.name for p in params}
        for cls in classes:
            for item in dataclasses.fields(cls):
                if item.name in taken or item.name in exclude:
                    continue
                default = (defaults or {}).get(item.name, item.default)
                params.append(inspect.Parameter(item.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                                annotation=item.metadata.get("accepts", item.type)))
                taken.add(item.name)
        func.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return func

    return decorate


OPTIONS_MODULE = Path(__file__).with_name("_options.py")
"""The generated module of typed keyword options (see :func:`options_module_source`)."""
TYPED_OPTIONS: dict[str, tuple[tuple[type, ...], tuple[str, ...], str]] = {
    "MeasureOptions": ((TextSource, MeasureSettings), (),
                       "Every TextSource and MeasureSettings field: ``measure(**options)``, "
                       "``CondensationSession(**options)``."),
    "SettingsOptions": ((MeasureSettings,), (), "Every MeasureSettings field: ``CondensationCallback(**options)``."),
    "DropInOptions": ((MeasureSettings,), ("max_length", "include_logits_layer", "batch_size"),
                      "The MeasureSettings fields that ``measure_embedding_condensation`` does not name itself."),
}
"""Each TypedDict of the generated module: the dataclasses whose fields it holds, fields left out, its docstring."""


def _typed_dict_source(name: str, classes: tuple[type, ...], exclude: tuple[str, ...], doc: str) -> list[str]:
    lines = ["", "", f"class {name}(TypedDict, total=False):", f'    """{doc}"""']
    for cls in classes:
        for item in dataclasses.fields(cls):
            if item.name in exclude:
                continue
            help_text = textwrap.wrap(f"{cls.__name__}.{item.name}: {item.metadata.get('help', '')}.", 110)
            lines += ["", f"    {item.name}: {item.metadata.get('accepts', item.type)}",
                      f'    """{help_text[0]}', *(f"    {line}" for line in help_text[1:])]
            lines[-1] += '"""'
    return lines


def options_module_source() -> str:
    """The source of :mod:`nb_condense.measurement._options`: one TypedDict per entry of ``TYPED_OPTIONS``.

    Each key is a field, typed with the field's ``accepts`` metadata (else its annotation), documented with its
    ``help``; every key is optional (``total=False``), as every setting has a default.
    """
    body = [line for name, spec in TYPED_OPTIONS.items() for line in _typed_dict_source(name, *spec)]
    text = "\n".join(body)
    imports = [f"from {module} import {name}" for module, name in (("collections.abc", "Sequence"),
                                                                  ("typing", "Literal")) if f"{name}[" in text]
    head = ['"""Typed keyword options of the entry points, generated from MeasureSettings and TextSource.', "",
            "Generated by ``nb_condense.measurement.settings.options_module_source()``; do not edit. Regenerate with",
            "``python -m nb_condense.measurement.settings``.", '"""', "",
            "# generated by nb_condense.measurement.settings.options_module_source(); do not edit", "",
            "from __future__ import annotations", "", *imports, *([""] if imports else []),
            "from typing_extensions import TypedDict", "", f"__all__ = {sorted(TYPED_OPTIONS)!r}".replace("'", '"')]
    return "\n".join([*head, *body]) + "\n"


if __name__ == "__main__":  # python -m nb_condense.measurement.settings: rewrite the generated module
    from ..core.files import write_text

    write_text(OPTIONS_MODULE, options_module_source())
