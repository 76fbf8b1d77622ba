# SPDX-License-Identifier: GPL-3.0-or-later
"""The brows and lower forehead of a moved head (full reenactment) from the footage frame
nearest in brows.

:class:`~.shothead.ShotHead` draws each row's head from the footage frame nearest in head pose
(and, weighed less, in expression as a whole), then its eyes and its mouth from frames of their
own. The brows were the head frame's: a warp moves brows up or down, but the wrinkles of a frown
or of raised brows stay those of the moment the head came from. d12 -> d3 frame 56: the driver
smiles with raised brows, and the result frowned with knotted inner brows, because d3 turned
that far only while frowning (docs/reenact-bench.md, *A frown for level brows*). Choosing the
whole head's frame by its brows traded head pose for brows and hurt another pair; here the brows
have their own source, as the mouth and the eyes do: per row the footage frame whose brow region
(the mesh's brow vertices and the forehead just above them, pose removed, in the actor's model
frame) is nearest the requested one, with a pose term and runs kept (the same dynamic programme
as the mouth's), warped by the fitted meshes to the requested points and feathered into the
moved head. Rows whose brows the head's own frame draws about as well keep it (:data:`BROW_KEEP`).
"""

import numpy as np

from ..face.camera import euler_to_matrix, rotation_angle_deg
from ..face.topology import load_topology
from .shotframes import CANDIDATES, _runs, model_vertices, other_shot, padded_box, replace_region

#: cost (cm of brow distance) per degree of head turn between the footage frame and the request
BROW_POSE_COST = 0.01
#: cost of leaving a run of consecutive footage frames (cm)
BROW_SWITCH_COST = 0.1
#: ... and of drawing the next row's brows from the same frame again (as the mouth's HOLD_COST:
#: brows held still cycled through a few frames and jumped back; at 0.01 the held-out faces of
#: bench case 3 on d14 lost 0.1 dB, held brows where the asked ones moved a little)
BROW_HOLD_COST = 0.005
#: the head's own frame is kept for the brows unless another frame's are nearer by this much
#: (cm, RMS over the brow region): no second source, no seam, for a change nobody would see
BROW_KEEP = 0.05
#: the brow region reaches this far above the brows (cm, model frame) ...
ABOVE_BROWS = 1.5
#: ... and down to this far above the top of the eye openings (the eyes are drawn from their own
#: frame over the lids; their region is 1.6 times the opening)
ABOVE_EYES = 0.3
#: feather of the region's edge (fraction of the face height)
BROW_FEATHER = 0.05
#: the warp's displacement smoothed by this fraction of the face height (as the shot's mouth)
BROW_SMOOTH = 0.01

_AREA = None


def brow_area():
    """(M,) mesh vertices of the brow region: the topology's brow regions between
    :data:`ABOVE_EYES` over the eye openings and :data:`ABOVE_BROWS` over the upper brow row."""
    global _AREA
    if _AREA is None:
        topo = load_topology()
        g, y = topo.groups, topo.mean_shape[:, 1]
        area = np.union1d(g["region_brow_left"], g["region_brow_right"])
        eye_top = y[np.r_[g["loop_eye_left"], g["loop_eye_right"]]].max()
        brow_top = y[np.r_[g["brow_left"], g["brow_right"]]].max()
        _AREA = area[(y[area] > eye_top + ABOVE_EYES) & (y[area] < brow_top + ABOVE_BROWS)].astype(np.int64)
    return _AREA


def brow_shapes(track, rows):
    """(R, M, 3) model-frame positions (cm, no pose) of :func:`brow_area` of ``track``'s fitted
    mesh at ``rows``; NaN where untracked."""
    X, bad = model_vertices(track, rows, brow_area())  # (only these vertices: see rewrite.mouth_shapes)
    X[bad] = np.nan
    return X


