"""TrainingMonitor: watch condensation while ``trainer.train()`` runs in the same notebook cell.

Three panels drawn by the explorer's bundle (no CDN) from :mod:`nb_condense.charts`: the training losses, the
mean cosine per layer vs step, and the latest measurement's heatmap. Python sends each panel's spec once,
then only new rows (the page swaps them into the drawn view), so an update costs a few milliseconds in the
kernel. Pass one to :class:`~nb_condense.training.trainer.CondensationCallback` (``monitor=TrainingMonitor()``):
it shows itself when training starts in a notebook, Jupyter (JupyterLab, Notebook 7, VS Code, Colab) or marimo
(:func:`show`).

Example
-------
>>> monitor = TrainingMonitor(max_steps=10)
>>> monitor.log(1, {"loss": 3.2, "dispersion_loss": -0.14})
>>> monitor.step, list(monitor.losses["series"])
(1, ['loss', 'dispersion_loss'])
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd
import traitlets

from .. import charts
from ..charts.describe import describe_panel
from ..charts.lines import LOSS_SERIES
from ..charts.specs import data_values, heatmap_frame
from ..core.result import CondensationResult
from ._hosts import in_marimo, in_notebook, show
from ._protocol import MONITOR_PANELS, MONITOR_STATE, BundledWidget, default

__all__ = ["TrainingMonitor", "in_marimo", "in_notebook", "show"]

logger = logging.getLogger(__name__)
PANELS = MONITOR_PANELS
PANEL_WIDTH = 300


class TrainingMonitor(BundledWidget):
    """A live view of a training run: losses, mean cosine per layer vs step, the latest heatmap.

    Parameters
    ----------
    max_steps
        The run's length, shown as progress (``0``: unknown).

    Notes
    -----
    Feed it with :meth:`log` (the Trainer's logs) and :meth:`measured` (each condensation measurement); the
    callback does both. Its ``losses`` and ``history`` attributes hold everything it drew, as tidy frames.
    """

    # Every monitor carries the bundle: a running cell holds the kernel, which then answers no request from the
    # page until the training ends; the state changes it sends still arrive live.
    _carries_bundle = True
    _kind = traitlets.Enum(("monitor",), default_value="monitor").tag(sync=True)
    _synced = MONITOR_STATE

    step = traitlets.Int(default("monitorState", "step")).tag(sync=True)
    """The last training step reported. Type: int. Default: 0."""
    max_steps = traitlets.Int(default("monitorState", "max_steps")).tag(sync=True)
    """The run's planned steps (0 if unknown). Type: int. Default: 0."""
    status = traitlets.Enum(("waiting", "training", "done"), default_value=default("monitorState", "status")).tag(
        sync=True)
    """``"waiting"`` before the first report, ``"training"``, then ``"done"``. Type: str."""
    summary = traitlets.Unicode(default("monitorState", "summary")).tag(sync=True)
    """One line: the latest losses and last-layer mean cosine. Type: str."""

    descriptions = traitlets.Dict(default("monitorState", "descriptions")).tag(sync=True)
    """Each drawn panel's text description, ``{panel: summary}``, made by
    :func:`~nb_condense.charts.describe.describe_panel` from what the panel draws. Type: dict."""

    _panels = traitlets.Dict(default("monitorState", "_panels")).tag(sync=True)
    _data = traitlets.Dict(default("monitorState", "_data")).tag(sync=True)

    def __init__(self, max_steps: int = 0) -> None:
        super().__init__(max_steps=int(max_steps))
        self.losses = pd.DataFrame(columns=["step", "series", "value"])
        self.history = pd.DataFrame(columns=["step", "layer", "layer_fraction", "mean"])
        self.latest: CondensationResult | None = None
        self.update_ms: list[float] = []
        """Kernel time of each update (making and sending what changed), for the record."""
        self._seq = 0

    def __repr__(self) -> str:  # the text a viewer without widgets shows (GitHub, nbviewer, a terminal)
        steps = f"step {self.step} of {self.max_steps}" if self.max_steps else f"step {self.step}"
        return f"TrainingMonitor({self.status}, {steps}{': ' + self.summary if self.summary else ''})"

    # ----- what the training reports ------------------------------------------------------------------
    def start(self, max_steps: int) -> None:
        """Training begins: record its length (when known) and show this view in a notebook."""
        if max_steps:
            self.max_steps = int(max_steps)
        if in_notebook():  # Jupyter or marimo
            show(self)

    def log(self, step: int, logs: Mapping[str, Any]) -> None:
        """Add the losses of one Trainer log (``loss``, ``ce_loss``, ``dispersion_loss`` when present)."""
        rows = [{"step": int(step), "series": k, "value": float(logs[k])} for k in LOSS_SERIES if k in logs]
        if not rows:
            return
        with self._timed():
            self.losses = pd.concat([self.losses, pd.DataFrame(rows)], ignore_index=True)
            self._show("losses", self.losses, lambda: charts.training_losses(self.losses, width=PANEL_WIDTH))
            self._describe({"losses": self.losses})
            self.step, self.status = int(step), "training"
            self._summarise()

    def measured(self, step: int, result: CondensationResult) -> None:
        """Add one condensation measurement (the callback's, at ``step``)."""
        with self._timed():
            frame = pd.DataFrame({"step": int(step), "layer": result.layers, "layer_fraction": result.layer_fractions,
                                  "mean": result.layer_means})
            self.history = pd.concat([self.history, frame], ignore_index=True)
            self.latest = result
            self._show("means", self.history, lambda: charts.training_history(self.history, width=PANEL_WIDTH))
            self._show("heatmap", heatmap_frame(result.density(), result.layer_fractions, result.layers),
                       lambda: charts.heatmap(result, title="Latest condensation measurement", select=False,
                                              width=PANEL_WIDTH, height=260))
            self._describe({"means": self.history, "heatmap": result})
            self.step = max(self.step, int(step))
            self.status = "training" if self.status == "waiting" else self.status
            self._summarise()

    def done(self) -> None:
        """Mark the run finished."""
        with self._lock:
            self.status = "done"
            self._summarise()

    # ----- drawing -------------------------------------------------------------------------------------
    def _show(self, panel: str, frame: pd.DataFrame, chart: Callable[[], Any]) -> None:
        """A panel's first spec (``chart()``, drawing ``frame``), or only its new rows once the page has it."""
        current = self._panels.get(panel)
        if current is None:
            spec = chart().to_dict(validate=False)
            self._panels = {**self._panels, panel: {"spec": spec, "revision": len(self._panels) + 1}}
            return
        self._seq += 1
        self._data = {"panel": panel, "revision": current["revision"], "seq": self._seq,
                      "name": current["spec"]["data"]["name"], "values": data_values(frame)}

    def _describe(self, drawn: Mapping[str, pd.DataFrame | CondensationResult]) -> None:
        """Set the :attr:`descriptions` of the panels just drawn (from the data they draw)."""
        self.descriptions = {**self.descriptions, **{panel: describe_panel(panel, data).summary
                                                     for panel, data in drawn.items()}}

    def _summarise(self) -> None:
        latest = self.losses.groupby("series")["value"].last() if len(self.losses) else pd.Series(dtype=float)
        if self.status == "done":
            parts = [f"Done at step {self.step}"]
        else:
            parts = [f"step {self.step}" + (f"/{self.max_steps}" if self.max_steps else "")]
        parts += [f"{name} {latest[name]:.4f}" for name in LOSS_SERIES if name in latest]
        if self.latest is not None:
            parts.append(f"last-layer mean cosine {float(self.latest.layer_means[-1]):.3f}")
        self.summary = " · ".join(parts)

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        """Serialise an update (training threads and the kernel) and record its kernel time."""
        with self._lock:
            start = time.perf_counter()
            yield
            self.update_ms.append((time.perf_counter() - start) * 1000)
