# SPDX-License-Identifier: GPL-3.0-or-later
"""The pull-push fill (:func:`~.head._pull_push`) computed for one box of the image alone,
bit-identical there to the whole image's. A 4K frame's fill of a hole a few hundred pixels wide
made three 100 MB float planes and two full-resolution pyramid steps (0.3-0.9 s a frame in
region ``head``); the box's needs are small.

What a box needs, level by level from the finest: the finer level's upsampling reads the next
coarser estimate one pixel around half the box; an estimate needs that coarser level only where
its weight is under a quarter (elsewhere the blend takes its own average, exactly: the coarser
term is multiplied by 0); each level's averages need the finer level two pixels around twice
the box. The weights' pyramid (one channel) is made whole, to find where they are under a
quarter; the values' only over the boxes that are read.

OpenCV's pyramid steps compute most columns with SIMD and the last few of a row with scalar code
whose rounding differs: each part is padded with zero columns (which only the discarded output
columns read), :data:`PAD` on the right, or up to an origin that is a multiple of :data:`PAD`
where it ends at the image's own right edge, so that each column is computed by the same code
as in the whole image."""

import cv2
import numpy as np

from .meshes import channels, pixels_box

#: zero columns on the right of a part (or its origin's alignment where it ends at the image's
#: right edge), in source pixels: more than the widest SIMD row of floats (16) needs
PAD = 64


def _down_src(a, b, n):
    """The source span [s0, s1) (of ``n`` pixels) that pyrDown's outputs [a, b) read (to the
    row's end from PAD before it: the whole image computes its last columns with scalar code)."""
    s1 = 2 * b + 1
    return max(0, 2 * a - 2), (n if s1 + PAD >= n else s1)


