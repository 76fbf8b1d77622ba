# SPDX-License-Identifier: GPL-3.0-or-later
"""Face fit: camera, identity, head pose, named expressions, gaze and blinks from landmarks.

Input: tracked landmarks (T, 478, 3) in pixels (x, y continuous image coordinates with (0, 0)
the top-left corner of the image; z = MediaPipe's relative depth in the same pixel scale as x,
larger = farther), NaN rows for untracked frames. Output: a :class:`~reenact.face.track.Track`.

Conventions (also in docs/track-format.md)
------------------------------------------
Model frame (right-handed, cm): x toward the viewer's right (= the actor's LEFT), y up, z out
of the face toward the viewer; origin on the mid-sagittal plane, at the height of the outer eye
corners, 8 cm behind them. Left/Right in names = the actor's own (ARKit).

Camera (OpenCV pinhole, right-handed, cm): x right, y down, z forward (into the scene). A model
point ``p`` (3,) maps to a pixel by::

    x_cam = R @ p + t                  # R = euler_to_matrix(pose[:3]), t = pose[3:] (cm)
    u = f * x_cam[0] / x_cam[2] + cx
    v = f * x_cam[1] / x_cam[2] + cy   # f = focal_px, (cx, cy) = principal = (w/2, h/2)

Euler XYZ: ``R = Rz(rz) @ Ry(ry) @ Rx(rx)`` (rotate about x first, then y, then z, all about
fixed camera axes; Blender's 'XYZ' mode), angles in radians. A face looking straight into the
camera has R = diag(1, -1, -1), i.e. rx = pi, ry = rz = 0; ``matrix_to_euler`` returns rx in
[0, 2 pi) so that head motion never wraps. :func:`pose_to_gl` gives the same pose in an
OpenGL/Blender camera frame (x right, y up, z backward), where a frontal face has zero rotation.

Focal length: given (``focal_px``; :func:`focal_mm_to_px` converts from mm on a 36 mm-wide
sensor) or estimated by :func:`estimate_focal` (see there for the estimator and its accuracy).

The fit, per actor (one landmark sequence):

1. Rigid stage: weak-perspective similarity alignment (Umeyama) of the ``rigid`` landmark group
   to the topology's mean shape initialises each frame's pose; Gauss-Newton on the full
   perspective reprojection of the rigid points refines it. The landmarks are un-projected to
   3-D (x, y along the camera rays, depth from the tracker's z) and brought into the model frame:
   the pose-normalised shapes ``A`` (T, 468, 3). Their mean is the actor's rigid reference and the
   rigid stage runs once more against it. Frames whose rigid points fit more than 4x worse than
   the median (tracker glitches) are left out of the per-actor estimates (identity, ranges,
   basis); they are still fitted and get a confidence near 0.
2. Semantic coefficients: geometric measurements on ``A`` (lip gap, eye aspect ratio,
   mouth-corner height, brow height, ...; :func:`measure_table`) mapped per actor to 0..1
   through robust percentiles with an anatomical minimum span (``expression_range`` keeps the
   raw values that map to 0 and 1).
3. Expression basis: staged ridge regression of ``A`` on the coefficients with an intercept
   (the intercept is the identity = the shape at all-zero coefficients; jawOpen and the blinks
   first, then the main expressions, then the rest, each on what the earlier stages left),
   shrunk toward generic templates (:func:`expression_templates`) scaled to the actor's ranges;
   each coefficient may only move the vertices of its own region (:func:`region_masks`).
4. Refinement, twice: Gauss-Newton on the head pose with the current shape
   ``identity + c @ basis`` (all 468 points, full perspective), then the coefficients by bounded
   (0..1) least squares of the landmarks (x, y along the camera rays; the tracker's depth
   weighted by ``DEPTH_WEIGHT``) with a prior ``PRIOR * |c - c_semantic|^2`` (``STRONG`` times
   that for jawOpen and the blinks), then the basis is re-regressed on the refined
   coefficients. Every step is batched over frames (matmul / batched solves); the coefficient
   normal matrices are built in O(K^2) per frame from 9 precomputed K x K blocks.
5. Gaze from the iris centres (:func:`gaze_from_iris`), blinks = eyeBlink coefficients,
   confidence = tracker presence x exp(-(median reprojection error / IOD / 0.03)^2).

Measured on carphone and the shared clips (MediaPipe-style landmarks): median reprojection error
0.3-0.6 % of the inter-ocular distance (mouth included), jawOpen vs lip gap r >= 0.99, eyeBlink
vs eye aspect ratio r <= -0.96, about 0.6-1 ms per frame on one core.
"""

import time
from dataclasses import dataclass

import numpy as np

from .expressions import EXPRESSION_NAMES, side_of
from .topology import (
    EYE_LEFT_INNER,
    EYE_LEFT_OUTER,
    EYE_RIGHT_INNER,
    EYE_RIGHT_OUTER,
    IRIS_LEFT,
    IRIS_RIGHT,
    N_LANDMARKS,
    N_VERTS,
    load_topology,
)

SENSOR_WIDTH_MM = 36.0
DEFAULT_FOCAL_MM = 50.0  # on a 36 mm-wide sensor: f = 1.39 x image width
#: weight of the tracker's depth (z) against x, y in the coefficient solve
DEPTH_WEIGHT = 0.15
#: weight of the prior toward the semantic coefficient values (in cm^2 units); the coefficients
#: that are measured directly (jawOpen: lip gap, eyeBlink: eyelid gap) are held STRONG x tighter
PRIOR = 10.0
STRONG = 30.0
PRIOR_STRONG = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight")
#: ridge weight of the basis regression toward the generic templates, relative to the number
#: of frames, per regression stage (jawOpen and blinks are measured well: the data decides)
RIDGE = (0.0005, 0.02, 0.02)
#: eyeball model (cm): the iris centre lies on a sphere of this radius around the eye's centre of
#: rotation, which sits EYEBALL_BEHIND_CORNERS behind the midpoint of the eye corners (so the
#: iris looking straight ahead is 0.6 cm in front of the corners, as the tracker's depth says)
IRIS_SPHERE_RADIUS = 1.25
EYEBALL_BEHIND_CORNERS = 0.65
#: gaze angles are clipped to the eye's range of motion (radians, about 50 degrees)
GAZE_LIMIT = 0.87
#: reprojection error (fraction of the inter-ocular distance) at which confidence is exp(-1)
CONFIDENCE_ERROR_SCALE = 0.03
#: Gauss-Newton pose iterations per refinement round
GN_ITERS = 1
#: frames processed at once in the batched solvers (bounds memory on long clips)
CHUNK = 1024


# ----------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class Camera:
    """Pinhole camera: focal length in pixels, principal point (cx, cy), image size (w, h)."""

    focal_px: float
    principal: tuple
    size: tuple

    @classmethod
    def centered(cls, size, focal_px=None):
        w, h = float(size[0]), float(size[1])
        f = focal_mm_to_px(DEFAULT_FOCAL_MM, w) if focal_px is None else float(focal_px)
        return cls(f, (w / 2.0, h / 2.0), (int(size[0]), int(size[1])))

    @property
    def focal_mm(self):
        return focal_px_to_mm(self.focal_px, self.size[0])


def focal_mm_to_px(focal_mm, width_px, sensor_width_mm=SENSOR_WIDTH_MM):
    """Focal length in pixels for a lens of ``focal_mm`` on a sensor ``sensor_width_mm`` wide."""
    return float(focal_mm) * float(width_px) / float(sensor_width_mm)


def focal_px_to_mm(focal_px, width_px, sensor_width_mm=SENSOR_WIDTH_MM):
    """Inverse of :func:`focal_mm_to_px`."""
    return float(focal_px) * float(sensor_width_mm) / float(width_px)


