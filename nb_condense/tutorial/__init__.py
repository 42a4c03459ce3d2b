"""Helpers of the tutorial notebooks (light: no torch or transformers at import).

- :func:`setup`: the one visible setup cell (Colab, Binder, memory limit, device, preset, estimates);
- :func:`against_paper` and :data:`PAPER`: the paper's numbers with stage, caveat and their entry in
  ``docs/paper_numbers.md``;
- :func:`judge`, :func:`contrast`, :func:`bootstrap_mean`, :func:`paper_definition`: verdicts with intervals
  ("agrees", "disagrees", "cannot tell at this size");
- :func:`one_line_progress`: one summary line per training run, the CE beside the total;
- ``check_...``: the "implement, then check" exercises; :mod:`.solutions`: their reference solutions (dropdowns);
- :class:`Lab`: ``make_model``, ``train`` and ``evaluate``, shared by notebooks 02, 04 and 05;
- :data:`GLOSSARY`; :func:`record`: the collapsed last cell that hands numbers to the tests.
"""

from __future__ import annotations

from . import solutions
from .checks import (
    ALL_CHECKS,
    CHECKS,
    ExerciseError,
    check_angular_spread,
    check_bootstrap_interval,
    check_change_interval,
    check_compute_loss,
    check_dispersion_penalty,
    check_distillation_loss,
    check_distillation_objective,
    check_last_half_mean,
    check_layer_mean_cosine,
    check_learning_rates,
    check_masked_layer_means,
    check_perplexity,
    check_pooled_layer_means,
    check_position_averaged,
    check_residual_cosine,
    check_rho_by_step,
    check_softened_entropy,
    check_spearman_rho,
    yours_or_ours,
)
from .glossary import GLOSSARY, glossary_markdown, link
from .lab import Lab
from .lessons import LESSONS, Estimate, LessonPlan, lesson_plan
from .paper import PAPER, PaperNumber, against_paper
from .platform import Platform, detect_platform, enable_colab_widgets, memory_limit
from .progress import one_line_progress, summary_line
from .record import record
from .setup import Lesson, download_hint, setup
from .verdicts import (
    AGREES,
    CANNOT_TELL,
    DISAGREES,
    VERDICTS,
    Contrast,
    Measured,
    Verdict,
    bootstrap_mean,
    contrast,
    judge,
    measured,
    paper_definition,
)

__all__ = [
    "AGREES", "CANNOT_TELL", "CHECKS", "DISAGREES", "GLOSSARY", "LESSONS", "PAPER", "VERDICTS", "Contrast",
    "Estimate", "ExerciseError", "Lesson", "LessonPlan", "Measured", "PaperNumber", "Platform", "Verdict",
    "against_paper", "bootstrap_mean", "paper_definition",
    "ALL_CHECKS", "check_angular_spread", "check_bootstrap_interval", "check_change_interval", "check_compute_loss",
    "check_dispersion_penalty", "check_distillation_loss", "check_distillation_objective", "check_last_half_mean",
    "check_learning_rates",
    "check_layer_mean_cosine", "check_masked_layer_means", "check_perplexity", "check_pooled_layer_means",
    "check_position_averaged", "check_residual_cosine", "check_rho_by_step", "check_softened_entropy",
    "check_spearman_rho", "contrast", "detect_platform", "download_hint", "one_line_progress", "summary_line",
    "enable_colab_widgets", "glossary_markdown", "judge", "lesson_plan", "link", "measured", "memory_limit", "record",
    "setup", "solutions", "yours_or_ours", "Lab",
]
