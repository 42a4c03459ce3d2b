"""Every tutorial notebook executed with its tiny parameter set (offline, 2 CPU cores), asserting on what its
kernel held at the end.

Parameters are injected after the cell tagged ``parameters`` by papermill; the collapsed last cell
(``tutorial.record(globals())``) writes the kernel's plain values, every verdict and every exercise check to the
file named by ``NB_CONDENSE_RECORD``, out of the student's view. Every cell runs as in "Run all": each "implement,
then check" stub reaches its check and says "not implemented yet" (its solution is a dropdown that never runs), and
``test_every_solution_passes_its_check`` runs the package's solutions through the checks (the batteries of wrong
answers are in tests/unit/test_tutorial.py). The assertions are ones that hold at any scale. The static tests check
what a student meets first: the one setup cell, the presets, the header table, no CDN, no stored output, no test
instrumentation in sight; ``tutorial_checks.py`` holds the helpers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from .tutorial_checks import (
    CDN,
    EXERCISE,
    IMPLEMENT,
    NOTEBOOKS,
    QUESTION,
    README,
    WIDGET_VIEW,
    badge_urls,
    calls_named,
    code_cells,
    enclosing_loops,
    exercise_checks,
    fake_colab_setup_run,
    is_tqdm_loop,
    lesson_of,
    notebook_ast,
    parameters_cell,
    repository_of,
    setup_cell,
    setup_lines,
    student_view_problems,
    visible_code,
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


VERDICT_WORDS = {"agrees", "disagrees", "cannot tell at this size"}


def expected_word(verdict: dict) -> str | None:
    """The word a judged difference must carry, recomputed from its interval and the predicted sign (None for a
    comparison with the paper, which reads the paper's value against the interval instead)."""
    match = re.search(r"the claim predicts it (positive|negative)", verdict["sentence"])
    low, high = verdict["interval"]
    if "paper_numbers.md#" in verdict["sentence"]:
        return None
    if match is None:  # an agreeing judgement does not repeat the prediction: the interval is on one side
        return "agrees" if (low > 0 and high > 0) or (low < 0 and high < 0) else "?"
    sign = 1 if match.group(1) == "positive" else -1
    return "agrees" if sign * low > 0 and sign * high > 0 else "disagrees" if sign * low < 0 and sign * high < 0 \
        else "cannot tell at this size"


def run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, nbformat.NotebookNode]:
    import papermill

    record = tmp_path / "record.json"
    monkeypatch.setenv("NB_CONDENSE_RECORD", str(record))  # the kernel inherits it; its last cell writes there
    executed = papermill.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), parameters=TINY[name],
                                          kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                                          execution_timeout=600)
    data = json.loads(record.read_text())
    assert student_view_problems(executed) == []
    # Run All reached every "implement, then check" stub, and each check said "not implemented yet" (no solution
    # cell defines the function; test_every_solution_passes_its_check runs the package's solutions)
    assert data["checks"] == dict.fromkeys(exercise_checks(executed), "not implemented")
    # every verdict prints an interval, and its word is the one its interval gives
    assert data["verdicts"]
    for verdict in data["verdicts"]:
        assert verdict["word"] in VERDICT_WORDS and "interval" in verdict["sentence"]
        assert expected_word(verdict) in (None, verdict["word"]), verdict["sentence"]
    return data, executed


# ----- what a student meets first ----------------------------------------------------------------------


def test_every_notebook_has_a_tiny_parameter_set():
    assert sorted(p.name for p in PATHS) == sorted(TINY)


@ids
def test_committed_notebooks_are_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = code_cells(notebook)
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs before committing"
    assert not CDN.search(path.read_text())


@ids
def test_no_test_instrumentation_in_the_students_view(path):
    """Issue 21: no OUT_JSON and no figures[...] anywhere a student reads; the harness reads the kernel through the
    one collapsed record cell at the end."""
    notebook = nbformat.read(path, as_version=4)
    for cell in visible_code(notebook) + [c for c in notebook.cells if c.cell_type == "markdown"]:
        assert "OUT_JSON" not in cell.source and not re.search(r"\bfigures\b", cell.source), cell.source[:80]
    last = notebook.cells[-1]
    assert "record" in last.metadata.get("tags", []) and last.metadata["jupyter"]["source_hidden"] is True
    assert last.source.splitlines()[-1] == "tutorial.record(globals())"


