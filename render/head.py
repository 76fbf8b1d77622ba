# SPDX-License-Identifier: GPL-3.0-or-later
"""The head around the face: its outline and mask estimated from the mesh (face oval grown,
a hair cap, the upper neck), the posed mesh of a Track row (points and camera depths), and the
background plate that fills what a moving head uncovers."""

import threading

import cv2
import numpy as np

from ..face.camera import posed_vertices, project_points
from ..face.topology import CHIN, N_VERTS
from .meshes import (FOREHEAD_TOP, _fix, _mesh, channels, grow_disc, grown_box, masked_copy, pixels_box, smoothstep,
                     wide_blur)
from .pullpush import pull_push_box

#: head region defaults (fractions of the face size)
GROW = 0.3  # the face oval grown by this about its centre
HAIR = 0.25  # ... and its top pushed up by this much of the face height


def head_outline(pts, grow=GROW, hair=HAIR, neck=0.0):
    """(K, 2) convex outline of the head estimated from the (468, 2) mesh points: the face oval
    grown by ``grow`` about its centre, its upper half pushed further up (along the chin ->
    forehead axis, so it follows a rolled head) by up to ``hair`` face heights, and, with
    ``neck`` > 0, a neck ``neck`` face heights long and 0.6 face widths wide under the chin."""
    P = np.asarray(pts, np.float64)
    if len(P) >= N_VERTS:
        oval = P[_mesh().oval]
        up = P[FOREHEAD_TOP] - P[CHIN]
    else:
        oval = P[cv2.convexHull(P.astype(np.float32), returnPoints=False).ravel()]
        up = np.array([0.0, -(oval[:, 1].max() - oval[:, 1].min())])
    H = max(np.linalg.norm(up), 1e-6)
    u = up / H
    c = oval.mean(0)
    q = c + (oval - c) * (1.0 + grow)
    hgt = (q - c) @ u
    top = max(hgt.max(), 1e-6)
    q = q + np.outer(hair * H * np.clip(hgt / top, 0, 1) ** 2, u)
    if neck > 0:
        side = np.array([-u[1], u[0]])
        Wd = 0.3 * np.linalg.norm(oval.max(0) - oval.min(0)) / np.sqrt(2)
        chin = P[CHIN] if len(P) >= N_VERTS else c - u * H / 2
        base = chin + u * 0.2 * H
        foot = chin - u * neck * H
        q = np.concatenate([q, [base + side * Wd, base - side * Wd, foot + side * Wd, foot - side * Wd]], 0)
    return q[cv2.convexHull(q.astype(np.float32), returnPoints=False).ravel()]


def head_mask(pts, shape, grow=GROW, hair=HAIR, neck=0.0, pixel_centre=0.5):
    """(H, W) bool estimate of the head's footprint from the mesh points (see
    :func:`head_outline`): face oval grown by 30 % plus a hair cap (and a neck with ``neck``)."""
    H, W = int(shape[0]), int(shape[1])
    m = np.zeros((H, W), np.uint8)
    cv2.fillPoly(m, [_fix(head_outline(pts, grow, hair, neck), pixel_centre)], 1, cv2.LINE_8, 4)
    return m.astype(bool)


def posed_points(track, rows=None, neutral=False):
    """Pixels (R, 468, 2) and camera depths (R, 468) (larger = farther) of ``track``'s fitted mesh
    for ``rows`` (default all): what :func:`warp_field` takes as points and ``*_depth``.
    ``neutral``: without the expression (points that move with the head only)."""
    rows = np.arange(track.n_frames) if rows is None else np.atleast_1d(np.asarray(rows, np.int64))
    ex = np.nan_to_num(np.asarray(track.expression, np.float64)[rows])
    if neutral:
        ex = np.zeros_like(ex)
    X = posed_vertices(track.identity, track.expression_basis, ex, np.asarray(track.pose, np.float64)[rows])
    return project_points(X, float(track.focal_px), np.asarray(track.principal, np.float64)), X[..., 2].copy()


def neutral_points(track, rows=None):
    """(R, 468, 2) pixels of ``track``'s identity shape (no expression) posed by each row's head
    pose: points that move with the head only. Give the pair for the source and destination
    rows as ``rigid_points`` to :func:`warp_field` to carry the posed head's motion exactly."""
    return posed_points(track, rows, neutral=True)[0]




#: :func:`background_plate` sorts this many rows of pixels at a time (the same plate; a 4K shot's
#: 31 frames sorted at once took 1.5 GB and one uninterruptible step)
PLATE_BAND = 64


