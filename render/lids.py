# SPDX-License-Identifier: GPL-3.0-or-later
"""Lids moved over the footage's own eyes: a blink, squint or wide-eyed key that no frame of the
shot shows.

A key of the lids takes the eyes of the footage frame whose lids open as far
(:class:`~reenact.render.eyes.ShotEyes`). Where the shot has none (an actor who never blinks in
the shot), the mesh warp of the frame itself squeezed the open eye into the requested slit, iris
and all: a crushed dark smear, the eye still half open to the tracker (driving_d19). Here the
lids move as lids do, over an eyeball that stays where it is: the upper lid's lash line and the
skin above it slide down to the requested margin (the skin stretched over :data:`REACH` of the
eye's width), the lower lid up, and between the new margins the eye shows what it showed
(:func:`close_lids`). Lids keyed wider than the frame's (a surprised look) slide the other way
and uncover the eye's own eyeball: its white stretched to the new opening, its iris completed
from the part the lids showed (:func:`open_lids`; before, the network drew what they uncover: a
pale crescent under a dark line).
"""

import cv2
import numpy as np

#: the skin above the upper lid / below the lower lid that follows it, in eye widths (at least
#: twice the lid's move, so the stretch never folds)
REACH = (0.45, 0.3)
#: the lash line's strip above the upper lid's margin that moves down with it, in eye widths
LASH = 0.06
#: of a blink's closing, the share the upper lid makes (the lower lid rises the rest)
UPPER_SHARE = 0.8
#: lids opened wider than the frame's: the share of the widening the upper lid makes, and the
#: most the opening grows (times the frame's)
OPEN_UPPER_SHARE = 0.85
OPEN_MAX = 1.6
#: the pasted eye region reaches this far beyond the eye's corners (eye widths), feathered over
#: half of it
SIDE = 0.25
#: rows sampled per pixel row where lids slide (their new margins cut across the pixel rows)
SUBROWS = 4
#: the lower lid's rim beside the eye's white that a closing lid leaves out, in eye widths (0.75 to
#: 2.5 px, times how far the eye closes)
RIM = 0.03


def shut_openings(own, own_row, asked, pairs):
    """((E,) open, (E,) shut, (E,) asked) lid openings (cm) per eye-opening loop of the mesh
    (:func:`~reenact.render.meshes._mesh`'s ``eyes``): footage row ``own_row``'s face (of
    ``own``), the same face with both eyeBlink coefficients at 1 (the fitted mesh's shut eye: its
    lids never meet), and the expression coefficients ``asked`` (K,) on ``own``'s identity.
    ``pairs``: the (upper, lower) lid vertex of each eye (:data:`~reenact.render.eyes.EYE_PAIRS`).
    None where a row is untracked or the model has no blink."""
    from ..face.camera import posed_vertices
    from .meshes import _mesh

    names = [str(n) for n in own.expression_names]
    if not {"eyeBlinkLeft", "eyeBlinkRight"} <= set(names):
        return None
    ex = np.asarray(own.expression, np.float64)[own_row]
    shut = ex.copy()
    shut[[names.index("eyeBlinkLeft"), names.index("eyeBlinkRight")]] = 1.0
    asked = np.asarray(asked, np.float64)
    if not (np.isfinite(ex).all() and np.isfinite(asked).all()):
        return None
    V = posed_vertices(own.identity, own.expression_basis, np.stack([ex, shut, asked]), np.zeros((3, 6)))
    ocq = []
    for loop in _mesh().eyes:
        u, d = next(p for p in pairs if p[0] in set(int(i) for i in loop))
        ocq.append(np.linalg.norm(V[:, u] - V[:, d], axis=-1))
    return tuple(np.asarray(ocq).T)


