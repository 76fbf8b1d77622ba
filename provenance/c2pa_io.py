# SPDX-License-Identifier: GPL-3.0-or-later
"""File I/O for C2PA signing: a manifest appended to a movie without rewriting it, native
streams for the full rewrite, and an atomic swap.

**Appended** (:func:`sign_append`, the default for MP4/MOV signed in place). The native
library's embeddable API (c2pa-rs 0.91: ``c2pa_builder_placeholder``,
``c2pa_builder_update_hash_from_stream``, ``c2pa_builder_sign_embeddable``; c2pa-python 0.38
does not wrap it, so it is called through ``ctypes`` with the Builder's handle): the placeholder
fixes the manifest's size and adds the BMFF hash assertion, the file is hashed as it is (the
manifest's ``uuid`` box is excluded from a BMFF hash, and appending a box moves no other box),
the claim is signed, and the manifest box is **appended after the last top-level box** in one
write (the box's 8-byte header last). Nothing else in the file moves or is rewritten: a 21 MB movie signs in ~21 ms instead of
~50 (a full rewrite reads and writes every byte and hashes in c2pa-rs's 8 KB steps). The box
sits after ``mdat`` rather than right after ``ftyp`` (where c2pa-rs puts it when it rewrites):
c2pa-rs finds and validates it there (tests), a reader that stops at ``mdat`` would not. If the
write fails the file is truncated back to its old length. Used only where the file is a clean
sequence of top-level boxes to its end with no C2PA box yet (:func:`append_refusal`); otherwise,
and with ``REENACT_C2PA_IO=rewrite`` or ``python``, the full rewrite below. With
:func:`set_merkle_leaf` and :func:`hash_mdat` (``c2pa_builder_set_fixed_size_merkle``,
``c2pa_builder_hash_mdat_bytes``) the ``mdat`` is hashed as a Merkle tree from bytes fed while
the movie is written (:mod:`.movie_signing`), and :func:`sign_append` then hashes only the
other boxes.

c2pa-python hands every stream to the native library as four callbacks (read, seek, write,
flush) and implements them in Python; c2pa-rs calls them for every 8 KB it reads or writes. A
signed MP4 is a full rewrite (the manifest box goes right after ``ftyp``, every chunk offset
moves), so a 23 MB movie costs ~6,000 Python callbacks: ~35 ms of a ~100 ms signature.

**Native streams** (:func:`sign`, Linux, 64-bit). The C stream of the native library calls
``read(ctx, buf, len)``, ``seek(ctx, offset, whence)`` and ``write(ctx, buf, len)`` with an
opaque context pointer that it never dereferences, returns ``ssize_t`` and reads ``errno`` on a
negative result; its seek modes are 0/1/2 (``SEEK_SET/CUR/END``). Those are the C library's
``read``, ``lseek`` and ``write`` with a file descriptor as the context, so the library's own
functions are given as the callbacks (only ``flush``, called a few times, stays in Python).
This rests on c2pa-python 0.38's stream types (``c2pa.c2pa.ReadCallback``...,
``Builder._sign_internal``); :func:`native_available` checks they are there, and a test checks
the native path is taken with the pinned version. Elsewhere (Windows, macOS, another
c2pa-python, ``REENACT_C2PA_IO=python``) signing goes through c2pa-python's own streams.

**Atomic swap** (:func:`replace`). Renaming the signed temporary file over an existing file on
ext4 makes the kernel allocate and start writing the new file's blocks inside ``rename``
(``auto_da_alloc``): ~20 ms for 23 MB. ``renameat2(RENAME_EXCHANGE)`` swaps the two names
atomically instead (the destination is always either the old or the new complete file), then
the old file, now under the temporary name, is removed; the new file's blocks are written back
later like any other written file's (the encoder's output included).
"""

import contextlib
import ctypes
import os
import stat
import sys

from .. import fsutil

