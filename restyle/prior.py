# SPDX-License-Identifier: GPL-3.0-or-later
"""Retrieval (exemplar) chroma prior for colourise mode. numpy + OpenCV only.

A :class:`RefPool` holds small frames of the colour reference footage (luminance and chroma at
``min(working size, 64)`` px, at most ``pool_frames`` of them spread over the clips). For a grey
frame, :meth:`RefPool.prior` retrieves the ``k`` nearest reference frames by a 32x32 luminance
thumbnail (the best frame of each clip first, so the candidates come from different footage),
aligns each to the frame by DIS optical flow on luminance, fits per neighbourhood a
locally-linear luminance -> chroma map on the aligned reference (``Cb = a * Y + b``, a guided
filter), and blends the candidates per pixel by how well their aligned luminance matches the
frame's. The result has the colourise generator's own form (:mod:`.colour`: ``a_cb, b_cb, a_cr,
b_cr``), so applied to the shot's luminance it is a colourisation by itself; the generator gets it
(and the blend's confidence) as extra input channels and predicts a correction to it.

Training never lets a frame retrieve from its own clip (``exclude``): with two or more reference
clips every candidate comes from another clip; with one, from frames at least a quarter of the
clip away. The pool ships inside the exported ONNX (``reenact.pool``, an ``.npz`` of uint8 arrays,
base64) or is given at apply time (``--reference``).
"""

import base64
import io
import zipfile
import zlib

import cv2
import numpy as np

from ..fsutil import checked_npz
from .colour import luma, rgb_to_ycc
from .metrics import warp

#: side of the pool's frames (and of the prior, which is upsampled to the working size)
POOL_SIDE = 64
#: default number of pool frames shipped in a model (~12 KB each at 64 px, before compression)
POOL_FRAMES = 512
#: the most any array of a model's pool may take (4096 frames of POOL_SIDE² at 8 bytes a pixel
#: fit; a crafted model declaring more is refused before anything is read: fsutil.checked_npz)
POOL_BYTES = 1 << 28
#: candidates blended per frame
PRIOR_K = 6
#: channels the prior adds to the generator's input: a_cb, b_cb, a_cr, b_cr, confidence
PRIOR_CH = 5
_THUMB = 32
_SIGMA = 0.05     # luminance match error (0..1) at which a candidate's weight falls to 1/e
_EPS = 1e-3       # guided-filter regularisation (luminance variance)
_SLOPE = 2.0      # |a| bound of the fitted luminance -> chroma slope


def _box(a, r):
    return cv2.blur(a, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def _u8(a):
    return np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)


