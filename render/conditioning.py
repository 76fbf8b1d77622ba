# SPDX-License-Identifier: GPL-3.0-or-later
"""Conditioning images for the neural renderer (numpy + OpenCV, no torch).

From a :class:`~reenact.face.track.Track` this module builds, per frame, in a stabilised
face-aligned square crop (``size`` x ``size``, default 256):

- ``corr`` (3 channels): which point of the face surface each pixel shows, as the neutral
  template position (``mean_shape`` x, y, z normalised to 0.1..1; 0 = no face), interpolated
  over the mesh triangles (painter's algorithm on a triangle-id image, then barycentric
  interpolation, all vectorised),
- ``eyes`` (1 channel): the eye openings (0.5) with the iris discs (1.0) where
  :func:`reenact.face.gaze.iris_points` puts them for the frame's gaze, clipped by the lids,
- ``mouth`` (1 channel): the mouth opening (inside the inner lip loop),
- ``face`` mask (face oval) and ``mouth_region`` mask (around the lips), for compositing,
  metrics and loss weights.

The crop comes from a similarity transform of the projected face onto a fixed frontal template,
smoothed over time (Gaussian, zero-phase, untracked frames bridged) so that the crop does not
jitter. :class:`CropTransforms` keeps the exact 2x3 affine crop <- frame (``M``) and its inverse
frame <- crop (``Minv``) for every frame; compositing uses ``Minv``.

Network input (:func:`stack_window`): the conditioning of ``window`` frames ``t-W+1 .. t``
(clamped at the clip start), ``COND_CHANNELS`` each, then in face-only mode the real crop with
the face interior masked out (3 channels) and the hole mask (1 channel). All channels are 0..1.
See docs/renderer.md.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, shapes_from
from ..face.gaze import iris_points
from ..face.geometry import apply_affine, similarity_2d
from ..face.topology import SUBNASALE, load_topology

#: channels per frame of conditioning: corr x, y, z, eyes, mouth opening
COND_CHANNELS = 5
#: channels appended in face-only mode: masked real crop RGB + hole mask
REAL_CHANNELS = 4
#: channels the actor reference (:mod:`.reference`) adds to the network input: aligned
#: reference crop RGB + its conditioning (corr x, y, z, eyes, mouth opening)
REF_CHANNELS = 8
#: default space-time window (frames), as in Deep Video Portraits
DEFAULT_WINDOW = 11
DEFAULT_SIZE = 256
#: face-oval width as a fraction of the crop
FACE_WIDTH = 0.52
#: template point (fraction of the crop) where the face-oval bounding-box centre goes
FACE_CENTRE = (0.5, 0.54)
#: iris radius in cm (human iris ~ 11.7 mm across)
IRIS_RADIUS_CM = 0.59
MODES = ("face-only", "full")


def in_channels(window=DEFAULT_WINDOW, mode="face-only", ref=False):
    """Number of network input channels for ``window`` frames in ``mode`` (``ref``: with the
    actor reference of :mod:`reenact.render.reference`, face-only only)."""
    if mode not in MODES:
        raise ValueError("mode must be one of {}".format(", ".join(MODES)))
    if ref and mode != "face-only":
        raise ValueError("the actor reference needs face-only mode")
    return (COND_CHANNELS * int(window) + (REAL_CHANNELS if mode == "face-only" else 0)
            + (REF_CHANNELS if ref else 0))


# ----------------------------------------------------------------------------- template
def frontal_template(size):
    """(468, 2) frontal template positions in crop pixels (image y down)."""
    topo = load_topology()
    P = np.asarray(topo.mean_shape[:, :2], np.float64) * np.array([1.0, -1.0])
    oval = P[topo.group("face_oval")]
    lo, hi = oval.min(0), oval.max(0)
    s = FACE_WIDTH * size / (hi[0] - lo[0])
    centre = 0.5 * (lo + hi)
    return (P - centre) * s + np.array(FACE_CENTRE) * size


def _gauss_smooth(x, w, sigma):
    """Weighted zero-phase Gaussian smoothing of (T, D) ``x`` with weights (T,)."""
    T = len(x)
    if sigma <= 0 or T < 2:
        return x.copy()
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    out = np.empty_like(x)
    xw = np.where(w[:, None] > 0, x, 0.0) * w[:, None]
    num = np.stack([np.convolve(np.pad(xw[:, j], r, mode="constant"), k, "valid") for j in range(x.shape[1])], 1)
    den = np.convolve(np.pad(w, r, mode="constant"), k, "valid")
    good = den > 1e-9
    out[good] = num[good] / den[good, None]
    if not good.all():  # long gaps: nearest good value
        idx = np.flatnonzero(good)
        near = idx[np.clip(np.searchsorted(idx, np.arange(T)), 0, len(idx) - 1)]
        prev = idx[np.clip(np.searchsorted(idx, np.arange(T)) - 1, 0, len(idx) - 1)]
        pick = np.where(np.abs(prev - np.arange(T)) < np.abs(near - np.arange(T)), prev, near)
        out[~good] = out[pick[~good]]
    return out


@dataclass
class CropTransforms:
    """Per-frame crop transforms: ``M`` (T, 2, 3) crop <- frame, ``Minv`` (T, 2, 3) frame <- crop."""

    M: np.ndarray
    Minv: np.ndarray
    size: int

    def __len__(self):
        return len(self.M)


def crop_transforms(track, size=DEFAULT_SIZE, sigma=2.0, points=None):
    """Stabilised similarity crops for every row of ``track`` (see module doc).

    ``points``: (T, 468, 2) projected model pixels (default ``track.project()``). Raises
    ValueError when no frame is tracked.
    """
    P = track.project() if points is None else np.asarray(points, np.float64)
    T = len(P)
    ok = np.isfinite(P).all((1, 2))
    if not ok.any():
        raise ValueError("track has no tracked frame to crop")
    rigid = load_topology().group("rigid")
    tpl = frontal_template(size)
    # frame <- crop parameters: crop centre in the frame (2), log scale, angle
    par = np.zeros((T, 4))
    for i in np.flatnonzero(ok):
        s, th, t = similarity_2d(tpl[rigid], P[i, rigid])
        c = np.array([size / 2.0, size / 2.0])
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        par[i] = [*(s * R @ c + t), np.log(s), th]
    par[:, 3] = np.unwrap(np.where(ok, par[:, 3], 0.0)) if ok.all() else par[:, 3]
    # smoothed within each shot: across a hard cut the face jumps, and a crop smoothed over it
    # missed the face on the frames each side (before 2026-12-05: on a cut from a wide shot to
    # a close-up, 0-12 % of the face inside the crop two frames either side)
    shots = track.shots() if hasattr(track, "shots") else np.zeros(T, np.int64)
    whole = _gauss_smooth(par, ok.astype(np.float64), sigma)
    if len(shots) == T and shots.max(initial=0) > 0:
        for s in np.unique(shots):
            rows = np.flatnonzero(shots == s)
            if ok[rows].any():  # (a shot without a tracked frame keeps the nearest shot's crop)
                whole[rows] = _gauss_smooth(par[rows], ok[rows].astype(np.float64), sigma)
    par = whole
    M = np.zeros((T, 2, 3))
    Minv = np.zeros((T, 2, 3))
    c = np.array([size / 2.0, size / 2.0])
    for i in range(T):
        s, th = np.exp(par[i, 2]), par[i, 3]
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        Minv[i, :, :2] = s * R
        Minv[i, :, 2] = par[i, :2] - s * R @ c
        Mi = R.T / s
        M[i, :, :2] = Mi
        M[i, :, 2] = -Mi @ Minv[i, :, 2]
    return CropTransforms(M, Minv, int(size))


def crop_frame(frame, M, size, border=cv2.BORDER_REPLICATE):
    """The (size, size, 3) crop of ``frame`` under the crop <- frame affine ``M`` (bilinear)."""
    return cv2.warpAffine(frame, np.asarray(M, np.float64), (int(size), int(size)), flags=cv2.INTER_LINEAR, borderMode=border)


# ----------------------------------------------------------------------------- rasteriser
class Rasterizer:
    """Rasterises the conditioning of one Track frame into its crop. Precomputes per track."""

    def __init__(self, track, size=DEFAULT_SIZE, transforms=None):

        self.track = track
        self.size = int(size)
        topo = load_topology()
        self.tris = np.asarray(topo.triangles, np.int64)
        ms = np.asarray(topo.mean_shape, np.float64)
        lo, hi = ms.min(0), ms.max(0)
        self.attr = (0.1 + 0.9 * (ms - lo) / (hi - lo)).astype(np.float32)  # (468, 3) in 0.1..1
        self.loops = {k: topo.group(k) for k in ("loop_eye_left", "loop_eye_right", "loop_face_oval", "loop_lips_inner")}
        self.lips_outer = topo.group("lips_outer")
        self.xf = transforms if transforms is not None else crop_transforms(track, self.size)
        ex = np.nan_to_num(np.asarray(track.expression, np.float64))
        S = shapes_from(track.identity, track.expression_basis, ex)  # (T, 468, 3)
        pose = np.nan_to_num(np.asarray(track.pose, np.float64))
        R = euler_to_matrix(pose[:, :3])
        self.X = np.einsum("tij,tnj->tni", R, S) + pose[:, None, 3:]
        iris = iris_points(track.identity, np.nan_to_num(np.asarray(track.gaze, np.float64)))
        self.Xi = np.einsum("tij,tnj->tni", R, iris) + pose[:, None, 3:]
        self.ok = np.asarray(track.tracked, bool) & np.isfinite(np.asarray(track.pose)).all(1)
        self.f = float(track.focal_px)
        self.c = np.asarray(track.principal, np.float64)

    def _to_crop(self, X, i):
        uv = self.f * X[..., :2] / X[..., 2:3] + self.c
        return apply_affine(self.xf.M[i], uv)

    def points(self, i):
        """(468, 2) crop pixels of frame row ``i``'s fitted mesh."""
        return self._to_crop(self.X[i], i)

    def render(self, i):
        """Conditioning of row ``i``: dict of float32 images ``corr`` (S,S,3), ``eyes``, ``mouth``,
        ``face``, ``mouth_region`` (S,S), all 0..1 (all zero on an untracked row)."""
        S = self.size
        out = {
            "corr": np.zeros((S, S, 3), np.float32),
            "eyes": np.zeros((S, S), np.float32),
            "mouth": np.zeros((S, S), np.float32),
            "face": np.zeros((S, S), np.float32),
            "mouth_region": np.zeros((S, S), np.float32),
        }
        if not self.ok[i]:
            return out
        p = self.points(i)  # (468, 2)
        z = self.X[i, :, 2]
        tri = self.tris
        a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
        area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        # front faces: counter-clockwise from the front in the y-up model frame = clockwise in
        # y-down image coordinates -> negative area here
        front = np.flatnonzero(area < -1e-9)
        order = front[np.argsort(-z[tri[front]].mean(1))]  # far first (painter's algorithm)
        ids = np.zeros((S, S), np.int32)
        fx = np.round((p - 0.5) * 16).astype(np.int32)  # pixel centres at +0.5, shift=4
        polys = fx[tri[order]]
        fill = cv2.fillConvexPoly
        for k, poly in zip((order + 1).tolist(), polys):
            fill(ids, poly, k, cv2.LINE_8, 4)
        yy, xx = np.nonzero(ids)
        if len(yy):
            # per-triangle barycentric solve, then one gather per pixel (float32)
            A = a.astype(np.float32)
            v0, v1 = (b - a).astype(np.float32), (c - a).astype(np.float32)
            den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
            den = np.where(np.abs(den) < 1e-9, np.float32(1e-9), den)
            inv = np.stack([v1[:, 1], -v1[:, 0], -v0[:, 1], v0[:, 0]], 1) / den[:, None]  # rows: wb, wc
            at = self.attr[tri]
            base, dB, dC = at[:, 0], at[:, 1] - at[:, 0], at[:, 2] - at[:, 0]
            t = ids[yy, xx] - 1
            qx = xx.astype(np.float32) + 0.5 - A[t, 0]
            qy = yy.astype(np.float32) + 0.5 - A[t, 1]
            k = inv[t]
            wb = np.clip(k[:, 0] * qx + k[:, 1] * qy, 0, 1)
            wc = np.clip(k[:, 2] * qx + k[:, 3] * qy, 0, 1)
            tot = np.maximum(wb + wc, 1.0)  # pixel centres just outside their triangle
            wb, wc = wb / tot, wc / tot
            out["corr"][yy, xx] = base[t] + wb[:, None] * dB[t] + wc[:, None] * dC[t]
        fxi = lambda idx: np.round((p[idx] - 0.5) * 16).astype(np.int32)  # noqa: E731
        face = np.zeros((S, S), np.uint8)
        cv2.fillPoly(face, [fxi(self.loops["loop_face_oval"])], 255, cv2.LINE_AA, 4)
        out["face"] = face.astype(np.float32) / 255.0
        mouth = np.zeros((S, S), np.uint8)
        cv2.fillPoly(mouth, [fxi(self.loops["loop_lips_inner"])], 255, cv2.LINE_AA, 4)
        out["mouth"] = mouth.astype(np.float32) / 255.0
        # mouth region: lip hull grown by 35 % of the mouth width
        lo = p[self.lips_outer]
        hull = cv2.convexHull(np.round((lo - 0.5) * 16).astype(np.int32))
        mr = np.zeros((S, S), np.uint8)
        cv2.fillConvexPoly(mr, hull, 255, cv2.LINE_8, 4)
        wpx = max(1, int(round(0.35 * (lo[:, 0].max() - lo[:, 0].min()))))
        cv2.polylines(mr, [hull], True, 255, 2 * wpx, cv2.LINE_8, 4)  # = dilation by a disc
        out["mouth_region"] = (mr > 0).astype(np.float32) * out["face"].clip(0, 1).round()
        # eyes: openings 0.5, iris discs 1.0 clipped by the lids
        eye = np.zeros((S, S), np.uint8)
        cv2.fillPoly(eye, [fxi(self.loops["loop_eye_left"]), fxi(self.loops["loop_eye_right"])], 128, cv2.LINE_AA, 4)
        iris = np.zeros((S, S), np.uint8)
        scale = np.sqrt(abs(np.linalg.det(self.xf.M[i, :, :2])))
        ip = self._to_crop(self.Xi[i], i)
        for j in range(2):
            r = IRIS_RADIUS_CM * self.f / self.Xi[i, j, 2] * scale
            cv2.circle(iris, tuple(int(v) for v in np.round((ip[j] - 0.5) * 16)), int(round(r * 16)), 255, -1, cv2.LINE_AA, 4)
        e = eye.astype(np.float32) / 128.0
        out["eyes"] = np.clip(e, 0, 1) * np.maximum(0.5, iris.astype(np.float32) / 255.0)
        return out

    def cond(self, i):
        """(COND_CHANNELS, S, S) uint8 conditioning of row ``i`` (corr xyz, eyes, mouth opening)."""
        return cond_image(self.render(i))