__all__ = ["native_available", "sign", "replace", "append_available", "append_refusal", "sign_append",
           "top_level_boxes", "C2PA_UUID", "placeholder", "merkle_available", "set_merkle_leaf", "hash_mdat"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_state = {}


def _native():
    """(libc, c2pa module internals) or None when the native path cannot be used here."""
    if "native" in _state:
        return _state["native"]
    nat = None
    try:
        if sys.platform.startswith("linux") and ctypes.sizeof(ctypes.c_void_p) == 8 \
                and ctypes.sizeof(ctypes.c_ssize_t) == 8:
            from c2pa import c2pa as lib

            libc = ctypes.CDLL(None, use_errno=True)
            need = ("ReadCallback", "SeekCallback", "WriteCallback", "FlushCallback", "StreamContext", "_lib")
            if all(hasattr(lib, n) for n in need) and hasattr(lib.Builder, "_sign_internal") \
                    and hasattr(lib._lib, "c2pa_create_stream") and hasattr(lib._lib, "c2pa_release_stream"):
                addr = lambda f: ctypes.cast(f, ctypes.c_void_p).value  # noqa: E731
                nat = {"lib": lib,
                       "read": lib.ReadCallback(addr(libc.read)),
                       "seek": lib.SeekCallback(addr(libc.lseek)),
                       "write": lib.WriteCallback(addr(libc.write)),
                       "flush": lib.FlushCallback(lambda _ctx: 0)}  # writes go straight to the fd
    except (ImportError, OSError, AttributeError):
        nat = None
    _state["native"] = nat
    return nat


def native_available():
    """Whether :func:`sign` streams natively here (``REENACT_C2PA_IO=python`` turns it off)."""
    return os.environ.get("REENACT_C2PA_IO", "").lower() != "python" and _native() is not None


class _FdStream:
    """A native-library stream over a file descriptor (the descriptor is the context)."""

    def __init__(self, nat, fd):
        lib = nat["lib"]
        ctx = ctypes.cast(ctypes.c_void_p(fd), ctypes.POINTER(lib.StreamContext))
        self._release = lib._lib.c2pa_release_stream
        self._stream = lib._lib.c2pa_create_stream(ctx, nat["read"], nat["seek"], nat["write"], nat["flush"])
        if not self._stream:
            raise lib.C2paError("cannot create a stream")

    def close(self):
        if self._stream:
            self._release(self._stream)
            self._stream = None


def _open(path, flags, mode=0o666):
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | fsutil.O_BINARY, mode)
    if fd == 0:  # the context pointer must not be null
        fd2 = os.dup(fd)
        os.close(fd)
        fd = fd2
    return fd


def sign(builder, signer, fmt, src_path, dst_path):
    """``builder.sign(signer, fmt, src, dst)`` from the file ``src_path`` into a new file
    ``dst_path`` (created exclusively); natively when :func:`native_available`."""
    if not native_available():
        with open(src_path, "rb") as src, open(dst_path, "x+b") as dst:
            builder.sign(signer, fmt, src, dst)
        return
    nat = _native()
    streams, fds = [], []
    try:
        fds.append(_open(src_path, os.O_RDONLY))
        fds.append(_open(dst_path, os.O_RDWR | os.O_CREAT | os.O_EXCL))
        for fd in fds:
            streams.append(_FdStream(nat, fd))
        builder._sign_internal(fmt, streams[0], streams[1], signer=signer)
    finally:
        for s in streams:
            s.close()
        for fd in fds:
            os.close(fd)


# ------------------------------------------------------------------------------ appended manifest
#: the ``uuid`` of a C2PA manifest store box in BMFF
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_EMBED_FUNCS = ("c2pa_builder_placeholder", "c2pa_builder_update_hash_from_stream", "c2pa_builder_sign_embeddable")
_MERKLE_FUNCS = ("c2pa_builder_set_fixed_size_merkle", "c2pa_builder_hash_mdat_bytes")


