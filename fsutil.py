# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing files so that nothing half-written is ever left behind, and checking a destination
before long work starts.

Every file the project writes goes through :func:`write_atomic` (or :func:`atomic_path` for a
library that wants a path): a unique temporary name in the destination's folder
(``.NAME.XXXXXXXX.tmp``), renamed over the destination when complete, removed on every failure
path (an exception, Ctrl-C, and SIGTERM once the CLI has turned it into a cancellation). The
file ends with the permissions of any other new file (``mode`` less the umask).
"""

import errno
import os
import secrets
import tempfile
from contextlib import contextmanager

from .errors import ReenactError


#: the longest file name most file systems take, in bytes
NAME_MAX = 255


def hidden_name(name, tag):
    """``.NAME<tag>`` (``tag`` holding its random part): the hidden temporary of ``name`` beside
    it, ``name`` shortened (never by half a character) so that the whole stays within
    :data:`NAME_MAX` bytes; before 2026-12-06 a legal 240-byte movie name was refused, "File name
    too long", for its temporary's (a review of disk failures)."""
    room = NAME_MAX - len(("." + tag).encode("utf-8", "surrogateescape"))
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > room:
        name = raw[:room].decode("utf-8", "ignore")
    return "." + name + tag


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _discard(path):
    """Remove ``path`` on a failure path: never an error, the one being raised is the one to
    report (before 2026-12-06 a file system turned read-only mid-render read
    ".frame_000017.png.03888fcb.tmp: cannot write: Read-only file system", the removal's own
    error naming the temporary in place of the frame's)."""
    try:
        os.remove(path)
    except OSError:
        pass


