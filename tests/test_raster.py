# SPDX-License-Identifier: GPL-3.0-or-later
"""Conditioning images (reenact.render.conditioning) on real footage (carphone, tracked here)."""


import cv2
import numpy as np
import pytest

from reenact.face.geometry import apply_affine
from reenact.render import conditioning as R
from reenact.face.topology import NOSE_TIP, load_topology


@pytest.fixture(scope="module")
def track(carphone_track):
    assert carphone_track.tracked.mean() > 0.9
    return carphone_track


@pytest.fixture(scope="module")
def rast(track):
    return R.Rasterizer(track, 128)


def test_affine_round_trip(track, rast):
    xf = rast.xf
    assert xf.M.shape == (track.n_frames, 2, 3) and xf.Minv.shape == xf.M.shape
    pts = np.random.default_rng(0).uniform(-50, 300, (100, 2))
    for i in range(0, track.n_frames, 7):
        back = apply_affine(xf.Minv[i], apply_affine(xf.M[i], pts))
        np.testing.assert_allclose(back, pts, atol=1e-9)
    # the projected face lands in the crop where the template puts it (stable, centred)
    P = rast.points(0)
    assert 0.25 * 128 < P[:, 0].mean() < 0.75 * 128 and 0.25 * 128 < P[:, 1].mean() < 0.8 * 128


def test_crop_is_temporally_smoother_than_raw(track):
    raw = R.crop_transforms(track, 128, sigma=0.0)
    smooth = R.crop_transforms(track, 128)
    jitter = lambda xf: np.abs(np.diff(xf.Minv[:, :, 2], 2, axis=0)).mean()  # noqa: E731
    assert jitter(smooth) < jitter(raw)


def test_masks_inside_projected_hull(rast):
    for i in (0, 40, 80, 119):
        out = rast.render(i)
        hull = cv2.convexHull(np.round((rast.points(i) - 0.5) * 16).astype(np.int32))  # pixel centres
        inside = np.zeros((128, 128), np.uint8)
        cv2.fillConvexPoly(inside, hull, 1, cv2.LINE_8, 4)
        inside = cv2.dilate(inside, np.ones((3, 3), np.uint8))
        face = out["face"] > 0.5
        assert face.sum() > 500
        assert not (face & (inside == 0)).any()
        mouth = out["mouth_region"] > 0.5
        assert mouth.any() and not (mouth & ~face).any()
        assert not ((out["eyes"] > 0) & (inside == 0)).any()
        assert ((out["eyes"] > 0.9).sum()) > 0  # iris discs visible


def test_correspondence_values_consistent(rast):
    topo = load_topology()
    ms = topo.mean_shape
    attr = 0.1 + 0.9 * (ms - ms.min(0)) / (ms.max(0) - ms.min(0))
    out = rast.render(10)
    corr = out["corr"]
    cover = corr.max(-1) > 0
    assert cover.sum() > 500
    assert corr[cover].min() >= 0.1 - 1e-4 and corr.max() <= 1.0 + 1e-4
    # correspondence covered only where the face is
    assert not (cover & (cv2.dilate(out["face"], np.ones((5, 5), np.uint8)) < 0.5)).any()
    # at the projected nose tip the pixel shows the nose tip of the template
    x, y = np.floor(rast.points(10)[NOSE_TIP]).astype(int)
    np.testing.assert_allclose(corr[y, x], attr[NOSE_TIP], atol=0.04)


def test_window_stacking(rast):
    cond = np.stack([rast.cond(i) for i in range(6)])
    assert cond.shape == (6, R.COND_CHANNELS, 128, 128) and cond.dtype == np.uint8
    crop = np.full((128, 128, 3), 200, np.uint8)
    hole = R.hole_mask(rast.render(4)["face"], 128)
    x = R.stack_window(cond, 4, 3, "face-only", crop, hole)
    assert x.shape == (R.in_channels(3, "face-only"), 128, 128) == (19, 128, 128)
    for k, src in enumerate((2, 3, 4)):  # oldest first
        np.testing.assert_allclose(x[5 * k:5 * k + 5], cond[src] / 255.0, atol=1e-6)
    assert (x[15:18][:, hole > 0] == 0).all() and np.allclose(x[15:18][:, hole == 0], 200 / 255.0)
    np.testing.assert_array_equal(x[18], hole)
    x0 = R.stack_window(cond, 0, 3, "full")  # clamped at the clip start
    assert x0.shape == (15, 128, 128)
    np.testing.assert_allclose(x0[:5], x0[10:15])
    np.testing.assert_array_equal(R.window_indices(1, 4, 6), [0, 0, 0, 1])



def test_window_stacking_u8_is_the_float_input_exactly(rast):
    """The render path's uint8 network input scales to the float one bit for bit (with the
    actor reference, a textured crop and a real hole)."""
    cond = np.stack([rast.cond(i) for i in range(6)])
    rng = np.random.default_rng(3)
    crop = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    ref = (rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), rng.integers(0, 256, (5, 128, 128), dtype=np.uint8))
    hole = R.hole_mask(rast.render(5)["face"], 128)
    assert 0 < hole.mean() < 1
    for r in (ref, None):
        x = R.stack_window(cond[2:6], 3, 4, "face-only", crop, hole, r)
        u = R.stack_window_u8(cond[2:6], "face-only", crop, hole, r)
        assert u.dtype == np.uint8 and u.shape == x.shape
        np.testing.assert_array_equal(u.astype(np.float32) / 255.0, x)
        np.testing.assert_array_equal(R.stack_window_u8(list(cond[2:6]), "face-only", crop, hole, r), u)  # rows
    np.testing.assert_array_equal(R.stack_window_u8(cond[:3], "full").astype(np.float32) / 255.0,
                                  R.stack_window(cond[:3], 2, 3, "full"))
    with pytest.raises(ValueError, match="uint8"):
        R.stack_window_u8(cond[2:6], "face-only", crop.astype(np.float32), hole)


def test_stacked_input_is_the_stack(tmp_path):
    """stack_window_u8(lazy=True) keeps the parts and scales them into the network's buffer with
    exactly the values of the stacked uint8 input / 255 (the render path's pending frames)."""
    rng = np.random.default_rng(3)
    cond = [rng.integers(0, 256, (5, 32, 32), dtype=np.uint8) for _ in range(4)]
    crop = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    hole = (rng.random((32, 32)) > 0.5).astype(np.float32)
    ref = (rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (5, 32, 32), dtype=np.uint8))
    for mode, r in (("face-only", ref), ("face-only", None), ("full", None)):
        u = R.stack_window_u8(cond, mode, crop, hole, r)
        lazy = R.stack_window_u8(cond, mode, crop, hole, r, lazy=True)
        assert lazy.shape == u.shape
        np.testing.assert_array_equal(np.asarray(lazy), u)
        out = np.full(u.shape, -1.0, np.float32)
        lazy.fill(out)
        np.testing.assert_array_equal(out, u.astype(np.float32) / 255.0)
