# SPDX-License-Identifier: GPL-3.0-or-later
"""The network's inputs for the rows of one Track (the render path's, :mod:`.pipeline`):
conditioning rasterised once per row (memoised across calls, so Preview Frame's next frame costs
one row), the face hole and mouth region masks, the actor reference. numpy + OpenCV."""

import os
import time
from collections import OrderedDict

import numpy as np

from .cache import _LOCK, geometry_digest, row_digests
from .conditioning import (Rasterizer, cond_image, crop_frame, hole_mask, lower_face_mask, stack_window_u8,
                           window_indices)
from .reference import features

_COND = OrderedDict()  # (geometry, row digest, M bytes, S) -> (5, S, S) uint8, shared by calls
_COND_MAX = 256


class NetInputs:
    """Conditioning and network inputs for the rows of one track (memoised per row)."""

    def __init__(self, track, transforms, renderer, pool=None, feats=None, cuts=(), pool_start=None):
        if renderer.ref and pool is None:
            raise ValueError("{}: this renderer needs the actor's reference frames".format(os.path.basename(renderer.path)))
        self.pool = pool if renderer.ref else None
        self.feats = (features(track) if feats is None else feats) if self.pool is not None else None
        self.track = track
        self.xf = transforms
        self.S = renderer.size
        self.W = renderer.window
        self.mode = renderer.mode
        self.ref_warp = renderer.ref_warp
        self.rast = Rasterizer(track, self.S, transforms)
        self.geometry = geometry_digest(track)
        self.rowd = row_digests(track)
        self.t_cond = 0.0
        self.extras = {}
        # an edited scene: each row's reference from its own shot's pool frames (``cuts``: clip frames
        # that begin a shot, of the whole footage; ``pool_start``: clip frame of the pool's row 0)
        self.cuts = np.sort(np.asarray(cuts, np.int64))
        self.pool_shot = None if self.pool is None or not len(self.cuts) else np.searchsorted(
            self.cuts, np.asarray(self.pool.rows, np.int64) + int(
                track.frame_start if pool_start is None else pool_start), side="right")

    def reference_within(self, r):
        """(len(pool),) bool: the pool frames in row ``r``'s shot, or None (no cut known)."""
        if self.pool_shot is None:
            return None
        return self.pool_shot == np.searchsorted(self.cuts, int(self.track.frame_start) + int(r), side="right")

    def cond(self, r):
        k = (self.geometry, self.rowd[r], np.asarray(self.xf.M[r], np.float64).tobytes(), self.S)
        with _LOCK:
            c = _COND.get(k)
            if c is not None:
                _COND.move_to_end(k)
                return c
        t = time.perf_counter()
        out = self.rast.render(r)
        c = cond_image(out)
        self.extras[r] = (out["face"] > 0.5, out["mouth_region"] > 0.5)  # masks of this row
        self.t_cond += time.perf_counter() - t
        with _LOCK:
            _COND[k] = c
            while len(_COND) > _COND_MAX:
                _COND.popitem(last=False)
        return c

    def masks(self, r):
        """(face hole mask, mouth region mask) of row ``r`` (float32 S x S)."""
        if r not in self.extras:
            self.cond(r)  # rasterises the row once for both (unless its conditioning is cached)
        if r not in self.extras:
            t = time.perf_counter()
            out = self.rast.render(r)
            self.extras[r] = (out["face"] > 0.5, out["mouth_region"] > 0.5)
            self.t_cond += time.perf_counter() - t
        face, mouth = self.extras.pop(r)
        for k in [k for k in self.extras if k < r - self.W]:
            del self.extras[k]
        hole = hole_mask(face, self.S)
        return hole, lower_face_mask(hole, mouth, self.rast.points(r))

    def network_input(self, r, frame, masks=None):
        """The network input (uint8) of row ``r`` (``masks``: :meth:`masks` of the row, when
        the caller took them already)."""
        idx = window_indices(r, self.W, self.track.n_frames)
        stack = [self.cond(k) for k in idx]
        hole, mouth = self.masks(r) if masks is None else masks
        crop = crop_frame(frame, self.xf.M[r], self.S) if self.mode == "face-only" else None
        ref = None
        if self.pool is not None:
            t = time.perf_counter()
            ref = self.pool.reference(self.feats[r], self.rast.points(r), self.ref_warp, self.reference_within(r))
            self.t_cond += time.perf_counter() - t
        # the parts, scaled into the network's buffer by renderer.run on its own thread
        return stack_window_u8(stack, self.mode, crop, hole, ref, lazy=True)
