"""One line of progress per training run, with the CE loss beside the total (instead of a 20-row loss table).

In a notebook the ``transformers.Trainer`` prints a "Step / Training Loss" table whose "Training Loss" is the
*total* loss (CE + coefficient x dispersion), so at a large coefficient it reads as if language modelling got
better. :func:`one_line_progress` keeps the Trainer's progress bar, drops its table, and prints one line at the
end of the run: the final total loss, split into its CE and dispersion parts.
"""

from __future__ import annotations

from typing import Any

_CLASS: Any = None


def summary_line(name: str, step: int, logs: dict[str, float], coeff: float | None = None,
                 alpha: float | None = None) -> str:
    """``"CE only: 120 steps; final loss 5.912 (CE 5.912)"`` or, with a dispersion or distillation term, its parts.

    ``alpha``: a distillation run's weight of the LM loss; its line reads ``"= alpha x CE c + (1 - alpha) x
    distillation k"`` (the LM part in brackets with its dispersion term, if any).
    """
    total, ce, dispersion = logs.get("loss"), logs.get("ce_loss"), logs.get("dispersion_loss")
    if total is None:
        return f"{name}: {step} steps (no loss logged)."
    line = f"{name}: {step} steps; final loss {total:.3f}"
    distillation = logs.get("distillation_loss")
    if alpha is not None and ce is not None and distillation is not None:
        lm = f"(CE {ce:.3f} + {coeff:g} x dispersion {dispersion:.3f})" if coeff and dispersion is not None \
            else f"CE {ce:.3f}"
        return f"{line} = {alpha:g} x {lm} + {1 - alpha:g} x distillation {distillation:.3f}."
    if ce is not None and dispersion is not None and coeff == 0:  # logged for watching, not trained on
        return f"{line} = CE {ce:.3f} (dispersion {dispersion:.3f}, measured, not in the loss)."
    if ce is not None and dispersion:
        weight = f"{coeff:g} x " if coeff is not None else ""
        return f"{line} = CE {ce:.3f} + {weight}dispersion {dispersion:.3f}."
    return f"{line} (CE {ce if ce is not None else total:.3f})."


def one_line_progress(name: str = "training", coeff: float | None = None, alpha: float | None = None) -> Any:
    """A ``TrainerCallback`` that replaces the Trainer's loss table by one summary line per run.

    Pass it **last** in ``callbacks``: it takes ``"loss"`` out of each log after the callbacks before it (a live
    view) have read it, so the Trainer's own progress callback, which runs after every user callback, shows only
    its bar. The Trainer's ``log_history`` keeps every loss.

    Parameters
    ----------
    name
        The run's name in the line (``"CE + dispersion (0.1), seed 0"``).
    coeff
        The dispersion coefficient, to show the total as CE + coeff x dispersion; ``0``: a dispersion loss logged
        but not trained on is shown as measured only.
    alpha
        A distillation run's weight of the LM loss: the total is shown as alpha x CE + (1 - alpha) x distillation.
    """
    global _CLASS
    if _CLASS is None:
        from transformers import TrainerCallback

        class OneLineProgress(TrainerCallback):
            prints_its_own_loss = True  # DispersionTrainer then keeps the notebook's bar without its table

            def __init__(self, name: str, coeff: float | None, alpha: float | None) -> None:
                self.name, self.coeff, self.alpha = name, coeff, alpha
                self.last: dict[str, float] = {}

            def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None,
                       **kwargs: Any) -> None:
                if logs and "loss" in logs:
                    self.last = {k: float(logs[k]) for k in ("loss", "ce_loss", "dispersion_loss", "distillation_loss")
                                 if k in logs}
                    del logs["loss"]  # the table's "Training Loss" would be the total: leave the bar alone

            def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                if state.is_world_process_zero:
                    print(summary_line(self.name, int(state.global_step), self.last, self.coeff, self.alpha))

        _CLASS = OneLineProgress
    return _CLASS(name, coeff, alpha)
