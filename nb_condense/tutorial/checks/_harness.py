"""The machinery every exercise check shares: cases, comparisons with named mistakes, gradients, outcomes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np

CHECKS: dict[str, str] = {}
"""Outcome of every check run in this kernel: ``"passed"``, ``"not implemented"`` or the hint given."""

_CONNECTED = ("return a torch tensor that is still connected to the inputs (no float(), .item(), .detach() or numpy): "
              "training needs its gradient")
UNKNOWN = "not a mistake we know; compare your steps with the formula above the exercise"


class ExerciseError(AssertionError):
    """A student's function gave a wrong answer; the message names the likely mistake.

    In IPython and Jupyter only the message is shown (``_render_traceback_``), not the package's traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass
class Case:
    """One test case: the arguments, the right answer, and (wrong answer, hint) pairs.

    ``grad_arg`` names the positional argument (a tensor) whose gradient the answer must match: ``expected_grad``,
    with ``grad_mistakes`` (wrong gradient, hint).
    """

    args: tuple[Any, ...]
    expected: Any
    mistakes: list[tuple[Any, str]] = field(default_factory=list)
    tolerance: float = 1e-6
    kwargs: dict[str, Any] = field(default_factory=dict)
    grad_arg: int | None = None
    expected_grad: Any = None
    grad_mistakes: list[tuple[Any, str]] = field(default_factory=list)


def _array(value: Any) -> np.ndarray:
    if isinstance(value, (tuple, list)):
        return np.asarray([float(_array(v)) for v in value], dtype=np.float64)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _close(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=tolerance, rtol=0, equal_nan=True))


def _shown(value: np.ndarray) -> str:
    flat = [float(f"{v:.4g}") for v in value.ravel().tolist()]
    return str(flat[:6])[:-1] + (", ...]" if len(flat) > 6 else "]") if value.ndim else f"{float(value):.4g}"


def _fail(name: str, hint: str, got: np.ndarray | None = None, want: np.ndarray | None = None) -> None:
    CHECKS[name] = hint
    detail = "" if got is None or want is None else f" (expected {_shown(want)}, got {_shown(got)})"
    raise ExerciseError(f"`{name}`: {hint}{detail}.")


def _compare(name: str, got: Any, want: Any, mistakes: list[tuple[Any, str]], tolerance: float,
             what: str = "") -> None:
    got_array, want_array = _array(got), _array(want)
    if got_array.shape != want_array.shape:
        hint = f"expected {what}an answer of shape {want_array.shape}, got {got_array.shape}"
        if want_array.ndim == 1 and got_array.ndim == 0:
            hint += ": return one value per layer, not one number"
        for wrong, mistake in mistakes:
            if _array(wrong).shape == got_array.shape and _close(got_array, _array(wrong), tolerance):
                hint = mistake
        _fail(name, hint)
    if _close(got_array, want_array, tolerance):
        return
    for wrong, hint in mistakes:
        if _close(got_array, _array(wrong), tolerance):
            _fail(name, f"{what}{hint}", got_array, want_array)
    _fail(name, f"{what}{UNKNOWN}", got_array, want_array)


def _gradient(name: str, case: Case, got: Any, leaf: Any) -> None:
    import torch

    no_gradient = not bool(_array(case.expected_grad).any())  # right when nothing may reach this input
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        if no_gradient:
            return
        _fail(name, _CONNECTED)
    (grad,) = torch.autograd.grad(got.sum(), leaf, allow_unused=True)
    grad = torch.zeros_like(leaf) if grad is None else grad
    _compare(name, grad, case.expected_grad, case.grad_mistakes, case.tolerance, "the gradient: ")


def _fresh(case: Case) -> tuple[tuple[Any, ...], Any]:
    """The case's arguments, copied (a student's in-place edit cannot leak), with a fresh leaf for the gradient."""
    args = tuple(a.clone() if hasattr(a, "clone") else a.copy() if hasattr(a, "copy") else a for a in case.args)
    leaf = None
    if case.grad_arg is not None:
        leaf = args[case.grad_arg].detach().clone().requires_grad_(True)
        args = args[: case.grad_arg] + (leaf,) + args[case.grad_arg + 1:]
    return args, leaf


def _not_implemented(name: str) -> None:
    CHECKS[name] = "not implemented"
    print(f"`{name}`: not implemented yet. Write the function's body, then run this cell again.")


def _passed(name: str) -> None:
    CHECKS[name] = "passed"
    print(f"All tests in `{name}` passed!")


def _run(name: str, function: Callable[..., Any], cases: list[Case]) -> None:
    """Run ``function`` on each case; print "passed", "not implemented yet", or raise the hint."""
    for case in cases:
        args, leaf = _fresh(case)
        try:
            got = function(*args, **case.kwargs)
        except NotImplementedError:
            _not_implemented(name)
            return
        _compare(name, got, case.expected, case.mistakes, case.tolerance)
        if leaf is not None:
            _gradient(name, case, got, leaf)
    _passed(name)


F = TypeVar("F", bound=Callable[..., None])


def _one_thread(check: F) -> F:
    """Run ``check`` on one torch thread: its inputs are tiny, and on a busy 2-core machine threads only wait."""

    @functools.wraps(check)
    def wrapper(function: Callable[..., Any], seed: int | None = None) -> None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            check(function, seed)
        finally:
            torch.set_num_threads(threads)

    return cast(F, wrapper)


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


_DRAWN: dict[tuple[str, int], Any] = {}


def _cases(draw: Callable[[np.random.Generator], Any], seed: int | None) -> Any:
    """``draw``'s inputs for ``seed`` (fresh ones for None).

    A seeded draw is kept, so a battery of wrong answers pays for the reference once per seed (the cases are copied
    before each call).
    """
    if seed is None:
        return draw(_rng(None))
    key = (draw.__name__, int(seed))
    if key not in _DRAWN:
        if len(_DRAWN) > 64:
            _DRAWN.clear()
        _DRAWN[key] = draw(_rng(seed))
    return _DRAWN[key]


def _away_from(rng: np.random.Generator, low: float, high: float, avoid: tuple[float, ...], gap: float) -> float:
    """A uniform draw in [low, high] at least ``gap`` from every value in ``avoid``."""
    while True:
        value = float(rng.uniform(low, high))
        if all(abs(value - a) >= gap for a in avoid):
            return value




def yours_or_ours(function: Callable[..., Any]) -> Callable[..., Any]:
    """The student's ``function`` once its check has passed in this kernel, else the package's solution.

    "Apply it to real data" cells call it, so a stub that is not written yet never blocks the lesson:
    ``measure = tutorial.yours_or_ours(layer_mean_cosine)``.
    """
    from ..solutions import SOLUTIONS

    name = f"check_{function.__name__}"
    if name not in SOLUTIONS:
        raise ValueError(f"No exercise checks a function named {function.__name__!r}; the exercises' functions are "
                         f"{', '.join(sorted(n.removeprefix('check_') for n in SOLUTIONS))}.")
    if CHECKS.get(name) == "passed":
        print(f"Using your `{function.__name__}` (it passed `{name}`).")
        return function
    print(f"Using the package's `{function.__name__}`: yours has not passed `{name}` yet.")
    return SOLUTIONS[name]
