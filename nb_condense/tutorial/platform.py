"""Where a tutorial runs: Colab, Binder, the memory limit (cgroup or the machine's), and the device.

Nothing here imports torch at import time; :func:`pick_device` imports it when called.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

GIB = 2**30
BINDER_VARIABLES = ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_REPO_URL", "BINDER_SERVICE_HOST")
"""Environment variables set in a mybinder.org session (any one of them marks Binder)."""
NO_LIMIT = 2**60
"""cgroup v1 writes a huge number (about 2**63) when no limit is set: anything above this is no limit."""


@dataclass(frozen=True)
class Platform:
    """Where the notebook runs.

    Attributes
    ----------
    colab, binder : bool
        Google Colab (``google.colab`` importable in this kernel) or mybinder.org (its environment variables).
    memory_gb : float or None
        The memory this kernel may use, in GiB: the cgroup limit when one is set, else the machine's memory.
    memory_source : str
        Where ``memory_gb`` comes from: ``"cgroup v2"``, ``"cgroup v1"``, ``"psutil"``, ``"sysconf"`` or
        ``"unknown"``.
    """

    colab: bool
    binder: bool
    memory_gb: float | None
    memory_source: str

    @property
    def name(self) -> str:
        """``"Colab"``, ``"Binder"`` or ``"local"``."""
        return "Colab" if self.colab else "Binder" if self.binder else "local"


def in_colab(modules: Mapping[str, ModuleType] | None = None) -> bool:
    """True inside Google Colab: its kernel has ``google.colab`` imported."""
    return "google.colab" in (sys.modules if modules is None else modules)


def on_binder(environ: Mapping[str, str] | None = None) -> bool:
    """True on mybinder.org: one of :data:`BINDER_VARIABLES` is set."""
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in BINDER_VARIABLES)


def _cgroup_limit(root: Path) -> tuple[int | None, str]:
    """The cgroup memory limit in bytes under ``root`` (v2, then v1); ``None`` when no limit is set."""
    v2 = root / "memory.max"
    if v2.is_file():
        text = v2.read_text().strip()
        return (None if text == "max" else int(text)), "cgroup v2"
    v1 = root / "memory" / "memory.limit_in_bytes"
    if v1.is_file():
        value = int(v1.read_text().strip())
        return (None if value >= NO_LIMIT else value), "cgroup v1"
    return None, ""


def machine_memory() -> tuple[int | None, str]:
    """The machine's physical memory in bytes: psutil when installed, else POSIX sysconf."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().total), "psutil"
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")), "sysconf"
    except (AttributeError, ValueError, OSError):  # not POSIX (Windows): say we do not know
        return None, "unknown"


def memory_limit(cgroup_root: str | Path = "/sys/fs/cgroup") -> tuple[float | None, str]:
    """The memory this process may use, in GiB, and where that number comes from.

    The cgroup limit (v2 ``memory.max``, v1 ``memory/memory.limit_in_bytes``) when one is set and below
    the machine's memory (Binder and Docker set one), else the machine's memory.
    """
    limit, source = _cgroup_limit(Path(cgroup_root))
    total, total_source = machine_memory()
    if limit is not None and (total is None or limit < total):
        return limit / GIB, source
    return (None if total is None else total / GIB), total_source


def detect_platform(environ: Mapping[str, str] | None = None, modules: Mapping[str, ModuleType] | None = None,
                    cgroup_root: str | Path = "/sys/fs/cgroup") -> Platform:
    """Colab, Binder and the memory limit of this kernel."""
    memory, source = memory_limit(cgroup_root)
    return Platform(colab=in_colab(modules), binder=on_binder(environ), memory_gb=memory, memory_source=source)


def enable_colab_widgets(modules: Mapping[str, ModuleType] | None = None) -> bool:
    """On Colab, turn on its custom-widget manager (needed for anywidget); True when it was turned on.

    Older Colab kernels have no ``google.colab.output.enable_custom_widget_manager``: then nothing happens and
    the widgets fall back to their static copy (the explorer's and the charts' SVG).
    """
    real = modules is None
    modules = sys.modules if modules is None else modules
    colab = modules.get("google.colab")
    if colab is None:
        return False
    output = getattr(colab, "output", None) or modules.get("google.colab.output")
    if output is None and real:  # a real Colab kernel that has not imported the submodule yet
        try:
            output = importlib.import_module("google.colab.output")
        except ImportError:
            output = None
    enable = getattr(output, "enable_custom_widget_manager", None)
    if enable is None:
        return False
    enable()
    return True


def pick_device() -> tuple[str, str]:
    """The device (``"cuda"``, then ``"mps"``, then ``"cpu"``) and a one-line description of the hardware."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    hardware = f"{os.cpu_count()} CPU cores"
    if device == "cuda":
        gpu = torch.cuda.get_device_properties(0)
        hardware += f", GPU {gpu.name} ({gpu.total_memory / GIB:.0f} GB)"
    return device, hardware
