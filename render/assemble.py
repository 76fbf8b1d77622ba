# SPDX-License-Identifier: GPL-3.0-or-later
"""The last step of a chunked render (a render farm's job): the frame folder that the chunks
filled becomes a movie with the footage's audio (no bpy, no torch)::

    summary = assemble_movie("renders/tom", "shot.mp4", "renders/tom.mp4")

Every clip frame must be in the folder (``frame_000000.png`` ...: the chunks of a job write the
footage's own frames around the job's range too, see :func:`reenact.render.pipeline.chunk_segments`);
a missing frame is one clear line naming the first missing ones and nothing is written. The
movie is encoded like :func:`~reenact.render.pipeline.render_clip` encodes one (same writer,
frame rate and audio copy), so it equals the movie of a single render of the job. It is signed
(C2PA) with the job id the rendered frames' manifests declare; the hidden temporaries of killed
chunks are removed from the folder.
"""

import os
import time

from ..fsutil import kept_aside, refuse_overwriting
from ..progress import Cancelled
from ..provenance.manifest import ManifestError, png_has_manifest, read_manifest, sign_file
from ..video import VideoError, VideoWriter
from ..video.bitdepth import plate_first
from ..video.decode import open_sequence_at
from ..video.encode import FrameFolder, source_tags
from .chunks import chunks_in, job_frames
from .pipeline import SIGNABLE_MOVIES


def _read_frame(path, size):
    """A frame of the folder as the movie's RGB uint8 picture (a 16-bit PNG rounded, an OpenEXR
    plate's frame sRGB-encoded: :func:`reenact.video.bitdepth.display8`)."""
    from ..video.sequence import _imread_rgb

    try:
        rgb = _imread_rgb(path)
    except VideoError:
        raise ValueError("{}: cannot read this frame (damaged?); render its chunk again".format(path)) from None
    if (rgb.shape[1], rgb.shape[0]) != tuple(size):
        raise ValueError("{}: frame is {}x{}, the footage {}x{}: a render of other footage?".format(
            path, rgb.shape[1], rgb.shape[0], size[0], size[1]))
    return rgb


def _job_payload(folder, paths, signed):
    """(the watermark job id the signed frames of ``paths`` declare, None when unsigned; warning
    lines). The frames read: the first signed one of each run of them and of each chunk that left
    a marker in ``folder`` (one process wrote a chunk's frames: one job id, one weights file).
    ValueError (one line) when they declare more than one job id: frames of another job, or
    chunks that derived it on Workers that see the footage at other paths (until 2026-12-06's farm audit the
    movie was signed with the first frame's, and verify read "payload unreadable" in it); more
    than one weights file (CPU and CUDA Workers: int8 and fp16) is a warning, their pictures
    differing slightly."""
    firsts = {i for i in range(len(paths)) if signed[i] and (i == 0 or not signed[i - 1])}
    for c, d in chunks_in(folder):
        firsts.update([next((i for i in range(max(c, 0), min(d, len(paths))) if signed[i]), 0)])
    ids, models = {}, {}
    for i in sorted(k for k in firsts if signed[k]):
        m = read_manifest(paths[i])
        sb = m.get("soft_binding")
        if sb and sb.get("value"):
            ids.setdefault(int(sb["value"][-10:], 16), i)
        for act in m.get("actions") or []:
            model = (act.get("parameters") or {}).get("model") if act.get("action") == "c2pa.edited" else None
            if model:
                models.setdefault(str(model), i)

    def said(found, name):
        return ", ".join("{} from clip frame {}".format(name(k), i)
                         for k, i in sorted(found.items(), key=lambda e: e[1]))

    if len(ids) > 1:
        raise ValueError("{}: its frames carry {} watermark job ids ({}): frames of another job, or chunks that "
                         "derived the id on Workers that see the footage at other paths; give the job one job id "
                         "(Flamenco: Job ID; --job-id) and render it again".format(
                             folder, len(ids), said(ids, "{:010x}".format)))
    warnings = []
    if len(models) > 1:
        warnings.append("{}: its frames were rendered with {} weights files ({}: CPU and CUDA Workers), whose "
                        "pictures differ slightly; render the job on one kind of Worker for one look".format(
                            folder, len(models), said(models, str)))
    return (next(iter(ids)) if ids else None), warnings


