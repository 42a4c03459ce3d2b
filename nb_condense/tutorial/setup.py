"""The one visible setup cell of every tutorial: platform guards, the device, the preset, the printed estimates.

It also turns a failed download into one short message that says how to work offline (:func:`download_hint`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .lessons import OnAccelerator, lesson_plan
from .platform import Platform, detect_platform, enable_colab_widgets, pick_device

RENAMED_PRESETS = {"paper": "long"}
"""0.3.0 renamed the laptop-scale ``paper`` preset of notebooks 02, 03 and 05 to ``long``."""


@dataclass
class Lesson:
    """What :func:`setup` decided for one notebook run.

    Attributes
    ----------
    notebook, preset, device, hardware : str
        The notebook, the preset, the torch device (also set as ``DEVICE``) and a description of the hardware.
    platform : Platform
        Colab / Binder / memory limit.
    low_memory : bool
        True when the notebook's low-memory model set replaced the preset's (Binder, or a memory limit below
        the ``class`` preset's measured peak).
    colab_widgets : bool
        True when Colab's custom-widget manager was turned on.
    values : dict
        Every preset parameter's value for this run (preset, low-memory set, or the parameters cell's own).
    """

    notebook: str
    preset: str
    device: str
    hardware: str
    platform: Platform
    low_memory: bool
    colab_widgets: bool
    values: dict[str, Any] = field(default_factory=dict)


def setup(notebook: str, namespace: MutableMapping[str, Any], *, device: str | None = None,
          environ: Mapping[str, str] | None = None, modules: Mapping[str, ModuleType] | None = None,
          cgroup_root: str | Path = "/sys/fs/cgroup") -> Lesson:
    """Set up a tutorial: detect the platform, pick the device, apply the preset, print what to expect.

    Parameters
    ----------
    notebook
        The notebook's file name (``"00_quickstart"``).
    namespace
        The notebook's globals: ``PRESET`` and every preset parameter are read from it; parameters still
        ``None`` get the preset's value, and ``DEVICE`` is set.
    device
        Force a device (default: CUDA, then MPS, then the CPU).
    environ, modules, cgroup_root
        Where the platform is read from (the tests pass fakes).

    Returns
    -------
    Lesson
        What was decided; also printed in at most four lines (the chosen values are in ``Lesson.values``).
        In IPython, a failed download in a later cell prints :func:`download_hint` instead of its traceback.
    """
    plan = lesson_plan(notebook)
    preset = namespace.get("PRESET", "class")
    if preset not in plan.presets:
        renamed = RENAMED_PRESETS.get(preset)
        hint = f" (renamed {renamed!r} in 0.3.0: it is laptop-scale)" if renamed in plan.presets else ""
        raise ValueError(f"PRESET must be one of {list(plan.presets)} in {notebook}, got {preset!r}{hint}.")
    platform = detect_platform(environ, modules, cgroup_root)
    colab_widgets = enable_colab_widgets(modules) if platform.colab else False
    hardware = ""
    if device is None:
        device, hardware = pick_device()
    values = {k: v.resolve(device) if isinstance(v, OnAccelerator) else v for k, v in plan.presets[preset].items()}
    limited = platform.memory_gb is not None and platform.memory_gb < plan.class_peak_gb
    low_memory = bool(preset == "class" and plan.low_memory and (platform.binder or limited))
    if low_memory:
        values.update(plan.low_memory)
    missing = [name for name in values if name not in namespace]
    if missing:
        raise ValueError(f"The parameters cell of {notebook} lacks {missing}: run it before the setup cell.")
    for name, value in values.items():
        if namespace[name] is None:  # a value set in the parameters cell wins over the preset
            namespace[name] = value
    chosen = {name: namespace[name] for name in values}
    namespace["DEVICE"] = device
    lesson = Lesson(notebook, preset, device, hardware, platform, low_memory, colab_widgets, chosen)
    print("\n".join(_report(lesson, plan)))
    _short_download_errors(notebook)
    return lesson


_NETWORK_WORDS = ("huggingface.co", "couldn't connect", "could not connect", "name resolution", "max retries",
                  "connection", "offline", "name or service not known", "network is unreachable")
_DOWNLOAD_ERRORS = ("ModelUnavailableError", "CorpusUnavailableError")


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def download_hint(error: BaseException, notebook: str) -> str | None:
    """One short message for a failed download from the Hugging Face hub, or None when ``error`` is not one.

    A failed download is nb_condense's ``ModelUnavailableError`` or ``CorpusUnavailableError``, or an
    ``OSError`` (other than a missing local file) whose chain speaks of the hub or the network. The message
    names the notebook's offline values when it has them (notebook 00: ``MODEL = "embedded"``, ``DATASET =
    "builtin"``), else where to get the files.
    """
    chain = _chain(error)
    named = any(type(e).__name__ in _DOWNLOAD_ERRORS for e in chain)
    network = isinstance(error, OSError) and not isinstance(error, FileNotFoundError) and any(
        word in str(e).lower() for e in chain for word in _NETWORK_WORDS)
    if not (named or network):
        return None
    offline = lesson_plan(notebook).offline
    first = "Could not download from the Hugging Face hub (no internet, or the hub is unreachable)."
    if offline:
        values = ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in offline.items())
        second = f"To work offline, set {values} in the parameters cell and run the notebook again."
    else:
        second = ("This part needs the hub: run it where the hub is reachable, or cache the files before class "
                  "(the teacher's kit, docs/teaching/README.md, says how).")
    return f"{first}\n{second}\nThe full error: run %tb in a new cell."


def _short_download_errors(notebook: str) -> None:
    """In IPython, show :func:`download_hint` instead of the traceback of a failed download (others unchanged)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return

    def handler(self: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
        hint = download_hint(value, notebook)
        if hint is None:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            print(hint, file=sys.stderr)

    shell.set_custom_exc((OSError, RuntimeError), handler)


def _report(lesson: Lesson, plan: Any) -> list[str]:
    """At most four lines: the machine, the preset's cost, Colab's widgets, the memory switch or warning."""
    platform, estimate = lesson.platform, plan.estimates[lesson.preset]
    memory = ("memory unknown" if platform.memory_gb is None
              else f"{platform.memory_gb:.1f} GB of memory ({platform.memory_source})")
    lines = [f"DEVICE = {lesson.device!r}{f' ({lesson.hardware})' if lesson.hardware else ''}; {platform.name}; "
             f"{memory}."]
    offline = bool(plan.offline) and all(lesson.values.get(k) == v for k, v in plan.offline.items())
    downloads = (f", plus about {estimate.download_min:g} min to download {estimate.download_gb:g} GB and prepare "
                 "the corpora (first run only)" if estimate.download_gb and not offline else "; nothing to download")
    lines.append(f"Preset {lesson.preset!r}: about {estimate.compute_min:g} min of computing on a 2-core CPU"
                 f"{downloads}.")
    if platform.colab:
        lines.append("Colab: widgets " + ("enabled (custom-widget manager)." if lesson.colab_widgets else
                                          "not enabled (this Colab has no custom-widget manager): the charts "
                                          "show their static copies."))
    if lesson.low_memory:
        why = ("Binder (2 GB)" if platform.binder else f"a memory limit of {platform.memory_gb:.1f} GB")
        line = (f"Low memory: on {why} the class preset (peak {plan.class_peak_gb:g} GB) would not fit; using "
                f"the low-memory set (peak {plan.low_memory_peak_gb:g} GB): "
                + ", ".join(f"{k} = {v!r}" for k, v in plan.low_memory.items()) + ".")
        if plan.low_memory_peak_gb and platform.memory_gb and plan.low_memory_peak_gb >= platform.memory_gb:
            line += " That is still at the limit: close other notebooks, or use Colab if the kernel dies."
        lines.append(line)
    elif platform.memory_gb is not None and platform.memory_gb < plan.class_peak_gb:
        lines.append(f"Warning: the class preset peaked at {plan.class_peak_gb:g} GB and this kernel may use "
                     f"{platform.memory_gb:.1f} GB: it may be stopped; use Colab or a larger machine.")
    return lines
