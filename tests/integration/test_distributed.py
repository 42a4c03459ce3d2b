"""Multi-process measurement: 2 CPU processes (gloo) give rank 0 the same result as one process."""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import nb_condense as nbc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup():
    from nb_condense.measurement.models import load_tokenizer
    from nb_condense.training import tiny_gpt2

    texts = nbc.sample_texts("builtin", 7, min_word_count=30, max_word_count=60)
    model = tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=30522, n_positions=64)
    return model, load_tokenizer("embedded"), texts


def worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), HF_HUB_OFFLINE="1")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        model, tokenizer, texts = setup()
        result = nbc.measure(model, tokenizer, texts=texts, max_length=48, batch_size=1, show_progress=False)
        result.metadata.pop("created")
        result.save(f"{out}/rank{rank}.npz")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    model, tokenizer, texts = setup()
    single = nbc.measure(model, tokenizer, texts=texts, max_length=48, batch_size=1, show_progress=False)
    for rank in (0, 1):
        gathered = nbc.CondensationResult.load(tmp_path / f"rank{rank}.npz")
        assert np.array_equal(gathered.histograms, single.histograms)
        pd.testing.assert_frame_equal(gathered.stats, single.stats)
        assert gathered.texts == single.texts


@pytest.mark.slow
def test_trainer_and_callback_under_two_processes(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "scripts" / "train_two_processes.py"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(free_port()), str(script), str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    main = json.loads((tmp_path / "rank0.json").read_text())
    other = json.loads((tmp_path / "rank1.json").read_text())
    assert main["world"] == 2 and other["world"] == 2
    logged = [row for row in main["log_history"] if "ce_loss" in row]
    assert [row["step"] for row in logged] == [1, 2, 3, 4]  # once per step
    assert main["callback_steps"] == [0, 2, 4] and other["callback_steps"] == []  # measured on rank 0 only
