"""What the explorer has drawn and what it is doing: one small state object with named transitions.

The explorer answers a choice only when what Python draws for it changed (the keys of the drawn spec and data), not
while a measurement runs (its end answers), and not for a session whose measurement failed until ``refresh()``.
:class:`ExplorerCache` holds exactly that, and the front-end requests that wait for a running measurement.

Example
-------
>>> cache = ExplorerCache()
>>> cache.start()
>>> cache.fresh(("m", "heatmap"), ())
True
>>> cache.drew(("m", "heatmap"), ())
>>> cache.fresh(("m", "heatmap"), ())
False
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExplorerCache", "Key"]

Key = tuple[Any, ...]
"""What a drawn spec (or its data) depends on: the model, the view and the choices it reads."""


@dataclass
class ExplorerCache:
    """The explorer's answering state.

    Attributes
    ----------
    ready
        Construction is over: trait changes are answered (they are not while the explorer is being built).
    measuring
        A measurement runs; choices wait for its end, which answers them.
    failed
        ``{session name: message}`` of failed measurements (not retried on every click: ``refresh()`` retries).
    spec_key, data_key
        The keys of the drawn spec and of its data (``None``: nothing valid is drawn; the next answer redraws).
    waiting
        The front end's ``answer`` requests that wait for the running measurement.
    """

    ready: bool = False
    measuring: bool = False
    failed: dict[str, str] = field(default_factory=dict)
    spec_key: Key | None = None
    data_key: Key | None = None
    waiting: list[Future[Any]] = field(default_factory=list)

    def start(self) -> None:
        """Construction is over: answer trait changes from now on."""
        self.ready = True

    def fresh(self, spec_key: Key, data_key: Key) -> bool:
        """Whether a choice with these keys needs an answer (what Python draws for it changed)."""
        return (spec_key, data_key) != (self.spec_key, self.data_key)

    def same_spec(self, spec_key: Key) -> bool:
        """Whether the drawn spec already has ``spec_key`` (only its data need change)."""
        return spec_key == self.spec_key

    def drew(self, spec_key: Key, data_key: Key) -> None:
        """A spec (or new data) with these keys was sent."""
        self.spec_key, self.data_key = spec_key, data_key

    def forget(self) -> None:
        """What is drawn is stale (an error, new options, a measurement): the next answer redraws."""
        self.spec_key = self.data_key = None

    def retry(self) -> None:
        """``refresh()``: redraw and measure again what failed."""
        self.failed.clear()
        self.forget()

    def measure(self) -> None:
        """A measurement starts."""
        self.measuring = True

    def wait(self) -> Future[Any]:
        """A request that waits for the running measurement: its future, set when the measurement ends."""
        future: Future[Any] = Future()
        self.waiting.append(future)
        return future

    def measured(self, failed: str | None = None, message: str = "") -> list[Future[Any]]:
        """The measurement ended (``failed``: the session that failed, with ``message``); returns who waited."""
        self.measuring = False
        if failed is not None:
            self.failed[failed] = message
        self.forget()
        waiting, self.waiting = self.waiting, []
        return waiting
