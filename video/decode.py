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

import glob as _glob
import os
import re
from fractions import Fraction
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "VideoError",
    "VideoSource",
    "MovieSource",
    "ImageSequenceSource",
    "open_video",
    "IMAGE_EXTENSIONS",
    "DEFAULT_SEQUENCE_FPS",
]

#: Extensions read as still images / image sequences (lower case, with the dot).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
_UNSUPPORTED_IMAGE_EXTENSIONS = (".exr", ".hdr", ".dpx")
#: Frame rate given to image sequences when the caller gives none.
DEFAULT_SEQUENCE_FPS = Fraction(25)

class VideoError(ValueError):
    """Bad or unreadable video input/output. ``str(err)`` is one line naming the file."""

    def __init__(self, path, problem: str):
        self.path = os.fspath(path) if path is not None else None
        self.problem = " ".join(str(problem).split())  # keep it on one line
        msg = f"{self.path}: {self.problem}" if self.path is not None else self.problem
        super().__init__(msg)


def _as_rate(fps) -> Fraction:
    """An exact frame rate. Floats are snapped to the nearest simple fraction
    (``float(30000/1001)`` -> ``30000/1001``)."""
    if isinstance(fps, Fraction):
        rate = fps
    elif isinstance(fps, int):
        rate = Fraction(fps)
    else:
        try:
            rate = Fraction(fps)  # Fraction, int, float, str, av rational
        except (TypeError, ValueError):
            raise VideoError(None, f"invalid frame rate {fps!r}") from None
        if not isinstance(fps, (str,)) and rate.denominator > 1001:
            rate = rate.limit_denominator(1_000_000)
            # prefer the NTSC-style /1001 rates when they are what the float meant
            for den in (1, 1001, 100, 1000):
                cand = Fraction(round(rate * den), den)
                if abs(cand - rate) < Fraction(1, 10**9):
                    rate = cand
                    break
    if rate <= 0:
        raise VideoError(None, f"invalid frame rate {fps!r} (must be > 0)")
    return rate


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


# --------------------------------------------------------------------------------------
# base class


