#!/usr/bin/env bash
# One prepared check of the CUDA path on a GPU machine (see benchmarks/gpu_check.py); under 10 minutes on one GPU.
# Uses .venv when present, else the machine's python3 (which must have torch with CUDA; the GPU machine reaches no registry).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' || { echo "gpu_check: no torch here"; exit 1; }
"$PY" -c 'import papermill, nbformat' 2>/dev/null || echo "gpu_check: papermill is missing (not needed by these checks)"
MPLBACKEND=Agg PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout 560 "$PY" benchmarks/gpu_check.py "$@"
