# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing movies (PyAV) and PNG sequences without ever leaving a half-written output.

* :class:`VideoWriter` writes ``.mp4`` / ``.mov`` / ``.mkv`` to a hidden temporary file in
  the destination folder and renames it over the destination only when :meth:`close`
  succeeds; on an exception (or :meth:`abort`) the temporary file is deleted and an
  existing file at the destination is left untouched.
* :class:`ImageSequenceWriter` writes ``frame_000000.png`` ... into a hidden temporary
  folder next to the destination folder and renames the folder into place on success.
* Single PNGs and the resumable frame folder of renders and farm chunks live in
  ``video/pngs.py`` (re-exported here).

The frame rate is kept exact (a ``Fraction`` such as 30000/1001). An audio stream can be
copied (remuxed, not re-encoded) from another file with ``audio_from``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from fractions import Fraction
from typing import Optional, Tuple

import numpy as np

from .pngs import (FRAME_DIGITS, FRAME_PREFIX, STALE_TMP_SECONDS, _FRAME_TMP_RE, FrameFolder, clear_frames,
                   plate_output, png_rgb8, system_file, write_png)
from .tempfiles import movie_temporary, temp_sibling as _temp_sibling
from .source import TIMECODE_RE, VideoError, VideoSource, _as_rate, _describe_av_error

__all__ = ["VideoWriter", "ImageSequenceWriter", "open_writer", "MOVIE_EXTENSIONS",
           "available_video_codecs", "source_tags", "check_movie_codec", "MOVIE_CODECS",
           # from .pngs, where they live now
           "FrameFolder", "write_png", "png_rgb8", "FRAME_PREFIX", "FRAME_DIGITS", "STALE_TMP_SECONDS",
           "_FRAME_TMP_RE"]

#: Movie containers the writer supports -> FFmpeg muxer name.
MOVIE_EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}

_OTHER_MOVIE_EXTENSIONS = {".avi", ".webm", ".mxf", ".mpg", ".mpeg", ".ts", ".flv", ".wmv",
                           ".gif", ".ogv", ".3gp", ".png", ".jpg", ".jpeg", ".exr", ".tif",
                           ".tiff"}

# BT.709, limited range: what the YUV outputs are converted with and tagged as
_BT709 = 1
_RANGE_TV = 1


def available_video_codecs() -> dict:
    """Which of the encoders this module can use are in the installed PyAV/FFmpeg."""
    import av

    out = {}
    for name in ("libx264", "libx264rgb", "mpeg4", "ffv1"):
        try:
            av.codec.Codec(name, "w")
            out[name] = True
        except Exception:
            out[name] = False
    return out


def _as_size(size) -> Tuple[int, int]:
    try:
        w, h = (int(size[0]), int(size[1]))
    except Exception:
        raise VideoError(None, f"invalid frame size {size!r} (expected (width, height))") from None
    if w <= 0 or h <= 0:
        raise VideoError(None, f"invalid frame size {size!r}")
    return w, h


