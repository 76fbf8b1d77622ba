# SPDX-License-Identifier: GPL-3.0-or-later
import numpy as np

from reenact.tracking.smoothing import OneEuroParams, segments, smooth_landmarks


def _signal(T=300, fps=30.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T) / fps
    # still, then a fast head turn (100 px in 0.2 s), then still
    clean = np.where(t < 4, 0.0, np.where(t < 4.2, (t - 4) / 0.2 * 100.0, 100.0))
    pts = np.stack([clean, 0.5 * clean], -1)[:, None, :].repeat(5, axis=1)
    noisy = pts + rng.normal(0, 1.0, pts.shape)
    return clean, pts, noisy


def test_removes_jitter_without_lag():
    fps = 30.0
    clean, pts, noisy = _signal(fps=fps)
    scale = np.full(len(pts), 60.0)  # face size in px
    out = smooth_landmarks(noisy, fps, scale=scale)
    still = np.r_[0:100, 150:300]
    jitter_in = np.abs(np.diff(noisy[still], axis=0)).mean()
    jitter_out = np.abs(np.diff(out[still], axis=0)).mean()
    assert jitter_out < 0.5 * jitter_in
    # during the fast turn the smoothed curve follows: at most a few px behind
    turn = np.r_[118:128]
    assert np.abs(out[turn] - pts[turn]).max() < 12.0
    # zero-phase: no systematic lag (mean signed error over the turn is small)
    assert abs((out[turn, :, 0] - pts[turn, :, 0]).mean()) < 3.0
    # the causal pass alone lags behind on the turn
    causal = smooth_landmarks(noisy, fps, scale=scale, params=OneEuroParams(zero_phase=0.0))
    assert (causal[turn, :, 0] - pts[turn, :, 0]).mean() < (out[turn, :, 0] - pts[turn, :, 0]).mean()


def test_keeps_speech_motion():
    """Lips move at 3-7 Hz while speaking: the filter must not flatten them."""
    fps, T, size = 30.0, 300, 60.0
    t = np.arange(T) / fps
    for hz, amp, keep in [(5.0, 0.15, 0.85), (4.0, 0.05, 0.75)]:
        osc = (amp * size * np.sin(2 * np.pi * hz * t))[:, None, None].repeat(2, axis=2)
        out = smooth_landmarks(osc, fps, scale=np.full(T, size))
        kept = np.abs(out[30:-30]).max() / np.abs(osc[30:-30]).max()
        assert kept > keep, (hz, amp, kept)


def test_untracked_frames_stay_untracked_and_are_not_bridged():
    fps = 25.0
    _, _, noisy = _signal(T=120, fps=fps)
    noisy[40:50] = np.nan
    out = smooth_landmarks(noisy, fps)
    assert np.isnan(out[40:50]).all()
    assert np.isfinite(out[:40]).all() and np.isfinite(out[50:]).all()
    assert segments(np.isfinite(noisy[:, 0, 0])) == [(0, 40), (50, 120)]


def test_params_round_trip():
    p = OneEuroParams(min_cutoff=2.0, beta=0.1)
    assert OneEuroParams.from_array(p.as_array()) == p
    assert list(OneEuroParams.names()) == ["min_cutoff", "beta", "d_cutoff", "zero_phase"]


def _reference_one_euro(x, fps, p):
    """The textbook whole-array One Euro pass over axis 0 (float64), for the streaming check."""
    out = np.empty_like(x)
    dt = 1.0 / fps
    tau = lambda c: 1.0 / (2.0 * np.pi * c)  # noqa: E731
    a_d = 1.0 / (1.0 + tau(p.d_cutoff) / dt)
    prev, dprev = x[0].copy(), np.zeros_like(x[0])
    out[0] = prev
    for t in range(1, len(x)):
        dprev = dprev + a_d * ((x[t] - prev) * fps - dprev)
        a = 1.0 / (1.0 + tau(p.min_cutoff + p.beta * np.abs(dprev)) / dt)
        prev = prev + a * (x[t] - prev)
        out[t] = prev
    return out


def test_streaming_equals_whole_array_passes(monkeypatch):
    """Blocks of 7 rows, NaN gaps, float32 in place: bit for bit the whole-array computation
    (forward and backward passes averaged), rounded to the output's dtype."""
    from reenact.tracking import smoothing

    monkeypatch.setattr(smoothing, "BLOCK", 7)
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, (90, 6, 3)).cumsum(0).astype(np.float32)
    x[20:23] = np.nan
    x[50, 2, 1] = np.nan
    scale = rng.uniform(20, 40, len(x))
    for p in (OneEuroParams(), OneEuroParams(zero_phase=0.0)):
        ref = x.astype(np.float64)
        for a, b in segments(np.isfinite(x).reshape(len(x), -1).all(1)):
            s = np.median(scale[a:b])
            seg = x[a:b].astype(np.float64) / s
            fwd = _reference_one_euro(seg, 30.0, p)
            ref[a:b] = (0.5 * (fwd + _reference_one_euro(seg[::-1], 30.0, p)[::-1]) if p.zero_phase else fwd) * s
        out = smooth_landmarks(x, 30.0, scale=scale, params=p)
        assert out.dtype == np.float64 and np.array_equal(out, ref, equal_nan=True)
        y = x.copy()
        assert smooth_landmarks(y, 30.0, scale=scale, params=p, out=y) is y
        assert np.array_equal(y, ref.astype(np.float32), equal_nan=True)
