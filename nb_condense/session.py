"""A measurement session: measure once, then ask questions answered from the stored histograms.

Example
-------
>>> import nb_condense as nbc
>>> session = nbc.CondensationSession("embedded", dataset="builtin", n_texts=3, max_length=32,
...                                   show_progress=False)
>>> session.distribution(layers=[0, -1]).groupby("layer")["density"].sum().mul(2 / 128).round(6).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .extract import iter_hidden_states, tokenize_texts
from .measure import MeasureSettings, _pad_id, check_texts, choose_texts, measure_texts, resolve_model
from .metrics import cosine_matrices, density_from_counts
from .result import CondensationResult

__all__ = ["CondensationSession", "compare"]


class CondensationSession:
    """Cached, queryable condensation measurements of one model on one set of texts.

    Measuring is lazy: it happens at the first query and is stored; later queries read the stored
    histograms and statistics. Samples are addressed by their index in :attr:`texts`, layers by
    hidden-state index (0 = embedding output; negative indices count from the end).

    Parameters are those of :func:`nb_condense.measure`; ``model`` may be a name (``"gpt2"``,
    ``"embedded"``, ``"random:gpt2"``). ``name`` labels the model in comparisons.
    """

    def __init__(
        self,
        model: Any = None,
        tokenizer: Any = None,
        *,
        texts: Sequence[str] | None = None,
        dataset: str = "wikipedia",
        n_texts: int = 100,
        max_length: int = 512,
        batch_size: int | None = None,
        bins: int = 128,
        include_diagonal: bool = False,
        layers: Sequence[int] | None = None,
        min_word_count: int = 1024,
        max_word_count: int = 1280,
        seed: int = 0,
        name: str | None = None,
        show_progress: bool = True,
    ) -> None:
        self.settings = MeasureSettings(
            max_length=max_length,
            batch_size=batch_size,
            bins=bins,
            include_diagonal=include_diagonal,
            layers=layers,
        )
        self._texts, self._corpus = choose_texts(texts, dataset, n_texts, min_word_count=min_word_count,
                                                 max_word_count=max_word_count, seed=seed, allow_empty=True)
        self.model, self.tokenizer = (None, None) if model is None else resolve_model(model, tokenizer)
        self._name = name
        self.show_progress = show_progress
        self._result: CondensationResult | None = None

    # ----- construction from saved measurements -----------------------------------------------------
    @classmethod
    def from_result(cls, result: CondensationResult, *, name: str | None = None) -> CondensationSession:
        """A session over an existing result (no model: everything but :meth:`tokens` works)."""
        session = cls.__new__(cls)
        meta = result.metadata
        session.settings = MeasureSettings(
            max_length=int(meta.get("max_length", 512)),
            bins=result.bins,
            include_diagonal=bool(meta.get("include_diagonal", False)),
            layers=tuple(int(k) for k in result.layers),
        )
        session._texts = list(result.texts) if result.texts is not None else [""] * result.n_texts
        session._corpus = {k: meta[k] for k in ("corpus", "seed") if k in meta}
        session.model = session.tokenizer = None
        session._name = name
        session.show_progress = False
        session._result = result
        return session

    @classmethod
    def from_file(cls, path: str | Path, *, name: str | None = None) -> CondensationSession:
        """A session over a result saved with :meth:`CondensationResult.save`."""
        return cls.from_result(CondensationResult.load(path), name=name)

    # ----- the cached measurement -------------------------------------------------------------------
    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        if self._result is not None:
            return str(self._result.metadata.get("model_name"))
        return str(getattr(getattr(self.model, "config", None), "_name_or_path", "") or type(self.model).__name__)

    @property
    def result(self) -> CondensationResult:
        """The measurement (made at the first access, then cached)."""
        return self.measure()

    @property
    def measured(self) -> bool:
        """Whether the measurement is made (queries then answer without running the model)."""
        return self._result is not None

    def measure(self, progress: Callable[[int, int], None] | None = None) -> CondensationResult:
        """Measure now unless already done, and return the result.

        ``progress(done, total)`` is called after each text (e.g. to feed a progress bar).
        """
        if self._result is None:
            if not self._texts:
                raise ValueError("The session has no texts yet: add some with session.add_texts([...]).")
            self._result = self._measure(self._texts, progress)
        return self._result

    def _measure(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> CondensationResult:
        if self.model is None:
            raise ValueError("This session has no model (it was built from a saved result): cannot measure texts.")
        on_text = None
        if progress is not None:
            done = [0]

            def on_text(_index: int, _cos: Any) -> None:
                done[0] += 1
                progress(done[0], len(texts))

        return measure_texts(self.model, self.tokenizer, texts, self.settings, show_progress=self.show_progress,
                             metadata=self._corpus, on_text=on_text)

    def add_texts(self, texts: Sequence[str]) -> list[int]:
        """Measure ``texts`` (only these) and add them; returns their sample indices."""
        new = check_texts(texts)
        start = len(self._texts)
        if self._result is None and not self._texts:
            self._result = self._measure(new)
        else:
            old = self.result
            extra = self._measure(new)
            stats = extra.stats.assign(text=extra.stats["text"] + old.n_texts)
            self._result = CondensationResult(
                histograms=np.concatenate([old.histograms, extra.histograms]),
                stats=pd.concat([old.stats, stats], ignore_index=True),
                layers=old.layers,
                token_counts=np.concatenate([old.token_counts, extra.token_counts]),
                metadata={**old.metadata, "corpus": "mixed" if old.metadata.get("corpus") != "texts" else "texts"},
                texts=[*(old.texts or [""] * old.n_texts), *new],
            )
        self._texts.extend(new)
        return list(range(start, start + len(new)))

    # ----- validation -------------------------------------------------------------------------------
    def _layer_positions(self, layers: Sequence[int] | int | None) -> np.ndarray:
        known = self.result.layers
        if layers is None:
            return np.arange(len(known))
        if isinstance(layers, (int, np.integer)):
            layers = [int(layers)]
        n_entries = int(self.result.metadata.get("n_entries", int(known.max()) + 1))
        positions = []
        for layer in layers:
            if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
                raise TypeError(f"Layer indices must be integers, got {layer!r}.")
            index = int(layer) + n_entries if layer < 0 else int(layer)
            hits = np.flatnonzero(known == index)
            if not hits.size:
                raise ValueError(f"Layer {layer} was not measured; measured layers: {known.tolist()}.")
            positions.append(int(hits[0]))
        if not positions:
            raise ValueError("`layers` is empty: pass None for all layers or a list of layer indices.")
        return np.array(sorted(set(positions)))

    def _sample_indices(self, samples: Sequence[int] | int | None) -> np.ndarray:
        n = self.result.n_texts
        if samples is None:
            return np.arange(n)
        if isinstance(samples, (int, np.integer)):
            samples = [int(samples)]
        chosen = []
        for sample in samples:
            if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < n:
                raise ValueError(f"Unknown sample {sample!r}: samples are text indices 0..{n - 1}.")
            chosen.append(int(sample))
        if not chosen:
            raise ValueError("`samples` is empty: pass None for all texts or a list of text indices.")
        return np.array(sorted(set(chosen)))

    # ----- queries ----------------------------------------------------------------------------------
    def distribution(self, layers: Sequence[int] | int | None = None,
                     samples: Sequence[int] | int | None = None) -> pd.DataFrame:
        """Pooled density per layer over the chosen texts: one row per (layer, bin).

        Columns: ``layer, layer_fraction, bin, cosine`` (bin centre), ``cosine_low, cosine_high, density``.
        Pooling sums counts, so a text weighs by its number of pairs; each layer's density integrates to 1.
        """
        result = self.result
        positions = self._layer_positions(layers)
        chosen = self._sample_indices(samples)
        counts = result.histograms[chosen][:, positions].sum(axis=0)
        density = density_from_counts(counts)
        bins = result.bins
        edges = result.bin_edges
        n_layers = len(positions)
        return pd.DataFrame(
            {
                "layer": np.repeat(result.layers[positions], bins),
                "layer_fraction": np.repeat(result.layer_fractions[positions], bins),
                "bin": np.tile(np.arange(bins), n_layers),
                "cosine": np.tile((edges[:-1] + edges[1:]) / 2, n_layers),
                "cosine_low": np.tile(edges[:-1], n_layers),
                "cosine_high": np.tile(edges[1:], n_layers),
                "density": density.reshape(-1),
            }
        )

    def summary(self) -> pd.DataFrame:
        """Per-layer statistics over all texts (see :meth:`CondensationResult.summary`)."""
        return self.result.summary()

    def layer_means(self) -> pd.DataFrame:
        """Mean cosine per layer: ``model, layer, layer_fraction, mean``."""
        result = self.result
        return pd.DataFrame({"model": self.name, "layer": result.layers, "layer_fraction": result.layer_fractions,
                             "mean": result.layer_means})

    def trend(self) -> pd.DataFrame:
        """One row: ``model, n_parameters, spearman_rho, kendall_tau, last_1_mean .. last_5_mean, last_half_mean``."""
        result = self.result
        row = {"model": self.name, "n_parameters": result.metadata.get("n_parameters"), "n_layers": result.n_layers}
        row.update(result.trend().as_dict())
        return pd.DataFrame([row])

    def samples(self, n_words: int = 8) -> pd.DataFrame:
        """One row per text: ``sample, first_words, n_tokens, last_layer_mean``."""
        result = self.result
        last = result.stats[result.stats["layer"] == result.layers[-1]].sort_values("text")
        return pd.DataFrame(
            {
                "sample": np.arange(result.n_texts),
                "first_words": [" ".join(t.split()[:n_words]) for t in self._texts],
                "n_tokens": result.token_counts,
                "last_layer_mean": last["mean"].to_numpy(),
            }
        )

    def tokens(self, sample: int, layer: int) -> pd.DataFrame:
        """Per-token view of one text at one layer: ``position, token, mean_cosine`` (to the other tokens).

        Computed on demand for this one text (one forward pass); needs the session's model.
        """
        index = int(self._sample_indices(sample)[0])
        position = int(self._layer_positions(layer)[0])
        layer_index = int(self.result.layers[position])
        if self.model is None:
            raise ValueError("tokens() needs the model: this session was built from a saved result.")
        encodings = tokenize_texts(self.tokenizer, [self._texts[index]], self.settings.max_length)
        batch = next(iter_hidden_states(self.model, encodings, pad_token_id=_pad_id(self.tokenizer), batch_size=1,
                                        layers=[layer_index]))
        cos = cosine_matrices(batch.text(0))[0].double()
        n = cos.shape[0]
        mean = (cos.sum(1) - cos.diagonal()) / max(n - 1, 1)
        ids = encodings[0]["input_ids"].tolist()
        return pd.DataFrame({"position": np.arange(n), "token": self.tokenizer.convert_ids_to_tokens(ids),
                             "mean_cosine": mean.cpu().numpy()})

    def explore(self, **options: Any) -> Any:
        """An interactive :class:`~nb_condense.widget.CondensationExplorer` over this session.

        ``options`` are the explorer's (``view``, ``layers``, ``samples``, ...).
        """
        from .widget import CondensationExplorer  # the widget stage sits above the session: import on use

        return CondensationExplorer(self, **options)

    def __repr__(self) -> str:
        state = "measured" if self._result is not None else "not measured yet"
        return f"CondensationSession({self.name!r}, texts={len(self._texts)}, {state})"


def compare(sessions: Sequence[CondensationSession]) -> pd.DataFrame:
    """Finding 1's table: one row per model with n_parameters, rho, tau, last-N and last-half means.

    Sessions must share ``bins`` and ``include_diagonal`` (their numbers are not comparable otherwise).
    """
    sessions = list(sessions)
    if not sessions:
        raise ValueError("compare() needs at least one session.")
    first = sessions[0].settings
    for session in sessions[1:]:
        for field in ("bins", "include_diagonal"):
            if getattr(session.settings, field) != getattr(first, field):
                raise ValueError(
                    f"Cannot compare {sessions[0].name!r} and {session.name!r}: measured with {field}="
                    f"{getattr(first, field)} vs {getattr(session.settings, field)}. Measure both the same way."
                )
    return pd.concat([s.trend() for s in sessions], ignore_index=True)
