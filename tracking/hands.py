# SPDX-License-Identifier: GPL-3.0-or-later
"""Hands near a face: MediaPipe's palm detector and hand landmark model (``models/
palm_detection_full.onnx``, ``models/hand_landmark_full.onnx``, converted by
``tools/convert_mediapipe.py``), and the pixels a hand covers.

A hand held before the face has the face's own colour and shading, so the survey of what stands
in front of the face (``render/front.py``) cannot tell it from skin by colour; a hand detector
can. :class:`HandFinder` looks for palms in a square region about the face (the face's size
times :data:`SEARCH`, letterboxed to the detector's 192 px: MediaPipe's SSD anchors, weighted
non-maximum suppression), turns each palm into the hand's rotated ROI (MediaPipe's palm-to-hand
rectangle: 2.6x the palm, shifted half a palm towards the fingers), and reads 21 landmarks
there, keeping hands whose presence score passes :data:`MIN_PRESENCE`. A hand found on the
frame before is also looked for where its landmarks put it (MediaPipe's tracking ROI), so a
palm the detector misses for a frame is still followed; where both ROIs find the hand, the
reading with the higher presence score is kept. :func:`hand_mask` draws the pixels a
hand covers: the palm's polygon and each finger's bones as thick lines of the finger's width.
"""

import math
import threading

import cv2
import numpy as np

from ..face.geometry import apply_affine
from .detector import _iou_axis_aligned, decode_detections, ssd_anchors
from .roi import invert_affine, normalize_radians, roi_affine
from .smoothing import segments, split_at

PALM_MODEL, HAND_MODEL = "palm_detection_full.onnx", "hand_landmark_full.onnx"
PALM_SIZE, HAND_SIZE = 192, 224
PALM_STRIDES = (8, 16, 16, 16)
PALM_KEYPOINTS = 7
#: a palm is a candidate from this detector score (under MediaPipe's 0.5: a hand over a face,
#: cut off at the wrist by the frame's edge, scores 0.3-0.4), a hand needs this landmark model's
#: presence score (hands 0.92-0.99, the other candidates 0.01-0.43 on the bench's clips);
#: at most MAX_PALMS candidates a frame
MIN_PALM, MIN_PRESENCE, MAX_PALMS = 0.25, 0.7, 3
PALM_NMS_IOU = 0.3
#: the hand's ROI from a palm: the palm's box scaled, shifted along the hand towards the fingers
PALM_ROI_SCALE, PALM_ROI_SHIFT = 2.6, -0.5
#: ... and from the previous frame's landmarks
TRACK_ROI_SCALE, TRACK_ROI_SHIFT = 2.0, -0.1
TRACK_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
#: the square searched for palms: the face's size (its landmarks' box) times this, about its centre
SEARCH = 3.0
MAX_HANDS = 2
#: the landmarks of the palm's outline and each finger's chain (wrist 0, thumb 1-4, index 5-8,
#: middle 9-12, ring 13-16, little finger 17-20)
PALM = (0, 1, 2, 5, 9, 13, 17)
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
#: the wrist is drawn on past the wrist's landmark, away from the fingers, this share of the palm's
#: length (wrist to the middle finger's knuckle): the arm goes on beyond the hand's landmarks
WRIST = 0.5

_lock = threading.Lock()


def _square(roi_center, size, rotation):
    return np.array([roi_center[0], roi_center[1], size, size, rotation], np.float64)


def palm_roi(box, keypoints):
    """The hand's rotated square ROI (cx, cy, side, side, rotation) from a palm detection: box
    (xmin, ymin, xmax, ymax) and keypoints (7, 2), image pixels. The hand points up the ROI:
    wrist (keypoint 0) to the middle finger's knuckle (keypoint 2)."""
    (x0, y0, x1, y1), k = box, keypoints
    rot = normalize_radians(math.pi / 2 - math.atan2(-(k[2, 1] - k[0, 1]), k[2, 0] - k[0, 0]))
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2 - PALM_ROI_SHIFT * h * math.sin(rot)
    cy = (y0 + y1) / 2 + PALM_ROI_SHIFT * h * math.cos(rot)
    return _square((cx, cy), max(w, h) * PALM_ROI_SCALE, rot)


