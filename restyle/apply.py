# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply a restyle model (ONNX, onnxruntime; no torch) to a clip at its own resolution.

Per frame: the frame is resized to the working resolution, the generator predicts its colour
transform on a coarse grid (:mod:`.colour`), the transform is stabilised in time (the previous
frame's transform, moved by DIS optical flow, is blended in where the flow is reliable), upsampled
to the full frame and applied to the full-resolution pixels, so the shot's detail is kept. In
colourise mode the transform gives chroma as a function of the shot's own luminance, which is
kept as it is.
"""

import os
import time
from contextlib import closing

import cv2
import numpy as np

from ..errors import ReenactError
from ..fsutil import Aside, refuse_overwriting
from ..provenance.manifest import frames_text, sign_file
from ..provenance.movie_signing import MovieSigning
from ..provenance.watermark import DEFAULT_KEY, job_id_from, make_payload, mark_frame
from ..render.cache import file_digest, source_identity
from ..render.chunks import mark_chunk
from ..render.ranges import chunk_segments, iter_segments, kept_span
from ..render.renderer import check_io
from ..session import create_session, session_provider
from ..video import MOVIE_EXTENSIONS, VideoError, open_writer
from ..video.bars import is_whole, keep_bars, shot_picture_area
from ..video.bitdepth import movie_alpha
from ..video.decode import check_audio_fits, open_sequence_at
from ..video.encode import FrameFolder, ImageSequenceWriter, source_tags
from ..video.identity import footage_label
from .colour import TONED_HINT, apply_rgb, colourise_rgb, is_grey, luma, to_uint8, upsample
from .config import RestyleConfig

#: default weight of the flow-warped previous transform (0 = per-frame)
DEFAULT_STABILISE = 0.8
#: a chunk (``apply_clip(chunk=(c, d))``) runs the stabiliser over this many frames before its first
#: one, unwritten, so that its first frames match a render of the whole clip (0.8 ** 16 < 3 %)
CHUNK_WARMUP = 16


class RestyleError(ReenactError):
    """Bad restyle input (one line naming the file)."""


#: bounds of a restyle model's working resolution (checked on load: a crafted size must not
#: allocate terabytes)
SIZE_RANGE = (32, 1024)


def check_config(text, path):
    """The :class:`RestyleConfig` in a model's ``reenact.config`` metadata, checked (known
    method, arch, discriminator; ``size`` a multiple of 16 in :data:`SIZE_RANGE`). Raises
    RestyleError naming the file."""
    try:
        cfg = RestyleConfig.from_json(text)
        if isinstance(cfg.size, bool) or not isinstance(cfg.size, int) or not SIZE_RANGE[0] <= cfg.size <= SIZE_RANGE[1]:
            raise ValueError("size is {!r}, expected a multiple of 16 in {}..{}".format(cfg.size, *SIZE_RANGE))
        if not isinstance(cfg.colourise, bool):
            raise ValueError("colourise is {!r}, expected true or false".format(cfg.colourise))
        cfg.check()
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # JSON (nested 100000 deep too), types, check
        raise RestyleError("not a usable restyle model: {}".format(str(exc).lstrip("-")), path=path) from None
    return cfg


class RestyleModel:
    """An exported restyle generator: ``cfg`` (RestyleConfig), ``provider`` (really in use).
    A colouriser with the retrieval prior (``cfg.uses_prior``) retrieves from ``pool``: the
    reference frames shipped in the model, or those of ``reference`` (colour clips: paths,
    ``PATH@A:B``) when given."""

    def __init__(self, path, prefer_gpu=True, threads=None, reference=None):
        path = os.fspath(path)
        from .data import clip_spec

        self.reference_paths = [clip_spec(r).path for r in (reference or ())]  # (written over by no output)
        if not os.path.isfile(path):
            raise RestyleError("{}: model file does not exist".format(path))
        try:  # onnxruntime reads the metadata: the onnx package is not a runtime dependency
            sess = create_session(path, prefer_gpu=prefer_gpu, threads=threads)
            meta = dict(sess.get_modelmeta().custom_metadata_map)
        except Exception:
            raise RestyleError("{}: not an ONNX model".format(path)) from None
        if meta.get("reenact.kind") != "restyle" or "reenact.config" not in meta:
            raise RestyleError("{}: not a restyle model (reenact.kind is {!r})".format(path, meta.get("reenact.kind")))
        self.path = path
        self.cfg = check_config(meta["reenact.config"], path)
        self.out_ch = 3 if self.cfg.arch == "unet" and not self.cfg.colourise else self.cfg.coef_ch
        try:
            check_io(sess, self.cfg.in_ch, self.out_ch, path)
        except ReenactError as exc:
            raise RestyleError(exc.problem, path=path) from None
        self.meta = meta
        self.pool = self._pool(meta, reference)
        self.sess = sess
        self.provider = session_provider(self.sess)

    def _pool(self, meta, reference):
        from .prior import RefPool

        if not self.cfg.uses_prior:
            if reference:
                raise RestyleError("{}: --reference is for colourisers trained with the retrieval prior; this model "
                                   "has none".format(self.path))
            return None
        if reference:
            return reference_pool(reference, self.cfg.pool_frames or None)
        if "reenact.pool" not in meta:
            raise RestyleError("{}: this colouriser was exported without its reference frames (--pool-frames 0); give "
                               "its colour reference footage with --reference REF.mp4".format(self.path))
        try:
            return RefPool.from_text(meta["reenact.pool"])
        except ValueError as exc:
            raise RestyleError("{}: {}".format(self.path, exc)) from None

    @property
    def size(self):
        return self.cfg.size

    def small(self, frame_u8):
        S = self.cfg.size
        return cv2.resize(frame_u8, (S, S), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0

    def predict(self, small):
        """(S, S, 3) float working-resolution frame -> (S, S, K) change map at the working resolution."""
        if self.cfg.uses_prior:
            y = luma(small)
            p = self.pool.prior_for(y, self.cfg.size, self.cfg.prior_k)
            inp = np.concatenate([y[..., None], p], -1).transpose(2, 0, 1)[None]
        elif self.cfg.colourise:
            inp = luma(small)[None, None]
        else:
            inp = small.transpose(2, 0, 1)[None]
        y = self.sess.run(None, {"input": np.ascontiguousarray(inp, np.float32)})[0]
        S = self.cfg.size
        if y.ndim != 4 or y.shape[:2] != (1, self.out_ch) or not (0 < y.shape[2] <= S and 0 < y.shape[3] <= S) or (
                self.out_ch == 3 and y.shape[2:] != (S, S)):  # declared shapes can be symbolic: check what came
            raise RestyleError("the model gave an output of shape {} for an input of {}".format(
                tuple(y.shape), tuple(inp.shape)), path=self.path)
        out = y[0].transpose(1, 2, 0)
        if self.cfg.arch == "unet" and not self.cfg.colourise:
            return out - small  # the change, carried to full resolution as an upsampled residual
        return upsample(out, (self.cfg.size, self.cfg.size))

    def render(self, frame_u8, change):
        """Full-resolution result (uint8) of one frame from its working-resolution change map."""
        H, W = frame_u8.shape[:2]
        img = frame_u8.astype(np.float32) / 255.0
        full = upsample(change, (W, H))
        if self.cfg.colourise:
            return to_uint8(colourise_rgb(luma(img), full))
        if self.cfg.arch == "unet":
            return to_uint8(img + full)
        return to_uint8(apply_rgb(img, full))


def reference_pool(items, max_frames=None):
    """The retrieval pool of colour reference clips given at apply time (``--reference``): paths
    or ``PATH@A:B``; one RestyleError line for a missing, unreadable or black-and-white clip."""
    from .data import clip_spec, load_clip
    from .prior import POOL_FRAMES, POOL_SIDE, RefPool

    clips = []
    for it in items:
        sp = clip_spec(it)
        try:
            c = load_clip(sp.path, POOL_SIDE, None, None, sp.start, sp.stop)
        except (ValueError, VideoError) as exc:
            raise RestyleError("--reference: {}".format(exc)) from None
        except OSError as exc:
            raise RestyleError("--reference {}: {}".format(sp.path, exc.strerror or exc)) from None
        if is_grey(c[:: max(1, len(c) // 8)]):
            raise RestyleError("{}: --reference is black-and-white; the reference footage must be in colour".format(sp.path))
        clips.append(c)
    return RefPool.from_clips(clips, max_frames or POOL_FRAMES)


class Stabiliser:
    """Blend the previous frame's change map, warped by DIS flow at the working resolution, into
    the current one where the warped previous input matches the current input. Given each
    frame's picture (``frame``), it starts afresh at a cut (:class:`~reenact.video.cuts.CutFinder`):
    across one, the new shot's regions that happened to match the old shot's colours took the old
    shot's change and kept it, fading over some twenty frames."""

    def __init__(self, weight=DEFAULT_STABILISE, sigma=0.04):
        from ..video.cuts import CutFinder

        self.weight, self.sigma = float(weight), float(sigma)
        self.prev = None
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) if weight > 0 else None
        self._cuts = CutFinder() if weight > 0 else None

    def __call__(self, small, change, frame=None):
        if self.weight <= 0:
            return change
        from .metrics import warp

        if frame is not None and self._cuts.add(frame):  # a new shot: nothing of the last one's carried
            self.prev = None
        g = cv2.cvtColor(to_uint8(small), cv2.COLOR_RGB2GRAY)
        if self.prev is not None:
            pg, psmall, pchange = self.prev
            flow = self._dis.calc(g, pg, None)  # current -> previous
            wimg = warp(psmall, flow)
            err = np.abs(wimg - small).mean(-1)
            m = (self.weight * np.exp(-((err / self.sigma) ** 2)))[..., None]
            change = change + m * (warp(pchange, flow) - change)
        self.prev = (g, small, change)
        return change

    def reset(self):
        self.prev = None


