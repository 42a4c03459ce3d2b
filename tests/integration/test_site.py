"""The documentation site (issue 32): the documented command builds it offline with warnings as errors, every internal
link resolves, no page loads anything from another host, and the API reference lists every public name with its
parameters spelled out (the ``**options`` of ``measure`` and friends expanded).

The site is built once per module from a copy of ``docs/`` in a temporary folder (the package, ``js/`` and ``tools/``
are linked beside it, as in a checkout), with one executed tutorial added whose chart output is a real
``ChartWidget``'s saved state: the tutorials section is tested even where ``docs/teaching/expected/`` is empty.
"""

from __future__ import annotations

import dataclasses
import html.parser
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
import types
import typing
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import nb_condense as nbc
from tests.unit.js_tools import missing

ROOT = Path(__file__).resolve().parents[2]
BUILD = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"]
"""The one build command, as README.md and tests/README.md write it."""
PUBLIC = ["nb_condense", "nb_condense.charts", "nb_condense.training", "nb_condense.tutorial"]
TUTORIAL = "98_site_check"

pytestmark = pytest.mark.slow


# ----- building ---------------------------------------------------------------------------------------------------


def need_sphinx() -> None:
    """Skip (fail under CI) without Sphinx: the site's packages need Python >= 3.11, where ``[test]`` has them."""
    from importlib.util import find_spec

    if find_spec("sphinx") is None or find_spec("myst_nb") is None:
        missing(f"Sphinx and myst-nb are not installed (Python {sys.version_info[0]}.{sys.version_info[1]}): the "
                "documentation site needs Python >= 3.11 and `pip install -e '.[docs]'`")