def track_roi(points):
    """The hand's ROI for the next frame from its landmarks (21, 2): the box of the palm and the
    fingers' first joints in the hand's own axes (wrist to the middle finger's knuckle), scaled
    and shifted towards the fingers."""
    p = np.asarray(points, np.float64)[:, :2]
    rot = normalize_radians(math.pi / 2 - math.atan2(-(p[9, 1] - p[0, 1]), p[9, 0] - p[0, 0]))
    c, s = math.cos(rot), math.sin(rot)
    q = p[list(TRACK_POINTS)]
    u = q[:, 0] * c + q[:, 1] * s  # (the ROI's axes: x (c, s), y (-s, c))
    v = -q[:, 0] * s + q[:, 1] * c
    cu, cv = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    w, h = u.max() - u.min(), v.max() - v.min()
    cx, cy = cu * c - cv * s, cu * s + cv * c
    cx -= TRACK_ROI_SHIFT * h * s
    cy += TRACK_ROI_SHIFT * h * c
    return _square((cx, cy), max(w, h) * TRACK_ROI_SCALE, rot)


def search_region(face_points, shape):
    """The square (cx, cy, side, side, 0) searched for palms about a face whose landmarks are
    ``face_points`` (N, 2), in a frame of ``shape``: at most the frame's longer side."""
    p = np.asarray(face_points, np.float64)[:, :2]
    lo, hi = p.min(0), p.max(0)
    side = min(SEARCH * float(max(hi - lo)), float(max(shape[:2])))
    c = (lo + hi) / 2
    return np.array([c[0], c[1], side, side, 0.0])


