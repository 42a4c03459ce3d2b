"""The three helpers that notebooks 02, 04 and 05 share: ``make_model``, ``train`` and ``evaluate``.

A thin layer over :mod:`nb_condense.training` (public names only) that binds a notebook's data, tokenizer, sizes
and device once, so each lesson reads ``make_model, train, evaluate = lab.make_model, lab.train, lab.evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Lab:
    """A notebook's training set-up: its texts, held-out texts, tokenizer, model sizes, steps, seed and device.

    Example (the notebooks' values)::

        lab = tutorial.Lab(texts, held_out, tokenizer, n_layer=N_LAYER, n_embd=N_EMBD, n_head=N_HEAD,
                           block_size=BLOCK_SIZE, steps=STEPS, seed=SEED, device=DEVICE)
        make_model, train, evaluate = lab.make_model, lab.train, lab.evaluate
    """

    texts: Sequence[str]
    held_out: Sequence[str]
    tokenizer: Any
    n_layer: int
    n_embd: int
    n_head: int
    block_size: int
    steps: int
    seed: int = 0
    device: str = "cpu"

    def make_model(self, n_inner: int | None = None, n_embd: int | None = None, seed: int | None = None) -> Any:
        """A fresh GPT-2-like model drawn from ``seed`` (default: the lab's), on the lab's device."""
        from ..training import tiny_gpt2

        model = tiny_gpt2(n_layer=self.n_layer, n_embd=n_embd or self.n_embd, n_head=self.n_head, n_inner=n_inner,
                          vocab_size=len(self.tokenizer), n_positions=max(self.block_size, 128),
                          seed=self.seed if seed is None else seed)
        return model.to(self.device)

    def train(self, model: Any, steps: int | None = None, seed: int | None = None, name: str | None = None,
              **options: Any) -> Any:
        """``steps`` steps of the paper's optimiser recipe at a laptop learning rate on the lab's texts.

        Any ``pretrain`` option passes through (``dispersion_coeff=``, ``callbacks=``, ``neftune_noise_alpha=``).
        The run ends in one printed line, the CE loss beside the total (:func:`.progress.one_line_progress`, placed
        after ``callbacks`` so a live view still reads every loss), instead of the Trainer's loss table; ``name``
        names the run in that line (default: what is added to the CE loss, e.g. "CE only", "CE + dispersion (0.1)",
        "CE + NEFTune (alpha 5)", "CE + active forgetting", and the seed).
        """
        from ..training import pretrain
        from .progress import one_line_progress

        seed = self.seed if seed is None else seed
        coeff = float(options.get("dispersion_coeff") or 0.0)
        name = name or f"{_run_name(coeff, options)}, seed {seed}"
        options["callbacks"] = [*options.get("callbacks", ()), one_line_progress(name, coeff)]
        trained, _ = pretrain(model, self.tokenizer, list(self.texts), steps=self.steps if steps is None else steps,
                              block_size=self.block_size, seed=seed, use_cpu=self.device == "cpu", **options)
        return trained

    def distill(self, teacher: Any, student: Any, *, temperature: float = 2.0, alpha: float = 0.5,
                steps: int | None = None, seed: int | None = None, name: str | None = None, **options: Any) -> Any:
        """``student`` distilled from ``teacher`` on the lab's texts (``training.distill``), like :meth:`train`.

        The run ends in one printed line whose total is ``alpha x CE + (1 - alpha) x distillation`` with each part
        shown; ``name`` names it (default: ``"distilled (T 2, alpha 0.5), seed 0"``, and the dispersion
        coefficient if one is given). Any ``distill`` option passes through (``dispersion_coeff=``, ``callbacks=``).
        """
        from ..training import distill
        from .progress import one_line_progress

        seed = self.seed if seed is None else seed
        coeff = float(options.get("dispersion_coeff") or 0.0)
        added = f", dispersion {coeff:g}" if coeff else ""
        name = name or f"distilled (T {temperature:g}, alpha {alpha:g}{added}), seed {seed}"
        options["callbacks"] = [*options.get("callbacks", ()), one_line_progress(name, coeff, alpha)]
        distilled, _ = distill(teacher, student, self.tokenizer, list(self.texts), temperature=temperature,
                               alpha=alpha, steps=self.steps if steps is None else steps, block_size=self.block_size,
                               seed=seed, use_cpu=self.device == "cpu", **options)
        return distilled

    def evaluate(self, model: Any, name: str) -> tuple[dict[str, Any], Any]:
        """Condensation on the held-out texts (a session that keeps the model) and held-out perplexity."""
        from ..explore.session import CondensationSession
        from ..training import perplexity

        session = CondensationSession(model, self.tokenizer, texts=list(self.held_out), max_length=self.block_size,
                                      name=name)
        row = session.measure().trend_row(name)
        row["perplexity"] = perplexity(model, self.tokenizer, list(self.held_out), self.block_size)
        return row, session


def _run_name(coeff: float, options: dict[str, Any]) -> str:
    """What a run adds to the CE loss, for its progress line: the dispersion term, NEFTune, active forgetting."""
    from ..training import ActiveForgettingCallback

    added = [f"dispersion ({coeff:g})"] if coeff else []
    if alpha := options.get("neftune_noise_alpha"):
        added.append(f"NEFTune (alpha {alpha:g})")
    if any(isinstance(c, ActiveForgettingCallback) for c in options.get("callbacks", ())):
        added.append("active forgetting")
    return " + ".join(["CE", *added]) if added else "CE only"
