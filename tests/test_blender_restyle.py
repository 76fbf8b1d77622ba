# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle Strip in Blender (PyPI bpy module, 5.0): a trained restyle model applied to the
active strip adds one result strip above it, frame for frame, replaced in place when run again;
a file that is not a restyle model is one line and adds nothing."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_restyle_check.py")


def test_restyle_strip_adds_one_result_strip(tmp_path):
    pytest.importorskip("torch")
    import cv2

    from reenact.render.renderer import BASE_MODEL
    from reenact.restyle.train import train
    from reenact.video import VideoWriter
    from test_restyle import moving_clip, tiny_cfg

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=2, resume=False)
    clip = str(tmp_path / "shot.mp4")
    frames = moving_clip(T=12, S=64, seed=3)
    with VideoWriter(clip, 24, (64, 64)) as w:
        for f in frames:
            w.write(f)
    cfg = {"clip": clip, "model": model, "bad_model": BASE_MODEL, "out": str(tmp_path)}
    res = subprocess.run([sys.executable, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["bad"] is not None and r["bad"]["lines"] == 1, r["bad"]
    assert "renderer_base.onnx" in r["bad"]["line"] and "not a restyle model" in r["bad"]["line"], r["bad"]
    assert r["after_bad"] == ["shot"]  # nothing added
    assert r["first"] == ["FINISHED"] and r["again"] == ["FINISHED"]
    assert r["remembered"].endswith("look.onnx")
    assert len(r["result"]) == 1 and r["after_first"] == r["after_again"], r
    got = r["result"][0]
    assert got["name"] == "shot Restyled look" and got["channel"] > r["original"]["channel"]
    assert got["start"] == 1 and got["length"] == r["original"]["length"] == 12
    pngs = sorted(n for n in os.listdir(got["folder"]) if n.endswith(".png"))
    assert len(pngs) == 12
    # the frames are exactly what `reenact restyle apply` makes of the shot (same model, same
    # watermark job id), and not the footage
    from reenact.restyle.apply import apply_clip

    ref = str(tmp_path / "cli")
    apply_clip(model, clip, ref, sign=False)
    for n in pngs:
        a = cv2.imread(os.path.join(got["folder"], n))
        b = cv2.imread(os.path.join(ref, n))
        assert a is not None and b is not None and np.array_equal(a, b), n
    out0 = cv2.imread(os.path.join(got["folder"], pngs[0]))[..., ::-1]
    assert out0.shape == (64, 64, 3) and float(np.abs(out0.astype(int) - frames[0].astype(int)).mean()) > 1.0
