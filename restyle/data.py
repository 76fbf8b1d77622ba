# SPDX-License-Identifier: GPL-3.0-or-later
"""Training data: clips decoded and resized to the working resolution, and deterministic
sampling of frame triplets (t-2, t-1, t) for the temporal predictors. numpy + OpenCV only.

A domain is a list of clips; a clip is a path (any movie/image sequence ``open_video`` reads: a
movie, a folder of numbered images or a pattern such as ``shot/frame_%04d.png``, of any size or
frame rate: frames are resized to ``size`` x ``size``), a :class:`ClipSpec` (a path and a frame
range: what a trimmed sequencer strip shows; on the command line ``PATH@A:B``) or an already
loaded (T, size, size, 3) uint8 array.
"""

import collections
import hashlib
import os
import re

import cv2
import numpy as np

from ..fsutil import write_atomic
from ..video import open_video, sequence_pattern
from ..video.bars import shot_picture_area

#: frame rate the triplets are sampled at: faster footage is subsampled to about this rate
TARGET_FPS = 30.0


#: a clip and the frames [start, stop) of it to use (0-based, stop excluded; None: to the end)
ClipSpec = collections.namedtuple("ClipSpec", "path start stop")

_RANGE = re.compile(r"^(.+)@(\d*):(\d*)$")


def clip_spec(item):
    """A path, ``PATH@A:B`` (frames A..B-1; either side may be empty) or a ClipSpec -> ClipSpec.
    A path that exists as written is a path, even if it contains ``@``."""
    if isinstance(item, ClipSpec):
        return item
    if isinstance(item, (tuple, list)):
        return ClipSpec(*item)
    item = os.fspath(item)
    m = _RANGE.match(item)
    if m and not os.path.exists(item):
        a, b = m.group(2), m.group(3)
        return ClipSpec(m.group(1), int(a) if a else 0, int(b) if b else None)
    return ClipSpec(item, 0, None)


def sequence_spec(files, start=0, stop=None):
    """The ClipSpec of frames [start, stop) of an image sequence given as its files in frame
    order (a Blender image strip's folder and elements): the sequence's numbered pattern, text
    that another process opens, and the range in it. ValueError (one line naming the folder)
    when the files are not one consecutive numbered run."""
    pattern, first = sequence_pattern(files)
    stop = len(files) if stop is None else min(int(stop), len(files))
    return ClipSpec(pattern, first + max(0, int(start or 0)), first + stop)


def _is_pattern(path):
    """A path that names an image sequence by pattern (``%04d``, ``####``, a glob), not a file."""
    base = os.path.basename(path)
    return not os.path.exists(path) and ("%" in base or "#" in base or any(c in base for c in "*?["))


def clip_files(path):
    """The files a clip reads: the movie, or every image of its sequence (a folder, a pattern)."""
    if os.path.isfile(path):
        return [path]
    with open_video(path) as src:
        return [f for f in (getattr(src, "files", None) or [src.path]) if f]


def _file_ids(path):
    """What identifies the files of a clip on disk (device and inode: through symlinks and hard
    links), so that a shot and a reference that share a file are found (before 2026-12-06 an image
    sequence named as its folder and as its pattern counted as other footage)."""
    out = set()
    for f in clip_files(path):
        st = os.stat(f)
        out.add((st.st_dev, st.st_ino))
    return out




def spec_text(spec):
    """The command-line form of a ClipSpec (``PATH`` or ``PATH@A:B``)."""
    spec = clip_spec(spec)
    if not spec.start and spec.stop is None:
        return spec.path
    return "{}@{}:{}".format(spec.path, spec.start or 0, "" if spec.stop is None else spec.stop)


