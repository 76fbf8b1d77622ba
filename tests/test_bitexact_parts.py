# SPDX-License-Identifier: GPL-3.0-or-later
"""The 1080p region-head speed-ups give the values of what they replaced, bit for bit: OpenCV's
masked copy for numpy's channel-broadcast copyto, a blend over its weight's box, the plate's
median of uint8 rows, the covered values or-ed in, the face's soft edge over its box, and the
thin holes' inpaint over their box."""

import cv2
import numpy as np

from reenact.render.head import _covered_255, background_plate, fill_background
from reenact.render.meshes import channels, masked_copy, weighted_mix


def test_masked_copy_is_numpys():
    rng = np.random.default_rng(1)
    for t in range(60):
        H, W, C = int(rng.integers(0, 40)), int(rng.integers(1, 40)), int(rng.choice([1, 3, 4]))
        dt = (np.uint8, np.float32, np.uint16)[t % 3]
        big = (rng.random((H + 6, W + 6, C)) * 200).astype(dt)
        dst = big[3:3 + H, 2:2 + W]  # (a strided view, written in place)
        src = (rng.random((H + 4, W + 4, C)) * 200).astype(dt)[1:1 + H, 2:2 + W]
        src.setflags(write=False)
        mask = (rng.random((H + 2, W + 2)) < rng.random())[1:1 + H, :W]
        want = big.copy()
        np.copyto(want[3:3 + H, 2:2 + W], src, where=mask[..., None])
        masked_copy(dst, src, mask)
        assert np.array_equal(big, want)


def test_weighted_mix_is_the_whole_frames_blend():
    rng = np.random.default_rng(2)
    for t in range(20):
        H, W = int(rng.integers(1, 60)), int(rng.integers(1, 60))
        a, b = (rng.integers(0, 256, (H, W, 3)).astype(np.uint8) for _ in range(2))
        w = np.zeros((H, W), np.float32)
        if t % 4:
            y0, x0 = int(rng.integers(0, H)), int(rng.integers(0, W))
            w[y0:y0 + int(rng.integers(1, 30)), x0:x0 + int(rng.integers(1, 30))] = rng.random()
            w[rng.random((H, W)) < 0.1] = 1.0
        c = channels(w)
        want = np.clip(c * a.astype(np.float32) + (1.0 - c) * b.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
        assert np.array_equal(weighted_mix(w, a, b), want)


def test_plate_is_the_median_of_the_shown_values():
    rng = np.random.default_rng(3)
    for t in range(12):
        T, H, W = int(rng.integers(1, 12)), int(rng.integers(1, 90)), int(rng.integers(1, 30))
        frames = rng.integers(0, 256, (T, H, W, 3)).astype(np.uint8)
        frames[frames > 230] = 255  # (the covered ones' stand-in value, shown)
        covered = rng.random((T, H, W)) < rng.random()
        plate, known = background_plate(frames, covered)
        v = np.where(covered[..., None], np.nan, frames.astype(np.float64))
        shown = ~covered.all(0)
        assert np.array_equal(known, shown)
        with np.errstate(all="ignore"):
            med = np.nanmedian(v[:, shown], axis=0)
        assert np.array_equal(plate[shown], np.floor(med.astype(np.float32) + np.float32(0.5)).astype(np.uint8))
        assert not plate[~shown].any()
        values = frames[:, :, :, :2]
        assert np.array_equal(_covered_255(values, covered), np.where(covered[..., None], np.uint8(255), values))


def test_thin_holes_inpainted_over_their_box_as_over_the_frame():
    rng = np.random.default_rng(4)
    for t in range(16):
        H, W = int(rng.integers(20, 200)), int(rng.integers(20, 200))
        img = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3)).astype(np.uint8), (0, 0), 2.0)
        hole = np.zeros((H, W), np.uint8)
        for _ in range(3):
            cv2.line(hole, (int(rng.integers(0, W)), int(rng.integers(0, H))),
                     (int(rng.integers(0, W)), int(rng.integers(0, H))), 1, int(rng.integers(1, 3)))
        if t % 4 == 0:
            hole[0] = 1
        want = cv2.inpaint(img, hole, 3.0, cv2.INPAINT_TELEA)
        assert np.array_equal(fill_background(img, hole > 0, radius=3), want)
