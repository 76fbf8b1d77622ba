# SPDX-License-Identifier: GPL-3.0-or-later
"""The core imports and runs without Blender; the command line works."""

import json
import subprocess
import sys

from conftest import printed, run_py

CORE_MODULES = [
    "reenact",
    "reenact.cli",
    "reenact.doctor",
    "reenact.progress",
    "reenact.sample",
    "reenact.video",
    "reenact.tracking",
    "reenact.tracking.tracker",
    "reenact.face",
    "reenact.face.fit",
    "reenact.render",
    "reenact.render.pipeline",
]


def test_core_imports_without_bpy():
    # A meta-path entry that makes `import bpy` fail proves no core module needs Blender.
    code = (
        "import sys\n"
        "sys.modules['bpy'] = None\n"
        "import importlib\n"
        "for m in {mods!r}: importlib.import_module(m)\n"
        "print('ok')\n"
    ).format(mods=CORE_MODULES)
    res = run_py(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def _reenact(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "reenact", *args], capture_output=True, text=True, timeout=kw.get("timeout", 600)
    )


def test_help_lists_subcommands():
    res = _reenact("--help")
    assert res.returncode == 0
    for name in ("doctor", "demo"):
        assert name in res.stdout


def test_doctor_reports_provider_in_use():
    res = _reenact("doctor", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["provider"] in report["available_providers"]
    assert report["provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
    assert report["numpy"] == "1.26.4"
    assert report["python"].startswith("3.11")
    assert report["openexr"] and report["prores"] and report["h264"]  # plates and deliveries (pinned wheels)
    text = _reenact("doctor").stdout
    assert "provider in use" in text and report["provider"] in text
    assert "OpenEXR plates       yes" in text and "H.264, ProRes" in text


def test_cuda_libraries_are_looked_for_once_and_silently():
    """Before the first CUDA session the CUDA and cuDNN libraries that pip installs beside
    onnxruntime-gpu are loaded (onnxruntime's ``preload_dlls``: the provider finds them on the
    system's library path only, and falls back to the CPU); on a machine without them that
    prints "Failed to load libcublasLt.so.13 ..." on stdout, which would break ``--json``
    output. Before 2026-12-06 they were not looked for (CUDA only where the system had them)."""
    code = (
        "import contextlib, io, onnxruntime as ort\n"
        "from reenact import session\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    s = session.create_session(session.PROBE_MODEL, prefer_gpu=True)\n"
        "    session.create_session(session.model_path('iris_landmark.onnx'), prefer_gpu=True)\n"
        "cuda = session.CUDA in ort.get_available_providers()\n"
        "print('RESULT', repr(out.getvalue()), cuda, session._preloaded, session.session_provider(s))\n"
    )
    line = printed(code, "RESULT")
    out, cuda, preloaded, provider = line.split(" ", 1)[1].rsplit(" ", 3)
    assert out == "''"  # nothing on stdout, whatever the machine has
    assert preloaded == cuda  # looked for where onnxruntime has a CUDA provider (onnxruntime-gpu), else not
    assert provider in ("CPUExecutionProvider", "CUDAExecutionProvider")


def test_unknown_command_fails_cleanly():
    res = _reenact("no-such-command")
    assert res.returncode != 0
    assert "invalid choice" in res.stderr
