# SPDX-License-Identifier: GPL-3.0-or-later
"""Footage of more than 8 bits (16-bit PNG/TIFF and OpenEXR plates, 10-bit movies), read at 8 bits
for the work and written back at its own depth with only the change applied.

Every stage of Reenact (tracking, the renderer, compositing, the watermark) works on 8-bit sRGB
frames. A VFX plate holds more: 16-bit display-referred PNG/TIFF, or scene-linear half/float
OpenEXR with highlights above 1.0. Reading, :func:`display8` gives the 8-bit picture Blender's
*Standard* view shows of it (EXR: the sRGB transfer of scene-linear Rec.709, clipped to 0..1).
Writing, :func:`merge` puts a rendered 8-bit frame back into the plate as the *change* of the
8-bit picture added to the plate's own values (EXR: the render's value with the plate's detail
below one level of the picture kept): a pixel the render did not
change comes out bit for bit the plate's, highlights, sub-level grain and alpha included, and a
changed pixel shows the render's 8-bit value with the plate's own fine detail beneath it.
Movies of more than 8 bits (a 10-bit camera original, an HDR shot) written to a movie that holds
them (ProRes, 10-bit H.264) get the same from :class:`DeepFrames` (docs/video-io.md).

OpenCV's OpenEXR codec is off unless ``OPENCV_IO_ENABLE_OPENEXR`` is set before its first use
(OpenCV issue 21326: decoding untrusted EXR files has had vulnerabilities); importing this module
sets it (``setdefault``: a user's explicit ``0`` is kept and EXR files are then refused in one
line). Plates come from the user's own pipeline.
"""

from __future__ import annotations

import os
import re

import numpy as np


def enable_exr():
    """Turn OpenCV's OpenEXR codec on: it reads the setting once, at its first EXR call (a
    user's explicit ``OPENCV_IO_ENABLE_OPENEXR=0`` is kept)."""
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")


#: the most pixels an image Reenact reads may have: OpenCV's OPENCV_IO_MAX_IMAGE_PIXELS, which it
#: reads when it is loaded, so the package's __init__ sets it before anything imports cv2
MAX_PIXELS = int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS") or 1 << 27)

enable_exr()

#: a numbered image's name without its extension: (stem, number, suffix) (the sequence readers'
#: pattern too: video/sequence.py)
NUMBERED_NAME = re.compile(r"^(.*?)(\d+)(\D*)$")

#: extensions read as scene-linear plates
LINEAR_EXTENSIONS = (".exr",)


def srgb_encode(lin):
    """sRGB transfer (IEC 61966-2-1) of linear values clipped to 0..1: float 0..1."""
    x = np.clip(np.nan_to_num(np.asarray(lin, np.float32), nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)


def srgb_decode(v):
    """Linear values of sRGB-encoded ``v`` in 0..1 (float32)."""
    v = np.asarray(v, np.float32)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4)).astype(np.float32)


_LUT8 = None


def _lut8():
    global _LUT8
    if _LUT8 is None:
        _LUT8 = srgb_decode(np.arange(256, dtype=np.float32) / 255.0)
    return _LUT8


#: ACES2065-1 (AP0 primaries, the ACES white) to Linear Rec.709 (Bradford adaptation): what
#: Blender 4.5 and 5.0 show of an OpenEXR plate whose header's chromaticities are AP0 (they
#: read the file, or the image strip, as ACES2065-1; within 3e-7 of Blender's own pixels,
#: tests/test_exr_header.py). Other chromaticities Blender shows as Linear Rec.709.
AP0_TO_REC709 = np.array([[2.52168619, -1.13413099, -0.38755520],
                          [-0.27647991, 1.37271909, -0.09623917],
                          [-0.01537806, -0.15297534, 1.16835340]])
AP0 = (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767)


def display_matrix(path):
    """The matrix from an OpenEXR plate frame's own primaries to the Linear Rec.709 Blender
    shows it in (:data:`AP0_TO_REC709` for an ACES2065-1 plate), or None (Rec.709 already, no
    chromaticities, or primaries Blender does not convert)."""
    import struct

    from .exrhead import attribute, read_file_header

    try:
        attrs = read_file_header(path, scanline=False)[1]
    except (OSError, ValueError):
        return None
    value = attribute(attrs, b"chromaticities")
    if value is None or len(value) != 32:
        # (no chromaticities: an ACES container flag alone makes it ACES2065-1 in Blender too;
        # before 2026-12-06 read as Rec.709, 7 levels off: a review of plates)
        flag = attribute(attrs, b"acesImageContainerFlag")
        return AP0_TO_REC709 if flag is not None and len(flag) == 4 and struct.unpack("<i", flag)[0] == 1 else None
    if np.allclose(struct.unpack("<8f", value), AP0, atol=1e-4):
        return AP0_TO_REC709
    return None


