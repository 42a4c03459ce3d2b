"""Helpers of the notebook tier: reading the tutorials' cells, their code as one AST, a fake Colab, outputs."""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path

import nbformat

from nb_condense.widgets.chart import WIDGET_VIEW

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
CDN = re.compile(r"esm\.sh|jsdelivr|unpkg\.com|cdnjs|skypack")
EXERCISE = re.compile(r"\*\*Exercise (\d+)\.\*\*")
IMPLEMENT = re.compile(r"\*Implement, then check\* · difficulty [●○]{5} · importance [●○]{5} · about \d+ minutes")
QUESTION = re.compile(r"\*Question\* · difficulty [●○]{5} · importance [●○]{5} · about \d+ minutes")
CHECK_CALL = re.compile(r"^tutorial\.(check_(\w+))\((\w+)\)$", re.M)


def exercise_checks(notebook: nbformat.NotebookNode) -> list[str]:
    """The checks the notebook's "implement, then check" stubs call, in order."""
    return [m.group(1) for c in code_cells(notebook) for m in CHECK_CALL.finditer(c.source)]


def code_cells(notebook: nbformat.NotebookNode) -> list:
    return [c for c in notebook.cells if c.cell_type == "code"]


def parameters_cell(notebook: nbformat.NotebookNode):
    tagged = [c for c in code_cells(notebook) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'parameters'"
    return tagged[0]


def setup_cell(notebook: nbformat.NotebookNode):
    """The one visible setup cell: the code cell right after the parameters cell."""
    code = code_cells(notebook)
    return code[code.index(parameters_cell(notebook)) + 1]


def setup_lines(notebook: nbformat.NotebookNode) -> str:
    """The setup cell without its notebook name (the one thing that differs between notebooks)."""
    source = setup_cell(notebook).source
    name = re.search(r'tutorial\.setup\("([^"]+)", globals\(\)\)', source)
    assert name, "the setup cell calls tutorial.setup(<notebook>, globals())"
    return source.replace(name.group(1), "<notebook>")


def lesson_of(path: Path):
    from nb_condense.tutorial import lesson_plan

    return lesson_plan(path.stem)


def repository_of(notebook: nbformat.NotebookNode) -> str:
    match = re.search(r'git\+(https://github\.com/[^"]+)"', setup_cell(notebook).source)
    assert match, "the setup cell installs from the repository URL"
    return match.group(1)


def badge_urls(repository: str, name: str) -> tuple[str, str]:
    """The Colab and Binder launch URLs of notebook ``name`` in ``repository`` (branch main)."""
    org_repo = repository.removeprefix("https://github.com/")
    return (f"https://colab.research.google.com/github/{org_repo}/blob/main/notebooks/{name}",
            f"https://mybinder.org/v2/gh/{org_repo}/main?labpath=notebooks%2F{name}")


def fake_colab_setup_run(notebook: nbformat.NotebookNode, colab: bool) -> tuple[list[str], dict, list[str]]:
    """Run the parameters cell and the setup cell in a real IPython shell, as on Colab (a fake ``google.colab``
    with a recording ``output.enable_custom_widget_manager``) or not; ``%pip`` is replaced by a recorder, so
    nothing is installed. Returns the recorded pip lines (expanded by IPython), the namespace, and the
    widget-manager calls."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    installs: list[str] = []
    enabled: list[str] = []
    shell.register_magic_function(lambda line: installs.append(line), "line", "pip")
    fake = types.ModuleType("google.colab")
    fake.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append("enabled"))
    if colab:
        sys.modules["google.colab"] = fake
    try:
        for source in (parameters_cell(notebook).source, setup_cell(notebook).source):
            result = shell.run_cell(source, silent=True)
            result.raise_error()
    finally:
        if sys.modules.get("google.colab") is fake:
            del sys.modules["google.colab"]
    return installs, dict(shell.user_ns), enabled


def visible_code(notebook: nbformat.NotebookNode) -> list:
    """The code cells a student sees (not collapsed)."""
    return [c for c in code_cells(notebook) if not c.metadata.get("jupyter", {}).get("source_hidden")]


def notebook_ast(notebook: nbformat.NotebookNode) -> tuple[ast.Module, dict]:
    """Every code cell (IPython magics translated) as one module, and each node's parent."""
    from IPython.core.inputtransformer2 import TransformerManager

    translate = TransformerManager().transform_cell
    tree = ast.parse("\n".join(translate(c.source) for c in code_cells(notebook)))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return tree, parents


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def calls_named(tree: ast.AST, *names: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) in names]


COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def enclosing_loops(node: ast.AST, parents: dict) -> list[ast.AST]:
    """The for loops and comprehensions around ``node``, innermost first."""
    loops = []
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, *COMPREHENSIONS)):
            loops.append(node)
    return loops


def is_tqdm_loop(loop: ast.AST) -> bool:
    iterable = loop.iter if isinstance(loop, ast.For) else loop.generators[0].iter
    return any(isinstance(n, ast.Call) and _name(n.func) == "tqdm" for n in ast.walk(iterable))


def function_from(notebook: nbformat.NotebookNode, name: str, namespace: dict):
    """The function ``name`` defined in the notebook, compiled alone in ``namespace``."""
    tree, _ = notebook_ast(notebook)
    (definition,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    exec(compile(ast.Module([definition], type_ignores=[]), name, "exec"), namespace)  # noqa: S102
    return namespace[name]


def student_view_problems(executed: nbformat.NotebookNode) -> list[str]:
    """What a student should not see in the outputs: dict dumps, renderer reprs, charts without interaction."""
    problems = []
    for index, cell in enumerate(code_cells(executed)):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain", "")
            if output.get("output_type") == "execute_result" and text.lstrip().startswith("{"):
                problems.append(f"cell {index}: a dict dump: {text[:80]!r}")
            if re.search(r"Registry|PluginEnabler", text):
                problems.append(f"cell {index}: a renderer repr: {text[:80]!r}")
            if ("image/svg+xml" in data or "image/png" in data) and WIDGET_VIEW not in data:
                problems.append(f"cell {index}: a static chart without the interactive view")
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}")
    return problems
