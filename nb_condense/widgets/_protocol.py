"""The widget protocol: every trait our widgets sync, every command the front end invokes, the explorer's state.

One bundle, three widgets
-------------------------
The front end (``js/``, bundled into ``static/widget.js``: vega, vega-lite, vega-embed and our drawing code) is
~870 KB. Every widget's ``_esm`` is the same small ``loader.js``; the loader keeps the bundle in a page-level cache
(``globalThis``, keyed by :attr:`BundledWidget._bundle_hash`) and calls its ``render``, which draws the widget that
``_kind`` names (``"explorer"``, ``"chart"``, ``"monitor"``). So a page that shows ten charts, an explorer and a live
view downloads, stores and parses vega once, and the three widgets share the chart-drawing code (theme, exports).

Where the bundle comes from (so a widget draws while its cell still runs): the first widget *displayed* by this
kernel carries it in the ``_bundle`` trait (sent with the display, never through a request); later widgets take it
from the page's cache, and only a page that has no copy asks the kernel with the ``bundle`` command (answered once
the kernel is idle). The live view (``TrainingMonitor``) always carries it: it exists to draw while a cell runs.

The protocol's data
-------------------
Every synced trait (who writes it, who reads it, its default, what it means) and every command (its method and
timeout) are declared once, in ``protocol.json`` next to this module. This module reads it (the names below, the
traits' defaults through :func:`default`); ``js/src/protocol.js`` imports the same file (esbuild bundles it), and
the table in ``docs/architecture.md`` is :func:`markdown_table` (``python -m nb_condense.widgets._protocol``
prints it; ``tests/unit/test_gates.py`` checks the two agree).

Commands
--------
The front end asks with anywidget's command protocol: ``js/src/command.js`` sends each request as a custom message
in the wire format of anywidget's handler (``{id, kind: "anywidget-command", name, msg}``, answered by
``{id, kind: "anywidget-command-response", response}``), with the command's timeout from ``protocol.json``. It does
not use the host's ``experimental.invoke``: marimo's always throws ("not supported in marimo"), while every host
relays custom messages; so JupyterLab, Notebook 7, Voila, marimo and the offline page (whose stand-in model answers
the same messages) take one path. :class:`BundledWidget` answers them (:meth:`BundledWidget._on_request`). Every
command answers: a failure is logged and answered as ``{"error": "..."}``, which the widget shows. A command may
answer later: it returns a :class:`concurrent.futures.Future` of its answer (the explorer's ``answer`` while a
measurement runs). When the front end gives up on a request (its ``AbortSignal``: a timeout, a view closed), it
sends ``{id, kind: "nb-condense-command-cancel"}``: a request still awaiting its answer is dropped (its future is
cancelled, nothing is sent back); a request already answered is ignored.
"""


from __future__ import annotations

import contextlib
import copy
import functools
import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import anywidget
import traitlets

from ..explore.session import CondensationSession
from ._bundle import LOADER, STYLES, bundle
from ._views import VIEWS

__all__ = ["CANCEL", "CHART_STATE", "COMMANDS", "EXPLORER_CHOICES", "EXPLORER_STATE", "KINDS", "MONITOR_PANELS",
           "MONITOR_STATE", "PAGE_STATE", "PROTOCOL_FILE", "REQUEST", "RESPONSE", "SHARED", "TIMEOUTS_MS",
           "BundledWidget", "answering", "default", "explorer_state", "load", "markdown_table", "resolve"]

logger = logging.getLogger(__name__)

PROTOCOL_FILE = Path(__file__).with_name("protocol.json")
"""The protocol's one declaration (bundled into the front end too)."""


@functools.cache
def load(path: Path = PROTOCOL_FILE) -> dict[str, Any]:
    """The protocol declared in ``path`` (default :data:`PROTOCOL_FILE`), read once."""
    declared: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return declared


def _group(name: str) -> tuple[str, ...]:
    (group,) = [g for g in load()["groups"] if g["name"] == name]
    return tuple(trait["name"] for trait in group["traits"])


