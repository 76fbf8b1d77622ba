# SPDX-License-Identifier: GPL-3.0-or-later
"""Eyes from the shot's own frames: the footage frame nearest in lids and gaze, each eye moved onto
the requested one by its own affine map (:func:`eyes_from`). For a moved head (:func:`plan_eyes`,
used by :class:`~reenact.render.shothead.ShotHead`) and for an edit of the gaze that keeps the head
(:class:`ShotEyes`, region ``face``): the mesh warp of a frame cannot turn its eyeball. A key of
the gaze alone carries the frame's eyes by the head's motion instead (:func:`head_maps`), so the
iris stays where that frame's head has it, and then moves its irises the rest of the way to the
key (:func:`rest_of_turn`, :meth:`ShotEyes.draw`, :mod:`.irises`)."""

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, posed_vertices, project_points, rotation_angle_deg
from ..face.transfer import gaze_through_blinks
from .donor import _poly_mask
from .shotframes import CANDIDATES, POSE_COST, ShotFrames, _runs, model_vertices, other_shot


#: the eyes of a moved head (:func:`plan_eyes`): cost (cm) per radian of gaze difference (the iris
#: sits on a 1.25 cm sphere; counted twice: the eye goes wherever the iris is)
GAZE_COST = 2.5
#: ... and for an edit of the gaze that keeps the head (:class:`ShotEyes`), where the gaze is the
#: point: at 2.5 the lids' shape outweighed a 0.3 rad edit on driving_d3 (re-tracked gaze error
#: 16.4 degrees for 17.2 asked), at 12 it follows (9.2; d10 7.8, d14 7.1; 20 no better)
EDIT_GAZE_COST = 12.0
#: ... where the nearest footage gaze is further than this (radians, both eyes' L2) from the
#: asked one, the row keeps its own eyes and their irises are moved (:mod:`.irises`; before
#: 2026-12-01 the renderer drew it, and hardly moved the eyes)
EDIT_GAZE_REACH = 0.25
#: ... and where it would bring the gaze less than this fraction of the way from the footage's to
#: the asked one (its distance to the key over more than 1 - this of the footage's), the frame's
#: own irises are moved instead (:mod:`.irises`): a 0.2 rad key up or down took frames looking
#: hardly further, and the eyes did not move (re-tracked 10.3-11.4 degrees of 11.5)
EDIT_GAZE_GAIN = 0.5
#: ... and a key that moves the gaze more up or down than sideways (pitch over yaw, both eyes)
#: moves the frame's own irises, the lids following, even where an iris's centre goes under a
#: lid: a frame of the shot that looks up or down has its lids raised or lowered with the look,
#: and fitted onto the row's lids (a gaze key keeps them) it gives back part of the move.
#: Measured 2026-12-01 on clips the rule was not chosen on (d10, d11, s32, d3; up and down, 0.2
#: rad): the moved irises read nearer in the footage's head in all four (1.3-5.1 against 1.9-8.3
#: degrees), and on the four it was chosen on (docs/reenact-bench.md, *Looks up and down*)
EDIT_GAZE_VERTICAL_IRISES = True
#: ... and rows whose gaze differs from the footage's by less than this (radians) keep their own
#: eyes (an edit of the brows: the mesh warp of the frame itself moves them), unless the lids do:
EDIT_GAZE_MIN = 0.03
#: ... or whose lids (mean opening, :func:`eye_shapes`) differ from the footage's by less than
#: this (cm; open eyes measure about 1 cm on the shared clips, a blink 0.25-0.3): a blink key
#: warped the open eye shut and crushed its iris into a smear; the footage's own blink is a lid.
#: A gaze key takes its eyes only from frames whose lids are open within this of the asked ones:
#: the gaze weight chose driving_d10's startled, wide-open eyes (1.37 cm for 0.83) for a look aside
EDIT_LIDS_MIN = 0.15
#: ... weighing the lids' opening this much per cm (the loops' shape alone chose open eyes
#: looking the same way over the footage's own blinks)
EDIT_LIDS_COST = 5.0
#: ... where the nearest footage lids are further than this (cm) from the asked ones, the row's
#: own lids close over its eyes where the key closes them (:mod:`.lids`; before 2026-12-01 the
#: mesh warp squeezed the eyes shut), else its eyes are warped
EDIT_LIDS_REACH = 0.15
#: ... and where a key closes the lids, a footage frame whose lids keep more than this share
#: (between the row's open lids and shut) beyond what the key keeps: source_s29's only blinks
#: close 85 % of the way (0.44 cm for a shut key's 0.35, within the reach above) and drew a
#: half-closed, downcast eye for a blink (re-tracked 0.51 cm); its own lids slid shut read 0.40
EDIT_LIDS_SHUT = 0.1
#: ... per cm by which the footage's lids are open less than asked (the network fills the rest)
EYE_OPEN_COST = 3.0
#: ... the same for the eyes of a moved or held-out head (:func:`plan_eyes`): at 3 a driver opening
#: his eyes out of a blink faster than the shot kept a run of nearly shut frames (d12 -> d0 rows
#: 51-52: 0.30 cm open for 0.48 asked) and the network drew the rest as a soft grey iris
PLAN_OPEN_COST = 4.5
#: ... and per cm by which they are open more than :data:`EYE_WIDER_FREE` wider than asked
#: (:func:`plan_eyes`): the gaze weight alone took driving_d14's wide-open stare (1.47 cm) for her
#: lowered lids (1.04 cm) on the held-out rows of bench case 3 that look down, and the affine fit
#: onto the asked loop does not lower a lid over an iris; the loops' shape distance, an RMS over
#: the whole loop, hardly saw it. Within 0.15 cm (:data:`EDIT_LIDS_MIN`: lids that read the same)
#: nothing changes, so a large look keeps the frame that looks there (carphone's 40-degree look,
#: 0.34 cm wider than asked, in tests/test_head_region.py)
EYE_WIDER_COST = 3.0
EYE_WIDER_FREE = 0.15
#: ... per unit of log ratio between the eyes' whites shown (:attr:`~reenact.face.track.Track.eye_white`,
#: each actor's over its own median) of the footage frame and of the asked row (:func:`plan_eyes`):
#: a lid lowered over a look down hardly moves the lid landmarks (they run along the lashes), so
#: the loops' shape and opening took driving_d14's open eyes (whites 0.95-1.04 of her median) for
#: her half-shut looks (0.78-0.87) on bench case 3's held-out rows, where frames 113-121 and
#: 263-268 show such looks (0.82-0.85). Chosen on d10, d3 and s29 (docs/reenact-bench.md, *The
#: eyes' whites*). Rows or frames without the measure cost nothing here
EYE_WHITE_COST = 2.5
#: ... of leaving a run of consecutive footage frames (eyes jump in saccades and blinks, so the
#: sources are not blended: a blend of two gazes is two irises)
EYE_SWITCH_COST = 0.2
#: ... and of drawing the next row's eyes from the same frame again (a steady look held, not
#: cycled through a few frames)
EYE_HOLD_COST = 0.02
#: lids keyed away from the frame's own (the eye loop's height differs by this much of its
#: width, :func:`eyes_from` with ``cover``): the eye drawn covers the lids around it at least
#: :data:`CLOSED_EYE` of its width high
LIDS_MOVED = 0.08
CLOSED_EYE = 0.5
#: :func:`eyes_from` draws the eye whole over the middle of its opening (the loop shrunk to this
#: about its centre: the iris), fading out over EYE_FEATHER of the asked opening's height beyond
#: it, before the lids; the lids keep the region's blur, which follows the asked lids better than
#: the eye's own (docs/reenact-bench.md, *The eyes drawn whole*)
EYE_CORE = 0.6
EYE_FEATHER = 0.2
#: upper / lower lid vertex pairs whose distances measure how open the eyes are
EYE_PAIRS = ((159, 145), (386, 374))