@contextmanager
def atomic_path(path, mode=0o644):
    """``with atomic_path(path) as tmp: write(tmp)``: ``tmp`` is a unique empty file in the
    folder of ``path``; when the block ends normally it gets ``mode`` (less the umask) and is
    renamed to ``path``; on any failure it is removed and ``path`` is left as it was."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    tmp = None
    try:
        # the name is known before the file exists, so a Ctrl-C or SIGTERM that lands while it
        # is being created (the signal is raised as the call returns) still removes it
        # (``tempfile.mkstemp`` returned the name only after creating the file: a cancellation
        # in between left it behind, seen once in a SIGTERM test on a loaded machine)
        for _ in range(100):
            tmp = os.path.join(folder, hidden_name(name, ".{}.tmp".format(secrets.token_hex(4))))
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                break
            except FileExistsError:
                tmp = None
        else:
            raise FileExistsError(errno.EEXIST, "no unique temporary name", folder)
        yield tmp
        os.chmod(tmp, mode & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            _discard(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):
            exc.filename = path  # the message names the file being written, not its temporary name
        raise


class _Output:
    """The temporary file as ``write`` sees it. Once a write has failed or the file is closed,
    calls only move a virtual position: a library whose write failed half-way (zipfile under
    ``np.savez``) finishes in its finaliser later, and must not print a traceback after the one
    clear line (the temporary file is removed anyway)."""

    def __init__(self, fh):
        self._fh = fh
        self._pos = None  # the virtual position once the file is out of use

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def _dead(self):
        if self._pos is None and self._fh.closed:
            self._pos = 0
        return self._pos is not None

    def write(self, data):
        if not self._dead():
            try:
                return self._fh.write(data)
            except OSError:
                try:
                    self._pos = self._fh.tell()
                except (OSError, ValueError):
                    self._pos = 0
                raise
        n = memoryview(data).nbytes
        self._pos += n
        return n

    def seek(self, offset, whence=0):
        if not self._dead():
            return self._fh.seek(offset, whence)
        self._pos = offset if whence == 0 else self._pos + offset if whence == 1 else self._pos
        return self._pos

    def tell(self):
        return self._pos if self._dead() else self._fh.tell()

    def flush(self):
        if not self._dead():
            self._fh.flush()


def write_atomic(path, write, mode=0o644):
    """Create ``path`` through ``write(fileobj)``: the bytes go to a unique temporary name in the
    same folder, which is renamed to ``path`` when complete (readable like any other file:
    ``mode`` before the umask) and removed on any failure. Returns ``path``."""
    with atomic_path(path, mode) as tmp:
        with open(tmp, "wb") as fh:
            write(_Output(fh))
    return os.fspath(path)


def write_bytes(path, data, mode=0o644):
    """:func:`write_atomic` of ``data`` (bytes or a buffer)."""
    return write_atomic(path, lambda fh: fh.write(data), mode)


#: the random part of a temporary's name (:func:`atomic_path`): ``.NAME.<8 hex>.tmp``
_TMP_TAG = ".00000000.tmp"


def remove_stale_temporaries(path, older_than=60.0, tag="", suffixes=(".tmp",)):
    """Remove the hidden temporaries :func:`atomic_path` made for ``path`` (``.NAME.XXXXXXXX.tmp``
    beside it) that were last written more than ``older_than`` seconds ago: left by a writer that
    was killed outright (kill -9, a power cut), which no ``finally`` removes. A live writer's
    temporary is younger: it is written in one go and renamed. Returns the names removed; a
    file that cannot be removed is left (never an error). Before 2026-12-06 a training run
    killed while saving its checkpoint left a 20-30 MB ``.MODEL.ckpt.pt.<hex>.tmp`` for good.
    ``tag`` and ``suffixes``: another writer's names, ``.NAME.<tag>XXXXXXXX<suffix>`` (the movie
    writer's ``.NAME.reenact-XXXXXXXX.tmp``); a file a live writer holds locked (:func:`held`)
    is left whatever its age."""
    import re
    import time

    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    patterns = []
    for suffix in suffixes:
        probe = ".{}00000000{}".format(tag, suffix)
        stem = hidden_name(name, probe)[:-len(probe)]
        patterns.append(re.compile(re.escape(stem + "." + tag) + r"[0-9a-f]{8}" + re.escape(suffix) + r"\Z"))
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    removed, now = [], time.time()
    for entry in entries:
        if not any(p.match(entry) for p in patterns):
            continue
        full = os.path.join(folder, entry)
        try:
            if (os.path.isfile(full) and not os.path.islink(full) and now - os.stat(full).st_mtime > older_than
                    and not held(full)):
                os.remove(full)
                removed.append(entry)
        except OSError:
            pass
    return removed


def _try_lock(path):
    """(descriptor holding ``path`` locked, or None; whether another process holds it): no lock
    where there are no such locks (Windows) or the file cannot be opened."""
    try:
        import fcntl
    except ImportError:
        return None, False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None, False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        return None, isinstance(exc, BlockingIOError)
    return fd, False


def hold(path):
    """Lock the file ``path`` for as long as the returned descriptor is open (close it to let
    go): :func:`remove_stale_temporaries` in another process leaves it however long it goes
    unwritten. None where there are no such locks (Windows) or the file cannot be opened."""
    return _try_lock(path)[0]


def held(path):
    """Whether a live process holds ``path`` locked (:func:`hold`)."""
    fd, busy = _try_lock(path)
    if fd is not None:
        os.close(fd)  # (the lock taken here goes with it)
    return busy


# ----------------------------------------------------------------------------- before the work
class Aside:
    """The file at ``path`` kept under a unique hidden name beside it (a hard link, else moved
    there; never copied, and never an error) while steps that write ``path`` anew run: a movie
    renamed into place, then signed in place. If they fail after the rename (a full disk while
    signing), :meth:`put_back` restores the file
    that was there, or removes the new one where there was none; once they succeed, :meth:`drop`
    removes the hidden name (before 2026-12-06 a full disk while signing left an unsigned new
    movie in place of the earlier, signed one: a review). A failure before the rename into place
    (a full disk while the movie is finished, Ctrl-C) leaves the earlier file where it was and
    removes the hidden name: before 2026-12-06 a ``.NAME.XXXXXXXX.old`` stayed for good (renaming
    one hard link over another of the same file does nothing)."""

    def __init__(self, path):
        self.path, self.aside = os.fspath(path), None
        self.existed = os.path.isfile(self.path)
        if not self.existed:
            return
        folder, name = os.path.split(os.path.abspath(self.path))
        aside = os.path.join(folder, hidden_name(name, ".{}.old".format(secrets.token_hex(4))))
        for keep in (os.link, os.rename):  # (no hard links here: moved aside, never copied; neither: unkept)
            try:
                keep(self.path, aside)
            except OSError:
                continue
            self.aside = aside
            break

    def put_back(self):
        """(On a failure path: never an error, the one being raised is the one to report.)"""
        if self.aside is not None:
            try:
                same = os.path.samefile(self.aside, self.path)
            except OSError:  # (no file at ``path``: the new one never got there)
                same = False
            try:
                if same:  # a hard link to the file still in place (failed before the rename into place)
                    os.remove(self.aside)  # (renaming a name over another link of its own file does nothing)
                else:
                    os.replace(self.aside, self.path)
            except OSError:
                pass
            self.aside = None
        elif not self.existed:
            _discard(self.path)

    def drop(self):
        if self.aside is not None:
            _remove(self.aside)
            self.aside = None


@contextmanager
def kept_aside(path, keep=True):
    """The file at ``path`` kept :class:`Aside` (``keep``) while the block writes it anew: put back
    if the block fails, dropped once it succeeds (what render, restyle apply and assemble do
    around closing and signing a movie)."""
    aside = Aside(path) if keep else None
    try:
        yield aside
    except BaseException:
        if aside is not None:
            aside.put_back()
        raise
    if aside is not None:
        aside.drop()


def os_error(exc, path=None, doing="cannot write"):
    """A :class:`ReenactError` (one line naming the file) for an OSError: ``doing``: what failed
    (``"cannot write"``), the system's reason (No space left on device, Read-only file system,
    Permission denied, ...)."""
    where = path if path is not None else (exc.filename or None)
    reason = exc.strerror or str(exc) or errno.errorcode.get(exc.errno, "error")
    return ReenactError("{}: {}".format(doing, reason), path=where)


def _probe(folder, shown):
    """Create and remove a unique file in ``folder``: the only check that is right for root, a
    read-only mount and network file systems alike."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".reenact-probe-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise os_error(exc, shown, "cannot write in this folder") from None
    os.close(fd)
    _remove(tmp)


