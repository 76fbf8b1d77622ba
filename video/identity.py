# SPDX-License-Identifier: GPL-3.0-or-later
"""What identifies a clip, and the check that a Track belongs to the footage it meets.

:func:`footage_id` gives the clip's frame size, frame count, exact frame rate and ``digest``:
a SHA-256 over those and the decoded pixels of a handful of frames spread over the clip
(:func:`sample_indices`: keyframes where a movie has enough), so it costs a few seeks, not a
decode of the clip.
The tracker records the digest in the Track (``source_digest``, docs/track-format.md);
:func:`check_footage` compares a Track with the footage wherever the two meet (render, train,
Blender) and raises one line naming both files and what differs. See docs/errors.md.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import ReenactError
from .source import DEFAULT_SEQUENCE_FPS

#: how many frames the digest hashes (spread evenly over the clip)
SAMPLES = 5
#: a movie's samples move to the keyframe at or before each when that still gives this many
MIN_KEYFRAMES = 3
DIGEST_VERSION = "reenact-footage-1"
#: the command-line flag that accepts a re-encoded copy (named in the error line)
ACCEPT_FLAG = "--accept-footage"


class FootageMismatch(ReenactError):
    """A Track meets footage it was not made from (one line naming both files)."""


@dataclass(frozen=True)
class FootageId:
    """What identifies a clip: ``label`` (path as given), size, frame count, exact rate, digest."""

    label: str
    width: int
    height: int
    frames: int
    rate: str  # exact, "30000/1001"
    digest: str  # sha256 hex
    sequence: bool = False  # image files: their rate is the one they are played at, not theirs

    @property
    def fps(self):
        num, _, den = self.rate.partition("/")
        return float(num) / float(den or 1)

    def describe(self):
        return "{}x{}, {} frames, {:.6g} fps".format(self.width, self.height, self.frames, self.fps)


def sample_indices(n, k=SAMPLES, keys=None):
    """The clip frames the digest hashes: ``k`` spread evenly over ``n`` (first and last
    included); with ``keys`` (a movie's keyframe indices) the keyframe at or before each, when
    that gives at least :data:`MIN_KEYFRAMES` different frames (a keyframe decodes on its own,
    so a long clip costs a few seeks, not a decode of whole groups of pictures)."""
    n = int(n)
    if n <= 0:
        return []
    targets = sorted({int(v) for v in np.round(np.linspace(0, n - 1, min(int(k), n)))})
    if keys:
        keys = np.asarray(sorted(int(v) for v in keys if 0 <= int(v) < n))
        if len(keys) and keys[0] == 0:
            picked = sorted({int(keys[np.searchsorted(keys, t, side="right") - 1]) for t in targets})
            if len(picked) >= min(MIN_KEYFRAMES, len(targets)):
                return picked
    return targets


def footage_label(video):
    """How a line names footage: its file, or a list of images by their folder."""
    if isinstance(video, (list, tuple)):
        return os.path.dirname(os.fspath(video[0])) if video else "<empty list>"
    return os.fspath(getattr(video, "path", video))


def _stat_key(video):
    """(paths, sizes, mtimes) of the footage files: the memo key (None when they cannot be read)."""
    paths = list(video) if isinstance(video, (list, tuple)) else [video]
    key = []
    for p in paths:
        p = os.path.abspath(os.fspath(p))
        try:
            st = os.stat(p)
        except OSError:
            return None
        if os.path.isdir(p):  # a folder of images: its listing and its files
            names = sorted(os.listdir(p))
            key.append((p, tuple(names), st.st_mtime_ns))
            for n in names:
                try:
                    s = os.stat(os.path.join(p, n))
                    key.append((n, s.st_size, s.st_mtime_ns))
                except OSError:
                    pass
        else:
            key.append((p, st.st_size, st.st_mtime_ns))
    return tuple(key)


def digest_of(src, k=SAMPLES):
    """The digest of an open :class:`~reenact.video.VideoSource` (see the module doc)."""
    h = hashlib.sha256()
    # (images have no rate: a sequence is hashed at the default it had before Tracks recorded the
    # rate it plays at, so its digest is the same whatever rate it is opened at)
    rate = Fraction(DEFAULT_SEQUENCE_FPS) if getattr(src, "kind", "") == "sequence" else src.rate
    h.update("{}|{}x{}|{}|{}".format(DIGEST_VERSION, src.size[0], src.size[1], src.frame_count,
                                     _rate_text(rate)).encode())
    idx = sample_indices(src.frame_count, k, getattr(src, "keyframe_indices", None))
    if hasattr(src, "iter_decoded"):  # a movie: the decoder's own samples (no RGB rounding)
        frames = src.iter_decoded(idx)
    else:
        frames = ((i, src.read(i)) for i in idx)
    for i, frame in frames:
        h.update("|{}|".format(i).encode())
        if frame is None:
            h.update(b"missing")
        else:
            h.update(frame if isinstance(frame, bytes) else np.ascontiguousarray(frame).tobytes())
    return h.hexdigest()


def _rate_text(rate):
    return "{}/{}".format(rate.numerator, rate.denominator)


_MEMO = OrderedDict()
_LOCK = threading.Lock()


def footage_id(video):
    """The :class:`FootageId` of ``video`` (a path, pattern, list of images or an open
    VideoSource); memoised by the files' paths, sizes and modification times."""
    from .decode import open_video

    if hasattr(video, "frame_count") and hasattr(video, "read"):  # an open source
        return FootageId(footage_label(video), int(video.size[0]), int(video.size[1]), int(video.frame_count),
                         _rate_text(video.rate), digest_of(video), getattr(video, "kind", "") == "sequence")
    key = _stat_key(video)
    if key is not None:
        with _LOCK:
            hit = _MEMO.get(key)
            if hit is not None:
                _MEMO.move_to_end(key)
                return hit
    with open_video(video, allow_gaps=True) as src:
        fid = FootageId(footage_label(video), int(src.size[0]), int(src.size[1]), int(src.frame_count),
                        _rate_text(src.rate), digest_of(src), src.kind == "sequence")
    if key is not None:
        with _LOCK:
            _MEMO[key] = fid
            while len(_MEMO) > 16:
                _MEMO.popitem(last=False)
    return fid


def _track_describe(track):
    return "{}x{}, {} frames, {:.6g} fps".format(int(track.size[0]), int(track.size[1]), int(track.source_frames),
                                                  float(track.fps))


def check_footage(track, video, accept=False, track_label=None, accept_hint=ACCEPT_FLAG):
    """Raise :class:`FootageMismatch` unless ``track`` was made from ``video``; returns a list
    of warnings (a Track without ``source_digest``: only size and frame count can be checked).

    Size and frame count must always match. The frame rate and the pixels (the digest) must
    match unless ``accept`` (a re-encoded copy of the same shot; ``accept_hint`` names the
    option that sets it in the error line). ``track_label``: the Track's file for the message."""
    fid = footage_id(video)
    name = track_label or "Track"
    src_name = str(getattr(track, "source", "") or "?")
    intro = "made from '{}' ({}), not from {} ({})".format(src_name, _track_describe(track), fid.label,
                                                           fid.describe())
    size = (int(track.size[0]), int(track.size[1]))
    if size != (fid.width, fid.height):
        raise FootageMismatch("{}: the frame size differs".format(intro), name)
    if int(track.source_frames) != fid.frames:
        raise FootageMismatch("{}: the frame count differs".format(intro), name)
    digest = str(getattr(track, "source_digest", "") or "")
    if not digest:
        return ["{}: made before Tracks recorded their footage: size and frame count match {}, the "
                "pixels cannot be checked (track it again to record them)".format(name, fid.label)]
    if accept:
        return []
    if not fid.sequence and abs(float(track.fps) - fid.fps) > 1e-6 * max(1.0, fid.fps):  # (images: any rate)
        raise FootageMismatch("{}: the frame rate differs (for a re-encoded copy of the same shot use "
                              "{})".format(intro, accept_hint), name)
    if digest != fid.digest:
        raise FootageMismatch("{}: the pixels differ: another clip of the same size and length, or a "
                              "re-encode (for a re-encoded copy of the same shot use {})".format(intro, accept_hint),
                              name)
    return []