def lid_keep(own, requested, r, own_row, pairs):
    """(E,) per eye-opening loop of the mesh: how much of the footage row ``own_row``'s (of
    ``own``) eye opening row ``r`` of the performance ``requested`` keeps, 1 open as the footage,
    0 shut, above 1 wider (up to :data:`OPEN_MAX`). The fitted mesh's lids never meet (a shut eye
    measures 0.25-0.35 cm between the lid vertices on the shared clips, an open one about 1), so
    the key's opening is read between the footage row's and that row's face shut
    (:func:`shut_openings`). None where a row is untracked or the model has no blink."""
    if [str(n) for n in requested.expression_names] != [str(n) for n in own.expression_names]:
        return None
    ocq = shut_openings(own, own_row, np.asarray(requested.expression, np.float64)[r], pairs)
    if ocq is None:
        return None
    return np.asarray([float(np.clip((q - c) / (o - c), 0.0, OPEN_MAX)) if o - c > 1e-3 else 1.0
                       for o, c, q in zip(*ocq)])


def _fall(t):
    """A raised cosine from 1 at ``t`` <= 0 to 0 at ``t`` >= 1 (how the skin beyond a lid follows it)."""
    return 0.5 * (1.0 + np.cos(np.pi * np.clip(t, 0.0, 1.0)))


def _paste(frame, out, weight, x0, y0, img, w):
    """(out, weight) with ``img`` (h, w, 3) float32 blended into ``out`` at (``x0``, ``y0``) by the
    feather ``w`` (h, w): ``out`` and ``weight`` made (a copy of ``frame``, zeros) on first use."""
    h, wd = w.shape
    if out is frame:
        out, weight = frame.copy(), np.zeros(frame.shape[:2], np.float32)
    cur = out[y0:y0 + h, x0:x0 + wd].astype(np.float32)
    out[y0:y0 + h, x0:x0 + wd] = np.clip(cur + w[..., None] * (img - cur) + 0.5, 0, 255).astype(np.uint8)
    weight[y0:y0 + h, x0:x0 + wd] = np.maximum(weight[y0:y0 + h, x0:x0 + wd], w)
    return out, weight


def lid_chains(loop):
    """(xs, upper ys, lower ys) of an eye-opening loop ((N, 2) px, a ring of vertices): the
    loop split at its leftmost and rightmost points into the upper and the lower lid, each as
    y of x on increasing xs."""
    p = np.asarray(loop, np.float64)
    a, b = int(np.argmin(p[:, 0])), int(np.argmax(p[:, 0]))
    n = len(p)
    one = p[[(a + k) % n for k in range((b - a) % n + 1)]]
    two = p[[(b + k) % n for k in range((a - b) % n + 1)]]
    chains = []
    for c in (one, two):
        c = c[np.argsort(c[:, 0], kind="stable")]
        chains.append(c)
    up, lo = sorted(chains, key=lambda c: float(c[:, 1].mean()))
    xs = np.arange(np.floor(p[a, 0]), np.ceil(p[b, 0]) + 1.0)
    return xs, np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, lo[:, 0], lo[:, 1])


