# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver's mouth in a mouth dub (``reenact render --mouth-from DRIVER.npz=DRIVER.mp4``).

A mouth dub asks the target's face for openings its footage may never show (a quiet target, a
wide-open driver). The renderer network cannot draw a mouth no reference shows (it smears:
docs/reenact-bench.md), so this path draws the lower face without it:

1. the target's footage frame is warped by the fitted meshes to the requested mouth (the same
   dense mesh warp as the detail layer and full reenactment, :mod:`.warp`), with the face
   above the upper lip held where the footage has it (a mouth dub moves lips and jaw, not the
   nose); the lips and chin keep the footage's own pixels, at full resolution;
2. the opening between the lips, which no target frame supplies, is filled with the *driver's*
   mouth interior (teeth, tongue, the dark of the mouth) from the driver's frame that drives
   this row, mapped by an affine fit of the driver's inner-lip contour onto the requested one
   and matched in colour to the target's lips around it;
3. the result replaces the lower face (the hull of the jaw line and the nose base, feathered)
   over the render.

Which driver frame drives which target row is recorded by ``reenact transfer`` in the
performance (``Track.performance_frame``, ``Track.performance_source``), so the driver's
footage is checked against it: a driver clip that is not the transfer's source is refused.
"""

import os
import threading

import numpy as np
import cv2

from ..video import open_video
from .whites import shot_white, white_tint
from .meshes import grow_disc

#: the inner lip contour of the face mesh, in order around the opening
INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
#: the jaw line from ear to ear and the nose base: their hull is the lower face a dub replaces
LOWER_FACE = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361,
              327, 326, 2, 97, 98)
#: mesh points that define the face's vertical axis: eye corners, chin, nose base, upper lip
_EYES, _CHIN, _NOSE_BASE, _UPPER_LIP = (33, 263), 152, 2, 0
#: how far the interior reaches over the lips' inner edge, as a fraction of the opening's width
#: (covers the footage's stretched inner lip surface)
INTERIOR_GROW = 0.06
#: the outer lip contour of the face mesh
OUTER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
#: the band of skin around the lips where the interior's brightness is matched (fractions of the
#: mouth's width beyond the outer lip contour)
SKIN_RING = (0.08, 0.25)
#: mean opening height / width under which the lips count as closed (no interior drawn)
CLOSED = 0.03
#: the footage's mouth line filled before a dub's warp (:func:`fill_lip_line`): grown by this
#: fraction of the mouth's width, and reaching CORNER_REACH of it past each corner
LINE_GROW = 0.045
CORNER_REACH = 0.15
#: the mouth dub's motion is whole up to SIDE_FADE[0] of the face's half width from its axis and
#: none from SIDE_FADE[1] (:func:`lower_face_weights`)
SIDE_FADE = (0.55, 0.95)
#: feather of the lower face's edge, as a fraction of the face height
LOWER_FEATHER = 0.06


def lower_face_weights(P):
    """(468,) weights of the mesh points ``P`` (468, 2) of one row: 0 at and above the nose
    base, 1 from the upper lip down, smooth between (a mouth dub moves what is below the nose),
    and fading to 0 toward the face's sides (:data:`SIDE_FADE`)."""
    top = 0.5 * (P[_EYES[0]] + P[_EYES[1]])
    axis = P[_CHIN] - top
    n = float(np.hypot(*axis))
    if not np.isfinite(n) or n < 1e-6:
        return np.ones(len(P))
    axis = axis / n
    t = (P - top) @ axis
    t0, t1 = float((P[_NOSE_BASE] - top) @ axis), float((P[_UPPER_LIP] - top) @ axis)
    if t1 - t0 < 1e-6:
        w = (t >= t1).astype(np.float64)
    else:
        u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
        w = u * u * (3.0 - 2.0 * u)
    # toward the face's sides (the jaw's angles below the ears) the motion fades out: a mouth
    # dub opens the lips and drops the chin; an outline moved sideways drags the cheek over the
    # hair or background beside it
    side = np.abs((P - top) @ np.array([-axis[1], axis[0]]))
    half = float(side.max())
    if half > 1e-6:
        v = np.clip((SIDE_FADE[1] - side / half) / (SIDE_FADE[1] - SIDE_FADE[0]), 0.0, 1.0)
        w = w * v * v * (3.0 - 2.0 * v)
    return w


