# SPDX-License-Identifier: GPL-3.0-or-later
"""Full reenactment's head motion (region ``head``): footage frames warped so the whole head
takes the requested pose and expression (:mod:`.warp`), the actor moved as a layer over the
frame's own background by its matte (:mod:`.matte`, :func:`.head.layer_head`), the uncovered
background filled from the shot's plate (:mod:`.head`)."""

import threading
from dataclasses import replace

import cv2
import numpy as np

from ..face.camera import euler_to_matrix, rotation_angle_deg
from ..progress import Cancelled
from ..video.bars import picture_area, within
from .donor import OUTER_LIP, pin_upper_face
from .head import (CAMERA_STILL, LAYER_CUT, LAYER_GROW, attached_alpha, background_plate, camera_offsets,
                   fill_background, head_mask, layer_head, layer_reach, mirrored_weight, moving_plate, neutral_points,
                   posed_points, sampled_outside)
from .inpaint import complete_plate
from .matte import actor_matte
from .composite import mask_box
from .meshes import face_size, grow_disc, wide_blur
from .renderer import REGIONS
from .rims import moves_near_eyes, shot_has_rims, without_rims
from . import irises, lids
from .warp import warp_field, warp_image




#: a plate frame's actor is its matte and at least its face oval grown by this (the ears)
PLATE_GROW = 0.2
#: what a moved actor's warp mirrors from beyond the picture's sides and top is kept for this
#: fraction of the face height (hair cut by the edge), gone at twice it
MIRROR_REACH = 0.04
#: the mouth dub's warp (``lower_only``): displacement smoothing, a fraction of the face height
LOWER_SMOOTH = 0.02
#: changes whenever the head warp changes what it draws (part of the render cache keys)
MOTION_VERSION = "warp-51"
#: the detail layer's warp covers both faces grown by this many face sizes (see
#: :meth:`HeadMotion.detail`)
DETAIL_MARGIN = 0.25
#: the composite's detail layer computes its warp at this fraction of the frame's resolution and
#: interpolates it (a mesh warp is piecewise affine and continuous: bilinear interpolation of it
#: is exact inside each triangle); the image itself is resampled at full resolution
DETAIL_FIELD_SCALE = 0.5
#: the detail layer resamples the frame's own skin with Lanczos-4 instead of bicubic where the
#: requested face is at least this tall (pixels, the mesh's height in that row): bicubic at
#: sub-pixel shifts loses a fifth of the stubble's contrast, which shows on HD faces; below it
#: the cheaper bicubic (3x faster) is kept; across a band of SHARP_BAND pixels the two are mixed
SHARP_FACE_PX = 256
SHARP_BAND = 32
#: region ``head``: the warp's holes the network fills are grown by this many crop pixels
HOLE_GROW = 2


