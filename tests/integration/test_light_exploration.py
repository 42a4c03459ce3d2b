"""Exploring a saved result needs neither torch nor transformers, and the explorer's first chart needs no Altair."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "datasets", "altair", "anywidget")


def loaded_after(code: str) -> list[str]:
    """Heavy packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tokenizer, mixed_texts) -> Path:
    """A small result saved to a file."""
    import nb_condense as nbc
    from conftest import tiny_model

    return nbc.measure(tiny_model("gpt2"), tokenizer, texts=mixed_texts, max_length=32, show_progress=False,
                       ).save(tmp_path_factory.mktemp("saved") / "r.npz")


@pytest.mark.slow
def test_a_saved_result_is_explored_without_torch_or_transformers(saved):
    path = saved
    code = (
        "import nb_condense as nbc\n"
        f"session = nbc.CondensationSession.from_file({str(path)!r})\n"
        "nbc.charts.heatmap(session).to_dict(); nbc.charts.token_strip(session, 0, -1).to_dict()\n"
        "session.distribution(layers=[-1]); session.tokens(1, 0); nbc.compare([session])\n"
        "explorer = nbc.CondensationExplorer(session, view='tokens')\n"
        "assert explorer.status == 'idle' and explorer._spec, explorer.error\n"
    )
    assert set(loaded_after(code)) == {"altair", "anywidget"}


def test_the_explorers_first_chart_needs_no_altair(saved):
    path = saved
    code = (
        "import nb_condense as nbc\n"
        f"explorer = nbc.CondensationExplorer(nbc.CondensationSession.from_file({str(path)!r}))\n"
        "explorer.samples = [1]; explorer.view = 'tokens'; explorer.view = 'distributions'\n"
        "assert explorer.status == 'idle' and explorer._spec and explorer._data, explorer.error\n"
    )
    assert loaded_after(code) == ["anywidget"]  # specs come from templates: Altair loads only when asked for


