"""Import the authors' `embedding-condensation` 2.0 offline, for side-by-side benchmarks only.

Install it without its dependencies (it pins transformers<4.48): ``pip install --no-deps embedding-condensation==2.0``.
Its module imports NLTK (and downloads punkt_tab data at import) and matplotlib. Neither is needed when it is
given ``texts=`` and ``plot=False, save_path=None``, so both are replaced by stubs here before the import:
``word_tokenize`` becomes a regex word splitter (never called on this path), ``pyplot`` an empty module.
"""

from __future__ import annotations

import re
import sys
import types


def import_reference():  # type: ignore[no-untyped-def]
    if "nltk" not in sys.modules:
        nltk = types.ModuleType("nltk")
        tokenize = types.ModuleType("nltk.tokenize")
        tokenize.word_tokenize = lambda text: re.findall(r"\w+|[^\w\s]", text)  # type: ignore[attr-defined]
        nltk.tokenize = tokenize  # type: ignore[attr-defined]
        nltk.download = lambda *a, **k: None  # type: ignore[attr-defined]
        sys.modules.update({"nltk": nltk, "nltk.tokenize": tokenize})
    if "matplotlib" not in sys.modules:
        mpl = types.ModuleType("matplotlib")
        pyplot = types.ModuleType("matplotlib.pyplot")
        mpl.pyplot = pyplot  # type: ignore[attr-defined]
        sys.modules.update({"matplotlib": mpl, "matplotlib.pyplot": pyplot})
    try:
        import embedding_condensation
    except ImportError as exc:
        raise SystemExit(
            "The reference package is missing: pip install --no-deps embedding-condensation==2.0"
        ) from exc
    return embedding_condensation
