"""The architecture as a tested contract: layers (import-linter), an instant import, no shadowed modules."""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
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


def loaded_after(code: str) -> list[str]:
    """Heavy packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_import_is_light():
    assert loaded_after("import nb_condense; nb_condense.__version__; dir(nb_condense)") == []


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


def test_every_public_name_resolves_and_is_documented():
    import nb_condense

    for name in nb_condense.__all__:
        value = getattr(nb_condense, name)
        assert (getattr(value, "__doc__", None) or name == "__version__"), name


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
