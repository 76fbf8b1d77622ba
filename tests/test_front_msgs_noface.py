# SPDX-License-Identifier: GPL-3.0-or-later
"""A clip where no face is found says what to try: before 2026-12-06 `reenact track clips/tiny.mp4`
(a 35 px face in 640 x 360) failed "no face found in any of its 45 frames" and named nothing,
although --small-faces tracks it fully; now, when the tiled search was off, the message names
--small-faces (Blender: Small Faces in the Track panel)."""

from fractions import Fraction

import av
import numpy as np
import pytest


def _blank_clip(path, n=4, size=(320, 240)):
    w, h = size
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=Fraction(25))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            img = np.full((h, w, 3), 90 + 10 * i, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return path


def test_no_face_names_small_faces_when_it_was_off(tmp_path):
    from reenact.tracking.tracker import TrackingError, track_video

    clip = _blank_clip(tmp_path / "blank.mp4")
    with pytest.raises(TrackingError) as off:
        track_video(str(clip), hands=False)
    msg = str(off.value)
    assert "no face found in any of its 4 frames" in msg
    assert "--small-faces" in msg and "Small Faces" in msg, msg
    with pytest.raises(TrackingError) as on:
        track_video(str(clip), hands=False, small_faces=True)
    assert "no face found in any of its 4 frames" in str(on.value)
    assert "--small-faces" not in str(on.value), str(on.value)  # (it was on: nothing more to try there)
