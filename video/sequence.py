# SPDX-License-Identifier: GPL-3.0-or-later
"""Image sequences through OpenCV: discovery (folders, printf/hash/glob patterns, numbered
names, gaps) and decoding to RGB uint8."""

from __future__ import annotations

import glob as _glob
import os
import re
from typing import Optional, Sequence

import numpy as np

from .bitdepth import LINEAR_EXTENSIONS, MAX_PIXELS, NUMBERED_NAME, display8, display_matrix
from .source import (
    _UNSUPPORTED_IMAGE_EXTENSIONS,
    DEFAULT_SEQUENCE_FPS,
    IMAGE_EXTENSIONS,
    VideoError,
    VideoSource,
    _as_rate,
    _natural_key,
)


def _check_png_chunks(path, data):
    """VideoError when a chunk of the PNG ``data`` claims more bytes than the file holds: OpenCV
    4.11 allocates what a chunk claims before it reads it (a 44-byte file took 4.25 GB; before
    2026-12-05 every such frame of a folder did)."""
    buf, pos, n = memoryview(np.ascontiguousarray(data, np.uint8)).cast("B"), 8, len(data)
    if n >= 24 and buf[12:16] == b"IHDR":
        w, h = int.from_bytes(buf[16:20], "big"), int.from_bytes(buf[20:24], "big")
        if w * h > MAX_PIXELS:
            raise VideoError(path, "a PNG of {} x {} pixels, more than Reenact reads ({}, a 16384 x 8192 plate)".format(
                w, h, MAX_PIXELS))
    while pos + 8 <= n:
        length = int.from_bytes(buf[pos:pos + 4], "big")
        if length > n - pos - 12:
            raise VideoError(path, "not a readable image (a PNG chunk claims {} bytes past the end of the file)".format(
                length))
        if buf[pos + 4:pos + 8] == b"IEND":
            return
        pos += 12 + length


def _alpha_after(files, first):
    """Whether the first image of ``files`` that is not the size of the fully transparent
    ``first`` has an alpha channel (True when all are): a take of a shot cut from a longer clip
    holds one transparent frame, linked, on the clip frames the shot does not show
    (:func:`~reenact.video.pngs.clear_frames`), and its frames are RGB; before 2026-12-06 such a
    take read as a plate with alpha (a restyle of a dub warned of an alpha channel it dropped)."""
    size = os.path.getsize(first)
    for f in files:
        if f is not None and os.path.getsize(f) != size:
            img = _imread_native(f)
            return img.ndim == 3 and img.shape[2] in (2, 4)
    return True


def _imread_native(path: str) -> np.ndarray:
    """The image at ``path`` as stored: RGB or RGBA, uint8, uint16 or float32 (an OpenEXR plate's
    scene-linear values; :mod:`.bitdepth`)."""
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
        raise VideoError(path, f"{ext} images are not supported (convert them to OpenEXR or 16-bit PNG/TIFF)")
    if ext == ".png":
        _check_png_chunks(path, data)
    if data[:4].tobytes() == b"RIFF" and data[8:12].tobytes() == b"WEBP" and b"ANIM" in data[12:4096].tobytes():
        # (OpenCV reads an animated WebP's first frame: before 2026-12-06 a clip read as one still)
        raise VideoError(path, "an animated WebP: Reenact reads it as one still; convert it to a movie or to "
                               "numbered images")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        if ext in LINEAR_EXTENSIONS and "OPENCV_IO_ENABLE_OPENEXR" in str(exc):
            raise VideoError(path, "OpenEXR reading is turned off (OPENCV_IO_ENABLE_OPENEXR=0 in the "
                                   "environment)") from None
        img = None
    if img is None:
        raise VideoError(path, "not a readable image (damaged or unsupported format)")
    return _native_rgb(img, path)


def _native_rgb(img: np.ndarray, path: str) -> np.ndarray:
    import cv2

    if img.dtype == np.float64:
        img = img.astype(np.float32)
    if img.dtype not in (np.uint8, np.uint16, np.float32):
        raise VideoError(path, f"unsupported image sample type {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    ch = img.shape[2]
    if ch == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if ch == 2:  # grey + alpha
        return np.ascontiguousarray(np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2))
    if ch == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if ch == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    raise VideoError(path, f"unsupported image with {ch} channels")


def _exr_timecode(path):
    from .exrhead import read_file_header, timecode_of

    try:
        return timecode_of(read_file_header(path, scanline=False)[1])
    except (OSError, ValueError):
        return None


def _imread_rgb(path: str) -> np.ndarray:
    """The image at ``path`` as the RGB uint8 picture the work uses (16 bits rounded, float
    taken as scene-linear and sRGB-encoded, alpha dropped: :func:`.bitdepth.display8`)."""
    return np.ascontiguousarray(display8(_imread_native(path)[:, :, :3]))