def _as_rgb_frame(frame, size, path, allow16=False) -> np.ndarray:
    """Validate / normalise a frame to HxWx3 uint8 (or uint16 when allowed)."""
    if frame is None:
        raise VideoError(path, "cannot write an empty frame (None)")
    a = np.asarray(frame)
    ok_types = (np.uint8, np.uint16) if allow16 else (np.uint8,)
    if a.dtype not in ok_types:
        want = "uint8 or uint16" if allow16 else "uint8"
        raise VideoError(path, f"frames must be {want} RGB arrays, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3:
        raise VideoError(path, f"frames must be HxWx3 RGB arrays, got shape {a.shape}")
    if size is not None and (a.shape[1], a.shape[0]) != tuple(size):
        raise VideoError(path, f"frame is {a.shape[1]}x{a.shape[0]} but the output is "
                               f"{size[0]}x{size[1]}")
    return np.ascontiguousarray(a)


class _AtomicOutput:
    """``with`` support for the writers: close (rename into place) on success, abort (remove
    the temporary output, keep any previous one) on an exception."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        (self.abort if exc_type is not None else self.close)()
        return False

    def __del__(self):
        # a writer dropped without close(): never leave the temporary output behind
        try:
            if not self._done:
                self.abort()
        except Exception:
            pass

    def _close_failed(self, exc, what):
        """Abort after a failed close; an OSError or FFmpeg error becomes one VideoError line
        (``what``: the step that failed), anything else is re-raised as it is."""
        self.abort()
        av = sys.modules.get("av")
        if av is not None and isinstance(exc, av.error.FFmpegError):
            raise VideoError(self.path, f"{what} failed: {_describe_av_error(exc)}") from None
        if isinstance(exc, OSError):
            raise VideoError(self.path, f"{what}: {exc.strerror or exc}") from None
        raise exc


#: the lossy default: x264 "veryfast" at CRF 16 against "medium" at CRF 18 on a 512x512 clip
#: (driving_d14, 120 frames): 6.9 against 14.5 ms of CPU per frame, about the same quality
#: (PSNR 43.2 against 43.5 dB to the frames written), files ~20 % larger; in the render path at
#: 256 px on 2 cores, 61 against 69 ms per frame (docs/video-io.md)
DEFAULT_CRF = 16
DEFAULT_PRESET = "veryfast"


class VideoWriter(_AtomicOutput):
    """Write RGB frames to a movie file, atomically.

    ``VideoWriter(path, fps, size, lossless=False, audio_from=None)``; use as a context
    manager, call :meth:`write` per frame (HxWx3 uint8 RGB).

    * Lossy (default): H.264 (libx264, ``crf``/``preset``), yuv420p (yuv444p for odd sizes),
      converted with and tagged as BT.709 limited range; MPEG-4 Part 2 if libx264 is absent.
    * ``lossless=True``: bit-exact RGB. ``.mp4``/``.mov`` use libx264rgb with qp=0 (H.264
      High 4:4:4 Predictive, RGB, 8 bits), ``.mkv`` uses FFV1 (RGB of 10, 12 or 16 bits for a
      shot of more than 8, ``deep_from``, the change merged into its own frames).
    * ``audio_from``: path (or :class:`VideoSource`) whose audio streams are all copied packet
      for packet (no re-encoding; their titles and languages kept), interleaved with the video.
      A source without audio is not an error; ``audio_copied`` tells whether any stream was
      copied, ``audio_streams`` how many.
    * The frame rate is exact: frame ``i`` has pts ``i`` in a ``1/fps`` time base.
    * ``codec="prores"`` (.mov): Apple ProRes 422 HQ, 10-bit 4:2:2 (4444 for an odd width),
      intra-frame, what editing systems conform from; ``"h264"`` is the default's libx264.
    * ``colour``, ``timecode``, ``sample_aspect``: what the movie keeps of the shot it was made
      from (:func:`source_tags`): an HDR shot's colour encoding, the start timecode (a
      timecode track in .mov/.mp4, a tag in .mkv) and a pixel aspect other than square.
    """

    def __init__(self, path, fps, size, lossless: bool = False, audio_from=None, *,
                 codec: Optional[str] = None, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                 options: Optional[dict] = None, faststart: bool = True, threads: int = 0,
                 colour: Optional[dict] = None, timecode: Optional[str] = None,
                 sample_aspect=None, deep_from=None, alpha=False):
        import av

        self.path = os.path.abspath(os.fspath(path))
        self.rate: Fraction = _as_rate(fps)
        self.size = _as_size(size)
        self.lossless = bool(lossless)
        self.frames_written, self.audio_copied, self.audio_streams = 0, False, 0
        self._container, self._in_audio, self._done, self._segment = None, None, False, None
        ext = os.path.splitext(self.path)[1].lower()
        if ext not in MOVIE_EXTENSIONS:
            raise VideoError(self.path, f"unsupported movie format '{ext or '(none)'}' "
                                        f"(use .mp4, .mov or .mkv, or a folder for PNGs)")
        if os.path.isdir(self.path):
            raise VideoError(self.path, "is a folder, cannot write a movie file there")
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise VideoError(self.path, f"cannot create the output folder: {exc.strerror or exc}") from None

        codec, pix_fmt, opts = self._choose_codec(ext, codec, crf, preset)
        #: what the movie cannot keep of its shot, one line each (a render's summary carries them)
        self.warnings = []
        if self.lossless and deep_from is not None:  # a shot of more than 8 bits (before 2026-12-06 8 bits)
            bits = int((colour or {}).get("bits") or 16)
            if codec == "ffv1":  # lossless at the shot's depth: RGB of 10, 12 or 16 bits
                pix_fmt = "gbrp10le" if bits <= 10 else "gbrp12le" if bits <= 12 else "gbrp16le"
            else:
                self.warnings.append("{}: lossless {} holds 8 bits of this {}-bit shot; a .mkv file (FFV1) keeps "
                                     "them".format(os.path.basename(self.path), ext, bits))
        if alpha:  # (a keyed shot: an image sequence output keeps its alpha)
            self.warnings.append("{}: a movie holds no alpha: the shot's alpha channel is dropped (an image "
                                 "sequence output keeps it)".format(os.path.basename(self.path)))
        # an HDR shot (HLG or PQ): the movie keeps its colour encoding (tags, BT.2020 matrix, 10
        # bits), so Blender shows it as it shows the shot; everything else is BT.709 as before
        # (lossless RGB movies get the tags alone: no matrix, 8 bits)
        self.hdr = hdr_colour(colour) if codec in ("libx264", "libx264rgb", "ffv1", "prores_ks") else None
        if self.hdr is not None and self.hdr["bits"] > 8 and pix_fmt in ("yuv420p", "yuv444p"):
            pix_fmt = pix_fmt + "10le"
        # a movie of more than 8 bits into one of more than 8: each frame the shot's own with the
        # change applied (video/bitdepth.py), so what was not changed keeps the shot's precision
        self._deep, self._deep_from = None, (
            deep_from if any(b in pix_fmt for b in ("10", "12", "16")) else None)  # opened at the first frame
        if options:
            opts.update({str(k): str(v) for k, v in options.items()})
        self.codec, self.pix_fmt = codec, pix_fmt
        self._yuv = pix_fmt.startswith("yuv")

        # temp_path: the file being written; before_trailer: callables close() runs before the trailer
        self._tmp = self.temp_path = movie_temporary(self.path, self)  # (a killed run's stale ones removed)
        self.before_trailer = []
        container_opts = {"movflags": "+faststart"} if faststart and ext != ".mkv" else {}
        try:
            self._container = av.open(self._tmp, mode="w", format=MOVIE_EXTENSIONS[ext],
                                      options=container_opts)
        except (av.error.FFmpegError, OSError) as exc:
            self._cleanup_tmp()
            raise VideoError(self.path, f"cannot create output file: "
                                        f"{getattr(exc, 'strerror', None) or exc}") from None
        except BaseException:  # Ctrl-C / SIGTERM as the file is created: no writer to abort it later
            self._cleanup_tmp()
            raise
        try:
            st = self._container.add_stream(codec, rate=self.rate)
            st.width, st.height = self.size
            st.pix_fmt = pix_fmt
            st.time_base = Fraction(1) / self.rate
            cc = st.codec_context
            cc.time_base = Fraction(1) / self.rate
            cc.framerate = self.rate
            cc.thread_count = threads
            if self._yuv and self.hdr is not None:
                cc.colorspace, cc.color_range = self.hdr["space"], self.hdr["range"]
                cc.color_primaries, cc.color_trc = self.hdr["primaries"], self.hdr["trc"]
            elif self.hdr is not None:  # RGB: the shot's primaries and transfer
                cc.colorspace, cc.color_range = 0, 2
                cc.color_primaries, cc.color_trc = self.hdr["primaries"], self.hdr["trc"]
            elif self._yuv:
                cc.colorspace = _BT709
                cc.color_range = _RANGE_TV
                cc.color_primaries = _BT709
                cc.color_trc = _BT709
            if opts:
                st.options = opts
            if timecode:
                if not TIMECODE_RE.match(str(timecode)):
                    raise VideoError(self.path, "timecode {!r} is not HH:MM:SS:FF".format(timecode))
                st.metadata["timecode"] = str(timecode)
            if sample_aspect is not None and Fraction(sample_aspect) != 1:
                cc.sample_aspect_ratio = Fraction(sample_aspect)
                try:  # the container's own field (Matroska's display size: FFV1 has none)
                    st.sample_aspect_ratio = Fraction(sample_aspect)
                except (AttributeError, TypeError, ValueError):
                    pass
            self._stream = st
            if audio_from is not None:
                self._add_audio(audio_from)
            self._container.start_encoding()
        except VideoError:
            self.abort()
            raise
        except (av.error.FFmpegError, ValueError, TypeError) as exc:
            self.abort()
            msg = _describe_av_error(exc)
            if self._in_audio is not None:  # (before 2026-12-05 it named .mov to a .mov that failed)
                msg = (f"cannot copy the {self._in_audio['codec']} audio into a "
                       f"{ext} file ({msg}); try " + " or ".join(e for e in (".mkv", ".mov") if e != ext))
            raise VideoError(self.path, f"cannot start encoding: {msg}") from None
        except BaseException:  # (as above: the caller never gets a writer to abort)
            self.abort()
            raise

    # -- setup -------------------------------------------------------------------------------
    def _choose_codec(self, ext, codec, crf, preset):
        have = available_video_codecs()
        w, h = self.size
        even = w % 2 == 0 and h % 2 == 0
        if codec is None:
            if self.lossless:
                if ext == ".mkv" and have["ffv1"]:
                    codec = "ffv1"
                elif have["libx264rgb"]:
                    codec = "libx264rgb"
                elif have["ffv1"]:
                    raise VideoError(self.path, "lossless output needs a .mkv file with this "
                                                "FFmpeg build (no libx264)")
                else:
                    raise VideoError(self.path, "no lossless encoder available")
            elif have["libx264"]:
                codec = "libx264"
            elif have["mpeg4"]:
                codec = "mpeg4"
            else:
                raise VideoError(self.path, "no H.264 or MPEG-4 encoder in this FFmpeg build")
        if codec in ("prores", "prores_ks"):  # what editing systems conform from
            if ext not in (".mov", ".mkv"):
                raise VideoError(self.path, "ProRes goes into a .mov file, not {}".format(ext))
            codec = "prores_ks"
        if codec == "h264":
            codec = "libx264"
        opts = {}
        if codec == "prores_ks":
            # ProRes 422 HQ, 10 bits (4444 for an odd width, which 4:2:2 cannot hold)
            pix = "yuv422p10le" if w % 2 == 0 else "yuv444p10le"
            opts.update({"profile": "3" if w % 2 == 0 else "4", "vendor": "apl0"})
        elif codec == "libx264":
            pix = "yuv420p" if even else "yuv444p"
            if self.lossless:
                opts.update({"qp": "0", "preset": preset})
            else:
                opts.update({"crf": str(int(crf)), "preset": preset})
        elif codec == "libx264rgb":
            pix = "rgb24"
            opts.update({"qp": "0", "preset": preset} if self.lossless else
                        {"crf": str(int(crf)), "preset": preset})
        elif codec == "ffv1":
            pix = "bgr0"
            opts.update({"level": "3", "slicecrc": "1"})
        elif codec == "mpeg4":
            if not even:
                raise VideoError(self.path, f"MPEG-4 cannot encode an odd frame size "
                                            f"{w}x{h}")
            pix = "yuv420p"
            opts.update({"qscale": "2"})
        else:
            pix = "yuv420p"
        return codec, pix, opts

    def _add_audio(self, audio_from):
        import av

        from .audiotracks import copy_track_tags

        src = audio_from.path if isinstance(audio_from, VideoSource) else os.fspath(audio_from)
        if not os.path.isfile(src):
            raise VideoError(src, "audio source file does not exist")
        if os.path.getsize(src) == 0:
            return  # an empty file has no audio to copy
        try:
            ic = av.open(src, mode="r")
        except av.error.FFmpegError:
            return  # e.g. an image sequence folder / not a movie: nothing to copy
        if not ic.streams.audio:
            ic.close()
            return
        # every audio stream (a camera's boom and lav tracks, an editor's stems), with its title,
        # language and disposition (audiotracks.py); before 2026-12-05 only the first was copied
        # and the others were lost
        ias = list(ic.streams.audio)
        # the sound keeps its place against the pictures: frame 0 of the movie written is the
        # source's first frame, shown at its video stream's start (a camera's or an edit's offset,
        # a transport stream's 1.4 s), so the audio moves by that start too; before 2026-12-05 it
        # kept its own times and a source whose video started 0.48 s after its audio came out
        # 12 frames out of sync
        vs = [s for s in ic.streams.video if not (s.disposition & 0x400)]
        start = float(vs[0].start_time * vs[0].time_base) if vs and vs[0].start_time is not None else 0.0
        self._in_audio = {"container": ic, "streams": ias,
                          "codec": "/".join(sorted({ia.codec_context.name if ia.codec_context else "unknown"
                                                    for ia in ias})),
                          "packets": None, "pending": None,
                          "shift": {ia.index: int(round(start / ia.time_base)) for ia in ias}}
        self._out_audio = {}
        for ia in ias:
            oa = self._container.add_stream_from_template(ia)
            copy_track_tags(ia, oa)  # its language, title and disposition (which track plays by default)
            self._out_audio[ia.index] = oa
        self.audio_copied = True
        self.audio_streams = len(ias)

    def write(self, frame, segment=None, index=None) -> None:
        """Append one HxWx3 uint8 RGB frame (grey HxW and RGBA too). A frame whose ``segment`` differs
        from the previous one's is an I-frame: nothing after it is predicted from before.
        ``index``: the frame of ``deep_from`` it shows (default: the next one)."""
        import av

        if self._done:
            raise VideoError(self.path, "writer is already closed")
        a = _as_rgb_frame(frame, self.size, self.path)
        if self._deep_from is not None and self._deep is None and self.frames_written == 0:
            from .bitdepth import DeepFrames

            try:
                self._deep = DeepFrames(self._deep_from)
            except (VideoError, OSError):  # the shot unreadable now: its 8-bit pictures, as before
                self._deep_from = None
        deep = self._deep.merged(a, index) if self._deep is not None else None
        vf = av.VideoFrame.from_ndarray(a, format="rgb24") if deep is None else av.VideoFrame.from_ndarray(
            deep, format="rgb48le")
        if self._yuv and self.hdr is not None:
            vf = vf.reformat(format=self.pix_fmt, dst_colorspace="BT2020" if self.hdr["space"] in (9, 10) else "ITU709",
                             dst_color_range="JPEG" if self.hdr["range"] == 2 else "MPEG")
        elif self._yuv:
            vf = vf.reformat(format=self.pix_fmt, dst_colorspace="ITU709",
                             dst_color_range="MPEG")
        elif self.pix_fmt != "rgb24":
            vf = vf.reformat(format=self.pix_fmt)
        if self.frames_written and segment != self._segment:
            vf.pict_type = av.video.frame.PictureType.I
        self._segment = segment
        vf.pts = self.frames_written
        vf.time_base = self._stream.codec_context.time_base
        try:
            for pkt in self._stream.encode(vf):
                self._container.mux(pkt)
        except av.error.FFmpegError as exc:
            raise VideoError(self.path, f"encoding frame {self.frames_written} failed: {_describe_av_error(exc)}") from None
        self.frames_written += 1
        self._mux_audio_until(float(self.frames_written / self.rate) + 0.5)

    def _mux_audio_until(self, t_end: Optional[float]):
        """Copy audio packets up to time ``t_end`` (None = all) to keep the file interleaved."""
        import av

        a = self._in_audio
        if a is None:
            return
        if a["packets"] is None:
            a["packets"] = a["container"].demux(*a["streams"])  # in file order, the streams interleaved
        while True:
            pkt = a["pending"]
            a["pending"] = None
            if pkt is None:
                try:
                    pkt = next(a["packets"])
                except StopIteration:
                    a["packets"] = iter(())
                    return
                except av.error.FFmpegError:
                    return  # damaged audio tail: keep what was copied
            if pkt.size == 0 or (pkt.dts is None and pkt.pts is None):
                continue
            ts = pkt.dts if pkt.dts is not None else pkt.pts
            shift = a["shift"][pkt.stream.index]
            if t_end is not None and float((ts - shift) * pkt.stream.time_base) > t_end:
                a["pending"] = pkt
                return
            if shift:
                if (pkt.pts if pkt.pts is not None else ts) < shift:
                    continue  # sound from before the first frame (at most the packet that spans it)
                pkt.pts = pkt.pts - shift if pkt.pts is not None else None
                pkt.dts = pkt.dts - shift if pkt.dts is not None else None
            pkt.stream = self._out_audio[pkt.stream.index]
            try:
                self._container.mux(pkt)
            except av.error.FFmpegError as exc:
                raise VideoError(self.path, f"copying the audio failed: {_describe_av_error(exc)}") from None

    # -- finishing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Flush, finalise and move the file into place. Raises VideoError on failure
        (and then leaves no output behind)."""
        if self._done:
            return
        try:
            if self.frames_written == 0:
                raise VideoError(self.path, "no frames were written")
            for pkt in self._stream.encode(None):
                self._container.mux(pkt)
            self._mux_audio_until(None)
            self._close_inputs()
            for f in self.before_trailer:
                f()
            self._container.close()
            self._container = None
            os.replace(self._tmp, self.path)
            self._done = True
        except BaseException as exc:
            self._close_failed(exc, "finishing the file")

    def abort(self) -> None:
        """Discard everything written so far; an existing output file is left untouched."""
        self._done = True
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
        self._close_inputs()
        self._cleanup_tmp()

    def _close_inputs(self):
        if getattr(self, "_deep", None) is not None:
            self._deep.close()
            self._deep = None
        a = self._in_audio
        if a is not None and a.get("container") is not None:
            try:
                a["container"].close()
            except Exception:
                pass
            a["container"] = None

    def _cleanup_tmp(self):
        tmp = getattr(self, "_tmp", None)
        if tmp and os.path.exists(tmp):
            try:
                os.remove(tmp)
            except OSError:
                pass


