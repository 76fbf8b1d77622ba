# SPDX-License-Identifier: GPL-3.0-or-later
"""Training data: clips decoded and resized to the working resolution, and deterministic
sampling of frame triplets (t-2, t-1, t) for the temporal predictors. numpy + OpenCV only.

A domain is a list of clips; a clip is a path (any movie/image sequence ``open_video`` reads, of any
size or frame rate: frames are resized to ``size`` x ``size``) or an already loaded
(T, size, size, 3) uint8 array.
"""

import hashlib
import os

import cv2
import numpy as np

from ..fsutil import write_atomic
from ..video import open_video

#: frame rate the triplets are sampled at: faster footage is subsampled to about this rate
TARGET_FPS = 30.0


def _cache_name(path, size, max_frames):
    st = os.stat(path)
    key = "{}|{}|{}|{}|{}".format(os.path.abspath(path), st.st_size, int(st.st_mtime), size, max_frames)
    return hashlib.sha1(key.encode()).hexdigest()[:16] + ".npy"


def load_clip(path, size, max_frames=None, cache_dir=None):
    """(T, size, size, 3) uint8 RGB frames of a clip, each resized (INTER_AREA) to size x size,
    subsampled to about :data:`TARGET_FPS`."""
    if cache_dir:
        cp = os.path.join(cache_dir, _cache_name(path, size, max_frames))
        if os.path.isfile(cp):
            return np.load(cp, allow_pickle=False)
    frames = []
    with open_video(path) as src:
        step = max(1, int(round(src.fps / TARGET_FPS)))
        for _, f in src.iter_frames(0, None, step):
            if f is None:
                continue
            frames.append(cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA))
            if max_frames and len(frames) >= max_frames:
                break
    if len(frames) < 3:
        raise ValueError("{}: needs at least 3 frames, has {}".format(path, len(frames)))
    arr = np.stack(frames)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomic(cp, lambda fh: np.save(fh, arr, allow_pickle=False))
    return arr


def load_domain(items, size, max_frames=None, cache_dir=None, name="domain"):
    if not items:
        raise ValueError("{} is empty: give at least one clip".format(name))
    out = []
    for it in items:
        if isinstance(it, np.ndarray):
            if it.ndim != 4 or it.shape[1:] != (size, size, 3) or len(it) < 3:
                raise ValueError("{}: arrays must be (T>=3, {s}, {s}, 3) uint8".format(name, s=size))
            out.append(it.astype(np.uint8, copy=False))
        else:
            out.append(load_clip(it, size, max_frames, cache_dir))
    return out


def sample_triplets(clips, rng, batch):
    """(batch, 3, S, S, 3) uint8 triplets from ``clips`` (clip chosen in proportion to its length),
    randomly mirrored left/right (the same way for the three frames)."""
    lens = np.array([len(c) - 2 for c in clips], np.float64)
    ci = rng.choice(len(clips), size=batch, p=lens / lens.sum())
    out = []
    for c in ci:
        t = int(rng.integers(2, len(clips[c])))
        tri = clips[c][t - 2:t + 1]
        if rng.random() < 0.5:
            tri = tri[:, :, ::-1]
        out.append(tri)
    return np.stack(out)
