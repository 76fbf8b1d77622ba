# SPDX-License-Identifier: GPL-3.0-or-later
"""The core imports and runs without Blender; the command line works."""

import json
import os
import subprocess
import sys

from conftest import ROOT, run_py

CORE_MODULES = [
    "reenact",
    "reenact.cli",
    "reenact.doctor",
    "reenact.progress",
    "reenact.sample",
    "reenact.video",
    "reenact.inference",
    "reenact.face",
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


def test_no_bpy_import_outside_glue():
    """Only the Blender glue imports bpy (DESIGN: layers and the rule between them)."""
    glue = {"__init__.py", "props.py", "blend.py", "demo.py"}
    glue_dirs = {"operators", "panels"}
    offenders = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        top = rel.split(os.sep)[0]
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("tests", "dist", "out", "build")]
        if top in glue_dirs:
            continue
        for fn in filenames:
            if not fn.endswith(".py") or (rel == "." and fn in glue):
                continue
            with open(os.path.join(dirpath, fn), encoding="utf-8") as fh:
                for line in fh:
                    s = line.strip()
                    if s.startswith("import bpy") or s.startswith("from bpy"):
                        offenders.append(os.path.join(rel, fn))
                        break
    assert offenders == []


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
    text = _reenact("doctor").stdout
    assert "provider in use" in text and report["provider"] in text


def test_unknown_command_fails_cleanly():
    res = _reenact("no-such-command")
    assert res.returncode != 0
    assert "invalid choice" in res.stderr
