# SPDX-License-Identifier: GPL-3.0-or-later
"""The shot's background plate (:func:`~.motion.shot_plate`), kept between calls.

Region ``head`` needs the room behind the actor (where a moved head uncovers it): a plate made
from 31 frames of the shot, their actor masked out, the room no frame shows completed from the
room they do (:func:`~.inpaint.complete_plate`). It depends on the footage and the footage's own
Track only, not on the performance, and takes 1.5–10 s per shot (8.7 s at 1080x1920). Each
render made it again: every re-render of an edited performance, every chunk of a farm job, and a
Blender Render Performance after Preview Frame had made it already. It is now kept in memory
(the last one: plates are frame-sized) and in the render's cache folder as
``plate_<digest>.npz`` (beside the reference pool's ``pool_<digest>.npz``), written under a
unique temporary name and renamed when complete, so chunks of one job that make it at once do
not read each other's half-written file. The plate is a function of its inputs (the completion
is seeded), so a plate read back draws exactly what a plate made again would.
"""

import hashlib
import os
import threading
import zipfile
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import replace

import numpy as np

from ..fsutil import write_atomic
from ..video import open_video
from ..video.bars import is_whole, shot_picture_area
from .cache import geometry_digest, performance_digest, source_identity
from .head import MovingPlate
from .motion import COMPLETE_ROOM, MOTION_VERSION, shot_plate

#: changes with the layout of the stored file
PLATE_FORMAT = 1
#: stored plates' names in the cache folder: this prefix, the digest, ``.npz``
PLATE_PREFIX = "plate_"

_MEMORY = {}


def plate_digest(video, own):
    """Hash of what decides a shot's plate: the footage, the footage's own Track (its geometry
    and every row), the head warp's version (:data:`~.motion.MOTION_VERSION`)."""
    text = "{}|{}|{}|{}|{}|{}|{}|{}".format(PLATE_FORMAT, MOTION_VERSION, COMPLETE_ROOM, source_identity(video),
                                            geometry_digest(own), performance_digest(own), int(own.frame_start),
                                            np.flatnonzero(np.asarray(own.shot_start, bool)).tolist())
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _save(path, plate):
    arrays = dict(format=np.int64(PLATE_FORMAT), plate=plate[0], known=plate[1],
                  area=np.asarray(plate[2] if plate[2] is not None else [], np.int64))
    if len(plate) > 3:  # a moving camera: the canvas and the frame whose plate came with it
        m = plate[3]
        arrays.update(canvas=m.canvas, canvas_known=m.canvas_known, origin=m.origin, rows=m.rows,
                      offsets=m.offsets, shape=np.asarray(m.shape, np.int64))
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        if int(z["format"]) != PLATE_FORMAT:
            raise ValueError("{}: a plate of another format".format(os.path.basename(path)))
        area = tuple(int(v) for v in z["area"]) or None
        plate = (np.array(z["plate"]), np.array(z["known"]), area)
        if "canvas" in z.files:
            m = MovingPlate(np.array(z["canvas"]), np.array(z["canvas_known"]), z["origin"], z["rows"],
                            z["offsets"], tuple(int(v) for v in z["shape"]))
            plate += (m,)
    return plate


def stored_plate(video, own, cache_dir=None, source=None, progress=None):
    """:func:`~.motion.shot_plate` of the footage ``video`` (a path or a list of images) for its
    own Track ``own``: the last one made in this process when it is the same, else the one in
    ``cache_dir`` (when given), else made (from ``source``, an open VideoSource of ``video``,
    when the caller has one) and stored there. A stored plate that cannot be read is made again;
    a cache folder that cannot be written to is left as it is (the render does not need it).
    ``progress``: :func:`~.motion.shot_plate`'s, while a plate is made."""
    key = plate_digest(video, own)
    if key in _MEMORY:
        return _MEMORY[key]
    shots = own.shots()
    if shots[-1:].any():  # an edited scene: each shot's room from its own frames (ShotsPlate)
        parts = [stored_plate(video, only_shot(own, shots, k), cache_dir, source, progress)
                 for k in range(int(shots[-1]) + 1)]
        plate = None if any(p is None for p in parts) else (*parts[0][:3], ShotsPlate(parts, shots, own.frame_start))
        _MEMORY.clear()
        _MEMORY[key] = plate
        return plate
    path = os.path.join(cache_dir, PLATE_PREFIX + key + ".npz") if cache_dir else None
    plate = None
    if path and os.path.isfile(path):
        try:
            plate = _load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged, another format: made again
            plate = None
    if plate is None:
        if source is None:
            with open_video(video) as src:
                plate = shot_plate(src, own, progress=progress)
        else:
            plate = shot_plate(source, own, progress=progress)
        if path and plate is not None:
            try:
                os.makedirs(cache_dir, exist_ok=True)
                _save(path, plate)
            except OSError:
                pass
    if plate is not None:  # shared by every render and preview of the shot: nobody may draw on it
        for a in list(plate[:2]) + ([plate[3].canvas, plate[3].canvas_known] if len(plate) > 3 else []):
            a.setflags(write=False)
    _MEMORY.clear()  # one shot at a time: plates are frame-sized
    _MEMORY[key] = plate
    return plate


def only_shot(own, shots, k):
    """``own`` with only the rows of shot ``k`` tracked (and no cuts): what that shot's plate is made of."""
    return replace(own, tracked=np.asarray(own.tracked, bool) & (shots == k), shot_start=np.zeros(0, bool))


class ShotsPlate:
    """The plates of a footage's shots (:func:`stored_plate` of each, :func:`only_shot`) as one
    moving plate: ``at(n)`` -> (plate, known) of clip frame ``n`` from its own shot's plate (a
    moving camera's own frame there, else the shot's plate)."""

    def __init__(self, parts, shots, frame_start):
        self.parts, self.shots, self.frame_start = list(parts), np.asarray(shots, np.int64), int(frame_start)

    def at(self, n):
        r = min(max(int(round(n)) - self.frame_start, 0), len(self.shots) - 1)
        part = self.parts[int(self.shots[r])]
        return part[3].at(n) if len(part) > 3 else (part[0], part[1])


_AREAS = OrderedDict()
_AREAS_LOCK = threading.Lock()


def footage_area(video, own, source=None):
    """The picture inside the letterbox or pillarbox bars of the footage ``video`` (x0, y0, x1,
    y1; None when there are none), from frames spread over its own Track ``own``'s rows
    (:func:`~reenact.video.bars.shot_picture_area`: every chunk and Preview Frame of a shot sees
    the same box), kept in memory for the last few shots. Regions ``mouth`` and ``face`` (no
    plate, whose own area region ``head`` uses) draw and sample inside it only. ``source``: an
    open VideoSource of ``video`` when the caller has one."""
    if video is None:
        return None
    f0, n = int(own.frame_start), int(own.n_frames)
    key = (source_identity(video), f0, n)
    with _AREAS_LOCK:
        if key in _AREAS:
            return _AREAS[key]
    with open_video(video) if source is None else nullcontext(source) as src:
        area = shot_picture_area(src, f0, f0 + n)
        area = None if is_whole(area, (src.height, src.width)) else tuple(int(v) for v in area)
    with _AREAS_LOCK:
        while len(_AREAS) >= 8:
            _AREAS.popitem(last=False)
        _AREAS[key] = area
    return area
