# SPDX-License-Identifier: GPL-3.0-or-later
"""bench.head_lids reads the picture's own motion: the optical-flow measure the tracked head is
judged against sees a known vertical shift of one part of the face and not of the other."""
import os

import cv2
import numpy as np

from reenact.bench import head_lids as H


def test_picture_motion_reads_a_known_shift(tmp_path):
    rng = np.random.default_rng(3)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (320, 320)).astype(np.float32), (0, 0), 2.0)
    T, step = 24, 0.5  # the upper half moves down 0.5 px per frame on frames 8..17: 5 px in all
    L = np.zeros((T, 478, 2))
    for i in range(T):
        dy = step * np.clip(i - 7, 0, 10)
        up = cv2.warpAffine(tex, np.float32([[1, 0, 0], [0, 1, dy]]), (320, 320), flags=cv2.INTER_CUBIC,
                            borderMode=cv2.BORDER_REFLECT)
        img = np.where(np.arange(320)[:, None] < 150, up, tex)
        cv2.imwrite(os.path.join(tmp_path, "f_%03d.png" % i), np.clip(img, 0, 255).astype(np.uint8))
        L[i, H.FOREHEAD] = np.stack([np.linspace(110, 210, len(H.FOREHEAD)), np.full(len(H.FOREHEAD), 70 + dy)], 1)
        L[i, H.NOSE] = np.stack([np.linspace(130, 190, len(H.NOSE)), np.full(len(H.NOSE), 240.0)], 1)
    acc = H.picture_motion(os.path.join(tmp_path, "f_%03d.png"), L, [H.FOREHEAD, H.NOSE])
    assert acc.shape == (T, 2) and np.isfinite(acc).all()
    assert abs(acc[-1, 0] - 5.0) < 0.5, acc[:, 0]
    assert abs(acc[-1, 1]) < 0.3, acc[:, 1]
    # the blink signal: 0 open (the clip's usual gap), 1 shut, from the lid gaps of the landmarks
    gaps = np.r_[np.full(40, 4.0), np.full(5, 2.0), np.zeros(5)]
    lids = np.zeros((len(gaps), 478, 2))
    lids[:, 33], lids[:, 263] = (0, 0), (10, 0)
    for a, b in H.LID_PAIRS:
        lids[:, a] = (5, 0)
        lids[:, b, 0], lids[:, b, 1] = 5, gaps
    sig = H.blink_signal(lids)
    assert np.allclose(sig[[0, 40, 45]], [0.0, 0.5, 1.0], atol=1e-9)
