# SPDX-License-Identifier: GPL-3.0-or-later
"""Face model and fit: topology, rotations, synthetic recovery, the Track file, and the targets on
real footage (carphone always; ../shared/data clips when present).

Landmarks come from our own tracker (``reenact.inference``) when it imports; otherwise from
MediaPipe dumps in ``$REENACT_FITDATA`` (default /tmp/fitdata/NAME.npz with ``landmarks``
(T, 478, 3) pixels, ``fps``, ``size``); the real-footage tests skip when neither is there.
mediapipe itself is never imported here.
"""

import os
import time

import numpy as np
import pytest

from reenact.face import basis
from reenact.face import camera as cam_mod
from reenact.face import fit as F
from reenact.face import measures as M
from reenact.face.expressions import BROWS, EXPRESSION_NAMES, EYES, MOUTH_GROUP, group_of, mirror_name
from reenact.face.topology import load_topology
from reenact.face.track import Track

from conftest import SHARED_DATA

FITDATA = os.environ.get("REENACT_FITDATA", "/tmp/fitdata")
SHARED_CLIPS = ["driving_d0", "driving_d3", "driving_d13", "driving_d14"]
_CACHE = {}


def _clip_path(clip):
    if clip == "carphone":
        from reenact.sample import SampleMissing, sample_clip

        try:
            return sample_clip()
        except SampleMissing as e:
            pytest.skip(str(e))
    path = os.path.join(SHARED_DATA, "clips", clip + ".mp4")
    if not os.path.isfile(path):
        pytest.skip("shared data clip {}.mp4 not present (../shared/data is optional)".format(clip))
    return path


def _landmarks_for(clip):
    """(landmarks (T, 478, 3) px, fps, (w, h), origin) for 'carphone' or a shared clip name."""
    if clip in _CACHE:
        return _CACHE[clip]
    path = _clip_path(clip)
    try:
        from reenact.tracking.facemesh import FaceMesh  # noqa: F401
    except ImportError:
        FaceMesh = None
    if FaceMesh is not None:
        from reenact.tracking.tracker import track_landmarks

        lms, _, info = track_landmarks(path)
        out = (lms[0].astype(np.float64), float(info["fps"]), tuple(info["size"]), "tracker")
    else:
        dump = os.path.join(FITDATA, clip + ".npz")
        if not os.path.isfile(dump):
            pytest.skip("no tracker (reenact.tracking.facemesh) and no landmark dump {}".format(dump))
        with np.load(dump) as d:
            out = (d["landmarks"].astype(np.float64), float(d["fps"]), tuple(int(v) for v in d["size"]), "dump")
    _CACHE[clip] = out
    return out


def _fit(clip):
    key = ("fit", clip)
    if key not in _CACHE:
        L, fps, size, origin = _landmarks_for(clip)
        t0 = time.perf_counter()
        tr = F.fit_track(L, size, fps, source=clip + ".mp4")
        _CACHE[key] = (tr, time.perf_counter() - t0, L)
    return _CACHE[key]


# ----------------------------------------------------------------------------- measures
def _iod(L):
    return np.linalg.norm(L[:, 33, :2] - L[:, 263, :2], axis=-1)


def _lip_gap(L):
    """Inner lip gap 13-14 over the inter-ocular distance (2-D)."""
    return np.linalg.norm(L[:, 13, :2] - L[:, 14, :2], axis=-1) / _iod(L)


def _eyelid_gap(L, side):
    """Eye aspect ratio (2-D): mean of three upper-lower lid distances over the corner distance.
    A blink lowers it, so eyeBlink must correlate negatively with it."""
    if side == "left":
        pairs, corners = ((386, 374), (385, 380), (387, 373)), (263, 362)
    else:
        pairs, corners = ((159, 145), (158, 153), (160, 144)), (33, 133)
    g = np.mean([np.linalg.norm(L[:, a, :2] - L[:, b, :2], axis=-1) for a, b in pairs], 0)
    return g / np.linalg.norm(L[:, corners[0], :2] - L[:, corners[1], :2], axis=-1)


def _reprojection(tr, L):
    """Per-frame median reprojection error over all 468 points and over the lips, % of IOD."""
    ok = tr.tracked
    uv = tr.project()[ok]
    err = np.linalg.norm(uv - L[ok, :468, :2], axis=-1) / _iod(L[ok])[:, None] * 100
    topo = load_topology()
    lips = np.unique(np.r_[topo.groups["lips_outer"], topo.groups["lips_inner"]])
    return np.median(err, axis=1), np.median(err[:, lips], axis=1)


