# SPDX-License-Identifier: GPL-3.0-or-later
"""Exemplar-based completion of a shot's background plate: the room that no frame of the shot
shows (where the actor always stood) drawn from patches of the room that frames do show, so a
head moved by region ``head`` uncovers wall, leaves or hills instead of a smooth smear of their
colours (the pull-push fill of :func:`.head.smooth_fill` has the room's colours but none of its
texture or lines: a pale veil where s20's hills were cut, an olive halo beside d20's head).

The method is the coarse-to-fine patch search and vote of Wexler, Shechtman and Irani ("Space-
Time Completion of Video", 2007) with the randomised nearest-neighbour field of Barnes et al.
(PatchMatch, 2009), vectorised over all the hole's patches at once: at each pyramid level every
patch that overlaps the hole finds a similar patch wholly inside the known room (propagation
from its neighbours' matches, then a random search in shrinking windows), and each hole pixel
becomes the weighted mean of what the overlapping matches put there. The plate is completed once
per shot (seeded: the same footage gives the same plate), so the filled room does not shimmer
from frame to frame and a farm chunk, Preview Frame and a whole render draw the same room.
"""

import cv2
import numpy as np

from ..video.bars import within
from .head import _pull_push

#: patch side in pixels at every level
PATCH = 7
#: unknown room farther than this fraction of the plate's shorter side from every known pixel
#: is left to the smooth fill (deep inside the body, which a moved head does not uncover)
BAND = 0.15
#: the coarsest level is chosen so that the hole is at most this many pixels from known room
COARSE_REACH = 6
#: ... but no level shorter than this (a thin strip of room beside a bar or a head vanishes)
COARSE_SIDE = 64
#: levels with a shorter side above this get one pass of search and vote (1080p footage)
FINE_SIDE = 480
SEED = 20261202
#: plates with a shorter side above this are completed at this size and scaled up
MAX_SIDE = 1080
#: a hole's patch is drawn from known room within this fraction of the shorter side of it (or
#: further, where the nearest room is further)
SOURCE_REACH = 0.2
#: a source patch is shifted to the hole's local mean colour (:meth:`_Level.bias`, means over a
#: Gaussian of BIAS_SIGMA patches) by at most BIAS_MAX levels, and the shift costs BIAS_COST
#: per level squared against the patches' per-pixel differences (the same colour is preferred)
BIAS_MAX = 40.0
BIAS_COST = 1.0
BIAS_SIGMA = 0.5
#: at the coarsest level, the weight of the difference between a source's surroundings and the
#: hole's (the room's colours over 1.5 patches, carried smoothly into the hole)
GUIDE = 4.0
#: a hole pixel counts CONFIDENCE ** -(its distance from the known room, px at its level)
CONFIDENCE = 1.3

_R = PATCH // 2
_ALL = [(dy, dx) for dy in range(-_R, _R + 1) for dx in range(-_R, _R + 1)]
# the search compares every other pixel of the patch (and its centre): ~3x cheaper, the same matches
_SEARCH = [(dy, dx) for dy in range(-_R, _R + 1, 2) for dx in range(-_R, _R + 1, 2)] + [(0, 0)]


