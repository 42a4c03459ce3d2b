"""Whether the Hugging Face hub can be reached, and whether a data set is cached, answered in seconds.

Asked before ``datasets`` is imported, so that an offline run fails at once instead of after the hub client's
retries.

Example
-------
>>> dataset_cached("no-such-owner/no-such-data-set")
False
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["dataset_cached", "go_offline", "offline_reason"]

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
PROBE_TIMEOUT_S = 2.0
"""How long the hub's host may take to accept a TCP connection before it counts as unreachable."""


def _set(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}


def offline_reason(timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why the hub cannot be reached now (``HF_HUB_OFFLINE`` set, or no connection to its host), else ``None``.

    The probe is one TCP connection to ``HF_ENDPOINT``'s host, given at most ``timeout`` seconds (DNS included).
    Behind a proxy (``HTTPS_PROXY`` and friends) the host is not probed: the proxy decides.
    """
    for variable in OFFLINE_VARIABLES:
        if _set(variable):
            return f"{variable} is set"
    if any(os.environ.get(variable) for variable in PROXY_VARIABLES):
        return None
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    outcome: dict[str, BaseException | None] = {}

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome["error"] = None
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=probe, name="nb_condense-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" not in outcome:
        return f"{host} did not answer within {timeout:g} s"
    error = outcome["error"]
    return None if error is None else f"no connection to {host}: {getattr(error, 'strerror', None) or error}"


def _cache_folders() -> tuple[Path, Path]:
    home = os.environ.get("HF_HOME") or str(Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "huggingface")
    hub = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or str(Path(home) / "hub")
    data = os.environ.get("HF_DATASETS_CACHE") or str(Path(home) / "datasets")
    return Path(hub).expanduser(), Path(data).expanduser()


def dataset_cached(path: str) -> bool:
    """Whether the hub data set ``path`` (e.g. ``"Salesforce/wikitext"``) has a local copy ``datasets`` can use."""
    hub, data = _cache_folders()
    return (hub / ("datasets--" + path.replace("/", "--"))).is_dir() or (data / path.replace("/", "___")).is_dir()


def go_offline() -> None:
    """Tell the hub clients (before they are imported) to use their caches without trying the network."""
    for variable in OFFLINE_VARIABLES:
        os.environ[variable] = "1"
