"""The teacher's guides (docs/teaching/0*.md) agree with the exercises of the notebooks they teach.

A guide names exercises by number (plan, ranges, answers, common errors). Issue 30 rebuilt the exercises and the
guides kept describing the old ones ("Exercise 1: MLP parameters", "exercise 2: the floor"). Here every exercise a
guide names must exist in its notebook with the kind the guide gives it, every quoted hint must be one the
exercise's check can print, and the answers must cover the notebook's question exercises, in order.

The hints a check can print are read from the source of the check package with ``ast``: the string literals of the
check function and of every module-level function or table it uses, in its own module and in ``_harness``
(f-strings become patterns). Docstrings are left out.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "docs" / "teaching"
CHECKS = ROOT / "nb_condense" / "tutorial" / "checks"
NAMES = sorted(path.stem for path in (ROOT / "notebooks").glob("0[0-5]_*.ipynb"))

HEADING = re.compile(r"\*\*Exercise (\d+)\.\*\* \*(Implement, then check|Question)\*")
CHECK_CALL = re.compile(r"\btutorial\.(check_\w+)\(")
MENTION = re.compile(r"\b[Ee]xercises? (\d+(?:(?:-|, | and | or | to )\d+)*)")
KIND = re.compile(r"\b[Ee]xercise (\d+) \((implement, then check|question)")
ERROR_ROW = re.compile(r"^\| Exercise (\d+): \"(.*?)\" \|", re.M)
GENERIC_ROW = re.compile(r"^\| Every check: \"(.*?)\" \|", re.M)
ANSWER = re.compile(r"^- \*Exercise (\d+), [^*]+\.\*", re.M)


@dataclass(frozen=True)
class Exercise:
    number: int
    kind: str  # "implement" or "question"
    check: str | None  # the check the cell after an implement exercise calls


@cache
def notebook_exercises(name: str) -> dict[int, Exercise]:
    cells = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
    exercises: dict[int, Exercise] = {}
    for index, cell in enumerate(cells):
        heading = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
        if not heading:
            continue
        number, kind = int(heading[1]), "implement" if heading[2].startswith("Implement") else "question"
        check = None
        if kind == "implement":
            calls = [CHECK_CALL.search(c.source) for c in cells[index + 1: index + 4] if c.cell_type == "code"]
            check = next(call[1] for call in calls if call)
        exercises[number] = Exercise(number, kind, check)
    assert sorted(exercises) == list(range(1, len(exercises) + 1)), (name, sorted(exercises))
    return exercises


def guide(name: str) -> str:
    return (GUIDES / f"{name}.md").read_text(encoding="utf-8")


def numbers(mention: str) -> set[int]:
    """ "3-5" -> {3, 4, 5}; "2, 4 and 6" -> {2, 4, 6}."""
    found: set[int] = set()
    for part in re.split(r", | and | or ", mention):
        low, _, high = re.sub(r" to ", "-", part).partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


# ----- the hints a check can print, from the check package's source --------------------------------------------


@cache
def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in CHECKS.glob("*.py")}


def _top_level(module: ast.Module) -> tuple[dict[str, ast.AST], dict[str, str]]:
    """Names defined at module level, and names imported from a sibling module (name -> module)."""
    defined: dict[str, ast.AST] = {}
    imported: dict[str, str] = {}
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defined[target.id] = node
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
    return defined, imported


def _reachable(module_name: str, name: str) -> list[ast.AST]:
    """The definition of ``name`` and of every module-level name it uses, across the check package."""
    seen: set[tuple[str, str]] = set()
    nodes: list[ast.AST] = []
    todo = [(module_name, name)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        defined, imported = _top_level(_modules()[key[0]])
        if key[1] in imported and imported[key[1]] in _modules():
            todo.append((imported[key[1]], key[1]))
            continue
        if key[1] not in defined:
            continue
        node = defined[key[1]]
        nodes.append(node)
        todo.extend((key[0], n.id) for n in ast.walk(node) if isinstance(n, ast.Name))
    return nodes


class _Strings(ast.NodeVisitor):
    """Plain string literals and f-string patterns, docstrings left out."""

    def __init__(self) -> None:
        self.constants: set[str] = set()
        self.patterns: set[str] = set()

    def _body(self, body: list[ast.stmt]) -> None:
        start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        for statement in body[start:]:
            self.visit(statement)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for item in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if item is not None:
                self.visit(item)
        self._body(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._body(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self.constants.add(node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        literal = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if sum(map(len, literal)) >= 10:  # f"{what}{hint}" would match anything
            self.patterns.add("".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".*"
                                      for v in node.values))


@cache
def check_hints(check: str) -> tuple[frozenset[str], frozenset[str]]:
    """(plain strings, f-string patterns) the check named ``check`` can print."""
    homes = [name for name, module in _modules().items() if check in _top_level(module)[0]]
    assert len(homes) == 1, (check, homes)
    strings = _Strings()
    for node in _reachable(homes[0], check):
        strings.visit(node)
    return frozenset(strings.constants), frozenset(strings.patterns)


@cache
def harness_hints() -> tuple[frozenset[str], frozenset[str]]:
    """What the shared harness can print for any check (shape, "not implemented yet", the unknown mistake)."""
    strings = _Strings()
    for node in _modules()["_harness"].body:
        strings.visit(node)
    return frozenset(strings.constants), frozenset(strings.patterns)


def printable(hint: str, constants: frozenset[str], patterns: frozenset[str]) -> bool:
    """``hint`` is one printed string, or two joined (a prefix such as "the gradient: ", or an added clause)."""
    regexes = [re.escape(c) for c in constants] + list(patterns)

    def whole(text: str) -> bool:
        return any(re.fullmatch(r, text, flags=re.S) for r in regexes)

    return whole(hint) or any(
        (hint.startswith(c) and whole(hint[len(c):])) or (hint.endswith(c) and whole(hint[: -len(c)]))
        for c in constants if c and c != hint)


# ----- the tests -----------------------------------------------------------------------------------------------------


def test_every_notebook_has_a_guide():
    assert sorted(path.stem for path in GUIDES.glob("0[0-5]_*.md")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_a_guide_names_exists_in_its_notebook(name):
    exercises = notebook_exercises(name)
    named = set().union(*(numbers(m) for m in MENTION.findall(guide(name))))
    assert named, f"{name}: the guide names no exercise"
    assert named <= set(exercises), f"{name}: the guide names exercises {sorted(named - set(exercises))}, " \
                                    f"the notebook has 1-{len(exercises)}"


@pytest.mark.parametrize("name", NAMES)
def test_the_plan_places_every_exercise_in_class_or_as_homework(name):
    plan = guide(name).split("## 45-minute plan", 1)[1].split("\n## ", 1)[0]
    placed = set().union(*(numbers(m) for m in MENTION.findall(plan)))
    assert placed == set(notebook_exercises(name)), f"{name}: the plan places exercises {sorted(placed)}, the " \
                                                    f"notebook has 1-{len(notebook_exercises(name))}"


@pytest.mark.parametrize("name", NAMES)
def test_a_guide_gives_each_exercise_its_notebooks_kind(name):
    exercises = notebook_exercises(name)
    text = guide(name)
    said = [(int(n), "implement" if kind.startswith("implement") else "question") for n, kind in KIND.findall(text)]
    said += [(int(n), "implement") for n, _ in ERROR_ROW.findall(text)]  # hints come from checks
    wrong = [(n, kind) for n, kind in said if n in exercises and exercises[n].kind != kind]
    assert not wrong, f"{name}: the guide calls exercises {wrong}, the notebook disagrees"


@pytest.mark.parametrize("name", NAMES)
def test_common_errors_cover_every_implement_exercise(name):
    rows = {int(n) for n, _ in ERROR_ROW.findall(guide(name))}
    implement = {n for n, e in notebook_exercises(name).items() if e.kind == "implement"}
    assert implement <= rows, f"{name}: no common-errors row for exercises {sorted(implement - rows)}"


@pytest.mark.parametrize("name", NAMES)
def test_every_quoted_hint_is_one_the_exercises_check_prints(name):
    exercises = notebook_exercises(name)
    text = guide(name)
    unknown = []
    for number, hint in ERROR_ROW.findall(text):
        exercise = exercises.get(int(number))
        if exercise is None or exercise.check is None:
            unknown.append((number, hint, "not an implement exercise"))
        elif not printable(hint, *check_hints(exercise.check)):
            unknown.append((number, hint, exercise.check))
    unknown += [("every", hint, "_harness") for hint in GENERIC_ROW.findall(text)
                if not printable(hint, *harness_hints())]
    assert not unknown, f"{name}: hints no check prints: {unknown}"


@pytest.mark.parametrize("name", NAMES)
def test_answers_cover_each_question_exercise_in_order(name):
    text = guide(name)
    assert "**Question exercises.**" in text, name
    section = text.split("**Question exercises.**", 1)[1].split("\n## ", 1)[0]
    answered = [int(n) for n in ANSWER.findall(section)]
    questions = [n for n, e in sorted(notebook_exercises(name).items()) if e.kind == "question"]
    assert answered == questions, f"{name}: answers for exercises {answered}, the notebook's questions are {questions}"


def test_the_hint_reader_finds_known_hints_and_rejects_others():
    """The reader itself: a hint from a mistakes list, a table of hints, an f-string, a composed prefix."""
    assert printable("the sign is flipped: rho > 0 means the mean cosine rises with depth",
                     *check_hints("check_rho_by_step"))
    assert printable("scale by T^2, not T", *check_hints("check_distillation_loss"))  # _KD_HINTS
    assert printable("use the tau argument, not a fixed 1.0", *check_hints("check_angular_spread"))  # f-string
    assert printable("the gradient: scale by T^2, not T", *check_hints("check_distillation_loss"))
    assert printable("expected an answer of shape (3,), got ()", *check_hints("check_layer_mean_cosine"))
    assert not printable("you left out the biases", *check_hints("check_bootstrap_interval"))
    assert not printable("the sign is flipped: rho > 0 means the mean cosine rises with depth",
                         *check_hints("check_change_interval"))  # another check's hint
