"""The one place where layer indices given by a user are checked and normalised.

Hidden-state entries are numbered ``0 .. n_entries - 1``: 0 is the embedding output, the last is the
final hidden state (or the logits, when they are measured as an extra entry). Users may count from the
end with negative indices. Every module that takes ``layers=`` (extraction, results, sessions, the
explorer) resolves them here, so the rules and the error messages are the same everywhere.

Example
-------
>>> resolve_layers([-1, 0, 2, 2], n_entries=13)
[0, 2, 12]
>>> resolve_layers([5], n_entries=13, measured=[0, 6, 12])
Traceback (most recent call last):
...
ValueError: Layer 5 was not measured; measured layers: [0, 6, 12].
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

__all__ = ["resolve_layers"]


def _as_list(layers: object) -> list[object]:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (Iterable, numbers.Integral)):
        raise TypeError(f"`layers` must be an integer or a list of integers, got {layers!r}.")
    return list(layers) if isinstance(layers, Iterable) else [layers]


def resolve_layers(
    layers: int | Iterable[int] | None,
    n_entries: int,
    measured: Sequence[int] | None = None,
) -> list[int]:
    """Sorted, de-duplicated hidden-state indices for ``layers``.

    Parameters
    ----------
    layers
        One index or several; negative indices count from the end (``-1`` is the last entry).
        ``None`` means every entry (or every measured one).
    n_entries
        How many hidden-state entries the model has (blocks + 1, plus 1 when the logits are measured).
    measured
        The entries a result holds; when given, every index must be one of them.

    Returns
    -------
    list of int
        Non-negative indices in increasing order.

    Raises
    ------
    TypeError
        An index is not an integer.
    ValueError
        An index is out of range or not measured, or ``layers`` is an empty list.
    """
    if layers is None:
        return sorted(int(k) for k in measured) if measured is not None else list(range(n_entries))
    known = None if measured is None else {int(k) for k in measured}
    resolved: set[int] = set()
    for layer in _as_list(layers):
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
            raise TypeError(f"Layer indices must be integers, got {layer!r}.")
        index = int(layer) + n_entries if int(layer) < 0 else int(layer)
        if known is not None and index not in known:
            raise ValueError(f"Layer {layer} was not measured; measured layers: {sorted(known)}.")
        if not 0 <= index < n_entries:
            raise ValueError(
                f"Layer {layer} does not exist: this model has {n_entries} hidden-state entries "
                f"(valid indices 0..{n_entries - 1}, or negative from the end)."
            )
        resolved.add(index)
    if not resolved:
        raise ValueError("`layers` is empty: pass None for all layers or a list of layer indices.")
    return sorted(resolved)