def _embed():
    """The c2pa module internals with the embeddable functions' signatures set, or None."""
    if "embed" in _state:
        return _state["embed"]
    mod = None
    try:
        from c2pa import c2pa as lib

        if all(hasattr(lib._lib, n) for n in _EMBED_FUNCS) and hasattr(lib, "_check_ffi_operation_result"):
            out = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
            for n in ("c2pa_builder_placeholder", "c2pa_builder_sign_embeddable"):
                f = getattr(lib._lib, n)
                f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, out]
                f.restype = ctypes.c_int64
            f = lib._lib.c2pa_builder_update_hash_from_stream
            f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
            f.restype = ctypes.c_int
            mod = lib
    except (ImportError, OSError, AttributeError):
        mod = None
    _state["embed"] = mod
    return mod


def append_available():
    """Whether :func:`sign_append` can run here (``REENACT_C2PA_IO=rewrite`` or ``python`` turn
    it off)."""
    return os.environ.get("REENACT_C2PA_IO", "").lower() not in ("python", "rewrite") and _embed() is not None


def top_level_boxes(fd):
    """[(type, offset, size, uuid or None)] of the top-level boxes of the BMFF file open as
    ``fd``, or None unless they tile the file exactly (no box of size 0 "to the end", none
    shorter than its header or past the end)."""
    end = os.fstat(fd).st_size
    boxes, off = [], 0
    while off < end:
        head = fsutil.pread(fd, 32, off)
        if len(head) < 8:
            return None
        size, kind = int.from_bytes(head[:4], "big"), head[4:8]
        hdr = 8
        if size == 1:
            if len(head) < 16:
                return None
            size, hdr = int.from_bytes(head[8:16], "big"), 16
        if size < hdr or off + size > end:
            return None
        uuid = None
        if kind == b"uuid":
            if size < hdr + 16 or len(head) < hdr + 16:
                return None
            uuid = head[hdr:hdr + 16]
        boxes.append((kind, off, size, uuid))
        off += size
    return boxes


def append_refusal(path):
    """None when a manifest can be appended to the movie ``path``, else why not (one line)."""
    if not append_available():
        return "the C2PA library has no embeddable signing here"
    try:
        fd = _open(path, os.O_RDONLY)
    except OSError as exc:
        return exc.strerror
    try:
        boxes = top_level_boxes(fd)
    finally:
        os.close(fd)
    if not boxes or boxes[0][0] != b"ftyp":
        return "not a plain sequence of top-level boxes starting with ftyp"
    if any(b[3] == C2PA_UUID for b in boxes):
        return "the file already has a C2PA manifest box"
    return None


def _composed(builder, func, fmt, what):
    lib = _embed()
    ptr = ctypes.POINTER(ctypes.c_ubyte)()
    n = lib._check_ffi_operation_result(func(builder._handle, fmt.encode("ascii"), ctypes.byref(ptr)),
                                        what + ": {}", check=lambda r: r < 0)
    try:
        return ctypes.string_at(ptr, n)
    finally:
        lib._lib.c2pa_free(ptr)


def placeholder(builder, fmt):
    """Make ``builder``'s placeholder (fixes the manifest and adds the BMFF hash assertion);
    :func:`sign_append` does it unless told it was done."""
    return _composed(builder, _embed()._lib.c2pa_builder_placeholder, fmt, "C2PA placeholder")


def merkle_available():
    """Whether the movie's sample data can be hashed as it is written (:func:`hash_mdat`)."""
    lib = _embed()
    if lib is None or not all(hasattr(lib._lib, n) for n in _MERKLE_FUNCS):
        return False
    f = lib._lib.c2pa_builder_set_fixed_size_merkle
    f.argtypes, f.restype = [ctypes.c_void_p, ctypes.c_size_t], ctypes.c_int
    f = lib._lib.c2pa_builder_hash_mdat_bytes
    f.argtypes, f.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_bool], ctypes.c_int
    return True


def set_merkle_leaf(builder, leaf_kb):
    """Hash the movie's ``mdat`` as a Merkle tree of ``leaf_kb`` KB leaves (after
    :func:`placeholder`, before the first :func:`hash_mdat`)."""
    lib = _embed()
    lib._check_ffi_operation_result(lib._lib.c2pa_builder_set_fixed_size_merkle(builder._handle, int(leaf_kb)),
                                    "C2PA Merkle leaves: {}", check=lambda r: r != 0)