def _parse_range(text, n, option="--frames"):
    if text is None:
        return 0, n
    try:
        a, b = text.split(":")
        a = int(a) if a.strip() else 0
        b = int(b) if b.strip() else n
    except ValueError:
        raise RestyleError("{} {}: expected A:B (0-based, B excluded)".format(option, text)) from None
    if 0 <= b < a <= n:  # (before 2026-12-06 said "outside the clip's frames")
        raise RestyleError("{} {}: reversed range (A:B needs A < B)".format(option, text))
    if a < 0 or b > n or a >= b:
        raise RestyleError("{} {}: outside the clip's {} frames".format(option, text, n))
    return a, b


def apply_clip(model, video, out, frames=None, stabilise=DEFAULT_STABILISE, progress=None, lossless=False,
               job_id=None, sign=True, sign_cert=None, sign_key=None, fps=None, chunk=None, codec=None,
               farm_job=None, keep=None, footage=None):
    """Restyle ``video`` into ``out`` (.mp4/.mov/.mkv keeps rate and audio; a folder gets PNGs;
    ``codec="prores"``: a .mov in ProRes 422 HQ).
    ``video``: a movie, or an image sequence (a folder of numbered images, a pattern, a list of
    image files), played at ``fps`` (default 25; ignored for movies, which have their own rate).
    ``frames``: "A:B" or (a, b); frames outside are copied unchanged so the count stays the
    clip's. Writes atomically; returns a summary. Every restyled frame carries the watermark
    (``job_id``: default derived from the footage and the model) and a movie or PNG folder gets a
    signed C2PA manifest (docs/provenance.md). ``chunk``: "C:D" or (c, d), a render farm's
    task (docs/farm.md), like ``reenact render --chunk``: this process's part of ``frames``, written
    into the frame folder ``out`` (:class:`~reenact.video.encode.FrameFolder`, where the job's
    other chunks write at the same time; the first and last chunks also write the footage's own
    frames before and after ``frames``), each restyled frame signed; the stabiliser first runs,
    unwritten, over the :data:`CHUNK_WARMUP` frames of the job before C; ``reenact assemble out
    --video VIDEO --out MOVIE`` then makes the movie; ``farm_job`` (a chunk of ``reenact restyle
    apply``: the job's name, '' for none) leaves the chunk's markers for it (render/chunks.py).
    ``keep`` = (c, d): a frame folder holds frames c..d-1 and, on the others, one transparent
    frame, never decoded (Blender's take: :func:`~reenact.render.pipeline.render_clip`).
    ``footage`` = (VIDEO, (c, d)): ``video`` holds no picture outside its frames c..d-1 (a dub's
    take, transparent there): the frames copied there come from VIDEO, the shot's own footage."""

    if not (np.isfinite(stabilise) and 0.0 <= float(stabilise) <= 0.95):  # (as Blender's Restyle Strip)
        # (before 2026-12-05 2.0 made the change overshoot and swing from frame to frame, and nan
        # failed with a traceback)
        raise RestyleError("--stabilise {}: give a value from 0 to 0.95".format(stabilise))
    if not isinstance(model, RestyleModel):
        model = RestyleModel(model)
    try:
        src = open_sequence_at(video, fps)
    except VideoError as exc:
        raise RestyleError(str(exc)) from None
    movie = src.kind == "movie"  # the footage file: its audio and its C2PA ingredient
    named = footage_label(video)  # (an image strip's list of files by its folder: before 2026-12-06 every path)
    with src:
        # (nor a colouriser's --reference footage: before 2026-12-05 it could be written over)
        refuse_overwriting(out, list(getattr(src, "files", None) or [src.path]) + list(getattr(model, "reference_paths", ())))
        try:  # its audio into the movie's container (Opus into .mov): before any frame
            check_audio_fits(src.path, out) if movie else None
        except VideoError as exc:
            raise RestyleError(str(exc)) from None
        n, W, H, fps = len(src), src.width, src.height, src.fps
        if isinstance(frames, tuple):  # (a, b) from a strip's trims: clamped to the clip
            a, b = max(0, int(frames[0])), min(n, int(frames[1]))
            if a >= b:
                raise RestyleError("{}: frames {}:{} are outside the clip's {} frames".format(named, *frames, n))
        else:
            a, b = _parse_range(frames, n)
        if model.cfg.colourise:
            probe = [src.read(i) for i in np.linspace(a, b - 1, min(5, b - a)).astype(int)]
            if not is_grey([p for p in probe if p is not None]):
                raise RestyleError("{}: the shot is already in colour (colourise needs a black-and-white shot) {}".format(
                    named, TONED_HINT))
        ext = os.path.splitext(os.fspath(out))[1].lower()
        # an OpenEXR or 16-bit plate: frames at its depth; a plate or movie with alpha: its alpha
        plate = src if src.kind == "sequence" else movie_alpha(src)
        kw = dict(audio_from=video if movie else None, lossless=lossless, codec=codec,
                  **source_tags(src)) if ext in MOVIE_EXTENSIONS else {"plate": plate}
        if chunk is not None:
            if ext in MOVIE_EXTENSIONS:
                raise RestyleError("{}: a chunk is written into a frame folder, not a movie".format(out))
            c, d = _parse_range(chunk, n, "--chunk") if isinstance(chunk, str) else (int(chunk[0]), int(chunk[1]))
            try:
                segments = chunk_segments((a, b), (c, d), n)
            except ValueError as exc:
                raise RestyleError("{}: {}".format(named, exc)) from None
            warm = (max(a, c - CHUNK_WARMUP), c)
        else:
            segments, warm = [(0, n)], (a, a)
        try:
            writer = closing(FrameFolder(out, n, plate=plate)) if chunk is not None else open_writer(
                out, fps, (W, H), **kw)
        except VideoError as exc:
            raise RestyleError(str(exc)) from None
        indexed = chunk is not None  # (frames written by their clip frame number)
        if keep is not None and chunk is None and isinstance(writer, ImageSequenceWriter):
            c, d = kept_span(keep, (a, b), n)
            try:
                cleared = writer.clear([*range(c), *range(d, n)])
            except BaseException as exc:  # (a full disk: its temporary folder removed now, one line)
                writer.abort()
                if isinstance(exc, VideoError):
                    raise RestyleError(str(exc)) from None
                raise
            if cleared:
                segments, indexed = [(c, d)], True  # (the rest never decoded)
        if chunk is not None and farm_job is not None:  # (Blender's Restyle Strip marks its chunks itself)
            mark_chunk(out, farm_job, (a, b), (c, d), n, done=False)
        stab = Stabiliser(stabilise)
        payload = make_payload(job_id if job_id is not None else job_id_from(
            source_identity(video if movie else [f for f in src.files if f]), "restyle", file_digest(model.path)))
        t_net = 0.0
        t0 = time.perf_counter()
        written = []
        total = sum(e - s for s, e in segments)
        # letterbox or pillarbox bars stay as they are (a grade would lift them to grey, a
        # colouriser tint them) and the model sees only the picture; found on the frames restyled
        # (the job's: every chunk of a farm job crops the same box; before 2026-12-06 the whole
        # clip's, where a dub's take is clear outside the frames its shot shows)
        area = shot_picture_area(src, a, b)
        params = {"tool": "Reenact", "operation": "restyle", "model": os.path.basename(model.path),
                  "frames": frames_text((a, b)), "job_id": payload.to_dict()["job_id"]}
        signing = aside = None
        if sign and ext in (".mp4", ".mov"):  # the manifest set up now, the samples hashed as written
            try:
                signing = MovieSigning(out, "c2pa.edited", payload, sign_cert, sign_key, params,
                                       source=video if movie else None, expected_frames=n)
                signing.follow(writer)
            except BaseException:
                writer.abort()
                raise
        shot, held = _footage_beside(footage, fps, (W, H), n)  # (closed below, whatever happens)
        try:
            with writer as w:
                for _i, f in src.iter_frames(*warm):  # a chunk's frames before it: the stabiliser's state
                    p = _picture(f, area)
                    small = model.small(p)
                    stab(small, model.predict(small), p)
                done = 0
                for i, f in iter_segments(src, segments):
                    if shot is not None and not held[0] <= i < held[1]:
                        f = shot.read(i)  # (the shot's own frame, where the dub's take holds none)
                    if a <= i < b:
                        t = time.perf_counter()
                        p = _picture(f, area)
                        small = model.small(p)
                        change = stab(small, model.predict(small), p)
                        f = _paste(f, model.render(p, change), area)
                        f = keep_bars(mark_frame(f, i, DEFAULT_KEY, payload), f, area)  # the bars stay black
                        t_net += time.perf_counter() - t
                        written.append(w.write(f, i) if indexed else w.write(f, segment=True))
                    elif indexed:  # the footage's own frame (a chunk's, or a take's kept frames around them)
                        w.write(f, i)
                    else:  # (a movie starts an I-frame where restyled and copied frames meet)
                        w.write(f, segment=False)
                    done += 1
                    if progress is not None and progress(done, total, "") is False:
                        raise KeyboardInterrupt
                aside = Aside(out) if signing is not None else None  # (put back if signing the new movie fails)
            manifest = signing.finish() if signing is not None else None
        except BaseException:
            if signing is not None:
                signing.cancel()
            if aside is not None:
                aside.put_back()
            raise
        finally:
            if shot is not None:
                shot.close()
    if aside is not None:
        aside.drop()
    if signing is None and sign and ext in MOVIE_EXTENSIONS:  # (a lossless .mkv: said, as the render says it)
        manifest = {"signed": False, "reason": "C2PA manifests go into .mp4/.mov/.png, not {}".format(ext)}
    elif signing is None and sign:  # a folder: each restyled PNG
        for path in written:
            manifest = sign_file(path, "c2pa.edited", payload, sign_cert, sign_key, params) if path.endswith(
                ".png") else {"signed": False, "reason": "C2PA has no OpenEXR binding (the frames carry the watermark)"}
    if chunk is not None and farm_job is not None:
        mark_chunk(out, farm_job, (a, b), (c, d), n)
    # what the output cannot keep of the shot (an alpha channel, bits), one line each
    out_notes = list(getattr(getattr(writer, "thing", writer), "warnings", []))
    audio = bool(getattr(getattr(writer, "thing", writer), "audio_copied", False))
    if movie and src.has_audio and not audio and chunk is None and keep is None:
        # a frame folder holds no sound: said, with how to put it back (a farm chunk is assembled
        # with it, and Blender's take plays beside the shot's sound strip; before the evening of 2026-12-06 the
        # sound was dropped without a word and the summary had no "audio")
        from ..video.audiotracks import no_sound_note

        out_notes.append(no_sound_note(out, src.path))
    if sign and written and ext not in MOVIE_EXTENSIONS and not any(str(p).endswith(".png") for p in written):
        # (OpenEXR frames: said as the render says it; a review of plates)
        out_notes.append("{}: OpenEXR frames carry the watermark but no C2PA manifest (C2PA has no OpenEXR "
                         "binding; a movie or PNG made from them can be signed)".format(os.fspath(out)))
    return {"out": os.fspath(out), "frames": n, "written": total, "audio": audio, "cleared": n - total if chunk is None else 0, "restyled": len(written), "size": [W, H], "fps": fps,
            "output_warnings": out_notes,
            "provider": model.provider, "ms_per_frame": round(1000.0 * t_net / max(1, b - a), 1),
            "seconds": round(time.perf_counter() - t0, 2), "stabilise": stabilise, "picture": [int(v) for v in area],
            "job_id": payload.to_dict()["job_id"], "manifest": manifest,
            "chunk": None if chunk is None else [int(segments[0][0]), int(segments[-1][1])]}


