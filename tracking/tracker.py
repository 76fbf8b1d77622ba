# SPDX-License-Identifier: GPL-3.0-or-later
"""Video tracking: decode -> face mesh per frame (ROI from the previous frame, re-detection when
a face is lost) -> stable actor identities -> zero-phase One Euro smoothing -> face fit -> one
Track per actor. No bpy; used by the CLI (``reenact track``) and the Track Actor operator.

Untracked frames stay marked (NaN landmarks, ``tracked = False``, confidence 0); they are never
interpolated.
"""

import os
import time
import warnings

import cv2
import numpy as np

from ..errors import ReenactError
from ..face.camera import focal_mm_to_px
from ..face.fit import fit_track
from ..face.topology import load_topology
from ..progress import Cancelled, null_progress
from ..video.decode import open_sequence_at
from ..video.identity import digest_of
from ..video.probe import footage_warnings
from .facemesh import FaceMesh
from .hands import HAND_GAP_S, HandFinder, HandRows, hidden_by_hands
from .smoothing import OneEuroParams, segments, smooth_landmarks
from .steps import face_steps
from ..video.cuts import CutFinder



NUM_POINTS = 478
#: a face whose inter-ocular distance is below this (pixels) is too small to track reliably
MIN_IOD_PX = 8.0
#: tracked runs shorter than this (seconds, and at least 3 frames) are dropped as spurious
#: detections: on real footage without faces the landmark model can "see" a face for a frame
#: or two, while a real face is on screen far longer than this.
MIN_SEGMENT_SECONDS = 0.15


class TrackingError(ReenactError):
    """No usable face: a one-line message naming the file."""


def _label(source):
    if isinstance(source, (list, tuple)):
        return os.path.dirname(os.fspath(source[0])) if source else "<empty list>"
    return os.fspath(source)


def _roi_center_size(roi):
    return np.array([roi[0], roi[1]]), float(max(roi[2], roi[3]))


class _Slots:
    """Assign the faces of each frame to actor slots by proximity to where each actor was last
    seen, so an actor keeps its identity when faces cross, leave and come back. A face far from
    every actor takes the slot of the one gone longest only at a new shot or once that actor has
    been gone ``min_gone`` frames (about a second): before 2026-12-05 it took it at once, so in a
    two-shot an actor lost for a frame or two (a turn, a hand) was replaced by the other person,
    and one Track held two faces."""

    def __init__(self, max_faces, min_gone=25):
        self.max_faces = max_faces
        self.min_gone = int(min_gone)
        self.last = [None] * max_faces  # (center, size, frame)

    def assign(self, rois, t, new_shot=False):
        n = len(rois)
        out = [-1] * n
        if n == 0:
            return out
        cs = [_roi_center_size(r) for r in rois]
        pairs = []
        for i, (c, s) in enumerate(cs):
            for k, last in enumerate(self.last):
                if last is None:
                    continue
                lc, ls, lt = last
                d = np.linalg.norm(c - lc) / max(s, ls, 1.0)
                pairs.append((d + 0.01 * (t - lt), i, k))
        used_i, used_k = set(), set()
        for d, i, k in sorted(pairs):
            if i in used_i or k in used_k or d > 1.5:
                continue
            out[i] = k
            used_i.add(i)
            used_k.add(k)
        for i in range(n):
            if out[i] >= 0:
                continue
            free = [k for k in range(self.max_faces) if k not in used_k and self.last[k] is None]
            if not free:  # an actor that has been gone longest takes the new face (at a new shot, or gone a while)
                free = sorted((k for k in range(self.max_faces) if k not in used_k
                               and (new_shot or t - self.last[k][2] >= self.min_gone)), key=lambda k: self.last[k][2])
            if free:
                out[i] = free[0]
                used_k.add(free[0])
        for i, k in enumerate(out):
            if k >= 0:
                self.last[k] = (cs[i][0], cs[i][1], t)
        return out


