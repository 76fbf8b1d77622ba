# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the extension zip, install it into the PyPI bpy module with an isolated user folder,
enable it, check registration, disable it: on Blender 5.0 and on Blender 4.5 LTS."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_extension_check.py")


#: an untracked file left in the checkout while the zip is built (it must not go in)
PROBE = ".reenact-untracked-probe"


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    import shutil

    out = tmp_path_factory.mktemp("dist") / "reenact-test-linux_x64.zip"
    probe = os.path.join(ROOT, PROBE)
    os.makedirs(probe, exist_ok=True)
    with open(os.path.join(probe, "left.txt"), "w") as fh:
        fh.write("not Reenact's")
    try:
        res = subprocess.run(
            [sys.executable, os.path.join(ROOT, "tools", "build_extension.py"), "--output", str(out)],
            capture_output=True, text=True,
        )
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if "wheels missing" in res.stderr:
        pytest.fail("runtime wheels not downloaded: run `make wheels` (make test does)")
    assert res.returncode == 0, res.stdout + res.stderr
    return str(out)


def test_the_zip_holds_what_git_tracks_and_the_licence(extension_zip):
    """The zip is built from the files git tracks (and the manifest's wheels), with the GPL's text;
    before 2026-12-06 the packager took the checkout folder as it was, so a file left there
    untracked went in (a review found a 60 MB pack of another onnxruntime in an ignored
    dot-folder), and no licence text shipped. The fp16 renderers, which only CUDA runs, stay
    out: the zip's onnxruntime is the CPU build."""
    import zipfile

    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split("\n"))
    with zipfile.ZipFile(extension_zip) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
    assert "LICENSE" in names and not [n for n in names if PROBE in n or n.endswith(".fp16.onnx")], names
    assert all(n in tracked or n.startswith("wheels/") for n in names), [n for n in names if n not in tracked][:5]


def _python_for(version):
    if version == "5.0":
        return sys.executable
    py = os.path.join(ROOT, os.environ.get("REENACT_PY45") or os.path.join(".venv-bpy45", "bin", "python"))
    if not os.path.isfile(py):
        if os.environ.get("CI"):
            pytest.fail("Blender 4.5 environment missing: {} (make env45)".format(py))
        pytest.skip("Blender 4.5 environment not built (make env45)")
    return py


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_install_enable_disable(extension_zip, tmp_path, version, carphone):
    py = _python_for(version)
    user = tmp_path / "blender user"
    user.mkdir()
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user))
    # run from a neutral folder so the checkout is not importable as a side door
    res = subprocess.run([py, CHECK, extension_zip, carphone], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                         timeout=900)
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["blender"].startswith(version)
    assert "reenact.check_runtime" in result["operators"]
    assert result["base256"] == "renderer_base256.onnx"  # the default bundled renderer, weights included
    assert result["provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
    # the extension's runtime wheels were installed into the isolated user folder ...
    assert result["installed_wheels"] == ["av", "cv2", "onnxruntime"]
    if version == "4.5":
        # ... and, in the bare 4.5 environment (no onnxruntime of its own), they are what runs
        assert result["onnxruntime_file"].startswith(str(user)), result["onnxruntime_file"]
    assert result["disabled_clean"] and result["reenabled"]
    # and the installed extension tracks real footage with only its own wheels + Blender's numpy
    assert result["track"]["tracked_fraction"] >= 0.99 and result["track"]["shape_keys"] >= 24