class VideoSource:
    """A clip: a movie file or an image sequence. Use :func:`open_video` to create one.

    Attributes: ``path`` (str), ``kind`` ('movie' | 'sequence'), ``rate`` (exact
    ``Fraction`` frames/s), ``fps`` (float), ``size`` ((w, h)), ``width``, ``height``,
    ``frame_count`` (exact), ``missing`` (missing frame numbers of a sequence),
    ``truncated`` (bool), ``has_audio``, ``audio_stream_info`` (dict or None).
    """

    kind = "?"

    def __init__(self):
        self.path: str = ""
        self.rate: Fraction = Fraction(25)
        self.size: Tuple[int, int] = (0, 0)
        self.frame_count: int = 0
        self.missing: list = []
        self.truncated: bool = False
        self.has_audio: bool = False
        self.audio_stream_info: Optional[dict] = None
        self._closed = False

    # -- derived properties ----------------------------------------------------------
    @property
    def fps(self) -> float:
        return float(self.rate)

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def duration(self) -> float:
        """Seconds covered by ``frame_count`` frames at ``rate``."""
        return float(self.frame_count / self.rate)

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self):
        return self.iter_frames()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return (f"<{type(self).__name__} {self.path!r} {self.kind} {self.size[0]}x{self.size[1]} "
                f"{self.frame_count} frames @ {self.rate} fps>")

    def close(self):
        self._closed = True

    # -- helpers -----------------------------------------------------------------------
    def _check_open(self):
        if self._closed:
            raise VideoError(self.path, "video source is closed")

    def _range(self, start, stop, step) -> range:
        if step is None:
            step = 1
        if int(step) != step or step < 1:
            raise ValueError(f"step must be a positive integer, got {step!r}")
        return range(*slice(start, stop, int(step)).indices(self.frame_count))

    def _check_index(self, i) -> int:
        n = self.frame_count
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"frame index must be an integer, got {type(i).__name__}")
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"{self.path}: frame index {i} out of range (clip has {n} frames)")
        return i

    # -- public API (implemented by subclasses) ---------------------------------------------
    def iter_frames(self, start: int = 0, stop: Optional[int] = None,
                    step: int = 1) -> Iterator[Tuple[int, Optional[np.ndarray]]]:
        """Yield ``(index, frame)`` for ``range(frame_count)[start:stop:step]``.

        ``frame`` is a fresh RGB ``uint8`` array of shape (h, w, 3), or ``None`` for a
        missing frame of an image sequence opened with ``allow_gaps=True``. Frames are
        decoded one at a time; nothing beyond the current frame is kept.
        """
        raise NotImplementedError

    def read(self, index: int) -> Optional[np.ndarray]:
        """The frame at ``index`` (RGB uint8 HxWx3), or None for an allowed gap."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# movies (PyAV)


def _av():
    import av  # imported lazily: keeps `import reenact.video` cheap

    return av


def _describe_av_error(exc) -> str:
    s = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(s).split())


def _looks_like_isobmff(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"mdat", b"moov", b"free", b"wide")


class _Index:
    """Presentation-order table of a video stream, built by demuxing (no decoding)."""

    __slots__ = ("pts", "pts_to_index", "key_positions", "key_seek_ts", "frame_key")

    def __init__(self, pts, pts_to_index, key_positions, key_seek_ts, frame_key):
        self.pts = pts                      # pts of frame i (sorted ascending)
        self.pts_to_index = pts_to_index    # pts -> i
        self.key_positions = key_positions  # sorted frame indices of keyframes
        self.key_seek_ts = key_seek_ts      # timestamp to seek to for each keyframe
        self.frame_key = frame_key          # frame i -> position in key_positions


class MovieSource(VideoSource):
    """A movie file decoded with PyAV. See :class:`VideoSource`."""

    kind = "movie"

    def __init__(self, path: str, *, fps=None, allow_truncated: bool = False,
                 stream_index: int = 0, threads: int = 0):
        super().__init__()
        av = _av()
        self.path = path
        self._threads = threads
        self._open_containers = []
        self._reader = None
        self._dropped_pts = set()
        try:
            container = av.open(path, mode="r")
        except av.error.FFmpegError as exc:
            if _looks_like_isobmff(path):
                raise VideoError(path, "cannot read this MP4/MOV file: it is truncated or damaged "
                                       "(its index is missing, e.g. an unfinished recording or "
                                       "an incomplete copy)") from None
            raise VideoError(path, f"not a video file or unreadable ({_describe_av_error(exc)})") from None
        except OSError as exc:  # permission denied etc.
            raise VideoError(path, f"cannot open: {exc.strerror or exc}") from None
        try:
            vstreams = list(container.streams.video)
            # skip attached pictures (cover art) masquerading as video streams
            vstreams = [s for s in vstreams if not (s.disposition & 0x400)] or vstreams
            if not vstreams:
                raise VideoError(path, "has no video stream"
                                 + (" (it is an audio file)" if container.streams.audio else ""))
            if stream_index >= len(vstreams):
                raise VideoError(path, f"has no video stream #{stream_index}")
            vs = vstreams[stream_index]
            self._stream_index = vs.index
            if vs.codec_context is None:
                raise VideoError(path, "video codec is not supported by this build of FFmpeg")
            self.codec = vs.codec_context.name
            w, h = vs.codec_context.width, vs.codec_context.height
            if not w or not h:
                raise VideoError(path, "video stream has no frame size (unsupported or damaged)")
            self.size = (int(w), int(h))
            rate = vs.average_rate or vs.guessed_rate or vs.base_rate
            self.stream_rate = Fraction(rate.numerator, rate.denominator) if rate else None
            self.rate = _as_rate(fps) if fps is not None else (self.stream_rate or Fraction(25))
            self.time_base = vs.time_base
            self._header_frames = int(vs.frames or 0)
            self._is_isobmff = container.format is not None and any(
                n in container.format.name.split(",") for n in ("mov", "mp4"))
            self._index_beyond_eof = self._sample_table_beyond_eof(container, path)
            self._expected_end = self._expected_end_seconds(container, vs)
            self._probe_audio(container)
            self._build_index(container, vs)
        finally:
            container.close()

        if self.frame_count == 0:
            raise VideoError(path, "contains no decodable video frames"
                             + (" (the file is truncated)" if self.truncated else ""))
        if self.truncated and not allow_truncated:
            exp = self.expected_frame_count
            of = f" of about {exp}" if exp else ""
            raise VideoError(path, f"file is truncated: only the first {self.frame_count}{of} "
                                   f"frames are readable (open with allow_truncated=True to use them)")
        # decode frame 0 now: proves the codec works, checks that frame pts match the index,
        # and reads the display rotation
        first = self._first_frame()
        self.rotation = int(getattr(first, "rotation", 0) or 0)

    # -- probing -----------------------------------------------------------------------------
    @staticmethod
    def _expected_end_seconds(container, vs) -> Optional[float]:
        """The stream's end time according to the header, if the header says so."""
        if vs.duration:
            start = vs.start_time or 0
            return float((start + vs.duration) * vs.time_base)
        tag = (vs.metadata or {}).get("DURATION") or (vs.metadata or {}).get("duration")
        if tag:
            m = re.match(r"(\d+):(\d+):(\d+(?:\.\d*)?)", tag)
            if m:
                return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
        if len(container.streams) == 1 and container.duration:
            return container.duration / 1_000_000
        return None

    @staticmethod
    def _sample_table_beyond_eof(container, path) -> bool:
        """MP4/MOV: does the sample table point past the end of the file (= truncated)?"""
        try:
            size = os.path.getsize(path)
            for st in container.streams:
                entries = st.index_entries
                m = len(entries)
                for k in range(max(0, m - 16), m):
                    e = entries[k]
                    if e.size > 0 and e.pos >= 0 and e.pos + e.size > size:
                        return True
        except Exception:
            return False
        return False

    def _probe_audio(self, container):
        astreams = list(container.streams.audio)
        self.has_audio = bool(astreams)
        if not astreams:
            self.audio_stream_info = None
            return
        a = astreams[0]
        cc = a.codec_context
        dur = float(a.duration * a.time_base) if a.duration else None
        if dur is None:
            end = self._expected_end_seconds(container, a)
            if end is not None:
                dur = end - (float(a.start_time * a.time_base) if a.start_time else 0.0)
        layout = getattr(cc, "layout", None) if cc is not None else None
        self.audio_stream_info = {
            "index": a.index,
            "codec": cc.name if cc is not None else None,
            "sample_rate": int(cc.sample_rate) if cc is not None and cc.sample_rate else None,
            "channels": int(cc.channels) if cc is not None and cc.channels else None,
            "layout": layout.name if layout is not None else None,
            "duration": dur,
            "start_time": float(a.start_time * a.time_base) if a.start_time is not None else None,
            "bit_rate": int(cc.bit_rate) if cc is not None and cc.bit_rate else None,
            "time_base": a.time_base,
            "streams": len(astreams),
        }

    def _build_index(self, container, vs):
        av = _av()
        entries = []  # decode order: (pts, dts, is_key, is_corrupt)
        demux_error = None
        try:
            for p in container.demux(vs):
                if p.size == 0 and p.pts is None and p.dts is None:
                    continue  # PyAV's end-of-stream flush packet
                if p.is_discard:
                    continue  # edit-list "discard" packets are never output by the decoder
                entries.append((p.pts, p.dts, bool(p.is_keyframe), bool(p.is_corrupt)))
        except av.error.FFmpegError as exc:
            demux_error = exc

        truncated = demux_error is not None
        self._dropped_pts = set()
        while entries and entries[-1][3]:  # a cut-off last packet: never fed to the decoder
            self._dropped_pts.add(entries.pop()[0])
            truncated = True

        pts = [e[0] for e in entries]
        usable = bool(pts) and all(p is not None for p in pts) and len(set(pts)) == len(pts)
        self._pts_mode = usable
        if not usable:
            self._index = None
            self._sequential_count()
            return

        order = sorted(pts)
        # truncation the demuxer did not notice (a cut exactly between two packets)
        if self._index_beyond_eof:
            truncated = True
        elif self._expected_end is not None and len(order) >= 2 and not self._is_isobmff:
            # formats without a sample table (Matroska, ...): the header's duration.
            # Generous tolerance: a false alarm would refuse a good file.
            step = float((order[-1] - order[0]) / (len(order) - 1) * self.time_base)
            last_end = float(order[-1] * self.time_base) + step
            if step > 0 and last_end < self._expected_end - max(2 * step, 1.0):
                truncated = True
        if truncated:
            order = self._trim_truncated_tail(order)
        self.truncated = truncated

        n = len(order)
        pts_to_index = {p: i for i, p in enumerate(order)}
        keys = sorted({pts_to_index[e[0]]: (e[0] if e[1] is None else min(e[0], e[1]))
                       for e in entries if e[2] and e[0] in pts_to_index}.items())
        if not keys or keys[0][0] != 0:
            keys.insert(0, (0, None))  # "None" = decode from the very start
        key_positions = [k for k, _ in keys]
        key_seek_ts = [t for _, t in keys]
        frame_key = np.searchsorted(np.asarray(key_positions), np.arange(n), side="right") - 1
        self._index = _Index(order, pts_to_index, key_positions, key_seek_ts, frame_key)
        self.frame_count = n

    def _trim_truncated_tail(self, order):
        """After a cut, frames near the end in presentation order may be missing (their
        packets came later in decode order). Drop the tail after the first pts gap."""
        if len(order) < 3:
            return order
        d = np.diff(np.asarray(order, dtype=np.float64))
        typical = float(np.median(d))
        tail = max(0, len(order) - 17)
        for j in range(tail, len(d)):
            if d[j] > 1.5 * typical:
                return order[: j + 1]
        return order

    def _sequential_count(self):
        """Fallback for streams without usable timestamps: count by decoding."""
        n = 0
        truncated = False
        for _i, _f in self._decode_sequential(0, strict=False):
            n += 1
        if self._seq_decode_failed:
            truncated = True
        if self._header_frames and n < self._header_frames:
            truncated = True
        self.frame_count = n
        self.truncated = truncated

    @property
    def expected_frame_count(self) -> Optional[int]:
        """Frame count the header promises (None when it does not say)."""
        if self._header_frames:
            return self._header_frames
        if self._expected_end is not None:
            return int(round(self._expected_end * float(self.stream_rate or self.rate)))
        return None

    # -- containers --------------------------------------------------------------------------
    def _open(self):
        self._check_open()
        av = _av()
        try:
            c = av.open(self.path, mode="r")
        except av.error.FFmpegError as exc:
            raise VideoError(self.path, f"cannot reopen the file ({_describe_av_error(exc)})") from None
        except OSError as exc:
            raise VideoError(self.path, f"cannot reopen the file: {exc.strerror or exc}") from None
        s = c.streams[self._stream_index]
        cc = s.codec_context
        cc.thread_type = "AUTO"
        cc.thread_count = self._threads
        self._open_containers.append(c)
        return c, s

    def _release(self, c):
        try:
            c.close()
        except Exception:
            pass
        try:
            self._open_containers.remove(c)
        except ValueError:
            pass

    def close(self):
        for c in list(self._open_containers):
            self._release(c)
        self._reader = None
        super().close()

    def __del__(self):
        try:
            for c in list(self._open_containers):
                c.close()
        except Exception:
            pass

    # -- decoding engine ---------------------------------------------------------------------
    def _decode_error(self, index, exc) -> VideoError:
        return VideoError(self.path, f"cannot decode frame {index}: {_describe_av_error(exc)} "
                                     f"(the file is damaged)")

    def _decode_pts(self, state: dict, start: int) -> Iterator[tuple]:
        """Yield (index, av.VideoFrame) for start, start+1, ... in order, using ``state``
        ({'c': container, 's': stream}) which may be replaced when decoding restarts."""
        av = _av()
        idx = self._index
        n = self.frame_count
        target_pts = idx.pts[start]
        kpos = int(idx.frame_key[start])
        while True:
            seek_ts = idx.key_seek_ts[kpos]
            c, s = state["c"], state["s"]
            landing = None
            if seek_ts is None:
                # decode from the very beginning with a fresh container
                self._release(c)
                c, s = self._open()
                state["c"], state["s"] = c, s
                packets = c.demux(s)
            else:
                try:
                    c.seek(int(seek_ts), backward=True, any_frame=False, stream=s)
                except av.error.FFmpegError:
                    kpos = self._earlier_key(kpos)
                    continue
                packets = c.demux(s)
                first = None
                for p in packets:
                    if p.size == 0 and p.pts is None:
                        break
                    if p.is_discard:
                        continue
                    first = p
                    break
                if first is None or first.pts is None or not first.is_keyframe or first.pts > target_pts:
                    kpos = self._earlier_key(kpos)  # seek overshot or landed oddly: step back
                    continue
                landing = first.pts
                packets = _chain_first(first, packets)
            expected = start
            dropped = self._dropped_pts
            for p in packets:
                if dropped and p.is_corrupt and p.pts in dropped:
                    continue
                try:
                    frames = p.decode()
                except av.error.FFmpegError as exc:
                    if p.is_corrupt or p.size == 0:
                        continue
                    raise self._decode_error(expected, exc) from None
                for fr in frames:
                    fp = fr.pts
                    if fp is None:
                        continue
                    if landing is not None and fp < landing:
                        continue  # leading frames of an open GOP after a seek
                    i = idx.pts_to_index.get(fp)
                    if i is None or i < expected:
                        continue
                    if i > expected:
                        raise VideoError(self.path, f"frame {expected} could not be decoded "
                                                    f"(the file is damaged)")
                    yield i, fr
                    expected += 1
                    if expected >= n:
                        return
            raise VideoError(self.path, f"decoding stopped at frame {expected} of {n} "
                                        f"(the file is damaged or truncated)")

    def _earlier_key(self, kpos: int) -> int:
        """The keyframe before ``kpos``; position 0 is always 'decode from the start'."""
        if kpos <= 0:
            raise VideoError(self.path, "cannot seek in this file (decoding from the start failed)")
        kpos -= 1
        if kpos == 0 and self._index.key_seek_ts[0] is not None:
            # make the last resort a clean decode from the beginning
            self._index.key_seek_ts[0] = None
        return kpos

    def _decode_sequential(self, start: int, strict: bool = True, state: Optional[dict] = None):
        """Fallback engine (no usable pts): decode from the start and count frames.
        ``strict=False`` (counting at open) stops quietly at the first error and sets
        ``_seq_decode_failed``."""
        av = _av()
        self._seq_decode_failed = False
        if state is not None and state.get("c") is not None:
            self._release(state["c"])
        c, s = self._open()
        if state is not None:
            state["c"], state["s"] = c, s
        i = 0
        try:
            try:
                for p in c.demux(s):
                    if p.is_discard:
                        continue
                    try:
                        frames = p.decode()
                    except av.error.FFmpegError as exc:
                        if p.is_corrupt:
                            self._seq_decode_failed = True
                            continue
                        if strict:
                            raise self._decode_error(i, exc) from None
                        self._seq_decode_failed = True
                        break
                    for fr in frames:
                        if i >= start:
                            yield i, fr
                        i += 1
                        if strict and i >= self.frame_count:
                            return
            except av.error.FFmpegError as exc:  # demuxer error
                if strict:
                    raise self._decode_error(i, exc) from None
                self._seq_decode_failed = True
        finally:
            if state is None:
                self._release(c)
        if strict and i < self.frame_count:
            raise VideoError(self.path, f"decoding stopped at frame {i} of {self.frame_count} "
                                        f"(the file is damaged or truncated)")

    def _engine(self, state: dict, start: int):
        if self._pts_mode:
            return self._decode_pts(state, start)
        return self._decode_sequential(start, strict=True, state=state)

    def _first_frame(self):
        av = _av()
        if self._pts_mode:
            try:
                return self._first_frame_with(self._decode_pts)
            except VideoError:
                # frame timestamps do not match the packet index (odd codec/container):
                # fall back to counting frames by decoding
                self._pts_mode = False
                self._index = None
                self._sequential_count()
                if self.frame_count == 0:
                    raise VideoError(self.path, "contains no decodable video frames") from None
        return self._first_frame_with(lambda st, i: self._decode_sequential(i, True, st))

    def _first_frame_with(self, engine):
        av = _av()
        c, s = self._open()
        state = {"c": c, "s": s}
        try:
            gen = engine(state, 0)
            try:
                _i, fr = next(gen)
            except StopIteration:
                raise VideoError(self.path, "contains no decodable video frames") from None
            finally:
                gen.close()
            fr.to_ndarray(format="rgb24")  # the pixel conversion works
            return fr
        except av.error.FFmpegError as exc:
            raise self._decode_error(0, exc) from None
        finally:
            self._release(state["c"])

    @staticmethod
    def _to_rgb(fr) -> np.ndarray:
        # honours the frame's colourspace/range tags (untagged YUV = BT.601, limited range)
        arr = fr.to_ndarray(format="rgb24")
        return np.ascontiguousarray(arr)

    # -- public API --------------------------------------------------------------------------
    def iter_frames(self, start: int = 0, stop: Optional[int] = None, step: int = 1):
        self._check_open()
        r = self._range(start, stop, step)
        return self._iter(r)

    def _iter(self, r: range):
        if len(r) == 0:
            return
        c, s = self._open()
        state = {"c": c, "s": s}
        try:
            targets = iter(r)
            target = next(targets)
            gen = self._engine(state, target)
            try:
                while True:
                    i, fr = next(gen)
                    if i < target:
                        continue
                    yield i, self._to_rgb(fr)
                    try:
                        target = next(targets)
                    except StopIteration:
                        return
                    if self._should_seek(i, target):
                        gen.close()
                        gen = self._engine(state, target)
            finally:
                gen.close()
        except StopIteration:
            raise VideoError(self.path, "decoding ended early (the file is damaged)") from None
        finally:
            self._release(state["c"])

    def _should_seek(self, current: int, target: int) -> bool:
        """Seek forward when a keyframe lies between the decoder and the target."""
        if not self._pts_mode or target <= current:
            return target <= current
        fk = self._index.frame_key
        return fk[target] > fk[current] and self._index.key_seek_ts[fk[target]] is not None

    def read(self, index: int) -> np.ndarray:
        self._check_open()
        i = self._check_index(index)
        rd = self._reader
        if rd is not None and rd["last"] is not None and rd["last"][0] == i:
            return rd["last"][1].copy()
        if rd is None or rd["pos"] is None or i <= rd["pos"] or self._should_seek(rd["pos"], i):
            if rd is None:
                c, s = self._open()
                rd = self._reader = {"state": {"c": c, "s": s}, "gen": None, "pos": None, "last": None}
            if rd["gen"] is not None:
                rd["gen"].close()
            rd["gen"] = self._engine(rd["state"], i)
            rd["pos"] = None
        try:
            while True:
                j, fr = next(rd["gen"])
                rd["pos"] = j
                if j == i:
                    arr = self._to_rgb(fr)
                    rd["last"] = (i, arr)
                    return arr.copy()
        except StopIteration:
            rd["gen"] = None
            rd["pos"] = None
            raise VideoError(self.path, f"frame {i} could not be decoded (the file is damaged)") from None
        except BaseException:
            if rd["gen"] is not None:
                rd["gen"].close()
            rd["gen"] = None
            rd["pos"] = None
            raise


