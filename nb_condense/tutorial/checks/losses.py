"""Checks for notebooks 04 and 05.

Distillation, softened entropy, the dispersion loss with its straight-through clamp, the Trainer hook.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ._harness import (
    _CONNECTED,
    Case,
    _array,
    _away_from,
    _cases,
    _close,
    _compare,
    _fail,
    _not_implemented,
    _one_thread,
    _passed,
    _run,
)

# ----- 04: distillation -------------------------------------------------------------------------------------------


def _logits(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    import torch

    return torch.tensor(rng.normal(size=shape) * rng.uniform(1.0, 4.0), dtype=torch.float64)


def _kd_variants(student: Any, teacher: Any, t: float) -> dict[str, Any]:
    import torch

    log_s, log_t = torch.log_softmax(student / t, -1), torch.log_softmax(teacher / t, -1)
    per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
    plain_s, plain_t = torch.log_softmax(student, -1), torch.log_softmax(teacher, -1)
    return {"unscaled": per_token.mean(), "reverse": (log_s.exp() * (log_s - log_t)).sum(-1).mean() * t * t,
            "unsoftened": (plain_t.exp() * (plain_t - plain_s)).sum(-1).mean() * t * t,
            "summed": per_token.sum() * t * t, "per_vocab": per_token.mean() * t * t / student.shape[-1],
            "scaled_once": per_token.mean() * t}


def _kd_variant(student: Any, kind: str, teacher: Any, t: float) -> Any:
    return _kd_variants(student, teacher, t)[kind]


_KD_HINTS = {
    "unscaled": "scale by T^2: softened targets give gradients 1/T^2 smaller, and T^2 puts them back on the LM "
                "loss's scale",
    "reverse": "the KL runs the other way: KL(teacher || student) = sum p_teacher (log p_teacher - log p_student)",
    "unsoftened": "divide both logits by the temperature before the softmax",
    "summed": "average over the tokens (batch x positions), do not sum",
    "per_vocab": "reduction='mean' also divides by the vocabulary size: average over tokens only ('batchmean' on "
                 "flattened tokens)",
    "scaled_once": "scale by T^2, not T",
}


def _student_grad(loss: Callable[[Any], Any], student: Any) -> Any:
    import torch

    leaf = student.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(leaf), leaf)
    return grad


@_one_thread
def check_distillation_loss(function: Callable[[Any, Any, float], Any], seed: int | None = None) -> None:
    """Check ``distillation_loss(student_logits, teacher_logits, temperature) -> scalar tensor``.

    ``T^2 KL(teacher || student)`` of the temperature-softened next-token distributions, averaged over tokens; its
    gradient with respect to the student's logits is checked too. The reference is the training lab's own term.
    """
    _run("check_distillation_loss", function, _cases(_draw_distillation_loss, seed))


def _draw_distillation_loss(rng: np.random.Generator) -> list[Case]:
    from ...training import distillation_term

    cases = []
    for _ in range(2):
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(5, 30)))
        student, teacher = _logits(rng, shape), _logits(rng, shape)
        t = _away_from(rng, 0.3, 5.0, (1.0,), 0.2)
        variants = _kd_variants(student, teacher, t)
        mistakes = [(float(v), _KD_HINTS[k]) for k, v in variants.items()]
        grad = _student_grad(functools.partial(distillation_term, teacher_logits=teacher, temperature=t), student)
        grad_mistakes = [(_student_grad(functools.partial(_kd_variant, kind=k, teacher=teacher, t=t), student),
                          _KD_HINTS[k]) for k in variants]
        cases.append(Case((student, teacher, t), float(distillation_term(student, teacher, t)), mistakes,
                          tolerance=1e-7, grad_arg=0, expected_grad=grad, grad_mistakes=grad_mistakes))
    return cases


@_one_thread
def check_distillation_objective(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``distillation_objective(lm_loss, student_logits, teacher_logits, temperature, alpha)``.

    ``alpha x lm_loss + (1 - alpha) x T^2 KL(teacher || student)``, the loss a distillation ``Trainer`` minimises.
    The teacher is fixed: no gradient may reach its logits (checked), and ``alpha`` is drawn from (0, 1).
    """
    _run("check_distillation_objective", function, _cases(_draw_distillation_objective, seed))