def display8(native, matrix=None):
    """The 8-bit RGB picture of a plate frame ``native`` (RGB, uint8, uint16 or float): 16 bits
    rounded, float taken as scene-linear (in the primaries ``matrix`` takes to Rec.709, for
    an ACES plate: :func:`display_matrix`) and sRGB-encoded (what Blender's Standard view
    shows)."""
    a = np.asarray(native)
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if matrix is not None:
        a = a @ np.asarray(matrix, np.float32).T
    return np.rint(srgb_encode(a) * 255.0).astype(np.uint8)


def merge(native, frame8, base8=None, matrix=None):
    """The plate frame ``native`` (RGB or RGBA; uint16 or float; uint8 RGBA: the frame with the
    plate's alpha) with the change that turned its
    8-bit picture into ``frame8`` (RGB uint8) applied at the plate's own depth: 16-bit as the
    change times 257, float as the render's value with the plate's detail below one level of the
    picture kept (where the plate's value lies outside 0..1, which the picture clips, a changed
    channel is the render's value itself). Unchanged
    pixels (and the alpha channel) keep the plate's exact values. ``base8``: the 8-bit picture
    the work was done on, when it was not made from ``native`` by :func:`display8` (a movie's
    decoder converts to 8 and to 16 bits on its own: :class:`DeepFrames`). ``matrix``: a float
    plate's primaries to Rec.709 (:func:`display_matrix`): the change is made in Rec.709 and a
    changed pixel's channels are taken back to the plate's primaries together."""
    a = np.asarray(native)
    rgb = a[..., :3]
    base = display8(rgb, matrix) if base8 is None else np.asarray(base8, np.uint8)
    new = np.asarray(frame8, np.uint8)
    if new.shape != base.shape:
        raise ValueError("the frame is {} but its plate is {}".format(new.shape, base.shape))
    if a.dtype == np.uint8:  # an 8-bit plate with alpha (a keyed plate): the frame, the plate's alpha
        out = a.copy()
        out[..., :3] = new
        return out
    kind = np.uint16 if a.dtype == np.uint16 else np.float32
    # only the rows and columns the change touches are worked on (a dub changes a face's box; a
    # copied frame nothing): 1080p in a few ms a frame instead of 80
    ne = new != base
    H, W = ne.shape[:2]
    flat = ne.reshape(H, W * 3)
    rows = np.flatnonzero(flat.any(axis=1))
    if rows.size == 0:
        return a if a.dtype == kind else a.astype(kind)  # the plate as it is
    cols = np.flatnonzero(flat[rows[0]:rows[-1] + 1].any(axis=0).reshape(W, 3).any(axis=1))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    out = a.astype(kind, copy=True)
    n8, b8, src = new[box], base[box], out[box][..., :3]
    changed = ne[box]  # per channel: a blown channel the render left alone stays blown
    if a.dtype == np.uint16:
        d = (n8.astype(np.int32) - b8.astype(np.int32)) * 257
        part = np.clip(src.astype(np.int32) + d, 0, 65535).astype(np.uint16)
    else:  # the plate's detail below one level kept, as a fraction of a level of the picture
        # (in linear light half a level at mid-grey is many levels near black); a value the
        # picture clips (a highlight above 1.0, below 0, NaN) is replaced whole where changed
        shown = src if matrix is None else src @ np.asarray(matrix, np.float32).T  # (Rec.709)
        with np.errstate(invalid="ignore"):
            fine = np.where((shown >= 0.0) & (shown <= 1.0), srgb_encode(shown) - b8 / np.float32(255.0), 0.0)
        part = srgb_decode(np.clip(n8 / np.float32(255.0) + fine, 0.0, 1.0))
        if matrix is not None:  # back to the plate's primaries, a changed pixel's channels together
            back = (np.where(changed, part, shown) @ np.linalg.inv(np.asarray(matrix, np.float64)).T).astype(np.float32)
            # a change of a level the way back loses (the picture shows the plate's pixel again,
            # as computed or stored in half floats) keeps the plate's own values, so a pixel that
            # looks untouched is untouched
            lost = ((display8(back, matrix) == b8).all(axis=2, keepdims=True)
                    | (display8(back.astype(np.float16).astype(np.float32), matrix) == b8).all(axis=2, keepdims=True))
            out[box][..., :3] = np.where(changed.any(axis=2, keepdims=True) & ~lost, back, src)
            return out
    out[box][..., :3] = np.where(changed, part, src)
    return out


