# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing from the shot's own frames. :class:`ShotMouth` (below) for mouth dubs;
:class:`~.shothead.ShotHead` for full reenactment (each row's head from the frame nearest in head
pose, its mouth and eyes from the frames nearest in mouth and in gaze; it shares this module's
choice of frames); :class:`~.eyes.ShotEyes` for an edit of the gaze (region ``face``).

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

import hashlib
import threading

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, rotation_angle_deg
from .donor import INNER_LIP, LOWER_FACE, LOWER_FEATHER, OUTER_LIP, _poly_mask, beyond_footage, mouth_mode
from .focus import as_soft_as
from .meshes import channels, wide_blur
from .motion import DETAIL_FIELD_SCALE
from .shotframes import (CANDIDATES, POSE_COST, ShotFrames, _runs, model_vertices, other_shot, padded_box,
                         replace_region)

#: mesh points compared between the requested mouth and a footage frame's: lips and jaw line
MOUTH_POINTS = tuple(sorted(set(INNER_LIP) | set(OUTER_LIP) | set(LOWER_FACE[:17])))
#: cost of leaving a run of consecutive footage frames (cm of lip distance)
SWITCH_COST = 0.5
#: cost of drawing the next row from the same footage frame again (cm of lip distance)
HOLD_COST = 0.05
#: cost per cm by which a footage frame's lips are open less than asked (the warp cannot draw
#: the teeth and mouth it lacks: the lips stay shut) and more than asked (squeezed shut, its
#: teeth still show in a slit)
OPEN_COST = (3.0, 1.5)
#: detail finer than this (a fraction of the face height) comes from the frame being replaced
DETAIL_SIGMA = 0.012
#: the shot's mouth warp smooths its displacement by this fraction of the face height: half the
#: driver's mouth's (:data:`~.motion.LOWER_SMOOTH`, which stretches another actor's lips much
#: farther); at that one the lips moved only part of the way, and a dub read the source frame's
#: opening more than the requested one (d3 -> d19 lip gap r / slope 0.94 / 0.89 -> 0.95 / 0.95)
SHOT_SMOOTH = 0.01
#: inner-lip vertex pairs (upper, lower) whose distances measure the opening
GAP_PAIRS = ((82, 87), (13, 14), (312, 317))
#: the vertices :func:`mouth_shapes` reads: :data:`MOUTH_POINTS`, then the :data:`GAP_PAIRS` not among them
_SHAPE_POINTS = MOUTH_POINTS + tuple(sorted({v for pair in GAP_PAIRS for v in pair} - set(MOUTH_POINTS)))


def mouth_shapes(track, rows=None):
    """((R, M, 3) model-frame positions (cm, no pose) of :data:`MOUTH_POINTS` of ``track``'s
    fitted mesh, (R,) mean inner-lip opening (cm, :data:`GAP_PAIRS`)); NaN where untracked."""
    V, bad = model_vertices(track, rows, _SHAPE_POINTS)  # (only these: the whole mesh of a long shot took seconds)
    X = V[:, :len(MOUTH_POINTS)]
    gap = np.mean([np.linalg.norm(V[:, _SHAPE_POINTS.index(u)] - V[:, _SHAPE_POINTS.index(d)], axis=-1)
                   for u, d in GAP_PAIRS], 0)
    X[bad] = np.nan
    gap[bad] = np.nan
    return X, gap


def changed_rows(own, requested):
    """Rows where the ``requested`` performance's lips or jaw differ from the footage's (``own``)."""
    a = mouth_shapes(own)[0]
    b = mouth_shapes(requested)[0]
    return np.flatnonzero(np.isfinite(b).all((1, 2)) & ~(np.abs(a - b) <= 1e-6).all((1, 2)))