def plan_brows(own, requested, rows, head, pool=None, candidates=CANDIDATES):
    """(len(rows),) footage rows of ``own`` whose brows draw the moved head's brows at the
    ``requested`` ``rows`` (the head there drawn from footage rows ``head``, (len(rows),), -1
    none): the head's own row where no other frame's brows are nearer by :data:`BROW_KEEP`, and
    -1 where the head has no source. ``pool``: the footage rows allowed."""
    rows = np.asarray(rows, np.int64)
    head = np.asarray(head, np.int64)
    out = head.copy()
    ok = np.asarray(own.tracked, bool) & np.isfinite(np.asarray(own.pose, np.float64)).all(1)
    pool = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
    if not len(pool) or not len(rows):
        return out
    M = len(brow_area())
    F = brow_shapes(own, pool).reshape(len(pool), -1)
    Q = brow_shapes(requested, rows).reshape(len(rows), -1)
    where = {int(j): i for i, j in enumerate(pool)}
    R_pool = euler_to_matrix(np.asarray(own.pose, np.float64)[pool, :3])
    R_req = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[rows, :3]))
    K = min(int(candidates), len(pool))
    shots = own.shots()
    cand, cost = [], []
    for k in range(len(rows)):
        h = where.get(int(head[k]), -1)
        if h < 0 or not np.isfinite(Q[k]).all():
            cand.append(None)
            cost.append(None)
            continue
        d = np.sqrt(((F - Q[k]) ** 2).sum(1) / M)
        c = d + BROW_POSE_COST * rotation_angle_deg(R_pool, R_req[k][None]) + other_shot(shots, pool, rows[k], own)
        c[h] -= BROW_KEEP  # the head's own brows, unless another frame's are clearly nearer
        idx = np.argpartition(c, K - 1)[:K]
        if h not in idx:
            idx = np.concatenate([idx, [h]])
        cand.append(pool[idx])
        cost.append(np.stack([c[idx], d[idx]], 1))
    chosen = _runs(rows, cand, cost, BROW_SWITCH_COST, np.full(len(rows), -1, np.int64), np.full(len(rows), np.nan),
                   BROW_HOLD_COST)[0]
    return np.where(chosen >= 0, chosen, out)


def brows_from(shot, source_of, head_of, r, frame, pd, zd):
    """``frame`` (the head moved to the requested points ``pd``, depths ``zd``) with the brow
    region of performance row ``r`` drawn from footage row ``source_of(r)`` of ``shot`` (a
    :class:`~.shotframes.ShotFrames`), blended with the sources of the rows beside it (1/4, 1/2,
    1/4) where the source changes, all warped to ``pd`` (inside a run of consecutive source frames
    the row's own source alone). Unchanged where the three rows' brows come from their heads' own
    frames (``head_of(k)``), which drew them already."""
    j = source_of(r)
    if j is None or not (np.isfinite(pd).all() and np.isfinite(shot.ps[j]).all()):
        return frame
    near = [(k, w, j if k == r else source_of(k)) for k, w in ((r - 1, 0.25), (r, 0.5), (r + 1, 0.25))]
    near = [(k, w, jk) for k, w, jk in near
            if jk is not None and np.isfinite(shot.ps[jk]).all() and shot.same_shot(jk, j)]  # (not across a cut)
    if all(jk == head_of(k) for k, _, jk in near):
        return frame
    if all(jk == j + (k - r) for k, _, jk in near):  # inside a run: the neighbours are the frames
        near = [(r, 1.0, j)]  # beside j, whose brows are j's; the blend only hides a change of source
    face_h = float(np.ptp(pd[:, 1]))
    hull = pd[brow_area()]
    box = padded_box(hull, int(np.ceil(3 * BROW_FEATHER * face_h)) + 2, frame.shape, shot.area)
    if box is None:
        return frame
    src, wsum = 0.0, 0.0
    for k, w, jk in near:
        src = src + w * shot.warped(jk, pd, zd, box, smooth=BROW_SMOOTH * face_h)
        wsum += w
    return replace_region(frame, src / wsum, box, hull, BROW_FEATHER * face_h)
