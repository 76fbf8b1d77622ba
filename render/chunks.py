# SPDX-License-Identifier: GPL-3.0-or-later
"""A render farm job's chunks in one frame folder (docs/farm.md). Each chunk task leaves a
marker in the folder before its first frame and again once its frames are written: the job it
belongs to (a token the job compiler gives every task of one submission), the job's clip frames
[a, b), the chunk's [c, d), the clip's length, and (by the marker file's times on the shared
storage, one clock for every worker) when it began and ended. Assemble checks with them that
the job's chunks all finished and that no other job wrote over its frames since (a job
resubmitted after an edit, a second job of the same shot), so frames of two jobs are never
assembled into one result (before 2026-12-06 only that a file was there for every frame was
checked). A folder without markers (an older job) is checked as before."""

import contextlib
import hashlib
import json
import os
import re

from ..fsutil import write_atomic
from ..video.pngs import CHUNK_MARKER_RE, frame_numbers
from .ranges import chunk_segments

MARKER_RE = CHUNK_MARKER_RE  # (the frame folder's writer knows the name: video/pngs.py)
FRAME_RE = re.compile(r"^frame_\d+\.(png|exr)$")
#: another job's chunk whose start marker, and every frame of its chunk, is older than this (by
#: the storage's clock) when a chunk of a new job begins over its frames died: its marker is
#: cleared. A younger one may be writing still and stays (until 2026-12-06's farm audit every
#: unfinished marker of another job was cleared, a live one too: the two jobs' frames were then
#: assembled as either job's)
STALE_SECONDS = 15 * 60
#: the start of each chunk this process marked (its marker file's time), kept for its end marker
#: when the start marker is gone meanwhile
_STARTED = {}


def marker_name(chunk, job=""):
    """The marker's file name: the chunk's frames and the job's (two jobs chunked alike each keep
    their own marker)."""
    tag = hashlib.sha1(str(job or "").encode("utf-8")).hexdigest()[:8]
    return ".reenact_chunk_{:06d}_{:06d}_{}.json".format(int(chunk[0]), int(chunk[1]), tag)