def refuse_overwriting(out, inputs, option="--out"):
    """Raise :class:`ReenactError` (one line naming ``out``) when writing ``out`` would replace
    what it is made from: ``out`` is one of the files ``inputs`` (a render, restyle or assembly
    written over its own footage: the output replaced the shot, and a later Track check said
    "the pixels differ"), or, as a folder of frames, the folder holding one of them (a plate's
    ``frame_001001.exr`` frames written over by the render's). Call it before any work."""
    if out is None:
        return
    shown = os.fspath(out)
    target = os.path.realpath(shown)
    a_file = os.path.isfile(target)  # (another name of an input: a hard link)
    folders = set()
    for f in inputs:
        if not f:
            continue
        real = os.path.realpath(os.fspath(f))
        if real == target or (a_file and os.path.exists(real) and os.path.samefile(real, target)):
            raise ReenactError("is the footage it is made from; {} wants another file".format(option), path=shown)
        folders.add(os.path.dirname(real))
    if target in folders:
        raise ReenactError("holds the footage it is made from; {} wants another folder".format(option), path=shown)


def check_output_file(path, suffix=None, option="--out"):
    """Raise :class:`ReenactError` (one line naming ``path``) unless a file can be written at
    ``path``: ``suffix`` (e.g. ".npz") when given, not an existing folder, its folder exists and
    accepts new files. Returns ``path``. Call it before long work."""
    p = os.fspath(path)
    if suffix and not p.lower().endswith(suffix):
        raise ReenactError("{} must be a {} file".format(option, suffix), path=p)
    if os.path.isdir(p):
        raise ReenactError("is a folder; {} wants a file name".format(option), path=p)
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        raise ReenactError("output folder does not exist" if not os.path.exists(folder)
                           else "is not a folder", path=folder)
    _probe(folder, folder)
    return p


def check_output_folder(path, allowed=None, option="--out"):
    """Raise :class:`ReenactError` (one line naming ``path``) unless ``path`` can take a folder
    of outputs: not an existing file; an existing folder accepts new files and holds only names
    for which ``allowed(name)`` is true (``None``: anything); a new folder's parent exists and
    accepts new folders. Returns ``path``."""
    p = os.fspath(path)
    if os.path.exists(p) and not os.path.isdir(p):
        raise ReenactError("exists and is not a folder; {} wants a folder here".format(option), path=p)
    if os.path.isdir(p):
        if allowed is not None:
            foreign = sorted(n for n in os.listdir(p) if not allowed(n))
            if foreign:
                raise ReenactError("output folder already holds other files (e.g. {}); choose an empty "
                                   "or new folder".format(foreign[0]), path=p)
        _probe(p, p)
        return p
    parent = os.path.dirname(os.path.abspath(p))
    while not os.path.exists(parent):  # makedirs will create the missing levels
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    if not os.path.isdir(parent):
        raise ReenactError("is not a folder", path=parent)
    _probe(parent, parent)
    return p