def assemble_movie(folder, video, out, lossless=False, progress=None, sign=True, sign_cert=None, sign_key=None,
                   codec=None, fps=None):
    """Encode the frames of ``folder`` (one per clip frame of ``video``) into the movie ``out``
    (.mp4/.mov/.mkv) with ``video``'s audio; an image sequence ``video`` plays at ``fps`` (default
    25; a movie keeps its own rate). Returns a summary dict (``out``, ``frames``,
    ``audio``, ``job_id``, ``manifest``, ``temporaries_removed``, ``seconds``)."""
    t0 = time.perf_counter()
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(folder):
        raise ValueError("{}: no such frame folder".format(folder))
    with open_sequence_at(video, fps) as src:
        refuse_overwriting(out, getattr(src, "files", None) or [src.path])
        n, size, rate = len(src), (src.width, src.height), src.rate
        audio = video if (src.kind == "movie" and src.has_audio) else None
        tags = source_tags(src)  # an HDR shot's colour encoding, the timecode, the pixel aspect
        first = plate_first(src)  # a plate's frames are numbered as the plate
    frames = FrameFolder(folder, n, first=first)
    missing = frames.missing()
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise ValueError("{}: {} of the clip's {} frames are missing ({}): a chunk has not finished; "
                         "render it again".format(folder, len(missing), n, shown))
    paths = [os.path.join(folder, frames.filename(i)) for i in range(n)]
    signed = [png_has_manifest(p) for p in paths]  # the synthesised frames (copies are unsigned)
    job, notes = _job_payload(folder, paths, signed)
    removed = frames.remove_temporaries()
    # an I-frame where synthesised and copied frames meet: OpenEXR frames carry no manifest, their
    # chunks' job frames say it (before 2026-12-06 none, and verify named copied frames after the
    # change as synthesised: the mark predicted into them; a review of plates)
    segment = signed if any(signed) else [any(a <= i < b for a, b in job_frames(folder)) for i in range(n)]
    manifest = signing = None
    if sign and job is not None:
        if os.path.splitext(os.fspath(out))[1].lower() in SIGNABLE_MOVIES:
            from ..provenance.movie_signing import MovieSigning

            # the manifest set up now, the movie's samples hashed as they are written
            signing = MovieSigning(out, "c2pa.edited", job, sign_cert, sign_key,
                                   {"tool": "Reenact", "assembled_from": os.path.basename(folder), "frames": n,
                                    "job_id": "{:010x}".format(job)}, source=video, expected_frames=n)
        else:
            manifest = {"signed": False, "reason": "C2PA manifests go into .mp4/.mov/.png, not {}".format(
                os.path.splitext(os.fspath(out))[1])}
    # OpenEXR frames carry no manifest: the job is read from their watermark as they are written,
    # and the movie signed after (before 2026-12-06 such a movie went out unsigned, without a word)
    read_mark = sign and job is None and any(p.lower().endswith(".exr") for p in paths)
    try:
        writer = VideoWriter(out, rate, size, lossless=lossless, codec=codec, audio_from=audio, **tags)
        try:
            if signing is not None:
                signing.follow(writer)

            def written():
                for i, path in enumerate(paths):  # an I-frame where synthesised and copied frames meet
                    rgb = _read_frame(path, size)
                    writer.write(rgb, segment=segment[i])
                    if progress is not None and progress(i + 1, n, "frame {}".format(i)) is False:
                        raise Cancelled()
                    yield rgb

            if read_mark:
                from ..provenance.watermark import detect

                found = detect(written(), float(rate))
                if found["detected"] and found["payload_valid"]:
                    job = int(found["payload"]["job_id"], 16)
            else:
                for _ in written():
                    pass
        except BaseException:
            writer.abort()
            raise
        # the earlier file at ``out`` kept until the new movie is signed: a failure while signing
        # (a full disk) puts it back, or removes the new, unsigned movie where there was none
        # (before 2026-12-06 `reenact assemble` said "cannot write the signed file" and left the
        # unsigned movie in place of the earlier, signed one; render and restyle did this already)
        with kept_aside(out, signing is not None or read_mark):
            writer.close()
            if signing is not None:
                manifest = signing.finish()
            elif read_mark and job is not None:
                if os.path.splitext(os.fspath(out))[1].lower() in SIGNABLE_MOVIES:
                    try:
                        manifest = sign_file(out, "c2pa.edited", job, sign_cert, sign_key,
                                             {"tool": "Reenact", "assembled_from": os.path.basename(folder),
                                              "frames": n, "job_id": "{:010x}".format(job)}, source=video)
                    except ManifestError as exc:  # (the movie is whole: said, not lost)
                        manifest = {"signed": False, "reason": str(exc)}
                else:
                    manifest = {"signed": False, "reason": "C2PA manifests go into .mp4/.mov/.png, not {}".format(
                        os.path.splitext(os.fspath(out))[1])}
    finally:
        if signing is not None:
            signing.cancel()
    return {"out": os.path.abspath(os.fspath(out)), "frames": n, "audio": bool(writer.audio_copied),
            "output_warnings": notes + list(writer.warnings),
            "job_id": None if job is None else "{:010x}".format(job), "manifest": manifest,
            "temporaries_removed": removed, "seconds": round(time.perf_counter() - t0, 3)}
