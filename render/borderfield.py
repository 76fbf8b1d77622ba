# SPDX-License-Identifier: GPL-3.0-or-later
"""The mesh border's non-rigid motion as :func:`~reenact.render.warp.warp_field` carries it out
beyond the mesh (to hair, ears and neck, fading into the head's rigid motion): each pixel outside
takes the residual (the mesh's displacement minus the rigid one) of the nearest mesh pixel. A
single odd border pixel then draws a band outward: an eye opening that reaches the silhouette of
a turned head (its pixels follow the eye's homography, not the skin's triangles) or a sliver
triangle at the silhouette whose affine map extrapolates wildly (driving_d14 moved by region
head: a dark wedge of hair beside the eye's corner and a notch cut into the cheek). Here the
border's residual keeps its exact value where it agrees with the skin around it (so the field
stays continuous across the mesh's edge) and takes the skin's local average where it does not.
numpy + OpenCV."""

import cv2
import numpy as np

#: the skin's local average is taken over a Gaussian of this many face sizes
SMOOTH = 0.03
#: a mesh pixel whose residual differs from it by more than this many face sizes (and at least
#: OUTLIER_PX pixels: on a small face a pixel or two is the raster's own) is replaced
OUTLIER = 0.015
OUTLIER_PX = 2.0


def border_residual(rx, ry, yy, xx, is_eye, fs):
    """(rx, ry, odd): ``rx``, ``ry`` (N,) float32, the residual of the mesh pixels at rows
    ``yy``, columns ``xx``, with the eye openings' (``is_eye`` (N,) bool) and every outlier of the
    skin (:data:`OUTLIER`; ``odd`` (N,) bool) replaced by the local average of the skin's
    (:data:`SMOOTH`; ``fs``: the face's size in pixels). The caller draws the odd skin pixels
    themselves with it too (a sliver's own wild map showed as a dotted seam along the outline);
    the eyes keep theirs inside."""
    skin = ~np.asarray(is_eye, bool)
    if len(yy) == 0 or not skin.any():
        return rx, ry, np.zeros(len(yy), bool)
    sigma = max(SMOOTH * float(fs), 1.0)
    step = max(1, int(sigma // 2))  # (averaged on a grid of about 2 px per sigma)
    reach = int(np.ceil(3 * sigma / step)) + 2  # (grid cells a near pixel's average reaches)
    pad = (reach + 1) * step
    y0, x0 = int(yy.min()) - pad, int(xx.min()) - pad
    h = (int(yy.max()) + pad - y0) // step + 1
    w = (int(xx.max()) + pad - x0) // step + 1
    gy, gx = (yy - y0) // step, (xx - x0) // step
    cell = gy * w + gx
    # only the pixels near the mesh's edge carry anything outward (an outside pixel's nearest mesh
    # pixel lies on the edge): the rest keep their residual, are not sampled, and only those
    # within the Gaussian's reach of them are averaged
    occupied = (np.bincount(cell, minlength=h * w) > 0).reshape(h, w).astype(np.uint8)
    inner = cv2.erode(occupied, np.ones((5, 5), np.uint8), borderValue=0) > 0
    deep = cv2.erode(occupied, np.ones((2 * reach + 5, 2 * reach + 5), np.uint8), borderValue=0) > 0
    used = np.flatnonzero(~deep[gy, gx])
    near = used[~inner[gy[used], gx[used]]]
    fy = np.clip((yy[near] - y0 + 0.5) / step - 0.5, 0, h - 1)  # (bilinear on the grid)
    fx = np.clip((xx[near] - x0 + 0.5) / step - 0.5, 0, w - 1)
    iy, ix = np.minimum(fy.astype(np.int64), h - 2), np.minimum(fx.astype(np.int64), w - 2)
    ty, tx = (fy - iy).astype(np.float32), (fx - ix).astype(np.float32)

    def pick(a):
        top = a[iy, ix] * (1 - tx) + a[iy, ix + 1] * tx
        return top * (1 - ty) + (a[iy + 1, ix] * (1 - tx) + a[iy + 1, ix + 1] * tx) * ty

    def sums(idx):  # the residuals of the pixels ``idx`` and their count, summed per grid cell
        return [np.bincount(cell[idx], weights=v, minlength=h * w).reshape(h, w)
                for v in (rx[idx], ry[idx], None)]

    def average(acc):  # Gaussian-averaged, at the pixels ``near``
        acc = [pick(cv2.GaussianBlur(a.astype(np.float32), (0, 0), sigma / step)) for a in acc]
        d = np.maximum(acc[2], 1e-6)
        return acc[0] / d, acc[1] / d

    limit = max(OUTLIER * float(fs), OUTLIER_PX)
    rxn, ryn, skn = rx[near], ry[near], skin[near]
    acc = sums(used[skin[used]])
    ax, ay = average(acc)
    first = near[skn & (np.hypot(rxn - ax, ryn - ay) > limit)]
    if len(first):  # (averaged again without them: a sliver at the silhouette outweighs its few neighbours)
        ax, ay = average([a - b for a, b in zip(acc, sums(first))])
    odd = np.zeros(len(yy), bool)
    odd[near] = skn & (np.hypot(rxn - ax, ryn - ay) > limit)
    bad_n = ~skn | odd[near]
    if not bad_n.any():
        return rx, ry, odd
    ox, oy = rx.copy(), ry.copy()
    ox[near] = np.where(bad_n, ax, rxn)
    oy[near] = np.where(bad_n, ay, ryn)
    return ox.astype(np.float32), oy.astype(np.float32), odd
