"""The walkthrough's scripts (issue 32): the committed pages are what build_pages.py makes from the committed data,
their numbers are the saved results', and make_results.py's hub mode parses its arguments and fails cleanly
offline."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from scipy import stats

import nb_condense as nbc

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "docs" / "walkthrough"
DATA = SCRIPTS / "data"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"walkthrough_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_results() -> ModuleType:
    return script("make_results")


@pytest.fixture(scope="module")
def build_pages() -> ModuleType:
    return script("build_pages")


@pytest.mark.slow
def test_the_committed_pages_and_explorers_are_what_the_builder_makes_from_the_data(build_pages, tmp_path):
    written = build_pages.build(tmp_path, DATA)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert len(names) == 11  # the index, five pages and five explorers
    stale = [name for name in names if (ROOT / "docs" / name).read_bytes() != (tmp_path / name).read_bytes()]
    assert stale == [], f"{stale} differ from what the data give: run python docs/walkthrough/build_pages.py"


def test_each_page_prints_each_models_rho_as_scipy_computes_it_from_the_saved_result(build_pages):
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["findings"]
    assert sorted(manifest) == sorted(p.name for p in build_pages.PAGES)
    for finding, entry in manifest.items():
        page = (ROOT / "docs" / "walkthrough" / f"{finding}.md").read_text(encoding="utf-8")
        for model in entry["models"]:
            result = nbc.CondensationResult.load(DATA / model["file"])
            means = result.layer_means
            rho = stats.spearmanr(range(len(means)), means).statistic
            row = next(line for line in page.splitlines() if line.startswith(f"| {model['label']} |"))
            pooled = row.split("|")[3].split("(")[0].strip()  # the "rho, pooled" column
            assert float(pooled) == pytest.approx(rho, abs=0.005), (finding, model["label"])


def test_the_walkthrough_data_are_small():
    assert sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file()) < 2_000_000


@pytest.mark.parametrize(("value", "expected"), [
    ("f1=gpt2,gpt2-medium,gpt2-xl", {"f1": [("member", "gpt2"), ("member", "gpt2-medium"), ("member", "gpt2-xl")]}),
    ("f3=EleutherAI/pythia-410m", {"f3": [("init", "random:EleutherAI/pythia-410m"),
                                         ("trained", "EleutherAI/pythia-410m")]}),
    ("f3=/ckpt/step0,/ckpt/final", {"f3": [("init", "/ckpt/step0"), ("trained", "/ckpt/final")]}),
    ("f4=a/distilled:b/base,c/d2:d/b2", {"f4": [("distilled", "a/distilled"), ("scratch", "b/base"),
                                              ("distilled", "c/d2"), ("scratch", "d/b2")]}),
    ("dispersion=./ce,./disp", {"dispersion": [("without", "./ce"), ("with", "./disp")]}),
])
def test_make_results_reads_each_findings_models(make_results, value, expected):
    assert make_results.parse_models([value]) == expected


@pytest.mark.parametrize("values", [["f1=gpt2"], ["f9=gpt2,gpt2-xl"], ["f1"], ["f4=a,b"], ["f3=a,b,c"],
                                    ["dispersion=a"], ["f1=a,b", "f1=c,d"]])
def test_make_results_rejects_malformed_models_with_a_usage_error(make_results, values, capsys):
    with pytest.raises(SystemExit) as stopped:
        make_results.arguments([arg for value in values for arg in ("--models", value)])
    assert stopped.value.code == 2
    assert "--models" in capsys.readouterr().err


@pytest.mark.slow
def test_make_results_offline_stops_with_one_line_naming_the_model_and_writes_nothing(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(SCRIPTS / "make_results.py"), "--data", str(tmp_path),
                           "--models", "f1=nbc-no-such-org/tiny-a,nbc-no-such-org/tiny-b"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    message = [line for line in done.stderr.splitlines() if line.startswith("make_results:")]
    assert len(message) == 1 and "nbc-no-such-org/tiny-a" in message[0] and "Nothing was written" in message[0]
    assert list(tmp_path.iterdir()) == []
    assert not re.search(r"Traceback", done.stderr)
