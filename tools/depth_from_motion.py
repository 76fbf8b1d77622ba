# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe (issue 11): is the face model's depth right? Measured from the picture's 2-D motion alone.

The tracker lifts its landmarks into 3-D with the landmark network's relative depth, and a head's
nod is read from how far the nose moves against the cheeks, which that depth sets (docs/
reenact-bench.md, *The tracker's depth as a pitch cue*). A rendered nod cannot say whether the
depth is right, because the render moves the picture with the same model. A real turning head
can: the 2-D tracks of points that move rigidly with the skull (the nose, the eye corners, the
upper cheeks, the forehead) over frames where the head turns determine their 3-D shape up to a
rotation and a scale, whatever their depth was said to be (Tomasi and Kanade's factorization
under weak perspective: the rank-3 fit of the centred tracks, upgraded to a metric shape by
asking each frame's projection to be a scaled rotation). The shape found is matched to the
Track's fitted mean face (``Track.identity``) at every depth scale ``d`` (0.4-1.6, the face's
depth times ``d``, either handedness) and the best ``d`` reported: 1 means the model's depth is
what the motion says; over 1, the model is too shallow; under 1, too deep. Each clip also on
six random halves of its frames (the spread says how well its motion pins it), and the rank-3
fit's residual (its fourth singular value over its third: the larger, the less rigid or the less
turning the points are, and the less the figure means). Weak perspective is itself biased by the
head's distance and turns, so the model's own points moved as the Track says the head moved
(:func:`model_motion`: the tracks a model with exactly the right depth would give) are put through
the same measure, and the clip's figure divided by theirs ("corrected").

    python tools/depth_from_motion.py TRACK.npz [TRACK.npz ...]
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: mesh points that move with the skull: the nose, the eye corners, the upper cheeks, the forehead
#: (not the lids, brows, lips, jaw or the outline, which slides along the face's edge as it turns)
RIGID = (1, 4, 5, 195, 197, 6, 168, 98, 327, 129, 358, 64, 294, 33, 133, 362, 263, 50, 280, 101, 330, 116, 345,
         118, 347, 205, 425, 10, 151, 9, 108, 337, 67, 297)
DEPTHS = np.linspace(0.4, 1.6, 121)


def factorize(tracks):
    """(shape (3, N), residual) of 2-D point tracks (F, N, 2) under weak perspective, or (None,
    residual) where no metric shape fits (the motion is too small or not rigid)."""
    F = len(tracks)
    centred = tracks - tracks.mean(1, keepdims=True)
    W = np.concatenate([centred[..., 0], centred[..., 1]], 0)  # (2F, N): the u rows, then the v rows
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    M, S = U[:, :3] * np.sqrt(s[:3]), np.sqrt(s[:3])[:, None] * Vt[:3]
    residual = float(s[3] / s[2])
    a, b = M[:F], M[F:]

    def sym(x, y):  # x^T L y as a row over L's six entries
        return np.stack([x[:, 0] * y[:, 0], x[:, 0] * y[:, 1] + x[:, 1] * y[:, 0], x[:, 0] * y[:, 2] + x[:, 2] * y[:, 0],
                         x[:, 1] * y[:, 1], x[:, 1] * y[:, 2] + x[:, 2] * y[:, 1], x[:, 2] * y[:, 2]], 1)

    A = np.vstack([sym(a, a) - sym(b, b), sym(a, b), sym(a, a).mean(0, keepdims=True)])
    rhs = np.zeros(len(A))
    rhs[-1] = 1.0
    q = np.linalg.lstsq(A, rhs, rcond=None)[0]
    L = np.array([[q[0], q[1], q[2]], [q[1], q[3], q[4]], [q[2], q[4], q[5]]])
    w, V = np.linalg.eigh(L)
    if (w <= 0).any():
        return None, residual
    return np.linalg.inv(V @ np.diag(np.sqrt(w))) @ S, residual


def depth_scale(shape, model):
    """(the depth scale d that best matches ``shape`` (3, N) to ``model`` (N, 3) with its depth
    times d, by a similarity of either handedness; the relative error there)."""
    S = (shape - shape.mean(1, keepdims=True)).T
    X = model - model.mean(0)
    best = (np.inf, np.nan)
    for hand in (1.0, -1.0):
        Sm = S * np.array([1.0, 1.0, hand])
        for d in DEPTHS:
            Xd = X * np.array([1.0, 1.0, d])
            U, sv, Vt = np.linalg.svd(Xd.T @ Sm)
            D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
            R = U @ D @ Vt
            scale = np.trace(np.diag(sv) @ D) / (Sm ** 2).sum()
            err = np.linalg.norm(scale * Sm @ R.T - Xd) / np.linalg.norm(Xd)
            best = min(best, (float(err), float(d)))
    return best[1], best[0]


def model_motion(track, rows, model):
    """The model's points (N, 3) moved and projected as ``track`` says its head moved on ``rows``
    (full perspective, its camera; 0.3 px of noise): the tracks a depth-perfect model gives, to
    take the factorization's own bias (weak perspective) out of the figure."""
    from reenact.face.camera import euler_to_matrix

    out = []
    for r in rows:
        cam = model @ euler_to_matrix(track.pose[r, :3]).T + track.pose[r, 3:]
        out.append(track.focal_px * cam[:, :2] / cam[:, 2:3] + np.asarray(track.principal, np.float64))
    return np.array(out) + np.random.default_rng(0).normal(0.0, 0.3, (len(rows), len(model), 2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tracks", nargs="+", metavar="TRACK.npz")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(ROOT))
    from reenact.face.track import Track

    print("| Track | frames | turn, p5-p95 (pitch / yaw) | rank-3 residual | depth the motion asks / the model's | "
          "on six halves of the frames | the model's own motion reads | corrected |")
    print("|---|---|---|---|---|---|---|---|")
    for path in a.tracks:
        t = Track.load(path)
        rows = np.flatnonzero(t.tracked)
        pts = np.asarray(t.landmarks, np.float64)[rows][:, list(RIGID), :2]
        angles = np.degrees(np.unwrap(np.asarray(t.pose, np.float64)[rows, :2], axis=0))
        turn = np.percentile(angles, 95, 0) - np.percentile(angles, 5, 0)
        model = np.asarray(t.identity, np.float64)[list(RIGID)]
        shape, residual = factorize(pts)
        d = depth_scale(shape, model)[0] if shape is not None else float("nan")
        halves = []
        for seed in range(6):
            pick = np.sort(np.random.default_rng(seed).choice(len(rows), len(rows) // 2, replace=False))
            s2, _ = factorize(pts[pick])
            halves.append(depth_scale(s2, model)[0] if s2 is not None else float("nan"))
        s0, _ = factorize(model_motion(t, rows, model))
        bias = depth_scale(s0, model)[0] if s0 is not None else float("nan")
        with np.errstate(all="ignore"):
            lo, hi = (np.nanmin(halves), np.nanmax(halves)) if np.isfinite(halves).any() else (np.nan, np.nan)
        print("| {} | {} | {:.1f}° / {:.1f}° | {:.2f} | {:.2f} | {:.2f}-{:.2f} | {:.2f} | **{:.2f}** |".format(
            os.path.basename(path), len(rows), turn[0], turn[1], residual, d, lo, hi, bias, d / bias))
    return 0


if __name__ == "__main__":
    sys.exit(main())
