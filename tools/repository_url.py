"""Write the repository URL from pyproject.toml into the README, CITATION.cff, the notebooks and the citing page.

The URL is written once, as ``Source`` in pyproject's ``[project.urls]``. A fork changes that table and runs::

    python tools/repository_url.py          # rewrite README.md and notebooks/*.ipynb
    python tools/repository_url.py --check  # exit 1, naming the files, when one is out of date

The notebooks are edited as text (only the URLs change; cells, metadata and formatting are left as they are).
``tests/unit/test_release.py`` runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
GITHUB = re.compile(r"https://github\.com/(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
# Each place a repository appears: the Colab badge, the Binder badge, the pip install line, and the citations
# (CITATION.cff's repository-code and url, the README's BibTeX url).
PLACES = [
    (re.compile(r"(?P<pre>(?:repository-code|url):\s*\"|url\s*=\s*\{)https://github\.com/[A-Za-z0-9_.-]+/"
                r"[A-Za-z0-9_.-]+?(?=[#\"}])"), "\\g<pre>https://github.com/{repo}"),
    (re.compile(r"https://colab\.research\.google\.com/github/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/blob/"),
     "https://colab.research.google.com/github/{repo}/blob/"),
    (re.compile(r"https://mybinder\.org/v2/gh/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/"), "https://mybinder.org/v2/gh/{repo}/"),
    (re.compile(r"git\+https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(?=[\"'\s\\@])"),
     "git+https://github.com/{repo}"),
]


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The ``Source`` URL of pyproject's ``[project.urls]`` (a GitHub repository)."""
    urls = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["urls"]
    return str(urls["Source"])


def owner_and_name(url: str) -> str:
    """``owner/name`` of a GitHub repository URL; a ValueError for any other URL."""
    match = GITHUB.match(url)
    if match is None:
        raise ValueError(f"Source {url!r} is not a GitHub repository URL (https://github.com/<owner>/<name>): "
                         "the Colab and Binder badges need one.")
    return match["repo"]


def rewrite(text: str, url: str) -> str:
    """``text`` with every badge and install line pointing at the repository ``url``."""
    repo = owner_and_name(url)
    for pattern, replacement in PLACES:
        text = pattern.sub(replacement.format(repo=repo), text)
    return text


DOCS_PAGES = ["docs/reference/citing.md"]
"""Pages of the documentation site that carry the URL (the software's BibTeX entry)."""


def files(root: Path = ROOT) -> list[Path]:
    """The files that carry the repository URL (the site's pages among them when the tree has them)."""
    pages = [root / page for page in DOCS_PAGES if (root / page).exists()]
    return [root / "README.md", root / "CITATION.cff", *sorted((root / "notebooks").glob("*.ipynb")), *pages]


def sync(root: Path = ROOT, *, check: bool = False) -> list[Path]:
    """Rewrite (or, with ``check``, only list) the files whose URLs differ from pyproject's; returns them."""
    url = repository_url(root / "pyproject.toml")
    stale = []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, url)
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Command line: rewrite the files, or ``--check`` them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = sync(check=args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
