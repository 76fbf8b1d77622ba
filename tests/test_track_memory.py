# SPDX-License-Identifier: GPL-3.0-or-later
"""Tracking memory on long clips (issue 14, item 9). The smoothing streams and the fit works a
chunk of frames at a time, so what tracking holds beyond the Track's own data does not grow with
the clip; the chunked results equal the whole-clip ones. Peak RSS at 500 and 5 000 frames is
measured by bench/track.py (docs/benchmarks.md)."""

import gc
import tracemalloc

import numpy as np
import pytest

from reenact.face import fit as F
from reenact.tracking.smoothing import smooth_landmarks
from reenact.tracking.tracker import _iod, track_landmarks

FIT_FIELDS = ("pose", "expression", "gaze", "blink", "confidence", "fit_error", "identity", "expression_basis",
              "expression_range")


@pytest.fixture(scope="module")
def carphone_raw(carphone):
    """Raw float32 landmarks (T, 478, 3) of carphone's actor, fps, size."""
    lms, _, info = track_landmarks(carphone)
    return lms[0], float(info["fps"]), tuple(info["size"])


def _smoothed(raw, fps):
    return smooth_landmarks(raw.copy(), fps, scale=_iod(raw[None])[0], out=raw.copy())


def _max_diff(a, b, name):
    x, y = np.asarray(getattr(a, name), np.float64), np.asarray(getattr(b, name), np.float64)
    assert np.array_equal(np.isnan(x), np.isnan(y)), name
    return float(np.nanmax(np.abs(x - y))) if x.size else 0.0


@pytest.mark.parametrize("iterations", [1, 2])
def test_chunked_fit_equals_whole_clip(carphone_raw, iterations):
    """Seven frames at a time (17 chunks, untracked rows inside) against one chunk: the same
    Track up to the order of floating-point sums (measured: below 1e-12)."""
    raw, fps, size = carphone_raw
    sm = _smoothed(raw, fps)
    sm[40:44] = np.nan  # untracked frames: the fit maps its rows around them
    whole = F.fit_track(sm, size, fps, chunk=10**6, iterations=iterations)
    chunked = F.fit_track(sm, size, fps, chunk=7, iterations=iterations)
    assert np.array_equal(whole.tracked, chunked.tracked) and not whole.tracked[40:44].any()
    assert np.array_equal(whole.landmarks, chunked.landmarks, equal_nan=True)
    assert np.array_equal(whole.landmarks_z, chunked.landmarks_z, equal_nan=True)
    assert whole.focal_px == chunked.focal_px
    for name in FIT_FIELDS:
        assert _max_diff(whole, chunked, name) < 1e-9, name


def test_tracker_matches_the_float64_whole_clip_fit(carphone, carphone_raw, carphone_track):
    """The tracker smooths in place in float32 (what the Track keeps) and fits from there; the
    whole-clip path it replaces smoothed into float64 and fitted that. Landmarks: identical;
    fitted values: within 1e-4 (measured: <= 2e-5 on carphone and driving_d14)."""
    raw, fps, size = carphone_raw
    sm64 = smooth_landmarks(raw, fps, scale=_iod(raw[None])[0])
    assert sm64.dtype == np.float64
    ref = F.fit_track(sm64, size, fps, chunk=10**6)
    tr = carphone_track
    assert np.array_equal(tr.tracked, ref.tracked)
    assert np.array_equal(tr.landmarks, ref.landmarks, equal_nan=True)
    assert np.array_equal(tr.landmarks_z, ref.landmarks_z, equal_nan=True)
    for name in FIT_FIELDS:
        assert _max_diff(tr, ref, name) < 1e-4, name
    # a saved Track refits to itself: the fit reads exactly the landmarks the Track keeps (up to
    # the summation order of a BLAS call; the float64 path above differs by ~1e-6)
    L = np.concatenate([tr.landmarks, tr.landmarks_z[..., None]], -1)
    again = F.fit_track(L, size, fps, presence=np.ones(len(L)))
    assert _max_diff(again, tr, "pose") < 1e-10 and _max_diff(again, tr, "expression") < 1e-10


def _traced_peak(fn):
    gc.collect()  # garbage freed during fn would lower its peak
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_memory_per_frame_is_bounded(carphone_raw):
    """Peak traced memory of smoothing and fit for N and 2N frames (carphone tiled): the extra N
    frames may add at most 1 KB/frame (smoothing, in place) and 8 KB/frame (fit: its per-frame
    arrays and the Track's small fields). The whole-clip path added 78 and ~105 KB/frame."""
    raw, fps, size = carphone_raw
    n = 5 * len(raw)
    peaks = {}
    for k in (1, 2):
        L = np.tile(raw, (5 * k, 1, 1))
        iod = _iod(L[None])[0]
        smooth = _traced_peak(lambda: smooth_landmarks(L, fps, scale=iod, out=L))
        fit = _traced_peak(lambda: F.fit_track(L, size, fps, adopt_landmarks=True))
        peaks[k] = smooth, fit
    grow_smooth = (peaks[2][0] - peaks[1][0]) / n
    grow_fit = (peaks[2][1] - peaks[1][1]) / n
    assert grow_smooth < 1024, grow_smooth
    assert grow_fit < 8 * 1024, grow_fit
