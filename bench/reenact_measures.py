# SPDX-License-Identifier: GPL-3.0-or-later
"""Measures, clip survey, command-line driver and contact sheets of the cross-actor
reenactment benchmark (:mod:`bench.reenact`, docs/reenact-bench.md)."""

import glob
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

from reenact.face.camera import SENSOR_WIDTH_MM, euler_to_matrix, rotation_angle_deg
from reenact.face.topology import load_topology
from reenact.face.track import Track

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: ../shared/data beside the repository (override: --data DIR or $REENACT_BENCH_DATA)
DATA = os.environ.get("REENACT_BENCH_DATA") or os.path.join(os.path.dirname(ROOT), "shared", "data")
#: where the clips are (main() may point it elsewhere: --data)
PATHS = {"clips": os.path.join(DATA, "clips")}

#: clips the bundled base renderer was trained on (models/README.md): every shared clip but
#: driving_d14, plus carphone
BASE_TRAINED_ON = {"driving_d0", "driving_d3", "driving_d10", "driving_d11", "driving_d12", "driving_d13",
                   "driving_d18", "driving_d19", "driving_d20", "source_s13", "source_s20", "source_s29",
                   "source_s32"}

# MediaPipe landmark indices
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
EYE_L, EYE_R = (33, 133), (362, 263)


# ----------------------------------------------------------------------------- command line
def _env():
    env = dict(os.environ)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(ROOT)] + rest)
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


#: an animator's edit the benchmarks render where the footage's own performance would be copied
#: through untouched: this expression coefficient raised by EDIT_AMOUNT on every row (0..1)
EDIT_COEFF, EDIT_AMOUNT = "browInnerUp", 0.4


def brows_raised(track):
    """``track`` with :data:`EDIT_COEFF` raised by :data:`EDIT_AMOUNT` on every row, carrying its
    own rows as the footage's: a performance the render draws."""
    from reenact.face.transfer import _copy

    e = _copy(track)
    e.expression = np.array(e.expression, np.float64)
    k = [str(n) for n in e.expression_names].index(EDIT_COEFF)
    e.expression[:, k] = np.clip(e.expression[:, k] + EDIT_AMOUNT, 0.0, 1.0)
    return e.with_footage_rows(track)

def cli(args, log=None):
    """Run ``reenact ARGS``; returns (summary dict from the last stdout JSON line, wall seconds).
    Raises RuntimeError with the command's one-line error."""
    cmd = [sys.executable, "-m", "reenact"] + [str(a) for a in args]
    t = time.perf_counter()
    res, use = _run_measured(cmd)
    wall = time.perf_counter() - t
    cpu = use.ru_utime + use.ru_stime  # both cores, whatever the load
    if log is not None:
        log.append({"command": "reenact " + " ".join(_short(a) for a in args), "seconds": round(wall, 2),
                    "cpu_seconds": round(cpu, 2), "peak_memory_mb": round(use.ru_maxrss / 1024.0),
                    "rc": res.returncode})
    if res.returncode != 0:
        err = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        raise RuntimeError("reenact {} failed (exit {}): {}".format(args[0], res.returncode, err[-1] if err else "?"))
    out = [ln for ln in res.stdout.strip().splitlines() if ln.startswith("{")]
    summary = json.loads(out[-1]) if out else {}
    summary["bench_cpu_seconds"] = cpu
    summary["bench_peak_memory_mb"] = round(use.ru_maxrss / 1024.0)
    return summary, wall