class ImageSequenceWriter(_AtomicOutput):
    """Write frames as ``{prefix}{index:0{digits}d}.png`` into a folder, atomically.

    Frames go into a hidden temporary folder next to ``folder``; :meth:`close` renames it
    to ``folder``. If ``folder`` already exists it must be empty or hold only files this
    writer names (a previous render); it is then replaced as a whole. A folder holding
    other files is refused (nothing of the user's is ever deleted). On an exception the
    temporary folder is removed and an existing ``folder`` is left untouched.

    ``write(frame, index=None)``: ``index`` defaults to ``start`` + the number of frames written
    so far (clip indices name frames after their place in the source clip). uint16 frames are written as 16-bit PNGs. ``plate``: the image sequence the frames are renders
    of; one of more than 8 bits gets frame ``index`` at its own depth with the change applied
    (OpenEXR frames of an OpenEXR plate: :func:`~reenact.video.pngs.plate_output`), the frames
    numbered as the plate (``start`` defaults to its first number).
    """

    def __init__(self, folder, fps=None, size=None, *, prefix: str = "frame_", digits: int = 6,
                 start: int = 0, compression: int = 3, plate=None):
        self.path = os.path.abspath(os.fspath(folder))
        self.rate = _as_rate(fps) if fps is not None else None
        self.size = _as_size(size) if size is not None else None
        self.prefix = prefix
        self.digits = int(digits)
        self.start = int(start)
        self.compression = int(compression)
        self.frames_written = 0
        self._indices = set()
        self._done = False
        self._tmp = None
        if os.sep in prefix or (os.altsep and os.altsep in prefix):
            raise VideoError(self.path, f"invalid file name prefix {prefix!r}")
        self.plate, self.ext, self._on_plate, self._first = plate_output(plate)
        if self.plate is not None and not self.start:  # numbered as the plate (1001, ...)
            self.start = self._first
        self._own_re = re.compile(re.escape(prefix) + r"\d+\.(?:png|exr)$")
        if os.path.exists(self.path):
            if not os.path.isdir(self.path):
                raise VideoError(self.path, "exists and is not a folder")
            foreign = [n for n in os.listdir(self.path)
                       if not self._own_re.match(n) and not system_file(n)]
            if foreign:
                raise VideoError(self.path, f"output folder already holds other files "
                                            f"(e.g. {foreign[0]}); choose an empty or new folder")
        parent = os.path.dirname(self.path)
        try:
            os.makedirs(parent, exist_ok=True)
            self._tmp = _temp_sibling(self.path, ".tmp")
            os.mkdir(self._tmp)
        except OSError as exc:
            raise VideoError(self.path, f"cannot create the output folder: "
                                        f"{exc.strerror or exc}") from None
        except BaseException:  # Ctrl-C / SIGTERM as the folder is made: no writer to abort it later
            if self._tmp is not None and os.path.isdir(self._tmp) and not os.listdir(self._tmp):
                os.rmdir(self._tmp)
            raise

    def filename(self, index: int) -> str:
        return f"{self.prefix}{int(index):0{self.digits}d}{self.ext}"

    def write(self, frame, index: Optional[int] = None, segment=None) -> str:
        """Write one frame (``segment``: as the movie writer's, nothing to do); returns its final path."""

        if self._done:
            raise VideoError(self.path, "writer is already closed")
        if index is None:
            index = self.start + self.frames_written
        index = int(index)
        if index < 0:
            raise VideoError(self.path, f"frame index must be >= 0, got {index}")
        if index in self._indices:
            raise VideoError(self.path, f"frame {index} was already written")
        a = _as_rgb_frame(frame, self.size, self.path, allow16=True)
        if self.size is None:
            self.size = (a.shape[1], a.shape[0])
        name = self.filename(index)
        try:
            if self.plate is not None:
                self._on_plate(os.path.join(self._tmp, name), a, index - self._first, self.compression, self.path)
            else:
                write_png(os.path.join(self._tmp, name), a, self.compression, label=self.path)
        except OSError as exc:
            raise VideoError(self.path, f"cannot write {name}: {exc.strerror or exc}") from None
        self._indices.add(index)
        self.frames_written += 1
        return os.path.join(self.path, name)

    def clear(self, indices) -> int:
        """Frames ``indices`` as one transparent frame (:func:`~reenact.video.pngs.clear_frames`);
        returns how many: 0 for a plate's frames (its depth, its alpha: written as footage)."""
        if self.plate is not None or self.ext != ".png" or self.size is None:
            return 0
        n = clear_frames([os.path.join(self._tmp, self.filename(i)) for i in indices], self.size, self.path)
        self._indices.update(int(i) for i in indices)
        self.frames_written += n
        return n

    def close(self) -> None:
        if self._done:
            return
        try:
            if self.frames_written == 0:
                raise VideoError(self.path, "no frames were written")
            if os.path.isdir(self.path):
                old = _temp_sibling(self.path, ".old")
                os.rename(self.path, old)
                try:
                    os.rename(self._tmp, self.path)
                except BaseException:
                    os.rename(old, self.path)  # put the previous output back
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(self._tmp, self.path)
        except BaseException as exc:
            self._close_failed(exc, "moving the frames into place")
        self._done = True

    def abort(self) -> None:
        """Remove the temporary folder; an existing output folder is left untouched."""
        self._done = True
        if self._tmp and os.path.isdir(self._tmp):
            shutil.rmtree(self._tmp, ignore_errors=True)