def tutorial_notebook() -> dict:
    """An executed notebook as papermill saves one: a title cell, a chart widget output and a progress bar."""
    import json

    import nbformat

    from nb_condense import charts
    from nb_condense.widgets.chart import ChartWidget
    from tests.unit.test_spec_templates import synthetic_result

    chart = ChartWidget(charts.heatmap(synthetic_result(0), title="site check"))
    saved = {k: v for k, v in chart.get_state().items() if not isinstance(v, (bytes, memoryview))}  # buffers apart
    state = {chart.model_id: {"model_name": chart._model_name, "model_module": chart._model_module,
                              "model_module_version": chart._model_module_version,
                              "state": json.loads(json.dumps(saved))}}
    view = {"model_id": chart.model_id, "version_major": 2, "version_minor": 0}
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state,
                                                                                    "version_major": 2,
                                                                                    "version_minor": 0}}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Site check\n\n[![Open In Colab](https://colab.research.google.com/assets/"
                                      "colab-badge.svg)](https://colab.research.google.com/x)"),
        nbformat.v4.new_code_cell("chart", outputs=[nbformat.v4.new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": view, "text/plain": "ChartWidget()"})]),
        nbformat.v4.new_code_cell("for _ in tqdm(range(3)): pass", outputs=[nbformat.v4.new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "gone"},
                                  "text/plain": "100%|##########| 3/3"})]),
    ]
    return notebook


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site (its output folder), from a copy of docs/ with one executed tutorial added."""
    import nbformat

    need_sphinx()

    if not (ROOT / "js" / "node_modules" / "vega-embed").is_dir():
        missing("js/node_modules is missing (the site serves its own vega): cd js && npm ci")
    tree = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "docs", tree / "docs", ignore=shutil.ignore_patterns("_build", "__pycache__"))
    for name in ["nb_condense", "js", "tools", "pyproject.toml", "CHANGELOG.md", "README.md"]:
        (tree / name).symlink_to(ROOT / name)
    expected = tree / "docs" / "teaching" / "expected"
    expected.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.from_dict(tutorial_notebook()), expected / f"{TUTORIAL}.ipynb")
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "NO_PROXY": "*"}
    start = time.perf_counter()
    done = subprocess.run(BUILD, cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, f"the site build failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    out = tree / "docs" / "_build" / "html"
    pages = site_pages(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"\nsite: built in {seconds:.1f} s, {len(pages)} HTML pages, {size / 1e6:.1f} MB")
    return out


class Refs(html.parser.HTMLParser):
    """Every URL a page loads (``src`` of script/img/iframe/..., ``href`` of link) or links to (``href`` of a), and
    every element id."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src", "audio": "src",
             "embed": "src", "link": "href", "object": "data"}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        if "id" in values:
            self.ids.add(values["id"])
        if tag in self.LOADS and values.get(self.LOADS[tag]):
            self.loads.append(values[self.LOADS[tag]])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of the site: not the theme's template fragments that Sphinx copies into _static, nor the
    files offered as downloads (_downloads: the teacher's HTML, as committed, whose links are the repository's)."""
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_downloads"} & set(p.relative_to(site).parts))


def parse(page: Path) -> Refs:
    refs = Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


# ----- the build and its links --------------------------------------------------------------------------------------


def test_the_documented_build_command_is_the_one_tested():
    """README.md and tests/README.md give the command this module runs (the fixture's BUILD), word for word."""
    command = " ".join(["python", *BUILD[1:]])
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    assert command in (ROOT / "tests" / "README.md").read_text(encoding="utf-8")


def test_every_internal_link_and_anchor_resolves(site):
    pages = site_pages(site)
    ids: dict[Path, set[str] | None] = {page: None for page in pages}
    broken = []
    for page in pages:
        refs = parse(page)
        for url in refs.links + refs.loads:
            if is_external(url) or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            parts = urlsplit(url)
            target = page if not parts.path else (site / parts.path.lstrip("/") if parts.path.startswith("/")
                                                   else page.parent / unquote(parts.path))
            if target.is_dir():
                target = target / "index.html"
            if not target.resolve().is_file():
                broken.append(f"{page.relative_to(site)}: {url}")
                continue
            if parts.fragment and target.suffix == ".html" and target.resolve().is_relative_to(site.resolve()):
                if ids.get(target) is None:
                    ids[target] = parse(target).ids
                if unquote(parts.fragment) not in ids[target]:
                    broken.append(f"{page.relative_to(site)}: {url} (no such anchor)")
    assert not broken, "\n".join(broken[:40])


def test_no_page_loads_anything_from_another_host(site):
    outside = [f"{page.relative_to(site)}: {url}" for page in site_pages(site)
               for url in parse(page).loads if is_external(url)]
    assert not outside, "\n".join(outside[:40])


def test_a_tutorials_chart_is_drawn_by_the_sites_own_vega(site):
    """The chart widget's output became a spec for vega-embed, loaded from _static with the libraries' licences;
    its text description is the figure's caption; the progress bar kept its text; the Colab badge image became a link;
    the page links to Colab and Binder."""
    import json

    page = site / "teaching" / "expected" / f"{TUTORIAL}.html"
    text = page.read_text(encoding="utf-8")
    specs = re.findall(r'<script type="application/json" class="nbc-spec">(.*?)</script>', text, re.S)
    saved = tutorial_notebook()["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    (widget,) = saved.values()
    assert len(specs) == 1 and json.loads(specs[0]) == widget["state"]["spec"]
    assert widget["state"]["description"][:60] in html.unescape(text)
    loads = parse(page).loads
    for library in ["vega", "vega-lite", "vega-embed"]:
        assert any(url.split("?")[0].endswith(f"_static/vendor/{library}.min.js") for url in loads), library
        assert list((site / "_static" / "vendor").glob(f"{library}-*-LICENSE.txt")), library
    assert "100%|##########| 3/3" in text and "colab-badge.svg" not in text
    assert "colab.research.google.com/github/" in text and "mybinder.org/v2/gh/" in text


# ----- the API reference ----------------------------------------------------------------------------------------


def inventory(site: Path) -> dict[str, str]:
    """``{full name: role}`` of every Python object in the built objects.inv."""
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as stream:
        data = InventoryFile.load(stream, "", lambda base, uri: uri)
    return {name: role for role, entries in data.items() if role.startswith("py:") for name in entries}


def rendered_parameters(site: Path, page: str, full_name: str) -> list[str]:
    """The parameter names of ``full_name``'s signature as the page shows it."""
    text = (site / "api" / page).read_text(encoding="utf-8")
    match = re.search(rf'<dt class="sig sig-object py" id="{re.escape(full_name)}">(.*?)</dt>', text, re.S)
    assert match, f"no entry for {full_name} in api/{page}"
    params = re.findall(r'<em class="sig-param">(.*?)</em>', match.group(1), re.S)
    names = [re.sub(r"<[^>]+>", "", param).split(":")[0].split("=")[0].strip() for param in params]
    return [name for name in names if name not in {"*", "/"}]


def expected_parameters(obj: object) -> list[str] | None:
    """What the signature should show: the runtime signature (whose ``**options`` the package already expands into
    ``__signature__``), less ``self`` and private keyword parameters; None for an object without one (an exception
    class)."""
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [stars.get(p.kind, "") + p.name for p in signature.parameters.values()
            if p.name != "self" and not (p.name.startswith("_") and p.default is not p.empty)]


@pytest.mark.parametrize("module_name", PUBLIC)
def test_every_public_name_has_an_api_entry_with_its_parameters(site, module_name):
    import importlib

    module = importlib.import_module(module_name)
    found = inventory(site)
    page = "nb_condense.html" if module_name == "nb_condense" else f"{module_name.split('.')[1]}.html"
    problems = []
    for name in module.__all__:
        obj = getattr(module, name)
        full = f"{module_name}.{name}"
        if inspect.ismodule(obj):
            if obj.__name__ not in found:
                problems.append(f"{obj.__name__}: no module entry")
            continue
        if full not in found:
            problems.append(f"{full}: not in objects.inv")
            continue
        wanted = expected_parameters(obj) if inspect.isclass(obj) or inspect.isroutine(obj) else None
        if wanted is not None:
            shown = rendered_parameters(site, page, full)
            if shown != wanted:
                problems.append(f"{full}: shows {shown}, has {wanted}")
    assert not problems, "\n".join(problems)


def test_measure_shows_every_setting_and_no_options(site):
    """nb_condense.measure's rendered signature: its own parameters, then every MeasureOptions field (the
    TypedDict's keys, an independent list), and no ``**options``."""
    from nb_condense.measurement._options import MeasureOptions

    shown = rendered_parameters(site, "nb_condense.html", "nb_condense.measure")
    assert "options" not in shown
    assert set(typing.get_type_hints(MeasureOptions)) <= set(shown)
    assert shown[:2] == ["model", "tokenizer"]


# ----- the Unpack expansion itself (no build) ---------------------------------------------------------------------


def bare_copy(func: types.FunctionType) -> types.FunctionType:
    """``func`` as it is written, without the ``__signature__`` that ``with_options_signature`` sets."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__annotations__ = dict(func.__annotations__)
    copy.__module__ = func.__module__
    return copy


def test_unpack_is_expanded_into_keyword_parameters_with_the_settings_defaults():
    """The autodoc hook, on the real ``measure`` stripped of its runtime ``__signature__``: ``**options:
    Unpack[MeasureOptions]`` becomes one keyword-only parameter per TypedDict key, each with the default of the
    MeasureSettings / TextSource field of that name."""
    need_sphinx()
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import api_reference
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    from nb_condense.measurement._options import MeasureOptions
    from nb_condense.measurement.settings import MeasureSettings, TextSource

    bare = bare_copy(nbc.measure)
    assert list(inspect.signature(bare).parameters)[-1] == "options"  # what autodoc would show without the hook
    expanded = api_reference.expanded_signature(bare)
    assert expanded is not None
    params = expanded.parameters
    keys = typing.get_type_hints(MeasureOptions)
    assert "options" not in params and set(keys) <= set(params)
    defaults = {f.name: f.default for cls in (TextSource, MeasureSettings) for f in dataclasses.fields(cls)}
    for key in keys:
        assert params[key].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[key].default == defaults[key], key
    # the package's own expansion (Jupyter's Shift-Tab) and the reference's agree
    runtime = inspect.signature(nbc.measure).parameters
    assert [name for name in params] == [name for name in runtime]
    assert all(params[name].default == runtime[name].default for name in params)
