# SPDX-License-Identifier: GPL-3.0-or-later
"""Footage the size artists shoot, for the benches: the shared clips are 480-512 px
(``bench.front --side``, ``tools/scaled_clips.py``)."""

import os


def scaled_clip(src, dest, side, frames=None):
    """``src`` (its first ``frames`` frames; None: all) scaled so its longer side is ``side`` px
    (bicubic, even sizes, H.264 CRF 14, audio kept) into ``dest``: footage the size artists shoot,
    for the benches (the shared clips are 480-512 px). Written under a temporary name and renamed."""
    import cv2

    from reenact.video import VideoWriter, open_video

    with open_video(src) as v:
        s = side / float(max(v.size))
        size = (int(round(v.size[0] * s)) // 2 * 2, int(round(v.size[1] * s)) // 2 * 2)
        tmp = dest + ".part.mp4"
        with VideoWriter(tmp, v.fps, size, crf=14, audio_from=src) as w:
            for _j, f in v.iter_frames(0, len(v) if frames is None else min(len(v), frames)):
                w.write(cv2.resize(f, size, interpolation=cv2.INTER_CUBIC))
    os.replace(tmp, dest)
    return dest
