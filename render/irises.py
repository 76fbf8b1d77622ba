# SPDX-License-Identifier: GPL-3.0-or-later
"""Irises moved inside the footage's own eyes: a gaze key that no frame of the shot shows.

An animator's gaze key on a row that keeps the head pose takes the eyes of the footage frame
that looks that way (:class:`~reenact.render.eyes.ShotEyes`). Where no frame comes near enough
(the actor never looks there in the shot), the row's own eyes are kept and each iris is moved
inside its eye opening to where the requested gaze puts it (:func:`iris_shift`, the tracker's
eyeball model: the iris on a 1.25 cm sphere, :mod:`reenact.face.gaze`). A move of a few pixels
(:data:`PUSH_MAX`) pushes the eye's pixels (:func:`push_field`): the iris and the white beside
it slide, stretched behind it and squeezed ahead of it, fading out before the corners, and
nothing is filled, so an opening's loop that sits off the picture's lids (dark, soft eyes) leaves
no piece of the old iris and no pale fill behind. A larger move takes the iris out: the white of the eye
where the iris was is inpainted from the opening around it and lifted to the eye's own white
where the inpainting left it whitish (the lids' and lashes' dark stays); the lids follow the
iris up or down as real lids do (an eye looking down lowers its upper lid: :func:`lid_field`,
a smooth warp of the lids and the skin next to them); and the iris (the part of it the lids
show) is laid at its new place, cut by the lids. What this cannot do: show the part of an iris
the footage's lids hide (beyond what the lids' follow uncovers), or fold the skin of the lid as
it rolls; at 4x the moved iris can carry a piece of the lid line with it, and an iris pushed
into the eye's corner is cut off (driving_d3, asked 0.5 rad). The shot's own frames
come first where one looks near enough (docs/reenact-bench.md, *Gaze keys*).
"""

import cv2
import numpy as np

from ..face.camera import posed_vertices, project_points
from ..face.gaze import GAZE_LIMIT, iris_points

#: the tracker's landmarks of each iris (centre, ring), in the order of :func:`iris_points`'
#: eyes (the actor's left, then right)
IRISES = ((473, (474, 475, 476, 477)), (468, (469, 470, 471, 472)))
#: the sclera fill covers the footage's iris grown by this factor (its soft rim and shadow)
FILL_GROW = 1.2
#: the filled white is lifted to the white around it where the inpainting left it brighter than
#: LIFT_FROM[0] of that white, wholly from LIFT_FROM[1]
LIFT_FROM = (0.45, 0.75)
#: a moved iris's centre stays this many iris radii inside the eye opening's corners (:func:`fits`)
CORNER_MARGIN = 1.0
#: the lids follow the iris up and down (an eye looking down lowers its upper lid): the upper
#: lid's margin moves by the iris's vertical move times LID_FOLLOW[0] (at the middle of the eye,
#: nothing at its corners), the lower lid's by LID_FOLLOW[1]; the skin above the upper lid follows
#: it over LID_REACH[0] of the eye's width, below the lower lid over LID_REACH[1]
LID_FOLLOW = (1.0, 0.3)
LID_REACH = (0.45, 0.3)
#: an eye whose opening is nowhere this many iris radii high is shut: left as it is
SHUT = 0.5
#: the iris's cut by the lids and the lifted white are softened by a Gaussian of this many px
EDGE_SOFT = 0.7
#: the iris's circle in the picture (:func:`iris_circle`): centres within CIRCLE_REACH[0] of the
#: tracked radius from the tracked centre across, CIRCLE_REACH[2] up or down (the sides alone
#: hardly tell a circle moved up from a wider one: free, every clip's came out 2-5 px higher and
#: wider), radii CIRCLE_REACH[1] times it; its edge read on the sides within CIRCLE_SIDES degrees
#: of horizontal, where at least CIRCLE_SEEN of them lie in the eye opening, and taken where it
#: steps by CIRCLE_STEP levels or more (else the tracked circle)
CIRCLE_REACH = (0.3, (0.8, 1.4), 0.1)
CIRCLE_SIDES = 50.0
CIRCLE_SEEN = 0.3
CIRCLE_STEP = 8.0
#: a move of at most PUSH_MAX iris radii (and 6 px) pushes the eye's pixels instead
#: (:func:`push_field`): the iris and the white around it slide, nothing is inpainted; the
#: push fades to nothing over PUSH_FADE iris radii (at least twice the move) beyond the iris and
#: ends inside the opening's corners, which never move. Larger moves take the white-fill path
PUSH_MAX = 0.6
PUSH_FADE = 0.5
#: moves under this many pixels leave the eyes as they are (``inf``: never move them; the
#: gaze bench's renderer-alone column)
MIN_SHIFT = 0.5


