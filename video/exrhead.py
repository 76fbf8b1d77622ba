# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenEXR headers: read a file's attributes, and give a file OpenCV encoded the attributes of
the plate frame it was made from that the encoder does not write (timecode, chromaticities,
frame rate, owner, comments, a compositor's own keys), so that a rendered plate frame carries
its plate frame's metadata (before 2026-12-05 it carried OpenCV's bare header only).

Only single-part scanline files are handled (what OpenCV writes and what plates mostly are); a
tiled, deep or multi-part plate frame gives nothing to copy. The layout (OpenEXR's file
layout document): magic, version with flags, attributes (name, type, size, value) ending in a
zero byte, then the table of the chunks' file offsets, then the chunks."""

from __future__ import annotations

import struct

MAGIC = b"\x76\x2f\x31\x01"
_TILED, _LONG_NAMES, _DEEP, _MULTIPART = 0x200, 0x400, 0x800, 0x1000

#: attributes that describe the pixels' layout, which the new file's own header says
LAYOUT = frozenset((b"channels", b"compression", b"dataWindow", b"displayWindow", b"lineOrder",
                    b"pixelAspectRatio", b"screenWindowCenter", b"screenWindowWidth", b"tiles", b"type",
                    b"name", b"version", b"chunkCount", b"maxSamplesPerPixel", b"view", b"multiView"))

#: scanlines per chunk by compression code (NO, RLE, ZIPS, ZIP, PIZ, PXR24, B44, B44A, DWAA, DWAB)
_LINES = {0: 1, 1: 1, 2: 1, 3: 16, 4: 32, 5: 16, 6: 32, 7: 32, 8: 32, 9: 256}


def read_header(data, scanline=True):
    """(version flags, [(name, type, value bytes)], offset just past the header) of the EXR file
    bytes ``data`` (its first bytes suffice); ValueError when it is not an OpenEXR file with a
    whole header, or (``scanline``) not a single-part scanline one (a tiled, deep or
    multi-part file's first header is read the same way when ``scanline`` is False)."""
    if data[:4] != MAGIC or len(data) < 8:
        raise ValueError("not an OpenEXR file")
    flags = struct.unpack("<I", data[4:8])[0] & ~0xFF
    if scanline and flags & (_TILED | _DEEP | _MULTIPART):
        raise ValueError("a tiled, deep or multi-part OpenEXR file")
    attrs, at = [], 8
    while True:
        if at >= len(data):
            raise ValueError("the OpenEXR header is cut short")
        if data[at] == 0:
            return flags, attrs, at + 1
        # whatever runs past the bytes read is "cut short" (read_file_header reads on): before
        # 2026-12-05 a header over 64 KB whose edge fell in a name or a size failed as damaged
        # or with struct.error, and every command opening the plate stopped with a traceback
        name_end = data.find(b"\0", at)
        type_end = data.find(b"\0", name_end + 1) if name_end >= 0 else -1
        if type_end < 0 or type_end + 5 > len(data):
            raise ValueError("the OpenEXR header is cut short")
        size = struct.unpack("<i", data[type_end + 1:type_end + 5])[0]
        start = type_end + 5
        if size < 0:
            raise ValueError("a damaged OpenEXR attribute")
        if start + size > len(data):
            raise ValueError("the OpenEXR header is cut short")
        attrs.append((data[at:name_end], data[name_end + 1:type_end], data[start:start + size]))
        at = start + size


def read_file_header(path, scanline=True):
    """:func:`read_header` of the file ``path``, reading no more of it than the header needs
    (64 KB, or up to 1 MB for a long one). OSError, ValueError."""
    with open(path, "rb") as fh:
        data = fh.read(1 << 16)
        try:
            return read_header(data, scanline)
        except ValueError as exc:
            if "cut short" not in str(exc) or len(data) < (1 << 16):
                raise
            return read_header(data + fh.read((1 << 20) - len(data)), scanline)


def attribute(attrs, name):
    """The value bytes of attribute ``name`` in ``attrs`` (:func:`read_header`), or None."""
    return next((v for n, _t, v in attrs if n == name), None)


def _chunks(attrs):
    comp = attribute(attrs, b"compression")
    window = attribute(attrs, b"dataWindow")
    if comp is None or window is None or len(window) != 16 or comp[0] not in _LINES:
        raise ValueError("an OpenEXR header without its compression or data window")
    _x0, y0, _x1, y1 = struct.unpack("<4i", window)
    return -(-(y1 - y0 + 1) // _LINES[comp[0]])


def carried(plate_attrs, new_attrs):
    """The attributes of the plate frame's header (``plate_attrs``) worth giving a file with
    ``new_attrs``: every one but the layout's and those it has."""
    have = {n for n, _t, _v in new_attrs}
    return [(n, t, v) for n, t, v in plate_attrs if n not in LAYOUT and n not in have]


def with_attributes(data, extra):
    """The OpenEXR file bytes ``data`` (single-part scanline) with the attributes ``extra``
    ((name, type, value bytes)) added at the end of its header and its chunk offsets moved by
    as many bytes."""
    if not extra:
        return data
    flags, attrs, end = read_header(data)
    blob = b"".join(n + b"\0" + t + b"\0" + struct.pack("<i", len(v)) + v for n, t, v in extra)
    if not flags & _LONG_NAMES and any(len(n) > 31 or len(t) > 31 for n, t, _v in extra):
        flags |= _LONG_NAMES  # (names up to 255 bytes)
    n = _chunks(attrs)
    table = struct.unpack("<{}Q".format(n), data[end:end + 8 * n])
    moved = struct.pack("<{}Q".format(n), *(o + len(blob) for o in table))
    version = struct.pack("<I", (struct.unpack("<I", data[4:8])[0] & 0xFF) | flags)
    return data[:4] + version + data[8:end - 1] + blob + b"\0" + moved + data[end + 8 * n:]


def copy_header(plate_path, data):
    """``data`` (an OpenEXR file's bytes, made from the plate frame ``plate_path``) with the
    plate frame's attributes it lacks (:func:`carried`); ``data`` itself when there are none or
    the plate frame cannot be read (or is not a single-part scanline file)."""
    try:
        plate_attrs = read_file_header(plate_path)[1]
        _flags, attrs, _end = read_header(data)
    except (OSError, ValueError):
        return data
    return with_attributes(data, carried(plate_attrs, attrs))


def timecode_of(attrs):
    """The SMPTE timecode of an OpenEXR header's ``timeCode`` attribute (``attrs``:
    :func:`read_header`'s) as ``HH:MM:SS:FF`` (``;`` before the frames when drop-frame), or None
    (none, or not valid BCD). The packing is SMPTE 12M's, as OpenEXR's TimeCode stores it:
    frames, drop-frame flag, seconds, minutes and hours in binary-coded decimal."""
    v = next((v for n, t, v in attrs if n == b"timeCode" and t == b"timecode"), None)
    if v is None or len(v) < 4:
        return None
    t = struct.unpack("<I", v[:4])[0]
    digits = [t & 0xF, (t >> 4) & 0x3, (t >> 8) & 0xF, (t >> 12) & 0x7, (t >> 16) & 0xF, (t >> 20) & 0x7,
              (t >> 24) & 0xF, (t >> 28) & 0x3]
    if any(d > 9 for d in digits):
        return None
    ff, ss, mm, hh = (digits[k] + 10 * digits[k + 1] for k in (0, 2, 4, 6))
    if ss > 59 or mm > 59 or hh > 23:
        return None
    return "{:02d}:{:02d}:{:02d}{}{:02d}".format(hh, mm, ss, ";" if t >> 6 & 1 else ":", ff)
