"""Sphinx configuration of the nb_condense documentation site.

Build it (warnings are errors, every internal reference is checked)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

Nothing here executes a notebook (``nb_execution_mode = "off"``) or reaches the network: the tutorials are rendered
from the outputs saved in ``docs/teaching/expected/``. Why Sphinx, myst-nb and the PyData theme: docs/site.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))

from nb_condense import __version__  # noqa: E402

project = "nb_condense"
author = "nb_condense developers"
copyright = "nb_condense developers"  # noqa: A001 (Sphinx's name)
release = __version__
version = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx_copybutton",
    "html_anchors",
    "api_reference",
    "tutorials",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_extra",
    "Thumbs.db",
    ".DS_Store",
    "**/__pycache__",
    "teaching/expected/**/*.html",
    "teaching/make_expected_outputs.py",
    "teaching/README.md",  # the site shows it through teaching/index.md (its toctree stays out of GitHub's view)
]

# myst / myst-nb: never execute, render the saved outputs
nb_execution_mode = "off"
# no dollarmath: a page with math would load MathJax from a CDN
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# the walkthrough's self-contained explorer pages (docs/_extra/explorers/*.html) are served at /explorers/
html_extra_path = ["_extra"]
html_static_path = ["_static"]
html_css_files = ["site.css"]  # our fixes to the theme (docs/_static/site.css)
html_theme = "pydata_sphinx_theme"
html_title = "nb_condense"
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "auto"}  # light or dark from the reader's system; no "invalid theme mode" error
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

# autodoc + napoleon (numpy style)
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# no intersphinx inventories are fetched (the build is offline)
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# -n checks every reference to our own code; references to other projects' objects (numpy, pandas, torch,
# transformers, the standard library) are not resolved offline (no intersphinx inventory is fetched) and are left
# as plain text.
nitpick_ignore_regex = [
    ("py:.*", r"(?!nb_condense\b)[A-Za-z_][\w]*\..*"),  # dotted names outside the package
    ("py:.*", r"(?:Any|Callable|Sequence|Mapping|Iterable|Iterator|Literal|Protocol|TypedDict|Self)"),
]
