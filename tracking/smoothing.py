# SPDX-License-Identifier: GPL-3.0-or-later
"""Temporal smoothing of tracked landmarks: a vectorised, zero-phase One Euro filter.

The One Euro filter (Casiez et al., CHI 2012) is a low-pass filter whose cutoff rises with
speed: slow motion (jitter) is smoothed hard, fast motion (a head turn) passes with little lag.
Offline we run it forwards and backwards and average the two passes, which cancels the
remaining phase lag. Positions are filtered in units of the face size (inter-ocular distance)
so the parameters do not depend on the footage resolution. Untracked frames (NaN) split the
clip into segments that are filtered independently and never bridged.

The parameters are stored in the Track (``smoothing`` / ``smoothing_names``) so a result can
be reproduced exactly.
"""

from dataclasses import asdict, dataclass

import numpy as np

from ..face.fit import finite_rows


@dataclass(frozen=True)
class OneEuroParams:
    min_cutoff: float = 1.0  # Hz: cutoff at rest
    beta: float = 10.0  # cutoff increase per (face sizes / second) of speed
    d_cutoff: float = 5.0  # Hz: cutoff of the speed estimate (high enough to follow speech)
    zero_phase: float = 1.0  # 1: forward + backward average, 0: causal forward pass only

    def as_array(self):
        return np.array([self.min_cutoff, self.beta, self.d_cutoff, self.zero_phase], np.float64)

    @staticmethod
    def names():
        return np.array(list(asdict(OneEuroParams()).keys()))

    @classmethod
    def from_array(cls, arr):
        return cls(*[float(v) for v in arr])


def _alpha(cutoff, dt):
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


#: rows per block of the backward pass (the forward pass is recomputed a block at a time from
#: its saved state, so no whole-segment forward result is kept)
BLOCK = 256


class _OneEuro:
    """One causal One Euro filter state over rows of shape (N, D); ``step`` takes the next row
    (float64, no NaNs) and returns the filtered row (a new array). ``state`` saves the filter
    exactly; a filter made with that ``state`` continues from there."""

    def __init__(self, fps, p, state=(None, None)):
        self.fps, self.p = fps, p
        self.dt = 1.0 / fps
        self.a_d = _alpha(p.d_cutoff, self.dt)
        self.prev, self.dprev = state

    @property
    def state(self):
        return self.prev, self.dprev  # replaced, never modified, by step: no copy needed

    def step(self, x):
        if self.prev is None:
            self.prev = x.copy()
            self.dprev = np.zeros_like(x)
            return self.prev
        dx = (x - self.prev) * self.fps
        self.dprev = self.dprev + self.a_d * (dx - self.dprev)
        cutoff = self.p.min_cutoff + self.p.beta * np.abs(self.dprev)
        a = _alpha(cutoff, self.dt)
        self.prev = self.prev + a * (x - self.prev)
        return self.prev


def segments(valid):
    """(start, stop) index pairs of the runs of True in a boolean vector."""
    v = np.concatenate([[False], np.asarray(valid, bool), [False]])
    d = np.diff(v.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def split_at(runs, breaks):
    """The (start, stop) ``runs`` split where a row of ``breaks`` begins a new one."""
    cuts = sorted(int(j) for j in np.asarray(breaks, np.int64).ravel())
    out = []
    for a, b in runs:
        for j in cuts:
            if a < j < b:
                out.append((a, j))
                a = j
        out.append((a, b))
    return out


def smooth_landmarks(landmarks, fps, scale=None, params=OneEuroParams(), out=None, breaks=()):
    """Smooth (T, N, D) landmarks over time. Rows with any NaN are untracked and stay NaN;
    ``breaks``: rows that begin a new shot (a hard cut): never smoothed across.

    ``scale``: per-frame face size (T,) used to normalise speeds; defaults to the spread of
    the points. Returns a new float64 array, or writes into ``out`` (any float dtype; it may
    be ``landmarks`` itself: the tracker smooths its float32 landmarks in place) and returns
    it. The filter runs in float64 whatever the dtypes, so ``out`` holds the float64 result
    rounded to its dtype.

    Memory: a few rows and one block of :data:`BLOCK` rows besides the result, so smoothing a
    long clip needs no whole-clip temporaries. The forward pass saves its state at the start of
    each block; the backward pass recomputes one block's forward result at a time from there,
    averages it with its own and writes the block.
    """
    x = landmarks if isinstance(landmarks, np.ndarray) else np.asarray(landmarks, np.float64)
    T = len(x)
    if out is None:
        out = np.empty(x.shape, np.float64)
    elif out.shape != x.shape:
        raise ValueError("smooth_landmarks: out has shape {}, landmarks {}".format(out.shape, x.shape))
    valid = finite_rows(x)
    if scale is None:
        spread = np.ones(T)
        for a in range(0, T, 4096):
            c = np.asarray(x[a : a + 4096], np.float64)
            if c.size:
                spread[a : a + 4096] = np.nanstd(c[..., :2], axis=1).mean(axis=-1)
        scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    scale = np.asarray(scale, np.float64)
    if out is not x:
        for a, b in segments(~valid):
            out[a:b] = x[a:b]  # untracked rows stay as they are (NaN)
    for a, b in split_at(segments(valid), breaks):
        if b - a < 2:
            out[a:b] = x[a:b]
            continue
        s = np.median(scale[a:b])

        def row(t):
            return np.asarray(x[t], np.float64) / s

        fwd = _OneEuro(fps, params)
        if not params.zero_phase:
            for t in range(a, b):
                out[t] = fwd.step(row(t)) * s
            continue
        saved = {}
        for t in range(a, b):  # forward pass: only its state at each block start is kept
            if (t - a) % BLOCK == 0:
                saved[t] = fwd.state
            fwd.step(row(t))
        bwd = _OneEuro(fps, params)
        block = np.empty((min(BLOCK, b - a),) + x.shape[1:])
        for u in sorted(saved, reverse=True):
            v = min(b, u + BLOCK)
            f = _OneEuro(fps, params, saved[u])
            for t in range(u, v):
                block[t - u] = f.step(row(t))
            for t in range(v - 1, u - 1, -1):  # rows of this block are read before written
                out[t] = 0.5 * (block[t - u] + bwd.step(row(t))) * s
    return out
