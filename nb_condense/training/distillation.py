"""The soft-target term of logit distillation (Hinton et al. 2015), shared by the trainer and the tutorial checks."""

from __future__ import annotations

import torch


def distillation_term(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
                      ) -> torch.Tensor:
    """``T^2 KL(teacher || student)`` of the temperature-softened next-token distributions, averaged over tokens.

    Logits are ``[..., vocab]``; every position counts as one token (Hinton et al.'s soft-target term).
    """
    t = temperature
    return torch.nn.functional.kl_div(
        torch.log_softmax(student_logits / t, -1).flatten(0, -2),
        torch.log_softmax(teacher_logits / t, -1).flatten(0, -2),
        log_target=True, reduction="batchmean",
    ) * t * t
