# SPDX-License-Identifier: GPL-3.0-or-later
"""What stands in front of the actor's face in the footage (a microphone, a cup, a hand) stays
in front of the render.

A render draws the face (or its lower part) from the footage's own frames, the driver's mouth
or the network, and pastes it over the frame: whatever covered the face in the footage would
be painted over, a mouth drawn on a microphone. :class:`InFront` finds those pixels and
:meth:`InFront.keep` puts the footage back there, so the dub is seen behind the object.

How: every row's face is sampled into one canonical layout (the topology's UV map,
:data:`SIZE` pixels square, the footage's tracked landmarks as the mesh: :func:`face_texture`;
surface the row does not show is left out), so the same point of the face falls on the same
texel whatever the pose and expression. The actor's usual look is the median over up to
:data:`MODEL_ROWS` rows spread over each shot (each row's light brought to the median's),
and its spread the median absolute deviation. A texel differs when its colour is further from
the median than ``SPREAD x spread + FLOOR`` levels (at most :data:`CAP`) in any channel (3x3
mean); texels that differ away from the outline's band are opened (a 5-px disc, so wrinkles,
lashes and glasses' glints, thin lines, go), blobs under :data:`MIN_BLOB` of the face dropped,
the rest closed over the lips' line (:data:`CLOSE`), holes filled and carried out into the
outline's band where it differs too (:data:`BAND`). What is left is in front of the face only
when it belongs to a run of rows each with at least :data:`LOW` of the face covered that reaches
:data:`HIGH` somewhere (hysteresis: an object coming in is kept from its first frames, not from
the frame it passes a threshold). Over the 13 shared clips with a face, whose faces nothing
covers, the largest share found on a row is 0.037 and no row is kept; a dark microphone held
before d19's mouth covers 0.15-0.17 (docs/compositing.md).

A hand has the face's own colour and shading, so the colour test misses most of it; hands are
found by MediaPipe's palm detector and hand landmarks in a square about the face
(:class:`~reenact.tracking.hands.HandFinder`, on by default: ``hands``), and the texels a hand
covers (:func:`~reenact.tracking.hands.hand_mask`, sampled into the layout) join the row's blob.
A hand counts where it is found on consecutive rows over :data:`HAND_MIN_S` at least (the
detector's rare mistakes, an open mouth's lips read as curled fingers, last a frame or two), is
followed back from the row that first finds it (a hand coming in from the frame's edge is found
once most of it shows), carried by the picture's motion over up to :data:`~reenact.tracking.hands.CARRY_S`
where the landmarks lose it going out of the frame, and is carried through a gap of up to :data:`HAND_GAP_S` between two
rows that find it in one place. A run of rows is kept where its colour share reaches
:data:`HIGH`, or where a hand covers at least :data:`LOW` of the face on one of its rows; the
matte then keeps the whole hand, also beyond the face's outline.

Not found: an object of the face's own colour and shading that is not a hand (skin-coloured bars
held like fingers read up to 0.05), a hand the palm detector does not see (fingers alone
before the mouth, the palm out of the frame), an object in front of the face in most of the
shot's frames (it is then the usual look), the part of an object other than a hand outside the
face's outline or beside the face, and thin text burned into the picture (subtitles over the
chin).

Those rows, and the rows within :data:`SOURCE_MARGIN_S` of them, are no source for another row
(:meth:`InFront.sources`). The survey covers whole shots and is stored in the render's cache,
so a render farm's chunks and Preview Frame read what one render of all found.

The footage's landmarks under an object are the tracker's guess, so the mouth drawn behind it
is placed as well as the tracker guessed; what is in front is the footage's, exact.
"""

import copy
import hashlib
import os
import threading
import time
import warnings
import zipfile

import cv2
import numpy as np

from ..face.topology import N_VERTS, load_topology
from ..tracking import hands as _hands
from ..tracking.smoothing import segments, split_at
from .ranges import pool_rows
from .triangles import _signed_area
from .warp import warp_field, warp_image

