#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# onnxruntime's CUDA path on a lent GPU machine (docs/renderer.md, *The CUDA path, measured*).
#   tools/cuda_path.sh install ORT.tar.xz   onnxruntime-gpu, packed here by tools/ort_pack.py, in place of
#                                           the machine's CPU onnxruntime (beside its nvidia-* libraries)
#   tools/cuda_path.sh probe                does the CUDA provider start, without and with the project's preload
#   tools/cuda_path.sh bench OUTDIR         python -m bench.cuda_path, JSON in OUTDIR
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SP=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p /tmp/cuda_pp && ln -sfn "$ROOT" /tmp/cuda_pp/reenact
export PYTHONPATH=/tmp/cuda_pp
cd /tmp  # never run from the package's own folder (its modules would shadow others)
case "$1" in
install)
    rm -rf "$SP"/onnxruntime "$SP"/onnxruntime-*.dist-info "$SP"/onnxruntime_gpu-*.dist-info
    tar xJf "$ROOT/$2" -C "$SP" || exit 1
    python3 -c 'import onnxruntime as o; print("onnxruntime", o.__version__, o.get_available_providers())' ;;
probe)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
    python3 -c 'import onnxruntime as o; from reenact.session import PROBE_MODEL as m
s = o.InferenceSession(m, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
print("onnxruntime alone:", s.get_providers()[0])'
    python3 -c 'from reenact.session import probe_provider; print("as Reenact opens it:", probe_provider())' ;;
bench)
    PYTHONUNBUFFERED=1 python3 -m reenact.bench.cuda_path --json "$2/cuda_path.json" ;;
esac