def _chain_first(first, rest):
    yield first
    yield from rest


# --------------------------------------------------------------------------------------
# image sequences (OpenCV)


def _imread_rgb(path: str) -> np.ndarray:
    import cv2

    try:
        data = np.fromfile(path, dtype=np.uint8)  # works with any Unicode path
    except FileNotFoundError:
        raise VideoError(path, "image file does not exist") from None
    except OSError as exc:
        raise VideoError(path, f"cannot read image: {exc.strerror or exc}") from None
    if data.size == 0:
        raise VideoError(path, "image file is empty (0 bytes)")
    ext = os.path.splitext(path)[1].lower()
    if ext in _UNSUPPORTED_IMAGE_EXTENSIONS:
        raise VideoError(path, f"{ext} images are not supported (convert them to PNG)")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        img = None
    if img is None:
        raise VideoError(path, "not a readable image (damaged or unsupported format)")
    return _to_rgb8(img, path)


def _to_rgb8(img: np.ndarray, path: str) -> np.ndarray:
    import cv2

    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = np.clip(np.rint(np.nan_to_num(img) * 255.0), 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise VideoError(path, f"unsupported image sample type {img.dtype}")
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    ch = img.shape[2]
    if ch == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if ch == 2:  # grey + alpha
        return np.ascontiguousarray(np.repeat(img[:, :, :1], 3, axis=2))
    if ch == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if ch == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    raise VideoError(path, f"unsupported image with {ch} channels")


_PRINTF_RE = re.compile(r"%(0?)(\d*)d")
_HASH_RE = re.compile(r"#+")
_NUMBERED_RE = re.compile(r"^(.*?)(\d+)(\D*)$")


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


class ImageSequenceSource(VideoSource):
    """A numbered image sequence (or an explicit list of images). See :class:`VideoSource`.

    ``frame_numbers[i]`` is the number in the file name of frame ``i`` (None for a plain
    list), ``files[i]`` its path (None where the number is missing). Frame ``i`` is number
    ``first_number + i``.
    """

    kind = "sequence"

    def __init__(self, path, files: Sequence[Optional[str]], numbers: Optional[Sequence[int]],
                 *, fps=None, allow_gaps: bool = False):
        super().__init__()
        self.path = path
        self.rate = _as_rate(fps) if fps is not None else DEFAULT_SEQUENCE_FPS
        self.files = list(files)
        self.frame_numbers = list(numbers) if numbers is not None else None
        self.first_number = self.frame_numbers[0] if self.frame_numbers else None
        self.allow_gaps = allow_gaps
        self.frame_count = len(self.files)
        self.missing = [nmb for nmb, f in zip(self.frame_numbers or [], self.files) if f is None]
        if self.frame_count == 0:
            raise VideoError(path, "image sequence is empty (no images found)")
        if self.missing and not allow_gaps:
            shown = ", ".join(str(m) for m in self.missing[:8])
            more = f" and {len(self.missing) - 8} more" if len(self.missing) > 8 else ""
            raise VideoError(path, f"image sequence has {len(self.missing)} missing frame(s): "
                                   f"{shown}{more} (open with allow_gaps=True to get None for them)")
        first = next(f for f in self.files if f is not None)
        img = _imread_rgb(first)
        self.size = (int(img.shape[1]), int(img.shape[0]))

    def _load(self, i: int) -> Optional[np.ndarray]:
        f = self.files[i]
        if f is None:
            if self.allow_gaps:
                return None
            raise VideoError(self.path, f"frame {i} (number {self.frame_numbers[i]}) is missing")
        img = _imread_rgb(f)
        if (img.shape[1], img.shape[0]) != self.size:
            raise VideoError(f, f"image is {img.shape[1]}x{img.shape[0]} but the sequence is "
                                f"{self.size[0]}x{self.size[1]}")
        return img

    def iter_frames(self, start: int = 0, stop: Optional[int] = None, step: int = 1):
        self._check_open()
        r = self._range(start, stop, step)
        return self._iter(r)

    def _iter(self, r):
        for i in r:
            self._check_open()
            yield i, self._load(i)

    def read(self, index: int) -> Optional[np.ndarray]:
        self._check_open()
        return self._load(self._check_index(index))


def _numbered(path_label, names_to_paths: dict):
    """Group {name: path} by the last digit run. Returns (files, numbers) or raises."""
    groups = {}
    plain = []
    for name, p in names_to_paths.items():
        m = _NUMBERED_RE.match(os.path.splitext(name)[0])
        if not m:
            plain.append((name, p))
            continue
        ext = os.path.splitext(name)[1].lower()
        key = (m[1], m[3], ext)
        groups.setdefault(key, []).append((int(m[2]), name, p))
    if not groups:
        plain.sort(key=lambda t: _natural_key(t[0]))
        return [p for _n, p in plain], None
    if len(groups) > 1:
        pats = sorted(f"{a}####{b}{e}" for (a, b, e) in groups)
        shown = ", ".join(pats[:3]) + (" ..." if len(pats) > 3 else "")
        raise VideoError(path_label, f"holds several image sequences ({shown}); "
                                     f"give a pattern such as shot/frame_%04d.png")
    (items,) = groups.values()
    by_num = {}
    for num, name, p in items:
        if num in by_num:
            raise VideoError(path_label, f"frame number {num} appears twice "
                                         f"({by_num[num][0]} and {name})")
        by_num[num] = (name, p)
    lo, hi = min(by_num), max(by_num)
    if hi - lo + 1 > 10 * len(by_num) + 100_000:
        raise VideoError(path_label, f"frame numbers {lo}..{hi} are too sparse to be one sequence")
    files = [by_num[k][1] if k in by_num else None for k in range(lo, hi + 1)]
    return files, list(range(lo, hi + 1))


def _list_dir(d: str):
    try:
        return os.listdir(d)
    except FileNotFoundError:
        raise VideoError(d, "folder does not exist") from None
    except OSError as exc:
        raise VideoError(d, f"cannot list folder: {exc.strerror or exc}") from None


def _open_sequence_dir(d: str, fps, allow_gaps):
    names = [n for n in _list_dir(d) if not n.startswith(".")]
    bad = [n for n in names if os.path.splitext(n)[1].lower() in _UNSUPPORTED_IMAGE_EXTENSIONS]
    imgs = {n: os.path.join(d, n) for n in names
            if _is_image_name(n) and os.path.isfile(os.path.join(d, n))}
    if not imgs:
        if bad:
            raise VideoError(d, f"{os.path.splitext(bad[0])[1]} images are not supported "
                                f"(convert them to PNG)")
        raise VideoError(d, "image sequence is empty (no PNG/JPEG/TIFF images in the folder)")
    files, numbers = _numbered(d, imgs)
    return ImageSequenceSource(d, files, numbers, fps=fps, allow_gaps=allow_gaps)


def _open_sequence_pattern(pattern: str, fps, allow_gaps):
    d, base = os.path.split(pattern)
    d = d or "."
    if _HASH_RE.search(base) and not _PRINTF_RE.search(base):
        base = _HASH_RE.sub(lambda m: f"%0{len(m[0])}d", base, count=1)
    m = _PRINTF_RE.search(base)
    if m:
        if not os.path.isdir(d):
            raise VideoError(pattern, "folder of the image sequence does not exist")
        width = int(m[2]) if m[2] else 0
        pad = bool(m[1])
        prefix, suffix = base[: m.start()], base[m.end():]
        rx = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + r"$")
        found = {}
        for n in _list_dir(d):
            mm = rx.match(n)
            if not mm:
                continue
            s = mm[1]
            num = int(s)
            ok = (s == (f"{num:0{width}d}" if pad else f"{num:{width}d}".strip())) if width else s == str(num)
            if ok and os.path.isfile(os.path.join(d, n)):
                found[num] = os.path.join(d, n)
        if not found:
            raise VideoError(pattern, "image sequence is empty (no file matches the pattern)")
        lo, hi = min(found), max(found)
        files = [found.get(k) for k in range(lo, hi + 1)]
        return ImageSequenceSource(pattern, files, list(range(lo, hi + 1)), fps=fps,
                                   allow_gaps=allow_gaps)
    # glob
    matches = [p for p in _glob.glob(pattern) if os.path.isfile(p)]
    if not matches:
        raise VideoError(pattern, "image sequence is empty (no file matches the pattern)")
    bad = [p for p in matches if not _is_image_name(p)]
    if bad:
        raise VideoError(bad[0], "is not a supported image (PNG/JPEG/TIFF/BMP/WebP)")
    names = {os.path.basename(p): p for p in matches}
    if len(names) != len(matches):  # pattern spans folders: keep the given order
        matches.sort(key=_natural_key)
        return ImageSequenceSource(pattern, matches, None, fps=fps, allow_gaps=allow_gaps)
    files, numbers = _numbered(pattern, names)
    return ImageSequenceSource(pattern, files, numbers, fps=fps, allow_gaps=allow_gaps)