#: side of the canonical face texture (pixels)
SIZE = 96
#: rows the actor's usual look is the median of (spread over the shot)
MODEL_ROWS = 48
#: a texel differs beyond SPREAD x its spread + FLOOR levels (8-bit, any channel)
SPREAD, FLOOR = 3.0, 12.0
#: ... but never beyond CAP levels (the lips' corners vary much, a dark object there more)
CAP = 60.0
#: smallest blob kept, and the row shares of the face of a run's rows (LOW) and its peak (HIGH)
MIN_BLOB, LOW, HIGH = 0.01, 0.02, 0.08
#: the blobs closed by a disc this wide (texture pixels): over the lips' line
CLOSE = 9
#: texture pixels a blob is carried out into the outline's band (which is not searched) where it differs
BAND = 5
#: a texel further than this (face sizes) behind the nearest one over its place in the frame is hidden
DEPTH_TOL = 0.02
#: the frames this many seconds either side of a run are no source either (an object comes in and
#: leaves beside the face, where it is not looked for; the moved head carries what is beside it)
SOURCE_MARGIN_S = 0.5
#: the matte grown beyond the blob (face sizes: the object's edge) and its feather (pixels)
GROW, FEATHER = 0.02, 1.5
#: a hand is taken to be there when it is found on consecutive rows over at least this long, and
#: to stay there through a gap this long between two rows that find it in about one place
HAND_MIN_S, HAND_GAP_S = _hands.HAND_MIN_S, _hands.HAND_GAP_S

_LAYOUT = {}


def layout():
    """(canonical points (468, 2) in texture pixels, face mask, inner mask) of :data:`SIZE`."""
    if not _LAYOUT:
        topo = load_topology()
        can = np.c_[topo.uv[:, 0] * SIZE, (1.0 - topo.uv[:, 1]) * SIZE].astype(np.float64)
        tris = np.asarray(topo.triangles, np.int64)
        tid = np.zeros((SIZE, SIZE), np.int32)  # triangle + 1 of each texel (0: none)
        for k, tri in enumerate(tris):
            cv2.fillConvexPoly(tid, np.round(can[tri] * 16).astype(np.int32), k + 1, shift=4)
        face = (tid > 0).astype(np.uint8)
        ys, xs = np.nonzero(tid)
        t = tris[tid[ys, xs] - 1]
        A, B, C = can[t[:, 0]], can[t[:, 1]], can[t[:, 2]]  # barycentric weights of the texel centres
        P = np.c_[xs + 0.5, ys + 0.5]
        d = (B[:, 1] - C[:, 1]) * (A[:, 0] - C[:, 0]) + (C[:, 0] - B[:, 0]) * (A[:, 1] - C[:, 1])
        d = np.where(np.abs(d) < 1e-12, 1e-12, d)
        w0 = ((B[:, 1] - C[:, 1]) * (P[:, 0] - C[:, 0]) + (C[:, 0] - B[:, 0]) * (P[:, 1] - C[:, 1])) / d
        w1 = ((C[:, 1] - A[:, 1]) * (P[:, 0] - C[:, 0]) + (A[:, 0] - C[:, 0]) * (P[:, 1] - C[:, 1])) / d
        bary = np.c_[w0, w1, 1.0 - w0 - w1]
        # the outline's band is left out: the background the tracked outline reaches into
        whole = _filled(face)  # (the mouth's and eyes' openings in)
        inner = cv2.erode(whole, np.ones((3, 3), np.uint8), iterations=4).astype(bool) & face.astype(bool)
        area = _signed_area(can, tris)
        _LAYOUT.update(can=can, face=face.astype(bool), inner=inner, whole=whole.astype(bool), texels=(ys, xs),
                       corners=t, bary=bary, tris=tris, tri_of=tid[ys, xs] - 1, sign=np.sign(area))
    return _LAYOUT["can"], _LAYOUT["face"], _LAYOUT["inner"]


def _filled(mask):
    """``mask`` (uint8 0/1, :data:`SIZE` square, its corner outside) with its holes filled."""
    out = mask.copy()
    cv2.floodFill(out, np.zeros((SIZE + 2, SIZE + 2), np.uint8), (0, 0), 1)
    return mask | (1 - out)