def thumb(y):
    """Retrieval feature of a luminance image: its 32x32 area-resized thumbnail, flattened."""
    return cv2.resize(np.ascontiguousarray(y, np.float32), (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).reshape(-1)


class RefPool:
    """Small colour reference frames for the retrieval prior: ``y`` (N, s, s) uint8 luminance,
    ``c`` (N, s, s, 2) uint8 chroma (Cb, Cr stored as ``(c + 0.5) * 255``), ``clip`` (N,) the clip
    each frame came from, ``pos`` (N,) its frame index in that clip (working-size timeline)."""

    def __init__(self, y, c, clip, pos):
        self.y, self.c = np.ascontiguousarray(y, np.uint8), np.ascontiguousarray(c, np.uint8)
        self.clip, self.pos = np.asarray(clip, np.int32), np.asarray(pos, np.int32)
        if not (self.y.ndim == 3 and self.c.shape == self.y.shape + (2,) and len(self.clip) == len(self.y)
                == len(self.pos) and len(self.y) > 0 and self.y.shape[1] == self.y.shape[2]
                and 8 <= self.y.shape[1] <= 256):
            raise ValueError("the reference pool's arrays do not fit together")
        self.side = self.y.shape[1]
        self.yf = self.y.astype(np.float32) / 255.0
        self.cf = self.c.astype(np.float32) / 255.0 - 0.5
        self.feats = np.stack([thumb(f) for f in self.yf])
        self.n_clips = int(len(np.unique(self.clip)))
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def __len__(self):
        return len(self.y)

    @classmethod
    def from_clips(cls, clips, max_frames=POOL_FRAMES, side=None):
        """Pool from colour clips ((T, S, S, 3) uint8 arrays, any S): at most ``max_frames`` frames
        spread evenly over all clips (in proportion to their length), resized to ``side`` (default
        ``min(S, 64)``)."""
        if not clips:
            raise ValueError("the reference pool needs at least one colour clip")
        side = int(side or min(POOL_SIDE, clips[0].shape[1]))
        total = sum(len(c) for c in clips)
        stride = max(1.0, total / float(max(1, max_frames)))
        ys, cs, ids, pos = [], [], [], []
        for i, clip in enumerate(clips):
            for t in np.unique(np.floor(np.arange(0, len(clip), stride)).astype(int)):
                f = clip[t]
                if f.shape[0] != side:
                    f = cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA)
                ycc = rgb_to_ycc(f.astype(np.float32) / 255.0)
                ys.append(_u8(ycc[..., 0]))
                cs.append(_u8(ycc[..., 1:] + 0.5))
                ids.append(i)
                pos.append(t)
        return cls(np.stack(ys), np.stack(cs), ids, pos)

    # -- serialisation (into the ONNX metadata): plain arrays, loaded without pickle
    def to_text(self):
        buf = io.BytesIO()
        np.savez_compressed(buf, y=self.y, c=self.c, clip=self.clip, pos=self.pos)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    @classmethod
    def from_text(cls, text):
        try:
            with np.load(io.BytesIO(base64.b64decode(text.encode("ascii"), validate=True)), allow_pickle=False) as z:
                a = checked_npz(z, ("y", "c", "clip", "pos"), max_bytes=POOL_BYTES)
                return cls(a["y"], a["c"], a["clip"], a["pos"])
        except (ValueError, KeyError, OSError, TypeError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError) as exc:
            raise ValueError("the reference pool in the model is damaged ({})".format(exc)) from None

    # -- the prior
    def candidates(self, y, k=PRIOR_K, exclude=None):
        """Indices of the ``k`` reference frames nearest to luminance ``y`` (side x side): the best
        frame of each clip first (nearest clips first), then further frames at least a few frames
        from those already chosen. ``exclude``: (clip, frame index) of the query, whose own clip
        is skipped (with a one-clip pool: frames within a quarter of the clip)."""
        d = ((self.feats - thumb(y)) ** 2).sum(1)
        ok = np.ones(len(d), bool)
        if exclude is not None:
            ci, t = exclude
            same = self.clip == ci
            if self.n_clips > 1:
                ok &= ~same
            else:
                span = max(3, int(self.pos[same].max(initial=0)) // 4)
                ok &= ~(same & (np.abs(self.pos - t) < span))
        order = [int(j) for j in np.argsort(d, kind="stable") if ok[j]]
        chosen, seen = [], set()
        for j in order:  # the best frame of each clip
            if self.clip[j] not in seen:
                seen.add(int(self.clip[j]))
                chosen.append(j)
            if len(chosen) >= k:
                return chosen
        gap = 8
        for j in order:  # then other moments of those clips
            if all(self.clip[i] != self.clip[j] or abs(int(self.pos[i]) - int(self.pos[j])) >= gap for i in chosen):
                chosen.append(j)
                if len(chosen) >= k:
                    break
        return chosen

    def prior(self, y, k=PRIOR_K, exclude=None):
        """(s, s, 5) float32 prior for luminance ``y`` (s, s) 0..1 at the pool's side: the chroma
        coefficients ``a_cb, b_cb, a_cr, b_cr`` and the confidence (0..1: how well the best-aligned
        candidates match the frame there). With no candidate (everything excluded): the pool's mean
        chroma, confidence 0."""
        y = np.ascontiguousarray(y, np.float32)
        s = self.side
        if y.shape != (s, s):
            raise ValueError("prior: expected a {0}x{0} luminance image, got {1}".format(s, y.shape))
        r = max(2, s // 16)
        yq = _u8(y)
        num_a = np.zeros((s, s, 2), np.float32)
        num_b = np.zeros((s, s, 2), np.float32)
        den = np.zeros((s, s, 1), np.float32)
        best = np.zeros((s, s), np.float32)
        for j in self.candidates(y, k, exclude):
            flow = self._dis.calc(yq, self.y[j], None)  # y(p) ~ ref(p + flow)
            yr = warp(self.yf[j], flow)
            cr = warp(self.cf[j], flow)
            match = np.exp(-(_box(np.abs(yr - y), 2) / _SIGMA) ** 2)
            w = match + 1e-4
            my = _box(yr, r)
            vy = _box(yr * yr, r) - my * my
            for ch in range(2):
                mc = _box(cr[..., ch], r)
                a = np.clip((_box(yr * cr[..., ch], r) - my * mc) / (vy + _EPS), -_SLOPE, _SLOPE)
                num_a[..., ch] += w * a
                num_b[..., ch] += w * (mc - a * my)
            den[..., 0] += w
            best = np.maximum(best, match)
        if not den.any():
            mean = self.cf.reshape(-1, 2).mean(0)
            out = np.zeros((s, s, PRIOR_CH), np.float32)
            out[..., 1], out[..., 3] = mean[0], mean[1]
            return out
        a, b = _box(num_a / den, r), _box(num_b / den, r)
        return np.stack([a[..., 0], b[..., 0], a[..., 1], b[..., 1], best], -1).astype(np.float32)

    def prior_for(self, small_rgb, size=None, k=PRIOR_K, exclude=None):
        """Prior of a working-size frame (S, S, 3 float 0..1, or (S, S) luminance) at ``size``
        (default S): computed at the pool's side, resized (bilinear) to the working size."""
        y = small_rgb if small_rgb.ndim == 2 else luma(small_rgb)
        S = int(size or y.shape[0])
        if y.shape[0] != self.side:
            y = cv2.resize(y, (self.side, self.side), interpolation=cv2.INTER_AREA)
        p = self.prior(y, k, exclude)
        if S != self.side:
            p = cv2.resize(p, (S, S), interpolation=cv2.INTER_LINEAR)
        return p

    def clip_priors(self, clip_u8, k=PRIOR_K, clip_id=None):
        """(T, S, S, 5) float16 priors of every frame of a (T, S, S, 3) uint8 clip; ``clip_id``:
        the clip's index in the pool (a reference clip), whose own frames it may not retrieve."""
        out = np.empty(clip_u8.shape[:3] + (PRIOR_CH,), np.float16)
        for t, f in enumerate(clip_u8):
            ex = None if clip_id is None else (clip_id, t)
            out[t] = self.prior_for(f.astype(np.float32) / 255.0, k=k, exclude=ex)
        return out