def _check_targets(tr, L, clip, seconds):
    ok = tr.tracked
    assert ok.mean() >= 0.99
    all_, mouth = _reprojection(tr, L)
    Lt = L[ok]
    j = tr.expression_index("jawOpen")
    r_jaw = np.corrcoef(tr.expression[ok, j], _lip_gap(Lt))[0, 1]
    rs = {}
    for side, name in (("left", "eyeBlinkLeft"), ("right", "eyeBlinkRight")):
        gap = _eyelid_gap(Lt, side)
        if gap.min() < 0.5 * np.median(gap):  # the clip has a real blink on this eye
            rs[side] = np.corrcoef(tr.expression[ok, tr.expression_index(name)], gap)[0, 1]
    print(
        "\n{}: frames {} reprojection median {:.2f} % IOD (mouth {:.2f} %), r jawOpen {:.3f}, r blink {}, "
        "{:.2f} ms/frame, focal {:.0f} px".format(
            clip, len(L), np.median(all_), np.median(mouth), r_jaw,
            {k: round(v, 3) for k, v in rs.items()}, seconds * 1000 / len(L), tr.focal_px,
        )
    )
    assert np.median(all_) <= 2.0
    assert np.median(mouth) <= 2.0
    assert r_jaw >= 0.9
    assert rs, "no blink in {}: the eyelid test needs one".format(clip)
    for v in rs.values():
        assert v <= -0.9
    return r_jaw


# ----------------------------------------------------------------------------- topology
def test_topology_is_a_manifold_with_holes():
    topo = load_topology()
    T = topo.triangles
    assert T.shape == (852, 3) and T.min() == 0 and T.max() == 467
    directed = {(int(a), int(b)) for t in T for a, b in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}
    assert len(directed) == 3 * len(T)  # consistent winding: no directed edge twice
    und = {}
    for a, b in directed:
        und[(min(a, b), max(a, b))] = und.get((min(a, b), max(a, b)), 0) + 1
    assert set(und.values()) == {1, 2}
    assert 468 - len(und) + len(T) == -2  # disk with 3 holes (mouth, two eyes)
    assert sum(v == 1 for v in und.values()) == 88
    S = topo.mean_shape
    n = np.cross(S[T[:, 1]] - S[T[:, 0]], S[T[:, 2]] - S[T[:, 0]])
    assert (n[:, 2] > 0).mean() > 0.9  # outward (toward the viewer)
    assert abs(np.linalg.norm(S[33] - S[263]) - 9.0) < 1e-6
    assert S[263, 0] > 0 > S[33, 0]  # actor's left eye at +x
    assert S[1, 2] > S[33, 2]  # nose tip in front
    assert S[10, 1] > S[1, 1] > S[152, 1]  # forehead above nose above chin
    m = topo.mirror
    assert np.array_equal(m[m], np.arange(468)) and m[33] == 263 and m[61] == 291 and m[1] == 1
    assert np.allclose(S * [-1, 1, 1], S[m])
    assert topo.uv.shape == (468, 2) and topo.uv.min() >= 0 and topo.uv.max() <= 1
    for g in ("lips_outer", "lips_inner", "eye_left", "eye_right", "brow_left", "brow_right", "jaw", "nose", "rigid"):
        assert len(topo.groups[g]) > 0
    for loop in ("lips_outer", "lips_inner", "eye_left", "eye_right", "face_oval"):
        idx = topo.groups[loop]
        for a, b in zip(idx, np.roll(idx, -1)):
            assert (min(a, b), max(a, b)) in und, (loop, a, b)
    assert 263 in topo.groups["eye_left"] and 33 in topo.groups["eye_right"]
    assert len(topo.checksum) == 64


@pytest.mark.slow
def test_topology_rebuild_is_reproducible(tmp_path):
    """tools/build_face_topology.py rebuilds the bundled file (byte for byte on this machine kind;
    needs mediapipe and scikit-video, so it skips without them)."""
    import hashlib
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("skvideo") is None:
        pytest.skip("mediapipe / scikit-video not installed (build-time reference only)")
    from conftest import ROOT

    out = tmp_path / "face_topology.npz"
    res = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "build_face_topology.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    if digest != load_topology().checksum:  # other CPUs may round MediaPipe's floats differently
        new, old = load_topology(str(out)), load_topology()
        assert np.array_equal(new.triangles, old.triangles) and np.array_equal(new.mirror, old.mirror)
        assert np.abs(new.mean_shape - old.mean_shape).max() < 1e-3
        assert all(np.array_equal(new.groups[k], old.groups[k]) for k in old.groups if k != "rigid")


