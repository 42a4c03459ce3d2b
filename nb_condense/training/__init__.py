"""Training against condensation: the dispersion losses, the Trainer add-on, active forgetting and the laptop lab.

``dispersion`` (the five losses) -> ``trainer`` (:class:`DispersionTrainer`, :class:`CondensationCallback`) ->
``forgetting`` (the active-forgetting baseline) -> ``lab`` (models, data, runs and experiments).
The lab's names are re-exported here, so ``nb_condense.training.pretrain`` keeps working.
"""

from __future__ import annotations

from . import lab as _lab
from .lab import *  # noqa: F403  (the lab is this package's public face; __all__ below lists it)
from .lab import EOS as EOS

__all__ = list(_lab.__all__)