def plan(own, requested, rows, pool=None, pose_cost=POSE_COST, switch_cost=SWITCH_COST, candidates=CANDIDATES,
         moved=False, hold_cost=HOLD_COST):
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
    R_pool = euler_to_matrix(np.asarray(own.pose, np.float64)[pool, :3])
    own_pose = np.asarray((requested if moved else own).pose, np.float64)
    K = min(int(candidates), len(pool))
    shots = own.shots()
    # the rows chosen before for this very request are taken as they were; the others by the path a plan
    # of every row takes (so a preview after an edit chooses as a fresh render of the performance does)
    blocked = len(rows) * len(pool) > BLOCKED_ABOVE
    with _MEMO_LOCK:
        memo, keys = _memo(F, gf, pool, R_pool, shots, own, (pose_cost, K, blocked), Q, gq, own_pose[rows, :3],
                           ok[rows])
        have = [memo.get(int(r)) for r in rows]
    have = [h if h is not None and h[0] == keys[k] else None for k, h in enumerate(have)]
    todo = [k for k, h in enumerate(have) if h is None]
    if todo:
        new = (_candidates_blocked if blocked else _candidates)(F, gf, Q[todo], gq[todo], pool, rows[todo], ok, R_pool,
                                                                own_pose, shots, own, pose_cost, K)
        with _MEMO_LOCK:  # (another plan may write the same rows: each takes its own)
            for k, c, e in zip(todo, *new):
                have[k] = memo[int(rows[k])] = (keys[k], c, e)
    return _runs(rows, [h[1] for h in have], [h[2] for h in have], switch_cost, out, dist, hold_cost)


#: :func:`plan`'s candidates of the last few footage Tracks (:data:`MEMO_SHOTS`), per row with
#: the requested mouth and head they were chosen for: Preview Frame plans the whole performance
#: for each frame it shows, and after an edit of a few keys only those rows are chosen again (a
#: 10-minute dub's preview took 20 s of choosing after every edit)
_MEMO = {}
_MEMO_LOCK = threading.Lock()
MEMO_SHOTS = 2


def _memo(F, gf, pool, R_pool, shots, own, settings, Q, gq, pose, tracked):
    """(the row -> (key, candidates, costs) memo of this footage and these choices' ``settings``
    (pose cost, K, the blocked path), each row's key: a digest of its requested mouth, opening and
    head and whether the footage's row is tracked). Called under :data:`_MEMO_LOCK`."""
    h = hashlib.blake2b(digest_size=20)
    for a in (F, gf, pool, R_pool, shots, getattr(own, "light", None), getattr(own, "no_source", None)):
        a = np.ascontiguousarray(np.asarray(a if a is not None else ()))
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
    h.update(repr((float(settings[0]), int(settings[1]), bool(settings[2]), OPEN_COST)).encode())
    ctx = h.digest()
    memo = _MEMO.pop(ctx, None) or {}
    _MEMO[ctx] = memo  # (most recently used last)
    while len(_MEMO) > MEMO_SHOTS:
        del _MEMO[next(iter(_MEMO))]
    R = np.ascontiguousarray(np.concatenate([np.nan_to_num(Q, nan=np.inf), np.nan_to_num(gq, nan=np.inf)[:, None],
                                             np.asarray(pose, np.float64), np.asarray(tracked, np.float64)[:, None]], 1))
    return memo, [hashlib.blake2b(R[k].tobytes(), digest_size=16).digest() for k in range(len(R))]


def _candidates(F, gf, Q, gq, pool, rows, ok, R_pool, own_pose, shots, own, pose_cost, K):
    """:func:`plan`'s candidate footage rows and their (K, 2) costs and distances for the
    requested ``rows`` (mouths ``Q``, openings ``gq``), None where a row has none, row by row
    (a long shot's: :func:`_candidates_blocked`)."""
    M = len(MOUTH_POINTS)
    cand, cost = [], []
    for k, r in enumerate(rows):
        if not np.isfinite(Q[k]).all() or not ok[r]:
            cand.append(None)
            cost.append(None)
            continue
        d = np.sqrt(((F - Q[k]) ** 2).sum(1) / M)
        turn = rotation_angle_deg(R_pool, euler_to_matrix(own_pose[r:r + 1, :3])[0][None])
        c = d + pose_cost * turn + OPEN_COST[0] * np.maximum(gq[k] - gf, 0) + OPEN_COST[1] * np.maximum(gf - gq[k], 0)
        c = c + other_shot(shots, pool, r, own)
        idx = np.argpartition(c, K - 1)[:K]
        cand.append(pool[idx])
        cost.append(np.stack([c[idx], d[idx]], 1))
    return cand, cost