def test_expression_names_and_groups():
    need = """jawOpen jawLeft jawRight mouthClose mouthFunnel mouthPucker mouthLeft mouthRight
    mouthSmileLeft mouthSmileRight mouthFrownLeft mouthFrownRight mouthStretchLeft mouthStretchRight
    mouthPressLeft mouthPressRight mouthRollLower mouthRollUpper mouthUpperUpLeft mouthUpperUpRight
    eyeBlinkLeft eyeBlinkRight eyeWideLeft eyeWideRight eyeSquintLeft eyeSquintRight browInnerUp
    browDownLeft browDownRight browOuterUpLeft browOuterUpRight""".split()
    assert set(need) <= set(EXPRESSION_NAMES) and len(EXPRESSION_NAMES) >= 24
    assert all(n.startswith(("jaw", "mouth")) or n == "cheekPuff" for n in MOUTH_GROUP)
    assert all(n.startswith("eye") for n in EYES) and all(n.startswith("brow") for n in BROWS)
    assert group_of("jawOpen") == "mouth" and group_of("eyeBlinkLeft") == "eyes"
    assert mirror_name("mouthSmileLeft") == "mouthSmileRight" and mirror_name("jawOpen") == "jawOpen"


# ----------------------------------------------------------------------------- rotations, camera
def test_euler_round_trip_and_convention():
    rng = np.random.default_rng(1)
    e = np.stack([rng.uniform(0, 2 * np.pi, 200), rng.uniform(-1.5, 1.5, 200), rng.uniform(-3.1, 3.1, 200)], 1)
    R = cam_mod.euler_to_matrix(e)

    def rx(a):
        return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])

    def ry(a):
        return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])

    def rz(a):
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])

    for k in range(5):
        assert np.allclose(R[k], rz(e[k, 2]) @ ry(e[k, 1]) @ rx(e[k, 0]))
    back = cam_mod.matrix_to_euler(R)
    assert np.allclose(back, e, atol=1e-9)
    assert np.allclose(cam_mod.euler_to_matrix(back), R, atol=1e-12)
    # frontal face: R = diag(1, -1, -1) -> (pi, 0, 0); in GL it is zero rotation
    assert np.allclose(cam_mod.matrix_to_euler(np.diag([1.0, -1.0, -1.0])), [np.pi, 0, 0])
    pose = np.concatenate([e, rng.normal(0, 10, (200, 3))], 1)
    gl = cam_mod.pose_to_gl(pose)
    assert np.allclose(cam_mod.euler_to_matrix(gl[:, :3]), np.diag([1.0, -1, -1]) @ R, atol=1e-9)
    assert np.allclose(gl[:, 3:], pose[:, 3:] * [1, -1, -1])
    assert np.allclose(cam_mod.pose_from_gl(gl), pose, atol=1e-9)


def test_focal_conversion():
    assert cam_mod.focal_mm_to_px(36.0, 1000) == pytest.approx(1000.0)
    assert cam_mod.focal_px_to_mm(cam_mod.focal_mm_to_px(50.0, 512), 512) == pytest.approx(50.0)
    cam = cam_mod.Camera.centered((640, 480))
    assert cam.principal == (320.0, 240.0) and cam.focal_mm == pytest.approx(cam_mod.DEFAULT_FOCAL_MM)


def test_projection_convention():
    """u = f x / z + cx for x_cam = R p + t."""
    p = np.array([[1.0, 2.0, 3.0]])
    idt = np.zeros((468, 3))
    idt[:] = p
    pose = np.array([[0.1, -0.2, 0.3, 1.0, -2.0, 50.0]])
    cam = cam_mod.Camera(800.0, (300.0, 200.0), (600, 400))
    uv = cam_mod.project(idt, np.zeros((1, 468, 3)), np.zeros((1, 1)), pose, cam)[0, 0]
    x = cam_mod.euler_to_matrix(pose[0, :3]) @ p[0] + pose[0, 3:]
    assert np.allclose(uv, [800 * x[0] / x[2] + 300, 800 * x[1] / x[2] + 200])


