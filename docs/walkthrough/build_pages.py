"""Build the walkthrough's pages from the saved results (``docs/walkthrough/data/``, made by make_results.py).

Writes ``docs/walkthrough/{index,f1,f2,f3,f4,dispersion}.md`` and one offline explorer page per finding,
``docs/_extra/explorers/<name>.html`` (:func:`nb_condense.save_page`; Sphinx copies ``_extra`` to the site's root)::

    python docs/walkthrough/build_pages.py            # into docs/
    python docs/walkthrough/build_pages.py --out DIR  # into DIR/walkthrough and DIR/_extra/explorers

Every number on a page is computed here by the package from the saved results (``nbc.compare``, ``nbc.difference``,
``tutorial.judge``, ``tutorial.paper_definition``: bootstrap intervals over the texts, seed 0), so the same data
always give the same pages. The pages are committed: the Sphinx build stays offline and fast and needs neither
torch nor the results, and a test (tests/integration/test_walkthrough.py) rebuilds them and compares them with the
committed ones, so pages and data cannot drift apart. After make_results.py, run this script and commit both.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DOCS = HERE.parent
NUMBERS = "../paper_numbers.md"
ARXIV = "[arXiv 2602.00217](https://arxiv.org/abs/2602.00217)"


@dataclass(frozen=True)
class Model:
    """One saved result as the manifest describes it."""

    label: str
    role: str
    note: str
    result: Any


@dataclass(frozen=True)
class Finding:
    """One finding's data: where it came from, its settings and its models, in the manifest's order."""

    name: str
    source: str
    settings: dict[str, Any]
    models: list[Model]

    def role(self, role: str) -> list[Model]:
        """The models of ``role``, in order."""
        return [m for m in self.models if m.role == role]

    @property
    def ours(self) -> bool:
        """Whether the data are our own toy runs (else hub models)."""
        return self.source == "ours"


def load(data: Path = DATA) -> dict[str, Finding]:
    """The manifest's findings with their results loaded."""
    from nb_condense import CondensationResult

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    return {name: Finding(name, entry["source"], entry["settings"],
                          [Model(m["label"], m["role"], m["note"], CondensationResult.load(data / m["file"]))
                           for m in entry["models"]])
            for name, entry in manifest["findings"].items()}


# ----- numbers -------------------------------------------------------------------------------------------------

def verdict(claim: str, a: Model, b: Model, expect: str, seeded: bool) -> str:
    """``tutorial.judge`` of ``nbc.difference(a, b)`` (last-half mean), as its one sentence."""
    import nb_condense as nbc
    from nb_condense import tutorial

    with contextlib.redirect_stdout(io.StringIO()):
        judged = tutorial.judge(claim, nbc.difference(a.result, b.result, names=(a.label, b.label)), expect,  # type: ignore[arg-type]
                                seeded=seeded)
    return judged.sentence


def sign_verdict(claim: str, model: Model, seeded: bool) -> str:
    """``tutorial.judge`` of a model's own Spearman rho (the package's pooled definition) being positive."""
    from nb_condense import tutorial

    with contextlib.redirect_stdout(io.StringIO()):
        judged = tutorial.judge(claim, tutorial.measured(model.result.trend(ci=0.95), "spearman_rho"), "positive",
                                seeded=seeded)
    return judged.sentence


def number(value: float, signed: bool = True) -> str:
    """``+0.39`` (signed, 2 decimals) or ``0.594`` (3 decimals); never ``-0.00``."""
    return f"{value + 0.0:+.2f}" if signed else f"{value + 0.0:.3f}"


def table(models: Sequence[Model]) -> str:
    """Each model's rho (the paper's definition and the package's) and last-half mean, with 95 % intervals."""
    import nb_condense as nbc
    from nb_condense import tutorial

    frame = nbc.compare({m.label: m.result for m in models}, ci=0.95)
    lines = ["| model | rho, the paper's definition | rho, pooled | last-half mean |", "|---|---|---|---|"]
    for model, row in zip(models, frame.to_dict("records")):
        paper = tutorial.paper_definition(model.result, "spearman_rho")
        lines.append(
            f"| {model.label} | {number(paper.estimate)} "
            f"({number(paper.interval[0])} to {number(paper.interval[1])}) | {number(row['spearman_rho'])} "
            f"({number(row['spearman_rho_low'])} to {number(row['spearman_rho_high'])}) | "
            f"{number(row['last_half_mean'], False)} ({number(row['last_half_mean_low'], False)} to "
            f"{number(row['last_half_mean_high'], False)}) |")
    return "\n".join(lines)