def cond_image(out):
    """The network's (COND_CHANNELS, S, S) uint8 conditioning from a :meth:`Rasterizer.render`
    result: corr x, y, z, eyes, mouth opening, 0..1 as 0..255."""
    c = np.concatenate([out["corr"], out["eyes"][..., None], out["mouth"][..., None]], 2)
    return np.round(np.clip(c, 0, 1) * 255).astype(np.uint8).transpose(2, 0, 1)


def lower_face_mask(hole, mouth_region, points):
    """The ``mouth`` compositing region (float32 0/1, crop space): the face hole below the
    bottom of the nose (jaw, chin, lips and the cheeks beside them: a jaw that opens moves the
    chin, so the lips alone are not enough), plus the lip region itself. The crop is
    stabilised upright, so "below" is a crop row."""
    S = hole.shape[0]
    y_cut = int(np.clip(np.floor(points[SUBNASALE, 1]), 0, S))
    m = np.zeros_like(hole, np.float32)
    m[y_cut:] = hole[y_cut:]
    return np.maximum(m, np.asarray(mouth_region, np.float32))


def hole_mask(face, size):
    """The face-only hole: the face mask grown by size/40 px (float32 0/1)."""
    k = max(1, int(round(size / 40.0)))
    return cv2.dilate((np.asarray(face) > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))).astype(np.float32)