# ----------------------------------------------------------------------------- synthetic
def _synthetic(T=150, f_rel=1.2, Z=45.0, size=(512, 512), noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    names = EXPRESSION_NAMES
    tab = M.measure_table()
    topo = load_topology()
    idt = topo.mean_shape
    base = M.semantic_measures(idt[None], names)[0]
    ranges = np.stack([base, base + np.array([tab[n][3] * tab[n][4] for n in names])], 1)
    B = basis.expression_templates(idt, ranges, names)
    t = np.arange(T) / 30.0
    C = np.zeros((T, len(names)))
    for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft", "browInnerUp"):
        C[:, names.index(n)] = np.clip(np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * t + rng.uniform(0, 6)), 0, 1) ** 2
    eul = np.stack([np.pi + 0.2 * np.sin(0.7 * t), 0.5 * np.sin(0.5 * t + 1), 0.1 * np.sin(0.3 * t)], 1)
    tr = np.stack([6 * np.sin(0.4 * t), 3 * np.cos(0.3 * t), Z + 0.25 * Z * np.sin(0.2 * t)], 1)
    pose = np.concatenate([eul, tr], 1)
    cam = cam_mod.Camera.centered(size, f_rel * size[0])
    gaze = np.stack([0.3 * np.sin(t), 0.1 * np.cos(t), 0.3 * np.sin(t), 0.1 * np.cos(t)], 1)
    L = F.synthesize_landmarks(idt, B, C, pose, cam, gaze)
    L[..., :2] += rng.normal(0, noise, L[..., :2].shape)
    return L, pose, C, gaze, cam


