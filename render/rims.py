# SPDX-License-Identifier: GPL-3.0-or-later
"""A glasses rim over the eyes stays where the glasses are while the lids and brows move behind it.

The moved head's eyes are drawn by warping the footage's skin with the fitted mesh (a blink's
basis moves the upper lid and the skin above it down), by pasting another frame's eyes and by
sliding the lids (:mod:`~reenact.render.lids`). A rim lying over the upper lid went down with the
skin: it bent into a wave that followed the closing lid (d18 -> d13, frames 68 and 91-95).
Glasses sit in front of the face and move with the head only, so here the rim is taken out of
every footage frame the head, eyes and brows are drawn from (:func:`without_rims`: its band
filled from the skin above and below it) and laid back at the end where the head's rigid motion
carries it (:func:`paste_rims`).

The rim is found as a long thin line across each eye (:func:`find_rim`): a ridge of the
luminance across the rows (its second derivative less its first, so the edge of a brow or a lid
scores little) that runs, as a gently curved line, over the eye's whole width and :data:`SIDE`
beyond its corners (a lid's crease or lash line ends at the corners), then followed on toward
the hinge and the bridge. A shot wears glasses when the median score over its eyes reaches
:data:`SHOT_SCORE` (:func:`shot_has_rims`): d13's eyes score 2.5-13.2 (median 6.7), the eyes of
the other shared clips 2.05 at most (their medians 0.41 at most).
"""

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

from .cache import Memo, source_identity
from .meshes import _mesh
from .warp import _rigid_fit

#: the rim is looked for this far beyond the eye's corners (eye widths), and must run over it all
SIDE = 0.35
#: and from this far above the eye opening's top down to its middle (eye widths)
ABOVE = 0.6
#: the ridge's scale, in eye widths (at least 1 px)
SCALE = 0.02
#: the line's score (the 20th percentile of the ridge along it, grey levels) a rim reaches in a
#: frame, and the median over a shot's eyes that says the actor wears glasses (:func:`shot_has_rims`;
#: d13's eyes 2.5-13.2, median 6.7; single eyes of the shared clips without glasses up to 2.05)
MIN_SCORE = 1.5
SHOT_SCORE = 3.0
#: rows of a shot looked at for glasses
SAMPLE = 8
#: the ridge less this many times the slope across it (a soft edge, a brow's, scores little; a
#: metal rim's dark core beside its bright edge has some slope: 1.5 or 2 lose d13's rim in some
#: frames, while at 1 the clips without glasses score about 2 at most)
EDGE_WEIGHT = 1.0
#: slopes (dy/dx, about the eye's own corner-to-corner slope) and bends (the ends' rise over the
#: middle, eye widths) of the lines tried
SLOPES = np.linspace(-0.2, 0.2, 9)
BENDS = np.linspace(-0.08, 0.08, 5)
#: the band taken as the rim reaches HALF ridge scales plus two and a half pixels above the rim's
#: core; below it, as far as the columns beside the eye differ from the skin above the rim by EDGE
#: of the core's difference (and at most DOWN, below)
HALF = 2.0
EDGE = 0.25
#: the band is filled down from the skin above it to the skin below it, unless that differs from
#: the skin above by more than this (grey levels: a lid's lashes under the rim)
SKIN_STEP = 30.0
#: the band reaches at most this many ridge scales plus a pixel and a half below the rim's core (a thin
#: rim's bright lower edge; over the eye the lashes may follow right under it)
DOWN = 1.0
#: the columns within this much of the eye's corners (eye widths) are the eye's (lashes under the rim)
CLEAR = 0.05
#: the band fades out over this much of each of its ends (eye widths; the cleaning only: it is
#: laid back whole)
FEATHER = 0.1
#: beyond the search box the rim is followed up to this far (eye widths), rising or falling at most
#: FOLLOW_RISE, while its ridge keeps FOLLOW_SHARE of MIN_SCORE, across gaps of up to FOLLOW_GAP;
#: its slope taken over SLOPE_RUN columns
FOLLOW = 1.0
FOLLOW_RISE = 0.4
FOLLOW_SHARE = 0.5
FOLLOW_GAP = 0.04
SLOPE_RUN = 4


