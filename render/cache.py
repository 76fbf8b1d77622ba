# SPDX-License-Identifier: GPL-3.0-or-later
"""The render cache: content digests of everything that decides a rendered crop (the footage,
the renderer, the performance rows, the crop transform) and the crops on disk (layout in
:mod:`reenact.render.pipeline`'s docstring and docs/renderer.md)."""

import hashlib
import os
import threading

import numpy as np

from ..fsutil import write_atomic
from .conditioning import window_indices
from .reference import POOL_SIZE, POOL_VERSION


CACHE_FORMAT = "reenact-crop-1"


CACHE_DIRNAME = "reenact_cache"


_DIGESTS = {}


_LOCK = threading.Lock()


def file_digest(path):
    """SHA-256 hex of a file, remembered per (path, size, mtime)."""
    path = os.path.abspath(os.fspath(path))
    st = os.stat(path)
    k = (path, st.st_size, st.st_mtime_ns)
    with _LOCK:
        if k in _DIGESTS:
            return _DIGESTS[k]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    with _LOCK:
        _DIGESTS[k] = h.hexdigest()
    return _DIGESTS[k]


class Memo:
    """A few answers kept in memory between calls, the oldest dropped beyond ``size``; safe
    across the render path's threads. ``None`` keys are never kept."""

    def __init__(self, size):
        self.size, self._items, self._lock = int(size), {}, threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            return self._items.get(key, default) if key is not None else default

    def put(self, key, value):
        if key is None:
            return value
        with self._lock:
            while len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value
        return value


