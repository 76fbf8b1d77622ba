# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing from the shot's own frames. :class:`ShotMouth` (below) for mouth dubs;
:class:`ShotHead` for full reenactment (each row's head from the frame nearest in head pose, its
mouth and eyes from the frames nearest in mouth and in gaze); :class:`ShotEyes` for an edit of
the gaze (region ``face``).

The shot's own mouth in a mouth dub: each driven row's lower face taken from the frame of the
target's own footage whose mouth is closest to the requested one, warped by the fitted meshes
to the requested lips and jaw (in the manner of Bregler et al.'s Video Rewrite, with the dense
mesh warp of :mod:`.warp` in place of their morphing).

Where the dub asks for a mouth the footage shows somewhere (the same opening, the same lip
shape), this draws the target's own lips, teeth and tongue at full resolution, where the
renderer network draws a soft 128 px mouth and the driver's mouth (:mod:`.donor`) another
actor's teeth. A mouth closed by the dub over footage whose mouth is open is drawn from a frame
where it is closed, which no warp of the frame itself can do.

Choice of the frames: per driven row, the cost of footage row ``j`` is the distance between the
requested and ``j``'s lips and jaw in the actor's model frame (cm, pose removed) plus a pose
term (the warp degrades with the head turn between ``j`` and the row being replaced); a run of
consecutive footage frames costs nothing to continue and :data:`SWITCH_COST` to leave, so the
mouth moves as the footage moved (a dynamic programme over each row's :data:`CANDIDATES`
nearest frames). Each row blends its source with its neighbours' (all warped to its own mouth),
so a change of source does not flicker.
"""

from dataclasses import replace

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, posed_vertices, rotation_angle_deg
from .donor import INNER_LIP, LOWER_FACE, LOWER_FEATHER, OUTER_LIP, ClipFrames, _poly_mask, beyond_footage, mouth_mode
from .head import attached_alpha, posed_points
from .motion import DETAIL_FIELD_SCALE, LOWER_SMOOTH, smooth_field
from .warp import warp_field, warp_image

#: mesh points compared between the requested mouth and a footage frame's: lips and jaw line
MOUTH_POINTS = tuple(sorted(set(INNER_LIP) | set(OUTER_LIP) | set(LOWER_FACE[:17])))
#: cost (cm of lip distance) per degree of head turn between the footage frame and the row
POSE_COST = 0.01
#: cost of leaving a run of consecutive footage frames (cm of lip distance)
SWITCH_COST = 0.5
#: footage frames considered per row (the nearest by lip distance)
CANDIDATES = 24
#: cost per cm by which a footage frame's lips are open less than asked (the warp cannot draw
#: the teeth and mouth it lacks: the lips stay shut) and more than asked (squeezed shut, its
#: teeth still show in a slit)
OPEN_COST = (3.0, 1.5)
#: detail finer than this (a fraction of the face height) comes from the frame being replaced
DETAIL_SIGMA = 0.012
#: inner-lip vertex pairs (upper, lower) whose distances measure the opening
GAP_PAIRS = ((82, 87), (13, 14), (312, 317))


def mouth_shapes(track, rows=None):
    """((R, M, 3) model-frame positions (cm, no pose) of :data:`MOUTH_POINTS` of ``track``'s
    fitted mesh, (R,) mean inner-lip opening (cm, :data:`GAP_PAIRS`)); NaN where untracked."""
    rows = np.arange(track.n_frames) if rows is None else np.asarray(rows, np.int64)
    ex = np.asarray(track.expression, np.float64)[rows]
    zero = np.zeros((len(rows), 6))
    V = posed_vertices(track.identity, track.expression_basis, ex, zero)
    X = V[:, list(MOUTH_POINTS)]
    gap = np.mean([np.linalg.norm(V[:, u] - V[:, d], axis=-1) for u, d in GAP_PAIRS], 0)
    bad = ~np.isfinite(ex).all(1)
    X[bad] = np.nan
    gap[bad] = np.nan
    return X, gap


def changed_rows(own, requested):
    """Rows where the ``requested`` performance's lips or jaw differ from the footage's (``own``)."""
    a = mouth_shapes(own)[0]
    b = mouth_shapes(requested)[0]
    return np.flatnonzero(np.isfinite(b).all((1, 2)) & ~(np.abs(a - b) <= 1e-6).all((1, 2)))


def plan(own, requested, rows, pool=None, pose_cost=POSE_COST, switch_cost=SWITCH_COST, candidates=CANDIDATES,
         moved=False):
    """(len(rows),) footage rows of ``own`` (the footage's Track) that draw the mouth of the
    ``requested`` performance's ``rows`` (-1: none: no usable footage frame), and their lip
    distances (cm). ``pool``: the footage rows allowed (default every tracked one). The pose
    term compares with the footage's head at the row, or with the requested head when the
    render has ``moved`` the head there (full reenactment)."""
    ok = np.asarray(own.tracked, bool) & np.isfinite(np.asarray(own.pose, np.float64)).all(1)
    pool = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
    rows = np.asarray(rows, np.int64)
    out = np.full(len(rows), -1, np.int64)
    dist = np.full(len(rows), np.nan)
    if not len(pool) or not len(rows):
        return out, dist
    F, gf = mouth_shapes(own, pool)
    Q, gq = mouth_shapes(requested, rows)
    F, Q = F.reshape(len(pool), -1), Q.reshape(len(rows), -1)
    M = len(MOUTH_POINTS)
    R_pool = euler_to_matrix(np.asarray(own.pose, np.float64)[pool, :3])
    own_pose = np.asarray((requested if moved else own).pose, np.float64)
    K = min(int(candidates), len(pool))
    cand, cost = [], []
    for k, r in enumerate(rows):
        if not np.isfinite(Q[k]).all() or not ok[r]:
            cand.append(None)
            cost.append(None)
            continue
        d = np.sqrt(((F - Q[k]) ** 2).sum(1) / M)
        turn = rotation_angle_deg(R_pool, euler_to_matrix(own_pose[r:r + 1, :3])[0][None])
        c = d + pose_cost * turn + OPEN_COST[0] * np.maximum(gq[k] - gf, 0) + OPEN_COST[1] * np.maximum(gf - gq[k], 0)
        idx = np.argpartition(c, K - 1)[:K]
        cand.append(pool[idx])
        cost.append(np.stack([c[idx], d[idx]], 1))
    return _runs(rows, cand, cost, switch_cost, out, dist)


def _runs(rows, cand, cost, switch_cost, out, dist):
    """The dynamic programme of :func:`plan`: per stretch of consecutive ``rows`` that have
    candidates (``cand[k]``: footage rows, ``cost[k]``: (K, 2) cost and distance), the candidate
    path of least total cost, where continuing a run of consecutive footage frames is free and
    leaving it costs ``switch_cost``. Fills and returns (``out``, ``dist``)."""
    k = 0
    while k < len(rows):
        if cand[k] is None:
            k += 1
            continue
        e = k
        while e < len(rows) and cand[e] is not None:
            e += 1
        acc = cost[k][:, 0].copy()
        back = []
        for t in range(k + 1, e):
            prev, cur = cand[t - 1], cand[t]
            step = cur[:, None] - prev[None, :]  # (cur, prev)
            trans = np.where(step == rows[t] - rows[t - 1], 0.0, switch_cost)
            tot = acc[None, :] + trans
            b = np.argmin(tot, 1)
            back.append(b)
            acc = tot[np.arange(len(cur)), b] + cost[t][:, 0]
        i = int(np.argmin(acc))
        for t in range(e - 1, k - 1, -1):
            out[t] = cand[t][i]
            dist[t] = cost[t][i, 1]
            if t > k:
                i = int(back[t - k - 1][i])
        k = e
    return out, dist


class ShotFrames(ClipFrames):
    """Frames of the footage ``video`` read by Track row of ``own`` (:class:`~reenact.render.donor.ClipFrames`),
    with the fitted mesh's points and depths of every row (``points``: (points, depths) of
    :func:`~reenact.render.head.posed_points`, when the caller has them)."""

    def __init__(self, own, video, points=None):
        super().__init__(video)
        self.own = own
        self.ps, self.zs = posed_points(own) if points is None else points
        self.identity = np.asarray(own.identity, np.float64)

    def _frame(self, j):
        return self.clip_frame(int(self.own.frame_start) + int(j))

    def warped(self, j, pd, zd, box, smooth=0.0, head_model="plane"):
        """Footage row ``j`` warped by the fitted meshes to the points ``pd`` (depths ``zd``),
        inside the frame box (x0, y0, x1, y1) only, bicubic: float32 (y1-y0, x1-x0, 3).
        ``head_model`` (:func:`~reenact.render.warp.warp_field`): the plane by default (what lies
        beyond the mesh only feathers the lower face's edge here)."""
        x0, y0, x1, y1 = box
        H, W = self._frame(j).shape[:2]
        # at full resolution (at half, the jaw's motion carried beyond the mesh moved up to 3 px
        # and drew hair onto a cheek: docs/warp.md); only the map is used: no masks, no occlusion tests
        f = warp_field(self.ps[j], pd, None, (H, W), dst_depth=zd, model_points=self.identity, within=box,
                       head_model=head_model, masks=False)
        if smooth > 0:
            f = smooth_field(f, smooth, inplace=True)
        return warp_image(self._frame(j), f, interpolation=cv2.INTER_CUBIC, box=box).astype(np.float32)


def replace_region(frame, src, box, hull, feather):
    """``frame`` with the convex ``hull`` (K, 2) filled from ``src`` (the frame box ``box``'s
    pixels, float32), feathered by a Gaussian of ``feather`` px, ``src``'s colour matched per
    channel (gain 0.8-1.25) over the feathered edge, where the two meet."""
    x0, y0, x1, y1 = box
    sl = (slice(y0, y1), slice(x0, x1))
    base = frame[sl].astype(np.float32)
    roi = (x0, y0, x1 - x0, y1 - y0)
    m = _poly_mask((roi[3], roi[2]), cv2.convexHull(np.asarray(hull, np.float32))[:, 0], roi).astype(np.float32)
    lf = cv2.GaussianBlur(m, (0, 0), feather)
    edge = (lf > 0.05) & (lf < 0.95)
    if edge.sum() > 16:
        src = src * np.clip((base[edge].mean(0) + 1.0) / (src[edge].mean(0) + 1.0), 0.8, 1.25).astype(np.float32)
    a = lf[..., None]
    out = frame.copy()
    out[sl] = np.clip(base * (1.0 - a) + src * a + 0.5, 0, 255).astype(np.uint8)
    return out


class ShotMouth(ShotFrames):
    """The footage's own mouth for the rows of a mouth dub (see the module doc).

    ``own``: the footage's Track; ``requested``: the performance (same rows); ``video``: the
    footage (the clip ``own`` was made from; frames are read by index and kept a few at a time);
    ``rows``: the performance rows to draw (default those whose mouth differs from the
    footage's); ``pool``: footage rows allowed as sources (e.g. ``--reference-frames``)."""

    def __init__(self, own, requested, video, rows=None, pool=None):
        if own.n_frames != requested.n_frames or int(own.frame_start) != int(requested.frame_start):
            raise ValueError("the footage's track and the performance cover different frames")
        self.frame_start = int(requested.frame_start)
        self.rows = changed_rows(own, requested) if rows is None else np.asarray(rows, np.int64)
        self.source, self.distance = plan(own, requested, self.rows, pool)
        self._row = {int(r): int(j) for r, j in zip(self.rows, self.source) if j >= 0}
        super().__init__(own, video)

    def driver_row(self, r):
        """The footage row whose mouth draws performance row ``r``, or None."""
        return self._row.get(int(r))

    def draw(self, r, frame, motion, row):
        """``frame`` (the footage at row ``r``) with its lower face replaced by footage row
        :meth:`driver_row`'s, warped to the requested lips and jaw (``motion``: the lower-only
        :class:`~reenact.render.motion.HeadMotion` of the render, at its row ``row``: the
        requested points with the upper face held at this frame's)."""
        pd, zd, own = motion.pd[row], motion.zd[row], motion.ps[row]
        if not np.isfinite(own).all():
            return frame
        # the skin keeps this frame's own fine detail (grain, stubble: the other frame's may be
        # softer, moving), moved to the requested mouth; lips and mouth are the other frame's
        return self._draw(r, frame, pd, zd, own, lambda box: motion.detail(
            row, frame, field_scale=DETAIL_FIELD_SCALE, part=box)[0].astype(np.float32))

    def _draw(self, r, frame, pd, zd, own, here_of):
        return lower_face_from(self, self.driver_row, r, frame, pd, zd, own, here_of)


def lower_face_from(shot, source_of, r, frame, pd, zd, own, here_of):
    """``frame`` with the lower face of performance row ``r`` drawn from the footage row
    ``source_of(r)`` of ``shot`` (a :class:`ShotFrames`), blended with the sources of the rows
    beside it, warped to the requested points ``pd`` (depths ``zd``); ``own``: the points of the
    face in ``frame`` (its lower face is replaced too); ``here_of(box)``: ``frame``'s pixels at
    the requested mouth in that frame box (float32), whose fine skin detail is kept."""
    j = source_of(r)
    if j is None or not (np.isfinite(pd).all() and np.isfinite(shot.ps[j]).all()):
        return frame
    H, W = frame.shape[:2]
    face_h = float(np.ptp(own[:, 1]))
    hull = np.concatenate([pd[list(LOWER_FACE)], own[list(LOWER_FACE)]])
    pad = int(np.ceil(3 * LOWER_FEATHER * face_h)) + 2
    x0, y0 = np.maximum((np.floor(hull.min(0)) - pad).astype(int), 0)
    x1, y1 = np.minimum((np.ceil(hull.max(0)) + pad).astype(int), (W, H))
    if x1 <= x0 or y1 <= y0:
        return frame
    # the sources of this row and its neighbours, all warped to this row's mouth and blended
    # (1/4, 1/2, 1/4): the source changes often (a driver's mouth seldom moves as any stretch
    # of the shot did), and a hard switch every frame flickers
    src, wsum = 0.0, 0.0
    for k, w in ((r - 1, 0.25), (r, 0.5), (r + 1, 0.25)):
        jk = source_of(k) if k != r else j
        if jk is not None:
            src = src + w * shot.warped(jk, pd, zd, (x0, y0, x1, y1), smooth=LOWER_SMOOTH * face_h)
            wsum += w
    src = src / wsum
    roi = (x0, y0, x1 - x0, y1 - y0)
    shape = (roi[3], roi[2])
    here = here_of((x0, y0, x1, y1))
    sigma = DETAIL_SIGMA * face_h
    lips = _poly_mask(shape, cv2.convexHull(pd[list(OUTER_LIP)].astype(np.float32))[:, 0], roi).astype(np.float32)
    width = float(np.hypot(*(pd[291] - pd[61])))
    lips = np.clip(cv2.GaussianBlur(lips, (0, 0), max(1.0, 0.12 * width)) * 2.0, 0, 1)[..., None]
    d = here - src  # here's fine detail in place of src's: (here - blur(here)) - (src - blur(src))
    src += (1.0 - lips) * (d - cv2.GaussianBlur(d, (0, 0), sigma))
    # the two frames' light may differ a little: matched over the feathered edge
    return replace_region(frame, src, (x0, y0, x1, y1), hull, LOWER_FEATHER * face_h)


def choose_mouth(donor, performance, own, mode="auto", changed=None):
    """(where a mouth dub's lower face comes from: "driver", "shot" or "renderer", what was
    chosen (a dict for the render summary)). One choice per performance, whatever frames are
    rendered (a dub never switches between two mouths, and Preview Frame shows what the render
    draws). ``donor``: the driver's :class:`MouthDonor` or None (no driver given; closed here
    when not used); ``own``: the footage's Track.

    ``mode`` (:data:`MODES`): "auto" takes the driver's mouth when a driver is given and the
    dub opens the mouth beyond anything the footage shows (:func:`beyond_footage`), the renderer
    when it does so without a driver, and otherwise the shot's own frames, which hold every
    mouth the dub asks for. "driver" needs a ``donor``. ``changed``: :func:`changed_rows` of the
    two, when the caller has them."""
    mode = mouth_mode(mode)
    if donor is not None:
        rows = np.flatnonzero([donor.driver_row(r) is not None for r in range(performance.n_frames)])
    else:
        rows = changed_rows(own, performance) if changed is None else changed
    need, asked, shown = beyond_footage(performance, own, rows) if len(rows) else (False, 0.0, 0.0)
    if mode == "driver" and donor is None:
        raise ValueError("the driver's mouth needs the driver's Track and footage (--mouth-from)")
    if mode == "auto":
        source = ("driver" if donor is not None else "renderer") if need else "shot"
    else:
        source = mode
    if not len(rows) or (source == "driver" and donor is None):
        source = "renderer"
    if source != "driver" and donor is not None:
        donor.close()
    return source, {"source": source, "mode": mode, "used": source == "driver", "asked_opening": asked,
                    "footage_opening": shown}


def prepare_mouth(performance, own, video, mouth_from=None, mode="auto", accept_footage=False, pool=None):
    """What draws a mouth dub's driven rows, chosen once for the whole ``performance``
    (:func:`~reenact.render.rewrite.choose_mouth`): (a :class:`~reenact.render.donor.MouthDonor`,
    a :class:`ShotMouth`, or None for the renderer network; the choice (a dict); warnings).
    ``mouth_from``: (driver Track or path, driver footage) or None; ``own``: the footage's Track
    over ``video`` (None: the shot's own mouth is not available); ``pool``: footage rows the
    shot's mouth may take. The driver and the performance are checked before anything else
    (:func:`~reenact.render.donor.open_donor`)."""
    from .donor import open_donor

    donor, warnings = (None, [])
    if mouth_from is not None:
        donor, warnings = open_donor(performance, mouth_from[0], mouth_from[1], accept_footage)
    changed = changed_rows(own, performance)  # the rows the shot's mouth draws, and auto's measure without a driver
    source, info = choose_mouth(donor, performance, own, mode, changed)
    if source == "shot" and video is None:
        source = info["source"] = "renderer"
    if source == "shot":
        return ShotMouth(own, performance, video, rows=changed, pool=pool), info, warnings
    return (donor if source == "driver" else None), info, warnings


#: region ``head``, ``auto``: the driver's mouth interior when the performance opens the mouth wider
#: than this many times the footage's widest opening. Higher than a dub's 1.25: the moved head's
#: shot mouth keeps its own teeth and light (d12 -> d14 at 1.5x: the driver's warm-lit teeth looked
#: worse than hers); a target whose footage never opens (d18 -> s20 at 6x) needs the driver's
HEAD_BEYOND_FOOTAGE = 2.0


def head_donor(performance, own, mouth_from=None, mode="auto", accept_footage=False):
    """The driver's mouth for a full reenactment (region ``head``): (a
    :class:`~reenact.render.donor.MouthDonor` or None, the choice (a dict for the render summary),
    warnings). The moved head's lower face is the shot's own mouth (:class:`ShotHead`); with the
    driver (``mouth_from`` = (Track or path, footage)) and ``mode`` "driver", or "auto" where the
    performance opens the mouth over :data:`HEAD_BEYOND_FOOTAGE` times as wide as the footage
    ``own`` ever does, the driver's mouth interior is drawn into
    its opening, as in a dub: the nearest footage mouth, stretched, showed lips and streaks there.
    The driver is checked against the performance before any long work."""
    from .donor import open_donor

    mode = mouth_mode(mode)
    if mode == "driver" and mouth_from is None:
        raise ValueError("the driver's mouth needs the driver's Track and footage (--mouth-from)")
    info = {"source": "shot" if mode != "renderer" else "renderer", "mode": mode, "used": False}
    if mouth_from is None:
        return None, info, []
    donor, warnings = open_donor(performance, mouth_from[0], mouth_from[1], accept_footage)
    rows = [r for r in range(performance.n_frames) if donor.driver_row(r) is not None]
    asked, shown = beyond_footage(performance, own, rows)[1:] if rows else (0.0, 0.0)
    info.update(asked_opening=asked, footage_opening=shown)
    if mode == "driver" or (mode == "auto" and rows and asked > HEAD_BEYOND_FOOTAGE * shown):
        info.update(source="shot+driver", used=True)
        return donor, info, warnings
    donor.close()
    return None, info, warnings


#: the eyes of a moved head (:func:`plan_eyes`): cost (cm) per radian of gaze difference (the iris
#: sits on a 1.25 cm sphere; counted twice: the eye goes wherever the iris is)
GAZE_COST = 2.5
#: ... and for an edit of the gaze that keeps the head (:class:`ShotEyes`), where the gaze is the
#: point: at 2.5 the lids' shape outweighed a 0.3 rad edit on driving_d3 (re-tracked gaze error
#: 16.4 degrees for 17.2 asked), at 12 it follows (9.2; d10 7.8, d14 7.1; 20 no better)
EDIT_GAZE_COST = 12.0
#: ... where the nearest footage gaze is further than this (radians, both eyes' L2) from the
#: asked one, the row is left to the renderer
EDIT_GAZE_REACH = 0.25
#: ... and rows whose gaze differs from the footage's by less than this (radians) keep their own
#: eyes (an edit of the brows or the lids: the mesh warp of the frame itself moves the lids)
EDIT_GAZE_MIN = 0.03
#: ... per cm by which the footage's lids are open less than asked (the network fills the rest)
EYE_OPEN_COST = 3.0
#: ... of leaving a run of consecutive footage frames (eyes jump in saccades and blinks, so the
#: sources are not blended: a blend of two gazes is two irises)
EYE_SWITCH_COST = 0.2
#: upper / lower lid vertex pairs whose distances measure how open the eyes are
EYE_PAIRS = ((159, 145), (386, 374))


def eye_shapes(track, rows=None):
    """((R, E, 3) model-frame positions (cm, no pose) of the eye-opening loops of ``track``'s
    fitted mesh, (R,) mean lid opening (cm, :data:`EYE_PAIRS`), (R, 4) gaze); NaN where untracked."""
    from .meshes import _mesh

    rows = np.arange(track.n_frames) if rows is None else np.asarray(rows, np.int64)
    ex = np.asarray(track.expression, np.float64)[rows]
    V = posed_vertices(track.identity, track.expression_basis, ex, np.zeros((len(rows), 6)))
    X = V[:, np.concatenate(_mesh().eyes)]
    opening = np.mean([np.linalg.norm(V[:, u] - V[:, d], axis=-1) for u, d in EYE_PAIRS], 0)
    gaze = np.asarray(track.gaze, np.float64)[rows]
    bad = ~(np.isfinite(ex).all(1) & np.isfinite(gaze).all(1))
    X[bad], opening[bad], gaze[bad] = np.nan, np.nan, np.nan
    return X, opening, gaze


def plan_eyes(own, requested, rows, pool=None, candidates=CANDIDATES):
    """(len(rows),) footage rows of ``own`` whose eyes draw the moved head's eyes of the
    ``requested`` rows (-1: none): nearest in lids and gaze (:data:`GAZE_COST`), open at least
    as far (:data:`EYE_OPEN_COST`), little turned from the requested head (:data:`POSE_COST`),
    runs kept (:data:`EYE_SWITCH_COST`)."""
    ok = np.asarray(own.tracked, bool) & np.isfinite(np.asarray(own.pose, np.float64)).all(1)
    pool = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
    rows = np.asarray(rows, np.int64)
    out = np.full(len(rows), -1, np.int64)
    if not len(pool) or not len(rows):
        return out
    F, of, gf = eye_shapes(own, pool)
    Q, oq, gq = eye_shapes(requested, rows)
    good = np.isfinite(of) & np.isfinite(gf).all(1)
    pool, F, of, gf = pool[good], F[good], of[good], gf[good]
    if not len(pool):
        return out
    F, Q = F.reshape(len(pool), -1), Q.reshape(len(rows), -1)
    E = F.shape[1] // 3
    R_pool = euler_to_matrix(np.asarray(own.pose, np.float64)[pool, :3])
    R_req = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[rows, :3]))
    K = min(int(candidates), len(pool))
    cand, cost = [], []
    for k in range(len(rows)):
        if not (np.isfinite(Q[k]).all() and np.isfinite(gq[k]).all()):
            cand.append(None)
            cost.append(None)
            continue
        d = np.sqrt(((F - Q[k]) ** 2).sum(1) / E)
        c = d + GAZE_COST * np.linalg.norm(gf - gq[k], axis=1) + EYE_OPEN_COST * np.maximum(oq[k] - of, 0) \
            + POSE_COST * rotation_angle_deg(R_pool, R_req[k][None])
        idx = np.argpartition(c, K - 1)[:K]
        cand.append(pool[idx])
        cost.append(np.stack([c[idx], d[idx]], 1))
    return _runs(rows, cand, cost, EYE_SWITCH_COST, out, np.full(len(rows), np.nan))[0]


