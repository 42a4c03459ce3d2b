"""The one visible setup cell of every tutorial: platform guards, the device, the preset, the printed estimates."""

from __future__ import annotations

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
        What was decided; also printed in three to five lines.
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
    return lesson


def _report(lesson: Lesson, plan: Any) -> list[str]:
    platform, estimate = lesson.platform, plan.estimates[lesson.preset]
    memory = ("memory unknown" if platform.memory_gb is None
              else f"{platform.memory_gb:.1f} GB of memory ({platform.memory_source})")
    lines = [f"DEVICE = {lesson.device!r}{f' ({lesson.hardware})' if lesson.hardware else ''}; {platform.name}; "
             f"{memory}."]
    downloads = (f", plus about {estimate.download_min:g} min to download {estimate.download_gb:g} GB and prepare "
                 "the corpora (first run only)" if estimate.download_gb else "; nothing to download")
    lines.append(f"Preset {lesson.preset!r}: about {estimate.compute_min:g} min of computing on a 2-core CPU"
                 f"{downloads}.")
    if platform.colab:
        lines.append("Colab: widgets " + ("enabled (custom-widget manager)." if lesson.colab_widgets else
                                          "not enabled (this Colab has no custom-widget manager): the charts "
                                          "show their static copies."))
    if lesson.low_memory:
        why = ("Binder (2 GB)" if platform.binder else f"a memory limit of {platform.memory_gb:.1f} GB")
        lines.append(f"Low memory: on {why} the class preset (peak {plan.class_peak_gb:g} GB) would not fit; "
                     f"using the low-memory set instead (peak {plan.low_memory_peak_gb:g} GB): "
                     + ", ".join(f"{k} = {v!r}" for k, v in plan.low_memory.items()) + ".")
        if plan.low_memory_peak_gb and platform.memory_gb and plan.low_memory_peak_gb >= platform.memory_gb:
            lines.append("That is still at the limit: close other notebooks, or use Colab if the kernel dies.")
    elif platform.memory_gb is not None and platform.memory_gb < plan.class_peak_gb:
        lines.append(f"Warning: the class preset peaked at {plan.class_peak_gb:g} GB and this kernel may use "
                     f"{platform.memory_gb:.1f} GB: it may be stopped; use Colab or a larger machine.")
    lines.append(", ".join(f"{name} = {value!r}" for name, value in lesson.values.items()))
    return lines