def _footage_beside(footage, fps, size, n):
    """(the open shot, (c, d)) of ``apply_clip``'s ``footage``, or (None, (0, 0)): none given, or
    footage of another size or shorter than the clip (then the clip's own frames are copied)."""
    if footage is None:
        return None, (0, 0)
    try:
        shot = open_sequence_at(footage[0], fps)
    except (VideoError, OSError):  # (the shot gone offline: the take's own frames, as before)
        return None, (0, 0)
    if (shot.width, shot.height) != tuple(size) or len(shot) < n:
        shot.close()
        return None, (0, 0)
    return shot, (int(footage[1][0]), int(footage[1][1]))


def _picture(frame, area):
    """The part of ``frame`` inside the bars (:func:`~reenact.video.bars.picture_area`)."""
    x0, y0, x1, y1 = area
    return frame[y0:y1, x0:x1]


def _paste(frame, picture, area):
    """``frame`` with its picture replaced by ``picture`` (the bars kept)."""
    if is_whole(area, frame.shape):
        return picture
    x0, y0, x1, y1 = area
    out = frame.copy()
    out[y0:y1, x0:x1] = picture
    return out


def restyle_frames(model, frames_u8, stabilise=DEFAULT_STABILISE, area=None):
    """In-memory variant for benchmarks and tests: list of uint8 frames -> list of uint8 frames.
    ``area``: the picture inside bars (x0, y0, x1, y1) as ``apply_clip`` finds it (default the
    whole frame: the benchmark's figures are on whole frames)."""
    stab = Stabiliser(stabilise)
    out = []
    for f in frames_u8:
        a = area or (0, 0, f.shape[1], f.shape[0])
        p = _picture(f, a)
        small = model.small(p)
        out.append(_paste(f, model.render(p, stab(small, model.predict(small), p)), a))
    return out
