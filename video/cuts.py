# SPDX-License-Identifier: GPL-3.0-or-later
"""Hard cuts in footage: where one shot ends and the next begins (numpy + OpenCV).

A strip taken from an edited scene holds several shots. The tracker's temporal filter smoothed
the landmarks across a cut (the first frame of the new shot 6 px off, the four after it 1 px,
on a cut between two framings of one actor), and a render that draws a row from the shot's
other frames must not take them from another shot. :class:`CutFinder` reads a small signature
of each frame as it is decoded and keeps two numbers per frame, so a long clip costs little.

A cut is a frame that differs from the one before it by much more than its neighbours differ
from theirs, in a thumbnail and in the colours: all three of :data:`CUT_CHANGE` (mean absolute
change of a 48x27 grey thumbnail, 0-255; less on dark frames, :data:`CUT_CONTRAST`), :data:`CUT_RATIO` (that change over the median of the
six frames' changes either side, + 1) and :data:`CUT_COLOURS` (half the L1 distance of the
frames' 16-bin colour histograms, 0-1). On the 14 shared clips (handheld, head shakes, a
tilting camera) the largest are 18.5, 6.6 and 0.062; a cut between a medium and a close shot of
one actor in one room reads 46.9, 18.9 and 0.21; a change the picture comes back from within
:data:`FLASH_FRAMES` is a flash, not a cut. Gradual transitions (fades, dissolves) are not
cuts here; jump cuts, where the frame barely changes but the face steps, are found from the
tracked face (:mod:`reenact.tracking.steps`). The frames of a short dissolve (a soft cut) that
show both shots, one face through the other, are found as *blends* (:meth:`CutFinder.blends`,
:data:`DISSOLVE_MAX`): the tracker keeps them from being any row's source, as a flash's. About
1 ms a frame at any size (the dissolves 0.3 of it).
"""

from collections import deque

import cv2
import numpy as np

CUT_CHANGE = 25.0
#: ... on frames of at least this contrast (the standard deviation of the thumbnails' grey
#: levels); on frames of less, CUT_CHANGE scaled down in proportion: a cut between two dark shots
#: changes the thumbnail less than one between lit ones (the shared clips darkened to 35 % and
#: 20 % of their levels, a night interior: the cuts between them read 22.6 and 12.9 at the median
#: against 64.5 lit, and 36 % and 2 % of them were found; their own frames never change by more
#: than 0.49 of their contrast, a cut by 0.95 at the tenth percentile, whatever the light)
CUT_CONTRAST = 40.0
CUT_RATIO = 8.0
CUT_COLOURS = 0.1
#: frames either side whose changes make a frame's local level
NEIGHBOURS = 6
#: a picture back to its look before a cut-like change within this many frames: that change was
#: a flash (a camera flash, a lamp flicker, a damaged frame), not a cut. A one-frame flash on
#: driving_d14 (x1.6 + 60 levels) read as two cuts, the frame after it beginning a third shot.
FLASH_FRAMES = 3
THUMB = (48, 27)

#: Dissolves (:meth:`CutFinder.blends`): a run of 3 to DISSOLVE_MAX frames between two frames
#: whose thumbnails differ by at least DISSOLVE_CHANGE (mean absolute, 0-255) is a dissolve when
#: every frame of it is the two frames' blend (1 - a) A + a B with ``a`` on the straight ramp
#: from 0 to 1 (within DISSOLVE_RAMP) and, where ``a`` is between MIX_MIN and 1 - MIX_MIN, the
#: rest of the frame under DISSOLVE_RESIDUAL of its squared distance to the nearer of A and B.
#: Those frames (one face through the other) are the run's *blended* frames.
DISSOLVE_MAX = 24
DISSOLVE_CHANGE = 12.0
DISSOLVE_RAMP = 0.15
DISSOLVE_RESIDUAL = 0.3
#: ... the residual measured on the thumbnails blurred by this many of their pixels: over a long
#: dissolve both shots move (carphone into its reframing: 16 and 20 frames, 0.57 and 0.65 of the
#: nearer end unblurred, 0.24 and 0.28 blurred; 8 frames 0.19 and 0.03)
DISSOLVE_BLUR = 2.0
MIX_MIN = 0.15
#: :meth:`CutFinder.mixes`: a dissolve is taken whole when each end keeps this share of the detail
#: of the frames of its shot beyond it (this many of them)
DISSOLVE_END_DETAIL = 0.9
DISSOLVE_END_LOOK = 8
#: :meth:`CutFinder.mixes`: a frame of the run whose blend is within this of one shot is that shot's
#: alone (a run found may reach a frame or two beyond the dissolve's own)
MIX_PURE = 0.06
#: ... and its middle frames (``a`` from 0.35 to 0.65) keep at most this share of the two frames'
#: mean detail (squared differences of neighbouring thumbnail pixels): two pictures laid over
#: each other lose contrast where their details do not coincide; a slow camera move, which the
#: thumbnails also read as a ramp, keeps it (source_s29's slow push-in, which the ramp and the
#: residual alone took for a 25-frame dissolve: 1.00-1.01; carphone laid half over its own
#: reframing: 0.48)
DISSOLVE_DETAIL = 0.8
#: ... between two pictures: the end with less detail keeps at least this share of the other's (a
#: fade to or from black is also a straight blend, with black: its frames are lit less, not two
#: pictures, and the fade's own light rule takes them, :attr:`~reenact.face.track.Track.light`)
DISSOLVE_ENDS = 0.25


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
    return grey, hist.astype(np.float32) / max(1, small.shape[0] * small.shape[1]), float(grey.std())