def eye_shapes(track, rows=None):
    """((R, E, 3) model-frame positions (cm, no pose) of the eye-opening loops of ``track``'s
    fitted mesh, (R,) mean lid opening (cm, :data:`EYE_PAIRS`), (R, 4) gaze); NaN where untracked."""
    from .meshes import _mesh

    rows = np.arange(track.n_frames) if rows is None else np.asarray(rows, np.int64)
    eyes = [int(v) for v in np.concatenate(_mesh().eyes)]
    pts = eyes + sorted({v for pair in EYE_PAIRS for v in pair})  # (only these vertices: see mouth_shapes)
    V, bad = model_vertices(track, rows, pts)
    X = V[:, :len(eyes)]
    opening = np.mean([np.linalg.norm(V[:, pts.index(u)] - V[:, pts.index(d)], axis=-1) for u, d in EYE_PAIRS], 0)
    gaze = np.asarray(track.gaze, np.float64)[rows]
    bad |= ~np.isfinite(gaze).all(1)
    X[bad], opening[bad], gaze[bad] = np.nan, np.nan, np.nan
    return X, opening, gaze


def _vertical(d):
    """True when the gaze change ``d`` (4,: left yaw, pitch, right yaw, pitch) is more up or down
    than sideways."""
    d = np.abs(np.asarray(d, np.float64))
    return bool(d[1] + d[3] > d[0] + d[2])