def close_lids(frame, loops, keep):
    """(``frame`` with each eye's lids closed over it, the eye opening's loop ``loops[e]`` ((N, 2)
    px: what ``frame`` shows) narrowed to ``keep[e]`` of its height (:func:`lid_keep`: 1 as it
    is, 0 shut), the upper lid coming down :data:`UPPER_SHARE` of the way; (H, W) float32
    weight 0..1 of the region drawn (the eyes, the lids and the skin they carry, feathered)).
    ``frame`` itself and None where no lid moves."""
    H, W = frame.shape[:2]
    out, weight = frame, None
    for src, k in zip(loops, keep):
        xs, us, ls = lid_chains(src)
        ew = float(xs[-1] - xs[0])
        k = float(np.clip(k, 0.0, 1.0)) if np.isfinite(k) else 1.0
        if ew < 4 or k >= 1.0 or not (np.isfinite(us).all() and np.isfinite(ls).all()):
            continue
        gap = (1.0 - k) * np.maximum(ls - us, 0.0)  # how much of the opening the lids cover
        du, dl = UPPER_SHARE * gap, -(1.0 - UPPER_SHARE) * gap  # the upper lid down, the lower up
        U, L = us + du, ls + dl
        if max(float(du.max()), float(-dl.min())) < 0.5:
            continue
        lash = max(LASH * ew, 1.5)
        A = max(REACH[0] * ew, 2.0 * float(du.max()), 2.0)
        B = max(REACH[1] * ew, 2.0 * float(-dl.min()), 2.0)
        side = SIDE * ew
        x0, x1 = int(max(np.floor(xs[0] - side), 0)), int(min(np.ceil(xs[-1] + side) + 1, W))
        y0, y1 = int(max(np.floor(us.min() - lash - A) - 2, 0)), int(min(np.ceil(ls.max() + B) + 3, H))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        cols = np.arange(x0, x1, dtype=np.float64)
        inside = (cols >= xs[0]) & (cols <= xs[-1])
        Uc, Lc = np.interp(cols, xs, U)[None], np.interp(cols, xs, L)[None]
        # the lower lid's rim skipped as it rises: the rows right below the loop hold its wet rim
        # and the white of the eye the footage's blur spreads past the loop, a light line under
        # a closed lid's lashes (the upper lid's rim is the lash line, kept)
        rim = (1.0 - k) * float(np.clip(RIM * ew, 0.75, 2.5))
        duc = np.where(inside, np.interp(cols, xs, du), 0.0)[None]
        dlc = np.where(inside, np.interp(cols, xs, dl) - rim, 0.0)[None]
        # the lash line (its strip above the margin) moved down whole, the skin above it stretched
        # after it (the lid the open eye folds away), the eyeball kept between the new margins,
        # the lower lid up with the skin below it following
        def down(y):
            return np.where(y < Uc - lash, duc * _fall((Uc - lash - y) / A), np.where(
                y < Uc, duc, np.where(y > Lc, dlc * _fall((y - Lc) / B), 0.0)))

        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        # the move jumps at the new margins: each pixel the mean of SUBROWS sub-rows of it, each
        # moved by its own move, so a margin running across the pixel rows is a line, not a
        # staircase; pixels that do not move are the frame's own (a map into the whole frame:
        # the skin the lid brings down may lie above the box)
        subs = [yy + np.float32(s) for s in (np.arange(SUBROWS) + 0.5) / SUBROWS - 0.5]
        moves = [down(ys.astype(np.float64)).astype(np.float32) for ys in subs]
        slid = sum(cv2.remap(frame, xx, ys - m, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
                   for ys, m in zip(subs, moves)) / SUBROWS
        still = np.max(np.abs(moves), 0) < 1e-4
        slid[still] = frame[y0:y1, x0:x1][still]
        out, weight = _paste(frame, out, weight, x0, y0, slid, _feather((y1 - y0, x1 - x0), cols, x0, x1, side, min(A, B)))
    return out, weight


def open_lids(frame, loops, keep, landmarks):
    """(``frame`` with each eye's lids opened wider, the eye opening's loop ``loops[e]`` ((N, 2)
    px) widened to ``keep[e]`` (> 1, at most :data:`OPEN_MAX`) of its height, the upper lid rising
    :data:`OPEN_UPPER_SHARE` of the way, the skin beyond following as :func:`close_lids`' does;
    (H, W) float32 weight of the region drawn). The eyeball the lids uncover is the eye's own: its
    white (the iris taken out, :func:`~reenact.render.irises.without_iris`) stretched to the new
    opening, its iris where it was, what the lids hid of it completed from the part they show
    mirrored across its centre line (``landmarks``: the footage row's tracked landmarks, for the
    irises). ``frame`` itself and None where no lid moves."""
    from .irises import IRISES, _soft_disc, iris_circle, tracked_radius, without_iris

    H, W = frame.shape[:2]
    Lm = np.asarray(landmarks, np.float64)[:, :2]
    out, weight = frame, None
    for src, k in zip(loops, keep):
        xs, us, ls = lid_chains(src)
        ew = float(xs[-1] - xs[0])
        k = float(np.clip(k, 1.0, OPEN_MAX)) if np.isfinite(k) else 1.0
        if ew < 4 or k <= 1.0 or not (np.isfinite(us).all() and np.isfinite(ls).all()):
            continue
        e = min(range(len(IRISES)), key=lambda q: float(np.hypot(*(Lm[IRISES[q][0]] - np.asarray(src).mean(0)))))
        c = Lm[IRISES[e][0]]
        rad = tracked_radius(Lm, e)
        if not (np.isfinite(c).all() and np.isfinite(rad)) or rad < 1.0:
            continue
        h = np.maximum(ls - us, 0.0)
        gap = (k - 1.0) * h  # how much more the lids open
        du, dl = -OPEN_UPPER_SHARE * gap, (1.0 - OPEN_UPPER_SHARE) * gap
        U, L = us + du, ls + dl
        if max(float(-du.min()), float(dl.max())) < 0.5:
            continue
        A = max(REACH[0] * ew, 2.0 * float(-du.min()), 2.0)
        B = max(REACH[1] * ew, 2.0 * float(dl.max()), 2.0)
        side = SIDE * ew
        x0, x1 = int(max(np.floor(xs[0] - side), 0)), int(min(np.ceil(xs[-1] + side) + 1, W))
        y0 = int(max(np.floor(min(U.min(), c[1] - rad) - A) - 2, 0))
        y1 = int(min(np.ceil(max(L.max(), c[1] + rad) + B) + 3, H))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        shape = (y1 - y0, x1 - x0)
        cols = np.arange(x0, x1, dtype=np.float64)
        inside = (cols >= xs[0]) & (cols <= xs[-1])
        usc, lsc = np.interp(cols, xs, us)[None], np.interp(cols, xs, ls)[None]
        Uc, Lc = np.interp(cols, xs, U)[None], np.interp(cols, xs, L)[None]
        duc = np.where(inside, np.interp(cols, xs, du), 0.0)[None]
        dlc = np.where(inside, np.interp(cols, xs, dl), 0.0)[None]
        y = np.arange(y0, y1, dtype=np.float64)[:, None]
        # the lids and the skin beyond them moved out (pressed together over A and B); between
        # the new margins the white stretched from the old opening (the eyeball stays)
        inner = (y >= Uc) & (y <= Lc) & inside[None]
        t = np.clip((y - Uc) / np.maximum(Lc - Uc, 1e-3), 0.0, 1.0)
        ysrc = np.where(inner, usc + t * (lsc - usc), y - np.where(
            y < Uc, duc * _fall((Uc - y) / A), np.where(y > Lc, dlc * _fall((y - Lc) / B), 0.0)))
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        slid = cv2.remap(frame, xx, ysrc.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        old = np.zeros(shape, np.uint8)
        cv2.fillPoly(old, [np.round((np.asarray(src, np.float64) - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_AA, 4)
        old = old.astype(np.float32)
        box = frame[y0:y1, x0:x1]
        cl, rad = iris_circle(box, old, c - (x0, y0), rad)  # (the picture's iris, near the tracked ring)
        white = without_iris(box, old, cl, rad)
        white = cv2.remap(white, xx - x0, (ysrc - y0).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        img = np.where(inner[..., None], white, slid.astype(np.float32))
        # the iris where it was, what the old lids hid of it mirrored from what they showed
        vis = old > 0.5
        my = (2.0 * cl[1] - (yy - y0)).astype(np.float32)
        mirrored = cv2.remap(box, xx - x0, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        seen = cv2.remap(old, xx - x0, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT) > 0.5
        disc = _soft_disc(shape, cl, rad, soft=0.15 * rad)
        shown = vis & (disc > 0.5)
        mean = box[shown].astype(np.float32).mean(0) if shown.sum() >= 4 else None
        iris = np.where(vis[..., None], box.astype(np.float32), np.where(seen[..., None], mirrored,
                                                                         mean if mean is not None else mirrored))
        new = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), 0.7)
        alpha = (disc * new)[..., None]
        img = img * (1.0 - alpha) + iris * alpha
        out, weight = _paste(frame, out, weight, x0, y0, img, _feather(shape, cols, x0, x1, side, min(A, B)))
    return out, weight


def _feather(shape, cols, x0, x1, side, reach):
    """(h, w) float32: 1 inside an eye's box, ramped to 0 at its sides (over half ``side``) and
    at its top and bottom (over half ``reach``)."""
    f = max(0.5 * side, 1.0)
    cx = np.clip(np.minimum(cols - x0 + 1, x1 - 1 - cols + 1) / f, 0, 1)
    ry = np.arange(shape[0], dtype=np.float64)
    cy = np.clip(np.minimum(ry + 1, shape[0] - ry) / max(0.5 * reach, 1.0), 0, 1)
    return (cy[:, None] * cx[None, :]).astype(np.float32)