def _iris_pixels(track, row, gaze=None):
    """(2, 2) pixels of the eyeball model's iris centres (left, right) at ``track``'s row ``row``
    (its gaze, or ``gaze`` (4,); its pose and camera); NaN when the row has no gaze or pose."""
    gaze = np.asarray(track.gaze, np.float64)[row:row + 1] if gaze is None else np.asarray(gaze, np.float64).reshape(1, 4)
    pose = np.asarray(track.pose, np.float64)[row:row + 1]
    if not (np.isfinite(gaze).all() and np.isfinite(pose).all()):
        return np.full((2, 2), np.nan)
    X = iris_points(track.identity, gaze)[0]  # (2, 3) model frame
    C = posed_vertices(X, np.zeros((1, 2, 3)), np.zeros((1, 1)), pose)[0]  # (no expression moves them)
    cam = track.camera()
    return project_points(C, float(cam.focal_px), cam.principal)


def tracked_radius(landmarks, k):
    """Px radius of iris ``k`` (:data:`IRISES`' order) in a row's tracked ``landmarks`` ((478, 2+)):
    the mean distance of its ring from its centre (NaN where untracked)."""
    centre, ring = IRISES[k]
    L = np.asarray(landmarks, np.float64)[:, :2]
    return float(np.mean(np.linalg.norm(L[list(ring)] - L[centre], axis=1)))


def iris_shift(own, requested, own_row, r):
    """(2, 2) pixels by which row ``r`` of the performance ``requested`` moves each iris (left,
    right) from where footage row ``own_row`` of ``own`` shows it: the difference of the
    eyeball model's iris centres under the two gazes (and poses), so a model that sits a little
    off the footage's eyes still moves each iris by the right amount. NaN where either gaze is
    unknown or the asked one lies beyond what the tracker reads (:data:`GAZE_LIMIT`)."""
    g = np.asarray(requested.gaze, np.float64)[r]
    if not np.isfinite(g).all() or np.abs(g).max() > GAZE_LIMIT:  # beyond what the tracker reads: not an eye's turn
        return np.full((2, 2), np.nan)
    return _iris_pixels(requested, r) - _iris_pixels(own, own_row)


def fits(landmarks, shift, loops):
    """True when each iris moved by ``shift`` (2, 2) px (:func:`iris_shift`) keeps its centre in
    its eye opening (``loops``: the openings' (N, 2) px; ``landmarks``: the footage row's tracked
    landmarks) and at least :data:`CORNER_MARGIN` of its radius from the opening's corners (left
    and right): an iris pushed into the eye's corner is cut off there and reads as hardly any
    turn (driving_d3)."""
    L = np.asarray(landmarks, np.float64)[:, :2]
    for k, (centre, _) in enumerate(IRISES):
        c, s = L[centre], np.asarray(shift[k], np.float64)
        if not (np.isfinite(c).all() and np.isfinite(s).all()):
            return False
        rad = tracked_radius(L, k)
        loop = np.asarray(min(loops, key=lambda p: float(np.hypot(*(np.asarray(p).mean(0) - c)))), np.float32)
        if not np.isfinite(rad) or cv2.pointPolygonTest(loop.reshape(-1, 1, 2), (float(c[0] + s[0]),
                                                                                 float(c[1] + s[1])), False) < 0:
            return False  # (up and down the lids cover the iris anyway: only its centre must stay inside)
        x = float(c[0] + s[0])
        if not (loop[:, 0].min() + CORNER_MARGIN * rad <= x <= loop[:, 0].max() - CORNER_MARGIN * rad):
            return False
    return True


