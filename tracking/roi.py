# SPDX-License-Identifier: GPL-3.0-or-later
"""Regions of interest of the face tracker: rotated square ROIs, their affine crops, and the
eye crops of the iris model (MediaPipe's conventions)."""

import math

import numpy as np

from ..face.geometry import apply_affine


def normalize_radians(angle: float) -> float:
    return angle - 2.0 * math.pi * math.floor((angle + math.pi) / (2.0 * math.pi))


def roi_affine(roi, out_size: int, flip: bool = False) -> np.ndarray:
    """2x3 affine taking image pixels to tensor pixels for a rotated square ROI.

    ``roi`` = (cx, cy, w, h, rotation) in pixels / radians. Like MediaPipe's
    ImageToTensorCalculator, the ROI corners map onto the tensor corners (0 and ``out_size``),
    the ROI's x axis is (cos r, sin r) in the image (y down). ``flip`` mirrors the tensor
    horizontally (iris model on the 362/263 eye).
    """
    cx, cy, w, h, r = (float(v) for v in roi[:5])
    c, s = math.cos(r), math.sin(r)
    kx, ky = out_size / w, out_size / h
    # u = kx * ( c*(x-cx) + s*(y-cy)) + out/2 ;  v = ky * (-s*(x-cx) + c*(y-cy)) + out/2
    m = np.array([[kx * c, kx * s, 0.0], [-ky * s, ky * c, 0.0]], np.float64)
    m[0, 2] = out_size / 2.0 - (m[0, 0] * cx + m[0, 1] * cy)
    m[1, 2] = out_size / 2.0 - (m[1, 0] * cx + m[1, 1] * cy)
    if flip:
        m[0] = -m[0]
        m[0, 2] += out_size
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Exact inverse of a 2x3 affine (float64)."""
    a = m[:, :2]
    inv = np.linalg.inv(a)
    return np.hstack([inv, -inv @ m[:, 2:3]])



def rect_from_points(xy: np.ndarray, start: int, end: int, scale: float) -> np.ndarray:
    """ROI from a point set (LandmarksToDetection + DetectionsToRects + RectTransformation).

    Bounding box of ``xy`` (pixels), rotation along xy[start] -> xy[end], square on the long
    side, scaled. Returns (cx, cy, size, size, rotation).
    """
    x0, y0 = xy[:, 0].min(), xy[:, 1].min()
    x1, y1 = xy[:, 0].max(), xy[:, 1].max()
    return _rect(x0, y0, x1, y1, xy[start], xy[end], scale)


def _rect(x0, y0, x1, y1, p_start, p_end, scale) -> np.ndarray:
    rot = normalize_radians(-math.atan2(-(float(p_end[1]) - float(p_start[1])),
                                        float(p_end[0]) - float(p_start[0])))
    size = max(float(x1 - x0), float(y1 - y0)) * scale
    return np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0, size, size, rot], np.float64)


def iris_crop_affine(roi, flip: bool):
    """(2x3 affine image -> 64x64 eye tensor, function tensor points -> image pixels).

    MediaPipe's iris subgraph crops the ROI at native resolution, then resizes it to 64x64, so
    tensor pixel i covers ROI position i + 0.5 (pixel centres), not i as in ImageToTensor. The
    "right" eye is mirrored as an image (pixel i <-> 63 - i) while the model's x outputs are
    mirrored about 64 (TensorsToLandmarks flip), a one-pixel asymmetry that the model's
    behaviour depends on and that is kept here on purpose.
    """
    m = roi_affine(roi, IRIS_SIZE)
    m[:, 2] -= 0.5
    inv = invert_affine(m)
    crop = m.copy()
    if flip:
        crop[0] = -crop[0]
        crop[0, 2] += IRIS_SIZE - 1

    def to_image(pts: np.ndarray) -> np.ndarray:
        if flip:
            pts = pts.copy()
            pts[:, 0] = IRIS_SIZE - pts[:, 0]
        return apply_affine(inv, pts)

    return crop, to_image


FACE_ROI_SCALE = 1.5


IRIS_SIZE = 64