def check_domains(x_items, y_items, colourise=False):
    """What can be known before any decoding or training, one ValueError line each: an empty
    domain, a missing file, a frame range that is empty, the same file as shot and reference, and
    (``colourise``) a shot that is already in colour or black-and-white reference footage (a few
    frames of each range are read)."""
    for items, name in ((x_items, "X (the shots)"), (y_items, "Y (the reference)")):
        if not items:
            raise ValueError("{} is empty: give at least one clip".format(name))
    xs = [clip_spec(i) for i in x_items if not isinstance(i, np.ndarray)]
    ys = [clip_spec(i) for i in y_items if not isinstance(i, np.ndarray)]
    for s in xs + ys:
        if _is_pattern(s.path):  # an image sequence: its files listed, its first image read
            open_video(s.path).close()
        elif not os.path.exists(s.path):
            raise ValueError("{}: file does not exist".format(s.path))
        if s.stop is not None and s.stop - (s.start or 0) < 3:
            raise ValueError("{}: frames {}:{} hold fewer than 3 frames".format(s.path, s.start, s.stop))
        with open_video(s.path) as src:
            n, step = src.frame_count, _sample_step(src)
        if s.start or s.stop is not None:  # (before 2026-12-05 --colourise read past the end: a traceback)
            if (s.start or 0) >= n or (s.stop is not None and s.stop > n):
                raise ValueError("{}: frames {}:{} are outside the clip ({} frames)".format(
                    s.path, s.start or 0, "" if s.stop is None else s.stop, n))
        used = len(range(s.start or 0, n if s.stop is None else s.stop, step))
        if used < 3:  # (before 2026-12-06 a 60 fps clip of 4 frames passed here, then failed in the trainer)
            raise ValueError("{}: frames {}:{} give {} frame(s) to train on (training takes about {:g} fps: every "
                             "{} frame(s) of this {:g} fps clip); it needs at least 3: use more of it".format(
                                 s.path, s.start or 0, n if s.stop is None else s.stop, used, TARGET_FPS, step,
                                 src.fps))
    x_ids = [_file_ids(x.path) for x in xs]
    for y in ys:
        y_ids = _file_ids(y.path)
        for x, ids in zip(xs, x_ids):
            if os.path.realpath(x.path) == os.path.realpath(y.path) or not ids.isdisjoint(y_ids):
                raise ValueError("{}: the reference footage is the shot itself (the same file as X); "
                                 "choose other footage with the look you want".format(y.path))
    if colourise:
        from .colour import TONED_HINT, is_grey

        def grey(s):
            with open_video(s.path) as src:
                stop = src.frame_count if s.stop is None else min(s.stop, src.frame_count)
                idx = np.unique(np.linspace(s.start or 0, max(stop - 1, 0), 8).astype(int))
                frames = [src.read(int(i)) for i in idx]
            return is_grey([f for f in frames if f is not None])

        for s in xs:
            if not grey(s):
                raise ValueError("{}: --colourise: the shot (X) is already in colour; give a black-and-white "
                                 "shot {}".format(s.path, TONED_HINT))
        for s in ys:
            if grey(s):
                raise ValueError("{}: --colourise: the reference footage (Y) is black-and-white; give colour "
                                 "footage".format(s.path))


def _sample_step(src):
    """Every how many frames of the open clip ``src`` training samples (about :data:`TARGET_FPS`)."""
    return max(1, int(round((src.fps or TARGET_FPS) / TARGET_FPS)))


def _stamp(path):
    """The file's size and time (every image's, for a sequence): a file written over since."""
    if os.path.isfile(path):
        st = os.stat(path)
        return "{}|{}".format(st.st_size, int(st.st_mtime))
    with open_video(path) as src:  # a folder or pattern: every image of the sequence
        stats = [os.stat(f) for f in src.files if f]
    return hashlib.sha1("|".join("{}:{}:{}".format(f, s.st_size, s.st_mtime_ns) for f, s in zip(
        src.files, stats)).encode("utf-8", "surrogateescape")).hexdigest()


def _cache_name(path, size, max_frames, start=0, stop=None):
    stamp = _stamp(path)
    key = "{}|{}|{}|{}|bars".format(os.path.abspath(path), stamp, size, max_frames)
    if start or stop is not None:
        key += "|{}:{}".format(start or 0, stop)
    return hashlib.sha1(key.encode()).hexdigest()[:16] + ".npy"


