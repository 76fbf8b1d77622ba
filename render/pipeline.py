# SPDX-License-Identifier: GPL-3.0-or-later
"""The render path: a performance (Track) + its footage + a renderer -> composited frames.

One code path for ``reenact render``, Blender's Render Performance and Preview Frame, the demo
and the benchmark (no bpy, no torch)::

    summary = render_clip(track, video, model, out="shot.mp4" | "frames/" | None,
                          frames=(a, b), region="mouth", crop_track=tracked, progress=cb)
    frame, info = render_frame(track, video, i, model, ...)        # one frame (Preview Frame:
                                                                   # render/oneframe.py)

Per clip frame ``i`` in ``frames`` that the track covers and tracked: the conditioning of the
window rows is rasterised in the stabilised crop, the renderer runs on batches, the crop is
pasted back with :func:`reenact.render.composite.paste_back` (mouth region or whole face).
Frames outside ``frames``, not covered or not tracked, are the footage's own frames, so the
output always has the clip's frame count, size and frame rate (and its audio, for a movie).

**Crops.** ``crop_track`` (default: ``track.footage()``, the footage's own rows that a
transferred or edited Track carries) places the crop and makes the actor reference, so the crop
follows the face that is really in the frame, an edit of one frame never moves the crops of its
neighbours, and no reference is ever built from an edited performance.

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

**Overlap** (:mod:`.overlap`): the network runs in its own thread (the next batch infers while
this one is composited), the detail layer's warp of the rows it renders in another (made while
they infer), and the writer in a third (PNG encoding and signing, or the movie encoder; at
most ``WRITE_AHEAD`` frames ahead, in order). A writer's error is raised by
``render_clip``; on a cancel or an error the frames already handed to a folder's writer are
written, a movie is removed. The pictures are the same as one thread's.
"""

import os
import time
import zipfile
from collections import OrderedDict

import numpy as np

from ..fsutil import kept_aside, refuse_overwriting
from ..progress import Cancelled
from ..provenance.manifest import sign_file
from ..provenance.movie_signing import MovieSigning
from ..video import MOVIE_EXTENSIONS, VideoWriter
from ..video.decode import check_audio_fits, open_sequence_at
from ..video.bitdepth import movie_alpha
from ..video.encode import FrameFolder, source_tags
from ..video.bars import keep_bars
from ..video.identity import check_footage
from .cache import (CropCache, _LOCK, default_cache_dir, frame_keys, geometry_digest, performance_digest,
                    pool_digest, pool_identity, renderer_identity, source_identity, unchanged_head_rows,
                    unchanged_rows)
from .composite import blend_shares, paste_back, through_dissolve
from .donor import mouth_mode as mouth_mode_of
from .eyes import ShotEyes
from .front import front_sources, hide_driver, in_front, keep_front
from .rewrite import face_mouth, head_donor, prepare_mouth
from .shothead import ShotHead, unseen_pose_warning
from .shotface import shot_face
from .conditioning import crop_transforms
from .marking import manifest_parameters as _manifest_parameters, mark_performance, render_payload, row_points
from .motion import MOTION_VERSION, HeadMotion, detail_source, region_mask
from .plates import footage_area, stored_plate
from .netinputs import NetInputs
from .overlap import Draws, Lane, blas_threads
from .ranges import (check_inputs, chunk_segments, iter_segments, kept_span, pool_rows, reference_track,
                     resolve_range)
from .reference import REF_VERSION, ReferencePool, build_pool
from .renderer import get_renderer  # noqa: F401 (callers import it from here too)
from .warp import valid_only


# ----------------------------------------------------------------------------- actor reference
_POOLS = OrderedDict()
POOL_PREFIX = "pool_"


def cuts_key(own):
    """The cache key's part for the footage's cuts (each row's reference from its own shot); "" without."""
    cuts = own.cuts()
    return "|cuts {}".format(cuts.tolist()) if len(cuts) else ""


def reference_pool(track, video, size, transforms=None, cache_dir=None, progress=None, cancel=None):
    """The actor reference pool (:mod:`reenact.render.reference`) of ``track`` (the footage's own
    tracked Track) over ``video`` at crop ``size``: kept in memory between calls and stored in
    ``cache_dir`` as ``pool_<digest>.npz``, so only the first render of an actor decodes the
    footage for it. Returns (pool, digest)."""
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
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged or old: build it again
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


