#!/usr/bin/env bash
# Dev-time: makes `.venv-bench` (gitignored), a Python virtual environment with a current PyTorch
# 2.x (CPU build), for the benchmarks that compare the engine with it (bench/train_step.ts,
# bench/epoch.ts look for `.venv-bench/bin/python`, or the interpreter in RUL_TORCH2_PYTHON).
# Debian's PyTorch 1.13 (/usr/bin/python3, apt's python3-torch) stays the other reference.
# torchvision is not needed: tools/bench_torch_step.py defines torchvision's ResNet-18 layout
# itself, the same on both PyTorch versions. Safe to run again (an existing venv is kept and updated).
#   bash tools/setup_bench_venv.sh        # then: deno task bench:train-step
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
# The CPU build is what the comparison needs (no CUDA libraries): a torch 2.x "+cpu" wheel in
# /opt/wheels (or $RUL_TORCH_WHEEL) when there is one, else pip's own choice from its configured
# index. numpy only silences torch's warning at import.
wheel="${RUL_TORCH_WHEEL:-$(ls /opt/wheels/torch-2.*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)}"
"$venv/bin/python" -m pip install --retries 1 --upgrade "${wheel:-torch>=2}" numpy pillow
"$venv/bin/python" - <<'PY'
import torch
print(f"setup_bench_venv: torch {torch.__version__} ({torch.__config__.parallel_info().splitlines()[0]})")
PY
echo "setup_bench_venv: $venv/bin/python"
