"""CondensationExplorer: pick layers, samples and models in a notebook and see the charts redrawn live.

The front end (``js/``, bundled into ``static/widget.js``; no CDN) only draws: every chart is a Vega-Lite
spec made here by :mod:`nb_condense.charts` from a session's cached measurement, and the list of views
comes from :data:`VIEWS`. Unmeasured sessions are measured by a :class:`~nb_condense.explore.jobs.MeasuringJob`.

Example
-------
>>> import nb_condense as nbc
>>> session = nbc.CondensationSession("embedded", dataset="builtin", n_texts=3, max_length=32,
...                                   show_progress=False)
>>> explorer = nbc.CondensationExplorer(session, view="distributions", layers=[-1], background=False)
>>> explorer.layers, explorer.status
([6], 'idle')
"""

from __future__ import annotations

import difflib
import inspect
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import traitlets

from ..charts.describe import describe_view
from ..charts.specs import TITLE_PARAM, data_values
from ..explore.jobs import MeasuringJob, describe
from ..explore.session import CondensationSession, named_sessions
from ._cache import ExplorerCache
from ._hosts import in_marimo
from ._protocol import (
    EXPLORER_CHOICES,
    EXPLORER_STATE,
    Answer,
    BundledWidget,
    Reply,
    answering,
    default,
    explorer_state,
    resolve,
)
from ._views import VIEWS, Choice
from ._views import view as explorer_view

__all__ = ["CondensationExplorer", "VIEWS"]

logger = logging.getLogger(__name__)


OPTIONS = ("model", "layers", "samples", "view", "debounce_wait", "background")
"""The keyword arguments the explorer takes (its signature, :func:`_signature`, spells them out)."""
SPEC_FIELDS = ("layers", "samples")
"""The choices a view's spec may depend on (besides the model and the view)."""