_PRINTF_RE = re.compile(r"%(0?)(\d*)d")


_HASH_RE = re.compile(r"#+")


_NUMBERED_RE = NUMBERED_NAME


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
                                   f"{shown}{more}: render, restyle and train need every frame (tracking "
                                   f"skips the gaps); render or copy the missing frames into the folder")
        first = next(f for f in self.files if f is not None)
        img = _imread_native(first)
        self.size = (int(img.shape[1]), int(img.shape[0]))
        #: how the plate stores its samples: "8", "16" or "float" (scene-linear): :mod:`.bitdepth`
        self.depth = {np.dtype(np.uint8): "8", np.dtype(np.uint16): "16"}.get(img.dtype, "float")
        #: whether the images hold an alpha channel (a keyed plate): a render keeps it (:mod:`.pngs`)
        self.alpha = img.ndim == 3 and img.shape[2] in (2, 4)
        if self.alpha and not img[:, :, -1].any():  # a transparent first frame: told by the first other one
            self.alpha = _alpha_after(self.files, first)
        #: a float plate's primaries to Rec.709 as Blender shows it (an ACES2065-1 plate), or None
        self.to_display = display_matrix(first) if self.depth == "float" else None
        #: an OpenEXR plate's start timecode (its first frame's ``timeCode``), which a movie made
        #: from it keeps (:func:`~reenact.video.encode.source_tags`; before 2026-12-06 dropped)
        self.timecode = _exr_timecode(first) if first.lower().endswith(".exr") else None

    def _picture(self, path):
        if self.to_display is None:
            return _imread_rgb(path)
        return np.ascontiguousarray(display8(_imread_native(path)[:, :, :3], self.to_display))

    def _load(self, i: int, reader=None, gaps: Optional[bool] = None) -> Optional[np.ndarray]:
        f = self.files[i]
        if f is None:
            if self.allow_gaps if gaps is None else gaps:
                return None
            raise VideoError(self.path, f"frame {i} (number {self.frame_numbers[i]}) is missing")
        img = (reader or self._picture)(f)
        if (img.shape[1], img.shape[0]) != self.size:
            raise VideoError(f, f"image is {img.shape[1]}x{img.shape[0]} but the sequence is "
                                f"{self.size[0]}x{self.size[1]}")
        return img

    def read_native(self, index: int) -> np.ndarray:
        """Frame ``index`` as stored (RGB or RGBA; uint8, uint16 or float32): the plate a render
        writes its change into (:func:`.bitdepth.merge`)."""
        self._check_open()
        return self._load(self._check_index(index), _imread_native, gaps=False)

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
    _check_dense(path_label, lo, hi, len(by_num))
    files = [by_num[k][1] if k in by_num else None for k in range(lo, hi + 1)]
    return files, list(range(lo, hi + 1))


def _check_dense(label, lo, hi, n):
    """VideoError when frame numbers ``lo``..``hi`` held by ``n`` files are too sparse to be one
    sequence (a gap list that large would take the memory: two files numbered 0 and 9000000000)."""
    if hi - lo + 1 > 10 * n + 100_000:
        raise VideoError(label, f"frame numbers {lo}..{hi} are too sparse to be one sequence")


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
                                f"(convert them to OpenEXR or 16-bit PNG/TIFF)")
        raise VideoError(d, "image sequence is empty (no PNG/JPEG/TIFF/EXR images in the folder)")
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
        _check_dense(pattern, lo, hi, len(found))  # (before 2026-12-05 a pattern's range was listed whole)
        files = [found.get(k) for k in range(lo, hi + 1)]
        return ImageSequenceSource(pattern, files, list(range(lo, hi + 1)), fps=fps,
                                   allow_gaps=allow_gaps)
    # glob
    matches = [p for p in _glob.glob(pattern) if os.path.isfile(p)]
    if not matches:
        raise VideoError(pattern, "image sequence is empty (no file matches the pattern)")
    bad = [p for p in matches if not _is_image_name(p)]
    if bad:
        raise VideoError(bad[0], "is not a supported image (PNG/JPEG/TIFF/EXR/BMP/WebP)")
    names = {os.path.basename(p): p for p in matches}
    if len(names) != len(matches):  # pattern spans folders: keep the given order
        matches.sort(key=_natural_key)
        return ImageSequenceSource(pattern, matches, None, fps=fps, allow_gaps=allow_gaps)
    files, numbers = _numbered(pattern, names)
    return ImageSequenceSource(pattern, files, numbers, fps=fps, allow_gaps=allow_gaps)


