"""Time every tutorial notebook per preset with stand-in models: the estimates in the notebooks' header tables.

No hub access is needed: each hub model a preset names is replaced by a *stand-in*, a model with the same
architecture (the same config values) and random weights, saved into a private Hugging Face cache under the same
name (and revisions), so the notebook runs unchanged; the hub corpora are replaced by the builtin corpus with
the same text counts and lengths (texts are cut to ``MAX_LENGTH`` tokens either way). Downloads are not timed.

    python benchmarks/time_tutorials.py                      # both presets, every notebook
    python benchmarks/time_tutorials.py --preset class 00 05 # some notebooks

Prints wall time, the kernel's CPU time and peak resident memory per notebook and preset, and the load average.
On a shared machine the wall time depends on the other jobs; ``--threads 1`` makes the kernel's CPU time a
robust estimate instead: one thread's compute time, an upper bound of the wall time on an idle 2-core CPU (a
second thread can only shorten the tensor maths).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GPT2 = dict(model_type="gpt2", vocab_size=50257, n_positions=1024)
NEOX = dict(model_type="gpt_neox", vocab_size=50304, max_position_embeddings=2048, rotary_pct=0.25,
            use_parallel_residual=True)
QWEN2 = dict(model_type="qwen2", vocab_size=151936, max_position_embeddings=4096, num_key_value_heads=2,
             rope_theta=10000.0)
# The architectures of the hub models the presets name (values from their config.json files).
STAND_INS = {
    "gpt2": dict(GPT2, n_layer=12, n_embd=768, n_head=12),
    "gpt2-medium": dict(GPT2, n_layer=24, n_embd=1024, n_head=16),
    "gpt2-large": dict(GPT2, n_layer=36, n_embd=1280, n_head=20),
    "distilgpt2": dict(GPT2, n_layer=6, n_embd=768, n_head=12),
    "EleutherAI/pythia-70m": dict(NEOX, num_hidden_layers=6, hidden_size=512, num_attention_heads=8,
                                  intermediate_size=2048),
    "EleutherAI/pythia-160m": dict(NEOX, num_hidden_layers=12, hidden_size=768, num_attention_heads=12,
                                   intermediate_size=3072),
    "EleutherAI/pythia-410m": dict(NEOX, num_hidden_layers=24, hidden_size=1024, num_attention_heads=16,
                                   intermediate_size=4096),
    "HuggingFaceTB/SmolLM2-135M": dict(model_type="llama", vocab_size=49152, num_hidden_layers=30, hidden_size=576,
                                       num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536,
                                       max_position_embeddings=8192, tie_word_embeddings=True),
    "Qwen/Qwen2.5-0.5B": dict(QWEN2, num_hidden_layers=24, hidden_size=896, num_attention_heads=14,
                              intermediate_size=4864, tie_word_embeddings=True),
    "Qwen/Qwen2.5-1.5B": dict(QWEN2, num_hidden_layers=28, hidden_size=1536, num_attention_heads=12,
                              intermediate_size=8960, tie_word_embeddings=True),
    "Qwen/Qwen2.5-Math-1.5B": dict(QWEN2, num_hidden_layers=28, hidden_size=1536, num_attention_heads=12,
                                   intermediate_size=8960, tie_word_embeddings=True),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": dict(QWEN2, num_hidden_layers=28, hidden_size=1536,
                                                      num_attention_heads=12, intermediate_size=8960,
                                                      tie_word_embeddings=False),
}
REVISIONS = {"EleutherAI/pythia-160m": ["step0", "step1000", "step8000", "step33000", "step143000"]}
# Per notebook: the hub models each preset loads, and the parameters that swap hub corpora for the builtin one.
PLAN = {
    "00_quickstart.ipynb": {"class": (["gpt2"], dict(DATASET="builtin")),
                            "paper": (["gpt2"], dict(DATASET="builtin"))},
    "01_larger_models_condense_less.ipynb": {
        "class": (["gpt2", "gpt2-medium", "EleutherAI/pythia-70m", "EleutherAI/pythia-410m"],
                  dict(DATASET="builtin", CORPORA=["builtin"] * 2)),
        "paper": (["gpt2", "gpt2-medium", "gpt2-large", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B"],
                  dict(DATASET="builtin", CORPORA=["builtin"] * 4))},
    "02_controlled_mlp_width.ipynb": {"class": ([], {}), "long": ([], {})},
    "03_condensation_at_initialisation.ipynb": {
        "class": (["gpt2", "EleutherAI/pythia-160m", "HuggingFaceTB/SmolLM2-135M"], dict(DATASET="builtin")),
        "long": (["gpt2", "EleutherAI/pythia-160m", "HuggingFaceTB/SmolLM2-135M"], dict(DATASET="builtin"))},
    "04_distillation.ipynb": {
        "class": ([], {}),  # on a CPU the class preset skips the public pair
        "paper": (["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "Qwen/Qwen2.5-Math-1.5B"], dict(DATASET="builtin"))},
    "05_dispersion_loss.ipynb": {"class": ([], {}), "long": ([], {})},
}


def save_stand_in(name: str, cache: Path) -> None:
    """A random-weight model with ``name``'s architecture in the hub cache layout (every listed revision)."""
    import torch
    from transformers import AutoConfig, AutoModel

    from nb_condense.measurement.models import load_tokenizer

    repo = cache / ("models--" + name.replace("/", "--"))
    if (repo / "refs" / "main").exists():
        return
    values = dict(STAND_INS[name])
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    commit = "0" * 40
    snapshot = repo / "snapshots" / commit
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModel.from_config(config)
    dtype = torch.float32 if name.startswith("gpt2") else torch.bfloat16  # as the checkpoints are stored
    model.to(dtype).save_pretrained(snapshot)
    load_tokenizer("embedded").save_pretrained(snapshot)  # any tokenizer: its texts are cut to MAX_LENGTH tokens
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    for revision in ["main", *REVISIONS.get(name, [])]:
        (repo / "refs" / revision).write_text(commit)