def hash_mdat(builder, data):
    """Feed the next bytes of the movie's (only) ``mdat`` payload, in file order."""
    lib = _embed()
    lib._check_ffi_operation_result(lib._lib.c2pa_builder_hash_mdat_bytes(builder._handle, 0, data, len(data), False),
                                    "C2PA mdat hash: {}", check=lambda r: r != 0)


def sign_append(builder, fmt, path, placeholder_made=False):
    """Sign ``builder``'s manifest (its Context holds the signer) for the movie ``path`` and
    append it as a top-level ``uuid`` box; returns the bytes appended. The file is unchanged on
    any failure. Check :func:`append_refusal` first. ``placeholder_made``: :func:`placeholder`
    was called already (and the ``mdat`` fed to :func:`hash_mdat`: it is then not read here)."""
    lib = _embed()
    ll = lib._lib
    fmt_b = fmt.encode("ascii")
    check = lib._check_ffi_operation_result
    hold = getattr(builder, "_exclusive_native_call", None)
    fd = _open(path, os.O_RDWR)
    stream = fobj = None
    try:
        size0 = os.fstat(fd).st_size
        with (hold() if hold is not None else contextlib.nullcontext()):
            if not placeholder_made:
                placeholder(builder, fmt)
            nat = _native() if native_available() else None
            if nat is not None:
                stream = _FdStream(nat, fd)
                handle = stream._stream
            else:
                fobj = os.fdopen(os.dup(fd), "rb")
                stream = lib.Stream(fobj)
                handle = stream._stream
            os.lseek(fd, 0, os.SEEK_SET)
            check(ll.c2pa_builder_update_hash_from_stream(builder._handle, fmt_b, ctypes.cast(handle, ctypes.c_void_p)),
                  "C2PA hash: {}", check=lambda r: r != 0)
            box = _composed(builder, ll.c2pa_builder_sign_embeddable, fmt, "C2PA signing")
        # one whole top-level box (a Merkle tree of the mdat makes it larger than the placeholder)
        if len(box) < 24 or int.from_bytes(box[:4], "big") != len(box) or box[4:8] != b"uuid" \
                or box[8:24] != C2PA_UUID:
            raise lib.C2paError("the signed manifest is not one C2PA box")
        try:
            # the body first, the 8-byte header last: until that one small write lands, the file
            # ends in a box of size 0 ("to the end of the file", legal for the last box) of an
            # unknown type, which players skip, never in a box longer than the file
            _pwrite_all(fd, box[8:], size0 + 8)
            _pwrite_all(fd, box[:8], size0)
        except BaseException:
            os.ftruncate(fd, size0)
            raise
        return len(box)
    finally:
        if stream is not None:
            stream.close()
        if fobj is not None:
            fobj.close()
        os.close(fd)


def _pwrite_all(fd, data, offset):
    done = 0
    while done < len(data):
        done += fsutil.pwrite(fd, data[done:], offset + done)


def _renameat2():
    if "renameat2" not in _state:
        f = None
        if sys.platform.startswith("linux"):
            try:
                f = ctypes.CDLL(None, use_errno=True).renameat2
                f.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
                f.restype = ctypes.c_int
            except (OSError, AttributeError):
                f = None
        _state["renameat2"] = f
    return _state["renameat2"]


def replace(tmp, out):
    """Put the complete file ``tmp`` at ``out`` atomically; ``tmp`` no longer exists after.

    Where ``out`` is a regular file and the system can (Linux ``renameat2``), the names are
    exchanged and the old file is then removed; otherwise ``os.replace``."""
    f = _renameat2()
    if f is not None:
        try:
            regular = stat.S_ISREG(os.lstat(out).st_mode)
        except OSError:
            regular = False
        if regular and f(_AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(out), _RENAME_EXCHANGE) == 0:
            try:
                os.unlink(tmp)  # the old file, now under the temporary name
            except FileNotFoundError:
                pass
            return
    os.replace(tmp, out)