def text_alternative(models: Sequence[Model]) -> str:
    """The explorer's trend as a table: each model's layer means, the embedding output first."""
    lines = ["| model | mean cosine per layer (embedding output first) |", "|---|---|"]
    lines += [f"| {m.label} | {', '.join(f'{v:.3f}' for v in m.result.layer_means)} |" for m in models]
    return "\n".join(lines)


# ----- pages -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One walkthrough page: its title, the paper's claim (markdown) and how our data are read."""

    name: str
    title: str
    short: str
    claim: str
    verdicts: Callable[[Finding], list[str]]
    rebuild: str


def _f1(f: Finding) -> list[str]:
    members = f.role("member")
    first, last = members[0], members[-1]
    out = [verdict(f"{first.label} condenses more than {last.label} (the end points)", first, last, "positive",
                   f.ours)]
    out += [verdict(f"{a.label} condenses more than {b.label} (neighbours)", a, b, "positive", f.ours)
            for a, b in zip(members, members[1:]) if (a, b) != (first, last)]
    return out


def _f2(f: Finding) -> list[str]:
    out = []
    for stage in ("trained", "init"):
        models = f.role(stage)
        if len(models) >= 2:
            what = "after training" if stage == "trained" else "at initialisation (the paper gives no value here)"
            out.append(verdict(f"The narrowest MLP condenses more than the widest, {what}", models[0], models[-1],
                               "positive", f.ours))
    return out


def _f3(f: Finding) -> list[str]:
    init, trained = f.role("init")[0], f.role("trained")[0]
    return [sign_verdict(f"{init.label} condenses with depth (rho above 0)", init, f.ours),
            verdict(f"Training relieves it: {init.label} condenses more than {trained.label}", init, trained,
                    "positive", f.ours)]


def _f4(f: Finding) -> list[str]:
    out = []
    scratch, distilled = f.role("scratch"), f.role("distilled")
    if teacher := f.role("teacher"):
        out.append(verdict(f"Premise: {teacher[0].label} condenses less than {scratch[0].label}",
                           teacher[0], scratch[0], "negative", f.ours))
    out += [verdict(f"{d.label} is as condensed as {s.label} or more (no transfer of resistance)", d, s, "positive",
                    f.ours) for d, s in zip(distilled, scratch)]
    return out


def _dispersion(f: Finding) -> list[str]:
    without, with_loss = f.role("without")[0], f.role("with")[0]
    return [verdict(f"{with_loss.label} condenses less than {without.label}", with_loss, without, "negative",
                    f.ours)]


def _anchor(anchor: str, text: str) -> str:
    return f"[{text}]({NUMBERS}#{anchor})"