def face_texture(frame, pts, depth):
    """(SIZE, SIZE, 3) float32: the face of ``frame`` whose landmarks are ``pts`` (468, 2) with
    tracker depths ``depth`` (468,), in the canonical layout; NaN where the frame does not show
    the surface (a triangle turned away; a texel behind a nearer part of the face in the
    frame, such as a cheek behind the nose: a z-buffer splatted from the texels; beyond the
    frame's edge) or outside the face. Piecewise affine over the mesh's triangles (the texels'
    barycentric weights are fixed)."""
    layout()
    lay = _LAYOUT
    pts, depth = np.asarray(pts, np.float64), np.asarray(depth, np.float64)
    w, t = lay["bary"], lay["corners"]
    src = (w[:, :, None] * pts[t]).sum(1)  # (n, 2) frame pixels of each texel
    z = (w * depth[t]).sum(1)
    shown = np.sign(_signed_area(pts, lay["tris"]))[lay["tri_of"]] == lay["sign"][lay["tri_of"]]
    size = float(np.sqrt(max(np.prod(np.ptp(pts, axis=0)), 1.0)))
    cell = max(1.0, 1.5 * size / SIZE)  # ~ a texel's footprint in the frame
    q = np.floor(src / cell).astype(np.int64)
    q -= q.min(0)
    key = q[:, 1] * (int(q[:, 0].max()) + 1) + q[:, 0]
    near = np.full(int(key.max()) + 1, np.inf)
    np.minimum.at(near, key[shown], z[shown])
    shown &= z <= near[key] + DEPTH_TOL * size
    H, W = frame.shape[:2]  # (a face cut by the frame's edge: what lies beyond it is not shown)
    shown &= (src[:, 0] >= 0) & (src[:, 0] <= W) & (src[:, 1] >= 0) & (src[:, 1] <= H)
    ys, xs = lay["texels"]
    mx = np.full((SIZE, SIZE), -1e4, np.float32)
    my = np.full((SIZE, SIZE), -1e4, np.float32)
    mx[ys, xs], my[ys, xs] = src[:, 0] - 0.5, src[:, 1] - 0.5  # (OpenCV's pixel centres)
    tex = cv2.remap(frame, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    hide = np.ones((SIZE, SIZE), bool)
    hide[ys, xs] = ~shown
    tex[hide] = np.nan
    return tex


def _light(tex, inner):
    v = tex[inner].mean(-1)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else np.nan


#: what the survey stored in a render's cache depends on (a change of the method: surveyed again)
FRONT_VERSION = 2


def _cache_path(own, video, cache_dir, hands=True):
    """``cache_dir``/front/<key>.npz of ``own``'s survey over ``video`` (None: no ``cache_dir``)."""
    if cache_dir is None:
        return None
    from .cache import source_identity

    h = hashlib.sha256("{} {} {} {} {}".format(FRONT_VERSION, source_identity(video), int(own.frame_start), (
        SIZE, MODEL_ROWS, SPREAD, FLOOR, CAP, MIN_BLOB, CLOSE, BAND, DEPTH_TOL), bool(hands) and (
        _hands.SEARCH, _hands.MIN_PALM, _hands.MIN_PRESENCE, _hands.MAX_HANDS, _hands.WRIST, HAND_MIN_S,
        HAND_GAP_S)).encode())
    for a in (own.landmarks, own.landmarks_z, own.tracked, own.shots()):
        h.update(np.ascontiguousarray(a).tobytes())
    return os.path.join(os.fspath(cache_dir), "front", h.hexdigest()[:32] + ".npz")


def _usual_look(M, inner):
    """(usual look, per-texel limit, reference light) of the face textures ``M`` (R, S, S, 3)."""
    g = np.array([_light(t, inner) for t in M])
    ref = float(np.nanmedian(g)) if np.isfinite(g).any() else 1.0
    g = np.where(np.isfinite(g) & (g > 0), g, ref)
    M = M * (ref / g)[:, None, None, None]
    with warnings.catch_warnings():  # (texels no row shows: NaN, never differ)
        warnings.simplefilter("ignore", RuntimeWarning)
        usual = np.nanmedian(M, axis=0)
        spread = np.nanmedian(np.abs(M - usual), axis=0)
    limit = np.where(np.isfinite(spread), np.minimum(SPREAD * spread + FLOOR, CAP), np.inf).astype(np.float32)
    return np.nan_to_num(usual).astype(np.float32), limit, ref


class InFront:
    """Objects in front of the face of footage Track ``own`` (module doc), surveyed over every
    row of the shots (:meth:`~reenact.face.track.Track.shots`) that hold its rows ``span`` =
    (a, b) (row indices), read from ``video``: each shot has its own usual look, and a run of
    rows never crosses a cut. The survey is stored in ``cache_dir`` (``front/<key>.npz``: the
    shares and each shot's usual look; None: not stored), so a render farm's chunks and Preview
    Frame read it instead of the footage. The caller's rows are ``own``'s plus ``offset`` (a
    performance whose row 0 is another clip frame). ``allowed``: the footage rows the user allows
    as sources (``--reference-frames``; None: all): the others are those whose own face must not
    be used (a hand over it, drawn from the allowed ones), where nothing is kept in front.
    ``hands``: hands are looked for too (module doc); where the tracker looked for them already
    (:attr:`~reenact.face.track.Track.hidden`), only in the shots it found one in. ``margin``
    (rows): the survey covers the span and this many rows either side only, not its whole shots
    (a driver's frames: the usual look is still the shot's). ``progress(done, total)`` returning False stops (raises
    :class:`~reenact.progress.Cancelled`)."""

    def __init__(self, own, video, span, progress=None, offset=0, cache_dir=None, allowed=None, hands=True,
                 margin=None):
        from ..progress import Cancelled
        from .donor import ClipFrames

        self.own, self.offset, self.cache_dir = own, int(offset), cache_dir
        T, f0 = own.n_frames, int(own.frame_start)
        tracked = np.asarray(own.tracked, bool)
        L = np.asarray(own.landmarks, np.float64)[:, :N_VERTS]
        Z = np.asarray(own.landmarks_z, np.float64)[:, :N_VERTS]
        _, face, inner = layout()
        self.face_px = int(face.sum())
        self.span = (max(0, int(span[0])), min(T, int(span[1])))
        self.shot = own.shots()
        want = np.isin(self.shot, np.unique(self.shot[self.span[0]:self.span[1]]))
        if margin is not None:  # (only the span and ``margin`` rows either side: a driver's long take)
            want[:max(0, self.span[0] - int(margin))] = want[self.span[1] + int(margin):] = False
        path = _cache_path(own, video, cache_dir, hands)
        self.share = np.full(T, np.nan, np.float32)  # per row: the share of the face found in front
        self.hand_share = np.zeros(T, np.float32)  # ... of it covered by a hand
        self._hand_rows = _hands.HandRows(self.shot, own.fps)  # the hands found near the face
        self.models = {}  # shot -> (usual look, limit, reference light)
        if path is not None:
            self._load(path)
        todo = want & tracked & ~np.isfinite(self.share)
        self.rows_read, self.seconds, t0 = int(todo.sum()), 0.0, time.perf_counter()
        done, total = 0, int(todo.sum()) + MODEL_ROWS * len(np.unique(self.shot[todo]))
        look = todo & hands
        hidden = np.asarray(own.hidden, np.float64)
        if len(hidden) == T:  # (the tracker looked for hands already: only its shots with one are looked at again)
            look &= np.isin(self.shot, self.shot[np.nan_to_num(hidden) > 0])
        finder = _hands.HandFinder() if look.any() else None
        if todo.any():
            with ClipFrames(video) as clip:

                def frame_of(r):
                    return clip.clip_frame(f0 + int(r))

                def look_at(frame, r):  # (in the rows' order: a hand is followed from the row before)
                    if finder is not None and look[r]:
                        self._hand_rows.look(finder, frame, L[r], r, frame_of)
                        self._hand_rows.follow_back(finder, frame_of, r, look, self._count_hand)

                def read(r, hands=True):
                    frame = frame_of(r)
                    if hands:
                        look_at(frame, r)
                    return face_texture(frame, L[r], Z[r])

                for s in np.unique(self.shot[todo]):
                    rows = np.flatnonzero((self.shot == s) & tracked)
                    texs = {}  # (the model's rows' textures serve their own rows: a frame not decoded twice)
                    if int(s) not in self.models:
                        pick = rows[np.linspace(0, len(rows) - 1, min(MODEL_ROWS, len(rows))).astype(int)]
                        for r in pick:  # (its hands are looked for below, in the rows' order)
                            texs[int(r)] = read(r, hands=False)
                            done += 1
                            if progress is not None and progress(done, total) is False:
                                raise Cancelled()
                        self.models[int(s)] = _usual_look(np.stack([texs[int(r)] for r in pick]), inner)
                    for r in rows[todo[rows]]:
                        tex = texs.pop(int(r), None)
                        if tex is None:
                            tex = read(r)
                        elif finder is not None and look[r]:  # (a model row: its frame read again)
                            look_at(frame_of(r), r)
                        self.share[r] = self._blob(tex, r)[1]
                        done += 1
                        if progress is not None and progress(done, total) is False:
                            raise Cancelled()
            self._hand_rows.bridge(look, self._count_hand)
            for a, e in self._hand_rows.confirm(look):
                self.hand_share[a:e] = 0.0
            if path is not None:
                self._store(path)
        self.seconds = time.perf_counter() - t0
        # runs of rows each >= LOW within a shot (the colour test's share or a hand's), kept where
        # the colour test's share reaches HIGH or a hand covers LOW
        self.rows = np.zeros(T, bool)
        for a, e in self._runs((np.nan_to_num(self.share) >= LOW) | (self.hand_share >= LOW), 0, T):
            self.rows[a:e] = np.nanmax(self.share[a:e]) >= HIGH or self.hand_share[a:e].max() >= LOW
        self.allowed = None if allowed is None else np.asarray(allowed, np.int64)
        self.kept = self.rows.copy()  # (the rows whose footage is kept where something is in front)
        if self.allowed is not None:
            self.kept[np.setdiff1d(np.arange(T), self.allowed)] = False

    @property
    def hands(self):
        """(T, MAX_HANDS, 21, 2) float32: the hands found near the face on each row, NaN where none."""
        return self._hand_rows.hands

    def _runs(self, mask, a, b):
        """(start, end) rows of the runs of True of ``mask`` within rows a..b-1, split at cuts."""
        return [(a + s, a + e) for s, e in split_at(segments(mask[a:b]), np.flatnonzero(np.diff(self.shot[a:b])) + 1)]

    def _count_hand(self, r):
        """The texels of row ``r``'s face that its hands cover (bool, :data:`SIZE` square), or None;
        sets its :attr:`hand_share` (0 where it has none)."""
        hand = self._hand_texels(r)
        self.hand_share[r] = 0.0 if hand is None else hand.sum() / self.face_px
        return hand

    def _hand_texels(self, r):
        """The texels of row ``r``'s face that its hands cover (bool, :data:`SIZE` square), or None."""
        hands = [p for p in self.hands[r] if np.isfinite(p).all()]
        if not hands:
            return None
        pts = np.asarray(self.own.landmarks[r, :N_VERTS], np.float64)
        W, H = (int(v) for v in self.own.size)
        x0, y0 = (int(max(0, np.floor(v))) for v in pts.min(0))  # (the face's box is all the texels read)
        x1, y1 = int(min(W, np.ceil(pts[:, 0].max()) + 2)), int(min(H, np.ceil(pts[:, 1].max()) + 2))
        if x1 <= x0 or y1 <= y0:
            return None
        m = _hands.hand_mask(hands, (H, W), (x0, y0, x1, y1)).astype(np.float32)
        tex = face_texture(m, pts - (x0, y0), np.asarray(self.own.landmarks_z, np.float64)[r, :N_VERTS])
        return (np.nan_to_num(tex, nan=0.0) > 0.5) & _LAYOUT["face"]

    def _load(self, path):
        try:
            with np.load(path, allow_pickle=False) as z:
                share, shots = z["share"], z["shots"]
                if share.shape == self.share.shape and z["hands"].shape == self.hands.shape:
                    self.share = share.astype(np.float32)
                    self.hand_share = z["hand_share"].astype(np.float32)
                    self._hand_rows.hands = z["hands"].astype(np.float32)
                    self.models = {int(s): (z["usual"][k], z["limit"][k], float(z["light"][k]))
                                   for k, s in enumerate(shots)}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # (unreadable: surveyed again)
            pass

    def _store(self, path):
        shots = sorted(self.models)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = "{}.{}.{}.tmp.npz".format(path[:-4], os.getpid(), threading.get_ident())
        try:
            np.savez(tmp, share=self.share, hand_share=self.hand_share, hands=self.hands,
                     shots=np.asarray(shots, np.int64),
                     usual=np.stack([self.models[s][0] for s in shots]),
                     limit=np.stack([self.models[s][1] for s in shots]),
                     light=np.asarray([self.models[s][2] for s in shots], np.float64))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _blob(self, tex, r):
        """(the texels in front of the face in row ``r``'s texture ``tex``, their share of the face);
        sets row ``r``'s :attr:`hand_share` (the share is the colour test's; the texels a hand
        covers join the blob)."""
        usual, limit, ref_light = self.models[int(self.shot[r])]
        inner = _LAYOUT["inner"]
        g = _light(tex, inner)
        if np.isfinite(g) and g > 0:
            tex = tex * (ref_light / g)
        diff = np.nan_to_num(np.abs(tex - usual), nan=0.0)
        diff = cv2.blur(diff, (3, 3))
        anywhere = (diff > limit).any(-1) & _LAYOUT["face"]
        differs = (anywhere & inner).astype(np.uint8)
        differs = cv2.morphologyEx(differs, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
        n, lab, st, _ = cv2.connectedComponentsWithStats(differs, connectivity=8)
        keep = np.zeros(n, bool)
        keep[1:] = st[1:, cv2.CC_STAT_AREA] >= MIN_BLOB * self.face_px
        blob = keep[lab].astype(np.uint8)
        share = blob.sum() / self.face_px
        hand = self._count_hand(r)
        if hand is not None:
            blob |= hand.astype(np.uint8)
        if not blob.any():
            return blob.astype(bool), share
        # closed over the lips' line, whose texels vary too much to differ, and holes filled
        blob = cv2.morphologyEx(blob, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (CLOSE, CLOSE)))
        blob = _filled(blob).astype(bool) & _LAYOUT["whole"]
        for _ in range(BAND):  # out into the outline's band where it differs there too
            blob |= cv2.dilate(blob.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & anywhere
        return blob, share

    def runs(self):
        """[(first clip frame, end clip frame, largest share of the face, a hand was found)] of
        the rows kept within the span asked for."""
        f0 = int(self.own.frame_start)
        covered = np.fmax(self.share, self.hand_share)
        return [(int(f0 + a), int(f0 + e), round(float(np.nanmax(covered[a:e])), 3),
                 bool(self.hand_share[a:e].max() > 0)) for a, e in self._runs(self.rows, *self.span)]

    def has(self, r):
        """True when something stands in front of the face on the caller's row ``r``."""
        r = int(r) + self.offset
        return 0 <= r < len(self.kept) and bool(self.kept[r])

    def matte(self, r, frame):
        """(H, W) float32 0..1 over the caller's row ``r``'s footage ``frame``: 1 where something
        is in front of the face; None when nothing is."""
        r = int(r) + self.offset
        if not (0 <= r < len(self.kept) and self.kept[r]):
            return None
        can, face, _ = layout()
        pts = np.asarray(self.own.landmarks, np.float64)[r, :N_VERTS]
        blob = self._blob(face_texture(frame, pts, np.asarray(self.own.landmarks_z, np.float64)[r, :N_VERTS]), r)[0]
        H, W = frame.shape[:2]
        size = float(np.sqrt(np.prod(pts.max(0) - pts.min(0))))
        pad = 2.0 * GROW * size + 4.0 * FEATHER + 2.0
        fx0, fy0 = (int(max(0, np.floor(v - pad))) for v in pts.min(0))  # the face's box: the blob's
        fx1, fy1 = int(min(W, np.ceil(pts[:, 0].max() + pad))), int(min(H, np.ceil(pts[:, 1].max() + pad)))
        if fx1 <= fx0 or fy1 <= fy0:
            return None
        f = warp_field(can, pts - (fx0, fy0), None, (fy1 - fy0, fx1 - fx0), masks=False, fade=0.0, neck=None)
        face = warp_image(blob.astype(np.float32), f, border=cv2.BORDER_CONSTANT)
        hull = np.zeros(face.shape, np.uint8)  # (the map beyond the mesh reaches the texture's face too)
        cv2.fillConvexPoly(hull, np.round(cv2.convexHull((pts - (fx0, fy0)).astype(np.float32)) * 16).astype(np.int32),
                           1, shift=4)
        face = (face > 0.5) & (hull > 0)
        x0, y0, x1, y1 = fx0, fy0, fx1, fy1
        hands = [p for p in self.hands[r] if np.isfinite(p).all()]
        if hands:  # (a hand is kept whole, beyond the face's box too)
            both = np.vstack(hands)
            margin = pad + max(_hands.finger_width(p) for p in hands)
            x0, y0 = min(x0, int(max(0, np.floor(both[:, 0].min() - margin)))), \
                min(y0, int(max(0, np.floor(both[:, 1].min() - margin))))
            x1, y1 = max(x1, int(min(W, np.ceil(both[:, 0].max() + margin)))), \
                max(y1, int(min(H, np.ceil(both[:, 1].max() + margin))))
        m = np.zeros((y1 - y0, x1 - x0), bool)
        m[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0] = face
        if hands:
            m |= _hands.hand_mask(hands, frame.shape, (x0, y0, x1, y1)) > 0
        grow = max(1, int(round(GROW * size)))
        m = cv2.dilate(m.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        out = np.zeros((H, W), np.float32)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(m.astype(np.float32), (0, 0), FEATHER)
        return out

    def keep(self, res, frame, r):
        """``res`` (a rendered frame of the caller's row ``r``) with the footage ``frame`` where
        something stands in front of the face (``res`` itself where nothing does)."""
        m = self.matte(r, frame)
        if m is None:
            return res
        a = m[..., None]
        return np.round(res.astype(np.float32) * (1.0 - a) + frame.astype(np.float32) * a).astype(res.dtype)

    def sources(self):
        """A copy of ``own`` whose rows with something in front, and those within
        :data:`SOURCE_MARGIN_S` of them in their shot, are no source for another row's mouth,
        head, eyes or brows: its ``no_source`` (bool (T,), read by :func:`~.shotframes.other_shot`;
        not a field of the file). Of the frames the user allowed (``--reference-frames``), only
        those with something in front."""
        if not self.rows.any():
            return self.own
        out = copy.copy(self.own)
        m = int(round(SOURCE_MARGIN_S * float(out.fps)))  # (and the frames it comes in and leaves by)
        idx, no = np.arange(out.n_frames), np.zeros(out.n_frames, bool)
        for r in np.flatnonzero(self.rows):  # (within the row's shot)
            no |= (np.abs(idx - r) <= m) & (self.shot == self.shot[r])
        if self.allowed is not None:  # (frames the user chose to draw from: only those in front left out)
            no[self.allowed] = self.rows[self.allowed]
        out.no_source = no
        return out

    def summary(self):
        a, b = self.span
        return {"runs": [list(v) for v in self.runs()], "rows_read": int(self.rows_read),
                "hand_rows": int((self.rows[a:b] & (self.hand_share[a:b] > 0)).sum()),
                "seconds": round(self.seconds, 3)}


def hide_driver(front, *donors, progress=None, total=0):
    """The driver's frames with something in front of his face (a hand over his mouth) lend no
    mouth interior to a dub or a moved head: each :class:`~.donor.MouthDonor` of ``donors`` (None
    skipped) is given the rows of its driver Track that a survey of the driver's footage keeps
    (:meth:`~.donor.MouthDonor.hide`; the survey stored in ``front``'s cache folder). Nothing
    without ``front`` (``--no-front``). ``progress(0, total, message)`` as :func:`in_front`'s.
    Returns a warning line per run of hidden driver frames."""
    from .donor import MouthDonor

    def step(done, n):
        return progress is None or progress(0, total, "what stands in front of the driver's face {}/{}".format(done, n))

    lines = []
    for donor in donors:
        if front is None or not isinstance(donor, MouthDonor) or donor.hidden is not None:
            continue
        used = donor.performance_frame[np.isfinite(donor.performance_frame)] - donor.f0
        if not len(used):
            continue
        span = (int(np.floor(used.min())), int(np.ceil(used.max())) + 1)  # (a long take: only what drives)
        driver = InFront(donor.track, donor.video, span, step, cache_dir=front.cache_dir,
                         margin=int(round(float(donor.track.fps))))
        donor.hide(driver.rows)
        lines += ["driver frames {}-{}: {} stands in front of the driver's face; the mouth's inside there "
                  "is drawn from his frames without it".format(a, e - 1, "a hand" if hand else "something")
                  for a, e, _s, hand in driver.runs()]
    return lines


def keep_front(front, res, frame, r):
    """:meth:`InFront.keep` of ``front`` (``res`` itself without ``front`` or ``frame``)."""
    return res if front is None or frame is None else front.keep(res, frame, r)


def front_sources(front, own, mouth, performance, video, pool):
    """(``own`` as :meth:`InFront.sources` of ``front`` (None: ``own`` itself), ``mouth``: a dub's
    :class:`~.rewrite.ShotMouth` made again on it, its sources chosen without those rows; any
    other ``mouth`` as it is)."""
    from .rewrite import ShotMouth

    src = front.sources() if front is not None else own
    if src is own or not isinstance(mouth, ShotMouth):
        return src, mouth
    rows = mouth.rows
    mouth.close()
    return src, ShotMouth(src, performance, video, rows=rows, pool=pool)


def in_front(own, track, video, rows, front=True, progress=None, total=0, warnings=None, cache_dir=None,
             reference_frames=None):
    """The :class:`InFront` of a render of ``track``'s rows ``rows`` over footage Track ``own``
    and its ``video`` (None when ``front`` is off or no row is rendered; ``cache_dir``: where the
    survey is stored). ``progress(0, total, message)`` as the render's (False:
    :class:`~reenact.progress.Cancelled`); a line per run of frames is appended to ``warnings``.
    ``reference_frames`` (clip frames (c, d), the render's): the frames outside them are the ones
    whose own face must not be used (a hand over it, drawn from the others): nothing is kept in
    front there (they are still no source)."""
    if not front or not len(rows):
        return None
    offset = int(track.frame_start) - int(own.frame_start)

    def step(done, n):
        return progress is None or progress(0, total, "what stands in front of the face {}/{}".format(done, n))

    res = InFront(own, video, (min(rows) + offset, max(rows) + offset + 1), step, offset, cache_dir,
                  pool_rows(own, reference_frames))
    if warnings is not None:
        warnings += [run_warning(*run) for run in res.runs()]
    return res


def run_warning(first, end, share, hand=False, offset=0):
    """The line that reports a run of :meth:`InFront.runs` (frames numbered from ``offset``: a
    strip's start in Blender's timeline; ``hand``: a hand was found there)."""
    return ("frames {}-{}: {} stands in front of the face (up to {:.0f} % of it); the footage is kept "
            "there, and no other frame is drawn from these".format(offset + first, offset + end - 1,
                                                                 "a hand" if hand else "something", 100 * share))