def open_video(path, *, fps=None, allow_gaps: bool = False, allow_truncated: bool = False,
               threads: int = 0) -> VideoSource:
    """Open a movie file or an image sequence.

    ``path`` is a movie file; a folder of numbered images; a pattern such as
    ``shot/frame_%04d.png``, ``shot/frame_####.png`` or ``shot/*.png``; a single image; or a
    list of image files (in frame order).

    ``fps`` overrides the frame rate (image sequences default to 25). ``allow_gaps``: an
    image sequence with missing numbers opens and yields ``None`` for them (default: raise).
    ``allow_truncated``: a truncated movie opens with the frames that are readable and
    ``truncated=True`` (default: raise). ``threads``: decoder threads (0 = automatic).
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
            raise VideoError(p, f"{ext} images are not supported (convert them to PNG)")
        if not os.access(p, os.R_OK):
            raise VideoError(p, "cannot read file: permission denied")
        return MovieSource(p, fps=fps, allow_truncated=allow_truncated, threads=threads)
    base = os.path.basename(p)
    if _PRINTF_RE.search(base) or _HASH_RE.search(base) or any(ch in base for ch in "*?["):
        return _open_sequence_pattern(p, fps, allow_gaps)
    if os.path.lexists(p):
        raise VideoError(p, "is not a regular file (broken link or special file)")
    raise VideoError(p, "file does not exist")