@ids
def test_one_visible_setup_cell(path):
    """Before the first section: the header, the parameters, one short visible setup cell, and collapsed
    details marked "no need to read"."""
    notebook = nbformat.read(path, as_version=4)
    code = code_cells(notebook)
    assert code.index(parameters_cell(notebook)) == 0 and code[1] is setup_cell(notebook)
    assert len(setup_cell(notebook).source.splitlines()) <= 8
    assert not setup_cell(notebook).metadata.get("jupyter", {}).get("source_hidden")
    details = code[2]
    assert details.metadata["jupyter"]["source_hidden"] is True and "no need to read" in details.source.lower()


@ids
def test_setup_cell_installs_on_colab_and_picks_the_device(path):
    """Under Colab the setup cell runs `%pip install` of the shared URL and turns on the custom-widget manager;
    elsewhere it installs nothing, offline; everywhere it sets DEVICE and fills the preset's parameters."""
    notebook = nbformat.read(path, as_version=4)
    installs, namespace, enabled = fake_colab_setup_run(notebook, colab=True)
    assert installs == [f'install --quiet "nb-condense[demo] @ git+{repository_of(notebook)}"']
    assert enabled == ["enabled"] and namespace["lesson"].colab_widgets
    installs, namespace, enabled = fake_colab_setup_run(notebook, colab=False)
    assert installs == [] and enabled == [] and namespace["DEVICE"] == "cpu"  # this machine has no GPU
    plan = lesson_of(path)
    expected = {k: v for k, v in plan.presets["class"].items() if type(v).__name__ != "OnAccelerator"}
    if namespace["lesson"].low_memory:  # this machine is below the class peak: the low-memory set applies
        expected.update(plan.low_memory)
    assert {k: namespace[k] for k in expected} == expected


def test_the_setup_cell_is_the_same_in_every_notebook():
    """Identical apart from the notebook's name."""
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
    """`PRESET = "class"` by default; every preset value is a parameter left at None, so the preset applies. The
    laptop-scale presets of 02, 03 and 05 are called `long`; `paper` names only presets with the paper's models."""
    notebook = nbformat.read(path, as_version=4)
    source = parameters_cell(notebook).source
    assert re.search(r'^PRESET = "class"', source, re.M)
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own notebook's parameter cell: plain assignments
    presets = lesson_of(path).presets
    assert set(presets) == ({"class", "long"} if path.stem[:2] in ("02", "03", "05") else {"class", "paper"})
    for preset in presets.values():
        assert all(namespace[name] is None for name in preset), "a preset value the parameters cell overrides"


@ids
def test_header_table(path):
    """What you will learn / compute time / download and preparation / GPU? / prerequisites; the compute times
    are the lesson plan's estimates, and a notebook that downloads says how long that takes."""
    notebook = nbformat.read(path, as_version=4)
    header = notebook.cells[0].source
    rows = dict(re.findall(r"^\| \*\*(.+?)\*\* \| (.+) \|$", header, re.M))
    assert list(rows) == ["What you will learn", "Compute time", "Download and preparation", "GPU?",
                          "Prerequisites"]
    estimates = lesson_of(path).estimates
    times = {preset: int(minutes) for preset, minutes in re.findall(r"`(\w+)` ~(\d+) min", rows["Compute time"])}
    assert times == {preset: estimate.compute_min for preset, estimate in estimates.items()}
    assert times["class"] <= 10  # the class preset: at most 10 minutes on a 2-core CPU
    for preset, estimate in estimates.items():
        if estimate.download_gb:
            assert f"{estimate.download_min:g} min" in rows["Download and preparation"], preset


def test_the_readme_gives_the_notebooks_class_times():
    readme = README.read_text()
    for path in PATHS:
        row = re.search(rf"^\| \[`{re.escape(path.name)}`\].*$", readme, re.M)
        assert row, f"README's tutorial table has no row for {path.name}"
        cells = [cell.strip() for cell in row.group(0).strip("|").split("|")]
        assert cells[2] == f"{lesson_of(path).estimates['class'].compute_min:g} min", path.name


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
            if getattr(getattr(call.func, "value", None), "id", None) == "lab":
                continue  # the Lab's own runs: it was built with device=DEVICE (checked below)
            assert any(k.arg == "use_cpu" for k in call.keywords), f"{path.name}: a Trainer run ignores DEVICE"
        for call in calls_named(tree, "Lab"):
            assert any(k.arg == "device" and getattr(k.value, "id", None) == "DEVICE" for k in call.keywords), path


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
    """Exercises that retrain use the notebook's own data, tokenizer and helpers, named in its cells (the helpers
    bound from tutorial.Lab, issue 30)."""
    tree, _ = notebook_ast(nbformat.read(NOTEBOOKS / name, as_version=4))
    import ast

    defined = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for target in node.targets
               for t in ast.walk(target) if isinstance(t, ast.Name)}
    defined |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {"texts", "held_out", "tokenizer", "make_model", "train", "evaluate"} <= defined