def source_identity(video):
    """A string naming the footage: path(s), sizes and modification times (not the pixels); for a
    folder of frames or a pattern (``shot/f_####.png``), those of every file in its folder (before
    2026-12-05 only the folder's, which a frame rewritten in place does not change: a re-graded
    plate rendered again reused the old crops, reference pool and room plate)."""
    paths = [video] if isinstance(video, (str, os.PathLike)) else list(video)
    parts = []
    for p in paths:
        p = os.path.abspath(os.fspath(p))
        folder = p if os.path.isdir(p) else (os.path.dirname(p) if not os.path.exists(p) and (
            "%" in os.path.basename(p) or "#" in os.path.basename(p)) else None)
        try:
            st = os.stat(p if folder is None else folder)
            parts.append("{}|{}|{}".format(p, st.st_size, st.st_mtime_ns))
            for e in sorted(os.scandir(folder), key=lambda e: e.name) if folder is not None else ():
                if e.is_file():
                    s = e.stat()
                    parts.append("{}|{}|{}".format(e.name, s.st_size, s.st_mtime_ns))
        except OSError:
            parts.append(p)
    return hashlib.sha1("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _f32(a):
    return np.ascontiguousarray(np.nan_to_num(np.asarray(a, np.float64)).astype(np.float32)).tobytes()


def geometry_digest(track):
    """Hash of what every row shares: identity, expression basis and names, camera."""
    h = hashlib.sha1(CACHE_FORMAT.encode())
    for a in (track.identity, track.expression_basis, [track.focal_px], track.principal, track.size):
        h.update(_f32(a))
    h.update("|".join(str(n) for n in track.expression_names).encode())
    return h.hexdigest()


def row_digests(track, rows=None):
    """Per-row hashes of pose, expression, gaze and the tracked flag: a list over ``rows``
    (default every row)."""
    rows = np.arange(track.n_frames) if rows is None else np.asarray(rows, np.int64)
    ok = np.asarray(track.tracked, bool)[rows] & np.isfinite(np.asarray(track.pose)[rows]).all(1)
    pose, ex, gz = (np.nan_to_num(np.asarray(a, np.float64)[rows]).astype(np.float32)
                    for a in (track.pose, track.expression, track.gaze))
    return [hashlib.sha1(b"%d" % ok[k] + pose[k].tobytes() + ex[k].tobytes() + gz[k].tobytes()).digest()
            for k in range(len(rows))]


def _rows_of(track, own, rows):
    """(``rows`` as an array, default every row; whether ``track`` and the footage's Track ``own``
    can be compared row for row: the same frames and the same actor shape)."""
    T = track.n_frames
    rows = np.arange(T) if rows is None else np.asarray(rows, np.int64)
    if own is None or own.n_frames != T or int(own.frame_start) != int(track.frame_start):
        return rows, False
    return rows, geometry_digest(track) == geometry_digest(own)


def unchanged_rows(track, own, rowd=None, rows=None):
    """Bool array over ``rows`` (default every row): where the performance ``track`` asks for
    exactly what the footage's own Track ``own`` shows (same actor shape, same pose, expression
    and gaze), a render copies the frame as it is, since drawing it again could only add the
    network's noise. False everywhere when the two cover different frames. ``rowd``:
    :func:`row_digests` of ``track`` when the caller has them."""
    rows, comparable = _rows_of(track, own, rows)
    if not comparable:
        return np.zeros(len(rows), bool)
    a = [rowd[k] for k in rows] if rowd else row_digests(track, rows)
    b = row_digests(own, rows)
    ok = np.asarray(track.tracked, bool)[rows]
    return ok & np.array([x == y for x, y in zip(a, b)], bool)


def unchanged_head_rows(track, own, rowd=None, rows=None):
    """:func:`unchanged_rows` for region head, which moves a row's head only when its mesh moves
    (:meth:`~.shothead.ShotHead.frame`: an unmoved row is its own frame, whatever its neighbours
    or its gaze): a row asking for the footage's pose and expression, on the same actor shape,
    is the footage as it is, its gaze aside (which region head draws only on a head it moves:
    :func:`~.shothead.gaze_kept_rows` names such rows). Before 2026-12-06 region head redrew,
    watermarked and signed every row of its range, edited or not. ``rowd`` is not used (the
    rows' arrays are compared)."""
    rows, comparable = _rows_of(track, own, rows)
    if not comparable:
        return np.zeros(len(rows), bool)

    def same(a, b):
        a, b = np.asarray(a, np.float64)[rows], np.asarray(b, np.float64)[rows]
        return (a.reshape(len(rows), -1) == b.reshape(len(rows), -1)).all(axis=1)

    return np.asarray(track.tracked, bool)[rows] & same(track.pose, own.pose) & same(track.expression, own.expression)


def frame_keys(track, transforms, rows, window, renderer_id, source_id, geometry=None, rowd=None):
    """{row: cache key} for the given track ``rows`` (see the module doc)."""
    geometry = geometry or geometry_digest(track)
    rowd = rowd or row_digests(track)
    T = track.n_frames
    keys = {}
    for r in rows:
        h = hashlib.sha256()
        h.update("{}|{}|{}|{}|{}".format(geometry, renderer_id, source_id, int(track.frame_start) + int(r), window).encode())
        h.update(np.asarray(transforms.M[r], np.float64).tobytes())
        for k in window_indices(r, window, T):
            h.update(rowd[k])
        keys[r] = h.hexdigest()
    return keys


class CropCache:
    """Rendered crops on disk: ``folder/<key[:2]>/<key>.npy``, each written atomically."""

    def __init__(self, folder):
        self.folder = os.path.abspath(os.fspath(folder)) if folder else None

    def _path(self, key):
        return os.path.join(self.folder, key[:2], key + ".npy")

    def get(self, key):
        if not self.folder:
            return None
        p = self._path(key)
        if not os.path.isfile(p):
            return None
        try:
            return np.load(p, allow_pickle=False)
        except (OSError, ValueError, EOFError):  # a damaged entry is simply rendered again
            return None

    def put(self, key, crop):
        if not self.folder:
            return
        p = self._path(key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        # a unique temporary name (processes on several machines may share the cache)
        a = np.ascontiguousarray(crop, np.uint8)
        write_atomic(p, lambda fh: np.save(fh, a, allow_pickle=False))


def default_cache_dir(out):
    """``reenact_cache`` in the folder that holds ``out`` (a movie file or a frame folder)."""
    return os.path.join(os.path.dirname(os.path.abspath(os.fspath(out))), CACHE_DIRNAME)


def renderer_identity(renderer):
    c = renderer.config
    return "{}|{}|{}|{}".format(file_digest(renderer.path), renderer.size, renderer.mode, renderer.window) + \
        "|" + str(sorted((k, str(v)) for k, v in c.items()))


def pool_identity(pool):
    """Hash of a pool's content (for pools made outside :func:`reference_pool`)."""
    d = getattr(pool, "_digest", None)
    if d is None:
        h = hashlib.sha256()
        for a in (pool.rows, pool.features, pool.points, pool.crops, pool.cond):
            h.update(np.ascontiguousarray(a).tobytes())
        d = pool._digest = h.hexdigest()
    return d


def pool_digest(track, video, size):
    """Hash of what decides a reference pool: footage, the footage's Track, crop size."""
    h = hashlib.sha256("{}|{}|{}|{}|{}".format(POOL_VERSION, POOL_SIZE, int(size), source_identity(video),
                                                geometry_digest(track)).encode())
    h.update(b"%d" % int(track.frame_start))
    for d in row_digests(track):
        h.update(d)
    if len(track.cuts()):  # (each shot samples its own frames)
        h.update(b"cuts" + np.asarray(track.cuts(), np.int64).tobytes())
    return h.hexdigest()


def performance_digest(track):
    """SHA-256 (hex, 16) of a Track's whole performance (tracked flags, pose, expression, gaze)."""
    h = hashlib.sha256()
    for a in (track.tracked, track.pose, track.expression, track.gaze):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]
