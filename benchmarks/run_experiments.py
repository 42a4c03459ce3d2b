"""Laptop-scale experiments of the training lab (findings, not targets): prints the tables.

Run:  python benchmarks/run_experiments.py [--steps 300]

1. Finding 2: GPT-2-like models that differ only in MLP width, at initialisation and after training.
2. The dispersion loss: the same model trained with and without it (coeff 0.1 and 1.0, angular_spread, all layers).
3. Finding 4: a narrow student trained from scratch vs distilled from a wide teacher.
Measured on held-out builtin texts; rho / tau of layer means vs depth, last-layer mean cosine, perplexity.
"""

from __future__ import annotations

import argparse

import pandas as pd

from nb_condense.training import controlled_width_experiment, distillation_experiment

pd.set_option("display.width", 160)
pd.set_option("display.float_format", lambda v: f"{v:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--widths", default="16,64,256,1024")
    args = parser.parse_args()
    widths = tuple(int(w) for w in args.widths.split(","))

    table, _ = controlled_width_experiment(widths, steps=args.steps)
    print(f"1. Controlled MLP width (4 layers, 64 wide, {args.steps} steps, builtin corpus)")
    print(table.to_string(index=False))

    rows = []
    for coeff in (0.0, 0.1, 1.0):
        result, _ = controlled_width_experiment((256,), steps=args.steps, dispersion_coeff=coeff)
        rows.append(result.assign(dispersion_coeff=coeff).query("stage == 'trained'"))
    print(f"\n2. With / without the dispersion loss (n_inner 256, {args.steps} steps)")
    print(pd.concat(rows, ignore_index=True).to_string(index=False))

    print("\n3. Logit distillation from a wide teacher (n_inner 1024) into a narrow student (n_inner 32), "
          f"{args.steps} steps")
    print(distillation_experiment(steps=args.steps).to_string(index=False))


if __name__ == "__main__":
    main()
