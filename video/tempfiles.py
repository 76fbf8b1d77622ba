# SPDX-License-Identifier: GPL-3.0-or-later
"""The hidden temporaries of the movie and frame-folder writers (``.NAME.reenact-XXXXXXXX.tmp``
beside the output): their names, a movie's held by its writer while it is written, and those
of writers killed outright (kill -9, a power cut, an out-of-memory kill) removed by the next
writer of the same output, one line each on stderr (docs/errors.md). Before 2026-12-06 such a
temporary (a movie's size, gigabytes) stayed for good, however often the command ran again."""

import os
import secrets
import sys
import weakref

from ..fsutil import hidden_name, hold, remove_stale_temporaries

#: a temporary unwritten this long (seconds) and held by no live writer was left by a killed one
STALE_SECONDS = 60.0


def temp_sibling(path: str, suffix: str) -> str:
    """A unique hidden name beside ``path``: ``.NAME.reenact-XXXXXXXX<suffix>``."""
    d, base = os.path.split(path)
    return os.path.join(d, hidden_name(base, f".reenact-{secrets.token_hex(4)}{suffix}"))


def remove_stale(path, stream=None):
    """Remove the movie temporaries of ``path`` left by killed writers (the writer's ``.tmp``
    and a signature's ``.reenact-XXXXXXXX<ext>``, and :func:`~reenact.fsutil.atomic_path`'s):
    older than :data:`STALE_SECONDS` and held by no live writer; one line each on ``stream``
    (default stderr). Returns the names removed."""
    ext = os.path.splitext(os.fspath(path))[1]
    removed = (remove_stale_temporaries(path, STALE_SECONDS, "reenact-", (".tmp",) + ((ext,) if ext else ()))
               + remove_stale_temporaries(path, STALE_SECONDS))
    for name in removed:
        print("reenact: removed {}: a temporary file left by a run killed while writing {}".format(
            name, os.path.basename(os.fspath(path))), file=stream or sys.stderr, flush=True)
    return removed


def movie_temporary(path, writer):
    """The temporary ``writer`` (a movie writer) writes ``path`` to: the stale ones of killed
    writers removed first (:func:`remove_stale`), then a new name, created empty and held (a
    lock another process's :func:`remove_stale` respects) for as long as ``writer`` lives."""
    remove_stale(path)
    for _ in range(100):
        tmp = temp_sibling(path, ".tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # (FFmpeg's mode)
        except FileExistsError:
            continue
        except OSError:  # (a folder that takes no file: the writer's own opening says so)
            return tmp
        except BaseException:  # Ctrl-C or SIGTERM as it is created: the writer never knew its name
            _discard(tmp)
            raise
        try:
            fd = hold(tmp)
            if fd is not None:
                weakref.finalize(writer, os.close, fd)
        except BaseException:
            _discard(tmp)
            raise
        return tmp
    return temp_sibling(path, ".tmp")


def _discard(path):
    try:
        os.remove(path)
    except OSError:
        pass
