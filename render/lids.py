# SPDX-License-Identifier: GPL-3.0-or-later
"""Lids closed over the footage's own eyes: a blink (or a squint) key that no frame of the shot
shows.

A key of the lids takes the eyes of the footage frame whose lids open as far
(:class:`~reenact.render.eyes.ShotEyes`). Where the shot has none (an actor who never blinks in
the shot), the mesh warp of the frame itself squeezed the open eye into the requested slit, iris
and all: a crushed dark smear, the eye still half open to the tracker (driving_d19). Here the
lids move as lids do, over an eyeball that stays where it is: the upper lid and the skin above
it slide down to the requested margin (the skin stretched over :data:`REACH` of the eye's
width), the lower lid up, and between the new margins the eye shows what it showed
(:func:`close_lids`). Only closing: lids opened wider than the frame's would uncover an eyeball
the footage does not show (those keys keep the mesh warp and the network).
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
#: the pasted eye region reaches this far beyond the eye's corners (eye widths), feathered over
#: half of it
SIDE = 0.25


def lid_keep(own, requested, r, own_row, pairs):
    """(E,) per eye-opening loop of the mesh (:func:`~reenact.render.meshes._mesh`'s ``eyes``):
    how much of the footage row ``own_row``'s (of ``own``) eye opening row ``r`` of the
    performance ``requested`` keeps, 1 open as the footage, 0 shut. The fitted mesh's lids never
    meet (a shut eye measures 0.25-0.35 cm between the lid vertices on the shared clips, an open
    one about 1), so the key's opening is read between the footage row's and that row's face with
    both eyeBlink coefficients at 1. ``pairs``: the (upper, lower) lid vertex of each eye
    (:data:`~reenact.render.eyes.EYE_PAIRS`). None where a row is untracked or the model has no
    blink."""
    from ..face.camera import posed_vertices
    from .meshes import _mesh

    names = [str(n) for n in own.expression_names]
    if [str(n) for n in requested.expression_names] != names or not {"eyeBlinkLeft", "eyeBlinkRight"} <= set(names):
        return None
    ex = np.asarray(own.expression, np.float64)[own_row]
    shut = ex.copy()
    shut[[names.index("eyeBlinkLeft"), names.index("eyeBlinkRight")]] = 1.0
    asked = np.asarray(requested.expression, np.float64)[r]
    if not (np.isfinite(ex).all() and np.isfinite(asked).all()):
        return None
    V = posed_vertices(own.identity, own.expression_basis, np.stack([ex, shut, asked]), np.zeros((3, 6)))
    keep = []
    for loop in _mesh().eyes:
        u, d = next(p for p in pairs if p[0] in set(int(i) for i in loop))
        o, c, q = np.linalg.norm(V[:, u] - V[:, d], axis=-1)
        keep.append(float(np.clip((q - c) / (o - c), 0.0, 1.0)) if o - c > 1e-3 else 1.0)
    return np.asarray(keep)


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
        duc = np.where(inside, np.interp(cols, xs, du), 0.0)[None]
        dlc = np.where(inside, np.interp(cols, xs, dl), 0.0)[None]
        y = np.arange(y0, y1, dtype=np.float64)[:, None]
        fall = lambda t: 0.5 * (1.0 + np.cos(np.pi * np.clip(t, 0.0, 1.0)))  # noqa: E731
        # the lash line (its strip above the margin) moved down whole, the skin above it stretched
        # after it (the lid the open eye folds away), the eyeball kept between the new margins,
        # the lower lid up with the skin below it following
        D = np.where(y < Uc - lash, duc * fall((Uc - lash - y) / A), np.where(
            y < Uc, duc, np.where(y > Lc, dlc * fall((y - Lc) / B), 0.0)))
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        # (a map into the whole frame: the skin the lid brings down may lie above the box)
        slid = cv2.remap(frame, xx, (yy - D).astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        w = np.zeros((y1 - y0, x1 - x0), np.float32)
        f = max(0.5 * side, 1.0)
        cx = np.clip(np.minimum(cols - x0 + 1, x1 - 1 - cols + 1) / f, 0, 1)
        ry = np.arange(y1 - y0, dtype=np.float64)
        cy = np.clip(np.minimum(ry + 1, y1 - y0 - ry) / max(0.5 * min(A, B), 1.0), 0, 1)
        w[:] = (cy[:, None] * cx[None, :]).astype(np.float32)
        if out is frame:
            out, weight = frame.copy(), np.zeros((H, W), np.float32)
        box = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(box + w[..., None] * (slid.astype(np.float32) - box) + 0.5, 0, 255).astype(np.uint8)
        weight[y0:y1, x0:x1] = np.maximum(weight[y0:y1, x0:x1], w)
    return out, weight