def sequence_pattern(files):
    """``(pattern, first)``: a printf-style pattern (``shot/frame_%04d.png``) that
    :func:`~reenact.video.open_video` opens as a sequence whose frames ``first ..
    first + len(files) - 1`` are exactly ``files`` (image paths in frame order), so a sequence
    given as a list (a Blender image strip's folder and elements) can be named in one line of
    text, for another process. Raises VideoError naming the folder when the files are not one
    run of consecutive numbers of one name in one folder, or when that folder's sequence has
    gaps."""
    files = [os.path.abspath(os.fspath(f)) for f in files]
    if not files:
        raise VideoError("<list of images>", "image sequence is empty (empty list)")
    d = os.path.dirname(files[0])
    parts = []
    for f in files:
        stem, ext = os.path.splitext(os.path.basename(f))
        m = _NUMBERED_RE.match(stem)
        if os.path.dirname(f) != d or not m or not _is_image_name(f):
            raise VideoError(f, "is not a numbered image of the sequence in {} (frames must be one folder of "
                                "numbered PNG/JPEG/TIFF images)".format(d))
        parts.append((m[1], m[3], ext, m[2]))
    a, b, ext, digits = parts[0]
    consecutive = all((p[0], p[1], p[2]) == (a, b, ext) and int(p[3]) == int(digits) + i for i, p in enumerate(parts))
    if not consecutive:
        raise VideoError(d, "the images are not one run of consecutive frame numbers ({} .. {})".format(
            os.path.basename(files[0]), os.path.basename(files[-1])))
    width = "%0{}d".format(len(digits)) if len({len(p[3]) for p in parts}) == 1 else "%d"
    pattern = os.path.join(d, a + width + b + ext)
    src = _open_sequence_pattern(pattern, None, True)
    if src.missing:  # the reader opens the whole numbered sequence, not only these files
        shown = ", ".join(str(m) for m in src.missing[:8]) + (" ..." if len(src.missing) > 8 else "")
        raise VideoError(d, "the folder's sequence {} has missing frame(s) {}; fill them or move these images to a "
                            "folder of their own".format(os.path.basename(pattern), shown))
    first = int(digits) - src.first_number if src.first_number is not None else -1
    if first < 0 or [os.path.abspath(f) for f in src.files[first:first + len(files)]] != files:
        raise VideoError(d, "the images cannot be named by one pattern ({}): rename them as name_0001.png, "
                            "name_0002.png, ...".format(os.path.basename(pattern)))
    return pattern, first


def link_sequence(files, folder):
    """``(pattern, 0)``: the images ``files`` (paths in frame order, any names and folders) as
    one numbered sequence ``folder/<digest>/frame_%06d<ext>`` that :func:`~reenact.video.open_video`
    opens and another process can be given in one line of text, for image lists that
    :func:`sequence_pattern` cannot name (hand-picked images, a run with gaps, mixed names). The
    numbered names are symbolic links to the images (hard links, then copies where the file
    system has no symbolic links), made in a temporary folder that is renamed when complete: a
    failure leaves nothing behind, and the same list names the same folder again (its digest
    covers the paths, sizes and modification times). VideoError naming the file for a missing
    file or one that is not a PNG/JPEG/TIFF image, or for images of more than one kind."""
    import hashlib
    import shutil
    import tempfile

    files = [os.path.abspath(os.fspath(f)) for f in files]
    if not files:
        raise VideoError("<list of images>", "image sequence is empty (empty list)")
    for f in files:
        if not _is_image_name(f):
            raise VideoError(f, "is not a PNG/JPEG/TIFF image (frames must be image files)")
        if not os.path.isfile(f):
            raise VideoError(f, "image file does not exist")
    exts = {os.path.splitext(f)[1].lower() for f in files}
    if len(exts) > 1:
        raise VideoError(files[0], "the images are of more than one kind ({}); convert them to one".format(
            ", ".join(sorted(exts))))
    ext = os.path.splitext(files[0])[1]
    h = hashlib.sha1()
    for f in files:
        st = os.stat(f)
        h.update("{}|{}|{}\n".format(f, st.st_size, st.st_mtime_ns).encode("utf-8", "surrogateescape"))
    final = os.path.join(folder, "seq_" + h.hexdigest()[:16])
    pattern = os.path.join(final, "frame_%06d" + ext)
    if os.path.isdir(final):
        return pattern, 0
    os.makedirs(folder, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".seq_", dir=folder)
    try:
        for i, f in enumerate(files):
            dst = os.path.join(tmp, "frame_%06d%s" % (i, ext))
            try:
                os.symlink(f, dst)
            except (OSError, NotImplementedError):
                try:
                    os.link(f, dst)
                except OSError:
                    shutil.copy2(f, dst)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):  # not another process making the same folder meanwhile
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return pattern, 0
