"""Side-by-side timing and memory of nb_condense.measure, its drop-in, bare forward passes and the reference.

Run:  python benchmarks/bench_measure.py            (full: GPT-2-small-sized random model + MiniLM, ~10 min on 2 cores)
      python benchmarks/bench_measure.py --quick    (fewer texts, for a smoke run)
      python benchmarks/bench_measure.py --profile  (where measure's own time goes, then exit)
      python benchmarks/bench_measure.py --no-reference --skip C --threads 1   (the two ratios, steadiest on a
                                                   machine others are using: one thread waits for no other)

Prints ratios measured in this run (never absolute targets on a noisy machine):
  A. GPT-2-small-sized random model (124M), builtin corpus, 512 tokens:
     measure / bare forward (target <= 1.05), drop-in / reference (target <= 1.0)
  B. pretrained MiniLM (embedded), 512 tokens: measure / bare forward (target <= 1.05),
     drop-in / reference (target <= 0.6), reference / bare forward
  Both also print the floor: the bare forward plus only the cosine products an exact histogram needs (half of
  each S x S matrix). For MiniLM at 512 tokens (384 wide, 6 blocks, 7 hidden-state entries) those products alone
  cost about 7 % of the forward, so 1.05 is out of reach there without changing the numbers.
  C. peak RSS at repetitions 10 vs 100 (fresh process each): ours must not grow (< 50 MB; checked again at 300);
     the reference's does.
Timings resist a busy machine: the texts are cut into chunks, every compared function runs on each chunk in
turn (rotating which goes first), --repeats times after a warm-up, and each function's time is the sum over
chunks of its fastest run on that chunk (a burst of load elsewhere spoils one run of one chunk, not a total).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import nb_condense as nbc  # noqa: E402
from nb_condense.measurement.extract import default_batch_size, tokenize_texts  # noqa: E402


def gpt2_small(tokenizer):  # type: ignore[no-untyped-def]
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    return random_model(AutoConfig.for_model("gpt2"), seed=0)  # 12 layers, 768 wide, 124M parameters


def minilm():  # type: ignore[no-untyped-def]
    return nbc.load_model("embedded")


def bare_forward(model, tokenizer, texts, max_length, batch_size, cosines=False):  # type: ignore[no-untyped-def]
    """The physical floor: the same batches through the model with output_hidden_states=True, nothing else.

    ``cosines=True`` adds only the products every exact histogram needs (each text's cosine matrix of every layer,
    on and above the diagonal, by ``metrics.cosine_strips``) and nothing else: no binning, no sums. Its ratio to
    the bare forward is the floor of ``measure / bare forward`` for the numbers to stay exact.
    """
    from nb_condense.measurement.metrics import cosine_strips

    encodings = tokenize_texts(tokenizer, texts, max_length)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(encodings), batch_size):
            chunk = encodings[start : start + batch_size]
            ids = torch.nn.utils.rnn.pad_sequence([e["input_ids"] for e in chunk], batch_first=True)
            mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(e["input_ids"]) for e in chunk], batch_first=True)
            kwargs = {"use_cache": False} if getattr(model.config, "use_cache", None) is not None else {}
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, **kwargs)
            for row, encoding in enumerate(chunk) if cosines else ():
                n = len(encoding["input_ids"])
                cosine_strips([h[row, :n] for h in out.hidden_states])


def chunked_best(functions: dict, texts: list[str], chunk: int, repeats: int) -> dict[str, tuple[float, float]]:  # type: ignore[type-arg]
    """Per function: (wall, CPU) seconds, each the sum over chunks of its best run on that chunk, runs interleaved.

    CPU time (this process's user + system time, all threads) barely moves when other processes share the cores;
    wall time is what a user waits for. Both are printed.
    """
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    best = {name: [[float("inf")] * len(chunks), [float("inf")] * len(chunks)] for name in functions}
    names = list(functions)
    for name in names:  # warm-up: allocator, thread pool, kernels
        functions[name](chunks[0])
    for repeat in range(repeats):
        for c, part in enumerate(chunks):
            turn = (repeat + c) % len(names)
            for name in names[turn:] + names[:turn]:
                wall, cpu = time.perf_counter(), time.process_time()
                functions[name](part)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                best[name][0][c], best[name][1][c] = min(best[name][0][c], wall), min(best[name][1][c], cpu)
    return {name: (sum(walls), sum(cpus)) for name, (walls, cpus) in best.items()}


def timing_section(title, model, tokenizer, texts, max_length, batch_size, repeats, reference, chunk):  # type: ignore[no-untyped-def]
    common = dict(max_length=max_length, show_progress=False)
    functions = {
        "bare forward": lambda part: bare_forward(model, tokenizer, part, max_length, batch_size),
        "measure": lambda part: nbc.measure(model, tokenizer, texts=part, batch_size=batch_size, **common),
        "cosines only": lambda part: bare_forward(model, tokenizer, part, max_length, batch_size, cosines=True),
    }
    if reference is not None:
        functions["drop-in"] = lambda part: nbc.measure_embedding_condensation(
            model, tokenizer, texts=part, repetitions=len(part), plot=False, batch_size=batch_size, **common)
        functions["reference"] = lambda part: reference.measure_embedding_condensation(
            model, tokenizer, texts=part, repetitions=len(part), plot=False, save_path=None, **common)
    timings = chunked_best(functions, texts, chunk, repeats)
    print(f"\n{title}: {len(texts)} texts x {max_length} tokens, batch {batch_size}, chunks of {chunk}, "
          f"best of {repeats} per chunk")
    for name, (wall, cpu) in timings.items():
        print(f"  {name:<13} {wall:8.2f} s   (CPU time {cpu:8.2f} s)")
    seconds = {name: wall for name, (wall, _) in timings.items()}
    cpu_ratio = timings["measure"][1] / timings["bare forward"][1]
    cpu_floor = timings["cosines only"][1] / timings["bare forward"][1]
    ratios = {"measure / bare forward": seconds["measure"] / seconds["bare forward"],
              "floor: cosines only / bare": seconds["cosines only"] / seconds["bare forward"]}
    if reference is not None:
        ratios["drop-in / bare forward"] = seconds["drop-in"] / seconds["bare forward"]
        ratios["drop-in / reference"] = seconds["drop-in"] / seconds["reference"]
        ratios["reference / bare forward"] = seconds["reference"] / seconds["bare forward"]
    for name, value in ratios.items():
        print(f"  {name:<26} {value:6.3f}")
    print(f"  {'(in CPU time)':<26} {cpu_ratio:6.3f}   floor {cpu_floor:6.3f}")
    return ratios


def profile_measure(model, tokenizer, texts, max_length, batch_size) -> None:  # type: ignore[no-untyped-def]
    """Print the torch operators that take measure()'s time on these texts, the forward pass included."""
    from torch.profiler import ProfilerActivity, profile

    run = lambda: nbc.measure(model, tokenizer, texts=texts, max_length=max_length,  # noqa: E731
                              batch_size=batch_size, show_progress=False)
    run()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def rss_child(kind: str, repetitions: int, max_length: int) -> None:
    """Run one measurement in this (fresh) process; print RSS before it and its peak RSS (MB) as JSON.

    The kernel's peak-RSS mark is reset (``/proc/self/clear_refs``) after the model and texts are loaded,
    so the peak is that of the measurement itself, not of loading.
    """
    model, tokenizer = minilm()
    texts = nbc.sample_texts("builtin", repetitions)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    common = dict(repetitions=repetitions, max_length=max_length, plot=False, show_progress=False)
    if kind == "reference":
        from _reference import import_reference

        import_reference().measure_embedding_condensation(model, tokenizer, texts=texts, save_path=None, **common)
    elif kind == "drop-in":
        nbc.measure_embedding_condensation(model, tokenizer, texts=texts, **common)
    else:
        nbc.measure(model, tokenizer, texts=texts, max_length=max_length, show_progress=False)
    print(json.dumps({"before_mb": before, "peak_rss_mb": _status_mb("VmHWM")}))


def peak_rss(kind: str, repetitions: int, max_length: int) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind, str(repetitions), "--max-length", str(max_length)],
        capture_output=True, text=True, check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, help="texts per timed chunk (default: 4 for A, 10 for B)")
    parser.add_argument("--no-reference", action="store_true", help="time bare forward and measure only")
    parser.add_argument("--profile", action="store_true", help="profile measure() on the GPT-2-sized model, exit")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, help="default: nb_condense's default for the device")
    parser.add_argument("--rss-child", nargs=2, metavar=("KIND", "REPETITIONS"))
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: A,B,C")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's); 1 suffers least from other load")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]), args.max_length)
        return

    if args.profile:
        _, tokenizer = minilm()
        model = gpt2_small(tokenizer)
        profile_measure(model, tokenizer, nbc.sample_texts("builtin", 2), args.max_length, args.batch_size or 1)
        return
    from _reference import import_reference

    reference = None if args.no_reference else import_reference()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"reference: {'not timed' if reference is None else 'embedding-condensation 2.0'}")
    skip = set(args.skip.upper().split(","))
    if "A" not in skip:
        _, tokenizer = minilm()
        model = gpt2_small(tokenizer)
        texts = nbc.sample_texts("builtin", 4 if args.quick else 16)
        timing_section("A. GPT-2-small-sized random model", model, tokenizer, texts, args.max_length,
                       args.batch_size or default_batch_size(model), args.repeats, reference, args.chunk or 4)
    if "B" not in skip:
        model, tokenizer = minilm()
        texts = nbc.sample_texts("builtin", 20 if args.quick else 100)
        timing_section("B. MiniLM (pretrained)", model, tokenizer, texts, args.max_length,
                       args.batch_size or default_batch_size(model), args.repeats, reference, args.chunk or 10)
    if "C" not in skip:
        low, high, highest = (5, 20, 40) if args.quick else (10, 100, 300)
        print(f"\nC. peak RSS during the measurement, MiniLM, {args.max_length} tokens (fresh process each)")
        for kind in ("measure", "drop-in", "reference"):
            a, b = peak_rss(kind, low, args.max_length), peak_rss(kind, high, args.max_length)
            line = f"  {kind:<10} R={low}: {a:8.1f} MB   R={high}: {b:8.1f} MB   growth {b - a:+8.1f} MB"
            if kind != "reference":  # ours again at 3x: growth must stop (allocator warm-up, not accumulation)
                c = peak_rss(kind, highest, args.max_length)
                line += f"   R={highest}: {c:8.1f} MB ({c - b:+.1f} MB from R={high})"
            print(line)


if __name__ == "__main__":
    main()