def plate_first(src):
    """The number of a plate's first frame (1001, ...): a render of a plate of more than 8 bits is
    numbered as the plate, so a compositor's frame numbers hold. 0 for everything else (movies,
    8-bit sequences: their renders are numbered from 0 as before), and for a list of images
    that is not one run of consecutive numbers of one name in one folder."""
    if getattr(src, "kind", None) != "sequence" or getattr(src, "depth", "8") == "8":
        return 0
    if src.first_number is not None:
        return int(src.first_number)
    numbers, stem = [], None
    for f in src.files:  # a list (a Blender image strip's elements)
        if f is None:
            return 0
        folder, name = os.path.split(f)
        base, ext = os.path.splitext(name)
        m = NUMBERED_NAME.match(base)
        if m is None or stem not in (None, (folder, m[1], m[3], ext.lower())):
            return 0
        stem = (folder, m[1], m[3], ext.lower())
        numbers.append(int(m[2]))
    return numbers[0] if numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers))) else 0


def deep_movie(src):
    """The path of ``src`` when it is a movie of more than 8 bits a writer can keep (a 10-bit
    ProRes, an HDR shot), else None."""
    if getattr(src, "kind", None) != "movie" or int((getattr(src, "colour", None) or {}).get("bits", 8)) <= 8:
        return None
    return src.path


class DeepFrames:
    """A movie of more than 8 bits, decoded once per frame in order into the pair (the RGB uint8
    picture Reenact reads, the same frame as RGB uint16), both as shown (its display rotation
    applied): what a movie writer merges each written frame into (:func:`merge`), so that the
    pixels a render did not change keep the shot's own precision."""

    def __init__(self, path):
        from . import open_video

        self.src = open_video(path, allow_truncated=True, allow_variable_rate=True)
        self._it = self.src._iter(range(len(self.src)), convert=self._pair)
        self._last = None  # (index, (a8, a16)) of the frame decoded last

    def _pair(self, fr):
        a8 = self.src._to_rgb(fr)
        a16 = fr.to_ndarray(format="rgb48le")
        if self.src._turns:
            a16 = np.rot90(a16, self.src._turns)
        return a8, np.ascontiguousarray(a16)

    def merged(self, frame8, index=None):
        """The next frame of the movie (``index``: its frame ``index``, at or after the last one
        asked for: a conformed movie repeats and skips frames) with the change that made
        ``frame8`` of its picture applied: RGB uint16 (None past the movie's end: the caller
        writes ``frame8`` as it is)."""
        try:
            if index is None or self._last is None or self._last[0] < index:
                self._last = next(self._it)
            while index is not None and self._last[0] < index:
                self._last = next(self._it)
        except Exception:  # the end, or a frame the decoder cannot give again: 8 bits from here
            self._last = (float("inf"), None)
            return None
        i, pair = self._last
        if pair is None or (index is not None and i != index):
            return None
        a8, a16 = pair
        if a8.shape != np.shape(frame8):
            return None
        return merge(a16, frame8, base8=a8)

    def close(self):
        self._it.close()
        self.src.close()


class MovieAlpha:
    """A movie with an alpha channel (ProRes 4444, PNG or QuickTime Animation in .mov) as what a
    frame folder writes its frames into (:func:`reenact.video.pngs.plate_output`, as an 8-bit
    plate with alpha): each frame written with the movie's alpha of that frame, read in order
    from its own decoder (the writer may run in a thread of its own)."""

    depth, alpha, to_display, files = "8", True, None, ()

    def __init__(self, path):
        self.path, self._src, self._it, self._next = path, None, None, None

    def _rgba(self, fr):
        a = fr.to_ndarray(format="rgba")
        return np.ascontiguousarray(np.rot90(a, self._src._turns)) if self._src._turns else a

    def read_native(self, index):
        """Frame ``index`` as RGBA uint8 (its alpha is what the folder keeps)."""
        from . import VideoError, open_video

        if self._src is None:
            self._src = open_video(self.path, allow_truncated=True, allow_variable_rate=True)
        if self._it is None or index < self._next:  # (a chunk starts anywhere; frames come in order)
            self._it = self._src._iter(range(int(index), len(self._src)), convert=self._rgba)
        for i, a in self._it:
            self._next = i + 1
            if i == index:
                return a
        raise VideoError(self.path, "frame {} has no alpha to keep".format(index))


def movie_alpha(src):
    """:class:`MovieAlpha` of ``src`` when it is a movie with an alpha channel, else None."""
    if getattr(src, "kind", None) != "movie" or not getattr(src, "alpha", False):
        return None
    return MovieAlpha(src.path)
