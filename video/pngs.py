# SPDX-License-Identifier: GPL-3.0-or-later
"""PNG frames: one image written atomically (:func:`write_png`, :func:`png_rgb8`; an OpenEXR
plate's frames: :func:`write_exr`), and the resumable frame folder renders and farm chunks
write into (:class:`FrameFolder`).

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
    """Write an RGB (H, W, 3) or RGBA uint8 or uint16 image as a PNG at ``path`` atomically: a unique
    temporary name in the same folder, renamed when complete, removed on any failure.
    ``label``: the file or folder named in the error (default ``path``)."""
    import cv2

    a = np.ascontiguousarray(rgb)
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.size:
        data = png_rgb8(a, compression)
        return write_atomic(path, lambda fh: fh.write(data))
    bgr = cv2.cvtColor(a, cv2.COLOR_RGBA2BGRA if a.ndim == 3 and a.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, int(compression)])
    if not ok:
        raise VideoError(label or path, "PNG encoding failed")
    return write_atomic(path, lambda fh: fh.write(buf.tobytes()))


def clear_frames(paths, size, label=None):
    """Write every file of ``paths`` as one fully transparent 8-bit RGBA PNG of ``size`` (w, h):
    the first encoded, each other a hard link to it (a copy where the disk has none), put in
    place by a rename. What a take holds on the clip frames its shot does not show: the strip
    laid over the shot shows the shot through them. Returns how many."""
    import shutil

    from ..fsutil import atomic_path

    first = None
    for path in paths:
        try:
            if first is None:
                first = write_png(path, np.zeros((int(size[1]), int(size[0]), 4), np.uint8), 9, label=label)
                continue
            with atomic_path(path) as tmp:
                os.remove(tmp)
                try:
                    os.link(first, tmp)
                except OSError:  # (FAT, exFAT, some network shares: a copy of a few kilobytes)
                    shutil.copyfile(first, tmp)
        except OSError as exc:  # (a full disk: one line naming the folder and the frame)
            raise VideoError(label or os.path.dirname(path), "cannot write {}: {}".format(
                os.path.basename(path), exc.strerror or exc)) from None
    return len(paths)


def plate_output(plate):
    """``(plate, ext, write, first)`` for frames rendered from the image sequence ``plate``: a
    plate of more than 8 bits or with an alpha channel (None otherwise), the frames' extension (".exr" for an OpenEXR
    plate, else ".png"), ``write(path, frame8, index, compression, label)`` that writes the
    plate's frame ``index`` with the change to ``frame8`` applied at the plate's depth
    (:func:`reenact.video.bitdepth.merge`), and the number of the plate's first frame, which the
    frames are numbered from (:func:`reenact.video.bitdepth.plate_first`; 0 without a plate)."""
    if getattr(plate, "depth", "8") == "8" and not getattr(plate, "alpha", False):
        return None, ".png", None, 0
    from .bitdepth import merge, plate_first

    options = []

    def write(path, frame8, index, compression, label):
        full = merge(plate.read_native(index), np.asarray(frame8, np.uint8), matrix=getattr(plate, "to_display", None))
        if plate.depth != "float":
            return write_png(path, full, compression, label=label)
        if not options:
            options.append(exr_options(next(f for f in plate.files if f is not None)))
        return write_exr(path, full, options[0], label=label, like=plate.files[index])

    return plate, ".exr" if plate.depth == "float" else ".png", write, plate_first(plate)


def write_exr(path, rgb, options=(), label=None, like=None):
    """Write an RGB or RGBA float image as an OpenEXR file at ``path`` atomically (OpenCV's codec;
    ``options``: its imwrite flags, :func:`exr_options`). ``like``: the plate frame it was made
    from, whose header attributes it takes where OpenCV writes none (timecode, chromaticities,
    a compositor's keys: :func:`reenact.video.exrhead.copy_header`)."""
    import cv2

    from .bitdepth import enable_exr

    enable_exr()
    a = np.ascontiguousarray(rgb, np.float32)
    bgr = cv2.cvtColor(a, cv2.COLOR_RGBA2BGRA if a.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".exr", bgr, list(options))
    if not ok:
        raise VideoError(label or path, "OpenEXR encoding failed")
    data = buf.tobytes()
    if like is not None:
        from .exrhead import copy_header

        data = copy_header(like, data)
    return write_atomic(path, lambda fh: fh.write(data))


#: OpenEXR compression codes (the header's) -> OpenCV's
_EXR_COMPRESSION = {0: "NO", 1: "RLE", 2: "ZIPS", 3: "ZIP", 4: "PIZ", 5: "PXR24", 6: "B44", 7: "B44A",
                    8: "DWAA", 9: "DWAB"}


def exr_options(path):
    """OpenCV's imwrite flags that write like the OpenEXR file ``path``: its pixel type (half or
    float, from the header's channel list) and compression (half and ZIP when unreadable; float
    and ZIP for a plate of another format, a float TIFF)."""
    import cv2

    from .exrhead import attribute, read_file_header

    kind, compression = 1, 3
    try:
        if not os.fspath(path).lower().endswith(".exr"):  # (a float TIFF plate: its 32 bits kept, never halved:
            kind = 2  # before 2026-12-06 half floats, the plate changed where nothing was drawn; a review)
            raise ValueError("not an OpenEXR file")
        attrs = read_file_header(path, scanline=False)[1]
        value = attribute(attrs, b"channels") or b""
        kinds, k = [], 0
        while k < len(value) and value[k] != 0:  # (name, pixel type, linear, reserved, sampling)
            k = value.index(b"\0", k) + 1
            kinds.append(struct.unpack("<i", value[k:k + 4])[0])
            k += 16
        kind = max(kinds) if kinds else kind
        comp = attribute(attrs, b"compression")
        compression = comp[0] if comp is not None and len(comp) == 1 else compression
    except (OSError, ValueError, struct.error):
        pass
    flags = [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_FLOAT if kind == 2 else cv2.IMWRITE_EXR_TYPE_HALF]
    code = getattr(cv2, "IMWRITE_EXR_COMPRESSION_" + _EXR_COMPRESSION.get(compression, "ZIP"), None)
    if code is not None and hasattr(cv2, "IMWRITE_EXR_COMPRESSION"):
        flags += [cv2.IMWRITE_EXR_COMPRESSION, code]
    return flags


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
_FRAME_RE = re.compile(re.escape(FRAME_PREFIX) + r"(\d+)\.(?:png|exr)$")  # .exr: an OpenEXR plate's render
#: the temporary names of a frame being written (``.frame_000012.png.XXXX.tmp`` from
#: :func:`reenact.fsutil.atomic_path`, ``.frame_000012.png.reenact-XXXX.png`` while its C2PA
#: manifest is signed in): a render killed mid-write (SIGKILL, power cut) leaves one; the next
#: render removes it
_FRAME_TMP_RE = re.compile(r"\." + re.escape(FRAME_PREFIX) + r"\d+\.(?:png|exr)\.[^/]+$")
def frame_numbers(folder):
    """``[(number, name)]`` of the frames in ``folder`` (``frame_000000.png``, a plate's
    ``frame_001001.exr``, ...), in number order."""
    return sorted((int(m.group(1)), m.group(0)) for m in map(_FRAME_RE.match, os.listdir(folder)) if m)


#: files a file manager leaves in any folder (Windows' desktop.ini too; macOS writes "._NAME"
#: companions on exFAT and network drives: :func:`system_file`)
_SYSTEM_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")


#: a farm chunk's marker (``render/chunks.py``: chunk start, end, the job's tag), and the
#: temporary name :func:`reenact.fsutil.atomic_path` gives it while it is written
CHUNK_MARKER_RE = re.compile(r"^\.reenact_chunk_(\d+)_(\d+)(?:_[0-9a-f]{8})?\.json$")
_CHUNK_MARKER_TMP_RE = re.compile(r"^\." + CHUNK_MARKER_RE.pattern[1:-1] + r"\.[0-9a-f]+\.tmp$")


def system_file(name):
    """Whether ``name`` is a file manager's (or a farm chunk's marker), not a frame or a user's
    file."""
    return (name in _SYSTEM_FILES or name.startswith("._") or bool(CHUNK_MARKER_RE.match(name))
            or bool(_CHUNK_MARKER_TMP_RE.match(name)))


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
    may write disjoint frames into one folder at once (render farm chunks).

    ``plate``: the open image sequence the frames are renders of. A plate of more than 8 bits
    gets its frames at its own depth, each the plate's frame with the rendered change applied
    (:func:`reenact.video.bitdepth.merge`): 16-bit PNGs of a 16-bit plate, OpenEXR frames
    (``frame_000000.exr``, the plate's pixel type and compression) of an OpenEXR plate. Without
    a plate, a folder already holding OpenEXR frames is read as such (assembling a farm job).
    A plate's frames are numbered as the plate (clip frame ``i`` is ``frame_<first + i>``, the
    plate's 1001 onwards); ``first`` gives that number without a plate (assembling)."""

    def __init__(self, folder, n_frames, compression=1, plate=None, first=0):
        self.path = os.path.abspath(os.fspath(folder))
        self.n = int(n_frames)
        self.compression = int(compression)
        self.frames_written = 0
        self._tmp_re = _FRAME_TMP_RE
        self.plate, self.ext, self._on_plate, numbered = plate_output(plate)
        self.first = int(numbered if self.plate is not None else first)
        self.signable = self.ext == ".png"  # C2PA has no OpenEXR binding
        names = []
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
        kinds = {os.path.splitext(n)[1].lower() for n in names if _FRAME_RE.match(n)}
        if plate is None and kinds == {".exr"}:
            self.ext = ".exr"
        elif kinds - {self.ext}:
            raise VideoError(self.path, "output folder holds {} frames of another render, this one writes {} "
                                        "frames; choose an empty or new folder".format(
                                            "/".join(sorted(k[1:].upper() for k in kinds - {self.ext})),
                                            self.ext[1:].upper()))
        os.makedirs(self.path, exist_ok=True)

    @staticmethod
    def owns(name):
        """True for a name this writer makes in its folder: a frame, a frame being written (the
        temporary name of an interrupted write), or a file manager's own file."""
        return FrameFolder.holds(name) or bool(_FRAME_TMP_RE.match(name))

    @staticmethod
    def holds(name):
        """True for a finished frame's name or a file manager's own file (what a folder written
        whole, then renamed into place, may hold)."""
        return bool(_FRAME_RE.match(name)) or system_file(name)

    def filename(self, index):
        return "{}{:0{}d}{}".format(FRAME_PREFIX, self.first + int(index), FRAME_DIGITS, self.ext)

    def write(self, frame, index):
        path = os.path.join(self.path, self.filename(index))
        if self.plate is None:
            final = write_png(path, np.asarray(frame, np.uint8), self.compression, label=self.path)
        else:
            final = self._on_plate(path, frame, index, self.compression, self.path)
        self.frames_written += 1
        return final

    def clear(self, indices, size):
        """Frames ``indices`` as one transparent frame of ``size`` (:func:`clear_frames`); returns
        how many, 0 where the folder holds a plate's frames (its depth and alpha: written as the
        footage instead)."""
        if self.plate is not None or self.ext != ".png":
            return 0
        return clear_frames([os.path.join(self.path, self.filename(i)) for i in indices], size, self.path)

    def notes(self, sign=True):
        """Warnings for the render's summary: OpenEXR frames carry the watermark, no manifest."""
        if sign and not self.signable and self.frames_written:
            return ["{}: OpenEXR frames carry the watermark but no C2PA manifest (C2PA has no OpenEXR binding; "
                    "a movie or PNG made from them can be signed)".format(self.path)]
        return []

    def close(self):
        for number, name in frame_numbers(self.path):
            if not 0 <= number - self.first < self.n:
                try:
                    os.remove(os.path.join(self.path, name))
                except FileNotFoundError:  # another chunk of the job removed it first
                    pass

    def missing(self):
        """Clip frames 0..n-1 that have no file yet."""
        have = {number - self.first for number, _name in frame_numbers(self.path)}
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


def share_frames(folder, others):
    """Make each frame of ``folder`` that is byte for byte the same file as the frame of that name
    in one of the folders ``others`` (earlier takes of the same render) a hard link to it, so that
    the footage a render copies through around its change is stored once for all its takes (a
    40-frame shot of a 536-frame clip: 536 PNGs, 99 MB, a take). Signed frames (synthesised: a
    C2PA manifest, which may be written again in place) keep their own file; where links cannot
    be made (another file system, FAT) nothing changes. Each link replaces the frame by a rename,
    so a frame is never missing. Returns the bytes now shared."""
    import filecmp
    import uuid

    from ..provenance.manifest import png_has_manifest

    shared = 0
    for _n, name in frame_numbers(folder):
        mine = os.path.join(folder, name)
        for other in others:
            theirs = os.path.join(other, name)
            try:
                if os.path.samefile(mine, theirs):
                    break
                size = os.path.getsize(mine)
                if size != os.path.getsize(theirs) or not filecmp.cmp(mine, theirs, shallow=False):
                    continue
                if name.endswith(".png") and png_has_manifest(mine):
                    break
                tmp = os.path.join(folder, ".{}.{}.tmp".format(name, uuid.uuid4().hex[:8]))  # (a frame temporary's name)
                os.link(theirs, tmp)
                try:
                    os.replace(tmp, mine)
                except OSError:
                    os.remove(tmp)
                    raise
                shared += size
                break
            except OSError:
                continue
    return shared