def window_indices(t, window, n):
    """Row indices ``t-W+1 .. t`` clamped to 0..n-1 (oldest first)."""
    return np.clip(np.arange(int(t) - int(window) + 1, int(t) + 1), 0, int(n) - 1)


def stack_window(cond, t, window, mode="face-only", crop=None, hole=None, ref=None):
    """The network input for row ``t`` as float32 (C, S, S) in 0..1.

    ``cond``: (T, COND_CHANNELS, S, S) uint8 conditioning; ``crop``: (S, S, 3) uint8 real crop of
    row ``t`` and ``hole``: (S, S) 0/1 hole mask, both needed in face-only mode. ``ref``: the
    actor reference (rgb (S, S, 3) uint8, cond (5, S, S) uint8) aligned onto this crop, for
    renderers trained with it. Channel order: window conditioning (oldest first), [reference
    RGB, reference conditioning], masked real crop RGB, hole.
    """
    idx = window_indices(t, window, len(cond))
    x = np.asarray(cond)[idx].reshape(-1, *cond.shape[2:]).astype(np.float32) / 255.0
    if mode == "full":
        return x
    if crop is None or hole is None:
        raise ValueError("face-only mode needs the real crop and the hole mask")
    h = np.asarray(hole, np.float32)
    real = (np.asarray(crop, np.float32) / 255.0 * (1.0 - h[..., None])).transpose(2, 0, 1)
    parts = [x]
    if ref is not None:
        rgb, rc = ref
        parts += [np.asarray(rgb, np.float32).transpose(2, 0, 1) / 255.0, np.asarray(rc, np.float32) / 255.0]
    return np.concatenate(parts + [real, h[None]], 0)


