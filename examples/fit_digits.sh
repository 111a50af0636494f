#!/usr/bin/env bash
# Search PyTorch pipelines on scikit-learn's digits for validation error and latency, with a
# budget of three runs of the default configuration, then print the Pareto front.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
rm -rf runs/digits-demo
"$PYTHON" -m paretune fit --dataset digits \
    --objective error --objective latency_ms \
    --budget 3x --out runs/digits-demo "$@"
