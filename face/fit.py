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
   perspective reprojection of the rigid points refines it. Every pose fit leaves out the eye
   and brow regions (:data:`POSE_EXCLUDE`), whose points move with the lids. The landmarks are
   un-projected to 3-D (x, y along the camera rays, depth from the tracker's z) and brought into
   the model frame: the pose-normalised shapes ``A`` (T, 468, 3). Their mean is the actor's rigid reference and the
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
   ``identity + c @ basis`` (the points outside :data:`POSE_EXCLUDE`, full perspective), then the
   coefficients by bounded (0..1) least squares of the landmarks (x, y along the camera rays;
   the tracker's depth weighted by ``DEPTH_WEIGHT``) with a prior ``PRIOR * |c - c_semantic|^2`` (``STRONG`` times
   that for jawOpen and the blinks), then the basis is re-regressed on the refined
   coefficients. Every step is batched over frames (matmul / batched solves); the coefficient
   normal matrices are built in O(K^2) per frame from 9 precomputed K x K blocks.

Memory: the clip is fitted :data:`CHUNK` frames at a time in a few passes (rigid pose, the
rigid reference, measures, basis, refinement, final pose). Across passes only small per-frame
arrays are kept (pose, coefficients, measures, errors); ``A`` and every dense intermediate is
made for one chunk and dropped, the per-actor means and the basis regression are accumulated
over chunks (:class:`~.basis.BasisMoments`). Every fitted frame still counts in the per-actor
estimates; the chunk size changes results only through the order of floating-point sums
(tests/test_track_memory.py).
5. Gaze from the iris centres (:func:`gaze_from_iris`), blinks = eyeBlink coefficients,
   confidence = tracker presence x exp(-(median reprojection error / IOD / 0.03)^2).

Measured on carphone and the shared clips (MediaPipe-style landmarks): median reprojection error
0.3-0.6 % of the inter-ocular distance (mouth included), jawOpen vs lip gap r >= 0.99, eyeBlink
vs eye aspect ratio r <= -0.96, about 0.6-1 ms per frame on one core.
"""

import time
from dataclasses import dataclass

import numpy as np

from .basis import RIDGE, BasisMoments, expression_templates, region_masks
from .camera import (
    Camera,
    DEFAULT_FOCAL_MM,
    euler_to_matrix,
    focal_mm_to_px,
    matrix_to_euler,
    project_points,
    rodrigues,
    rotate,
    shapes_from,
)
from .expressions import EXPRESSION_NAMES
from .gaze import gaze_from_iris, iris_points
from .geometry import iod_px, similarity_batch
from .measures import expression_ranges, normalise, semantic_measures
from .topology import IRIS_LEFT, IRIS_RIGHT, N_LANDMARKS, N_VERTS, load_topology
from .track import Track



#: weight of the tracker's depth (z) against x, y in the coefficient solve
DEPTH_WEIGHT = 0.15
#: weight of the prior toward the semantic coefficient values (in cm^2 units); the coefficients
#: that are measured directly (jawOpen: lip gap, eyeBlink: eyelid gap) are held STRONG x tighter
PRIOR = 10.0
STRONG = 30.0
PRIOR_STRONG = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight")
#: reprojection error (fraction of the inter-ocular distance) at which confidence is exp(-1)
CONFIDENCE_ERROR_SCALE = 0.03
#: landmark groups left out of every head pose fit (rigid stage and refinement): the points the
#: lids and brows move. The tracker moves them, and neighbours of them, further than the expression
#: basis explains when the lids move, so a pose fitted to them nods with every blink
#: (docs/tracking.md, *The head fit and the lids*); the pose comes from the nose, cheeks, mouth,
#: jaw and outline, the expressions are still fitted to all 468 points
POSE_EXCLUDE = ("region_eye_left", "region_eye_right", "region_brow_left", "region_brow_right")
#: Gauss-Newton pose iterations per refinement round
GN_ITERS = 1
#: frames processed at once (bounds memory on long clips: the fit keeps only small per-frame
#: arrays for the whole clip and makes its dense intermediates a chunk at a time)
CHUNK = 256


# ----------------------------------------------------------------------------- camera


# ----------------------------------------------------------------------------- rotations


# ----------------------------------------------------------------------------- projection


# ----------------------------------------------------------------------------- rigid tools


def _weak_init(obs, ref, idx, cam):
    """Pose (R, t) per frame from a similarity fit of ref[idx] to (u-cx, v-cy, z) pixels."""
    O = obs[:, idx, :3].copy()
    O[..., 0] -= cam.principal[0]
    O[..., 1] -= cam.principal[1]
    s, R, tr = similarity_batch(ref[idx], O)
    # depth of the rigid-point centroid from the scale (px per cm) and focal length
    cen = ref[idx].mean(0)
    zc = cam.focal_px / s
    ucen = np.einsum("tij,j->ti", R, cen) * s[:, None] + tr  # centroid in O space
    Xc = np.stack([ucen[:, 0] * zc / cam.focal_px, ucen[:, 1] * zc / cam.focal_px, zc], 1)
    t = Xc - np.einsum("tij,j->ti", R, cen)
    return R, t


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
            Y = rotate(Rs, S)
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
    Xm = rotate(R, shape) + t[:, None]
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


# ----------------------------------------------------------------------------- basis


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


# ----------------------------------------------------------------------------- focal
def _rigid_error(obs, cam, ref, rig, iters=3):
    """Median rigid-point reprojection error (px) after fitting ``ref`` as a rigid face."""
    R, t = _weak_init(obs, ref, rig, cam)
    R, t = _gn_pose(ref[rig], obs[:, rig, :2], R, t, cam, iters=iters)
    X = _observed_cam(obs, R, t, cam, ref, rig, use_model_depth=False)
    A = _to_model(X, R, t)
    ident = A.mean(0)
    R, t = _gn_pose(ident[rig], obs[:, rig, :2], R, t, cam, iters=iters)
    P = rotate(R, ident[rig]) + t[:, None]
    err = np.linalg.norm(project_points(P, cam.focal_px, cam.principal) - obs[:, rig, :2], axis=-1)
    return float(np.mean(err))


def estimate_focal(landmarks, size, n_frames=24, grid=None, flat_tolerance=0.01, rows=None):
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
    plausible but unverified. Give the focal length when you know it. ``rows``: the frames to
    sample from (default: those without NaN).
    """
    L = landmarks if isinstance(landmarks, np.ndarray) else np.asarray(landmarks, np.float64)
    rows = np.flatnonzero(finite_rows(L)) if rows is None else np.asarray(rows)
    w = float(size[0])
    default = focal_mm_to_px(DEFAULT_FOCAL_MM, w)
    info = {"grid": [], "cost": [], "flat": True, "default": default}
    if len(rows) < 3:
        return default, info
    sel = np.unique(np.linspace(0, len(rows) - 1, min(n_frames, len(rows))).round().astype(int))
    obs = np.asarray(L[rows[sel]], np.float64)
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


@dataclass
class FitResult:
    """What :func:`fit_landmarks` finds on the tracked frames (F of them)."""

    camera: Camera
    identity: np.ndarray  # (468, 3) cm
    basis: np.ndarray  # (K, 468, 3) cm
    expression: np.ndarray  # (F, K) 0..1, refined
    expression_semantic: np.ndarray  # (F, K) 0..1, from the measures alone
    expression_range: np.ndarray  # (K, 2)
    pose: np.ndarray  # (F, 6)
    gaze: np.ndarray  # (F, 4)
    error_px: np.ndarray  # (F,) median reprojection error of the 468 points
    iod_px: np.ndarray  # (F,)
    focal_info: dict
    inliers: np.ndarray  # (F,) bool: frames used for the per-actor estimates
    seconds: float


def finite_rows(x, chunk=4096):
    """(T,) bool: the rows of ``x`` (T, ...) without NaN or inf, a chunk of rows at a time (no
    whole-clip temporary)."""
    T = len(x)
    out = np.empty(T, bool)
    for a in range(0, T, chunk):
        out[a : a + chunk] = np.isfinite(x[a : a + chunk]).reshape(min(chunk, T - a), -1).all(axis=1)
    return out


def _mean_pass(chunks, shape_of, use):
    """Mean over the frames in ``use`` of the (n, 468, 3) shapes ``shape_of(a, b)`` gives."""
    acc, n = np.zeros((N_VERTS, 3)), 0
    for a, b in chunks:
        u = use[a:b]
        if u.any():
            acc += shape_of(a, b)[u].sum(0)
            n += int(u.sum())
    return acc / n


def _regress_pass(chunks, shape_of, C, use, Y0, masks, ridge, names, templates):
    """Staged basis regression (:class:`BasisMoments`) of the shapes on ``C`` over ``use``."""
    m = BasisMoments(C[use], Y0)
    for a, b in chunks:
        m.add(shape_of(a, b), C[a:b], use[a:b])
    return m.regress(masks, ridge, names, templates)


def fit_landmarks(
    landmarks,
    size,
    focal_px=None,
    names=EXPRESSION_NAMES,
    iterations=1,
    prior=PRIOR,
    depth_weight=DEPTH_WEIGHT,
    ridge=RIDGE,
    *,
    rows=None,
    chunk=None,
    pose_exclude=None,
):
    """The fit on tracked frames only; returns a :class:`FitResult` (see :func:`fit_track`).

    ``landmarks``: (T, 478, 3) pixels (float32 or float64); ``rows``: the frames to fit
    (default all; none of them may hold NaN). The per-actor estimates (rigid reference,
    expression ranges, identity and basis) use every fitted frame; the clip is read ``chunk``
    frames at a time (default :data:`CHUNK`) in a few passes, so memory beyond the input is a
    few small arrays per frame (pose, coefficients, measures) plus one chunk's dense
    intermediates, whatever the clip's length. The result does not depend on ``chunk`` beyond
    the order of floating-point sums.
    """
    t0 = time.perf_counter()
    L_all = landmarks if isinstance(landmarks, np.ndarray) else np.asarray(landmarks, np.float64)
    rows = np.arange(len(L_all)) if rows is None else np.asarray(rows)
    T = len(rows)
    chunk = max(1, int(CHUNK if chunk is None else chunk))
    chunks = [(a, min(T, a + chunk)) for a in range(0, T, chunk)]

    def obs(a, b):
        return np.asarray(L_all[rows[a:b]], np.float64)

    topo = load_topology()
    rig = topo.groups["rigid"]
    exclude = POSE_EXCLUDE if pose_exclude is None else pose_exclude
    held = np.concatenate([topo.groups[g] for g in exclude] + [np.zeros(0, np.int32)])
    posed = np.setdiff1d(np.arange(N_VERTS), held)  # the points a head pose is fitted to
    rig_pose = np.setdiff1d(rig, held)
    focal_info = None
    if focal_px is None:
        focal_px, focal_info = estimate_focal(L_all, size, rows=rows)
    cam = Camera.centered(size, focal_px)
    f, c = cam.focal_px, cam.principal
    R, t = np.empty((T, 3, 3)), np.empty((T, 3))

    # 1. rigid stage (twice: template, then the actor's own rigid mean). Frames whose rigid
    # points fit far worse than the clip's median (tracker failures) are left out of
    # everything estimated per actor (identity, ranges, basis), but still fitted.
    ref0 = topo.mean_shape
    e, iod = np.empty(T), np.empty(T)
    for a, b in chunks:
        L = obs(a, b)
        o2 = L[:, :N_VERTS, :2][:, rig_pose]
        Ra, ta = _weak_init(L, ref0, rig_pose, cam)
        Ra, ta = _gn_pose(ref0[rig_pose], o2, Ra, ta, cam, iters=3)
        P = rotate(Ra, ref0[rig_pose]) + ta[:, None]
        iod[a:b] = iod_px(L)
        e[a:b] = np.median(np.linalg.norm(project_points(P, f, c) - o2, axis=-1), 1) / np.maximum(iod[a:b], 1e-9)
        R[a:b], t[a:b] = Ra, ta
    good = e <= max(4.0 * np.median(e), 0.02)

    def shapes(a, b, S, model_depth, L=None):
        """Pose-normalised shapes A of frames a..b-1: landmarks un-projected with the current
        pose and shape S (a mean shape, or per-frame shapes), into the model frame."""
        L = obs(a, b) if L is None else L
        return _to_model(_observed_cam(L, R[a:b], t[a:b], cam, S, rig, model_depth), R[a:b], t[a:b])

    ref1 = _mean_pass(chunks, lambda a, b: shapes(a, b, ref0, False), good)
    raw = np.empty((T, len(names)))
    acc, n = np.zeros((N_VERTS, 3)), 0
    for a, b in chunks:
        L = obs(a, b)
        R[a:b], t[a:b] = _gn_pose(ref1[rig_pose], L[:, rig_pose, :2], R[a:b], t[a:b], cam, iters=3)
        A = shapes(a, b, ref1, False, L)
        u = good[a:b]
        if u.any():
            acc += A[u].sum(0)
            n += int(u.sum())
        raw[a:b] = semantic_measures(A, names)
    ref = acc / n

    # 2. semantic coefficients
    ranges = expression_ranges(raw[good], names)
    C_sem = normalise(raw, ranges)
    del raw

    # 3. basis
    masks = region_masks(names, topo)
    templates = expression_templates(ref, ranges, names, masks)
    identity, B = _regress_pass(chunks, lambda a, b: shapes(a, b, ref1, False), C_sem, good, ref, masks, ridge,
                                names, templates)
    C = C_sem.copy()

    # 4. refinement
    pri = np.array([prior * (STRONG if n in PRIOR_STRONG else 1.0) for n in names])
    for it in range(iterations):
        solver = _CoeffSolver(B, depth_weight, pri)
        # the last round updates C in place (each chunk's rows are read before written)
        C_new = C if it == iterations - 1 else np.empty_like(C)

        for a, b in chunks:
            L, S = obs(a, b), shapes_from(identity, B, C[a:b])
            R[a:b], t[a:b] = _gn_pose(S[:, posed], L[:, posed, :2], R[a:b], t[a:b], cam, iters=GN_ITERS)
            A = shapes(a, b, S, True, L)
            C_new[a:b] = solver.solve(A - identity[None], R[a:b, 2, :], C_sem[a:b])
        if it < iterations - 1:  # the basis again, on this round's shapes and coefficients

            def refined(a, b, ident=identity, basis=B, coeffs=C):
                return shapes(a, b, shapes_from(ident, basis, coeffs[a:b]), True)

            identity, B = _regress_pass(chunks, refined, C_new, good, ref, masks, ridge, names, templates)
        C = C_new

    # final pose, errors, gaze
    err = np.empty(T)
    gaze = np.empty((T, 4))
    for a, b in chunks:
        L = obs(a, b)
        o2 = L[:, :N_VERTS, :2]
        S = shapes_from(identity, B, C[a:b])
        R[a:b], t[a:b] = _gn_pose(S[:, posed], o2[:, posed], R[a:b], t[a:b], cam, iters=GN_ITERS)
        P = rotate(R[a:b], S) + t[a:b, None]
        err[a:b] = np.median(np.linalg.norm(project_points(P, f, c) - o2, axis=-1), axis=1)
        gaze[a:b] = gaze_from_iris(L[:, [IRIS_LEFT, IRIS_RIGHT], :2], identity, R[a:b], t[a:b], cam)
    pose = np.concatenate([matrix_to_euler(R), t], 1)
    return FitResult(camera=cam, identity=identity, basis=B, expression=C, expression_semantic=C_sem,
                     expression_range=ranges, pose=pose, gaze=gaze, error_px=err, iod_px=iod,
                     focal_info=focal_info, inliers=good, seconds=time.perf_counter() - t0)


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
    chunk=None,
    adopt_landmarks=False,
    pose_exclude=None,
):
    """Fit the face model to one actor's tracked landmarks; returns a :class:`Track`.

    landmarks: (T, 478, 3) pixels (x, y, z; z = tracker depth in x's pixel scale), rows with
    NaN = untracked frames (they stay untracked: NaN pose/expression/gaze, confidence 0).
    size: (w, h) of the frames. fps: frame rate. focal_px: the focal length in pixels, or None
    to estimate it (:func:`estimate_focal`). presence: optional (T,) tracker confidence 0..1.
    smoothing / smoothing_names: the tracker's filter parameters, stored for reproducibility.
    chunk: frames fitted at once (default :data:`CHUNK`; :func:`fit_landmarks`): memory does not
    grow with the clip beyond the landmarks themselves and small per-frame arrays.
    adopt_landmarks: the Track keeps views of ``landmarks`` (float32) instead of copies; for a
    caller that hands its array over (the tracker), so a long clip's landmarks are in memory
    once. pose_exclude: landmark groups left out of the head pose fits (default
    :data:`POSE_EXCLUDE`; ``()``: every point, the fit before 2026-12-01).
    """
    L = landmarks if isinstance(landmarks, np.ndarray) else np.asarray(landmarks, np.float64)
    if L.ndim != 3 or L.shape[1:] != (N_LANDMARKS, 3):
        raise ValueError("landmarks must be (T, {}, 3), got {}".format(N_LANDMARKS, L.shape))
    T = len(L)
    tracked = finite_rows(L)
    r = fit_landmarks(L, size, focal_px, names, iterations, rows=np.flatnonzero(tracked), chunk=chunk,
                      pose_exclude=pose_exclude) \
        if tracked.any() else None
    K = len(names)
    nan = np.nan
    pose = np.full((T, 6), nan)
    expr = np.full((T, K), nan)
    gaze = np.full((T, 4), nan)
    conf = np.zeros(T)
    err_frame = np.full(T, nan)
    failed = np.zeros(T, bool)
    if r is not None:
        cam = r.camera
        pose[tracked] = r.pose
        expr[tracked] = r.expression
        gaze[tracked] = r.gaze
        med = r.error_px
        err_frame[tracked] = med
        if presence is None:
            pres = np.ones(int(tracked.sum()))
        else:
            pres = np.clip(np.asarray(presence, np.float64)[tracked], 0, 1)
        pres = np.nan_to_num(pres)
        conf[tracked] = pres * np.exp(-((med / r.iod_px / CONFIDENCE_ERROR_SCALE) ** 2))
        identity, basis, ranges = r.identity, r.basis, r.expression_range
        # a frame the fit could not solve (non-finite result) is marked untracked, never guessed
        failed = tracked & ~(np.isfinite(pose).all(1) & np.isfinite(expr).all(1) & np.isfinite(gaze).all(1))
        if failed.any():
            tracked = tracked & ~failed
            for a in (pose, expr, gaze):
                a[failed] = np.nan
            err_frame[failed] = np.nan
            conf[failed] = 0.0
    else:
        cam = Camera.centered(size, focal_px)
        identity = load_topology().mean_shape.copy()
        basis = np.zeros((K, N_VERTS, 3))
        ranges = np.tile([0.0, 1.0], (K, 1))
    # the Track's copy of the landmarks, made after the fit so it does not add to the fit's peak
    if adopt_landmarks and L.dtype == np.float32:
        xy, z = L[:, :, :2], L[:, :, 2]
    else:
        xy, z = L[:, :, :2].astype(np.float32), L[:, :, 2].astype(np.float32)
    xy[failed], z[failed] = nan, nan
    blink = np.full((T, 2), nan)
    ni = {n: i for i, n in enumerate(names)}
    if "eyeBlinkLeft" in ni and "eyeBlinkRight" in ni:
        blink = expr[:, [ni["eyeBlinkLeft"], ni["eyeBlinkRight"]]]
    if smoothing is None:
        smoothing, smoothing_names = np.zeros(0), np.array([], dtype="<U1")
    return Track(
        fps=float(fps),
        size=np.array([int(size[0]), int(size[1])], np.int64),
        landmarks=xy,
        landmarks_z=z,
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
    uv = project_points(X, camera.focal_px, camera.principal)
    zc = X[:, :N_VERTS, 2].mean(1, keepdims=True)
    z = (X[..., 2] - zc) * camera.focal_px / zc
    return np.concatenate([uv, z[..., None]], -1)