def _level(a, b):
    """The change two signatures' frames must show to be a cut: :data:`CUT_CHANGE`, scaled
    down on dark or flat frames (:data:`CUT_CONTRAST`)."""
    return CUT_CHANGE * min(1.0, 0.5 * (a[2] + b[2]) / CUT_CONTRAST)


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
        self._level = []  # per row: the change that makes a cut there (_level)
        self._before = {}  # row that looked like a cut -> the signature of the frame before it
        self._flash = set()  # rows of a flash: changed like a cut and back within FLASH_FRAMES
        self._back = set()  # the rows that came back from one
        self._recent = deque(maxlen=DISSOLVE_MAX + 2)  # (row, grey thumbnail, its detail, blurred) of the last frames, no gap
        self._blend = set()  # rows blending two shots in a dissolve
        self._runs = []  # the dissolves found: (rows, the later shot's share in each, row before, row after)
        self._detail = {}  # row -> its thumbnail's detail

    def add(self, frame):
        """Read the next frame; True when it looks like a cut by what came before it (its change
        against the frames before only: :meth:`starts` also asks the frames after)."""
        if frame is None:
            self._prev = None
            self._recent.clear()
            self._change.append(np.nan)
            self._colours.append(np.nan)
            self._level.append(np.nan)
            return False
        sig = _signature(frame)
        if self._prev is None:
            self._change.append(np.nan)
            self._colours.append(np.nan)
            self._level.append(np.nan)
        else:
            self._change.append(_change(sig, self._prev))
            self._colours.append(_colours(sig, self._prev))
            self._level.append(_level(sig, self._prev))
        j = len(self._change) - 1
        for k, before in list(self._before.items()):  # back to the look before a cut-like change?
            if j - k > FLASH_FRAMES:
                del self._before[k]
            elif k < j and not (_change(sig, before) >= _level(sig, before) and _colours(sig, before) >= CUT_COLOURS):
                self._flash.update(range(k, j))
                self._back.add(j)
                del self._before[k]
        cut = self._cut(j, after=False)
        if cut and self._prev is not None:
            self._before[j] = self._prev
        self._prev = sig
        g = sig[0].astype(np.float64)
        detail = float((np.diff(g, axis=0) ** 2).sum() + (np.diff(g, axis=1) ** 2).sum())
        self._recent.append((j, g.ravel(), detail, cv2.GaussianBlur(g, (0, 0), DISSOLVE_BLUR).ravel()))
        self._detail[j] = detail
        self._dissolves()
        return cut

    def _dissolves(self):
        """The runs ending at the frame just read whose frames blend the frame before them and
        this one (:data:`DISSOLVE_MAX`): their blended frames into ``_blend``."""
        rec = list(self._recent)
        B = rec[-1][1]
        for n in range(3, len(rec) - 1):  # n frames between A and B
            A = rec[-n - 2][1]
            D = B - A
            ea, eb = rec[-n - 2][2], rec[-1][2]
            if float(np.abs(D).mean()) < DISSOLVE_CHANGE or min(ea, eb) < DISSOLVE_ENDS * max(ea, eb):
                continue
            X = np.stack([r[1] for r in rec[-n - 1:-1]])
            a = (X - A) @ D / float(D @ D)
            if np.abs(a - np.arange(1, n + 1) / (n + 1.0)).max() > DISSOLVE_RAMP:
                continue
            mid = (a >= MIX_MIN) & (a <= 1.0 - MIX_MIN)
            # (on the thumbnails blurred: both shots move over a long dissolve, its ends less like its middle)
            Ab, Bb, Xb = rec[-n - 2][3], rec[-1][3], np.stack([r[3] for r in rec[-n - 1:-1]])
            res = ((Xb - Ab - a[:, None] * (Bb - Ab)) ** 2).sum(1)
            near = np.minimum(((Xb - Ab) ** 2).sum(1), ((Xb - Bb) ** 2).sum(1))
            core = (a >= 0.35) & (a <= 0.65)  # (the middle frames)
            flat = np.asarray([r[2] for r in rec[-n - 1:-1]])[core] <= DISSOLVE_DETAIL * 0.5 * (ea + eb)
            if mid.any() and core.any() and flat.all() and (res[mid] <= DISSOLVE_RESIDUAL * near[mid]).all():
                self._blend.update(int(rec[-n - 1 + k][0]) for k in np.flatnonzero(mid))
                keep = np.flatnonzero((a > MIX_PURE) & (a < 1.0 - MIX_PURE))  # (a frame of one shot beside it: none)
                self._runs.append(([int(rec[-n - 1 + k][0]) for k in keep], [float(a[k]) for k in keep],
                                   int(rec[-n - 2][0]), int(rec[-1][0])))

    def _cut(self, j, after=True):
        d, h = self._change[j], self._colours[j]
        if not (np.isfinite(d) and d >= self._level[j] and h >= CUT_COLOURS):
            return False
        near = np.asarray(self._change[max(0, j - NEIGHBOURS):j] + (
            self._change[j + 1:j + 1 + NEIGHBOURS] if after else []), np.float64)
        near = near[np.isfinite(near)]
        floor = self._level[j] / CUT_CHANGE  # (1 level on lit frames, less on dark ones, as the change)
        return bool(d >= CUT_RATIO * ((float(np.median(near)) if len(near) else 0.0) + floor))

    def starts(self):
        """(N,) int64 rows (0-based, in the order fed) where a new shot begins after a hard cut
        (not a flash: :data:`FLASH_FRAMES`)."""
        d = np.nan_to_num(np.asarray(self._change, np.float64))
        return np.asarray([j for j in np.flatnonzero(d >= np.nan_to_num(np.asarray(self._level), nan=np.inf))
                           if j not in self._flash and j not in self._back and self._cut(int(j))], np.int64)

    def blends(self):
        """(N,) int64 rows that blend two shots in a dissolve (:data:`DISSOLVE_MAX`): one face
        seen through the other, no other row should be drawn from them."""
        return np.asarray(sorted(self._blend), np.int64)

    def mixes(self):
        """{row: (share of the later shot in it, 0..1, the row before the dissolve, the row after
        it)} for every row of a dissolve :meth:`blends` found whole (its blended rows and the ones
        nearly all of one shot at its ends). A run found inside a longer dissolve (its ends blends
        themselves, the shares then measured against them: 0.27 off on a 32-frame one) is left
        out: each of its ends must keep :data:`DISSOLVE_END_DETAIL` of the detail the frames of
        its own shot beyond it show (:data:`DISSOLVE_END_LOOK` of them), as a frame of one shot
        does and a blend, which loses detail, does not."""
        out = {}
        for rows, shares, before, after in self._runs:
            if self._whole_end(before, -1) and self._whole_end(after, 1):
                for r, a in zip(rows, shares):
                    out[r] = (a, before, after)
        return out

    def _whole_end(self, row, step):
        """True when ``row`` keeps :data:`DISSOLVE_END_DETAIL` of the most detail the frames
        beyond it (``step`` -1: before it, 1: after it) show."""
        beyond = [self._detail[row + step * k] for k in range(1, DISSOLVE_END_LOOK + 1) if row + step * k in self._detail]
        return not beyond or self._detail.get(row, 0.0) >= DISSOLVE_END_DETAIL * max(beyond)

    def flashes(self):
        """(N,) int64 rows of flashes: frames that changed like a cut and whose picture came back
        within :data:`FLASH_FRAMES` (a camera flash: no other row should be drawn from them)."""
        return np.asarray(sorted(self._flash), np.int64)