PAGES = [
    Page("f1", "Finding 1: within a family, larger models condense less", "larger models condense less",
         "The paper measures each family of released models on 100 Wikipedia texts and finds that, within a "
         f"family, the smaller models condense more with depth ({ARXIV}, Finding 1 and its figure). GPT-2's Spearman "
         "rho of the layer means with depth: small **+0.39**, medium **-0.06**, large **+0.12**, XL **-0.58**; "
         "Qwen2.5 falls from +0.95 (0.5B) to -0.23 (72B) "
         f"({_anchor('f1-gpt2-wikipedia', 'paper numbers: GPT-2')}, {_anchor('f1-other-families', 'other families')})."
         "\n\n**Caveat.** The values are read off a figure (±0.03), and the ordering is not strictly monotonic: "
         "the end points agree, neighbours do not always (GPT-2 large sits above medium) "
         f"({_anchor('f1-not-monotonic', 'the ordering is not strictly monotonic')}).",
         _f1, "f1=gpt2,gpt2-medium,gpt2-large,gpt2-xl"),
    Page("f2", "Finding 2: a narrower MLP condenses more", "a narrower MLP condenses more",
         "The paper trains GPT-2-sized models (12 layers, 768 wide) that differ only in their MLP width and finds "
         f"that the narrower MLP condenses more ({ARXIV}, Finding 2 and its figure): Spearman rho **+0.96** at "
         "n_inner 64 down to **+0.43** at n_inner 4096; final-layer cosine 0.57 down to 0.42 "
         f"({_anchor('f2-mlp-width', 'paper numbers: MLP width')})."
         "\n\n**Caveat.** These are the runs' last checkpoints, read off a figure (±0.03); the paper gives no "
         "values at step 0 and does not publish the token budget "
         f"({_anchor('f2-recipe', 'their training recipe')}).",
         _f2, "f2=PATH_N_INNER_64,PATH_N_INNER_256,PATH_N_INNER_1024,PATH_N_INNER_4096"),
    Page("f3", "Finding 3: condensation is present at initialisation, and training reduces it",
         "present at initialisation, reduced by training",
         "The paper follows OLMo-3-7B's public checkpoints and finds condensation already **at initialisation** "
         f"(Spearman rho **+1.00** at step 0) and **reduced by pre-training** ({ARXIV}, Finding 3 and its figure): "
         "+0.08 at step 353k, -0.31 at the end of stage 1, -0.46 for the released model "
         f"({_anchor('f3-olmo', 'paper numbers: OLMo-3-7B')})."
         "\n\n**Caveat.** There is no checkpoint between step 0 and step 353k, so the paper cannot say when or how "
         "fast the fall happened; it does not say condensation is never learned. The stage names are "
         f"{_anchor('f3-stage-names', 'our inference')}.",
         _f3, "f3=allenai/Olmo-3-1025-7B  # or two checkpoint folders: f3=INITIAL,TRAINED"),
    Page("f4", "Finding 4: distillation does not transfer resistance", "distillation does not transfer resistance",
         "The paper compares DeepSeek-R1-Distill-Qwen models with the Qwen2.5 models they start from and finds the "
         f"distilled models **as condensed or more** ({ARXIV}, Finding 4 and its figure): Spearman rho at 1.5B "
         "**+0.91** distilled vs **+0.91** from scratch; at 32B +0.35 vs +0.12 "
         f"({_anchor('f4-distillation', 'paper numbers: distillation')})."
         "\n\n**Caveat.** An observational comparison of public models, read off a figure (±0.03): each pair is one "
         "base model before and after fine-tuning, and the 1.5B and 7B bases are maths-specialised. The distilled "
         "models were fine-tuned on the teacher's texts, not its logits "
         f"({_anchor('f4-sft', 'our inference')}), so our logit-distillation run tests a different thing.",
         _f4, "f4=deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B:Qwen/Qwen2.5-Math-1.5B,"
              "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B:Qwen/Qwen2.5-Math-7B"),
    Page("dispersion", "The fix: the dispersion loss", "the dispersion loss",
         "The paper adds a **dispersion loss** (an angular spread of each layer's token directions) to training, "
         f"and reports that it counteracts condensation and improves accuracy ({ARXIV}, its method section and "
         "benchmark tables): GPT-2 mid-training for 1526 steps with coefficient 0.1 raises the 10-task mean "
         "accuracy from **34.95** (cross-entropy only) to **35.52**, +0.57 points over 3 seeds; Qwen3 pre-trained "
         "with it gains +1.17 points on average "
         f"({_anchor('dispersion-loss', 'the loss')}, {_anchor('gpt2-benchmark', 'the GPT-2 gain')}, "
         f"{_anchor('qwen3-gain', 'the Qwen3 gain')})."
         "\n\n**Caveat.** The benchmark gains are the paper's tables; we have not reproduced them. Each task is "
         "scored on 500 examples and the paper gives no interval, so a 0.57-point gap is of the size resampling "
         "could move (our inference). Our run below checks only the geometry, not accuracy.",
         _dispersion, "dispersion=PATH_CE_ONLY,PATH_WITH_DISPERSION"),
]


def provenance(finding: Finding) -> str:
    """Whose models the numbers come from: ours (small, trained on a laptop) or named hub models."""
    s = finding.settings
    if finding.ours:
        return ("**Ours, on small models, not the paper's.** The models below were made and measured by "
                "`docs/walkthrough/make_results.py` on a laptop CPU, on "
                f"{s['texts']}; tokens per text: {s['block_size']} (MiniLM: {s['minilm_length']}). The toy GPT-2 "
                f"models have {s['n_layer']} layers and were trained from scratch for {s['steps']} steps with the "
                "tutorial's `Lab` (seed 0): they test the direction of each claim at a tiny scale, not its size. "
                "Where a verdict disagrees with the paper, read it as what these toy models do, not as evidence "
                "about the paper's models.")
    return ("**Measured by us with nb_condense, not the paper's own measurement**, on the released models named "
            f"below, on {s['texts']}.")


