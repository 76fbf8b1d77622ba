# SPDX-License-Identifier: GPL-3.0-or-later
"""Face detection (BlazeFace short range, MediaPipe's SSD anchors): anchors, scores, weighted
non-maximum suppression, tiles for small faces, and :class:`Detection`."""

import math
from dataclasses import dataclass

import numpy as np

from ..face.geometry import apply_affine
from .roi import FACE_ROI_SCALE, _rect


DET_SIZE = 128


DET_STRIDES = (8, 16, 16, 16)


DET_NUM_KEYPOINTS = 6


DET_SCORE_CLIP = 100.0


DET_NMS_IOU = 0.3


#: tiled re-detection (faces under ~1/5 of the frame; asked for: Small Faces, --small-faces) for
#: frames at least this large (pixels): tiles of 128 px, the detector's input, or more (before
#: 2026-12-06 1280, so Small Faces did nothing on a 720 x 1080 full-body shot, unsaid)
TILE_MIN_FRAME = 320


#: tiles see more clutter per face: a detection there needs at least this score
TILE_MIN_SCORE = 0.75


#: tile side = frame side / TILE_DIVISIONS
TILE_DIVISIONS = 2.5


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, np.float64)))


def _iou_axis_aligned(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box a (4,) against boxes b (n, 4), boxes as (xmin, ymin, xmax, ymax)."""
    ix0 = np.maximum(a[0], b[:, 0])
    iy0 = np.maximum(a[1], b[:, 1])
    ix1 = np.minimum(a[2], b[:, 2])
    iy1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _roi_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ROIs ignoring rotation (as MediaPipe's AssociationNormRectCalculator)."""
    ba = np.array([a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2])
    bb = np.array([[b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2]])
    return float(_iou_axis_aligned(ba, bb)[0])


def ssd_anchors(input_size: int = DET_SIZE, strides=DET_STRIDES) -> np.ndarray:
    """Anchor centres (n, 2) of SsdAnchorsCalculator for BlazeFace short range.

    Consecutive layers of equal stride share one feature map; each layer contributes two
    anchors per cell (aspect ratio 1 and the interpolated scale); fixed anchor size (w = h = 1).
    """
    centres = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        fm = int(math.ceil(input_size / strides[i]))
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm,
                             indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], -1)
        centres.append(np.repeat(grid, per_cell, axis=0))
        i = j
    return np.concatenate(centres).astype(np.float32)


@dataclass
class Detection:
    """One BlazeFace detection in image pixels."""

    score: float
    box: np.ndarray        # (4,) xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # (6, 2): eye, eye, nose tip, mouth, ear tragion, ear tragion

    def roi(self) -> np.ndarray:
        """ROI for the landmark model (FaceDetectionFrontDetectionToRoi)."""
        x0, y0, x1, y1 = self.box
        return _rect(x0, y0, x1, y1, self.keypoints[0], self.keypoints[1], FACE_ROI_SCALE)


def _tile_starts(length, tile):
    """Start offsets of tiles of size ``tile`` covering ``length`` with at least 50 % overlap."""
    if length <= tile:
        return [(length - tile) / 2.0]
    n = int(np.ceil((length - tile) / (tile / 2.0))) + 1
    return list(np.linspace(0.0, length - tile, n))


def _weighted_nms(scores, boxes, kps, iou_threshold):
    """MediaPipe's WEIGHTED non-max suppression. Returns [(score, box, keypoints), ...]."""
    order = np.argsort(-scores, kind="stable")
    remaining = order
    out = []
    while remaining.size:
        top = remaining[0]
        ious = _iou_axis_aligned(boxes[top], boxes[remaining])
        cand = remaining[ious > iou_threshold]
        rest = remaining[ious <= iou_threshold]
        if cand.size == 0:  # degenerate box: keep it alone
            cand = remaining[:1]
            rest = remaining[1:]
        wts = scores[cand]
        tot = wts.sum()
        box = (boxes[cand] * wts[:, None]).sum(0) / tot
        kp = (kps[cand] * wts[:, None, None]).sum(0) / tot
        out.append((scores[top], box, kp))
        if rest.size == remaining.size:
            break
        remaining = rest
    return out


def decode_detections(raw_boxes, logits, anchors, size, n_keypoints, min_score, iou_threshold, inv):
    """[(score, box (4,) xmin, ymin, xmax, ymax, keypoints (n_keypoints, 2))] in image pixels of
    an SSD detector's raw outputs (MediaPipe's TensorsToDetections: boxes and keypoints relative
    to fixed-size anchors, x first; sigmoid scores clipped at :data:`DET_SCORE_CLIP`; scores from
    ``min_score``; weighted non-maximum suppression), best first. ``size``: the input tensor's
    side; ``inv``: the 2x3 affine from tensor pixels to the image (the letterbox's inverse).
    BlazeFace's (tracking/facemesh.py) and the palm detector's (tracking/hands.py)."""
    raw_boxes = raw_boxes.reshape(-1, 4 + 2 * n_keypoints)
    scores = _sigmoid(np.clip(logits.reshape(-1), -DET_SCORE_CLIP, DET_SCORE_CLIP))
    keep = np.nonzero(scores >= min_score)[0]
    if keep.size == 0:
        return []
    a = anchors[keep]
    b = raw_boxes[keep].astype(np.float64) / size
    cx = b[:, 0] + a[:, 0]
    cy = b[:, 1] + a[:, 1]
    bw, bh = b[:, 2], b[:, 3]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    kps = b[:, 4:].reshape(-1, n_keypoints, 2) + a[:, None, :]
    return [(float(score), apply_affine(inv, box.reshape(2, 2) * size).reshape(4), apply_affine(inv, kp * size))
            for score, box, kp in _weighted_nms(scores[keep].astype(np.float64), boxes, kps, iou_threshold)]
