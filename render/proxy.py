# SPDX-License-Identifier: GPL-3.0-or-later
"""How the head moves beyond the face mesh (hair, ears, outline) in :func:`~reenact.render.warp.warp_field`:
affine cameras fitted to the mesh against the 3-D model, and either one plane through the head's
centre of rotation (``head_model="plane"``) or a 3-D proxy of the head, an ellipsoid about that
centre (``"ellipsoid"``, the default), whose surface each pixel's ray meets."""

import cv2
import numpy as np

from .meshes import _mesh, smoothstep

#: the head proxy (``head_model="ellipsoid"``) in the model frame, as multiples of the face
#: oval's half width: semi-axes across, up and deep, and how far above the oval's centre its
#: centre sits (the skull, hair included, is taller than the face and deeper than wide)
PROXY_AXES = (1.15, 1.75, 1.5)
PROXY_UP = 0.35
#: beyond the proxy's silhouette the hair moves with the centre plane, reached over this much of
#: the proxy's size (so the field stays continuous there)
PROXY_BAND = 0.15


def _affine_camera(X, p):
    """2x4 affine camera ``p ~ A @ [X, 1]`` fitted by least squares (``X`` (M, 3) model points,
    ``p`` (M, 2) pixels); None when ill-conditioned."""
    Xh = np.concatenate([X, np.ones((len(X), 1))], 1)
    if len(X) < 4 or np.linalg.cond(Xh) > 1e6:
        return None
    sol, *_ = np.linalg.lstsq(Xh, p, rcond=None)
    return sol.T


def plane_motion(X, ps, pd, z0, fallback):
    """3x3 destination -> source motion of the model-frame plane ``z = z0`` under the affine
    cameras that fit the model points ``X`` onto ``ps`` and ``pd``."""
    As, Ad = _affine_camera(X, ps), _affine_camera(X, pd)
    if As is None or Ad is None:
        return fallback
    Hs, Hd = np.eye(3), np.eye(3)
    for Hm, A in ((Hs, As), (Hd, Ad)):
        Hm[:2, :2] = A[:, :2]
        Hm[:2, 2] = A[:, 2] * z0 + A[:, 3]
    if abs(np.linalg.det(Hd)) < 1e-12:
        return fallback
    B = Hs @ np.linalg.inv(Hd)
    return B / B[2, 2]


def head_proxy(X, idx, ps, pd):
    """The ellipsoid head proxy of :func:`warp_field` (``head_model="ellipsoid"``): affine
    cameras (2x4) fitted to the model points ``X[idx]`` against the source and destination
    pixels, the ellipsoid's centre and semi-axes in the model frame; None when a camera is
    ill-conditioned (the plane motion is used then)."""
    As, Ad = _affine_camera(X[idx], ps[idx]), _affine_camera(X[idx], pd[idx])
    if As is None or Ad is None:
        return None
    oval = X[_mesh().oval]
    half = 0.5 * float(np.ptp(oval[:, 0]))
    centre = np.array([float(oval[:, 0].mean()), float(oval[:, 1].mean()) + PROXY_UP * half, 0.0])
    axes = np.asarray(PROXY_AXES, np.float64) * half
    front = X[1] - centre  # the nose tip: towards each camera
    return As, Ad, centre, axes, front


def _view_ray(A, front):
    """(M+, unit viewing direction away from the camera) of the affine camera ``A`` (2x4)."""
    M = A[:, :3]
    v = np.cross(M[0], M[1])
    v /= max(np.linalg.norm(v), 1e-12)
    if v @ front > 0:  # the nose is nearer the camera than the head's centre
        v = -v
    return np.linalg.pinv(M), v


#: :func:`proxy_disp` evaluates the ray on a grid of this step, checks each cell's centre
#: against the grid's bilinear interpolation and evaluates every pixel of the cells that miss
#: (and of their neighbours) exactly; regions smaller than :data:`PROXY_EXACT_BELOW` pixels are
#: evaluated whole
PROXY_STEP = 4  # even: a cell's centre is a pixel
PROXY_TOL = 0.01  # px of displacement, and of ``seen``
PROXY_EXACT_BELOW = 1024 * 1024  # (a 512 px region: ~10 ms whole, no faster so)


