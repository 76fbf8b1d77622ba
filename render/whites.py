# SPDX-License-Identifier: GPL-3.0-or-later
"""The colour of a shot's white: the whites of its actor's eyes (numpy + OpenCV, no bpy).

A mouth interior drawn from another actor's footage (the driver's teeth and tongue,
:class:`~.donor.MouthDonor`) keeps the white balance of the camera and light it was filmed in:
d10's interior in a tungsten-lit shot of d14 drew a lilac tongue and bluish teeth beside her
cream ones. The whites of the eyes are the one nearly achromatic surface every face shows, so
their colour in the two shots gives the tint that moves the driver's light to the target's
(docs/compositing.md, *The driver's mouth in the shot's light*).
"""

import hashlib

import numpy as np
import cv2

from ..face.topology import load_topology
from ..video import open_video
from .cache import Memo, source_identity

#: open-eye rows looked at per shot (spread evenly over its tracked rows)
SAMPLE = 8
#: a row's eyes count when both lids are open less than this blink (0..1)
OPEN_EYES = 0.3
#: ... and their whites show at least this many pixels
MIN_PIXELS = 12
#: the tint's channels are kept within these gains (luma 1): a wrong white (glasses' glare, a
#: shadowed eye) must not paint the mouth
TINT_LIMITS = (0.6, 1.6)
_LUMA = np.array([0.299, 0.587, 0.114])

_LOOPS = None


def _eye_loops():
    global _LOOPS
    if _LOOPS is None:
        topo = load_topology()
        _LOOPS = tuple(np.asarray(topo.group(k), np.int64) for k in ("loop_eye_left", "loop_eye_right"))
    return _LOOPS


def eye_white_pixels(frame, points):
    """(N, 3) float pixels of ``frame`` (RGB) taken for the whites of the eyes of the face at
    ``points`` ((468+, 2) pixels): inside both eye loops, the brightest quarter by luma, and of
    those the less saturated half (iris, lids, lashes and the pink corners left out)."""
    P = np.asarray(points, np.float64)[:, :2]
    mask = np.zeros(frame.shape[:2], np.uint8)
    for loop in _eye_loops():
        if not np.isfinite(P[loop]).all():
            return np.zeros((0, 3))
        cv2.fillPoly(mask, [np.round(P[loop] * 16).astype(np.int32)], 1, shift=4)
    px = frame[mask > 0].astype(np.float64)
    if len(px) < 4 * MIN_PIXELS:
        return np.zeros((0, 3))
    luma = px @ _LUMA
    px = px[luma >= np.percentile(luma, 75)]
    sat = px.max(1) - px.min(1)
    return px[sat <= np.median(sat)]


def eye_white(frames, track, count=SAMPLE):
    """(3,) median RGB colour of the whites of the eyes of ``track``'s actor over up to
    ``count`` rows with open eyes spread over its tracked rows, each read by ``frames(row)``
    (an RGB frame); None where fewer than three rows show enough of them."""
    ok = np.array(track.tracked, bool)  # (a copy: the Track's own rows stay as they are)
    blink = np.asarray(track.blink, np.float64)
    if blink.ndim == 2 and len(blink) == len(ok):
        ok &= np.nan_to_num(blink, nan=1.0).max(1) < OPEN_EYES
    rows = np.flatnonzero(ok)
    if not len(rows):
        return None
    pick = rows[np.unique(np.linspace(0, len(rows) - 1, min(count, len(rows))).round().astype(np.int64))]
    colours = []
    for r in pick:
        px = eye_white_pixels(frames(int(r)), np.asarray(track.landmarks, np.float64)[r])
        if len(px) >= MIN_PIXELS:
            colours.append(np.median(px, 0))
    return np.median(colours, 0) if len(colours) >= 3 else None


def white_tint(target, source, limits=TINT_LIMITS):
    """(3,) float32 gain per channel that moves a colour filmed in the light of ``source``
    (its eyes' white, RGB) to the light of ``target``, leaving luma as it is (brightness is
    matched elsewhere); ones where either white is unknown."""
    if target is None or source is None:
        return np.ones(3, np.float32)
    t = (np.asarray(target, np.float64) + 1.0) / (np.asarray(source, np.float64) + 1.0)
    t = np.clip(t / float(t @ _LUMA), *limits)
    return (t / float(t @ _LUMA)).astype(np.float32)


def shot_white(video, track, count=SAMPLE):
    """:func:`eye_white` of ``track`` over the footage ``video`` (a path; its clip frame of row
    ``r`` is ``r + track.frame_start``), kept per footage file, rows and meshes (a Preview Frame
    asks again for every frame)."""
    key = _key(video, track, count)
    white = _WHITES.get(key, _WHITES)  # (None is an answer too: a shot without eye whites)
    if white is not _WHITES:
        return white
    f0 = int(track.frame_start)
    src = open_video(video)
    try:
        def frame(r):
            fr = src.read(r + f0)
            if fr is None:
                raise ValueError("{}: frame {} could not be decoded".format(video, r + f0))
            return fr

        white = eye_white(frame, track, count)
    finally:
        src.close()
    return _WHITES.put(key, white)


_WHITES = Memo(32)


def _key(video, track, count):
    """What :func:`shot_white` depends on: the footage file, the Track's rows, meshes and blinks."""
    if video is None:
        return None
    h = hashlib.sha1(np.ascontiguousarray(np.asarray(track.landmarks, np.float32)[..., :2]).tobytes())
    h.update(np.ascontiguousarray(np.asarray(track.blink, np.float32)).tobytes())
    h.update(np.asarray(track.tracked, bool).tobytes())
    return (source_identity(video), int(track.frame_start), int(count), h.hexdigest())
