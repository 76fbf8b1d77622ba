# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie conformed to another frame rate exactly as Blender's sequencer plays it.

Blender plays a movie strip whose clip rate differs from the scene's at the clip's own speed
(Add ▸ Movie's *Adjust Playback Rate*, on by default): timeline frame ``k`` of the strip shows
clip frame ``k * clip_fps / scene_fps`` rounded to the nearest, in single precision, over
``int(n / factor)`` frames. Reenact's jobs need one clip frame per timeline frame, so they refuse such a strip
(``blender/timing.py``, ``rate_adjusted``); :func:`conform_movie` writes the movie of the frames
that mapping gives, at the scene's rate, with the clip's sound as it is (the same duration),
and Blender's *Conform to Scene Rate* puts it in a strip. No frame is blended or invented: a
30 fps clip conformed to 25 fps drops one frame in six, as the timeline did.

Checked against the sequencer's own pictures (2026-12-05, Blender 5.0, 120-frame clips, every
timeline frame): 30 -> 25, 25 -> 24, 60 -> 25 and 30 -> 23.976 fps show the same frames
throughout. A clip just slower than the scene differs at a few frames: 24 -> 25 at 5 of 125 (the
sequencer shows the frame before where the mapped index ends in .96, repeating it) and
29.97 -> 30 at 1 of 120 (its second frame); there the conformed clip shows the mapped frame."""

import os
import time
import numpy as np

from ..fsutil import refuse_overwriting
from ..progress import Cancelled
from . import VideoWriter, open_video
from .encode import source_tags
from .source import _as_rate


def conform_indices(n, clip_fps, fps):
    """The clip frame shown at each frame of a clip of ``n`` frames at ``clip_fps`` played at
    its own speed in a scene of ``fps``: Blender's mapping (single precision, as the
    sequencer computes it)."""
    factor = np.float32(np.float32(float(clip_fps)) / np.float32(float(fps)))
    m = int(np.float32(n) / factor)
    index = np.minimum(np.arange(m, dtype=np.float32) * factor, np.float32(n - 1))
    return np.floor(index + np.float32(0.5)).astype(np.int64)  # (the sequencer rounds a movie's frame index)


def conform_movie(video, fps, out, lossless=False, progress=None):
    """Write ``out`` (.mp4/.mov/.mkv): the frames of the movie ``video`` that a strip of it
    shows in a scene of ``fps`` (:func:`conform_indices`), at ``fps``, with ``video``'s sound
    copied as it is, its colour encoding and pixel aspect kept. Returns a summary dict (``out``,
    ``frames``, ``dropped``, ``repeated``, ``audio``, ``seconds``)."""
    t0 = time.perf_counter()
    rate = _as_rate(fps)
    with open_video(video) as src:
        if src.kind != "movie":
            raise ValueError("{}: an image sequence plays at the scene's rate already; nothing to conform".format(video))
        refuse_overwriting(out, [src.path])
        n, size = len(src), (src.width, src.height)
        idx = conform_indices(n, src.rate, rate)
        if not len(idx):
            raise ValueError("{}: {} frame(s) at {:.5g} fps last less than a frame at {:.5g} fps".format(
                video, n, float(src.rate), float(rate)))
        tags = source_tags(src)
        tags.pop("deep_from", None)  # (frame i of the movie is not frame i of the clip)
        tags.pop("timecode", None)  # (counted at the clip's rate)
        writer = VideoWriter(out, rate, size, lossless=lossless, audio_from=video if src.has_audio else None, **tags)
        try:
            j = 0
            for i, frame in src.iter_frames(0, int(idx[-1]) + 1):  # in order: no seeking
                while j < len(idx) and idx[j] == i:  # (a clip slower than the scene repeats frames)
                    writer.write(frame)
                    j += 1
                    if progress is not None and progress(j, len(idx), "frame {}".format(j - 1)) is False:
                        raise Cancelled()
        except BaseException:
            writer.abort()
            raise
        writer.close()
    shown = set(int(i) for i in idx)
    return {"out": os.path.abspath(os.fspath(out)), "frames": int(len(idx)), "clip_frames": n,
            "dropped": n - len(shown), "repeated": int(len(idx) - len(shown)), "audio": bool(writer.audio_copied),
            "fps": float(rate), "seconds": round(time.perf_counter() - t0, 3)}