def track_landmarks(source, max_faces=1, frames=None, progress=null_progress, facemesh=None,
                    allow_gaps=True, stats=None, small_faces=False, hands=True, fps=None):
    """Raw landmarks of every frame: returns (landmarks (A, T, 478, 3) NaN where untracked,
    presence (A, T), video info dict). ``frames``: (start, stop) clip indices to track.
    ``hands``: hands before each face are looked for too (info ``"hands"``: (A, T, MAX_HANDS,
    21, 2) image pixels, NaN where none; :class:`~reenact.tracking.hands.HandRows`; None without)."""
    label = _label(source)
    t_start = time.perf_counter()
    src = open_sequence_at(source, fps, allow_gaps=allow_gaps)  # (images have no rate of their own: the one given)
    try:
        n_total = src.frame_count
        a, b = (0, n_total) if frames is None else (max(0, int(frames[0])), min(n_total, int(frames[1])))
        if b <= a:
            raise TrackingError("{}: no frames to track in range {}:{} (clip has {} frames)".format(
                label, a, b, n_total))
        T = b - a
        fm = facemesh or FaceMesh(max_faces=max_faces, redetect_interval=1 if max_faces == 1 else 5,
                                  tile_detection=small_faces)
        lms = np.full((max_faces, T, NUM_POINTS, 3), np.nan, np.float32)
        presence = np.zeros((max_faces, T), np.float32)
        slots = _Slots(max_faces, min_gone=max(1, int(round(float(src.fps)))))
        missing_rows = []
        timer = {"decode": 0.0}
        blank = None
        cuts = CutFinder()  # where one shot ends and the next begins (never smoothed across)
        light = np.full((max_faces, T), np.nan, np.float32)
        white = np.full((max_faces, T), np.nan, np.float32)
        greys = {}  # row -> the frame small and grey, and grey for the eyes, until its faces are found
        shot = {"new": False}  # the frame just read begins a shot: its faces found afresh
        new_shot = np.zeros(T, bool)  # (per row: it begins a shot, as the cut finder saw it then)
        finder = HandFinder() if hands else None
        shot_ids = np.zeros(T, np.int64)  # (the shot of each row so far, shared by the actors' hand rows)
        hand_rows = [HandRows(shot_ids, src.fps, HAND_STRIDE) for _ in range(max_faces)] if hands else []
        recent = {}  # row -> its frame, the last HAND_GAP_S of them (a hand found is followed back)
        keep = int(np.ceil(HAND_GAP_S * float(src.fps))) + 1
        # (the hands are looked for on the frames as kept, which may be smaller than the footage:
        # the face's points are scaled to them and the hands found scaled back once, at the end)
        kept = {"scale": 1.0}

        def frames_in():
            # Missing images of a sequence become blank frames (no face: the tracker re-detects
            # after them) and are marked untracked below.
            nonlocal blank
            t0 = time.perf_counter()
            for j, (idx, frame) in enumerate(src.iter_frames(a, b)):
                shot["new"] = new_shot[j] = cuts.add(frame)
                if frame is None:
                    if blank is None:
                        blank = np.zeros((src.size[1], src.size[0], 3), np.uint8)
                    missing_rows.append(j)
                    frame = blank
                else:
                    greys[j] = small_grey(frame), eye_grey(frame)
                    if finder is not None:
                        recent[j] = _kept_small(frame)
                        kept["scale"] = recent[j].shape[1] / float(frame.shape[1])
                timer["decode"] += time.perf_counter() - t0
                yield frame
                t0 = time.perf_counter()

        t_loop = time.perf_counter()
        for j, res in enumerate(fm.track(frames_in(), new_shot=lambda: shot["new"])):
            grey, egrey = greys.pop(j, (None, None))
            shot_ids[j] = shot_ids[j - 1] + int(bool(new_shot[j])) if j else 0
            for i, k in enumerate(slots.assign(res.rois, j, new_shot=bool(new_shot[j]))):
                if k >= 0:
                    lms[k, j] = res.landmarks[i]
                    presence[k, j] = res.presence[i]
                    if grey is not None:
                        light[k, j] = face_light(grey, res.landmarks[i])
                        white[k, j] = eye_white(egrey, res.landmarks[i])
                        if finder is not None:
                            hr = hand_rows[k]
                            hr.look(finder, recent[j], res.landmarks[i][:468, :2] * kept["scale"], j, recent.get)
                            hr.follow_back(finder, recent.get, j, hr.searched)
            for r in [r for r in recent if r <= j - keep]:
                del recent[r]
            if not progress(j + 1, T, "frame {} ({} of {})".format(a + j, j + 1, T)):
                raise Cancelled()
        lms[:, missing_rows] = np.nan
        # (a flash's light is no face's, nor a dissolve's blended frame's: never a source, shotframes.other_shot)
        no_face = np.union1d(cuts.flashes(), cuts.blends()).astype(np.int64)
        light[:, no_face] = np.nan
        white[:, no_face] = np.nan
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (an actor never seen: all NaN)
            white /= np.nanmedian(white, axis=1, keepdims=True)  # each actor's own usual share
        white = steady(white, cuts.starts())
        blend = dissolve_shares(lms, cuts.mixes())
        starts = np.zeros(T, np.int64)
        starts[np.asarray(cuts.starts(), np.int64)] = 1
        for k, hr in enumerate(hand_rows):  # (hands carried through short gaps, and a glimpse dropped)
            hr.shot = np.cumsum(starts)
            rows = hr.searched & np.isfinite(lms[k, :, 0, 0])
            hr.bridge(rows)
            hr.confirm(rows)
        presence[:, missing_rows] = 0.0
        t_decode = timer["decode"]
        t_mesh = time.perf_counter() - t_loop - t_decode
        info = {
            "path": label,
            "fps": float(src.fps),
            "size": (int(src.size[0]), int(src.size[1])) if hasattr(src, "size") else (src.width, src.height),
            "frame_count": int(n_total),
            "frame_start": a,
            "provider": fm.provider,
            "missing_frames": [int(m) for m in getattr(src, "missing", [])],
            "shot_starts": cuts.starts(),  # rows (of those tracked) that begin a shot after a cut
            "blends": cuts.blends(),  # rows blending two shots in a short dissolve (no source)
            "light": light,  # (A, T) the light on each face (a fade takes it to 0; NaN on a flash, a blend)
            "blend": blend,  # (A, T) the share of a dissolve's frame each face's shot has (NaN: no dissolve)
            "eye_white": white,  # (A, T) how much of the eyes' whites shows, over each face's median
            # (A, T, MAX_HANDS, 21, 2) footage pixels
            "hands": np.stack([hr.hands for hr in hand_rows]) / np.float32(kept["scale"]) if hands else None,
            "digest": digest_of(src),  # what identifies the footage (a few frames, read again)
            # anamorphic or interlaced footage (read as stored): the lines saying so, without the path
            "footage_warnings": footage_warnings(src, named=False),
        }
    finally:
        src.close()
    if stats is not None:
        stats.update(decode_s=t_decode, facemesh_s=t_mesh, frames=T,
                     total_s=time.perf_counter() - t_start)
    return lms, presence, info