def _open_gaze(track):
    """(T, 4) ``track``'s gaze through its blinks (:func:`~reenact.face.transfer.gaze_through_blinks`)."""
    return gaze_through_blinks(track.gaze, track.blink, np.asarray(track.tracked, bool))


class _EyePool:
    """The footage rows whose eyes can be drawn (``own``'s tracked rows, or those of ``pool``
    with a finite pose, lids and gaze) and what :meth:`cost` compares: the eye loops (model
    frame, flattened), the lids' opening, the gaze, the head rotation."""

    def __init__(self, own, pool=None):
        ok = np.asarray(own.tracked, bool) & np.isfinite(np.asarray(own.pose, np.float64)).all(1)
        pool = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
        F, of, gf = eye_shapes(own, pool)
        ew = np.asarray(own.eye_white, np.float64)
        ew = ew[pool] if len(ew) == own.n_frames else np.full(len(pool), np.nan)
        # a closed eye's tracked gaze falls with its lids: the open eyes' around it (as the
        # asked gaze, plan_eyes)
        gf = np.where(np.isfinite(gf), _open_gaze(own)[pool], np.nan)
        good = np.isfinite(of) & np.isfinite(gf).all(1)
        self.rows, self.of, self.gf = pool[good], of[good], gf[good]
        self.lw = np.log(np.where(ew[good] > 0, ew[good], np.nan))  # (NaN: not known)
        self.F = F[good].reshape(len(self.rows), -1)
        self.R = euler_to_matrix(np.asarray(own.pose, np.float64)[self.rows, :3])

    def cost(self, Q, oq, gq, R_req, gaze_cost, wider_cost=0.0, open_cost=EYE_OPEN_COST, white=np.nan, white_cost=0.0):
        """(cost, lid distance) of every pool row for the eyes ``Q`` (flattened loops), lids'
        opening ``oq``, gaze ``gq`` and head rotation ``R_req`` (3, 3) asked; ``wider_cost`` per
        cm of lids open wider than asked, ``open_cost`` per cm less; ``white_cost`` per unit log
        ratio of the whites shown to the asked ``white`` (NaN: not asked)."""
        d = np.sqrt(((self.F - Q) ** 2).sum(1) / (self.F.shape[1] // 3))
        c = d + gaze_cost * np.linalg.norm(self.gf - gq, axis=1) + open_cost * np.maximum(oq - self.of, 0) \
            + wider_cost * np.maximum(self.of - oq - EYE_WIDER_FREE, 0) + POSE_COST * rotation_angle_deg(self.R, R_req[None])
        if white_cost and np.isfinite(white) and white > 0:
            c = c + white_cost * np.nan_to_num(np.abs(self.lw - np.log(white)))
        return c, d


def plan_eyes(own, requested, rows, pool=None, candidates=CANDIDATES):
    """(len(rows),) footage rows of ``own`` whose eyes draw the moved head's eyes of the
    ``requested`` rows (-1: none): nearest in lids and gaze (:data:`GAZE_COST`, less as the asked
    lids close past the footage's median opening; both gazes through their tracks' blinks), open at least
    as far (:data:`PLAN_OPEN_COST`) and not much further (:data:`EYE_WIDER_COST`), showing as much
    of the whites (:data:`EYE_WHITE_COST`: lids lowered over a look down), little turned
    from the requested head (:data:`POSE_COST`), runs kept (:data:`EYE_SWITCH_COST`)."""
    rows = np.asarray(rows, np.int64)
    out = np.full(len(rows), -1, np.int64)
    eyes = _EyePool(own, pool)
    if not len(eyes.rows) or not len(rows):
        return out
    Q, oq, gq = eye_shapes(requested, rows)
    wq = np.asarray(requested.eye_white, np.float64)
    wq = wq[rows] if len(wq) == requested.n_frames else np.full(len(rows), np.nan)
    gq = np.where(np.isfinite(gq), _open_gaze(requested)[rows], np.nan)  # (as the footage's, _EyePool)
    Q = Q.reshape(len(rows), -1)
    R_req = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[rows, :3]))
    K = min(int(candidates), len(eyes.rows))
    open_median = max(float(np.median(eyes.of)), 1e-6)
    shots = own.shots()
    cand, cost = [], []
    for k in range(len(rows)):
        if not (np.isfinite(Q[k]).all() and np.isfinite(gq[k]).all()):
            cand.append(None)
            cost.append(None)
            continue
        # the gaze weighs less as the asked lids close, as for a blink key (ShotEyes.source): a
        # closed eye shows none, and a driver's blink was drawn with open eyes looking his way
        w = GAZE_COST * min(1.0, oq[k] / open_median)
        c, d = eyes.cost(Q[k], oq[k], gq[k], R_req[k], w, EYE_WIDER_COST, PLAN_OPEN_COST, wq[k], EYE_WHITE_COST)
        c = c + other_shot(shots, eyes.rows, rows[k], own)
        idx = np.argpartition(c, K - 1)[:K]
        cand.append(eyes.rows[idx])
        cost.append(np.stack([c[idx], d[idx]], 1))
    return _runs(rows, cand, cost, EYE_SWITCH_COST, out, np.full(len(rows), np.nan), EYE_HOLD_COST)[0]