def _draw_distillation_objective(rng: np.random.Generator) -> list[Case]:
    import torch

    from ...training import distillation_term

    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(5, 30)))
    student, teacher = _logits(rng, shape), _logits(rng, shape)
    t = _away_from(rng, 0.3, 5.0, (1.0,), 0.2)
    alpha = _away_from(rng, 0.05, 0.95, (0.5,), 0.1)
    lm = torch.tensor(float(rng.uniform(2.0, 6.0)), dtype=torch.float64)
    kd = float(distillation_term(student, teacher, t))
    expected = float(alpha * lm) + (1 - alpha) * kd
    variants = _kd_variants(student, teacher, t)
    mistakes = [
        ((1 - alpha) * float(lm) + alpha * kd, "alpha weighs the LM loss: alpha x lm_loss + (1 - alpha) x KD"),
        (float(lm) + kd, "mix the two with alpha and 1 - alpha; do not add them"),
        (alpha * float(lm) + (1 - alpha) * float(variants["unscaled"]), _KD_HINTS["unscaled"]),
        (alpha * float(lm) + (1 - alpha) * float(variants["reverse"]), _KD_HINTS["reverse"]),
    ]
    return [Case(
        (lm, student, teacher, t, alpha), expected, mistakes, tolerance=1e-7, grad_arg=2,
        expected_grad=torch.zeros_like(teacher),
        grad_mistakes=[(_student_grad(lambda x: distillation_term(student, x, t) * (1 - alpha), teacher),
                        "the teacher is fixed: detach its logits (or compute them under torch.no_grad()), or "
                        "training would move the teacher too")])]


@_one_thread
def check_softened_entropy(function: Callable[[Any, float], float], seed: int | None = None) -> None:
    """Check ``softened_entropy(logits, temperature) -> float``: the mean entropy (nats) of ``softmax(logits / T)``.

    How soft a teacher's targets are at temperature ``T`` (exercise 3 raises ``T``). The reference is
    ``torch.distributions.Categorical``'s entropy.
    """
    _run("check_softened_entropy", function, _cases(_draw_softened_entropy, seed))


def _draw_softened_entropy(rng: np.random.Generator) -> list[Case]:
    import torch

    cases = []
    for _ in range(2):
        logits = _logits(rng, (int(rng.integers(1, 4)), int(rng.integers(2, 8)), int(rng.integers(5, 50))))
        t = _away_from(rng, 0.3, 6.0, (1.0,), 0.2)
        entropy = torch.distributions.Categorical(logits=logits / t).entropy()
        expected = float(entropy.mean())
        plain = torch.distributions.Categorical(logits=logits).entropy()
        mistakes = [
            (float(plain.mean()), "divide the logits by the temperature before the softmax"),
            (float(torch.distributions.Categorical(logits=logits * t).entropy().mean()),
             "divide by T, do not multiply: a higher temperature flattens the distribution"),
            (expected / math.log(2), "in nats: use the natural log, not log2"),
            (float(entropy.sum()), "average over the tokens, do not sum"),
        ]
        cases.append(Case((logits, t), expected, mistakes, 1e-9))
    return cases


# ----- 05: the dispersion loss, the penalty over layers, the Trainer hook ---------------------------------------------


def _condensed_tokens(rng: np.random.Generator, clamp: float) -> Any:
    """A narrow cone of tokens (lengths varied) with at least two pairs closer than the clamp (cos > 1 - clamp)."""
    import torch

    n, dim = int(rng.integers(5, 16)), int(rng.integers(4, 16))
    direction = rng.normal(size=dim)
    points = direction / np.linalg.norm(direction) * 3 + rng.normal(size=(n, dim)) * rng.uniform(0.5, 2.0)
    for i in (1, 3):  # a near-copy of token 0: cos far above 1 - clamp, inside the clamp's flat part
        points[i] = points[0] * rng.uniform(0.5, 2.0) + rng.normal(size=dim) * 0.05 * clamp
    points *= rng.uniform(0.5, 3.0, size=(n, 1))
    return torch.tensor(points, dtype=torch.float64)