#: rows without a hand before the face are looked at for palms one in this many (a hand found is
#: followed back over the rows between)
HAND_STRIDE = 4
#: the frames hands are looked for on, and kept to follow a hand back onto, are at most this many
#: pixels on their longer side (14 frames of 4K footage would hold 350 MB; a hand near a face is
#: hundreds of pixels there)
FOLLOW_SIDE = 1280


def _kept_small(frame):
    """``frame`` as hands are looked for on it and kept to follow a hand back onto it: at most
    :data:`FOLLOW_SIDE` a side."""
    h, w = frame.shape[:2]
    if max(h, w) <= FOLLOW_SIDE:
        return frame
    s = FOLLOW_SIDE / float(max(h, w))
    return cv2.resize(frame, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_AREA)


#: :func:`small_grey`'s longer side (px)
LIGHT_SIDE = 160


def small_grey(frame):
    """(grey image of every step-th pixel of an RGB uint8 ``frame`` (what every source gives the
    tracker), at most :data:`LIGHT_SIDE` px on its longer side, its scale 1 / step): what
    :func:`face_light` reads; a median over the face does not need the pixels averaged (~0.2 ms a
    frame at any size)."""
    step = max(1, -(-max(frame.shape[:2]) // LIGHT_SIDE))
    return cv2.cvtColor(np.ascontiguousarray(frame[::step, ::step]), cv2.COLOR_RGB2GRAY), 1.0 / step


def dissolve_shares(lms, mixes):
    """(A, T) float32: in each row of a dissolve (``mixes``: :meth:`~reenact.video.cuts.CutFinder.mixes`)
    the share of the frame that the shot of each tracked face (``lms`` (A, T, L, >=2)) has: the
    earlier shot's when the face lies nearer the face tracked just before the dissolve than the
    one just after it, else the later shot's; NaN elsewhere and where a face is missing."""
    out = np.full(lms.shape[:2], np.nan, np.float32)
    for j, (later, before, after) in mixes.items():
        for k in range(lms.shape[0]):
            here, a, b = (lms[k, r, :, :2].astype(np.float64) for r in (j, before, after))
            if np.isfinite(here).all() and np.isfinite(a).all() and np.isfinite(b).all():
                near_a = np.linalg.norm(here - a, axis=1).mean() <= np.linalg.norm(here - b, axis=1).mean()
                out[k, j] = 1.0 - later if near_a else later
    return out


#: :func:`eye_grey`'s longer side (px): the eyes read on it (a 56 px eye of the 512 px shared
#: clips keeps its size; a 4K frame is read at every 4th pixel)
EYE_SIDE = 1024
#: the eye openings' loops (upper lid then lower lid, corner to corner) and the irises' centre and
#: ring (the tracker's refined eye and iris landmarks), per eye
_EYES = (((33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7), 468, (469, 470, 471, 472)),
         ((263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249), 473,
          (474, 475, 476, 477)))


#: :func:`steady`'s window (rows each side): a lid lowered over a look lasts longer than this
WHITE_STEADY = 2


def steady(values, starts):
    """(A, T) ``values`` as the median of the :data:`WHITE_STEADY` rows each side within each shot
    (``starts``: rows that begin a shot), NaN left out: a frame's reading of the eyes' whites moves
    with the landmarks' jitter, and the eyes of a moved head chosen by it jumped from frame to frame."""
    A, T = values.shape
    out = np.full_like(values, np.nan)
    edges = np.unique(np.concatenate([[0], np.asarray(starts, np.int64), [T]]))
    k = WHITE_STEADY
    for a, b in zip(edges[:-1], edges[1:]):
        seg = values[:, a:b]
        n = b - a
        pad = np.full((A, n + 2 * k), np.nan, values.dtype)
        pad[:, k:k + n] = seg
        win = np.stack([pad[:, i:i + n] for i in range(2 * k + 1)], -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (a window of NaN only)
            out[:, a:b] = np.nanmedian(win, -1)
        out[:, a:b][np.isnan(seg)] = np.nan  # (not where the row itself has none)
    return out


def eye_grey(frame):
    """(grey image of every step-th pixel of an RGB uint8 ``frame``, at most :data:`EYE_SIDE` px on its
    longer side, its scale 1 / step): what :func:`eye_white` reads."""
    step = max(1, -(-max(frame.shape[:2]) // EYE_SIDE))
    return cv2.cvtColor(np.ascontiguousarray(frame[::step, ::step]), cv2.COLOR_RGB2GRAY), 1.0 / step


def eye_white(grey, points):
    """How much of the eyes' whites shows: the mean grey level of the eye openings outside the
    irises over that of the skin just below them (both eyes' pixels together; ``grey``:
    :func:`eye_grey` of the frame, ``points`` (478, >=2) landmarks in the frame's pixels). A lid
    lowered over a downward look, its lashes' shade over the white, reads low (d14's half-shut
    looks 0.59-0.63, her open eyes 0.75-1.06) where the lid landmarks hardly move (they run along
    the lashes; a blink, its lashes' line, reads low too). NaN where an opening shows fewer than 6
    pixels beside its iris or the landmarks lack the irises."""
    g, s = grey
    P = np.asarray(points, np.float64)
    if len(P) < 478 or not np.isfinite(P[:478, :2]).all():
        return float("nan")
    open_sum = open_n = skin_sum = skin_n = 0.0
    H, W = g.shape
    for loop, centre, ring in _EYES:
        poly, c = P[list(loop), :2] * s, P[centre, :2] * s
        r = float(np.mean(np.linalg.norm(P[list(ring), :2] * s - c, axis=1)))
        x0, y0 = np.floor(np.minimum(poly.min(0), c - r) - 1).astype(int)
        x1, y1 = np.ceil(np.maximum(poly.max(0), c + 1.9 * r) + 1).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if x1 - x0 < 3 or y1 - y0 < 3 or r <= 0:
            return float("nan")
        box = g[y0:y1, x0:x1].astype(np.float32)
        m = np.zeros(box.shape, np.uint8)
        cv2.fillPoly(m, [np.round((poly - (x0, y0)) * 4).astype(np.int32)], 1, shift=2)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        iris = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r
        white = (m > 0) & ~iris
        skin = (yy >= c[1] + 1.2 * r) & (yy < c[1] + 1.8 * r) & (np.abs(xx - c[0]) <= r) & (m == 0)
        if white.sum() < 6 or not skin.any():
            return float("nan")
        open_sum += float(box[white].sum())
        open_n += float(white.sum())
        skin_sum += float(box[skin].sum())
        skin_n += float(skin.sum())
    skin_mean = skin_sum / skin_n
    return float((open_sum / open_n) / skin_mean) if skin_mean > 1.0 else float("nan")


#: the face's outline (the topology's face_oval group), whose inside :func:`face_light` reads
_FACE_OVAL = load_topology().group("face_oval")


def face_light(grey, points):
    """The light on a face: the median grey level (0-255) inside its outline (``points``: (>=468,
    >=2) landmarks in the frame's pixels; ``grey``: :func:`small_grey` of the frame); the median,
    so an open mouth or the eyes do not move it. On the 13 shared clips with a face it stays within 1.11x
    of its lowest over a clip (driving_d3 1.32x, the actor bowing her head out of the light); a fade takes
    it to 0. NaN where the outline covers no pixel."""
    g, s = grey
    m = np.zeros(g.shape, np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull((np.asarray(points)[_FACE_OVAL, :2] * s).astype(np.int32)), 1)
    return float(np.median(g[m > 0])) if m.any() else float("nan")


def _iod(lms):
    """Inter-ocular distance (outer eye corners 33-263) per frame."""
    return np.linalg.norm(lms[..., 33, :2] - lms[..., 263, :2], axis=-1)


#: the longest focal length a Track takes (Blender's Focal Length field has the same bound)
MAX_FOCAL_MM = 5000.0


def track_video(source, max_faces=1, focal_mm=None, frames=None, fps=None, progress=null_progress,
                smoothing=OneEuroParams(), stats=None, small_faces=False, hands=True):
    """Track ``source`` (movie path, image-sequence folder/pattern or list of images) and fit the
    face model: returns a list of Tracks, the most prominent actor first. ``hands``: hands
    before a face are looked for; the Track's ``hidden`` and ``confidence`` say how much of the
    face they hide on each frame. ``fps``: the rate an image sequence plays at (Blender: the
    scene's; the Track records it, so a transfer against a movie's Track is timed right: before
    2026-12-05 every sequence's Track said 25, and a 24 fps plate dubbed from a 24 fps movie
    drifted a frame a second); for a movie, its own rate is kept and ``fps`` times the smoothing."""
    label = _label(source)
    stats = {} if stats is None else stats
    if fps is not None:  # ("24", 30000/1001, 23.976: one exact rate; a bad one is one line)
        from ..video.source import _as_rate

        fps = _as_rate(fps)
    if focal_mm is not None and not (np.isfinite(focal_mm) and 1.0 <= float(focal_mm) <= MAX_FOCAL_MM):
        # (before the frames are read: before 2026-12-05 a focal length of 0 was refused with a
        # traceback when the Track was saved, after the whole clip was tracked)
        raise ReenactError("focal length {:g} mm: give the lens's, from 1 to {:g} mm (36 mm sensor width)".format(
            float(focal_mm), MAX_FOCAL_MM), path=label)

    steps = {}

    def track_progress(done, total, message=""):  # fitting counts as the last tenth of the job
        steps["total"] = total + max(1, total // 10)
        return progress(done, steps["total"], message)

    lms, presence, info = track_landmarks(source, max_faces=max_faces, frames=frames, fps=fps,
                                          progress=track_progress, stats=stats, small_faces=small_faces,
                                          hands=hands)
    T = lms.shape[1]
    w, h = info["size"]
    tracked = np.isfinite(lms[..., 0, 0])
    min_run = max(3, int(np.ceil(MIN_SEGMENT_SECONDS * info["fps"])))
    for k in range(max_faces):
        for a, b in segments(tracked[k]):
            if b - a < min_run and not (a == 0 and b == T):  # a clip shorter than min_run is kept
                tracked[k, a:b] = False
                lms[k, a:b] = np.nan
                presence[k, a:b] = 0.0
    if not tracked.any():  # (the tiled search named when it was off: before 2026-12-06 the message did not,
        # and a 35 px face in a 640 x 360 clip failed although --small-faces tracks it fully)
        hint = "" if small_faces else ("; a face under a fifth of the frame (a wide or full-body shot) is found "
                                       "with --small-faces (Blender: Small Faces in the Track panel)")
        raise TrackingError("{}: no face found in any of its {} frames{}".format(label, T, hint))
    iod = _iod(lms)
    usable = tracked & (np.nan_to_num(iod) >= MIN_IOD_PX)
    if not usable.any():
        raise TrackingError("{}: the face is too small to track (eyes {:.0f} px apart; at least {:.0f} needed)"
                            .format(label, float(np.nanmedian(iod[tracked])), MIN_IOD_PX))
    lms[~usable] = np.nan
    presence[~usable] = 0.0

    # the most prominent actor first: tracked frames x face size
    prominence = [float(np.nansum(np.where(usable[k], iod[k], 0.0))) for k in range(max_faces)]
    order = [k for k in np.argsort(prominence)[::-1] if usable[k].any()]

    t_fit = time.perf_counter()
    tracks = []
    focal_px = None if focal_mm is None else focal_mm_to_px(focal_mm, w)
    shot_starts = np.asarray(info["shot_starts"], np.int64)
    for rank, k in enumerate(order):
        # where the face steps: never smoothed across; a jump cut also begins a shot (this actor's)
        stepped, jumps = face_steps(lms[k])
        starts = np.union1d(info["shot_starts"], jumps).astype(np.int64)
        shot_starts = np.union1d(shot_starts, starts)
        # what a hand before the face hides: the landmarks there are the landmark model's guess
        hidden = np.zeros(0, np.float32) if info["hands"] is None else hidden_by_hands(lms[k], info["hands"][k], (h, w))
        if len(hidden):
            presence[k] *= 1.0 - np.nan_to_num(hidden)
        # smoothed in place (float32, as the Track keeps them), fitted from there and kept by the
        # Track: no whole-clip copies, so memory stays near the Track's own size on long clips
        smooth = smooth_landmarks(lms[k], info["fps"] if fps is None else float(fps), scale=iod[k], params=smoothing,
                                  out=lms[k], breaks=np.union1d(starts, stepped))
        tr = fit_track(smooth, size=(w, h), fps=info["fps"], focal_px=focal_px, presence=presence[k],
                       actor=rank, source=os.path.basename(label), source_frames=info["frame_count"],
                       smoothing=smoothing.as_array(), smoothing_names=OneEuroParams.names(),
                       adopt_landmarks=True)
        if focal_px is None:  # one camera for the shot: its other actors fitted in the first one's (before
            focal_px = float(tr.focal_px)  # 2026-12-06 each its own, and the second's mesh sat 80-187 px off
            # its face under the shot's camera, made from the first's)
        tr.frame_start = info["frame_start"]
        tr.source_digest = info["digest"]
        tr.shot_start = np.zeros(T, bool)
        tr.shot_start[starts] = True
        tr.light = info["light"][k]
        tr.blend = info["blend"][k]
        tr.eye_white = info["eye_white"][k]
        tr.hidden = hidden
        tracks.append(tr)
    stats["fit_s"] = time.perf_counter() - t_fit
    stats["provider"] = info["provider"]
    stats["missing_frames"] = info["missing_frames"]
    stats["shot_starts"] = [int(j) + int(info["frame_start"]) for j in shot_starts]
    stats["dissolve_frames"] = [int(j) + int(info["frame_start"]) for j in info["blends"]]
    stats["footage_warnings"] = info["footage_warnings"]
    progress(steps["total"], steps["total"], "fitted")
    return tracks