@ids
def test_exercises_never_overwrite_and_show_their_solution_collapsed(path):
    """Each exercise names its kind, difficulty, importance and minutes (issue 30). "Implement, then check": a
    visible stub that raises NotImplementedError and calls its check in the same cell, then the solution as a
    collapsed dropdown (markdown, never executed) generated from tutorial.solutions. No other executed cell defines
    the stub's function. A question: a cell to write the prediction in, then the collapsed solution cell."""
    import ast

    from nb_condense.tutorial import solutions

    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    exercises = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and EXERCISE.match(c.source)]
    implemented = []
    for number, index in enumerate(exercises, start=1):
        text = cells[index].source
        assert EXERCISE.match(text).group(1) == str(number)
        assert bool(IMPLEMENT.search(text)) != bool(QUESTION.search(text)), text[:100]
        if IMPLEMENT.search(text):
            stub = cells[index + 1]
            (definition,) = [n.name for n in ast.parse(stub.source).body if isinstance(n, ast.FunctionDef)]
            assert stub.cell_type == "code" and "raise NotImplementedError" in stub.source
            assert f"tutorial.check_{definition}({definition})" in stub.source
            assert not stub.metadata.get("jupyter", {}).get("source_hidden")
            dropdown = cells[index + 2]
            assert dropdown.cell_type == "markdown" and "solution" in dropdown.metadata.get("tags", [])
            assert dropdown.source == solutions.solution_markdown(definition), "regenerate the dropdown"
            implemented.append((definition, stub))
        else:
            answer, solution = cells[index + 1], cells[index + 2]
            assert answer.cell_type == "markdown" and "answer" in answer.metadata.get("tags", [])
            assert solution.cell_type == "code" and "solution" in solution.metadata.get("tags", [])
            assert solution.metadata["jupyter"]["source_hidden"] is True
    assert len(implemented) >= 3
    for name, stub in implemented:
        defining = [c for c in code_cells(notebook) if name in module_level_names(c.source)]
        assert defining == [stub], f"{path.name}: a cell other than its stub defines {name}"


