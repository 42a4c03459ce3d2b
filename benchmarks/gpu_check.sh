#!/usr/bin/env bash
# One short GPU check (see gpu_check.py): GPT-2-xl-sized random model in bf16, 100 texts x 1024 tokens.
# Pass --small to smoke-test it on a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no NVIDIA GPU visible"
PYTHONUNBUFFERED=1 python benchmarks/gpu_check.py "$@"