def eyes_from(shot, j, frame, pd, area=None):
    """(``frame`` with both eyes (the openings and the lids around them) of the requested points
    ``pd`` drawn from footage row ``j`` of ``shot`` (a :class:`ShotFrames`), feathered over the
    lids; the (H, W) bool eye hole: what the requested lids open beyond row ``j``'s opening), or
    (``frame``, None) when it cannot. Each eye is moved by its own affine map, fitted on its
    opening's loop: lids and eyeball move together, and the far eye of a turned head is
    foreshortened as it should be (the face's one rigid motion, which the mesh warp gives the
    eyeballs, put the far eye's iris beside its lids at 20 degrees of turn). ``area``: the
    picture inside letterbox or pillarbox bars (x0, y0, x1, y1), which nothing here crosses."""
    from .meshes import _mesh

    if j is None or not (np.isfinite(pd).all() and np.isfinite(shot.ps[j]).all()):
        return frame, None
    H, W = frame.shape[:2]
    ax0, ay0, ax1, ay1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    src = shot._frame(j)
    out, hole = frame, np.zeros((H, W), bool)
    for lp in _mesh().eyes:
        P, Q = pd[list(lp)], shot.ps[j][list(lp)]
        width = float(np.ptp(P[:, 0]))
        if width < 2.0:
            continue
        c = P.mean(0)
        region = c + 1.6 * (P - c)  # the opening and the lids around it
        pad = int(np.ceil(0.45 * width)) + 2
        x0, y0 = np.maximum(np.floor(region.min(0)).astype(int) - pad, (ax0, ay0))
        x1, y1 = np.minimum(np.ceil(region.max(0)).astype(int) + pad, (ax1, ay1))
        if x1 <= x0 or y1 <= y0:
            continue
        A = cv2.estimateAffine2D(P.astype(np.float32), Q.astype(np.float32), method=cv2.LMEDS)[0]  # dst -> src
        if A is None:
            continue
        A = A.copy()
        A[:, 2] += A[:, :2] @ np.array([x0, y0], np.float64)  # the box's pixels
        roi = (x0, y0, x1 - x0, y1 - y0)
        shape = (roi[3], roi[2])
        moved = cv2.warpAffine(src, A, (roi[2], roi[3]), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        opening_j = np.zeros(src.shape[:2], np.uint8)
        cv2.fillPoly(opening_j, [np.round(Q * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        seen = cv2.warpAffine(opening_j * np.uint8(255), A, (roi[2], roi[3]), flags=cv2.INTER_LINEAR |
                              cv2.WARP_INVERSE_MAP) > 127
        hole[y0:y1, x0:x1] |= (_poly_mask(shape, P, roi) > 0) & ~seen
        a = cv2.GaussianBlur(_poly_mask(shape, region, roi).astype(np.float32), (0, 0), 0.15 * width)[..., None]
        sl = (slice(y0, y1), slice(x0, x1))
        if out is frame:
            out = frame.copy()
        out[sl] = np.clip(out[sl].astype(np.float32) * (1.0 - a) + moved * a + 0.5, 0, 255).astype(np.uint8)
    return out, hole


class ShotEyes(ShotFrames):
    """The footage's own eyes for an edit that keeps the head pose but changes where the actor
    looks (region ``face``: an animator's gaze keys): the eyes
    of the footage frame nearest in lids and gaze (:func:`plan_eyes`' cost, each row on its own,
    so Preview Frame's one row chooses as the render does), moved onto the row's eyes by
    :func:`eyes_from`. The mesh warp of the frame itself cannot move an iris (the eyeball turns
    with the face), and the network asked for the whole face drew the footage's gaze, softer.
    ``own``: the footage's Track (its tracked rows are the candidates, or ``pool``)."""

    def __init__(self, own, video, pool=None):
        super().__init__(own, video)
        ok = np.asarray(own.tracked, bool) & np.isfinite(np.asarray(own.pose, np.float64)).all(1)
        pool = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
        F, of, gf = eye_shapes(own, pool)
        good = np.isfinite(of) & np.isfinite(gf).all(1) & np.isfinite(F).all((1, 2))
        self.pool, self.F, self.of, self.gf = pool[good], F[good].reshape(int(good.sum()), -1), of[good], gf[good]
        self.R = euler_to_matrix(np.asarray(own.pose, np.float64)[self.pool, :3])

    def source(self, requested, r, own_row):
        """The footage row whose eyes draw row ``r`` of the performance ``requested`` (a Track),
        whose footage is row ``own_row`` of ``own``; None where the row asks for the gaze that
        footage row shows (:data:`EDIT_GAZE_MIN`) or no footage frame looks near enough
        (:data:`EDIT_GAZE_REACH`)."""
        Q, oq, gq = eye_shapes(requested, [r])
        gx = eye_shapes(self.own, [own_row])[2]
        if not (np.isfinite(Q).all() and np.isfinite(gq).all()) or not len(self.pool):
            return None
        if np.isfinite(gx).all() and np.linalg.norm(gq - gx) < EDIT_GAZE_MIN:
            return None  # the gaze the footage shows: the mesh warp of the frame itself moves its lids
        d = np.sqrt(((self.F - Q.reshape(1, -1)) ** 2).sum(1) / (self.F.shape[1] // 3))
        Rr = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[r:r + 1, :3]))[0]
        c = d + EDIT_GAZE_COST * np.linalg.norm(self.gf - gq[0], axis=1) + EYE_OPEN_COST * np.maximum(oq[0] - self.of, 0) \
            + POSE_COST * rotation_angle_deg(self.R, Rr[None])
        k = int(np.argmin(c))
        # a gaze the footage never shows is left to the renderer, as before (the nearest would
        # look where the footage looks)
        return int(self.pool[k]) if np.linalg.norm(self.gf[k] - gq[0]) <= EDIT_GAZE_REACH else None

    def draw(self, j, frame, pd, area=None):
        """:func:`eyes_from` footage row ``j`` onto ``frame``'s eyes at the points ``pd``."""
        return eyes_from(self, j, frame, pd, area)


#: full reenactment from the shot's own frames (:class:`ShotHead`): a footage frame other than
#: the one being replaced must be closer in head rotation to the request by this many degrees
HEAD_KEEP = 2.0
#: ... and leaving a run of consecutive footage frames costs this many degrees
HEAD_SWITCH = 3.0
#: ... and a unit of expression difference (L2 over the coefficients) counts as this many degrees
HEAD_EXPRESSION = 4.0


class ShotHead(ShotFrames):
    """Full reenactment (region ``head``) from the shot's own frames: each row's whole head taken
    from the footage frame whose head rotation is closest to the requested one (the frame being
    replaced unless another is closer by :data:`HEAD_KEEP` degrees; a dynamic programme keeps
    runs of consecutive frames, :data:`HEAD_SWITCH`; blended with its neighbours' sources,
    1/4, 1/2, 1/4), warped by the fitted meshes to the requested pose and expression, over this
    frame's own background: by the actor's matte, this frame's own actor taken out
    (:meth:`~reenact.render.motion.HeadMotion.layered`; without a matte, by the motion's weight: 1
    on the head, fading to 0). A 2-D warp of a frontal frame cannot show the side of a head the
    request turns to; a frame of the shot where the actor turned that way can. Same interface
    as :class:`~reenact.render.motion.HeadMotion` (``frame``, ``moves``) for the render path."""

    def __init__(self, own, requested, video, plate=None, pool=None, candidates=CANDIDATES, mouth=True, eyes=True,
                 donor=None):
        from .motion import HeadMotion

        self.motion = HeadMotion(own, requested, plate)
        super().__init__(own, video, (self.motion.ps, self.motion.zs))
        self.frame_start = int(requested.frame_start)
        ok = self.motion.ok.copy()
        avail = np.flatnonzero(ok) if pool is None else np.asarray([j for j in pool if ok[j]], np.int64)
        Ro = euler_to_matrix(np.nan_to_num(np.asarray(own.pose, np.float64)[:, :3]))
        Rr = euler_to_matrix(np.nan_to_num(np.asarray(requested.pose, np.float64)[:, :3]))
        rows = np.flatnonzero(ok)
        Eo = np.nan_to_num(np.asarray(own.expression, np.float64))
        Er = np.nan_to_num(np.asarray(requested.expression, np.float64))
        self.source = np.full(own.n_frames, -1, np.int64)
        self.turn = np.full(own.n_frames, np.nan)
        # each row's mouth and eyes from frames of their own (below): -1 where none
        self.mouth = np.full(own.n_frames, -1, np.int64)
        self.eyes = np.full(own.n_frames, -1, np.int64)
        #: what draws the moved head's mouth and eyes, for the crop cache's keys
        self.key = "mouth {}{} eyes {}".format("shot" if mouth else "renderer", "+driver" if donor is not None else "",
                                               "shot" if eyes else "head")
        #: the driver's mouth interior drawn into the opening (:func:`head_donor`), or None
        self.donor = donor
        # the mouths and eyes read with decoders of their own: each source moves forward through
        # the clip in runs, and one decoder shared with the heads' sources seeked back and forth
        self._mouth_frames = ShotFrames(own, video, (self.ps, self.zs)) if mouth else None
        self._eye_frames = ShotFrames(own, video, (self.ps, self.zs)) if eyes else None
        if not len(avail) or not len(rows):
            return
        K = min(int(candidates), len(avail))
        cand, cost = [], []
        for r in rows:
            d = rotation_angle_deg(Ro[avail], Rr[r][None])
            # the expression too: a warp moves a frown's brows but keeps its wrinkles
            c = d + HEAD_EXPRESSION * np.linalg.norm(Eo[avail] - Er[r], axis=1) + HEAD_KEEP * (avail != r)
            idx = np.argpartition(c, K - 1)[:K]
            if r not in avail[idx]:  # the frame itself stays a candidate when it is available
                idx = np.concatenate([idx, np.flatnonzero(avail == r)])
            cand.append(avail[idx])
            cost.append(np.stack([c[idx], d[idx]], 1))
        src, turn = _runs(rows, cand, cost, HEAD_SWITCH, np.full(len(rows), -1, np.int64), np.full(len(rows), np.nan))
        self.source[rows], self.turn[rows] = src, turn
        # the lower face from the footage frame with the nearest mouth (ShotMouth's choice, at the
        # requested pose): the head's source seldom has the requested opening, and the warp
        # stretches its lips over the opening (a red blob where the request opens a closed mouth)
        if mouth:
            self.mouth[rows] = plan(own, requested, rows, avail, moved=True)[0]
        # the eyes from the footage frame nearest in lids and gaze: the head's source looks where
        # that moment looked, and its neighbours' blend drew two irises where their gazes differ
        if eyes:
            self.eyes[rows] = plan_eyes(own, requested, rows, avail)

    def close(self):
        for f in (self._mouth_frames, self._eye_frames, self.donor):
            if f is not None:
                f.close()
        super().close()

    def moves(self, r):
        return self.motion.moves(r)

    def driver_row(self, r):
        """The footage row whose head draws performance row ``r``, or None."""
        j = int(self.source[r]) if 0 <= r < len(self.source) else -1
        return None if j < 0 else j

    def mouth_row(self, r):
        """The footage row whose mouth draws performance row ``r``, or None (the network draws
        what the moved head's mouth lacks)."""
        j = int(self.mouth[r]) if 0 <= r < len(self.mouth) else -1
        return None if j < 0 else j

    def frame(self, r, frame):
        """(``frame`` with the head moved to row ``r`` of the performance, drawn from footage row
        :meth:`driver_row`, its eyes from footage row ``eyes[r]`` (:func:`eyes_from`) and its
        lower face from footage row :meth:`mouth_row` (:func:`lower_face_from`), the WarpField
        or None when the row is not moved). The field's eye hole is then what the eyes' frame
        does not open, and where the mouth was drawn it has no mouth hole left for the network."""
        out, g = self._moved(r, frame)
        if g is None:
            return out, g
        m = self.motion
        if self.eyes[r] >= 0:
            out, hole = eyes_from(self._eye_frames, int(self.eyes[r]), out, m.pd[r], m.area)
            if hole is not None:
                g = replace(g, eye_hole=hole, valid=np.where(g.eye_hole & ~hole, np.float32(1), g.valid))
        if self.mouth_row(r) is not None:
            moved = out
            out = lower_face_from(self._mouth_frames, self.mouth_row, r, moved, m.pd[r], m.zd[r], m.pd[r],
                                  lambda b: moved[b[1]:b[3], b[0]:b[2]].astype(np.float32))
            g = replace(g, mouth_hole=np.zeros_like(g.mouth_hole), valid=np.maximum(g.valid, g.mouth_hole))
        if self.donor is not None and self.donor.driver_row(r) is not None:
            if self.mouth_row(r) is None:  # the driver's interior fills the opening the network would have
                g = replace(g, mouth_hole=np.zeros_like(g.mouth_hole), valid=np.maximum(g.valid, g.mouth_hole))
            out = self.donor.lower_face(r, out, out, m.pd[r], m.pd[r])  # (the moved head's mouth is at pd)
        return out, g

    def _moved(self, r, frame):
        j = self.driver_row(r)
        if j is None or j == r or not self.motion.moves(r):
            return self.motion.frame(r, frame)
        m = self.motion
        # the sources of this row and its neighbours, each warped to this row's head and blended
        # (1/4, 1/2, 1/4), so that a change of source fades over three frames
        moved, wsum, g = 0.0, 0.0, None
        lay_c, lay_a = 0.0, 0.0  # with the matte: the sources' colours premultiplied by their mattes
        for k, wk in ((r, 0.5), (r - 1, 0.25), (r + 1, 0.25)):
            jk = j if k == r else self.driver_row(k)
            if jk is None:
                continue
            gk = warp_field(self.ps[jk], m.pd[r], None, frame.shape[:2], src_depth=self.zs[jk], dst_depth=m.zd[r],
                            model_points=m.identity)
            g = gk if g is None else g
            src = self._frame(jk)
            ck = warp_image(src, gk, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101,
                            area=m.area).astype(np.float32)
            moved = moved + wk * ck
            if m.matte:  # the source's actor, warped the same way (its layer's matte)
                ak = wk * warp_image(m.actor_matte(jk, src, self.ps[jk]), gk, border=cv2.BORDER_REFLECT_101,
                                     area=m.area)
                lay_a = lay_a + ak
                lay_c = lay_c + ak[..., None] * ck
            wsum += wk
        moved = moved / wsum
        plain = np.clip(moved + 0.5, 0, 255).astype(np.uint8)
        if g.disocclusion.any() and not m.matte:  # (with the matte the layer draws the room there)
            from .head import fill_background

            plain = fill_background(plain, m.uncovered(g), m.plate, m.known)
        # around the head, this frame moved the same way (its own head must not show beside the
        # other frame's); with the matte the layer takes this frame's own head out instead, and the
        # plain blend serves only where the motion fades out, where this frame is its own answer
        here = frame if m.matte else m.frame(r, frame, layer=False)[0]
        w = g.weight[..., None]
        out = np.clip(w * plain.astype(np.float32) + (1.0 - w) * here.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
        if m.matte:
            # the other frames' actor over this frame's own background. Their colours are averaged
            # by their mattes: where one source has hair and its neighbour wall, the hair's colour
            # with half its opacity over this frame's room, not a lighter band of both (a change
            # of source used to draw an arc through the hair); in what the head-region estimate
            # calls uncovered, only what continues the moved actor (attached_alpha)
            sure = lay_a > 1e-3
            layer = np.where(sure[..., None], lay_c / np.where(sure, lay_a, 1.0)[..., None], moved)
            alpha = attached_alpha(lay_a / wsum, m.unsure(g))
            out = m.layered(out, np.clip(layer + 0.5, 0, 255).astype(np.uint8), alpha, r, frame, g)
        return out, g
