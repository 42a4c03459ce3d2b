"""Every tutorial notebook executed with its tiny parameter set (offline, 2 CPU cores), asserting on OUT_JSON.

Parameters are injected after the cell tagged ``parameters`` by papermill; the notebook writes its key
figures to ``OUT_JSON``. The assertions are ones that hold at any scale. Committed notebooks carry no
outputs (they are executed here, not stored): ``test_committed_notebooks_are_clean`` checks it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CDN = re.compile(r"esm\.sh|jsdelivr|unpkg\.com|cdnjs|skypack")

TINY_GPT2 = ('random:{"model_type": "gpt2", "n_layer": %d, "n_embd": %d, "n_head": 2, "n_positions": 128, '
             '"vocab_size": 30522, "bos_token_id": 0, "eos_token_id": 0}')
OFFLINE = dict(DATASET="builtin", SEED=0)

TINY = {
    "00_quickstart.ipynb": dict(OFFLINE, MODEL="embedded", N_TEXTS=6, MAX_LENGTH=64, OUT_DIR="out"),
    "01_larger_models_condense_less.ipynb": dict(
        OFFLINE, MODELS=[TINY_GPT2 % (4, w) for w in (16, 32, 64)], TOKENIZER="embedded",
        LABELS=["tiny-16", "tiny-32", "tiny-64"], N_TEXTS=6, MAX_LENGTH=64, CORPORA=["builtin"], ROBUSTNESS_TEXTS=4,
    ),
    "02_controlled_mlp_width.ipynb": dict(
        WIDTHS=[16, 256], STEPS=12, N_LAYER=4, N_EMBD=32, N_HEAD=2, N_TEXTS=30, BLOCK_SIZE=32, VOCAB_SIZE=512,
        MEASURE_TEXTS=4, SEED=0,
    ),
    "03_condensation_at_initialisation.ipynb": dict(
        OFFLINE, MODEL=TINY_GPT2 % (6, 64), TOKENIZER="embedded", N_TEXTS=6, MAX_LENGTH=64, TRAIN_TEXTS=30,
        TRAIN_STEPS=12, MEASURE_EVERY=4, MEASURE_TEXTS=4, N_LAYER=4, N_EMBD=32, BLOCK_SIZE=32, VOCAB_SIZE=512,
        PYTHIA=None,
    ),
    "04_distillation.ipynb": dict(
        PAIRS=[], TEACHER_WIDTH=256, STUDENT_WIDTH=16, STEPS=12, N_LAYER=4, N_EMBD=32, N_HEAD=2, N_TEXTS_TRAIN=30,
        BLOCK_SIZE=32, VOCAB_SIZE=512, MEASURE_TEXTS=4, SEED=0,
    ),
    "05_dispersion_loss.ipynb": dict(
        TOY_STEPS=60, STEPS=16, N_LAYER=4, N_EMBD=32, N_TEXTS=30, BLOCK_SIZE=32, VOCAB_SIZE=512, MEASURE_TEXTS=4,
        COEFF=1.0, FORGET_EVERY=8, SEED=0,
    ),
}


def run(name: str, tmp_path: Path) -> dict:
    import papermill

    out_json = tmp_path / "figures.json"
    parameters = {**TINY[name], "OUT_JSON": str(out_json)}
    papermill.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                               execution_timeout=600)
    return json.loads(out_json.read_text())


def test_every_notebook_has_a_tiny_parameter_set():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(TINY)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebooks_are_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs before committing"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "OUT_JSON" in tagged[0].source
    first = notebook.cells[0].source
    assert "colab-badge.svg" in first and "mybinder.org/badge_logo.svg" in first and path.name in first
    assert "# !pip install" in code[0].source  # the commented install cell for Colab
    assert notebook.cells[-1].cell_type == "markdown" and notebook.cells[-1].source.startswith("## Exercises")
    assert not CDN.search(path.read_text())


@pytest.mark.slow
def test_00_quickstart(tmp_path):
    figures = run("00_quickstart.ipynb", tmp_path)
    assert figures["n_layers"] == 6 and figures["n_texts"] == 6  # MiniLM: 6 blocks
    assert -1 <= figures["spearman_rho"] <= 1 and -1 <= figures["kendall_tau"] <= 1
    assert figures["roundtrip_exact"] is True
    assert all((tmp_path / f).stat().st_size > 1000 for f in figures["files"])  # relative to the notebook


@pytest.mark.slow
def test_01_larger_models_condense_less(tmp_path):
    figures = run("01_larger_models_condense_less.ipynb", tmp_path)
    assert figures["models"] == ["tiny-16", "tiny-32", "tiny-64"]
    assert all(-1 <= r <= 1 for r in figures["spearman_rho"].values())
    assert all(-1 <= t <= 1 for t in figures["kendall_tau"].values())
    assert [r["model"] for r in figures["robustness"]] == figures["models"]
    # the verdict printed in the notebook is the comparison of the end points
    rho = list(figures["spearman_rho"].values())
    assert figures["largest_condenses_less"] == (rho[0] > rho[-1])


@pytest.mark.slow
def test_02_controlled_mlp_width(tmp_path):
    figures = run("02_controlled_mlp_width.ipynb", tmp_path)
    assert figures["widths"] == [16, 256]
    assert all(rho > 0.8 for rho in figures["init_rho"].values())  # untrained models condense with depth
    # training on the corpus lowers held-out perplexity for every width
    assert all(figures["perplexity"][w] < figures["init_perplexity"][w] for w in ("16", "256"))
    rho = figures["trained_rho"]
    assert figures["narrowest_condenses_more"] == (rho["16"] > rho["256"])


@pytest.mark.slow
def test_03_condensation_at_initialisation(tmp_path):
    figures = run("03_condensation_at_initialisation.ipynb", tmp_path)
    assert figures["untrained_rho"] > 0.8  # an untrained model condenses with depth
    steps = [row["step"] for row in figures["training"]]
    assert steps == [0, 4, 8, 12]  # measured at step 0 and every MEASURE_EVERY steps
    assert figures["training"][0]["spearman_rho"] > 0.8  # step 0 is an untrained model too
    first, last = figures["training"][0], figures["training"][-1]
    assert figures["training_lowered_rho"] == (last["spearman_rho"] < first["spearman_rho"])
    assert figures["checkpoints"] == []  # PYTHIA=None: the hub part is skipped, and says so


@pytest.mark.slow
def test_04_distillation(tmp_path):
    figures = run("04_distillation.ipynb", tmp_path)
    assert figures["public"] == []  # PAIRS=[]: the hub part is skipped, and says so
    rows = figures["distillation"]
    assert [r["model"] for r in rows] == ["teacher n_inner=256", "scratch n_inner=16", "distilled n_inner=16"]
    assert all(-1 <= r["spearman_rho"] <= 1 and r["perplexity"] > 1 for r in rows)
    scratch, distilled = rows[1], rows[2]
    assert figures["distillation_transferred_resistance"] == (
        distilled["spearman_rho"] < scratch["spearman_rho"] and distilled["last_layer_mean"] < scratch["last_layer_mean"])


@pytest.mark.slow
def test_05_dispersion_loss(tmp_path):
    figures = run("05_dispersion_loss.ipynb", tmp_path)
    toy = {row["variant"]: row for row in figures["toy"]}
    assert set(toy) == {"angular_spread", "l2_repel", "decorrelation", "orthogonalization", "perplexity_entropy"}
    assert all(row["loss_after"] < row["loss_before"] for row in toy.values())  # each variant was minimised
    assert toy["angular_spread"]["mean_cosine_after"] < toy["angular_spread"]["mean_cosine_before"] - 0.3
    rows = {row["condition"]: row for row in figures["comparison"]}
    assert list(rows) == ["CE only", "CE + dispersion (1.0)", "NEFTune", "active forgetting"]
    # the dispersion-trained model's dispersion term is lower than the baseline's
    assert rows["CE + dispersion (1.0)"]["dispersion_term"] < rows["CE only"]["dispersion_term"]
    assert figures["dispersion_spreads"] is True
    assert all(row["perplexity"] > 1 for row in rows.values())
