"""A measurement session: measure once, then answer questions from the stored result.

The session holds a model (optional), the texts and the settings; its first question measures, every later one
reads the cached :class:`~nb_condense.core.result.CondensationResult` (no model runs, tokens included).

Example
-------
>>> import nb_condense as nbc
>>> session = nbc.CondensationSession("embedded", dataset="builtin", n_texts=3, max_length=32,
...                                   show_progress=False)
>>> session.distribution(layers=[0, -1]).groupby("layer")["density"].sum().mul(2 / 128).round(6).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typing_extensions import Unpack

from ..core.result import CondensationResult
from ..core.summaries import TrendStatistics
from ..measurement._options import MeasureOptions
from ..measurement.settings import (
    MeasureSettings,
    TextSource,
    check_texts,
    merge_settings,
    split_options,
    with_options_signature,
)

__all__ = ["CondensationSession", "NotMeasuredError", "named_sessions"]

Layers = int | Iterable[int] | None


class NotMeasuredError(ValueError):
    """The session has no measurement yet (and the caller must not start one)."""


@dataclass(frozen=True)
class _State:
    """What a session knows at one moment; replaced whole, never changed in place."""

    texts: tuple[str, ...]
    result: CondensationResult | None


def _concatenate(old: CondensationResult, extra: CondensationResult, texts: Sequence[str]) -> CondensationResult:
    """``old`` followed by ``extra`` (measured with the same settings) as one result."""
    stats = extra.stats.assign(text=extra.stats["text"] + old.n_texts)
    tokens = old.has_tokens and extra.has_tokens

    def joined(name: str) -> Any:
        return np.concatenate([getattr(old, name), getattr(extra, name)]) if tokens else None

    corpus = old.metadata.get("corpus")
    return CondensationResult(
        histograms=np.concatenate([old.histograms, extra.histograms]),
        stats=pd.concat([old.stats, stats], ignore_index=True),
        layers=old.layers,
        token_counts=np.concatenate([old.token_counts, extra.token_counts]),
        metadata={**old.metadata, "corpus": corpus if corpus == "texts" else "mixed"},
        texts=list(texts),
        token_strings=joined("token_strings"),
        token_means=joined("token_means"),
    )


class CondensationSession:
    """Cached, queryable condensation measurements of one model on one set of texts.

    Measuring is lazy: it happens at the first query (or :meth:`measure`) and is stored; later queries read
    the stored result. Samples are addressed by their index in :attr:`texts`, layers by hidden-state index
    (0 = embedding output; negative indices count from the end).

    Parameters
    ----------
    model, tokenizer
        A loaded model and tokenizer, or a name (``"gpt2"``, ``"embedded"``, ``"random:gpt2"``).
    name
        The label of this model in comparisons, charts and the explorer.
    settings, source, checkpoint, checkpoint_every, show_progress, **options
        As in :func:`nb_condense.measure` (every ``MeasureSettings`` and ``TextSource`` field is accepted).

    Notes
    -----
    Thread safety: the session's state (texts and result) is replaced in one step, so a query running in
    one thread while :meth:`add_texts` or :meth:`measure` runs in another sees either the old or the new
    state, never a mix. Measurements are serialised by a lock (a second caller waits, then reads).
    """

    @with_options_signature(TextSource, MeasureSettings)
    def __init__(
        self,
        model: Any = None,
        tokenizer: Any = None,
        *,
        name: str | None = None,
        settings: MeasureSettings | None = None,
        source: TextSource | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 50,
        show_progress: bool = True,
        _result: CondensationResult | None = None,
        **options: Unpack[MeasureOptions],
    ) -> None:
        setting_options, source_options = split_options(options, where="CondensationSession()")
        self.settings = merge_settings(settings, setting_options)
        if _result is None:
            source = TextSource(**source_options) if source is None else source.replace(**source_options)
            texts, self._corpus = source.resolve(allow_empty=True)
        else:  # from_result: the texts and corpus of a made measurement
            texts = _result.texts if _result.texts is not None else [""] * _result.n_texts
            self._corpus = {k: _result.metadata[k] for k in ("corpus", "seed") if k in _result.metadata}
        self.model: Any
        self.tokenizer: Any
        self.model, self.tokenizer = (None, None) if model is None else self._resolve_model(model, tokenizer)
        self._name = name
        self.show_progress = show_progress
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self._state = _State(tuple(texts), _result)
        self._measuring = threading.Lock()

    @staticmethod
    def _resolve_model(model: Any, tokenizer: Any) -> tuple[Any, Any]:
        from ..measurement.engine import resolve_model

        return resolve_model(model, tokenizer)

    # ----- construction from saved measurements -----------------------------------------------------
    @classmethod
    def from_result(cls, result: CondensationResult, *, name: str | None = None) -> CondensationSession:
        """A session over an existing result (no model: every query works, measuring new texts does not)."""
        meta = result.metadata
        settings = MeasureSettings(
            max_length=int(meta.get("max_length", 512)), bins=result.bins,
            include_diagonal=bool(meta.get("include_diagonal", False)), layers=tuple(int(k) for k in result.layers),
            include_logits_layer=bool(meta.get("include_logits_layer", False)),
            effective_rank="effective_rank" in result.stats,
        )
        return cls(name=name, settings=settings, show_progress=False, _result=result)

    @classmethod
    def from_file(cls, path: str | Path, *, name: str | None = None) -> CondensationSession:
        """A session over a result saved with :meth:`CondensationResult.save` (needs neither torch nor a model)."""
        return cls.from_result(CondensationResult.load(path), name=name)

    # ----- the cached measurement -------------------------------------------------------------------
    @property
    def texts(self) -> list[str]:
        """The session's texts (a copy)."""
        return list(self._state.texts)

    @property
    def name(self) -> str:
        """The label of this model in comparisons and charts."""
        if self._name:
            return self._name
        result = self._state.result
        if result is not None:
            return str(result.metadata.get("model_name"))
        return str(getattr(getattr(self.model, "config", None), "_name_or_path", "") or type(self.model).__name__)

    @property
    def measured(self) -> bool:
        """Whether the measurement is made (queries then answer without running the model)."""
        return self._state.result is not None

    @property
    def result(self) -> CondensationResult:
        """Deprecated since 0.4.0: :meth:`measured_result` (the one name every measured source shares)."""
        warnings.warn("session.result is deprecated since nb_condense 0.4.0: use session.measured_result() (the "
                      "same result; session.measure() measures first when needed).", DeprecationWarning, stacklevel=2)
        return self.measured_result()

    def measured_result(self) -> CondensationResult:
        """The measurement if it is made; raises :class:`NotMeasuredError` otherwise (never measures).

        Every measured source has this method (a :class:`~nb_condense.core.result.CondensationResult` returns
        itself), so charts and the explorer take sessions and results alike. Call :meth:`measure` to measure (it
        returns the result, measuring only the first time).
        """
        result = self._state.result
        if result is None:
            raise NotMeasuredError(f"Session {self.name!r} is not measured yet: call session.measure() first.")
        return result

    def measure(self, progress: Callable[[int, int], None] | None = None) -> CondensationResult:
        """Measure now unless already done, and return the result.

        ``progress(done, total)`` is called after each text (e.g. to feed a progress bar); an exception
        raised from it stops the measurement and leaves the session unmeasured.
        """
        with self._measuring:
            state = self._state
            if state.result is not None:
                return state.result
            if not state.texts:
                raise ValueError("The session has no texts yet: add some with session.add_texts([...]).")
            result = self._measure(list(state.texts), progress, self.checkpoint)
            self._state = _State(state.texts, result)
            return result

    def _measure(self, texts: list[str], progress: Callable[[int, int], None] | None = None,
                 checkpoint: str | Path | None = None) -> CondensationResult:
        if self.model is None:
            raise ValueError("This session has no model (it was built from a saved result): cannot measure texts.")
        from ..measurement.engine import measure_texts

        return measure_texts(self.model, self.tokenizer, texts, self.settings, show_progress=self.show_progress,
                             progress=progress, metadata=self._corpus, checkpoint=checkpoint,
                             checkpoint_every=self.checkpoint_every, label=self.name)

    def add_texts(self, texts: Sequence[str]) -> list[int]:
        """Measure ``texts`` (only these) and add them; returns their sample indices."""
        new = check_texts(texts)
        if self._state.texts:
            self.measure()  # the existing texts first, so the new ones extend a complete result
        with self._measuring:
            state = self._state
            extra = self._measure(new)
            combined = (*state.texts, *new)
            result = extra if state.result is None else _concatenate(state.result, extra, combined)
            self._state = _State(combined, result)
        return list(range(len(state.texts), len(combined)))

    # ----- queries (each reads one consistent state) ----------------------------------------------------
    def distribution(self, layers: Layers = None, samples: Layers = None) -> pd.DataFrame:
        """Pooled density per layer over the chosen texts (see :meth:`CondensationResult.distribution`)."""
        return self.measure().distribution(layers, samples)

    def summary(self) -> pd.DataFrame:
        """Per-layer statistics over all texts (see :meth:`CondensationResult.summary`)."""
        return self.measure().summary()

    def layer_means(self) -> pd.DataFrame:
        """Mean cosine per layer: ``model, layer, layer_fraction, mean``."""
        result = self.measure()
        return pd.DataFrame({"model": self.name, "layer": result.layers, "layer_fraction": result.layer_fractions,
                             "mean": result.layer_means})

    def trend(self, last_n: tuple[int, ...] = (1, 2, 3, 4, 5), *, ci: float | None = None, n_boot: int = 1000,
              seed: int | np.random.Generator | None = 0, method: str = "percentile") -> TrendStatistics:
        """Rho, tau, last-N and last-half means, with intervals over texts when ``ci`` is given.

        The same as :meth:`CondensationResult.trend` on this session's result (measured first if needed).
        """
        return self.measure().trend(last_n, ci=ci, n_boot=n_boot, seed=seed, method=method)

    def trend_row(self, *, ci: float | None = None, n_boot: int = 1000, seed: int | np.random.Generator | None = 0,
                  method: str = "percentile") -> dict[str, Any]:
        """One table row under this session's name (see :meth:`CondensationResult.trend_row`)."""
        return self.measure().trend_row(self.name, ci=ci, n_boot=n_boot, seed=seed, method=method)

    def samples(self, n_words: int = 8) -> pd.DataFrame:
        """One row per text: ``sample, first_words, n_tokens, last_layer_mean``."""
        return self.measure().samples(n_words)

    def tokens(self, sample: int, layer: int) -> pd.DataFrame:
        """Per-token view of one text at one layer: ``position, token, mean_cosine`` (to the other tokens).

        Read from the measurement (no forward pass), so it works on sessions built from files too.
        """
        return self.measure().tokens(sample, layer)

    def __repr__(self) -> str:
        state = "measured" if self.measured else "not measured yet"
        return f"CondensationSession({self.name!r}, texts={len(self._state.texts)}, {state})"


