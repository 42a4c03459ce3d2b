"""The paper's numbers the tutorials quote, each with its stage, its caveat and its source line.

The line is in the project's paper briefing (``shared/docs/paper.md``; tags there: [code], [fig] ±0.03,
[unverified], [inf]).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .verdicts import AGREES, CANNOT_TELL, DISAGREES, Verdict, remember

FIGURE = "read off a figure, ±0.03"
UNVERIFIED = "third-party numbers the paper reports; not reproduced (marked unverified)"


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
        How sure it is (read off a figure, unverified, ...).
    line : int
        Its line in the project's paper briefing (paper.md).
    tolerance : float
        How far the reading itself may be off (0.03 for numbers read off a figure).
    """

    value: float
    what: str
    stage: str
    caveat: str
    line: int
    tolerance: float = 0.03

    def quote(self) -> str:
        """``+0.39 (GPT-2 small, the released model; read off a figure, ±0.03; paper.md line 53)``."""
        return f"{self.value:+.2f} ({self.stage}; {self.caveat}; paper.md line {self.line})"


def _f1(model: str, rho: float, tau: float, line: int = 53) -> dict[str, PaperNumber]:
    stage = f"{model}, the released model (after all its training)"
    return {f"rho {model}": PaperNumber(rho, "Spearman rho of the layer means, Wikipedia", stage, FIGURE, line),
            f"tau {model}": PaperNumber(tau, "Kendall tau of the layer means, Wikipedia", stage, FIGURE, line)}


PAPER: dict[str, PaperNumber] = {
    **_f1("gpt2", 0.39, 0.26), **_f1("gpt2-medium", -0.06, -0.05), **_f1("gpt2-large", 0.12, 0.04),
    **_f1("gpt2-xl", -0.58, -0.56),
    "rho Qwen/Qwen2.5-0.5B": PaperNumber(0.95, "Spearman rho, Wikipedia", "Qwen2.5-0.5B, released", FIGURE, 54),
    "rho Qwen/Qwen2.5-1.5B": PaperNumber(0.99, "Spearman rho, Wikipedia", "Qwen2.5-1.5B, released", FIGURE, 54),
    "rho Qwen/Qwen2.5-3B": PaperNumber(0.87, "Spearman rho, Wikipedia", "Qwen2.5-3B, released", FIGURE, 54),
    # Finding 2: random-init GPT-2 trained on fineweb-edu, measured on the last checkpoint (token budget unpublished)
    "F2 rho n_inner=64": PaperNumber(0.96, "Spearman rho", "n_inner 64, last checkpoint", FIGURE, 67),
    "F2 rho n_inner=4096": PaperNumber(0.43, "Spearman rho", "n_inner 4096, last checkpoint", FIGURE, 67),
    "F2 final n_inner=64": PaperNumber(0.57, "final-layer cosine", "n_inner 64, last checkpoint", FIGURE, 69),
    "F2 final n_inner=4096": PaperNumber(0.42, "final-layer cosine", "n_inner 4096, last checkpoint", FIGURE, 69),
    # Finding 3: OLMo-3-7B stage checkpoints; the stage names are our inference (paper.md line 71)
    "F3 rho init": PaperNumber(1.0, "Spearman rho", "OLMo-3-7B stage 1 step 0 (random initialisation)",
                               "read off a figure, ±0.03; stage names inferred (paper.md line 71)", 75),
    "F3 rho end of pre-training": PaperNumber(
        -0.31, "Spearman rho", "OLMo-3-7B end of stage 1, S1-1059k (pre-training)",
        "read off a figure, ±0.03; stage 1 = pre-training is our inference (paper.md line 71)", 75),
    "F3 rho main": PaperNumber(
        -0.46, "Spearman rho", "OLMo-3-7B 'Main', the released model after stages 2 and 3 (mid-training, "
        "long context)", "read off a figure, ±0.03; stage names inferred (paper.md line 71)", 75),
    # Finding 4: DeepSeek-R1 distilled (SFT on R1 samples, not logit KD: our inference, line 80) vs from scratch
    "F4 rho distilled 1.5B": PaperNumber(0.91, "Spearman rho", "DeepSeek-R1-Distill-Qwen-1.5B, released", FIGURE,
                                         85),
    "F4 rho scratch 1.5B": PaperNumber(0.91, "Spearman rho", "Qwen2.5-Math-1.5B, released", FIGURE, 84),
    "F4 rho distilled 7B": PaperNumber(0.78, "Spearman rho", "DeepSeek-R1-Distill-Qwen-7B, released", FIGURE, 85),
    "F4 rho scratch 7B": PaperNumber(0.81, "Spearman rho", "Qwen2.5-Math-7B, released", FIGURE, 84),
    # The fix: GPT-2 mid-training, 10-task mean x 100 (lm-eval, 500 examples per task, line 108)
    "gain over CE": PaperNumber(0.57, "10-task mean accuracy gain, points", "GPT-2 mid-training, 1526 steps: "
                                "+dispersion 35.52 vs CE-only 34.95", UNVERIFIED + "; 500 examples per task "
                                "(line 108); checkpoints picked on the test benchmarks (line 132)", 114, 0.0),
    "Qwen3 gain": PaperNumber(1.17, "mean accuracy gain, points", "Qwen3 pre-trained from scratch on C4 (156B "
                              "tokens): largest at 0.6B, little or none at 32B", UNVERIFIED, 116, 0.0),
}
"""Every paper number a notebook compares with, by key."""


def against_paper(what: str, estimate: float, interval: tuple[float, float], paper: PaperNumber | str,
                  differences: Sequence[str] = (), resolution: float = 0.5) -> Verdict:
    """Our number, with its interval, beside the paper's, and a verdict that can say "cannot tell".

    Parameters
    ----------
    what
        What is compared (``"GPT-2 small, Spearman rho"``).
    estimate, interval
        Our point estimate and its interval (``result.trend(ci=0.95).intervals[...]``).
    paper
        A :class:`PaperNumber` or its key in :data:`PAPER`.
    differences
        How this run's setting differs from the paper's (model, corpus, texts...), named in a disagreement.
    resolution
        An interval wider than this cannot test the number: the verdict is "cannot tell at this size" even
        when it contains the paper's value (0.5 for a rank correlation: GPT-2 small and medium differ by 0.45).

    Returns
    -------
    Verdict
        ``agrees`` when our interval reaches the paper's value (± its reading tolerance) and is narrow enough,
        ``disagrees`` when it does not reach it, ``cannot tell at this size`` when it is too wide.
    """
    number = PAPER[paper] if isinstance(paper, str) else paper
    low, high = (float(v) for v in interval)
    overlaps = low <= number.value + number.tolerance and high >= number.value - number.tolerance
    ours = f"ours {estimate:+.2f} (95 % interval {low:+.2f} to {high:+.2f})"
    if overlaps and high - low > resolution:
        word, why = CANNOT_TELL, f"our interval is wider than {resolution:g}: measure more texts"
    elif overlaps:
        word, why = AGREES, "the paper's value lies within our interval"
    elif differences:
        word, why = DISAGREES, "this run differs from the paper's: " + "; ".join(differences)
    else:
        word, why = DISAGREES, "in the paper's own setting: a real difference, worth a closer look"
    sentence = f"{what}: {ours}; the paper {number.quote()} -> {word}: {why}."
    print(sentence)
    return remember(Verdict(what, word, float(estimate), (low, high), sentence))