class HandFinder:
    """Palms and hand landmarks on CPU (small networks, beside the renderer: one thread each)."""

    def __init__(self):
        from ..session import create_session, model_path

        self._palm = create_session(model_path(PALM_MODEL), prefer_gpu=False, threads=1)
        self._hand = create_session(model_path(HAND_MODEL), prefer_gpu=False, threads=1)
        self._anchors = ssd_anchors(PALM_SIZE, PALM_STRIDES)

    def palms(self, img, region, min_score=MIN_PALM):
        """[(score, box (4,), keypoints (7, 2))] of the palms scoring ``min_score`` or more in the
        square ``region`` of the RGB uint8 frame ``img``, image pixels, best first."""
        m = roi_affine(region, PALM_SIZE)
        crop = cv2.warpAffine(img, m, (PALM_SIZE, PALM_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = crop.astype(np.float32)[None] * np.float32(1.0 / 255.0)
        with _lock:
            raw, logits = self._palm.run(None, {self._palm.get_inputs()[0].name: x})
        return decode_detections(raw, logits, self._anchors, PALM_SIZE, PALM_KEYPOINTS, min_score, PALM_NMS_IOU,
                                 invert_affine(m))

    def landmarks(self, img, rois):
        """[(points (21, 3) image pixels (z in the same scale), presence)] of the hand in each
        rotated square ROI of ``rois``."""
        if not len(rois):
            return []
        ms = [roi_affine(r, HAND_SIZE) for r in rois]
        x = np.stack([cv2.warpAffine(img, m, (HAND_SIZE, HAND_SIZE), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)) for m in ms])
        x = x.astype(np.float32) * np.float32(1.0 / 255.0)
        with _lock:
            pts, presence = self._hand.run(None, {self._hand.get_inputs()[0].name: x})[:2]
        out = []
        for m, r, p, s in zip(ms, rois, pts.reshape(len(ms), 21, 3), presence.reshape(-1)):
            xy = apply_affine(invert_affine(m), p[:, :2].astype(np.float64))
            z = p[:, 2:3].astype(np.float64) * (float(r[2]) / HAND_SIZE)
            out.append((np.hstack([xy, z]), float(s)))
        return out

    def follow(self, img, previous):
        """The hands of ``previous`` (found on a neighbouring frame) where their landmarks put them
        on ``img``, without looking for palms: those whose presence passes :data:`MIN_PRESENCE`."""
        return [pts[:, :2].astype(np.float32) for pts, presence in self.landmarks(img, [track_roi(p) for p in previous])
                if presence >= MIN_PRESENCE][:MAX_HANDS]

    def find(self, img, region, previous=()):
        """Hands (up to :data:`MAX_HANDS`, each (21, 2) float32 image pixels) in the square
        ``region`` of ``img``; ``previous``: the hands found on the frame before (their ROIs are
        looked at too)."""
        # (both the tracked and the detected ROI of a hand are read; the likelier reading stays)
        rois = [track_roi(p) for p in previous]
        rois += [palm_roi(box, kp) for _, box, kp in self.palms(img, region)[:MAX_PALMS]]
        hands = []
        for pts, presence in sorted(self.landmarks(img, rois), key=lambda h: -h[1]):
            if presence < MIN_PRESENCE or len(hands) >= MAX_HANDS:
                continue
            box = np.r_[pts[:, :2].min(0), pts[:, :2].max(0)]
            if all(_iou_axis_aligned(box, np.r_[h.min(0), h.max(0)][None])[0] <= 0.5 for h in hands):
                hands.append(pts[:, :2].astype(np.float32))
        return hands


def finger_width(points):
    """A finger's width in pixels for a hand's landmarks (21, 2): the knuckles' span (index to
    little finger) over 2.6, and never under a fifth of the palm's length (a hand seen edge-on)."""
    p = np.asarray(points, np.float64)
    return max(np.linalg.norm(p[5] - p[17]) / 2.6, 0.2 * np.linalg.norm(p[9] - p[0]), 1.0)


def hand_mask(hands, shape, box=None):
    """(H, W) uint8 0/1 of ``shape``: the pixels the hands (each (21, 2) image pixels) cover, the
    palm's polygon (the wrist as wide as the palm's heel and drawn on past its landmark by
    :data:`WRIST` of the palm's length, the outline half a finger wider) and
    each finger's bones as lines of :func:`finger_width` with round ends (the
    last bone carried on by a third of the width: the landmark sits on the fingertip's pad).
    ``box`` (x0, y0, x1, y1): drawn into that part of the frame only, the mask of its size."""
    H, W = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = (0, 0, W, H) if box is None else (int(v) for v in box)
    out = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for pts in hands:
        p = np.asarray(pts, np.float64)[:, :2] - (x0, y0)
        t = finger_width(p)
        th = max(1, int(round(t)))
        palm = max(np.linalg.norm(p[9] - p[0]), 1e-6)
        up = (p[9] - p[0]) / palm  # (the wrist as wide as the palm's heel, and on past it)
        side = np.array([-up[1], up[0]]) * 0.4 * np.linalg.norm(p[5] - p[17])
        wrist = p[0] - WRIST * palm * up
        hull = cv2.convexHull(np.vstack([p[list(PALM)], p[0] + side, p[0] - side, wrist + side, wrist - side])
                              .astype(np.float32))
        hull = np.round(hull * 16).astype(np.int32)
        cv2.fillConvexPoly(out, hull, 1, lineType=cv2.LINE_8, shift=4)
        cv2.polylines(out, [hull], True, 1, max(1, th // 2), cv2.LINE_8, shift=4)
        for chain in FINGERS:
            q = p[list(chain)]
            tip = q[-1] + (q[-1] - q[-2]) * (t / 3.0) / max(np.linalg.norm(q[-1] - q[-2]), 1e-6)
            q = np.vstack([q, tip])
            for a, b in zip(q[:-1], q[1:]):
                cv2.line(out, tuple(np.round(a * 16).astype(int)), tuple(np.round(b * 16).astype(int)), 1, th,
                         cv2.LINE_8, shift=4)
    return out


#: a hand is taken to be there when it is found on consecutive rows over at least this long (the
#: detector's rare mistakes last a frame or two), and carried through gaps up to this long
HAND_MIN_S, HAND_GAP_S = 0.2, 0.5
#: a hand the landmark model loses at the frame's edge is carried by the picture's motion
#: (:func:`moved_by_the_picture`) over at most this long
CARRY_S = 0.2


def moved_by_the_picture(frame, other, hands):
    """The hands (each (21, 2)) found on RGB ``frame`` where the picture's motion puts them on
    ``other``: each hand's landmarks and the corners inside it followed by pyramidal Lucas-Kanade
    (those that come back within a pixel), one similarity fitted to them (RANSAC). A hand going out
    of the frame is lost by the landmark model while part of it still covers the face (on d3's hand
    clip three rows at 0.05-0.15 of her face); the part still in the picture moves it. Hands that
    fewer than 6 points follow are left out."""
    g0, g1 = (cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (frame, other))
    H, W = g0.shape
    out = []
    for p in hands:
        p = np.asarray(p, np.float32)
        corners = cv2.goodFeaturesToTrack(g0, 60, 0.01, 5, mask=cv2.erode(hand_mask([p], g0.shape), np.ones((5, 5), np.uint8)))
        pts = np.vstack([p] + ([corners.reshape(-1, 2)] if corners is not None else []))
        pts = np.ascontiguousarray(pts[_in_frame(pts, W, H)])
        if len(pts) < 6:
            continue
        there, st, _ = cv2.calcOpticalFlowPyrLK(g0, g1, pts, None, winSize=(21, 21), maxLevel=4)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, there, None, winSize=(21, 21), maxLevel=4)
        ok = (st[:, 0] > 0) & (st2[:, 0] > 0) & (np.linalg.norm(back - pts, axis=1) < 1.0)
        if ok.sum() < 6:
            continue
        A, inliers = cv2.estimateAffinePartial2D(pts[ok], there[ok], method=cv2.RANSAC, ransacReprojThreshold=3.0)
        if A is None or inliers.sum() < 6:
            continue
        q = apply_affine(A, p).astype(np.float32)
        if _in_frame(q, W, H).any():
            out.append(q)
    return out


def _in_frame(pts, W, H):
    """(N,) bool: the points (N, 2) inside a W x H frame."""
    return (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < W) & (pts[:, 1] < H)


def _runs(mask, shot):
    """(start, end) of the runs of True of ``mask`` (T,), split where ``shot`` (T,) changes."""
    return split_at(segments(mask), np.flatnonzero(np.diff(shot)) + 1)


class HandRows:
    """The hands before one actor's face over the rows of a clip: found on the rows looked at
    (:meth:`look`, one in ``stride`` rows until one is found, then every row), followed back from the
    row that first finds a hand (:meth:`follow_back`), carried by the picture's motion where the
    landmarks lose it at the frame's edge (:meth:`_carry`), carried through short gaps (:meth:`bridge`)
    and dropped where they last under :data:`HAND_MIN_S` (:meth:`confirm`). ``shot`` (T,): each
    row's shot (nothing is carried across a cut); ``fps``: the rows' rate. :attr:`hands` (T,
    :data:`MAX_HANDS`, 21, 2) float32 image pixels, NaN where none. Used by the tracker (the rows
    a hand hides) and by the render's survey of what stands in front of the face. ``stride``: rows
    without a hand before them are looked at for palms one in this many."""

    def __init__(self, shot, fps, stride=2):
        self.shot = np.asarray(shot)
        self.fps = float(fps)
        self.stride = int(stride)
        T = len(self.shot)
        self.hands = np.full((T, MAX_HANDS, 21, 2), np.nan, np.float32)
        self.searched = np.zeros(T, bool)
        self.carried = np.zeros(T, bool)  # (rows whose hands the picture's motion carried there)

    def _carry(self, frame_of, k, r):
        """Row ``k``'s hands carried onto row ``r`` (next to it, one shot) by the picture's motion
        (:func:`moved_by_the_picture`), unless :data:`CARRY_S` of rows carried lead up to it or a
        frame is not at hand; True where a hand was carried."""
        n, j, step = max(1, int(np.ceil(CARRY_S * self.fps))), k, k - r
        while 0 <= j < len(self.shot) and self.carried[j]:
            j += step
        if abs(j - k) >= n or not self.found(k) or self.shot[k] != self.shot[r]:
            return False
        here, there = frame_of(k), frame_of(r)
        moved = [] if here is None or there is None else moved_by_the_picture(here, there, self.found(k))
        for i, p in enumerate(moved[:MAX_HANDS]):
            self.hands[r, i] = p
        self.carried[r] = bool(moved)
        return bool(moved)

    def found(self, r):
        """The hands of row ``r`` (a list of (21, 2))."""
        return [p for p in self.hands[r] if np.isfinite(p).all()]

    def look(self, finder, frame, face_points, r, frame_of=None):
        """Row ``r``'s hands near its face (landmarks ``face_points`` (N, 2) on ``frame``): the row
        before's hands followed, and palms looked for on every :attr:`stride`-th row (the others
        after one without a hand are not: the palm detector is most of the cost where no hand is;
        a hand found on a later row is followed back onto them). A hand the row before had and
        this row's landmarks lose is carried on by the picture's motion (``frame_of(k)``: row k's
        frame, None where not at hand; :meth:`_carry`)."""
        self.searched[r] = True
        before = self.found(r - 1) if r > 0 and self.shot[r - 1] == self.shot[r] else []
        if not before and r % self.stride:
            return
        found = finder.find(np.ascontiguousarray(frame), search_region(face_points, frame.shape), before)
        for k, p in enumerate(found[:MAX_HANDS]):
            self.hands[r, k] = p
        if before and not found and frame_of is not None:
            self._carry(lambda k: frame if k == r else frame_of(k), r - 1, r)

    def follow_back(self, finder, frame_of, r, todo, counted=None):
        """A hand first found on row ``r`` is followed back over the rows before it that were
        searched and found none (at most :data:`HAND_GAP_S`): a hand coming in from the frame's
        edge is found only once most of it shows, and the rows before still hold part of it; where
        the landmarks lose it, the picture's motion carries it on (:meth:`_carry`).
        ``frame_of(k)``: row k's frame (None: not at hand, the following stops); ``todo``: the
        rows surveyed; ``counted(k)`` is called for each row a hand is carried onto."""
        n = int(np.ceil(HAND_GAP_S * self.fps))
        k = r - 1
        while (k >= 0 and r - k <= n and todo[k] and self.searched[k] and self.shot[k] == self.shot[r]
               and np.isfinite(self.hands[k + 1, 0, 0, 0]) and not np.isfinite(self.hands[k, 0, 0, 0])):
            frame = frame_of(k)
            found = [] if frame is None else finder.follow(np.ascontiguousarray(frame), self.found(k + 1))
            for j, p in enumerate(found):
                self.hands[k, j] = p
            if not found and not self._carry(frame_of, k + 1, k):
                break
            if counted is not None:
                counted(k)
            k -= 1

    def bridge(self, rows, counted=None):
        """A hand lost for up to :data:`HAND_GAP_S` between two of ``rows`` (one shot) that find it
        in about one place (its wrist within a palm's length) was there all along: its points are
        carried between them (linearly); ``counted(r)`` is called for each row of such a gap."""
        n = int(np.ceil(HAND_GAP_S * self.fps))
        found = rows & np.isfinite(self.hands[:, 0, 0, 0])
        for a, e in _runs(rows & ~found, self.shot):
            if e - a > n or a == 0 or e >= len(rows) or not (found[a - 1] and found[e]) or \
                    self.shot[a - 1] != self.shot[e]:
                continue
            for k, p in enumerate(self.hands[a - 1]):
                if not np.isfinite(p).all():
                    continue
                q = min(self.found(e), key=lambda q: np.linalg.norm(q[0] - p[0]))
                if np.linalg.norm(q[0] - p[0]) > np.linalg.norm(p[9] - p[0]):
                    continue
                for r in range(a, e):
                    t = (r - a + 1) / (e - a + 1)
                    self.hands[r, k] = (1 - t) * p + t * q
            if counted is not None:
                for r in range(a, e):
                    counted(r)

    def confirm(self, rows):
        """Hands found on fewer than :data:`HAND_MIN_S` of consecutive ``rows`` of a shot are
        dropped: the detector's rare mistakes (an open mouth's lips read as curled fingers) last a
        frame or two, a hand before the face far longer. The rows the picture's motion carried a
        hand onto do not count (a mistake carried on would pass). Returns the runs dropped [(a, e)]."""
        n = max(2, int(np.ceil(HAND_MIN_S * self.fps)))
        dropped = [(a, e) for a, e in _runs(rows & np.isfinite(self.hands[:, 0, 0, 0]), self.shot)
                   if e - a - int(self.carried[a:e].sum()) < n]
        for a, e in dropped:
            self.hands[a:e] = np.nan
        return dropped


def hidden_by_hands(landmarks, hands, shape):
    """The share (T,) float32 of a face's outline (its 468 points' hull) that the hands before it
    cover on each row: 0 where none, NaN where the face is untracked. ``landmarks`` (T, 478, 2+)
    image pixels (NaN untracked), ``hands`` (T, MAX_HANDS, 21, 2) (:attr:`HandRows.hands`),
    ``shape``: the frames' (H, W)."""
    L = np.asarray(landmarks, np.float64)
    H, W = int(shape[0]), int(shape[1])
    tracked = np.isfinite(L[:, 0, 0])
    share = np.where(tracked, 0.0, np.nan).astype(np.float32)
    for r in np.flatnonzero(tracked & np.isfinite(np.asarray(hands)[:, 0, 0, 0])):
        pts = L[r, :468, :2]
        x0, y0 = (int(max(0, np.floor(v))) for v in pts.min(0))
        x1, y1 = int(min(W, np.ceil(pts[:, 0].max()) + 2)), int(min(H, np.ceil(pts[:, 1].max()) + 2))
        if x1 <= x0 or y1 <= y0:
            continue
        m = hand_mask([p for p in hands[r] if np.isfinite(p).all()], (H, W), (x0, y0, x1, y1))
        face = np.zeros_like(m)
        cv2.fillConvexPoly(face, np.round(cv2.convexHull(np.ascontiguousarray(pts, np.float32)) -
                                          (x0, y0)).astype(np.int32), 1)
        share[r] = float((m & face).sum()) / max(1, int(face.sum()))
    return share
