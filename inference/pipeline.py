# SPDX-License-Identifier: GPL-3.0-or-later
"""The render path: a performance (Track) + its footage + a renderer -> composited frames.

One code path for ``reenact render``, Blender's Render Performance and Preview Frame, the demo
and the benchmark (no bpy, no torch)::

    summary = render_clip(track, video, model, out="shot.mp4" | "frames/" | None,
                          frames=(a, b), region="mouth", crop_track=tracked, progress=cb)
    frame, info = render_frame(track, video, i, model, ...)        # one frame (Preview Frame)

Per clip frame ``i`` in ``frames`` that the track covers and tracked: the conditioning of the
window rows is rasterised in the stabilised crop, the renderer runs on batches, the crop is
pasted back with :func:`reenact.inference.composite.paste_back` (mouth region or whole face).
Frames outside ``frames``, not covered or not tracked, are the footage's own frames, so the
output always has the clip's frame count, size and frame rate (and its audio, for a movie).

**Crops.** ``crop_track`` (default: ``track``) places the crop: give the footage's own tracked
Track when ``track`` is an edited or transferred performance, so the crop follows the face that
is really in the frame, and an edit of one frame never moves the crops of its neighbours.

**Cache.** Rendered crops are stored in ``cache_dir`` (default ``reenact_cache/`` beside the
output) as ``<key[:2]>/<key>.npy`` (uint8 S x S x 3), where ``key`` hashes everything that
decides the crop: the pose, expression and gaze of the W window rows (and whether they are
tracked), the actor's identity, expression basis and camera, the crop transform of the frame,
the model file's SHA-256, the renderer's size/mode/window, the footage file (path, size,
modification time) and the clip frame index. Only frames whose key is missing are rendered;
compositing (region, feather, colour match) is re-applied from the cached crop, which is cheap,
so changing the region re-renders nothing. Delete the folder to reclaim the space.

**Progress / cancel.** ``progress(done, total, message)`` after every output frame; returning
False raises :class:`reenact.progress.Cancelled`. Crops already rendered stay in the cache and
frames already written to a folder output stay there (a movie output is only ever complete:
its temporary file is removed), so running again resumes where it stopped.
"""

import hashlib
import os
import threading
import time
from collections import OrderedDict

import numpy as np

from ..progress import Cancelled

CACHE_FORMAT = "reenact-crop-1"
CACHE_DIRNAME = "reenact_cache"
FRAME_PREFIX = "frame_"
FRAME_DIGITS = 6
REGIONS = ("mouth", "face")

_DIGESTS = {}
_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- identities
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


def source_identity(video):
    """A string naming the footage: path(s), sizes and modification times (not the pixels)."""
    paths = [video] if isinstance(video, (str, os.PathLike)) else list(video)
    parts = []
    for p in paths:
        p = os.path.abspath(os.fspath(p))
        try:
            st = os.stat(p)
            parts.append("{}|{}|{}".format(p, st.st_size, st.st_mtime_ns))
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


def row_digests(track):
    """(T,) list of per-row hashes of pose, expression, gaze and the tracked flag."""
    ok = np.asarray(track.tracked, bool) & np.isfinite(np.asarray(track.pose)).all(1)
    pose, ex, gz = (np.nan_to_num(np.asarray(a, np.float64)).astype(np.float32)
                    for a in (track.pose, track.expression, track.gaze))
    return [hashlib.sha1(b"%d" % ok[k] + pose[k].tobytes() + ex[k].tobytes() + gz[k].tobytes()).digest()
            for k in range(track.n_frames)]


def frame_keys(track, transforms, rows, window, renderer_id, source_id, geometry=None, rowd=None):
    """{row: cache key} for the given track ``rows`` (see the module doc)."""
    from ..face.raster import window_indices

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