class HeadMotion:
    """Full reenactment's first step (region ``head``): each footage frame warped so that the
    whole head (face, hair, ears, upper neck) takes the requested pose and expression, the
    background it uncovers filled from the shot's other frames. The renderer then refines the
    face inside the moved head.

    ``own``: the footage's own Track (what the frames show); ``requested``: the performance,
    same rows. ``plate``: (plate, known[, picture area]) from :func:`shot_plate` (optional: without it the
    uncovered background is inpainted; ``area``: the picture inside the footage's bars then).
    ``lower_only``: move only what is below the nose (:func:`~reenact.render.donor.pin_upper_face`;
    the mouth dub's driver mouth). ``matte``:
    move the actor as a layer over the frame's own background (:func:`~.head.layer_head`, the
    actor's matte from :mod:`.matte`); default on with a ``plate`` (region ``head``) and off for
    ``lower_only``."""

    def __init__(self, own, requested, plate=None, lower_only=False, matte=None, area=None):
        if own.n_frames != requested.n_frames or int(own.frame_start) != int(requested.frame_start):
            raise ValueError("the footage's track and the performance cover different frames")
        self.ps, self.zs = posed_points(own)
        self.pd, self.zd = posed_points(requested)
        self.lower_only = bool(lower_only)
        if lower_only:  # a mouth dub: lips and jaw move, the face above the upper lip stays
            self.pd, self.zd = pin_upper_face(self.ps, self.zs, self.pd, self.zd)
        #: the meshes without their expression (:func:`~.head.neutral_points`): what the hair and
        #: the head's outline move with (:meth:`head_points`); None for ``lower_only``
        self.ns = self.nd = None
        if not lower_only:
            self.ns, self.nd = neutral_points(own), neutral_points(requested)
        ok = np.asarray(own.tracked, bool) & np.asarray(requested.tracked, bool)
        self.ok = ok & np.isfinite(self.ps).all((1, 2)) & np.isfinite(self.pd).all((1, 2))
        self.identity = np.asarray(requested.identity, np.float64)
        #: rows whose head pose is the footage's (an edit of expression or gaze, a mouth dub)
        self.same_pose = face_edit_rows(requested, own)
        self.plate, self.known = plate[:2] if plate is not None else (None, None)
        #: a moving camera's plate (:class:`~.head.MovingPlate`): each row's own (:meth:`plate_at`)
        self.moving_plate = plate[3] if plate is not None and len(plate) > 3 else None
        self.frame0 = int(own.frame_start)
        #: the picture inside letterbox or pillarbox bars, from :func:`shot_plate` (or the plate;
        #: without one ``area``, :func:`~.plates.footage_area`; None: the whole frame): the warps
        #: sample only the picture (``warp_image``'s ``area``)
        self.area = (None if area is None else tuple(int(v) for v in area)) if self.plate is None else (
            tuple(plate[2]) if len(plate) > 2 else picture_area(self.plate, self.known))
        self.matte = (plate is not None and not self.lower_only) if matte is None else bool(matte)
        #: region ``face``: a :class:`~reenact.render.eyes.ShotEyes` over the footage's whole Track
        #: (this one's row ``r`` is its row ``r + own_offset``) draws edited eyes (:meth:`face_frame`)
        self.shot_eyes, self.own_offset, self.requested, self._eye_rows = None, 0, requested, {}
        self._iris_rows, self._lid_rows = {}, {}
        #: region ``face``: the shot's mouth for edited mouths (:meth:`with_shot_mouth`)
        self.shot_mouth, self.mouth_offset = None, 0
        self._mattes = {}
        self._mattes_lock = threading.Lock()

    def actor_matte(self, key, rgb, pts):
        """:func:`~.matte.actor_matte` of ``rgb`` (a footage frame whose fitted mesh is ``pts``),
        the last few kept by ``key`` (its footage row): the render path asks for a row's frame
        again from its neighbours."""
        with self._mattes_lock:  # the render path draws two rows at once
            m = self._mattes.get(key)
        if m is None or m.shape != rgb.shape[:2]:
            m = actor_matte(rgb, pts)
            with self._mattes_lock:
                while len(self._mattes) >= 8:
                    self._mattes.pop(next(iter(self._mattes)))
                self._mattes[key] = m
        return m

    def uncovered(self, f):
        """The background the head uncovers in the WarpField ``f`` that the fill draws (inside the
        picture). With :attr:`matte`, slivers narrower than a few pixels are left to the warp:
        along the head region's edge through long hair the region's estimate cuts the hair, and
        a plate-filled sliver drew a light line through it (the layer's matte decides there)."""
        hole = within(f.disocclusion, self.area)
        if self.matte and hole.any():
            k = 2 * max(1, int(round(min(f.shape) / 256.0))) + 1
            hole = cv2.morphologyEx(hole.view(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8)) > 0
        return hole

    def unsure(self, f):
        """(H, W) bool: where the moved actor of the WarpField ``f`` is kept only as far as it
        continues the actor (:func:`~.head.attached_alpha`): what the head-region estimate calls
        uncovered, and what the warp takes from beyond the picture's edge (mirrored there: a
        head moved down from the frame's top edge brings a mirrored fleck of its hair along)."""
        return f.disocclusion | sampled_outside(f, self.area)

    def layered(self, plain, moved, alpha_moved, r, frame, f):
        """:func:`~.head.layer_head` of row ``r``: ``moved`` (with its warped matte
        ``alpha_moved``) over ``frame``'s own background where the WarpField ``f`` moves; what the
        warp mirrors from beyond the picture's sides and top counts as actor only within
        :data:`MIRROR_REACH` face heights of the edge (:func:`~.head.mirrored_weight`)."""
        alpha_moved = alpha_moved * mirrored_weight(f, self.area, MIRROR_REACH * float(np.ptp(self.pd[r][:, 1])))
        return layer_head(plain, moved, alpha_moved, frame, self.actor_matte(r, frame, self.ps[r]), layer_reach(f),
                          *self.plate_at(r), self.area)

    def moves(self, r):
        """True when row ``r`` asks for another head than the footage shows (> 0.05 px)."""
        return bool(self.ok[r]) and float(np.abs(self.ps[r] - self.pd[r]).max()) > 0.05

    def frame(self, r, frame, layer=True):
        """(the frame with the head moved to row ``r`` of the performance, the WarpField or None
        when the row is not moved); ``layer``: as a layer over the frame's background when
        :attr:`matte` is on."""
        if not self.moves(r):
            return frame, None
        f = self.field(r, frame.shape)
        if not (layer and self.matte):
            return self._moved(frame, f, r)
        # the layer: the warp as it is (what the head region's estimate calls uncovered may be
        # hair it cut through; the matte decides), over this frame's own background
        raw = warp_image(frame, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101, area=self.area)
        out = fill_background(raw, self.uncovered(f), *self.plate_at(r)) if f.disocclusion.any() else raw
        alpha = warp_image(self.actor_matte(r, frame, self.ps[r]), f, border=cv2.BORDER_REFLECT_101, area=self.area)
        return self.layered(out, raw, attached_alpha(alpha, self.unsure(f)), r, frame, f), f

    def close(self):
        """Release :attr:`shot_eyes`' decoder."""
        if self.shot_eyes is not None:
            self.shot_eyes.close()

    def with_shot_eyes(self, shot_eyes, own_offset=0):
        """This motion with :attr:`shot_eyes` (a :class:`~reenact.render.eyes.ShotEyes` over
        the footage's whole Track, whose row ``r + own_offset`` is this motion's row ``r``:
        Preview Frame's motion holds one row; None: without). Returns self."""
        self.shot_eyes, self.own_offset = shot_eyes, int(own_offset)
        if shot_eyes is not None and not shot_eyes.rimless and self.ns is not None:
            # glasses: their rims kept where they are while the lids move behind them (.rims)
            shot_eyes.rimless = shot_has_rims(shot_eyes, np.flatnonzero(np.asarray(shot_eyes.own.tracked, bool)))
        return self

    def with_shot_mouth(self, shot_mouth, offset=0):
        """This motion with :attr:`shot_mouth` (a :class:`~reenact.render.rewrite.ShotMouth` over
        the whole performance, whose row ``r + offset`` is this motion's row ``r``; None:
        without): :meth:`face_frame` draws an edited mouth from the footage frame it chose, not
        the network. Not closed here. Returns self."""
        self.shot_mouth, self.mouth_offset = shot_mouth, int(offset)
        return self

    def mouth_source(self, r):
        """The footage row whose mouth :meth:`face_frame` draws on row ``r``, or None."""
        if self.shot_mouth is None or not self.same_pose[r]:
            return None
        return self.shot_mouth.driver_row(r + self.mouth_offset)

    def edits(self, r):
        """True when row ``r`` keeps the footage's head pose and asks for another face or another
        gaze than the footage shows (:meth:`face_frame` draws it)."""
        return bool(self.same_pose[r]) and (self.moves(r) or self.eye_source(r) is not None
                                            or self.iris_move(r) is not None)

    def eye_source(self, r):
        """The footage row whose eyes :meth:`face_frame` draws on row ``r`` (an edit of the gaze
        or the lids, with :attr:`shot_eyes`: a :class:`~reenact.render.eyes.ShotEyes`), or None."""
        if self.shot_eyes is None or not self.same_pose[r]:
            return None
        if r not in self._eye_rows:
            self._eye_rows[r] = self.shot_eyes.source(self.requested, r, r + self.own_offset)
        return self._eye_rows[r]

    def iris_move(self, r):
        """(2, 2) px by which row ``r``'s gaze key moves each iris (left, right) inside the
        footage's own eyes (:mod:`~reenact.render.irises`), where no footage frame looks that way
        (:meth:`eye_source` is None); None for other rows."""
        if self.shot_eyes is None or not self.same_pose[r] or self.eye_source(r) is not None:
            return None
        if r not in self._iris_rows:
            own_row, s = r + self.own_offset, None
            if self.shot_eyes.gaze_key(self.requested, r, own_row):
                s = irises.iris_shift(self.shot_eyes.own, self.requested, own_row, r)
                if not np.isfinite(s).all() or float(np.hypot(s[:, 0], s[:, 1]).max()) < irises.MIN_SHIFT:
                    s = None
            self._iris_rows[r] = s
        return self._iris_rows[r]

    def lids_move(self, r):
        """True when row ``r`` keeps the footage's head pose and its key moves the lids away from
        the footage frame's (:meth:`~reenact.render.eyes.ShotEyes.lids_keep`) where no footage
        frame's lids come near (:meth:`eye_source` None) and no iris moves: :meth:`face_frame`
        slides the frame's own lids shut or open over its own eyeball (:mod:`~reenact.render.lids`)
        rather than squeeze its eyes with the mesh or have the network draw what opens."""
        if self.shot_eyes is None or not self.same_pose[r] or self.eye_source(r) is not None \
                or self.iris_move(r) is not None:
            return False
        if r not in self._lid_rows:
            self._lid_rows[r] = self.shot_eyes.lids_keep(self.requested, r, r + self.own_offset)
        return self._lid_rows[r] is not None

    def _lids_moved(self, r, frame, out):
        """``out`` (row ``r``'s frame as drawn) with its eyes replaced by footage ``frame``'s own,
        their lids slid to the requested ones (:func:`~reenact.render.lids.close_lids`,
        :func:`~reenact.render.lids.open_lids`)."""
        from .meshes import _mesh

        loops = [self.ps[r][list(lp)] for lp in _mesh().eyes]
        keep = np.asarray(self._lid_rows[r], np.float64)
        drawn, w = lids.close_lids(frame, loops, np.minimum(keep, 1.0))
        L = np.asarray(self.shot_eyes.own.landmarks, np.float64)[r + self.own_offset]
        drawn, w2 = lids.open_lids(drawn, loops, np.maximum(keep, 1.0), L)
        if w is None and w2 is None:
            return out
        w = (w2 if w is None else w if w2 is None else np.maximum(w, w2))[..., None]
        return np.clip(out.astype(np.float32) * (1.0 - w) + drawn.astype(np.float32) * w + 0.5, 0, 255).astype(np.uint8)

    def _irises_moved(self, r, out):
        """``out`` (row ``r``'s frame as drawn, its eyes at :attr:`pd`) with :meth:`iris_move`'s
        irises moved."""
        from .meshes import _mesh

        L = np.asarray(self.shot_eyes.own.landmarks, np.float64)[r + self.own_offset]
        loops = [self.pd[r][list(lp)] for lp in _mesh().eyes]
        moved_by = []
        for centre, _ in irises.IRISES:  # how far the frame's eye (the loop nearest the iris) sits off the footage's
            lp = min(_mesh().eyes, key=lambda q: float(np.hypot(*(self.ps[r][list(q)].mean(0) - L[centre, :2]))))
            moved_by.append(self.pd[r][list(lp)].mean(0) - self.ps[r][list(lp)].mean(0))
        return irises.move_irises(out, L, self.iris_move(r), loops, moved_by)

    def face_frame(self, r, frame):
        """:meth:`frame` for a row that keeps the footage's head pose (region ``face``'s edits,
        :func:`face_edit_rows`): the warp computed only around the two faces (:meth:`detail_box`:
        beyond it such an edit moves nothing) with the plane for what lies beyond the mesh; with
        :attr:`shot_eyes`, eyes that look elsewhere or open otherwise than the footage's drawn from
        the footage frame that does (the field's eye hole is then what that frame's lids do not
        open); with :attr:`shot_mouth`, an edited mouth drawn from the frame with the nearest one."""
        j = self.eye_source(r)
        iris = self.iris_move(r) if j is None else None
        if not self.moves(r) and j is None and iris is None:
            return frame, None
        f = self.field(r, frame.shape, self.detail_box(r, frame.shape), head_model="plane")
        # glasses: their rims out of the frame (laid back below) where the eyes are drawn or the
        # warp moves the skin around them (a mouth key leaves them be)
        k = r + self.own_offset  # (the shot's eyes' row)
        rims = self.shot_eyes.rims(k, frame) if self.shot_eyes is not None and self.shot_eyes.rimless and (
            j is not None or self.lids_move(r) or moves_near_eyes(f.map_x, f.map_y, self.ps[r])) else []
        frame = without_rims(frame, rims)
        out, f = self._moved(frame, f, r) if self.moves(r) else (frame, f)
        if j is not None:
            # (its own eyes' place too: a blink key's warp leaves the iris where it was)
            out, hole = self.shot_eyes.draw(self.requested, r, r + self.own_offset, j, out, self.pd[r], self.area,
                                            cover=self.ps[r])
            if hole is not None:
                f = replace(f, eye_hole=hole, valid=np.where(f.eye_hole & ~hole, np.float32(1), f.valid))
        elif iris is not None:  # a gaze no footage frame shows: the frame's own irises, moved
            out = self._irises_moved(r, out)
        elif self.lids_move(r):  # lids no footage frame shows: the frame's own, slid shut or open
            out = self._lids_moved(r, frame, out)
            if f.eye_hole.any():  # (what opens is drawn: no hole for the network there)
                f = replace(f, eye_hole=np.zeros_like(f.eye_hole), valid=np.where(f.eye_hole, np.float32(1), f.valid))
        if self.moves(r) and self.mouth_source(r) is not None:  # the mouth is drawn: no hole there
            out = self.shot_mouth.draw_moved(r, out, self.pd[r], self.zd[r], self.mouth_offset)
            f = replace(f, mouth_hole=np.zeros_like(f.mouth_hole), valid=np.maximum(f.valid, f.mouth_hole))
        if rims:
            out = self.shot_eyes.rims_over(out, [(k, 1.0, self.ns[r], self.nd[r])])
        return out, f

    def plate_at(self, r):
        """(plate, known) of row ``r``: the shot's background plate (with a moving camera, where
        this row's frame shows the room) or (None, None)."""
        if self.moving_plate is not None:
            return self.moving_plate.at(self.frame0 + int(r))
        return self.plate, self.known

    def _moved(self, frame, f, r):
        """(``frame`` (row ``r``'s) warped by the WarpField ``f``, the background it uncovers
        filled, ``f``)."""
        # a head moving away from the frame's edge samples beyond it: mirrored, not smeared
        out = warp_image(frame, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101, area=self.area)
        if f.disocclusion.any():  # (the bars stay the footage's)
            out = fill_background(out, self.uncovered(f), *self.plate_at(r))
        return out, f

    def field(self, r, shape, within=None, scale=1.0, head_model=None, origin=(0, 0), masks=True):
        """The WarpField (footage -> performance) of row ``r`` for frames of ``shape``
        (``within``: :func:`~reenact.render.warp.warp_field`'s box; ``scale``: the points are
        scaled by it, for a ``shape`` that is the frame's scaled down; ``head_model``: see
        :func:`~reenact.render.warp.warp_field`, default the ellipsoid but for ``lower_only``;
        ``origin``: the frame pixel (x, y) that is pixel (0, 0) of ``shape``, for a field of a
        part of the frame, in that part's pixels; ``masks``: as warp_field's). With ``lower_only`` its
        displacement is smoothed (Gaussian, :data:`LOWER_SMOOTH` of the face height): the mesh's
        piecewise-affine motion creases the skin at the mouth corners when the lips open far."""
        # a mouth dub's head does not move: the outline's plane motion (the identity here) is
        # enough and costs a fraction of the head proxy
        sc = np.asarray(scale, np.float64)
        o = np.asarray(origin, np.float64)
        f = warp_field(self.ps[r] * sc - o, self.pd[r] * sc - o, None, shape[:2], src_depth=self.zs[r],
                       dst_depth=self.zd[r], model_points=self.identity, within=within,
                       head_model=head_model or ("plane" if self.lower_only else "ellipsoid"),
                       head_points=self.head_points(r, r, sc, o), masks=masks)
        if self.lower_only:
            f = smooth_field(f, LOWER_SMOOTH * float(np.ptp(self.ps[r][:, 1] * sc.min())), inplace=True)
        return f

    def head_points(self, j, r, scale=1.0, origin=(0, 0)):
        """:func:`~.warp.warp_field`'s ``head_points`` for footage row ``j``'s head moved to
        row ``r``'s requested one (points times ``scale`` less ``origin``), or None."""
        if self.ns is None:
            return None
        return self.ns[j] * scale - origin, self.nd[r] * scale - origin

    def detail_box(self, r, shape, region=None):
        """:func:`detail_box` of row ``r``."""
        return detail_box(self.ps[r], self.pd[r], shape, region)

    def detail(self, r, frame, region=None, field_scale=1.0, part=None):
        """The detail source of row ``r`` for :func:`~reenact.render.composite.paste_back`:
        (the footage frame warped to the performance's face, its validity (H, W) float32 or None
        when everything is valid). Nothing moves the frame itself here (regions ``mouth`` and
        ``face``): only the fine detail the render takes from it is moved, and only inside
        :meth:`detail_box` (``region``: the frame box of the composite's mask): beyond it the
        frame is its own detail source (the composite reads the detail there only through the
        blurred levels of its pyramid). ``field_scale``: compute the warp at this fraction of
        the resolution (:func:`upscaled_field`). ``part`` (x0, y0, x1, y1): only that part of
        the image is returned, and no validity (None; at 4K the frame's maps and validity were
        ~100 MB a row, for a caller that reads a mouth's box)."""
        if not self.moves(r):
            return (frame if part is None else frame[part[1]:part[3], part[0]:part[2]]), None
        box = self.detail_box(r, frame.shape, region)
        # a head that keeps the footage's pose: nothing beyond the mesh moves, the plane will do
        hm = "plane" if self.same_pose[r] else None
        if field_scale < 1.0:
            # the lips at full resolution: the opening's two sides come from two places (unless
            # the field is smoothed, as for lower_only)
            sharp = None if self.lower_only else lips_box(self.ps[r], self.pd[r])
            masks = part is None  # (no validity asked: the maps alone, the same maps)

            def compute(s, shape, within, origin=(0, 0)):
                return self.field(r, shape, within, s, hm, origin, masks)
            f = upscaled_field(compute, frame.shape, box, field_scale, sharp, part)
        else:
            f = self.field(r, frame.shape, box, head_model=hm)
        w = self.sharp_weight(r)
        valid = None if part is not None else f.valid
        if w <= 0.0 or w >= 1.0:
            interp = cv2.INTER_LANCZOS4 if w >= 1.0 else cv2.INTER_CUBIC
            return warp_image(frame, f, interpolation=interp, box=part, area=self.area), valid
        both = [warp_image(frame, f, interpolation=i, box=part, area=self.area).astype(np.float32)
                for i in (cv2.INTER_LANCZOS4, cv2.INTER_CUBIC)]
        mixed = w * both[0] + (1.0 - w) * both[1]
        if frame.dtype == np.uint8:
            mixed = np.clip(mixed + 0.5, 0, 255)
        return mixed.astype(frame.dtype), valid

    def sharp_weight(self, r):
        """How much of the detail layer's resampling of row ``r`` is Lanczos-4 (the rest bicubic):
        0 below ``SHARP_FACE_PX - SHARP_BAND / 2``, 1 above ``SHARP_FACE_PX + SHARP_BAND / 2``,
        by the requested face's height (the mesh's) in this row alone, so a row renders alike
        in a whole render and in Preview Frame, and a face growing through the band fades from
        one filter to the other instead of switching."""
        h = float(np.ptp(self.pd[r][:, 1]))
        return float(np.clip((h - SHARP_FACE_PX) / SHARP_BAND + 0.5, 0.0, 1.0))


