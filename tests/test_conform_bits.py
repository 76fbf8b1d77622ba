# SPDX-License-Identifier: GPL-3.0-or-later
"""A 10-bit camera clip conformed (`reenact conform`, Blender's Conform to Scene Rate): H.264
keeps 8 bits of it, which the footage review (2026-12-06) found said nowhere; now a warning
names the lossless copy that keeps them, and the lossless copy keeps them without one."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def clip10(tmp_path_factory):
    """A 30 fps, 10-bit H.264 SDR clip of 12 frames: a smooth ramp, as a camera's log footage."""
    path = str(tmp_path_factory.mktemp("bits") / "cam10.mp4")
    c = av.open(path, "w")
    s = c.add_stream("libx264", rate=30)
    s.width, s.height, s.pix_fmt = 64, 48, "yuv420p10le"
    ramp = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16)[None, :, None], (48, 1, 3))
    for i in range(12):
        fr = av.VideoFrame.from_ndarray(np.roll(ramp, i, 1), format="rgb48le")
        for p in s.encode(fr.reformat(format="yuv420p10le")):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return path


def _conform(clip, out, *extra):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(ROOT))
    return subprocess.run([sys.executable, "-m", "reenact", "conform", clip, "--out", out, "--fps", "25", *extra],
                          capture_output=True, text=True, env=env)


def test_a_10_bit_clip_conformed_to_h264_says_it_keeps_8_bits(clip10, tmp_path):
    res = _conform(clip10, str(tmp_path / "c.mp4"))
    assert res.returncode == 0, res.stderr
    assert ("reenact: warning: c.mp4: H.264 holds 8 bits of this 10-bit clip (its gradients may band); the lossless "
            "copy (--lossless: FFV1 .mkv; Blender: Conform to Scene Rate's Lossless) keeps them") in res.stderr, res.stderr
    assert '"output_warnings": [\n  "c.mp4: H.264 holds 8 bits' in res.stdout, res.stdout


def test_the_lossless_copy_keeps_the_bits_and_says_nothing(clip10, tmp_path):
    out = str(tmp_path / "c.mkv")
    res = _conform(clip10, out, "--lossless")
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr
    with av.open(out) as c:
        assert "10" in c.streams.video[0].codec_context.pix_fmt