class CondensationExplorer(BundledWidget):
    """An interactive explorer over one or several :class:`~nb_condense.CondensationSession` objects.

    Parameters
    ----------
    sessions
        A session, a :class:`~nb_condense.CondensationResult`, a list of them, or a ``{name: session}`` dict.
    model, layers, samples, view, debounce_wait
        Initial values of the traits of the same names.
    background
        Measure sessions that are not measured yet in a background thread (the kernel stays responsive;
        the widget shows progress). ``False`` measures before returning. Default ``True``.

    Notes
    -----
    Everything shown is computed in Python and cached by the session; the front end only draws the
    Vega-Lite spec it is sent. :meth:`chart` returns the current Altair chart, :meth:`data` its data.
    """

    _synced = EXPLORER_CHOICES + EXPLORER_STATE
    """The traits re-sent whole after a measurement and when a view asks (see :mod:`._protocol`)."""

    # ----- the user's choices ------------------------------------------------------------------------
    model = traitlets.Unicode(default("explorerChoices", "model")).tag(sync=True)
    """Name of the session shown in the heatmap, distributions and tokens views (one of :attr:`model_names`).
    Type: str. Default: the first session's name."""

    layers = traitlets.List(traitlets.Int(), default("explorerChoices", "layers")).tag(sync=True)
    """Chosen layers as hidden-state indices (0 = embedding output); negative indices count from the
    end and are stored as their positive index; ``[]`` means all layers. The tokens view uses the first
    (default: the last layer). Type: list[int]. Default: ``[]``."""

    samples = traitlets.List(traitlets.Int(), default("explorerChoices", "samples")).tag(sync=True)
    """Chosen texts by index in ``session.texts``; ``[]`` means all. The tokens view uses the first
    (default: text 0). Type: list[int]. Default: ``[]``."""

    view = traitlets.Enum([v.value for v in VIEWS], default_value=default("explorerChoices", "view")).tag(sync=True)
    """The chart shown: ``"heatmap"`` (layer fraction vs cosine; click a column to pick a layer),
    ``"distributions"``, ``"trend"`` (mean cosine per layer, all models) or ``"tokens"``.
    Type: str. Default: ``"heatmap"``."""

    debounce_wait = traitlets.Int(default("explorerState", "debounce_wait"), min=0).tag(sync=True)
    """Milliseconds the front end waits after the last control change before asking Python for a chart
    (a burst of clicks sends one request; 0: at once, within the click). Type: int. Default: 40, and 0 in
    marimo, which sends a widget's changes made after the click only with the next user event."""

    # ----- what Python reports -----------------------------------------------------------------------
    status = traitlets.Enum(("idle", "measuring", "error"), default_value=default("explorerState", "status")).tag(
        sync=True)
    """``"measuring"`` while a session is being measured, ``"error"`` after a failure (see :attr:`error`),
    else ``"idle"``. Set by Python. Type: str. Default: ``"idle"``."""

    error = traitlets.Unicode(default("explorerState", "error")).tag(sync=True)
    """The last error raised while answering the front end (also logged), ``""`` if none. Type: str."""

    # ----- plumbing (each described in nb_condense/widgets/_protocol.py) -----------------------------
    _views = traitlets.List(traitlets.Dict(), default("explorerState", "_views")).tag(sync=True)
    _models = traitlets.List(traitlets.Unicode(), default("explorerState", "_models")).tag(sync=True)
    _layer_options = traitlets.List(traitlets.Dict(), default("explorerState", "_layer_options")).tag(sync=True)
    _sample_options = traitlets.List(traitlets.Dict(), default("explorerState", "_sample_options")).tag(sync=True)
    _spec = traitlets.Dict(default("explorerState", "_spec")).tag(sync=True)
    _data = traitlets.Dict(default("explorerState", "_data")).tag(sync=True)
    _params = traitlets.Dict(default("explorerState", "_params")).tag(sync=True)
    _revision = traitlets.Int(default("explorerState", "_revision")).tag(sync=True)
    _progress = traitlets.Float(default("explorerState", "_progress")).tag(sync=True)
    description = traitlets.Unicode(default("explorerState", "description")).tag(sync=True)
    """The drawn chart's text description for assistive technology (empty: the chart is named by its title only).

    Set with every answer from :func:`~nb_condense.charts.describe.describe_view` for the current view and choice.
    Type: str."""
    table = traitlets.Dict(default("explorerState", "table")).tag(sync=True)
    """The numbers behind the drawn view (the Data table): ``describe_view(...).to_dict()``, i.e. ``name``,
    ``summary``, ``columns`` and ``rows``. Type: dict. Default: ``{}``."""

    def __init__(self, sessions: Any, **options: Any) -> None:
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            hint = difflib.get_close_matches(unknown[0], OPTIONS, n=1)
            raise TypeError(
                f"CondensationExplorer() got an unexpected keyword argument {unknown[0]!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; valid options: {', '.join(OPTIONS)}.")
            )
        if "debounce_wait" not in options and in_marimo():
            options["debounce_wait"] = 0  # marimo sends changes made outside a user event one event late
        self._sessions = named_sessions(sessions, where="CondensationExplorer")
        names = list(self._sessions)
        self._background = bool(options.pop("background", True))
        model = options.pop("model", names[0])
        if model not in self._sessions:
            raise ValueError(f"Unknown model {model!r}: the sessions are {names}.")
        layers, samples = options.pop("layers", []), options.pop("samples", [])
        self._job: MeasuringJob | None = None
        self._cache = ExplorerCache()  # not ready: trait changes made while constructing answer nothing yet
        self._frame: pd.DataFrame | None = None
        super().__init__(model=model, samples=samples, **options)
        self._set_options()
        if not self._background and not all(self._sessions[n].measured for n in self._needed()):
            self._measure(background=False)
        self.layers = layers  # checked now if measured, else when the measurement arrives (_apply_layers)
        self._cache.start()
        self._update()

    # ----- public API --------------------------------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        """The names of the sessions, in order."""
        return list(self._sessions)

    @property
    def session(self) -> CondensationSession:
        """The session shown (selected by :attr:`model`)."""
        return self._sessions[self.model]

    def chart(self) -> Any:
        """The Altair chart of the current view and choice, highlighted layers included.

        ``None`` before the first chart is drawn.
        """
        if self._frame is None:
            return None
        return explorer_view(self.view).chart(self._choice())

    def data(self) -> pd.DataFrame:
        """The tidy data behind the current chart (what the CSV export downloads)."""
        if self._frame is None:
            raise ValueError("No chart is drawn yet" + (f": {self.error}" if self.error else "."))
        return self._frame.copy()

    def to_html(self, path: str | Path) -> Path:
        """Write the current chart (chart only, without the controls) as a self-contained offline HTML file."""
        path = Path(path)
        if path.suffix.lower() != ".html":
            raise ValueError(f"to_html writes an .html file, got {path.name!r}.")
        self.data()  # raises when nothing is drawn yet
        from ..charts import save_chart

        return save_chart(self.chart(), path)

    def save_page(self, path: str | Path, *, title: str = "Embedding condensation explorer") -> Path:
        """Write the whole explorer (every model, layer, sample and view) as one offline HTML file.

        The page needs no kernel: see :func:`nb_condense.save_page`. Every session must be measured.
        """
        from .page import save_page

        return save_page(self._sessions, path, title=title)

    def wait(self, timeout: float | None = None) -> CondensationExplorer:
        """Block until a background measurement has finished (for scripts and tests)."""
        job = self._job
        if job is not None:
            job.wait(timeout)
        return self

    def cancel(self) -> None:
        """Stop a background measurement after the text in progress (the widget then shows why)."""
        if self._job is not None:
            self._job.cancel()

    def refresh(self) -> None:
        """Redraw from the sessions (e.g. after ``session.add_texts``); retries failed measurements."""
        with self._lock:
            self._cache.retry()
            self._set_options()
            self._update()

    def __repr__(self) -> str:
        return (f"CondensationExplorer(models={self.model_names}, model={self.model!r}, view={self.view!r}, "
                f"layers={self.layers}, samples={self.samples}, status={self.status!r})")

    # ----- validation --------------------------------------------------------------------------------
    @traitlets.validate("model")
    def _check_model(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in self._sessions:
            raise traitlets.TraitError(f"Unknown model {proposal['value']!r}: the sessions are {self.model_names}.")
        return str(proposal["value"])

    @traitlets.validate("layers")
    def _check_layers(self, proposal: dict[str, Any]) -> list[int]:
        session = self._sessions[self.model]
        if not session.measured or not proposal["value"]:
            return list(proposal["value"])  # checked when the measurement arrives
        result = session.measured_result()
        try:
            return [int(result.layers[p]) for p in result.layer_positions(proposal["value"])]
        except (TypeError, ValueError) as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("samples")
    def _check_samples(self, proposal: dict[str, Any]) -> list[int]:
        n = len(self._sessions[self.model].texts)
        bad = [s for s in proposal["value"] if not 0 <= s < n]
        if bad:
            raise traitlets.TraitError(f"Unknown sample(s) {bad}: samples are text indices 0..{n - 1}.")
        return sorted(set(proposal["value"]))

    # ----- answering the front end -------------------------------------------------------------------
    @traitlets.observe("model")
    def _on_model(self, change: dict[str, Any]) -> None:
        session = self._sessions[change["new"]]
        with self.hold_trait_notifications():
            if session.measured:  # keep the layers the new model also has
                known = set(session.measured_result().layers.tolist())
                self.layers = [layer for layer in self.layers if layer in known]
            self.samples = [s for s in self.samples if s < len(session.texts)]
        self._set_options()

    @traitlets.observe("layers", "samples", "view", "model")
    def _on_choice(self, change: dict[str, Any]) -> None:
        self._update()

    def _needed(self) -> list[str]:
        """Sessions the current view needs measured."""
        return self.model_names if self.view == "trend" else [self.model]

    def _update(self) -> None:
        """Answer the current choices: a new spec or new rows when what Python draws changed, else nothing."""
        if not self._cache.ready:
            return
        with self._lock:
            self._answer()

    def _answer(self) -> None:
        if self._cache.measuring:  # the job calls back when it is done
            return
        todo = [name for name in self._needed() if not self._sessions[name].measured]
        failed = [name for name in todo if name in self._cache.failed]
        if failed:  # not retried on every click: refresh() retries
            self._cache.forget()
            self.error, self.status = self._cache.failed[failed[0]] + " (refresh() retries)", "error"
            return
        if todo:
            self._measure(background=self._background)
            return
        choice = self._choice()
        view = explorer_view(self.view)
        spec_key = (self.model, self.view, view.variant(choice), *[
            tuple(getattr(choice, f)) for f in SPEC_FIELDS if f not in view.data_fields + view.page_fields])
        data_key = tuple(tuple(getattr(choice, f)) for f in view.data_fields)
        if not self._cache.fresh(spec_key, data_key):
            return  # nothing Python draws changed (the page applies page_fields itself)
        try:  # specs come from templates that the test suite checks against the Altair charts
            if self._cache.same_spec(spec_key) and view.frame is not None:
                self._send_data(view.frame(choice), {TITLE_PARAM: view.heading(choice)})
            else:
                spec, frame = view.spec(choice.without(view.page_fields))
                with self.hold_sync():
                    self._frame, self._spec, self._params = frame, spec, {TITLE_PARAM: view.heading(choice)}
                    self._revision += 1
                    self.error, self.status = "", "idle"
            self._describe(choice)
        except Exception as exc:  # shown in the widget and logged; the widget stays usable
            self._fail(exc)
            return
        self._cache.drew(spec_key, data_key)

    def _describe(self, choice: Choice) -> None:
        """Set :attr:`description` and :attr:`table` for ``choice`` (made by :mod:`nb_condense.charts.describe`)."""
        results = {name: s.measured_result() for name, s in self._sessions.items() if s.measured}
        text = describe_view(choice.view, results, model=choice.model, layers=choice.layers, samples=choice.samples,
                             title=explorer_view(choice.view).heading(choice))
        with self.hold_sync():
            self.description, self.table = text.summary, text.to_dict()

    def _choice(self) -> Choice:
        return Choice(self._sessions, self.model, list(self.layers), list(self.samples), self.view)

    def _send_data(self, frame: pd.DataFrame, params: dict[str, Any]) -> None:
        """Swap the drawn chart's data and ``params`` (its title): the page updates its Vega view in place."""
        name = self._spec.get("data", {}).get("name")
        if name is None:
            raise ValueError("The chart has no named dataset to update.")
        with self.hold_sync():
            self._frame, self._params = frame, params
            self._data = {"revision": self._revision, "seq": self._data.get("seq", 0) + 1, "name": name,
                          "values": data_values(frame)}
            self.error, self.status = "", "idle"

    def _fail(self, exc: BaseException, message: str | None = None) -> None:
        """Show ``message`` (default: the exception) in the widget and log it with the traceback."""
        message = message or f"{type(exc).__name__}: {exc}"
        logger.error("CondensationExplorer: %s", message, exc_info=exc)
        with self._lock, self.hold_sync():
            self._cache.forget()  # the next successful answer redraws, which clears the error
            self.error, self.status = message, "error"

    def _set_options(self) -> None:
        state = explorer_state(self._sessions, self.model)
        with self._lock, self.hold_sync():
            for name, value in state.items():
                setattr(self, name, value)

    # ----- measuring ---------------------------------------------------------------------------------
    def _measure(self, background: bool) -> None:
        names = [name for name in self._needed() if not self._sessions[name].measured]
        with self.hold_sync():
            self.status, self.error, self._progress = "measuring", "", 0.0
        self._cache.measure()
        self._job = MeasuringJob({name: self._sessions[name] for name in names},
                                 on_progress=self._on_progress, on_done=self._on_measured)
        self._job.start(background=background)

    def _on_progress(self, fraction: float) -> None:
        with self._lock:  # every write from the measuring thread is serialised with the kernel's own
            self._progress = fraction

    def _on_measured(self, failed: str | None, error: BaseException | None) -> None:
        with self._lock:
            name = None if error is None else failed or self.model
            waiting = self._cache.measured(name, "" if error is None else describe(name, error))
            try:
                if error is not None:
                    self._fail(error, self._cache.failed[name or self.model])
                    return
                self.status = "idle"
                self._set_options()
                self._apply_layers(list(self.layers))
            finally:  # the page ends in the state Python holds, even if a change was missed on the way
                self.send_state(list(self._synced))
                for request in waiting:  # the front end's answers that waited for this measurement
                    resolve(request, ({}, []))

    def _apply_layers(self, wanted: list[int]) -> None:
        """Check layers chosen before the measurement existed against it; draw; say which were dropped."""
        result = self.session.measured_result()
        kept: set[int] = set()
        dropped: list[str] = []
        for layer in wanted:
            try:
                kept.update(int(result.layers[p]) for p in result.layer_positions(layer))
            except (TypeError, ValueError) as exc:
                dropped.append(str(exc))
        self.layers = sorted(kept)
        self._update()
        if dropped:
            self._fail(ValueError(f"Dropped {len(dropped)} chosen layer(s): " + " ".join(dropped)))

    # ----- commands (see nb_condense/widgets/_protocol.py) -------------------------------------------
    @answering
    def _cmd_answer(self, msg: Any, buffers: list[bytes]) -> Reply:
        """Answered once the choices sent before it are answered: at once, or when their measurement ends.

        Choices arrive in order, so they are answered when this request arrives, unless a measurement runs: then
        the answer waits for its end. A request the front end cancels meanwhile gets no answer.
        """
        with self._lock:
            return self._cache.wait() if self._cache.measuring else ({}, [])

    @answering
    def _cmd_csv(self, msg: Any, buffers: list[bytes]) -> Answer:
        """The data of the drawn chart as CSV text."""
        return {"csv": self.data().to_csv(index=False)}, []


def _signature() -> inspect.Signature:
    """The explorer's signature: each of :data:`OPTIONS`, keyword-only, with its real default.

    ``CondensationExplorer(sessions, *, model=None, layers=[], ...)``, the default a bare explorer takes (the
    protocol's), for ``help()``, editors and the API reference.
    """
    kinds = {"model": (str | None, None), "layers": (list[int], default("explorerChoices", "layers")),
             "samples": (list[int], default("explorerChoices", "samples")),
             "view": (str, default("explorerChoices", "view")),
             "debounce_wait": (int, default("explorerState", "debounce_wait")), "background": (bool, True)}
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter("sessions", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Any)]
        + [inspect.Parameter(name, keyword, annotation=kinds[name][0], default=kinds[name][1]) for name in OPTIONS],
        return_annotation=None)


CondensationExplorer.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
