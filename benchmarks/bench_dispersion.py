"""Dispersion loss cost: peak memory of one loss call, and training-step time with / without the penalty.

Run:  python benchmarks/bench_dispersion.py [--steps 4] [--batch 2] [--skip-step-time]

1. Peak memory (target: l2_repel / cdist baseline <= 2). Forward + backward of one loss call on hidden states
   [2, 256, 768] (float32, requires_grad), each configuration in a fresh Python process:
   - ``l2_repel`` and ``perplexity_entropy``: ``DispersionLoss(variant, max_tokens=None)``;
   - ``cdist baseline``: only ``torch.cdist(z, z) ** 2`` and a log-sum-exp over all pairs, the least any
     pairwise-distance loss can do.
   Measured: the process's peak resident memory (VmHWM) minus its resident memory just before the call, after
   resetting the peak by writing "5" to /proc/self/clear_refs. glibc's mmap threshold is pinned to 64 KiB
   (MALLOC_MMAP_THRESHOLD_) so freed tensors go back to the system and resident memory follows live tensors.
   A warm-up call on a small input loads the kernels first. Also printed: the largest tensor any operation
   created during the call (counted with a TorchDispatchMode), next to the [B, T, T, F] difference tensor a
   broadcast ``z_i - z_j`` needs.
2. Step time (target: with / without <= 1.25). GPT-2-small-sized random model, batch x 512 tokens. Both arms
   run the same forward (with output_hidden_states=True, as DispersionTrainer does), backward and AdamW step
   on the same batch; the penalty arm adds dispersion_penalty(loc="all", max_tokens=256, angular_spread).
   Timings: best of --repeats interleaved runs, after a warm-up step each. On a shared machine other load
   moves this ratio; rerun when the load average exceeds the core count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import nb_condense as nbc

SHAPE = (2, 256, 768)
MEMORY_CONFIGS = ("cdist baseline", "l2_repel", "perplexity_entropy")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line; peak memory needs Linux.")


class _LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an operation returns."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        sizes = [leaf.numel() for leaf in tree_leaves(out) if isinstance(leaf, torch.Tensor)]
        self.largest = max([self.largest, *sizes])
        return out


def _loss_call(config: str, z: torch.Tensor) -> None:
    if config == "cdist baseline":
        squared = torch.cdist(z, z) ** 2
        loss = torch.logsumexp(-squared.flatten(1), dim=1).mean()
    else:
        loss = nbc.DispersionLoss(config, max_tokens=None)(z)
    loss.backward()


def _memory_child(config: str) -> None:
    """Runs in a fresh process: prints JSON with the peak memory of one forward + backward."""
    generator = torch.Generator().manual_seed(0)
    _loss_call(config, torch.randn(2, 16, 32, generator=generator, requires_grad=True))  # warm-up
    z = torch.randn(*SHAPE, generator=generator, requires_grad=True)
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    _loss_call(config, z)
    peak = _status_kib("VmHWM") - before
    z.grad = None
    with _LargestTensor() as largest:
        _loss_call(config, z)
    print(json.dumps({"peak_mib": peak / 1024, "largest_tensor_mib": largest.largest * 4 / 2**20}))


def measure_memory() -> None:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    results = {}
    for config in MEMORY_CONFIGS:
        done = subprocess.run([sys.executable, __file__, "--memory-child", config], env=env, check=True,
                              capture_output=True, text=True)
        results[config] = json.loads(done.stdout.strip().splitlines()[-1])
    batch, tokens, features = SHAPE
    difference_mib = batch * tokens * tokens * features * 4 / 2**20
    print(f"Peak memory of one loss call, forward + backward, hidden states {list(SHAPE)} float32, "
          f"{torch.get_num_threads()} threads (fresh process each)")
    print(f"  {'configuration':<20} {'peak RSS growth':>16} {'largest tensor':>15}")
    for config, result in results.items():
        print(f"  {config:<20} {result['peak_mib']:>12.1f} MiB {result['largest_tensor_mib']:>11.1f} MiB")
    baseline = results["cdist baseline"]["peak_mib"]
    for config in ("l2_repel", "perplexity_entropy"):
        ratio = results[config]["peak_mib"] / baseline
        print(f"  ratio {config} / cdist baseline {ratio:.2f}   (target <= 2)")
    print(f"  (a [B, T, T, F] difference tensor alone would be {difference_mib:.0f} MiB)")


def measure_step_time(args: argparse.Namespace) -> None:
    from transformers import AutoConfig

    from nb_condense.measurement.models import random_model

    model = random_model(AutoConfig.for_model("gpt2"), seed=0, lm_head=True)  # 124M, 12 layers
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.tokens), generator=generator)
    mask = torch.ones_like(ids)
    loss_fn = nbc.DispersionLoss(max_tokens=256, generator=torch.Generator().manual_seed(0))

    def step(with_penalty: bool) -> None:
        out = model(input_ids=ids, attention_mask=mask, labels=ids, output_hidden_states=True)
        loss = out.loss
        if with_penalty:
            loss = loss + 0.1 * nbc.dispersion_penalty(out.hidden_states, mask, "all", loss_fn)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def run(with_penalty: bool) -> float:
        start = time.perf_counter()
        for _ in range(args.steps):
            step(with_penalty)
        return (time.perf_counter() - start) / args.steps

    step(False), step(True)  # warm-up
    best = {"without": float("inf"), "with": float("inf")}
    for _ in range(args.repeats):
        best["without"] = min(best["without"], run(False))
        best["with"] = min(best["with"], run(True))
    print(f"GPT-2-small-sized random model, batch {args.batch} x {args.tokens} tokens, "
          f"{torch.get_num_threads()} threads")
    print(f"  step without penalty {best['without']:.3f} s   with penalty {best['with']:.3f} s")
    print(f"  ratio with / without {best['with'] / best['without']:.3f}   (target <= 1.25)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-step-time", action="store_true", help="only the memory comparison")
    parser.add_argument("--memory-child", choices=MEMORY_CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    measure_memory()
    if not args.skip_step_time:
        measure_step_time(args)


if __name__ == "__main__":
    main()
