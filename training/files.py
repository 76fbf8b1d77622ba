# SPDX-License-Identifier: GPL-3.0-or-later
"""Torch files of the project (weights, checkpoints): written whole or not at all, read without
pickles, and a file that is not one of ours (or is damaged) is one clear line, never torch's
own advice to load it unsafely.
"""

import io
import os
import time

from ..errors import ReenactError
from ..fsutil import write_bytes


def save_torch(obj, path):
    """``torch.save(obj)`` into ``path`` atomically: serialised in memory, then written under a
    unique temporary name that is renamed when complete and removed on any failure (a full disk
    raises the OSError, never a half-written file or torch's internal message)."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes(path, buf.getbuffer())


def load_torch(path, keys=(), what="checkpoint"):
    """A dict saved by :func:`save_torch` (``weights_only``: tensors and plain containers only),
    holding ``keys``. Raises :class:`ReenactError` naming the file when it cannot be read, holds
    anything else or lacks a key: "not a Reenact <what>"."""
    import torch

    name = os.path.basename(os.fspath(path))
    try:  # read here, so that an OSError is the disk's: torch's own for a truncated file (EINVAL
        with open(path, "rb") as fh:  # from a seek) read "cannot read: Invalid argument" before 2026-12-06
            raw = fh.read()
    except FileNotFoundError:
        raise ReenactError("no such file", path=name) from None
    except OSError as exc:
        raise ReenactError("cannot read: {}".format(exc.strerror or exc), path=name) from None
    try:
        d = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception:  # truncated zip, another program's pickle, random bytes: never torch's advice
        raise ReenactError("not a Reenact {} (damaged, or written by another program)".format(what),
                           path=name) from None
    missing = [k for k in keys if not isinstance(d, dict) or k not in d]
    if missing:
        raise ReenactError("not a Reenact {} (no {})".format(what, ", ".join(missing)), path=name)
    return d


def load_checkpoint(path, keys, log):
    """The training checkpoint at ``path`` to resume from, or None to start fresh. A checkpoint
    that cannot be read (a damaged or truncated file: a crash or a full disk in another program)
    is moved aside to ``<path>.damaged-<time>`` with one logged line, so it never blocks later
    runs and nothing is deleted."""
    try:
        return load_torch(path, keys)
    except ReenactError as exc:
        aside = "{}.damaged-{}".format(path, time.strftime("%Y%m%d-%H%M%S"))
        try:
            os.replace(path, aside)
        except OSError as err:
            raise ReenactError("{}; it could not be moved aside ({}): remove it or pass --no-resume".format(
                exc.problem, err.strerror or err), path=path) from None
        log("warning: {}: {}; moved aside to {}, starting fresh".format(path, exc.problem, os.path.basename(aside)))
        return None
