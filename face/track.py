# SPDX-License-Identifier: GPL-3.0-or-later
"""The Track: the one in-memory and on-disk form of a tracked performance of one actor.

Saved as an ``.npz`` (no pickles; strings are unicode arrays). Every key, its shape, dtype,
units and conventions are documented in ``docs/track-format.md``; the coordinate conventions
are those of :mod:`reenact.face.fit`. ``T`` = frames, ``K`` = expression coefficients.
"""

import os
from dataclasses import dataclass, field, fields

import numpy as np

from ..fsutil import checked_npz, write_atomic
from .camera import Camera, project
from .topology import N_LANDMARKS, N_VERTS, TOPOLOGY_PATH, file_checksum

FORMAT_VERSION = 1
#: a hand covering this share of the face or more is worth a line to the user (tracking, transfer)
HIDDEN_NOTE = 0.02

#: sane bounds that ``validate`` enforces (a crafted file must not ask for a 1e9-pixel frame)
MAX_SIZE = 32768  # pixels, each side
MAX_FPS = 1000.0
MAX_FOCAL = 1000.0  # x the frame's longer side
MAX_FRAMES = 100_000_000  # source_frames: over a month at 30 fps
MAX_ACTOR = 1000
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _topology_checksum():
    try:
        return file_checksum(TOPOLOGY_PATH)
    except OSError:
        return ""


# key -> (kind, per-frame?) ; kinds: f = float array, b = bool, i = int, s = str, S = str array
_SCALARS = {
    "format_version": int,
    "fps": float,
    "frame_start": int,
    "focal_px": float,
    "actor": int,
    "source": str,
    "source_frames": int,
    "source_digest": str,
    "performance_source": str,
    "topology_checksum": str,
}