@dataclass
class Rim:
    """One eye's rim in a frame: the box (x0, y0, x1, y1) px it lies in, its alpha (h, w) float32
    (1 on the band, feathered) and the frame's colours there (h, w, 3) float32."""
    box: tuple
    alpha: np.ndarray
    colour: np.ndarray
    score: float


def _ridge(grey, s):
    g = cv2.GaussianBlur(grey, (0, 0), s)
    iy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    iyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3) / 4.0
    return np.maximum(np.abs(iyy) * (s * s) - EDGE_WEIGHT * np.abs(iy) * s, 0.0)


def _line(xs, c, slope, bend, xm, half):
    u = (xs - xm) / half
    return c + slope * (xs - xm) + bend * u * u


def find_rim(frame, loop):
    """The :class:`Rim` over the eye whose opening is ``loop`` ((N, 2) px) in ``frame`` (H, W, 3)
    uint8, or None where no rim runs across it."""
    H, W = frame.shape[:2]
    p = np.asarray(loop, np.float64)
    if not np.isfinite(p).all():
        return None
    xl, xr = float(p[:, 0].min()), float(p[:, 0].max())
    ew = xr - xl
    if ew < 8:
        return None
    top, mid = float(p[:, 1].min()), float(p[:, 1].mean())
    x0, x1 = int(np.floor(xl - SIDE * ew)), int(np.ceil(xr + SIDE * ew)) + 1
    y0, y1 = int(np.floor(top - ABOVE * ew)), int(np.ceil(mid)) + 1
    s = max(1.0, SCALE * ew)
    h = HALF * s + 1.5  # the band's half height
    # the ridge over the search box and as far as the rim is followed beyond it
    reach = int(np.ceil(FOLLOW * ew))
    bx0, bx1 = max(x0 - reach, 0), min(x1 + reach, W)
    by0, by1 = max(int(np.floor(y0 - FOLLOW_RISE * ew - h)) - 3, 0), min(int(np.ceil(y1 + FOLLOW_RISE * ew + h)) + 3, H)
    if x0 < bx0 or x1 > bx1 or y0 < by0 + h + 2 or y1 > by1 - h - 2:
        return None  # (an eye at the frame's edge: left as it is)
    crop = frame[by0:by1, bx0:bx1]
    R = _ridge(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32), s)
    xs = np.arange(x0, x1, dtype=np.float64)
    xm, half = 0.5 * (x0 + x1 - 1), 0.5 * (x1 - 1 - x0)
    # slopes around the eye's own (corner to corner): glasses sit level with the eyes
    axis = float(np.polyfit(p[:, 0], p[:, 1], 1)[0]) if np.ptp(p[:, 0]) > 0 else 0.0
    q = int(0.2 * (len(xs) - 1))  # (the 20th percentile's rank)

    def scores(cs, slope, bend):
        ys = _line(xs[None], cs[:, None], slope, bend, xm, half)  # (C, X)
        ok = (ys.min(1) >= by0 + 1) & (ys.max(1) <= by1 - 2)
        if not ok.any():
            return np.full(len(cs), -1.0)
        v = cv2.remap(R, np.broadcast_to(xs - bx0, ys.shape).astype(np.float32), (ys - by0).astype(np.float32),
                      cv2.INTER_LINEAR)
        return np.where(ok, np.partition(v, q, axis=1)[:, q], -1.0)

    best = (-1.0, None)
    cs = np.arange(y0, y1, 0.5)
    for slope in axis + SLOPES:
        for bend in BENDS * ew:
            sc = scores(cs, slope, bend)
            k = int(np.argmax(sc))
            if sc[k] > best[0]:
                best = (float(sc[k]), (cs[k], slope, bend))
    score, par = best
    if par is None or score < MIN_SCORE:
        return None
    # the rim's row per column: the line, each column moved to the ridge's top near it, then
    # followed on beyond the box while the ridge goes on (a rim bends toward the hinge and the
    # bridge, where a band ending at the box cut it: the rest moved with the skin, a step)
    path = np.full(bx1 - bx0, np.nan)
    near = max(1, int(round(s)))
    path[x0 - bx0:x1 - bx0] = _smooth(_tops(R, xs - bx0, _line(xs, par[0], par[1], par[2], xm, half) - by0, near))
    for step in (1, -1):
        x = (x1 if step > 0 else x0 - 1) - bx0
        misses, last = 0, x - step
        while 0 <= x < bx1 - bx0:
            prev = path[x - step]
            slope = (prev - path[x - step * (1 + SLOPE_RUN)]) / SLOPE_RUN if np.isfinite(path[x - step * (1 + SLOPE_RUN)]) else 0.0
            y = _top(R, x, prev + slope, near, MIN_SCORE * FOLLOW_SHARE)
            if y is None or not (h + 1 <= y <= by1 - by0 - h - 2):
                misses += 1
                if misses > max(2, FOLLOW_GAP * ew):
                    break
                y = prev + slope
            else:
                misses, last = 0, x
            path[x] = y
            x += step
        # (the misses after the last column found are not the rim)
        lo, hi = (last + 1, None) if step > 0 else (None, last)
        path[lo:hi] = np.nan
    cols = np.flatnonzero(np.isfinite(path))
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    # the band: from the rim's core (its darkest row near the path, or brightest for a light rim)
    # HALF scales and 2.5 px up (more skin above is harmless) and down as far as the columns beside
    # the eye, where skin and not a lid lies under the rim, differ from the skin above by EDGE of
    # the core's difference (a metal rim's bright lower edge; not the lashes of a lid right under it)
    grey = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 0.7)
    n = by1 - by0
    path[cols] = np.clip(path[cols], 0, n - 1)
    ri = np.round(path[cols]).astype(np.int64)
    dark = float(grey[ri, cols].mean()) < float(grey[np.maximum(np.round(path[cols] - 2 * h).astype(np.int64), 0), cols].mean())
    deep = -grey if dark else grey  # (highest at the core)
    span = int(np.ceil(h))
    beside = (cols + bx0 < xl - CLEAR * ew) | (cols + bx0 > xr + CLEAR * ew)
    line = _line(cols + float(bx0), par[0], par[1], par[2], xm, half) - by0
    inbox = (cols + bx0 >= x0) & (cols + bx0 < x1)
    core = path.copy()
    core[cols[beside]] = _tops(deep, cols[beside], path[cols[beside]], span)
    # over the eye the lashes may lie right under the rim (and be darker): there the fitted line,
    # moved onto the core as it lies beside the eye
    offs = (core[cols] - line)[beside & inbox]
    core[cols[~beside]] = line[~beside] + (float(np.median(offs)) if len(offs) else 0.0)
    path = core
    path[cols] = np.clip(_smooth(path[cols]), 0, n - 1)
    # the rim's lower edge beside the eye: the rows below the core that differ from the skin above
    # the rim (the median of the rows 1.5-2.5 half heights above) by EDGE of the core's difference
    use = cols[beside] if beside.sum() >= 10 else cols
    i = np.round(path[use]).astype(np.int64)
    lo_, hi_ = int(2.5 * h), max(int(1.5 * h), 1)
    above = grey[np.clip(i[None] - np.arange(hi_, lo_ + 1)[:, None], 0, n - 1), use[None]]
    sk = np.median(above, 0)
    least = np.maximum(EDGE * np.abs(grey[i, use] - sk), 6.0)
    steps = np.arange(1, int(np.ceil(2 * h)) + 1)
    below = grey[np.clip(i[None] + steps[:, None], 0, n - 1), use[None]]
    far = np.cumprod(np.abs(below - sk[None]) >= least[None], 0).sum(0)  # rows until the first like the skin
    downs = (i + far - path[use]).tolist()
    up, dn = h + 1.0, min(float(np.median(downs)) + 0.5 if downs else h, DOWN * s + 1.5)
    rows = np.arange(by1 - by0, dtype=np.float64)[:, None]
    off = rows - np.nan_to_num(path, nan=-1e6)[None]
    a = ((off >= -up) & (off <= dn)).astype(np.float64)  # (no ramp: laid back, the band is the same pixels)
    ends = max(FEATHER * ew, 2.0)  # and faded out at its ends (beyond, the rim is the skin's)
    k = np.arange(bx1 - bx0, dtype=np.float64)
    a = a * np.clip(np.minimum(k - c0 + 1.0, c1 - k) / ends, 0.0, 1.0)[None]
    return Rim((bx0, by0, bx1, by1), a.astype(np.float32), crop.astype(np.float32), score)