# ----------------------------------------------------------------------------- rotations
def euler_to_matrix(euler):
    """(..., 3) XYZ Euler radians -> (..., 3, 3) rotation ``Rz @ Ry @ Rx``."""
    e = np.asarray(euler, np.float64)
    cx, cy, cz = np.cos(e[..., 0]), np.cos(e[..., 1]), np.cos(e[..., 2])
    sx, sy, sz = np.sin(e[..., 0]), np.sin(e[..., 1]), np.sin(e[..., 2])
    R = np.empty(e.shape[:-1] + (3, 3))
    R[..., 0, 0] = cz * cy
    R[..., 0, 1] = cz * sy * sx - sz * cx
    R[..., 0, 2] = cz * sy * cx + sz * sx
    R[..., 1, 0] = sz * cy
    R[..., 1, 1] = sz * sy * sx + cz * cx
    R[..., 1, 2] = sz * sy * cx - cz * sx
    R[..., 2, 0] = -sy
    R[..., 2, 1] = cy * sx
    R[..., 2, 2] = cy * cx
    return R


def matrix_to_euler(R):
    """(..., 3, 3) rotation -> (..., 3) XYZ Euler radians with R = Rz @ Ry @ Rx.

    ry in [-pi/2, pi/2], rz in (-pi, pi], rx in [0, 2 pi) (so that a face seen from the front,
    rx ~ pi, never wraps).
    """
    R = np.asarray(R, np.float64)
    ry = np.arctan2(-R[..., 2, 0], np.hypot(R[..., 0, 0], R[..., 1, 0]))
    rx = np.arctan2(R[..., 2, 1], R[..., 2, 2]) % (2 * np.pi)
    rz = np.arctan2(R[..., 1, 0], R[..., 0, 0])
    # gimbal lock (|ry| = pi/2): put everything into rx
    lock = np.hypot(R[..., 0, 0], R[..., 1, 0]) < 1e-9
    if np.any(lock):
        rz = np.where(lock, 0.0, rz)
        rx = np.where(lock, np.arctan2(-R[..., 1, 2], R[..., 1, 1]) % (2 * np.pi), rx)
    return np.stack([rx, ry, rz], -1)