# ----------------------------------------------------------------------------- standard output
class CheckedStdout:
    """``sys.stdout`` as the CLI holds it while a command runs (``sys.stdout =
    CheckedStdout(sys.stdout)``): what is written goes out to the last byte, and a write or flush
    that fails raises :func:`stdout_error`'s one line, "cannot write the output (standard output):
    No space left on device". Before 2026-12-06 ``--json > file`` on a full disk exited 0 with
    the JSON cut short where Python writes stdout unbuffered (PYTHONUNBUFFERED: a short write is
    no error to it), or said "cannot write: No space left on device" naming no file, or exited
    120 after "Exception ignored in: <_io.TextIOWrapper name='<stdout>'>" lines."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, text):
        import io

        try:
            raw = getattr(self.stream, "buffer", None)
            if isinstance(raw, io.RawIOBase):  # unbuffered: written here, to the last byte
                self.stream.flush()
                data = memoryview(text.encode(self.stream.encoding or "utf-8", self.stream.errors or "strict"))
                while data:
                    n = raw.write(data)
                    if not n:
                        raise OSError(errno.EAGAIN, "the output takes no more now")
                    data = data[n:]
            else:
                self.stream.write(text)
        except OSError as exc:
            raise stdout_error(exc) from None
        return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except OSError as exc:
            raise stdout_error(exc) from None


def write_stdout(text=""):
    """Write ``text`` to standard output and flush it: every byte, or :func:`stdout_error`'s
    :class:`ReenactError` (one line, for the CLI to print; exit 2). For the results a command
    prints on stdout (a JSON summary)."""
    import sys

    out = sys.stdout
    if out is None:
        return
    out = out if isinstance(out, CheckedStdout) else CheckedStdout(out)
    out.write(text)
    out.flush()


class StdoutClosed(ReenactError):
    """Standard output's reader closed it (``reenact probe … | head -1``): the CLI ends quietly
    with the status of a process a broken pipe ends (141), as coreutils do. Before 2026-12-06
    it printed "cannot write the output (standard output): Broken pipe" (exit 2)."""


def stdout_error(exc):
    """The :class:`ReenactError` of standard output that failed with the OSError ``exc``; stdout
    is pointed at the null device, so that what is still buffered goes nowhere quietly at exit."""
    import sys

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
    if exc.errno == errno.EPIPE:  # the reader is gone (`| head`): said by no line, as other tools do
        return StdoutClosed("standard output closed by its reader")
    return ReenactError("cannot write the output (standard output): {}".format(
        exc.strerror or str(exc) or errno.errorcode.get(exc.errno, "error")))


# ------------------------------------------------------------------------------ positional I/O
#: ``os.open`` flags for binary data: O_BINARY on Windows, where a descriptor is otherwise in
#: text mode (line endings translated, reading stops at 0x1A)
O_BINARY = getattr(os, "O_BINARY", 0)
#: os.pread / os.pwrite are Unix only; elsewhere a seek and a read under one lock
POSITIONAL = hasattr(os, "pread") and hasattr(os, "pwrite")
_SEEK_LOCK = __import__("threading").Lock()


def pread(fd, n, offset):
    """``n`` bytes of ``fd`` from ``offset`` (fewer at its end), on every platform."""
    if POSITIONAL:
        return os.pread(fd, n, offset)
    with _SEEK_LOCK:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, n)


def pwrite(fd, data, offset):
    """Write ``data`` into ``fd`` at ``offset``; returns the bytes written, on every platform."""
    if POSITIONAL:
        return os.pwrite(fd, data, offset)
    with _SEEK_LOCK:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.write(fd, data)


def shell_quote(text):
    """``text`` quoted for the shell a user pastes a suggested command into: POSIX quoting, or
    cmd.exe's on Windows (where single quotes are not quotes)."""
    import shlex
    import subprocess

    return subprocess.list2cmdline([os.fspath(text)]) if os.name == "nt" else shlex.quote(os.fspath(text))


def checked_npz(z, names=None, max_bytes=1 << 31):
    """The arrays ``names`` (default: all) of the open ``np.load`` NpzFile ``z``, each read only
    after its header says it takes at most ``max_bytes`` (ValueError otherwise): a file of a few
    KB may hold a compressed array of gigabytes, which reading would allocate (a zip bomb in a
    Track or a model's pool; before 2026-12-05 every member was read whole first). Members not
    in ``names`` are never read."""
    import numpy as np

    out = {}
    for name in z.files:
        if names is not None and name not in names:
            continue
        with z.zip.open(name + ".npy") as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _fortran, dtype = read(fh)
        n = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if n > max_bytes:
            raise ValueError("its {} array would take {:.3g} GB (shape {}), more than any real one".format(
                name, n / 1e9, "x".join(str(s) for s in shape)))
        out[name] = z[name]
    return out
