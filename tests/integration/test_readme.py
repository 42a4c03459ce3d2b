"""The README's quick start runs offline as written (issue 31.5): its first code block is executed, unchanged, in
an empty working directory with the hub switched off (the root conftest sets HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import nb_condense as nbc

ROOT = Path(__file__).resolve().parents[2]


def section_code_blocks(heading: str, language: str = "python") -> list[str]:
    """The ``language`` code blocks of the README section under ``## heading``, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else None]
    return re.findall(rf"^```{language}\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.slow
def test_the_quick_start_runs_offline_as_written(tmp_path, monkeypatch, capsys):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # no model or corpus may come from the hub
    first = section_code_blocks("Quick start")[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(first, "README.md: Quick start", "exec"), namespace)  # noqa: S102 - the README's own code
    result = nbc.CondensationResult.load(tmp_path / "minilm.npz")
    assert result.metadata["corpus"] == "builtin" and result.n_texts == 20
    assert (tmp_path / "minilm.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert f"{result.trend().spearman_rho}" in printed  # what the block printed is the saved result's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minilm.npz", "minilm.png"]