def head_maps(shot, j, pose):
    """Per eye loop (:func:`~reenact.render.meshes._mesh`'s ``eyes``) the (2, 3) affine map from
    a frame whose head has ``pose`` (6,) to footage row ``j`` of ``shot``: the head's rigid
    motion at that eye (the actor's neutral eye loop, projected under both poses), or None."""
    from .meshes import _mesh

    pj = np.asarray(shot.own.pose, np.float64)[j]
    pose = np.asarray(pose, np.float64)
    if not (np.isfinite(pj).all() and np.isfinite(pose).all()):
        return None
    cam = shot.own.camera()
    zero = np.zeros((1,) + shot.identity.shape)
    proj = [project_points(posed_vertices(shot.identity, zero, np.zeros((1, 1)), p[None])[0],
                           float(cam.focal_px), cam.principal) for p in (pose, pj)]
    return [cv2.estimateAffine2D(proj[0][list(lp)].astype(np.float32), proj[1][list(lp)].astype(np.float32))[0]
            for lp in _mesh().eyes]


def _lids_keyed(P, C, width):
    """Lids keyed away from the frame's own (``C``: the eye loop ``frame`` shows, ``P``: the asked)."""
    return C is not None and np.isfinite(C).all() and abs(np.ptp(C[:, 1]) - np.ptp(P[:, 1])) > LIDS_MOVED * width


#: region ``head`` (:class:`~reenact.render.shothead.ShotHead`): where the asked lids keep less
#: than this share of the eye source's opening (:func:`~reenact.render.lids.lid_keep`: no frame
#: of the shot squints as far), that eye is drawn at its own opening and its lids slid to the
#: asked one (:func:`head_lids_keep`, :func:`slide_lids`), not the eye squeezed into the asked
#: loop, iris and all, which a re-tracker (and an eye) still reads as open: d12 -> d20, whose
#: footage never squints, drew 0.56-0.62 for asked openings of 0.37-0.43
HEAD_LIDS_SLIDE = 0.85


def head_lids_keep(shot, j, requested, r):
    """(E,) per eye loop: how much of footage row ``j``'s opening row ``r`` of ``requested``
    keeps where that is under :data:`HEAD_LIDS_SLIDE`, NaN for the other eyes; None where no eye
    needs it (or the rows are unknown). The median over rows ``r - 1 .. r + 1`` (each against row
    ``j``): a tracked driver's lids jitter from frame to frame more than his eyes do, and lids
    slid to every row's own drew that jitter (d12 -> d20's face flicker against the driver's own
    face 1.12 -> 1.21); a blink of two frames or more stays."""
    from .lids import lid_keep

    n = len(requested.expression)
    keeps = [lid_keep(shot.own, requested, k, j, EYE_PAIRS) for k in (r - 1, r, r + 1) if 0 <= k < n]
    keeps = [k for k in keeps if k is not None]
    if not keeps:
        return None
    keep = np.median(np.asarray(keeps, np.float64), axis=0)
    keep = np.where(keep < HEAD_LIDS_SLIDE, keep, np.nan)
    return None if np.isnan(keep).all() else keep


def slide_lids(shot, j, maps, frame, keep):
    """``frame``, whose eyes :func:`eyes_from` drew from footage row ``j`` by ``maps`` at their
    own opening, with the lids of each eye whose ``keep`` (:func:`head_lids_keep`) is finite slid
    to that share of it (:func:`~reenact.render.lids.close_lids`)."""
    from .lids import close_lids
    from .meshes import _mesh

    loops, ks = [], []
    for A, lp, k in zip(maps, _mesh().eyes, keep):
        if A is None:
            continue
        Q = np.asarray(shot.ps[j], np.float64)[list(lp)]
        B = cv2.invertAffineTransform(np.asarray(A, np.float64))
        loops.append(Q @ B[:, :2].T + B[:, 2])  # row j's opening where the map drew it
        ks.append(float(k) if np.isfinite(k) else 1.0)
    return close_lids(frame, loops, ks)[0] if loops else frame