#: transfer characteristics of HDR video (FFmpeg's AVColorTransferCharacteristic): PQ, HLG
HDR_TRC = {16: "PQ", 18: "HLG"}


def hdr_colour(colour):
    """``colour`` (a :class:`~reenact.video.movie.MovieSource`'s ``colour``) when it is HDR (an
    HLG or PQ transfer) or wide-gamut SDR (BT.2020 primaries: UHD broadcast, some cameras), with
    the range made explicit (limited unless full); else None. (Before 2026-12-05 a BT.2020 SDR
    shot's movie was written with the BT.709 matrix and tags: its colours read desaturated.)"""
    if not colour or (int(colour.get("trc", 2)) not in HDR_TRC and int(colour.get("primaries", 2)) != 9):
        return None
    c = dict(colour)
    c["range"] = 2 if int(c.get("range", 0)) == 2 else 1
    c["bits"] = int(c.get("bits", 8))
    return c


#: the movie codecs a user names (``--codec``): H.264 (the default) and Apple ProRes 422 HQ
MOVIE_CODECS = ("h264", "prores")


def check_movie_codec(path, codec=None, lossless=False):
    """One line (``VideoError`` naming ``path``) when ``codec`` cannot write the movie ``path``,
    before any work: ProRes goes into .mov (or .mkv) and is not lossless. Returns the codec to
    give :class:`VideoWriter` (None for the default)."""
    if codec in (None, "", "h264"):
        return None
    if codec != "prores":
        raise VideoError(path, "unknown movie codec {!r} (choose {})".format(codec, " or ".join(MOVIE_CODECS)))
    if lossless:
        raise VideoError(path, "choose lossless or ProRes, not both (ProRes 422 HQ is visually lossless)")
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".mov", ".mkv"):
        raise VideoError(path, "ProRes goes into a .mov file, not {}".format(ext or "a folder"))
    return "prores"