def page_markdown(page: Page, finding: Finding) -> str:
    """One finding's page: the paper's claim, our reproduction with its verdicts, the explorer, how to rebuild."""
    models = finding.models
    shown = {id(m.result): m for m in models}.values()  # a model shared by two roles once
    listed = "\n".join(f"- **{m.label}** ({m.result.metadata.get('n_parameters', 0):,} parameters, "
                       f"{m.result.n_layers} layers): {m.note}." for m in models)
    verdicts = "\n".join(f"- {sentence}" for sentence in page.verdicts(finding))
    return f"""# {page.title}

## The paper's claim

{page.claim}

## Our reproduction

{provenance(finding)}

{listed}

{table(list(shown))}

Rho is Spearman's rank correlation of the layer means with depth (positive: condensation grows with depth), with
its 95 % bootstrap interval over the texts; "the paper's definition" averages each text's cosine matrix with its
diagonal as the paper does, "pooled" is nb_condense's default (all distinct token pairs). The last-half mean is the
mean cosine of the last half of the layers ([how to read an interval](../uncertainty.md)).

What the package's verdicts say (`nbc.difference` of the last-half means, paired over the same texts, read by
`tutorial.judge`: "agrees", "disagrees" or "cannot tell at this size"):

{verdicts}

## Explore it

<iframe src="../explorers/{page.name}.html" title="Explorer: {page.short}, our models ({len(shown)} models)"
width="100%" height="1100" loading="lazy" style="border: 1px solid var(--pst-color-border, #ccc);"></iframe>

The explorer above runs in your browser with no kernel and no network: pick a model, a view (heatmap,
distributions, trend, tokens), layers and texts. <a href="../explorers/{page.name}.html">Open it on its own page</a>.
Text alternative: the mean cosine of each layer, per model (what the trend view draws):

{text_alternative(list(shown))}

## Rebuild it with the paper's models

With a GPU and the hub, measure the paper's own models on its corpus and rebuild this page:

```bash
python docs/walkthrough/make_results.py --device cuda --models {page.rebuild}
python docs/walkthrough/build_pages.py
```
"""


def index_markdown(findings: dict[str, Finding]) -> str:
    """The walkthrough's first page: what the paper says, what the pages show, and their toctree."""
    rows = "\n".join(f"- [{p.title}]({p.name}.md): {'our small models' if findings[p.name].ours else 'hub models'}, "
                     f"{len(findings[p.name].models)} measurements." for p in PAGES)
    return f"""# Walkthrough of the paper

Liu et al., "Dispersion loss counteracts embedding condensation and improves generalization in small language
models", ICML 2026, {ARXIV}. Token embeddings of small transformer language models *condense*: with depth, they
gather into a narrow cone, and their mean pairwise cosine rises. The paper makes four findings about when this
happens and proposes a fix. Each page below states one claim with the paper's number and its caveat (every number
is listed once in [the paper's numbers](../paper_numbers.md)), then shows **our reproduction on models we can run
on a laptop**, clearly labelled as ours, with the package's verdict and its interval, and an explorer you can click
through in the browser.

{rows}

The pages are built by `docs/walkthrough/build_pages.py` from saved results (`docs/walkthrough/data/`), which
`docs/walkthrough/make_results.py` makes. Whoever has a GPU and the hub can rebuild every page with the paper's own
models: see the end of each page.

```{{toctree}}
:hidden:

{chr(10).join(p.name for p in PAGES)}
```
"""


def explorer(page: Page, finding: Finding, path: Path) -> Path:
    """The finding's offline explorer page (``save_page``): every model of the finding, once."""
    from nb_condense import save_page

    whose = "our small models" if finding.ours else "hub models"
    results = {m.label: m.result for m in {id(m.result): m for m in finding.models}.values()}
    return save_page(results, path, title=f"Explorer: {page.short} ({whose})")


def build(out: Path = DOCS, data: Path = DATA) -> list[Path]:
    """Write the pages and explorers under ``out``; returns the files written."""
    from nb_condense.core.files import write_text

    findings = load(data)
    missing = [p.name for p in PAGES if p.name not in findings]
    if missing:
        raise SystemExit(f"build_pages: {data / 'manifest.json'} has no {', '.join(missing)}: run "
                         f"python {HERE / 'make_results.py'} --findings {' '.join(missing)}")
    written = [write_text(out / "walkthrough" / "index.md", index_markdown(findings))]
    for page in PAGES:
        written.append(write_text(out / "walkthrough" / f"{page.name}.md", page_markdown(page, findings[page.name])))
        written.append(explorer(page, findings[page.name], out / "_extra" / "explorers" / f"{page.name}.html"))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: build into ``--out`` from ``--data``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DOCS, help=f"the docs folder to write into (default {DOCS})")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the saved results (default {DATA})")
    args = parser.parse_args(argv)
    for path in build(args.out, args.data):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
