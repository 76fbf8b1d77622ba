# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing from the shot's own frames. :class:`ShotMouth` (below) for mouth dubs;
:class:`ShotHead` for full reenactment (each row's head from the frame nearest in head pose, its
mouth and eyes from the frames nearest in mouth and in gaze); :class:`~.eyes.ShotEyes` for an edit of
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

import threading
from dataclasses import replace

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, rotation_angle_deg
from .donor import INNER_LIP, LOWER_FACE, LOWER_FEATHER, OUTER_LIP, _poly_mask, beyond_footage, mouth_mode
from .brows import brows_from, plan_brows
from .eyes import eye_maps, eyes_from, head_lids_keep, plan_eyes, rest_of_turn, slide_lids
from .irises import move_irises
from .crossfade import aligned_crossfade, mean_geometry
from .focus import as_soft_as
from .head import agreed_mattes, attached_alpha, body_offset
from .meshes import channels, face_size, weighted_mix, wide_blur
from .rims import shot_has_rims, without_rims
from .motion import DETAIL_FIELD_SCALE, upscaled_field
from .shotframes import (CANDIDATES, POSE_COST, ShotFrames, _runs, model_vertices, other_shot, padded_box,
                         replace_region)
from .warp import warp_field, warp_image

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


def mouth_shapes(track, rows=None):
    """((R, M, 3) model-frame positions (cm, no pose) of :data:`MOUTH_POINTS` of ``track``'s
    fitted mesh, (R,) mean inner-lip opening (cm, :data:`GAP_PAIRS`)); NaN where untracked."""
    V, bad = model_vertices(track, rows)
    X = V[:, list(MOUTH_POINTS)]
    gap = np.mean([np.linalg.norm(V[:, u] - V[:, d], axis=-1) for u, d in GAP_PAIRS], 0)
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
    M = len(MOUTH_POINTS)
    R_pool = euler_to_matrix(np.asarray(own.pose, np.float64)[pool, :3])
    own_pose = np.asarray((requested if moved else own).pose, np.float64)
    K = min(int(candidates), len(pool))
    shots = own.shots()
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
    return _runs(rows, cand, cost, switch_cost, out, dist, hold_cost)


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
    warnings). The moved head's lower face is the shot's own mouth (:class:`ShotHead`); with the
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


#: full reenactment from the shot's own frames (:class:`ShotHead`): a footage frame other than
#: the one being replaced must be closer in head rotation to the request by this many degrees
HEAD_KEEP = 2.0
#: ... and leaving a run of consecutive footage frames costs this many degrees
HEAD_SWITCH = 3.0
#: ... and a unit of expression difference (L2 over the coefficients) counts as this many degrees
HEAD_EXPRESSION = 4.0
#: a moved head whose nearest footage frame is this many degrees or more from the requested
#: rotation shows a side of the head no frame of the shot shows (the warp stretches hair and
#: ears there): the render says which frames (:meth:`ShotHead.unseen`, :func:`unseen_pose_warning`)
UNSEEN_TURN_DEG = 10.0
#: ... runs of such frames this many frames apart or less are named as one
UNSEEN_GAP = 2
#: a head source's body offset (:meth:`ShotHead.body_offset`) below this many pixels is ignored
BODY_MIN = 0.5
#: the layer turns into this frame's own actor where the head's motion fades (:meth:`ShotHead._own_beyond`)
OWN_FADE = True
#: :meth:`ShotHead._moved`: each blended source's actor matte limited to the others' largest
LAYER_CONSENSUS = True
#: ... this frame's own actor moved by a field computed at this fraction of the resolution
OWN_FIELD_SCALE = 0.5
#: :meth:`ShotHead.frame`: lids asked narrower than the eyes' source frame are slid (eyes.HEAD_LIDS_SLIDE)
HEAD_LIDS = True
#: where the source changes, the sources are moved to one geometry beyond the face, reached
#: from the face's mesh over this many face sizes (:func:`~.crossfade.mean_geometry`)
SOURCES_FACE_SOFT = 0.03