def eye_maps(shot, j, pd, cover=None, pose=None, own_opening=None):
    """Per eye loop the (2, 3) affine map (the drawn frame's pixels -> row ``j``'s) by which
    :func:`eyes_from` draws row ``j``'s eye there, or None where it draws none. ``own_opening``
    (E,) bool: those eyes keep row ``j``'s opening (rotation and scale only, fitted on the loop;
    :func:`slide_lids` then narrows them)."""
    from .meshes import _mesh

    if j is None or not np.isfinite(shot.ps[j]).all():
        return [None] * len(_mesh().eyes)
    if pose is not None:
        return head_maps(shot, j, pose) or [None] * len(_mesh().eyes)
    if not np.isfinite(pd).all():
        return [None] * len(_mesh().eyes)
    maps = []
    for e, lp in enumerate(_mesh().eyes):
        P, Q = pd[list(lp)], shot.ps[j][list(lp)]
        width = float(np.ptp(P[:, 0]))
        C = None if cover is None else np.asarray(cover, np.float64)[list(lp)]
        if width < 2.0:
            maps.append(None)
            continue
        # a slit (a closed eye) does not fix the vertical scale: rotation and scale only
        thin = _lids_keyed(P, C, width) and min(np.ptp(P[:, 1]) / width, np.ptp(Q[:, 1]) / max(np.ptp(Q[:, 0]), 1e-3)) < 0.2
        thin = thin or (own_opening is not None and bool(own_opening[e]))
        fit = cv2.estimateAffinePartial2D if thin else cv2.estimateAffine2D
        maps.append(fit(P.astype(np.float32), Q.astype(np.float32), method=cv2.LMEDS)[0])
    return maps


def rest_of_turn(shot, j, maps, requested, r, carried=False):
    """For row ``r`` of ``requested`` drawn with footage row ``j``'s eyes by ``maps``
    (:func:`eye_maps`): (row ``j``'s landmarks where the drawn eyes put them, (2, 2) px by which
    each iris moves on to where the asked gaze puts it, the drawn eye openings) for
    :func:`~reenact.render.irises.move_irises`, or None where nothing is left to move, an eye
    has no iris in its opening or a moved iris would leave it (:func:`~reenact.render.irises.fits`).
    The move is between the eyeball model's irises (row ``j``'s carried by the map, and the
    asked one), so a model that sits a little off the picture's eyes still moves by the right
    amount; ``carried``: ``maps`` carry the eyes by the head's motion (:func:`head_maps`), and
    the move is between row ``j``'s gaze and the asked one in row ``r``'s head."""
    from .irises import IRISES, MIN_SHIFT, _iris_pixels, fits
    from .meshes import _mesh

    if any(A is None for A in maps):
        return None
    model_r = _iris_pixels(requested, r)
    model_j = _iris_pixels(requested, r, gaze=np.asarray(shot.own.gaze, np.float64)[j]) if carried \
        else _iris_pixels(shot.own, j)
    L = np.asarray(shot.own.landmarks, np.float64)[j, :, :2].copy()
    shift, loops, done = np.full((2, 2), np.nan), [], set()
    for lp, A in zip(_mesh().eyes, maps):
        back = cv2.invertAffineTransform(A)  # row j -> the frame drawn
        loop = shot.ps[j][list(lp)]
        loops.append(loop @ back[:, :2].T + back[:, 2])
        for k, (centre, ring) in enumerate(IRISES):  # the iris inside this opening
            if k not in done and np.isfinite(L[centre]).all() and \
                    cv2.pointPolygonTest(loop.astype(np.float32).reshape(-1, 1, 2), tuple(map(float, L[centre])), False) >= 0:
                done.add(k)
                idx = [centre, *ring]
                L[idx] = L[idx] @ back[:, :2].T + back[:, 2]
                shift[k] = model_r[k] - (model_j[k] if carried else back[:, :2] @ model_j[k] + back[:, 2])
    if not np.isfinite(shift).all() or float(np.hypot(shift[:, 0], shift[:, 1]).max()) < MIN_SHIFT:
        return None
    return (L, shift, loops) if fits(L, shift, loops) else None


