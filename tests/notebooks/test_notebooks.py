"""Every tutorial notebook executed with its tiny parameter set (offline, 2 CPU cores), asserting on OUT_JSON.

Parameters are injected after the cell tagged ``parameters`` by papermill; the notebook writes its key
figures to ``OUT_JSON``. Every cell runs, the collapsed ``solution`` cells too, so every exercise is shown to
work (each solution records ``figures["exercise_<n>"]``). The assertions are ones that hold at any scale.
The static tests check what a student meets first: the setup cell, the presets, the header table, no CDN, no
stored output; ``tutorial_checks.py`` holds the helpers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from .tutorial_checks import (
    CDN,
    EXERCISE,
    NOTEBOOKS,
    README,
    WIDGET_VIEW,
    badge_urls,
    calls_named,
    code_cells,
    enclosing_loops,
    estimates_of,
    fake_colab_setup_run,
    is_tqdm_loop,
    notebook_ast,
    parameters_cell,
    repository_of,
    setup_lines,
    student_view_problems,
)

TINY_GPT2 = ('random:{"model_type": "gpt2", "n_layer": %d, "n_embd": %d, "n_head": 2, "n_positions": 128, '
             '"vocab_size": 30522, "bos_token_id": 0, "eos_token_id": 0}')
TINY_LLAMA = ('random:{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": %d, "num_attention_heads": 2, '
              '"num_key_value_heads": 2, "intermediate_size": 64, "vocab_size": 30522, "max_position_embeddings": 128}')
OFFLINE = dict(DATASET="builtin", SEED=0)
LAB = dict(N_LAYER=4, N_EMBD=32, N_HEAD=2, BLOCK_SIZE=32, VOCAB_SIZE=512, MEASURE_TEXTS=4, SEED=0)

TINY = {
    "00_quickstart.ipynb": dict(OFFLINE, MODEL="embedded", N_TEXTS=6, MAX_LENGTH=64, SHORT_LENGTH=16, OUT_DIR="out"),
    "01_larger_models_condense_less.ipynb": dict(
        OFFLINE, MODELS=[TINY_GPT2 % (4, w) for w in (16, 32, 64)], TOKENIZER="embedded",
        LABELS=["tiny-16", "tiny-32", "tiny-64"], N_TEXTS=6, MAX_LENGTH=64, CORPORA=["builtin"], ROBUSTNESS_TEXTS=4,
        OTHER_FAMILY=[TINY_LLAMA % 16, TINY_LLAMA % 32], OTHER_TEXTS=3,
    ),
    "02_controlled_mlp_width.ipynb": dict(LAB, WIDTHS=[16, 256], STEPS=8, N_TEXTS=30),
    "03_condensation_at_initialisation.ipynb": dict(
        OFFLINE, MODEL=TINY_GPT2 % (6, 64), TOKENIZER="embedded", N_TEXTS=6, MAX_LENGTH=64, TRAIN_TEXTS=30,
        TRAIN_STEPS=8, MEASURE_EVERY=4, MEASURE_TEXTS=4, N_LAYER=4, N_EMBD=32, N_HEAD=2, BLOCK_SIZE=32,
        VOCAB_SIZE=512, PYTHIA="", OTHER_ARCHITECTURE=TINY_LLAMA % 32, OTHER_TOKENIZER="embedded",
    ),
    "04_distillation.ipynb": dict(LAB, PAIRS=[], TEACHER_WIDTH=256, STUDENT_WIDTH=16, STEPS=8, N_TEXTS_TRAIN=30),
    "05_dispersion_loss.ipynb": dict(LAB, TOY_STEPS=60, STEPS=8, N_TEXTS=30, COEFF=1.0, FORGET_EVERY=4,
                                     LIVE_EVERY=2),
}
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
ids = pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)


def live_views(executed: nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells that showed a live training view (a TrainingMonitor widget)."""
    return [index for index, cell in enumerate(code_cells(executed)) for output in cell.get("outputs", [])
            if WIDGET_VIEW in output.get("data", {}) and "TrainingMonitor" in output["data"].get("text/plain", "")]


