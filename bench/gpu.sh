#!/usr/bin/env bash
# The pairing and paper-scale sweep benchmarks on a GPU worker: every ratio they print is against
# the same device's own ONNX Runtime GEMM, measured in the same run. Needs scripts/install-cuda.sh.
# Sizes: the benches' own env variables (UFG_BENCH_PAIR_*, UFG_BENCH_SWEEP_*). Arguments: which
# benches (default: pairing sweep).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .cuda/env.sh ] || bash scripts/install-cuda.sh
# shellcheck disable=SC1091
source .cuda/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
export UFG_DEVICE=cuda
[ $# -gt 0 ] || set -- pairing sweep
node --import tsx bench/run.ts "$@"
