# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing files so that nothing half-written is ever left behind."""

import os
import tempfile


def write_atomic(path, write, mode=0o644):
    """Create ``path`` through ``write(fileobj)``: the bytes go to a unique temporary name in the
    same folder, which is renamed to ``path`` when complete (readable like any other file:
    ``mode`` before the umask) and removed on any failure. Returns ``path``."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, mode & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
