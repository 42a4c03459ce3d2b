#!/usr/bin/env bash
# One short GPU check (see gpu_check.py): GPT-2-xl-sized random model in bf16, 100 texts x 1024 tokens;
# measure / bare forward and drop-in / reference. Pass --small to smoke-test it on a CPU.
# The reference (embedding-condensation 2.0) is installed from .whl/ when it is missing there (a machine without
# internet): `pip download --no-deps embedding-condensation==2.0 -d .whl` beforehand, and carry .whl along.
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no NVIDIA GPU visible"
if ! python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('embedding_condensation') is None)"; then
    if ls .whl/embedding_condensation-2.0*.whl >/dev/null 2>&1; then
        python -m pip install --quiet --no-deps --no-index --find-links .whl embedding-condensation==2.0
    else
        echo "embedding-condensation 2.0 not installed and no wheel in .whl/: drop-in / reference will be skipped"
    fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHONUNBUFFERED=1 python benchmarks/gpu_check.py "$@"
