"""The "implement, then check" exercises of the tutorials.

Each check runs the student's function on fresh inputs beside the package's own computation (never beside the
solution shown in the dropdown) and, when they differ, names the likely mistake. Inputs are drawn so that no listed
mistake can pass by chance: continuous parameters, lengths over a wide range, several cases per call. Where the
exercise is a loss, the student's gradient is compared with the reference's too.

Every check prints "All tests in `check_...` passed!" when the function is right and prints that it is not written
yet (so "Run all" goes on) when it raises ``NotImplementedError``. A wrong answer raises :class:`ExerciseError`,
which IPython shows as its one-line hint, without the package's traceback. A check returns None; its outcome is
kept in :data:`CHECKS`. ``check_X`` checks the function named ``X``; ``seed=`` draws reproducible inputs (the tests
use it). Torch is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable

from ._harness import CHECKS, UNKNOWN, Case, ExerciseError, yours_or_ours
from .losses import (
    check_angular_spread,
    check_compute_loss,
    check_dispersion_penalty,
    check_distillation_loss,
    check_distillation_objective,
    check_softened_entropy,
)
from .measuring import (
    check_last_half_mean,
    check_layer_mean_cosine,
    check_masked_layer_means,
    check_pooled_layer_means,
    check_position_averaged,
    check_spearman_rho,
)
from .statistics import (
    check_bootstrap_interval,
    check_change_interval,
    check_learning_rates,
    check_perplexity,
    check_residual_cosine,
    check_rho_by_step,
)

__all__ = [
    "CHECKS",
    "UNKNOWN",
    "Case",
    "ExerciseError",
    "yours_or_ours",
    "ALL_CHECKS",
    "check_X",
    "check_angular_spread",
    "check_bootstrap_interval",
    "check_change_interval",
    "check_compute_loss",
    "check_dispersion_penalty",
    "check_distillation_loss",
    "check_distillation_objective",
    "check_last_half_mean",
    "check_layer_mean_cosine",
    "check_learning_rates",
    "check_masked_layer_means",
    "check_perplexity",
    "check_pooled_layer_means",
    "check_position_averaged",
    "check_residual_cosine",
    "check_rho_by_step",
    "check_softened_entropy",
    "check_spearman_rho",
]

ALL_CHECKS: dict[str, Callable[..., None]] = {
    f.__name__: f for f in (
        check_layer_mean_cosine, check_masked_layer_means, check_pooled_layer_means, check_spearman_rho,
        check_position_averaged, check_last_half_mean, check_bootstrap_interval, check_perplexity, check_learning_rates,
        check_change_interval, check_rho_by_step, check_residual_cosine, check_distillation_loss,
        check_distillation_objective, check_softened_entropy, check_angular_spread, check_dispersion_penalty,
        check_compute_loss,
    )
}
"""Every check, by name (``check_X`` checks the function ``X``)."""