def rodrigues(w):
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices."""
    w = np.asarray(w, np.float64)
    th = np.linalg.norm(w, axis=-1)[..., None, None]
    K = np.zeros(w.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2] = -w[..., 2], w[..., 1]
    K[..., 1, 0], K[..., 1, 2] = w[..., 2], -w[..., 0]
    K[..., 2, 0], K[..., 2, 1] = -w[..., 1], w[..., 0]
    small = th < 1e-8
    ths = np.where(small, 1.0, th)
    a = np.where(small, 1.0, np.sin(ths) / ths)
    b = np.where(small, 0.5, (1 - np.cos(ths)) / ths**2)
    return np.eye(3) + a * K + b * (K @ K)


#: model frame -> OpenGL/Blender camera axes of a camera looking at the face: flip y and z
GL_FROM_CV = np.diag([1.0, -1.0, -1.0])


# OpenCV -> Blender/OpenGL camera: ry, rz, ty, tz change sign (rx is shifted by pi separately)
_GL_SIGNS = np.array([1.0, -1.0, -1.0, 1.0, -1.0, -1.0])


def pose_to_gl(pose):
    """(..., 6) pose in the OpenCV camera -> (..., 6) in an OpenGL/Blender camera frame.

    The returned rotation (XYZ Euler, Blender's default mode) and translation (cm) place the
    face mesh in the frame of a camera at the origin looking down -z with y up (a Blender camera
    object with zero rotation): a frontal face gets rotation (0, 0, 0). Since
    ``diag(1,-1,-1) @ Rz(c) Ry(b) Rx(a) = Rz(-c) Ry(-b) Rx(a - pi)``, this is
    ``(rx - pi, -ry, -rz, tx, -ty, -tz)``. Convert metres for Blender scenes yourself (x 0.01).
    """
    out = np.asarray(pose, np.float64) * _GL_SIGNS
    out[..., 0] = (out[..., 0] - np.pi + np.pi) % (2 * np.pi) - np.pi
    return out


def pose_from_gl(pose_gl):
    """Inverse of :func:`pose_to_gl`."""
    out = np.asarray(pose_gl, np.float64) * _GL_SIGNS
    out[..., 0] = (out[..., 0] + np.pi) % (2 * np.pi)
    return out


# ----------------------------------------------------------------------------- projection
def shapes_from(identity, basis, coeffs):
    """identity (468,3) + coeffs (T,K) @ basis (K,468,3) -> (T,468,3)."""
    c = np.asarray(coeffs, np.float64)
    B = np.asarray(basis, np.float64)
    return np.asarray(identity, np.float64)[None] + (c @ B.reshape(len(B), -1)).reshape(len(c), -1, 3)


def _project_cam(X, f, c):
    z = X[..., 2]
    return np.stack([f * X[..., 0] / z + c[0], f * X[..., 1] / z + c[1]], -1)


def project(identity, basis, coeffs, pose, camera):
    """Pixels (T, 468, 2) of the model: identity + coeffs @ basis, posed by ``pose`` (T, 6).

    ``camera``: a :class:`Camera` (or anything with ``focal_px`` and ``principal``). Frames
    whose pose or coefficients are NaN give NaN.
    """
    pose = np.asarray(pose, np.float64)
    S = shapes_from(identity, basis, np.nan_to_num(np.asarray(coeffs, np.float64)))
    R = euler_to_matrix(np.nan_to_num(pose[:, :3]))
    X = _rotate(R, S) + np.nan_to_num(pose[:, None, 3:])
    uv = _project_cam(X, float(camera.focal_px), camera.principal)
    bad = ~(np.isfinite(pose).all(1) & np.isfinite(np.asarray(coeffs, np.float64)).all(1))
    uv[bad] = np.nan
    return uv


# ----------------------------------------------------------------------------- rigid tools
def _umeyama_batch(src, dst, with_scale=True):
    """dst[t] ~ s[t] R[t] src + tr[t]; src (N,3) or (T,N,3), dst (T,N,3)."""
    src = np.broadcast_to(src, dst.shape)
    ms, md = src.mean(1), dst.mean(1)
    a, b = src - ms[:, None], dst - md[:, None]
    Sig = np.einsum("tni,tnj->tij", b, a)
    U, S, Vt = np.linalg.svd(Sig)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.ones((len(dst), 3))
    D[:, 2] = d
    R = U @ (D[:, :, None] * Vt)
    s = (S * D).sum(1) / (a**2).sum((1, 2)) if with_scale else np.ones(len(dst))
    tr = md - s[:, None] * np.einsum("tij,tj->ti", R, ms)
    return s, R, tr


def _weak_init(obs, ref, idx, cam):
    """Pose (R, t) per frame from a similarity fit of ref[idx] to (u-cx, v-cy, z) pixels."""
    O = obs[:, idx, :3].copy()
    O[..., 0] -= cam.principal[0]
    O[..., 1] -= cam.principal[1]
    s, R, tr = _umeyama_batch(ref[idx], O)
    # depth of the rigid-point centroid from the scale (px per cm) and focal length
    cen = ref[idx].mean(0)
    zc = cam.focal_px / s
    ucen = np.einsum("tij,j->ti", R, cen) * s[:, None] + tr  # centroid in O space
    Xc = np.stack([ucen[:, 0] * zc / cam.focal_px, ucen[:, 1] * zc / cam.focal_px, zc], 1)
    t = Xc - np.einsum("tij,j->ti", R, cen)
    return R, t


def _rotate(R, S):
    """Rotate points S (T,N,3) or (N,3) by R (T,3,3): (T,N,3)."""
    return np.matmul(S, np.swapaxes(R, 1, 2))


def _gn_pose(shape, obs2, R, t, cam, iters=3, damping=1e-6):
    """Gauss-Newton on 6-DoF pose (left-multiplied rotation increments), batched over frames.

    shape (T,N,3) or (N,3) model points; obs2 (T,N,2) pixels; returns refined R, t.
    """
    f, (cx, cy) = float(cam.focal_px), cam.principal
    R, t = R.copy(), t.copy()
    T = len(obs2)
    for start in range(0, T, CHUNK):
        sl = slice(start, min(T, start + CHUNK))
        S = shape if shape.ndim == 2 else shape[sl]
        Rs, ts, ob = R[sl], t[sl], obs2[sl]
        n, N = ob.shape[:2]
        J = np.empty((n, N, 2, 6))
        r = np.empty((n, N, 2))
        for _ in range(iters):
            Y = _rotate(Rs, S)
            P = Y + ts[:, None]
            fiz = f / P[..., 2]
            x = P[..., 0] / P[..., 2]
            y = P[..., 1] / P[..., 2]
            Y0, Y1, Y2 = Y[..., 0], Y[..., 1], Y[..., 2]
            r[..., 0] = f * x + cx - ob[..., 0]
            r[..., 1] = f * y + cy - ob[..., 1]
            # d(u, v) / d(rotation increment, translation), u = f x + cx
            J[..., 0, 0] = -x * Y1
            J[..., 0, 1] = Y2 + x * Y0
            J[..., 0, 2] = -Y1
            J[..., 0, 3] = 1.0
            J[..., 0, 4] = 0.0
            J[..., 0, 5] = -x
            J[..., 1, 0] = -y * Y1 - Y2
            J[..., 1, 1] = y * Y0
            J[..., 1, 2] = Y0
            J[..., 1, 3] = 0.0
            J[..., 1, 4] = 1.0
            J[..., 1, 5] = -y
            J *= fiz[..., None, None]
            Jf = J.reshape(n, 2 * N, 6)
            Jt = np.swapaxes(Jf, 1, 2)
            H = np.matmul(Jt, Jf)
            g = np.matmul(Jt, r.reshape(n, 2 * N, 1))
            H += damping * (np.trace(H, axis1=1, axis2=2)[:, None, None] + 1e-9) * np.eye(6)
            dx = -np.linalg.solve(H, g)[..., 0]
            # safeguards against a diverging frame (garbage landmarks): bounded rotation step,
            # the face stays in front of the camera
            rn = np.linalg.norm(dx[:, :3], axis=1, keepdims=True)
            dx[:, :3] *= np.minimum(1.0, 0.5 / np.maximum(rn, 1e-12))
            dx[:, 5] = np.maximum(dx[:, 5], -0.5 * ts[:, 2])
            Rs = np.matmul(rodrigues(dx[:, :3]), Rs)
            ts = ts + dx[:, 3:]
        R[sl], t[sl] = Rs, ts
    return R, t


def _observed_cam(obs, R, t, cam, shape, rig, use_model_depth):
    """Camera-space observations (T, 468, 3): rays x model (or tracker) depth, tracker z."""
    f, (cx, cy) = float(cam.focal_px), cam.principal
    T = len(obs)
    Xm = _rotate(R, shape) + t[:, None]
    zc = Xm[:, rig, 2].mean(1)
    s = f / zc
    zmp = obs[:, :N_VERTS, 2]
    Zmp = zc[:, None] + (zmp - zmp[:, rig].mean(1, keepdims=True)) / s[:, None]
    Zr = Xm[..., 2] if use_model_depth else Zmp
    X = np.empty((T, N_VERTS, 3))
    X[..., 0] = (obs[:, :N_VERTS, 0] - cx) / f * Zr
    X[..., 1] = (obs[:, :N_VERTS, 1] - cy) / f * Zr
    X[..., 2] = Zmp
    return X


def _to_model(X, R, t):
    return np.matmul(X - t[:, None], R)


# ----------------------------------------------------------------------------- semantics
def _measure_table(topo):
    """[(name, function(A) -> (T,), rest percentile, sign, min span cm, region)] per coefficient.

    ``A``: pose-normalised shapes (T, 468, 3), model frame, cm (inter-ocular distance ~ 9 cm).
    sign +1: the coefficient grows as the raw measure rises above its rest value; -1: as it
    falls below. Left-side landmark indices are given; the right side uses the mirror map.
    """
    m = topo.mirror

    def sided(fn_left):
        # fn_left(A, idx, sx) with idx mapping left indices -> sided indices, sx = +1 left / -1 right
        def left(A):
            return fn_left(A, lambda i: i, 1.0)

        def right(A):
            return fn_left(A, lambda i: int(m[i]), -1.0)

        return left, right

    def y(A, i):
        return A[:, i, 1]

    def mean_y(A, ids):
        return A[:, list(ids), 1].mean(1)

    def lip_gap(A):
        return np.mean([y(A, a) - y(A, b) for a, b in ((13, 14), (82, 87), (312, 317))], 0)

    def mouth_width(A):
        return A[:, 291, 0] - A[:, 61, 0]

    def outer_height(A):
        return y(A, 0) - y(A, 17)

    def corner_h(A, I, sx):
        return y(A, I(291)) - 0.5 * (y(A, 13) + y(A, 14))

    def corner_w(A, I, sx):
        return sx * A[:, I(291), 0]

    T = []

    def add(name, fn, rest, sign, span, region):
        T.append((name, fn, rest, sign, span, region))

    add("jawOpen", lip_gap, 3, +1, 2.6, "mouth")
    add("jawForward", lambda A: A[:, 152, 2] - A[:, 10, 2], 50, +1, 0.6, "mouth")
    add("jawLeft", lambda A: A[:, 152, 0], 50, +1, 0.8, "mouth")
    add("jawRight", lambda A: A[:, 152, 0], 50, -1, 0.8, "mouth")
    add("mouthClose", lambda A: (y(A, 2) - y(A, 152)) - lip_gap(A), 50, +1, 1.0, "mouth")
    add("mouthFunnel", lambda A: -mouth_width(A) + 0.5 * outer_height(A), 50, +1, 0.8, "mouth")
    add("mouthPucker", lambda A: -mouth_width(A) - 0.5 * outer_height(A), 50, +1, 0.8, "mouth")
    add("mouthLeft", lambda A: A[:, [0, 17, 61, 291], 0].mean(1), 50, +1, 0.6, "mouth")
    add("mouthRight", lambda A: A[:, [0, 17, 61, 291], 0].mean(1), 50, -1, 0.6, "mouth")
    for nm, fn, sg, sp in (
        ("mouthSmile", lambda A, I, sx: corner_h(A, I, sx) + 0.5 * corner_w(A, I, sx), +1, 0.8),
        ("mouthFrown", lambda A, I, sx: corner_h(A, I, sx), -1, 0.5),
        ("mouthDimple", lambda A, I, sx: -A[:, I(291), 2] + 0.3 * corner_w(A, I, sx), +1, 0.4),
        ("mouthStretch", lambda A, I, sx: corner_w(A, I, sx) - 0.5 * corner_h(A, I, sx), +1, 0.6),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, 50, sg, sp, "mouth_left")
        add(nm + "Right", rf, 50, sg, sp, "mouth_right")
    add("mouthRollLower", lambda A: -(y(A, 14) - y(A, 17)), 50, +1, 0.4, "mouth")
    add("mouthRollUpper", lambda A: -(y(A, 0) - y(A, 13)), 50, +1, 0.4, "mouth")
    add("mouthShrugLower", lambda A: -(y(A, 17) - y(A, 152)), 50, +1, 0.5, "mouth")
    add("mouthShrugUpper", lambda A: y(A, 0) - y(A, 2), 50, +1, 0.4, "mouth")
    for nm, fn, sg, sp in (
        ("mouthPress", lambda A, I, sx: -((y(A, I(267)) - y(A, I(312))) + (y(A, I(317)) - y(A, I(314)))), +1, 0.4),
        ("mouthLowerDown", lambda A, I, sx: y(A, I(291)) - y(A, I(314)), +1, 0.5),
        ("mouthUpperUp", lambda A, I, sx: y(A, I(267)) - y(A, I(327)), +1, 0.4),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, 50, sg, sp, "mouth_left")
        add(nm + "Right", rf, 50, sg, sp, "mouth_right")
    add("cheekPuff", lambda A: A[:, 425, 0] - A[:, 205, 0], 50, +1, 0.5, "mouth")

    def lid_gap(A, I, sx):
        # eye aspect ratio (mean of three lid-to-lid distances over the corner distance) in cm
        # for a nominal 3 cm wide eye
        pairs = ((386, 374), (385, 380), (387, 373))
        gap = np.mean([np.linalg.norm(A[:, I(a)] - A[:, I(b)], axis=-1) for a, b in pairs], 0)
        return 3.0 * gap / np.linalg.norm(A[:, I(263)] - A[:, I(362)], axis=-1)

    def lower_lid(A, I, sx):
        return mean_y(A, [I(374), I(380), I(373)]) - 0.5 * (y(A, I(263)) + y(A, I(362)))

    for nm, fn, rest, sg, sp in (
        ("eyeBlink", lid_gap, 90, -1, 0.6),
        ("eyeSquint", lower_lid, 50, +1, 0.25),
        ("eyeWide", lid_gap, 90, +1, 0.3),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, rest, sg, sp, "eye_left")
        add(nm + "Right", rf, rest, sg, sp, "eye_right")

    def inner_brow(A, I, sx):
        return mean_y(A, [I(336), I(285)]) - y(A, I(362))

    def outer_brow(A, I, sx):
        return mean_y(A, [I(300), I(276), I(293), I(283)]) - y(A, I(263))

    lf, rf = sided(inner_brow)
    add("browDownLeft", lf, 50, -1, 0.4, "brow_left")
    add("browDownRight", rf, 50, -1, 0.4, "brow_right")
    add("browInnerUp", lambda A: 0.5 * (lf(A) + rf(A)), 50, +1, 0.6, "brow_both")
    lf, rf = sided(outer_brow)
    add("browOuterUpLeft", lf, 50, +1, 0.5, "brow_left")
    add("browOuterUpRight", rf, 50, +1, 0.5, "brow_right")
    lf, rf = sided(lambda A, I, sx: mean_y(A, [I(346), I(347), I(349)]) - y(A, I(263)))
    add("cheekSquintLeft", lf, 50, +1, 0.3, "cheek_left")
    add("cheekSquintRight", rf, 50, +1, 0.3, "cheek_right")
    lf, rf = sided(lambda A, I, sx: mean_y(A, [I(358), I(327), I(294)]) - y(A, 6))
    add("noseSneerLeft", lf, 50, +1, 0.3, "nose_left")
    add("noseSneerRight", rf, 50, +1, 0.3, "nose_right")
    return T


_TABLE_CACHE = {}


def measure_table():
    topo = load_topology()
    key = topo.checksum
    if key not in _TABLE_CACHE:
        _TABLE_CACHE[key] = {row[0]: row for row in _measure_table(topo)}
    return _TABLE_CACHE[key]


def semantic_measures(A, names=EXPRESSION_NAMES):
    """Raw measurements (T, K) on pose-normalised shapes A (T, 468, 3) (cm, model frame)."""
    tab = measure_table()
    return np.stack([tab[n][1](A) for n in names], 1)


def expression_ranges(raw, names=EXPRESSION_NAMES):
    """(K, 2) raw values that map to 0 (rest) and 1 (full) for each coefficient.

    rest = the measure's rest percentile over the clip (3rd for jawOpen's lip gap, 60th for the
    eyelid gap, the median otherwise); full = rest + sign * max(|p99.5 (or p0.5) - rest|, min span).
    """
    tab = measure_table()
    out = np.empty((len(names), 2))
    for k, n in enumerate(names):
        _, _, rest_p, sign, span, _ = tab[n]
        x = raw[:, k]
        lo = np.percentile(x, rest_p)
        ext = np.percentile(x, 99.5 if sign > 0 else 0.5)
        out[k] = lo, lo + sign * max(abs(ext - lo), span)
    return out


def normalise(raw, ranges):
    """Raw measures (T, K) -> coefficients clipped to 0..1 through ``ranges`` (K, 2)."""
    lo, hi = ranges[:, 0], ranges[:, 1]
    return np.clip((raw - lo) / (hi - lo), 0.0, 1.0)


#: coefficients allowed to move the outline of the face (the face oval): the jaw
OVAL_MOVERS = ("jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "cheekPuff")


def region_masks(names=EXPRESSION_NAMES, topo=None):
    """(K, 468) bool: which vertices each coefficient's basis vector may move.

    Regions come from the topology (``region_*`` groups); sided mouth and nose coefficients
    keep to their own side (plus 1 cm / 0.8 cm across the midline); brows move at most 2 cm
    above the upper brow row; the face outline (whose tracked points slide along the
    silhouette when the head turns) is moved only by :data:`OVAL_MOVERS`.
    """
    topo = topo or load_topology()
    tab = measure_table()
    x, y = topo.mean_shape[:, 0], topo.mean_shape[:, 1]
    g = topo.groups
    oval = np.zeros(N_VERTS, bool)
    oval[g["face_oval"]] = True
    brow_top = y[np.r_[g["brow_left"][:5], g["brow_right"][:5]]].max() + 2.0
    masks = np.zeros((len(names), N_VERTS), bool)
    for k, n in enumerate(names):
        reg = tab[n][5]
        m = np.zeros(N_VERTS, bool)
        if reg.startswith("mouth"):
            m[g["region_mouth"]] = True
            if reg == "mouth_left":
                m &= x > -1.0
            elif reg == "mouth_right":
                m &= x < 1.0
        elif reg in ("eye_left", "eye_right"):
            m[g["region_" + reg]] = True
        elif reg == "brow_both":
            m[g["region_brow_left"]] = True
            m[g["region_brow_right"]] = True
        elif reg in ("brow_left", "brow_right", "cheek_left", "cheek_right"):
            m[g["region_" + reg]] = True
        elif reg.startswith("nose"):
            m[g["region_nose"]] = True
            m &= (x > -0.8) if reg == "nose_left" else (x < 0.8)
        else:
            raise ValueError("unknown region " + reg)
        if reg.startswith("brow"):
            m &= y < brow_top
        if n not in OVAL_MOVERS:
            m &= ~oval
        masks[k] = m
    return masks


# ----------------------------------------------------------------------------- basis
def _rbf_field(P, handles, sigma):
    """Displacement field (468, 3): Gaussian-weighted blend of handle displacements."""
    D = np.zeros_like(P)
    W = np.zeros(len(P))
    for i, d in handles:
        w = np.exp(-((P - P[i]) ** 2).sum(1) / (2 * sigma**2))
        D += w[:, None] * np.asarray(d, np.float64)
        W += w
    return D / np.maximum(W, 1.0)[:, None]


def _lip_halves(topo):
    lo_ = topo.groups["lips_outer"]
    li = topo.groups["lips_inner"]
    upper = np.r_[lo_[1:10], li[1:10]]
    lower = np.r_[lo_[11:20], li[11:20]]
    return upper, lower


def _template_left(name, P, topo):
    """Generic displacement (468, 3) of an expression on shape P (cm), before scaling.

    Sided expressions are written for the actor's left (+x); the right side is mirrored.
    """
    g = topo.groups
    upper, lower = _lip_halves(topo)
    if name.startswith("jaw") or name == "mouthClose":
        # lower jaw: weight 1 on the lower lip and below the lower lip, 0 on the upper lip and
        # above the upper lip, smooth in between (by height)
        y13, y17 = P[13, 1], P[17, 1]
        w = np.clip((y13 - P[:, 1]) / max(y13 - y17, 1e-3), 0, 1)
        w = w * w * (3 - 2 * w)
        w[lower] = 1.0
        w[upper] = 0.0
        w[P[:, 1] > P[2, 1]] = 0.0
        hinge = np.array([0.0, P[2, 1] + 0.5, 0.5])
        if name == "jawOpen":
            th = np.deg2rad(15.0)
            r = P - hinge
            c, s_ = np.cos(th), np.sin(th)
            rot = np.stack([r[:, 0], r[:, 1] * c - r[:, 2] * s_, r[:, 1] * s_ + r[:, 2] * c], 1)
            return w[:, None] * (rot - r)
        if name == "jawLeft":
            return w[:, None] * np.array([0.8, 0.0, 0.0])
        if name == "jawForward":
            return w[:, None] * np.array([0.0, 0.0, 0.6])
        if name == "mouthClose":  # lips together while the jaw stays open: lower lip up
            D = _rbf_field(P, [(i, (0.0, 1.0, 0.2)) for i in lower], 0.5)
            D[upper] = 0.0
            return D
    E = {}  # handle lists
    E["mouthFunnel"] = [(0, (0, 0.1, 0.4)), (17, (0, -0.1, 0.4)), (13, (0, 0.2, 0.4)), (14, (0, -0.3, 0.4)),
                        (291, (-0.4, 0, 0.1)), (61, (0.4, 0, 0.1))]
    E["mouthPucker"] = [(0, (0, -0.05, 0.5)), (17, (0, 0.05, 0.5)), (13, (0, 0, 0.5)), (14, (0, 0, 0.5)),
                        (291, (-0.5, 0, 0.2)), (61, (0.5, 0, 0.2))]
    E["mouthLeft"] = [(i, (0.7, 0, 0)) for i in (0, 17, 13, 14, 61, 291)]
    E["mouthSmileLeft"] = [(291, (0.35, 0.6, -0.15)), (425, (0.1, 0.3, 0.1))]
    E["mouthFrownLeft"] = [(291, (0.0, -0.5, 0.0))]
    E["mouthDimpleLeft"] = [(291, (0.2, 0.0, -0.3))]
    E["mouthStretchLeft"] = [(291, (0.5, -0.2, -0.1)), (314, (0.2, -0.1, 0.0))]
    E["mouthRollLower"] = [(17, (0, 0.3, -0.2)), (84, (0, 0.25, -0.15)), (314, (0, 0.25, -0.15)), (14, (0, 0.0, -0.1))]
    E["mouthRollUpper"] = [(0, (0, -0.3, -0.2)), (37, (0, -0.25, -0.15)), (267, (0, -0.25, -0.15)),
                           (13, (0, 0.0, -0.1))]
    E["mouthShrugLower"] = [(17, (0, 0.4, 0.1)), (152, (0, 0.3, 0.1)), (14, (0, 0.2, 0.1))]
    E["mouthShrugUpper"] = [(0, (0, 0.3, 0.05)), (13, (0, 0.2, 0.0))]
    E["mouthPressLeft"] = [(267, (0, -0.15, 0)), (314, (0, 0.15, 0)), (312, (0, -0.02, 0)), (317, (0, 0.02, 0))]
    E["mouthLowerDownLeft"] = [(314, (0, -0.5, 0.05)), (317, (0, -0.35, 0.0))]
    E["mouthUpperUpLeft"] = [(267, (0, 0.4, 0.05)), (312, (0, 0.3, 0.0))]
    E["cheekPuff"] = [(425, (0.5, 0, 0.3)), (205, (-0.5, 0, 0.3)), (280, (0.3, 0, 0.2)), (50, (-0.3, 0, 0.2))]
    eye = g["eye_left"]
    up_lid, low_lid = eye[1:8], eye[9:16]
    blink = []
    for i in up_lid:
        j = low_lid[np.argmin(np.abs(P[low_lid, 0] - P[i, 0]))]
        blink.append((i, (0, (P[j, 1] - P[i, 1]) * 0.95, 0.05)))
    blink += [(i, (0, 0, 0)) for i in low_lid] + [(263, (0, 0, 0)), (362, (0, 0, 0))]
    E["eyeBlinkLeft"] = blink
    E["eyeWideLeft"] = [(i, (0, 0.25, 0)) for i in up_lid] + [(i, (0, 0, 0)) for i in low_lid]
    E["eyeSquintLeft"] = [(i, (0, 0.2, 0)) for i in low_lid] + [(346, (0, 0.12, 0))] + [(i, (0, 0, 0)) for i in up_lid]
    E["browDownLeft"] = [(336, (-0.15, -0.4, 0)), (285, (-0.15, -0.35, 0)), (296, (-0.1, -0.3, 0)),
                         (334, (0, -0.15, 0))]
    E["browInnerUp"] = [(336, (0, 0.6, 0)), (285, (0, 0.5, 0)), (107, (0, 0.6, 0)), (55, (0, 0.5, 0)),
                        (296, (0, 0.3, 0)), (66, (0, 0.3, 0))]
    E["browOuterUpLeft"] = [(300, (0, 0.5, 0)), (276, (0, 0.45, 0)), (293, (0, 0.5, 0)), (283, (0, 0.4, 0))]
    E["cheekSquintLeft"] = [(346, (0, 0.3, 0.05)), (347, (0, 0.3, 0.05)), (349, (0, 0.2, 0.05))]
    E["noseSneerLeft"] = [(358, (0, 0.3, 0)), (327, (0, 0.3, 0)), (294, (0, 0.3, 0))]
    sig = {"eyeBlinkLeft": 0.35, "eyeWideLeft": 0.35, "eyeSquintLeft": 0.45, "mouthPressLeft": 0.5,
           "mouthRollLower": 0.6, "mouthRollUpper": 0.6, "mouthLowerDownLeft": 0.7, "mouthUpperUpLeft": 0.7,
           "mouthShrugUpper": 0.7, "noseSneerLeft": 0.6, "mouthFrownLeft": 0.9, "mouthDimpleLeft": 0.8}
    if name not in E:
        raise KeyError(name)
    return _rbf_field(P, E[name], sig.get(name, 1.1))


def expression_templates(identity, ranges, names=EXPRESSION_NAMES, masks=None):
    """Generic basis (K, 468, 3) for ``identity``, each scaled so that its own measure moves
    from the rest value to the full value of ``ranges`` (all measures are linear in the shape).

    Used as the prior of the basis regression: an expression the actor never shows still
    deforms the mesh plausibly; one the actor shows follows the actor's data.
    """
    topo = load_topology()
    masks = region_masks(names, topo) if masks is None else masks
    tab = measure_table()
    P = np.asarray(identity, np.float64)
    Mx = np.array([-1.0, 1.0, 1.0])
    out = np.zeros((len(names), N_VERTS, 3))
    for k, n in enumerate(names):
        sd = side_of(n)
        if sd < 0 and n[:-5] + "Left" in tab:
            # mirror: build the left template on the mirrored shape, mirror it back
            Pm = (P * Mx)[topo.mirror]
            Dl = _template_left(n[:-5] + "Left", Pm, topo)
            D = (Dl * Mx)[topo.mirror]
        else:
            D = _template_left(n, P, topo)
        D = D * masks[k][:, None]
        base = tab[n][1](P[None])[0]
        dm = tab[n][1]((P + D)[None])[0] - base
        want = ranges[k, 1] - ranges[k, 0]
        if abs(dm) > 1e-6 and np.sign(dm) == np.sign(want):
            D = D * np.clip(want / dm, 0.2, 5.0)
        out[k] = D
    return out


#: regression stages of the basis: earlier coefficients explain the shapes first, later ones
#: only what is left (so correlated secondary measures cannot take over jawOpen's motion)
BASIS_STAGES = (
    ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"),
    (
        "mouthSmileLeft",
        "mouthSmileRight",
        "mouthPucker",
        "mouthFunnel",
        "browInnerUp",
        "browDownLeft",
        "browDownRight",
        "browOuterUpLeft",
        "browOuterUpRight",
        "eyeWideLeft",
        "eyeWideRight",
        "eyeSquintLeft",
        "eyeSquintRight",
        "jawLeft",
        "jawRight",
        "mouthLeft",
        "mouthRight",
        "mouthFrownLeft",
        "mouthFrownRight",
        "mouthStretchLeft",
        "mouthStretchRight",
    ),
)


def _stages(names):
    done, out = set(), []
    for st in BASIS_STAGES:
        ks = [i for i, n in enumerate(names) if n in st]
        if ks:
            out.append(ks)
            done.update(ks)
    rest = [i for i in range(len(names)) if i not in done]
    if rest:
        out.append(rest)
    return out


_GROUP_CACHE = {}


def _vertex_groups(masks, names):
    """Per stage: (coefficient indices, [(active subset, vertices, flat columns), ...])."""
    key = (masks.tobytes(), names)
    if key not in _GROUP_CACHE:
        out = []
        for ks in _stages(names):
            ks = np.asarray(ks)
            sig = {}
            for v in range(N_VERTS):
                sig.setdefault(masks[ks, v].tobytes(), []).append(v)
            groups = []
            for k, verts in sig.items():
                act = np.flatnonzero(np.frombuffer(k, bool))
                if len(act):
                    verts = np.asarray(verts)
                    groups.append((act, verts, (verts[:, None] * 3 + np.arange(3)).ravel()))
            out.append((ks, groups))
        if len(_GROUP_CACHE) > 8:
            _GROUP_CACHE.clear()
        _GROUP_CACHE[key] = out
    return _GROUP_CACHE[key]


def regress_basis(A, C, masks, ridge=RIDGE, names=EXPRESSION_NAMES, prior_basis=None):
    """identity (468,3), basis (K,468,3) with A ~ identity + C @ basis (staged masked ridge).

    The coefficients are regressed in :data:`BASIS_STAGES` order, each stage on what the
    previous ones left. Within a stage, vertices are grouped by the set of coefficients allowed
    to move them (``masks`` (K, 468)); each group is one ridge regression on centred data,
    shrunk toward ``prior_basis`` (the generic templates; zero if None) with weight
    ``ridge[stage] * T``. The identity is the intercept: the shape at all-zero coefficients.
    """
    T, K = C.shape
    Y = A.reshape(T, N_VERTS, 3)
    Cm = C.mean(0)
    Cc = C - Cm
    Ym = Y.mean(0)
    Yc = (Y - Ym).reshape(T, N_VERTS * 3)
    B = np.zeros((K, N_VERTS, 3))
    B0 = np.zeros((K, N_VERTS * 3)) if prior_basis is None else np.asarray(prior_basis).reshape(K, -1)
    ridges = np.broadcast_to(np.asarray(ridge, np.float64), (3,))
    for si, (ks, groups) in enumerate(_vertex_groups(masks, tuple(names))):
        alpha = ridges[min(si, 2)] * T
        G = Cc[:, ks].T @ Cc[:, ks]
        for act, verts, cols in groups:
            Ga = G[np.ix_(act, act)] + alpha * np.eye(len(act))
            rhs = Cc[:, ks[act]].T @ Yc[:, cols] + alpha * B0[np.ix_(ks[act], cols)]
            sol = np.linalg.solve(Ga, rhs)  # (len(act), 3 * len(verts))
            B[np.ix_(ks[act], verts)] = sol.reshape(len(act), len(verts), 3)
        Yc = Yc - Cc[:, ks] @ B[ks].reshape(len(ks), -1)
    identity = Ym - np.einsum("k,kni->ni", Cm, B)
    return identity, B


class _CoeffSolver:
    """Bounded least squares for expression coefficients, batched over frames.

    Minimises, per frame, sum_i |W^1/2 R (B_i c - y_i)|^2 + prior |c - c0|^2 over 0 <= c <= 1,
    where y_i is the observed residual shape (model frame) and W = diag(1, 1, depth_weight) in
    camera axes. With d = R^T e_z, R^T W R = I - (1 - w) d d^T, so the normal matrix is
    G - (1-w) sum_ab d_a d_b G_ab with the 9 blocks G_ab = B^a B^b^T precomputed once.
    """

    def __init__(self, basis, depth_weight=DEPTH_WEIGHT, prior=PRIOR):
        self.K = len(basis)
        self.Bc = [np.ascontiguousarray(basis[:, :, a]) for a in range(3)]  # (K, 468) each
        self.Bflat = basis.reshape(self.K, -1)
        self.Gab = np.array([[self.Bc[a] @ self.Bc[b].T for b in range(3)] for a in range(3)])  # (3,3,K,K)
        self.G = self.Gab[0, 0] + self.Gab[1, 1] + self.Gab[2, 2]
        self.w = float(depth_weight)
        self.prior = np.broadcast_to(np.asarray(prior, np.float64), (self.K,))

    def solve(self, y, d, c0, passes=3):
        """y (T,468,3) residual shapes, d (T,3) view directions, c0 (T,K) prior -> (T,K)."""
        T, K = len(y), self.K
        out = np.empty((T, K))
        for start in range(0, T, CHUNK):
            sl = slice(start, min(T, start + CHUNK))
            yt, dt, ct = y[sl], d[sl], c0[sl]
            n = len(yt)
            dd = (dt[:, :, None] * dt[:, None, :]).reshape(n, 9)
            M = self.G[None] - (1 - self.w) * (dd @ self.Gab.reshape(9, K * K)).reshape(n, K, K)
            M = M + np.eye(K) * self.prior
            dy = np.matmul(yt, dt[:, :, None])[..., 0]
            rhs = yt.reshape(n, -1) @ self.Bflat.T
            rhs -= (1 - self.w) * sum(dt[:, a : a + 1] * (dy @ self.Bc[a].T) for a in range(3))
            rhs += self.prior * ct
            c = np.linalg.solve(M, rhs[..., None])[..., 0]
            for _ in range(passes):
                lo, hi = c < 0, c > 1
                fixed = lo | hi
                if not fixed.any():
                    break
                val = np.where(hi, 1.0, 0.0) * fixed
                # move the clamped variables to the right-hand side, identity rows for them
                r2 = rhs - np.matmul(M, val[..., None])[..., 0]
                free = ~fixed
                M2 = M * (free[:, :, None] & free[:, None, :]) + np.eye(K) * fixed[:, :, None]
                r2 = np.where(free, r2, 0.0)
                c = np.linalg.solve(M2, r2[..., None])[..., 0] + val
                c = np.where(fixed, val, c)
            out[sl] = np.clip(c, 0.0, 1.0)
        return out


# ----------------------------------------------------------------------------- gaze
def eyeball_centres(identity):
    """(2, 3) eyeball centres (actor's left, actor's right) in the model frame, cm."""
    idt = np.asarray(identity, np.float64)
    left = 0.5 * (idt[EYE_LEFT_OUTER] + idt[EYE_LEFT_INNER])
    right = 0.5 * (idt[EYE_RIGHT_OUTER] + idt[EYE_RIGHT_INNER])
    back = np.array([0.0, 0.0, EYEBALL_BEHIND_CORNERS])
    return np.stack([left - back, right - back])


def gaze_to_directions(gaze):
    """(T, 4) gaze angles -> (T, 2, 3) unit directions (left eye, right eye), model frame."""
    g = np.asarray(gaze, np.float64).reshape(-1, 2, 2)
    yaw, pitch = g[..., 0], g[..., 1]
    return np.stack([np.cos(pitch) * np.sin(yaw), np.sin(pitch), np.cos(pitch) * np.cos(yaw)], -1)


def iris_points(identity, gaze):
    """(T, 2, 3) iris centres (left eye, right eye) in the model frame for gaze (T, 4)."""
    return eyeball_centres(identity)[None] + IRIS_SPHERE_RADIUS * gaze_to_directions(gaze)


def gaze_from_iris(iris_px, identity, R, t, cam):
    """Gaze (T, 4) = (left yaw, left pitch, right yaw, right pitch) radians, head frame.

    iris_px (T, 2, 2): pixel centres of the actor's left (473) and right (468) iris. Each
    camera ray through an iris centre is intersected with that eye's iris sphere (centre
    :func:`eyeball_centres`, radius ``IRIS_SPHERE_RADIUS``; the nearest point of the ray when
    it misses); the direction from the eyeball centre to that point, rotated into the model
    frame, is the gaze: yaw = atan2(d_x, d_z) (positive toward +x, the actor's left), pitch =
    atan2(d_y, hypot(d_x, d_z)) (positive up). Looking straight ahead (along the face's +z)
    is (0, 0). Angles are clipped to +-``GAZE_LIMIT``; while an eye is closed (blink > 0.5)
    its iris position, and so its gaze, is unreliable.
    """
    f, (cx, cy) = float(cam.focal_px), cam.principal
    ctr = np.einsum("tij,ej->tei", R, eyeball_centres(identity)) + t[:, None]  # (T,2,3)
    ray = np.stack([(iris_px[..., 0] - cx) / f, (iris_px[..., 1] - cy) / f, np.ones(iris_px.shape[:2])], -1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    tc = (ray * ctr).sum(-1)  # distance along the ray to the closest point to the centre
    d2 = (ctr**2).sum(-1) - tc**2
    r2 = IRIS_SPHERE_RADIUS**2
    th = np.sqrt(np.clip(r2 - d2, 0.0, None))
    p = ray * (tc - th)[..., None]  # near intersection (or closest point)
    v = p - ctr
    v /= np.linalg.norm(v, axis=-1, keepdims=True) + 1e-12
    vm = np.einsum("tji,tej->tei", R, v)  # into the model frame
    yaw = np.clip(np.arctan2(vm[..., 0], vm[..., 2]), -GAZE_LIMIT, GAZE_LIMIT)
    pitch = np.clip(np.arctan2(vm[..., 1], np.hypot(vm[..., 0], vm[..., 2])), -GAZE_LIMIT, GAZE_LIMIT)
    return np.stack([yaw[:, 0], pitch[:, 0], yaw[:, 1], pitch[:, 1]], 1)


# ----------------------------------------------------------------------------- focal
def _rigid_error(obs, cam, ref, rig, iters=3):
    """Median rigid-point reprojection error (px) after fitting ``ref`` as a rigid face."""
    R, t = _weak_init(obs, ref, rig, cam)
    R, t = _gn_pose(ref[rig], obs[:, rig, :2], R, t, cam, iters=iters)
    X = _observed_cam(obs, R, t, cam, ref, rig, use_model_depth=False)
    A = _to_model(X, R, t)
    ident = A.mean(0)
    R, t = _gn_pose(ident[rig], obs[:, rig, :2], R, t, cam, iters=iters)
    P = _rotate(R, ident[rig]) + t[:, None]
    err = np.linalg.norm(_project_cam(P, cam.focal_px, cam.principal) - obs[:, rig, :2], axis=-1)
    return float(np.mean(err))


def estimate_focal(landmarks, size, n_frames=24, grid=None, flat_tolerance=0.01):
    """Estimate the focal length (pixels) from tracked landmarks; returns (focal_px, info).

    Estimator: on up to ``n_frames`` tracked frames spread over the clip, for each candidate
    focal f on a log grid from 0.5 to 8 image widths, the landmarks are un-projected with f,
    the rigid identity is their Procrustes mean, and each frame's 6-DoF pose is fitted to the
    2-D rigid landmarks (full perspective); the cost is the mean reprojection error. A wrong f
    bends the un-projected shapes differently in different poses (perspective distortion), so
    the rigid identity fits worse. The minimum is refined by a parabola in log f. When there is
    no interior minimum that both ends of the grid exceed by ``flat_tolerance`` (far faces,
    little head motion, or landmarks without usable perspective: the cost keeps falling toward
    a telephoto lens), the default 50 mm-equivalent focal length is returned
    (``info['flat']``). Accuracy: on synthetic perspective-correct landmarks with head motion
    (0.3 px noise) the estimate is within 7 % of the truth for f = 0.8 .. 2.5 image widths; on
    real MediaPipe-style landmarks it is often unidentified (default used) and, when found,
    plausible but unverified. Give the focal length when you know it.
    """
    L = np.asarray(landmarks, np.float64)
    ok = np.isfinite(L.reshape(len(L), -1)).all(1)
    L = L[ok]
    w = float(size[0])
    default = focal_mm_to_px(DEFAULT_FOCAL_MM, w)
    info = {"grid": [], "cost": [], "flat": True, "default": default}
    if len(L) < 3:
        return default, info
    sel = np.unique(np.linspace(0, len(L) - 1, min(n_frames, len(L))).round().astype(int))
    obs = L[sel]
    topo = load_topology()
    ref, rig = topo.mean_shape, topo.groups["rigid"]
    grid = np.geomspace(0.5, 8.0, 9) * w if grid is None else np.asarray(grid, np.float64)
    cost = np.array([_rigid_error(obs, Camera.centered(size, f), ref, rig) for f in grid])
    info.update(grid=grid.tolist(), cost=cost.tolist())
    k = int(np.argmin(cost))
    rise = min(cost[0], cost[-1]) / max(cost[k], 1e-9) - 1.0
    if k == 0 or k == len(grid) - 1 or rise < flat_tolerance:
        return default, info  # no interior minimum: perspective not observable here
    info["flat"] = False
    x = np.log(grid[k - 1 : k + 2])
    yv = cost[k - 1 : k + 2]
    den = yv[0] - 2 * yv[1] + yv[2]
    off = float(np.clip(0.5 * (yv[0] - yv[2]) / den, -0.5, 0.5)) if den > 0 else 0.0
    return float(np.exp(x[1] + off * (x[1] - x[0]))), info


# ----------------------------------------------------------------------------- the fit
def _iod_px(L):
    return np.linalg.norm(L[:, EYE_RIGHT_OUTER, :2] - L[:, EYE_LEFT_OUTER, :2], axis=-1)


def fit_landmarks(
    landmarks,
    size,
    focal_px=None,
    names=EXPRESSION_NAMES,
    iterations=1,
    prior=PRIOR,
    depth_weight=DEPTH_WEIGHT,
    ridge=RIDGE,
):
    """The fit on tracked frames only; returns a dict of arrays (see :func:`fit_track`).

    ``landmarks``: (T, 478, 3) pixels, no NaN.
    """
    t0 = time.perf_counter()
    L = np.asarray(landmarks, np.float64)
    T = len(L)
    topo = load_topology()
    rig = topo.groups["rigid"]
    focal_info = None
    if focal_px is None:
        focal_px, focal_info = estimate_focal(L, size)
    cam = Camera.centered(size, focal_px)
    obs2 = L[:, :N_VERTS, :2]

    # 1. rigid stage (twice: template, then the actor's own rigid mean). Frames whose rigid
    # points fit far worse than the clip's median (tracker failures) are left out of
    # everything estimated per actor (identity, ranges, basis), but still fitted.
    ref = topo.mean_shape
    R, t = _weak_init(L, ref, rig, cam)
    good = np.ones(T, bool)
    for k in range(2):
        R, t = _gn_pose(ref[rig], obs2[:, rig], R, t, cam, iters=3)
        if k == 0:
            P = _rotate(R, ref[rig]) + t[:, None]
            e = np.median(np.linalg.norm(_project_cam(P, cam.focal_px, cam.principal) - obs2[:, rig], axis=-1), 1)
            e = e / np.maximum(_iod_px(L), 1e-9)
            good = e <= max(4.0 * np.median(e), 0.02)
        A = _to_model(_observed_cam(L, R, t, cam, ref, rig, use_model_depth=False), R, t)
        ref = A[good].mean(0)

    # 2. semantic coefficients
    raw = semantic_measures(A, names)
    ranges = expression_ranges(raw[good], names)
    C_sem = normalise(raw, ranges)

    # 3. basis
    masks = region_masks(names, topo)
    templates = expression_templates(ref, ranges, names, masks)
    identity, B = regress_basis(A[good], C_sem[good], masks, ridge, names, templates)
    C = C_sem.copy()

    # 4. refinement
    for it in range(iterations):
        S = shapes_from(identity, B, C)
        R, t = _gn_pose(S, obs2, R, t, cam, iters=GN_ITERS)
        A = _to_model(_observed_cam(L, R, t, cam, S, rig, use_model_depth=True), R, t)
        pri = np.array([prior * (STRONG if n in PRIOR_STRONG else 1.0) for n in names])
        solver = _CoeffSolver(B, depth_weight, pri)
        C = solver.solve(A - identity[None], R[:, 2, :], C_sem)
        if it < iterations - 1:
            identity, B = regress_basis(A[good], C[good], masks, ridge, names, templates)
    S = shapes_from(identity, B, C)
    R, t = _gn_pose(S, obs2, R, t, cam, iters=GN_ITERS)

    # errors, gaze
    P = _rotate(R, S) + t[:, None]
    uv = _project_cam(P, cam.focal_px, cam.principal)
    err = np.linalg.norm(uv - obs2, axis=-1)  # (T, 468) px
    iod = _iod_px(L)
    iris = L[:, [IRIS_LEFT, IRIS_RIGHT], :2]
    gaze = gaze_from_iris(iris, identity, R, t, cam)
    pose = np.concatenate([matrix_to_euler(R), t], 1)
    return {
        "camera": cam,
        "identity": identity,
        "basis": B,
        "expression": C,
        "expression_semantic": C_sem,
        "expression_range": ranges,
        "pose": pose,
        "gaze": gaze,
        "projected": uv,
        "error_px": err,
        "iod_px": iod,
        "focal_info": focal_info,
        "inliers": good,
        "seconds": time.perf_counter() - t0,
    }


def fit_track(
    landmarks,
    size,
    fps,
    focal_px=None,
    *,
    presence=None,
    names=EXPRESSION_NAMES,
    actor=0,
    source="",
    source_frames=None,
    smoothing=None,
    smoothing_names=None,
    iterations=1,
):
    """Fit the face model to one actor's tracked landmarks; returns a :class:`Track`.

    landmarks: (T, 478, 3) pixels (x, y, z; z = tracker depth in x's pixel scale), rows with
    NaN = untracked frames (they stay untracked: NaN pose/expression/gaze, confidence 0).
    size: (w, h) of the frames. fps: frame rate. focal_px: the focal length in pixels, or None
    to estimate it (:func:`estimate_focal`). presence: optional (T,) tracker confidence 0..1.
    smoothing / smoothing_names: the tracker's filter parameters, stored for reproducibility.
    """
    from .track import Track

    L = np.asarray(landmarks, np.float64)
    if L.ndim != 3 or L.shape[1:] != (N_LANDMARKS, 3):
        raise ValueError("landmarks must be (T, {}, 3), got {}".format(N_LANDMARKS, L.shape))
    T = len(L)
    tracked = np.isfinite(L.reshape(T, -1)).all(1)
    K = len(names)
    nan = np.nan
    pose = np.full((T, 6), nan)
    expr = np.full((T, K), nan)
    gaze = np.full((T, 4), nan)
    conf = np.zeros(T)
    err_frame = np.full(T, nan)
    if tracked.any():
        r = fit_landmarks(L[tracked], size, focal_px, names, iterations)
        cam = r["camera"]
        pose[tracked] = r["pose"]
        expr[tracked] = r["expression"]
        gaze[tracked] = r["gaze"]
        med = np.median(r["error_px"], axis=1)
        err_frame[tracked] = med
        if presence is None:
            pres = np.ones(int(tracked.sum()))
        else:
            pres = np.clip(np.asarray(presence, np.float64)[tracked], 0, 1)
        pres = np.nan_to_num(pres)
        conf[tracked] = pres * np.exp(-((med / r["iod_px"] / CONFIDENCE_ERROR_SCALE) ** 2))
        identity, basis, ranges = r["identity"], r["basis"], r["expression_range"]
        # a frame the fit could not solve (non-finite result) is marked untracked, never guessed
        failed = tracked & ~(np.isfinite(pose).all(1) & np.isfinite(expr).all(1) & np.isfinite(gaze).all(1))
        if failed.any():
            tracked = tracked & ~failed
            L = L.copy()
            for a in (L, pose, expr, gaze):
                a[failed] = np.nan
            err_frame[failed] = np.nan
            conf[failed] = 0.0
    else:
        cam = Camera.centered(size, focal_px)
        identity = load_topology().mean_shape.copy()
        basis = np.zeros((K, N_VERTS, 3))
        ranges = np.tile([0.0, 1.0], (K, 1))
    blink = np.full((T, 2), nan)
    ni = {n: i for i, n in enumerate(names)}
    if "eyeBlinkLeft" in ni and "eyeBlinkRight" in ni:
        blink = expr[:, [ni["eyeBlinkLeft"], ni["eyeBlinkRight"]]]
    if smoothing is None:
        smoothing, smoothing_names = np.zeros(0), np.array([], dtype="<U1")
    return Track(
        fps=float(fps),
        size=np.array([int(size[0]), int(size[1])], np.int64),
        landmarks=L[:, :, :2].astype(np.float32),
        landmarks_z=L[:, :, 2].astype(np.float32),
        confidence=conf,
        tracked=tracked,
        pose=pose,
        expression=expr,
        expression_names=np.array(list(names)),
        expression_basis=basis,
        expression_range=ranges,
        identity=identity,
        focal_px=float(cam.focal_px),
        principal=np.array(cam.principal, np.float64),
        gaze=gaze,
        blink=blink,
        fit_error=err_frame,
        actor=int(actor),
        source=str(source),
        source_frames=int(T if source_frames is None else source_frames),
        smoothing=np.asarray(smoothing, np.float64),
        smoothing_names=np.asarray(smoothing_names).astype(str),
    )


def synthesize_landmarks(identity, basis, coeffs, pose, camera, gaze=None):
    """Tracker-format landmarks (T, 478, 3) of the model: x, y pixels, z relative depth (px).

    z follows the tracker convention: depth relative to the face, in x's pixel scale
    ((Z - Z_centroid) * f / Z_centroid). Iris points: centres from ``gaze`` (default straight
    ahead) and a ring of 4 points at 0.6 cm around them. Useful for tests and previews.
    """
    T = len(pose)
    gaze = np.zeros((T, 4)) if gaze is None else np.asarray(gaze, np.float64)
    S = shapes_from(identity, basis, coeffs)
    ir = iris_points(identity, gaze)  # (T,2,3): left, right
    ring = np.array([[0.6, 0, 0], [0, 0.6, 0], [-0.6, 0, 0], [0, -0.6, 0]])
    # MediaPipe order: 468 right centre, 469-472 ring, 473 left centre, 474-477 ring
    pts = np.concatenate(
        [S, ir[:, 1:2], ir[:, 1:2] + ring[None], ir[:, 0:1], ir[:, 0:1] + ring[None]], 1
    )
    R = euler_to_matrix(pose[:, :3])
    X = np.einsum("tij,tnj->tni", R, pts) + pose[:, None, 3:]
    uv = _project_cam(X, camera.focal_px, camera.principal)
    zc = X[:, :N_VERTS, 2].mean(1, keepdims=True)
    z = (X[..., 2] - zc) * camera.focal_px / zc
    return np.concatenate([uv, z[..., None]], -1)
