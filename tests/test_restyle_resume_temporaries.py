# SPDX-License-Identifier: GPL-3.0-or-later
"""The temporaries a restyle training killed outright (kill -9, a power cut) left while writing
its checkpoint, model or preview are removed by the next run, one line each, as the renderer's
training does. Tiny: size 32, base 8, one step."""

import os
import time

import pytest

from test_restyle import moving_clip, tiny_cfg


def test_a_runs_stale_temporaries_are_removed(tmp_path):
    """Before 2026-12-06 ``.m.ckpt.pt.<hex>.tmp`` (the size of a checkpoint) and ``.m.onnx.<hex>.tmp``
    stayed for good. A temporary younger than a minute (a live writer's) and another file's stay."""
    pytest.importorskip("torch").set_num_threads(1)
    from reenact.restyle.train import train

    stale = [".m.ckpt.pt.0123abcd.tmp", ".m.onnx.89abcdef.tmp", ".m_preview.png.00ff00ff.tmp"]
    kept = [".m.onnx.deadbeef.tmp", ".other.onnx.01234567.tmp"]
    old = time.time() - 3600
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"half a file")
        if name != ".m.onnx.deadbeef.tmp":
            os.utime(tmp_path / name, (old, old))
    logs = []
    train([moving_clip(seed=1)], [moving_clip(seed=2)], str(tmp_path / "m.onnx"), tiny_cfg(), steps=1, resume=False,
          preview=str(tmp_path / "m_preview.png"), log=logs.append)
    left = sorted(f for f in os.listdir(tmp_path) if f.endswith(".tmp"))
    assert left == sorted(kept), left
    for name, of in zip(stale, ("m.ckpt.pt", "m.onnx", "m_preview.png")):
        assert "removed {}: a temporary file left by a run killed while writing {}".format(name, of) in logs, logs
