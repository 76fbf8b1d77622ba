# SPDX-License-Identifier: GPL-3.0-or-later
"""The variable-frame-rate refusal (and probe's warning) names one rate, the one of the evenly
timed copy it asks for: before 2026-12-06 a phone-style clip (30 fps, then 20 fps) was said to be
"365 ms off a constant 24.0015 fps" (FFmpeg's average) while the same message's remedy was
`ffmpeg ... -vf fps=29.667` (and `reenact conform` made a 29.667 fps copy); now "... ms off a
constant 29.667 fps", the drift measured against that rate."""

import re
from fractions import Fraction

import av
import numpy as np
import pytest


def _vfr_clip(path):
    times = [i / 30 for i in range(45)] + [1.5 + i / 20 for i in range(45)]
    tb = Fraction(1, 90000)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=Fraction(30))
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        vs.options = {"bf": "0", "preset": "ultrafast"}
        for i, t in enumerate(times):
            fr = av.VideoFrame.from_ndarray(np.full((64, 64, 3), (i * 3) % 250, np.uint8), format="rgb24")
            fr.pts, fr.time_base = int(round(t / tb)), tb
            for p in vs.encode(fr):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return str(path), np.array(times)


def test_the_refusal_says_the_rate_its_remedy_uses(tmp_path):
    from reenact.video import VideoError, open_video
    from reenact.video.probe import probe

    path, times = _vfr_clip(tmp_path / "phone.mp4")
    with pytest.raises(VideoError) as err:
        open_video(path)
    msg = str(err.value)
    said = re.search(r"up to (\d+) ms off a constant ([\d.]+) fps", msg)
    remedy = re.search(r"-vf fps=(\S+) ", msg)
    assert said and remedy, msg
    rate = float(Fraction(remedy.group(1)))
    assert abs(float(said.group(2)) - rate) < 1e-3, msg  # (before: 24 fps said, fps=29.667 given)
    drift = 1000 * np.max(np.abs(times - np.arange(len(times)) / rate))
    assert abs(int(said.group(1)) - drift) <= 1, (msg, drift)
    warning = [w for w in probe(path)["warnings"] if "variable frame rate" in w][0]
    said = re.search(r"up to (\d+) ms off a constant ([\d.]+) fps", warning)
    assert said and abs(float(said.group(2)) - rate) < 1e-3, warning
    assert abs(int(said.group(1)) - drift) <= 1, (warning, drift)
