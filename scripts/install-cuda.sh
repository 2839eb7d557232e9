#!/usr/bin/env bash
# GPU workers: replaces onnxruntime-node's CPU library with the CUDA build of the same version and
# finds the CUDA runtime libraries it needs — all from PyPI wheels (onnxruntime-gpu ships
# libonnxruntime.so.<version> and the CUDA execution provider; NVIDIA's nvidia-* wheels ship the
# CUDA 13 runtime, cuBLAS, cuDNN, cuFFT, cuRAND), so nothing but the package registry is needed.
# The GPU build runs CPU sessions too. Needs an NVIDIA driver (libcuda.so.1) on the machine.
#   bash scripts/install-cuda.sh              # once, after scripts/setup.sh
#   source .cuda/env.sh                       # in the shell that starts the worker
#   node bin/ufg.mjs worker --task-queue gpu --device cuda
# Offline or half-offline machines:
#   UFG_ORT_GPU_WHEEL=/path/onnxruntime_gpu-<version>-….whl   the wheel, fetched elsewhere with
#       `pip download --no-deps onnxruntime-gpu==<version>` (its version must be onnxruntime-node's)
#   CUDA libraries already installed in the Python environment (PyTorch's CUDA 13 wheels put the
#   nvidia-* packages there) are used as they are, nothing is fetched for them;
#   UFG_CUDA_FROM_PIP=1 fetches them into .cuda/py regardless.
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
# Only the wheel's C libraries are used, so any Python's wheel of that release will do.
WHEEL=${UFG_ORT_GPU_WHEEL:-}
if [ -z "$WHEEL" ]; then
  rm -rf "$DEST/wheels"
  $PY -m pip download --quiet --no-deps --only-binary=:all: --dest "$DEST/wheels" "onnxruntime-gpu==$ORT_VERSION"
  WHEEL=$(ls "$DEST"/wheels/onnxruntime_gpu-*.whl | head -1)
fi
case "$(basename "$WHEEL")" in
  onnxruntime_gpu-"$ORT_VERSION"-*.whl) ;;
  *) echo "$WHEEL is not an onnxruntime-gpu $ORT_VERSION wheel (onnxruntime-node is $ORT_VERSION)" >&2; exit 1 ;;
esac
CAPI="$DEST/ort"
$PY - "$WHEEL" "$CAPI" "$ORT_VERSION" <<'PY'
import os, sys, zipfile
wheel, dest, version = sys.argv[1:]
want = [f"libonnxruntime.so.{version}", "libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in want:
        with z.open(f"onnxruntime/capi/{name}") as src, open(os.path.join(dest, name), "wb") as out:
            while chunk := src.read(1 << 24):
                out.write(chunk)
PY

# The sonames the CUDA provider links against (readelf -d): every one must be found.
NEEDED="libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10"
# Library folders of the nvidia-* packages under a site-packages style root.
lib_dirs() { { ls -d "$1"/nvidia/*/lib "$1"/nvidia/*/*/lib 2>/dev/null || true; } | paste -sd: -; }
has_needed() {
  local dirs=$1 so d found
  for so in $NEEDED; do
    found=""
    for d in ${dirs//:/ }; do [ -e "$d/$so" ] && found=1; done
    [ -n "$found" ] || return 1
  done
}
LIBS=""
if [ -z "${UFG_CUDA_FROM_PIP:-}" ]; then
  SITE=$($PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)
  INSTALLED=$([ -n "$SITE" ] && lib_dirs "$SITE" || true)
  if [ -n "$INSTALLED" ] && has_needed "$INSTALLED"; then
    LIBS=$INSTALLED
    echo "using the CUDA libraries installed in $SITE/nvidia"
  fi
fi
if [ -z "$LIBS" ]; then
  $PY -m pip install --quiet --only-binary=:all: --target "$DEST/py" \
    "nvidia-cuda-runtime>=13,<14" "nvidia-cublas>=13,<14" "nvidia-cudnn-cu13>=9,<10" "nvidia-cufft>=12,<13" "nvidia-curand>=10,<11" "nvidia-cuda-nvrtc>=13,<14"
  LIBS=$(cd "$DEST/py" && lib_dirs "$PWD")
  has_needed "$LIBS" || { echo "the nvidia-* wheels in $DEST/py lack one of: $NEEDED" >&2; exit 1; }
fi

[ -f "$BIN/libonnxruntime.so.1.cpu" ] || cp "$BIN/libonnxruntime.so.1" "$BIN/libonnxruntime.so.1.cpu"
cp "$CAPI/libonnxruntime.so.$ORT_VERSION" "$BIN/libonnxruntime.so.1"
cp "$CAPI/libonnxruntime_providers_cuda.so" "$CAPI/libonnxruntime_providers_shared.so" "$BIN/"
cat > "$DEST/env.sh" <<ENV
# CUDA libraries from the nvidia-* wheels, for ONNX Runtime's CUDA execution provider (made by scripts/install-cuda.sh).
export LD_LIBRARY_PATH="$LIBS\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
# cuBLAS may otherwise round f32 products' operands to TF32 (10-bit mantissa) on Ampere and later,
# which moves correlations and scores by ~1e-3 against the CPU's; unset it to trade that for speed.
export NVIDIA_TF32_OVERRIDE=0
ENV
echo "ONNX Runtime $ORT_VERSION with CUDA installed into $BIN; run 'source $DEST/env.sh' before 'ufg worker --device cuda'"