# ----------------------------------------------------------------------------- storage
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
        except (OSError, ValueError):  # a damaged entry is simply rendered again
            return None

    def put(self, key, crop):
        if not self.folder:
            return
        p = self._path(key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".{}.tmp.npy".format(os.getpid())
        np.save(tmp, np.ascontiguousarray(crop, np.uint8), allow_pickle=False)
        os.replace(tmp, p)


class FrameFolder:
    """``frame_000000.png`` ... written straight into ``folder``, each file atomically (temp +
    rename), so an interrupted render keeps every frame it finished. A folder holding files
    that this writer would not name is refused; at :meth:`close`, own-named frames beyond the
    clip are removed."""

    def __init__(self, folder, n_frames, compression=1):
        import re

        self.path = os.path.abspath(os.fspath(folder))
        self.n = int(n_frames)
        self.compression = int(compression)
        self.frames_written = 0
        self._re = re.compile(re.escape(FRAME_PREFIX) + r"(\d+)\.png$")
        if os.path.exists(self.path):
            if not os.path.isdir(self.path):
                raise ValueError("{}: exists and is not a folder".format(self.path))
            foreign = [n for n in os.listdir(self.path) if not self._re.match(n) and n not in (".DS_Store", "Thumbs.db")]
            if foreign:
                raise ValueError("{}: output folder already holds other files (e.g. {}); choose an empty "
                                 "or new folder".format(self.path, foreign[0]))
        os.makedirs(self.path, exist_ok=True)

    def filename(self, index):
        return "{}{:0{}d}.png".format(FRAME_PREFIX, int(index), FRAME_DIGITS)

    def write(self, frame, index):
        import cv2

        ok, buf = cv2.imencode(".png", cv2.cvtColor(np.asarray(frame, np.uint8), cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_PNG_COMPRESSION, self.compression])
        if not ok:
            raise ValueError("{}: PNG encoding of frame {} failed".format(self.path, index))
        final = os.path.join(self.path, self.filename(index))
        tmp = os.path.join(self.path, ".{}.tmp".format(self.filename(index)))
        with open(tmp, "wb") as f:
            f.write(buf.tobytes())
        os.replace(tmp, final)
        self.frames_written += 1
        return final

    def close(self):
        for name in os.listdir(self.path):
            m = self._re.match(name)
            if m and int(m.group(1)) >= self.n:
                os.remove(os.path.join(self.path, name))


def default_cache_dir(out):
    """``reenact_cache`` in the folder that holds ``out`` (a movie file or a frame folder)."""
    return os.path.join(os.path.dirname(os.path.abspath(os.fspath(out))), CACHE_DIRNAME)


# ----------------------------------------------------------------------------- renderer
_RENDERERS = OrderedDict()


def get_renderer(model=None, prefer_gpu=True, threads=None):
    """A :class:`NeuralRenderer` for ``model`` (path or instance; None = the bundled base model),
    kept open between calls (Preview Frame must not reload the session)."""
    from .renderer import BASE_MODEL, NeuralRenderer

    if model is not None and not isinstance(model, (str, os.PathLike)):
        return model
    path = os.path.abspath(os.fspath(model or BASE_MODEL))
    if not os.path.isfile(path):
        raise ValueError("{}: renderer model not found".format(path))
    st = os.stat(path)
    k = (path, st.st_size, st.st_mtime_ns, bool(prefer_gpu), threads)
    with _LOCK:
        if k in _RENDERERS:
            return _RENDERERS[k]
    try:
        r = NeuralRenderer(path, prefer_gpu=prefer_gpu, threads=threads)
    except ValueError:
        raise
    except Exception as exc:  # onnxruntime load errors
        raise ValueError("{}: cannot load the model ({})".format(os.path.basename(path), type(exc).__name__)) from exc
    with _LOCK:
        _RENDERERS[k] = r
        while len(_RENDERERS) > 2:
            _RENDERERS.popitem(last=False)
    return r


def renderer_identity(renderer):
    c = renderer.config
    return "{}|{}|{}|{}".format(file_digest(renderer.path), renderer.size, renderer.mode, renderer.window) + \
        "|" + str(sorted((k, str(v)) for k, v in c.items()))


# ----------------------------------------------------------------------------- actor reference
_POOLS = OrderedDict()
POOL_PREFIX = "pool_"


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
    from ..face.reference import POOL_SIZE, POOL_VERSION

    h = hashlib.sha256("{}|{}|{}|{}|{}".format(POOL_VERSION, POOL_SIZE, int(size), source_identity(video),
                                                geometry_digest(track)).encode())
    h.update(b"%d" % int(track.frame_start))
    for d in row_digests(track):
        h.update(d)
    return h.hexdigest()


def reference_pool(track, video, size, transforms=None, cache_dir=None, progress=None, cancel=None):
    """The actor reference pool (:mod:`reenact.face.reference`) of ``track`` (the footage's own
    tracked Track) over ``video`` at crop ``size``: kept in memory between calls and stored in
    ``cache_dir`` as ``pool_<digest>.npz``, so only the first render of an actor decodes the
    footage for it. Returns (pool, digest)."""
    from ..face.reference import ReferencePool, build_pool

    digest = pool_digest(track, video, size)
    with _LOCK:
        hit = _POOLS.get(digest)
        if hit is not None:
            _POOLS.move_to_end(digest)
            return hit, digest
    path = os.path.join(cache_dir, POOL_PREFIX + digest + ".npz") if cache_dir else None
    pool = None
    if path and os.path.isfile(path):
        try:
            pool = ReferencePool.load(path)
        except (OSError, ValueError, KeyError):  # damaged or old: build it again
            pool = None
    if pool is None:
        pool = build_pool(track, video, size, transforms, progress=progress, cancel=cancel)
        if path:
            os.makedirs(cache_dir, exist_ok=True)
            pool.save(path)
    pool._digest = digest
    with _LOCK:
        _POOLS[digest] = pool
        while len(_POOLS) > 4:
            _POOLS.popitem(last=False)
    return pool, digest


# ----------------------------------------------------------------------------- conditioning
_COND = OrderedDict()  # (geometry, row digest, M bytes, S) -> (5, S, S) uint8, shared by calls
_COND_MAX = 256


class _Frames:
    """Conditioning and network inputs for the rows of one track (memoised per row)."""

    def __init__(self, track, transforms, renderer, pool=None, feats=None):
        from ..face.raster import Rasterizer
        from ..face.reference import features

        if renderer.ref and pool is None:
            raise ValueError("{}: this renderer needs the actor's reference frames".format(os.path.basename(renderer.path)))
        self.pool = pool if renderer.ref else None
        self.feats = (features(track) if feats is None else feats) if self.pool is not None else None
        self.track = track
        self.xf = transforms
        self.S = renderer.size
        self.W = renderer.window
        self.mode = renderer.mode
        self.rast = Rasterizer(track, self.S, transforms)
        self.geometry = geometry_digest(track)
        self.rowd = row_digests(track)
        self.t_cond = 0.0
        self.extras = {}

    def cond(self, r):
        k = (self.geometry, self.rowd[r], np.asarray(self.xf.M[r], np.float64).tobytes(), self.S)
        with _LOCK:
            c = _COND.get(k)
            if c is not None:
                _COND.move_to_end(k)
                return c
        t = time.perf_counter()
        from ..face.raster import cond_image

        out = self.rast.render(r)
        c = cond_image(out)
        self.extras[r] = (out["face"] > 0.5, out["mouth_region"] > 0.5)  # masks of this row
        self.t_cond += time.perf_counter() - t
        with _LOCK:
            _COND[k] = c
            while len(_COND) > _COND_MAX:
                _COND.popitem(last=False)
        return c

    def masks(self, r):
        """(face hole mask, mouth region mask) of row ``r`` (float32 S x S)."""
        from ..face.raster import hole_mask

        if r not in self.extras:
            t = time.perf_counter()
            out = self.rast.render(r)
            self.extras[r] = (out["face"] > 0.5, out["mouth_region"] > 0.5)
            self.t_cond += time.perf_counter() - t
        face, mouth = self.extras.pop(r)
        for k in [k for k in self.extras if k < r - self.W]:
            del self.extras[k]
        hole = hole_mask(face, self.S)
        return hole, lower_face_mask(hole, mouth, self.rast.points(r))

    def network_input(self, r, frame):
        from ..face.raster import crop_frame, stack_window, window_indices

        idx = window_indices(r, self.W, self.track.n_frames)
        stack = np.stack([self.cond(k) for k in idx])
        hole, mouth = self.masks(r)
        crop = crop_frame(frame, self.xf.M[r], self.S) if self.mode == "face-only" else None
        ref = None
        if self.pool is not None:
            t = time.perf_counter()
            ref = self.pool.reference(self.feats[r], self.rast.points(r))
            self.t_cond += time.perf_counter() - t
        x = stack_window(stack, len(stack) - 1, len(stack), self.mode, crop, hole, ref)
        return x, hole, mouth


#: MediaPipe vertex under the nose (subnasale): the mouth region starts just above it
SUBNASALE = 2


def lower_face_mask(hole, mouth_region, points):
    """The ``mouth`` compositing region (float32 0/1, crop space): the face hole below the
    bottom of the nose (jaw, chin, lips and the cheeks beside them: a jaw that opens moves the
    chin, so the lips alone are not enough), plus the lip region itself. The crop is
    stabilised upright, so "below" is a crop row."""
    S = hole.shape[0]
    y_cut = int(np.clip(np.floor(points[SUBNASALE, 1]), 0, S))
    m = np.zeros_like(hole, np.float32)
    m[y_cut:] = hole[y_cut:]
    return np.maximum(m, np.asarray(mouth_region, np.float32))


def _check_inputs(track, crop_track, size):
    if (int(track.size[0]), int(track.size[1])) != tuple(size):
        raise ValueError("the track is for {}x{} frames, the footage is {}x{}".format(
            int(track.size[0]), int(track.size[1]), size[0], size[1]))
    if crop_track is not None and (crop_track.n_frames != track.n_frames or crop_track.frame_start != track.frame_start):
        raise ValueError("the crop track covers clip frames {}..{}, the performance {}..{}".format(
            crop_track.frame_start, crop_track.frame_start + crop_track.n_frames - 1,
            track.frame_start, track.frame_start + track.n_frames - 1))


def _region_mask(region, hole, mouth):
    if region not in REGIONS:
        raise ValueError("region must be one of {}".format(", ".join(REGIONS)))
    return mouth if region == "mouth" else hole


# ----------------------------------------------------------------------------- whole clips
def resolve_range(frames, n):
    """``frames`` (a, b) with None / negative values (Python slice rules) -> checked (a, b)."""
    a, b = (None, None) if frames is None else frames
    a = 0 if a is None else (int(a) + n if int(a) < 0 else int(a))
    b = n if b is None else (int(b) + n if int(b) < 0 else int(b))
    if not (0 <= a < b <= n):
        raise ValueError("frames {}:{} are outside the clip's {} frames".format(
            "" if frames is None or frames[0] is None else frames[0],
            "" if frames is None or frames[1] is None else frames[1], n))
    return a, b


def render_clip(track, video, model=None, out=None, frames=None, region="mouth", cache_dir=None,
                batch=8, progress=None, crop_track=None, transforms=None, lossless=False,
                prefer_gpu=True, threads=None, feather=None, colour=True, on_frame=None, pool=None):
    """Render ``track`` over clip frames ``frames`` = (a, b) of ``video`` and write every clip
    frame to ``out`` (movie path, frame folder, or None). Returns a summary dict: ``frames``
    (written), ``rendered`` (inferred), ``cached`` (crops from the cache), ``copied`` (footage
    frames passed through), ``provider``, ``timings_ms`` (per stage), ``seconds``, ...

    ``on_frame(i, frame)`` is called for every output frame (e.g. to collect them).
    ``pool``: the actor reference pool for renderers that use one (default: built from the crop
    track over ``video`` by :func:`reference_pool`, cached beside the crops).
    See the module doc for the cache, crops and cancelling."""
    from ..face.raster import crop_transforms
    from ..video import MOVIE_EXTENSIONS, VideoWriter, open_video
    from .composite import paste_back

    if region not in REGIONS:
        raise ValueError("region must be one of {}".format(", ".join(REGIONS)))
    t_start = time.perf_counter()
    renderer = get_renderer(model, prefer_gpu=prefer_gpu, threads=threads)
    src = open_video(video)
    try:
        n, size = len(src), (src.width, src.height)
        _check_inputs(track, crop_track, size)
        a, b = resolve_range(frames, n)
        S = renderer.size
        base = crop_track if crop_track is not None else track
        xf = transforms if transforms is not None else crop_transforms(base, S)
        if out is not None and cache_dir is None:
            cache_dir = default_cache_dir(out)
        rid = renderer_identity(renderer)
        if renderer.ref:
            if pool is None:
                def pool_progress(done, total):
                    if progress is not None and progress(0, n, "reference frames {}/{}".format(done, total)) is False:
                        raise Cancelled()

                pool, pdig = reference_pool(base, video, S, xf, cache_dir, pool_progress)
            else:
                pdig = pool_identity(pool)
            rid += "|pool " + pdig
        fr = _Frames(track, xf, renderer, pool)
        T, f0 = track.n_frames, int(track.frame_start)
        rows = [i - f0 for i in range(a, b) if 0 <= i - f0 < T and fr.rast.ok[i - f0]]
        keys = frame_keys(track, xf, rows, renderer.window, rid, source_identity(video), fr.geometry, fr.rowd)
        cache = CropCache(cache_dir)
        writer = None
        is_movie = out is not None and os.path.splitext(os.fspath(out))[1].lower() in MOVIE_EXTENSIONS
        if out is not None:
            if is_movie:
                writer = VideoWriter(out, src.rate, size, lossless=lossless,
                                     audio_from=video if (src.kind == "movie" and src.has_audio) else None)
            else:
                writer = FrameFolder(out, n)
        stats = dict(rendered=0, cached=0, copied=0, written=0)
        short = renderer.provider.replace("ExecutionProvider", "")
        tm = dict(decode=0.0, infer=0.0, composite=0.0, encode=0.0, cache=0.0)
        queue = []  # [i, frame, ready_frame or None, pending entry]
        pending = []

        def emit(i, frame):
            t = time.perf_counter()
            if writer is not None:
                if is_movie:
                    writer.write(frame)
                else:
                    writer.write(frame, i)
            tm["encode"] += time.perf_counter() - t
            if on_frame is not None:
                on_frame(i, frame)
            stats["written"] += 1
            if progress is not None and progress(stats["written"], n, "frame {} on {}".format(i, short)) is False:
                raise Cancelled()

        def composite(entry, crop):
            i, frame, r, mask = entry
            t = time.perf_counter()
            res = paste_back(frame, crop, mask, xf.Minv[r], feather=feather, colour=colour)
            tm["composite"] += time.perf_counter() - t
            return res

        def flush(force=False):
            if pending and (force or len(pending) >= batch):
                t = time.perf_counter()
                crops = renderer.run(np.stack([p[1] for p in pending]), batch)
                tm["infer"] += time.perf_counter() - t
                for (slot, _x, key), crop in zip(pending, crops):
                    t = time.perf_counter()
                    cache.put(key, crop)
                    tm["cache"] += time.perf_counter() - t
                    slot[2] = composite(slot[3], crop)
                    stats["rendered"] += 1
                pending.clear()
            while queue and queue[0][2] is not None:
                i, _f, ready, _e = queue.pop(0)
                emit(i, ready)

        try:
            t = time.perf_counter()
            for i, frame in src.iter_frames(0, n):
                tm["decode"] += time.perf_counter() - t
                r = i - f0
                if r not in keys:  # outside the range, not covered or untracked: the footage
                    queue.append([i, frame, frame, None])
                    stats["copied"] += 1
                else:
                    hit = cache.get(keys[r])
                    if hit is not None and hit.shape == (S, S, 3):
                        hole, mouth = fr.masks(r)
                        entry = (i, frame, r, _region_mask(region, hole, mouth))
                        queue.append([i, frame, composite(entry, hit), entry])
                        stats["cached"] += 1
                    else:
                        x, hole, mouth = fr.network_input(r, frame)
                        slot = [i, frame, None, (i, frame, r, _region_mask(region, hole, mouth))]
                        queue.append(slot)
                        pending.append((slot, x, keys[r]))
                flush(force=len(queue) > 4 * batch)
                t = time.perf_counter()
            flush(force=True)
        except BaseException:
            if writer is not None and is_movie:
                writer.abort()
            raise
        if writer is not None:
            t = time.perf_counter()
            writer.close()
            tm["encode"] += time.perf_counter() - t
    finally:
        src.close()
    seconds = time.perf_counter() - t_start
    tm["conditioning"] = fr.t_cond
    return {
        "out": os.path.abspath(os.fspath(out)) if out is not None else None,
        "frames": stats["written"], "range": [a, b], "region": region,
        "rendered": stats["rendered"], "cached": stats["cached"], "copied": stats["copied"],
        "provider": renderer.provider, "model": renderer.path, "size": S,
        "cache_dir": cache.folder, "audio": bool(is_movie and getattr(writer, "audio_copied", False)),
        "seconds": round(seconds, 3),
        "timings_ms": {k: round(v * 1000.0, 1) for k, v in tm.items()},
    }


# ----------------------------------------------------------------------------- one frame
def render_frame(track, frame, i, model=None, region="mouth", cache_dir=None, transforms=None,
                 crop_track=None, source_id="", prefer_gpu=True, threads=None, feather=None, colour=True,
                 pool=None, video=None):
    """Clip frame ``i`` of the footage (``frame``: its pixels, (H, W, 3) uint8) with ``track``'s
    performance composited in: returns ``(frame, info)``, ``info`` = {rendered, cached,
    provider, key, timings_ms}. Only the window rows are rasterised (memoised across calls), so
    the preview of a frame next to the previous one costs one conditioning and one inference.
    ``transforms``: the crop transforms of the whole track (pass them to avoid recomputing).
    ``pool``: the actor reference pool (:func:`reference_pool`) for renderers that use one; when
    omitted it is made from ``video`` (the footage; cached in ``cache_dir``)."""
    from ..face.raster import crop_transforms, window_indices
    from .composite import paste_back

    t0 = time.perf_counter()
    renderer = get_renderer(model, prefer_gpu=prefer_gpu, threads=threads)
    S = renderer.size
    frame = np.asarray(frame)
    _check_inputs(track, crop_track, (frame.shape[1], frame.shape[0]))
    r = int(i) - int(track.frame_start)
    info = {"rendered": 0, "cached": 0, "provider": renderer.provider, "key": None, "timings_ms": {}}
    if not (0 <= r < track.n_frames) or not bool(track.tracked[r]) or not np.isfinite(track.pose[r]).all():
        return frame.copy(), info
    xf = transforms if transforms is not None else crop_transforms(crop_track if crop_track is not None else track, S)
    idx = window_indices(r, renderer.window, track.n_frames)
    lo = int(idx[0])
    sub = track.subset(track.frame_start + lo, track.frame_start + r + 1)  # only the window rows
    from ..face.raster import CropTransforms

    sub_xf = CropTransforms(xf.M[lo:r + 1], xf.Minv[lo:r + 1], xf.size)
    rid = renderer_identity(renderer)
    feats = None
    if renderer.ref and pool is None and video is not None:
        pool = reference_pool(crop_track if crop_track is not None else track, video, S, xf, cache_dir)[0]
    if renderer.ref and pool is not None:
        from ..face.reference import features

        feats = features(track)[lo:r + 1]  # normalised over the whole performance, as render_clip
        rid += "|pool " + pool_identity(pool)
    fr = _Frames(sub, sub_xf, renderer, pool, feats)
    key = frame_keys(sub, sub_xf, [r - lo], renderer.window, rid, source_id,
                     geometry=fr.geometry, rowd=fr.rowd)[r - lo]
    # the window of the sub-track is clamped at its own start, as the whole track's is at row 0
    info["key"] = key
    cache = CropCache(cache_dir)
    crop = cache.get(key)
    t = time.perf_counter()
    if crop is None or crop.shape != (S, S, 3):
        x, hole, mouth = fr.network_input(r - lo, frame)
        t1 = time.perf_counter()
        crop = renderer.run(x[None], 1)[0]
        info["timings_ms"]["infer"] = round((time.perf_counter() - t1) * 1000, 1)
        cache.put(key, crop)
        info["rendered"] = 1
    else:
        hole, mouth = fr.masks(r - lo)
        info["cached"] = 1
    info["timings_ms"]["conditioning"] = round(fr.t_cond * 1000, 1)
    t = time.perf_counter()
    out = paste_back(frame, crop, _region_mask(region, hole, mouth), xf.Minv[r], feather=feather, colour=colour)
    info["timings_ms"]["composite"] = round((time.perf_counter() - t) * 1000, 1)
    info["timings_ms"]["total"] = round((time.perf_counter() - t0) * 1000, 1)
    return out, info
