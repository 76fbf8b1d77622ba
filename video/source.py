# SPDX-License-Identifier: GPL-3.0-or-later
"""The decoded-video interface shared by movies and image sequences: :class:`VideoSource`,
:class:`VideoError`, exact frame rates (see docs/video-io.md)."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from typing import Iterator, Optional, Tuple

import numpy as np

from ..errors import ReenactError


#: Extensions read as still images / image sequences (lower case, with the dot).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".exr")


_UNSUPPORTED_IMAGE_EXTENSIONS = (".hdr", ".dpx")


#: Frame rate given to image sequences when the caller gives none.
DEFAULT_SEQUENCE_FPS = Fraction(25)


class VideoError(ReenactError):
    """Bad or unreadable video input/output. ``str(err)`` is one line naming the file."""

    def __init__(self, path, problem: str):
        super().__init__(" ".join(str(problem).split()), None if path is None else os.fspath(path))


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
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):  # ("abc", "1/0", inf)
            raise VideoError(None, f"invalid frame rate {fps!r}") from None
        if not isinstance(fps, (str,)) and rate.denominator > 1001:
            rate = rate.limit_denominator(1_000_000)
            # prefer the NTSC-style /1001 rates when they are what the float meant
            for den in (1, 1001, 100, 1000):
                cand = Fraction(round(rate * den), den)
                if abs(cand - rate) < Fraction(1, 10**9):
                    rate = cand
                    break
        if not (isinstance(fps, str) and "/" in fps) and rate.denominator > 1:
            # "23.976", "23.98", "29.97", "59.94" are how people write the NTSC rates (Blender's
            # menu shows 23.98): 24000/1001, not 2997/125 (before 2026-12-05 a sequence tracked or
            # assembled at "23.976" ran 0.0024 % off its movies and sound)
            for n in (24, 30, 48, 60, 120, 240):
                if abs(rate - Fraction(n * 1000, 1001)) < Fraction(5, 1000):
                    rate = Fraction(n * 1000, 1001)
                    break
    if rate <= 0:
        raise VideoError(None, f"invalid frame rate {fps!r} (must be > 0)")
    return rate


#: the NTSC rates (n x 1000/1001) a stream's rate within a hair of is read as (:func:`snap_ntsc`)
NTSC_RATES = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))


def snap_ntsc(rate):
    """``rate`` (a Fraction), or the NTSC rate it lies within 1e-5 of (relative): FFmpeg reads a 59.94 fps
    Matroska (millisecond timestamps) as 19001/317 and a 47.95 one as 7001/146, where outputs and
    drop-frame timecode need 60000/1001 and 48000/1001 (before 2026-12-06 kept: a 59.94 fps shot's
    drop-frame timecode was counted as non-drop, its render written at 19001/317). None stays None."""
    if rate is None:
        return None
    rate = Fraction(rate)
    return next((r for r in NTSC_RATES if abs(rate / r - 1) < Fraction(1, 100000)), rate)


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


#: a timecode as FFmpeg reports it: HH:MM:SS:FF (";" or "." before the frames: drop-frame)
TIMECODE_RE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.]\d{2,3}$")


class VideoSource:
    """A clip: a movie file or an image sequence. Use :func:`open_video` to create one.

    Attributes: ``path`` (str), ``kind`` ('movie' | 'sequence'), ``rate`` (exact
    ``Fraction`` frames/s), ``fps`` (float), ``size`` ((w, h)), ``width``, ``height``,
    ``frame_count`` (exact), ``missing`` (missing frame numbers of a sequence),
    ``truncated`` (bool), ``has_audio``, ``audio_stream_info`` (dict or None), ``timecode``
    (a movie's start timecode or None), ``sample_aspect`` (a movie's pixel aspect, a
    ``Fraction``, when not square; else None).
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
        self.timecode: Optional[str] = None  # a movie's start timecode ("01:00:00:00"; ";" drop-frame)
        self.sample_aspect: Optional[Fraction] = None  # a movie's pixel aspect when not square
        self.interlaced: bool = False  # a movie whose frames hold two woven fields
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


def _av():
    import av  # imported lazily: keeps `import reenact.video` cheap

    return av


def _describe_av_error(exc) -> str:
    s = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(s).split())