def _run_measured(cmd):
    """(CompletedProcess with text stdout and stderr, the command's own resource usage: CPU
    seconds and its peak resident memory, ``ru_maxrss`` in KiB) of ``cmd`` run to its end."""
    import threading

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            cwd=os.path.dirname(ROOT))
    got = {}
    readers = [threading.Thread(target=lambda k, f: got.__setitem__(k, f.read()), args=(k, f), daemon=True)
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for th in readers:
        th.start()
    _pid, status, use = os.wait4(proc.pid, 0)
    for th in readers:
        th.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    return subprocess.CompletedProcess(cmd, proc.returncode, got.get("out", ""), got.get("err", "")), use


def _short(a):
    a = str(a)
    return os.path.basename(a) if os.sep in a else a


def cli_regions():
    """Regions ``reenact render --region`` accepts (from its help)."""
    res = subprocess.run([sys.executable, "-m", "reenact", "render", "--help"], capture_output=True, text=True,
                         env=_env(), cwd=os.path.dirname(ROOT))
    m = re.search(r"--region \{([^}]*)\}", res.stdout)
    return [s.strip() for s in m.group(1).split(",")] if m else []


# ----------------------------------------------------------------------------- tracks and measures


def load_track(path):
    return Track.load(path)


def focal_mm(track):
    """The focal length (mm, 36 mm sensor) of a Track: the result is re-tracked
    with the footage's own camera. The tracker estimates the focal length of every clip it
    tracks; on a rendered clip it estimated another one (source_s20: 667 px instead of the
    footage's 1960), and a head off the picture's centre then reads a different rotation for the
    same picture: the untouched rows of that re-track were 9.6 deg from the footage's own track.
    The request is posed in the footage's camera, so the result is read in it too. ``track``: a
    Track or its path."""
    t = load_track(track) if isinstance(track, (str, os.PathLike)) else track
    return float(t.focal_px) * SENSOR_WIDTH_MM / float(t.size[0])


def iod(P):
    """(T, N, 2) points -> (T,) inter-ocular distance (eye-corner midpoints)."""
    a = (P[:, EYE_L[0]] + P[:, EYE_L[1]]) / 2.0
    b = (P[:, EYE_R[0]] + P[:, EYE_R[1]]) / 2.0
    return np.linalg.norm(a - b, axis=-1)


def lip_gap(P):
    """(T, N, 2) -> (T,) inner-lip gap over the inter-ocular distance (NaN untracked)."""
    P = np.asarray(P, np.float64)
    return np.linalg.norm(P[:, UPPER_INNER_LIP] - P[:, LOWER_INNER_LIP], axis=-1) / iod(P)


def jaw(track):
    return np.asarray(track.expression, np.float64)[:, list(track.expression_names).index("jawOpen")]


def fit_line(req, got):
    """Pearson r and least-squares slope of ``got`` on ``req`` over finite pairs."""
    req, got = np.asarray(req, np.float64), np.asarray(got, np.float64)
    ok = np.isfinite(req) & np.isfinite(got)
    x, y = req[ok], got[ok]
    if len(x) < 3 or x.std() < 1e-9:
        return {"r": None, "slope": None, "n": int(len(x))}
    r = float(np.corrcoef(x, y)[0, 1]) if y.std() > 1e-12 else 0.0
    slope = float(np.polyfit(x, y, 1)[0])
    return {"r": round(r, 3), "slope": round(slope, 3), "n": int(len(x))}


def rotations(pose):
    """(T, 6) Track poses -> (T, 3, 3) rotations (XYZ Euler, docs/track-format.md)."""
    return euler_to_matrix(np.asarray(pose, np.float64)[:, :3])


def rot_angle_deg(Ra, Rb):
    return rotation_angle_deg(Ra, Rb)


def oval_index():
    """The face oval as a closed loop from the forehead (the topology's ``loop_face_oval``)."""
    g = np.asarray(load_topology().group("loop_face_oval"))
    return np.roll(g[::-1], 1)  # MediaPipe's FACEMESH_FACE_OVAL order: 10, 338, ...


def face_mask(shape, pts, erode=0):
    """Filled face-oval polygon (uint8 0/1) of (N, 2) oval points in an image of ``shape``."""
    import cv2

    m = np.zeros(shape[:2], np.uint8)
    if not np.isfinite(pts).all():
        return m
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    if erode > 0:
        m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    return m


def square_crop(img, pts, out, scale=1.25):
    """``out`` x ``out`` crop of ``img`` around the (N, 2) points' box, ``scale`` x its larger
    side, and the 2x3 crop <- image affine."""
    import cv2

    lo, hi = np.nanmin(pts, 0), np.nanmax(pts, 0)
    c = (lo + hi) / 2.0
    side = float(max(hi - lo)) * scale
    s = out / side
    A = np.array([[s, 0.0, out / 2.0 - s * c[0]], [0.0, s, out / 2.0 - s * c[1]]])
    return cv2.warpAffine(img, A, (out, out), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE), A


def psnr(a, b, mask=None):
    d = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2
    mse = d.mean() if mask is None else d[np.asarray(mask) > 0].mean()
    return float(10.0 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def ssim(a, b, mask=None):
    """Mean SSIM (Gaussian window sigma 1.5, per channel) over ``mask`` (or everywhere)."""
    import cv2

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def g(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = g(a), g(b)
    va, vb, cov = g(a * a) - mu_a ** 2, g(b * b) - mu_b ** 2, g(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + C1) * (2 * cov + C2)) / ((mu_a ** 2 + mu_b ** 2 + C1) * (va + vb + C2))
    m = m.mean(-1) if m.ndim == 3 else m
    return float(m.mean() if mask is None else m[np.asarray(mask) > 0].mean())


def laplacian_var(img, mask):
    import cv2

    g = cv2.cvtColor(np.asarray(img), cv2.COLOR_BGR2GRAY).astype(np.float64)
    lap = cv2.Laplacian(g, cv2.CV_64F, ksize=3)
    return float(lap[mask > 0].var())


class Frames:
    """Frames of a clip (the project's decoder, as the render path reads them) by index, BGR."""

    def __init__(self, video):
        from reenact.video import open_video

        self.video = video
        self.src = open_video(video)
        self.memo = {}

    def get(self, idx):
        """{i: frame} for the indices ``idx`` (decoded in one pass). The decoder gives RGB."""
        want = sorted(set(int(i) for i in idx) - set(self.memo))
        if want:
            for i, f in self.src.iter_frames(want[0], want[-1] + 1):
                if i in want:
                    self.memo[i] = np.ascontiguousarray(f[..., ::-1])
        return {int(i): self.memo[int(i)] for i in idx}

    def close(self):
        self.src.close()


def output_frames(folder, idx):
    """{i: frame} of the PNG folder a render wrote (sorted names = frame order), BGR."""
    import cv2

    names = sorted(glob.glob(os.path.join(folder, "*.png")))
    return {int(i): cv2.imread(names[int(i)], cv2.IMREAD_COLOR) for i in idx}


def clip_path(name):
    return os.path.join(PATHS["clips"], name + ".mp4")


def track_clip(name, work, log):
    path = os.path.join(work, "tracks", name + ".npz")
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cli(["track", clip_path(name), "--out", path], log)
    return path


def survey(names, work, log):
    """Per clip: lip gap / jawOpen percentiles, head-rotation spread, stillness, face size."""
    out = {}
    for n in names:
        try:
            tr = load_track(track_clip(n, work, log))
        except RuntimeError as exc:
            out[n] = {"error": str(exc)}
            continue
        L = np.asarray(tr.landmarks, np.float64)
        g = lip_gap(L)
        R = rotations(tr.pose)
        ok = np.asarray(tr.tracked, bool)
        rest = R[ok][len(R[ok]) // 2] if ok.any() else np.eye(3)
        turn = rot_angle_deg(R, rest[None])
        d = np.linalg.norm(np.diff(np.nanmean(L, 1), axis=0), axis=1) / np.nanmedian(iod(L))
        fh = np.nanmax(L[:, :, 1], 1) - np.nanmin(L[:, :, 1], 1)
        out[n] = {
            "frames": tr.n_frames, "size": [int(v) for v in tr.size], "fps": float(tr.fps),
            "tracked": round(float(ok.mean()), 3),
            "lip_gap_p50": _r(np.nanmedian(g)), "lip_gap_p99": _r(np.nanpercentile(g, 99)),
            "jawOpen_p99": _r(np.nanpercentile(jaw(tr), 99)),
            "head_turn_p95_deg": _r(np.nanpercentile(turn, 95), 1),
            "motion_iod_per_frame": _r(np.nanmedian(d), 4),
            "face_height_px": int(np.nanmedian(fh)),
            # calibration of case 1's measure: tracked-landmark lip gap against the fitted mesh's
            "lip_gap_landmarks_vs_mesh": fit_line(lip_gap(tr.project()), g),
            "seen_by_bundled_base": n in BASE_TRAINED_ON,
        }
    return out


def _r(x, n=3):
    return None if x is None or not np.isfinite(x) else round(float(x), n)


def survey_picks(s):
    good = {k: v for k, v in s.items() if "error" not in v and v["tracked"] >= 0.95 and v["frames"] >= 120}
    if not good:
        return {}
    return {
        "quietest_mouth": min(good, key=lambda k: good[k]["lip_gap_p99"]),
        "most_expressive_mouth": max(good, key=lambda k: good[k]["lip_gap_p99"]),
        "largest_head_turns": max(good, key=lambda k: good[k]["head_turn_p95_deg"]),
        "stillest": min(good, key=lambda k: good[k]["motion_iod_per_frame"]),
        "largest_face": max(good, key=lambda k: good[k]["face_height_px"]),
    }


def source_index(t, tgt, drv):
    """Driver frame that drives target frame ``t`` (transfer offset 0, frame-rate mapping)."""
    return int(round(t * float(drv.fps) / float(tgt.fps)))


def pick_window(tgt, drv, length, score):
    """Start of the ``length``-frame window of target frames (driven by existing driver frames)
    that maximises ``score(driver rows)``; deterministic (step 5)."""
    n = tgt.n_frames
    while n > 0 and source_index(n - 1, tgt, drv) >= drv.n_frames:
        n -= 1
    length = min(length, n)
    best, best_a = -np.inf, 0
    for a in range(0, n - length + 1, 5):
        rows = [source_index(t, tgt, drv) for t in range(a, a + length)]
        s = score(rows)
        if np.isfinite(s) and s > best:
            best, best_a = s, a
    return best_a, best_a + length


def cv2_warp(img, A, out, border=None):
    """``img`` by the 2x3 ``A`` into an ``out`` x ``out`` crop; beyond the image: its edge
    repeated, or the constant ``border``."""
    import cv2

    if border is None:
        return cv2.warpAffine(img, A, (out, out), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(img, A, (out, out), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(border, border, border))


def edited_performance(Tp, path):
    """Cases 4 and 5 render an animator's edit of the clip's own performance (the Track at
    ``Tp``, :func:`brows_raised`), written to ``path``: the performance exactly as tracked is
    copied through by the render (nothing to draw), so it would measure nothing."""
    brows_raised(load_track(Tp)).save(path)
    return path


def _flicker(frames, LL, rows, lower=True):
    """Mean over consecutive ``rows`` of the occlusion-masked warping error (Lai et al.: frame
    t-1 warped to t by DIS flow of the same frames) inside the face oval of landmarks ``LL``
    (below the subnasale when ``lower``)."""
    from reenact.restyle.metrics import flows_with_occlusion, warping_error

    f = [np.asarray(frames[int(t)], np.float32) / 255.0 for t in rows]
    flows = flows_with_occlusion(f)
    out = []
    for k in range(1, len(rows)):
        t = int(rows[k])
        if not np.isfinite(LL[t]).all():
            continue
        m = face_mask(f[k].shape, LL[t, oval_index()], erode=4).astype(np.float32)
        if lower:
            m[:int(LL[t, 2, 1])] = 0  # below the subnasale
        fb, ok = flows[k - 1]
        out.append(warping_error([f[k - 1], f[k]], [(fb, ok * m)]))
    return float(np.mean(out))


def lower_face_flicker(orig_frames, result_frames, rows, L, L_result=None, lower=True, driver=None, yardsticks=None):
    """How much a dub's lower face flickers: the warping error (:func:`_flicker`: frame t-1
    warped to frame t by DIS flow computed on the same clip, forward-backward occlusion check,
    mean squared difference) inside the footage's face oval below the nose, of the result (its
    own flow) over the footage's (its own flow), over consecutive ``rows``. Motion the flow
    follows costs nothing; texture that changes from frame to frame (a mouth drawn from another
    moment of the shot each frame, a network's noise) does. 1: as steady as the footage. ``L_result``: the
    result's own landmarks for its mask (a moved head; default ``L``); ``lower=False``: the whole
    face oval. Returns (that figure, the result's over the *driver's* own footage or None):
    ``driver`` = (driver clip name, its Track, the target's Track): the driver frames that drive
    ``rows`` (each once, in order; a frame-rate change repeats some) with the driver's landmarks.
    A dub makes a still target's mouth move as the driver's, and a moved head turns as the
    driver's, so the still footage is no yardstick there: 1 against the driver is as steady as the
    real performance the result copies (docs/reenact-bench.md, *What the flicker figures compare
    with*). ``yardsticks``: :func:`flicker_yardsticks` of the same arguments, when the caller has them
    (several results of one shot measured against the same footage and driver)."""
    mine = _flicker(result_frames, L if L_result is None else L_result, rows, lower)
    own, drv = flicker_yardsticks(orig_frames, rows, L, lower, driver) if yardsticks is None else yardsticks
    return _r(mine / max(own, 1e-12), 3), (None if drv is None else _r(mine / max(drv, 1e-12), 3))


def flicker_yardsticks(orig_frames, rows, L, lower=True, driver=None):
    """(the footage's warping error, the driver's or None) that :func:`lower_face_flicker`
    divides a result's by."""
    drv_err = None
    if driver is not None:
        name, drv, tgt = driver
        d_rows = sorted({source_index(int(t), tgt, drv) for t in rows})
        F = Frames(clip_path(name))
        try:
            d_frames = F.get(d_rows)
        finally:
            F.close()
        drv_err = _flicker(d_frames, np.asarray(drv.landmarks, np.float64), d_rows, lower)
    return _flicker(orig_frames, L, rows, lower), drv_err


#: the outer lip contour of the face mesh
OUTER_LIP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]


def frames_and_faces(clip, out, rows, tr):
    """The footage's and the result's frames of ``rows``, the face-oval indices, the landmarks."""
    F = Frames(clip_path(clip))
    orig = F.get(rows)
    F.close()
    return orig, output_frames(out, rows), oval_index(), np.asarray(tr.landmarks, np.float64)


def lower_face_sharpness(clip, out, rows, tr, step=5, exclude=None):
    """Variance of the Laplacian in the lower face (the face oval below the nose, where a dub
    changes the picture), result / the target's footage, at the footage's pixels, over every
    ``step``-th row: the sharpness a compositor sees in a dub, where the footage's own detail
    cannot simply be passed through. ``exclude``: (T, 468, 2) requested mesh points; then the
    lips and the mouth (the footage's and the requested, grown by a fifth of the mouth's width)
    are left out, so that teeth drawn into an opened mouth do not count as detail: the skin's
    sharpness alone."""
    import cv2

    rows = np.asarray(rows)[::step]
    orig, res_f, oval, L = frames_and_faces(clip, out, rows, tr)
    vo, vr = [], []
    for t in rows:
        m = face_mask(orig[int(t)].shape, L[t, oval], erode=4)
        m[:int(L[t, 2, 1])] = 0  # below the subnasale
        if exclude is not None:
            lips = np.concatenate([L[t, OUTER_LIP, :2], np.asarray(exclude[t])[OUTER_LIP]])
            if np.isfinite(lips).all():
                hull = cv2.convexHull(np.round(lips).astype(np.int32))
                w = float(np.ptp(lips[:, 0]))
                grow = max(1, int(round(0.2 * w)))
                lm = cv2.dilate(face_mask(m.shape, hull[:, 0]), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
                m[lm > 0] = 0
        vo.append(laplacian_var(orig[int(t)], m))
        vr.append(laplacian_var(res_f[int(t)], m))
    return _r(np.mean(vr) / max(np.mean(vo), 1e-9), 3)


def background_change(orig, result, rows, P0, P1):
    """Per row, the mean absolute change (0-255, mean of the channels) of the background beside
    the head: a band 0.5 face heights wide around both heads (the original and the requested
    one, each its face oval grown by 60 %, a hair cap of 40 % and a neck of 0.8 face heights),
    where a head that turns should leave the room as it is. NaN for untracked rows."""
    import cv2

    from reenact.render.head import head_mask

    out = []
    for k, t in enumerate(rows):
        a, b = orig[int(t)], result[int(t)]
        if not (np.isfinite(P0[k]).all() and np.isfinite(P1[k]).all()):
            out.append(np.nan)
            continue
        u = head_mask(P0[k], a.shape, 0.6, 0.4, 0.8) | head_mask(P1[k], a.shape, 0.6, 0.4, 0.8)
        r = max(1, int(round(0.5 * float(np.ptp(P0[k][:, 1])))))
        band = (cv2.dilate(u.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
                > 0) & ~u
        d = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(-1)
        out.append(float(d[band].mean()) if band.any() else np.nan)
    return np.asarray(out, np.float64)


def opening_and_lips(shape, P, grow):
    """((H, W) bool inside the inner-lip contour of the (468, 2) points ``P``, shrunk by ``grow``
    px; (H, W) bool the lips: inside the outer contour's hull and beyond the inner grown by ``grow``)."""
    import cv2

    from reenact.render.donor import INNER_LIP, OUTER_LIP

    inner = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(P[list(INNER_LIP)]).astype(np.int32)], 1)
    outer = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(outer, cv2.convexHull(np.round(P[list(OUTER_LIP)]).astype(np.int32)), 1)
    k = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    return cv2.erode(inner, k) > 0, (outer > 0) & ~(cv2.dilate(inner, k) > 0)


def lips_in_the_opening(frames, P, rows, opening, min_opening=0.08):
    """How much of an opened mouth is drawn as lips: per row of ``rows`` whose mouth is open
    (``opening``: inner-lip gap over the eye-corner distance, >= ``min_opening``), the fraction
    of the pixels inside the inner-lip contour of ``P`` ((T, 468, 2) pixels: the mouth drawn
    there) whose colour lies within 3 standard deviations (Mahalanobis, CIELAB) of the colours
    of the lips around it, in ``frames`` ({row: BGR uint8}). A warp that stretched closed lips
    over the opening scores high; teeth, tongue and a dark interior score low (the footage's own
    open mouths: 0.1-0.2). (The mean colour alone could not tell them apart: teeth and dark gaps
    average to a lip-like colour.) Returns the fractions."""
    import cv2

    out = []
    for t in rows:
        t = int(t)
        if not opening[t] >= min_opening or not np.isfinite(P[t]).all():
            continue
        im = frames[t]
        core, lips = opening_and_lips(im.shape, P[t], max(1, int(0.04 * np.hypot(*(P[t][291] - P[t][61])))))
        if core.sum() < 20 or lips.sum() < 20:
            continue
        lab = cv2.cvtColor(im, cv2.COLOR_BGR2LAB).astype(np.float64) * np.array([100.0 / 255.0, 1.0, 1.0])
        mu, C = lab[lips].mean(0), np.cov(lab[lips].T) + np.eye(3)
        d = lab[core] - mu
        out.append(float((np.einsum("ij,jk,ik->i", d, np.linalg.inv(C), d) < 9.0).mean()))
    return np.asarray(out)


def outline_motion(orig, res_frames, rows, q0, disp):
    """How much of the head's outline moved with the head: per row, DIS flow from the footage
    (``orig``, {row: BGR}) to the result at the outline points ``q0`` ((R, K, 2), the footage's)
    that the request moves by ``disp`` ((R, K, 2)) 2 px or more; a point moved when the flow is
    within half its requested displacement of it. Returns (moved, counted, displacement realised
    along the requested one, per point)."""
    import cv2

    a = int(rows[0])
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    moved, counted, along = 0, 0, []
    H, W = orig[a].shape[:2]
    for k, t in enumerate(rows):
        dk = disp[k]
        mag = np.linalg.norm(dk, axis=1)
        sel = (mag >= 2.0) & np.isfinite(q0[k]).all(1) & (q0[k, :, 0] >= 0) & (q0[k, :, 0] < W - 1) \
            & (q0[k, :, 1] >= 0) & (q0[k, :, 1] < H - 1)
        if not sel.any():
            continue
        g0 = cv2.cvtColor(orig[int(t)], cv2.COLOR_BGR2GRAY)
        g1 = cv2.cvtColor(res_frames[int(t)], cv2.COLOR_BGR2GRAY)
        flow = dis.calc(g0, g1, None)
        p = np.round(q0[k, sel]).astype(int)
        f = flow[p[:, 1], p[:, 0]].astype(np.float64)
        moved += int((np.linalg.norm(f - dk[sel], axis=1) <= 0.5 * mag[sel]).sum())
        counted += int(sel.sum())
        along.extend(list((f * dk[sel]).sum(1) / mag[sel] ** 2))
    return moved, counted, along


def gaze_error_deg(a, b, pose_a=None, pose_b=None):
    """(T,) angle in degrees between the gazes ``a`` and ``b`` ((T, 4) yaw/pitch of both eyes, a
    Track's ``gaze``), the mean of the two eyes (NaN where either is missing). A Track's gaze is
    in the head's frame; with the Tracks' poses ((T, 6) each) the directions are compared in the
    camera's, where the eyes look in the picture (a head re-tracked a few degrees off otherwise
    moves the eyes' reading by as much)."""
    from reenact.face.gaze import gaze_to_directions

    da, db = gaze_to_directions(a), gaze_to_directions(b)
    if pose_a is not None and pose_b is not None:
        da, db = np.einsum("tij,tej->tei", rotations(pose_a), da), np.einsum("tij,tej->tei", rotations(pose_b), db)
    cos = np.clip((da * db).sum(-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos)).mean(-1)


def write_report(path, report):
    """``report`` as JSON at ``path`` (complete or not at all: fsutil.write_bytes), announced."""
    from reenact.fsutil import write_bytes

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_bytes(path, json.dumps(report, indent=1, sort_keys=True).encode())
    print("wrote " + path)


def motion_realised(req, got, tgt, rows):
    """Case 2: how much of the requested head motion the result shows, in the picture and in the
    re-tracked pose. (share of the requested 2-D mesh motion, footage -> request, that the
    result's detected landmarks make; the same for the re-fitted mesh's projection; median over
    rows turned by more than 2 degrees of the re-tracked rotation away from the footage's over
    the requested one's). The first two near 1 with the third well under it means the picture
    moves as asked and the re-tracker explains part of the motion otherwise (expression,
    translation): its rotation error then measures the tracker as much as the render."""
    rows = np.asarray(rows)
    Pq, Pg, Pt = (np.asarray(t.project(), np.float64)[rows] for t in (req, got, tgt))
    Lt = np.asarray(tgt.landmarks, np.float64)[rows][:, :Pq.shape[1], :2]
    Lg = np.asarray(got.landmarks, np.float64)[rows][:, :Pq.shape[1], :2]
    want = Pq - Pt
    ok = np.isfinite(want).all((1, 2)) & np.isfinite(Lg).all((1, 2)) & np.isfinite(Lt).all((1, 2))
    den = float((want[ok] ** 2).sum())
    if not ok.any() or den <= 0:
        return None, None, None
    share_lm = float(((Lg - Lt)[ok] * want[ok]).sum() / den)
    share_mesh = float(((Pg - Pt)[ok] * want[ok]).sum() / den)
    Rq, Rg, Rt = (rotations(t.pose)[rows] for t in (req, got, tgt))
    asked, read = rot_angle_deg(Rq, Rt), rot_angle_deg(Rg, Rt)
    turned = np.isfinite(asked) & np.isfinite(read) & (asked > 2.0)
    return share_lm, share_mesh, (float(np.median(read[turned] / asked[turned])) if turned.any() else None)