def _soft_disc(shape, centre, radius, soft=1.0):
    """(h, w) float32 0..1: a disc, its edge ramped over ``soft`` px."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    d = np.hypot(xx - np.float32(centre[0]), yy - np.float32(centre[1]))
    return np.clip((np.float32(radius) - d) / np.float32(max(soft, 1e-3)) + 0.5, 0.0, 1.0)


def iris_circle(box, eye, cl, rad):
    """((2,) centre px, radius px) of the iris as the picture shows it, near the tracked one
    (``box``: (h, w, 3) RGB, as the render path's frames, or (h, w) luma; centre ``cl`` in the
    box, radius ``rad``): the circle whose edge steps most from dark inside
    to bright outside on its sides (within :data:`CIRCLE_SIDES` of horizontal, where the lids leave
    the white beside the iris; only where the outside lies in the eye opening ``eye`` (h, w) 0..1),
    centres within :data:`CIRCLE_REACH` [0] of the radius, radii :data:`CIRCLE_REACH` [1]. The
    tracked circle where no candidate shows a clear edge (:data:`CIRCLE_STEP` levels) on
    :data:`CIRCLE_SEEN` of its sides. The tracker's ring can sit off the picture's: a moved iris
    then left its rim behind as a dark arc (driving_d10), a completed one a pale ring (d14)."""
    cl = np.asarray(cl, np.float64)
    gray = cv2.GaussianBlur(np.asarray(box, np.float32) @ np.float32([0.299, 0.587, 0.114])
                            if np.asarray(box).ndim == 3 else np.asarray(box, np.float32), (0, 0), 0.7)
    inside = cv2.erode((np.asarray(eye) > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    step = max(0.5, rad / 12.0)
    offs = step * np.arange(-int(CIRCLE_REACH[0] * rad / step), int(CIRCLE_REACH[0] * rad / step) + 1)
    radii = rad + step * np.arange(-int((1 - CIRCLE_REACH[1][0]) * rad / step),
                                   int((CIRCLE_REACH[1][1] - 1) * rad / step) + 1)
    side = np.radians(CIRCLE_SIDES)
    th = np.concatenate([np.linspace(-side, side, 9), np.pi + np.linspace(-side, side, 9)])
    offy = offs[np.abs(offs) <= CIRCLE_REACH[2] * rad + 1e-6]
    cx = cl[0] + offs[:, None, None, None]
    cy = cl[1] + offy[None, :, None, None]
    rr = radii[None, None, :, None]
    d = np.maximum(1.0, 0.12 * rr)
    ct, st = np.cos(th)[None, None, None, :], np.sin(th)[None, None, None, :]

    def at(img, r):  # img sampled on the circles of radius r about every candidate centre
        x, y = np.broadcast_arrays(cx + r * ct, cy + r * st)
        return cv2.remap(img, x.reshape(-1, 1).astype(np.float32), y.reshape(-1, 1).astype(np.float32),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0).reshape(x.shape)

    seen = at(inside, rr + d) > 0.5
    edge = np.where(seen, at(gray, rr + d) - at(gray, rr - d), 0.0)
    n = seen.sum(-1)
    score = np.where(n >= CIRCLE_SEEN * len(th), edge.sum(-1) / np.maximum(n, 1), -np.inf)
    i, j, k = np.unravel_index(int(np.argmax(score)), score.shape)
    if not score[i, j, k] >= CIRCLE_STEP:
        return cl, float(rad)
    return np.array([cl[0] + offs[i], cl[1] + offy[j]]), float(radii[k])


def lid_field(eye, dy):
    """(h, w) float32 px, or None when it moves nothing: how far down each pixel of an eye's box
    moves when its iris moves ``dy`` px down (``eye``: the eye opening's (h, w) 0..1 mask in the
    box). The upper lid's margin by ``dy`` x :data:`LID_FOLLOW` [0], the lower lid's by
    ``LID_FOLLOW[1]``, the white between them in proportion, the skin outside fading to nothing
    over :data:`LID_REACH` of the eye's width; across the eye a half sine, nothing at the corners
    (the lids are fixed there)."""
    m = np.asarray(eye) > 0.5
    has = m.any(0)
    cols = np.flatnonzero(has)
    if abs(float(dy)) * LID_FOLLOW[0] < 0.25 or cols.size < 3:
        return None
    h, w = m.shape
    xa, ew = float(cols[0]), float(cols[-1] - cols[0])
    yu = np.where(has, np.argmax(m, 0), 0).astype(np.float32)[None, :]
    yl = np.where(has, h - 1 - np.argmax(m[::-1], 0), 0).astype(np.float32)[None, :]
    y = np.arange(h, dtype=np.float32)[:, None]
    up, lo = np.float32(LID_FOLLOW[0]), np.float32(LID_FOLLOW[1])
    above = up * 0.5 * (1 + np.cos(np.pi * np.clip((yu - y) / max(LID_REACH[0] * ew, 1.0), 0, 1)))
    between = up + (lo - up) * np.clip((y - yu) / np.maximum(yl - yu, 1.0), 0, 1)
    below = lo * 0.5 * (1 + np.cos(np.pi * np.clip((y - yl) / max(LID_REACH[1] * ew, 1.0), 0, 1)))
    wy = np.where(y < yu, above, np.where(y > yl, below, between))
    wx = np.where(has, np.sin(np.pi * np.clip((np.arange(w) - xa) / max(ew, 1.0), 0, 1)), 0).astype(np.float32)
    D = np.float32(dy) * wx[None, :] * wy
    k = max(0.05 * ew, 1.0)  # (a column's lid line is a pixel grid: smoothed across)
    return cv2.GaussianBlur(D.astype(np.float32), (0, 0), sigmaX=k, sigmaY=1.0)


def push_field(eye, cl, rad, s):
    """(h, w, 2) float32 px by which each pixel of an eye's box is pushed (the picture at ``x``
    shows what the footage shows at ``x - D(x)``) so that the iris (centre ``cl`` px in the box,
    radius ``rad``) slides by ``s`` (2,) px inside its opening (``eye``: (h, w) 0..1 mask in the
    box): the whole move on the iris's old and new discs, fading to nothing over
    :data:`PUSH_FADE` radii (and at least twice the move) beyond them, and ending inside the
    opening's corners (the corners and the skin beyond them stay). The lids next to the iris
    slide with it (up or down they follow it wholly there, where :func:`lid_field` moves the
    lower lid a third as far). None where the move is too large for it (:data:`PUSH_MAX`): the
    fill path."""
    s = np.asarray(s, np.float64)
    n = float(np.hypot(*s))
    cols = np.flatnonzero((np.asarray(eye) > 0.5).any(0))
    if n > min(PUSH_MAX * rad, 6.0) or cols.size < 3:
        return None
    fade = max(PUSH_FADE * rad, 2.0 * n, 1.0)
    xa, xb = float(cols[0]), float(cols[-1])
    lo, hi = min(cl[0], cl[0] + s[0]) - rad, max(cl[0], cl[0] + s[0]) + rad
    # behind the iris the picture is stretched over at least 1.5x the move (else its pixels
    # fold): the white it leaves, or where the iris sits in the corner (a look aside), the
    # iris's own back edge, as if it came out from under the lids there; ahead of it the white is
    # squeezed, which a short fade does without folding (in the corner, the iris's front edge:
    # it goes under the lids there)
    room_back = (xb - hi) if s[0] < 0 else (lo - xa)
    room_ahead = (lo - xa) if s[0] < 0 else (xb - hi)
    h, w = eye.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    px, py = xx - cl[0], yy - cl[1]  # distance to the segment from the old centre to the new
    t = np.clip((px * s[0] + py * s[1]) / max(n * n, 1e-9), 0.0, 1.0)
    d = np.hypot(px - t * s[0], py - t * s[1])
    u = np.clip((d - rad) / fade, 0.0, 1.0)
    wgt = 1.0 - u * u * (3.0 - 2.0 * u)  # (smoothstep: slope at most 1.5 / fade < 1 / move)
    # the corners and the skin beyond them stay: across the eye the push ends at the corners
    ahead, back = (max(min(room, fade), 1.5 * abs(s[0]) + 0.5) for room in (room_ahead, room_back))
    (el, fl), (er, fr) = ((xa, ahead), (xb, back)) if s[0] < 0 else ((xa, back), (xb, ahead))
    el, er = max(el, lo - fl), min(er, hi + fr)  # (where the push ends: the corner, or the fade's end)
    cx = np.clip(np.minimum((xx[0] - el) / fl, (er - xx[0]) / fr), 0.0, 1.0)
    wgt = wgt * (cx * cx * (3.0 - 2.0 * cx))[None, :]
    D = wgt[..., None] * s[None, None, :]
    lids = lid_field(eye, s[1])
    if lids is not None:  # up or down, the lids follow the iris beyond it as the fill path's do
        D[..., 1] += (1.0 - wgt) * lids
    return D.astype(np.float32)


def without_iris(box, eye, cl, rad):
    """(h, w, 3) float32: the eye box ``box`` (uint8) with its iris (centre ``cl`` px in the box,
    radius ``rad``) taken out of the eye opening ``eye`` ((h, w) 0..1): the white of the eye where
    the iris was, inpainted from the opening around it (its sclera, shading and lids) and lifted to
    the brighter half of the white around it where the inpainting left it whitish (inpainting alone
    carries the lids' and lashes' dark in, a grey smear the eye, and the tracker, read as iris)."""
    shape = eye.shape
    f32 = box.astype(np.float32)
    gone = (_soft_disc(shape, cl, FILL_GROW * rad) > 0.5) & (eye > 0.5)
    filled = cv2.inpaint(np.ascontiguousarray(box), gone.astype(np.uint8), max(2.0, 0.5 * rad),
                         cv2.INPAINT_TELEA).astype(np.float32)
    away = (eye > 0.5) & ~gone
    if away.sum() >= 4:
        lum = np.array([0.299, 0.587, 0.114], np.float32)
        luma = f32 @ lum
        white = f32[away & (luma >= np.median(luma[away]))].mean(0)
        # (only what the inpainting made whitish: the lid's and lashes' dark stays dark)
        lw = max(float(white @ lum), 1.0)
        t = np.clip(((filled @ lum) / lw - LIFT_FROM[0]) / (LIFT_FROM[1] - LIFT_FROM[0]), 0.0, 1.0)
        t = cv2.GaussianBlur(t, (0, 0), EDGE_SOFT)[..., None]  # (per pixel it left the lashes' dark stippled)
        filled = filled + t * (np.maximum(filled, white) - filled)
    fill = _soft_disc(shape, cl, FILL_GROW * rad, soft=0.3 * rad) * eye
    return f32 * (1.0 - fill[..., None]) + filled * fill[..., None]


def move_irises(frame, landmarks, shift, loops, moved_by=None):
    """``frame`` (H, W, 3) uint8 with each iris moved by ``shift`` (2, 2) px (left, right:
    :func:`iris_shift`) inside its eye opening. ``landmarks``: (478, 2+) the footage row's
    tracked landmarks (its iris centres and rings); ``loops``: the eye-opening loops (N, 2) px
    of the eyes ``frame`` shows (the requested mesh's, as drawn); ``moved_by``: optional (2, 2)
    px by which ``frame``'s eyes sit off the footage row's (a frame the mesh warp moved: the
    loops' centres minus the footage's). A new array; ``frame`` itself where nothing moves."""
    L = np.asarray(landmarks, np.float64)[:, :2]
    H, W = frame.shape[:2]
    out = frame
    for k, (centre, _) in enumerate(IRISES):
        s = np.asarray(shift[k], np.float64)
        c = L[centre] + (0.0 if moved_by is None else np.asarray(moved_by[k], np.float64))
        if not (np.isfinite(s).all() and np.isfinite(c).all()) or float(np.hypot(*s)) < MIN_SHIFT:
            continue
        rad = tracked_radius(L, k)
        loop = min(loops, key=lambda p: float(np.hypot(*(np.asarray(p).mean(0) - c))))
        loop = np.asarray(loop, np.float64)
        if not (np.isfinite(loop).all() and np.isfinite(rad)) or rad < 1.0:
            continue
        pad = int(np.ceil(2 * rad + np.abs(s).max())) + 3
        ew = float(np.ptp(loop[:, 0]))  # (the skin the lids carry: LID_REACH of the eye's width)
        x0, y0 = np.maximum(np.floor(np.minimum(loop.min(0), c - rad)).astype(int)
                            - (pad, pad + int(np.ceil(LID_REACH[0] * ew))), 0)
        x1, y1 = np.minimum(np.ceil(np.maximum(loop.max(0), c + rad)).astype(int)
                            + (pad, pad + int(np.ceil(LID_REACH[1] * ew))), (W, H))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        shape = (y1 - y0, x1 - x0)
        eye = np.zeros(shape, np.uint8)
        cv2.fillPoly(eye, [np.round((loop - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_AA, 4)
        eye = eye.astype(np.float32)
        if eye.sum() < 4 or eye.sum(0).max() < SHUT * rad:
            continue  # (a shut eye shows no iris, and its lid does not follow one)
        box = frame[y0:y1, x0:x1].astype(np.float32)
        cl, rad = iris_circle(box, eye, c - (x0, y0), rad)  # (the picture's iris, near the tracked ring)
        P = push_field(eye, cl, rad, s)
        if P is not None:  # a small move: the iris and the white beside it slide, nothing is filled
            yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
            comp = cv2.remap(box, xx - P[..., 0], yy - P[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if out is frame:
                out = frame.copy()
            out[y0:y1, x0:x1] = np.clip(comp + 0.5, 0, 255).astype(np.uint8)
            continue
        iris = _soft_disc(shape, cl, rad, soft=0.15 * rad) * eye  # the iris as the lids show it
        comp = without_iris(frame[y0:y1, x0:x1], eye, cl, rad)
        D = lid_field(eye, s[1])
        if D is not None:  # the lids (and the white between them) follow the iris up or down
            yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
            comp = cv2.remap(comp, xx, yy - D, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            eye = cv2.remap(eye, xx, yy - D, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        A = np.float32([[1, 0, s[0]], [0, 1, s[1]]])
        moved = cv2.warpAffine(box, A, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # cut by the lids as drawn, over a pixel or so as the footage's lid lines are
        alpha = cv2.warpAffine(iris, A, (shape[1], shape[0]), flags=cv2.INTER_LINEAR) * cv2.GaussianBlur(eye, (0, 0), EDGE_SOFT)
        comp = comp * (1.0 - alpha[..., None]) + moved * alpha[..., None]
        if out is frame:
            out = frame.copy()
        out[y0:y1, x0:x1] = np.clip(comp + 0.5, 0, 255).astype(np.uint8)
    return out