def _top(R, x, y, near, least=None):
    """The row within ``near`` px of ``y`` where the ridge ``R``'s column ``x`` is highest (a
    parabola through the top and its neighbours), or None where it stays under ``least``."""
    i0, i1 = int(np.floor(y - near)), int(np.ceil(y + near)) + 1
    if i0 < 1 or i1 > R.shape[0] - 1:
        return None if least is not None else y
    col = R[i0:i1, x]
    k = int(np.argmax(col))
    if least is not None and col[k] < least:
        return None
    i = i0 + k
    a, b, c = float(R[i - 1, x]), float(R[i, x]), float(R[i + 1, x])
    d = a - 2 * b + c
    return i + (0.5 * (a - c) / d if d < -1e-6 else 0.0)


def _tops(R, xs, ys, near):
    """:func:`_top` of columns ``xs`` (int) near rows ``ys`` at once (no floor)."""
    xs = np.asarray(xs, np.int64)
    base = np.floor(ys - near).astype(np.int64)
    k = np.arange(2 * near + 2)
    idx = np.clip(base[None] + k[:, None], 1, R.shape[0] - 2)  # (K, X)
    i = idx[np.argmax(R[idx, xs[None]], 0), np.arange(len(xs))]
    a, b, c = R[i - 1, xs].astype(np.float64), R[i, xs].astype(np.float64), R[i + 1, xs].astype(np.float64)
    d = a - 2 * b + c
    return i + np.where(d < -1e-6, 0.5 * (a - c) / np.where(d < -1e-6, d, -1.0), 0.0)


