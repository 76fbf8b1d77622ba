# SPDX-License-Identifier: GPL-3.0-or-later
"""MediaPipe FaceMesh (478 landmarks, refined lips, eyes, irises): numpy + OpenCV + onnxruntime.

A reimplementation of the graph that ``mediapipe.solutions.face_mesh.FaceMesh`` runs
(``FaceLandmarkFrontCpu``) on the bundled ONNX models converted from MediaPipe 0.10.21
(``models/README.md``). No mediapipe / tensorflow at run time.

Pipeline per frame, with the MediaPipe calculators it mirrors:

1. Detection (``FaceDetectionShortRange``), only when fewer faces than ``max_faces`` are tracked:
   the whole frame letterboxed (keep aspect, zero border) into 128x128, values in [-1, 1];
   BlazeFace short-range with 896 SSD anchors (strides 8, 16, 16, 16; fixed anchor size);
   ``TensorsToDetections`` decoding (x, y, w, h order, scale 128, sigmoid score clipped at
   +-100, threshold ``min_detection_confidence``); weighted NMS (IoU > 0.3, blending boxes and
   keypoints by score); projection back to the image.
2. ROI from a detection (``FaceDetectionFrontDetectionToRoi``): box centre, rotation from
   keypoint 0 (one eye) to keypoint 1 (other eye), square on the long side, scale 1.5.
3. Landmarks (``FaceLandmarkCpu``): the rotated square ROI sampled into 192x192 with the exact
   affine map of ``ImageToTensorCalculator`` (ROI corners -> tensor corners, bilinear, border
   replicate), values in [0, 1]; then one of two landmark models (``landmark_model``):

   ``"attention"`` (default; what ``FaceMesh(refine_landmarks=True)`` runs):
   ``face_landmark_with_attention``, two ONNX stages with MediaPipe's three custom ops between
   them in numpy (:mod:`.attention_ops`). It returns the 468-point mesh, 80 lip points, 71
   points per eye and 5 per iris, all in the 192x192 crop, merged as MediaPipe's
   ``LandmarksRefinementCalculator`` does (``tensors_to_face_landmarks_with_attention``): lips
   and eyes replace x, y of the mesh points they stand for (:data:`LIPS`,
   :data:`EYE_CONTOUR_33`, :data:`EYE_CONTOUR_263`) and keep the mesh's z; the irises become
   468..472 (33/133 eye) and 473..477 (362/263 eye), z = the mean mesh z of their eye's 16 lid
   points. The ROI for the next frame (step 4) comes from all 478 refined points.

   ``"mesh+iris"``: ``face_landmark`` (468 points) then steps 5 and 6 below (the MediaPipe Iris
   pipeline); the ROI for the next frame from the 468 mesh points.

   Both: face flag (sigmoid = presence, threshold ``min_presence``); points mapped back with
   the inverse affine (z scaled like x). With ``refine=False`` it is ``face_landmark`` alone
   (MediaPipe's ``refine_landmarks=False``).
4. ROI for the next frame (``FaceLandmarkLandmarksToRoi``): bounding box of the points,
   rotation from landmark 33 to 263, square on the long side, scale 1.5.
5. Irises (``"mesh+iris"`` only; ``IrisLandmarkLeftAndRightCpu``): per eye a ROI from its two
   corners (33 -> 133 and
   362 -> 263; box of the two points, rotation along them, square long side, scale 2.3); 64x64
   crop in [0, 1] (pixel-centre sampling, as MediaPipe's crop-then-resize path); the 362/263 eye
   (MediaPipe's "right eye") is flipped horizontally because the model only knows the 33/133
   one (see :func:`iris_crop_affine`); 71 eye-contour + 5 iris points.
6. Refinement (``"mesh+iris"`` only): eye points from the iris model replace x, y of the mesh
   points they stand for
   (table of ``UpdateFaceLandmarksCalculator``); z keeps the mesh value and each iris's z is the
   mean z of its eye's 16 lid points, as the ``LandmarksRefinementCalculator`` of
   ``FaceMesh(refine_landmarks=True)`` does; the 2 x 5 iris points are appended as
   468..472 (the 33/133 eye, centre first) and 473..477 (the 362/263 eye), in the order
   FaceMesh(refine_landmarks=True) uses (centre, +x, up, -x, down in the eye's frame).
   ``eye_points`` picks which eye points are replaced: ``"lids"`` (default: the eye contour
   proper, the 16 lid points of each eye, seen by the iris model at about 3x the face model's
   resolution), ``"full"`` (all 71 outputs, lids + halos + brow, MediaPipe Iris's
   UpdateFaceLandmarks) or ``"none"`` (mesh eyes, irises appended only). Against
   FaceMesh(refine_landmarks=True) on carphone and two 512x512 clips, "full" scored 2.8-5.2 %
   IOD, "lids" and "none" 2.1-3.2 % (the iris model's halo and brow points are the outliers;
   the attention model, different networks altogether, is the reference there).

Deliberate difference from MediaPipe: when a tracked face is lost, detection runs again on the
same frame (MediaPipe waits for the next one).

Output coordinates are image pixels: x right, y down, z in the same pixel scale as x (MediaPipe's
normalised z times the image width; smaller = closer to the camera).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .. import session as _session
from ..face.geometry import apply_affine
from ..face.topology import load_topology
from .attention_ops import StagedModel
from .detector import (
    DET_NMS_IOU,
    DET_NUM_KEYPOINTS,
    DET_SIZE,
    Detection,
    TILE_DIVISIONS,
    TILE_MIN_FRAME,
    TILE_MIN_SCORE,
    _roi_iou,
    _sigmoid,
    _tile_starts,
    decode_detections,
    ssd_anchors,
)
from . import steps
from .roi import FACE_ROI_SCALE, IRIS_SIZE, invert_affine, iris_crop_affine, rect_from_points, roi_affine


NUM_MESH = 468
NUM_LANDMARKS = 478

DETECTION_MODEL = "face_detection_short_range.onnx"
LANDMARK_MODEL = "face_landmark.onnx"
IRIS_MODEL = "iris_landmark.onnx"
#: the two ONNX stages of face_landmark_with_attention (custom ops run between them in numpy)
ATTENTION_MODELS = ("face_landmark_with_attention_1.onnx", "face_landmark_with_attention_2.onnx")
LANDMARK_MODELS = ("attention", "mesh+iris")

# --- detection (face_detection_short_range graph options) --------------------------------

# --- ROI options ---------------------------------------------------------------------------
LANDMARK_SIZE = 192
ROI_ROTATION_FROM_LANDMARKS = (33, 263)
EYE_ROI_SCALE = 2.3
# (start, end) corners of each eye, in MediaPipe's order: "left" (33/133) then "right" (362/263).
EYE_CORNERS = ((33, 133), (362, 263))

# Mesh indices of the 71 eye-contour points the iris model returns, per eye, in model order
# (UpdateFaceLandmarksCalculator / LandmarksRefinementCalculator tables of MediaPipe).
EYE_CONTOUR_33 = (
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
    130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190,
    226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189,
    35, 124, 46, 53, 52, 65,
    143, 111, 117, 118, 119, 120, 121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193,
)
#: the other eye's table is the mirror image of the first through the mesh's left/right map
EYE_CONTOUR_263 = tuple(int(v) for v in load_topology().mirror[list(EYE_CONTOUR_33)])
EYE_CONTOURS = (EYE_CONTOUR_33, EYE_CONTOUR_263)
# Mesh indices of the attention model's 80 lip points, in model order
# (tensors_to_face_landmarks_with_attention.pbtxt): lower outer, upper outer (no corners), lower
# inner, upper inner, lower semi-outer, upper semi-outer, lower semi-inner, upper semi-inner.
LIPS = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
    185, 40, 39, 37, 0, 267, 269, 270, 409,
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
    191, 80, 81, 82, 13, 312, 311, 310, 415,
    76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306,
    184, 74, 73, 72, 11, 302, 303, 304, 408,
    62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292,
    183, 42, 41, 38, 12, 268, 271, 272, 407,
)
# The iris z is the mean z of the first 16 contour points (the eye lids) of its eye.
IRIS_Z_POINTS = 16
LEFT_IRIS = slice(468, 473)   # the 33/133 eye (MediaPipe "left"; the subject's right eye)
RIGHT_IRIS = slice(473, 478)  # the 362/263 eye


#: mesh points the iris stage never moves (every point but the eye contours)
_STILL_POINTS = np.setdiff1d(np.arange(NUM_MESH), np.ravel(EYE_CONTOURS))

STAGES = ("detect", "crop_face", "landmark", "crop_eyes", "iris", "post")


# =========================================================================================
# Geometry helpers
# =========================================================================================


# =========================================================================================
# Results
# =========================================================================================

@dataclass
class FaceMeshResult:
    """Faces found in one frame.

    landmarks: (N, 478, 3) float32, pixels (x, y, z; z scaled like x).
    presence:  (N,) face-presence score of the landmark model, 0..1.
    rois:      (N, 5) ROI each face's landmarks were computed in: cx, cy, w, h (pixels),
               rotation (radians).
    next_rois: (N, 5) ROI for the next frame, from this frame's landmarks.
    detection_scores: (N,) score of the detection a face came from on this frame, NaN when it
               was tracked from the previous frame.
    detected:  whether face detection ran on this frame.
    image_size: (width, height).
    frames_since_detection: frames since detection last ran (0 when it ran on this frame).
    eye_rois:  (N, 2, 5) the iris model's eye ROIs ("mesh+iris"; zeros otherwise).
    """

    landmarks: np.ndarray
    presence: np.ndarray
    rois: np.ndarray
    next_rois: np.ndarray
    detection_scores: np.ndarray
    detected: bool
    image_size: tuple
    frames_since_detection: int = 0
    eye_rois: np.ndarray = field(default=None, repr=False)  # (N, 2, 5)
    #: the faces' motion over the last frames tracked from one another (:mod:`.steps`)
    recent_motion: tuple = field(default=(), repr=False, compare=False)
    # (eye crops, crop->image maps, float64 landmarks) while the iris stage is still to run
    _pending: tuple = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])


    @staticmethod
    def empty(image_size, detected: bool, frames_since_detection: int = 0) -> "FaceMeshResult":
        return FaceMeshResult(
            landmarks=np.zeros((0, NUM_LANDMARKS, 3), np.float32),
            presence=np.zeros((0,), np.float32),
            rois=np.zeros((0, 5)), next_rois=np.zeros((0, 5)),
            detection_scores=np.zeros((0,), np.float32), detected=detected,
            image_size=tuple(image_size), frames_since_detection=frames_since_detection,
            eye_rois=np.zeros((0, 2, 5)))


# =========================================================================================
# The tracker
# =========================================================================================

class FaceMesh:
    """478-point face mesh tracker, images or video.

    >>> fm = FaceMesh(max_faces=1)
    >>> res = fm.process(rgb)                     # single image: detection, then landmarks
    >>> res = fm.process(next_rgb, previous=res)  # video: track from the previous ROIs

    ``previous`` may be the previous frame's :class:`FaceMeshResult` or an (N, 5) array of ROIs.
    Detection runs when there is no previous result, when fewer than ``max_faces`` faces are
    tracked (at most every ``redetect_interval`` frames), when a tracked face is lost, and when a
    tracked face steps far beyond its last frames' motion (a jump cut: :func:`.steps.stepped`).

    ``min_detection_confidence`` / ``min_presence`` are MediaPipe's min_detection_confidence /
    min_tracking_confidence. ``landmark_model``: ``"attention"`` (default, the network of
    MediaPipe's ``refine_landmarks=True``) or ``"mesh+iris"`` (face_landmark + iris_landmark;
    ``eye_points`` applies to it only), see the module docstring. ``refine=False``: the
    468-point face_landmark model alone (MediaPipe's ``refine_landmarks=False``; points
    468..477 are NaN).
    ``tile_detection``: when nothing is found in the whole frame (at least 320 px; before
    2026-12-06 1280), look again
    in overlapping tiles of 1/2.5 of the frame, so faces down to about a twelfth of the frame
    width (a wide 4K shot) are found; MediaPipe itself would miss them. Off by default: on
    cluttered face-free footage the tiles also find more false faces.
    ``threads``: intra-op threads per model (default 1). ``profile=True`` accumulates seconds
    per stage in ``self.timings`` (``self.frames`` frames).

    For video use :meth:`track` (same results as :meth:`process` frame by frame; with
    ``"mesh+iris"`` it overlaps frame t's iris network with frame t+1's face network).
    """

    def __init__(self, max_faces: int = 1, min_detection_confidence: float = 0.5,
                 min_presence: float = 0.5, refine: bool = True, prefer_gpu: bool = True,
                 threads: int | None = None, redetect_interval: int = 1,
                 redetect_on_loss: bool = True, models_dir: str | None = None,
                 eye_points: str = "lids", profile: bool = False, tile_detection: bool = False,
                 landmark_model: str = "attention"):
        if max_faces < 1:
            raise ValueError("max_faces must be >= 1")
        self.max_faces = int(max_faces)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_presence = float(min_presence)
        self.refine = bool(refine)
        if landmark_model not in LANDMARK_MODELS:
            raise ValueError(f"landmark_model must be one of {LANDMARK_MODELS}")
        self.landmark_model = landmark_model
        self._attention = self.refine and landmark_model == "attention"
        if eye_points not in ("lids", "full", "none"):
            raise ValueError("eye_points must be 'lids', 'full' or 'none'")
        self.eye_points = eye_points
        self._n_eye_replace = {"lids": IRIS_Z_POINTS, "full": 71, "none": 0}[eye_points]
        self.redetect_interval = max(1, int(redetect_interval))
        self.redetect_on_loss = bool(redetect_on_loss)
        self.tile_detection = bool(tile_detection)

        def path(name):
            return (_session.model_path(name) if models_dir is None
                    else f"{models_dir.rstrip('/')}/{name}")

        # One intra-op thread per model by default: these networks are small and a frame runs
        # several of them back to back; on 2 cores, 1 thread measured 15-40 % faster than 2.
        threads = 1 if threads is None else threads
        self._det = _session.create_session(path(DETECTION_MODEL), prefer_gpu, threads)
        self._lm = self._att = self._iris = None
        if self._attention:
            self._att = StagedModel([_session.create_session(path(p), prefer_gpu, threads)
                                     for p in ATTENTION_MODELS])
        else:
            self._lm = _session.create_session(path(LANDMARK_MODEL), prefer_gpu, threads)
            self._lm_in = self._lm.get_inputs()[0].name
            self._lm_out = [o.name for o in self._lm.get_outputs()]
            if self.refine:
                self._iris = _session.create_session(path(IRIS_MODEL), prefer_gpu, threads)
        self._det_in = self._det.get_inputs()[0].name
        self._det_out = [o.name for o in self._det.get_outputs()]  # regressors, classificators
        if self._iris is not None:
            self._iris_in = self._iris.get_inputs()[0].name
            self._iris_out = [o.name for o in self._iris.get_outputs()]
        self._anchors = ssd_anchors()
        self._eye_contour_idx = np.array(EYE_CONTOURS, np.int64)  # (2, 71)
        self.profile = bool(profile)
        self.timings = {k: 0.0 for k in STAGES}
        self.frames = 0

    # ---------------------------------------------------------------- public API
    @property
    def provider(self) -> str:
        return _session.session_provider(self._att.stages[0] if self._att else self._lm)

    def reset_timings(self) -> None:
        self.timings = {k: 0.0 for k in STAGES}
        self.frames = 0

    def process(self, frame_rgb: np.ndarray, previous=None) -> FaceMeshResult:
        """Landmarks for one RGB uint8 frame (H, W, 3); see the class docstring."""
        img = _as_rgb(frame_rgb)
        return self._finish(self._mesh_stage(img, previous))

    __call__ = process

    def track(self, frames, pipelined: bool = True, new_shot=None):
        """Video mode over an iterable of RGB frames; yields one FaceMeshResult per frame.
        ``new_shot``: a callable asked after each frame is taken from ``frames``; True: the frame
        begins a new shot (a cut), so it is looked at afresh, not from the last frame's faces.

        ``pipelined`` (``"mesh+iris"`` only): the iris network of frame t runs on a worker
        thread while frame t+1's face network runs here (frame t+1's ROI only needs frame t's
        mesh), so two cores work at once and each keeps its network's weights in cache. The
        attention model has no such split: frame t+1's ROI needs frame t's refined eye corners
        (33, 263), the last thing it computes, so frames run one after the other. Results are
        identical to calling :meth:`process` frame by frame; frames are not retained after
        their crops are taken, so a decoder may reuse its buffer.
        """
        if not (pipelined and self._iris is not None):
            prev = None
            for frame in frames:
                if new_shot is not None and new_shot():
                    prev = None
                prev = self.process(frame, previous=prev)
                yield prev
            return
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        pending: deque = deque()
        with ThreadPoolExecutor(1, thread_name_prefix="reenact-facemesh") as pool:
            prev = None
            try:
                for frame in frames:
                    if new_shot is not None and new_shot():
                        prev = None
                    prev = self._mesh_stage(_as_rgb(frame), prev)
                    pending.append(pool.submit(self._finish, prev))
                    while pending and (pending[0].done() or len(pending) > 2):
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for fut in pending:
                    fut.cancel()

    def _mesh_stage(self, img: np.ndarray, previous) -> FaceMeshResult:
        """Detection (when needed), face landmarks, next ROIs and the eye crops."""
        h, w = img.shape[:2]
        size = (w, h)
        prof = self.profile
        t0 = time.perf_counter() if prof else 0.0

        prev_rois, since = _previous_rois(previous)
        detected = False
        rois: list = [r for r in prev_rois[: self.max_faces]]
        det_scores = [np.nan] * len(rois)
        since += 1
        if previous is None or (len(rois) < self.max_faces and since >= self.redetect_interval):
            rois, det_scores = self._detect_and_associate(img, rois, det_scores)
            detected, since = True, 0
            if prof:
                t1 = time.perf_counter()
                self.timings["detect"] += t1 - t0
                t0 = t1

        res = self._landmarks(img, rois, det_scores, size, detected, since)
        if (self.redetect_on_loss and not detected and len(res) < self.max_faces
                and len(res) < len(rois)):
            # A tracked face was lost: look for faces on this very frame.
            t0 = time.perf_counter() if prof else 0.0
            kept = [r for r in res.next_rois]
            rois2, scores2 = self._detect_and_associate(img, [], [])
            # keep only new detections that do not overlap surviving tracked faces
            new = [(r, s) for r, s in zip(rois2, scores2)
                   if all(_roi_iou(r, k) <= 0.5 for k in kept)]
            if prof:
                self.timings["detect"] += time.perf_counter() - t0
            if new:
                room = self.max_faces - len(res)
                extra = self._landmarks(img, [r for r, _ in new[:room]],
                                        [s for _, s in new[:room]], size, True, 0)
                res = _concat(res, extra, detected=True)
            else:
                res.detected = True
                res.frames_since_detection = 0
        if prof:
            self.frames += 1
        if isinstance(previous, FaceMeshResult) and not res.detected and len(res) == len(previous) > 0:
            # the faces in the order they were tracked in (none lost): did one step? (not the
            # eye contours: the iris stage may still be writing the previous frame's)
            m = float(np.max(steps.motion(previous.landmarks, res.landmarks, _STILL_POINTS)))
            if steps.stepped(m, previous.recent_motion):
                fresh = self._mesh_stage(img, None)  # a jump: look at the frame afresh, as at a cut
                if len(fresh):
                    return fresh
            res.recent_motion = (previous.recent_motion + (m,))[-steps.NEIGHBOURS:]
        return res

    def detect(self, frame_rgb: np.ndarray) -> list:
        """BlazeFace detections (after weighted NMS) in image pixels, best first."""
        img = _as_rgb(frame_rgb)
        return self._detect(img)

    # ---------------------------------------------------------------- stages
    def _detect(self, img: np.ndarray) -> list:
        h, w = img.shape[:2]
        # Letterbox: the frame's centre square of side max(w, h) (zero border) -> 128x128.
        side = float(max(w, h))
        dets = self._detect_in(img, (w / 2.0, h / 2.0, side, side, 0.0))
        if dets or not self.tile_detection or side < TILE_MIN_FRAME:
            return dets
        # Nothing at full frame: the short-range detector misses faces smaller than about a
        # fifth of the frame (a wide 4K shot). Look again in overlapping tiles.
        tile = side / TILE_DIVISIONS
        found = []
        for ty in _tile_starts(h, tile):
            for tx in _tile_starts(w, tile):
                found += [d for d in self._detect_in(img, (tx + tile / 2.0, ty + tile / 2.0, tile, tile, 0.0))
                          if d.score >= TILE_MIN_SCORE]
        found.sort(key=lambda d: -d.score)
        out = []
        for d in found:  # the same face seen by two overlapping tiles: keep the best
            if all(_roi_iou(d.roi(), o.roi()) <= 0.3 for o in out):
                out.append(d)
        return out

    def _detect_in(self, img: np.ndarray, roi) -> list:
        """BlazeFace on the square region ``roi`` (cx, cy, side, side, 0) of the frame."""
        m = roi_affine(roi, DET_SIZE)
        crop = cv2.warpAffine(img, m, (DET_SIZE, DET_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = crop.astype(np.float32)[None] * np.float32(2.0 / 255.0) - np.float32(1.0)
        raw_boxes, raw_scores = self._det.run(self._det_out, {self._det_in: x})
        # tensor-normalised -> image pixels (inverse of the letterbox affine)
        return [Detection(score, box, kp) for score, box, kp in decode_detections(
            raw_boxes, raw_scores, self._anchors, DET_SIZE, DET_NUM_KEYPOINTS, self.min_detection_confidence,
            DET_NMS_IOU, invert_affine(m))]

    def _detect_and_associate(self, img, rois, det_scores):
        dets = self._detect(img)[: self.max_faces]
        new = []
        for d in dets:
            r = d.roi()
            if all(_roi_iou(r, t) <= 0.5 for t in rois):
                new.append((r, d.score))
        # Tracked faces keep their slot (stable order for multi-face tracks); new ones follow.
        rois = list(rois) + [r for r, _ in new]
        det_scores = list(det_scores) + [s for _, s in new]
        return rois[: self.max_faces], det_scores[: self.max_faces]

    def _landmarks(self, img, rois, det_scores, size, detected, since) -> FaceMeshResult:
        prof = self.profile
        n = len(rois)
        if n == 0:
            return FaceMeshResult.empty(size, detected, since)
        t0 = time.perf_counter() if prof else 0.0
        rois = np.asarray(rois, np.float64).reshape(n, 5)
        mats = [roi_affine(r, LANDMARK_SIZE) for r in rois]
        batch = np.empty((n, LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
        for i, m in enumerate(mats):
            crop = cv2.warpAffine(img, m, (LANDMARK_SIZE, LANDMARK_SIZE),
                                  flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            np.multiply(crop, np.float32(1.0 / 255.0), out=batch[i], casting="unsafe")
        if prof:
            t1 = time.perf_counter()
            self.timings["crop_face"] += t1 - t0
            t0 = t1
        if self._att is not None:
            att = self._att(batch)
            raw, flag = att["output_mesh_identity"], att["conv_faceflag"]
        else:
            raw, flag = self._lm.run(self._lm_out, {self._lm_in: batch})
        if prof:
            t1 = time.perf_counter()
            self.timings["landmark"] += t1 - t0
            t0 = t1
        presence = _sigmoid(flag.reshape(n).astype(np.float64))
        ok = np.nonzero(presence >= self.min_presence)[0]
        if ok.size == 0:
            if prof:
                self.timings["post"] += time.perf_counter() - t0
            return FaceMeshResult.empty(size, detected, since)
        raw = raw.reshape(n, NUM_MESH, 3)[ok].astype(np.float64)
        if self._att is not None:  # 478 refined points, crop coordinates
            raw = refine_attention_landmarks(
                raw, *(att[k].reshape(n, -1, 2)[ok] for k in (
                    "output_lips", "output_left_eye", "output_right_eye",
                    "output_left_iris", "output_right_iris")))
        rois, presence = rois[ok], presence[ok]
        det_scores = np.asarray(det_scores, np.float64)[ok]
        m_count = ok.size
        pts = np.empty(raw.shape, np.float64)
        for k, i in enumerate(ok):
            inv = invert_affine(mats[i])
            pts[k, :, :2] = apply_affine(inv, raw[k, :, :2])
            pts[k, :, 2] = raw[k, :, 2] * (rois[k, 2] / LANDMARK_SIZE)
        # next ROI from every point there is: 478 refined (attention) or the 468 mesh points
        next_rois = np.stack([rect_from_points(pts[k, :, :2], *ROI_ROTATION_FROM_LANDMARKS,
                                               FACE_ROI_SCALE) for k in range(m_count)])
        if prof:
            t1 = time.perf_counter()
            self.timings["post"] += t1 - t0
            t0 = t1

        eye_rois = np.zeros((m_count, 2, 5))
        pending = None
        if pts.shape[1] == NUM_LANDMARKS:
            out = pts
        else:
            out = np.empty((m_count, NUM_LANDMARKS, 3), np.float64)
            out[:, :NUM_MESH] = pts
            out[:, NUM_MESH:] = np.nan
            if self._iris is not None:
                batch, invs = self._eye_crops(img, pts, eye_rois)
                pending = (batch, invs, out)
        return FaceMeshResult(
            landmarks=out, presence=presence.astype(np.float32),
            rois=rois, next_rois=next_rois, detection_scores=det_scores.astype(np.float32),
            detected=detected, image_size=tuple(size), frames_since_detection=since,
            eye_rois=eye_rois, _pending=pending)

    def _finish(self, res: FaceMeshResult) -> FaceMeshResult:
        """Run the iris stage if one is pending; landmarks become float32."""
        if res._pending is not None:
            batch, invs, out = res._pending
            self._apply_iris(batch, invs, out)
            res._pending = None
        if res.landmarks.dtype != np.float32:
            res.landmarks = res.landmarks.astype(np.float32)
        return res

    def _eye_crops(self, img, mesh, eye_rois):
        """64x64 eye crops (2 per face, "left" then "right") and their tensor->image maps."""
        prof = self.profile
        t0 = time.perf_counter() if prof else 0.0
        n = mesh.shape[0]
        batch = np.empty((2 * n, IRIS_SIZE, IRIS_SIZE, 3), np.float32)
        invs = []
        for k in range(n):
            for e, (a, b) in enumerate(EYE_CORNERS):
                roi = rect_from_points(mesh[k, [a, b], :2], 0, 1, EYE_ROI_SCALE)
                eye_rois[k, e] = roi
                m, inv = iris_crop_affine(roi, flip=(e == 1))
                invs.append(inv)
                crop = cv2.warpAffine(img, m, (IRIS_SIZE, IRIS_SIZE), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
                np.multiply(crop, np.float32(1.0 / 255.0), out=batch[2 * k + e],
                            casting="unsafe")
        if prof:
            self.timings["crop_eyes"] += time.perf_counter() - t0
        return batch, invs

    def _apply_iris(self, batch, invs, out) -> None:
        """Iris network on the eye crops; refine ``out`` (N, 478, 3) in place."""
        prof = self.profile
        t0 = time.perf_counter() if prof else 0.0
        n = batch.shape[0] // 2
        res = dict(zip(self._iris_out, self._iris.run(self._iris_out, {self._iris_in: batch})))
        if prof:
            t1 = time.perf_counter()
            self.timings["iris"] += t1 - t0
            t0 = t1
        contour = res["output_eyes_contours_and_brows"].reshape(2 * n, 71, 3).astype(np.float64)
        iris = res["output_iris"].reshape(2 * n, 5, 3).astype(np.float64)
        for k in range(n):
            for e in range(2):
                inv = invs[2 * k + e]
                idx = self._eye_contour_idx[e]
                # x, y of the eye contour replace the mesh's; z stays the mesh's.
                nrep = self._n_eye_replace
                if nrep:
                    out[k, idx[:nrep], :2] = inv(contour[2 * k + e, :nrep, :2])
                iris_xy = inv(iris[2 * k + e, :, :2])
                if e == 1:
                    # FaceMesh(refine_landmarks) lists both irises in image order (centre,
                    # +x, up, -x, down); the mirrored eye's model order has +x and -x swapped.
                    iris_xy = iris_xy[[0, 3, 2, 1, 4]]
                sl = LEFT_IRIS if e == 0 else RIGHT_IRIS
                out[k, sl, :2] = iris_xy
                out[k, sl, 2] = out[k, idx[:IRIS_Z_POINTS], 2].mean()
        if prof:
            self.timings["post"] += time.perf_counter() - t0


def refine_attention_landmarks(mesh, lips, left_eye, right_eye, left_iris, right_iris):
    """Merge the attention model's outputs into (N, 478, 3) points, as MediaPipe does.

    ``LandmarksRefinementCalculator`` with the options of
    ``tensors_to_face_landmarks_with_attention.pbtxt``: mesh (N, 468, 3) copied with its z;
    lips (N, 80, 2) and eyes (N, 71, 2 each) replace x, y of :data:`LIPS`,
    :data:`EYE_CONTOUR_33` / :data:`EYE_CONTOUR_263` and keep the mesh's z; irises (N, 5, 2
    each) become points 468..472 / 473..477 with z = the mean z of the first 16 (lid) points of
    their eye. Any coordinate frame works (the merge is applied before projection).
    """
    mesh = np.asarray(mesh, np.float64)
    n = mesh.shape[0]
    out = np.empty((n, NUM_LANDMARKS, 3), np.float64)
    out[:, :NUM_MESH] = mesh
    out[:, LIPS, :2] = lips
    out[:, EYE_CONTOUR_33, :2] = left_eye
    out[:, EYE_CONTOUR_263, :2] = right_eye
    out[:, LEFT_IRIS, :2] = left_iris
    out[:, RIGHT_IRIS, :2] = right_iris
    out[:, LEFT_IRIS, 2] = mesh[:, EYE_CONTOUR_33[:IRIS_Z_POINTS], 2].mean(1)[:, None]
    out[:, RIGHT_IRIS, 2] = mesh[:, EYE_CONTOUR_263[:IRIS_Z_POINTS], 2].mean(1)[:, None]
    return out


# =========================================================================================
# helpers
# =========================================================================================


def _previous_rois(previous):
    if previous is None:
        return [], 0
    if isinstance(previous, FaceMeshResult):
        return [r for r in previous.next_rois], int(previous.frames_since_detection)
    arr = np.asarray(previous, np.float64)
    if arr.size == 0:
        return [], 0
    return [r for r in arr.reshape(-1, 5)], 0


def _concat(a: FaceMeshResult, b: FaceMeshResult, detected: bool) -> FaceMeshResult:
    out = np.concatenate([a.landmarks.astype(np.float64), b.landmarks.astype(np.float64)])
    pending = None
    if a._pending is not None or b._pending is not None:
        batches = [p[0] for p in (a._pending, b._pending) if p is not None]
        invs = [f for p in (a._pending, b._pending) if p is not None for f in p[1]]
        pending = (np.concatenate(batches), invs, out)
    return FaceMeshResult(
        landmarks=out, _pending=pending,
        presence=np.concatenate([a.presence, b.presence]),
        rois=np.concatenate([a.rois.reshape(-1, 5), b.rois.reshape(-1, 5)]),
        next_rois=np.concatenate([a.next_rois.reshape(-1, 5), b.next_rois.reshape(-1, 5)]),
        detection_scores=np.concatenate([a.detection_scores, b.detection_scores]),
        detected=detected, image_size=a.image_size, frames_since_detection=0,
        eye_rois=np.concatenate([a.eye_rois.reshape(-1, 2, 5), b.eye_rois.reshape(-1, 2, 5)]))


def _as_rgb(frame) -> np.ndarray:
    img = np.asarray(frame)
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 RGB image, got dtype {img.dtype}")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2RGB)
    elif img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {img.shape}")
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise ValueError(f"image too small: {img.shape}")
    return np.ascontiguousarray(img)