class StackedInput:
    """A network input (C, S, S) uint8 kept as its parts (the window's conditioning rows, the
    reference, the masked crop and hole), concatenated along the channels only when it is
    scaled into the network's float buffer (:meth:`fill`): the render path's main thread never
    copies the window (the cached rows are shared between consecutive frames)."""

    __slots__ = ("parts", "shape", "dtype")

    def __init__(self, parts):
        self.parts = list(parts)
        S = self.parts[0].shape[-2:]
        self.shape = (sum(int(p.shape[0]) for p in self.parts),) + tuple(S)
        self.dtype = np.dtype(np.uint8)

    def fill(self, out):
        """``out`` (C, S, S) float32 = this input / 255 (bit for bit ``np.asarray(self) / 255``)."""
        k = 0
        for p in self.parts:
            np.divide(p, np.float32(255.0), out=out[k:k + len(p)], dtype=np.float32)
            k += len(p)
        return out

    def __array__(self, dtype=None, copy=None):
        a = np.concatenate(self.parts, 0)
        return a if dtype is None else a.astype(dtype)


def stack_window_u8(cond, mode="face-only", crop=None, hole=None, ref=None, lazy=False):
    """:func:`stack_window` of the last row of ``cond`` (the W window rows, oldest first) as
    uint8 (C, S, S): ``stack_window(cond, len(cond) - 1, len(cond), ...)`` equals
    ``stack_window_u8(...).astype(np.float32) / 255`` bit for bit (the hole is 0 or 1, so the
    masked crop is a uint8 too). A quarter of the float input's memory: the render path keeps
    its pending frames in this form and scales a whole batch at once
    (:meth:`reenact.render.renderer.NeuralRenderer.run`). ``cond`` may be a list of the W
    (5, S, S) rows (copied straight into the result, never stacked first). ``lazy``: a
    :class:`StackedInput` of the same values instead (no copy of the window)."""
    rows = list(cond) if isinstance(cond, (list, tuple)) else list(np.asarray(cond))
    S = np.shape(rows[0])[-1]
    nc = sum(int(np.shape(c)[0]) for c in rows)
    if mode != "full" and (crop is None or hole is None):
        raise ValueError("face-only mode needs the real crop and the hole mask")
    for name, a in tuple(("cond", c) for c in rows) + ((("crop", crop),) if mode != "full" else ()) + (
            (("reference", ref[0]), ("reference cond", ref[1])) if ref is not None and mode != "full" else ()):
        if np.asarray(a).dtype != np.uint8:
            raise ValueError("stack_window_u8 needs uint8 images, {} is {}".format(name, np.asarray(a).dtype))
    if mode == "full":
        return StackedInput(rows) if lazy else np.concatenate(rows, 0)
    h = np.asarray(hole) > 0.5
    if not np.array_equal(np.asarray(hole, np.float32), h.astype(np.float32)):
        raise ValueError("stack_window_u8 needs a 0/1 hole mask")
    if lazy:
        tail = np.empty((4,) + h.shape, np.uint8)
        np.multiply(np.asarray(crop).transpose(2, 0, 1), ~h, out=tail[:3])
        np.multiply(h, np.uint8(255), out=tail[3])
        refs = [np.asarray(ref[0]).transpose(2, 0, 1), np.asarray(ref[1])] if ref is not None else []
        return StackedInput(rows + refs + [tail])
    n = nc + (3 + ref[1].shape[0] if ref is not None else 0) + 4
    out = np.empty((n, S, S), np.uint8)
    k = 0
    for c in rows:
        out[k:k + len(c)] = c
        k += len(c)
    if ref is not None:
        rgb, rc = ref
        out[k:k + 3] = np.asarray(rgb).transpose(2, 0, 1)
        out[k + 3:k + 3 + len(rc)] = rc
        k += 3 + len(rc)
    np.multiply(np.asarray(crop).transpose(2, 0, 1), ~h, out=out[k:k + 3])  # the hole masked out
    np.multiply(h, np.uint8(255), out=out[k + 3])
    return out