#: :func:`plan` takes the blocked path (:func:`_candidates_blocked`) above this many row x pool
#: pairs: a 10-minute shot's dub (20,000 x 20,000) took 4 minutes row by row, Preview Frame
#: included; below it (every shared clip) the row-by-row loop, as measured for the benchmarks
BLOCKED_ABOVE = 4_000_000
#: rows per block, and candidates kept per row from the block's approximate costs before the
#: exact ones choose the :data:`CANDIDATES`
BLOCK_ROWS, BLOCK_SPARE = 128, 16


def _candidates_blocked(F, gf, Q, gq, pool, rows, ok, R_pool, own_pose, shots, own, pose_cost, K):
    """:func:`plan`'s candidates and costs, rows in blocks: the lip distances of a block to
    every pool frame by one matrix product (|q|^2 + |f|^2 - 2 q.f), the pose, opening and
    shot/light terms alike over the block; the :data:`BLOCK_SPARE` + K cheapest by these costs
    are then costed exactly as row by row, and the K cheapest kept (the same candidates but for
    ties within float rounding)."""
    from .shotframes import other_shot_block

    M = len(MOUTH_POINTS)
    Fn = (F * F).sum(1)
    Rf = R_pool.reshape(len(pool), 9)
    cand, cost = [None] * len(rows), [None] * len(rows)
    live = np.flatnonzero(np.isfinite(Q).all(1) & ok[rows])
    spare = min(len(pool), K + BLOCK_SPARE)
    for s in range(0, len(live), BLOCK_ROWS):
        ks = live[s:s + BLOCK_ROWS]
        rs = rows[ks]
        q = Q[ks]
        d2 = (q * q).sum(1)[:, None] + Fn[None, :] - 2.0 * (q @ F.T)
        d = np.sqrt(np.maximum(d2, 0.0) / M)
        Rr = euler_to_matrix(own_pose[rs, :3]).reshape(len(rs), 9)
        turn = np.degrees(np.arccos(np.clip(((Rr @ Rf.T) - 1.0) / 2.0, -1.0, 1.0)))
        extra = OPEN_COST[0] * np.maximum(gq[ks][:, None] - gf[None, :], 0) + OPEN_COST[1] * np.maximum(
            gf[None, :] - gq[ks][:, None], 0) + other_shot_block(shots, pool, rs, own)
        c = d + pose_cost * turn + extra
        pre = np.argpartition(c, spare - 1, axis=1)[:, :spare]
        for b, k in enumerate(ks):  # exact distances of the cheapest, as row by row
            idx = pre[b]
            de = np.sqrt(((F[idx] - q[b]) ** 2).sum(1) / M)
            ce = de + pose_cost * turn[b, idx] + extra[b, idx]
            keep = np.argpartition(ce, K - 1)[:K]
            cand[k] = pool[idx[keep]]
            cost[k] = np.stack([ce[keep], de[keep]], 1)
    return cand, cost


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

    def draw_moved(self, r, moved, pd, zd, offset=0):
        """``moved`` (a frame whose face is already at the requested points ``pd``, depths ``zd``:
        region face's edit) with the lower face of row ``r`` (this one's row ``r + offset``:
        Preview Frame's motion holds one row) drawn from :meth:`driver_row`'s footage frame;
        ``moved``'s own skin detail is kept."""
        return moved_lower_face(self, lambda k: self.driver_row(k + offset), r, moved, pd, zd, r + offset)


def moved_lower_face(shot, source_of, r, moved, pd, zd, row=None):
    """:func:`lower_face_from` for a frame already moved to the requested points ``pd``."""
    return lower_face_from(shot, source_of, r, moved, pd, zd, pd,
                           lambda b: moved[b[1]:b[3], b[0]:b[2]].astype(np.float32), row)