def module_level_names(source: str) -> set[str]:
    """The names a cell binds in the notebook's namespace (not inside a function or class body)."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    names: set[str] = set()
    pending = list(ast.parse(TransformerManager().transform_cell(source)).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return names


@ids
def test_every_solution_passes_its_check(path):
    """The notebook tier runs every solution from tutorial.solutions through the check its exercise calls."""
    from nb_condense import tutorial

    names = exercise_checks(nbformat.read(path, as_version=4))
    assert names
    for name in names:
        for seed in range(5):
            tutorial.ALL_CHECKS[name](tutorial.solutions.SOLUTIONS[name], seed=seed)
            assert tutorial.CHECKS[name] == "passed", (name, seed)


@ids
def test_every_section_opens_with_learning_objectives(path):
    cells = nbformat.read(path, as_version=4).cells
    sections = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
                and re.match(r"## (\d+\.|Exercises)", c.source)]
    assert sections
    for i in sections:
        assert "objectives" in cells[i + 1].metadata.get("tags", []), cells[i].source[:60]
        assert cells[i + 1].source.startswith("**Learning objectives**\n- ")


def drawn_density(svg: str, bins: int) -> dict[tuple[int, int], float]:
    """``{(layer, bin): density}`` of a heatmap as drawn: read off the SVG's marks (each names its layer, the low
    end of its cosine bin and its density in its aria-label, negative numbers with a Unicode minus); bins with
    no mark have density 0."""
    marks = re.findall(r'aria-label="[^"]*?Probability density: ([-\d.e]+);[^"]*?layer: (-?\d+);[^"]*?cosine from: '
                       r'(-?[\d.]+);', svg.replace("\N{MINUS SIGN}", "-"))
    return {(int(layer), round((float(low) + 1) * bins / 2)): float(density) for density, layer, low in marks}


def paper_word(interval: list[float], paper: float, tolerance: float = 0.03, resolution: float = 0.35) -> str:
    """The verdict on a paper number, from the distance between the paper's value and our interval (0 inside
    it): farther than the figure's reading tolerance disagrees; within it, an interval wider than
    ``resolution`` cannot tell."""
    low, high = interval
    distance = max(low - paper, paper - high, 0.0)
    if distance > tolerance:
        return "disagrees"
    return "cannot tell at this size" if high - low > resolution else "agrees"


# ----- the notebooks, executed -----------------------------------------------------------------------


@pytest.mark.slow
def test_00_quickstart(tmp_path, monkeypatch):
    data, executed = run("00_quickstart.ipynb", tmp_path, monkeypatch)
    values = data["values"]
    assert values["roundtrip_exact"] is True
    assert all((tmp_path / f).stat().st_size > 1000 for f in values["exported"])  # relative to the notebook
    assert data["explorers"]["explorer"]["view"] == "tokens" and len(values["tokens"]) == 64
    # exercise 1: the student's measurement of text 0 is the package's, on the real model
    assert values["own_measurement_gap"] < 1e-3
    # the paper's heatmap and the pooled one side by side, each captioned
    svg = next(o.data["image/svg+xml"] for c in executed.cells for o in c.get("outputs", [])
               if "image/svg+xml" in o.get("data", {}) and "kind=\"paper\"" in c.source)
    assert "The paper's heatmap" in svg and "averaged position by position" in svg
    assert "Pooled heatmap" in svg and "every token pair" in svg
    # exercise 3: the diagonal's shift predicted exactly
    assert values["prediction_error"] < 1e-5
    # rho and tau by the paper's definition against its GPT-2 small numbers (0.39 and 0.26, read off its figure,
    # +-0.03): the word follows from the distance between the paper's value and our interval
    for claim, paper in (("Spearman rho (the paper's definition)", 0.39), ("Kendall tau (the paper's definition)", 0.26)):
        verdict = next(v for v in data["verdicts"] if v["claim"] == claim)
        low, high = verdict["interval"]
        assert -1 <= low <= high <= 1 and verdict["word"] == paper_word([low, high], paper), verdict["sentence"]
    # the figure saved as the paper's heatmap draws, layer by layer, the density of the texts' cosine matrices
    # averaged position by position: recomputed here in numpy from the model and the saved texts
    import nb_condense as nbc
    from conftest import numpy_cosines, position_average

    (saved,) = tmp_path.rglob("*.npz")
    result = nbc.CondensationResult.load(saved)
    svg = next(tmp_path / f for f in values["exported"] if f.endswith(".svg")).read_text()
    assert "The paper's heatmap" in svg
    model, tokenizer = nbc.load_model("embedded")
    max_length = TINY["00_quickstart.ipynb"]["MAX_LENGTH"]
    averaged = position_average(numpy_cosines(model, tokenizer, result.texts, max_length))
    drawn = drawn_density(svg, result.bins)
    for position, layer in enumerate(result.layers):
        expected, _ = np.histogram(averaged[position].ravel(), bins=result.bins, range=(-1, 1), density=True)
        got = np.array([drawn.get((int(layer), k), 0.0) for k in range(result.bins)])
        entries = averaged[position].size  # float32 vs float64: an entry or two may fall in the next bin
        assert np.abs(got - expected).sum() * 2 / result.bins <= 4 / entries, layer
        assert np.abs(got - result.density()[position]).sum() * 2 / result.bins > 4 / entries  # not the pooled one


@pytest.mark.slow
def test_01_larger_models_condense_less(tmp_path, monkeypatch):
    data, _ = run("01_larger_models_condense_less.ipynb", tmp_path, monkeypatch)
    values = data["values"]
    assert values["labels"] == ["tiny-16", "tiny-32", "tiny-64"]
    assert [r["model"] for r in values["robust"]] == values["labels"]
    # a percentile interval of a rank statistic need not contain its point estimate; it must be an interval of rho
    assert all(-1 <= r["rho_low"] <= r["rho_high"] <= 1 for r in values["side_by_side"])
    assert len(values["neighbours"]) == 2
    # the explorer on the trend across the family
    assert data["explorers"]["explorer"]["models"] == values["labels"]


@pytest.mark.slow
def test_02_controlled_mlp_width(tmp_path, monkeypatch):
    data, _ = run("02_controlled_mlp_width.ipynb", tmp_path, monkeypatch)
    table = data["values"]["table"]
    assert sorted({(r["width"], r["seed"]) for r in table}) == [(16, 0), (16, 1), (256, 0), (256, 1)]
    assert all(r["spearman_rho"] > 0.8 for r in table if r["stage"] == "init")  # untrained models condense
    perplexity = {(r["width"], r["seed"], r["stage"]): r["perplexity"] for r in table}
    assert all(perplexity[w, s, "trained"] < perplexity[w, s, "init"] for w in (16, 256) for s in (0, 1))
    # the change verdict is on (trained - init) of the widest minus the narrowest, from the table's own means
    change = data["values"]["change"]
    by = {(r["width"], r["stage"]): [] for r in table}
    for r in table:
        by[r["width"], r["stage"]].append(r["last_half_mean"])
    mean = {k: sum(v) / len(v) for k, v in by.items()}
    assert change["estimate"] == pytest.approx(
        (mean[256, "trained"] - mean[256, "init"]) - (mean[16, "trained"] - mean[16, "init"]), abs=1e-9)


@pytest.mark.slow
def test_03_condensation_at_initialisation(tmp_path, monkeypatch):
    data, executed = run("03_condensation_at_initialisation.ipynb", tmp_path, monkeypatch)
    assert len(live_views(executed)) == 1  # the training run is watched live (CondensationCallback(monitor=...))
    values = data["values"]
    assert values["init_trend"]["spearman_rho"] > 0.8  # an untrained model condenses with depth
    assert [row["step"] for row in values["steps"]] == [0, 4, 8]  # step 0 and every MEASURE_EVERY steps
    assert values["checkpoints"] == []  # PYTHIA="": the hub part is skipped, and says so
    assert data["explorers"]["explorer"]["models"] == ["untrained", "trained 8 steps"]
    # exercise 1 applied to the real history (the package's solution while the stub is unwritten): the callback's rho
    assert values["rho_gap"] < 1e-9


@pytest.mark.slow
def test_04_distillation(tmp_path, monkeypatch):
    data, _ = run("04_distillation.ipynb", tmp_path, monkeypatch)
    values = data["values"]
    assert values["public"] == []  # PAIRS=[]: the hub part is skipped, and says so
    assert [(r["kind"], r["seed"]) for r in values["table"]] == [
        ("teacher", 0), ("scratch", 0), ("distilled", 0), ("scratch", 1), ("distilled", 1)]
    assert all(r["perplexity"] > 1 for r in values["table"])
    claims = [v["claim"] for v in data["verdicts"]]
    assert claims[:2] == ["Premise: the teacher is less condensed than the scratch students (last half)",
                          "Finding: the distilled students are as condensed as the scratch ones, or more "
                          "(no transfer of resistance)"]


@pytest.mark.slow
def test_05_dispersion_loss(tmp_path, monkeypatch):
    data, executed = run("05_dispersion_loss.ipynb", tmp_path, monkeypatch)
    assert len(live_views(executed)) == 1  # the first dispersion run is watched live
    values = data["values"]
    toy = {row["variant"]: row for row in values["toy_rows"]}
    assert set(toy) == {"angular_spread", "l2_repel", "decorrelation", "orthogonalization", "perplexity_entropy"}
    assert all(row["loss_after"] < row["loss_before"] for row in toy.values())  # each variant was minimised
    assert toy["angular_spread"]["mean_cosine_after"] < toy["angular_spread"]["mean_cosine_before"] - 0.3
    assert values["toy_lowers_mean_cosine"] == {
        v: row["mean_cosine_after"] < row["mean_cosine_before"] for v, row in toy.items()}
    rows = values["comparison"]
    assert [r["condition"] for r in rows[:4]] == ["CE only", "CE + dispersion (1.0)", "NEFTune", "active forgetting"]
    for seed in (0, 1):
        by = {r["condition"]: r for r in rows if r["seed"] == seed}
        assert by["CE + dispersion (1.0)"]["dispersion_term"] < by["CE only"]["dispersion_term"]
    assert all(row["perplexity"] > 1 for row in rows)
    # active forgetting (every 4 of 8 steps) resets strictly before the last step: the scored model is trained
    assert values["forgetting_resets"] == [4]
    assert data["explorers"]["explorer"]["view"] == "tokens"
