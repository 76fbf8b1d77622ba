# SPDX-License-Identifier: GPL-3.0-or-later
"""Hard cuts in footage: where one shot ends and the next begins (numpy + OpenCV).

A strip taken from an edited scene holds several shots. The tracker's temporal filter smoothed
the landmarks across a cut (the first frame of the new shot 6 px off, the four after it 1 px,
on a cut between two framings of one actor), and a render that draws a row from the shot's
other frames must not take them from another shot. :class:`CutFinder` reads a small signature
of each frame as it is decoded and keeps two numbers per frame, so a long clip costs little.

A cut is a frame that differs from the one before it by much more than its neighbours differ
from theirs, in a thumbnail and in the colours: all three of :data:`CUT_CHANGE` (mean absolute
change of a 48x27 grey thumbnail, 0-255), :data:`CUT_RATIO` (that change over the median of the
six frames' changes either side, + 1) and :data:`CUT_COLOURS` (half the L1 distance of the
frames' 16-bin colour histograms, 0-1). On the 14 shared clips (handheld, head shakes, a
tilting camera) the largest are 18.5, 6.6 and 0.062; a cut between a medium and a close shot of
one actor in one room reads 46.9, 18.9 and 0.21. Gradual transitions (fades, dissolves) are not
cuts here; jump cuts, where the frame barely changes but the face steps, are found from the
tracked face (:mod:`reenact.tracking.steps`). About 1 ms a frame at any size.
"""

import cv2
import numpy as np

CUT_CHANGE = 25.0
CUT_RATIO = 8.0
CUT_COLOURS = 0.1
#: frames either side whose changes make a frame's local level
NEIGHBOURS = 6
THUMB = (48, 27)


def _signature(frame):
    f = np.asarray(frame)
    if f.ndim == 2:
        f = f[..., None]
    step = max(1, min(f.shape[:2]) // (8 * THUMB[1]))  # every step-th pixel first (a 4K frame: 21 -> 2 ms)
    small = cv2.resize(np.ascontiguousarray(f[::step, ::step]), (2 * THUMB[0], 2 * THUMB[1]),
                       interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = small[..., None]
    if small.dtype != np.uint8:  # (16-bit or float frames: to 8 bits for the signature)
        top = 65535.0 if small.dtype == np.uint16 else 1.0
        small = np.clip(small.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    grey = cv2.resize(small.mean(-1).astype(np.float32), THUMB, interpolation=cv2.INTER_AREA)
    hist = np.concatenate([np.bincount((small[..., c] >> 4).ravel(), minlength=16) for c in range(small.shape[-1])])
    return grey, hist.astype(np.float32) / max(1, small.shape[0] * small.shape[1])


class CutFinder:
    """Feed every frame of a clip in order (:meth:`add`; ``None`` for a frame that could not be
    read), then :meth:`starts` gives the rows that begin a new shot."""

    def __init__(self):
        self._prev = None
        self._change = []  # per row: change from the row before (NaN: first row, or no frame)
        self._colours = []

    def add(self, frame):
        """Read the next frame; True when it looks like a cut by what came before it (its change
        against the frames before only: :meth:`starts` also asks the frames after)."""
        if frame is None:
            self._prev = None
            self._change.append(np.nan)
            self._colours.append(np.nan)
            return False
        sig = _signature(frame)
        if self._prev is None:
            self._change.append(np.nan)
            self._colours.append(np.nan)
        else:
            self._change.append(float(np.abs(sig[0] - self._prev[0]).mean()))
            self._colours.append(float(0.5 * np.abs(sig[1] - self._prev[1]).sum() / max(1, len(sig[1]) // 16)))
        self._prev = sig
        return self._cut(len(self._change) - 1, after=False)

    def _cut(self, j, after=True):
        d, h = self._change[j], self._colours[j]
        if not (np.isfinite(d) and d >= CUT_CHANGE and h >= CUT_COLOURS):
            return False
        near = np.asarray(self._change[max(0, j - NEIGHBOURS):j] + (
            self._change[j + 1:j + 1 + NEIGHBOURS] if after else []), np.float64)
        near = near[np.isfinite(near)]
        return bool(d >= CUT_RATIO * ((float(np.median(near)) if len(near) else 0.0) + 1.0))

    def starts(self):
        """(N,) int64 rows (0-based, in the order fed) where a new shot begins after a hard cut."""
        d = np.nan_to_num(np.asarray(self._change, np.float64))
        return np.asarray([j for j in np.flatnonzero(d >= CUT_CHANGE) if self._cut(int(j))], np.int64)