def proxy_disp(proxy, H, W, c0, stretch_ok=2.0, box=None):
    """(dx, dy, seen) on an (H, W) image: each pixel's ray under the destination camera meets
    the ellipsoid's front (beyond the silhouette the centre plane, reached smoothly), and that
    model point projected by the source camera is where the pixel comes from. ``seen``: 0..1,
    how much less stretched than ``stretch_ok`` times the source saw that surface (0: hidden).

    The field is smooth but at the proxy's silhouettes and where ``seen`` saturates, where it
    changes too fast to interpolate (a 2 px grid was up to 2 px off there): it is evaluated on a
    :data:`PROXY_STEP` grid, every cell whose centre the grid's interpolation misses by more than
    :data:`PROXY_TOL` is evaluated pixel by pixel with its eight neighbours, the rest
    interpolated (a 4K shot's head: 1.4-1.8 s a call whole, 0.2 s so; within 0.013 px of it on
    the 4K shot and four 512 px pairs of docs/reenact-bench.md). ``box`` (x0, y0, x1, y1): the
    grid interpolated and the missed cells evaluated inside it alone (the same values there), 0
    elsewhere: a caller that reads the field only where the head's motion reaches."""
    x = np.arange(W, dtype=np.float32) + np.float32(c0)
    y = np.arange(H, dtype=np.float32) + np.float32(c0)
    s = PROXY_STEP
    if H * W < PROXY_EXACT_BELOW or min(H, W) < 4 * s:
        return _proxy_at(proxy, x[None, :], y[:, None], stretch_ok)
    # nodes every s pixels from pixel 0 to the last one or just beyond it (the field is defined
    # there too), so that pixel (x, y) lies at (x / s, y / s) on the grid: OpenCV's bilinear
    # warp then interpolates with weights k / s, which its 1/32 fixed-point steps hold exactly
    nx, ny = -(-(W - 1) // s) + 1, -(-(H - 1) // s) + 1
    gx = (np.arange(nx, dtype=np.float32) * s + np.float32(c0))[None, :]
    gy = (np.arange(ny, dtype=np.float32) * s + np.float32(c0))[:, None]
    grid = _proxy_at(proxy, gx, gy, stretch_ok)
    mid = _proxy_at(proxy, gx[:, :-1] + np.float32(s // 2), gy[:-1] + np.float32(s // 2), stretch_ok)
    bx0, by0, bx1, by1 = (0, 0, W, H) if box is None else (int(v) for v in box)
    # (pixel (x, y) at (x / s, y / s) on the grid: a box's warp is the whole one's part, exactly,
    # its origin's nodes a multiple of 1/s that the fixed-point steps hold)
    to_pixels = np.float64([[1.0 / s, 0, bx0 / s], [0, 1.0 / s, by0 / s]])
    out, bad = [], np.zeros((ny - 1, nx - 1), bool)
    for g, m in zip(grid, mid):
        g = np.ascontiguousarray(np.broadcast_to(g, (ny, nx)), np.float32)
        # the interpolation at each cell's centre is the mean of its four corners
        bad |= np.abs(0.25 * (g[:-1, :-1] + g[:-1, 1:] + g[1:, :-1] + g[1:, 1:]) - m) > PROXY_TOL
        out.append(cv2.warpAffine(g, to_pixels, (bx1 - bx0, by1 - by0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE))
    if bad.any():
        # those cells and their neighbours, every pixel evaluated exactly
        bad = cv2.dilate(bad.view(np.uint8), np.ones((3, 3), np.uint8))
        # (a row and a column more: the last pixels may lie on the last nodes, which start no cell)
        bad = np.pad(bad, ((0, 1), (0, 1)), mode="edge")
        cy0, cx0 = by0 // s, bx0 // s  # (the box's cells: its pixels' of the whole repeat)
        cells = bad[cy0:-(-by1 // s), cx0:-(-bx1 // s)]
        ys, xs = np.nonzero(np.repeat(np.repeat(cells, s, 0), s, 1)[by0 - cy0 * s:by1 - cy0 * s,
                                                                     bx0 - cx0 * s:bx1 - cx0 * s])
        exact = _proxy_at(proxy, x[xs + bx0], y[ys + by0], stretch_ok)
        for o, e in zip(out, exact):
            o[ys, xs] = e
    if box is None:
        return tuple(out)
    whole = []
    for o in out:
        w = np.zeros((H, W), np.float32)
        w[by0:by1, bx0:bx1] = o
        whole.append(w)
    return tuple(whole)


def _proxy_at(proxy, x, y, stretch_ok):
    """:func:`proxy_disp` at the pixel centres ``x``, ``y`` (arrays that broadcast together: a
    row (1, W) and a column (H, 1), or two lists of points)."""
    As, Ad, C, S, front = proxy
    Mp, v = _view_ray(Ad, front)
    # X0 = Mp @ (p - b): a point on each pixel's ray; u = (X0 - C) / S, w = v / S
    f32 = np.float32
    base = (Mp @ (-Ad[:, 3]) - C) / S
    cx, cy = (Mp[:, 0] / S).astype(f32), (Mp[:, 1] / S).astype(f32)
    w = v / S
    a = float(w @ w)
    u = [base[k].astype(f32) + cx[k] * x + cy[k] * y for k in range(3)]
    b = 2.0 * (u[0] * f32(w[0]) + u[1] * f32(w[1]) + u[2] * f32(w[2]))
    c = u[0] * u[0] + u[1] * u[1] + u[2] * u[2] - f32(1.0)
    disc = b * b - f32(4.0 * a) * c
    lam = (-b - np.sqrt(np.maximum(disc, 0))) * f32(0.5 / a)

    def source(lam):  # the model point on each ray (in S units about C) and its source pixel
        q = [u[k] + lam * f32(w[k]) for k in range(3)]
        Xs = [q[k] * f32(S[k]) + f32(C[k]) for k in range(3)]
        return (q, sum(Xs[k] * f32(As[0, k]) for k in range(3)) + f32(As[0, 3]),
                sum(Xs[k] * f32(As[1, k]) for k in range(3)) + f32(As[1, 3]))

    q, px, py = source(lam)
    # outward normal (gradient of the ellipsoid) against each camera's viewing direction: the
    # surface is stretched by about cos(source) / cos(destination) (area, as warp.STRETCH_OK: ``stretch_ok``)
    n = [q[k] / f32(S[k]) for k in range(3)]
    cos_s, cos_d = (-(n[0] * f32(vv[0]) + n[1] * f32(vv[1]) + n[2] * f32(vv[2])) for vv in (_view_ray(As, front)[1], v))
    # surface the source saw from behind (the side of a head turned towards the camera, past
    # the source's silhouette) comes from the source's silhouette, outward from the proxy's
    # centre: projected as it is, it folded back into the head and drew the hair's dark edge a
    # second time, a thin dark arc beside the moved head (d12 -> d20)
    hidden = cos_s < 0
    if hidden.any():
        L = As[:, :3] * S[None, :]  # the unit sphere -> source pixels: the silhouette is L's ellipse
        G = np.linalg.inv(L @ L.T)
        cs = As[:, :3] @ C + As[:, 3]
        ex, ey = px[hidden] - f32(cs[0]), py[hidden] - f32(cs[1])
        r = np.sqrt(np.maximum(G[0, 0] * ex * ex + 2 * G[0, 1] * ex * ey + G[1, 1] * ey * ey, 1e-12)).astype(f32)
        r = np.minimum(r, f32(1.0))  # (on or outside the silhouette already: as it is)
        px[hidden] = f32(cs[0]) + ex / r
        py[hidden] = f32(cs[1]) + ey / r
    if abs(w[2]) > 1e-6:
        # beyond the silhouette (hair standing out), the plane through the centre parallel to
        # the face, reached smoothly from the silhouette's own point over PROXY_BAND
        miss = np.sqrt(np.maximum(c - b * b * f32(0.25 / a) + f32(1.0), 1.0)) - f32(1.0)
        k = smoothstep(miss * f32(1.0 / PROXY_BAND))
        _, qx, qy = source(-u[2] * f32(1.0 / w[2]))
        px += k * (qx - px)
        py += k * (qy - py)
    e = f32(0.05)  # edge-on in both (the silhouette, beyond it): not stretched
    seen = np.clip(f32(stretch_ok) * (np.maximum(cos_s, 0) + e) / (np.maximum(cos_d, 0) + e), 0, 1).astype(f32)
    return px - x, py - y, seen
