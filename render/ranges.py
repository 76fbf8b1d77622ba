# SPDX-License-Identifier: GPL-3.0-or-later
"""Which clip frames a render reads and writes: a job's frame range, and a render farm chunk's
share of it (:mod:`reenact.render.pipeline`, docs/farm.md), and the footage rows a render may
take its references from (``--reference-frames``)."""

import numpy as np


def resolve_range(frames, n):
    """``frames`` (a, b) with None / negative values (Python slice rules) -> checked (a, b)."""
    a, b = (None, None) if frames is None else frames
    a = 0 if a is None else (int(a) + n if int(a) < 0 else int(a))
    b = n if b is None else (int(b) + n if int(b) < 0 else int(b))
    if not (0 <= a < b <= n):
        raise ValueError("frames {}:{} are outside the clip's {} frames".format(
            "" if frames is None or frames[0] is None else frames[0],
            "" if frames is None or frames[1] is None else frames[1], n))
    return a, b


def kept_span(keep, frames, n):
    """The clip frames (c, d) a take holds (``keep``, a render's or restyle's): ``keep`` grown to
    cover ``frames`` (a, b), within the clip's ``n``; the others are its transparent frames
    (:func:`~reenact.video.pngs.clear_frames`)."""
    return max(0, min(int(frames[0]), int(keep[0]))), min(int(n), max(int(frames[1]), int(keep[1])))


def chunk_segments(frames, chunk, n):
    """The clip frames a chunk (c, d) of the job's frames (a, b) writes, as [start, stop)
    segments in order: c..d-1, with 0..a-1 in front when c == a and b..n-1 behind when d == b
    (the footage frames around the job's range belong to its first and last chunks). ``chunk``
    None is the whole job: every clip frame."""
    a, b = frames
    c, d = (a, b) if chunk is None else resolve_range(chunk, n)
    if not (a <= c < d <= b):
        raise ValueError("chunk {}:{} is not inside the frames {}:{} of the job".format(c, d, a, b))
    segs = ([(0, c)] if c == a and a > 0 else []) + [(c, d)] + ([(d, n)] if d == b and b < n else [])
    return segs


def iter_segments(src, segments):
    """Decode the frames of ``segments`` in order, one pass over each run of adjacent segments
    (a whole-clip render decodes straight through, as it always did)."""
    runs = []
    for s, e in segments:
        if runs and runs[-1][1] == s:
            runs[-1][1] = e
        else:
            runs.append([s, e])
    for s, e in runs:
        yield from src.iter_frames(s, e)


def _bounds(own, frames):
    """Clip frames (c, d) of ``frames`` = (c, d) on ``own``'s frames (None: its start / end)."""
    f0, n = int(own.frame_start), int(own.n_frames)
    return (f0 if frames[0] is None else int(frames[0])), (f0 + n if frames[1] is None else int(frames[1]))


def pool_rows(own, frames):
    """Rows of the footage's Track ``own`` in clip frames ``frames`` (None: all)."""
    if frames is None:
        return None
    f0, (c, d) = int(own.frame_start), _bounds(own, frames)
    return np.arange(max(c, f0), min(d, f0 + own.n_frames)) - f0


def reference_track(own, frames):
    """The rows of the footage's own Track ``own`` that the actor reference pool is made of:
    clip frames ``frames`` = (c, d) (either may be None: the track's start / end; None: all).
    Raises ValueError (one line) for a range outside the track or without a tracked frame."""
    if frames is None:
        return own
    f0, n = int(own.frame_start), int(own.n_frames)
    c, d = _bounds(own, frames)
    if not (f0 <= c < d <= f0 + n):
        raise ValueError("reference frames {}:{} are outside the crop track's frames {}:{}".format(c, d, f0, f0 + n))
    sub = own.subset(c, d)
    if not (np.asarray(sub.tracked, bool) & np.isfinite(np.asarray(sub.pose)).all(1)).any():
        raise ValueError("reference frames {}:{} hold no tracked frame of the crop track".format(c, d))
    return sub


def check_inputs(track, crop_track, size):
    """ValueError (one line) unless ``track`` is for frames of ``size`` (w, h) and ``crop_track`` covers its rows."""
    if (int(track.size[0]), int(track.size[1])) != tuple(size):
        raise ValueError("the track is for {}x{} frames, the footage is {}x{}".format(
            int(track.size[0]), int(track.size[1]), size[0], size[1]))
    if crop_track is not None and (crop_track.n_frames != track.n_frames or crop_track.frame_start != track.frame_start):
        raise ValueError("the crop track covers clip frames {}..{}, the performance {}..{}".format(
            crop_track.frame_start, crop_track.frame_start + crop_track.n_frames - 1,
            track.frame_start, track.frame_start + track.n_frames - 1))
