# SPDX-License-Identifier: GPL-3.0-or-later
"""The mesh border's residual carried out beyond the mesh (render/borderfield.py): an odd border
pixel (a sliver triangle's wild map, an eye opening at a turned head's silhouette) no longer
draws a band outward; where the border agrees with the skin around it the field is unchanged."""

import numpy as np

from reenact.render.borderfield import OUTLIER, border_residual


def _disc(n=60, r=25.0):
    yy, xx = np.mgrid[0:n, 0:n]
    inside = np.hypot(yy - n / 2, xx - n / 2) <= r
    return yy[inside], xx[inside]


def test_a_smooth_residual_comes_back_unchanged():
    yy, xx = _disc()
    rx = (0.05 * xx + 0.02 * yy).astype(np.float32)  # a smooth non-rigid motion, < OUTLIER apart locally
    ry = (0.03 * yy - 1.0).astype(np.float32)
    ox, oy, odd = border_residual(rx, ry, yy, xx, np.zeros(len(yy), bool), fs=200.0)
    assert not odd.any()
    assert np.array_equal(ox, rx) and np.array_equal(oy, ry)


def test_odd_pixels_and_eye_openings_take_the_skin_s_local_motion():
    yy, xx = _disc()
    fs = 200.0
    rx = np.full(len(yy), 2.0, np.float32)
    ry = np.full(len(yy), -1.0, np.float32)
    # a sliver at the silhouette whose map is 12 px off, and an eye opening 8 px off that reaches
    # the silhouette (a turned head's); another eye well inside, which carries nothing outward
    sliver = (xx >= 53) & (np.abs(yy - 30) <= 2)
    eye = (xx <= 9) & (np.abs(yy - 30) <= 2)
    inner = (np.abs(xx - 30) <= 3) & (np.abs(yy - 30) <= 2)
    rx[sliver] += 12.0
    rx[eye] -= 8.0
    rx[inner] -= 8.0
    assert 12.0 > OUTLIER * fs and 8.0 > OUTLIER * fs
    ox, oy, odd = border_residual(rx, ry, yy, xx, eye | inner, fs)
    # the odd skin pixels are flagged (the caller draws them with the skin's motion too), the
    # eye's are not (the eye keeps its own map inside), and both carry the skin's motion outward
    assert odd[sliver].all() and not odd[~sliver].any()
    assert np.abs(ox[sliver] - 2.0).max() < 1.0 and np.abs(ox[eye] - 2.0).max() < 1.0
    assert np.allclose(oy, -1.0, atol=1e-4)
    # everything else exactly as it was (the inner eye too: its map matters only inside)
    rest = ~sliver & ~eye
    assert np.array_equal(ox[rest], rx[rest])
