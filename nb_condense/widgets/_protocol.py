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

Synced traits
-------------
Writers and readers: *Py* = Python, *JS* = ``js/src`` (names in ``js/src/protocol.js``, checked against the tuples
below by ``tests/unit/test_protocol.py``).

=================== ======== ========== =================================================================
trait               written  read       meaning
=================== ======== ========== =================================================================
**every widget**    (:data:`SHARED`)
``_kind``           Py       JS         which widget the bundle draws: ``explorer``, ``chart``, ``monitor``
``_bundle_hash``    Py       JS         the bundle's hash: the key of the page-level cache
``_bundle``         Py       JS         the bundle's bytes on the first widget displayed (and the monitor),
                                        else empty
**explorer**        (:data:`EXPLORER_CHOICES`, :data:`EXPLORER_STATE`)
``model``           Py, JS   Py, JS     the session shown (the user's choice; Python validates)
``layers``          Py, JS   Py, JS     chosen layers, ``[]`` = all (normalised by Python)
``samples``         Py, JS   Py, JS     chosen texts, ``[]`` = all (sorted by Python)
``view``            Py, JS   Py, JS     ``heatmap``, ``distributions``, ``trend`` or ``tokens``
``debounce_wait``   Py       JS         ms the front end waits after a click before asking for an answer
``status``          Py       JS         ``idle``, ``measuring`` or ``error``
``error``           Py, JS   JS         the error shown; JS clears it when the user dismisses it
``_views``          Py       JS         the view buttons: ``[{value, label, title}]`` (:func:`explorer_state`)
``_models``         Py       JS         the model picker's names (:func:`explorer_state`)
``_layer_options``  Py       JS         the layer chips: ``[{layer, fraction}]`` (:func:`explorer_state`)
``_sample_options`` Py       JS         the sample list: ``[{sample, words, n_tokens}]`` (:func:`explorer_state`)
``_spec``           Py       JS         the Vega-Lite spec to draw
``_revision``       Py       JS         bumped with every new ``_spec`` (a render superseded is dropped)
``_data``           Py       JS         new rows for the drawn spec's dataset: ``{revision, seq, name, values}``
``_progress``       Py       JS         measuring progress, 0..1
**offline page**    (:data:`PAGE_STATE`; keys of ``page.js``'s stand-in model, no Python trait)
``_inline``         JS       JS         the datasets of the page's declared spec
``_params``         JS       JS         the declared spec's params (chosen texts, layers; the tokens' pick)
**chart**           (:data:`CHART_STATE`)
``spec``            Py       JS         the Vega-Lite spec drawn
**monitor**         (:data:`MONITOR_STATE`)
``step``            Py       JS         the training step reached
``max_steps``       Py       JS         the run's length (0: unknown)
``status``          Py       JS         ``waiting``, ``training`` or ``done``
``summary``         Py       JS         one line: latest losses and last-layer mean cosine
``_panels``         Py       JS         each panel's spec: ``{panel: {spec, revision}}`` (:data:`MONITOR_PANELS`)
``_data``           Py       JS         new rows for one panel: ``{panel, revision, seq, name, values}``
=================== ======== ========== =================================================================

Commands
--------
The front end asks with anywidget's command API (``experimental.invoke(name, msg, {signal})`` in JS, methods
marked :func:`anywidget.experimental.command` here; the request ids are anywidget's). Every command answers: a
failure is logged and answered as ``{"error": "..."}``, which the widget shows. :data:`COMMANDS` maps each
name the front end uses to its method:

- ``bundle`` (the loader, when its page has no copy): ``{"hash": ...}`` and the bundle as a binary buffer;
- ``sync`` (every view once it is drawn): Python re-sends the whole state of the widget's synced traits, so
  changes sent before the view existed are not lost; answers ``{}``;
- ``answer`` (the explorer, after each burst of choices it sent as trait changes): answers ``{}`` once Python
  has answered those changes; the front end draws only when its latest ``answer`` is back, so answers to
  superseded choices are never drawn;
- ``csv`` (the explorer's CSV export): ``{"csv": text}``, the data of the drawn chart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import anywidget
import traitlets
from anywidget.experimental import command

from ..explore.session import CondensationSession
from ..explore.specs import LAYER_SELECTION
from ._bundle import LOADER, STYLES, bundle
from ._views import VIEWS

__all__ = ["CHART_STATE", "COMMANDS", "EXPLORER_CHOICES", "EXPLORER_STATE", "KINDS", "LAYER_SELECTION",
           "MONITOR_PANELS", "MONITOR_STATE", "PAGE_STATE", "SHARED", "BundledWidget", "answering",
           "explorer_state"]

logger = logging.getLogger(__name__)

KINDS = ("explorer", "chart", "monitor")
"""The values of ``_kind``: which widget the bundle's ``render`` draws."""
SHARED = ("_kind", "_bundle_hash", "_bundle")
"""Traits every widget has (:class:`BundledWidget`)."""
EXPLORER_CHOICES = ("model", "layers", "samples", "view")
"""The explorer's choices: written by the user (front end) and by Python."""
EXPLORER_STATE = ("debounce_wait", "status", "error", "_views", "_models", "_layer_options", "_sample_options",
                  "_spec", "_revision", "_data", "_progress")
"""The explorer's traits that Python writes and the front end draws."""
PAGE_STATE = ("_inline", "_params")
"""Keys of the offline page's stand-in model (``js/src/page.js``) that the explorer's front end also reads."""
CHART_STATE = ("spec",)
"""The chart widget's own trait."""
MONITOR_STATE = ("step", "max_steps", "status", "summary", "_panels", "_data")
"""The live training view's traits."""
MONITOR_PANELS = ("losses", "means", "heatmap")
"""The live view's panels, in the order they are drawn."""
COMMANDS = {"bundle": "_cmd_bundle", "sync": "_cmd_sync", "answer": "_cmd_answer", "csv": "_cmd_csv"}
"""The commands the front end invokes, by the name ``js/src/protocol.js`` uses, and the method answering each."""

_shipped = {"done": False}  # whether a displayed widget of this kernel has carried the bundle

Answer = tuple[dict[str, Any], list[bytes]]
F = TypeVar("F", bound=Callable[..., Answer])


def answering(method: F) -> F:
    """Mark ``method`` as an anywidget command that always answers: an exception becomes ``{"error": ...}``."""

    def answer(self: Any, msg: Any, buffers: list[bytes]) -> Answer:
        try:
            return method(self, msg, buffers)
        except Exception as exc:  # answered and shown in the widget, logged with the traceback
            logger.error("%s: command %s failed", type(self).__name__, method.__name__, exc_info=exc)
            return {"error": f"{type(exc).__name__}: {exc}"}, []

    answer.__name__ = method.__name__
    answer.__doc__ = method.__doc__
    return command(answer)  # type: ignore[return-value]


class BundledWidget(anywidget.AnyWidget):
    """The base of every nb_condense widget: the shared bundle traits, the ``bundle`` and ``sync`` commands.

    Subclasses set ``_kind``'s default and :attr:`_synced` (the traits ``sync`` re-sends). The pattern is
    lonboard's ``BaseAnyWidget``: one loader, one bundle, one place that answers a page.
    """

    _esm = LOADER  # asks for nothing when the page already has the bundle (see js/src/loader.js)
    _css = STYLES

    _kind = traitlets.Enum(KINDS, default_value="explorer").tag(sync=True)
    _bundle_hash = traitlets.Unicode("").tag(sync=True)
    _bundle = traitlets.Bytes(b"").tag(sync=True)

    _synced: ClassVar[tuple[str, ...]] = ()
    _carries_bundle: ClassVar[bool] = False
    """Whether every widget of this class carries the bundle (the live view), not only the first displayed."""

    def __init__(self, **kwargs: Any) -> None:
        self._lock = threading.RLock()  # serialises the kernel's and background threads' writes
        digest, code = bundle()
        super().__init__(_bundle_hash=digest, **kwargs)
        if self._carries_bundle:
            self._bundle = code

    def carry_bundle(self) -> None:
        """Make this widget carry the bundle if it is the first one this kernel displays (called on display)."""
        if not _shipped["done"] and not self._bundle:
            self._bundle = bundle()[1]
        _shipped["done"] = True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.carry_bundle()
        return super()._repr_mimebundle_(**kwargs)

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


def _view_options() -> list[dict[str, str]]:
    return [{"value": v.value, "label": v.label, "title": v.title} for v in VIEWS]


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
