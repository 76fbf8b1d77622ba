# SPDX-License-Identifier: GPL-3.0-or-later
"""Frame-exact, streaming video decoding for movies (PyAV) and image sequences (OpenCV).

``open_video(path)`` returns a :class:`VideoSource`. Frame ``i`` is always the ``i``-th frame
in presentation order (0-based), whether it is reached by decoding from the start, by
``iter_frames(start=i)`` or by ``read(i)``: seeking goes to a keyframe at or before the
frame and decodes forward, matching frames by their presentation timestamp (pts), so the
pixels are identical to a sequential decode.

Errors are :class:`VideoError` (a ``ValueError``) with a one-line message that starts with
the offending path. See ``docs/video-io.md`` for the policies (truncation, gaps, colour).
"""

from __future__ import annotations

import os

from .movie import MovieSource
from .sequence import _HASH_RE, _PRINTF_RE, ImageSequenceSource, _open_sequence_dir, _open_sequence_pattern
from .source import _UNSUPPORTED_IMAGE_EXTENSIONS, IMAGE_EXTENSIONS, VideoError, VideoSource, _as_rate



def open_video(path, *, fps=None, allow_gaps: bool = False, allow_truncated: bool = False,
               threads: int = 0, allow_variable_rate: bool = False) -> VideoSource:
    """Open a movie file or an image sequence.

    ``path`` is a movie file; a folder of numbered images; a pattern such as
    ``shot/frame_%04d.png``, ``shot/frame_####.png`` or ``shot/*.png``; a single image; or a
    list of image files (in frame order).

    ``fps`` overrides the frame rate (image sequences default to 25). ``allow_gaps``: an
    image sequence with missing numbers opens and yields ``None`` for them (default: raise).
    ``allow_truncated``: a truncated movie opens with the frames that are readable and
    ``truncated=True`` (default: raise). ``threads``: decoder threads (0 = automatic).
    ``allow_variable_rate``: a movie whose frame times drift more than half a frame from its
    constant rate opens with ``variable_rate=True`` (default: raise, naming the remedy).
    """
    if isinstance(path, (list, tuple)):
        files = [os.fspath(p) for p in path]
        if not files:
            raise VideoError("<list of images>", "image sequence is empty (empty list)")
        for f in files:
            if not os.path.isfile(f):
                raise VideoError(f, "image file does not exist")
        label = os.path.dirname(files[0]) or files[0]
        return ImageSequenceSource(label, files, None, fps=fps, allow_gaps=allow_gaps)

    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(f"open_video() needs a path, a pattern or a list of paths, "
                        f"not {type(path).__name__}") from None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if os.path.isdir(p):
        return _open_sequence_dir(p, fps, allow_gaps)
    if os.path.isfile(p):
        try:
            size = os.path.getsize(p)
        except OSError as exc:
            raise VideoError(p, f"cannot read file: {exc.strerror or exc}") from None
        if size == 0:
            raise VideoError(p, "file is empty (0 bytes)")
        ext = os.path.splitext(p)[1].lower()
        if ext in IMAGE_EXTENSIONS:
            return ImageSequenceSource(p, [p], None, fps=fps, allow_gaps=allow_gaps)
        if ext in _UNSUPPORTED_IMAGE_EXTENSIONS:
            raise VideoError(p, f"{ext} images are not supported (convert them to OpenEXR or 16-bit PNG/TIFF)")
        if not os.access(p, os.R_OK):
            raise VideoError(p, "cannot read file: permission denied")
        return MovieSource(p, fps=fps, allow_truncated=allow_truncated, threads=threads,
                           allow_variable_rate=allow_variable_rate)
    base = os.path.basename(p)
    if _PRINTF_RE.search(base) or _HASH_RE.search(base) or any(ch in base for ch in "*?["):
        return _open_sequence_pattern(p, fps, allow_gaps)
    if os.path.lexists(p):
        raise VideoError(p, "is not a regular file (broken link or special file)")
    raise VideoError(p, "file does not exist")


def open_sequence_at(path, fps, **kwargs) -> VideoSource:
    """``open_video(path)``, an image sequence played at ``fps`` (the rate its Track recorded:
    `track --fps`, Blender's scene rate); a movie keeps its own rate."""
    src = open_video(path, **kwargs)
    if src.kind == "sequence" and fps and src.rate != _as_rate(fps):
        src.close()
        src = open_video(path, fps=fps, **kwargs)
    return src


def check_audio_fits(source, out) -> None:
    """VideoError (one line) when the audio of the movie ``source`` cannot be copied into the
    container of the movie ``out`` (Opus into .mov): a render or restyle asks before any work
    (before 2026-12-05 the writer found it after the reference pool, the shot's survey and the
    room plate: minutes for a head render). About 1 ms; nothing to say for frames or no audio."""
    import io

    import av

    from .encode import MOVIE_EXTENSIONS

    ext = os.path.splitext(os.fspath(out))[1].lower() if out is not None else ""
    if ext not in MOVIE_EXTENSIONS or not os.path.isfile(os.fspath(source)):
        return
    try:
        ic = av.open(os.fspath(source))
    except av.error.FFmpegError:
        return  # (an image, or a movie the reader names better)
    try:
        if not ic.streams.audio:
            return
        oc = av.open(io.BytesIO(), mode="w", format=MOVIE_EXTENSIONS[ext])
        try:
            for ia in ic.streams.audio:
                oc.add_stream_from_template(ia)
            oc.start_encoding()
        except (av.error.FFmpegError, ValueError, TypeError):
            codecs = "/".join(sorted({ia.codec_context.name for ia in ic.streams.audio if ia.codec_context}))
            raise VideoError(os.fspath(out), "a {} file cannot hold the footage's {} audio; {}".format(
                ext, codecs or "audio", "write a .mkv instead (Matroska holds it)" if ext != ".mkv" else
                "convert the footage's audio first")) from None
        finally:
            try:
                oc.close()
            except (av.error.FFmpegError, ValueError):
                pass
    finally:
        ic.close()