def run(name: str, tmp_path: Path) -> tuple[dict, nbformat.NotebookNode]:
    import papermill

    out_json = tmp_path / "figures.json"
    parameters = {**TINY[name], "OUT_JSON": str(out_json)}
    executed = papermill.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), parameters=parameters,
                                          kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                                          execution_timeout=600)
    figures = json.loads(out_json.read_text())
    assert student_view_problems(executed) == []
    n_exercises = sum(bool(EXERCISE.match(c.source)) for c in executed.cells if c.cell_type == "markdown")
    assert sorted(k for k in figures if k.startswith("exercise_")) == [f"exercise_{n}" for n in
                                                                        range(1, n_exercises + 1)]
    return figures, executed


# ----- what a student meets first ----------------------------------------------------------------------


def test_every_notebook_has_a_tiny_parameter_set():
    assert sorted(p.name for p in PATHS) == sorted(TINY)


@ids
def test_committed_notebooks_are_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = code_cells(notebook)
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs before committing"
    assert "OUT_JSON" in parameters_cell(notebook).source
    assert not CDN.search(path.read_text())


@ids
def test_setup_cell_installs_on_colab_and_picks_the_device(path):
    """The first code cell: under Colab it runs `%pip install` of the shared URL; elsewhere nothing, offline."""
    notebook = nbformat.read(path, as_version=4)
    setup = code_cells(notebook)[0].source
    installs, namespace = fake_colab_setup_run(setup, colab=True)
    assert installs == [f'install --quiet "nb-condense[demo] @ git+{repository_of(notebook)}"']
    installs, namespace = fake_colab_setup_run(setup, colab=False)
    assert installs == [] and namespace["DEVICE"] == "cpu"  # this machine has no GPU
    assert set(namespace["ESTIMATES"]) == {"class", "paper"}


def test_the_setup_cell_is_the_same_in_every_notebook():
    """Identical apart from its one ESTIMATES line (this notebook's expected minutes and downloads)."""
    setups = {setup_lines(nbformat.read(p, as_version=4)) for p in PATHS}
    assert len(setups) == 1


def test_the_repository_url_is_shared_with_the_readme():
    urls = {repository_of(nbformat.read(p, as_version=4)) for p in PATHS}
    assert len(urls) == 1
    url = urls.pop()
    readme = README.read_text()
    assert f"git+{url}" in readme
    for path in PATHS:
        colab, binder = badge_urls(url, path.name)
        assert colab in readme and binder in readme
        first = nbformat.read(path, as_version=4).cells[0].source
        assert colab in first and binder in first


@ids
def test_preset_parameter(path):
    """`PRESET = "class"` by default; every preset value is a parameter left at None, so the preset applies."""
    notebook = nbformat.read(path, as_version=4)
    source = parameters_cell(notebook).source
    assert re.search(r'^PRESET = "class"', source, re.M)
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own notebook's parameter cell: plain assignments
    preset_cell = code_cells(notebook)[code_cells(notebook).index(parameters_cell(notebook)) + 1].source
    assert preset_cell.lstrip().split("\n")[0] and "PRESETS = {" in preset_cell
    presets = {}
    exec(preset_cell.split("\nif PRESET not in PRESETS")[0],  # noqa: S102 - the PRESETS literal only
         {"DEVICE": "cpu"}, presets)
    assert set(presets["PRESETS"]) == {"class", "paper"}
    for preset in presets["PRESETS"].values():
        assert all(namespace[name] is None for name in preset), "a preset value the parameters cell overrides"


@ids
def test_header_table(path):
    """What you will learn / time / downloads / GPU? / prerequisites; the times are the setup cell's estimates."""
    notebook = nbformat.read(path, as_version=4)
    header = notebook.cells[0].source
    rows = dict(re.findall(r"^\| \*\*(.+?)\*\* \| (.+) \|$", header, re.M))
    assert list(rows) == ["What you will learn", "Time", "Downloads", "GPU?", "Prerequisites"]
    estimates = estimates_of(notebook)
    times = {preset: int(minutes) for preset, minutes in re.findall(r"`(\w+)` ~(\d+) min", rows["Time"])}
    assert times == {preset: minutes for preset, (minutes, _) in estimates.items()}
    assert times["class"] <= 10  # the class preset: at most 10 minutes on a 2-core CPU


def test_the_readme_gives_the_notebooks_class_times():
    readme = README.read_text()
    for path in PATHS:
        row = re.search(rf"^\| \[`{re.escape(path.name)}`\].*$", readme, re.M)
        assert row, f"README's tutorial table has no row for {path.name}"
        cells = [cell.strip() for cell in row.group(0).strip("|").split("|")]
        assert cells[2] == f"{estimates_of(nbformat.read(path, as_version=4))['class'][0]} min", path.name


