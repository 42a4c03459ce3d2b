"""Training-step time with the dispersion penalty / without, GPT-2-small-sized random model, 512 tokens.

Run:  python benchmarks/bench_dispersion.py [--steps 4] [--batch 2]    (target: ratio <= 1.25)

Both arms run the same forward (with output_hidden_states=True, as DispersionTrainer does), backward and AdamW
step on the same batch; the penalty arm adds dispersion_penalty(loc="all", max_tokens=256, angular_spread).
Timings: best of --repeats interleaved runs, after a warm-up step each.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import AutoConfig

import nb_condense as nbc
from nb_condense.models import random_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

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
    print(f"GPT-2-small-sized random model, batch {args.batch} x {args.tokens} tokens, {torch.get_num_threads()} threads")
    print(f"  step without penalty {best['without']:.3f} s   with penalty {best['with']:.3f} s")
    print(f"  ratio with / without {best['with'] / best['without']:.3f}   (target <= 1.25)")


if __name__ == "__main__":
    main()
