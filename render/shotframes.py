# SPDX-License-Identifier: GPL-3.0-or-later
"""The shot's own frames as sources (:mod:`.rewrite`, :mod:`.eyes`): footage frames read by Track
row with their fitted meshes (:class:`ShotFrames`), and the choice of a source frame per row that
keeps runs of consecutive frames (:func:`_runs`), and a region of a frame replaced from a
warped source (:func:`replace_region`)."""

import threading

import cv2
import numpy as np

from ..face.camera import posed_vertices
from .donor import ClipFrames, _poly_mask
from .head import posed_points
from .meshes import channels, wide_blur
from .motion import smooth_field
from .plates import footage_area
from .rims import eye_loops, find_rims, paste_rims, rim_affine, without_rims
from .warp import warp_field, warp_image

#: cost (cm of lip distance) per degree of head turn between the footage frame and the row
POSE_COST = 0.01
#: footage frames considered per row (the nearest by lip distance)
CANDIDATES = 24
#: :class:`ShotFrames`' ``area`` found in the footage (:func:`~.plates.footage_area`)
FIND = "find"


#: a footage frame of another shot than the row being drawn costs this much more in every choice
#: of source (mouth, head, eyes, brows): taken only where the row's shot offers none
OTHER_SHOT = 1e6


#: a footage frame whose face is lit more than this many times brighter or darker than the row's
#: (:attr:`~reenact.face.track.Track.light`: a fade) costs :data:`OTHER_LIGHT` more: taken only
#: where no frame nearer in light offers itself. On the 13 shared clips with a face its light stays within
#: 1.11x of its lowest (driving_d3: 1.32x), so their choices do not change; a 40-frame fade to black at
#: either end of driving_d19 had given 35 rows of full light the dark lower face of a fading
#: frame (a third of the footage's brightness) before.
LIGHT_APART = 1.35
OTHER_LIGHT = 1e3
#: :meth:`ShotFrames.light_gain` corrects a source's light beyond this ratio (below it the colour
#: match over the region's edge does, as before)
LIGHT_NEAR = 1.1


def other_shot(shots, pool, r, light=None):
    """(len(pool),) :data:`OTHER_SHOT` where footage row ``pool[i]`` lies in another shot than row
    ``r``, plus :data:`OTHER_LIGHT` where its face's ``light`` (the footage Track's
    :attr:`~reenact.face.track.Track.light`, or the Track itself; None or empty: not known) is
    :data:`LIGHT_APART` from row ``r``'s or NaN (a flash) while row ``r``'s is known, and where the
    Track's ``no_source`` (bool (T,), set by :meth:`~.front.InFront.sources`: something stands in
    front of the face) is set; ``shots``: the footage Track's :meth:`~reenact.face.track.Track.shots`."""
    pool = np.asarray(pool, np.int64)
    cost = OTHER_SHOT * (shots[pool] != shots[int(r)])
    no_source = getattr(light, "no_source", None)
    light = getattr(light, "light", light)
    if no_source is not None and len(no_source) == len(shots):
        cost = cost + OTHER_LIGHT * np.asarray(no_source, bool)[pool]
    if light is not None and len(light) == len(shots) and np.isfinite(light[int(r)]):
        apart = np.abs(np.log((np.asarray(light, np.float64)[pool] + 1.0) / (float(light[int(r)]) + 1.0)))
        cost = cost + OTHER_LIGHT * ~(apart <= np.log(LIGHT_APART))  # (NaN, a flash's: apart)
    return cost


def other_shot_block(shots, pool, rows, light=None):
    """:func:`other_shot` for every row of ``rows`` at once: (len(rows), len(pool))."""
    pool, rows = np.asarray(pool, np.int64), np.asarray(rows, np.int64)
    cost = OTHER_SHOT * (shots[pool][None, :] != shots[rows][:, None])
    no_source = getattr(light, "no_source", None)
    light = getattr(light, "light", light)
    if no_source is not None and len(no_source) == len(shots):
        cost = cost + OTHER_LIGHT * np.asarray(no_source, bool)[pool][None, :]
    if light is not None and len(light) == len(shots):
        lr = np.asarray(light, np.float64)[rows]
        known = np.isfinite(lr)
        if known.any():
            with np.errstate(invalid="ignore", divide="ignore"):
                apart = np.abs(np.log((np.asarray(light, np.float64)[pool][None, :] + 1.0) / (lr[:, None] + 1.0)))
            cost = cost + OTHER_LIGHT * (~(apart <= np.log(LIGHT_APART)) & known[:, None])
    return cost


