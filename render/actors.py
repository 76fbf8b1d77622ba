# SPDX-License-Identifier: GPL-3.0-or-later
"""Several actors of one shot in one render: a two-shot dubbed (or reenacted) for both.

One Track holds one actor, and a render of it changes that actor's region only, so a second
render over the first one's output would take the first's synthesised pixels as footage (its
references, its shot's mouths, its cache keys) and mark them twice. :func:`render_actors` renders
each actor in a pass of its own over the **original** footage, everything it analyses and caches
the same as a one-actor render, and keeps each pass's frame in that actor's part of the frame:

    frame = this pass's frame inside this actor's requested head and no other's (where heads
            overlap: the nearer actor's, the larger face; heads of about one size, or outside
            them: where the pixel is nearer this actor's face than any other's), else the
            earlier passes' frame

(:class:`Over`; a region ``head`` pass also lays the frame's other people over the room again,
which must not be counted twice; a change that reaches beyond its actor's part is left out there
and the frames are named in a warning). Passes before the last write lossless PNGs into a
temporary folder beside the output (removed on every path, errors and cancelling included); the
last writes the output. A render farm's ``chunk`` renders every pass over the chunk's frames
only, into the job's frame folder: chunks covering the job's frames once write exactly the
frames of one render (each frame's passes depend on that frame alone). The watermark is laid
once, on the merged frame, kept off every drawn actor's lips, with one job id for all the
passes; the C2PA manifest is the last pass's. Frames no actor synthesises stay the footage,
untouched.
"""

import os
import shutil
import tempfile

import numpy as np

from .head import head_mask
from .meshes import face_size
from .marking import mark_performance, render_payload, row_points

#: a frame where a pass changes more than CUT_PIXELS pixels by more than CUT_LEVELS in another
#: actor's part is named (region head's re-laid other person moves a few levels: not named)
CUT_PIXELS, CUT_LEVELS = 64, 8
#: where two actors' heads overlap, the one whose face is this many times as large (nearer the
#: camera) is in front there; heads of about one size share the overlap by the line half way
#: between the faces
IN_FRONT = 1.15


class Over:
    """What one pass of :func:`render_actors` hands :func:`~reenact.render.pipeline.render_clip`
    (``over``): it keeps the footage's frames as they are decoded (:meth:`take`) and turns each
    frame the pass emits into the merged frame (:meth:`finish`).

    Each actor's change counts in its own part of the frame (:meth:`part`: its requested head,
    and beyond the heads the pixels nearer its face than any other actor's): a region ``head`` pass
    also lays the frame's other people over the room again (a few levels), and that must not be
    added to their own pass's change. What a pass changes beyond its part is left out and the
    frame is named (``cut``); with one actor in the frame it has the whole frame."""

    def __init__(self, k, tracks, canvas=None, earlier=(), mark=None):
        self.k, self.tracks = int(k), list(tracks)  # this pass's actor among every actor's Track
        self.canvas = canvas  # the previous pass's frames (read(i): clip frame i; None: the first pass)
        self.earlier = list(earlier)  # the frames each earlier pass (actors 0..k-1) synthesised
        self.mark = mark  # (payload, area): the last pass marks the merged frames
        self.mine = set()  # frames this pass synthesised
        self.cut = []  # frames where this pass changed pixels in another actor's part
        self._orig = {}
        self._pts = (None, {})  # (frame, {actor: its requested mesh there}), for part and mark

    def take(self, i, frame):
        if len(self.tracks) > 1:
            self._orig[i] = frame

    def points(self, i):
        """{actor: (468, 2) frame pixels of its requested mesh} of the actors tracked in frame ``i``."""
        if self._pts[0] != i:
            pts = {}
            for k, tr in enumerate(self.tracks):
                r = i - int(tr.frame_start)
                if 0 <= r < tr.n_frames and bool(tr.tracked[r]):
                    pts[k] = row_points(tr, r)
            self._pts = (i, pts)
        return self._pts[1]

    def part(self, i, shape):
        """(H, W) bool: the pixels of frame ``i`` that are this actor's (all of them when no other
        actor has a face there; None when this one has none): inside its requested head
        (:func:`~.head.head_mask`: the face oval grown by 30 % and a hair cap) and no other's;
        where heads overlap, the head of the actor nearer the camera (its face
        :data:`IN_FRONT` times as large as every other's there: it hides the one behind); where
        heads of about one size overlap, or outside every head, the pixels nearer its face than
        any other's. A nearer actor's larger head, or one moved towards the other, keeps its
        whole head (the line half way between the faces alone cut it before)."""
        pts = self.points(i)
        centres = {k: np.nanmean(p, 0) for k, p in pts.items()}
        if self.k not in centres:
            return None
        H, W = shape[:2]
        ys, xs = np.ogrid[:H, :W]
        cx, cy = centres[self.k]
        mine = (xs - cx) ** 2 + (ys - cy) ** 2
        part = np.ones((H, W), bool)
        for k, (ox, oy) in centres.items():
            if k != self.k:
                part &= mine <= (xs - ox) ** 2 + (ys - oy) ** 2
        if len(pts) > 1:
            heads = {k: (head_mask(p, (H, W)), face_size(p)) for k, p in pts.items() if np.isfinite(p).all()}
            own, size = heads.get(self.k, (np.zeros((H, W), bool), 0.0))
            theirs = np.zeros((H, W), bool)
            ahead = np.ones((H, W), bool)  # this head in front of every other head here
            hidden = np.zeros((H, W), bool)  # another head here in front of this one
            for k, (m, s) in heads.items():
                if k != self.k:
                    theirs |= m
                    ahead &= ~m | (size >= IN_FRONT * s)
                    hidden |= m & (s >= IN_FRONT * size)
            both = own & theirs
            part = (part | (own & ~theirs) | (both & ahead)) & ~(theirs & ~own) & ~(both & hidden)
        return part

    def finish(self, i, frame, synthesised):
        """(merged frame, whether any pass synthesised it) of clip frame ``i``."""
        if synthesised:
            self.mine.add(i)
        if len(self.tracks) > 1:
            orig = self._orig.pop(i)
            under = self.canvas.read(i) if self.canvas is not None else orig
            part = self.part(i, frame.shape) if synthesised else None
            if part is None:  # nothing of this actor's here: the earlier passes' frame
                frame = under
            else:
                changed = np.abs(frame.astype(np.int16) - orig).max(2) > CUT_LEVELS
                if int(np.count_nonzero(changed & ~part)) > CUT_PIXELS:
                    self.cut.append(int(i))
                frame = np.where(part[..., None], frame, under)
        drawn = [k for k, rows in enumerate(self.earlier + [self.mine]) if i in rows]
        if drawn and self.mark is not None:
            pts = self.points(i)
            frame = mark_performance(frame, i, self.mark[0], [pts[k] for k in drawn], self.mark[1])
        return frame, bool(drawn)


