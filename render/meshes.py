# SPDX-License-Identifier: GPL-3.0-or-later
"""The parts of the face mesh the warp needs: the topology's triangles plus a strip of
triangles across the mouth opening (a ladder between the inner lips), the face oval, and the
face size (the unit of the warp's distances)."""

from dataclasses import dataclass

import cv2
import numpy as np

from ..face.topology import CHIN, N_VERTS, load_topology

#: forehead top vertex (face oval) and the two cheek extremes used for the face size
FOREHEAD_TOP = 10
CHEEK_RIGHT, CHEEK_LEFT = 234, 454


@dataclass(frozen=True)
class _Mesh:
    skin: np.ndarray  # (F, 3) topology triangles
    mouth: np.ndarray  # (M, 3) ladder triangles of the mouth opening
    mouth_v: np.ndarray  # (M, 3) 0 upper lip, 1 lower lip, 0.5 corner
    mouth_col: np.ndarray  # (M, 3) column of each corner (into upper/lower below)
    upper: np.ndarray  # (C,) column -> upper-lip vertex (corners at both ends)
    lower: np.ndarray  # (C,) column -> lower-lip vertex
    eyes: tuple  # (loop, loop) eye-opening vertex loops
    lips_inner: np.ndarray  # inner-lip loop
    oval: np.ndarray  # face-oval loop
    rigid: np.ndarray  # expression-free vertices


def _ladder(loop):
    """Triangles filling a closed ``loop`` whose corners are at positions 0 and n/2: columns join
    ``loop[k]`` (one side) and ``loop[n-k]`` (the other side)."""
    loop = np.asarray(loop, np.int64)
    n = len(loop)
    h = n // 2
    upper = np.array([loop[k] for k in range(h + 1)])
    lower = np.array([loop[0]] + [loop[n - k] for k in range(1, h)] + [loop[h]])
    tris, v, col = [], [], []
    for k in range(h):
        u0, u1, l0, l1 = upper[k], upper[k + 1], lower[k], lower[k + 1]
        vu0, vl0 = (0.5, 0.5) if k == 0 else (0.0, 1.0)
        vu1, vl1 = (0.5, 0.5) if k + 1 == h else (0.0, 1.0)
        if k == 0:
            tris.append((u0, u1, l1)), v.append((vu0, vu1, vl1)), col.append((k, k + 1, k + 1))
        elif k + 1 == h:
            tris.append((u0, u1, l0)), v.append((vu0, vu1, vl0)), col.append((k, k + 1, k))
        else:
            tris.append((u0, u1, l1)), v.append((vu0, vu1, vl1)), col.append((k, k + 1, k + 1))
            tris.append((u0, l1, l0)), v.append((vu0, vl1, vl0)), col.append((k, k + 1, k))
    return (np.array(tris, np.int64), np.array(v, np.float64), np.array(col, np.int64), upper, lower)


_MESH = None


def _mesh():
    global _MESH
    if _MESH is None:
        topo = load_topology()
        tris, v, col, upper, lower = _ladder(topo.group("loop_lips_inner"))
        _MESH = _Mesh(
            skin=np.asarray(topo.triangles, np.int64),
            mouth=tris, mouth_v=v, mouth_col=col, upper=upper, lower=lower,
            eyes=tuple(np.asarray(topo.group(k), np.int64) for k in ("loop_eye_left", "loop_eye_right")),
            lips_inner=np.asarray(topo.group("loop_lips_inner"), np.int64),
            oval=np.asarray(topo.group("loop_face_oval"), np.int64),
            rigid=np.asarray(topo.group("rigid"), np.int64),
        )
    return _MESH


def mesh_triangles():
    """(F + M, 3) the topology's triangles followed by the ladder that fills the mouth opening
    (the eye openings are not triangulated: the eyeball moves with the head)."""
    m = _mesh()
    return np.concatenate([m.skin, m.mouth], 0)


def face_size(pts):
    """Face size in pixels: sqrt(oval height x oval width) of the (468, 2) points (for other
    point sets: sqrt of the bounding box area)."""
    P = np.asarray(pts, np.float64)
    if len(P) >= N_VERTS:
        h = np.linalg.norm(P[FOREHEAD_TOP] - P[CHIN])
        w = np.linalg.norm(P[CHEEK_LEFT] - P[CHEEK_RIGHT])
    else:
        w, h = P.max(0) - P.min(0)
    return float(max(np.sqrt(max(h, 1e-6) * max(w, 1e-6)), 1.0))


def _fix(p, centre):
    """Points -> fixed-point (shift 4) integer pixel coordinates for cv2 drawing."""
    return np.round((np.asarray(p, np.float64) - centre) * 16).astype(np.int32)


#: forehead top vertex (face oval) and the two cheek extremes used for the face size


