"""The architecture as a tested contract: layers (import-linter), an instant import, no shadowed modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "datasets", "altair", "anywidget")


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def copy_package(target: Path) -> None:
    """The package's Python sources and the contract, copied to ``target`` (to break them there)."""
    ignore = shutil.ignore_patterns("static", "__pycache__")
    shutil.copytree(ROOT / "nb_condense", target / "nb_condense", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


@pytest.mark.gates
def test_the_layers_contract_is_kept():
    run = lint_imports(ROOT, ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 kept, 0 broken" in run.stdout


def test_the_contract_has_at_most_eight_tiers_and_they_are_the_folders():
    tomllib = pytest.importorskip("tomllib")
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    assert len(layers) <= 8
    named = {name.strip() for layer in layers for name in layer.split("|")}
    on_disk = {p.name for p in (ROOT / "nb_condense").iterdir() if (p / "__init__.py").exists()}
    on_disk |= {p.stem for p in (ROOT / "nb_condense").glob("*.py") if p.stem != "__init__"}
    assert named == on_disk


def inject(tmp_path: Path, module: str, body: str) -> subprocess.CompletedProcess[str]:
    """Copy the package, append a function holding ``body`` to ``module`` (a path under nb_condense/), lint."""
    copy_package(tmp_path)
    with open(tmp_path / "nb_condense" / module, "a") as handle:
        handle.write(f"\n\ndef _sneaky() -> None:\n{body}")
    return lint_imports(tmp_path, tmp_path)


@pytest.mark.gates
@pytest.mark.parametrize(("module", "upward"), [
    ("measurement/metrics.py", "    from ..widgets.explorer import CondensationExplorer  # hidden in a function\n"),
    ("explore/session.py", "    from .. import charts\n"),
    ("core/result.py", "    from ..measurement.engine import measure\n"),
    ("charts/lines.py", "    from ..widgets import page\n"),
])
def test_the_contract_fails_on_an_upward_import_even_inside_a_function(tmp_path, module, upward):
    run = inject(tmp_path, module, upward)
    assert run.returncode == 1, run.stdout
    dotted = "nb_condense." + module.removesuffix(".py").replace("/", ".")
    assert "BROKEN" in run.stdout and dotted in run.stdout


@pytest.mark.gates
@pytest.mark.parametrize("module", ["core/summaries.py", "charts/specs.py", "charts/base.py"])
def test_the_light_tiers_may_not_import_torch(tmp_path, module):
    run = inject(tmp_path, module, "    import torch  # noqa\n")
    assert run.returncode == 1, run.stdout
    assert "core, explore and charts import neither torch nor transformers BROKEN" in run.stdout


@pytest.mark.gates
def test_charts_may_not_import_explore(tmp_path):
    run = inject(tmp_path, "charts/lines.py", "    from ..explore import session  # noqa\n")
    assert run.returncode == 1, run.stdout
    assert "charts import nothing from explore" in run.stdout and "BROKEN" in run.stdout


@pytest.mark.gates
@pytest.mark.parametrize("forbidden", [
    "    from ..widgets.monitor import TrainingMonitor  # noqa\n",
    "    from ..explore.session import CondensationSession  # noqa\n",
])
def test_training_may_import_neither_the_widgets_nor_the_session(tmp_path, forbidden):
    run = inject(tmp_path, "training/dispersion.py", forbidden)
    assert run.returncode == 1, run.stdout
    assert "training imports neither the widgets nor the exploring session BROKEN" in run.stdout
    assert "nb_condense.training.dispersion" in run.stdout


@pytest.mark.gates
def test_every_module_sits_in_a_layer(tmp_path):
    copy_package(tmp_path)
    (tmp_path / "nb_condense" / "stray.py").write_text('"""A module nobody placed."""\n')
    run = lint_imports(tmp_path, tmp_path)
    assert run.returncode == 1 and "stray" in run.stdout + run.stderr


# exploring a saved result needs none of HEAVY (the brief); the other names may load what they need, on first use
LIGHT_NAMES = ("CondensationResult", "CondensationSession", "CorpusUnavailableError", "Difference", "MeasureSettings",
               "TextSource", "compare", "difference", "sample_texts")


def test_import_is_light_and_every_public_name_loads_its_module_on_first_use():
    """In a fresh interpreter: ``import nb_condense`` (with ``__version__`` and ``dir``) loads none of HEAVY and no
    module of the package but ``_version``, and binds no public name; the names for exploring a saved result load
    none of HEAVY when used; ``save_chart`` loads Altair (so the probe does see a heavy import)."""
    probe = f"""
import json, sys
import nb_condense
package = lambda: sorted(m for m in sys.modules if m.startswith("nb_condense."))
heavy = lambda: [m for m in {HEAVY!r} if m in sys.modules]
nb_condense.__version__, dir(nb_condense)
bound = set(nb_condense.__all__) & set(vars(nb_condense)) - {{"__version__"}}
report = {{"after_import": package(), "heavy_after_import": heavy(), "bound": sorted(bound)}}
for name in {LIGHT_NAMES!r}:
    getattr(nb_condense, name)
report["light"] = heavy()
nb_condense.save_chart
report["save_chart"] = heavy()
print(json.dumps(report))
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["heavy_after_import"] == [] and report["after_import"] == ["nb_condense._version"]
    assert report["bound"] == []
    assert report["light"] == []
    assert "altair" in report["save_chart"] and "torch" not in report["save_chart"]


def test_no_module_is_shadowed_by_a_name_of_the_package():
    import nb_condense

    modules = {m.name for m in pkgutil.iter_modules(nb_condense.__path__)}
    for name in nb_condense.__all__:
        value = getattr(nb_condense, name)
        if name in modules:  # a submodule's name may only resolve to that submodule
            assert value is importlib.import_module(f"nb_condense.{name}")
    for name in modules:
        module = importlib.import_module(f"nb_condense.{name}")
        assert getattr(nb_condense, name) is module, name


def test_the_version_lives_in_its_own_module_and_is_the_packages():
    tomllib = pytest.importorskip("tomllib")

    import nb_condense
    from nb_condense import _version

    assert nb_condense.__version__ == _version.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "nb_condense/_version.py"


def declared_for_type_checkers() -> dict[str, str]:
    """``{public name: owner module}`` as the ``if TYPE_CHECKING:`` imports of ``nb_condense/__init__.py`` say."""
    tree = ast.parse((ROOT / "nb_condense" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    owners = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.unparse(node)
        for alias in node.names:
            assert alias.asname == alias.name, ast.unparse(node)  # "as" itself: a re-export for type checkers
            owners[alias.name] = node.module or alias.name
    return owners


def test_every_public_name_is_the_object_defined_in_the_module_its_map_names():
    """The lazy map (``_EXPORTS``), what type checkers and IDEs see (the TYPE_CHECKING imports) and ``__all__``
    agree, and each name resolves to the object its owner module defines (not a re-export from elsewhere)."""
    import nb_condense

    exports = nb_condense._EXPORTS
    assert declared_for_type_checkers() == {**exports, **{m: m for m in nb_condense._MODULES}}
    assert set(nb_condense.__all__) == {*exports, *nb_condense._MODULES, "__version__"}
    for name, owner in exports.items():
        module = importlib.import_module(f"nb_condense.{owner}")
        value = getattr(nb_condense, name)
        assert value is getattr(module, name), name
        assert value.__module__ == module.__name__ or value.__module__.startswith(module.__name__ + "."), \
            f"{name} is defined in {value.__module__}, not under nb_condense.{owner}"
    with pytest.raises(AttributeError, match="has no attribute 'measure_texts'"):
        nb_condense.measure_texts  # noqa: B018


SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}[ \t]*$", re.MULTILINE)


def numpy_sections(doc: str) -> dict[str, str]:
    """The sections of a numpy-style docstring: ``{"Parameters": body, ...}`` (a title underlined by dashes)."""
    heads = list(SECTION.finditer(doc))
    ends = [h.start() for h in heads[1:]] + [len(doc)]
    return {head.group(1).strip(): doc[head.end():end] for head, end in zip(heads, ends)}


def documented_names(body: str, variadic: bool = False) -> set[str]:
    """The names a numpy section's entries give (``name : type``, ``a, b : type``, ``**options``); a line of prose
    is no entry. ``variadic``: only the starred entries (``*args``, ``**options``), without their stars."""
    names: set[str] = set()
    for line in body.splitlines():
        if not line or line[0].isspace():
            continue
        entry = [n.strip() for n in line.split(" : ")[0].split(",")]
        if all(n.lstrip("*").isidentifier() for n in entry):
            names |= {n.lstrip("*") for n in entry if n.startswith("*") or not variadic}
    return names


def undocumented_parameters(value: object) -> tuple[list[str], list[str]]:
    """``(named in the signature but not in the docstring, named in the docstring but not in the signature)``.

    A class may document its parameters under "Attributes" (a dataclass's fields are both). Where the signature
    takes ``**options``, the docstring may name the options it accepts.
    """
    try:
        parameters = inspect.signature(value).parameters.values()  # type: ignore[arg-type]
    except ValueError:  # a builtin's signature (an exception class): nothing of its own to document
        return [], []
    named = [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_options = any(p.kind == p.VAR_KEYWORD for p in parameters)
    sections = numpy_sections(inspect.getdoc(value) or "")
    listed = sections.get("Parameters", "")
    documented = documented_names(listed)
    if inspect.isclass(value):
        documented |= documented_names(sections.get("Attributes", ""))
    extra = documented_names(listed) - set(named) - documented_names(listed, variadic=True)
    stale = [] if takes_options else sorted(extra)
    return [name for name in named if name not in documented], stale


# Public names whose docstrings do not yet list every parameter in a numpy "Parameters" section (most take the
# settings that measurement/settings.py splices into their signatures). The test fails once one is complete:
# then strike it here. Shrink, never grow.
PARAMETERS_NOT_YET_DOCUMENTED = {
    "CondensationCallback", "CondensationSession", "DispersionTrainer", "MeasureSettings", "TextSource",
    "Difference", "dispersion_penalty", "load_model", "measure", "measure_embedding_condensation",
    "plot_similarity_heatmap", "save_page", "sample_texts", "save_chart",
}


def test_every_public_callable_documents_its_parameters_numpy_style():
    import nb_condense

    incomplete, stale = set(), {}
    for name in nb_condense._EXPORTS:
        value = getattr(nb_condense, name)
        assert inspect.getdoc(value), f"{name} has no docstring"
        missing, extra = undocumented_parameters(value)
        if missing:
            incomplete.add(name)
        if extra:
            stale[name] = extra
    assert stale == {}, "documented parameters the signature does not have"
    assert incomplete - PARAMETERS_NOT_YET_DOCUMENTED == set(), "document these parameters (numpy style)"
    assert PARAMETERS_NOT_YET_DOCUMENTED - incomplete == set(), "documented now: strike from the list"


def test_the_docstring_check_sees_a_missing_a_stale_and_a_complete_parameter_list():
    def complete(a: int, *args: int, b: str = "", **options: int) -> None:
        """Summary.

        Parameters
        ----------
        a, b : int
            Two.
        *args, **options
            More.
        """

    def missing(a: int, b: int) -> None:
        """Summary.

        Parameters
        ----------
        a : int
            Only one.

        Returns
        -------
        b
            Not a parameter section.
        """

    def stale(a: int) -> None:
        """Summary.

        Parameters
        ----------
        a : int
        old_name : int
        """

    assert undocumented_parameters(complete) == ([], [])
    assert undocumented_parameters(missing) == (["b"], [])
    assert undocumented_parameters(stale) == ([], ["old_name"])
    assert undocumented_parameters(lambda x: x) == (["x"], [])  # no docstring at all


MAX_FUNCTION_LINES = 60


def long_functions(package: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``module:function (lines)`` for each function of ``package`` longer than ``limit`` lines, decorators included."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                length = (node.end_lineno or node.lineno) - start + 1
                if length > limit:
                    found.append(f"{path.relative_to(package.parent).as_posix()}:{node.name} ({length})")
    return found


def test_the_function_counter_sees_a_long_function_and_its_decorators(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(58))
    (package / "m.py").write_text(f"def short():\n{body}\n\n@staticmethod\n@property\ndef long():\n{body}")
    assert long_functions(package) == ["pkg/m.py:long (61)"]  # 60 lines of its own, 61 with its decorators


def test_no_function_in_the_package_is_longer_than_sixty_lines():
    assert long_functions(ROOT / "nb_condense") == []