def background_plate(frames, covered, max_frames=31, check=None):
    """The shot's background: per pixel the median of the ``frames`` (T, H, W, 3) uint8 where
    ``covered`` (T, H, W) bool (the head region of each frame, e.g. :func:`head_mask`) is off;
    uses at most ``max_frames`` frames spread over the shot. Returns (plate (H, W, 3) uint8,
    known (H, W) bool: pixels some frame showed). ``check()``, optional: called between bands of
    :data:`PLATE_BAND` rows (a caller's cancellation raises from it)."""
    frames = np.asarray(frames)
    covered = np.asarray(covered, bool)
    T, H = len(frames), frames.shape[1]
    idx = np.unique(np.linspace(0, T - 1, min(T, int(max_frames))).round().astype(int))
    m, C = len(idx), int(np.prod(frames.shape[3:], dtype=np.int64))
    plate = np.zeros(frames.shape[1:], np.uint8)
    known = np.zeros(frames.shape[1:3], bool)
    for y0 in range(0, H, PLATE_BAND):
        if check is not None:
            check()
        sl = slice(y0, min(H, y0 + PLATE_BAND))
        cov = covered[idx, sl]
        # the median of each pixel's shown values: sorted with the covered ones (255) last, the
        # middle one or two of the n shown (np.nanmedian's values, ~7x faster than its masked
        # sort). The n smallest of the shown values and 255s are the shown values themselves, so
        # uint8 does; each pixel's values made a contiguous row by one transpose (the sort of a
        # strided axis copied them one pixel at a time: 2.5 -> 1.1 s a 1080p plate)
        vals = _covered_255(frames[:, sl] if m == T else frames[idx, sl], cov).reshape(m, -1)
        v = cv2.transpose(vals)
        v.sort(axis=-1)
        n = m - np.count_nonzero(cov, axis=0)  # (h, W)
        nc = np.repeat(n.ravel(), C)  # (each channel's row)
        rows = np.arange(len(nc))
        lo = v[rows, np.maximum(nc - 1, 0) // 2]
        hi = v[rows, np.minimum(nc // 2, m - 1)]
        known[sl] = n > 0
        band = np.where(nc > 0, (lo.astype(np.float32) + hi.astype(np.float32)) / 2, 0.0)
        plate[sl] = np.clip(band + 0.5, 0, 255).astype(np.uint8).reshape(plate[sl].shape)
    return plate, known


def _covered_255(values, cov):
    """``values`` (T, h, W, C) uint8 with 255 where ``cov`` (T, h, W) bool (a new array): the
    mask repeated over the channels by OpenCV and or-ed in (numpy's where() with the mask
    broadcast over them took 38 ms a band of a 1080p plate, this 2 ms)."""
    if values.ndim != 4 or not 1 <= values.shape[3] <= 4 or not cov.size:
        return np.where(cov[..., None] if values.ndim > 3 else cov, np.uint8(255), values)
    c = np.ascontiguousarray(cov).view(np.uint8).reshape(-1, cov.shape[-1])
    c = cv2.merge([c] * values.shape[3]).reshape(values.shape)
    c *= np.uint8(255)
    return np.bitwise_or(values, c, out=c)


#: :func:`camera_offsets`: the flow between plate frames is computed with the shorter side this
#: many pixels; a camera whose picture moves less than :data:`CAMERA_STILL` px over the shot is
#: still (one plate for every frame, as before)
CAMERA_SIDE = 160
CAMERA_STILL = 2.0
#: ... over room pixels whose local contrast (gradient magnitude, grey levels per pixel at that
#: size) is above this; with under 3 % of the picture such, the camera counts as still there
CAMERA_TEXTURE = 6.0


def _texture(grey):
    g = grey.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0, cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 1.0)


def camera_offsets(frames, covered):
    """(T, 2) float: where each of ``frames`` (T, H, W, 3) uint8, in order through the shot,
    shows the room relative to the first: the median optical flow (OpenCV DIS, at
    :data:`CAMERA_SIDE` px) between consecutive frames over pixels ``covered`` (T, H, W) bool in
    neither (the room, not the actor) that have texture to follow (:data:`CAMERA_TEXTURE`),
    summed. A pan or tilt moves the room through the picture; a plate made as if it stood still
    is a smear of it."""
    frames = np.asarray(frames)
    T, H, W = frames.shape[:3]
    out = np.zeros((T, 2))
    s = min(1.0, CAMERA_SIDE / float(min(H, W)))
    size = (max(8, int(round(W * s))), max(8, int(round(H * s))))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def small(k):
        g = cv2.cvtColor(np.ascontiguousarray(frames[k]), cv2.COLOR_RGB2GRAY)
        return cv2.resize(g, size, interpolation=cv2.INTER_AREA)

    prev = small(0)
    for k in range(1, T):
        cur = small(k)
        room = cv2.resize((~(np.asarray(covered[k - 1]) | np.asarray(covered[k]))).view(np.uint8), size,
                          interpolation=cv2.INTER_NEAREST) > 0
        # only room with texture to follow: on a plain wall or a green screen the flow is noise
        room &= _texture(prev) > CAMERA_TEXTURE
        d = np.zeros(2)
        if np.count_nonzero(room) >= 0.03 * room.size:
            flow = dis.calc(prev, cur, None)
            d = np.median(flow[room], axis=0) / np.array([size[0] / W, size[1] / H])
        out[k] = out[k - 1] + d
        prev = cur
    return out


class MovingPlate:
    """The background plate of a shot whose camera moves (:func:`moving_plate`): one picture of
    the room larger than the frame, every plate frame laid where its room lies, and each row's
    plate cut from it where that frame shows the room. ``at(n)`` -> (plate, known) of clip frame
    ``n``, like :func:`background_plate`'s."""

    def __init__(self, canvas, known, origin, rows, offsets, shape):
        self.canvas, self.canvas_known = canvas, known
        self.origin = np.asarray(origin, np.int64)  # canvas pixel of the first plate frame's (0, 0)
        self.rows = np.asarray(rows, np.float64)  # clip frame numbers of the plate frames
        self.offsets = np.asarray(offsets, np.float64)  # their room's offsets (camera_offsets)
        self.shape = tuple(shape)

    def offset(self, r):
        """(dx, dy): clip frame ``r``'s room relative to the first plate frame's (linear between
        the plate frames, held beyond them)."""
        return tuple(float(np.interp(r, self.rows, self.offsets[:, k])) for k in (0, 1))

    def at(self, r):
        H, W = self.shape
        dx, dy = self.offset(r)
        ch, cw = self.canvas_known.shape
        x0 = min(max(int(self.origin[0] - round(dx)), 0), cw - W)
        y0 = min(max(int(self.origin[1] - round(dy)), 0), ch - H)
        sl = (slice(y0, y0 + H), slice(x0, x0 + W))
        return self.canvas[sl], self.canvas_known[sl]


def moving_plate(frames, covered, rows, offsets, check=None):
    """:class:`MovingPlate` of ``frames`` (T, H, W, 3) uint8, clip frames ``rows`` (T,), their actor
    ``covered`` (T, H, W) bool and room ``offsets`` (T, 2) from :func:`camera_offsets`: per pixel
    of the room the median of the frames that show it there (:func:`background_plate` on the
    frames laid out on one canvas, computed a band of rows at a time; ``check()`` between them)."""
    frames = np.asarray(frames)
    T, H, W = frames.shape[:3]
    o = np.round(np.asarray(offsets, np.float64)).astype(np.int64)
    # a frame whose room lies at +d shows canvas pixel u at u + d: it is laid at -d
    lo = (-o).min(0)
    hi = (-o).max(0)
    cw, ch = int(W + hi[0] - lo[0]), int(H + hi[1] - lo[1])
    origin = -lo  # canvas position of the first frame's (0, 0) (its offset is 0)
    canvas = np.zeros((ch, cw, 3), np.uint8)
    known = np.zeros((ch, cw), bool)
    band = max(8, int(2 ** 22 // max(1, cw * T * 8)))  # a few MB of sort keys per band
    for y in range(0, ch, band):
        if check is not None:
            check()
        yb = min(ch, y + band)
        fs = np.zeros((T, yb - y, cw, 3), np.uint8)
        cov = np.ones((T, yb - y, cw), bool)
        for k in range(T):
            x0, y0 = int(origin[0] - o[k, 0]), int(origin[1] - o[k, 1])
            a, b = max(y, y0), min(yb, y0 + H)
            if a >= b:
                continue
            fs[k, a - y:b - y, x0:x0 + W] = frames[k, a - y0:b - y0]
            cov[k, a - y:b - y, x0:x0 + W] = np.asarray(covered[k])[a - y0:b - y0]
        canvas[y:yb], known[y:yb] = background_plate(fs, cov, max_frames=T)
    return MovingPlate(canvas, known, origin, rows, np.asarray(offsets, np.float64), (H, W))


def _pull_push(values, have, holes_only=False, box=None, zero_beyond=False):
    """(H, W, C) float32: ``values`` (H, W, C) where ``have`` (H, W) bool, elsewhere a smooth
    continuation of them (pull-push over an image pyramid: known values averaged up, the rest
    filled from the coarser levels back down). ``holes_only``: for a caller that reads only where
    ``have`` is False: the values are not put back where it is True (a whole-frame copy less).
    ``box`` (x0, y0, x1, y1), with ``holes_only``: only that part is read; (y1 - y0, x1 - x0, C),
    the same values, made from what that part needs alone (:mod:`.pullpush`; ``zero_beyond``:
    ``values`` are +0 wherever ``have`` is False)."""
    have = np.asarray(have, bool)
    if box is not None:
        if min(have.shape) > 4:
            return pull_push_box(values, have, box, zero_beyond)
        x0, y0, x1, y1 = box
        est = _pull_push(values, have, holes_only=True)
        return (est if est.ndim == 3 else est[..., None])[y0:y1, x0:x1]
    w = have.astype(np.float32)
    v = np.asarray(values, np.float32)
    C = v.shape[2] if v.ndim == 3 else 1
    f = v * channels(w, C)
    levels = []
    while min(w.shape) > 4:
        levels.append((f, w))
        f, w = cv2.pyrDown(f), cv2.pyrDown(w)
    if f.ndim == 2:
        f = f[..., None]
    est = f / channels(np.maximum(w, 1e-6), C)
    for k, (lf, lw) in enumerate(reversed(levels)):
        up = cv2.pyrUp(est, dstsize=(lw.shape[1], lw.shape[0]))
        if up.ndim == 2:
            up = up[..., None]
        if k == len(levels) - 1:  # the finest level's weights are 0 or 1: the values, or the fill
            return up if holes_only else np.where(have[..., None], v.reshape(up.shape), up)
        if lf.ndim == 2:
            lf = lf[..., None]
        a = channels(np.clip(lw * 4.0, 0.0, 1.0), C)  # confident where enough known pixels
        # a * (lf / lw) + (1 - a) * up, in place
        est = lf / channels(np.maximum(lw, 1e-6), C)
        est *= a
        est += (1.0 - a) * up
    return est


def smooth_fill(img, hole):
    """``img`` (H, W, 3) uint8 with ``hole`` filled by pull-push (:func:`_pull_push`), so a large
    hole gets a smooth continuation of its surroundings (no streaks, unlike a border-propagating
    inpainting). Pixels outside ``hole`` are untouched."""
    hole = np.asarray(hole, bool)
    out = np.array(img, copy=True)
    b = pixels_box(hole)
    if b is not None:
        _smooth_fill_into(out, hole, b)
    return out


def _smooth_fill_into(out, hole, box):
    """:func:`smooth_fill` of ``out`` in place; ``box``: ``hole``'s (x0, y0, x1, y1) (a moved
    head's hole is a small part of a 4K frame: the fill is made for that box alone)."""
    x0, y0, x1, y1 = box
    est = _pull_push(out, ~hole, holes_only=True, box=box)
    # (over the box, then copied where the hole is: a boolean index of a 4K hole took 3x longer)
    est += 0.5
    masked_copy(out[y0:y1, x0:x1], np.clip(est, 0, 255, out=est).astype(np.uint8), hole[y0:y1, x0:x1])


#: :func:`fill_background` with ``match``: the plate is brought to the frame's own room by the
#: difference measured on a ring this many pixels wide (at least; 1 % of the frame's shorter
#: side) around the hole, carried smoothly into it
MATCH_RING = 4


#: :func:`fill_background` with ``grain``: the smooth fill of the room gets a fixed grain,
#: band-passed at this fraction of the frame's shorter side, as contrasty as the room around it
GRAIN_SIGMA = 0.02


def _noise(shape, sigma):
    """(H, W) float32: a fixed band-passed noise (seeded; the same for every frame of a shot, so
    the grain does not shimmer), unit standard deviation. The last one is kept; made once (the
    render's two draw threads asked for it at once and both made it: 0.3-0.6 s of a 4K render)."""
    key = (tuple(shape), round(float(sigma), 3))
    with _NOISE_LOCK:
        n = _NOISE.get(key)
        if n is None:
            n = np.random.default_rng(20261202).standard_normal(shape).astype(np.float32)
            n = wide_blur(n, 0.5 * sigma) - wide_blur(n, 2.0 * sigma)  # (at full scale: 3 s a 4K frame)
            n /= max(float(n.std()), 1e-6)
            n.setflags(write=False)
            _NOISE.clear()
            _NOISE[key] = n
    return n


_NOISE = {}
_NOISE_LOCK = threading.Lock()


def room_grain(img, hole, frame_shape, origin):
    """(H, W) float32: grain for the smooth fill of ``hole`` (H, W) bool in ``img`` (H, W, 3), a
    part of a frame of ``frame_shape`` whose pixel (0, 0) is the frame's ``origin`` (y, x): the
    fixed noise of :func:`_noise` at :data:`GRAIN_SIGMA`, scaled per pixel by the room's own
    contrast in that band around the hole, carried into it smoothly, and faded in from the hole's
    edge. A flat fill beside a moved head read as a halo against foliage (d12 -> d20)."""
    sigma = max(1.0, GRAIN_SIGMA * min(frame_shape[:2]))
    have = (~hole).astype(np.float32)
    g = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY).astype(np.float32)
    local = wide_blur(g * have, 2.0 * sigma) / np.maximum(wide_blur(have, 2.0 * sigma), 1e-3)
    band = g - local
    # (the grain is 0 outside the hole: the fill's amplitude is read only inside it, and made
    # only over the hole's box)
    out = np.zeros(hole.shape, np.float32)
    b = pixels_box(hole)
    if b is None:
        return out
    bx0, by0, bx1, by1 = b
    amp = np.sqrt(np.maximum(_pull_push((band * band)[..., None], ~hole, holes_only=True, box=b)[..., 0], 0.0))
    y0, x0 = origin
    n = _noise(frame_shape[:2], sigma)[y0 + by0:y0 + by1, x0 + bx0:x0 + bx1]
    # faded in from the hole's edge over two grain sizes: along the edge (a matte's soft fringe,
    # thin slivers) the smooth fill continues the room beside it
    inside = cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)[by0:by1, bx0:bx1]
    out[by0:by1, bx0:bx1] = n * amp * smoothstep(inside * np.float32(0.5 / sigma))
    return out


def fill_background(img, hole, plate=None, known=None, radius=3, match=False, grain=None):
    """``img`` (H, W, 3) uint8 with ``hole`` (H, W) bool filled: from the ``plate`` of
    :func:`background_plate` where it is ``known``, then by :func:`smooth_fill` (small holes,
    up to ``radius`` px thick, by ``cv2.inpaint``). ``match`` (where the pixels around the hole
    are the room itself, as where :func:`layer_head` cuts the actor out): the plate is first
    brought to this frame's light by the difference ``img - plate`` on a ring around the hole,
    carried smoothly into it (a plate made over frames whose exposure or haze differs, or
    a moving camera's plate laid out by one translation, left a seam around the filled place).
    ``grain`` (the frame's shape, ``img``'s origin (y, x) in it): the smooth fill gets the room's
    grain (:func:`room_grain`). Returns a new image; pixels outside ``hole`` are untouched."""
    out = np.array(img, copy=True)
    hole = np.asarray(hole, bool)
    hb = pixels_box(hole)
    if hb is None:
        return out
    # (all of it on the hole's box, or that box grown by what a step reads around it)
    bx0, by0, bx1, by1 = hb
    sl = (slice(by0, by1), slice(bx0, bx1))
    rest = hole[sl].copy()
    if plate is not None:
        kn = np.ones_like(rest) if known is None else np.asarray(known, bool)[sl]
        k = rest & kn
        plate = np.asarray(plate)
        fill = plate[sl]
        if match and k.any():
            g = max(MATCH_RING, int(round(0.01 * min(hole.shape))))
            gb = grown_box(hb, g, hole.shape)
            gl = (slice(gb[1], gb[3]), slice(gb[0], gb[2]))
            gk = np.ones(hole[gl].shape, bool) if known is None else np.asarray(known, bool)[gl]
            ring_g = cv2.dilate(hole[gl].view(np.uint8), np.ones((2 * g + 1, 2 * g + 1), np.uint8)).view(bool) \
                & ~hole[gl] & gk
            if ring_g.sum() >= 16:
                # (read only inside the hole, which the ring lies outside of: over its box alone;
                # the difference is weighted by the ring: made on it alone, 0 elsewhere)
                ring = np.zeros(hole.shape, bool)
                ring[gl] = ring_g
                kx0, ky0, kx1, ky1 = pixels_box(k)
                diff = np.zeros(np.shape(img), np.float32)
                diff[gl][ring_g] = np.asarray(img)[gl][ring_g].astype(np.float32) - plate[gl][ring_g].astype(np.float32)
                d = _pull_push(diff, ring, holes_only=True, box=(bx0 + kx0, by0 + ky0, bx0 + kx1, by0 + ky1),
                               zero_beyond=True)
                # (over k's box, then copied where k is: faster than k's boolean index)
                d += plate[by0 + ky0:by0 + ky1, bx0 + kx0:bx0 + kx1]
                d += 0.5
                masked_copy(out[by0 + ky0:by0 + ky1, bx0 + kx0:bx0 + kx1], np.clip(d, 0, 255, out=d).astype(np.uint8),
                            k[ky0:ky1, kx0:kx1])
                fill = None
        if fill is not None:
            masked_copy(out[sl], fill, k)
        rest &= ~k
    if rest.any():
        # (eroded on the box grown by the radius: beyond the box nothing is in the hole)
        eb = grown_box(hb, radius, hole.shape)
        grown = np.zeros((eb[3] - eb[1], eb[2] - eb[0]), np.uint8)
        grown[by0 - eb[1]:by1 - eb[1], bx0 - eb[0]:bx1 - eb[0]] = rest
        thick = cv2.erode(grown, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)).any()
        whole = np.zeros(hole.shape, bool)
        whole[sl] = rest
        if thick:
            t = None
            if grain is not None:  # (frame shape, this part's origin in it; of the frame before the fill)
                t = room_grain(out, whole, *grain)[sl][..., None]
            _smooth_fill_into(out, whole, pixels_box(whole))
            if t is not None:  # (over the box, then copied where the rest is)
                o = out[sl].astype(np.float32)
                o += t
                o += 0.5
                masked_copy(out[sl], np.clip(o, 0, 255, out=o).astype(np.uint8), rest)
        else:  # (Telea reads radius px around the hole: over the hole's box grown by twice that and
            # more, the same pixels; the whole frame's inpaint took 15-25 ms at 1080p)
            ib = grown_box(hb, 4 * max(1, int(round(radius))) + 4, hole.shape)
            il = (slice(ib[1], ib[3]), slice(ib[0], ib[2]))
            out[il] = cv2.inpaint(np.ascontiguousarray(out[il]), whole[il].astype(np.uint8), float(radius),
                                  cv2.INPAINT_TELEA)
    return out


#: :func:`body_offset`: the flow is computed at a scale where the face is this many pixels high,
#: over the actor from this fraction of the face height below the chin down
BODY_FACE_PX = 100
BODY_BELOW = 0.15
#: ... and computed again from the translation phase correlation finds when it is sure of one
#: (its response above the first figure) over this many pixels (at that scale) from DIS's, that
#: answer kept when it leaves under this share of the difference over the body
BODY_PHASE_SURE = 0.3
BODY_RETRY_PX = 2.0
BODY_BETTER = 0.8


def body_offset(frame, other, pts, matte=None):
    """(dx, dy) px: where ``other`` (another frame of the shot) shows what ``frame`` shows of the
    actor below the head (neck, shoulders, chest), ``pts`` being ``frame``'s fitted mesh (468,
    2): the median optical flow (OpenCV DIS) from ``frame`` to ``other`` over ``matte`` > 0.5
    (``frame``'s actor; None: every pixel) from :data:`BODY_BELOW` face heights under the chin
    down, at a scale where the face is :data:`BODY_FACE_PX` high. (0, 0) when too little of the
    body is in view. A camera that pans or tilts, or an actor who shifts in the chair, puts the
    body elsewhere in another frame of the shot than in this one."""
    P = np.asarray(pts, np.float64)
    H, W = frame.shape[:2]
    fh, fw = float(np.ptp(P[:, 1])), float(np.ptp(P[:, 0]))
    if not (np.isfinite(P).all() and fh > 4 and fw > 4):
        return 0.0, 0.0
    s = min(1.0, BODY_FACE_PX / fh)
    cx = float(P[:, 0].mean())
    x0, x1 = int(max(0, cx - 2.0 * fw)), int(min(W, cx + 2.0 * fw))
    y0 = int(max(0, P[CHIN, 1] - 0.5 * fh))  # the chin's surroundings too: the flow needs context
    below = P[CHIN, 1] + BODY_BELOW * fh
    if H - below < 4 / s or x1 - x0 < 16:
        return 0.0, 0.0

    def small(img):
        g = cv2.cvtColor(np.ascontiguousarray(np.asarray(img)[y0:, x0:x1]), cv2.COLOR_RGB2GRAY)
        return cv2.resize(g, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1.0 else g

    a, b = small(frame), small(other)
    yy = (np.arange(a.shape[0], dtype=np.float64)[:, None] + 0.5) / s + y0
    sel = np.broadcast_to(yy > below, a.shape)
    if matte is not None:
        m = np.asarray(matte, np.float32)[y0:, x0:x1]
        sel = sel & (cv2.resize(m, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA) > 0.5)
    if np.count_nonzero(sel) < 32:
        return 0.0, 0.0
    # DIS from no motion; where phase correlation finds a clear translation of its own (a camera
    # that tilted 75 px between the two moments: DIS alone found 2-13 px for one row and 75 for
    # the rows beside it, d20 row 47, and the body jumped for a frame), DIS again from it, kept
    # when it makes the two agree clearly better over the body. (On a knitted top and moving
    # hands, s20, phase correlation finds nothing clear, response < 0.1, and the median of DIS
    # from no motion stays.)
    def residual(d):
        moved = cv2.warpAffine(b, np.float32([[1, 0, d[0]], [0, 1, d[1]]]), (a.shape[1], a.shape[0]),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return float(np.abs(moved.astype(np.float32) - a.astype(np.float32))[sel].mean())

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    best = np.median(dis.calc(a, b, None)[sel], axis=0)
    win = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (px, py), sure = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), win)
    if sure > BODY_PHASE_SURE and np.hypot(px - best[0], py - best[1]) > BODY_RETRY_PX:
        start = np.empty(a.shape + (2,), np.float32)  # (DIS starts from a flow it is given)
        start[..., 0], start[..., 1] = px, py
        other_d = np.median(dis.calc(a, b, start)[sel], axis=0)
        if residual(other_d) < BODY_BETTER * residual(best):
            best = other_d
    d = best / s
    return float(d[0]), float(d[1])


#: region ``head``'s layer (:func:`layer_head`): the frame's own actor is taken out where its
#: matte is above this, grown by :data:`LAYER_GROW` of the frame's shorter side (hair wisps
#: beyond the matte)
LAYER_CUT = 0.1
LAYER_GROW = 1.0 / 160
#: the layer applies where the head's motion moves pixels by more than the first figure (px),
#: fully from the second on
LAYER_REACH = (0.05, 0.5)


def layer_reach(field, feather=2.0):
    """(H, W) float32 0..1: where the WarpField ``field`` moves anything (its displacement above
    :data:`LAYER_REACH`, or background it uncovers), feathered by ``feather`` px; 0 where the map
    is the identity, so :func:`layer_head` leaves those pixels as they were."""
    H, W = field.shape  # (field.displacement()'s two planes, not stacked)
    # (each step in place where it can be: a 4K frame's temporaries are 33 MB each)
    d = field.map_x - np.arange(W, dtype=np.float32)[None, :]
    np.hypot(d, field.map_y - np.arange(H, dtype=np.float32)[:, None], out=d)
    lo, hi = LAYER_REACH
    t = d - lo
    t /= hi - lo
    np.clip(t, 0.0, 1.0, out=t)
    np.maximum(t, np.float32(1.0), out=t, where=field.disocclusion)  # (elsewhere the maximum with 0: t)
    t = cv2.GaussianBlur(t, (0, 0), feather)
    np.clip(t, 0.0, 1.0, out=t)
    t *= (d > 0.5 * lo) | field.disocclusion
    return t


def sampled_outside(field, area=None):
    """(H, W) bool: pixels the WarpField ``field`` takes from beyond the picture (``area`` (x0,
    y0, x1, y1), default the whole frame), where a warp mirrors or repeats the edge."""
    H, W = field.shape
    x0, y0, x1, y1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    return ((field.map_x < x0 - 0.5) | (field.map_x > x1 - 0.5)
            | (field.map_y < y0 - 0.5) | (field.map_y > y1 - 0.5))


def mirrored_weight(field, area, reach):
    """(H, W) float32: how much of what the WarpField ``field`` takes from beyond the picture
    (``area`` (x0, y0, x1, y1)), where a warp mirrors the edge, may count as the moved actor: 1
    inside the picture and up to ``reach`` px beyond its left, right and top edges, falling to 0
    at twice that; 1 anywhere below the bottom edge (a body continues below the frame, and the
    mirror of a shirt is a shirt). A head moved far from a side edge otherwise carried the mirror
    image of its own face into the room beside it (d12 -> d14, beside the pillarbox bar)."""
    H, W = field.shape
    x0, y0, x1, y1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    # (in one array: the same operations, in place)
    d = np.subtract(x0 - 0.5, field.map_x)
    np.maximum(d, field.map_x - (x1 - 0.5), out=d)
    np.maximum(d, np.subtract(y0 - 0.5, field.map_y), out=d)
    d /= max(float(reach), 1.0)
    np.subtract(2.0, d, out=d)
    return np.clip(d, 0.0, 1.0, out=d).astype(np.float32, copy=False)


def agreed_mattes(mattes):
    """Each of several warped source mattes (H, W) limited to the largest of the others: the
    actor of a blend of source moments only where at least two of them have it (region head's
    three-moment blend drew the hair one moment held wider as a ghost at a quarter of its
    opacity). One matte is returned as it is."""
    mattes = [np.asarray(a, np.float32) for a in mattes]
    if len(mattes) < 2:
        return mattes
    return [np.minimum(a, np.maximum.reduce([b for j, b in enumerate(mattes) if j != i]))
            for i, a in enumerate(mattes)]


def attached_alpha(alpha, uncovered):
    """``alpha`` (H, W) float (a moved actor's matte) with what lies in ``uncovered`` (H, W) bool
    (what the warp's head-region estimate calls room the head uncovered) kept only where it is
    part of the moved actor itself: a component of the matte (above 0.5) that also reaches
    outside ``uncovered``. Hair the estimate cut through stays; a fleck the warp folded out into
    the room (an ear's edge copied beside the head) goes. A new array."""
    alpha = np.asarray(alpha, np.float32)
    hole = np.asarray(uncovered, bool)
    if not hole.any():
        return alpha.copy()
    n, lab = cv2.connectedComponents((alpha > 0.5).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[lab[~hole & (lab > 0)]] = True  # (no np.unique: sorting a 1080p frame's labels took 66 ms)
    keep[0] = False
    out = alpha.copy()
    detached = hole & (lab > 0) & ~keep[lab]
    # a detached component's soft fringe (below 0.5, a couple of pixels) goes with it
    fringe = cv2.dilate(detached.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool) & (lab == 0) & hole
    out[detached | fringe] = 0.0
    return out


def layer_head(plain, moved, alpha_moved, frame, alpha_frame, reach, plate=None, known=None, area=None):
    """Region ``head``'s composite: the moved actor as a layer over ``frame``'s own background.

    ``moved`` (H, W, 3) uint8: a footage frame warped to the requested head; ``alpha_moved``
    (H, W) float: that frame's actor matte (:func:`reenact.render.matte.actor_matte`) warped the
    same way; ``frame`` / ``alpha_frame``: this row's footage frame and its matte. The actor is
    cut out of ``frame`` (matte above :data:`LAYER_CUT`, grown by :data:`LAYER_GROW`) and the
    hole filled by :func:`fill_background` from the shot's ``plate`` where it is ``known``,
    elsewhere by a smooth fill; the moved actor goes over it by its matte. Where ``reach``
    (:func:`layer_reach`) is 0 the result is ``plain`` (the warp without a layer: the frame
    itself where nothing moves), in between a blend. ``area`` (x0, y0, x1, y1), optional: the
    picture inside letterbox or pillarbox bars; nothing outside it is filled. A new image (or
    ``plain`` itself when nothing moves)."""
    reach = np.asarray(reach, np.float32)
    on = reach > 0
    if not on.any():
        return plain
    H, W = on.shape
    g = max(1, int(round(LAYER_GROW * min(H, W))))
    x0, y0, x1, y1 = grown_box(pixels_box(on), 2 * g + 2, on.shape)
    sl = (slice(y0, y1), slice(x0, x1))
    cut = np.asarray(alpha_frame)[sl] > LAYER_CUT
    cut = grow_disc(cut, g)
    if area is not None:  # nothing outside the picture is cut (the slice's own coordinates)
        ax0, ay0, ax1, ay1 = (int(v) for v in area)
        inside = np.zeros(cut.shape, bool)
        inside[max(0, ay0 - y0):max(0, ay1 - y0), max(0, ax0 - x0):max(0, ax1 - x0)] = True
        cut &= inside
    bg = fill_background(np.asarray(frame)[sl], cut, None if plate is None else np.asarray(plate)[sl],
                         None if known is None else np.asarray(known)[sl], match=True, grain=((H, W), (y0, x0)))
    a = np.clip(np.asarray(alpha_moved, np.float32)[sl], 0.0, 1.0)
    r = reach[sl]
    out = np.array(plain, copy=True)
    # a * moved + (1 - a) * bg, then reach * that + (1 - reach) * plain: where reach is 0 that is
    # plain, where it is 1 and the matte 0 or 1 the room or the moved actor, exactly; the rest (a
    # tenth of the box, which is most of the frame) is blended pixel by pixel
    whole = r == 1.0
    masked_copy(out[sl], bg, whole & (a == 0.0))
    masked_copy(out[sl], np.asarray(moved)[sl], whole & (a == 1.0))
    i = np.flatnonzero(~((r == 0.0) | (whole & ((a == 0.0) | (a == 1.0)))))
    if len(i):
        iy, ix = np.divmod(i, x1 - x0)
        f = (iy + y0) * W + (ix + x0)  # (the frame's flat pixel indices)
        ai, ri = a.ravel()[i][:, None], r.ravel()[i][:, None]
        layered = np.asarray(moved).reshape(-1, 3)[f].astype(np.float32)
        layered *= ai
        layered += (1.0 - ai) * bg.reshape(-1, 3)[i].astype(np.float32)
        layered *= ri
        layered += (1.0 - ri) * np.asarray(plain).reshape(-1, 3)[f].astype(np.float32)
        layered += 0.5
        out.reshape(-1, 3)[f] = np.clip(layered, 0, 255, out=layered).astype(np.uint8)
    return out
