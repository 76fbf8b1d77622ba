# SPDX-License-Identifier: GPL-3.0-or-later
"""Track Actor in the PyPI bpy module on real footage (carphone)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender


def test_track_actor_operator(tmp_path, carphone):
    import cv2

    from reenact.video import open_video

    seq = tmp_path / "image seq"
    seq.mkdir()
    with open_video(carphone) as src:  # (a cut before its 13th image: a closer, warmer shot, which
        # dissolves back to the first framing over its 17th-22nd images)
        for i, f in src.iter_frames(0, 24):
            if i >= 12:
                h, w = f.shape[:2]
                near = cv2.resize(f[h // 8:h // 8 + h * 3 // 4, w // 8:w // 8 + w * 3 // 4], (w, h))
                near = np.clip(near.astype(np.float32) * (1.15, 1.0, 0.8), 0, 255)
                t = min(1.0, max(0.0, (i - 15) / 7.0))  # 0 to image 15, 1 from image 22
                f = np.clip((1.0 - t) * near + t * f.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
            cv2.imwrite(str(seq / "img_{:03d}.png".format(i)), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    blend_path = tmp_path / "shot ü.blend"
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "blender_track_check.py"), carphone,
                          str(blend_path), str(seq)], capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    # the trimmed strip: only the visible frames are tracked, starting at clip frame 5
    assert r["frame_start"] == 5 and r["track_frames"] == 120 - 5
    assert r["tracked_fraction"] >= 0.99
    assert len(r["shape_keys"]) >= 24 and "jawOpen" in r["shape_keys"] and "eyeBlinkLeft" in r["shape_keys"]
    assert r["basis_err"] < 1e-6
    assert r["expr_key_err"] == 0.0  # float32 keys hold the Track's values exactly (rounded once)
    assert r["pose_key_err"] < 1e-5 and r["gaze_key_err"] < 1e-6
    assert abs(r["eval_jaw"] - r["track_jaw"]) < 1e-5
    assert abs(r["camera_lens"] - r["focal_px"] * 36.0 / 176) < 1e-3
    assert r["bg_source"] == "MOVIE_CLIP"
    # every panel draws headless with real property and operator names, and offers the core buttons
    assert {"reenact.track_strip", "reenact.train_renderer", "reenact.render_performance",
            "reenact.transfer_performance"} <= set(r["panel_operators"]), r["panel_operators"]
    assert r["actors_after_retrack"] == 1 and r["actions_stable"] and r["meshes_stable"]
    assert r["reload_keys"] == round(r["tracked_fraction"] * r["track_frames"])
    assert r["reload_shape_keys"] == len(r["shape_keys"])
    sq = r["sequence"]
    assert sq["files"] == 24 and sq["n"] == 24 and sq["frames"] == [200.0, 223.0]
    assert sq["bg_source"] == "IMAGE" and sq["other_actors"] == 2
    # the cut found, and said in the timeline's frames
    assert "2 shots (cuts before frames 212)" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
    assert "dissolves over frames 216-221" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
