"""GPU check: measure() on a GPT-2-xl-sized random model in bf16 vs bare forward passes; tokens/s; peak memory.

Run on a GPU machine:  bash benchmarks/gpu_check.sh          (100 texts x 1024 tokens, < 5 min on an H100/H200)
Smoke-test anywhere:   python benchmarks/gpu_check.py --small  (tiny model, 8 texts x 64 tokens, CPU is fine)

With several GPUs the model is also loaded with device_map="auto" (sharded across them) and measured again.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoConfig  # noqa: E402

import nb_condense as nbc  # noqa: E402
from nb_condense.extract import tokenize_texts  # noqa: E402
from nb_condense.models import load_tokenizer, random_model  # noqa: E402


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bare_forward(model, encodings, batch_size, device) -> None:  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        for start in range(0, len(encodings), batch_size):
            chunk = encodings[start : start + batch_size]
            ids = torch.nn.utils.rnn.pad_sequence([e["input_ids"] for e in chunk], batch_first=True).to(device)
            mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(e["input_ids"]) for e in chunk],
                                                   batch_first=True).to(device)
            model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)


def timed(function) -> float:  # type: ignore[no-untyped-def]
    sync()
    start = time.perf_counter()
    function()
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="tiny model and inputs (CPU smoke test)")
    parser.add_argument("--texts", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if args.small:
        args.texts, args.tokens = 8, 64
        config = AutoConfig.for_model("gpt2", n_layer=4, n_embd=64, n_head=4, n_positions=args.tokens)
    else:
        config = AutoConfig.for_model("gpt2", n_layer=48, n_embd=1600, n_head=25, n_positions=args.tokens)  # 1.5B
    tokenizer = load_tokenizer("embedded")
    model = random_model(config, seed=0).to(device=device, dtype=dtype)
    texts = nbc.sample_texts("builtin", args.texts, min_word_count=2 * args.tokens, max_word_count=3 * args.tokens)
    encodings = tokenize_texts(tokenizer, texts, args.tokens)
    n_tokens = sum(len(e["input_ids"]) for e in encodings)
    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), {dtype}, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, {args.texts} texts, {n_tokens} tokens")

    run = lambda: nbc.measure(model, tokenizer, texts=texts, max_length=args.tokens,  # noqa: E731
                              batch_size=args.batch_size, show_progress=False)
    bare_forward(model, encodings[: args.batch_size], args.batch_size, device)  # warm-up
    run()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    bare = timed(lambda: bare_forward(model, encodings, args.batch_size, device))
    bare_peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    ours = timed(run)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    print(f"bare forward {bare:.2f} s ({n_tokens / bare:,.0f} tokens/s), peak {bare_peak:.1f} GiB")
    print(f"measure      {ours:.2f} s ({n_tokens / ours:,.0f} tokens/s), peak {peak:.1f} GiB")
    print(f"measure / bare forward {ours / bare:.3f}")

    if torch.cuda.device_count() > 1:
        del model
        torch.cuda.empty_cache()
        from accelerate import dispatch_model, infer_auto_device_map

        sharded = random_model(config, seed=0).to(dtype)
        sharded = dispatch_model(sharded, device_map=infer_auto_device_map(sharded))
        sharded_time = timed(lambda: nbc.measure(sharded, tokenizer, texts=texts, max_length=args.tokens,
                                                 batch_size=args.batch_size, show_progress=False))
        print(f"sharded over {torch.cuda.device_count()} GPUs: measure {sharded_time:.2f} s")


if __name__ == "__main__":
    main()
