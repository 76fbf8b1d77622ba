# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie conformed to the scene's rate as Blender's sequencer plays it (video/conform.py; the
Blender side, against the sequencer's own pictures: tests/test_blender_look.py)."""

import os

import numpy as np
import pytest

from conftest import write_movie_with_audio


def test_the_frames_blender_shows():
    from reenact.video.conform import conform_indices

    # 30 fps in a 25 fps scene: one frame in six left out, the index rounded as the sequencer does
    assert conform_indices(30, 30, 25).tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20,
                                                    22, 23, 24, 25, 26, 28]
    # 24 fps in a 30 fps scene: one frame in four shown twice; 29.97 in 30: frame for frame but
    # for one frame shown twice
    assert conform_indices(8, 24, 30).tolist() == [0, 1, 2, 2, 3, 4, 5, 6, 6, 7]
    ntsc = conform_indices(1000, 30000 / 1001, 30)
    assert len(ntsc) == 1001 and np.all(np.diff(ntsc) >= 0) and ntsc[-1] == 999 and len(set(ntsc.tolist())) == 1000


def test_a_start_timecode_is_carried_to_the_new_rate():
    """The conformed copy's first frame is the clip's first moment: the same timecode where the
    count is the same, the same clock time on the new rate's count elsewhere (before 2026-12-05
    `reenact conform` dropped it)."""
    from fractions import Fraction

    from reenact.video.timecode import retime_timecode

    ntsc, film = Fraction(30000, 1001), Fraction(24000, 1001)
    for tc, rate, new, want in (("01:00:00;00", ntsc, ntsc, "01:00:00;00"), ("01:00:00:00", film, 25, "01:00:00:00"),
                                ("10:00:00:12", 30, 25, "10:00:00:10"), ("01:00:00;00", ntsc, 25, "01:00:00:00"),
                                ("00:10:00:00", 25, ntsc, "00:10:00:00"), ("00:00:01:15", 30, ntsc, "00:00:01:15"),
                                ("00:00:02:12", 24, 48, "00:00:02:24")):
        assert retime_timecode(tc, rate, new) == want, (tc, rate, new)


def test_conform_keeps_the_sound_and_refuses_its_own_footage(tmp_path):
    from reenact.errors import ReenactError
    from reenact.video import open_video
    from reenact.video.conform import conform_movie

    frames = []
    for t in range(30):
        f = np.full((48, 64, 3), 40, np.uint8)
        f[10:30, 2 * t:2 * t + 6] = 230  # a bar moving one step a frame: which frame is which
        frames.append(f)
    clip = write_movie_with_audio(str(tmp_path / "clip30.mp4"), frames, 30, 1.0)
    out = tmp_path / "clip25.mkv"
    r = conform_movie(clip, 25, out, lossless=True)
    assert (r["frames"], r["clip_frames"], r["dropped"], r["repeated"], r["audio"]) == (24, 30, 6, 0, True), r
    with open_video(str(out)) as src:
        assert len(src) == 24 and float(src.rate) == 25.0 and src.has_audio
        got = [f for _, f in src.iter_frames()]
    with open_video(clip) as src:
        orig = [f for _, f in src.iter_frames()]
    from reenact.video.conform import conform_indices

    for j, i in enumerate(conform_indices(30, 30, 25)):
        assert np.abs(got[j].astype(int) - orig[i]).max() <= 1, (j, i)
    with pytest.raises(ReenactError, match="is the footage it is made from"):
        conform_movie(clip, 25, clip)
    from reenact.video import VideoWriter

    coded = str(tmp_path / "tc30.mov")  # a camera's start timecode, 10:00:00:12 at 30 fps
    with VideoWriter(coded, 30, (64, 48), timecode="10:00:00:12") as w:
        for f in frames:
            w.write(f)
    conform_movie(coded, 25, tmp_path / "tc25.mov")
    with open_video(str(tmp_path / "tc25.mov")) as src:
        assert src.timecode == "10:00:00:10"


def test_conforming_a_keyed_shot_says_the_movie_drops_its_alpha(tmp_path):
    """A keyed shot (ProRes 4444 with alpha) conformed to the scene's rate: the conformed movie
    has no alpha and covers what lies under it; since 2026-12-06 the summary says so (the
    operator reports it), where before nothing did."""
    import av

    from reenact.video.conform import conform_movie

    shot = str(tmp_path / "keyed30.mov")
    with av.open(shot, "w") as c:
        st = c.add_stream("prores_ks", rate=30)
        st.width, st.height, st.pix_fmt, st.options = 64, 48, "yuva444p10le", {"profile": "4"}
        for t in range(12):
            f = np.zeros((48, 64, 4), np.uint8)
            f[..., :3], f[..., 3] = 40 + 10 * t, 128
            vf = av.VideoFrame.from_ndarray(f, format="rgba").reformat(format="yuva444p10le")
            vf.pts = t
            for p in st.encode(vf):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    r = conform_movie(shot, 25, tmp_path / "keyed25.mov")
    assert r["output_warnings"][-1] == ("keyed25.mov: the conformed movie holds no alpha: the shot's alpha channel "
                                        "is dropped, and the strip covers what lies under it"), r
    # (and, since 2026-12-06 19:53 UTC, that H.264 keeps 8 of the shot's bits: tests/test_conform_bits.py)
    assert len(r["output_warnings"]) == 2 and "H.264 holds 8 bits" in r["output_warnings"][0], r
    assert conform_movie(str(tmp_path / "keyed25.mov"), 24, tmp_path / "plain24.mov")["output_warnings"] == []


