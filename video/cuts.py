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
one actor in one room reads 46.9, 18.9 and 0.21; a change the picture comes back from within
:data:`FLASH_FRAMES` is a flash, not a cut. Gradual transitions (fades, dissolves) are not
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
#: a picture back to its look before a cut-like change within this many frames: that change was
#: a flash (a camera flash, a lamp flicker, a damaged frame), not a cut. A one-frame flash on
#: driving_d14 (x1.6 + 60 levels) read as two cuts, the frame after it beginning a third shot.
FLASH_FRAMES = 3
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


def _change(a, b):
    """Mean absolute change between two signatures' thumbnails (0-255)."""
    return float(np.abs(a[0] - b[0]).mean())


def _colours(a, b):
    """Half the L1 distance of two signatures' colour histograms, averaged over channels (0-1)."""
    return float(0.5 * np.abs(a[1] - b[1]).sum() / max(1, len(a[1]) // 16))


class CutFinder:
    """Feed every frame of a clip in order (:meth:`add`; ``None`` for a frame that could not be
    read), then :meth:`starts` gives the rows that begin a new shot."""

    def __init__(self):
        self._prev = None
        self._change = []  # per row: change from the row before (NaN: first row, or no frame)
        self._colours = []
        self._before = {}  # row that looked like a cut -> the signature of the frame before it
        self._flash = set()  # rows of a flash: changed like a cut and back within FLASH_FRAMES
        self._back = set()  # the rows that came back from one

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
            self._change.append(_change(sig, self._prev))
            self._colours.append(_colours(sig, self._prev))
        j = len(self._change) - 1
        for k, before in list(self._before.items()):  # back to the look before a cut-like change?
            if j - k > FLASH_FRAMES:
                del self._before[k]
            elif k < j and not (_change(sig, before) >= CUT_CHANGE and _colours(sig, before) >= CUT_COLOURS):
                self._flash.update(range(k, j))
                self._back.add(j)
                del self._before[k]
        cut = self._cut(j, after=False)
        if cut and self._prev is not None:
            self._before[j] = self._prev
        self._prev = sig
        return cut

    def _cut(self, j, after=True):
        d, h = self._change[j], self._colours[j]
        if not (np.isfinite(d) and d >= CUT_CHANGE and h >= CUT_COLOURS):
            return False
        near = np.asarray(self._change[max(0, j - NEIGHBOURS):j] + (
            self._change[j + 1:j + 1 + NEIGHBOURS] if after else []), np.float64)
        near = near[np.isfinite(near)]
        return bool(d >= CUT_RATIO * ((float(np.median(near)) if len(near) else 0.0) + 1.0))

    def starts(self):
        """(N,) int64 rows (0-based, in the order fed) where a new shot begins after a hard cut
        (not a flash: :data:`FLASH_FRAMES`)."""
        d = np.nan_to_num(np.asarray(self._change, np.float64))
        return np.asarray([j for j in np.flatnonzero(d >= CUT_CHANGE)
                           if j not in self._flash and j not in self._back and self._cut(int(j))], np.int64)

    def flashes(self):
        """(N,) int64 rows of flashes: frames that changed like a cut and whose picture came back
        within :data:`FLASH_FRAMES` (a camera flash: no other row should be drawn from them)."""
        return np.asarray(sorted(self._flash), np.int64)