def pin_upper_face(ps, zs, pd, zd):
    """Requested points (and depths) with the face above the upper lip held at the footage's
    (``ps``, ``zs``): per row, ``ps + w (pd - ps)`` with :func:`lower_face_weights` of ``ps``."""
    pd, zd = np.array(pd, np.float64), np.array(zd, np.float64)
    for r in range(len(ps)):
        if np.isfinite(ps[r]).all() and np.isfinite(pd[r]).all():
            w = lower_face_weights(ps[r])
            pd[r] = ps[r] + w[:, None] * (pd[r] - ps[r])
            zd[r] = zs[r] + w * (zd[r] - zs[r])
    return pd, zd


def _area(contour):
    """Area of a closed polygon (N, 2) (shoelace)."""
    x, y = np.asarray(contour, np.float64).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _mouth_axes(contour):
    """(centre, unit axis corner to corner, width, mean opening height) of an inner-lip contour."""
    c = np.asarray(contour, np.float64)
    u = c[10] - c[0]
    width = float(np.hypot(*u))
    return c.mean(0), u / max(width, 1e-9), width, _area(c) / max(width, 1e-9)


def mouth_affine(src, dst, stretch=(0.5, 3.0)):
    """2x3 affine taking the inner-lip contour ``src`` (the driver's) onto ``dst`` (the
    requested one): centre onto centre, corner-to-corner axis onto axis, the width scaled to the
    width and the opening height to the height (that stretch clamped to ``stretch``). A fit of
    a general affine to the contour points shears and flips when the two shapes differ; this
    never does. None for a degenerate contour."""
    cs, us, ws, hs = _mouth_axes(src)
    cd, ud, wd, hd = _mouth_axes(dst)
    if ws < 1e-6 or wd < 1e-6:
        return None
    sx = wd / ws
    sy = float(np.clip(hd / max(hs, 1e-6), stretch[0] * sx, stretch[1] * sx)) if hs > 0.5 else stretch[1] * sx
    Rs = np.array([us, [-us[1], us[0]]])  # rows: the source's mouth axes
    Rd = np.array([ud, [-ud[1], ud[0]]])
    L = Rd.T @ np.diag([sx, sy]) @ Rs
    return np.concatenate([L, (cd - L @ cs)[:, None]], 1)


def opening_weight(contour, width):
    """How much of the driver's interior an opening takes: 0 for closed lips (an opening under
    :data:`CLOSED` of the mouth's width high on average), 1 from twice that, smooth between."""
    u = np.clip((_area(contour) / max(width, 1e-6) ** 2 - CLOSED) / CLOSED, 0.0, 1.0)
    return float(u * u * (3.0 - 2.0 * u))


def _poly_mask(shape, pts, roi):
    x0, y0 = roi[0], roi[1]
    m = np.zeros(shape, np.uint8)
    q = np.round((np.asarray(pts, np.float64) - (x0, y0)) * 16).astype(np.int32)
    cv2.fillPoly(m, [q], 1, lineType=cv2.LINE_AA, shift=4)
    return m