# ----- the bugs of the first version --------------------------------------------------------------------


def test_device_reaches_models_measurement_and_training():
    """Every model is built or loaded onto DEVICE; measuring never loads a model by name (which has no device);
    every Trainer run is told whether DEVICE is the CPU."""
    for path in PATHS:
        tree, parents = notebook_ast(nbformat.read(path, as_version=4))
        for call in calls_named(tree, "load_model"):
            assert any(k.arg == "device" and getattr(k.value, "id", None) == "DEVICE" for k in call.keywords), path
        for call in calls_named(tree, "from_pretrained", "random_model", "tiny_gpt2"):
            parent = parents[call]
            assert getattr(parent, "attr", None) == "to", f"{path.name}: {call.func} not moved .to(DEVICE)"
            assert getattr(parents[parent].args[0], "id", None) == "DEVICE"
        for call in calls_named(tree, "measure", "CondensationSession"):
            first = call.args[0] if call.args else None
            assert first is None or getattr(first, "id", "") not in ("MODEL", "name") and not (
                hasattr(first, "value") and isinstance(first.value, str)), f"{path.name}: measure() loads by name"
        for call in calls_named(tree, "pretrain", "distill"):
            assert any(k.arg == "use_cpu" for k in call.keywords), f"{path.name}: a Trainer run ignores DEVICE"


def test_held_out_ids_go_to_the_models_device():
    """05's dispersion_term: a model left on a GPU by the Trainer gets its held-out ids on that device."""
    import torch

    from .tutorial_checks import function_from

    notebook = nbformat.read(NOTEBOOKS / "05_dispersion_loss.ipynb", as_version=4)
    seen = []

    class ModelOnAnotherDevice:
        device = torch.device("meta")

        def eval(self):
            return self

        def __call__(self, input_ids, output_hidden_states):
            seen.append(input_ids.device)
            hidden = torch.randn(3, *input_ids.shape, 8, generator=torch.Generator().manual_seed(0))
            return type("Output", (), {"hidden_states": tuple(hidden)})()

    blocks = {"input_ids": torch.zeros(16, 12, dtype=torch.long)}
    namespace = {"held_blocks": type("Blocks", (), {"__getitem__": lambda self, k: blocks})(), "torch": torch,
                 "nbc": __import__("nb_condense"), "VARIANT": "angular_spread", "CLAMP": 0.1}
    dispersion_term = function_from(notebook, "dispersion_term", namespace)
    assert isinstance(dispersion_term(ModelOnAnotherDevice()), float)
    assert seen == [torch.device("meta")]


def test_no_silent_runs():
    """No progress bar switched off; every loop that loads or trains models shows a tqdm bar."""
    heavy = ("load_model", "from_pretrained", "train", "pretrain", "distill", "distill_student")
    for path in PATHS:
        assert "show_progress=False" not in path.read_text(), path.name
        tree, parents = notebook_ast(nbformat.read(path, as_version=4))
        for call in calls_named(tree, *heavy):
            loops = enclosing_loops(call, parents)
            assert not loops or any(is_tqdm_loop(loop) for loop in loops), f"{path.name}: a silent loop"


def test_exercises_name_no_gated_repository():
    gated = re.compile(r"meta-llama/|google/gemma|mistralai/")
    for path in PATHS:
        assert not gated.search(path.read_text()), f"{path.name} names a gated repository"


def test_configs_named_in_exercises_build():
    """A model an exercise asks for can be built (03: n_embd=128 with GPT-2's 12 heads could not)."""
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    markdown = [c.source for p in PATHS for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown"]
    snippets = [s for text in markdown for s in re.findall(r"`(?:transformers\.)?(AutoConfig\.for_model\(.*?\))`",
                                                             text, re.S)]
    assert snippets
    for snippet in snippets:
        config = eval(snippet, {"AutoConfig": AutoConfig, "r": 0.02})  # noqa: S307
        assert random_model(config).config.n_embd % config.n_head == 0


@pytest.mark.parametrize("name", ["02_controlled_mlp_width.ipynb", "04_distillation.ipynb",
                                  "05_dispersion_loss.ipynb"])
def test_training_inputs_are_visible(name):
    """Exercises that retrain use the notebook's own data, tokenizer and helpers, defined in its cells."""
    tree, _ = notebook_ast(nbformat.read(NOTEBOOKS / name, as_version=4))
    import ast

    defined = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
               if isinstance(t, ast.Name)} | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {"texts", "held_out", "tokenizer", "make_model", "train", "evaluate"} <= defined


