# SPDX-License-Identifier: GPL-3.0-or-later
"""File I/O for C2PA signing without Python in the per-chunk loop, and an atomic swap.

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

import ctypes
import os
import stat
import sys

__all__ = ["native_available", "sign", "replace"]

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
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), mode)
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
