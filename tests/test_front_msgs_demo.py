# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact demo`'s output for a person. Before 2026-12-06 its first lines warned of the sample
clip's 9 % pixel squeeze "for a transfer between actors" with an ffmpeg command into
site-packages (the demo transfers the actor onto itself), it ended with one long JSON line and
nothing else, and `reenact demo --help` said nothing of what it does or writes. Now the demo's
Track Actor leaves the squeeze note out (elsewhere it is kept), a short summary goes to stderr
("reenact demo: wrote out/demo.blend, out/demo.mp4, ... open out/demo.blend in Blender 5.0 or
4.5"; the JSON stays the last stdout line) and --help names the files."""

import subprocess
import sys
from fractions import Fraction

import av
import pytest

from conftest import run_py


def test_demo_help_says_what_it_does_and_writes():
    res = subprocess.run([sys.executable, "-m", "reenact", "demo", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "sample clip" in text and "mouth" in text, text
    for name in ("demo.blend", "demo.mp4", "demo_side_by_side.png", "demo_track.npz"):
        assert name in text, (name, text)


CHECK = r"""
import json, os, sys
import bpy
import reenact
from reenact import cli
from reenact.blender import blend, demo
from reenact.video.probe import footage_warnings

clip = sys.argv[1]
assert footage_warnings(clip), "the clip has non-square pixels: the note is due elsewhere"
bpy.ops.wm.read_factory_settings(use_empty=True)
reenact.register()
scene = bpy.context.scene
strip = blend.add_movie_strip(scene, clip, channel=1, frame_start=1, name="sq")
scene.sequence_editor.active_strip = strip
import contextlib
from reenact.video import probe
with getattr(probe, "leaving_out", lambda *n: contextlib.nullcontext())("non_square"):  # (as the demo does)
    print("TRACKED", bpy.ops.reenact.track_strip(), flush=True)
assert footage_warnings(clip), "given again once it is done"
out = os.path.abspath("out")
summary = {"blend": os.path.join(out, "demo.blend"), "video": os.path.join(out, "demo.mp4"),
           "side_by_side": os.path.join(out, "demo_side_by_side.png"), "track": os.path.join(out, "demo_track.npz"),
           "seconds": 21.7, "edit": {"mode": "mouth", "offset": 40, "clip_frames": [40, 120]},
           "render_strip": {"name": "carphone Reenact Mouth", "channel": 2, "start": 1, "frames": 120}}
demo.run_demo = lambda out_dir: summary
print("RC", cli.main(["demo", "--out", "out"]), flush=True)
os._exit(0)
"""


@pytest.mark.blender
def test_demo_leaves_out_the_squeeze_note_and_says_what_it_wrote(tmp_path):
    pytest.importorskip("bpy")
    from reenact.sample import sample_clip
    from reenact.video import open_video

    with open_video(sample_clip()) as src:  # 12 frames of the sample, its 128:117 pixels kept
        frames = [src.read(i) for i in range(12)]
    clip = str(tmp_path / "sq.mp4")
    with av.open(clip, "w") as c:
        vs = c.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 176, 144, "yuv420p"
        vs.codec_context.sample_aspect_ratio = Fraction(128, 117)
        for f in frames:
            for p in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    import os

    code = "import os; os.chdir({!r})\n".format(str(tmp_path)) + CHECK.replace(
        "sys.argv[1]", repr(clip))
    res = run_py(code, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "TRACKED {'FINISHED'}" in res.stdout, res.stdout[-2000:]
    said = res.stdout + res.stderr
    assert "tracked 1 actor(s) in 'sq'" in said, said[-2000:]
    assert "non-square pixels" not in said and "for a transfer between actors" not in said, said[-2000:]
    assert "reenact demo: wrote out/demo.blend, out/demo.mp4, out/demo_side_by_side.png, out/demo_track.npz" \
        in res.stderr, res.stderr[-2000:]
    assert "open out/demo.blend in Blender 5.0 or 4.5" in res.stderr and "frames 41-120" in res.stderr, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "RC 0"
    last_json = [ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1]
    assert '"blend": "{}"'.format(os.path.join(str(tmp_path), "out", "demo.blend")) in last_json