class PeakMemory:
    """Samples the resident memory of this process's children (the kernel) until stopped."""

    def __init__(self) -> None:
        import psutil

        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            try:
                rss = sum(c.memory_info().rss for c in self.process.children(recursive=True))
            except Exception:  # a child exited between listing and reading: sample again
                continue
            self.peak = max(self.peak, rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def time_notebook(name: str, preset: str, workdir: Path, extra: dict | None = None) -> dict:
    import papermill

    overrides = {**PLAN[name][preset][1], **(extra or {})}
    before_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with PeakMemory() as memory:
        papermill.execute_notebook(str(NOTEBOOKS / name), str(workdir / f"{preset}-{name}"),
                                   parameters={"PRESET": preset, **overrides}, kernel_name="python3",
                                   progress_bar=False, cwd=str(workdir), execution_timeout=7200)
    wall = time.perf_counter() - start
    after_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_cpu.ru_utime - before_cpu.ru_utime) + (after_cpu.ru_stime - before_cpu.ru_stime)
    return {"notebook": name, "preset": preset, "wall_min": wall / 60, "cpu_min": cpu / 60,
            "peak_gb": memory.peak / 2**30, "load": (load_before + os.getloadavg()[0]) / 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook name prefixes (00 ... 05); default: all")
    parser.add_argument("--preset", action="append", choices=["class", "paper", "long"],
                        help="default: every preset of each notebook (class, and paper or long)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nbc-stand-ins",
                        help="where the stand-in models are saved (reused between runs)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=JSON",
                        help="override a notebook parameter, e.g. --set 'MODELS=[\"distilgpt2\", \"gpt2\"]'")
    parser.add_argument("--out", type=Path, help="keep the executed notebooks in this folder (default: discard)")
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads of the kernel (default: torch's choice)")
    args = parser.parse_args()
    extra = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    names = [n for n in PLAN if not args.notebooks or any(n.startswith(p) for p in args.notebooks)]
    wanted = args.preset
    hub = args.cache / "hub"
    os.environ.update(HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if args.threads:  # the kernel inherits the environment: torch reads these at import
        os.environ.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    presets = sorted({p for name in names for p in PLAN[name]}, key=["class", "paper", "long"].index)
    if wanted:
        presets = [p for p in presets if p in wanted]
    for name in names:
        for preset in [p for p in presets if p in PLAN[name]]:
            for model in [*PLAN[name][preset][0], *(m for v in extra.values() if isinstance(v, list)
                                                      for m in v if m in STAND_INS)]:
                save_stand_in(model, hub)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
        for name in names:
            for preset in [p for p in presets if p in PLAN[name]]:
                row = time_notebook(name, preset, args.out or Path(workdir), extra)
                rows.append(row)
                print(f"{row['notebook']:42s} {preset:6s} wall {row['wall_min']:5.1f} min  cpu {row['cpu_min']:5.1f} "
                      f"min  peak {row['peak_gb']:4.1f} GB  load {row['load']:.1f}", flush=True)
                if args.json:
                    args.json.write_text(json.dumps(rows, indent=2))
    print("\n| notebook | " + " | ".join(f"{p} (wall, CPU, peak RAM)" for p in presets) + " |")
    print("|---|" + "---|" * len(presets))
    for name in names:
        cells = [next((f"{r['wall_min']:.1f} min, {r['cpu_min']:.1f} min, {r['peak_gb']:.1f} GB" for r in rows
                       if r["notebook"] == name and r["preset"] == p), "-") for p in presets]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