def check_destinations(src, out, cache_dir=None, others=()):
    """ReenactError (one line) when the render's ``out`` is the footage ``src`` itself or, for
    frames, its folder, or one of ``others`` (a driver's footage: ``--mouth-from``, ``--also``;
    before 2026-12-05 a dub written over its driver's movie replaced it), or the ``cache_dir``
    is a plate's own folder: nothing is ever written over or into the footage
    (:func:`reenact.fsutil.refuse_overwriting`)."""
    files = getattr(src, "files", None) or [src.path]
    refuse_overwriting(out, list(files) + [os.fspath(p) for p in others if isinstance(p, (str, os.PathLike))])
    if src.kind == "movie":  # its audio into the movie's container (Opus into .mov): before any work
        check_audio_fits(src.path, out)
    if src.kind == "sequence":  # (a movie's folder may take the cache)
        refuse_overwriting(cache_dir, files, "--cache")


def check_tracks_footage(track, video, crop_track=None, accept=False, labels=(None, None)):
    """The performance ``track`` (and ``crop_track``, the footage's own) must have been made from
    ``video`` (:func:`reenact.video.identity.check_footage`: one line naming both files, before
    any long work; ``accept``: a re-encoded copy of the same shot). Returns the warnings."""
    warnings = check_footage(track, video, accept, labels[0])
    if crop_track is not None:
        warnings += [w for w in check_footage(crop_track, video, accept, labels[1] or "crop track") if w not in warnings]
    return warnings


# ----------------------------------------------------------------------------- whole clips
#: frames handed to the writer's thread ahead of the disk (memory: this many frames)
WRITE_AHEAD = 8