def mark_chunk(folder, job, frames, chunk, n_frames, done=True, digest=None, options=None):
    """The marker of the chunk [c, d) of the job ``job`` (frames [a, b) of a clip of
    ``n_frames``) in ``folder``: before its first frame (``done`` False: a chunk writing, or one
    that died), then once its frames are written. Its times are the marker file's on the shared
    storage (the file server's clock, not each worker's): the start, kept, and the end.
    ``digest``: what the chunk rendered (its performance, model and options), the same in every
    chunk of one job: the assembly refuses chunks that rendered different ones. ``options``: the
    options it was rendered with (a dict; Blender's Render Edited Actors renders the assembled
    result again with them: :func:`job_record`)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, marker_name(chunk, job))
    extra = {} if digest is None else {"digest": str(digest)}
    if options is not None:
        extra["options"] = dict(options)
    if not done:
        # the first marker in a folder of frames written before markers existed (a job rendered before
        # 2026-12-06, a chunk of it rendered again since): the assembly checks that job by its files
        names = os.listdir(folder)
        legacy = not any(MARKER_RE.match(n) for n in names) and any(FRAME_RE.match(n) for n in names)
        _write(path, job, frames, chunk, n_frames, False, None, legacy, extra)
        now = _STARTED[path] = os.stat(path).st_mtime  # (the storage's clock)
        mine = chunk_segments(frames, chunk, n_frames)
        for m in _markers(folder):
            if m["path"] == path:
                continue
            if m["job"] == str(job or "") and tuple(m["frames"]) == tuple(frames) and (
                    chunk[0] <= m["chunk"][0] and m["chunk"][1] <= chunk[1]):  # (its chunk rendered again, within this one)
                _remove(m["path"])
            elif m["job"] != str(job or "") and not m["done"] and _overlap(
                    chunk_segments(m["frames"], m["chunk"], m["n"]), mine) and _dead(m, folder, now):
                _remove(m["path"])  # (another job's chunk that began over these frames and died; one that
                # writes still keeps its marker: the assembly of either job then refuses)
        return
    started, legacy = _STARTED.pop(path, None), False
    try:
        with open(path, "rb") as fh:
            was = json.loads(fh.read(1 << 16).decode("utf-8"))
        if was.get("job") == str(job or "") and not was.get("done"):
            started = os.stat(path).st_mtime
            legacy = bool(was.get("legacy", False))
        elif was.get("job") == str(job or "") and was.get("started") is not None:
            started = float(was["started"])
    except FileNotFoundError:  # (its start marker gone: the start this process kept, else the earliest
        started = 0.0 if started is None else started  # possible, so no other job's chunk counts as before it)
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    _write(path, job, frames, chunk, n_frames, True, started, legacy, extra)


def _write(path, job, frames, chunk, n_frames, done, started, legacy, extra):
    data = json.dumps(dict({"job": str(job or ""), "frames": [int(v) for v in frames],
                            "chunk": [int(v) for v in chunk], "n": int(n_frames), "done": bool(done),
                            "started": started, "legacy": legacy}, **extra)).encode()
    write_atomic(path, lambda fh: fh.write(data))


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _dead(m, folder, now):
    """Whether the unfinished chunk of marker ``m`` died: neither its marker nor a frame of its
    chunk changed in the last :data:`STALE_SECONDS` (``now``: the storage's clock)."""
    if m["started"] > now - STALE_SECONDS:
        return False
    try:
        numbered = frame_numbers(folder)
    except OSError:
        return True
    # (a plate's frames are numbered as the plate: clip frame 0 is its first number)
    first = min(k for k, _ in numbered) if numbered and max(k for k, _ in numbered) >= m["n"] else 0
    segs = chunk_segments(m["frames"], m["chunk"], m["n"])
    for number, name in numbered:
        if any(s <= number - first < e for s, e in segs):
            try:
                if os.stat(os.path.join(folder, name)).st_mtime > now - STALE_SECONDS:
                    return False
            except OSError:
                pass
    return True


@contextlib.contextmanager
def marking(folder, job, frames, chunk, n_frames, digest=None):
    """The markers of a chunk rendered into the frame folder ``folder`` (``reenact render
    --chunk``): its start before the work, its end once the work returned (none when it failed:
    assemble then says the chunk has not finished). The whole job (``chunk`` None or the job's
    frames) into a folder of its own: no marker; into a farm job's folder (it holds markers: the
    job rendered whole again after a chunk failed), the marker of the whole job. ``digest``: what
    it renders (:func:`mark_chunk`)."""
    if chunk is None or tuple(chunk) == tuple(frames):
        if not jobs_in(folder):
            with _whole(folder, job, frames, n_frames):
                yield
            return
        chunk = tuple(frames)
    mark_chunk(folder, job, frames, chunk, n_frames, done=False, digest=digest)
    yield
    mark_chunk(folder, job, frames, chunk, n_frames, digest=digest)


@contextlib.contextmanager
def _whole(folder, job, frames, n_frames):
    """A whole render into a folder of its own: no marker into a new or empty one; into one that
    holds frames already (an earlier render's), a marker (``plain``) while it writes over them,
    removed once it is done, so that :func:`check_chunks` refuses a folder it left half written
    (before 2026-12-06 a render stopped part-way left a mix of two renders, 32 of 120 frames
    new, and `reenact assemble` made a movie of it, exit 0). An earlier stopped render's marker
    is kept until one finishes: its frames may be in the folder too."""
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    plain = [m["path"] for m in _markers(folder) if m["plain"]] if names else []
    if not plain and any(FRAME_RE.match(n) for n in names):
        path = os.path.join(folder, marker_name(frames, job))
        _write(path, job, frames, frames, n_frames, False, None, False, {"plain": True})
        plain.append(path)
    yield
    for path in plain:
        _remove(path)


def _markers(folder):
    out = []
    for name in os.listdir(folder):
        if not MARKER_RE.match(name):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as fh:
                m = json.loads(fh.read(1 << 16).decode("utf-8"))
            mtime = os.stat(path).st_mtime
            a, b = (int(v) for v in m["frames"])
            c, d = (int(v) for v in m["chunk"])
            done = bool(m.get("done", True))
            started = float(m["started"]) if done and m.get("started") is not None else mtime
            out.append({"job": str(m["job"]), "frames": (a, b), "chunk": (c, d), "n": int(m["n"]), "done": done,
                        "started": started if done else mtime, "ended": mtime if done else None, "path": path,
                        "legacy": bool(m.get("legacy", False)), "digest": m.get("digest") or None,
                        "plain": bool(m.get("plain", False)),  # (a whole render over a folder's frames: _whole)
                        "options": m.get("options") if isinstance(m.get("options"), dict) else None})
        except (OSError, ValueError, KeyError, TypeError):
            continue  # (a marker being written by another task, or damaged: as if absent)
    return out


def job_frames(folder):
    """The clip frames [(a, b)] the jobs whose chunks left a marker in ``folder`` rendered (their
    ``frames``; a render synthesises only inside them): where a movie assembled from OpenEXR
    frames, which carry no manifest to tell them, starts and ends its segments."""
    try:
        return sorted({m["frames"] for m in _markers(folder)})
    except OSError:
        return []


def chunks_in(folder):
    """The clip frames [(c, d)] of every chunk that left a marker in ``folder``."""
    try:
        return sorted({m["chunk"] for m in _markers(folder)})
    except OSError:
        return []


def job_record(folder, job=None):
    """(digest, options) that the finished chunks of ``job`` in ``folder`` recorded
    (:func:`mark_chunk`; default the job of the newest finished chunk), each None where they did
    not record one or disagree: what an assembled result strip keeps, so that a render again
    (Blender's Render Edited Actors) finds it up to date or keeps its options."""
    try:
        done = [m for m in _markers(folder) if m["done"]]
    except OSError:
        return None, None
    if job is None and done:
        job = max(done, key=lambda m: m["ended"])["job"]
    mine = [m for m in done if m["job"] == str(job)]
    digests = {m["digest"] for m in mine}
    options = [m["options"] for m in mine if m["options"] is not None]
    digest = digests.pop() if len(digests) == 1 else None
    same = options and len(options) == len(mine) and all(o == options[0] for o in options)
    return digest, (options[0] if same else None)


def jobs_in(folder):
    """The jobs whose chunks left a marker in ``folder`` (not a whole render's: :func:`_whole`)."""
    try:
        return {m["job"] for m in _markers(folder) if not m["plain"]}
    except OSError:
        return set()


def _overlap(segs, others):
    return [(max(s, s2), min(e, e2)) for s, e in segs for s2, e2 in others if max(s, s2) < min(e, e2)]


def _spans(ranges):
    """[start, stop) ranges merged."""
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def _gaps(want, have):
    """The parts of [want) that the merged ``have`` ranges do not cover."""
    gaps, at = [], want[0]
    for s, e in _spans(have):
        if s > at:
            gaps.append((at, min(s, want[1])))
        at = max(at, e)
        if at >= want[1]:
            break
    if at < want[1]:
        gaps.append((at, want[1]))
    return [(s, e) for s, e in gaps if s < e]


def _said(gaps, timeline=None):
    """The clip frames [s, e) of ``gaps`` as words: "clip frames 4-9, 20", or with ``timeline``
    ((start, length, reversed) of the strip showing the clip) the timeline frames that show
    them, which a farm's render tasks are named by (before 2026-12-06 clip frames, which no task
    was named by)."""
    if timeline is not None:
        start, length, reverse = timeline
        at = (lambda c: start + length - 1 - c) if reverse else (lambda c: start + c)
        gaps = sorted(tuple(sorted((at(s), at(e - 1)))) for s, e in gaps)
        gaps = [(s, e + 1) for s, e in gaps]
    return ("timeline" if timeline is not None else "clip") + " frames " + ", ".join(
        "{}".format(s) if e == s + 1 else "{}-{}".format(s, e - 1) for s, e in gaps[:6]) + (
        " ..." if len(gaps) > 6 else "")


def check_chunks(folder, job=None, timeline=None):
    """The job whose frames ``folder`` holds, checked (None when it holds no marker: an older
    farm job's folder, checked by its files alone; or when that job is the one whose first chunk
    found such a folder's frames, ``legacy``: its other frames are that older job's). ``job``: the
    token of the job being assembled (the job compiler's); None: the job of the newest finished
    chunk (Assemble run by hand). ValueError (one line) when no chunk of that job left a marker
    here, a chunk of it has not finished, its chunks rendered different performances (their
    digests), two submissions share its token (chunks that overlap, or other frames), or another
    job's chunk wrote, or began writing, over its frames after its chunk did. ``timeline``:
    (start, length, reversed) of the strip that shows the clip, to name frames as the timeline
    numbers them (:func:`_said`)."""
    found = _markers(folder)
    _interrupted(folder, [m for m in found if m["plain"]], found, timeline)
    found = [m for m in found if not m["plain"]]
    if not found:
        return None
    if job is None:
        done = [m for m in found if m["done"]]
        job = max(done or found, key=lambda m: m["ended"] or m["started"])["job"]
    mine = [m for m in found if m["job"] == job]
    if not mine:  # (until 2026-12-06's farm audit a folder with a legacy marker assembled any job, unknown ones too)
        raise ValueError("{}: no chunk of this farm job has finished here ({}the folder holds another job's "
                         "frames): render its chunks again".format(folder, "job '{}'; ".format(job) if job else ""))
    # frames from before markers (a legacy marker's job): that job alone is checked by its files; another
    # job here is checked in full (until 2026-12-06's farm audit every job was: one with a chunk missing assembled)
    legacy = any(m["legacy"] for m in mine)
    a, b = mine[0]["frames"]
    n = mine[0]["n"]
    chunks = sorted(m["chunk"] for m in mine)
    if any(m["frames"] != (a, b) or m["n"] != n for m in mine) or any(
            c2 < d1 for (_c1, d1), (c2, _d2) in zip(chunks, chunks[1:])):
        raise ValueError("{}: chunks of more than one job are here under one job name{}: render the job again, "
                         "each job with its own name (Flamenco gives each submission one; reenact "
                         "blender-render: --farm-job)".format(folder, " ('{}')".format(job) if job else " (none given)"))
    running = [m["chunk"] for m in mine if not m["done"]]
    gaps = _gaps((a, b), [m["chunk"] for m in mine if m["done"]]) if not legacy else running
    if gaps:
        raise ValueError("{}: {} of this farm job have not been rendered (a chunk has not "
                         "finished{}): render those chunks again".format(
                             folder, _said(gaps, timeline), ", or is still running" if running else ""))
    _same_digest(folder, mine, timeline)
    later, writing = [], []
    for m in mine:
        written = chunk_segments(m["frames"], m["chunk"], m["n"])
        for k in found:  # (one second's file times: an end in the second this chunk began counts as after)
            if k["job"] == job or (k["done"] and k["ended"] < m["started"]):
                continue  # (done before this chunk began: this chunk wrote over it)
            over = _overlap(chunk_segments(k["frames"], k["chunk"], k["n"]), written)
            later += over
            if over and not k["done"]:
                writing.append(k)
    if later:
        hint = "" if not writing else "; job '{}' has a chunk that has not finished (if it died, delete its " \
                                      "marker {})".format(writing[0]["job"], os.path.basename(writing[0]["path"]))
        raise ValueError("{}: {} were written again by another farm job after this one's chunks "
                         "(a job of the same shot submitted since{}): render this job again, or assemble the "
                         "other".format(folder, _said(_spans(later), timeline), hint))
    if legacy:
        return None
    mine_written = [s for m in mine for s in chunk_segments(m["frames"], m["chunk"], m["n"])]
    if _gaps((0, n), mine_written):
        raise ValueError("{}: {} were not written by this farm job".format(
            folder, _said(_gaps((0, n), mine_written), timeline)))
    return job


def _interrupted(folder, plain, found, timeline):
    """ValueError when a whole render over the frames of ``folder`` stopped part-way (its marker
    ``plain``: :func:`_whole`) and no farm chunk began here since: the frames written since it
    began are named."""
    if not plain:
        return
    since = min(m["started"] for m in plain)
    if any(not m["plain"] and m["started"] > since for m in found):
        return  # (a farm job's chunks since: their markers tell)
    try:
        numbered = frame_numbers(folder)
    except OSError:
        return
    n = plain[0]["n"]
    first = min(k for k, _ in numbered) if numbered and max(k for k, _ in numbered) >= n else 0
    newer = []
    for number, name in numbered:
        try:
            if os.stat(os.path.join(folder, name)).st_mtime >= since:
                newer.append((number - first, number - first + 1))
        except OSError:
            pass
    if newer:
        raise ValueError("{}: {} are from a render that was interrupted (the others from an earlier render): "
                         "render again".format(folder, _said(_spans(newer), timeline)))


def _same_digest(folder, mine, timeline):
    """ValueError when the finished chunks ``mine`` of one job rendered different performances
    (their markers' digests: the .blend saved with another performance while the job ran, each
    chunk reading it as it was when it began)."""
    by = {}
    for m in mine:
        if m["done"] and m["digest"]:
            by.setdefault(m["digest"], []).append(m["chunk"])
    if len(by) > 1:
        groups = sorted(_spans(c) for c in by.values())
        raise ValueError("{}: the chunks of this farm job rendered {} different performances ({}): the .blend (or a "
                         "Track) was saved with changes while the job ran; render the job again".format(
                             folder, len(groups), "; ".join(_said([tuple(g) for g in grp], timeline)
                                                            for grp in groups)))
