"""What a live view of a training run must offer :class:`~nb_condense.training.trainer.CondensationCallback`.

The callback feeds any object with these four methods; training imports no widget. In a notebook, pass
:class:`~nb_condense.widgets.monitor.TrainingMonitor` (``CondensationCallback(..., monitor=nbc.TrainingMonitor())``);
in a script, any object of your own (a logger, a dashboard client).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from ..core.result import CondensationResult

__all__ = ["TrainingView"]


@runtime_checkable
class TrainingView(Protocol):
    """A live view of a training run, fed by the callback on the main process."""

    def start(self, max_steps: int) -> None:
        """Training begins (``max_steps``: its length, 0 when unknown): show yourself."""

    def log(self, step: int, logs: Mapping[str, float]) -> None:
        """The Trainer logged ``logs`` (``loss``, ``ce_loss``, ``dispersion_loss`` ...) at ``step``."""

    def measured(self, step: int, result: CondensationResult) -> None:
        """The callback measured the held-out texts at ``step``."""

    def done(self) -> None:
        """Training ended."""