def _up_src(a, b, n):
    """The source span [s0, s1) (of ``n`` pixels) that pyrUp's outputs [a, b) read (as
    :func:`_down_src`, to the row's end from PAD before it)."""
    s1 = (b - 1) // 2 + 2
    return max(0, a // 2 - 1), (n if s1 + PAD >= n else s1)


def _padded(part, s0, s1, n):
    """(``part`` (columns [s0, s1) of a row of ``n``) with zero columns, the padded part's first
    column): PAD on the right inside the row, else on the left up to a multiple of PAD."""
    pl, pr = (s0 % PAD, 0) if s1 == n else (0, PAD)
    if not (pl or pr):
        return part, s0
    out = np.zeros((part.shape[0], pl + part.shape[1] + pr) + part.shape[2:], part.dtype)
    out[:, pl:pl + part.shape[1]] = part
    return out, s0 - pl


def _union(p, q):
    if p is None:
        return q
    return min(p[0], q[0]), min(p[1], q[1]), max(p[2], q[2]), max(p[3], q[3])


def _c3(a):
    return a[..., None] if a.ndim == 2 else a


def pull_push_box(values, have, box, zero_beyond=False):
    """(y1 - y0, x1 - x0, C) float32: ``_pull_push(values, have, holes_only=True)`` inside
    ``box`` (x0, y0, x1, y1) alone, the same values. ``values`` (H, W, C); ``have`` (H, W)
    bool; at least 5 px each way (a pyramid of one level at least). ``zero_beyond``: ``values``
    are +0 wherever ``have`` is False (its weighted values then are ``values`` themselves)."""
    have = np.asarray(have, bool)
    x0, y0, x1, y1 = (int(v) for v in box)
    ws = [have.astype(np.float32)]
    while min(ws[-1].shape) > 4:
        ws.append(cv2.pyrDown(ws[-1]))
    L = len(ws) - 1
    C = values.shape[2]
    # top-down: where each level's upsampled estimate is read (ups[k], level k's pixels) and
    # where each level's estimate is made (ests[k]: the source of the finer upsampling)
    ups, ests = [None] * L, [None] * (L + 1)
    ups[0] = (x0, y0, x1, y1)
    for k in range(L):
        ux0, uy0, ux1, uy1 = ups[k]
        h, w = ws[k + 1].shape
        sx0, sx1 = _up_src(ux0, ux1, w)
        sy0, sy1 = _up_src(uy0, uy1, h)
        ests[k + 1] = (sx0, sy0, sx1, sy1)
        if k + 1 == L:
            break
        lw = ws[k + 1][sy0:sy1, sx0:sx1]
        low = np.clip(lw * 4.0, 0.0, 1.0) < 1.0  # where the coarser level's estimate counts
        b = pixels_box(low)
        if b is None:
            break
        ups[k + 1] = (sx0 + b[0], sy0 + b[1], sx0 + b[2], sy0 + b[3])
    K = max(k for k in range(L + 1) if ests[k] is not None)
    # where each level's values (times weights) are needed: its estimate and the coarser level's
    # averages; bottom-up: their pyrDown spans
    need, srcs = [None] * (K + 1), [None] * (K + 1)
    need[K] = ests[K]
    for k in range(K, 0, -1):
        nx0, ny0, nx1, ny1 = need[k]
        h, w = ws[k - 1].shape
        sx0, sx1 = _down_src(nx0, nx1, w)
        sy0, sy1 = _down_src(ny0, ny1, h)
        srcs[k] = (sx0, sy0, sx1, sy1)
        need[k - 1] = _union(ests[k - 1], (sx0, sy0, sx1, sy1)) if k - 1 > 0 else (sx0, sy0, sx1, sy1)
    nx0, ny0, nx1, ny1 = need[0]
    v = values[ny0:ny1, nx0:nx1]
    if zero_beyond:  # (v * 1 where have, +0 * 0 elsewhere: v)
        f0 = np.asarray(v, np.float32)
    elif v.dtype == np.uint8:  # (v * w, w 0 or 1 and v at least 0: v where have, +0 elsewhere; one pass)
        f0 = np.zeros(v.shape, np.float32)
        np.copyto(f0, v, where=have[ny0:ny1, nx0:nx1][..., None])
    else:
        f0 = np.asarray(v, np.float32) * channels(ws[0][ny0:ny1, nx0:nx1], C)
    fs = [f0]
    for k in range(1, K + 1):
        sx0, sy0, sx1, sy1 = srcs[k]
        px0, py0 = need[k - 1][:2]
        src, vx0 = _padded(fs[k - 1][sy0 - py0:sy1 - py0, sx0 - px0:sx1 - px0], sx0, sx1, ws[k - 1].shape[1])
        d = _c3(cv2.pyrDown(src))
        nx0, ny0, nx1, ny1 = need[k]
        fs.append(d[ny0 - sy0 // 2:ny1 - sy0 // 2, nx0 - vx0 // 2:nx1 - vx0 // 2])

    def part(k, b):  # level k's values and weights over the box b
        px0, py0 = need[k][:2]
        return (fs[k][b[1] - py0:b[3] - py0, b[0] - px0:b[2] - px0], ws[k][b[1]:b[3], b[0]:b[2]])

    lf, lw = part(K, ests[K])
    est = lf / channels(np.maximum(lw, 1e-6), C)  # (the coarsest level's, or where weights are whole)
    if K < L:
        a = channels(np.clip(lw * 4.0, 0.0, 1.0), C)
        est *= a
    for k in range(K - 1, -1, -1):
        ex0, ey0, ex1, ey1 = ests[k + 1]
        ux0, uy0, ux1, uy1 = ups[k]
        h, w = ws[k].shape
        src, vx0 = _padded(est, ex0, ex1, ws[k + 1].shape[1])
        dw = w - 2 * vx0 if ex1 == ws[k + 1].shape[1] else 2 * src.shape[1]
        dh = h - 2 * ey0 if ey1 == ws[k + 1].shape[0] else 2 * (ey1 - ey0)
        up = _c3(cv2.pyrUp(src, dstsize=(dw, dh)))[uy0 - 2 * ey0:uy1 - 2 * ey0, ux0 - 2 * vx0:ux1 - 2 * vx0]
        if k == 0:
            return up
        lf, lw = part(k, ests[k])
        a = channels(np.clip(lw * 4.0, 0.0, 1.0), C)
        est = lf / channels(np.maximum(lw, 1e-6), C)
        est *= a
        # (1 - a) * up only where a < 1: elsewhere it is 0 (the upsampled estimate is finite)
        ex0, ey0 = ests[k][:2]
        sl = (slice(uy0 - ey0, uy1 - ey0), slice(ux0 - ex0, ux1 - ex0))
        est[sl] += (1.0 - a[sl]) * up
    return est