def test_a_clip_of_variable_frame_rate_is_evened_by_time(tmp_path, capsys):
    """``reenact conform`` on a clip whose frames are unevenly timed (30 fps, then 20 fps, with
    sound): an evenly timed copy at the clip's usual rate, each frame the last one shown at or
    before its time (what Blender's sequencer shows: tests/test_blender_look.py), the sound kept,
    and the copy opens where the clip is refused. A clip of constant rate needs --fps."""
    import av
    from fractions import Fraction

    from reenact.cli import main
    from reenact.video import VideoError, open_video
    from reenact.video.conform import shown_by_time

    # the frame times in ms: 30 fps for a second, then 20 fps for a second, each 5 ms early (no
    # frame within a tick's rounding of a frame time at 30 fps)
    times = [0] + [round(1000 * i / 30) - 5 for i in range(1, 30)] + [995 + 50 * i for i in range(20)]
    clip = str(tmp_path / "phone.mp4")
    c = av.open(clip, "w")
    v = c.add_stream("libx264", rate=30)
    v.width, v.height, v.pix_fmt, v.options = 64, 48, "yuv420p", {"crf": "0"}
    v.time_base = v.codec_context.time_base = Fraction(1, 1000)
    a = c.add_stream("aac", rate=48000)
    a.layout = "mono"
    for i, t in enumerate(times):
        vf = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 + 4 * i, np.uint8), format="rgb24")
        vf.pts, vf.time_base = t, Fraction(1, 1000)
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    x = np.zeros((1, 2 * 48000), np.float32)
    for k in range(0, x.shape[1], 1024):
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, k:k + 1024]), format="flt", layout="mono")
        af.sample_rate, af.pts = 48000, k
        for p in a.encode(af):
            c.mux(p)
    for p in a.encode():
        c.mux(p)
    c.close()
    with pytest.raises(VideoError, match="reenact conform .*phone.mp4 --out phone_cfr.mp4"):
        open_video(clip)
    out = str(tmp_path / "even.mkv")
    assert main(["conform", clip, "--out", out, "--lossless", "--fps", "30"]) == 0
    with open_video(out) as src:
        assert float(src.rate) == 30 and not src.variable_rate and src.has_audio
        got = [int(np.rint((f.mean() - 10) / 4)) for _, f in src.iter_frames()]
    t = np.asarray(times) / 1000.0
    want = [int(np.searchsorted(t, k / 30 + 1e-9, side="right") - 1) for k in range(len(got))]
    assert len(got) in (59, 60) and got == want, (got, want)  # (the last frame's duration as the muxer wrote it)
    assert got[:30] == list(range(30)) and got[30:37] == [30, 30, 31, 32, 32, 33, 34]  # (20 fps: 1.5 frames at 30)
    assert shown_by_time(t, Fraction(1, 1000), 30, len(got) / 30).tolist() == want
    # a clip of constant rate: nothing to do without --fps, one line
    capsys.readouterr()
    assert main(["conform", out, "--out", str(tmp_path / "again.mkv"), "--lossless"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a clip of constant frame rate (30 fps): nothing to conform" in err[0], err


def test_a_rate_that_is_no_number_is_one_line(tmp_path, capsys):
    """``--fps 1/0`` or ``inf`` is one line (before 2026-12-05 a ZeroDivisionError or
    OverflowError traceback, after the clip was opened)."""
    from reenact.cli import main

    frames = [np.full((48, 64, 3), 40 + 5 * t, np.uint8) for t in range(6)]
    clip = write_movie_with_audio(str(tmp_path / "clip.mp4"), frames, 30, 0.2)
    for bad in ("1/0", "inf", "x"):
        capsys.readouterr()
        assert main(["conform", clip, "--out", str(tmp_path / "c.mkv"), "--lossless", "--fps", bad]) == 2, bad
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "invalid frame rate" in err[0], err
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]


def test_a_10_bit_shot_conformed_keeps_its_10_bits(tmp_path):
    """A 10-bit shot (a camera's ProRes; an HDR phone clip is 10-bit too) conformed to the
    scene's rate, lossless: FFV1 at 10 bits, each frame the 10-bit decode of the clip frame it
    shows, repeated and skipped frames included. Before 2026-12-06 the conformed copy went
    through 8 bits (the deep frames were read in order only, so conform left them out)."""
    import av

    from test_bitdepth import _prores10

    from reenact.video.conform import conform_indices, conform_movie

    rng = np.random.default_rng(5)
    frames = [np.full((48, 64, 3), 30 + 15 * t, np.uint8) for t in range(12)]
    shot = tmp_path / "shot10.mov"
    _prores10(shot, frames, rng)  # (25 fps: conformed to 30, frames repeat)
    out = tmp_path / "shot30.mkv"
    r = conform_movie(str(shot), 30, str(out), lossless=True)
    idx = conform_indices(12, 25, 30)
    assert r["frames"] == len(idx) == 14 and r["repeated"] == 2
    with av.open(str(out)) as c, av.open(str(shot)) as p:
        assert c.streams.video[0].codec_context.pix_fmt == "gbrp10le"
        got = [f.to_ndarray(format="rgb48le").astype(np.int32) >> 6 for f in c.decode(video=0)]
        src = [f.to_ndarray(format="rgb48le").astype(np.int32) >> 6 for f in p.decode(video=0)]
    assert len(got) == len(idx)
    for k, i in enumerate(idx):
        assert np.abs(got[k] - src[i]).max() <= 1, (k, i)
    assert any(int(np.abs(src[i] % 4).max()) for i in idx)  # (detail below one 8-bit level: the check can fail)
