"""The teacher's slide decks (docs/teaching/slides) agree with the notebooks they project."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SLIDES = ROOT / "docs" / "teaching" / "slides"
DECKS = sorted(path.stem for path in SLIDES.glob("0*.md"))


def notebook_exercises(name: str) -> list[str]:
    """Each exercise's kind in the notebook, in order: "implement" or "question"."""
    cells = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
    kinds = [re.match(r"\*\*Exercise \d+\.\*\* \*(Implement, then check|Question)\*", cell.source)
             for cell in cells if cell.cell_type == "markdown" and cell.source.startswith("**Exercise")]
    assert all(kinds), name
    return ["implement" if kind[1].startswith("Implement") else "question" for kind in kinds if kind]


def slide_exercises(name: str) -> list[str]:
    """Each numbered item of the deck's "Exercises" slide: "implement" if it says "(check it", else "question"."""
    deck = (SLIDES / f"{name}.md").read_text(encoding="utf-8")
    slide = deck.split("## Exercises", 1)[1].split("\n---", 1)[0]
    items = re.findall(r"^(\d+)\. (.*)$", slide, flags=re.M)
    assert [int(number) for number, _ in items] == list(range(1, len(items) + 1)), items
    return ["implement" if "(check it" in text else "question" for _, text in items]


def test_every_notebook_has_a_deck():
    notebooks = sorted(path.stem for path in (ROOT / "notebooks").glob("0*.ipynb"))
    assert notebooks == DECKS


@pytest.mark.parametrize("name", DECKS)
def test_the_exercises_slide_lists_the_notebooks_exercises_in_order(name):
    """The decks once listed exercises the notebooks had replaced (02: "count an MLP's parameters")."""
    assert slide_exercises(name) == notebook_exercises(name)


@pytest.mark.parametrize("name", DECKS)
def test_every_slide_image_exists_and_has_alt_text(name):
    deck = (SLIDES / f"{name}.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[(?:width:\d+px )?([^\]]*)\]\(([^)]+)\)", deck)
    for alt, target in images:
        assert (SLIDES / target).is_file(), target
        assert len(alt.split()) >= 8, (target, alt)  # says what the chart shows, not only its name
