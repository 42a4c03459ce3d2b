"""A save that stops between writing its temporary file and renaming it, to be killed there (``kill -9``).

Usage: ``python paused_save.py checkpoint|result PATH N``. ``os.replace`` is wrapped so that its ``N``-th call
prints ``paused <temporary file>`` and sleeps. ``checkpoint``: a checkpointed measurement of 4 texts with a tiny
GPT-2 (one checkpoint per text); ``result``: ``CondensationResult.save(PATH)`` of such a measurement.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for conftest's tiny models

import nb_condense as nbc  # noqa: E402
from conftest import tiny_model  # noqa: E402
from nb_condense.measurement.models import load_tokenizer  # noqa: E402

TEXTS = [f"Text number {i}: tokens condense into a narrow cone as depth grows in small models." for i in range(4)]


def main(mode: str, path: str, pause_at: int) -> None:
    """Run the save, pausing at the ``pause_at``-th rename."""
    real_replace, calls = os.replace, [0]

    def paused(src: str, dst: str) -> None:
        calls[0] += 1
        if calls[0] == pause_at:
            print("paused", src, flush=True)
            time.sleep(600)
        real_replace(src, dst)

    os.replace = paused  # type: ignore[assignment]
    options = {"texts": TEXTS, "max_length": 32, "batch_size": 1, "show_progress": False}
    if mode == "checkpoint":
        nbc.measure(tiny_model("gpt2"), load_tokenizer("embedded"), checkpoint=path, checkpoint_every=1, **options)
    else:
        nbc.measure(tiny_model("gpt2"), load_tokenizer("embedded"), **options).save(path)
    print("finished without pausing", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