def face_mouth(performance, own, video, mode="auto", pool=None):
    """Region ``face``'s mouth: (a :class:`ShotMouth` over the rows whose mouth ``performance``
    changes, or None where the network draws it, the choice (a dict for the render summary)).
    An animator's jawOpen key asks for a mouth the frame being edited does not have: warped, its
    closed lips stretched over the opening and the network painted more lip into it. The shot's
    own frame with the nearest mouth draws it instead (:func:`choose_mouth` without a driver:
    ``auto`` up to :data:`SHOT_MOUTH_REACH` times the footage's widest opening; ``renderer``: the
    network; ``driver`` is refused for region face by the render path)."""
    changed = changed_rows(own, performance)
    source, info = choose_mouth(None, performance, own, mode, changed)
    if source != "shot" or video is None or not len(changed):
        info["source"] = "renderer"
        return None, info
    return ShotMouth(own, performance, video, rows=changed, pool=pool), info


def lower_face_from(shot, source_of, r, frame, pd, zd, own, here_of, row=None):
    """``frame`` (footage row ``row``, default ``r``) with the lower face of performance row ``r``
    drawn from footage row ``source_of(r)`` of ``shot`` (a :class:`ShotFrames`), blended with the
    sources of the rows beside it, warped to the requested points ``pd`` (depths ``zd``), in ``row``'s
    light (:meth:`~.shotframes.ShotFrames.light_gain`) and focus (:mod:`.focus`); ``own``: the face's points in
    ``frame``; ``here_of(box)``: ``frame``'s pixels at ``pd`` in that box (float32), kept as detail."""
    j = source_of(r)
    if j is None or not (np.isfinite(pd).all() and np.isfinite(shot.ps[j]).all()):
        return frame
    face_h = float(np.ptp(own[:, 1]))
    hull = np.concatenate([pd[list(LOWER_FACE)], own[list(LOWER_FACE)]])
    box = padded_box(hull, int(np.ceil(3 * LOWER_FEATHER * face_h)) + 2, frame.shape, shot.area)
    if box is None:
        return frame
    x0, y0, x1, y1 = box
    # this row's and its neighbours' sources (of one shot), warped to this row's mouth, blended 1/4, 1/2, 1/4:
    # a driver's mouth seldom moves as any stretch of the shot did, and a source switched every frame flickers
    src, wsum = 0.0, 0.0
    for k, w in ((r - 1, 0.25), (r, 0.5), (r + 1, 0.25)):
        jk = source_of(k) if k != r else j
        if jk is not None and shot.same_shot(jk, j):
            src = src + w * shot.light_gain(jk, r if row is None else row) * shot.warped(jk, pd, zd, (x0, y0, x1, y1), smooth=SHOT_SMOOTH * face_h)
            wsum += w
    src, roi, shape = src / wsum, (x0, y0, x1 - x0, y1 - y0), (y1 - y0, x1 - x0)
    here, sigma = here_of((x0, y0, x1, y1)), DETAIL_SIGMA * face_h
    lips = _poly_mask(shape, cv2.convexHull(pd[list(OUTER_LIP)].astype(np.float32))[:, 0], roi).astype(np.float32)
    width = float(np.hypot(*(pd[291] - pd[61])))
    lips = np.clip(wide_blur(lips, max(1.0, 0.12 * width)) * 2.0, 0, 1)[..., None]
    skin = _poly_mask(shape, cv2.convexHull(pd[list(LOWER_FACE)].astype(np.float32))[:, 0], roi).astype(np.float32)
    src = as_soft_as(src, here, skin * (1.0 - lips[..., 0]))[0]  # a soft row (focus, motion): its lips as soft
    d = here - src  # here's fine detail in place of src's: (here - blur(here)) - (src - blur(src))
    src += channels(1.0 - lips) * (d - wide_blur(d, sigma))
    # the two frames' light may differ a little: matched over the feathered edge
    return replace_region(frame, src, (x0, y0, x1, y1), hull, LOWER_FEATHER * face_h)


