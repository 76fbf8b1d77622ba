# SPDX-License-Identifier: GPL-3.0-or-later
"""Full reenactment (region ``head``) from the shot's own frames: :class:`ShotHead`, each row's
head from the frame nearest in head pose, its mouth and eyes from the frames nearest in mouth
and in gaze, moved by the fitted meshes to the requested pose over this frame's own background.
Split from :mod:`.rewrite` (the shot's own mouth for dubs, whose choice of frames it shares)."""

import threading
from dataclasses import replace

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, rotation_angle_deg
from .brows import brows_from, plan_brows
from .crossfade import aligned_crossfade, mean_geometry
from .eyes import eye_maps, eyes_from, head_lids_keep, plan_eyes, rest_of_turn, slide_lids
from .head import agreed_mattes, attached_alpha, body_offset
from .irises import move_irises
from .meshes import channels, face_size, weighted_mix, wide_blur
from .motion import upscaled_field
from .rewrite import moved_lower_face, plan
from .rims import shot_has_rims, without_rims
from .shotframes import CANDIDATES, ShotFrames, _runs, other_shot
from .warp import warp_field, warp_image


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


def gaze_kept_rows(track, own, rows=None):
    """Rows (of ``rows``) whose gaze ``track`` asks otherwise than the footage's Track ``own``
    shows while its head and face ask for the footage's own (pose and expression): region head
    draws eyes only on a head it moves, so these rows keep the footage's eyes (region face draws
    the gaze). Said by the render and Preview Frame since 2026-12-06 (before, the keyed gaze was
    left out without a word)."""
    T = int(track.n_frames)
    rows = np.arange(T) if rows is None else np.asarray([r for r in rows if 0 <= r < T], np.int64)
    if own is None or int(own.n_frames) != T or not len(rows):
        return []
    ok = np.asarray(track.tracked, bool)[rows] & np.asarray(own.tracked, bool)[rows]

    def differs(a, b, tol):
        a, b = np.asarray(a, np.float64)[rows], np.asarray(b, np.float64)[rows]
        return np.abs(np.nan_to_num(a) - np.nan_to_num(b)).reshape(len(rows), -1).max(axis=1) > tol

    still = ~differs(track.pose, own.pose, 1e-5) & ~differs(track.expression, own.expression, 1e-5)
    return rows[ok & still & differs(track.gaze, own.gaze, 1e-4)].tolist()


def region_keeps(track, own, region, rows=None, every=False):
    """What ``region`` leaves as the footage's Track ``own`` shows it over Track ``rows``: ("turn",
    degrees) when region mouth or face keeps a head the performance turns (more than
    :data:`~.motion.HEAD_TURN_WARN_DEG`), ("gaze", rows) when region head keeps the footage's eyes
    (:func:`gaze_kept_rows`); None. ``every``: a list of all it leaves ([] when nothing), with
    ("gaze", rows) for region mouth too, which draws the mouth alone: the rows whose gaze the
    performance changes (Blender says it since 2026-12-06; before, region Mouth, the default,
    left a gaze edit out without a word). The command line and Blender word it each for its user."""
    from .motion import HEAD_TURN_WARN_DEG, head_turn_degrees

    found = []
    if region != "head":
        turn = head_turn_degrees(track, own, rows)
        if turn > HEAD_TURN_WARN_DEG:
            found.append(("turn", turn))
    kept = gaze_kept_rows(track, own, rows) if region == "head" else []
    if region == "mouth" and every and own is not None and int(own.n_frames) == int(track.n_frames):
        T = int(track.n_frames)
        r = np.arange(T) if rows is None else np.asarray([r for r in rows if 0 <= r < T], np.int64)
        ok = np.asarray(track.tracked, bool)[r] & np.asarray(own.tracked, bool)[r]
        d = np.abs(np.nan_to_num(np.asarray(track.gaze, np.float64)[r]) -
                   np.nan_to_num(np.asarray(own.gaze, np.float64)[r])).reshape(len(r), -1).max(axis=1, initial=0.0) \
            if len(r) else np.zeros(0)  # (no rows: a range the Track does not reach)
        kept = r[ok & (d > 1e-4)].tolist()
    if kept:
        found.append(("gaze", kept))
    return found if every else (found[0] if found else None)


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
