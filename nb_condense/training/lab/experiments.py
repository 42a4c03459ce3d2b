"""The lab's experiments: the paper's Findings 2 and 4 at laptop scale, sized by one :class:`LabConfig`."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from ...core.result import CondensationResult
from ...measurement.engine import measure_texts
from ...measurement.settings import MeasureSettings
from .data import train_tokenizer
from .models import tiny_gpt2
from .runs import distill, perplexity, pretrain

__all__ = ["LabConfig", "controlled_width_experiment", "distillation_experiment"]


@dataclass(frozen=True)
class LabConfig:
    """The size of a lab experiment: the models, the training run and the texts (builtin corpus)."""

    steps: int = 150
    """Training steps of each run."""
    n_layer: int = 4
    n_embd: int = 64
    n_head: int = 4
    n_texts: int = 120
    """Training texts (200-400 words each)."""
    block_size: int = 64
    """Tokens per training block, and per measured text."""
    vocab_size: int = 2048
    """Vocabulary of the BPE tokenizer trained on the training texts."""
    n_measure_texts: int = 20
    """Held-out texts measured (and scored for perplexity), sampled with another seed than the training texts."""
    seed: int = 0

    def replace(self, **changes: Any) -> LabConfig:
        """A copy with some fields changed; ``measure_texts=`` (deprecated) is ``n_measure_texts=``."""
        if "measure_texts" in changes:
            warnings.warn("measure_texts= is deprecated since nb_condense 0.4.0: pass n_measure_texts= (the number "
                          "of held-out texts measured).", DeprecationWarning, stacklevel=4)
            changes["n_measure_texts"] = changes.pop("measure_texts")
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"Unknown lab setting(s) {', '.join(unknown)}; LabConfig has "
                            f"{', '.join(f.name for f in dataclasses.fields(self))}.")
        return dataclasses.replace(self, **changes)

    def gpt2(self, width: int, vocab_size: int) -> torch.nn.Module:
        """An untrained GPT-2 of this size with MLP width ``width``."""
        return tiny_gpt2(n_layer=self.n_layer, n_embd=self.n_embd, n_head=self.n_head, n_inner=width,
                         vocab_size=vocab_size, n_positions=max(self.block_size, 128), seed=self.seed)


@dataclass
class _Lab:
    """An experiment's texts and tokenizer, and how it trains and scores its models."""

    config: LabConfig
    train_texts: list[str]
    held_out: list[str]
    tokenizer: Any

    @classmethod
    def prepare(cls, config: LabConfig) -> _Lab:
        """Builtin training texts, disjoint-seed held-out texts, and a BPE tokenizer trained on the former."""
        from ...measurement.corpus import sample_texts

        c = config
        train_texts = sample_texts("builtin", c.n_texts, min_word_count=200, max_word_count=400, seed=c.seed)
        held_out = sample_texts("builtin", c.n_measure_texts, min_word_count=200, max_word_count=400,
                                seed=c.seed + 10_000)
        return cls(config, train_texts, held_out, train_tokenizer(train_texts, vocab_size=c.vocab_size))

    def model(self, width: int) -> torch.nn.Module:
        return self.config.gpt2(width, len(self.tokenizer))

    def train(self, model: torch.nn.Module, **options: Any) -> torch.nn.Module:
        c = self.config
        trained, _ = pretrain(model, self.tokenizer, self.train_texts, steps=c.steps, block_size=c.block_size,
                              seed=c.seed, **options)
        return trained

    def evaluate(self, model: torch.nn.Module, name: str) -> tuple[dict[str, Any], CondensationResult]:
        """Condensation trend and perplexity of ``model`` on the held-out texts, and its measurement (``name``)."""
        block = self.config.block_size
        result = measure_texts(model, self.tokenizer, self.held_out, MeasureSettings(max_length=block),
                               show_progress=False, metadata={"model_name": name})
        trend = result.trend_row(name)
        row = {k: trend[k] for k in ("spearman_rho", "kendall_tau", "last_layer_mean")}
        return {**row, "perplexity": perplexity(model, self.tokenizer, self.held_out, block)}, result


def _config(config: LabConfig | None, overrides: dict[str, Any]) -> LabConfig:
    return (config or LabConfig()).replace(**overrides)


def controlled_width_experiment(widths: Sequence[int] = (32, 128, 512), *, config: LabConfig | None = None,
                                dispersion_coeff: float = 0.0, **overrides: Any
                                ) -> tuple[pd.DataFrame, dict[int, dict[str, CondensationResult]]]:
    """Finding 2 at laptop scale: GPT-2-like models that differ only in MLP width (``n_inner``).

    Each width is measured at initialisation and after ``config.steps`` training steps on the builtin corpus
    (held-out builtin texts for the measurement). ``config`` (a :class:`LabConfig`) sizes the experiment; keyword
    ``overrides`` change its fields (``steps=``, ``n_layer=``, ``n_measure_texts=`` ...). Returns a table
    (``width, n_parameters, stage, spearman_rho, kendall_tau, last_layer_mean, perplexity``) and the measurements
    (:class:`~nb_condense.core.result.CondensationResult`, named ``"n_inner=<width> (<stage>)"``) per width and
    stage. The paper's setting (``PAPER_GPT2``, n_inner 64..4096, fineweb-edu) is a GPU job: build
    ``tiny_gpt2(n_inner=width, **PAPER_GPT2)`` and train it on your own texts with :func:`pretrain`.
    """
    lab = _Lab.prepare(_config(config, overrides))
    rows: list[dict[str, Any]] = []
    results: dict[int, dict[str, CondensationResult]] = {}
    for width in widths:
        model = lab.model(width)
        results[width] = {}
        for stage in ("init", "trained"):
            if stage == "trained":
                model = lab.train(model, dispersion_coeff=dispersion_coeff)
            row, result = lab.evaluate(model, f"n_inner={width} ({stage})")
            rows.append({"width": width, "n_parameters": result.metadata["n_parameters"], "stage": stage, **row})
            results[width][stage] = result
    return pd.DataFrame(rows), results


def distillation_experiment(*, teacher_width: int = 1024, student_width: int = 32, config: LabConfig | None = None,
                            temperature: float = 2.0, alpha: float = 0.5, **overrides: Any) -> pd.DataFrame:
    """Finding 4 at laptop scale: test whether logit distillation from a wide teacher transfers its resistance.

    Trains a wide-MLP teacher, then the same narrow student twice from the same initialisation: from
    scratch (LM loss) and distilled (:func:`distill`). ``config`` and ``overrides`` size it as in
    :func:`controlled_width_experiment`. Returns ``model, spearman_rho, kendall_tau, last_layer_mean,
    perplexity`` for teacher, scratch student and distilled student.
    """
    lab = _Lab.prepare(_config(config, overrides))
    c = lab.config
    teacher = lab.train(lab.model(teacher_width))
    scratch = lab.train(lab.model(student_width))
    distilled, _ = distill(teacher, lab.model(student_width), lab.tokenizer, lab.train_texts, temperature=temperature,
                           alpha=alpha, steps=c.steps, block_size=c.block_size, seed=c.seed)
    models = ((f"teacher n_inner={teacher_width}", teacher), (f"scratch n_inner={student_width}", scratch),
              (f"distilled n_inner={student_width}", distilled))
    return pd.DataFrame([{"model": name, **lab.evaluate(model, name)[0]} for name, model in models])