def replace_region(frame, src, box, hull, feather):
    """``frame`` with the convex ``hull`` (K, 2) filled from ``src`` (the frame box ``box``'s
    pixels, float32), feathered by a Gaussian of ``feather`` px, ``src``'s colour matched per
    channel (gain 0.8-1.25) over the feathered edge, where the two meet."""
    x0, y0, x1, y1 = box
    sl = (slice(y0, y1), slice(x0, x1))
    base = frame[sl].astype(np.float32)
    roi = (x0, y0, x1 - x0, y1 - y0)
    m = _poly_mask((roi[3], roi[2]), cv2.convexHull(np.asarray(hull, np.float32))[:, 0], roi).astype(np.float32)
    lf = wide_blur(m, feather)
    edge = np.flatnonzero((lf > 0.05) & (lf < 0.95))
    if len(edge) > 16:
        # (the edge's pixels taken by index: the same (N, 3) arrays as by the mask, in half the time)
        b, s = (np.take(x.reshape(-1, x.shape[-1]), edge, axis=0).mean(0) for x in (base, src))
        src = src * np.clip((b + 1.0) / (s + 1.0), 0.8, 1.25).astype(np.float32)
    a = channels(lf)
    mix = base * (1.0 - a)  # (base * (1 - a) + src * a + 0.5, without the temporaries)
    mix += src * a
    mix += 0.5
    out = frame.copy()
    out[sl] = np.clip(mix, 0, 255, out=mix).astype(np.uint8)
    return out


def model_vertices(track, rows=None, points=None):
    """((R, N, 3) ``track``'s fitted mesh at ``rows`` (default every row) in the actor's model
    frame (cm, no pose), (R,) bool: rows without a tracked expression, whose vertices mean
    nothing (the callers set what they measure there to NaN)). ``points``: only those vertices
    (R, len(points), 3)."""
    rows = np.arange(track.n_frames) if rows is None else np.asarray(rows, np.int64)
    ex = np.asarray(track.expression, np.float64)[rows]
    bad = ~np.isfinite(ex).all(1)
    return posed_vertices(track.identity, track.expression_basis, np.nan_to_num(ex), np.zeros((len(rows), 6)),
                          points), bad


def padded_box(points, pad, shape, area=None):
    """(x0, y0, x1, y1): the box of ``points`` (K, 2) grown by ``pad`` px and cut to a frame of
    ``shape`` (H, W, ...), and to the picture ``area`` (x0, y0, x1, y1) inside letterbox or
    pillarbox bars when given, or None when nothing of it is inside."""
    H, W = shape[:2]
    ax0, ay0, ax1, ay1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    x0, y0 = np.maximum((np.floor(points.min(0)) - pad).astype(int), (ax0, ay0))
    x1, y1 = np.minimum((np.ceil(points.max(0)) + pad).astype(int), (min(W, ax1), min(H, ay1)))
    return None if x1 <= x0 or y1 <= y0 else (int(x0), int(y0), int(x1), int(y1))


def _runs(rows, cand, cost, switch_cost, out, dist, hold_cost=None):
    """The dynamic programme of :func:`plan`: per stretch of consecutive ``rows`` that have
    candidates (``cand[k]``: footage rows, ``cost[k]``: (K, 2) cost and distance), the candidate
    path of least total cost, where continuing a run of consecutive footage frames is free and
    leaving it costs ``switch_cost``; staying on the same footage frame costs ``hold_cost``
    (default: ``switch_cost``). Fills and returns (``out``, ``dist``)."""
    k = 0
    while k < len(rows):
        if cand[k] is None:
            k += 1
            continue
        e = k
        while e < len(rows) and cand[e] is not None:
            e += 1
        acc = cost[k][:, 0].copy()
        back = []
        for t in range(k + 1, e):
            prev, cur = cand[t - 1], cand[t]
            step = cur[:, None] - prev[None, :]  # (cur, prev)
            trans = np.where(step == rows[t] - rows[t - 1], 0.0,
                             switch_cost if hold_cost is None else np.where(step == 0, hold_cost, switch_cost))
            tot = acc[None, :] + trans
            b = np.argmin(tot, 1)
            back.append(b)
            acc = tot[np.arange(len(cur)), b] + cost[t][:, 0]
        i = int(np.argmin(acc))
        for t in range(e - 1, k - 1, -1):
            out[t] = cand[t][i]
            dist[t] = cost[t][i, 1]
            if t > k:
                i = int(back[t - k - 1][i])
        k = e
    return out, dist


