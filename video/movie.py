# SPDX-License-Identifier: GPL-3.0-or-later
"""Movies through PyAV: frame-exact streaming decode and seeking by presentation timestamp."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from typing import Iterator, Optional

import numpy as np

from ..fsutil import shell_quote
from .source import TIMECODE_RE, VideoError, VideoSource, _as_rate, _av, _describe_av_error, snap_ntsc


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
                 stream_index: int = 0, threads: int = 0, allow_variable_rate: bool = False):
        super().__init__()
        self.variable_rate = False
        self.rate_drift = 0.0
        self._turns = 0  # quarter turns of the display rotation (set once frame 0 is decoded)
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
            vstreams = [s for s in vstreams if not (s.disposition & 0x400)] or vstreams  # (not cover art)
            text = getattr(container.format, "name", None) == "tty"  # FFmpeg's tty demuxer draws text as ANSI video
            if text or not vstreams:  # (before 2026-12-06 `reenact verify notes.txt` read 141 "frames" of it)
                raise VideoError(path, "not a video: a text file" if text else "has no video stream"
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
            self.stream_rate = snap_ntsc(Fraction(rate.numerator, rate.denominator)) if rate else None
            self.rate = _as_rate(fps) if fps is not None else (self.stream_rate or Fraction(25))
            self.time_base = vs.time_base
            # what Blender's movie strip takes: FFmpeg's guessed rate and the stream's duration
            guess = vs.guessed_rate or rate
            self.blender_rate = snap_ntsc(Fraction(guess.numerator, guess.denominator)) if guess else None
            self.stream_seconds = float(vs.duration * vs.time_base) if vs.duration else (
                container.duration / 1_000_000 if container.duration else None)
            self._header_frames = int(vs.frames or 0)
            self._is_isobmff = container.format is not None and any(
                n in container.format.name.split(",") for n in ("mov", "mp4"))
            self._index_beyond_eof = self._sample_table_beyond_eof(container, path)
            self._expected_end = self._expected_end_seconds(container, vs)
            self._probe_audio(container)
            self._read_tags(container, vs)
            self._build_index(container, vs)
        finally:
            container.close()

        if self.frame_count == 0:
            raise VideoError(path, "contains no decodable video frames"
                             + (" (the file is truncated)" if self.truncated else ""))
        self._check_constant_rate(allow_variable_rate)
        if self.truncated and not allow_truncated:
            exp = self.expected_frame_count
            of = f" of about {exp}" if exp else ""
            # (before 2026-12-06 it told a command-line user to "open with allow_truncated=True")
            whole = shell_quote(os.path.splitext(os.path.basename(path))[0] + "_whole.mp4")
            raise VideoError(path, f"file is truncated: only the first {self.frame_count}{of} frames are "
                                   f"readable (an incomplete copy or an unfinished recording); copy the whole file "
                                   f"again, or make a new file of the readable frames: ffmpeg -i {shell_quote(path)} "
                                   f"-c:v libx264 -crf 16 -c:a copy {whole}")
        # decode frame 0 now: proves the codec works, checks that frame pts match the index,
        # and reads the display rotation
        first = self._first_frame()
        self.rotation = int(getattr(first, "rotation", 0) or 0)
        # two fields woven into each frame (broadcast 1080i/576i, DV): read as they are
        self.interlaced = bool(getattr(first, "interlaced_frame", False))
        # the colour encoding, for a writer to keep an HDR shot's (see VideoWriter's ``colour``)
        bits = max((int(c.bits) for c in first.format.components), default=8)
        self.colour = {"primaries": int(getattr(first, "color_primaries", 2) or 2),
                       "trc": int(getattr(first, "color_trc", 2) or 2),
                       "space": int(getattr(first, "colorspace", 2) or 2),
                       "range": int(getattr(first, "color_range", 0) or 0), "bits": bits}
        # an alpha channel (ProRes 4444, PNG or QuickTime Animation in .mov): a frame folder keeps it
        self.alpha = len(first.format.components) in (2, 4)
        # phone footage stores its pixels sideways with a display rotation, which Blender's
        # movie strips (4.5 and 5.0) and players apply: frames are returned the way they are
        # shown (quarter turns; anything else is returned as stored), and the size with them
        self._turns = (self.rotation // 90) % 4 if self.rotation % 90 == 0 else 0
        if self._turns % 2:
            self.size = (self.size[1], self.size[0])
            if self.sample_aspect:  # (a pixel's width and height trade places with the picture's)
                self.sample_aspect = 1 / self.sample_aspect

    # -- probing -----------------------------------------------------------------------------
    def _read_tags(self, container, vs):
        """What a delivery keeps of the shot besides its pictures (a writer given
        :func:`~reenact.video.encode.source_tags` writes them back): the start timecode (the
        video stream's tag, a QuickTime/MP4 timecode track's, or the container's, as FFmpeg
        reports them; kept as written, ``;`` for drop-frame) and a pixel aspect other than
        square (anamorphic: DV, HDV, DVD)."""
        found = [v for m in [s.metadata for s in [vs] + list(container.streams.data)] + [container.metadata]
                 for k, v in m.items() if k.lower() == "timecode"]  # Matroska's tag is TIMECODE
        self.timecode = next((str(v).strip() for v in found if v and TIMECODE_RE.match(str(v).strip())), None)
        sar = vs.sample_aspect_ratio or vs.codec_context.sample_aspect_ratio
        self.sample_aspect = Fraction(sar.numerator, sar.denominator) if sar and sar.numerator > 0 \
            and sar.denominator > 0 and sar != 1 else None

    def _check_constant_rate(self, allow):
        """Variable frame rate: frame ``i`` is shown at its pts, but everything downstream (the
        Track's frame numbers, a rendered movie written at ``rate`` with the audio copied) puts
        it at ``i / rate``. ``rate_drift``: the largest difference (seconds); more than half a
        frame is ``variable_rate`` and refused unless ``allow``."""
        rate = self.stream_rate or self.rate
        if self._index is None or self.frame_count < 2 or not rate:
            return
        t = (np.asarray(self._index.pts, np.float64) - float(self._index.pts[0])) * float(self.time_base)
        ideal = np.arange(len(t)) / float(rate)
        self.rate_drift = float(np.max(np.abs(t - ideal)))
        self.variable_rate = self.rate_drift > 0.5 / float(rate)
        guess = self.blender_rate
        if not self.variable_rate and self.rate == self.stream_rate and guess and guess != rate:
            # a constant rate whose frame times jitter by a tick (phone footage): FFmpeg's average
            # (180000/6007) where its guess (30), which Blender's strip plays, keeps every frame
            # within half a frame too: the guess, so a result written at it is the rate the edit
            # has (before 2026-12-05 a 29.965 fps result, which the next job refused as played at
            # the clip's own speed in the 30 fps scene)
            drift = float(np.max(np.abs(t - np.arange(len(t)) / float(guess))))
            if drift <= 0.5 / float(guess):
                self.rate, self.rate_drift = guess, drift
        if self.variable_rate and not allow:  # (one rate, the copy's: before 2026-12-06 FFmpeg's average beside it)
            out, even = os.path.splitext(os.path.basename(self.path))[0] + "_cfr.mp4", _nominal_rate(guess or rate)
            fe = float(Fraction(even))  # (the drift said against it: where an even copy's frame i plays, i / fe)
            raise VideoError(self.path, "variable frame rate: frames are up to {:.0f} ms off a constant {:.6g} fps, "
                                        "so results would drift against the audio; make an evenly timed copy first "
                                        "(as Blender shows it): reenact conform {} --out {} (in Blender: Strip ▸ "
                                        "Reenact ▸ Conform to Scene Rate), or ffmpeg -i {} -vf fps={} -c:v libx264 "
                                        "-crf 16 -c:a copy {}".format(1000 * np.max(np.abs(t - np.arange(len(t)) / fe)),
                                                                      fe, shell_quote(self.path), shell_quote(out),
                                                                      shell_quote(self.path), even, shell_quote(out)))

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
        keys = sorted({pts_to_index[e[0]]: e[0]
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

    def frame_times(self) -> Optional[np.ndarray]:
        """Each frame's presentation time in seconds from the first frame's (None when the file
        has no usable timestamps)."""
        if not self._pts_mode or self._index is None:
            return None
        return (np.asarray(self._index.pts, np.float64) - float(self._index.pts[0])) * float(self.time_base)

    @property
    def keyframe_indices(self) -> Optional[list]:
        """Frames that decode without decoding others first (keyframes, and frame 0), or None
        when the stream has no usable timestamps."""
        return list(self._index.key_positions) if self._pts_mode and self._index is not None else None

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
    def _stored_rgb(fr) -> np.ndarray:
        # honours the frame's colourspace/range tags (untagged YUV = BT.601, limited range)
        if fr.format.components and fr.format.components[0].bits > 8:
            # 10-bit and deeper through 16 bits, rounded: FFmpeg's straight 8-bit conversion reads
            # them 1-2 levels dark (white 253, a 10-bit ramp -1.08 levels on average), which every
            # 8-bit output carried (before 2026-12-05); +12 ms a 1080p frame
            import cv2  # (here: reenact.video imports without OpenCV, as Blender's transfer operators need)

            return cv2.convertScaleAbs(fr.to_ndarray(format="rgb48le"), alpha=255.0 / 65535.0)
        arr = fr.to_ndarray(format="rgb24")
        return np.ascontiguousarray(arr)

    def _to_rgb(self, fr) -> np.ndarray:
        """The frame as shown: RGB with the display rotation applied (:attr:`rotation`)."""
        arr = self._stored_rgb(fr)
        if self._turns:
            arr = np.ascontiguousarray(np.rot90(arr, self._turns))
        return arr

    # -- public API --------------------------------------------------------------------------
    def iter_frames(self, start: int = 0, stop: Optional[int] = None, step: int = 1):
        self._check_open()
        r = self._range(start, stop, step)
        return self._iter(r)

    def _iter(self, r, convert=None):
        """(index, converted frame) for the increasing indices ``r`` (``convert``: RGB)."""
        convert = convert or self._to_rgb
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
                    yield i, convert(fr)
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

    def iter_decoded(self, indices):
        """``(index, bytes)`` for the increasing frame ``indices``: each frame as the decoder
        output it (its planes, no colour conversion, row padding removed), in one forward pass
        (seeking only past keyframes). What the file holds, the same on every machine for
        bit-exact codecs (H.264, HEVC, ...), where the RGB conversion may round differently.
        Formats whose planes are not plain rows of 8- or 16-bit samples give the RGB pixels."""
        self._check_open()
        idx = [self._check_index(i) for i in indices]
        if any(b <= a for a, b in zip(idx, idx[1:])):
            raise ValueError("iter_decoded needs increasing frame indices")
        return self._iter(idx, _plane_bytes)

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


#: the usual constant rates, for the re-encode command of a variable-rate clip
_COMMON_RATES = ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60")


def usual_rate(rate) -> Fraction:
    """The usual rate nearest ``rate`` if within 1 % (30000/1001 for 29.75, 30 for 29.99), else ``rate``:
    what ``reenact conform`` and the variable-rate refusal's ffmpeg line give (before: the first within 1 %)."""
    near = min(_COMMON_RATES, key=lambda r: abs(float(Fraction(r)) / float(rate) - 1.0))
    return Fraction(near) if abs(float(Fraction(near)) / float(rate) - 1.0) < 0.01 else Fraction(rate)


def _nominal_rate(rate) -> str:
    """:func:`usual_rate` as ffmpeg's ``fps=`` takes it ("30000/1001"), else ``rate`` to 3 decimals."""
    r = usual_rate(rate)
    return str(r) if str(r) in _COMMON_RATES else "{:.3f}".format(float(rate)).rstrip("0").rstrip(".")


def _plane_bytes(fr) -> bytes:
    """The samples of a decoded frame, plane by plane without row padding (see
    :meth:`MovieSource.decoded_bytes`); the RGB pixels for other layouts."""
    comps = list(fr.format.components)
    parts = [fr.format.name.encode(), b"|"]
    for k, plane in enumerate(fr.planes):
        mine = [cmp for cmp in comps if cmp.plane == k]
        bits = {cmp.bits for cmp in mine}
        if len(bits) != 1 or not (bits == {8} or (len(mine) == 1 and 8 < min(bits) <= 16)):
            return MovieSource._stored_rgb(fr).tobytes()
        row = plane.width * len(mine) * (1 if bits == {8} else 2)
        if row > plane.line_size or plane.height * plane.line_size > plane.buffer_size:
            return MovieSource._stored_rgb(fr).tobytes()
        a = np.frombuffer(memoryview(plane), np.uint8, plane.height * plane.line_size)
        parts.append(a.reshape(plane.height, plane.line_size)[:, :row].tobytes())
    return b"".join(parts)


def _chain_first(first, rest):
    yield first
    yield from rest
