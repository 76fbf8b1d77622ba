# SPDX-License-Identifier: GPL-3.0-or-later
"""PNG frames: one image written atomically (:func:`write_png`, :func:`png_rgb8`), and the
resumable frame folder renders and farm chunks write into (:class:`FrameFolder`).

Split from ``video/encode.py`` (which re-exports these names)."""

from __future__ import annotations

import os
import re
import struct
import time
import zlib

import numpy as np

from ..fsutil import write_atomic
from .source import VideoError

def write_png(path, rgb, compression=3, label=None):
    """Write an RGB (H, W, 3) uint8 or uint16 image as a PNG at ``path`` atomically: a unique
    temporary name in the same folder, renamed when complete, removed on any failure.
    ``label``: the file or folder named in the error (default ``path``)."""
    import cv2

    a = np.ascontiguousarray(rgb)
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.size:
        data = png_rgb8(a, compression)
        return write_atomic(path, lambda fh: fh.write(data))
    ok, buf = cv2.imencode(".png", cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, int(compression)])
    if not ok:
        raise VideoError(label or path, "PNG encoding failed")
    return write_atomic(path, lambda fh: fh.write(buf.tobytes()))


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rgb8(rgb, compression=1):
    """The bytes of a PNG of the RGB (H, W, 3) uint8 image ``rgb``: every row with the "Up"
    filter (the difference to the row above, computed in numpy), deflated by zlib at level
    ``compression``. Lossless like any PNG; at level 1 about half the CPU time of OpenCV's
    encoder (which tries every filter on every row) and a slightly smaller file on video frames
    (the render path writes one per frame: docs/reenact-bench.md, "Render path speed")."""
    a = np.ascontiguousarray(rgb, np.uint8)
    H, W = a.shape[:2]
    rows = a.reshape(H, W * 3)
    raw = np.empty((H, W * 3 + 1), np.uint8)
    raw[:, 0] = 2  # filter type Up
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])  # modulo 256, as PNG's filter arithmetic
    ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), int(np.clip(compression, 0, 9))))
            + _png_chunk(b"IEND", b""))


#: names of the frames of a resumable frame folder: frame_000000.png, ...
FRAME_PREFIX = "frame_"
FRAME_DIGITS = 6
_FRAME_RE = re.compile(re.escape(FRAME_PREFIX) + r"(\d+)\.png$")
#: the temporary names of a frame being written (``.frame_000012.png.XXXX.tmp`` from
#: :func:`reenact.fsutil.atomic_path`, ``.frame_000012.png.reenact-XXXX.png`` while its C2PA
#: manifest is signed in): a render killed mid-write (SIGKILL, power cut) leaves one; the next
#: render removes it
_FRAME_TMP_RE = re.compile(r"\." + re.escape(FRAME_PREFIX) + r"\d+\.png\.[^/]+$")
#: files a file manager leaves in any folder
_SYSTEM_FILES = (".DS_Store", "Thumbs.db")


#: a temporary frame older than this (seconds) is a leftover, not a parallel render's frame in
#: flight (writing one PNG takes milliseconds)
STALE_TMP_SECONDS = 60.0


def _remove_stale(path):
    try:
        if os.stat(path).st_mtime < time.time() - STALE_TMP_SECONDS:
            os.remove(path)
    except OSError:
        pass


class FrameFolder:
    """``frame_000000.png`` ... written straight into ``folder``, each file atomically (temp +
    rename), so an interrupted render keeps every frame it finished. A folder holding files
    that this writer would not name is refused (:meth:`owns`; the hidden temporary name of a
    frame, ``.frame_000012.png.….tmp``, which a killed process leaves, is not a reason: it is
    removed once stale, and :meth:`remove_temporaries` clears them once no process writes
    there); at :meth:`close`, own-named frames beyond the clip are removed. Several processes
    may write disjoint frames into one folder at once (render farm chunks)."""

    def __init__(self, folder, n_frames, compression=1):
        self.path = os.path.abspath(os.fspath(folder))
        self.n = int(n_frames)
        self.compression = int(compression)
        self.frames_written = 0
        self._re = _FRAME_RE
        self._tmp_re = _FRAME_TMP_RE
        if os.path.exists(self.path):
            if not os.path.isdir(self.path):
                raise VideoError(self.path, "exists and is not a folder")
            names = os.listdir(self.path)
            foreign = [n for n in names if not self.owns(n)]
            if foreign:
                raise VideoError(self.path, "output folder already holds other files (e.g. {}); choose an "
                                            "empty or new folder".format(foreign[0]))
            for n in names:  # a frame a killed render was writing: never a reason to refuse
                if _FRAME_TMP_RE.match(n):
                    _remove_stale(os.path.join(self.path, n))
        os.makedirs(self.path, exist_ok=True)

    @staticmethod
    def owns(name):
        """True for a name this writer makes in its folder: a frame, a frame being written (the
        temporary name of an interrupted write), or a file manager's own file."""
        return bool(_FRAME_RE.match(name) or _FRAME_TMP_RE.match(name)) or name in _SYSTEM_FILES

    def filename(self, index):
        return "{}{:0{}d}.png".format(FRAME_PREFIX, int(index), FRAME_DIGITS)

    def write(self, frame, index):
        final = write_png(os.path.join(self.path, self.filename(index)), np.asarray(frame, np.uint8),
                          self.compression, label=self.path)
        self.frames_written += 1
        return final

    def close(self):
        for name in os.listdir(self.path):
            m = self._re.match(name)
            if m and int(m.group(1)) >= self.n:
                try:
                    os.remove(os.path.join(self.path, name))
                except FileNotFoundError:  # another chunk of the job removed it first
                    pass

    def missing(self):
        """Clip frames 0..n-1 that have no file yet."""
        have = {int(m.group(1)) for m in map(self._re.match, os.listdir(self.path)) if m}
        return [i for i in range(self.n) if i not in have]

    def remove_temporaries(self):
        """Remove the temporaries killed processes left (only when none writes here any more);
        returns how many."""
        gone = 0
        for name in os.listdir(self.path):
            if self._tmp_re.match(name):
                try:
                    os.remove(os.path.join(self.path, name))
                    gone += 1
                except FileNotFoundError:
                    pass
        return gone