def _smooth(y, k=5):
    """``y`` with each value the median of the ``k`` around it (a stray column's top dropped)."""
    p = np.pad(y, k // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(p, k), axis=1)


def find_rims(frame, loops):
    """[:class:`Rim`] of the eyes ``loops`` in ``frame``: only those found."""
    return [r for r in (find_rim(frame, lp) for lp in loops) if r is not None]


def _luma(rgb):
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _along(v, has, k=7):
    """(X, 3) colours ``v`` smoothed over ``k`` columns among those that ``has`` a band."""
    w = has.astype(np.float32)
    num = cv2.blur((v * w[:, None]).astype(np.float32)[None], (k, 1))[0]
    den = cv2.blur(w[None], (k, 1))[0]
    return np.where(den[:, None] > 1e-6, num / np.maximum(den, 1e-6)[:, None], v)


def without_rims(frame, rims):
    """A copy of ``frame`` with each rim's band filled from the skin right above and below it
    (linearly down each column), or ``frame`` itself when ``rims`` is empty."""
    if not rims:
        return frame
    out = frame.copy()
    for rim in rims:
        x0, y0, x1, y1 = rim.box
        a = rim.alpha
        band = a > 0
        col = rim.colour
        # the skin right above and below the band in each column, smoothed along the rim (filled
        # column by column from single pixels, the band showed vertical streaks)
        n = a.shape[0]
        has = band.any(0)
        first = np.where(has, np.argmax(band, 0), 0)
        last = np.where(has, n - 1 - np.argmax(band[::-1], 0), 0)
        ts, bs = np.clip(first - 1, 0, n - 1), np.clip(last + 1, 0, n - 1)
        xs = np.arange(x1 - x0)
        top = _along(np.mean([col[np.clip(ts - k, 0, n - 1), xs] for k in range(2)], 0), has)
        bot = _along(np.mean([col[np.clip(bs + k, 0, n - 1), xs] for k in range(2)], 0), has)
        # down from the skin above to the skin below; where a lid's lashes lie right under the rim
        # (far darker), the skin above goes on down behind it (the lid's own skin, which a closing
        # lid brings down)
        lid = np.abs(_luma(bot.T) - _luma(top.T)) > SKIN_STEP
        bot[lid] = top[lid]
        rows = np.arange(n, dtype=np.float32)[:, None]
        w = np.clip((rows - ts[None]) / np.maximum(bs - ts, 1)[None], 0.0, 1.0)[..., None]
        inside = (has[None] & (rows >= ts[None]) & (rows <= bs[None]))[..., None]
        fill = np.where(inside, (1.0 - w) * top[None] + w * bot[None], col)
        cur = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(cur + a[..., None] * (fill - cur) + 0.5, 0, 255).astype(np.uint8)
    return out


def paste_rims(frame, layers):
    """``frame`` with rims laid over it: ``layers`` [(rims, A, weight)], each a frame's rims moved
    by the 2x3 affine ``A`` (their frame's pixels -> ``frame``'s; None: where they were), the
    layers averaged by their weights (the moved head's sources are: a rim from one of them
    alone jumped where the source changes)."""
    layers = [(rims, A, float(w)) for rims, A, w in layers if rims and w > 0]
    if not layers:
        return frame
    H, W = frame.shape[:2]
    total = sum(w for _, _, w in layers)
    eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    layers = [(rims, eye if A is None else np.asarray(A, np.float64), w) for rims, A, w in layers]
    # each rim's window in the frame, and the window around them all (where anything is drawn)
    wins = []
    for rims, A, w in layers:
        for rim in rims:
            x0, y0, x1, y1 = rim.box
            corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ A.T
            X0, Y0 = (int(max(np.floor(corners[:, k].min()) - 1, 0)) for k in (0, 1))
            X1, Y1 = int(min(np.ceil(corners[:, 0].max()) + 2, W)), int(min(np.ceil(corners[:, 1].max()) + 2, H))
            wins.append((X0, Y0, X1, Y1))
    ok = [b for b in wins if b[2] - b[0] >= 2 and b[3] - b[1] >= 2]
    if not ok:
        return frame
    U0, V0 = min(b[0] for b in ok), min(b[1] for b in ok)
    U1, V1 = max(b[2] for b in ok), max(b[3] for b in ok)
    cover, colour = np.zeros((V1 - V0, U1 - U0), np.float32), np.zeros((V1 - V0, U1 - U0, 3), np.float32)
    k = 0
    for rims, A, w in layers:
        a_s, c_s = np.zeros_like(cover), np.zeros_like(colour)
        for rim in rims:
            X0, Y0, X1, Y1 = wins[k]
            k += 1
            if X1 - X0 < 2 or Y1 - Y0 < 2:
                continue
            x0, y0 = rim.box[:2]
            # the box's pixels -> the window's
            M = A.copy()
            M[:, 2] += M[:, :2] @ np.array([x0, y0], np.float64) - np.array([X0, Y0], np.float64)
            size = (X1 - X0, Y1 - Y0)
            # the whole band (the cleaning's feathered ends included): a rim laid back where it
            # was gives the frame's own pixels again
            a = cv2.warpAffine((rim.alpha > 0).astype(np.float32), M, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
            c = cv2.warpAffine(rim.colour, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            win = (slice(Y0 - V0, Y1 - V0), slice(X0 - U0, X1 - U0))
            c_s[win] += a[..., None] * (c - c_s[win])
            a_s[win] += a * (1.0 - a_s[win])
        cover += (w / total) * a_s
        colour += ((w / total) * a_s)[..., None] * c_s
    out = frame.copy()
    cur = frame[V0:V1, U0:U1].astype(np.float32)
    out[V0:V1, U0:U1] = np.clip(cur * (1.0 - cover[..., None]) + colour + 0.5, 0, 255).astype(np.uint8)
    return out


def rim_affine(src, dst):
    """2x3 affine (least squares) taking the points ``src`` (N, 2) px to ``dst``: the head's rigid
    motion around an eye, from the fitted meshes without their expression."""
    return _rigid_fit(dst, src, "affine")[:2]


def eye_loops(points):
    """[(N, 2) px] the eye openings' loops of the fitted mesh's projected ``points`` (468, 2)."""
    P = np.asarray(points, np.float64)
    return [P[[int(i) for i in lp]] for lp in _mesh().eyes]


def shot_has_rims(shot, rows, count=SAMPLE):
    """True when the actor of ``shot`` (:class:`~.shotframes.ShotFrames`) wears glasses whose rim
    runs over the eyes: the median rim score of ``count`` rows spread over ``rows`` (an eye where
    none was found counts 0) reaches :data:`SHOT_SCORE`. One frame's crease or shadow does not
    make a shot's glasses (on the shared clips without glasses, single eyes scored up to 2.05)."""
    rows = np.asarray(rows, np.int64)
    if not len(rows):
        return False
    pick = rows[np.unique(np.linspace(0, len(rows) - 1, min(count, len(rows))).round().astype(np.int64))]
    # (a Preview Frame makes its shot's frames anew each time: the answer kept per footage file,
    # its rows and their meshes)
    key = _shot_key(shot, pick)
    median = _SHOTS.get(key)
    if median is not None:
        return median >= SHOT_SCORE
    scores = []
    for j in pick:
        rims = shot.rims(int(j))
        scores += [r.score for r in rims] + [0.0] * (len(_mesh().eyes) - len(rims))
    return _SHOTS.put(key, float(np.median(scores))) >= SHOT_SCORE


_SHOTS = Memo(32)


def _shot_key(shot, pick):
    """What :func:`shot_has_rims`' answer depends on: the footage file (path, size, time), the rows
    looked at and their meshes; None where the footage is not a file."""
    video = getattr(shot, "video", None)
    if video is None:
        return None
    pts = np.round(np.asarray(shot.ps[np.asarray(pick, np.int64)], np.float64), 2)
    return (source_identity(video), int(shot.own.frame_start), tuple(int(j) for j in pick),
            hashlib.sha1(np.ascontiguousarray(pts).tobytes()).hexdigest())


def moves_near_eyes(map_x, map_y, points, least=0.1):
    """True when the backward map (``map_x``, ``map_y``: (H, W) source pixel of each pixel) moves
    anything by ``least`` px or more around the eyes of the mesh ``points`` (468, 2) px: where a
    rim over them could lie (:data:`ABOVE` above each eye to its middle, :data:`SIDE` plus
    :data:`FOLLOW` beside it)."""
    H, W = map_x.shape
    for p in eye_loops(points):
        if not np.isfinite(p).all():
            return True
        ew = float(np.ptp(p[:, 0]))
        x0 = int(max(np.floor(p[:, 0].min() - (SIDE + FOLLOW) * ew), 0))
        x1 = int(min(np.ceil(p[:, 0].max() + (SIDE + FOLLOW) * ew) + 1, W))
        y0 = int(max(np.floor(p[:, 1].min() - ABOVE * ew), 0))
        y1 = int(min(np.ceil(p[:, 1].mean()) + 1, H))
        if x1 <= x0 or y1 <= y0:
            continue
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        if float(np.max(np.abs(map_x[y0:y1, x0:x1] - gx) + np.abs(map_y[y0:y1, x0:x1] - gy))) >= least:
            return True
    return False
