"""Make the ``<a id="..."></a>`` anchors of our Markdown pages link targets Sphinx knows.

The docs are also read on GitHub, where a MyST label ``(name)=`` would show as text, so anchors inside a section
(``paper_numbers.md#f3-olmo``) are written as raw HTML. The raw HTML reaches the built page unchanged; this
extension registers each id as a label of its document, so that MyST resolves ``doc.md#id`` links to it and warns
(an error under ``-W``) about a link to an id that no page defines.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

ANCHOR = re.compile(r"<a\s+id=\"(?P<id>[A-Za-z0-9_.:-]+)\"\s*>")  # MyST splits <a ...></a> into two raw nodes


def register_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Record every raw-HTML anchor of the document just read as an anonymous label of that document."""
    env = app.env
    labels = env.domaindata["std"]["anonlabels"]
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", "").split():
            continue
        for match in ANCHOR.finditer(raw.astext()):
            anchor = match["id"]
            labels[f"html-anchor:{env.docname}#{anchor}"] = (env.docname, anchor)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the doctree hook (the std domain forgets a document's labels when it is read again)."""
    app.connect("doctree-read", register_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
