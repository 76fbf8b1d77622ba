# SPDX-License-Identifier: GPL-3.0-or-later
"""Environment report for ``reenact doctor`` and the Runtime panel (no bpy import here)."""

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _onnxruntime_version():
    for dist in ("onnxruntime-gpu", "onnxruntime"):
        v = _version(dist)
        if v:
            return "{} ({})".format(v, dist)
    try:
        import onnxruntime

        return onnxruntime.__version__
    except ImportError:
        return None


def blender_version():
    """Blender's version if bpy is loaded or importable (checked in a subprocess: importing
    bpy is slow and changes process state)."""
    bpy = sys.modules.get("bpy")
    if bpy is not None:
        return bpy.app.version_string
    if importlib.util.find_spec("bpy") is None:
        return None
    try:
        out = subprocess.run(
            [sys.executable, "-c", "import bpy; print(bpy.app.version_string)"],
            capture_output=True, text=True, timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[-1] if out.returncode == 0 and lines else None


def runtime_report(prefer_gpu=True):
    """Versions, the providers onnxruntime lists, and the provider a real session uses."""
    report = {
        "python": platform.python_version(),
        "numpy": None,
        "opencv": None,
        "onnxruntime": _onnxruntime_version(),
        "available_providers": [],
        "provider": None,
        "cuda_reason": None,  # why the provider in use is not CUDA (before 2026-12-06 not said)
        "error": None,
    }
    try:
        import numpy

        report["numpy"] = numpy.__version__
    except ImportError:
        report["error"] = "numpy is not installed"
    try:
        import cv2

        report["opencv"] = cv2.__version__
    except ImportError:
        report["error"] = report["error"] or "OpenCV (opencv-python-headless) is not installed"
    try:
        import onnxruntime

        report["available_providers"] = list(onnxruntime.get_available_providers())
    except ImportError:
        report["error"] = report["error"] or "onnxruntime is not installed"
        return report
    try:
        from .session import probe_provider

        report["provider"] = probe_provider(prefer_gpu=prefer_gpu)
    except Exception as exc:  # a broken install must still produce a report
        report["error"] = report["error"] or "onnxruntime session failed: {}".format(exc)
    report["cuda_reason"] = _cuda_reason(report, prefer_gpu)
    return report


def _cuda_reason(report, prefer_gpu):
    """Why onnxruntime does not run on CUDA here, in one line (None when it does)."""
    from .session import CUDA, cuda_reason

    if report["provider"] == CUDA:
        return None
    if not prefer_gpu:
        return "not tried (--cpu; Blender: the preference Use GPU when available is off)"
    if os.environ.get("REENACT_DEVICE", "").strip().lower() == "cpu":
        return "not tried (REENACT_DEVICE=cpu in the environment)"
    if CUDA not in report["available_providers"]:
        return ("the installed onnxruntime ({}) has no CUDA provider: a CPU build (onnxruntime-gpu has one)".format(
            report["onnxruntime"]))
    return cuda_reason() or report["error"] or "onnxruntime fell back to the CPU without saying why"


def media_report():
    """What the footage readers and writers can do here: OpenEXR plates (OpenCV's codec, which
    Reenact turns on: video/bitdepth.py), ProRes and H.264 encoders (PyAV's FFmpeg)."""
    info = {"openexr": False, "prores": False, "h264": False, "pyav": _version("av")}
    try:
        import cv2
        import numpy as np

        from .video.bitdepth import enable_exr

        enable_exr()
        ok, buf = cv2.imencode(".exr", np.zeros((2, 2, 3), np.float32))
        info["openexr"] = bool(ok) and cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) is not None
    except Exception:  # turned off (OPENCV_IO_ENABLE_OPENEXR=0) or a build without it
        pass
    try:
        import av

        for key, name in (("prores", "prores_ks"), ("h264", "libx264")):
            try:
                av.codec.Codec(name, "w")
                info[key] = True
            except Exception:
                pass
    except ImportError:
        pass
    return info


def torch_report():
    """Torch presence and CUDA usability (imports torch: only for the doctor, never at render time)."""
    info = {"torch": _version("torch"), "torch_cuda": None}
    if info["torch"] is None:
        return info
    try:
        import torch

        info["torch_cuda"] = bool(torch.cuda.is_available())
        if info["torch_cuda"]:
            info["torch_cuda_device"] = torch.cuda.get_device_name(0)
    except Exception as exc:
        info["torch_cuda"] = False
        info["torch_error"] = str(exc)
    return info


def full_report(prefer_gpu=True):
    report = runtime_report(prefer_gpu=prefer_gpu)
    report["blender"] = blender_version()
    report.update(media_report())
    report.update(torch_report())
    report["nvidia_smi"] = shutil.which("nvidia-smi") is not None
    report["cuda_usable"] = bool(
        report["provider"] == "CUDAExecutionProvider" or report.get("torch_cuda")
    )
    report["platform"] = platform.platform()
    report["cpu_count"] = os.cpu_count()
    return report


def format_report(report):
    def show(v):
        return "not found" if v is None else v

    rows = [
        ("Python", report["python"]),
        ("Platform", report.get("platform")),
        ("CPU cores", report.get("cpu_count")),
        ("Blender (bpy)", show(report.get("blender"))),
        ("numpy", show(report["numpy"])),
        ("OpenCV", show(report["opencv"])),
        ("onnxruntime", show(report["onnxruntime"])),
        ("PyAV", show(report.get("pyav"))),
        ("encoders", ", ".join(label for key, label in (("h264", "H.264"), ("prores", "ProRes"))
                               if report.get(key)) or "none"),
        ("OpenEXR plates", "yes" if report.get("openexr") else "no"),
        ("providers available", ", ".join(report["available_providers"]) or "none"),
        ("provider in use", show(report["provider"])),
        ("CUDA not used", report.get("cuda_reason")),
        ("torch", show(report.get("torch")) if "torch" in report else "not checked"),
        ("torch CUDA", show(report.get("torch_cuda"))),
        ("CUDA GPU usable", "yes" if report.get("cuda_usable") else "no"),
    ]
    rows = [(k, v) for k, v in rows if k != "CUDA not used" or v]
    width = max(len(k) for k, _ in rows)
    lines = ["{:<{w}}  {}".format(k, v, w=width) for k, v in rows]
    if report.get("error"):
        lines.append("error: " + report["error"])
    return "\n".join(lines)
