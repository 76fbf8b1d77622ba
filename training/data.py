# SPDX-License-Identifier: GPL-3.0-or-later
"""Training data: frames decoded once into uint8 crops, conditioning precomputed (no torch here).

:func:`prepare_clip` decodes a clip once, crops every tracked frame with the stabilised crop of
:mod:`reenact.render.conditioning`, rasterises its conditioning and keeps everything as uint8 arrays
(in RAM, or in ``np.memmap`` files in a temporary folder when ``cache_dir`` is given).
:class:`Dataset` holds several clips, splits each into its first 85 % (training) and last 15 %
(held out; ``holdout``, ``--holdout``: 0 holds nothing out) and assembles batches as numpy
arrays (the training loop converts them).
"""

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from ..render.conditioning import (
    COND_CHANNELS,
    Rasterizer,
    cond_image,
    crop_frame,
    crop_transforms,
    hole_mask,
    stack_window,
)
from ..render.reference import REF_GAP, REF_TOP, REF_WARPS, align_reference, features, nearest
from ..video import open_video
from ..video.identity import check_footage, footage_id
from .options import HOLDOUT


@dataclass
class Clip:
    name: str
    cond: np.ndarray  # (T, 5, S, S) uint8
    crops: np.ndarray  # (T, S, S, 3) uint8
    face: np.ndarray  # (T, S, S) uint8 0/1
    mouth: np.ndarray  # (T, S, S) uint8 0/1 mouth region
    hole: np.ndarray  # (T, S, S) uint8 0/1 face-only hole
    ok: np.ndarray  # (T,) bool tracked
    points: np.ndarray  # (T, 468, 2) crop pixels of the fitted mesh
    features: np.ndarray  # (T, D) expression + pose features for nearest-neighbour retrieval
    M: np.ndarray  # (T, 2, 3) crop <- frame
    frames: np.ndarray  # (T,) clip frame numbers

    def __len__(self):
        return len(self.ok)

    def split(self, holdout=HOLDOUT):
        """(train rows, held-out rows): the first 85 % / last 15 % of the rows (``holdout``: the
        last share; 0: every row trained on), tracked only."""
        T = len(self)
        cut = int(round(T * (1.0 - holdout)))
        rows = np.arange(T)
        return rows[:cut][self.ok[:cut]], rows[cut:][self.ok[cut:]]


def track_digest(track):
    """SHA-256 of everything a Track holds (its saved arrays)."""
    h = hashlib.sha256()
    for k, v in sorted(track.to_arrays().items()):
        v = np.ascontiguousarray(v)
        h.update("|{}|{}|{}|".format(k, v.dtype.str, v.shape).encode())
        h.update(v.tobytes())
    return h.hexdigest()


#: what a checkpoint of other :func:`training_data` is said to differ by where both runs' footage
#: has the same names (training/train.py's refusal, which Blender's Train Renderer rewrites)
TRACKED_AGAIN, OTHER_FILE = "tracked again since", "another file under that name now"


def training_data(pairs):
    """What a run trains on, as a checkpoint records it: per (Track, video, label) pair the
    Track's digest, the footage's digest and the footage's name (for messages)."""
    return [{"track": track_digest(tr), "footage": footage_id(video).digest, "name": os.path.basename(footage_id(video).label)}
            for tr, video, _label in pairs]


def _alloc(cache_dir, name, shape, dtype=np.uint8):
    if cache_dir is None:
        return np.zeros(shape, dtype)
    return np.lib.format.open_memmap(os.path.join(cache_dir, name + ".npy"), mode="w+", dtype=dtype, shape=shape)