@dataclass
class Track:
    """One actor's performance; see docs/track-format.md for every field."""

    fps: float
    size: np.ndarray  # (2,) int64: w, h
    landmarks: np.ndarray  # (T, 478, 2) float32 pixels, NaN untracked
    landmarks_z: np.ndarray  # (T, 478) float32 tracker depth (pixels), NaN untracked
    confidence: np.ndarray  # (T,) float64 0..1, 0 untracked
    tracked: np.ndarray  # (T,) bool
    pose: np.ndarray  # (T, 6) float64: XYZ Euler rad (R = Rz Ry Rx) + translation cm, OpenCV camera
    expression: np.ndarray  # (T, K) float64 0..1
    expression_names: np.ndarray  # (K,) unicode
    expression_basis: np.ndarray  # (K, 468, 3) float64 cm, model frame
    expression_range: np.ndarray  # (K, 2) float64 raw measure at 0 and at 1
    identity: np.ndarray  # (468, 3) float64 cm, model frame
    focal_px: float
    principal: np.ndarray  # (2,) float64 pixels
    gaze: np.ndarray  # (T, 4) float64 rad: left yaw, left pitch, right yaw, right pitch
    blink: np.ndarray  # (T, 2) float64 0..1: left, right
    fit_error: np.ndarray = None  # (T,) float64 median reprojection error px, NaN untracked
    actor: int = 0
    source: str = ""
    source_frames: int = 0
    # what identifies the footage (reenact.video.identity.footage_id(...).digest; "" = not recorded)
    source_digest: str = ""
    frame_start: int = 0
    smoothing: np.ndarray = field(default_factory=lambda: np.zeros(0))
    smoothing_names: np.ndarray = field(default_factory=lambda: np.array([], dtype="<U1"))
    topology_checksum: str = field(default_factory=_topology_checksum)
    format_version: int = FORMAT_VERSION
    # The footage's own fitted performance, kept when pose/expression/gaze are edited or
    # transferred (empty: this Track is the footage's own). The render crops the frames and
    # builds the actor reference from these rows, never from an edited performance.
    footage_pose: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))  # (T, 6) or empty
    footage_expression: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (T, K) or empty
    footage_gaze: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # (T, 4) or empty
    # Where a transferred performance comes from: per row the source clip frame that drives it
    # (NaN: not driven), and the source Track's footage digest ("" = not recorded). Empty: not a
    # transfer. The mouth dub's driver mouth (render --mouth-from) reads and checks these.
    performance_frame: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) or empty
    performance_source: str = ""
    # True on the rows that begin a new shot after a hard cut in the footage (the tracker's
    # reenact.video.cuts); empty: none looked for (a Track made before). Nothing is smoothed,
    # and no row is drawn from another shot's frames, across a cut.
    shot_start: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (T,) or empty
    # The light on the face in each frame: the median grey level (0-255) inside the face's outline
    # as the tracker decoded it (reenact.tracking.tracker.face_light); NaN where no face was found
    # and on a flash (reenact.video.cuts); empty: not measured (a Track made before). The render
    # takes no row's source from a flash or a frame whose face is lit much otherwise (a fade).
    light: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (T,) or empty
    # In a dissolve (reenact.video.cuts, CutFinder.mixes): the share of the frame that the tracked
    # face's shot has (0..1; the other shot is seen through it); NaN on every other row; empty: not
    # looked for (a Track made before). A render fades its change there by it, as the dissolve
    # fades the face (reenact.render.composite.through_dissolve).
    blend: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (T,) or empty
    # How much of the eyes' whites shows in each frame, over the actor's own median (the tracker's
    # reenact.tracking.tracker.eye_white: a lid lowered over a look down, its lashes over the
    # white, reads low where the lid landmarks hardly move); NaN where no white shows beside the
    # irises and where untracked; empty: not measured (a Track made before). Part of the
    # performance: a full transfer carries the driver's; a moved or held-out head's eyes come from
    # frames that show as much white.
    eye_white: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (T,) or empty
    # The share of the face's outline a hand before it covers in each frame (0..1; the tracker's
    # reenact.tracking.hands.hidden_by_hands: 0 where no hand is, NaN where untracked); empty: not
    # looked for (a Track made before, or tracked with --no-hands). The landmarks under a hand are
    # the landmark model's guess: the confidence is multiplied by 1 - this, and the user told.
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (T,) or empty

    def __post_init__(self):
        if self.fit_error is None:
            self.fit_error = np.full(len(self.landmarks), np.nan)
        if not self.source_frames:
            self.source_frames = int(self.frame_start) + len(self.landmarks)

    # ------------------------------------------------------------------ basics
    @property
    def n_frames(self):
        return int(len(self.landmarks))

    def frames(self):
        """Clip frame numbers (0-based) of the rows: frame_start .. frame_start + T - 1."""
        return np.arange(self.frame_start, self.frame_start + self.n_frames)

    def expression_index(self, name):
        return int(np.flatnonzero(self.expression_names == name)[0])

    def camera(self):
        return Camera(float(self.focal_px), tuple(float(v) for v in self.principal), tuple(int(v) for v in self.size))

    def subset(self, a, b):
        """The rows for clip frames a..b-1 (Python slice semantics, clamped to this track)."""
        a = max(int(a), self.frame_start)
        b = min(int(b), self.frame_start + self.n_frames)
        b = max(a, b)
        sl = slice(a - self.frame_start, b - self.frame_start)
        kw = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _PER_FRAME and (f.name not in _MAY_BE_EMPTY or len(v)):
                v = np.array(v[sl], copy=True)
            elif isinstance(v, np.ndarray):
                v = v.copy()
            kw[f.name] = v
        kw["frame_start"] = a
        return Track(**kw)

    @property
    def edited(self):
        """True when pose/expression/gaze are not the footage's own (a transfer or an edit)."""
        return len(self.footage_pose) > 0

    def footage(self):
        """The footage's own Track: this one when it was not edited, else a copy whose pose,
        expression, gaze and blinks are the footage's fitted rows (what the frames show)."""
        if not self.edited:
            return self
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        kw.update(pose=np.array(self.footage_pose, np.float64), expression=np.array(self.footage_expression, np.float64),
                  gaze=np.array(self.footage_gaze, np.float64))
        names = [str(n) for n in self.expression_names]
        blink = np.array(self.blink, np.float64)
        for side, name in enumerate(("eyeBlinkLeft", "eyeBlinkRight")):
            if name in names:
                blink[:, side] = kw["expression"][:, names.index(name)]
        kw["blink"] = blink
        for k in _FOOTAGE:
            kw[k] = np.zeros((0,) + np.shape(getattr(self, k))[1:])
        kw["performance_source"] = ""
        return Track(**kw)

    def with_footage_rows(self, footage):
        """This Track remembering ``footage``'s own rows (``footage.footage()``: so the rows of
        an already edited Track carry through); ``footage`` must cover the same frames."""
        own = footage.footage()
        if own.n_frames != self.n_frames or int(own.frame_start) != int(self.frame_start):
            raise ValueError("the footage's track covers clip frames {}..{}, this one {}..{}".format(
                own.frame_start, own.frame_start + own.n_frames - 1,
                self.frame_start, self.frame_start + self.n_frames - 1))
        self.footage_pose = np.array(own.pose, np.float64)
        self.footage_expression = np.array(own.expression, np.float64)
        self.footage_gaze = np.array(own.gaze, np.float64)
        return self

    def cuts(self):
        """(N,) int64 clip frames that begin a shot after a hard cut (empty: none known)."""
        starts = np.asarray(self.shot_start, bool)
        return (np.flatnonzero(starts) + int(self.frame_start)) if len(starts) == self.n_frames else np.zeros(0, np.int64)

    def shots(self):
        """(T,) int64: the shot of each row (0 for every row when no cut is known), counting the
        rows of :attr:`shot_start`."""
        starts = np.asarray(self.shot_start, bool)
        if len(starts) != self.n_frames:
            return np.zeros(self.n_frames, np.int64)
        ids = np.cumsum(starts).astype(np.int64)
        return ids - ids[0] if len(ids) else ids

    def hidden_frames(self, rows=None, low=HIDDEN_NOTE):
        """Sorted clip frames (``frame_start`` + row) of ``rows`` (default: all) where a hand before
        the face covers at least ``low`` of it (:attr:`hidden`; none when it was not looked for)."""
        hd = np.asarray(self.hidden, np.float64)
        if len(hd) != self.n_frames:
            return []
        rows = np.arange(self.n_frames) if rows is None else np.asarray(rows, np.int64)
        rows = rows[(rows >= 0) & (rows < self.n_frames)]
        return sorted({int(self.frame_start) + int(r) for r in rows[np.nan_to_num(hd[rows]) >= low]})

    def project(self, rows=None, points=None):
        """(T, 468, 2) pixels of the fitted model (NaN on untracked frames); ``rows``: only those
        rows, ``points``: only those vertices."""
        ex, pose = np.asarray(self.expression), np.asarray(self.pose)
        if rows is not None:
            rows = np.asarray(rows, np.int64)
            ex, pose = ex[rows], pose[rows]
        return project(self.identity, self.expression_basis, ex, pose, self.camera(), points)

    # ------------------------------------------------------------------ I/O
    def to_arrays(self):
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _SCALARS:
                kind = _SCALARS[f.name]
                out[f.name] = np.array(kind(v)) if kind is not str else np.array(str(v))
            else:
                out[f.name] = np.asarray(v)
        return out

    def save(self, path):
        """Validate and write ``path`` atomically (temporary file in the same folder, then rename)."""
        self.validate(path)
        arrays = self.to_arrays()
        return write_atomic(path, lambda fh: np.savez_compressed(fh, **arrays))

    @classmethod
    def load(cls, path, validate=True):
        """Read a Track ``.npz`` (no pickles). Raises ValueError naming the file on bad input."""
        name = os.path.basename(os.fspath(path))
        try:  # only the Track's own fields, each checked by its header before it is read
            with np.load(path, allow_pickle=False) as d:
                data = checked_npz(d, FIELDS)
        except FileNotFoundError:
            raise ValueError("{}: no such file".format(name)) from None
        except ValueError as e:  # (checked_npz: an array no Track holds)
            raise ValueError("{}: not a usable Track .npz: {}".format(name, e)) from None
        except Exception as e:  # zip / format errors
            raise ValueError("{}: not a readable Track .npz ({})".format(name, type(e).__name__)) from None
        missing = [f.name for f in fields(cls) if f.name not in data and f.name in _REQUIRED]
        if missing:
            raise ValueError("{}: missing key(s) {}".format(name, ", ".join(missing)))
        kw = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            v = data[f.name]
            if f.name in _SCALARS:
                if v.shape != ():
                    raise ValueError("{}: {} must be a scalar".format(name, f.name))
                try:
                    v = _SCALARS[f.name](v.item() if _SCALARS[f.name] is not str else str(v))
                except (TypeError, ValueError, OverflowError):
                    raise ValueError("{}: {} is {!r}, not a {}".format(name, f.name, v.item(), _SCALARS[f.name].__name__)) from None
            kw[f.name] = v
        tr = cls(**kw)
        if validate:
            tr.validate(path)
        return tr

    # ------------------------------------------------------------------ checks
    def validate(self, path=None):
        """Raise ``ValueError('<file>: <problem>')`` (one line) unless the track is consistent."""
        name = os.path.basename(os.fspath(path)) if path is not None else "track"

        def bad(msg):
            raise ValueError("{}: {}".format(name, msg))

        if int(self.format_version) > FORMAT_VERSION or int(self.format_version) < 1:
            bad("unsupported format_version {}".format(self.format_version))
        T = self.n_frames
        if T < 1:  # (before 2026-12-05 a file of no frames failed with "cannot reshape array ...")
            bad("holds no frames")
        names = np.asarray(self.expression_names)
        K = len(names)
        dims = {"T": T, "K": K, "L": N_LANDMARKS, "V": N_VERTS}
        for k, (shape, kind, _per_frame, _required) in FIELDS.items():
            if k in _SCALARS:  # converted to their type on save and load; values checked below
                continue
            v = np.asarray(getattr(self, k))
            if k in _MAY_BE_EMPTY and not len(v):
                continue  # absent: the Track is the footage's own, or no cuts were looked for
            if shape is not None:
                want = tuple(dims.get(d, d) for d in shape)
                if v.shape != want:
                    bad("{} has shape {}, expected {}".format(k, v.shape, want))
            if kind == "U" and v.size and v.dtype.kind != "U":
                bad("{} must be unicode strings".format(k))
            elif kind == "b" and v.dtype != np.bool_:
                bad("{} must be bool".format(k))
            elif kind == "f" and v.dtype not in _FLOATS:
                bad("{} must be float32 or float64, got {}".format(k, v.dtype))
            elif kind == "i" and v.dtype.kind not in "iu":
                bad("{} must be integers, got {}".format(k, v.dtype))
        if len(set(names.tolist())) != K or any(not n for n in names.tolist()):
            bad("expression_names must be unique and non-empty")
        sm, smn = np.asarray(self.smoothing), np.asarray(self.smoothing_names)
        if sm.ndim != 1 or smn.shape != sm.shape or (len(smn) and smn.dtype.kind != "U"):
            bad("smoothing and smoothing_names must be 1-D of equal length (numbers, unicode names)")
        for k, kind in _SCALARS.items():  # a scalar of its type (a string stays a string)
            v = getattr(self, k)
            if (kind is str) != isinstance(v, (str, np.str_)) or (kind is int and isinstance(v, (float, np.floating))
                                                                   and not float(v).is_integer()):
                bad("{} must be {}, got {!r}".format(k, {str: "a string", int: "a whole number",
                                                         float: "a number"}[kind], v))
        if not (np.isfinite(self.fps) and 0 < self.fps <= MAX_FPS):
            bad("fps must lie in 0..{}, got {}".format(MAX_FPS, self.fps))
        sz = np.asarray(self.size)
        if np.any(sz < 1) or np.any(sz > MAX_SIZE):
            bad("size must be 1..{} pixels, got {}".format(MAX_SIZE, sz.tolist()))
        if not (np.isfinite(self.focal_px) and 0 < self.focal_px <= MAX_FOCAL * float(sz.max())):
            bad("focal_px must lie in 0..{} x the frame's longer side, got {}".format(MAX_FOCAL, self.focal_px))
        if not np.isfinite(self.principal).all() or np.any(np.abs(np.asarray(self.principal)) > 2 * MAX_SIZE):
            bad("principal must be finite pixels, got {}".format(np.asarray(self.principal).tolist()))
        if int(self.frame_start) < 0:
            bad("frame_start must be >= 0")
        if int(self.source_frames) > MAX_FRAMES:
            bad("source_frames must be at most {}, got {}".format(MAX_FRAMES, self.source_frames))
        if not 0 <= int(self.actor) <= MAX_ACTOR:
            bad("actor must lie in 0..{}, got {}".format(MAX_ACTOR, self.actor))
        if int(self.source_frames) < int(self.frame_start) + T:
            bad("source_frames {} < frame_start + frames {}".format(self.source_frames, int(self.frame_start) + T))
        tr = np.asarray(self.tracked, bool)
        lm = np.asarray(self.landmarks)
        fin = np.isfinite(lm).reshape(T, -1)
        if not fin[tr].all():
            bad("landmarks of tracked frames must be finite")
        if fin[~tr].any():
            bad("landmarks of untracked frames must be NaN")
        if len(self.footage_pose) and not (len(self.footage_expression) and len(self.footage_gaze)):
            bad("footage_pose, footage_expression and footage_gaze come together")
        for k in ("pose", "expression", "gaze", "blink", "landmarks_z", "footage_pose", "footage_expression",
                  "footage_gaze"):  # (landmarks_z checked since 2026-12-05)
            v = np.asarray(getattr(self, k))
            if k.startswith("footage_") and not len(v):
                continue
            if not np.isfinite(v[tr]).all():
                bad("{} must be finite on tracked frames".format(k))
            if np.isfinite(v[~tr]).any():
                bad("{} must be NaN on untracked frames".format(k))
        ex = np.asarray(self.expression)[tr]
        if ex.size and (ex.min() < 0 or ex.max() > 1):
            bad("expression values must lie in 0..1")
        bl = np.asarray(self.blink)[tr]
        if bl.size and (bl.min() < 0 or bl.max() > 1):
            bad("blink values must lie in 0..1")
        c = np.asarray(self.confidence)
        if not np.isfinite(c).all() or c.min(initial=0) < 0 or c.max(initial=0) > 1:
            bad("confidence must lie in 0..1")
        if np.any(c[~tr] != 0):
            bad("confidence must be 0 on untracked frames")
        hd = np.asarray(self.hidden)
        if len(hd) and np.any(hd[np.isfinite(hd)] < 0) | np.any(hd[np.isfinite(hd)] > 1):
            bad("hidden must lie in 0..1 (or NaN)")
        for k in ("expression_basis", "expression_range", "identity"):
            if not np.isfinite(np.asarray(getattr(self, k))).all():
                bad("{} must be finite".format(k))
        rg = np.asarray(self.expression_range)
        if K and np.any(rg[:, 0] == rg[:, 1]):
            bad("expression_range lo and hi must differ")
        for k in ("topology_checksum", "source_digest", "performance_source"):
            cs = str(getattr(self, k))
            if cs and (len(cs) != 64 or any(ch not in "0123456789abcdef" for ch in cs)):
                bad("{} must be a sha256 hex digest".format(k))
        return self


