# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact doctor` says why onnxruntime runs on the CPU. Before 2026-12-06 it listed
"TensorrtExecutionProvider, CUDAExecutionProvider" as available, then "provider in use
CPUExecutionProvider" and "CUDA GPU usable no" and no reason (session.py detected the fallback
and swallowed why); now a "CUDA not used" line and `--json`'s `cuda_reason` say it: the library
onnxruntime-gpu could not load (libcublasLt.so.13 is missing), no GPU device, a CPU build of
onnxruntime, or --cpu."""

import json
import subprocess
import sys

import onnxruntime


def _doctor(*args):
    res = subprocess.run([sys.executable, "-m", "reenact", "doctor", *args], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_doctor_says_why_cuda_is_not_used():
    report = json.loads(_doctor("--json").strip().splitlines()[-1])
    assert "cuda_reason" in report
    if report["provider"] == "CUDAExecutionProvider":  # (a machine where CUDA runs: nothing to explain)
        assert report["cuda_reason"] is None
        return
    reason = report["cuda_reason"]
    assert reason and "without saying why" not in reason, reason
    if "CUDAExecutionProvider" in report["available_providers"]:  # onnxruntime-gpu that fell back (this machine)
        assert "missing" in reason or "no NVIDIA GPU" in reason or "CUDA session failed" in reason, reason
    else:
        assert "has no CUDA provider" in reason, reason
    text = _doctor()
    assert "CUDA not used" in text and reason in text, text


def test_a_cpu_build_and_cpu_choices_are_named(monkeypatch):
    from reenact import doctor, session

    session.clear_cache()
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    try:
        r = doctor.runtime_report(prefer_gpu=True)
        assert r["provider"] == "CPUExecutionProvider"
        assert "has no CUDA provider: a CPU build" in r["cuda_reason"], r["cuda_reason"]
        assert "not tried (--cpu" in doctor.runtime_report(prefer_gpu=False)["cuda_reason"]
        monkeypatch.setenv("REENACT_DEVICE", "cpu")
        assert "REENACT_DEVICE=cpu" in doctor.runtime_report(prefer_gpu=True)["cuda_reason"]
        assert "CUDA not used        not tried (REENACT_DEVICE" in doctor.format_report(doctor.runtime_report())
    finally:
        session.clear_cache()
