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


def _one_euro_pass(x, fps, p):
    """Causal One Euro over axis 0 of x (T, ...), no NaNs."""
    out = np.empty_like(x)
    dt = 1.0 / fps
    a_d = _alpha(p.d_cutoff, dt)
    prev = x[0].copy()
    dprev = np.zeros_like(prev)
    out[0] = prev
    for t in range(1, len(x)):
        dx = (x[t] - prev) * fps
        dprev = dprev + a_d * (dx - dprev)
        cutoff = p.min_cutoff + p.beta * np.abs(dprev)
        a = _alpha(cutoff, dt)
        prev = prev + a * (x[t] - prev)
        out[t] = prev
    return out


def segments(valid):
    """(start, stop) index pairs of the runs of True in a boolean vector."""
    v = np.concatenate([[False], np.asarray(valid, bool), [False]])
    d = np.diff(v.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def smooth_landmarks(landmarks, fps, scale=None, params=OneEuroParams()):
    """Smooth (T, N, D) landmarks over time. Rows with any NaN are untracked and stay NaN.

    ``scale``: per-frame face size (T,) used to normalise speeds; defaults to the spread of
    the points. Returns a new array.
    """
    x = np.asarray(landmarks, np.float64)
    out = np.array(x, copy=True)
    valid = np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if scale is None:
        spread = np.nanstd(x[..., :2], axis=1).mean(axis=-1) if x.size else np.ones(len(x))
        scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    scale = np.asarray(scale, np.float64)
    for a, b in segments(valid):
        if b - a < 2:
            continue
        s = np.median(scale[a:b])
        seg = x[a:b] / s
        fwd = _one_euro_pass(seg, fps, params)
        if params.zero_phase:
            bwd = _one_euro_pass(seg[::-1], fps, params)[::-1]
            seg_s = 0.5 * (fwd + bwd)
        else:
            seg_s = fwd
        out[a:b] = seg_s * s
    return out