def smoothstep(t):
    """Hermite smoothstep of ``t`` clamped to 0..1 (exactly 0 below 0 and 1 above 1); keeps a
    float32 input float32."""
    t = np.clip(t, 0.0, 1.0)
    out = t * t
    # 3 - 2 t in clip's own copy (no more whole-frame temporaries: a field calls this six times)
    t *= -2.0
    t += 3.0
    out *= t
    return out


def channels(a, c=3):
    """(h, w, ``c``) contiguous: the (h, w) or (h, w, 1) ``a`` repeated over ``c`` channels, to
    multiply a colour image with: numpy broadcasts an (h, w, 1) factor over (h, w, 3) three
    elements at a time (4.5 ms a 1080 px square, the same product with this 0.7 ms; the same
    values)."""
    a = np.asarray(a)
    if a.ndim == 3:
        a = a[..., 0]
    if c == 1:
        return a[..., None]
    return cv2.merge([np.ascontiguousarray(a)] * c)


def masked_copy(dst, src, mask):
    """``np.copyto(dst, src, where=mask[..., None])`` for (h, w, c) images ``dst`` (written in
    place) and ``src`` of one dtype and an (h, w) bool ``mask``, by OpenCV's masked copy (numpy's
    mask broadcast over the channels took 12 ms for a 1080p head's box, this 0.1 ms; the same
    pixels)."""
    if dst.size:
        got = cv2.copyTo(np.asarray(src), np.asarray(mask, bool).view(np.uint8), dst)
        if not np.may_share_memory(got, dst):  # (a layout OpenCV copied: written back)
            np.copyto(dst, got)


def weighted_mix(weight, a, b):
    """(H, W, 3) uint8: ``clip(w * a + (1 - w) * b + 0.5)`` of the uint8 images ``a`` and ``b``
    with ``w`` the (H, W) float32 ``weight``, made over the box of its non-zero pixels alone:
    beyond it that is ``b`` itself (0 * a + 1 * b + 0.5, truncated), so ``b`` is copied there (a
    1080p frame's whole float blend took 0.2 s a row; the same values)."""
    out = np.array(b, copy=True)
    box = pixels_box(np.asarray(weight) != 0)
    if box is not None:
        x0, y0, x1, y1 = box
        sl = (slice(y0, y1), slice(x0, x1))
        w = channels(np.asarray(weight)[sl])
        out[sl] = np.clip(w * np.asarray(a)[sl].astype(np.float32) + (1.0 - w) * np.asarray(b)[sl].astype(np.float32)
                          + 0.5, 0, 255).astype(np.uint8)
    return out


def pixels_box(mask):
    """(x0, y0, x1, y1): the box around the non-zero pixels of the (h, w) ``mask`` (x1, y1
    exclusive), or None when there are none; from its rows' and columns' projections (the
    coordinates of every pixel, ``np.nonzero``, took 180 MB for a 4K head's mask)."""
    m = np.asarray(mask)
    cols = np.flatnonzero(m.any(0))
    if not len(cols):
        return None
    rows = np.flatnonzero(m.any(1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def grown_box(box, pad, shape):
    """``box`` (x0, y0, x1, y1) grown by ``pad`` px each way and cut to a frame of ``shape``
    (H, W, ...)."""
    H, W = shape[:2]
    return max(0, box[0] - pad), max(0, box[1] - pad), min(W, box[2] + pad), min(H, box[3] + pad)


def grow_disc(mask, radius):
    """(h, w) bool: the pixels within ``radius`` px of a non-zero pixel of ``mask``, as a
    dilation by a disc (OpenCV's elliptic structuring element of 2 ``radius`` + 1). Wide discs by
    the exact Euclidean distance transform, whose cost does not grow with the radius: the dilation
    of a 4K face's lower face by a disc of 84 px took 0.29 s, the distance 5 ms."""
    m = np.asarray(mask) > 0
    r = int(radius)
    if r < 8:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        return cv2.dilate(m.view(np.uint8), k) > 0
    return cv2.distanceTransform((~m).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= r + 0.5


def wide_blur(d, sigma):
    """Gaussian blur of the (h, w) or (h, w, c) float32 ``d`` by ``sigma`` px; a wide one at a
    reduced scale (a factor of sigma / 3: what survives such a blur is smooth, within ~0.05 px of
    the full-scale blur on a mouth dub's displacement) at a fraction of the cost (OpenCV's
    kernel grows with sigma: a 100 px feather of a 4K face's mask took 0.26 s in full)."""
    k = int(sigma // 3)
    h, w = d.shape[:2]
    if k < 2 or min(h, w) < 4 * k:
        return cv2.GaussianBlur(d, (0, 0), sigma)
    small = cv2.resize(d, (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / k)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
