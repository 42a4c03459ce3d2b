"""End a Python process while a background measurement runs, ``N`` times; print the children's exit codes.

Usage: ``python exit_while_measuring.py N explorer|job``. torch, transformers and the embedded MiniLM are loaded
once; each run is a forked child that starts measuring 40 texts in the background (through a
``CondensationExplorer`` or a bare ``MeasuringJob``), waits for the first text to be measured and ends its script
normally, so the interpreter finalises while the measuring thread is inside a forward pass. A child exits with 3
if the measurement was not running when it ended (the run proves nothing then).
"""

from __future__ import annotations

import json
import os
import sys
import time

import nb_condense as nbc
from nb_condense.explore.jobs import MeasuringJob
from nb_condense.measurement.models import load_model
from nb_condense.widgets import explorer as _explorer  # noqa: F401 - imported once, before forking


def child(kind: str, model: object, tokenizer: object) -> int:
    """Start measuring in the background, wait for the first text, and return (the script then ends)."""
    session = nbc.CondensationSession(model, tokenizer, dataset="builtin", n_texts=40, max_length=128,
                                      show_progress=False)
    seen: list[float] = []
    if kind == "explorer":
        explorer = nbc.CondensationExplorer(session)
        running = lambda: explorer.status == "measuring"  # noqa: E731
        explorer.observe(lambda change: seen.append(change["new"]), "_progress")
    else:
        job = MeasuringJob({"minilm": session}, on_progress=seen.append, progress_every_s=0.0).start()
        running = lambda: job.running  # noqa: E731
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    return 0 if seen and running() and not session.measured else 3


if __name__ == "__main__":
    n, kind = int(sys.argv[1]), sys.argv[2]
    model, tokenizer = load_model("embedded")  # no forward pass before forking
    codes = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:  # the child ends like a script: its interpreter finalises with the thread still measuring
            sys.exit(child(kind, model, tokenizer))
        codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    print(json.dumps(codes))
