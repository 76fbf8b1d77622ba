# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie conformed to the scene's rate as Blender's sequencer plays it (video/conform.py; the
Blender side, against the sequencer's own pictures: tests/test_blender_look.py)."""

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