def source_tags(src):
    """The keyword arguments that make a :class:`VideoWriter` keep what a delivery needs of the
    shot ``src`` (a :class:`~reenact.video.source.VideoSource`) besides its pictures and sound:
    an HDR shot's colour encoding, the start timecode an editor conforms by, a pixel aspect
    other than square. An image sequence has none of them."""
    from .bitdepth import deep_movie

    return {"colour": getattr(src, "colour", None), "timecode": getattr(src, "timecode", None),
            "sample_aspect": getattr(src, "sample_aspect", None), "deep_from": deep_movie(src),
            "alpha": bool(getattr(src, "alpha", False))}


def open_writer(path, fps, size, **kwargs):
    """A :class:`VideoWriter` for a movie path (.mp4/.mov/.mkv/.m4v), otherwise an
    :class:`ImageSequenceWriter` for a folder of PNGs."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in MOVIE_EXTENSIONS:
        return VideoWriter(path, fps, size, **kwargs)
    if ext in _OTHER_MOVIE_EXTENSIONS:
        raise VideoError(path, f"unsupported output '{ext}' (use .mp4, .mov, .mkv or a folder)")
    kwargs.pop("lossless", None)
    kwargs.pop("audio_from", None)
    for k in ("colour", "timecode", "sample_aspect", "deep_from", "alpha"):
        kwargs.pop(k, None)
    return ImageSequenceWriter(path, fps, size, **kwargs)