#: Every field of a Track file, once: name -> (shape with T = frames, K = expression
#: coefficients, L = landmarks, V = mesh vertices; None = scalar or free-form; dtype kind f
#: float32/float64, i integer, b bool, U unicode; per-frame (``subset`` slices it); required in a file). Used by
#: ``subset``, ``load`` and ``validate``; docs/track-format.md describes each.
FIELDS = {
    "format_version": (None, "i", False, True),
    "fps": (None, "f", False, True),
    "size": ((2,), "i", False, True),
    "frame_start": (None, "i", False, False),
    "source": (None, "U", False, False),
    "source_frames": (None, "i", False, False),
    "source_digest": (None, "U", False, False),
    "actor": (None, "i", False, False),
    "landmarks": (("T", "L", 2), "f", True, True),
    "landmarks_z": (("T", "L"), "f", True, True),
    "tracked": (("T",), "b", True, True),
    "confidence": (("T",), "f", True, True),
    "fit_error": (("T",), "f", True, False),
    "pose": (("T", 6), "f", True, True),
    "expression": (("T", "K"), "f", True, True),
    "expression_names": (("K",), "U", False, True),
    "expression_basis": (("K", "V", 3), "f", False, True),
    "expression_range": (("K", 2), "f", False, True),
    "identity": (("V", 3), "f", False, True),
    "focal_px": (None, "f", False, True),
    "principal": ((2,), "f", False, True),
    "gaze": (("T", 4), "f", True, True),
    "blink": (("T", 2), "f", True, True),
    "smoothing": (None, "f", False, False),
    "smoothing_names": (None, "U", False, False),
    "topology_checksum": (None, "U", False, False),
    "footage_pose": (("T", 6), "f", True, False),
    "footage_expression": (("T", "K"), "f", True, False),
    "footage_gaze": (("T", 4), "f", True, False),
    "performance_frame": (("T",), "f", True, False),
    "performance_source": (None, "U", False, False),
    "shot_start": (("T",), "b", True, False),
    "light": (("T",), "f", True, False),
    "blend": (("T",), "f", True, False),
    "eye_white": (("T",), "f", True, False),
    "hidden": (("T",), "f", True, False),
}
#: fields with one row per frame (``subset`` slices them)
_PER_FRAME = frozenset(k for k, v in FIELDS.items() if v[2])
#: per-frame fields that may be empty (absent): the footage's own rows of an edited Track
_FOOTAGE = frozenset(("footage_pose", "footage_expression", "footage_gaze", "performance_frame"))
#: per-frame fields that may be empty: those, and the shots' starts of a Track made before cuts were found
_MAY_BE_EMPTY = _FOOTAGE | {"shot_start", "light", "blend", "eye_white", "hidden"}
#: fields a Track file must hold (the others have defaults)
_REQUIRED = frozenset(k for k, v in FIELDS.items() if v[3])
