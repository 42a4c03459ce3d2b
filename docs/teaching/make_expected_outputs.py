"""Run the tutorials that need no download and write what a teacher can open before class.

Executes 02 (MLP width), 04 (distillation, `class` preset: no public pair on a CPU) and 05 (dispersion loss) with
their `class` preset, for real (trained models, not stand-ins), and writes for each notebook:

- ``<out>/<notebook>.html``: the executed notebook, every output included (charts as their static copies);
- ``<out>/<notebook>/<explorer>.html``: each explorer of the notebook as a self-contained offline page;
- ``<out>/<notebook>.json``: the run's recorded numbers, verdicts and exercise checks;
- ``<out>/README.md``: every verdict printed, per notebook, with its interval: the expected outputs in one page.

    python docs/teaching/make_expected_outputs.py                 # class presets, about 20 min on 2 cores
    python docs/teaching/make_expected_outputs.py 05 --out /tmp/x  # one notebook
    python docs/teaching/make_expected_outputs.py --tiny           # tiny parameters (the test tier: minutes)

It needs papermill and nbconvert, which the ``[test]`` extra installs: ``pip install "nb-condense[test]"``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["02_controlled_mlp_width", "04_distillation", "05_dispersion_loss"]
_LAB = dict(N_LAYER=4, N_EMBD=32, N_HEAD=2, BLOCK_SIZE=32, VOCAB_SIZE=512, MEASURE_TEXTS=4, SEED=0)
TINY = {
    "02_controlled_mlp_width": dict(_LAB, WIDTHS=[16, 256], STEPS=8, N_TEXTS=30),
    "04_distillation": dict(_LAB, PAIRS=[], TEACHER_WIDTH=256, STUDENT_WIDTH=16, STEPS=8, N_TEXTS_TRAIN=30),
    "05_dispersion_loss": dict(_LAB, TOY_STEPS=60, STEPS=8, N_TEXTS=30, COEFF=1.0, FORGET_EVERY=4, LIVE_EVERY=2),
}
"""Tiny parameters: the same cells in minutes (the numbers then mean nothing; the test tier uses them)."""


def run(name: str, out: Path, tiny: bool) -> dict:
    """Execute one notebook with papermill; write its HTML, explorer pages and record; return the record."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    record, pages = out / f"{name}.json", out / name
    os.environ.update(NB_CONDENSE_RECORD=str(record), NB_CONDENSE_PAGES=str(pages))  # read by the last cell
    parameters = {"PRESET": "class", **(TINY[name] if tiny else {})}
    start = time.perf_counter()
    executed = papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out / f"{name}.ipynb"),
                                          parameters=parameters, kernel_name="python3", progress_bar=False,
                                          cwd=str(out), execution_timeout=3600)
    minutes = (time.perf_counter() - start) / 60
    body, _ = HTMLExporter().from_notebook_node(nbformat.from_dict(executed))
    (out / f"{name}.html").write_text(body, encoding="utf-8")
    data = json.loads(record.read_text())
    data["minutes"] = minutes
    record.write_text(json.dumps(data, indent=1))
    return data


def summary(records: dict[str, dict], tiny: bool) -> str:
    """The README of the output folder: each notebook's verdicts and checks."""
    lines = ["# Expected outputs", "", "Real runs of the `class` preset" + (" with TINY parameters (numbers "
             "meaningless)" if tiny else "") + ", made by `docs/teaching/make_expected_outputs.py`.", ""]
    for name, data in records.items():
        lines += [f"## {name}", "", f"{data['minutes']:.1f} min of wall time; exercise checks: "
                  + (", ".join(f"`{k}` {v}" for k, v in data["checks"].items()) or "none") + ".", "",
                  f"Open [{name}.html]({name}.html); explorer pages: "
                  + (", ".join(f"[{e}]({name}/{e}.html)" for e in data["explorers"]) or "none") + ".", ""]
        lines += [f"- **{v['word']}**: {v['sentence']}" for v in data["verdicts"]] + [""]
    return "\n".join(lines)


def missing_tools() -> list[str]:
    """The packages this script needs that are not installed (papermill and nbconvert come with ``[test]``)."""
    return [name for name in ("papermill", "nbconvert") if find_spec(name) is None]


def main(argv: list[str] | None = None) -> None:
    """Command line: run the chosen notebooks and write the folder."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="name prefixes (02, 04, 05); default: all three")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "teaching" / "expected")
    parser.add_argument("--tiny", action="store_true", help="tiny parameters: checks the script, not the numbers")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        parser.exit(2, f"make_expected_outputs.py needs {' and '.join(missing)}: pip install \"nb-condense[test]\" "
                       f"(or pip install {' '.join(missing)}).\n")
    names = [n for n in NOTEBOOKS if not args.notebooks or any(n.startswith(p) for p in args.notebooks)]
    if not names:
        parser.error(f"no notebook matches {args.notebooks}: choose among {NOTEBOOKS}")
    args.out.mkdir(parents=True, exist_ok=True)
    records = {}
    for name in names:
        records[name] = run(name, args.out, args.tiny)
        print(f"{name}: {records[name]['minutes']:.1f} min, {len(records[name]['verdicts'])} verdicts", flush=True)
    (args.out / "README.md").write_text(summary(records, args.tiny), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