def load_clip(path, size, max_frames=None, cache_dir=None, start=0, stop=None):
    """(T, size, size, 3) uint8 RGB frames [start, stop) of a clip, each resized (INTER_AREA) to
    size x size, subsampled to about :data:`TARGET_FPS`. Letterbox or pillarbox bars (found on the
    whole clip, :func:`~reenact.video.bars.shot_picture_area`, as ``apply`` finds them) are cut
    off first: a letterboxed reference would otherwise teach the look a share of pure black."""
    if cache_dir:
        cp = os.path.join(cache_dir, _cache_name(path, size, max_frames, start, stop))
        if os.path.isfile(cp):
            try:
                return np.load(cp, allow_pickle=False)
            except (OSError, ValueError, EOFError):  # damaged (a copy cut short): decoded again
                pass
    frames = []
    with open_video(path) as src:
        step = _sample_step(src)
        if (start or 0) >= src.frame_count or (stop is not None and stop > src.frame_count):
            raise ValueError("{}: frames {}:{} are outside the clip ({} frames)".format(
                path, start or 0, "" if stop is None else stop, src.frame_count))
        x0, y0, x1, y1 = shot_picture_area(src)
        for _, f in src.iter_frames(start or 0, stop, step):
            if f is None:
                continue
            frames.append(cv2.resize(f[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA))
            if max_frames and len(frames) >= max_frames:
                break
    if len(frames) < 3:
        raise ValueError("{}: needs at least 3 frames, has {}".format(path, len(frames)))
    arr = np.stack(frames)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomic(cp, lambda fh: np.save(fh, arr, allow_pickle=False))
    return arr


def load_domain(items, size, max_frames=None, cache_dir=None, name="domain", counts=None):
    """The frames of every clip of a domain (:func:`load_clip`; arrays as given), each clip split
    into its shots (:func:`shots`), so that no triplet spans a cut. ``counts``: a list that gets
    each item's number of shots."""
    if not items:
        raise ValueError("{} is empty: give at least one clip".format(name))
    out = []
    for it in items:
        if isinstance(it, np.ndarray):
            if it.ndim != 4 or it.shape[1:] != (size, size, 3) or len(it) < 3:
                raise ValueError("{}: arrays must be (T>=3, {s}, {s}, 3) uint8".format(name, s=size))
            parts = shots(it.astype(np.uint8, copy=False))
        else:
            sp = clip_spec(it)
            parts = shots(load_clip(sp.path, size, max_frames, cache_dir, sp.start, sp.stop))
        out.extend(parts)
        if counts is not None:
            counts.append(len(parts))
    return out


def shots(frames):
    """``frames`` (T, S, S, 3) split at its hard cuts (:class:`~reenact.video.cuts.CutFinder` on
    them): the shots of 3 frames or more (an edited reference, a trailer, taught the temporal
    predictors to foresee a cut). A clip without cuts comes back whole."""
    from ..video.cuts import CutFinder

    finder = CutFinder()
    for f in frames:
        finder.add(f)
    edges = [0] + [int(j) for j in finder.starts()] + [len(frames)]
    parts = [frames[a:b] for a, b in zip(edges[:-1], edges[1:]) if b - a >= 3]
    return parts if parts else [frames]


def _samples(size, movie):
    """(offset, length) of the bytes of a file of ``size`` that :func:`_content` reads: all of a
    small file; else its start and end, and (a movie) 32 pieces across it, (an image) 4."""
    if size <= 1 << 18:
        return [(0, size)]
    edge, piece, n = (1 << 16, 1 << 12, 32) if movie else (1 << 14, 1 << 12, 4)
    inside = [edge + (size - 2 * edge - piece) * (i + 1) // (n + 1) for i in range(n)]
    return [(0, edge)] + [(o, piece) for o in inside] + [(size - edge, edge)]


def _content(path):
    """What a clip's files hold, as far as a few reads tell: each file's size and bytes from its
    start, end and across it (:func:`_samples`), in the clip's order. The same wherever the files
    are copied or moved, whatever their times; a file written over under its name differs."""
    files = clip_files(path)
    h = hashlib.sha1(str(len(files)).encode())
    for f in files:
        size = os.path.getsize(f)
        h.update(b"|%d|" % size)
        with open(f, "rb") as fh:
            for offset, n in _samples(size, len(files) == 1):
                fh.seek(offset)
                h.update(fh.read(n))
    return h.hexdigest()[:20]


def clip_records(items):
    """What a model card says of each clip of a domain (docs/restyle.md, *Model card in the
    ONNX*): ``name`` (the movie's, the folder's or the pattern's file name), ``frames`` ([first,
    end) of the clip, end None: to its end) and ``footage`` (:func:`_content`, as the checkpoint's
    data key holds it); an array as ``{"array": shape}``."""
    out = []
    for it in items:
        if isinstance(it, np.ndarray):
            out.append({"array": list(it.shape)})
            continue
        sp = clip_spec(it)
        out.append({"name": os.path.basename(os.path.normpath(sp.path)), "frames": [sp.start or 0, sp.stop],
                    "footage": _content(sp.path)})
    return out


def data_key(items, max_frames=None, records=None):
    """What a checkpoint was trained on, to resume only on the same data: each clip's content
    (:func:`_content`) and range, in any order of the clips (before 2026-12-06 in the order given:
    a reference moved to another channel in Blender started afresh), ``max_frames``; arrays by
    shape. Not the paths or file times:
    before 2026-12-06 a project moved or copied to another machine (the same frames) started
    afresh, "trained on other clips" (:func:`trained_on` still takes that key where it holds);
    before 2026-12-05 the paths and ranges only: a plate rendered again under its name resumed.
    ``records``: the items' :func:`clip_records`, when made already (each file read once)."""
    out = ["array{}".format(r["array"]) if "array" in r else "{}:{}|{}".format(
        r["frames"][0], "" if r["frames"][1] is None else r["frames"][1], r["footage"])
        for r in (clip_records(items) if records is None else records)]
    return sorted(out) + ["max_frames={}".format(max_frames)]  # (in any order: --y A --y B is --y B --y A)


def _path_key(items, max_frames=None):
    """:func:`data_key` before 2026-12-06: absolute paths, ranges, file sizes and times."""
    out = _keyed(items, lambda sp: "{}@{}:{}|{}".format(os.path.abspath(sp.path), sp.start or 0,
                                                        "" if sp.stop is None else sp.stop, _stamp(sp.path)))
    return out + ["max_frames={}".format(max_frames)]


def _keyed(items, text):
    """Each of ``items`` as a key's words: an array by its shape, a clip by ``text(clip_spec)``."""
    return ["array{}".format(list(it.shape)) if isinstance(it, np.ndarray) else text(clip_spec(it)) for it in items]


def trained_on(saved, x_items, y_items, max_frames=None):
    """Whether a checkpoint's data key ``saved`` (JSON) that is not this run's is of these clips
    all the same: the key before 2026-12-06 (:func:`_path_key`) of these very files, unmoved and
    unchanged since, in any order of the clips, so that a checkpoint trained then still resumes
    (Train Restyle in Blender gave the references in the order of their channels then, and of
    their names now)."""
    import json

    try:
        saved = [sorted(keys) for keys in json.loads(saved)]
        return saved == [sorted(_path_key(items, max_frames)) for items in (x_items, y_items)]
    except (OSError, ValueError, TypeError):
        return False


def sample_triplets(clips, rng, batch, aux=None):
    """(batch, 3, S, S, 3) uint8 triplets from ``clips`` (clip chosen in proportion to its length),
    randomly mirrored left/right (the same way for the three frames). ``aux``: per-frame arrays
    beside the clips (the colourise prior, (T, S, S, K) each): then returns (triplets, the same
    triplets of ``aux``, mirrored alike)."""
    lens = np.array([len(c) - 2 for c in clips], np.float64)
    ci = rng.choice(len(clips), size=batch, p=lens / lens.sum())
    out, extra = [], []
    for c in ci:
        t = int(rng.integers(2, len(clips[c])))
        tri = clips[c][t - 2:t + 1]
        ax = None if aux is None else aux[c][t - 2:t + 1]
        if rng.random() < 0.5:
            tri = tri[:, :, ::-1]
            ax = None if ax is None else ax[:, :, ::-1]
        out.append(tri)
        extra.append(ax)
    if aux is None:
        return np.stack(out)
    return np.stack(out), np.stack(extra)