class _Held:
    """The merged frame so far, as :class:`Over`'s canvas (one frame: Preview Frame)."""

    def __init__(self, frame):
        self.frame = frame

    def read(self, i):
        return self.frame


def merge_frame(i, footage, renders, tracks, mark=None):
    """Clip frame ``i`` of a several-actor render from each actor's own render of that frame,
    laid together as :func:`render_actors` lays its passes (:class:`Over`: each actor's frame in
    its part), and marked once with ``mark`` = (payload, area) when any actor synthesised it
    (Preview Frame of every actor of a strip). ``footage``: the frame as decoded; ``renders``:
    per actor of ``tracks`` its rendered frame, None where it synthesised nothing. Returns
    (frame, frames cut: [i] where an actor's change reached past its part, else [])."""
    merged, earlier, cut = footage, [], []
    for k, f in enumerate(renders):
        over = Over(k, tracks, _Held(merged) if k else None, earlier, mark if k == len(renders) - 1 else None)
        over.take(i, footage)
        merged, _ = over.finish(i, footage if f is None else f, f is not None)
        earlier.append(over.mine)
        cut += over.cut
    return merged, sorted(set(cut))


def _pass_progress(progress, k, n_pass):
    if progress is None:
        return None

    def report(done, total, text=""):
        return progress(k * total + done, n_pass * total, "actor {}/{}: {}".format(k + 1, n_pass, text))

    return report