def prepare_clip(track, video, size=128, frames=None, cache_dir=None, name=None, progress=None,
                 accept_footage=False, track_label=None):
    """Decode ``video`` once and precompute everything for ``track`` at crop ``size``.

    ``frames``: optional (a, b) clip-frame range. Returns a :class:`Clip`. The Track must be of
    ``video`` (:func:`reenact.video.identity.check_footage`; ``accept_footage``: a re-encoded
    copy of the same shot; ``track_label``: the Track's file, for the error line).
    """
    check_footage(track, video, accept_footage, track_label)
    if frames is not None:
        track = track.subset(*frames)
    xf = crop_transforms(track, size)
    rast = Rasterizer(track, size, xf)
    T = track.n_frames
    S = int(size)
    name = name or os.path.splitext(os.path.basename(str(video)))[0]
    tag = "{}_{}".format(name, S)
    cond = _alloc(cache_dir, tag + "_cond", (T, COND_CHANNELS, S, S))
    crops = _alloc(cache_dir, tag + "_crops", (T, S, S, 3))
    face = _alloc(cache_dir, tag + "_face", (T, S, S))
    mouth = _alloc(cache_dir, tag + "_mouth", (T, S, S))
    hole = _alloc(cache_dir, tag + "_hole", (T, S, S))
    points = np.zeros((T, 468, 2), np.float32)
    ok = np.asarray(track.tracked, bool).copy()
    a = int(track.frame_start)
    with open_video(video) as src:
        for i, frame in src.iter_frames(a, a + T):
            r = i - a
            crops[r] = crop_frame(frame, xf.M[r], S)
            if ok[r]:
                out = rast.render(r)
                cond[r] = cond_image(out)
                face[r] = out["face"] > 0.5
                mouth[r] = out["mouth_region"] > 0.5
                hole[r] = hole_mask(out["face"], S)
                points[r] = rast.points(r)
            if progress is not None:
                progress(r + 1, T)
    return Clip(name, cond, crops, face, mouth, hole, ok, points, features(track), xf.M, track.frames())


def photometric(img, rng, near=None, strength=1.0):
    """Random colour change of an (S, S, 3) float image in 0..1, or uint8 0..255 (the same
    result as ``img / 255``, by table), returned float32 0..1.

    A global per-channel gamma, gain and bias plus an overall brightness, then, when ``near``
    (an (S, S) 0..1 weight map, e.g. the blurred hole) is given, a second, local per-channel
    gain/bias blended in by ``near`` (the face and the skin around it change more than the far
    background, like a skin filter or a lamp on the face). Applied to the real crop before the
    hole is cut out, so the context and the target change identically."""
    k = float(strength)
    gamma = np.exp(rng.normal(0.0, 0.25 * k) + rng.normal(0.0, 0.08 * k, 3))
    gain = np.exp(rng.normal(0.0, 0.25 * k) + rng.normal(0.0, 0.12 * k, 3))
    bias = rng.normal(0.0, 0.04 * k, 3)
    g32, k32, b32 = gamma.astype(np.float32), gain.astype(np.float32), bias.astype(np.float32)
    if img.dtype == np.uint8:  # the same float32 arithmetic on the 256 levels, then looked up
        lut = (np.arange(256, dtype=np.float32) / np.float32(255.0))[None] ** g32[:, None] * k32[:, None] + b32[:, None]
        y = np.empty(img.shape, np.float32)
        for c in range(3):
            y[..., c] = lut[c][img[..., c]]
    else:
        y = np.clip(img, 0.0, 1.0) ** g32 * k32 + b32
    if near is not None:
        lg = np.exp(rng.normal(0.0, 0.2 * k) + rng.normal(0.0, 0.06 * k, 3)).astype(np.float32)
        lb = rng.normal(0.0, 0.03 * k, 3).astype(np.float32)
        w = np.asarray(near, np.float32)[..., None]
        y = y + w * (y * (lg - 1.0) + lb)
    if rng.random() < 0.2:  # saturation change
        g = y.mean(2, keepdims=True)
        y = g + (y - g) * np.float32(np.exp(rng.normal(0.0, 0.3 * k)))
    return np.clip(y, 0.0, 1.0).astype(np.float32)


def flip_cond(x, window, ref=False):
    """Mirror a (C, S, S) network input left/right: the image flip plus the template x of the
    correspondence channels (``0.1..1`` maps the symmetric mean shape's x, so a mirrored point
    has ``1.1 - v``; 0 stays 0 = no face). Eye, mouth, real-crop and hole channels just flip.
    ``ref``: the input holds the actor reference (its correspondence x is channel 5 W + 3)."""
    x = x[..., ::-1].copy()
    xs = [5 * f for f in range(int(window))] + ([5 * int(window) + 3] if ref else [])
    for k in xs:
        c = x[k]
        c[c > 0] = 1.1 - c[c > 0]
    return x


