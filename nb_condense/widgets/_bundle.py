"""The front end's files: the bundle every widget draws with, the loader each widget carries, the styles.

The bundle (vega, vega-lite, vega-embed and our drawing code; built from ``js/`` and committed) is ~870 KB. Each
widget carries only ``loader.js``, which asks the kernel for the bundle once per page (keyed by its hash).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["BUNDLE", "LOADER", "SENT", "STATIC", "STYLES", "answer_page", "bundle"]

STATIC = Path(__file__).parents[1] / "static"
BUNDLE = STATIC / "widget.js"
LOADER = STATIC / "loader.js"
STYLES = STATIC / "widget.css"


@functools.cache
def bundle() -> tuple[str, bytes]:
    """The front-end bundle and its hash (pages load it once, keyed by the hash)."""
    code = BUNDLE.read_bytes()
    return hashlib.sha256(code).hexdigest()[:16], code


SENT = {"bundles": 0}
"""How many times this kernel sent the bundle (once per page that shows our widgets)."""


def answer_page(widget: Any, content: Any, synced: Sequence[str], lock: Any) -> bool:
    """Answer what every one of our widgets' pages may ask; ``True`` when ``content`` was such a request.

    ``{"type": "bundle"}``: the loader of a page's first widget asks for the bundle (sent as a binary buffer).
    ``{"type": "sync"}``: a view was just rendered; it gets the whole state of ``synced`` traits (taken under
    ``lock``), so changes sent before it existed are not lost.
    """
    kind = content.get("type") if isinstance(content, dict) else None
    if kind == "bundle":
        digest, code = bundle()
        widget.send({"type": "bundle", "hash": digest}, buffers=[code])
        SENT["bundles"] += 1
        return True
    if kind == "sync":
        with lock:
            widget.send_state(list(synced))
        return True
    return False
