"""GPU check: measure / bare forward and drop-in / reference on a GPT-2-xl-sized random model in bf16.

Run on a GPU machine:  bash benchmarks/gpu_check.sh          (100 texts x 1024 tokens, < 5 min on an H100/H200)
Smoke-test anywhere:   bash benchmarks/gpu_check.sh --small  (tiny model, 8 texts x 64 tokens, CPU is fine)

Prints, from one run (targets on a GPU: measure / bare forward <= 1.05, drop-in / reference <= 0.1):
  1. bare forward passes (output_hidden_states=True, same batches) vs nb_condense.measure: times, tokens/s,
     peak GPU memory, measure / bare forward;
  2. the drop-in measure_embedding_condensation vs the authors' embedding-condensation 2.0 on the first
     --reference-texts texts (the reference keeps every matrix on the host: fewer texts), drop-in / reference;
     skipped, saying so, when the reference is not installed;
  3. with several GPUs, the model sharded across them (device_map="auto") and measured again.
Each timing is the best of --repeats runs after a warm-up, the compared functions interleaved.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from transformers import AutoConfig  # noqa: E402

import nb_condense as nbc  # noqa: E402
from nb_condense.measurement.extract import tokenize_texts  # noqa: E402
from nb_condense.measurement.models import load_tokenizer, random_model  # noqa: E402


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bare_forward(model, encodings, batch_size, device) -> None:  # type: ignore[no-untyped-def]
    """The floor: the same right-padded batches through the model with output_hidden_states=True, nothing else."""
    with torch.inference_mode():
        for start in range(0, len(encodings), batch_size):
            chunk = encodings[start : start + batch_size]
            ids = torch.nn.utils.rnn.pad_sequence([e["input_ids"] for e in chunk], batch_first=True).to(device)
            mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(e["input_ids"]) for e in chunk],
                                                   batch_first=True).to(device)
            model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)


def best_of(repeats: int, functions: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """(best seconds, peak GPU GiB) of each function: one warm-up each, then ``repeats`` interleaved runs."""
    for function in functions.values():
        function()
    best = {name: (float("inf"), float("nan")) for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            sync()
            start = time.perf_counter()
            function()
            sync()
            seconds = time.perf_counter() - start
            peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
            best[name] = min(best[name], (seconds, peak))
    return best


def import_reference_or_none():  # type: ignore[no-untyped-def]
    from _reference import import_reference

    try:
        return import_reference()
    except SystemExit as missing:
        print(f"\n2. drop-in / reference: skipped. {missing}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="tiny model and inputs (CPU smoke test)")
    parser.add_argument("--texts", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--reference-texts", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if args.small:
        args.texts, args.tokens, args.reference_texts = 8, 64, 4
        config = AutoConfig.for_model("gpt2", n_layer=4, n_embd=64, n_head=4, n_positions=args.tokens)
    else:
        config = AutoConfig.for_model("gpt2", n_layer=48, n_embd=1600, n_head=25, n_positions=args.tokens)  # 1.5B
    tokenizer = load_tokenizer("embedded")
    model = random_model(config, seed=0).to(device=device, dtype=dtype)
    texts = nbc.sample_texts("builtin", args.texts, min_word_count=2 * args.tokens, max_word_count=3 * args.tokens)
    encodings = tokenize_texts(tokenizer, texts, args.tokens)
    n_tokens = sum(len(e["input_ids"]) for e in encodings)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"device {device} ({name}), {dtype}, torch {torch.__version__}, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, {args.texts} texts, {n_tokens} tokens")

    common = dict(max_length=args.tokens, batch_size=args.batch_size, show_progress=False)
    timings = best_of(args.repeats, {
        "bare forward": lambda: bare_forward(model, encodings, args.batch_size, device),
        "measure": lambda: nbc.measure(model, tokenizer, texts=texts, **common),
    })
    print(f"\n1. measure vs bare forward, batch {args.batch_size}, best of {args.repeats}")
    for label, (seconds, peak) in timings.items():
        print(f"  {label:<13} {seconds:7.2f} s  {n_tokens / seconds:>12,.0f} tokens/s  peak {peak:5.1f} GiB")
    print(f"  measure / bare forward   {timings['measure'][0] / timings['bare forward'][0]:.3f}")

    reference = None if args.no_reference else import_reference_or_none()
    if reference is not None:
        few = texts[: args.reference_texts]
        options = dict(texts=few, repetitions=len(few), max_length=args.tokens, plot=False, show_progress=False)
        timings = best_of(args.repeats, {
            "drop-in": lambda: nbc.measure_embedding_condensation(model, tokenizer, batch_size=args.batch_size,
                                                                  **options),
            "reference": lambda: reference.measure_embedding_condensation(model, tokenizer, save_path=None,
                                                                          **options),
        })
        print(f"\n2. drop-in vs reference (embedding-condensation 2.0), {len(few)} texts, best of {args.repeats}")
        for label, (seconds, peak) in timings.items():
            print(f"  {label:<13} {seconds:7.2f} s  peak {peak:5.1f} GiB")
        print(f"  drop-in / reference      {timings['drop-in'][0] / timings['reference'][0]:.3f}")

    if torch.cuda.device_count() > 1:
        del model
        torch.cuda.empty_cache()
        from accelerate import dispatch_model, infer_auto_device_map

        sharded = random_model(config, seed=0).to(dtype)
        sharded = dispatch_model(sharded, device_map=infer_auto_device_map(sharded))
        seconds, _ = best_of(1, {"sharded": lambda: nbc.measure(sharded, tokenizer, texts=texts, **common)})["sharded"]
        print(f"\n3. sharded over {torch.cuda.device_count()} GPUs: measure {seconds:.2f} s")


if __name__ == "__main__":
    main()