KINDS: tuple[str, ...] = tuple(load()["kinds"])
"""The values of ``_kind``: which widget the bundle's ``render`` draws."""
SHARED = _group("shared")
"""Traits every widget has (:class:`BundledWidget`)."""
EXPLORER_CHOICES = _group("explorerChoices")
"""The explorer's choices: written by the user (front end) and by Python."""
EXPLORER_STATE = _group("explorerState")
"""The explorer's traits that Python writes and the front end draws."""
PAGE_STATE = _group("pageState")
"""Keys of the offline page's stand-in model (``js/src/page.js``) that the explorer's front end also reads."""
CHART_STATE = _group("chartState")
"""The chart widget's own trait."""
MONITOR_STATE = _group("monitorState")
"""The live training view's traits."""
MONITOR_PANELS: tuple[str, ...] = tuple(load()["monitorPanels"])
"""The live view's panels, in the order they are drawn."""
COMMANDS: dict[str, str] = {c["name"]: c["method"] for c in load()["commands"]}
"""The commands the front end invokes, by the name the front end uses, and the method answering each."""
TIMEOUTS_MS: dict[str, int] = {c["name"]: c["timeoutMs"] for c in load()["commands"]}
"""How long the front end waits for each command's answer, in ms."""
REQUEST, RESPONSE, CANCEL = (load()["messages"][kind] for kind in ("request", "response", "cancel"))
"""The ``kind`` of a command's request, of its answer, and of the front end's cancel message."""


def default(group: str, trait: str) -> Any:
    """The declared default of ``trait`` in ``group`` (``"shared"``, ``"explorerState"``, ...), a fresh copy."""
    (group_,) = [g for g in load()["groups"] if g["name"] == group]
    (found,) = [t for t in group_["traits"] if t["name"] == trait]
    return copy.deepcopy(found["default"])


