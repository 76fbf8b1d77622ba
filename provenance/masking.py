# SPDX-License-Identifier: GPL-3.0-or-later
"""Perceptual masking of the watermark (format 2; docs/provenance.md, "Visibility"): how much of
the key's pattern each pixel of a frame gets. numpy + OpenCV.

A low-frequency pattern shows on flat areas (skin, sky, plain walls) and hides in texture and
near edges. The gain is ``flat`` where the frame's local contrast at the mark's scale is under
``t0`` levels (times the brightness relative to mid-grey, 0.5-1.5: the eye's threshold grows with
it), rising smoothly to ``textured`` at ``t1`` levels and within a cell of an edge; it is smooth
(blurred over a cell), so the gain draws no structure of its own. The frame's RMS change is
capped at ``rms_cap`` levels (PSNR >= 40 dB). The gain depends on the frame alone: the same frame
is always marked the same way (Preview Frame equals the clip's frame).
"""

import numpy as np

#: flat 0.3: the mark's RMS on flat pixels ~1 level (2.3 unmasked), not seen at 2x on skin and
#: sky (docs/provenance.md, "Visibility: the trade-off measured")
MASKING = {"flat": 0.3, "textured": 1.8, "t0": 1.0, "t1": 5.0, "rms_cap": 2.5}


def gain_grid(y, cells_per_side, flat=MASKING["flat"], textured=MASKING["textured"], t0=MASKING["t0"],
              t1=MASKING["t1"]):
    """The gain at 2 samples per cell (float32, about ``2 * cells_per_side`` on the shorter side)
    of a frame of luma ``y`` (uint8 or float, 8-bit levels, any size)."""
    import cv2

    y = np.asarray(y)
    h, w = y.shape[:2]
    f1 = min(1.0, 4.0 * cells_per_side / min(h, w))          # 4 px per cell
    s1 = (max(4, int(round(w * f1))), max(4, int(round(h * f1))))
    k = int(min(h, w) // (4 * cells_per_side))
    if k >= 2:   # an integer box step first (OpenCV's fast path), then the fractional rest
        y = cv2.resize(y, (w // k, h // k), interpolation=cv2.INTER_AREA)
    ys = (cv2.resize(y, s1, interpolation=cv2.INTER_AREA) if s1 != (y.shape[1], y.shape[0]) else y)
    ys = ys.astype(np.float32)
    fine = ys - cv2.blur(ys, (3, 3))                          # detail finer than the mark
    s2 = (max(4, s1[0] // 2), max(4, s1[1] // 2))             # 2 samples per cell
    yc = cv2.resize(ys, s2, interpolation=cv2.INTER_AREA)
    energy = cv2.resize(fine * fine, s2, interpolation=cv2.INTER_AREA) * 2.0
    band = yc - cv2.GaussianBlur(yc, (0, 0), 1.0)             # structure at the mark's scale (edges)
    contrast = np.sqrt(cv2.GaussianBlur(energy + band * band, (0, 0), 1.0))
    contrast = cv2.dilate(contrast, np.ones((3, 3), np.uint8))
    t = np.clip((contrast - t0) / (t1 - t0), 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)
    lo = flat * np.clip(cv2.GaussianBlur(yc, (0, 0), 1.0) / 128.0, 0.5, 1.5)
    return cv2.GaussianBlur((lo + (np.maximum(textured, lo) - lo) * t).astype(np.float32), (0, 0), 1.0)


def masking_gain(y, cells_per_side, flat=MASKING["flat"], textured=MASKING["textured"], t0=MASKING["t0"],
                 t1=MASKING["t1"]):
    """The gain (H, W) float32 of each pixel of a frame of luma ``y`` (H, W)."""
    import cv2

    h, w = np.asarray(y).shape[:2]
    g = gain_grid(y, cells_per_side, flat, textured, t0, t1)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
