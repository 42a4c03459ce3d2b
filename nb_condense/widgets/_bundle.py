"""The front end's files: the bundle every widget draws with, the loader each widget carries, the styles.

The bundle (vega, vega-lite, vega-embed and our drawing code; built from ``js/`` and committed) is ~870 KB. Each
widget's ``_esm`` is only ``loader.js``; how the bundle reaches a page is described in
:mod:`nb_condense.widgets._protocol`.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["BUNDLE", "LOADER", "STATIC", "STYLES", "bundle"]

STATIC = Path(__file__).parents[1] / "static"
BUNDLE = STATIC / "widget.js"
LOADER = STATIC / "loader.js"
STYLES = STATIC / "widget.css"


@functools.cache
def bundle() -> tuple[str, bytes]:
    """The front-end bundle and its hash (pages load it once, keyed by the hash)."""
    code = BUNDLE.read_bytes()
    return hashlib.sha256(code).hexdigest()[:16], code
