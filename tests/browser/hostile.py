"""Hostile text for the browser tier: texts, token strings, a model name and titles that would run script or
draw markup if any host put them into the page as HTML. Every payload sets ``window.__pwned`` (or opens a
dialog) when it runs, so a test can tell "shown as text" from "executed"."""

from __future__ import annotations

import dataclasses

import numpy as np

import nb_condense as nbc

TEXTS = [
    '<script>window.__pwned = "text";</script> The first text & its words, </script> and more words to read.',
    '<img src=x onerror="window.__pwned = \'text-img\'"> A second text with &amp; entities &lt;b&gt; in it.',
    "A plain third text, so the sample list has one ordinary row among the hostile ones, as real data would.",
]
TOKENS = [
    '<script>window.__pwned="token"</script>',
    "</script>",
    "<img src=x onerror=\"window.__pwned='token-img'\">",
    "&amp;",
    "&lt;b&gt;",
    "<b>bold</b>",
]
MODEL = "<img src=x onerror=\"window.__pwned='model'\"><b>gpt</b> &amp; co"
TITLE = "</title><script>window.__pwned='title'</script> Condensation &amp; <i>friends</i>"

# Whatever a payload could have done: set the flag, or left an element that is not ours in the document.
NOTHING_RAN = """() => ({
    pwned: window.__pwned ?? null,
    images: [...document.querySelectorAll('img')].filter((img) => img.getAttribute('src') === 'x').length,
    bold: [...document.querySelectorAll('b, i')].filter((node) => /bold|gpt|friends/.test(node.textContent)).length,
})"""


def hostile_result() -> nbc.CondensationResult:
    """A tiny GPT-2's measurement of :data:`TEXTS`, its token strings replaced by :data:`TOKENS` (cycled) and its
    model name by :data:`MODEL` (every other number is the measurement's own)."""
    from .conftest_models import tiny_session

    result = tiny_session(TEXTS, name=MODEL).measured_result()
    n = len(result.token_strings)
    tokens = [TOKENS[i % len(TOKENS)] for i in range(n)]
    metadata = {**result.metadata, "model_name": MODEL}
    return dataclasses.replace(result, token_strings=np.array(tokens), metadata=metadata)


def assert_nothing_ran(page, guarded) -> None:
    """No payload executed, no element of theirs was made, no dialog, no page error, no request off 127.0.0.1."""
    assert page.evaluate(NOTHING_RAN) == {"pwned": None, "images": 0, "bold": 0}
    assert guarded.page_errors == [] and guarded.blocked == []
