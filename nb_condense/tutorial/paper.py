"""The paper's numbers the tutorials quote, each with its stage, its caveat and its entry in docs/paper_numbers.md.

The paper: Liu et al., ICML 2026, arXiv 2602.00217. Each number names the finding and the kind of evidence (a table
of the paper, or a value read off one of its figures, ±0.03) and links to its anchor in ``docs/paper_numbers.md``,
which states the stage, the caveat and our inferences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .verdicts import AGREES, CANNOT_TELL, DISAGREES, Verdict, remember, same_every_resample

ARXIV = "arXiv 2602.00217"
NUMBERS = "docs/paper_numbers.md"
RESOLUTION = 0.35
"""The widest interval :func:`against_paper` reads as a test. GPT-2 small and medium differ by 0.45; an interval
of 0.35, widened by the ±0.03 reading tolerance at both ends, cannot reach both."""


def _figure(finding: str) -> str:
    return f"read off the paper's {finding} figure, ±0.03"


def _table(what: str) -> str:
    return f"the paper's {what} table; not reproduced by us"


@dataclass(frozen=True)
class PaperNumber:
    """One number of the paper, as the tutorials quote it.

    Attributes
    ----------
    value : float
        The number.
    what : str
        What it measures.
    stage : str
        Which model or checkpoint it belongs to (a training stage when there is one).
    caveat : str
        The kind of evidence and how sure it is (read off which figure, ±0.03; a table not reproduced; ...).
    anchor : str
        Its entry in ``docs/paper_numbers.md`` (the finding, the stage, the caveat, our inferences).
    tolerance : float
        How far the reading itself may be off (0.03 for numbers read off a figure).
    """

    value: float
    what: str
    stage: str
    caveat: str
    anchor: str
    tolerance: float = 0.03

    @property
    def link(self) -> str:
        """Where its entry is: ``docs/paper_numbers.md#f1-gpt2-wikipedia``."""
        return f"{NUMBERS}#{self.anchor}"

    def quote(self) -> str:
        """``+0.39 (GPT-2 small, ...; read off the paper's Finding 1 figure, ±0.03; arXiv 2602.00217, see ...)``."""
        return f"{self.value:+.2f} ({self.stage}; {self.caveat}; {ARXIV}, see {self.link})"


def _f1(model: str, rho: float, tau: float) -> dict[str, PaperNumber]:
    stage = f"{model}, the released model (after all its training)"
    return {f"rho {model}": PaperNumber(rho, "Spearman rho of the layer means, Wikipedia", stage,
                                        _figure("Finding 1"), "f1-gpt2-wikipedia"),
            f"tau {model}": PaperNumber(tau, "Kendall tau of the layer means, Wikipedia", stage,
                                        _figure("Finding 1"), "f1-gpt2-wikipedia")}


def _qwen(size: str, rho: float) -> dict[str, PaperNumber]:
    return {f"rho Qwen/Qwen2.5-{size}": PaperNumber(rho, "Spearman rho, Wikipedia", f"Qwen2.5-{size}, released",
                                                    _figure("Finding 1"), "f1-other-families")}