def render_clip(track, video, model=None, out=None, frames=None, region="mouth", cache_dir=None,
                batch=8, progress=None, crop_track=None, transforms=None, lossless=False, codec=None,
                prefer_gpu=True, threads=None, feather=None, colour=True, on_frame=None, pool=None,
                job_id=None, watermark=True, sign=True, sign_cert=None, sign_key=None, chunk=None,
                detail=True, accept_footage=False, reference_frames=None, mouth_from=None, mouth_mode="auto",
                redraw=False, front=True, over=None, keep=None):
    """Render ``track`` over clip frames ``frames`` = (a, b) of ``video`` and write every clip
    frame to ``out`` (movie path, frame folder, or None). Returns a summary dict: ``frames``
    (written), ``rendered`` (inferred), ``cached`` (crops from the cache), ``warped`` (drawn without
    the network: the driver's or shot's mouth, a moved head or face without a hole), ``copied``
    (footage frames passed through), ``provider``, ``timings_ms`` (per stage), ``seconds``, ...

    ``chunk`` = (c, d), inside ``frames``: this process's share of the job ``frames`` (a render
    farm's task). Only clip frames c..d-1 are rendered and written, plus the footage frames
    before ``a`` (by the chunk that starts at ``a``) and after ``b`` (by the chunk that ends at
    ``b``), so chunks covering ``frames`` once, run in parallel processes into one frame folder
    and cache, write exactly the frames of one render of ``frames`` (see docs/farm.md). A chunk
    smaller than ``frames`` needs a frame folder (or no output): the movie is assembled from the
    folder afterwards (:func:`reenact.render.assemble.assemble_movie`).

    ``on_frame(i, frame)`` is called for every output frame (e.g. to collect them).
    ``pool``: the actor reference pool for renderers that use one (default: built from the crop
    track over ``video`` by :func:`reference_pool`, cached beside the crops).
    ``reference_frames`` = (c, d): draw the actor from clip frames c..d-1 of the crop track only:
    the pool (:func:`reference_track`) and, region ``face`` with ``detail``, the faces of rows
    outside them (:mod:`.shotface`; a held-out self-reenactment's scored frames).
    See the module doc for the cache, crops and cancelling.

    Provenance (docs/provenance.md): every frame this renders carries the watermark with
    ``job_id`` (default: one derived from the footage, the renderer and the actor, so the
    chunks of one job rendered in parallel and Preview Frame carry the same one;
    ``watermark=False`` only for measurements); frames copied through are untouched. A movie (.mp4/.mov) or every rendered PNG
    of a frame folder gets a signed C2PA manifest (``sign``; ``sign_cert``/``sign_key`` PEM
    paths, default the local chain).

    ``detail``: keep the footage's fine detail (skin, stubble) where the render agrees with the
    footage frame warped to the performance (:func:`~reenact.render.composite.paste_back`);
    False: the network's crop alone. A row the performance does not change is the footage as it
    is, unless ``redraw`` (measurements: the render scored on the footage's own performance).

    Region ``mouth``: where the lower face of the rows whose mouth the performance changes comes
    from, ``mouth_mode`` (:func:`~reenact.render.rewrite.choose_mouth`): "auto" (default), "shot"
    (the footage's own frame with the nearest mouth, warped to the requested one:
    :mod:`reenact.render.rewrite`), "driver" (the footage warped to the requested mouth with the
    driver's own mouth interior: :mod:`reenact.render.donor`; needs ``mouth_from`` = (driver
    Track or path, driver video), of which ``track`` must be a transfer) or "renderer" (the
    network). Auto: the driver's mouth when the dub opens beyond anything the footage shows and
    a driver is given (the renderer without one), else the shot's own mouth. Rows drawn
    without the network count as ``warped``; the summary's ``driver_mouth`` says what was chosen.
    Region ``face`` (with ``detail``): an edited mouth comes from the shot's frame with the nearest
    mouth (:func:`~reenact.render.rewrite.face_mouth`; ``mouth_mode`` "auto": up to twice the
    footage's widest opening, "shot", "renderer"), edited eyes (gaze, lids) from the frame nearest
    in them (:class:`~reenact.render.eyes.ShotEyes`).
    Region ``head``: the moved head's mouth and eyes come from the shot's own frames
    (:class:`~reenact.render.shothead.ShotHead`; ``mouth_mode`` "renderer": the network fills the
    opening), with ``mouth_from`` the driver's mouth interior in it (:func:`~.rewrite.head_donor`).

    ``keep`` = (c, d): a frame folder holds the clip frames c..d-1 (those of ``frames`` drawn,
    the others the footage) and, on every other frame, one fully transparent frame, hard-linked,
    never decoded: Blender's take of a shot cut from a longer clip, whose strip shows the shot
    through them (a movie, a plate's frames and a chunk keep every frame; None: every frame).
    The summary's ``cleared`` counts them.

    ``front``: what stands in front of the face in the footage stays there (:mod:`.front`; the
    summary's ``in_front``). ``over``: one pass of a several-actor render (:mod:`.actors`). The Tracks must be of ``video`` (:func:`check_tracks_footage`;
    ``accept_footage``: a re-encoded copy); the summary's ``warnings`` say what could not be checked."""
    t_start = time.perf_counter()
    renderer = get_renderer(model, prefer_gpu=prefer_gpu, threads=threads)
    renderer.check_region(region)
    mouth_mode = mouth_mode_of(mouth_mode)
    if (mouth_from is not None or mouth_mode == "driver") and region == "face":
        raise ValueError("the driver's mouth (--mouth-from) is for regions mouth and head, not face")
    donor, donor_warnings, driver_mouth, head_mouth = None, [], None, None
    if region == "mouth":  # the driver checked against the performance before any long work
        donor, driver_mouth, donor_warnings = prepare_mouth(
            track, crop_track if crop_track is not None else track.footage(), video, mouth_from, mouth_mode,
            accept_footage, pool_rows(crop_track if crop_track is not None else track, reference_frames))
    elif region == "head":  # (the same for the driver's mouth in the moved head's opening)
        head_mouth, driver_mouth, donor_warnings = head_donor(
            track, crop_track if crop_track is not None else track.footage(), mouth_from, mouth_mode, accept_footage,
            video)
    # an image sequence plays at the rate its Track recorded (`track --fps`, Blender's scene rate),
    # which its movie is written at (before 2026-12-05: always the sequences' default 25)
    src, motion, warper, unseen = open_sequence_at(video, track.fps), None, None, []
    restore_blas = signing = None
    try:
        check_destinations(src, out, cache_dir, [mouth_from[1]] if mouth_from is not None else ())
        n, size = len(src), (src.width, src.height)
        warnings = check_tracks_footage(track, video, crop_track, accept_footage)
        warnings += donor_warnings
        check_inputs(track, crop_track, size)
        a, b = resolve_range(frames, n)
        chunk_range = (a, b) if chunk is None else resolve_range(chunk, n)
        segments = chunk_segments((a, b), chunk_range, n)
        total = sum(e - s for s, e in segments)
        is_movie = out is not None and os.path.splitext(os.fspath(out))[1].lower() in MOVIE_EXTENSIONS
        cleared = 0
        if is_movie and total != n:  # before any long work
            raise ValueError("{}: a chunk of the frames renders into a frame folder; assemble the movie "
                             "from the folder when every chunk is done".format(os.fspath(out)))
        S, cache_dir = renderer.size, default_cache_dir(out) if out is not None and cache_dir is None else cache_dir
        own = crop_track if crop_track is not None else track.footage()
        ref_own = reference_track(own, reference_frames) if renderer.ref else None  # before any long work
        # what stands in front of the face (its shots surveyed): kept in front, and never a source
        infront, footage = in_front(own, track, video, range(a - track.frame_start, b - track.frame_start), front,
                                    progress, n, warnings, cache_dir, reference_frames), {}
        own, donor = front_sources(infront, own, donor, track, video, pool_rows(own, reference_frames))
        warnings += hide_driver(infront, donor, head_mouth, progress=progress, total=n)
        pool_frames = None
        head = region == "head"
        area = None if head else footage_area(video, own, src)  # inside bars (region head: its plate's, below)
        # the crop follows the face in the frame: the footage's, or the requested one once the
        # whole head has been moved there
        xf = transforms if transforms is not None else crop_transforms(track if head else own, S)
        rid = renderer_identity(renderer)
        pool_start = int(own.frame_start)  # (clip frame of the pool's row 0)
        if renderer.ref:
            if pool is None:
                def pool_progress(done, total):
                    if progress is not None and progress(0, n, "reference frames {}/{}".format(done, total)) is False:
                        raise Cancelled()

                if reference_frames is None:
                    pool, pdig = reference_pool(own, video, S, crop_transforms(own, S) if head else xf, cache_dir,
                                                pool_progress)
                    pool_start = int(own.frame_start)
                else:  # only those frames (their own crop transforms, as bench/reenact.py case 3)
                    pool, pdig = reference_pool(ref_own, video, S, None, cache_dir, pool_progress)
                    pool_start = int(ref_own.frame_start)
                pool_frames = sorted(int(r) + pool_start for r in pool.rows)
            else:
                pdig = pool_identity(pool)
            rid += "|pool {} {} {}".format(pdig, renderer.ref_warp, REF_VERSION) + cuts_key(own)
        if head:  # the head from the shot's frame nearest in pose (this one unless another is closer)
            def room_progress(done, total):  # (seconds to a minute, once per shot; Esc stops it there)
                return progress is None or progress(0, n, "the room behind the actor {}/{}".format(done, total)) is not False

            if not room_progress(0, 1):
                raise Cancelled()
            plate = stored_plate(video, own, cache_dir, src, room_progress)
            motion, head_mouth = ShotHead(own, track, video, plate, pool=pool_rows(own, reference_frames),
                                          mouth=mouth_mode != "renderer", donor=head_mouth), None
            rid += "|head {} {} {} {}".format(MOTION_VERSION, geometry_digest(own), performance_digest(own),
                                              motion.key)
            area = motion.motion.area
            unseen = motion.unseen(*chunk_range)
            warnings += [w for w in [unseen_pose_warning(unseen)] if w]
        eyes = ShotEyes(own, video, pool_rows(own, reference_frames)) if region == "face" and detail else None
        warper = motion if motion is not None else (
            HeadMotion(own, track, lower_only=donor is not None, area=area).with_shot_eyes(eyes)
            if (detail or donor is not None) else None)
        if region == "face" and detail:  # an edited mouth from the shot's frames (closed below, as head_mouth);
            head_mouth, driver_mouth = face_mouth(track, own, video, mouth_mode, pool_rows(own, reference_frames))
            warper.with_shot_mouth(head_mouth)  # rows outside reference_frames: their faces from those frames
            warper, face_key = shot_face(warper, own, track, video, pool_rows(own, reference_frames), S, xf, src, cache_dir)
            rid += face_key
        # region face: a row that keeps the footage's head pose is its own face moved to the edit
        edit = warper.same_pose if region == "face" and warper is not None else np.zeros(track.n_frames, bool)
        rid += "|face-edit {} eyes|face-mouth {}".format(MOTION_VERSION, driver_mouth["source"]) if (
            region == "face" and warper is not None) else ""
        fr = NetInputs(track, xf, renderer, pool, cuts=own.cuts(), pool_start=pool_start)
        sid = source_identity(video)  # (a sequence's: every file's stat, once)
        payload = render_payload(job_id, sid, renderer, own)
        T, f0 = track.n_frames, int(track.frame_start)
        # rows the performance does not change are the footage as it is (region head: their
        # neighbours' too, whose head sources a row blends in)
        same = np.zeros(T, bool) if redraw else (unchanged_head_rows if head else unchanged_rows)(track, own, fr.rowd)
        rows = [i - f0 for i in range(a, b) if 0 <= i - f0 < T and fr.rast.ok[i - f0] and not same[i - f0]]
        keys = frame_keys(track, xf, rows, renderer.window, rid, sid, fr.geometry, fr.rowd)
        cache = CropCache(cache_dir)
        writer = None
        if out is not None:
            if is_movie:
                if sign and os.path.splitext(os.fspath(out))[1].lower() in SIGNABLE_MOVIES:
                    # the manifest set up now, the movie's samples hashed as they are written
                    signing = MovieSigning(out, "c2pa.edited", payload, sign_cert, sign_key,
                                           _manifest_parameters(renderer, region, (a, b), payload), source=video,
                                           expected_frames=n)
                writer = VideoWriter(out, src.rate, size, lossless=lossless, codec=codec, **source_tags(src),
                                     audio_from=video if (src.kind == "movie" and src.has_audio) else None)
                if signing is not None:
                    signing.follow(writer)
            else:
                # a plate: its depth and alpha; a movie with alpha: its alpha
                writer = FrameFolder(out, n, plate=src if src.kind == "sequence" else movie_alpha(src))
                if keep is not None and chunk is None:  # (the rest is never decoded)
                    c, d = kept_span(keep, (a, b), n)
                    if writer.clear([*range(c), *range(d, n)], size):
                        segments, total, cleared = [(c, d)], d - c, n - (d - c)
        stats = dict(rendered=0, cached=0, copied=0, written=0, warped=0)
        short = renderer.provider.replace("ExecutionProvider", "")
        tm = dict(decode=0.0, warp=0.0, infer=0.0, composite=0.0, encode=0.0, cache=0.0)
        queue = []  # [i, frame, ready_frame or None, pending entry]
        pending = []

        signed = []
        # the network runs on one lane (the next batch infers while this thread composites the
        # previous one), the writer on another (encoding and signing while the next frames are
        # prepared): render/overlap.py. Stage timings are per stage, so they overlap in time.
        infer_lane = Lane(depth=1, name="reenact-infer")
        write_lane = Lane(depth=WRITE_AHEAD, name="reenact-write") if writer is not None else None
        inflight = []  # [(Future of the crops, the batch's pending entries)], at most one
        draws = Draws()  # rows only warped: two at once (threads start with the first)
        # a row going to the network has its detail layer's warp made beside the inference
        detail_lane, ahead = Lane(depth=2 * batch + 2, name="reenact-detail"), {}

        shares, dissolving = blend_shares(own), {}  # a dissolve's rows: their decoded frames

        def faded(res, r):
            return through_dissolve(res, dissolving.pop(r), shares[r]) if r in dissolving else res

        def write(i, frame, synthesised):
            t = time.perf_counter()
            if is_movie:  # an I-frame where synthesised and copied frames meet: no mark predicted into a copy
                writer.write(frame, segment=synthesised)
            else:
                path = writer.write(frame, i)
                if synthesised and sign and writer.signable:
                    signed.append(sign_file(path, "c2pa.edited", payload, sign_cert, sign_key,
                                            _manifest_parameters(renderer, region, (a, b), payload)))
            tm["encode"] += time.perf_counter() - t

        def emit(i, frame, synthesised):
            if over is not None:  # laid over the earlier actors' frames (render/actors.py)
                frame, synthesised = over.finish(i, frame, synthesised)
            if write_lane is not None:
                write_lane.submit(write, i, frame, synthesised)
            if on_frame is not None:
                on_frame(i, frame)
            stats["written"] += 1
            footage.pop(i - f0, None)
            if progress is not None and progress(stats["written"], total, "frame {} on {}".format(i, short)) is False:
                raise Cancelled()

        def detail_of(entry):
            t = time.perf_counter()
            i, frame, r, mask, field = entry
            got = detail_source(detail, head or field is not None, warper, r, frame, field, mask, xf.Minv[r])
            return got, time.perf_counter() - t

        def composite(entry, crop):
            i, frame, r, mask, field = entry
            (dimg, dvalid), t_warp = ahead.pop(i).result() if i in ahead else detail_of(entry)
            tm["warp"] += t_warp
            t = time.perf_counter()
            res = keep_bars(paste_back(frame, crop, mask, xf.Minv[r], feather=feather, colour=colour, detail=dimg,
                                       detail_valid=dvalid), frame, area)
            res = faded(keep_front(infront, res, footage.get(r), r), r)
            if watermark:
                res = mark_performance(res, i, payload, row_points(track, r), area)
            tm["composite"] += time.perf_counter() - t
            return res

        # rows warped on the draw threads (overlap.Draws) return what the main thread does with
        # them when they land, in order: a mouth dub's drawn frame, or a moved head or face
        def draw(i, r, frame):
            t = time.perf_counter()
            res = keep_bars(donor.draw(r, frame, warper, r), frame, area)
            res = faded(keep_front(infront, res, footage.get(r), r), r)
            t1 = time.perf_counter()
            if watermark:
                res = mark_performance(res, i, payload, row_points(track, r), area)
            return drawn, (res, t1 - t, time.perf_counter() - t1)

        def move(r, frame):
            t = time.perf_counter()
            frame, field = motion.frame(r, frame) if motion is not None else warper.face_frame(r, frame)
            return admit, (r, frame, field, time.perf_counter() - t)

        def drawn(slot, res, t_warp, t_mark):
            tm["warp"] += t_warp
            tm["composite"] += t_mark
            slot[2] = res

        def admit(slot, r, frame, field, t_warp=0.0):
            """The slot of row ``r`` (``frame``: the footage, or moved by ``field``): drawn
            without the network, composited from the cache, or queued for the network."""
            tm["warp"] += t_warp
            i = slot[0]
            hole, mouth = fr.masks(r)
            moved = head or field is not None
            mask = region_mask("head" if moved else region, hole, mouth, field, xf.Minv[r])
            hit = cache.get(keys[r])
            slot[1], slot[3] = frame, (i, frame, r, mask, valid_only(field))  # (what the composite reads of it)
            if moved and not mask.any():  # the moved head or face has no hole: no network
                t = time.perf_counter()
                slot[3] = (i, frame, r, None, None)
                frame = faded(keep_front(infront, frame, footage.get(r), r), r)
                drawn(slot, mark_performance(frame, i, payload, row_points(track, r), area) if watermark else frame, 0.0,
                      time.perf_counter() - t)
                stats["warped"] += 1
            elif hit is not None and hit.shape == (S, S, 3):
                slot[2] = composite(slot[3], hit)
                stats["cached"] += 1
            else:
                pending.append((slot, fr.network_input(r, frame, (hole, mouth)), keys[r]))
                if detail and not (head or field is not None):
                    ahead[i] = detail_lane.submit(detail_of, slot[3])

        lane_sess = renderer.lane_session()

        def infer(x):
            t = time.perf_counter()
            crops = renderer.run(x, batch, lane_sess)
            tm["infer"] += time.perf_counter() - t
            return crops

        def land(job):
            fut, items = job
            crops = fut.result()
            for (slot, _x, key), crop in zip(items, crops):
                t = time.perf_counter()
                cache.put(key, crop)
                tm["cache"] += time.perf_counter() - t
                slot[2] = composite(slot[3], crop)
                stats["rendered"] += 1

        def flush(force=False):
            for slot, (then, got) in draws.land(force):
                then(slot, *got)
            if pending and (force or len(pending) >= batch):
                items = list(pending)
                pending.clear()
                prev = inflight.pop() if inflight else None
                inflight.append((infer_lane.submit(infer, [p[1] for p in items]), items))
                if prev is not None:  # composited while the new batch infers
                    land(prev)
            if force and inflight:
                land(inflight.pop())
            while queue and queue[0][2] is not None:
                i, _f, ready, entry = queue.pop(0)
                emit(i, ready, entry is not None)

        restore_blas = blas_threads(1)  # restored in the finally below
        try:
            t = time.perf_counter()
            for i, frame in iter_segments(src, segments):
                tm["decode"] += time.perf_counter() - t
                r = i - f0
                if over is not None:
                    over.take(i, frame)
                if r not in keys:  # outside the range, not covered or untracked: the footage
                    queue.append([i, frame, frame, None])
                    stats["copied"] += 1
                else:
                    slot = [i, frame, None, (i, frame, r, None, None)]
                    if infront is not None and infront.has(r):  # (its footage, for what stands in front)
                        footage[r] = frame
                    if np.isfinite(shares[r]):
                        dissolving[r] = frame
                    queue.append(slot)
                    if donor is not None and donor.driver_row(r) is not None:
                        # the driver's or the shot's mouth: the footage's lower face warped
                        draws.submit(slot, draw, i, r, frame)
                        stats["warped"] += 1
                    elif motion is not None or (edit[r] and warper.edits(r)):  # the head, face or eyes moved
                        draws.submit(slot, move, r, frame)
                    else:
                        admit(slot, r, frame, None)
                flush(force=len(queue) > 4 * batch)
                t = time.perf_counter()
            flush(force=True)
            draws.close()
            infer_lane.finish()
            detail_lane.finish()
            if write_lane is not None:
                write_lane.finish()
        except BaseException:
            infer_lane.abort()
            detail_lane.abort()
            draws.close()
            if write_lane is not None:
                if is_movie:
                    write_lane.abort()
                else:  # the frames handed over are written (a resumed render skips them)
                    try:
                        write_lane.finish()
                    except Exception:  # the error being raised is the one to report
                        pass
            if writer is not None and is_movie:
                writer.abort()
            raise
        manifest = None
        if writer is not None:
            synthesised = stats["rendered"] + stats["cached"] + stats["warped"]
            t = time.perf_counter()
            with kept_aside(out, signing is not None):  # (put back if signing the new movie fails)
                writer.close()
                tm["encode"] += time.perf_counter() - t
                if signing is not None and synthesised:
                    manifest = signing.finish()
            if is_movie and sign and synthesised and signing is None:
                manifest = {"signed": False, "reason": "C2PA manifests go into .mp4/.mov/.png, not {}".format(
                    os.path.splitext(os.fspath(out))[1])}
            elif signed:
                manifest = dict(signed[-1], files=len(signed))
    finally:
        src.close()
        if signing is not None:  # not signed (nothing synthesised, an error): the follower stops
            signing.cancel()
        if restore_blas is not None:
            restore_blas()
        for held in (donor, motion, warper, head_mouth):
            if held is not None:
                held.close()
    seconds = time.perf_counter() - t_start
    # what the output cannot keep of the shot (an alpha channel, bits, a manifest), one line each
    out_notes = writer.notes(sign) if isinstance(writer, FrameFolder) else list(getattr(writer, "warnings", []))
    tm["conditioning"] = fr.t_cond
    return {
        "out": os.path.abspath(os.fspath(out)) if out is not None else None,
        "frames": stats["written"] + cleared, "range": [a, b], "chunk": list(chunk_range), "region": region,
        "rendered": stats["rendered"], "cached": stats["cached"], "copied": stats["copied"], "warped": stats["warped"],
        "cleared": cleared,
        "provider": renderer.provider, "model": renderer.path, "precision": getattr(renderer, "precision", "fp32"), "size": S,
        "cache_dir": cache.folder, "audio": bool(is_movie and getattr(writer, "audio_copied", False)),
        "seconds": round(seconds, 3), "timings_ms": {k: round(v * 1000.0, 1) for k, v in tm.items()},
        "job_id": payload.to_dict()["job_id"], "watermark": bool(watermark), "manifest": manifest,
        "warnings": warnings + list(getattr(renderer, "warnings", [])) + out_notes, "output_warnings": out_notes,
        "pool_frames": pool_frames,
        "mouth_from": os.path.abspath(os.fspath(mouth_from[1])) if mouth_from is not None else None,
        "driver_mouth": driver_mouth, "unseen_pose": unseen, "in_front": infront.summary() if infront else None,
        "picture": [int(v) for v in area] if area is not None else None,  # inside bars (None: none)
    }


#: movie containers a C2PA manifest can be embedded in
SIGNABLE_MOVIES = (".mp4", ".mov")