def eyes_from(shot, j, frame, pd, area=None, cover=None, pose=None, maps=None):
    """(``frame`` with both eyes (the openings and the lids around them) of the requested points
    ``pd`` drawn from footage row ``j`` of ``shot`` (a :class:`ShotFrames`), feathered over the
    lids; the (H, W) bool eye hole: what the requested lids open beyond row ``j``'s opening), or
    (``frame``, None) when it cannot. Each eye is moved by its own affine map, fitted on its
    opening's loop: lids and eyeball move together, and the far eye of a turned head is
    foreshortened as it should be (the face's one rigid motion, which the mesh warp gives the
    eyeballs, put the far eye's iris beside its lids at 20 degrees of turn). ``area``: the
    picture inside letterbox or pillarbox bars (x0, y0, x1, y1), which nothing here crosses.
    ``cover``: the points of the eyes ``frame`` shows now (its own eyes, where they differ from
    ``pd``: a blink key's frame, whose iris the lids' warp left in place), drawn over too.
    ``pose``: (a gaze key that keeps the lids) ``frame``'s head pose: each eye is carried by the
    head's motion from row ``j`` (:func:`head_maps`), lids and all, not fitted onto the asked
    opening: an iris that looks down lowers the upper lid with it, and the fit onto the row's
    opening lifted it back (driving_d13, 0.2 rad down: 10.9 of 11.5 degrees off the key where
    row ``j`` itself reads 5.5). What row ``j``'s lids show is drawn: no hole then. ``maps``:
    :func:`eye_maps` of these arguments, when the caller has them already."""
    from .meshes import _mesh, smoothstep

    if j is None or not (np.isfinite(pd).all() and np.isfinite(shot.ps[j]).all()):
        return frame, None
    maps = eye_maps(shot, j, pd, cover, pose) if maps is None else maps
    H, W = frame.shape[:2]
    ax0, ay0, ax1, ay1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    src = shot._frame(j)
    out, hole = frame, np.zeros((H, W), bool)
    for e, lp in enumerate(_mesh().eyes):
        P, Q = pd[list(lp)], shot.ps[j][list(lp)]
        width = float(np.ptp(P[:, 0]))
        if width < 2.0:
            continue
        c = P.mean(0)
        region = c + 1.6 * (P - c)  # the opening and the lids around it
        regions = [region]
        C = None if cover is None else np.asarray(cover, np.float64)[list(lp)]
        # lids keyed away from the frame's own (a blink key): the frame's eye is covered too, and
        # a closed one covers the lids of an open one (the lids' warp left the iris in place)
        lids = _lids_keyed(P, C, width)
        if lids:
            tall = float(np.ptp(region[:, 1]))
            if tall < CLOSED_EYE * width:
                region[:, 1] = c[1] + (region[:, 1] - c[1]) * (CLOSED_EYE * width / max(tall, 1e-3))
            regions.append(C.mean(0) + 1.6 * (C - C.mean(0)))
        every = np.concatenate(regions)
        pad = int(np.ceil(0.45 * width)) + 2
        x0, y0 = np.maximum(np.floor(every.min(0)).astype(int) - pad, (ax0, ay0))
        x1, y1 = np.minimum(np.ceil(every.max(0)).astype(int) + pad, (ax1, ay1))
        if x1 <= x0 or y1 <= y0:
            continue
        A = maps[e]  # dst -> src
        if A is None:
            continue
        A = A.copy()
        A[:, 2] += A[:, :2] @ np.array([x0, y0], np.float64)  # the box's pixels
        roi = (x0, y0, x1 - x0, y1 - y0)
        shape = (roi[3], roi[2])
        moved = cv2.warpAffine(src, A, (roi[2], roi[3]), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        # row j's opening, rasterised in a box around it (outside it the mask is 0, as the warp's
        # constant border reads), carried by the same map
        sx0, sy0 = np.maximum(np.floor(Q.min(0)).astype(int) - 2, 0)
        sx1, sy1 = np.minimum(np.ceil(Q.max(0)).astype(int) + 3, (src.shape[1], src.shape[0]))
        opening_j = np.zeros((max(sy1 - sy0, 1), max(sx1 - sx0, 1)), np.uint8)
        cv2.fillPoly(opening_j, [np.round((Q - (sx0, sy0)) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        Aj = A.copy()
        Aj[:, 2] -= (sx0, sy0)
        seen = cv2.warpAffine(opening_j * np.uint8(255), Aj, (roi[2], roi[3]), flags=cv2.INTER_LINEAR |
                              cv2.WARP_INVERSE_MAP) > 127
        if pose is None:
            hole[y0:y1, x0:x1] |= (_poly_mask(shape, P, roi) > 0) & ~seen
        m = np.zeros(shape, np.float32)
        core = np.zeros(shape, np.uint8)
        for g in regions:
            m = np.maximum(m, _poly_mask(shape, g, roi).astype(np.float32))
            gc = g.mean(0)
            core = np.maximum(core, _poly_mask(shape, gc + (EYE_CORE / 1.6) * (g - gc), roi).astype(np.uint8))
        # feathered over the lids; and drawn whole over the middle of the opening (EYE_CORE),
        # fading out before the lids (EYE_FEATHER): the blur alone reached only 60-85 %
        # inside a narrow eye, and the head beneath washed the iris grey (d12 -> d0 rows 51-53)
        d = cv2.distanceTransform((core == 0).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        ramp = max(EYE_FEATHER * float(np.ptp(P[:, 1])), 1.0)
        a = np.maximum(cv2.GaussianBlur(m, (0, 0), 0.15 * width),
                       smoothstep(1.0 - d / ramp).astype(np.float32))[..., None]
        sl = (slice(y0, y1), slice(x0, x1))
        if out is frame:
            out = frame.copy()
        out[sl] = np.clip(out[sl].astype(np.float32) * (1.0 - a) + moved * a + 0.5, 0, 255).astype(np.uint8)
    return out, hole


class ShotEyes(ShotFrames):
    """The footage's own eyes for an edit that keeps the head pose but changes where the actor
    looks or how far the lids open (region ``face``: an animator's gaze and blink keys): the eyes
    of the footage frame nearest in lids and gaze (:func:`plan_eyes`' cost, each row on its own,
    so Preview Frame's one row chooses as the render does), moved onto the row's eyes by
    :func:`eyes_from`. The mesh warp of the frame itself cannot move an iris (the eyeball turns
    with the face), and the network asked for the whole face drew the footage's gaze, softer.
    ``own``: the footage's Track (its tracked rows are the candidates, or ``pool``)."""

    def __init__(self, own, video, pool=None):
        super().__init__(own, video)
        self.pool = _EyePool(own, pool)

    def gaze_key(self, requested, r, own_row):
        """True when row ``r`` of ``requested`` asks for another gaze than footage row
        ``own_row`` shows (:data:`EDIT_GAZE_MIN`)."""
        gq = np.asarray(requested.gaze, np.float64)[r]
        gx = np.asarray(self.own.gaze, np.float64)[own_row]
        return bool(np.isfinite(gq).all() and np.isfinite(gx).all() and np.linalg.norm(gq - gx) >= EDIT_GAZE_MIN)

    def source(self, requested, r, own_row):
        """The footage row whose eyes draw row ``r`` of the performance ``requested`` (a Track),
        whose footage is row ``own_row`` of ``own``; None where the row asks for the gaze and the
        lids that footage row shows (:data:`EDIT_GAZE_MIN`, :data:`EDIT_LIDS_MIN`) or no footage
        frame comes near enough (:data:`EDIT_GAZE_REACH`, :data:`EDIT_LIDS_REACH`), and for a gaze
        key more up or down than sideways (:data:`EDIT_GAZE_VERTICAL_IRISES`). A gaze key
        weighs the gaze :data:`EDIT_GAZE_COST`; a key of the lids alone (a blink) weighs it as a
        moved head's eyes do, less as the asked lids close (closed eyes show no gaze)."""
        gq = np.asarray(requested.gaze, np.float64)[r]
        gx = np.asarray(self.own.gaze, np.float64)[own_row]
        if not len(self.pool.rows):
            return None
        gaze_key = not (np.isfinite(gx).all() and np.linalg.norm(gq - gx) < EDIT_GAZE_MIN)
        Q, oq, gq = eye_shapes(requested, [r])
        if not (np.isfinite(Q).all() and np.isfinite(gq).all()):
            return None
        ox = eye_shapes(self.own, [own_row])[1][0]
        lids_key = np.isfinite(ox) and abs(oq[0] - ox) >= EDIT_LIDS_MIN
        if not (gaze_key or lids_key):
            return None  # the footage's gaze and lids: the mesh warp of the frame itself will do
        if gaze_key and not lids_key and EDIT_GAZE_VERTICAL_IRISES and np.isfinite(gx).all() and _vertical(gq[0] - gx):
            return None  # a look up or down: the frame's own irises moved (irises.py), the lids following
        Rr = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[r:r + 1, :3]))[0]
        w = EDIT_GAZE_COST if gaze_key else GAZE_COST * min(1.0, oq[0] / max(float(np.median(self.pool.of)), 1e-6))
        c = self.pool.cost(Q.reshape(-1), oq[0], gq[0], Rr, w)[0] + other_shot(self.shot_of, self.pool.rows, own_row, self.own)
        if gaze_key and not lids_key:  # a gaze key keeps the lids: a frame opened wider is another expression
            c = np.where(np.abs(self.pool.of - oq[0]) < EDIT_LIDS_MIN, c, np.inf)
            if not np.isfinite(c).any():
                return None
        k = int(np.argmin(c + EDIT_LIDS_COST * np.abs(self.pool.of - oq[0]) if lids_key else c))
        if gaze_key and np.linalg.norm(self.pool.gf[k] - gq[0]) > EDIT_GAZE_REACH:
            return None  # a gaze the footage never shows: the frame's own irises moved (irises.py)
        if gaze_key and not lids_key and np.isfinite(gx).all() and \
                np.linalg.norm(self.pool.gf[k] - gq[0]) > EDIT_GAZE_GAIN * np.linalg.norm(gx - gq[0]) and \
                self._irises_fit(requested, r, own_row):
            return None  # the nearest frame brings the gaze less than that far: the irises moved
        if lids_key and abs(self.pool.of[k] - oq[0]) > EDIT_LIDS_REACH:
            return None  # lids the footage never shows: the frame's own, closed (lids.py) or warped
        if lids_key and oq[0] < ox and self._shuts_less(own_row, self.pool.of[k], oq[0], ox):
            return None  # the shot's nearest lids close too little: the frame's own, slid shut (lids.py)
        return int(self.pool.rows[k])

    def _shuts_less(self, own_row, of, oq, ox):
        """True when footage lids opening ``of`` (cm) keep more than :data:`EDIT_LIDS_SHUT` more
        of footage row ``own_row``'s opening ``ox`` than the key's ``oq`` does, both read between
        ``ox`` and that row's face shut (:func:`~reenact.render.lids.shut_openings`)."""
        from .lids import shut_openings

        ocq = shut_openings(self.own, own_row, np.asarray(self.own.expression, np.float64)[own_row], EYE_PAIRS)
        if ocq is None:
            return False
        shut = float(np.mean(ocq[1]))
        if not (np.isfinite(shut) and ox - shut > 1e-3):
            return False
        return (of - oq) / (ox - shut) > EDIT_LIDS_SHUT

    def lids_keep(self, requested, r, own_row):
        """(E,) per eye (:func:`~reenact.render.lids.lid_keep`) how much of footage row
        ``own_row``'s eye opening row ``r`` of ``requested`` keeps (above 1: opens wider), where
        the key moves the lids by :data:`EDIT_LIDS_MIN` or more; None elsewhere."""
        from .lids import lid_keep

        if not self._lid_change(requested, r, own_row) >= EDIT_LIDS_MIN:
            return None
        keep = lid_keep(self.own, requested, r, own_row, EYE_PAIRS)
        return keep if keep is not None and float(np.abs(keep - 1.0).max()) > 0.02 else None

    def _irises_fit(self, requested, r, own_row):
        """True when footage row ``own_row``'s irises, moved to row ``r``'s gaze, stay inside its
        eye openings (:func:`~reenact.render.irises.fits`)."""
        from .irises import fits, iris_shift
        from .meshes import _mesh

        loops = [self.ps[own_row][list(lp)] for lp in _mesh().eyes]
        return fits(self.own.landmarks[own_row], iris_shift(self.own, requested, own_row, r), loops)

    def _lid_change(self, requested, r, own_row):
        """How far row ``r`` of ``requested`` opens the lids away from footage row ``own_row``
        (:func:`eye_shapes`' opening), NaN where either is unknown."""
        return abs(eye_shapes(requested, [r])[1][0] - eye_shapes(self.own, [own_row])[1][0])

    def keeps_lids(self, requested, r, own_row):
        """True when row ``r`` of ``requested`` opens the lids as footage row ``own_row`` does
        (within :data:`EDIT_LIDS_MIN`): a key of the gaze alone."""
        return bool(self._lid_change(requested, r, own_row) < EDIT_LIDS_MIN)

    def draw(self, requested, r, own_row, j, frame, pd, area=None, cover=None):
        """:func:`eyes_from` footage row ``j`` onto ``frame``'s eyes at the points ``pd`` for row
        ``r`` of ``requested``, whose footage is row ``own_row`` (``cover``: the points of the eyes
        ``frame`` shows, drawn over too);
        a key of the gaze alone (:meth:`keeps_lids`) carries the eyes by the head's motion and then
        moves their irises the rest of the way (:func:`rest_of_turn`). Returns (frame, hole)."""
        pose = np.asarray(requested.pose, np.float64)[r] if self.keeps_lids(requested, r, own_row) else None
        maps = eye_maps(self, j, pd, cover, pose)
        out, hole = eyes_from(self, j, frame, pd, area, cover, pose, maps)
        rest = rest_of_turn(self, j, maps, requested, r, carried=True) if pose is not None else None
        if rest is not None:
            from .irises import move_irises

            out = move_irises(out, *rest)
        return out, hole