_F3 = "; the stage names are our inference"
_F4 = "; an observational comparison of public models"
PAPER: dict[str, PaperNumber] = {
    **_f1("gpt2", 0.39, 0.26), **_f1("gpt2-medium", -0.06, -0.05), **_f1("gpt2-large", 0.12, 0.04),
    **_f1("gpt2-xl", -0.58, -0.56), **_qwen("0.5B", 0.95), **_qwen("1.5B", 0.99), **_qwen("3B", 0.87),
    # Finding 2: random-init GPT-2 trained on fineweb-edu, measured on the last checkpoint (token budget unpublished)
    "F2 rho n_inner=64": PaperNumber(0.96, "Spearman rho", "n_inner 64, last checkpoint", _figure("Finding 2"),
                                     "f2-mlp-width"),
    "F2 rho n_inner=4096": PaperNumber(0.43, "Spearman rho", "n_inner 4096, last checkpoint", _figure("Finding 2"),
                                       "f2-mlp-width"),
    "F2 final n_inner=64": PaperNumber(0.57, "final-layer cosine", "n_inner 64, last checkpoint",
                                       _figure("Finding 2"), "f2-mlp-width"),
    "F2 final n_inner=4096": PaperNumber(0.42, "final-layer cosine", "n_inner 4096, last checkpoint",
                                         _figure("Finding 2"), "f2-mlp-width"),
    # Finding 3: OLMo-3-7B stage checkpoints; stage 1 = pre-training etc. is our inference
    "F3 rho init": PaperNumber(1.0, "Spearman rho", "OLMo-3-7B stage 1 step 0 (random initialisation)",
                               _figure("Finding 3"), "f3-olmo"),
    "F3 rho end of pre-training": PaperNumber(
        -0.31, "Spearman rho", "OLMo-3-7B end of stage 1, step 1059k (pre-training, by our reading)",
        _figure("Finding 3") + _F3, "f3-olmo"),
    "F3 rho main": PaperNumber(
        -0.46, "Spearman rho", "OLMo-3-7B 'Main', the released model after stages 2 and 3 (mid-training, "
        "long context, by our reading)", _figure("Finding 3") + _F3, "f3-olmo"),
    # Finding 4: DeepSeek-R1 distilled (SFT on R1 samples, not logit KD: our inference) vs from scratch
    "F4 rho distilled 1.5B": PaperNumber(0.91, "Spearman rho", "DeepSeek-R1-Distill-Qwen-1.5B, released",
                                         _figure("Finding 4") + _F4, "f4-distillation"),
    "F4 rho scratch 1.5B": PaperNumber(0.91, "Spearman rho", "Qwen2.5-Math-1.5B, released",
                                       _figure("Finding 4") + _F4, "f4-distillation"),
    "F4 rho distilled 7B": PaperNumber(0.78, "Spearman rho", "DeepSeek-R1-Distill-Qwen-7B, released",
                                       _figure("Finding 4") + _F4, "f4-distillation"),
    "F4 rho scratch 7B": PaperNumber(0.81, "Spearman rho", "Qwen2.5-Math-7B, released",
                                     _figure("Finding 4") + _F4, "f4-distillation"),
    # The fix: GPT-2 mid-training, 10-task mean x 100 (lm-eval, 500 examples per task, 3 seeds)
    "gain over CE": PaperNumber(0.57, "10-task mean accuracy gain, points", "GPT-2 mid-training, 1526 steps: "
                                "+dispersion 35.52 vs CE-only 34.95, means over 3 seeds",
                                _table("GPT-2 mid-training") + "; 500 examples per task; checkpoints picked on "
                                "the same benchmarks", "gpt2-benchmark", 0.0),
    "Qwen3 gain": PaperNumber(1.17, "mean accuracy gain, points", "Qwen3 pre-trained from scratch on C4 (156B "
                              "tokens): largest at 0.6B, little or none at 32B", _table("Qwen3 pre-training"),
                              "qwen3-gain", 0.0),
}
"""Every paper number a notebook compares with, by key."""


def against_paper(what: str, estimate: float, interval: tuple[float, float], paper: PaperNumber | str,
                  differences: Sequence[str] = (), resolution: float = RESOLUTION) -> Verdict:
    """Our number, with its interval, beside the paper's, and a verdict that can say "cannot tell".

    Parameters
    ----------
    what
        What is compared (``"GPT-2 small, Spearman rho"``).
    estimate, interval
        Our point estimate and its interval (``result.trend(ci=0.95).intervals[...]``, or
        :func:`~nb_condense.tutorial.verdicts.paper_definition` to compare like with like).
    paper
        A :class:`PaperNumber` or its key in :data:`PAPER`.
    differences
        How this run's setting differs from the paper's (model, corpus, texts...), named in a disagreement.
    resolution
        An interval wider than this cannot test the number: the verdict is "cannot tell at this size" even
        when it contains the paper's value. The default, :data:`RESOLUTION` (0.35), is below the 0.45 between
        GPT-2 small and medium, reading tolerances included, so an "agrees" never holds two neighbouring models.

    Returns
    -------
    Verdict
        ``agrees`` when our interval reaches the paper's value (± its reading tolerance) and is narrow enough,
        ``disagrees`` when it does not reach it, ``cannot tell at this size`` when it is too wide.
    """
    number = PAPER[paper] if isinstance(paper, str) else paper
    low, high = (float(v) for v in interval)
    overlaps = low <= number.value + number.tolerance and high >= number.value - number.tolerance
    ours = f"ours {estimate:+.2f} (95 % interval {low:+.2f} to {high:+.2f}{same_every_resample(low, high)})"
    if overlaps and high - low > resolution:
        word, why = CANNOT_TELL, (f"our interval is wider than {resolution:g}, so it could also hold a "
                                  "neighbouring model's value: measure more texts")
    elif overlaps:
        word, why = AGREES, "the paper's value lies within our interval"
    elif differences:
        word, why = DISAGREES, "this run differs from the paper's: " + "; ".join(differences)
    else:
        word, why = DISAGREES, ("in the paper's own setting; the paper's value has its own sampling noise "
                                "(its texts, its reading off a figure), which our interval does not include")
    sentence = f"{what}: {ours}; the paper {number.quote()} -> {word}: {why}."
    print(sentence)
    return remember(Verdict(what, word, float(estimate), (low, high), sentence))