@ids
def test_every_exercise_has_a_collapsed_solution(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    exercises = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and EXERCISE.match(c.source)]
    assert len(exercises) >= 3
    for number, index in enumerate(exercises, start=1):
        assert EXERCISE.match(cells[index].source).group(1) == str(number)
        solution = cells[index + 1]
        assert solution.cell_type == "code" and "solution" in solution.metadata.get("tags", [])
        assert solution.metadata["jupyter"]["source_hidden"] is True and f'"exercise_{number}"' in solution.source


def test_claims_in_the_text():
    """Item 12 of the fidelity issue: the notebooks' text states what the runs and the paper support."""
    text = {p.name: p.read_text() for p in PATHS}
    assert "+1.2 points" not in text["05_dispersion_loss.ipynb"] and "+0.57" in text["05_dispersion_loss.ipynb"]
    assert "need not lower" not in text["05_dispersion_loss.ipynb"]
    assert "hypothesis" in text["03_condensation_at_initialisation.ipynb"]
    assert "strictly ordered" not in text["01_larger_models_condense_less.ipynb"]
    assert "which we de-duplicate" not in text["01_larger_models_condense_less.ipynb"]


@ids
def test_the_papers_heatmap_is_the_papers(path):
    """Where a notebook says "the paper's heatmap", it draws the position-averaged one (kind="paper")."""
    notebook = nbformat.read(path, as_version=4)
    says = any("paper's heatmap" in c.source.lower() for c in notebook.cells if c.cell_type == "markdown")
    draws = any('kind="paper"' in c.source for c in code_cells(notebook))
    assert draws == says


# ----- the notebooks, executed -----------------------------------------------------------------------


@pytest.mark.slow
def test_00_quickstart(tmp_path):
    figures, executed = run("00_quickstart.ipynb", tmp_path)
    assert figures["n_layers"] == 6 and figures["n_texts"] == 6  # MiniLM: 6 blocks
    assert -1 <= figures["spearman_rho"] <= 1 and -1 <= figures["kendall_tau"] <= 1
    assert figures["roundtrip_exact"] is True
    assert all((tmp_path / f).stat().st_size > 1000 for f in figures["files"])  # relative to the notebook
    # the explorer's Tokens view works, the model kept
    assert figures["explorer_view"] == "tokens" and figures["token_rows"] == 64 and figures["model_in_memory"]
    # the paper's heatmap and the pooled one side by side, each captioned
    svg = next(o.data["image/svg+xml"] for c in executed.cells for o in c.get("outputs", [])
               if "image/svg+xml" in o.get("data", {}) and "kind=\"paper\"" in c.source)
    assert "The paper's heatmap" in svg and "averaged position by position" in svg
    assert "Pooled heatmap" in svg and "every token pair" in svg
    # exercise 2: the diagonal's shift predicted exactly; exercise 3: short and long texts really differ
    assert figures["exercise_2"]["prediction_error"] < 1e-5
    assert figures["exercise_3"]["short_last_layer_mean"] != figures["exercise_3"]["long_last_layer_mean"]
    exercises = " ".join(c.source for c in executed.cells if c.cell_type == "markdown" and EXERCISE.match(c.source))
    if re.search(r"shortest|longest", exercises):  # only meaningful when the texts' lengths differ
        assert len(set(figures["token_counts"])) > 1


@pytest.mark.slow
def test_01_larger_models_condense_less(tmp_path):
    figures, _ = run("01_larger_models_condense_less.ipynb", tmp_path)
    assert figures["models"] == ["tiny-16", "tiny-32", "tiny-64"]
    assert all(-1 <= r <= 1 for r in figures["spearman_rho"].values())
    assert [r["model"] for r in figures["robustness"]] == figures["models"]
    # the verdicts printed are the comparisons they name: end points, and a strictly decreasing rho
    rho = list(figures["spearman_rho"].values())
    assert figures["largest_condenses_less"] == (rho[0] > rho[-1])
    assert figures["strictly_ordered"] == all(a > b for a, b in zip(rho, rho[1:]))
    # the explorer on the trend across the family, with every model still loaded
    assert figures["explorer_view"] == "trend" and figures["explorer_models"] == figures["models"]
    assert figures["models_in_memory"] is True and figures["trend_rows"] > 0