def _down(img, w):
    """One level down (half size, area-weighted by ``w``): (img, weight)."""
    h, wd = w.shape
    size = (max(1, (wd + 1) // 2), max(1, (h + 1) // 2))
    num = cv2.resize(img * w[..., None], size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(w, size, interpolation=cv2.INTER_AREA)
    return num / np.maximum(den, 1e-6)[..., None], den


def _rows(a, idx):
    """``a[idx]`` for a C-contiguous (N, k) ``a`` and integer ``idx`` of any shape: each row moved
    as one item (numpy's fancy index of (N, 3) float32 rows moved them value by value, ~3x
    slower; the same values)."""
    k = a.shape[1]
    item = a.view("V{}".format(k * a.itemsize)).reshape(-1)
    return item.take(idx).view(a.dtype).reshape(np.shape(idx) + (k,))


def _pad(a, value=0):
    if a.ndim == 3:
        return np.pad(a, ((_R, _R), (_R, _R), (0, 0)), mode="edge")
    return np.pad(a, _R, mode="constant", constant_values=value)


class _Level:
    """One pyramid level: the image and masks padded by the patch radius, flat indices."""

    def __init__(self, img, known, target, source_ok, coarsest):
        self.h, self.w = known.shape
        self.W = self.w + 2 * _R
        self.img = _pad(np.asarray(img, np.float32)).reshape(-1, 3).copy()
        self.target = _pad(target, False).ravel()
        # what a distance counts: known room and the hole being drawn; at the coarsest level,
        # where the hole holds only a smooth guess, the hole less the deeper it lies (Wexler et
        # al.'s confidence, CONFIDENCE ** -distance): patches by the hole's edge are matched by the
        # room around them, not by the guess (which drew flat patches). Finer levels start from
        # the coarser level's picture and weigh it fully (else deep patches match anything, and
        # the coarse level's blocks stay as a lattice)
        conf = (known | target).astype(np.float32)
        if coarsest:
            far = cv2.distanceTransform((~known).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
            conf = np.where(known, 1.0, np.where(target, CONFIDENCE ** -far, 0.0)).astype(np.float32)
        self.weight = _pad(conf).ravel()
        full = cv2.erode(source_ok.astype(np.uint8), np.ones((PATCH, PATCH), np.uint8),
                         borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        self.source = _pad(full, False).ravel()
        centres = cv2.dilate(target.astype(np.uint8), np.ones((PATCH, PATCH), np.uint8)) > 0
        cy, cx = np.nonzero(centres)
        self.cy, self.cx = cy + _R, cx + _R
        self.c = self.cy * self.W + self.cx
        self.slot = np.full(self.target.shape, -1, np.int64)  # flat pixel -> its centre's number
        self.slot[self.c] = np.arange(len(self.c))
        self.src_list = np.flatnonzero(self.source)
        # local mean colours (a Gaussian of half a patch): a source is copied shifted by the
        # difference between the hole's local mean (the picture being drawn, from the coarser
        # level or the smooth fill) and its own, so the room's shading comes with the hole's
        # surroundings and only the texture with the patch (a wall lit differently elsewhere
        # was copied as a lighter block, d3; image melding's colour adjustment, simplified)
        have = known.astype(np.float32)
        sig = BIAS_SIGMA * PATCH
        num = cv2.GaussianBlur(np.asarray(img, np.float32) * have[..., None], (0, 0), sig)
        den = cv2.GaussianBlur(have, (0, 0), sig)
        self.low_src = _pad(num / np.maximum(den, 1e-6)[..., None]).reshape(-1, 3)
        # at the coarsest level, where the hole holds only a smooth guess: the room's colours
        # at the scale of a few patches carried smoothly into the hole, and a patch whose
        # surroundings differ from them costs more (a shelf's things copied onto the wall above
        # it, d14)
        self.guide = None
        if coarsest and GUIDE:
            g = 1.5 * PATCH
            num = cv2.GaussianBlur(np.asarray(img, np.float32) * have[..., None], (0, 0), g)
            den = cv2.GaussianBlur(have, (0, 0), g)
            low = np.where((den > 0.05)[..., None], num / np.maximum(den, 1e-6)[..., None], 0)
            self.guide = _pad(_pull_push(low, den > 0.05).astype(np.float32)).reshape(-1, 3)
        # each centre draws from room within its reach (SOURCE_REACH of the shorter side, or
        # further where the nearest room is): the wall beside a head, not a floor across the frame
        inner = full.astype(np.uint8) if full.any() else None
        if inner is not None and len(self.c):
            dist, lab = cv2.distanceTransformWithLabels(1 - inner, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
            yx = np.argwhere(full)  # raster order: label k is the k-th source pixel
            near = yx[lab[cy, cx] - 1]
            self.near = (near[:, 0] + _R) * self.W + (near[:, 1] + _R)
            self.reach = np.maximum(SOURCE_REACH * min(self.h, self.w), 1.5 * dist[cy, cx] + PATCH)
        else:
            self.near = np.zeros(len(self.c), np.int64)
            self.reach = np.zeros(len(self.c))

        # the search compares descriptors: each source's pixels at the _SEARCH offsets (fixed:
        # sources are known room; uint8, one row per source) against each centre's (redrawn after
        # every vote, :meth:`describe`), ~5x faster than gathering pixel by pixel
        offs = self.offsets(_SEARCH)
        self.row = np.full(self.target.shape, -1, np.int32)
        self.row[self.src_list] = np.arange(len(self.src_list), dtype=np.int32)
        u8 = self.img + 0.5
        u8 = np.clip(u8, 0, 255, out=u8).astype(np.uint8)
        self.sdesc = _rows(u8, self.src_list[:, None] + np.asarray(offs)).reshape(len(self.src_list), -1)
        self.tw = self.weight.take(self.c[:, None] + np.asarray(offs))
        # the shift: fully at finer levels (their picture is the coarser level's); at the
        # coarsest, where the hole holds a smooth guess, as far as the guess is sure (its
        # confidence: by the hole's edge, not deep inside where it blends hills and sky)
        self.bias_scale = (self.weight[self.c] if coarsest else np.ones(len(self.c))).astype(np.float32)
        self.describe()

    def offsets(self, pairs):
        return [dy * self.W + dx for dy, dx in pairs]

    def describe(self):
        self.tdesc = _rows(self.img, self.c[:, None] + np.asarray(self.offsets(_SEARCH))).reshape(len(self.c), -1)
        pic = self.img.reshape(self.h + 2 * _R, self.W, 3)
        self.low_tgt = cv2.GaussianBlur(pic, (0, 0), BIAS_SIGMA * PATCH).reshape(-1, 3)[self.c]

    def bias(self, idx, s):
        """(n, 3): what source ``s`` is shifted by to stand at centres ``idx`` (None: all)."""
        low = self.low_tgt if idx is None else _rows(self.low_tgt, idx)
        scale = self.bias_scale if idx is None else self.bias_scale[idx]
        return np.clip(low - _rows(self.low_src, s), -BIAS_MAX, BIAS_MAX) * scale[:, None]

    def dist(self, idx, s):
        """Distances of centres ``idx`` (their numbers; None: all) to sources ``s`` (flat),
        each shifted by its :meth:`bias`, plus :data:`BIAS_COST` for the shift."""
        t = self.tdesc if idx is None else _rows(self.tdesc, idx)
        w = self.tw if idx is None else _rows(self.tw, idx)
        b = self.bias(idx, s)
        # (the rows gathered whole, the differences squared in place: the same values)
        diff = np.subtract(t, _rows(self.sdesc, self.row[s])).reshape(len(t), -1, 3)
        diff -= b[:, None, :]
        d = np.einsum("ikc,ik->i", np.multiply(diff, diff, out=diff), w)
        d = d + BIAS_COST * len(_SEARCH) * np.einsum("ij,ij->i", b, b)
        if self.guide is not None:
            g = self.guide[self.c if idx is None else self.c[idx]] - self.guide[s]
            d = d + GUIDE * len(_SEARCH) * np.einsum("ij,ij->i", g, g)
        return d

    def valid(self, sy, sx):
        ok = (sy >= _R) & (sy < self.h + _R) & (sx >= _R) & (sx < self.w + _R)
        flat = np.where(ok, sy * self.W + sx, 0)
        return ok & self.source[flat], flat


def _search(L, s, rng, radius, steps):
    """Improve the matches ``s`` (flat source centres, one per centre of ``L``): propagation
    from the neighbours ``steps`` away, then a random search in windows from ``radius`` down."""
    d = L.dist(None, s)
    sy, sx = s // L.W, s % L.W
    for step in steps:
        for dy, dx in ((step, 0), (-step, 0), (0, step), (0, -step)):
            ny, nx = L.cy + dy, L.cx + dx
            inb = (ny >= 0) & (ny < L.h + 2 * _R) & (nx >= 0) & (nx < L.W)
            nb = np.where(inb, L.slot[np.where(inb, ny * L.W + nx, 0)], -1)
            have = nb >= 0
            cy_ = np.where(have, sy[np.maximum(nb, 0)] - dy, -1)
            cx_ = np.where(have, sx[np.maximum(nb, 0)] - dx, -1)
            ok, flat = L.valid(cy_, cx_)
            _try(L, s, sy, sx, d, ok, flat, cy_, cx_)
    R = radius
    while R >= 1:
        cy_ = sy + rng.integers(-R, R + 1, len(sy))
        cx_ = sx + rng.integers(-R, R + 1, len(sx))
        ok, flat = L.valid(cy_, cx_)
        _try(L, s, sy, sx, d, ok, flat, cy_, cx_)
        R //= 2
    return s, d


def _try(L, s, sy, sx, d, ok, flat, cy_, cx_):
    ok = ok & ((cy_ - L.cy) ** 2 + (cx_ - L.cx) ** 2 <= L.reach ** 2)
    idx = np.flatnonzero(ok & (flat != s))
    if not len(idx):
        return
    dn = L.dist(idx, flat[idx])
    better = dn < d[idx]
    j = idx[better]
    s[j], sy[j], sx[j], d[j] = flat[j], cy_[j], cx_[j], dn[better]


def _vote(L, s, d):
    """Each hole pixel: the mean of what the matched patches overlapping it put there, weighted
    by how well each matched (Wexler et al.'s exp(-d / 2 sigma^2), sigma^2 the 75th percentile)."""
    sig2 = max(float(np.percentile(d, 75)), 1e-3) if len(d) else 1.0
    wt = (np.exp(-d / (2.0 * sig2)) * L.weight[L.c]).astype(np.float32) + 1e-6
    b = L.bias(None, s)
    acc = np.zeros_like(L.img)
    wsum = np.zeros(len(L.img), np.float32)
    for o in L.offsets(_ALL):
        q = L.c + o
        on = np.flatnonzero(L.target[q])
        qq, w = q[on], wt[on]
        # acc[qq] += w * (img[s + o] + b), the rows gathered and put back whole (2x faster)
        x = _rows(L.img, s[on] + o)
        x += _rows(b, on)
        x *= cv2.merge([w[:, None]] * 3).reshape(-1, 3) if len(w) else w[:, None]  # (numpy's broadcast: 4x slower)
        x += _rows(acc, qq)
        acc.view("V12").reshape(-1)[qq] = x.view("V12").reshape(-1)
        wsum[qq] += w
    t = np.flatnonzero(L.target & (wsum > 0))
    L.img[t] = acc[t] / wsum[t, None]
    L.describe()


def _upsample(coarse, s_coarse, fine, rng):
    """Matches of ``fine``'s centres from the coarser level's: twice the coarse match plus the
    pixel's place in its 2x2 block; invalid or missing ones scattered (:func:`_scatter`)."""
    y, x = fine.cy - _R, fine.cx - _R
    cslot = coarse.slot[(y // 2 + _R) * coarse.W + (x // 2 + _R)]
    have = cslot >= 0
    sc = s_coarse[np.maximum(cslot, 0)]
    sy = 2 * (sc // coarse.W - _R) + (y % 2) + _R
    sx = 2 * (sc % coarse.W - _R) + (x % 2) + _R
    ok, flat = fine.valid(np.where(have, sy, -1), np.where(have, sx, -1))
    out = flat.copy()
    bad = np.flatnonzero(~ok)
    out[bad] = _scatter(fine, bad, rng)
    return out


def _scatter(L, idx, rng, tries=8):
    """Random sources within reach for centres ``idx`` (their numbers); the nearest room where
    no try lands on room. (All of them on the nearest room copied one patch over a wall as a
    flat block, d3.)"""
    s = L.near[idx].copy()
    todo = np.ones(len(idx), bool)
    for _ in range(tries):
        cy_ = L.cy[idx] + np.round(rng.uniform(-1, 1, len(idx)) * L.reach[idx]).astype(np.int64)
        cx_ = L.cx[idx] + np.round(rng.uniform(-1, 1, len(idx)) * L.reach[idx]).astype(np.int64)
        ok, flat = L.valid(cy_, cx_)
        ok &= todo & ((cy_ - L.cy[idx]) ** 2 + (cx_ - L.cx[idx]) ** 2 <= L.reach[idx] ** 2)
        s[ok] = flat[ok]
        todo &= ~ok
        if not todo.any():
            break
    return s


def complete_plate(plate, known, area=None, band=BAND, seed=SEED, check=None):
    """``plate`` (H, W, 3) uint8 and ``known`` (H, W) bool (:func:`.head.background_plate`) ->
    (plate, known) with the unknown room within ``band`` of the shorter side from known room
    (and inside ``area``, (x0, y0, x1, y1) the picture inside any bars) drawn from the known
    room by patches. The same inputs give the same plate. Where there is too little known room
    to draw from, the plate is returned as it was. ``check()``, optional: called between the
    search's passes (a caller's cancellation raises from it)."""
    plate = np.asarray(plate)
    known = np.asarray(known, bool)
    H, W = known.shape
    if min(H, W) > MAX_SIDE:  # (4K: drawn at MAX_SIDE and scaled up, ~4x less time and memory)
        f = MAX_SIDE / min(H, W)
        size = (max(1, round(W * f)), max(1, round(H * f)))
        small = cv2.resize(plate, size, interpolation=cv2.INTER_AREA)
        ks = cv2.resize(known.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.999
        a = None if area is None else tuple(int(round(v * f)) for v in area)
        done, kd = complete_plate(small, ks, a, band, seed, check)
        new = cv2.resize((kd & ~ks).astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).view(bool) & ~known
        filled = np.array(plate, copy=True)
        filled[new] = cv2.resize(done, (W, H), interpolation=cv2.INTER_CUBIC)[new]
        return filled, known | new
    inside = within(np.ones((H, W), bool), area)
    room = known & inside
    if not room.any() or room.all():
        return plate, known
    far = cv2.distanceTransform((~room).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    target = ~room & inside & (far <= band * min(H, W))
    if not target.any():
        return plate, known
    reach = float(far[target].max())
    levels = 0
    while reach / 2 ** levels > COARSE_REACH and min(H, W) / 2 ** (levels + 1) >= COARSE_SIDE:
        levels += 1
    # the pyramid: known room averaged down (a coarse pixel is known where all it covers is)
    imgs, rooms, targets, areas = [plate.astype(np.float32)], [room], [target], [inside]
    w = room.astype(np.float32)
    for _ in range(levels):
        im, den = _down(imgs[-1], w)
        t = cv2.resize(targets[-1].astype(np.float32), (im.shape[1], im.shape[0]), interpolation=cv2.INTER_AREA) > 0
        a = cv2.resize(areas[-1].astype(np.float32), (im.shape[1], im.shape[0]), interpolation=cv2.INTER_AREA) > 0.999
        imgs.append(im)
        rooms.append(den > 0.999)
        targets.append(t & ~(den > 0.999))
        areas.append(a)
        w = (den > 0.999).astype(np.float32)
    rng = np.random.default_rng(seed)
    s = L = None
    for k in range(levels, -1, -1):
        rm, tg = rooms[k], targets[k]
        img = imgs[k].copy()
        if L is None:  # the coarsest level starts from the smooth fill ...
            img[tg] = _pull_push(img, rm)[tg]
        else:  # ... the finer ones from the coarser level's picture (its matches voted at this
            # size repeat each match's 2x2 block, a lattice the search did not undo)
            up = L.img.reshape(L.h + 2 * _R, L.w + 2 * _R, 3)[_R:-_R, _R:-_R]
            img[tg] = cv2.resize(up, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)[tg]
        fine = _Level(img, rm, tg, rm & areas[k], L is None)
        if not len(fine.src_list) or not len(fine.c):
            return plate, known
        if L is None:
            s = _scatter(fine, np.arange(len(fine.c)), rng)
        else:
            s = _upsample(L, s, fine, rng)
        L = fine
        big = min(L.h, L.w) > FINE_SIDE
        iters = 1 if big else (8 if k == levels else (3 if k else 2))
        for _ in range(iters):
            if k == levels:
                s, d = _search(L, s, rng, int(L.reach.max()), (8, 4, 2, 1))
            else:  # the coarser level's matches are already coherent: refined near where they are
                s, d = _search(L, s, rng, 8, (2, 1))
            if check is not None:
                check()
            _vote(L, s, d)
            if check is not None:
                check()
    out = L.img.reshape(H + 2 * _R, W + 2 * _R, 3)[_R:-_R, _R:-_R]
    filled = np.array(plate, copy=True)
    filled[target] = np.clip(out[target] + 0.5, 0, 255).astype(np.uint8)
    return filled, known | target