def markdown_table(protocol: Mapping[str, Any] | None = None) -> str:
    """The protocol's traits and commands as the Markdown tables of ``docs/architecture.md``."""
    protocol = load() if protocol is None else protocol
    rows = ["| trait | written | read | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for group in protocol["groups"]:
        note = f"`{group['name']}`" + (f"; {group['note']}" if "note" in group else "")
        rows.append(f"| **{group['widget']}** |  |  |  | ({note}) |")
        rows += [f"| `{t['name']}` | {', '.join(t['writer'])} | {', '.join(t['reader'])} | "
                 f"`{json.dumps(t['default'])}` | {t['meaning']} |" for t in group["traits"]]
    rows += ["", "| command | method | timeout | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{c['name']}` | `{c['method']}` | {c['timeoutMs'] / 1000:g} s | {c['meaning']} |"
             for c in protocol["commands"]]
    return "\n".join(rows) + "\n"


_shipped = {"done": False}  # whether a displayed widget of this kernel has carried the bundle

Answer = tuple[dict[str, Any], list[bytes]]
Reply = Answer | Future[Answer]
F = TypeVar("F", bound=Callable[..., Reply])


def answering(method: F) -> F:
    """Mark ``method`` as a command that always answers: an exception becomes ``{"error": ...}``.

    The method returns its answer, or a :class:`~concurrent.futures.Future` of it (answered when it is set;
    dropped if the front end cancels the request first).
    """

    @functools.wraps(method)
    def answer(self: Any, msg: Any, buffers: list[bytes]) -> Reply:
        try:
            return method(self, msg, buffers)
        except Exception as exc:  # answered and shown in the widget, logged with the traceback
            return _error(self, method.__name__, exc)

    answer._nbc_command = True  # type: ignore[attr-defined]
    return answer  # type: ignore[return-value]


def _error(widget: Any, name: str, exc: BaseException) -> Answer:
    logger.error("%s: command %s failed", type(widget).__name__, name, exc_info=exc)
    return {"error": f"{type(exc).__name__}: {exc}"}, []


def resolve(future: Future[Answer], answer: Answer) -> None:
    """Set ``future``'s answer unless it was cancelled meanwhile (the front end gave up on it)."""
    with contextlib.suppress(InvalidStateError):  # cancelled: nobody waits for this answer
        future.set_result(answer)


class BundledWidget(anywidget.AnyWidget):
    """The base of every nb_condense widget: the shared bundle traits, the commands, ``bundle`` and ``sync``.

    Subclasses set ``_kind``'s default and :attr:`_synced` (the traits ``sync`` re-sends). The pattern is
    lonboard's ``BaseAnyWidget``: one loader, one bundle, one place that answers a page.
    """

    _esm = LOADER  # asks for nothing when the page already has the bundle (see js/src/loader.js)
    _css = STYLES

    _kind = traitlets.Enum(KINDS, default_value=default("shared", "_kind")).tag(sync=True)
    _bundle_hash = traitlets.Unicode(default("shared", "_bundle_hash")).tag(sync=True)
    _bundle = traitlets.Bytes(default("shared", "_bundle").encode()).tag(sync=True)

    _synced: ClassVar[tuple[str, ...]] = ()
    _carries_bundle: ClassVar[bool] = False
    """Whether every widget of this class carries the bundle (the live view), not only the first displayed."""

    def __init__(self, **kwargs: Any) -> None:
        self._lock = threading.RLock()  # serialises the kernel's and background threads' writes
        self._pending: dict[str, Future[Answer]] = {}  # requests answered later, by id
        digest, code = bundle()
        super().__init__(_bundle_hash=digest, **kwargs)
        self.on_msg(self._on_message)
        if self._carries_bundle:
            self._bundle = code

    @classmethod
    def commands(cls) -> dict[str, Callable[..., Reply]]:
        """The commands this widget answers, by method name."""
        return {name: getattr(cls, name) for name in COMMANDS.values()
                if getattr(getattr(cls, name, None), "_nbc_command", False)}

    def carry_bundle(self) -> None:
        """Make this widget carry the bundle if it is the first one this kernel displays (called on display)."""
        if not _shipped["done"] and not self._bundle:
            self._bundle = bundle()[1]
        _shipped["done"] = True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.carry_bundle()
        return super()._repr_mimebundle_(**kwargs)

    def _on_message(self, _widget: Any, content: Any, buffers: list[bytes]) -> None:
        """Dispatch a custom message from the front end: a command's request or a cancel."""
        if not isinstance(content, dict):
            return
        if content.get("kind") == REQUEST:
            self._on_request(content, buffers)
        elif content.get("kind") == CANCEL:
            self._on_cancel(str(content.get("id")))

    def _on_request(self, request: dict[str, Any], buffers: list[bytes]) -> None:
        """Answer a command's request now, or when its future is set (unless it is cancelled first)."""
        rid, name = str(request.get("id")), request.get("name")
        method = self.commands().get(str(name))
        if method is None:
            reply: Reply = _error(self, str(name), ValueError(f"{type(self).__name__} has no command {name!r}."))
        else:
            reply = method(self, request.get("msg"), buffers)
        if not isinstance(reply, Future):
            self._reply(rid, reply)
            return
        with self._lock:
            self._pending[rid] = reply
        reply.add_done_callback(lambda future: self._settle(rid, str(name), future))

    def _settle(self, rid: str, name: str, future: Future[Answer]) -> None:
        with self._lock:
            if self._pending.pop(rid, None) is None or future.cancelled():
                return  # cancelled by the front end: nothing is sent
        try:
            reply = future.result()
        except Exception as exc:
            reply = _error(self, name, exc)
        self._reply(rid, reply)

    def _on_cancel(self, rid: str) -> None:
        """Drop the request ``rid`` if it still awaits its answer (else it was answered: nothing to do)."""
        with self._lock:
            future = self._pending.pop(rid, None)
        if future is not None:
            future.cancel()
            logger.debug("%s: request %s cancelled by the front end", type(self).__name__, rid)

    def _reply(self, rid: str, reply: Answer) -> None:
        response, buffers = reply
        self.send({"id": rid, "kind": RESPONSE, "response": response}, buffers)

    @answering
    def _cmd_bundle(self, msg: Any, buffers: list[bytes]) -> Answer:
        """The bundle, for a page that has no copy yet."""
        digest, code = bundle()
        return {"hash": digest}, [code]

    @answering
    def _cmd_sync(self, msg: Any, buffers: list[bytes]) -> Answer:
        """Re-send the whole state of :attr:`_synced` (under the widget's lock)."""
        with self._lock:
            self.send_state(list(self._synced))
        return {}, []


def _view_options() -> list[dict[str, Any]]:
    return [v.describe() for v in VIEWS]


def explorer_state(sessions: Mapping[str, CondensationSession], model: str) -> dict[str, Any]:
    """The explorer's views, models and ``model``'s layer and sample options, as the front end draws them.

    The one source of these four traits for the notebook explorer, the offline page and the browser tests. The
    layer options are empty, and the samples have no token count, until ``model``'s session is measured.

    Parameters
    ----------
    sessions
        The explorer's sessions by name.
    model
        The name of the session shown.

    Returns
    -------
    dict
        ``{"_views", "_models", "_layer_options", "_sample_options"}``.
    """
    if model not in sessions:
        raise ValueError(f"Unknown model {model!r}: the sessions are {list(sessions)}.")
    session = sessions[model]
    result = session.measured_result() if session.measured else None
    samples = [{"sample": i, "words": " ".join(text.split()[:8]),
                "n_tokens": None if result is None else int(result.token_counts[i])}
               for i, text in enumerate(session.texts)]
    layers = [] if result is None else [{"layer": int(layer), "fraction": float(fraction)}
                                        for layer, fraction in zip(result.layers, result.layer_fractions)]
    return {"_views": _view_options(), "_models": list(sessions), "_layer_options": layers,
            "_sample_options": samples}


if __name__ == "__main__":
    print(markdown_table(), end="")