class RowPoints:
    """:func:`~.head.posed_points` of ``track``'s rows made as they are read (``[j]``, ``[rows]``)
    and kept: a dub of a long shot reads a few rows' meshes per frame, and Preview Frame one
    frame's, where the whole mesh of every row of a 10-minute shot (20,000 rows) took 3 s and 225
    MB per preview. ``which``: 0 the pixels, 1 the depths; a pair shares its rows
    (:func:`lazy_points`). ``np.asarray`` gives every row."""

    BLOCK = 64  # rows made at once

    def __init__(self, track, which, rows=None):
        self.track, self.which = track, int(which)
        self._rows = {} if rows is None else rows

    def __len__(self):
        return int(self.track.n_frames)

    def _block(self, b):
        got = self._rows.get(b)
        if got is None:  # (two draw threads may both make a block: the same values)
            lo = b * self.BLOCK
            got = self._rows[b] = posed_points(self.track, np.arange(lo, min(lo + self.BLOCK, len(self))))
        return got[self.which]

    def __getitem__(self, j):
        if np.ndim(j) == 0:
            j = int(j)
            if j < 0:
                j += len(self)
            if not 0 <= j < len(self):
                raise IndexError(j)
            return self._block(j // self.BLOCK)[j % self.BLOCK]
        rows = np.arange(len(self))[j]
        return np.stack([self[k] for k in rows]) if len(rows) else np.asarray(self)[:0]

    def __array__(self, dtype=None, copy=None):
        out = np.concatenate([self._block(b) for b in range((len(self) + self.BLOCK - 1) // self.BLOCK)])
        return out if dtype is None else out.astype(dtype)


def lazy_points(track):
    """(pixels, depths) of ``track``'s fitted mesh as :class:`RowPoints`, made as read."""
    rows = {}
    return RowPoints(track, 0, rows), RowPoints(track, 1, rows)


class ShotFrames(ClipFrames):
    """Frames of the footage ``video`` read by Track row of ``own`` (:class:`~reenact.render.donor.ClipFrames`),
    with the fitted mesh's points and depths of every row (``points``: (points, depths) of
    :func:`~reenact.render.head.posed_points`, when the caller has them). ``area``: the picture
    inside letterbox or pillarbox bars (x0, y0, x1, y1; None: the whole frame; by default found
    in the footage on first use, :func:`~.plates.footage_area`), which the regions drawn from
    these frames (:meth:`warped`, :func:`padded_box`) neither sample nor cross."""

    _area_lock = threading.Lock()

    def __init__(self, own, video, points=None, area=FIND):
        super().__init__(video)
        self.own = own
        self.ps, self.zs = lazy_points(own) if points is None else points  # (made as read: see RowPoints)
        self.identity = np.asarray(own.identity, np.float64)
        self._area = area if area is FIND or area is None else tuple(int(v) for v in area)
        self._rims, self._clean, self._rims_lock = {}, {}, threading.Lock()
        self._warps, self._warps_lock = {}, threading.Lock()

    @property
    def area(self):
        if self._area is FIND:  # (a dub's rows are drawn two at a time: found once)
            with self._area_lock:
                if self._area is FIND:
                    self._area = footage_area(self.video, self.own)
        return self._area

    #: glasses rims over the eyes taken out of the frames read (:mod:`.rims`; set per shot)
    rimless = False

    @property
    def shot_of(self):
        """(T,) int64: the shot of each footage row (:meth:`~reenact.face.track.Track.shots`)."""
        if getattr(self, "_shot_of", None) is None:
            self._shot_of = self.own.shots()
        return self._shot_of

    def light_gain(self, j, r):
        """The gain taking the light on the face in footage row ``j`` to row ``r``'s (their
        :attr:`~reenact.face.track.Track.light`; 1 where either is unknown) beyond
        :data:`LIGHT_NEAR` (what the colour match over a region's edge carries), within
        :data:`LIGHT_APART`: a source taken from a fading frame is lit as the row."""
        light = self.own.light
        if not (len(light) == self.own.n_frames and 0 <= j < len(light) and 0 <= r < len(light)):
            return np.float32(1.0)
        g = (float(light[r]) + 1.0) / (float(light[j]) + 1.0)
        if not np.isfinite(g):
            return np.float32(1.0)
        g = float(np.clip(g, 1.0 / LIGHT_APART, LIGHT_APART))
        return np.float32(g / np.clip(g, 1.0 / LIGHT_NEAR, LIGHT_NEAR))

    def same_shot(self, j, k):
        """True when footage rows ``j`` and ``k`` lie in one shot (no cut between them)."""
        s = self.shot_of
        return j is not None and k is not None and 0 <= j < len(s) and 0 <= k < len(s) and s[j] == s[k]

    def _frame(self, j):
        fr = self.clip_frame(int(self.own.frame_start) + int(j))
        if not self.rimless:
            return fr
        # the frame without its rims, kept as the frames are (a source is read for three rows and
        # by several steps of each)
        j = int(j)
        with self._rims_lock:
            clean = self._clean.get(j)
        if clean is None:
            clean = without_rims(fr, self.rims(j))
            with self._rims_lock:
                while len(self._clean) >= self.KEEP:
                    self._clean.pop(next(iter(self._clean)))
                self._clean[j] = clean
        return clean

    def rims(self, j, frame=None):
        """[:class:`~.rims.Rim`] over the eyes of footage row ``j`` (cached; ``frame``: that row's
        footage frame, when the caller has it: not decoded again)."""
        j = int(j)
        with self._rims_lock:
            if j in self._rims:
                return self._rims[j]
        # (found outside the lock: the draw threads' rows do not wait on each other's)
        fr = self.clip_frame(int(self.own.frame_start) + j) if frame is None else frame
        rims = find_rims(fr, eye_loops(self.ps[j]))
        with self._rims_lock:
            return self._rims.setdefault(j, rims)

    def rims_over(self, frame, sources):
        """``frame`` with the rims of footage rows laid over it: ``sources`` [(row, weight, src,
        dst)], each row's rims moved as the points ``src`` (its mesh without expression) move to
        ``dst`` around the eyes, averaged by weight (:func:`~.rims.paste_rims`)."""
        layers = [(self.rims(j), rim_affine(np.concatenate(eye_loops(a)), np.concatenate(eye_loops(b))), w)
                  for j, w, a, b in sources]
        return paste_rims(frame, layers)

    def warped(self, j, pd, zd, box, smooth=0.0, head_model="plane"):
        """Footage row ``j`` warped by the fitted meshes to the points ``pd`` (depths ``zd``),
        inside the frame box (x0, y0, x1, y1) only, bicubic: float32 (y1-y0, x1-x0, 3).
        ``head_model`` (:func:`~reenact.render.warp.warp_field`): the plane by default (what lies
        beyond the mesh only feathers the lower face's edge here)."""
        # the last few kept: a run of rows drawn from one source warps it three times onto each
        # row (the row's and its neighbours' sources, blended 1/4, 1/2, 1/4), the same warp each
        # time; read-only, the callers blend copies
        key = (int(j), np.asarray(pd, np.float64).tobytes(), None if zd is None else np.asarray(zd, np.float64).tobytes(),
               tuple(int(v) for v in box), float(smooth), head_model)
        with self._warps_lock:
            out = self._warps.get(key)
        if out is None:
            out = self._warped(j, pd, zd, box, smooth, head_model)
            out.setflags(write=False)
            with self._warps_lock:
                while len(self._warps) >= 2:  # (two rows drawn at once)
                    self._warps.pop(next(iter(self._warps)))
                self._warps[key] = out
        return out

    def _warped(self, j, pd, zd, box, smooth, head_model):
        x0, y0, x1, y1 = box
        H, W = self._frame(j).shape[:2]
        # at full resolution (at half, the jaw's motion carried beyond the mesh moved up to 3 px
        # and drew hair onto a cheek: docs/warp.md); only the map is used: no masks, no occlusion tests
        f = warp_field(self.ps[j], pd, None, (H, W), dst_depth=zd, model_points=self.identity, within=box,
                       head_model=head_model, masks=False, part=True)  # (the box's part alone)
        if smooth > 0:
            f = smooth_field(f, smooth, frame=(H, W))
        return warp_image(self._frame(j), f, interpolation=cv2.INTER_CUBIC, box=box, area=self.area).astype(np.float32)
