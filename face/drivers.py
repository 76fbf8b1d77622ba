# SPDX-License-Identifier: GPL-3.0-or-later
"""Which footage drives a transferred performance, frame by frame: the mouth's driver through a
chain of transfers (:func:`mouth_driver`, recorded by :func:`reenact.face.transfer.transfer`) and
the source frames a hand hides (:func:`hidden_drivers`)."""

import numpy as np


def mouth_driver(source, frames):
    """(digest of the footage whose mouth drives, per row its clip frame or NaN) for the rows of a
    transfer that take ``source``'s clip ``frames``. Where those frames of ``source`` were driven
    themselves (``source`` is a transfer's output: its ``performance_frame``), their driver's:
    Mouth A onto B, then B onto C, and A's footage makes C's mouth (before the evening of
    2026-12-06 the command line recorded B, whose footage shows B's own mouth, and ``render
    --mouth-from`` drew B's teeth on A's lip sync), as Blender's Transfer Performance records
    it. One footage drives a render's mouth: the one that drives most of these rows; the others
    are left undriven (NaN: the shot's or the renderer's mouth there)."""
    frames = np.asarray(frames, np.float64)
    own = str(source.source_digest)
    pf = np.asarray(source.performance_frame, np.float64)
    if not str(source.performance_source) or len(pf) != source.n_frames or not len(frames):
        return own, frames.copy()
    i = np.round(frames).astype(np.int64) - int(source.frame_start)
    ok = (i >= 0) & (i < len(pf))
    up = np.full(len(frames), np.nan)
    up[ok] = pf[i[ok]]
    via = np.isfinite(up)
    if via.sum() >= (~via).sum():
        return str(source.performance_source), up
    return own, np.where(via, np.nan, frames)


def hidden_drivers(source, result, info=None):
    """The clip frames of ``source`` that drive rows of the transferred ``result`` (the ``info``
    of :func:`transfer`, any mode; without it :attr:`~reenact.face.track.Track.performance_frame`,
    which modes that move the mouth record) and that a hand before the face covers
    (:meth:`~reenact.face.track.Track.hidden_frames`): there the driving performance is the
    tracker's guess."""
    if info is not None:
        ratio = float(source.fps) / float(result.fps) if info.get("retimed") else 1.0
        used = (np.asarray(info["transferred_frames"], np.float64) - info["offset"]) * ratio
    else:
        used = np.asarray(result.performance_frame, np.float64)
    used = np.round(used[np.isfinite(used)]).astype(np.int64) - int(source.frame_start)
    return source.hidden_frames(rows=np.unique(used))
