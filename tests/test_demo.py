# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact demo` writes a real .blend with the sample clip in the sequencer."""

import json
import subprocess
import sys

import pytest

from conftest import run_py

pytestmark = pytest.mark.blender


def test_demo_writes_blend(tmp_path, carphone):
    out = tmp_path / "demo out"
    res = subprocess.run([sys.executable, "-m", "reenact", "demo", "--out", str(out)],
                         capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    blend = out / "demo.blend"
    assert blend.is_file() and summary["blend"] == str(blend)
    assert not list(out.glob("*.tmp*")), "temporary files left behind"
    # Reload in a fresh Blender and check the strip matches the clip frame for frame.
    code = (
        "import bpy, json, cv2\n"
        "bpy.ops.wm.open_mainfile(filepath={blend!r})\n"
        "sc = bpy.context.scene\n"
        "st = [s for s in sc.sequence_editor.strips_all if s.type == 'MOVIE']\n"
        "act = [o for o in bpy.data.objects if o.type == 'MESH' and 'Actor' in o.name]\n"
        "kb = act[0].data.shape_keys.key_blocks\n"
        "cap = cv2.VideoCapture(bpy.path.abspath(st[0].filepath))\n"
        "print(json.dumps(dict(n=len(st), dur=st[0].frame_final_duration, start=st[0].frame_final_start,\n"
        "  res=[sc.render.resolution_x, sc.render.resolution_y], fps=sc.render.fps / sc.render.fps_base,\n"
        "  cv_frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cv_fps=cap.get(cv2.CAP_PROP_FPS),\n"
        "  scene_range=[sc.frame_start, sc.frame_end], actors=len(act), keys=[k.name for k in kb][1:],\n"
        "  anim=act[0].data.shape_keys.animation_data.action is not None)))\n"
    ).format(blend=str(blend))
    res = run_py(code)
    assert res.returncode == 0, res.stderr[-2000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["n"] == 1
    assert info["dur"] == info["cv_frames"] == summary["frames"]
    assert info["res"] == [176, 144]
    assert abs(info["fps"] - info["cv_fps"]) < 1e-3
    assert info["scene_range"] == [info["start"], info["start"] + info["dur"] - 1]
    # the tracked actor is in the file, with its named expressions animated
    assert info["actors"] == 1 and "jawOpen" in info["keys"] and info["anim"]
    assert summary["tracked_fraction"] >= 0.99
    assert (out / "demo_track.npz").is_file()
