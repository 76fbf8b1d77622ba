# SPDX-License-Identifier: GPL-3.0-or-later
"""The watermark benchmark's flicker measure (bench/watermark.py: ``warping_error``): a pattern
fixed to the frame over a still picture adds nothing, over a moving one it adds, in both the
mean absolute and the squared (Lai et al.) forms."""

import cv2
import numpy as np


def test_a_frame_fixed_pattern_raises_the_warping_error_only_where_the_picture_moves():
    from bench.watermark import flows_of, warping_error

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (160, 208, 3)).astype(np.float32), (0, 0), 3.0)
    pattern = rng.normal(0, 2.0, (128, 160, 1)).astype(np.float32)

    def clip(step):  # the picture moves ``step`` px to the right per frame
        return [np.clip(base[16:144, 24 - step * t:184 - step * t], 0, 255).astype(np.uint8) for t in range(6)]

    for step, moving in ((0, False), (2, True)):
        frames = clip(step)
        marked = [np.clip(f.astype(np.float32) + pattern, 0, 255).astype(np.uint8) for f in frames]
        fl = flows_of(frames, n_pairs=5)
        u, m = warping_error(frames, fl, frames)["all"], warping_error(marked, fl, frames)["all"]
        assert 0 < u["share"] <= 1
        if moving:
            assert m["error"] > 1.5 * u["error"] + 0.5 and m["squared"] > 2 * u["squared"] + 2, (u, m)
        else:
            assert u["error"] < 0.05 and abs(m["error"] - u["error"]) < 0.05, (u, m)
            assert m["squared"] < u["squared"] + 0.1, (u, m)