#: ``auto`` without a driver: the shot's own mouth, stretched, up to this many times the footage's
#: widest opening; the renderer network beyond. A jawOpen key on d14 asking 1.3x her widest: the
#: network drew a pink smear (region mouth) or a lipstick blob (region face), her own open mouth
#: stretched looked right; on s20 at 2.5x her stretched lips barely parted and the network's dark
#: open mouth looked better (docs/reenact-bench.md, *JawOpen and blink keys*)
SHOT_MOUTH_REACH = 2.0


def choose_mouth(donor, performance, own, mode="auto", changed=None):
    """(where a mouth dub's lower face comes from: "driver", "shot" or "renderer", what was
    chosen (a dict for the render summary)). One choice per performance, whatever frames are
    rendered (a dub never switches between two mouths, and Preview Frame shows what the render
    draws). ``donor``: the driver's :class:`MouthDonor` or None (no driver given; closed here
    when not used); ``own``: the footage's Track.

    ``mode`` (:data:`MODES`): "auto" takes the driver's mouth when a driver is given and the
    dub opens the mouth beyond anything the footage shows (:func:`beyond_footage`); without a
    driver the shot's own frames (their widest mouth stretched) up to :data:`SHOT_MOUTH_REACH`
    times the footage's widest opening, the renderer beyond; and otherwise the shot's own
    frames, which hold every mouth the dub asks for. "driver" needs a ``donor``. ``changed``:
    :func:`changed_rows` of the two, when the caller has them."""
    mode = mouth_mode(mode)
    if donor is not None:
        rows = np.flatnonzero([donor.driver_row(r) is not None for r in range(performance.n_frames)])
    else:
        rows = changed_rows(own, performance) if changed is None else changed
    need, asked, shown = beyond_footage(performance, own, rows) if len(rows) else (False, 0.0, 0.0)
    if mode == "driver" and donor is None:
        raise ValueError("the driver's mouth needs the driver's Track and footage (--mouth-from)")
    if mode == "auto":
        source = ("driver" if donor is not None else
                  "renderer" if asked > SHOT_MOUTH_REACH * shown else "shot") if need else "shot"
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
        donor.in_scene(own, video)
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


def head_donor(performance, own, mouth_from=None, mode="auto", accept_footage=False, video=None):
    """The driver's mouth for a full reenactment (region ``head``): (a
    :class:`~reenact.render.donor.MouthDonor` or None, the choice (a dict for the render summary),
    warnings). The moved head's lower face is the shot's own mouth (:class:`~.shothead.ShotHead`); with the
    driver (``mouth_from`` = (Track or path, footage)) and ``mode`` "driver", or "auto" where the
    performance opens the mouth over :data:`HEAD_BEYOND_FOOTAGE` times as wide as the footage
    ``own`` ever does, the driver's mouth interior is drawn into
    its opening, as in a dub: the nearest footage mouth, stretched, showed lips and streaks there.
    The driver is checked before any long work; with the footage ``video`` the driver's interior
    is drawn in its light (:meth:`~.donor.MouthDonor.in_scene`)."""
    from .donor import open_donor

    mode = mouth_mode(mode)
    if mode == "driver" and mouth_from is None:
        raise ValueError("the driver's mouth needs the driver's Track and footage (--mouth-from)")
    info = {"source": "shot" if mode != "renderer" else "renderer", "mode": mode, "used": False}
    if mouth_from is None:
        return None, info, []
    donor, warnings = open_donor(performance, mouth_from[0], mouth_from[1], accept_footage)
    donor.in_scene(own, video)
    rows = [r for r in range(performance.n_frames) if donor.driver_row(r) is not None]
    asked, shown = beyond_footage(performance, own, rows)[1:] if rows else (0.0, 0.0)
    info.update(asked_opening=asked, footage_opening=shown)
    if mode == "driver" or (mode == "auto" and rows and asked > HEAD_BEYOND_FOOTAGE * shown):
        info.update(source="shot+driver", used=True)
        return donor, info, warnings
    donor.close()
    return None, info, warnings