class Dataset:
    """Several clips; batches of (input, target, face mask, mouth mask, hole) as float32 numpy.

    ``augment``: training batches (:meth:`train_batch`) get :func:`photometric` colour changes
    (same for the context, the reference and the target) and, with ``flip``, a random left/right
    mirror. ``ref``: inputs hold the actor reference (:mod:`reenact.render.reference`), picked
    from the clip's training rows: for a training row one of the ``REF_TOP`` nearest at least
    ``ref_gap`` frames away (drawn when augmenting, else the nearest; ``REF_TOP`` is 1), for any
    other row the nearest training row."""

    def __init__(self, clips, window=11, mode="face-only", holdout=HOLDOUT, train_all=(), augment=False, flip=False,
                 ref=False, ref_gap=REF_GAP, ref_warp=REF_WARPS[0], ref_top=REF_TOP):
        self.clips = list(clips)
        self.window = int(window)
        self.mode = mode
        self.augment = bool(augment)
        self.flip = bool(flip)
        self.ref = bool(ref)
        self.ref_gap = int(ref_gap)
        self.ref_warp = ref_warp
        self.ref_top = int(ref_top)
        self.holdout = holdout
        self.train_rows, self.val_rows = [], []
        self._pool = []  # per clip: training rows (the reference pool)
        for ci, c in enumerate(self.clips):
            tr, va = c.split(holdout)
            if c.name in train_all:
                tr = np.flatnonzero(c.ok)
                va = va[:0]
            self.train_rows += [(ci, int(r)) for r in tr]
            self.val_rows += [(ci, int(r)) for r in va]
            self._pool.append(np.asarray(tr, np.int64))
        if not self.train_rows:
            raise ValueError("no tracked training frames")
        self._cand = {}

    def candidates(self, ci, r):
        """Reference rows for row ``r`` of clip ``ci``, best first (see the class doc)."""
        key = (ci, int(r))
        got = self._cand.get(key)
        if got is None:
            c, pool = self.clips[ci], self._pool[ci]
            if not len(pool):
                raise ValueError("{}: no training rows for the reference".format(c.name))
            is_train = np.isin(r, pool)
            if is_train:
                far = pool[np.abs(pool - int(r)) >= self.ref_gap]
                pool = far if len(far) else pool[pool != r] if len(pool) > 1 else pool
            got = pool[nearest(c.features[pool], c.features[r], self.ref_top if is_train else 1)]
            self._cand[key] = got
        return got

    def reference(self, ci, r, rng=None):
        """(rgb, cond) of the reference of row ``r`` aligned onto its crop (uint8)."""
        c = self.clips[ci]
        cand = self.candidates(ci, r)
        j = int(cand[rng.integers(len(cand))] if (rng is not None and self.augment) else cand[0])
        return align_reference(c.crops[j], c.cond[j], c.points[j], c.points[r], self.ref_warp)

    def item(self, ci, r, rng=None):
        """One sample; with ``rng`` (and ``augment``/``flip`` set) a randomly augmented one."""
        c = self.clips[ci]
        crop = c.crops[r]
        ref = self.reference(ci, r, rng) if self.ref else None
        if rng is not None and self.augment:
            import cv2

            near = cv2.GaussianBlur(c.hole[r].astype(np.float32), (0, 0), crop.shape[0] / 10.0)
            near = near / max(float(near.max()), 1e-6)
            if ref is None:
                crop = photometric(np.asarray(crop, np.uint8), rng, near) * 255.0
            else:  # one colour change for the frame and its (aligned) reference
                S = crop.shape[1]
                both = photometric(np.concatenate([crop, ref[0]], 1).astype(np.uint8), rng,
                                   np.concatenate([near, near], 1)) * 255.0
                crop, ref = both[:, :S], (np.round(both[:, S:]).astype(np.uint8), ref[1])
        x = stack_window(c.cond, r, self.window, self.mode, crop, c.hole[r], ref)
        y = np.asarray(crop, np.float32).transpose(2, 0, 1) / 255.0
        out = [x, y, c.face[r].astype(np.float32), c.mouth[r].astype(np.float32), c.hole[r].astype(np.float32)]
        if rng is not None and self.flip and rng.random() < 0.5:
            out = [flip_cond(x, self.window, self.ref)] + [np.ascontiguousarray(z[..., ::-1]) for z in out[1:]]
        return tuple(out)

    def train_batch(self, step, batch_size, seed=0):
        """The training batch of ``step``: rows from :meth:`sample`, augmented (when enabled)
        with a generator seeded by (seed, step), so a resumed run sees identical batches."""
        rows = self.sample(step, batch_size, seed)
        if not (self.augment or self.flip):
            return self.batch(rows)
        rng = np.random.default_rng([int(seed), int(step), 1])
        return [np.stack(z) for z in zip(*[self.item(ci, r, rng) for ci, r in rows])]

    def batch(self, rows):
        items = [self.item(ci, r) for ci, r in rows]
        return [np.stack(z) for z in zip(*items)]

    def sample(self, step, batch_size, seed=0):
        """A deterministic batch of training rows for ``step`` (resume gives the same batches)."""
        rng = np.random.default_rng([int(seed), int(step)])
        idx = rng.integers(0, len(self.train_rows), int(batch_size))
        return [self.train_rows[i] for i in idx]
