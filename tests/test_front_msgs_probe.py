# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact probe`'s text as an editor reads it. Before 2026-12-06 it printed FFmpeg's angle as it
is ("rotated -90" for a portrait phone clip, "rotated -180"), said nothing of 10 bits in SDR
footage (only with HDR), and said "120 frames at 25 fps" of a frame folder, an assumed rate
stated as fact. Now: "shown rotated 90° clockwise", "10-bit", "at 25 fps assumed" with a line
naming --fps."""

from fractions import Fraction

import av
import cv2
import numpy as np


def _clip(path, frames, pix="yuv420p", rotation=None):
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=Fraction(25))
        vs.width, vs.height, vs.pix_fmt = w, h, pix
        if rotation is not None:
            vs.set_display_rotation(rotation)  # (FFmpeg's angle: anticlockwise)
        for f in frames:
            for p in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format=pix)):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return str(path)


def _stored():
    img = np.full((64, 96, 3), 30, np.uint8)
    img[:24, :32] = 230  # a bright corner: which way the picture turns
    return [img] * 3


def test_rotation_is_said_the_way_it_is_shown(tmp_path):
    from reenact.video import open_video
    from reenact.video.probe import format_probe, probe

    for angle, words in ((-90, "shown rotated 90° clockwise"), (90, "shown rotated 90° anticlockwise"),
                         (180, "shown rotated 180°")):
        path = _clip(tmp_path / "rot{}.mp4".format(angle), _stored(), rotation=angle)
        r = probe(path)
        text = format_probe(r)
        assert words in text and "rotated -" not in text, text
        assert r["rotation"] % 360 == angle % 360  # (the JSON keeps FFmpeg's angle)
        turns = {"shown rotated 90° clockwise": -1, "shown rotated 90° anticlockwise": 1}.get(words, 2)
        with open_video(path) as src:  # the frames as shown (Blender's strip shows the same)
            shown = src.read(0).astype(int)
        want = np.rot90(_stored()[0], turns).astype(int)
        assert shown.shape == want.shape and np.abs(shown - want).mean() < 3, words


def test_ten_bits_are_said_for_sdr_footage(tmp_path):
    from reenact.video.probe import format_probe, probe

    deep = format_probe(probe(_clip(tmp_path / "p10.mp4", _stored(), pix="yuv420p10le")))
    assert "h264, 10-bit, pixel aspect" in deep, deep
    plain = format_probe(probe(_clip(tmp_path / "p8.mp4", _stored())))
    assert "-bit" not in plain, plain


def test_a_folders_rate_is_said_to_be_assumed(tmp_path):
    from reenact.video.probe import format_probe, probe

    for i in range(4):
        cv2.imwrite(str(tmp_path / "f_{:04d}.png".format(i)), np.full((16, 24, 3), 60 * i, np.uint8))
    r = probe(str(tmp_path))
    text = format_probe(r)
    assert "4 frames at 25 fps assumed (0.16 s)" in text and "--fps" in text, text
    assert r["rate_assumed"] is True