def _angular(z: Any, tau: float, eps: float, clamp: float, *, straight: bool = True, diagonal: bool = False,
             mean: bool = True, sign: float = -1.0, scale: float = 1 / math.pi, add_eps: bool = True,
             tau_power: float = -1.0, clamp_on: bool = True) -> Any:
    """The angular spread and its likely mistakes (for the hints), computed in one place."""
    import torch

    from ...training.dispersion import _straight_through_clamp

    unit = z / (z.norm(dim=-1, keepdim=True) + eps)
    cos = unit @ unit.T
    if clamp_on:
        cos = _straight_through_clamp(cos, -1 + clamp, 1 - clamp) if straight else cos.clamp(-1 + clamp, 1 - clamp)
    else:
        cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
    values = sign * torch.arccos(cos) * scale * tau**tau_power
    n = z.shape[0]
    chosen = values.reshape(-1) if diagonal else values[~torch.eye(n, dtype=torch.bool)]
    out = torch.logsumexp(chosen, 0) - (math.log(chosen.numel()) if mean else 0.0)
    return out + eps if add_eps else out


@_one_thread
def check_angular_spread(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``angular_spread(z, tau=1.0, eps=1e-2, clamp=0.25) -> scalar tensor``: the paper's dispersion loss.

    ``z`` ``[T, F]`` is one sequence. The value and the gradient with respect to ``z`` are compared with the
    package's ``DispersionLoss("angular_spread")``, whose clamp is straight-through: a plain ``clamp`` gives zero
    gradient to the most condensed pairs (cos > 1 - clamp), exactly the ones the loss must spread. ``tau``, ``eps``
    and ``clamp`` are drawn from continuous ranges, away from the defaults.
    """
    _run("check_angular_spread", function, _cases(_draw_angular_spread, seed))


def _draw_angular_spread(rng: np.random.Generator) -> list[Case]:
    import torch

    from ...training.dispersion import DispersionLoss

    tau = float(np.exp(_away_from(rng, math.log(0.2), math.log(5.0), (0.0,), 0.25)))
    eps = _away_from(rng, 1e-3, 5e-2, (1e-2,), 4e-3)
    clamp = _away_from(rng, 0.03, 0.45, (0.1, 0.25), 0.03)
    z = _condensed_tokens(rng, clamp)
    reference = DispersionLoss("angular_spread", tau=tau, eps=eps, clamp_threshold=clamp, max_tokens=None)
    leaf = z.clone().requires_grad_(True)
    value = reference(leaf[None])
    (grad,) = torch.autograd.grad(value, leaf)
    variants: list[tuple[dict[str, Any], str]] = [
        (dict(straight=False), "a plain clamp has zero gradient where it clips: the most condensed pairs (cos > 1 - "
                               "clamp) would get no push. Use a straight-through clamp: "
                               "c + (c.clamp(...) - c).detach()"),
        (dict(diagonal=True), "off by the diagonal: the mean runs over the T(T - 1) pairs i != j, not every (i, i) "
                              "too"),
        (dict(mean=False), "log-MEAN-exp: subtract log(T(T - 1)) from the log-sum-exp"),
        (dict(sign=1.0), "the exponent is -D/tau: spread tokens (large D) must give a low loss"),
        (dict(scale=1.0), "D = arccos(c) / pi lies in [0, 1]: divide by pi"),
        (dict(clamp_on=False), "clamp the cosines to [-1 + clamp, 1 - clamp] before arccos"),
        (dict(add_eps=False), "the reference adds eps to the log-mean-exp (it shifts the value, not the gradient)"),
        (dict(tau_power=1.0), "divide by tau, do not multiply"),
    ]
    mistakes, grad_mistakes = [], []
    for options, hint in variants:
        wrong_leaf = z.clone().requires_grad_(True)
        wrong = _angular(wrong_leaf, tau, eps, clamp, **options)
        mistakes.append((float(wrong.detach()), hint))
        grad_mistakes.append((torch.autograd.grad(wrong, wrong_leaf)[0], hint))
    for name, default in (("tau", 1.0), ("eps", 1e-2), ("clamp", 0.25), ("clamp", 0.1)):
        fixed = {"tau": tau, "eps": eps, "clamp": clamp, name: default}
        mistakes.append((float(_angular(z, fixed["tau"], fixed["eps"], fixed["clamp"])),
                         f"use the {name} argument, not a fixed {default}"))
    return [Case((z,), float(value.detach()), mistakes, 1e-7, dict(tau=tau, eps=eps, clamp=clamp), grad_arg=0,
                 expected_grad=grad, grad_mistakes=grad_mistakes)]


@_one_thread
def check_dispersion_penalty(function: Callable[[Any, Any], Any], seed: int | None = None) -> None:
    """Check ``dispersion_penalty(hidden_states, loss) -> scalar tensor``: the recipe's penalty over layers.

    ``hidden_states`` has ``L + 1`` entries (index 0 = the embedding output); ``loss(h)`` is one layer's dispersion
    loss. The recipe averages it over the blocks' outputs 1..L, skipping the embedding output. The reference is the
    package's ``dispersion_penalty(..., loc="all")``; the gradient on every layer is checked too.
    """
    import torch

    name = "check_dispersion_penalty"
    hidden, loss, expected, mistakes, grads = _cases(_draw_dispersion_penalty, seed)
    leaves = tuple(h.clone().requires_grad_(True) for h in hidden)
    try:
        got = function(leaves, loss)
    except NotImplementedError:
        _not_implemented(name)
        return
    _compare(name, got, expected, mistakes, 1e-7)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        _fail(name, _CONNECTED)
    got_grads = torch.autograd.grad(got, leaves, allow_unused=True)
    for layer, (g, want) in enumerate(zip(got_grads, grads, strict=True)):
        if not _close(_array(torch.zeros_like(want) if g is None else g), _array(want), 1e-7):
            _fail(name, f"the gradient of layer {layer} differs: each of the L blocks' outputs gets 1/L of its loss's "
                        "gradient, the embedding output none")
    _passed(name)


def _draw_dispersion_penalty(rng: np.random.Generator) -> tuple[Any, ...]:
    import torch

    from ...training.dispersion import DispersionLoss, dispersion_penalty

    n_layers = int(rng.integers(3, 7))
    batch, length, dim = int(rng.integers(1, 3)), int(rng.integers(4, 10)), int(rng.integers(4, 10))
    hidden = tuple(torch.tensor(rng.normal(size=(batch, length, dim)) + 0.4 * layer * rng.normal(size=dim),
                                dtype=torch.float64) for layer in range(n_layers))
    loss = DispersionLoss("angular_spread", tau=float(rng.uniform(0.3, 3)), max_tokens=None)
    per_layer = torch.stack([loss(h) for h in hidden]).detach()
    expected = float(dispersion_penalty(hidden, loss=loss, loc="all"))
    mistakes = [
        (float(per_layer.mean()), "skip the embedding output (index 0): the recipe spreads the blocks' outputs 1..L"),
        (float(per_layer[1:].sum()), "average over the layers, do not sum"),
        (float(per_layer[-1]), "every block's output 1..L, not only the last"),
        (float(per_layer[1:-1].mean()), "include the last entry: 1..L runs up to the final (normed) output"),
    ]
    grads = [torch.zeros_like(h) for h in hidden]
    for i in range(1, n_layers):
        leaf = hidden[i].clone().requires_grad_(True)
        grads[i] = torch.autograd.grad(loss(leaf) / (n_layers - 1), leaf)[0]
    return hidden, loss, expected, mistakes, grads



_HOOK_HINTS = {"embedding": "skip the embedding output: average over hidden_states[1:]",
               "no_mask": "pass the attention mask to the loss: pads are not tokens to spread",
               "last": "average over every block's output 1..L, not only the last",
               "sum": "average over the layers, do not sum",
               "no_coeff": "multiply the penalty by self.dispersion_coeff",
               "detached": "keep the penalty in the graph (no .item(), float() or .detach()): its gradient is the "
                           "point"}


@_one_thread
def check_compute_loss(function: Callable[..., Any], seed: int | None = None) -> None:
    """Check ``compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None)``: a Trainer hook.

    The method a ``transformers.Trainer`` subclass overrides: in training mode, the LM loss plus
    ``self.dispersion_coeff`` x the mean of ``self.dispersion_loss(h, attention_mask)`` over the blocks' hidden
    states 1..L; in evaluation mode the LM loss alone. The batch is padded (its attention mask has zeros). The
    reference is the package's ``dispersion_penalty``, as ``DispersionTrainer`` adds it; the gradient on the token
    embeddings is checked too.
    """
    import torch

    name = "check_compute_loss"
    drawn = _cases(_draw_compute_loss, seed)
    model, owner, inputs = drawn["model"], drawn["owner"], drawn["inputs"]
    embedding = model.get_input_embeddings().weight
    model.train()
    model.zero_grad()
    try:
        got = function(owner, model, dict(inputs))
    except NotImplementedError:
        _not_implemented(name)
        return
    if isinstance(got, tuple):
        _fail(name, "return the loss alone when return_outputs is False, (loss, outputs) when it is True")
    eval_hint = "add the penalty: in training mode the loss is LM + coeff x penalty"
    _compare(name, got, drawn["expected"], [*drawn["mistakes"], (drawn["eval_loss"], eval_hint)], 1e-9)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        _fail(name, _HOOK_HINTS["detached"])
    (got_grad,) = torch.autograd.grad(got, embedding)
    _compare(name, got_grad, drawn["grad"], drawn["grad_mistakes"], 1e-9, "the gradient: ")
    pair = function(owner, model, dict(inputs), return_outputs=True)
    if not (isinstance(pair, tuple) and len(pair) == 2 and hasattr(pair[1], "hidden_states")):
        _fail(name, "with return_outputs=True return (loss, outputs), the model's outputs as the Trainer expects")
    model.eval()
    try:
        with torch.no_grad():
            evaluated = function(owner, model, dict(inputs))
    finally:
        model.train()
    _compare(name, evaluated, drawn["eval_loss"], [(drawn["expected"], "evaluation (model.training False) scores "
                                                                       "the LM loss alone: add the penalty in "
                                                                       "training mode only")], 1e-9,
             "in evaluation mode, ")
    _passed(name)


def _draw_compute_loss(rng: np.random.Generator) -> dict[str, Any]:
    """A tiny padded batch, and the reference's loss and embedding gradient (and its mistakes') from one pass."""
    import types

    import torch

    from ...training import tiny_gpt2
    from ...training.dispersion import DispersionLoss, dispersion_penalty

    model = tiny_gpt2(n_layer=int(rng.integers(2, 4)), n_embd=16, n_head=2, vocab_size=50, n_positions=32,
                      seed=int(rng.integers(2**31))).double()  # float64: each mistake is far above round-off
    batch, length = int(rng.integers(2, 4)), int(rng.integers(8, 16))
    ids = torch.tensor(rng.integers(0, 50, size=(batch, length)))
    mask = torch.ones_like(ids)
    mask[0, int(rng.integers(3, length - 2)):] = 0  # the first sequence is padded
    inputs = {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}
    coeff = float(np.exp(rng.uniform(math.log(0.05), math.log(5.0))))
    loss = DispersionLoss(tau=float(rng.uniform(0.3, 3)), max_tokens=None)
    owner = types.SimpleNamespace(dispersion_coeff=coeff, dispersion_loss=loss)
    embedding = cast(Any, model).get_input_embeddings().weight
    model.train()
    outputs = cast(Any, model)(**inputs, output_hidden_states=True)
    hidden = outputs.hidden_states
    penalties = {"right": dispersion_penalty(hidden, mask, "all", loss),
                 "embedding": torch.stack([loss(h, mask) for h in hidden]).mean(),
                 "no_mask": dispersion_penalty(hidden, None, "all", loss),
                 "last": loss(hidden[-1], mask),
                 "sum": torch.stack([loss(h, mask) for h in hidden[1:]]).sum()}
    penalties["no_coeff"] = penalties["right"] / coeff
    penalties["detached"] = penalties["right"].detach()
    totals = {k: outputs.loss + coeff * p for k, p in penalties.items()}
    grads = {k: torch.autograd.grad(total, embedding, retain_graph=True)[0] for k, total in totals.items()}
    with torch.no_grad():
        model.eval()
        eval_loss = float(model(**inputs).loss)
        model.train()
    model.zero_grad()
    return {"model": model, "owner": owner, "inputs": inputs, "expected": float(totals["right"].detach()),
            "grad": grads["right"], "eval_loss": eval_loss,
            "mistakes": [(float(totals[k].detach()), hint) for k, hint in _HOOK_HINTS.items()],
            "grad_mistakes": [(grads[k], hint) for k, hint in _HOOK_HINTS.items()]}