def unseen_pose_warning(runs, most=4, offset=0):
    """One line for :meth:`ShotHead.unseen`'s runs (None when there are none); ``offset`` is
    added to the frame numbers (Blender's timeline frames)."""
    if not runs:
        return None
    spans = ["{}-{}".format(a + offset, b - 1 + offset) if b - a > 1 else str(a + offset) for a, b, _ in runs[:most]]
    more = " and {} more".format(len(runs) - most) if len(runs) > most else ""
    one = len(runs) == 1 and runs[0][1] - runs[0][0] == 1
    return ("{} {}{} {} for a head pose no frame of the shot shows (up to {:.0f} degrees from the nearest): "
            "the side of the head that turn brings into view is stretched from that frame there "
            "(a transfer eases such turns unless --free-turns or Turns the Shot Can Show off)".format(
                "frame" if one else "frames", ", ".join(spans), more, "asks" if one else "ask",
                max(t for _, _, t in runs)))


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
                 donor=None, redraw=None, matte=None, brows=True):
        from .motion import HeadMotion

        self.motion = HeadMotion(own, requested, plate, matte=matte)
        #: rows drawn from another frame even where the head does not move (bool per row, or
        #: None): rows whose own frame may not be drawn from (:class:`~.shotface.ShotFace`)
        self.redraw = redraw
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
        #: per row, degrees from the requested head rotation to the nearest the head may be drawn from
        self.nearest_turn = np.full(own.n_frames, np.nan)
        # each row's mouth and eyes from frames of their own (below): -1 where none
        self.mouth = np.full(own.n_frames, -1, np.int64)
        self.eyes = np.full(own.n_frames, -1, np.int64)
        self.brows = np.full(own.n_frames, -1, np.int64)  # (:mod:`.brows`)
        #: what draws the moved head's mouth and eyes, for the crop cache's keys
        self.key = "mouth {}{} eyes {}".format("shot" if mouth else "renderer", "+driver" if donor is not None else "",
                                               "shot" if eyes else "head") + (" brows shot" if brows else "")
        #: the driver's mouth interior drawn into the opening (:func:`head_donor`), or None
        self.donor = donor
        # the mouths and eyes read with decoders of their own: each source moves forward through
        # the clip in runs, and one decoder shared with the heads' sources seeked back and forth
        # (inside the picture's bars, as the head's warps: a brow feathered over a pillarbox bar
        # drew a grey ghost of the forehead into it, driving_d14)
        area = self.motion.area
        self._mouth_frames = ShotFrames(own, video, (self.ps, self.zs), area) if mouth else None
        self._eye_frames = ShotFrames(own, video, (self.ps, self.zs), area) if eyes else None
        self._brow_frames = ShotFrames(own, video, (self.ps, self.zs), area) if brows else None
        self._offsets, self._offsets_lock = {}, threading.Lock()
        if shot_has_rims(self, rows):  # glasses: their rims drawn in front of the moved eyes (.rims)
            for f in (f for f in (self, self._eye_frames, self._brow_frames) if f is not None):
                f.rimless = True
        if not len(avail) or not len(rows):
            return
        K = min(int(candidates), len(avail))
        shots = self.shot_of
        cand, cost = [], []
        for r in rows:
            d = rotation_angle_deg(Ro[avail], Rr[r][None])
            self.nearest_turn[r] = float(d.min())
            # the expression too: a warp moves a frown's brows but keeps its wrinkles
            c = d + HEAD_EXPRESSION * np.linalg.norm(Eo[avail] - Er[r], axis=1) + HEAD_KEEP * (avail != r)
            c = c + other_shot(shots, avail, r, self.own)
            idx = np.argpartition(c, K - 1)[:K]
            if r not in avail[idx]:  # the frame itself stays a candidate when it is available
                idx = np.concatenate([idx, np.flatnonzero(avail == r)])
            cand.append(avail[idx])
            cost.append(np.stack([c[idx], d[idx]], 1))
        self.source[rows] = _runs(rows, cand, cost, HEAD_SWITCH, np.full(len(rows), -1, np.int64),
                                  np.full(len(rows), np.nan))[0]
        # the lower face from the footage frame with the nearest mouth (ShotMouth's choice, at the
        # requested pose): the head's source seldom has the requested opening, and the warp
        # stretches its lips over the opening (a red blob where the request opens a closed mouth)
        if mouth:
            self.mouth[rows] = plan(own, requested, rows, avail, moved=True)[0]
        # the eyes from the footage frame nearest in lids and gaze: the head's source looks where
        # that moment looked, and its neighbours' blend drew two irises where their gazes differ
        if eyes:
            self.eyes[rows] = plan_eyes(own, requested, rows, avail)
        # the brows from the frame nearest in brows: a warp moves the head's brows, not its frown
        if brows:
            self.brows[rows] = plan_brows(own, requested, rows, self.source[rows], avail)

    def close(self):
        for f in (self._mouth_frames, self._eye_frames, self._brow_frames, self.donor):
            if f is not None:
                f.close()
        super().close()

    def moves(self, r):
        return self.motion.moves(r)

    def unseen(self, a, b):
        """Clip frames ``a``..``b``-1 whose requested head rotation no footage frame the head may
        be drawn from comes within :data:`UNSEEN_TURN_DEG` of: a list of [first, end, degrees]
        (end excluded; the most degrees in that run), in order; runs :data:`UNSEEN_GAP` frames
        apart or less are one."""
        f0, runs = self.frame_start, []
        for i in range(max(int(a), f0), min(int(b), f0 + len(self.nearest_turn))):
            t = self.nearest_turn[i - f0]
            if not (np.isfinite(t) and t >= UNSEEN_TURN_DEG):
                continue
            if runs and i - runs[-1][1] <= UNSEEN_GAP:
                runs[-1][1], runs[-1][2] = i + 1, max(runs[-1][2], round(float(t), 1))
            else:
                runs.append([i, i + 1, round(float(t), 1)])
        return runs

    def driver_row(self, r):
        """The footage row whose head draws performance row ``r``, or None."""
        j = int(self.source[r]) if 0 <= r < len(self.source) else -1
        return None if j < 0 else j

    def brow_row(self, r):
        """The footage row whose brows draw performance row ``r``, or None."""
        j = int(self.brows[r]) if 0 <= r < len(self.brows) else -1
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
        if self._brow_frames is not None and self.brows[r] >= 0:
            out = brows_from(self._brow_frames, self.brow_row, self.driver_row, r, out, m.pd[r], m.zd[r])
        if self.eyes[r] >= 0:
            j, cover = int(self.eyes[r]), self._head_eyes(r)
            # lids asked narrower than any frame of the shot: the eye at its own opening, lids slid
            slide = head_lids_keep(self._eye_frames, j, m.requested, r) if HEAD_LIDS else None
            maps = eye_maps(self._eye_frames, j, m.pd[r], cover, own_opening=None if slide is None else np.isfinite(slide))
            out, hole = eyes_from(self._eye_frames, j, out, m.pd[r], m.area, cover=cover, maps=maps)
            if hole is not None:
                g = replace(g, eye_hole=hole, valid=np.where(g.eye_hole & ~hole, np.float32(1), g.valid))
                # fitted onto the asked openings, the eyes look less far than row j's (lids follow
                # a look up or down): the irises moved on to the asked gaze
                rest = rest_of_turn(self._eye_frames, j, maps, m.requested, r)
                if rest is not None:
                    out = move_irises(out, *rest)
            if slide is not None:  # (after the irises moved: the lids come down over them)
                out = slide_lids(self._eye_frames, j, maps, out, slide)
        shot_mouth = self.mouth_row(r) is not None
        driver_mouth = self.donor is not None and self.donor.driver_row(r) is not None
        if shot_mouth:
            out = moved_lower_face(self._mouth_frames, self.mouth_row, r, out, m.pd[r], m.zd[r])
        if driver_mouth:
            out = self.donor.lower_face(r, out, out, m.pd[r], m.pd[r])  # (the moved head's mouth is at pd)
        if shot_mouth or driver_mouth:  # the mouth is drawn: nothing left there for the network
            g = replace(g, mouth_hole=np.zeros_like(g.mouth_hole), valid=np.maximum(g.valid, g.mouth_hole))
        if self.rimless:  # the head sources' rims, moved with the head only
            srcs = [(self.driver_row(k), w) for k, w in ((r, 2), (r - 1, 1), (r + 1, 1))]  # (one shot's)
            out = self.rims_over(out, [(j, w, *m.head_points(j, r)) for j, w in srcs if self.same_shot(j, srcs[0][0])])
        return out, g

    def _head_eyes(self, r):
        """Where the head source's own eyes lie in the moved frame (the ``cover`` of
        :func:`~reenact.render.eyes.eyes_from`): its eye loops scaled onto the requested ones'
        centres. The warp opens or closes the lids to the request but leaves the eyeball where the
        source had it: a driver's blink over an open-eyed source left a grey smudge of iris."""
        from .meshes import _mesh

        j = self.driver_row(r)
        if j is None:
            return None
        P0, Q0 = self.motion.pd[r], self.ps[j]
        C = np.array(P0, np.float64, copy=True)
        for lp in _mesh().eyes:
            P, Q = P0[list(lp)], Q0[list(lp)]
            wq = float(np.ptp(Q[:, 0]))
            if wq > 1e-6:
                C[list(lp)] = P.mean(0) + (Q - Q.mean(0)) * (float(np.ptp(P[:, 0])) / wq)
        return C

    def body_offset(self, j, r, frame):
        """(dx, dy) px: where footage row ``j`` shows what row ``r``'s ``frame`` shows of the
        actor's body (:func:`~.head.body_offset`, over row ``r``'s matte when the layer has one;
        the last few kept)."""
        key = (int(j), int(r))
        with self._offsets_lock:
            d = self._offsets.get(key)
        if d is None:
            m = self.motion
            matte = m.actor_matte(r, frame, self.ps[r]) if m.matte else None
            d = body_offset(frame, self._frame(j), self.ps[r], matte)
            with self._offsets_lock:
                while len(self._offsets) >= 16:
                    self._offsets.pop(next(iter(self._offsets)))
                self._offsets[key] = d
        return d

    def _carried(self, f, j, r, frame):
        """The WarpField ``f`` (footage row ``j``'s head onto row ``r``'s requested one) with what
        lies beyond the head's motion taken from where frame ``j`` shows row ``r``'s body
        (:meth:`body_offset`), fading in as the head's motion (``f.weight``) fades out. Without
        it a source frame whose body sat elsewhere (d20: the camera tilts, the actor's collar 80
        px higher 120 frames later) laid its own neck and collar over this frame's: two collars,
        the room between them. The field's masks and weight are ``f``'s. Only for the layer (with
        the actor's matte): without it only the face is used (:class:`~.shotface.ShotFace`)."""
        if j == r or not self.motion.matte:
            return f
        dx, dy = self.body_offset(j, r, frame)
        if dx * dx + dy * dy < BODY_MIN * BODY_MIN:
            return f
        a = 1.0 - f.weight
        return replace(f, map_x=f.map_x + np.float32(dx) * a, map_y=f.map_y + np.float32(dy) * a, roi=None)

    def _own_beyond(self, layer, alpha, weight, r, frame, unsure, mine=None):
        """The other frames' actor (``layer`` (H, W, 3) float, ``alpha`` (H, W)) turned into this
        frame's own actor where the head's motion (``weight``) fades out: premultiplied by their
        mattes, ``weight`` of the sources' and ``1 - weight`` of this frame's. Where the motion
        ends the layer is then this frame's own actor, as the frame beyond it: the sources'
        hair and shoulders no longer meet this frame's along the motion's edge (s20: her hair
        hung otherwise in the source moment, and a wedge of sky opened at that edge). ``unsure``:
        where the moved actor is kept only as far as it continues the actor (the sources' field's,
        :meth:`~.motion.HeadMotion.unsure`: the same requested head). ``mine``: (this frame
        warped, its matte warped) when the sources included it. Morphed, not cross-faded
        (:func:`~.crossfade.aligned_crossfade`): a source that held the head otherwise against
        the body (d20 leaning) put its collar some pixels from this frame's, and the fade over
        the neck drew both."""
        m = self.motion
        if mine is None:  # this frame's actor moved to the requested head, as the sources (the field
            # at half resolution: it serves the hair and neck where the head's motion fades)
            H, W = frame.shape[:2]
            f = upscaled_field(lambda s, shape, within, origin=(0, 0): m.field(r, shape, within, s, None, origin),
                               frame.shape, (0, 0, W, H), OWN_FIELD_SCALE)
            mine = (warp_image(frame, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101,
                               area=m.area).astype(np.float32),
                    warp_image(m.actor_matte(r, frame, self.ps[r]), f, border=cv2.BORDER_REFLECT_101, area=m.area))
        own = attached_alpha(mine[1], unsure)
        mine = mine[0]
        # (morphed, not cross-faded: the source may have held the head otherwise against the body)
        return aligned_crossfade(mine, own, layer, alpha, weight)

    def _beside_change(self, r):
        """True when a neighbour of row ``r`` (drawn from its own frame) is drawn from another
        moment: row ``r`` then blends that source in too, so that the change fades on both sides
        (the moments' hair lies some pixels apart beyond the face: drawn plainly, the last own
        row's outline jumped, d18 -> d13 frame 99)."""
        return any(k != r and self.driver_row(k) not in (None, k) for k in (r - 1, r + 1))

    def _moved(self, r, frame):
        j = self.driver_row(r)
        forced = self.redraw is not None and bool(self.redraw[r])
        if forced and (j is None or j == r):  # its own frame may not be drawn from
            return frame, None
        m = self.motion
        if j is None or not (m.moves(r) or forced) or (j == r and not self._beside_change(r)):
            # (its own frame moved: the rims taken out here too, and laid back by frame())
            return m.frame(r, without_rims(frame, self.rims(r)) if self.rimless and j == r and m.moves(r) else frame)
        # the sources of this row and its neighbours, each warped to this row's head and blended
        # (1/4, 1/2, 1/4), so that a change of source fades over three frames
        moved, wsum, g = 0.0, 0.0, None
        lay_c, lay_a = 0.0, 0.0  # with the matte: the sources' colours premultiplied by their mattes
        mine = None
        srcs = []  # (weight, colours, matte) of each source
        for k, wk in ((r, 0.5), (r - 1, 0.25), (r + 1, 0.25)):
            jk = j if k == r else self.driver_row(k)
            if jk is None or not self.same_shot(jk, j):  # (never blended across a cut)
                continue
            gk = warp_field(self.ps[jk], m.pd[r], None, frame.shape[:2], src_depth=self.zs[jk], dst_depth=m.zd[r],
                            model_points=m.identity, head_points=m.head_points(jk, r))
            g = gk if g is None else g
            gk = self._carried(gk, jk, r, frame)
            src = self._frame(jk)
            ck = warp_image(src, gk, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101,
                            area=m.area).astype(np.float32)
            ak = None
            if m.matte:  # the source's actor, warped the same way (its layer's matte)
                ak = warp_image(m.actor_matte(jk, src, self.ps[jk]), gk, border=cv2.BORDER_REFLECT_101, area=m.area)
                if jk == r:  # this frame itself, moved: what _own_beyond needs
                    mine = (ck, ak)
            srcs.append((wk, ck, ak, jk - j != k - r))
            wsum += wk
        if m.matte and len(srcs) > 1 and any(s[3] for s in srcs):
            # the source changes here: the moments held the collar and hair otherwise beyond the
            # face the mesh aligns; mixed as they are they drew two collars (crossfade.mean_geometry)
            beyond = g.weight * (1.0 - wide_blur(g.face.astype(np.float32), SOURCES_FACE_SOFT * face_size(m.pd[r])))
            cks, aks = mean_geometry([s[1] for s in srcs], [s[2] for s in srcs], [s[0] for s in srcs],
                                     next(i for i, s in enumerate(srcs) if s[0] == 0.5), beyond)
            srcs = [(s[0], c, a, s[3]) for s, c, a in zip(srcs, cks, aks)]
        for wk, ck, _ak, _ in srcs:
            moved = moved + wk * ck
        if m.matte:
            # each source's actor only where another source has it too (LAYER_CONSENSUS): hair one
            # neighbour moment draws wider than the others showed as a ghost at a quarter of its
            # opacity, a grey veil beside s20's hair
            mats = [a for _, _, a, _ in srcs]
            mats = agreed_mattes(mats) if LAYER_CONSENSUS else mats
            for (wk, ck, _, _), ak in zip(srcs, mats):
                lay_a = lay_a + wk * ak
                lay_c = lay_c + channels(wk * ak) * ck
        moved = moved / wsum
        plain = np.clip(moved + 0.5, 0, 255).astype(np.uint8)
        if g.disocclusion.any() and not m.matte:  # (with the matte the layer draws the room there)
            from .head import fill_background

            plain = fill_background(plain, m.uncovered(g), *m.plate_at(r))
        # around the head, this frame moved the same way (its own head must not show beside the
        # other frame's); with the matte the layer takes this frame's own head out instead, and the
        # plain blend serves only where the motion fades out, where this frame is its own answer
        here = frame if m.matte else m.frame(r, frame, layer=False)[0]
        out = weighted_mix(g.weight, plain, here)  # (w * plain + (1 - w) * here where the weight is not 0)
        if m.matte:
            # the other frames' actor over this frame's own background. Their colours are averaged
            # by their mattes: where one source has hair and its neighbour wall, the hair's colour
            # with half its opacity over this frame's room, not a lighter band of both (a change
            # of source used to draw an arc through the hair); in what the head-region estimate
            # calls uncovered, only what continues the moved actor (attached_alpha)
            sure = lay_a > 1e-3
            layer = np.where(sure[..., None], lay_c / channels(np.where(sure, lay_a, 1.0)), moved)
            unsure = m.unsure(g)
            alpha = attached_alpha(lay_a / wsum, unsure)
            if OWN_FADE:
                layer, alpha = self._own_beyond(layer, alpha, g.weight, r, frame, unsure, mine)
            out = m.layered(out, np.clip(layer + 0.5, 0, 255).astype(np.uint8), alpha, r, frame, g)
        return out, g
