# SPDX-License-Identifier: GPL-3.0-or-later
"""A drop-frame timecode is counted at 29.97 whatever rate FFmpeg guessed for the clip. Before
2026-12-06 a variable-rate phone clip, 29.97 nominal with timecode "10:00:00;00", which FFmpeg
guesses at 30 fps, was conformed (`reenact conform clip.mp4 --out x.mp4`) to a 30 fps copy still
tagged "10:00:00;00", a drop-frame timecode at a rate that has none; now the copy is tagged
"09:59:59:29", the same moment on its own non-drop count (10:00:00;00 is 35999.964 s), by the
rule docs/video-io.md gives (the same clock time on the new rate's count)."""

from fractions import Fraction

import av
import numpy as np


def _vfr_drop_frame_clip(path, n=90):
    rng = np.random.default_rng(2)
    d = 1001 / 30000
    times = np.cumsum([0] + [d * (2 if i % 15 == 14 else 1) + rng.uniform(-0.003, 0.003) for i in range(n - 1)])
    tb = Fraction(1, 90000)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=Fraction(30000, 1001))
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        vs.options = {"bf": "0", "preset": "ultrafast"}
        vs.metadata["timecode"] = "10:00:00;00"
        for i, t in enumerate(times):
            fr = av.VideoFrame.from_ndarray(np.full((64, 64, 3), (5 * i) % 250, np.uint8), format="rgb24")
            fr.pts, fr.time_base = int(round(t / tb)), tb
            for p in vs.encode(fr):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return str(path)


def test_retime_reads_a_drop_frame_timecode_at_29_97():
    from reenact.video.timecode import retime_timecode

    ntsc = Fraction(30000, 1001)
    assert retime_timecode("10:00:00;00", 30, 30) == "09:59:59:29"  # (before: "10:00:00;00")
    assert retime_timecode("10:00:00;00", ntsc, 30) == "09:59:59:29"
    assert retime_timecode("10:00:00;00", 30, ntsc) == "10:00:00;00"  # (before: "10:00:00:00")
    assert retime_timecode("10:00:00;00", 60, 60) == "09:59:59:58"
    assert retime_timecode("10:00:00;00", Fraction(179, 6), 30) == "09:59:59:29"  # (a guess near 30)
    assert retime_timecode("10:00:00:00", 30, 30) == "10:00:00:00"  # (non-drop: as it was)


def test_conform_of_a_variable_rate_drop_frame_clip_writes_a_non_drop_timecode(tmp_path):
    from reenact.video import open_video
    from reenact.video.conform import conform_movie

    clip = _vfr_drop_frame_clip(tmp_path / "phone.mp4")
    with open_video(clip, allow_variable_rate=True) as src:
        assert src.variable_rate and src.blender_rate == 30 and src.timecode == "10:00:00;00"
    r = conform_movie(clip, None, tmp_path / "even.mp4", by_time=True)
    assert r["fps"] == 30.0
    with open_video(str(tmp_path / "even.mp4")) as out:
        assert out.rate == 30 and out.timecode == "09:59:59:29", out.timecode
