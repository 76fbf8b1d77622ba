# SPDX-License-Identifier: GPL-3.0-or-later
"""Region ``face`` for rows whose own frame the render may not draw from.

``render --reference-frames A:B`` names the footage frames a render draws the actor from. A row
outside them (a held-out self-reenactment's scored frames; frames the user keeps out, e.g. a hand
over the face) must not take its face from its own frame, which a region ``face`` edit otherwise
does: the footage frame warped to the performance (:meth:`~reenact.render.motion.HeadMotion.face_frame`,
the detail source). :class:`ShotFace` draws those rows' faces from the allowed frames instead,
with :class:`~reenact.render.shothead.ShotHead`'s choice: the head from the frame nearest in pose
and expression, the lower face from the frame with the nearest mouth, the eyes from the frame
nearest in lids and gaze, each warped by the fitted meshes to the performance. The composition
goes inside the face (the network's face hole, :func:`~reenact.render.conditioning.hole_mask`)
over the row's frame with :func:`~reenact.render.composite.paste_back`, blended by a Laplacian
pyramid but not colour matched (that match reads the frame's own face rim, which may not be
drawn from); the rest of the frame is the row's own, as for every region ``face`` render. What
no allowed frame shows (an eye opened wider than any, surface hidden in the source) is the
field's hole, which the network fills (region ``face``'s moved-face path in
:mod:`~reenact.render.pipeline`). Other rows are the wrapped warper's.

On the held-out last 15 % of a clip (``bench/reenact.py`` case 3) the face drawn this way is
4.0 dB closer to the truth than the nearest-neighbour baseline on d14, which the network never
saw (the 256 px default; the network alone: 2.4 dB; d14 was looked at to set the render path),
1.1-4.9 dB on d11, d3, d10 and s29, whose frames the base trained on, held-out 15 % included:
inflated by memory (docs/reenact-bench.md).
"""

import hashlib
import threading

import numpy as np

from .cache import geometry_digest
from .composite import paste_back
from .conditioning import Rasterizer, crop_frame, hole_mask
from .motion import MOTION_VERSION
from .plates import stored_plate
from .shothead import ShotHead

__all__ = ["ShotFace", "outside_rows", "shot_face", "preview_face"]


def outside_rows(n, allowed):
    """bool (n,): the rows not in ``allowed`` (row indices; None: every row is allowed)."""
    out = np.zeros(int(n), bool)
    if allowed is not None:
        out[:] = True
        a = np.asarray(allowed, np.int64)
        out[a[(a >= 0) & (a < n)]] = False
    return out


class ShotFace:
    """A region ``face`` warper (the interface of :class:`~reenact.render.motion.HeadMotion` the
    render path uses: ``same_pose``, ``edits``, ``face_frame``, ``detail``, ``close``) whose rows
    outside ``allowed`` (footage rows of ``own``) are drawn from the allowed frames; ``warper``
    (a HeadMotion, or None) draws the others. ``size`` and ``transforms``: the network's crop
    (its face hole is where the composition goes)."""

    def __init__(self, warper, own, requested, video, allowed, size, transforms, plate=None):
        self.warper = warper
        self.outside = outside_rows(own.n_frames, allowed)
        self.head = ShotHead(own, requested, video, plate, pool=allowed, redraw=self.outside, matte=False)
        self.S, self.xf = int(size), transforms
        self.rast = Rasterizer(requested, self.S, transforms)
        self._lock = threading.Lock()
        base = warper.same_pose if warper is not None else np.zeros(own.n_frames, bool)
        #: every outside row is drawn here, whatever its pose (the face re-posed in the frame's head)
        self.same_pose = base | self.outside
        self.frame_start = int(requested.frame_start)
        rows = hashlib.sha1(np.packbits(self.outside).tobytes()).hexdigest()[:16]
        #: the crop cache's part (the render's and Preview Frame's)
        self.key = "|shot-face {} {} {}".format(MOTION_VERSION, geometry_digest(own), rows)

    def outside_row(self, r):
        """True when row ``r`` may not take its face from its own frame."""
        return 0 <= r < len(self.outside) and bool(self.outside[r])

    def edits(self, r):
        if self.outside_row(r):
            return self.head.driver_row(r) is not None
        return self.warper is not None and self.warper.edits(r)

    def face_frame(self, r, frame):
        """(``frame`` with its face drawn from the allowed frames, the WarpField whose holes the
        network fills) for an outside row; the wrapped warper's otherwise."""
        if not self.outside_row(r):
            return self.warper.face_frame(r, frame) if self.warper is not None else (frame, None)
        drawn, g = self.head.frame(r, frame)
        if g is None:
            return frame, None
        with self._lock:  # (the render path draws two rows at once)
            hole = hole_mask(self.rast.render(r)["face"], self.S)
        crop = crop_frame(drawn, self.xf.M[r], self.S)
        return paste_back(frame, crop, hole, self.xf.Minv[r], colour=False, detail=drawn), g

    def detail(self, r, frame, region=None, field_scale=1.0, part=None):
        """The wrapped warper's detail source; none for an outside row (its own frame is what
        may not be drawn from)."""
        if self.outside_row(r) or self.warper is None:
            return None, None
        return self.warper.detail(r, frame, region, field_scale, part)

    def close(self):
        self.head.close()
        if self.warper is not None:
            self.warper.close()


def shot_face(warper, own, requested, video, allowed, size, transforms, source, cache_dir=None):
    """(the region ``face`` warper, its part of the crop cache's key): ``warper`` as it is when
    every row may be drawn from its own frame, else a :class:`ShotFace` over it (``source``: the
    open footage, for the picture's area inside bars, :func:`~reenact.render.plates.stored_plate`,
    kept in ``cache_dir``)."""
    if not outside_rows(own.n_frames, allowed).any():
        return warper, ""
    face = ShotFace(warper, own, requested, video, allowed, size, transforms,
                    stored_plate(video, own, cache_dir, source))
    return face, face.key


def preview_face(own, requested, video, allowed, size, transforms):
    """Preview Frame's :class:`ShotFace` (no wrapped warper), made on the whole performance
    ``requested`` as :func:`shot_face` makes the render's, or None when every row is allowed;
    its ``key`` is the crop cache's part."""
    if not outside_rows(own.n_frames, allowed).any():
        return None
    return ShotFace(None, own, requested, video, allowed, size, transforms, stored_plate(video, own))