def named_sessions(sessions: Any, *, where: str) -> dict[str, CondensationSession]:
    """One session, a result, a list/tuple of them or a ``{name: session}`` mapping, keyed by unique name.

    ``where`` names the caller in the errors (an empty input, an object of another type, two equal names, a
    session without texts).
    """
    if isinstance(sessions, Mapping):
        items: list[tuple[str | None, Any]] = [(str(name), session) for name, session in sessions.items()]
    else:
        items = [(None, s) for s in (sessions if isinstance(sessions, (list, tuple)) else [sessions])]
    if not items:
        raise ValueError(f"{where} needs at least one session.")
    named: dict[str, CondensationSession] = {}
    for name, session in items:
        if isinstance(session, CondensationResult):
            session = CondensationSession.from_result(session, name=name)
        if not isinstance(session, CondensationSession):
            raise TypeError(
                f"{where} takes CondensationSession or CondensationResult objects, got "
                f"{type(session).__name__}: wrap a model with nbc.CondensationSession(model, tokenizer, ...)."
            )
        name = name or session.name
        if name in named:
            raise ValueError(f"Two sessions are named {name!r}: give them distinct names "
                             "(CondensationSession(..., name=...) or pass a {name: session} dict).")
        if not session.texts:
            raise ValueError(f"Session {name!r} has no texts, so there is nothing to explore: add some with "
                             "session.add_texts([...]) first.")
        named[name] = session
    return named
