"""Measuring sessions in the background: progress, cancellation and errors, for the explorer (or any front end).

Example
-------
>>> import nb_condense as nbc
>>> session = nbc.CondensationSession("embedded", dataset="builtin", n_texts=2, max_length=32, show_progress=False)
>>> seen = []
>>> job = MeasuringJob({"minilm": session}, on_progress=seen.append).start()
>>> job.wait().error is None, session.measured, seen[-1]
(True, True, 1.0)
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping

from .session import CondensationSession

__all__ = ["MeasurementCancelled", "MeasuringJob", "describe"]

logger = logging.getLogger(__name__)


class MeasurementCancelled(RuntimeError):
    """Raised inside a measurement that :meth:`MeasuringJob.cancel` stopped."""


_RUNNING: weakref.WeakSet[MeasuringJob] = weakref.WeakSet()
"""Jobs whose measuring thread may still be alive (stopped and joined at interpreter exit)."""


def _stop_running_jobs() -> None:
    """Cancel every background measurement and wait for its thread (registered with :mod:`atexit`).

    A daemon thread still inside a forward pass when the interpreter finalises aborts the process
    ("terminate called without an active exception", exit 134); stopping it after the text in progress and
    joining it lets a script that ends mid-measurement exit cleanly.
    """
    jobs = [job for job in list(_RUNNING) if job.running]
    for job in jobs:
        job._exiting = True
        job.cancel()
    for job in jobs:
        logger.info("Stopping the background measurement of %s at exit (after the text in progress).",
                    ", ".join(map(repr, job.sessions)))
        job.wait()


atexit.register(_stop_running_jobs)


class MeasuringJob:
    """Measure sessions one after another, in a background thread or right away.

    Parameters
    ----------
    sessions
        ``{name: session}``; sessions already measured are skipped.
    on_progress
        Called with the overall fraction done (0..1), at most every ``progress_every_s`` seconds and at the end
        of each session.
    on_done
        Called once, from the measuring thread, when the job ends: with ``None`` on success, with the name of
        the failed session and the exception otherwise (cancellation included). Not called when the
        interpreter's exit stopped the job (nobody is left to show it).
    progress_every_s
        Minimum time between two progress reports.

    Notes
    -----
    A failed session stays unmeasured (its error is in :attr:`error`); later sessions are not measured.
    At interpreter exit a background job is cancelled and joined (the text in progress finishes first), so a
    script that ends while it measures exits cleanly.
    """

    def __init__(
        self,
        sessions: Mapping[str, CondensationSession],
        *,
        on_progress: Callable[[float], None] | None = None,
        on_done: Callable[[str | None, BaseException | None], None] | None = None,
        progress_every_s: float = 0.1,
    ) -> None:
        self.sessions = dict(sessions)
        self.on_progress, self.on_done = on_progress, on_done
        self.progress_every_s = progress_every_s
        self.error: BaseException | None = None
        self.failed: str | None = None
        self._cancelled = threading.Event()
        self._exiting = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is still measuring."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, background: bool = True) -> MeasuringJob:
        """Start measuring (in a daemon thread unless ``background=False``); returns the job."""
        if self._thread is not None:
            raise RuntimeError("This job was already started; make a new MeasuringJob to measure again.")
        if not background:
            self._run()
            return self
        self._thread = threading.Thread(target=self._run, name="nb_condense-measuring", daemon=True)
        _RUNNING.add(self)  # stopped and joined at interpreter exit
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the measurement to stop after the text in progress (the session stays unmeasured)."""
        self._cancelled.set()

    def wait(self, timeout: float | None = None) -> MeasuringJob:
        """Block until the job has ended (raises TimeoutError after ``timeout`` seconds)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"The measurement is still running after {timeout} s.")
        return self

    def _report(self, fraction: float, last: list[float], force: bool = False) -> None:
        now = time.monotonic()
        if self.on_progress is not None and (force or now - last[0] >= self.progress_every_s):
            last[0] = now
            self.on_progress(fraction)

    def _run(self) -> None:
        todo = [(name, s) for name, s in self.sessions.items() if not s.measured]
        last = [0.0]

        def progress(k: int) -> Callable[[int, int], None]:
            def report(done: int, total: int) -> None:
                if self._cancelled.is_set():
                    raise MeasurementCancelled("The measurement was cancelled.")
                self._report((k + done / total) / len(todo), last, force=done == total)
            return report

        name: str | None = None
        try:
            for k, (name, session) in enumerate(todo):  # noqa: B007 - `name` names the failure below
                if self._cancelled.is_set():
                    raise MeasurementCancelled("The measurement was cancelled.")
                session.measure(progress=progress(k))
            name = None
            if not todo:
                self._report(1.0, last, force=True)
        except Exception as exc:  # reported to on_done and kept; the caller decides how to show it
            self.error, self.failed = exc, name
            logger.debug("Measuring %r failed", name, exc_info=exc)
        finally:
            if self._exiting:
                logger.info("Stopped measuring %r: the interpreter is exiting.", name)
            elif self.on_done is not None:
                self.on_done(self.failed, self.error)

    def __repr__(self) -> str:
        state = "running" if self.running else ("failed" if self.error else "idle")
        return f"MeasuringJob({list(self.sessions)}, {state})"


def describe(name: str | None, error: BaseException) -> str:
    """A one-line message for a failed measurement."""
    where = f"Measuring {name!r} failed" if name else "Measuring failed"
    return f"{where}: {type(error).__name__}: {error}"