def render_actors(actors, video, model=None, out=None, job_id=None, watermark=True, sign=True, cache_dir=None,
                  progress=None, on_frame=None, prefer_gpu=True, threads=None, **options):
    """Render every actor of ``actors`` into one output (see the module doc).

    ``actors``: [dict(track=Track, crop_track=None, mouth_from=None, reference_frames=None,
    model=None)] or plain Tracks, one per actor, in the order they are rendered; an actor's
    ``model`` (its own renderer) replaces ``model`` for it. ``options``:
    :func:`~reenact.render.pipeline.render_clip`'s (``frames``, ``region``, ``batch``, ...),
    the same for every actor (a ``chunk``: every pass over its frames). Returns
    the last pass's summary with ``actors`` (each pass's own summary), the counts summed, and
    ``overlap`` (frames where a pass's change beyond its actor's part was cut: :class:`Over`)."""
    from .pipeline import check_destinations, check_inputs, check_tracks_footage, default_cache_dir, get_renderer
    from .plates import footage_area
    from .cache import source_identity
    from ..video import open_video
    from ..video.bitdepth import plate_first

    actors = [a if isinstance(a, dict) else {"track": a} for a in actors]
    if not actors:
        raise ValueError("no actor to render")
    renderer = get_renderer(model, prefer_gpu=prefer_gpu, threads=threads)
    with open_video(video) as src:  # every Track against the footage before any long work
        size, numbered = (src.width, src.height), plate_first(src)  # (a plate's passes: numbered as it)
        check_destinations(src, out, cache_dir, [a["mouth_from"][1] for a in actors if a.get("mouth_from")])
    for a in actors:
        check_tracks_footage(a["track"], video, a.get("crop_track"), options.get("accept_footage", False))
        check_inputs(a["track"], a.get("crop_track"), size)
    first = actors[0]
    own = first.get("crop_track") if first.get("crop_track") is not None else first["track"].footage()
    payload = render_payload(job_id, source_identity(video), renderer, own)
    job = payload.to_dict()["job_id"]
    if cache_dir is None and out is not None:
        cache_dir = default_cache_dir(out)
    area = footage_area(video, own)  # the picture inside the bars, which the mark leaves black
    parent = os.path.dirname(os.path.abspath(os.fspath(out))) if out is not None else None
    if parent is not None:
        os.makedirs(parent, exist_ok=True)  # (the output's folder, which the last pass makes anyway)
    temps, passes, earlier, canvas, overlap = [], [], [], None, []
    try:
        for k, a in enumerate(actors):
            last = k == len(actors) - 1
            target = out if last else tempfile.mkdtemp(prefix=".reenact-actor{}-".format(k + 1), dir=parent)
            if not last:
                temps.append(target)
            over = Over(k, [b["track"] for b in actors], canvas, earlier, (payload, area) if (last and watermark) else None)
            mine = get_renderer(a["model"], prefer_gpu=prefer_gpu, threads=threads) if a.get("model") else renderer
            s = _render_pass(a, video, mine, target, over, job, cache_dir, sign and last,
                             _pass_progress(progress, k, len(actors)), on_frame if last else None, options)
            overlap += over.cut
            passes.append(s)
            earlier.append(over.mine)
            if canvas is not None:
                canvas.close()
            canvas = None if last else PassFrames(target, numbered)
    finally:
        if canvas is not None:
            canvas.close()
        for t in temps:
            shutil.rmtree(t, ignore_errors=True)
    summary = dict(passes[-1])
    for key in ("rendered", "cached", "warped"):
        summary[key] = sum(int(s[key]) for s in passes)
    summary["copied"] = summary["frames"] - summary.get("cleared", 0) - len(set().union(*earlier))
    summary["seconds"] = round(sum(float(s["seconds"]) for s in passes), 3)
    summary["watermark"] = bool(watermark)
    summary["overlap"] = sorted(set(overlap))
    summary["actors"] = passes
    warnings = [w for s in passes for w in s.get("warnings", [])]
    if summary["overlap"]:
        warnings.append(overlap_warning(summary["overlap"]))
    summary["warnings"] = list(dict.fromkeys(warnings))
    return summary


class PassFrames:
    """An earlier pass's frames by clip frame number: the PNGs (an OpenEXR plate's: OpenEXR
    frames) its frame folder holds (a chunk's folder starts at the chunk, so a sequence's own
    numbering from 0 would be off)."""

    def __init__(self, folder, first=0):
        self.folder = os.fspath(folder)
        self.first = int(first)  # a plate's passes are numbered as the plate

    def read(self, i):
        from ..video.encode import FRAME_DIGITS, FRAME_PREFIX
        from ..video.sequence import _imread_rgb

        path = os.path.join(self.folder, "{}{:0{}d}.png".format(FRAME_PREFIX, self.first + int(i), FRAME_DIGITS))
        if not os.path.exists(path):  # an OpenEXR plate's pass (video/bitdepth.py): its 8-bit picture
            path = path[:-4] + ".exr"
        return _imread_rgb(path)

    def close(self):
        pass


def _render_pass(actor, video, renderer, out, over, job, cache_dir, sign, progress, on_frame, options):
    from .pipeline import render_clip

    return render_clip(actor["track"], video, renderer, out=out, cache_dir=cache_dir, progress=progress,
                       crop_track=actor.get("crop_track"), mouth_from=actor.get("mouth_from"),
                       reference_frames=actor.get("reference_frames"), job_id=job, watermark=False, sign=sign,
                       on_frame=on_frame, over=over, **options)


def overlap_warning(frames, offset=0):
    """The line naming the ``frames`` (clip frames; + ``offset``: timeline frames) where an
    actor's change was cut at another actor's part of the frame."""
    return ("frames {}: an actor's render reached into another actor's head or nearer another actor's face and "
            "was cut there (each actor keeps its head, the larger face in front where heads overlap, and the part of "
            "the frame nearer its face: check them)".format(
                frame_runs([int(f) + int(offset) for f in frames])))


def frame_runs(frames):
    """'3-7, 12' of sorted frame numbers."""
    out, start, prev = [], None, None
    for f in frames:
        if start is None:
            start = prev = f
        elif f == prev + 1:
            prev = f
        else:
            out.append("{}-{}".format(start, prev) if prev > start else str(start))
            start = prev = f
    if start is not None:
        out.append("{}-{}".format(start, prev) if prev > start else str(start))
    return ", ".join(out)
