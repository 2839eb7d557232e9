#!/usr/bin/env bash
# GPU workers: replaces onnxruntime-node's CPU library with the CUDA build of the same version and
# fetches the CUDA runtime libraries it needs — all from PyPI wheels (onnxruntime-gpu ships
# libonnxruntime.so.<version> and the CUDA execution provider; NVIDIA's nvidia-* wheels ship the
# CUDA 13 runtime, cuBLAS, cuDNN, cuFFT, cuRAND), so nothing but the package registry is needed.
# The GPU build runs CPU sessions too. Needs an NVIDIA driver (libcuda.so.1) on the machine.
#   bash scripts/install-cuda.sh              # once, after scripts/setup.sh
#   source .cuda/env.sh                       # in the shell that starts the worker
#   node bin/ufg.mjs worker --task-queue gpu --device cuda
# Undo: bash scripts/install-cuda.sh --restore-cpu
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
DEST=${UFG_CUDA_DIR:-.cuda}
if [ "${1:-}" = "--restore-cpu" ]; then
  cp "$BIN/libonnxruntime.so.1.cpu" "$BIN/libonnxruntime.so.1"
  rm -f "$BIN/libonnxruntime_providers_cuda.so" "$BIN/libonnxruntime_providers_shared.so"
  echo "restored the CPU build of ONNX Runtime"
  exit 0
fi
ORT_VERSION=$(node -p "require('./node_modules/onnxruntime-node/package.json').version")
PY=${PYTHON:-python3}
mkdir -p "$DEST"
# The core library's symbol version must equal the node binding's (VERS_<version>): same release.
$PY -m pip install --quiet --no-deps --only-binary=:all: --target "$DEST/py" "onnxruntime-gpu==$ORT_VERSION"
$PY -m pip install --quiet --only-binary=:all: --target "$DEST/py" \
  "nvidia-cuda-runtime>=13,<14" "nvidia-cublas>=13,<14" "nvidia-cudnn-cu13>=9,<10" "nvidia-cufft>=12,<13" "nvidia-curand>=10,<11" "nvidia-cuda-nvrtc>=13,<14"
CAPI="$DEST/py/onnxruntime/capi"
[ -f "$BIN/libonnxruntime.so.1.cpu" ] || cp "$BIN/libonnxruntime.so.1" "$BIN/libonnxruntime.so.1.cpu"
cp "$CAPI/libonnxruntime.so.$ORT_VERSION" "$BIN/libonnxruntime.so.1"
cp "$CAPI/libonnxruntime_providers_cuda.so" "$CAPI/libonnxruntime_providers_shared.so" "$BIN/"
LIBS=$(cd "$DEST/py" && ls -d "$PWD"/nvidia/*/lib | paste -sd: -)
cat > "$DEST/env.sh" <<ENV
# CUDA libraries from the nvidia-* wheels, for ONNX Runtime's CUDA execution provider (made by scripts/install-cuda.sh).
export LD_LIBRARY_PATH="$LIBS\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
echo "ONNX Runtime $ORT_VERSION with CUDA installed into $BIN; run 'source $DEST/env.sh' before 'ufg worker --device cuda'"