def test_synthetic_recovery():
    L, pose, C, gaze, cam = _synthetic()
    tr = F.fit_track(L, cam.size, 30.0, focal_px=cam.focal_px)
    Rt = cam_mod.euler_to_matrix(pose[:, :3])
    Rf = cam_mod.euler_to_matrix(tr.pose[:, :3])
    ang = np.degrees(np.arccos(np.clip((np.trace(np.swapaxes(Rt, 1, 2) @ Rf, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    terr = np.linalg.norm(tr.pose[:, 3:] - pose[:, 3:], axis=1) / pose[:, 5]
    assert np.median(ang) < 1.0 and ang.max() < 2.5
    assert np.median(terr) < 0.02
    err = np.linalg.norm(tr.project() - L[:, :468, :2], axis=-1) / _iod(L)[:, None]
    assert np.median(err) < 0.01
    for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"):
        k = EXPRESSION_NAMES.index(n)
        assert np.corrcoef(tr.expression[:, k], C[:, k])[0, 1] > 0.98, n
    assert np.degrees(np.abs(tr.gaze - gaze)).mean() < 4.0
    blinks = [EXPRESSION_NAMES.index("eyeBlinkLeft"), EXPRESSION_NAMES.index("eyeBlinkRight")]
    assert np.allclose(tr.blink, tr.expression[:, blinks])


def test_focal_estimate_on_close_face():
    L, pose, C, gaze, cam = _synthetic(f_rel=0.9, Z=35.0, seed=3)
    f, info = F.estimate_focal(L, cam.size)
    assert not info["flat"]
    assert abs(f / cam.focal_px - 1) < 0.15


# ----------------------------------------------------------------------------- Track file
def _small_track():
    L, pose, C, gaze, cam = _synthetic(T=40)
    L[10:13] = np.nan
    return F.fit_track(L, cam.size, 25.0, focal_px=cam.focal_px, source="synthetic clip.mp4", source_frames=100)


def test_untracked_frames_stay_marked():
    tr = _small_track()
    assert not tr.tracked[10:13].any() and tr.tracked[:10].all() and tr.tracked[13:].all()
    for k in ("pose", "expression", "gaze", "blink", "fit_error"):
        assert np.isnan(getattr(tr, k)[10:13]).all(), k
        assert np.isfinite(getattr(tr, k)[tr.tracked]).all(), k
    assert np.isnan(tr.landmarks[10:13]).all()
    assert (tr.confidence[10:13] == 0).all() and (tr.confidence[tr.tracked] > 0.3).all()
    assert np.isnan(tr.project()[10:13]).all()
    assert tr.expression[tr.tracked].min() >= 0 and tr.expression[tr.tracked].max() <= 1


def test_track_round_trip_exact(tmp_path):
    tr = _small_track()
    path = tmp_path / "tråck with space.npz"
    tr.save(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind
    back = Track.load(path)
    a, b = tr.to_arrays(), back.to_arrays()
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
    with np.load(path, allow_pickle=False) as d:  # plain arrays, no pickles
        assert d["expression_names"].dtype.kind == "U" and d["source"].dtype.kind == "U"
    assert back.source == "synthetic clip.mp4" and back.source_frames == 100
    assert back.topology_checksum == load_topology().checksum


def test_track_subset_and_frames():
    tr = _small_track()
    assert np.array_equal(tr.frames(), np.arange(40))
    s = tr.subset(5, 20)
    assert s.frame_start == 5 and s.n_frames == 15 and np.array_equal(s.frames(), np.arange(5, 20))
    assert np.array_equal(s.pose, tr.pose[5:20], equal_nan=True)
    s.validate()
    s2 = s.subset(0, 8)  # clamped to the sub-track
    assert s2.frame_start == 5 and s2.n_frames == 3


def test_hidden_frames_of_a_track(tmp_path):
    """``Track.hidden`` (the share of the face a hand covers) survives a save, is sliced by
    ``subset``, and ``hidden_frames`` names the clip frames covering at least 2 %."""
    tr = _small_track()
    assert tr.hidden_frames() == []  # (not looked for)
    tr.hidden = np.where(tr.tracked, 0.0, np.nan).astype(np.float32)
    tr.hidden[[3, 4, 6]] = (0.3, 0.01, 0.05)
    tr.save(tmp_path / "t.npz")
    back = Track.load(tmp_path / "t.npz")
    assert back.hidden_frames() == [3, 6] and back.hidden_frames(rows=[4, 5, 6, 99]) == [6]
    sub = back.subset(5, 20)
    assert sub.hidden_frames() == [6] and len(sub.hidden) == 15


def _no_frames(t):
    from reenact.face.track import FIELDS

    for k, (shape, *_rest) in FIELDS.items():
        if shape and shape[0] == "T" and len(getattr(t, k)):
            setattr(t, k, np.asarray(getattr(t, k))[:0])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: setattr(t, "pose", t.pose[:, :5]), "pose has shape"),
        (lambda t: t.expression.__setitem__((0, 0), 1.5), "expression values"),
        (lambda t: t.pose.__setitem__((0, 0), np.nan), "pose must be finite"),
        (lambda t: t.pose.__setitem__((11, 0), 0.0), "pose must be NaN"),
        (lambda t: setattr(t, "fps", 0.0), "fps"),
        (lambda t: t.confidence.__setitem__(11, 0.5), "confidence must be 0"),
        (lambda t: setattr(t, "expression_names", t.expression_names.astype(object)), "unicode"),
        (lambda t: setattr(t, "format_version", 99), "format_version"),
        (lambda t: setattr(t, "hidden", np.full(t.n_frames, 1.5, np.float32)), "hidden must lie in 0..1"),
        (lambda t: setattr(t, "hidden", np.zeros(3, np.float32)), "hidden has shape"),
        (lambda t: t.landmarks_z.__setitem__((0, 5), np.nan), "landmarks_z must be finite"),  # (since 2026-12-05)
        (lambda t: t.landmarks_z.__setitem__((11, 5), 1.0), "landmarks_z must be NaN"),
        (lambda t: _no_frames(t), "holds no frames"),  # (before: "cannot reshape array of size 0")
    ],
)
def test_validate_errors(tmp_path, mutate, message):
    tr = _small_track()
    mutate(tr)
    with pytest.raises(ValueError) as ei:
        tr.validate(tmp_path / "bad.npz")
    msg = str(ei.value)
    assert msg.startswith("bad.npz: ") and message in msg and "\n" not in msg
    with pytest.raises(ValueError):
        tr.save(tmp_path / "bad.npz")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_load_errors(tmp_path):
    tr = _small_track()
    good = tmp_path / "good.npz"
    tr.save(good)
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:2000])
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    missing = tmp_path / "missing_key.npz"
    arr = tr.to_arrays()
    del arr["pose"]
    np.savez(missing, **arr)
    cases = ((trunc, "not a readable"), (empty, "not a readable"), (missing, "missing key"),
             (tmp_path / "nope.npz", "no such file"))
    for p, what in cases:
        with pytest.raises(ValueError) as ei:
            Track.load(p)
        assert str(ei.value).startswith(p.name + ": ") and what in str(ei.value)


def test_glitched_frames_get_no_confidence_and_do_not_spoil_the_fit():
    L, pose, C, gaze, cam = _synthetic(T=120, seed=5)
    rng = np.random.default_rng(0)
    L[30:33] = rng.uniform(0, 512, (3, 478, 3))  # garbage from a tracker failure
    L[60:62, :234, :2] += 40.0  # half the face shifted
    tr = F.fit_track(L, cam.size, 30.0, focal_px=cam.focal_px)
    tr.validate()
    bad = np.r_[30:33, 60:62]
    good = np.setdiff1d(np.arange(120), bad)
    assert tr.tracked.all()  # the tracker said tracked: kept, but flagged by confidence
    assert tr.confidence[bad].max() < 0.05 and tr.confidence[good].min() > 0.5
    err = np.linalg.norm(tr.project() - L[:, :468, :2], axis=-1) / _iod(L)[:, None]
    assert np.median(err[good]) < 0.01


def test_no_face_anywhere_gives_empty_track():
    L = np.full((5, 478, 3), np.nan)
    tr = F.fit_track(L, (64, 48), 24.0)
    tr.validate()
    assert not tr.tracked.any() and (tr.confidence == 0).all()


# ----------------------------------------------------------------------------- real footage
def test_carphone_targets():
    tr, seconds, L = _fit("carphone")
    tr.validate()
    _check_targets(tr, L, "carphone", seconds)
    ok = tr.tracked
    gap = _lip_gap(L)
    j = tr.expression_index("jawOpen")
    wide = ok & (gap > 0.35)
    rest = ok & (gap < 0.02)
    assert wide.sum() >= 5 and rest.sum() >= 3
    print("carphone wide-open frames {} jawOpen min {:.2f}; rest frames {} jawOpen max {:.2f}".format(
        np.flatnonzero(wide).tolist(), tr.expression[wide, j].min(),
        np.flatnonzero(rest).tolist(), tr.expression[rest, j].max()))
    assert tr.expression[wide, j].min() > 0.6
    assert tr.expression[rest, j].max() < 0.2


def test_carphone_basis_is_plausible():
    tr, _, _ = _fit("carphone")
    topo = load_topology()
    B = tr.expression_basis
    names = list(tr.expression_names)
    jaw = B[names.index("jawOpen")]
    lower = np.r_[152, 17, 14, 175, 199, 200]
    brows = np.r_[topo.groups["brow_left"], topo.groups["brow_right"]]
    assert jaw[lower, 1].mean() < -0.5  # chin and lower lip go down (cm)
    assert np.abs(jaw[brows]).max() < 0.1 * np.abs(jaw[lower, 1]).mean()
    blink = B[names.index("eyeBlinkLeft")]
    up_left = topo.groups["eye_left"][1:8]
    up_right = topo.groups["eye_right"][1:8]
    assert blink[up_left, 1].mean() < -0.2 and np.abs(blink[up_right]).max() < 1e-9
    smile = B[names.index("mouthSmileLeft")]
    assert smile[291, 1] > 0.1 and smile[291, 0] > 0.0  # the actor's left corner goes up and out
    brow = B[names.index("browInnerUp")]
    assert brow[[107, 336], 1].mean() > 0.1 and np.abs(brow[152]).max() < 1e-9
    # every basis vector stays local and bounded
    assert np.linalg.norm(B, axis=2).max() < 5.0


@pytest.mark.slow
@pytest.mark.parametrize("clip", SHARED_CLIPS)
def test_shared_clip_targets(clip):
    tr, seconds, L = _fit(clip)
    tr.validate()
    _check_targets(tr, L, clip, seconds)




def _timed(fn, *a):
    t0 = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t0


@pytest.mark.parametrize("exclude", [F.POSE_EXCLUDE, pytest.param((), marks=pytest.mark.xfail(strict=True))],
                         ids=["default", "all-points"])
def test_a_blink_does_not_nod_the_head(exclude):
    """The tracker moves the points round the eyes and brows further than the lids' own shape
    explains when an actor blinks (docs/tracking.md): here every point of the eye and brow
    regions also drops 2 mm at a full blink. The head's pose must not follow them; fitted to all
    468 points (the fit before, kept as the expected failure) it dropped ~2.8 mm and pitched."""
    L, pose, C, _, cam = _synthetic(T=200)
    blink = 0.5 * (C[:, EXPRESSION_NAMES.index("eyeBlinkLeft")] + C[:, EXPRESSION_NAMES.index("eyeBlinkRight")])
    topo = load_topology()
    upper = np.unique(np.concatenate([topo.groups[g] for g in (
        "region_eye_left", "region_eye_right", "region_brow_left", "region_brow_right")]))
    L[:, upper, 1] += (0.2 * blink * cam.focal_px / pose[:, 5])[:, None]  # image y is down
    tr = F.fit_track(L, cam.size, 30.0, focal_px=cam.focal_px, pose_exclude=exclude)
    drop = np.polyfit(blink, tr.pose[:, 4] - pose[:, 4], 1)[0]  # cm of head height per full blink
    pitch = np.degrees(np.polyfit(blink, tr.pose[:, 0] - pose[:, 0], 1)[0])
    print("head per full blink: {:.3f} cm, pitch {:.2f} deg".format(drop, pitch))
    assert abs(drop) < 0.08 and abs(pitch) < 0.3


@pytest.mark.parametrize("spread, own", [(0.03, False), (0.3, True)])
def test_a_jaw_the_footage_barely_opens_takes_the_template(spread, own):
    """The jawOpen basis follows the actor's data where the footage opens the mouth, and the
    template where it barely does (basis.RIDGE_OF): an actor whose small openings come with an
    upper-lip raise must not have that raise extrapolated tenfold by a wide dub (source_s20's
    pursed ring: docs/reenact-bench.md, *The quiet target's jaw*)."""
    topo = load_topology()
    names = list(EXPRESSION_NAMES)
    k = names.index("jawOpen")
    ident = topo.mean_shape.astype(np.float64)
    masks = basis.region_masks(names, topo)
    ranges = np.tile([0.0, 1.0], (len(names), 1))
    T = basis.expression_templates(ident, ranges, names, masks)
    data = T[k].copy()
    data[[0, 37, 267], 1] += 1.0  # the actor's own: the outer upper lip rises 1 cm per unit
    rng = np.random.default_rng(3)
    c = np.clip(rng.normal(0.05 + spread, spread, 400), 0, 1)
    C = np.zeros((len(c), len(names)))
    C[:, k] = c
    A = ident[None] + c[:, None, None] * data[None] + rng.normal(0, 0.01, (len(c),) + ident.shape)
    _, B = basis.regress_basis(A, C, masks, names=names, prior_basis=T)
    raise_ = float(B[k, 0, 1] - T[k, 0, 1])  # 1.0: the actor's, 0.0: the template's
    if own:
        assert raise_ > 0.85, raise_
    else:
        assert raise_ < 0.35, raise_


def test_a_grinner_s_jaw_does_not_widen_another_actor_s_mouth():
    """An actor who opens the mouth to grin: every opening comes with the corners pulled apart
    (here 1.5 cm per unit), and the smile coefficients move with jawOpen. jawOpen's sideways
    motion over the mouth stays the template's (basis.JAW_SIDEWAYS_FROM_TEMPLATE) and the smiles
    take the widening, so another actor's "o" (jawOpen with pucker, no smile) is not drawn as this
    actor's grin (docs/reenact-bench.md, *A pucker becomes a grin*); the actor's own grins are
    still fitted (opening + smiles = the data)."""
    topo = load_topology()
    names = list(EXPRESSION_NAMES)
    k, sl, sr = names.index("jawOpen"), names.index("mouthSmileLeft"), names.index("mouthSmileRight")
    ident = topo.mean_shape.astype(np.float64)
    masks = basis.region_masks(names, topo)
    ranges = np.tile([0.0, 1.0], (len(names), 1))
    T = basis.expression_templates(ident, ranges, names, masks)
    rng = np.random.default_rng(5)
    c = np.clip(rng.uniform(0.0, 0.6, 400), 0, 1)
    C = np.zeros((len(c), len(names)))
    C[:, k] = c
    C[:, sl] = C[:, sr] = np.clip(c * 0.8 + rng.normal(0, 0.02, len(c)), 0, 1)  # the grin comes with it
    wide = np.zeros_like(ident)
    wide[[61, 146, 91, 181, 84, 185, 40, 39, 78, 95, 88, 191, 80], 0] -= 0.75  # the corners pulled apart
    wide[[291, 375, 321, 405, 314, 409, 270, 269, 308, 324, 318, 415, 310], 0] += 0.75
    A = ident[None] + c[:, None, None] * (T[k] + wide)[None] + rng.normal(0, 0.01, (len(c),) + ident.shape)
    _, B = basis.regress_basis(A, C, masks, names=names, prior_basis=T)

    def widening(d):
        return float((d[291, 0] - d[61, 0]))

    assert abs(widening(B[k]) - widening(T[k])) < 0.05, widening(B[k])  # the jaw: the template's
    fitted = np.einsum("tk,kni->tni", C, B)[:, [61, 291], 0]
    truth = (c[:, None] * (T[k] + wide)[None, [61, 291], 0])
    assert np.abs(fitted - truth).max() < 0.25  # the grin itself: opening + smiles


def test_each_brow_measure_reads_its_own_brows():
    # browInnerUp's measure was a late-bound lambda that read the nose sneer's points (the names
    # it used were assigned again below it): raising the inner brows did not change it
    topo = load_topology()
    tab = M.measure_table()
    P = topo.mean_shape[None].copy()
    inner, nose = [336, 285, 107, 55], [358, 327, 294]
    for name, moved, other in (("browInnerUp", inner, nose), ("noseSneerLeft", [358, 327, 294], inner)):
        Q, R = P.copy(), P.copy()
        Q[0, moved, 1] += 0.5
        R[0, other, 1] += 0.5
        f = tab[name][1]
        assert abs(float(f(Q)[0] - f(P)[0])) > 0.2, name
        assert abs(float(f(R)[0] - f(P)[0])) < 1e-9, name


@pytest.mark.parametrize("clip", ["carphone", "driving_d20"])
def test_a_brow_template_moves_the_brow_not_the_eye(clip):
    # On d20's identity the Gaussian blend of browOuterUpLeft's handles lifted the outer eye
    # corner 0.45 cm for 0.48 at the brow: its measure (brow over eye corner) hardly moved, the
    # template was scaled 5x to the actor's range, and a driver's raised brows lifted d20's brows
    # and eyes by 2.3 cm. The brow templates now stop above the upper lid.
    topo = load_topology()
    eyes = np.r_[topo.groups["eye_left"], topo.groups["eye_right"]]
    for n, D, moved, want in _templates(clip, ("browInnerUp", "browDownLeft", "browDownRight", "browOuterUpLeft",
                                               "browOuterUpRight")):
        assert np.abs(D[eyes]).max() < 0.01, (n, np.abs(D[eyes]).max())
        # scaled to the actor's range, it moves the brow about as far as the range says
        assert 0.8 * abs(want) < abs(moved) < 1.2 * abs(want), (n, moved, want)
        assert np.linalg.norm(D, axis=1).max() < 1.5, n  # a brow, not a forehead, moves ~1 cm


def _templates(clip, which):
    """(name, template (468, 3) scaled to ``clip``'s fitted actor, its measure's change, the
    actor's range of that measure) for each name in ``which``."""
    tr, _, _ = _fit(clip)
    names = list(tr.expression_names)
    T = basis.expression_templates(tr.identity, tr.expression_range, names)
    tab = M.measure_table()
    for n in which:
        k = names.index(n)
        moved = float(tab[n][1]((tr.identity + T[k])[None])[0] - tab[n][1](tr.identity[None])[0])
        yield n, T[k], moved, float(tr.expression_range[k, 1] - tr.expression_range[k, 0])


@pytest.mark.parametrize("clip", ["carphone", "driving_d20"])
def test_a_squint_template_lifts_the_lower_lid_not_the_eye(clip):
    # The Gaussian blend of the squint's lower-lid handles lifted the eye's corners and upper lid
    # with it (d20: lower lid 0.63 cm, corners 0.47-0.58, upper lid 0.39): its measure (lower lid
    # over the corners) hardly moved, so the template was scaled 4-7x and moved the whole eye.
    topo = load_topology()
    for n, D, moved, want in _templates(clip, ("eyeSquintLeft", "eyeSquintRight")):
        eye = np.asarray(topo.groups["eye_" + n[len("eyeSquint"):].lower()])
        assert np.abs(D[[eye[0], eye[8]]]).max() < 0.01, n  # the corners stay
        assert np.abs(D[eye[1:8]]).max() < 0.06, n  # the upper lid nearly so
        assert D[eye[9:16], 1].mean() > 0.08, n  # the lower lid rises
        assert 0.8 * want < moved < 1.2 * want, (n, moved, want)


@pytest.mark.parametrize("clip", ["carphone", "driving_d11"])
def test_a_blink_moves_the_lids_not_the_brows(clip):
    # The eyes' coefficients were free over the whole eye region, which reaches into the brow: a
    # blink learnt from an actor who lowers her brows as she blinks moved d11's brows 17 px for
    # the lids' 21 px, and an animator's blink key lowered and blurred them (d19's left brow 23
    # px, his glasses rim bent with it). The eyes' basis vectors now stop below the brows.
    tr, _, _ = _fit(clip)
    topo = load_topology()
    names = list(tr.expression_names)
    B = np.asarray(tr.expression_basis, np.float64)
    for side in ("Left", "Right"):
        brow = np.asarray(topo.groups["brow_" + side.lower()])
        lids = np.asarray(topo.groups["eye_" + side.lower()])[1:8]
        for n in ("eyeBlink", "eyeWide", "eyeSquint"):
            D = np.linalg.norm(B[names.index(n + side)], axis=1)
            assert D[brow].max() < 1e-9, (n + side, D[brow].max())
        blink = np.linalg.norm(B[names.index("eyeBlink" + side)], axis=1)
        assert blink[lids].max() > 0.3, blink[lids].max()  # (cm: the upper lid comes down)