@pytest.mark.slow
def test_02_controlled_mlp_width(tmp_path):
    figures, _ = run("02_controlled_mlp_width.ipynb", tmp_path)
    assert figures["widths"] == [16, 256]
    assert all(rho > 0.8 for rho in figures["init_rho"].values())  # untrained models condense with depth
    # training on the corpus lowers held-out perplexity for every width
    assert all(figures["perplexity"][w] < figures["init_perplexity"][w] for w in ("16", "256"))
    rho, last = figures["trained_rho"], figures["trained_last_layer_mean"]
    assert figures["narrowest_condenses_more"] == (rho["16"] >= rho["256"] and last["16"] > last["256"])


@pytest.mark.slow
def test_03_condensation_at_initialisation(tmp_path):
    figures, executed = run("03_condensation_at_initialisation.ipynb", tmp_path)
    assert len(live_views(executed)) == 1  # the training run is watched live (CondensationCallback(live=True))
    assert figures["untrained_rho"] > 0.8  # an untrained model condenses with depth
    steps = [row["step"] for row in figures["training"]]
    assert steps == [0, 4, 8]  # measured at step 0 and every MEASURE_EVERY steps
    first, last = figures["training"][0], figures["training"][-1]
    assert figures["training_lowered_rho"] == (last["spearman_rho"] < first["spearman_rho"])
    assert figures["checkpoints"] == []  # PYTHIA="": the hub part is skipped, and says so
    assert figures["explorer_models"] == ["untrained", "trained 8 steps"] and figures["explorer_view"] == "trend"


@pytest.mark.slow
def test_04_distillation(tmp_path):
    figures, _ = run("04_distillation.ipynb", tmp_path)
    assert figures["public"] == []  # PAIRS=[]: the hub part is skipped, and says so
    rows = figures["distillation"]
    assert [r["model"] for r in rows] == ["teacher n_inner=256", "scratch n_inner=16", "distilled n_inner=16"]
    assert all(-1 <= r["spearman_rho"] <= 1 and r["perplexity"] > 1 for r in rows)
    teacher, scratch, distilled = rows

    def less_condensed(a, b):  # rho no higher (rho ties at 1 on small models), a lower final-layer cosine
        return a["spearman_rho"] <= b["spearman_rho"] and a["last_layer_mean"] < b["last_layer_mean"]

    assert figures["teacher_less_condensed"] == less_condensed(teacher, scratch)
    assert figures["distillation_transferred_resistance"] == less_condensed(distilled, scratch)


@pytest.mark.slow
def test_05_dispersion_loss(tmp_path):
    figures, executed = run("05_dispersion_loss.ipynb", tmp_path)
    assert len(live_views(executed)) == 1  # the dispersion run is watched live
    toy = {row["variant"]: row for row in figures["toy"]}
    assert set(toy) == {"angular_spread", "l2_repel", "decorrelation", "orthogonalization", "perplexity_entropy"}
    assert all(row["loss_after"] < row["loss_before"] for row in toy.values())  # each variant was minimised
    assert toy["angular_spread"]["mean_cosine_after"] < toy["angular_spread"]["mean_cosine_before"] - 0.3
    assert figures["toy_lowers_mean_cosine"] == {
        v: row["mean_cosine_after"] < row["mean_cosine_before"] for v, row in toy.items()}
    rows = {row["condition"]: row for row in figures["comparison"]}
    assert list(rows) == ["CE only", "CE + dispersion (1.0)", "NEFTune", "active forgetting"]
    assert rows["CE + dispersion (1.0)"]["dispersion_term"] < rows["CE only"]["dispersion_term"]
    assert figures["dispersion_spreads"] is True
    assert all(row["perplexity"] > 1 for row in rows.values())
    # active forgetting (every 4 of 8 steps) resets strictly before the last step: the scored model is trained
    assert figures["forgetting_resets"] == [4] and max(figures["forgetting_resets"]) < figures["steps"]
    assert figures["explorer_view"] == "tokens" and figures["models_in_memory"] and figures["token_rows"] > 0
