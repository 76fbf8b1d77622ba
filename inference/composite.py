# SPDX-License-Identifier: GPL-3.0-or-later
"""Paste rendered face crops back into full frames (numpy + OpenCV).

The simplest compositing: warp the crop into the frame with the inverse crop affine and blend
it through a feathered mask. The compositing issue replaces the blend (seamless / colour
matched) behind the same signature::

    paste_back(frame, crop, mask, Minv, feather=None) -> frame (H, W, 3) uint8
"""

import cv2
import numpy as np


def feather_mask(mask, feather):
    """Soft mask 0..1 (float32): ``mask`` eroded by ``feather`` px, then blurred by ``feather``
    px, so it falls to 0 at the original mask edge and stays 1 well inside."""
    m = (np.asarray(mask, np.float32) > 0.5).astype(np.float32)
    f = int(max(0, round(feather)))
    if f <= 0:
        return m
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * f + 1, 2 * f + 1))
    m = cv2.erode(m, k, borderType=cv2.BORDER_CONSTANT, borderValue=0)  # crop edge = mask edge
    return cv2.GaussianBlur(m, (0, 0), f / 2.0)


def paste_back(frame, crop, mask, Minv, feather=None):
    """``frame`` (H, W, 3) uint8 with ``crop`` (S, S, 3) uint8 pasted where ``mask`` (S, S),
    warped by ``Minv`` (2x3, frame <- crop), is on. ``feather`` in crop pixels (default S/32).
    Only the bounding box of the warped crop is touched; a new array is returned."""
    frame = np.asarray(frame)
    S = crop.shape[0]
    H, W = frame.shape[:2]
    feather = S / 32.0 if feather is None else feather
    soft = feather_mask(mask, feather)
    Minv = np.asarray(Minv, np.float64)
    corners = np.array([[0, 0], [S, 0], [0, S], [S, S]], np.float64) @ Minv[:, :2].T + Minv[:, 2]
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    out = frame.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    A = Minv.copy()
    A[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = cv2.warpAffine(soft, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)[..., None]
    roi = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(roi + m * (warped.astype(np.float32) - roi) + 0.5, 0, 255).astype(np.uint8)
    return out