def upscaled_field(compute, shape, within, scale, sharp=None, part=None):
    """A WarpField for frames of ``shape`` computed at ``scale`` of their resolution and
    interpolated: ``compute(s, small_shape, small_within, origin=(0, 0))`` returns the field of
    the scaled frame (points multiplied by ``s`` = (sx, sy), the exact ratios of the two sizes,
    then moved by -``origin``). The maps are
    interpolated bilinearly (pixel centres aligned) and rescaled, ``valid`` bilinearly: what
    the detail layer reads; the masks and ``weight`` are None. Only ``within`` (x0, y0, x1, y1)
    is moved. ``sharp``: a box (x0, y0, x1, y1) computed at full resolution instead (where the
    map is discontinuous: the mouth's opening, whose two lips come from two places; there an
    interpolated map draws a staircase along the lips). ``part`` (x0, y0, x1, y1): a field of that
    part of the frame alone (:func:`~.warp.warp_field`'s), without ``valid`` (the small field may
    then have no masks)."""
    from dataclasses import replace

    H, W = int(shape[0]), int(shape[1])
    h, w = max(2, int(round(H * scale))), max(2, int(round(W * scale)))
    sx, sy = w / W, h / H
    x0, y0, x1, y1 = within
    small = (int(np.floor(x0 * sx)), int(np.floor(y0 * sy)), int(np.ceil(x1 * sx)), int(np.ceil(y1 * sy)))
    f = compute(np.array([sx, sy]), (h, w), small)
    if f.roi is None:
        bx0, by0, bx1, by1 = 0, 0, W, H
    else:  # the full-resolution box of the small field's region of interest (+1 px for the interpolation)
        rx, ry, rw, rh = f.roi
        bx0, by0 = max(0, int(np.floor(rx / sx)) - 1), max(0, int(np.floor(ry / sy)) - 1)
        bx1, by1 = min(W, int(np.ceil((rx + rw) / sx)) + 1), min(H, int(np.ceil((ry + rh) / sy)) + 1)
    sx0 = sy0 = sx1 = sy1 = 0
    if sharp is not None:  # (of the whole box: its field is the same whatever part is read)
        sx0, sy0 = max(int(sharp[0]), bx0), max(int(sharp[1]), by0)
        sx1, sy1 = min(int(sharp[2]), bx1), min(int(sharp[3]), by1)
    ox, oy = 0, 0  # (the frame pixel of the maps' [0, 0])
    if part is not None:  # (each pixel's map is its own: a part of the box gives the same values)
        bx0, by0 = max(bx0, int(part[0])), max(by0, int(part[1]))
        bx1, by1 = max(bx0, min(bx1, int(part[2]))), max(by0, min(by1, int(part[3])))
        ox, oy = bx0, by0
    bw, bh = bx1 - bx0, by1 - by0
    # small-image coordinates of the box's pixel centres (OpenCV's resize convention)
    ux = ((np.arange(bx0, bx1, dtype=np.float32) + 0.5) * np.float32(sx) - 0.5)[None, :].repeat(bh, 0)
    uy = ((np.arange(by0, by1, dtype=np.float32) + 0.5) * np.float32(sy) - 0.5)[:, None].repeat(bw, 1)

    def up(a):
        return cv2.remap(a, ux, uy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    # where the small map is the identity this gives back x (and y) exactly
    if part is None:
        mx = np.broadcast_to(np.arange(W, dtype=np.float32)[None, :], (H, W)).copy()
        my = np.broadcast_to(np.arange(H, dtype=np.float32)[:, None], (H, W)).copy()
    else:
        mx, my = np.empty((bh, bw), np.float32), np.empty((bh, bw), np.float32)
    if bw and bh:
        m = up(np.dstack([f.map_x, f.map_y]))
        mx[by0 - oy:by1 - oy, bx0 - ox:bx1 - ox] = (m[..., 0] + 0.5) / np.float32(sx) - 0.5
        my[by0 - oy:by1 - oy, bx0 - ox:bx1 - ox] = (m[..., 1] + 0.5) / np.float32(sy) - 0.5
    valid = None
    if part is None:
        valid = np.ones((H, W), np.float32)
        valid[by0:by1, bx0:bx1] = up(f.valid)
    if sx1 > sx0 and sy1 > sy0:
        # the box as an image of its own (only its pixels are made)
        g = compute(np.ones(2), (sy1 - sy0, sx1 - sx0), None, (sx0, sy0))
        gx, gy = g.map_x + np.float32(sx0), g.map_y + np.float32(sy0)
        if part is None:
            sl = (slice(sy0, sy1), slice(sx0, sx1))
            mx[sl], my[sl], valid[sl] = gx, gy, g.valid
        else:  # (what of it lies in the part)
            cx0, cy0, cx1, cy1 = max(sx0, bx0), max(sy0, by0), min(sx1, bx1), min(sy1, by1)
            if cx1 > cx0 and cy1 > cy0:
                sl = (slice(cy0 - oy, cy1 - oy), slice(cx0 - ox, cx1 - ox))
                gl = (slice(cy0 - sy0, cy1 - sy0), slice(cx0 - sx0, cx1 - sx0))
                mx[sl], my[sl] = gx[gl], gy[gl]
    S = np.diag([sx, sy, 1.0])
    Si = np.diag([1.0 / sx, 1.0 / sy, 1.0])
    return replace(f, map_x=mx, map_y=my, valid=valid, roi=(bx0, by0, bw, bh), origin=(ox, oy),
                   rigid=Si @ f.rigid @ S, face_rigid=None if f.face_rigid is None else Si @ f.face_rigid @ S,
                   weight=None,
                   **{k: None for k in ("mouth_hole", "eye_hole", "occluded", "disocclusion", "face", "head")})


def smooth_field(f, sigma, inplace=False, frame=None):
    """The WarpField ``f`` with its displacement Gaussian-smoothed (``sigma`` pixels) inside its
    region of interest (grown by 3 sigma; the map stays the identity outside). ``inplace``: in
    ``f``'s own maps (a field made for this use alone), not copies of them. A field of part of
    the frame (:func:`~.warp.warp_field`'s ``part``) needs the ``frame``'s (H, W): the result is
    again one, of the grown region (the same maps there; its masks and weight dropped)."""
    from dataclasses import replace

    if not sigma > 0:
        return f
    H, W = f.shape if frame is None else frame
    if f.roi is None:
        x0, y0, x1, y1 = 0, 0, W, H
    else:
        g = int(np.ceil(3 * sigma))
        x0, y0 = max(0, f.roi[0] - g), max(0, f.roi[1] - g)
        x1, y1 = min(W, f.roi[0] + f.roi[2] + g), min(H, f.roi[1] + f.roi[3] + g)
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    if frame is not None:
        # the grown region alone: the identity around the part's roi (the whole field's values)
        mx, my = np.repeat(xs, y1 - y0, 0), np.repeat(ys, x1 - x0, 1)
        rx, ry, rw, rh = f.roi
        sl = (slice(ry - y0, ry - y0 + rh), slice(rx - x0, rx - x0 + rw))
        mx[sl], my[sl] = f.map_x, f.map_y
        mx = xs + wide_blur(mx - xs, sigma)
        my = ys + wide_blur(my - ys, sigma)
        return replace(f, map_x=mx, map_y=my, roi=(x0, y0, x1 - x0, y1 - y0), origin=(x0, y0),
                       **{k: None for k in ("valid", "mouth_hole", "eye_hole", "occluded", "disocclusion", "face",
                                            "head", "weight")})
    mx, my = (f.map_x, f.map_y) if inplace else (f.map_x.copy(), f.map_y.copy())
    mx[y0:y1, x0:x1] = xs + wide_blur(f.map_x[y0:y1, x0:x1] - xs, sigma)
    my[y0:y1, x0:x1] = ys + wide_blur(f.map_y[y0:y1, x0:x1] - ys, sigma)
    return replace(f, map_x=mx, map_y=my, roi=(x0, y0, x1 - x0, y1 - y0))


#: :func:`lips_box` grows the lips' box by this many face sizes (the source positions of its
#: pixels must stay inside it: the occlusion test samples the source raster there)
LIPS_MARGIN = 0.06


def lips_box(ps, pd):
    """(x0, y0, x1, y1): both faces' lips ((468, 2) points ``ps``, ``pd``), grown by
    LIPS_MARGIN face sizes + 2 px."""
    idx = list(OUTER_LIP)
    P = np.concatenate([np.asarray(ps, np.float64)[idx], np.asarray(pd, np.float64)[idx]], 0)
    m = LIPS_MARGIN * face_size(pd) + 2
    lo, hi = np.floor(P.min(0) - m).astype(int), np.ceil(P.max(0) + m).astype(int)
    return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def detail_box(ps, pd, shape, region=None):
    """(x0, y0, x1, y1): the part of the frame the detail layer warps from the face ``ps`` to
    ``pd`` ((468, 2) points): the composite's ``region`` (a frame box, e.g.
    :func:`~reenact.render.composite.mask_box` of its mask; default both faces) grown by
    DETAIL_MARGIN face sizes, clipped to ``shape``."""
    m = DETAIL_MARGIN * face_size(pd)
    if region is None:
        P = np.concatenate([np.asarray(ps, np.float64), np.asarray(pd, np.float64)], 0)
        lo, hi = P.min(0), P.max(0)
    else:
        lo, hi = np.array(region[:2], np.float64), np.array(region[2:], np.float64)
    lo = np.floor(lo - m).astype(int)
    hi = np.ceil(hi + m).astype(int)
    return max(0, int(lo[0])), max(0, int(lo[1])), min(int(shape[1]), int(hi[0])), min(int(shape[0]), int(hi[1]))


def face_edit_rows(track, own):
    """(T,) bool: rows of the performance ``track`` whose head pose is the footage's own
    (``own``: same rows): an edit of expression or gaze. Region ``face`` moves the footage's
    own face there by the mesh warp (:meth:`HeadMotion.face_frame`) and the network draws only what
    the warp cannot show (:func:`region_mask` as for region ``head``); elsewhere (another pose
    asked inside the unmoved head) the network draws the whole face."""
    if own is None or own.n_frames != track.n_frames or int(own.frame_start) != int(track.frame_start):
        return np.zeros(track.n_frames, bool)
    a, b = np.asarray(track.pose, np.float64), np.asarray(own.pose, np.float64)
    return np.isfinite(a).all(1) & np.isfinite(b).all(1) & (np.abs(a - b) <= 1e-6).all(1)


#: :func:`shot_plate` completes the room no plate frame shows from the room they do
#: (:func:`~.inpaint.complete_plate`) instead of leaving it to the smooth fill
COMPLETE_ROOM = True


def shot_plate(source, own, count=31, progress=None):
    """(plate, known, picture area): the background plate of a shot (:func:`background_plate`
    over ``count`` frames spread over the clip ``source``, an open
    :class:`~reenact.video.VideoSource`, with the actor of the footage's own Track ``own``
    masked out by its matte, :mod:`.matte`) and the picture inside any letterbox or pillarbox
    bars (:func:`~reenact.video.bars.picture_area` of those frames). Where the camera moves
    (:func:`~.head.camera_offsets`: the room moves by :data:`~.head.CAMERA_STILL` px or more),
    a fourth item, the :class:`~.head.MovingPlate` that gives each frame its own plate; the
    plate returned is then the middle plate frame's. With :data:`COMPLETE_ROOM` the room no plate
    frame shows, near the room they do, is drawn from it (:func:`~.inpaint.complete_plate`, once
    per shot; ``known`` then covers it). ``progress(done, total)``, optional: called as the frames
    are read and as the room is drawn (10-45 s on 1080p-4K shots); returning False stops it
    (:class:`~reenact.progress.Cancelled`), so Esc does not wait for the whole plate."""
    def step(done, total=count + 1):
        if progress is not None and progress(done, total) is False:
            raise Cancelled()

    pts = posed_points(own)[0]
    rows = np.flatnonzero(np.asarray(own.tracked, bool) & np.isfinite(pts).all((1, 2)))
    if not len(rows):
        return None
    pick = rows[np.unique(np.linspace(0, len(rows) - 1, min(len(rows), count)).round().astype(int))]
    frames = covered = None  # (filled as read: no list of frames stacked after, 2x the memory)
    for k, r in enumerate(pick):
        step(k)
        fr = source.read(int(own.frame_start) + int(r))
        if frames is None:
            frames = np.empty((len(pick),) + fr.shape, fr.dtype)
            covered = np.empty((len(pick),) + fr.shape[:2], bool)
        frames[k] = fr
        # the actor by its matte (hair, shoulders), grown a little, and the face with its ears for
        # sure (the matte can miss an ear against a green screen, and the plate would then put
        # it back where the head left): the background right beside the head is what a turning
        # head uncovers
        g = max(1, int(round(2 * LAYER_GROW * min(fr.shape[:2]))))
        person = grow_disc(actor_matte(fr, pts[r]) > LAYER_CUT, g)
        np.bitwise_or(person, head_mask(pts[r], fr.shape[:2], grow=PLATE_GROW, hair=0.0), out=covered[k])
    # the bars from the frames themselves: next to a bar the plate may know only dark wall
    area = picture_area(frames)
    # a camera that pans or tilts: each row's plate from one picture of the room laid out by the
    # camera's motion (a plate made as if it stood still was a smear of the room: d20)
    def check():  # between the long steps below and inside them
        step(count)

    check()
    offsets = camera_offsets(frames, covered)  # (each step below checks first)
    if np.abs(offsets - offsets[0]).max() >= CAMERA_STILL:
        moving = moving_plate(frames, covered, int(own.frame_start) + pick, offsets, check=check)
        if COMPLETE_ROOM:  # the room no frame shows, drawn once on the whole canvas
            check()
            moving.canvas, moving.canvas_known = complete_plate(moving.canvas, moving.canvas_known, check=check)
        return moving.at(int(own.frame_start) + int(pick[len(pick) // 2])) + (area, moving)
    plate, known = background_plate(frames, covered, max_frames=count, check=check)
    if COMPLETE_ROOM:
        check()
        plate, known = complete_plate(plate, known, area, check=check)
    return plate, known, area


#: a performance whose head turns further than this from the footage's needs region ``head``
HEAD_TURN_WARN_DEG = 2.0


def head_turn_degrees(track, own=None, rows=None):
    """Largest angle (degrees) between the head rotation ``track`` asks for and the one its
    footage shows (``own``, default ``track.footage()``), over rows tracked in both (of ``rows``)."""
    own = track.footage() if own is None else own
    ok = np.asarray(track.tracked, bool) & np.asarray(own.tracked, bool)
    if rows is not None and len(ok):
        ok = ok & np.isin(np.arange(len(ok)), np.asarray(list(rows), np.int64))
    if len(own.pose) != len(track.pose) or not ok.any():
        return 0.0
    Ra = euler_to_matrix(np.asarray(track.pose, np.float64)[ok, :3])
    Rb = euler_to_matrix(np.asarray(own.pose, np.float64)[ok, :3])
    return float(rotation_angle_deg(Ra, Rb).max())


def region_mask(region, hole, mouth, field=None, Minv=None):
    """The compositing mask of the rendered crop (S, S): the lower face ``mouth`` for region
    ``mouth``, the face ``hole`` for ``face``; for ``head`` only what the moved frame cannot show
    inside the face: the WarpField ``field``'s mouth interior, what the lids uncover and surface
    the footage hides (crop -> frame affine ``Minv``), grown by :data:`HOLE_GROW` px. The rest of
    the moved head is the footage's own pixels; a row whose head did not move (``field`` None)
    or whose warp has no hole takes nothing from the network (an empty mask)."""
    if region not in REGIONS:
        raise ValueError("region must be one of {}".format(", ".join(REGIONS)))
    if region != "head":
        return mouth if region == "mouth" else hole
    hole = np.asarray(hole)
    if field is None:
        return np.zeros_like(hole)
    S = hole.shape[0]
    holes = (field.mouth_hole | field.eye_hole | field.occluded).view(np.uint8)
    if not holes.any():
        return np.zeros_like(hole)
    M = cv2.invertAffineTransform(np.asarray(Minv, np.float64))
    h = cv2.warpAffine(holes * np.uint8(255), M, (S, S), flags=cv2.INTER_LINEAR) > 0
    k = 2 * HOLE_GROW + 1
    h = cv2.dilate(h.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    return np.where(h, hole, np.zeros_like(hole))


def detail_source(detail, head, warper, r, frame, field, mask=None, Minv=None):
    """(detail image, validity) for :func:`~reenact.render.composite.paste_back`: none without
    ``detail``; for region ``head`` the moved frame itself (``field``: its WarpField or None);
    else the footage frame warped to the performance by ``warper`` (a :class:`HeadMotion`),
    around the composite's ``mask`` (crop space, ``Minv``: crop -> frame) when given."""
    if not detail:
        return None, None
    if head:
        return frame, (field.valid if field is not None else None)
    return warper.detail(r, frame, mask_box(mask, Minv, frame.shape) if mask is not None else None,
                         DETAIL_FIELD_SCALE)
