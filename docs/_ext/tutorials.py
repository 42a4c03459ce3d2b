"""The tutorials section: the executed notebooks of ``docs/teaching/expected/``, rendered offline.

- ``tutorials/index`` gets a table of contents of the executed notebooks that exist (the ``expected`` outputs are
  made by ``docs/teaching/make_expected_outputs.py``; none are executed at build time), or a note saying how to make
  them.
- Each executed notebook gets an "Open in Colab" and a "Launch Binder" link after its first cell, made from the
  repository URL written once in pyproject.toml (``tools/repository_url.py``).
- Widget outputs are turned into what a page without a kernel can show: a chart widget becomes an interactive
  Vega-Lite chart drawn by the site's own copy of vega, vega-lite and vega-embed (``_static/vendor``, copied from
  ``js/node_modules`` with their licences: no CDN), with its text description as caption; an explorer widget becomes
  links to the explorer's offline pages saved beside the notebook; a progress bar keeps its text. The notebook's
  saved widget state is dropped, so myst-nb loads no widget manager from a CDN.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
EXPECTED = DOCS / "teaching" / "expected"
VENDOR = {  # package in js/node_modules -> its UMD build, in the order the page loads them
    "vega": "build/vega.min.js",
    "vega-lite": "build/vega-lite.min.js",
    "vega-embed": "build/vega-embed.min.js",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BADGE = re.compile(r"\[!\[([^\]]*)\]\(https?://[^)\s]+\)\]\(([^)\s]+)\)")
"""A Markdown badge, ``[![Open In Colab](https://.../badge.svg)](link)``: shown as the plain link."""
CHART_DOCS = "nbc_chart_docs"  # env attribute: the documents that draw a chart


def executed_notebooks(expected: Path = EXPECTED) -> list[str]:
    """The executed tutorial notebooks present, as document names (``teaching/expected/02_controlled_mlp_width``)."""
    return [f"teaching/expected/{path.stem}" for path in sorted(expected.glob("*.ipynb"))]


def open_links(name: str) -> tuple[str, str]:
    """The Colab and Binder URLs of tutorial ``name`` (its copy in the repository's notebooks/)."""
    sys.path.insert(0, str(ROOT))
    try:
        from tools.repository_url import owner_and_name, repository_url
    finally:
        sys.path.remove(str(ROOT))
    repo = owner_and_name(repository_url(ROOT / "pyproject.toml"))
    return (f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name}.ipynb",
            f"https://mybinder.org/v2/gh/{repo}/main?labpath=notebooks%2F{name}.ipynb")


def notebooks_table() -> str:
    """Markdown: every tutorial notebook with its `class` compute time, its saved run here (if any), Colab, Binder."""
    from nb_condense.tutorial import LESSONS

    present = set(executed_notebooks())
    rows = ["| notebook | `class` on 2 CPU cores | saved run | open |", "|---|---|---|---|"]
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        name = path.stem
        colab, binder = open_links(name)
        lesson = LESSONS.get(name)
        minutes = f"{lesson.estimates['class'].compute_min:g} min" if lesson else ""
        doc = f"teaching/expected/{name}"
        saved = f"[outputs](/{doc}.ipynb)" if doc in present else "—"
        rows.append(f"| `{name}.ipynb` | {minutes} | {saved} | [Colab]({colab}) · [Binder]({binder}) |")
    return "\n".join(rows)


def notebook_links(name: str) -> str:
    """Markdown: the Colab and Binder links of tutorial ``name``, and what the page shows."""
    colab, binder = open_links(name)
    return (f"**Run it yourself:** [Open in Colab]({colab}) · [Launch Binder]({binder}). The outputs below are a "
            f"saved run of this notebook (`{name}.ipynb`, `class` preset), shown as they were: nothing is re-run "
            "to build this page.")


def chart_html(spec: dict[str, Any], description: str, number: int) -> str:
    """A chart widget as HTML: the spec for vega-embed (drawn by ``_static/nbc-charts.js``) and its description."""
    spec_json = json.dumps(spec).replace("</", "<\\/")  # a "</script>" inside the data cannot end the script
    caption = html.escape(description) if description else "Chart (no text description was saved)."
    ident = f"nbc-chart-{number}"
    return (f'<figure class="nbc-chart">'
            f'<div class="nbc-vega" role="img" aria-describedby="{ident}-caption"></div>'
            f'<script type="application/json" class="nbc-spec">{spec_json}</script>'
            f'<figcaption id="{ident}-caption">{caption}</figcaption></figure>')


def explorer_html(name: str, description: str) -> str:
    """An explorer widget as HTML: links to the offline explorer pages saved with the notebook, if any."""
    pages = sorted((EXPECTED / name).glob("*.html")) if (EXPECTED / name).is_dir() else []
    text = html.escape(description) if description else ""
    if not pages:
        return f'<p class="nbc-explorer">The explorer widget runs in a notebook with a kernel. {text}</p>'
    links = ", ".join(f'<a href="{name}/{html.escape(page.name)}">{html.escape(page.stem)}</a>' for page in pages)
    return (f'<p class="nbc-explorer">The explorer widget needs a kernel; the same explorer, saved as an offline '
            f'page that runs in your browser: {links}. {text}</p>')


def _text(data: dict[str, Any]) -> dict[str, Any]:
    """Only the plain-text part of an output's data (a progress bar's last state)."""
    return {"text/plain": data["text/plain"]} if "text/plain" in data else {"text/plain": ""}


def offline_notebook(source: str, name: str) -> tuple[str, int]:
    """The notebook JSON with widgets replaced as the module docstring says; and how many charts it draws."""
    notebook = json.loads(source)
    widgets = notebook.get("metadata", {}).pop("widgets", {})
    state = widgets.get(WIDGET_STATE, {}).get("state", {})
    charts = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            model = state.get(data[WIDGET_VIEW].get("model_id"), {})
            props = model.get("state", {})
            kind = props.get("_kind") if model.get("model_name") == "AnyModel" else None
            if kind == "chart" and props.get("spec"):
                charts += 1
                output["data"] = {"text/html": chart_html(props["spec"], props.get("description", ""), charts)}
            elif kind == "explorer":
                output["data"] = {"text/html": explorer_html(name, props.get("description", ""))}
            else:
                output["data"] = _text(data)
    cells = notebook.get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            text = text.replace("](../docs/", "](../../")  # written from notebooks/, shown from here
            cell["source"] = BADGE.sub(r"[\1](\2)", text)  # a badge image is a request to another host
    if cells:
        cells.insert(1, {"cell_type": "markdown", "id": "nbc-run-it-yourself", "metadata": {},
                         "source": notebook_links(name)})
    return json.dumps(notebook), charts


def rewrite_notebook(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read``: an executed notebook made offline; the tutorials index given its table of contents."""
    if docname == "tutorials/index":
        source[0] += tutorials_toc()
        return
    if not docname.startswith("teaching/expected/") or app.env.doc2path(docname).suffix != ".ipynb":
        return
    source[0], charts = offline_notebook(source[0], docname.rsplit("/", 1)[-1])
    if charts:
        getattr(app.env, CHART_DOCS).add(docname)


def tutorials_toc() -> str:
    """The table of every notebook; the toctree of the executed notebooks present, or how to make them."""
    table = "\n\n" + notebooks_table() + "\n"
    docs = executed_notebooks()
    if not docs:
        return table + ("\n\n```{note}\nThis build has no executed tutorials: `docs/teaching/expected/` is "
                        "empty. Make them with `python docs/teaching/make_expected_outputs.py` and build again.\n```\n")
    entries = [f"/{doc}" for doc in docs]
    if (EXPECTED / "README.md").exists():
        entries.append("/teaching/expected/README")
    return table + "\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"


def vendor_files(node_modules: Path) -> list[tuple[Path, str]]:
    """Each file copied into ``_static/vendor``: the three UMD builds and their licences (source, name)."""
    files = []
    for package, build in VENDOR.items():
        folder = node_modules / package
        if not (folder / build).is_file():
            raise ExtensionError(f"{folder / build} is missing: the site serves its own copy of {package} (no CDN). "
                                 "Install the front end's packages first: cd js && npm ci")
        licence = next((p for p in sorted(folder.iterdir()) if p.name.upper().startswith("LICEN")), None)
        if licence is None:
            raise ExtensionError(f"{folder} has no LICENSE file to ship beside {build}.")
        version = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
        files += [(folder / build, f"{package}.min.js"), (licence, f"{package}-{version}-LICENSE.txt")]
    return files


def copy_vendor(app: Sphinx) -> None:
    """``builder-inited``: vega, vega-lite and vega-embed into a static folder of the build (never the source)."""
    setattr(app.env, CHART_DOCS, getattr(app.env, CHART_DOCS, set()))
    if app.builder.format != "html":
        return
    target = Path(app.doctreedir) / "_nbc_static"
    vendor = target / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for source, name in vendor_files(ROOT / "js" / "node_modules"):
        shutil.copyfile(source, vendor / name)
    app.config.html_static_path.append(str(target))


def add_chart_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context``: the chart scripts, on the pages that draw a chart only."""
    if pagename in getattr(app.env, CHART_DOCS, set()):
        for package in VENDOR:
            app.add_js_file(f"vendor/{package}.min.js")
        app.add_js_file("nbc-charts.js")


def copy_explorer_pages(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: the explorer pages saved with each notebook, beside its page."""
    if exception is not None or app.builder.format != "html":
        return
    for doc in executed_notebooks():
        folder = DOCS / doc
        if folder.is_dir():
            for page in folder.glob("*.html"):
                out = Path(app.outdir) / doc / page.name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(page, out)


def merge_chart_docs(app: Sphinx, env: Any, docnames: Any, other: Any) -> None:
    """``env-merge-info``: the chart documents read by parallel workers."""
    getattr(env, CHART_DOCS).update(getattr(other, CHART_DOCS, set()))


def purge_chart_docs(app: Sphinx, env: Any, docname: str) -> None:
    """``env-purge-doc``: forget a document that is read again."""
    getattr(env, CHART_DOCS, set()).discard(docname)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("builder-inited", copy_vendor)
    app.connect("source-read", rewrite_notebook)
    app.connect("html-page-context", add_chart_scripts)
    app.connect("build-finished", copy_explorer_pages)
    app.connect("env-merge-info", merge_chart_docs)
    app.connect("env-purge-doc", purge_chart_docs)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