def fill_lip_line(frame, own, reach=CORNER_REACH):
    """``frame`` with the footage's mouth line (the inner-lip opening of its fitted mesh ``own``
    (468, 2), grown by a few pixels and reaching ``reach`` x the mouth's width past each corner)
    filled from the lips around it (OpenCV inpainting in a box around the mouth). A dub that
    opens the mouth wider stretches what lies between the lips over the opening and its corners:
    the interior is drawn over, the corners are not, and a dark crease stretched there reads as
    a smudge beside the mouth. A new array; ``frame`` when the mesh is not usable."""
    c = np.asarray(own, np.float64)[list(INNER_LIP)]
    if not np.isfinite(c).all():
        return frame
    centre, u, width, _ = _mouth_axes(c)
    if width < 4:
        return frame
    ext = c.copy()
    ext[0] -= reach * width * u
    ext[10] += reach * width * u
    H, W = frame.shape[:2]
    pad = int(np.ceil(0.3 * width)) + 4
    x0, y0 = np.maximum(np.floor(ext.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(ext.max(0)).astype(int) + pad, (W, H))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return frame
    roi = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    m = _poly_mask((roi[3], roi[2]), ext, roi)
    g = max(1, int(round(LINE_GROW * width)))
    m = cv2.dilate(m, np.ones((2 * g + 1, 2 * g + 1), np.uint8))
    out = frame.copy()
    sub = np.ascontiguousarray(frame[y0:y1, x0:x1])
    out[y0:y1, x0:x1] = cv2.inpaint(sub, m, max(2.0, 0.1 * width), cv2.INPAINT_TELEA)
    return out


class ClipFrames:
    """Frames of the clip ``video`` read by clip index, the last few kept (a render asks for
    the same frame from neighbouring rows); the decoder opens on the first read. A context
    manager: :meth:`close` releases the decoder. ``VideoSource.read`` decodes forward without a
    seek while the frames asked for go forward."""

    KEEP = 8

    def __init__(self, video):
        self.video = video
        self._src = None
        self._frames = {}
        self._lock = threading.Lock()  # the render path draws two rows at once (overlap.Draws)

    def close(self):
        with self._lock:
            if self._src is not None:
                self._src.close()
                self._src = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def clip_frame(self, i):
        i = int(i)
        with self._lock:
            return self._clip_frame(i)

    def _clip_frame(self, i):
        if i not in self._frames:
            if self._src is None:
                self._src = open_video(self.video)
            if len(self._frames) >= self.KEEP:
                self._frames.pop(next(iter(self._frames)))
            fr = self._src.read(i)
            if fr is None:
                raise ValueError("{}: frame {} could not be decoded".format(self.video, i))
            self._frames[i] = fr
        return self._frames[i]


class MouthDonor(ClipFrames):
    """The driver's mouth interior for the rows of a mouth dub.

    ``track``: the driver's Track (its landmarks locate the driver's inner lips); ``video``: the
    driver's footage (the clip that Track was made from); ``performance_frame``: per row of the
    performance, the driver clip frame that drives it (``Track.performance_frame``; NaN: not driven,
    nothing is drawn). Frames are read as :class:`ClipFrames`. :meth:`close` (or ``with``)
    releases the decoder."""

    def __init__(self, track, video, performance_frame, frame_start=0):
        super().__init__(video)
        self.frame_start = int(frame_start)  # the performance's first clip frame (its row 0)
        self.track = track
        self.performance_frame = np.asarray(performance_frame, np.float64)
        self.landmarks = np.asarray(track.landmarks, np.float64)[..., :2]
        self.tracked = np.asarray(track.tracked, bool)
        self.hidden, self._inside = None, np.arange(len(self.tracked))  # (see hide)
        self.f0 = int(track.frame_start)
        self.scene, self._tint, self._tint_lock = None, None, threading.Lock()

    def in_scene(self, own, video):
        """This donor, its mouth interior to be drawn in the light of the target's footage
        ``video`` (its Track ``own``): :meth:`white_tint`. Returns ``self``."""
        self.scene, self._tint = ((own, video) if own is not None and video is not None else None), None
        return self

    def white_tint(self):
        """(3,) gain per channel taking the driver's light to the target footage's
        (:func:`~.whites.white_tint` of the two shots' eye whites; ones without :meth:`in_scene`),
        found once."""
        with self._tint_lock:
            if self._tint is None:
                self._tint = np.ones(3, np.float32)
                if self.scene is not None:
                    self._tint = white_tint(shot_white(*self.scene[::-1]), shot_white(self.video, self.track))
            return self._tint

    def hide(self, rows):
        """``rows`` (bool per driver Track row): frames whose face something stands in front of
        (:func:`~.front.hide_driver`); a row driven by one takes the mouth's inside (teeth,
        tongue) from the unhidden driver frame nearest in mouth opening (then in time): a hand
        over the driver's mouth was drawn into the dub's opening."""
        self.hidden = np.asarray(rows, bool)
        ok = np.flatnonzero(self.tracked & ~self.hidden)
        if not self.hidden.any() or not len(ok):
            return
        gap = np.nan_to_num(mouth_openings(self.track), nan=0.0)
        for j in np.flatnonzero(self.hidden & self.tracked):
            self._inside[j] = ok[np.argmin(np.abs(gap[ok] - gap[j]) + 1e-4 * np.abs(ok - j))]

    def driver_row(self, r):
        """The driver Track row that drives performance row ``r``, or None."""
        if r >= len(self.performance_frame) or not np.isfinite(self.performance_frame[r]):
            return None
        j = int(round(self.performance_frame[r])) - self.f0
        if not 0 <= j < len(self.tracked) or not self.tracked[j]:
            return None
        return j

    def _frame(self, j):
        return self.clip_frame(j + self.f0)

    def draw(self, r, frame, motion, row):
        """:meth:`lower_face` of performance row ``r`` over the footage ``frame``, warped by
        ``motion`` (a lower-only :class:`~reenact.render.motion.HeadMotion`) at its row ``row``.
        The footage's lip line is filled with the lips' own colours before the warp
        (:func:`fill_lip_line`): the warp would stretch its dark crease into the opened corners."""
        src = frame
        if self.driver_row(r) is not None and motion.moves(row):
            src = fill_lip_line(frame, motion.ps[row])
        return self.lower_face(r, frame, motion.detail(row, src)[0], motion.pd[row], motion.ps[row])

    def lower_face(self, r, base, warped, requested, own):
        """``base`` (the render's frame, (H, W, 3) uint8) with the lower face replaced by
        ``warped`` (the footage warped to the requested mouth) and the driver's mouth interior
        in the requested opening. ``requested`` / ``own``: (468, 2) pixels of the requested and
        the footage's fitted mesh at row ``r``. Rows no driver frame drives are returned as
        ``base``."""
        j = self.driver_row(r)
        if j is None or not np.isfinite(requested).all() or not np.isfinite(own).all():
            return base
        H, W = base.shape[:2]
        face_h = float(np.ptp(own[:, 1]))
        hull = np.concatenate([requested[list(LOWER_FACE)], own[list(LOWER_FACE)]])
        pad = int(np.ceil(5 * LOWER_FEATHER * face_h)) + 2
        x0, y0 = (np.floor(hull.min(0)) - pad).astype(int)
        x1, y1 = (np.ceil(hull.max(0)) + pad).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if x1 <= x0 or y1 <= y0:
            return base
        roi = (x0, y0, x1 - x0, y1 - y0)
        shape = (roi[3], roi[2])
        sl = (slice(y0, y1), slice(x0, x1))
        comp = warped[sl].astype(np.float32)

        dst = requested[list(INNER_LIP)]
        j = int(self._inside[j])  # (a driver frame with a hand over the mouth lends none: hide)
        src = self.landmarks[j][list(INNER_LIP)]
        width = float(np.hypot(*(dst[10] - dst[0])))  # corner to corner
        A = mouth_affine(src, dst)
        if A is not None and width > 2:
            A[:, 2] -= (x0, y0)
            driver = self._frame(j)
            raw = cv2.warpAffine(driver, A, (roi[2], roi[3]), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
            g = raw.copy()
            opening = _poly_mask(shape, dst, roi)
            grow = max(1, int(round(INTERIOR_GROW * width)))
            k = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
            inside = cv2.dilate(opening, k)
            # brightness matched on the skin around the lips (both faces', where the mapping puts
            # them): one gain for R, G and B, so teeth stay white and the tongue red (a gain per
            # channel measured on the lips tinted the interior with the two actors' lip colours);
            # the colour of the light from the eyes' whites of both shots (:meth:`white_tint`)
            lips = _poly_mask(shape, cv2.convexHull(requested[list(OUTER_LIP)].astype(np.float32))[:, 0], roi)
            g1, g2 = max(1, int(round(SKIN_RING[0] * width))), max(2, int(round(SKIN_RING[1] * width)))
            ring = cv2.dilate(lips, np.ones((2 * g2 + 1, 2 * g2 + 1), np.uint8)) - cv2.dilate(
                lips, np.ones((2 * g1 + 1, 2 * g1 + 1), np.uint8))
            skin = None
            if ring.any():
                luma = np.array([0.299, 0.587, 0.114], np.float32)
                gain = (float(comp[ring > 0].mean(0) @ luma) + 1.0) / (float(g[ring > 0].mean(0) @ luma) + 1.0)
                g *= np.float32(np.clip(gain, 0.5, 2.0))
                skin = colour_gain(comp[ring > 0].mean(0), raw[ring > 0].mean(0))
            # ... in the target shot's light: the driver's white balance is the driver's camera's
            g *= self.white_tint()
            # the driver's lips that the interior brings over the target's inner lip edge take
            # the target's lip colour, the driver's skin beyond its lip corners the target's skin
            # colour (the interior keeps the one gain above)
            g = self._lip_colour(g, raw, driver, j, A, shape, base[sl], own, roi, skin)
            a = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), max(0.8, 0.5 * grow))[..., None]
            a *= opening_weight(dst, width)
            comp = comp * (1.0 - a) + g * a

        # grown by two feathers before the feather: the moved jaw and chin are whole, and the
        # blend falls where the warp has faded out (a feather across the moved outline leaves a
        # half-transparent band of skin over the hair or the neck)
        lower = _poly_mask(shape, cv2.convexHull(hull.astype(np.float32))[:, 0], roi)
        g = max(1, int(round(2 * LOWER_FEATHER * face_h)))
        lower = grow_disc(lower, g)
        lf = cv2.GaussianBlur(lower.astype(np.float32), (0, 0), LOWER_FEATHER * face_h)[..., None]
        out = base.copy()
        out[sl] = np.clip(base[sl].astype(np.float32) * (1.0 - lf) + comp * lf + 0.5, 0, 255).astype(np.uint8)
        return out

    def _lip_colour(self, g, raw, frame, j, A, shape, target, own, roi, skin=None):
        """``g`` (``raw``: the driver's ``frame``, its Track row ``j``, mapped by ``A`` into
        ``roi``, float RGB; ``g`` after the interior's gain) with the driver's lips recoloured to
        the target's: a gain per channel (:func:`colour_gain`: brightness and tint, so the hue
        is kept where the brightness differs much) taking the mean colour of the driver's lips
        (:func:`lip_band`) to that of the target's lips as they are before the dub (``target``,
        the ``roi`` of the frame the lower face replaces, its mouth at ``own``), weighted by the
        driver's lip mask carried by ``A``
        (its lips, and inside its inner contour what has their colour; a gain keeps the lips'
        shading, an offset in CIELAB turned their shadows lilac). The interior reaches over the
        lips' inner edge (:data:`INTERIOR_GROW`), so without this the driver's lip colour
        (lipstick, or none) shows there as painted-on lips; the teeth and tongue are left as
        they are. With ``skin`` (a gain per channel, :func:`colour_gain` of the skin around the
        two mouths) what lies beyond the driver's outer lip contour takes it: the opening's reach
        past narrow lips' corners brought the driver's skin along (d3's warm corners on d14's
        pale face: orange patches)."""
        drv = self.landmarks[j]
        if not np.isfinite(drv[list(OUTER_LIP) + list(INNER_LIP)]).all():
            return g
        wd = float(np.hypot(*(drv[INNER_LIP[10]] - drv[INNER_LIP[0]])))
        wt = float(np.hypot(*(own[INNER_LIP[10]] - own[INNER_LIP[0]])))
        if wd < 4 or wt < 4:
            return g
        pad = int(np.ceil(0.3 * wd)) + 2
        lo = np.maximum(np.floor(drv[list(OUTER_LIP)].min(0)).astype(int) - pad, 0)
        hi = np.minimum(np.ceil(drv[list(OUTER_LIP)].max(0)).astype(int) + pad, frame.shape[1::-1])
        if (hi - lo < 4).any():
            return g
        droi = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1]))
        d_outer, d_inner = _lip_masks(drv, (droi[3], droi[2]), droi)
        d_lips = _beyond(d_outer, d_inner, wd)
        t_lips = lip_band(own, shape, roi, wt)
        if d_lips.sum() < 12 or t_lips.sum() < 12:
            return g
        patch = frame[lo[1]:hi[1], lo[0]:hi[0]].astype(np.float32)
        gain = colour_gain(target[t_lips > 0].astype(np.float32).mean(0), patch[d_lips > 0].mean(0))
        # the driver's lip mask, carried into the roi by the same map as its frame (from the patch)
        # (the lips up to the inner contour: the statistics leave the inner edge out, for the teeth
        # behind it, but that edge is what the interior's reach shows; soft toward the skin only)
        Ap = np.concatenate([A[:, :2], (A[:, 2] + A[:, :2] @ lo)[:, None]], 1)
        band = _beyond(d_outer, d_inner, 0).astype(np.float32)
        inner = d_inner.astype(np.float32)
        soft = np.maximum(band, cv2.GaussianBlur(band, (0, 0), max(0.7, 0.03 * wd))) * (1.0 - inner)
        # inside the driver's inner contour, what has its lips' colour is lips too (a nearly closed
        # mouth shows its lips meeting there, not teeth): weighted by the distance of its chroma
        # from the lips' (in their spread), the teeth and the dark of the mouth far from it
        lab = cv2.cvtColor(patch / 255.0, cv2.COLOR_RGB2Lab)
        ref = lab[d_lips > 0]
        mu, sd = ref.mean(0), ref.std(0) + 1.0
        dist = np.sqrt((((lab[..., 1:] - mu[1:]) / sd[1:]) ** 2).sum(-1) + ((lab[..., 0] - mu[0]) / (2 * sd[0])) ** 2)
        soft = np.maximum(soft, inner * np.clip(2.0 - dist / 1.5, 0.0, 1.0))
        wmask = cv2.warpAffine(soft, Ap, (roi[2], roi[3]), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
        if skin is not None:  # beyond the lips' outer contour (softly), not where the lips are
            beyond = np.clip(1.0 - cv2.GaussianBlur(d_outer.astype(np.float32), (0, 0), max(0.7, 0.03 * wd)), 0.0, 1.0)
            smask = cv2.warpAffine(beyond, Ap, (roi[2], roi[3]), flags=cv2.INTER_LINEAR, borderValue=1)[..., None]
            smask = np.minimum(smask, 1.0 - wmask)
            g = g * (1.0 - smask) + raw * skin * smask
        if not (wmask > 0.01).any():
            return g
        # the driver's lips as they are in its frame (before the interior's gain), times the gain
        return g * (1.0 - wmask) + raw * gain * wmask


def colour_gain(to, frm, light=(0.5, 2.0), tint=(0.5, 2.0)):
    """(3,) float32 gain per channel taking the mean RGB colour ``frm`` to ``to``: a brightness
    factor (their luma ratio, clipped to ``light``) times a tint (each channel's ratio over that
    factor, clipped to ``tint``), so that a large change of brightness is carried without turning
    the hue. Each channel's ratio clipped on its own did turn it: pale pink driver's lips (205, 109,
    101) onto a warm-lit target's dark lips (112, 56, 35) asked for (0.55, 0.51, 0.34), blue was
    held at 0.5, and the lips were drawn lilac (docs/compositing.md)."""
    to, frm = np.asarray(to, np.float64) + 1.0, np.asarray(frm, np.float64) + 1.0
    luma = np.array([0.299, 0.587, 0.114])
    s = float(np.clip((to @ luma) / (frm @ luma), *light))
    return (s * np.clip(to / frm / s, *tint)).astype(np.float32)


def lip_band(P, shape, roi, width):
    """(H, W) uint8 mask in ``roi`` of the lips of the (468, 2) points ``P``: inside the outer
    contour's hull, beyond the inner contour grown by 4 % of the mouth's ``width`` (so an
    opening and the teeth at its edge are left out; ``width`` 0: up to the inner contour)."""
    return _beyond(*_lip_masks(P, shape, roi), width)


def _lip_masks(P, shape, roi):
    """(the outer lip contour's hull, the inner contour's polygon) of ``P`` as uint8 masks in ``roi``."""
    return (_poly_mask(shape, cv2.convexHull(np.asarray(P, np.float32)[list(OUTER_LIP)])[:, 0], roi),
            _poly_mask(shape, np.asarray(P, np.float64)[list(INNER_LIP)], roi))


def _beyond(outer, inner, width):
    """``outer`` less ``inner`` grown by 4 % of ``width`` (:func:`lip_band`)."""
    g = int(round(0.04 * width))
    if g > 0:
        inner = cv2.dilate(inner, np.ones((2 * g + 1, 2 * g + 1), np.uint8))
    return outer * (1 - inner)


#: ``auto``: the driver's mouth is drawn when the performance opens the mouth wider than this
#: many times the widest opening of the footage (the renderer follows what the footage shows)
BEYOND_FOOTAGE = 1.25
#: where a mouth dub's lower face comes from (``reenact render --mouth``; Blender: Mouth): chosen
#: automatically, the driver's mouth (:class:`MouthDonor`), the shot's own frames
#: (:class:`~reenact.render.rewrite.ShotMouth`) or the renderer network
MODES = ("auto", "driver", "shot", "renderer")
#: older names: ``--driver-mouth on`` is the driver's mouth, Blender's Driver's Mouth Off the renderer
ALIASES = {"on": "driver", "off": "renderer"}


def mouth_mode(mode):
    """``mode`` as one of :data:`MODES` (case-insensitive, :data:`ALIASES` accepted); ValueError
    (one line) otherwise."""
    m = ALIASES.get(str(mode).lower(), str(mode).lower())
    if m not in MODES:
        raise ValueError("unknown mouth source '{}' (choose {})".format(mode, ", ".join(MODES)))
    return m


def mouth_openings(track, rows=None):
    """(T,) or (len(rows),) inner-lip gap of ``track``'s fitted mesh over its outer-eye-corner
    distance (NaN where untracked): how open the mouth is, comparable between actors."""
    from ..face.topology import EYE_LEFT_OUTER, EYE_RIGHT_OUTER

    P = track.project(rows, (13, 14, EYE_RIGHT_OUTER, EYE_LEFT_OUTER))  # (only these: a long shot's 468 took seconds)
    return np.linalg.norm(P[:, 0] - P[:, 1], axis=-1) / np.maximum(np.linalg.norm(P[:, 2] - P[:, 3], axis=-1), 1e-9)


def beyond_footage(performance, own, rows):
    """(True when ``performance`` opens the mouth over ``rows`` wider than :data:`BEYOND_FOOTAGE`
    x the widest opening of the footage's own Track ``own`` anywhere, the performance's widest,
    the footage's widest): the shot needs a mouth its footage never shows."""
    asked = mouth_openings(performance, rows)
    shown = mouth_openings(own)
    a = float(np.nanmax(asked)) if np.isfinite(asked).any() else 0.0
    f = float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.0
    return a > BEYOND_FOOTAGE * f, round(a, 3), round(f, 3)


def open_donor(performance, driver_track, driver_video, accept_footage=False, label=None, performance_label=None):
    """The :class:`MouthDonor` of a transferred ``performance`` whose driver is ``driver_track``
    (a Track or its path) over ``driver_video``, after checking that they belong together: the
    performance records its driving frames (``performance_frame``), the driver Track is the
    transfer's source (``performance_source``) and of ``driver_video``
    (:func:`reenact.video.identity.check_footage`). Any mismatch: ValueError, one line naming
    the file. Returns (donor, warnings)."""
    from ..errors import ReenactError
    from ..face.track import Track
    from ..video.identity import check_footage

    if isinstance(driver_track, (str, bytes)) or hasattr(driver_track, "__fspath__"):
        label = label or str(driver_track)
        driver_track = Track.load(driver_track)
    pf = np.asarray(performance.performance_frame, np.float64)
    if not len(pf) or not np.isfinite(pf).any():
        raise ReenactError("the performance records no driving frames (it is not a transfer, or was made before "
                           "Reenact recorded them): make it again with `reenact transfer`", performance_label)
    src = str(performance.performance_source)
    if src and driver_track.source_digest and src != str(driver_track.source_digest):
        if str(driver_track.performance_source) == src:  # (a chain: A onto B, then B onto C: A's footage drives C)
            raise ReenactError("is a transfer's output whose own mouth another footage drove: that footage drives this "
                               "performance's mouth: give the Track and footage of the actor it was transferred from "
                               "first", label)
        raise ReenactError("is not the Track the performance was transferred from (another clip's footage)", label)
    warnings = list(check_footage(driver_track, driver_video, accept_footage, label))
    if not src:
        warnings.append("the performance does not record its source's footage: the driver Track cannot be "
                        "checked against it")
    f0, n = int(driver_track.frame_start), int(driver_track.n_frames)
    used = pf[np.isfinite(pf)]
    if used.min() < f0 - 0.5 or used.max() > f0 + n - 0.5:
        # (named and said what to do since 2026-12-06: the line named nothing where the Track came as an object)
        raise ReenactError("covers clip frames {}..{}, the performance is driven by frames {:g}..{:g} (tracked again "
                           "on fewer frames since the transfer?): transfer again from this Track, or draw the shot's "
                           "or the renderer's mouth (--mouth shot or renderer; Blender: Mouth Shot or Renderer)".format(
                               f0, f0 + n - 1, used.min(), used.max()),
                           label or "the driver Track of '{}'".format(
                               os.path.basename(str(driver_track.source)) or "?"))
    return MouthDonor(driver_track, driver_video, pf, performance.frame_start), warnings
