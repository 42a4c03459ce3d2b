"""The public API as static tools see it: py.typed in the wheel, typed ``**options``, mypy on a user's snippet."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import types
import typing
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_ships_the_py_typed_marker(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    assert "nb_condense/py.typed" in zipfile.ZipFile(wheel).namelist()


def test_the_typed_options_module_is_generated_from_the_settings():
    """Adding a field to MeasureSettings or TextSource without regenerating ``_options.py`` fails here."""
    from nb_condense.measurement.settings import OPTIONS_MODULE, options_module_source

    assert OPTIONS_MODULE.read_text() == options_module_source(), (
        "nb_condense/measurement/_options.py is stale: run `python -m nb_condense.measurement.settings`")


def test_each_typed_dict_holds_the_fields_of_its_dataclasses():
    from nb_condense.measurement import _options
    from nb_condense.measurement.settings import TYPED_OPTIONS

    for name, (classes, exclude, _) in TYPED_OPTIONS.items():
        typed_dict = getattr(_options, name)
        expected = [f.name for cls in classes for f in dataclasses.fields(cls) if f.name not in exclude]
        assert list(typed_dict.__annotations__) == expected
        assert typed_dict.__required_keys__ == frozenset()  # every setting has a default


def test_a_new_field_reaches_the_generated_source(monkeypatch):
    from nb_condense.measurement import settings

    @dataclasses.dataclass(frozen=True)
    class Wider(settings.MeasureSettings):
        high_fraction: float = dataclasses.field(default=0.9, metadata={"help": "a threshold"})
        shells: tuple[int, ...] = dataclasses.field(default=(1,), metadata={"help": "x",
                                                                           "accepts": "int | Sequence[int]"})

    monkeypatch.setitem(settings.TYPED_OPTIONS, "SettingsOptions", ((Wider,), (), "Doc."))
    module = types.ModuleType("regenerated_options")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(settings.options_module_source(), "_options.py", "exec"), module.__dict__)
    hints = typing.get_type_hints(module.SettingsOptions)
    assert hints["high_fraction"] is float
    assert hints["shells"] == int | Sequence[int]
    assert hints["layers"] == int | Sequence[int] | None
    assert hints["batch_size"] == int | typing.Literal["auto"] | None


SNIPPET = """\
import torch

import nb_condense as nbc

model = torch.nn.Linear(2, 2)
reveal_type(nbc.measure)
nbc.measure(model, None, max_length=128, layers=[0, -1], batch_size="auto", texts=["a b c"], seed=1)
nbc.measure(model, None, max_length="x")
nbc.CondensationSession(layers=["1"])
nbc.CondensationCallback(["a b"], None, max_lenght=3)
nbc.measure_embedding_condensation(model, None, max_length=32, bins=64, layers=2)
nbc.measure_embedding_condensation(model, None, bins="64")
"""


def mypy_lines(tmp_path: Path) -> tuple[dict[int, str], str]:
    """mypy's report on SNIPPET (the package's own config), by line number; and the whole report."""
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                             "--no-pretty", str(snippet)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "MYPYPATH": str(ROOT)})  # this checkout, not an installed copy
    lines: dict[int, str] = {}
    for number, text in re.findall(r"snippet\.py:(\d+): (.*)", result.stdout):
        lines[int(number)] = lines.get(int(number), "") + text + "\n"
    return lines, result.stdout


@pytest.mark.gates
def test_mypy_sees_the_settings_of_measure(tmp_path):
    """What an editor sees: the settings of ``**options`` with their types, and wrong ones reported."""
    lines, report = mypy_lines(tmp_path)
    assert "**options: **TypedDict(nb_condense.measurement._options.MeasureOptions" in lines[6], report
    assert "'max_length'?: int," in lines[6] and "'layers'?: int | typing.Sequence[int] | None" in lines[6], report
    assert 7 not in lines and 11 not in lines, report  # the right types pass
    assert 'Argument "max_length" to "measure" has incompatible type "str"; expected "int"' in lines[8], report
    assert 'List item 0 has incompatible type "str"; expected "int"' in lines[9], report  # layers=["1"]
    assert 'Unexpected keyword argument "max_lenght" for "CondensationCallback"' in lines[10], report
    assert 'Argument "bins" to "measure_embedding_condensation" has incompatible type "str"' in lines[12], report


def test_the_explorers_signature_spells_out_each_option_with_the_widgets_own_defaults(tmp_path, tokenizer,
                                                                                        mixed_texts):
    """CondensationExplorer(sessions, **options) showed ``**options`` in help() and the API reference: its
    signature now names each option, keyword-only, with the default a bare explorer really takes."""
    import inspect

    import nb_condense as nbc
    from conftest import tiny_model

    signature = inspect.signature(nbc.CondensationExplorer)
    params = signature.parameters
    assert list(params)[0] == "sessions" and not any(p.kind is p.VAR_KEYWORD for p in params.values())
    options = {name: p for name, p in params.items() if name != "sessions"}
    assert options and all(p.kind is p.KEYWORD_ONLY for p in options.values())
    result = nbc.measure(tiny_model("gpt2"), tokenizer, texts=mixed_texts[:3], max_length=16, show_progress=False)
    explorer = nbc.CondensationExplorer({"tiny": result})
    for name in ("layers", "samples", "view", "debounce_wait"):
        assert options[name].default == getattr(explorer, name), name
    assert options["model"].default is None and explorer.model == "tiny"  # None: the first session's
    with pytest.raises(TypeError, match="did you mean 'layers'"):
        nbc.CondensationExplorer({"tiny": result}, layer=[0])
