"""An exercise as a student meets it in JupyterLab: a wrong answer's one-line hint, the collapsed solution.

The cells are notebook 05's own (exercise 1: the angular spread): its prompt, its stub with a plain ``clamp``
written in (the mistake the exercise is about), and its solution dropdown. The test checks what the student
sees, then leaves three screenshots in ``$NBC_ARTIFACTS/exercise_screenshots/`` for the teacher's kit
(``docs/teaching/img/``): the hint, the solution closed, the solution opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from .conftest import ARTIFACTS
from .hosts import LAB
from .servers import Server, lab_server
from .timeouts import RENDER, ROUND_TRIP

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ARTIFACTS / "exercise_screenshots"
PROMPT, STUB, SOLUTION = "bd107be6", "87b92beb", "ef3859ae"  # notebook 05's cells, by id
WRONG = '''\
def angular_spread(z, tau=1.0, eps=1e-2, clamp=0.25):
    """The paper's angular-spread loss of one sequence z [T, F] (a scalar tensor)."""
    unit = z / (z.norm(dim=-1, keepdim=True) + eps)
    cos = (unit @ unit.T).clamp(-1 + clamp, 1 - clamp)  # a plain clamp: no gradient where it clips
    distance = torch.arccos(cos) / math.pi
    n = z.shape[0]
    off = ~torch.eye(n, dtype=torch.bool)
    return torch.logsumexp(-distance[off] / tau, 0) - math.log(n * (n - 1)) + eps


tutorial.check_angular_spread(angular_spread)'''
CHECK_MS = 240_000  # the check draws its cases and gradients: a minute on a busy 2-core machine
HINT = "a plain clamp has zero gradient where it clips"


def exercise_notebook(folder: Path) -> str:
    """Notebook 05's exercise 1 (prompt, stub with a wrong answer, solution dropdown) after a one-line import."""
    source = {c.get("id"): c for c in nbformat.read(ROOT / "notebooks" / "05_dispersion_loss.ipynb",
                                                    as_version=4).cells}
    stub = source[STUB]
    assert "raise NotImplementedError" in stub.source and stub.source.endswith("tutorial.check_angular_spread("
                                                                                "angular_spread)")
    setup = nbformat.v4.new_code_cell("import math\n\nimport torch\n\nfrom nb_condense import tutorial")
    cells = [setup, source[PROMPT], nbformat.v4.new_code_cell(WRONG), source[SOLUTION]]
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}}), folder / "exercise.ipynb")
    return "exercise.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("exercise")
    name = exercise_notebook(folder)
    with lab_server(folder) as server:
        yield server, name


def shoot(page, cells: list, path: Path) -> None:
    """A screenshot of ``cells`` (locators of notebook cells), from the first one's top to the last one's bottom."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    boxes = [cell.bounding_box() for cell in cells]
    top, bottom = min(b["y"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
    left = min(b["x"] for b in boxes)
    right = max(b["x"] + b["width"] for b in boxes)
    page.screenshot(path=str(path), clip={"x": left, "y": top, "width": right - left, "height": bottom - top})


def test_a_wrong_answer_shows_its_hint_and_the_solution_stays_folded(lab, guarded):
    server, name = lab
    page = guarded.page
    page.set_viewport_size({"width": 1100, "height": 1400})
    LAB.open(page, server.url, name)
    page.keyboard.press("Control+b")  # the file browser folds away: the cells get the width, as on a laptop
    cells = page.locator(".jp-Notebook .jp-Cell")
    LAB.run_cell(page, 0)
    page.wait_for_function("() => !document.querySelectorAll('.jp-Notebook .jp-Cell')[0]"
                           ".querySelector('.jp-InputPrompt').innerText.includes('*')", timeout=ROUND_TRIP)
    LAB.run_cell(page, 2)
    output = cells.nth(2).locator(".jp-OutputArea")
    output.locator(f"text={HINT}").wait_for(timeout=CHECK_MS)
    shown = output.inner_text()
    assert "Traceback" not in shown and "site-packages" not in shown, shown  # the hint, not the package's stack
    assert len([line for line in shown.splitlines() if line.strip()]) <= 3, shown
    assert "Use a straight-through clamp" in shown
    shoot(page, [cells.nth(1), cells.nth(2)], SHOTS / "wrong_answer_hint.png")

    details = cells.nth(3).locator("details")
    details.wait_for(timeout=RENDER)
    code = details.locator("pre")
    assert details.evaluate("d => d.open") is False and not code.is_visible()  # folded: Run All shows no answer
    cells.nth(0).locator(".jp-InputPrompt").click()  # the active cell's toolbar away from the shots
    shoot(page, [cells.nth(1), cells.nth(2), cells.nth(3)], SHOTS / "solution_closed.png")
    details.locator("summary").click()
    code.wait_for(state="visible", timeout=RENDER)
    cells.nth(0).locator(".jp-InputPrompt").click()
    assert details.evaluate("d => d.open") is True and "straight through" in code.inner_text()
    shoot(page, [cells.nth(3)], SHOTS / "solution_open.png")
    assert guarded.page_errors == [] and guarded.blocked == []
    assert all(Path(SHOTS / f).stat().st_size > 2000 for f in ("wrong_answer_hint.png", "solution_closed.png",
                                                                 "solution_open.png"))
