# SPDX-License-Identifier: GPL-3.0-or-later
"""Frame rates as a file stores them and as Reenact reads them: the NTSC rates FFmpeg reads a
hair off (Matroska's millisecond timestamps), and the usual rate a clip of variable rate is
conformed to (footage generated here: 64 px, a second or three)."""

from fractions import Fraction

import numpy as np
import pytest

from reenact.video import VideoError, open_video


def _movie(path, times, rate=30, size=64, timecode=None, codec="libx264"):
    """A grey movie whose frame ``i`` is shown at ``times[i]`` seconds (90 kHz ticks; a .mkv
    rounds them to milliseconds), ``timecode`` its start timecode tag."""
    import av

    with av.open(str(path), "w") as c:
        vs = c.add_stream(codec, rate=rate)
        vs.width = vs.height = size
        vs.pix_fmt = "yuv420p"
        tb = Fraction(1, 90000)
        vs.time_base = vs.codec_context.time_base = tb
        if timecode:
            vs.metadata["timecode"] = timecode
        for i, t in enumerate(times):
            vf = av.VideoFrame.from_ndarray(np.full((size, size, 3), (i * 7) % 255, np.uint8), format="rgb24")
            vf.pts, vf.time_base = int(round(t * 90000)), tb
            for p in vs.encode(vf):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return str(path)


def test_a_59_94_fps_matroska_is_read_at_60000_1001_and_its_drop_frame_timecode_kept(tmp_path):
    """FFmpeg reads a 59.94 fps Matroska as 19001/317 (millisecond timestamps): read as
    60000/1001, so its drop-frame timecode counts as drop-frame and a render or restyle of it is
    written at 60000/1001 (before: 19001/317 everywhere, and ``reenact verify`` printed its
    synthesised frames as ``00:01:00:56`` for ``00:01:01;00``, conform its timecode as non-drop)."""
    import av

    from reenact.video.probe import probe
    from reenact.video.timecode import retime_timecode, timecode_after

    rate = Fraction(60000, 1001)
    path = _movie(tmp_path / "ntsc5994.mkv", [i / rate for i in range(60)], rate=rate, timecode="00:00:59;56")
    with av.open(path) as c:  # (what FFmpeg reads: the case itself)
        assert c.streams.video[0].average_rate == Fraction(19001, 317)
    with open_video(path) as src:
        assert src.rate == rate and src.blender_rate == rate and not src.variable_rate
        assert src.timecode == "00:00:59;56"
    assert probe(path)["rate"] == "60000/1001"
    off = Fraction(19001, 317)  # (what a caller may still hand over)
    assert timecode_after("00:00:59;56", 64, off) == "00:01:01;04"  # (minute 1 drops ;00-;03)
    assert retime_timecode("00:00:59;56", off, Fraction(30000, 1001)) == "00:00:59;28"
    from reenact.video.source import snap_ntsc

    assert snap_ntsc(Fraction(7001, 146)) == Fraction(48000, 1001) and snap_ntsc(Fraction(60)) == 60
    assert snap_ntsc(Fraction(5994, 100)) == rate and snap_ntsc(Fraction(5995, 100)) == Fraction(5995, 100)


def test_the_variable_rate_refusal_names_the_rate_conform_gives(tmp_path):
    """A phone clip of 30 fps with a 20 fps stretch and jittered times (FFmpeg: average 26.9,
    guess 29.75): the refusal's ffmpeg line and ``reenact conform`` both give 30000/1001, the
    usual rate nearest the guess (before: the refusal said fps=26.907, the average, and the
    nearest rate was the first within 1 %: 30000/1001 for 29.99)."""
    from reenact.video.conform import _usual_rate
    from reenact.video.movie import _nominal_rate

    rng = np.random.default_rng(0)
    steps = [(1 / 20 if 30 <= i < 50 else 1 / 30) + rng.uniform(-0.003, 0.003) for i in range(90)]
    path = _movie(tmp_path / "phone.mp4", np.concatenate([[0.0], np.cumsum(steps)[:-1]]))
    with pytest.raises(VideoError) as err:
        open_video(path)
    assert "-vf fps=30000/1001 " in str(err.value), str(err.value)
    with open_video(path, allow_variable_rate=True) as src:
        assert src.variable_rate and _usual_rate(src, path) == Fraction(30000, 1001)
    assert _nominal_rate(Fraction(2999, 100)) == "30" and _nominal_rate(Fraction(2650, 100)) == "26.5"
    from reenact.video.movie import usual_rate

    assert usual_rate(Fraction(2999, 100)) == 30 and usual_rate(Fraction(2398, 100)) == Fraction(24000, 1001)
    assert usual_rate(Fraction(2650, 100)) == Fraction(53, 2)
