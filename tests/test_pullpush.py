# SPDX-License-Identifier: GPL-3.0-or-later
"""The pull-push fill made for a box alone (render/pullpush.py) gives the whole image's values
there, bit for bit."""

import cv2
import numpy as np

from reenact.render.head import _pull_push, smooth_fill
from reenact.render.meshes import pixels_box


def _case(rng, H, W, C, sparse):
    vals = (rng.standard_normal((H, W, C)) * 50).astype(np.float32) if C == 1 else \
        rng.integers(0, 256, (H, W, C)).astype(np.uint8)
    hole = np.zeros((H, W), np.uint8)
    for _ in range(2):
        cv2.ellipse(hole, (int(rng.integers(0, W)), int(rng.integers(0, H))),
                    (int(rng.integers(1, W // 3 + 2)), int(rng.integers(1, H // 3 + 2))), 0, 0, 360, 1, -1)
    hole = hole > 0
    have = cv2.dilate(hole.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool) & ~hole if sparse else ~hole
    return vals, have, hole


def test_box_is_the_whole_images_part():
    rng = np.random.default_rng(3)
    for t in range(24):
        H, W = int(rng.integers(5, 400)), int(rng.integers(5, 700))
        vals, have, hole = _case(rng, H, W, (1, 3)[t % 2], t % 3 == 0)
        if have.all() or not have.any():
            continue
        ref = _pull_push(vals, have, holes_only=True)
        ref = ref if ref.ndim == 3 else ref[..., None]
        x0, y0 = int(rng.integers(0, W)), int(rng.integers(0, H))
        for b in (pixels_box(~have), (0, 0, W, H), (x0, y0, int(rng.integers(x0 + 1, W + 1)), int(rng.integers(y0 + 1, H + 1)))):
            got = _pull_push(vals, have, holes_only=True, box=b)
            want = np.ascontiguousarray(ref[b[1]:b[3], b[0]:b[2]])
            assert got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_smooth_fill_of_a_small_hole_in_a_large_frame():
    rng = np.random.default_rng(4)
    img = cv2.GaussianBlur(rng.integers(0, 256, (600, 1100, 3)).astype(np.uint8), (0, 0), 2)
    hole = np.zeros(img.shape[:2], np.uint8)
    cv2.circle(hole, (700, 380), 25, 1, -1)
    hole = hole > 0
    out = smooth_fill(img, hole)
    est = _pull_push(img, ~hole)
    want = img.copy()
    want[hole] = np.clip(est[hole] + 0.5, 0, 255).astype(np.uint8)
    assert np.array_equal(out, want)
