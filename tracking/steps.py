# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a tracked face steps: jump cuts and stuttering footage (numpy only).

A jump cut (an interview with a stretch taken out: same camera, same room, the actor elsewhere
in the frame) changes too little of the frame for :mod:`reenact.video.cuts` to call it a cut,
but the face moves in one frame by what it otherwise moves in ten. Measured on six such cuts
made from shared clips (30 frames taken out where the head moves): the tracker followed the
jump from the last frame's face (its crop 14 % of a face off: landmarks 2-4 px off on the
jump's frame) and the temporal filter then spread the step over the frames either side (3-6 px
off over five frames, the shot tracked alone for reference). Footage converted from another
frame rate does the same on a smaller scale: a repeated frame, then a double step (driving_d12
seven times in 183 frames).

Two uses:

- while tracking, :func:`stepped` tells the tracker that the face has just moved by a step, so
  the frame is looked at afresh (a detection, as at a cut) instead of from the last frame's face;
- after tracking, :func:`face_steps` gives the rows the temporal filter must not smooth across
  (every step) and the rows that begin a new shot (a step far above every neighbour's motion: a
  jump cut, not a stutter). A stutter's double step is at most about twice its neighbours'
  largest motion (<= 1.9x on driving_d12); the six jump cuts read 3.0-64x (and driving_d20's
  first frame, a frame of another framing left at the start of the clip: 10x).

Motion is the median over the mesh points of their displacement from the row before, in face
sizes (eye-corner distance), so one point's noise or a blink does not count.
"""

import numpy as np

from ..face.geometry import iod_px

#: a step moves the face by at least this many face sizes in one frame ...
STEP_FACES = 0.1
#: ... and by this many times the median motion of its neighbours (+ STEP_FLOOR)
STEP_RATIO = 4.0
STEP_FLOOR = 0.01
#: a step is a jump cut when it is also this many times every neighbour's motion
JUMP_RATIO = 2.5
#: frames either side whose motion is a step's neighbourhood
NEIGHBOURS = 6
#: mesh points (the iris points after them are left out)
MESH_POINTS = 468


def motion(before, after, points=slice(0, MESH_POINTS)):
    """Median displacement of the mesh ``points`` from ``before`` to ``after`` ((..., >=468,
    >=2) landmarks of one face), in face sizes of ``after``; NaN where either is untracked."""
    d = np.linalg.norm(np.asarray(after, np.float64)[..., points, :2]
                       - np.asarray(before, np.float64)[..., points, :2], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.median(d, axis=-1) / iod_px(after)


def stepped(m, recent):
    """Whether a face that moved ``m`` face sizes since the frame before, after moving
    ``recent`` (the frames before, latest last) in the frames before that, has stepped: the
    tracker's test, which can only look back."""
    if not np.isfinite(m) or m < STEP_FACES:
        return False
    near = np.asarray(recent[-NEIGHBOURS:], np.float64)
    near = near[np.isfinite(near)]
    return bool(m >= STEP_RATIO * ((float(np.median(near)) if len(near) else 0.0) + STEP_FLOOR))


def face_steps(landmarks):
    """(breaks, jumps): int64 rows of ``landmarks`` (T, 478, >=2; NaN rows untracked) where the
    face steps (never smoothed across) and the subset that are jump cuts (new shots). A row the
    face leaves and comes back to at once (one frame's tracking error) is not a step."""
    x = np.asarray(landmarks, np.float64)
    T = len(x)
    m = np.full(T, np.nan)
    if T > 1:
        m[1:] = motion(x[:-1], x[1:])
    back = np.full(T, np.nan)  # back[j]: how far row j + 1 is from row j - 1
    if T > 2:
        back[1:-1] = motion(x[:-2], x[2:])
    breaks, jumps = [], []
    for j in np.flatnonzero(np.nan_to_num(m) >= STEP_FACES):
        near = np.concatenate([m[max(1, j - NEIGHBOURS):j], m[j + 1:j + 1 + NEIGHBOURS]])
        near = near[np.isfinite(near)]
        level = float(np.median(near)) if len(near) else 0.0
        if m[j] < STEP_RATIO * (level + STEP_FLOOR):
            continue
        if any(np.isfinite(b) and b < 0.5 * m[j] for b in (back[j], back[j - 1] if j >= 2 else np.nan)):
            continue  # there and back (row j, or row j - 1): an outlier row, which the filter smooths
        breaks.append(int(j))
        if not len(near) or m[j] >= JUMP_RATIO * float(near.max()):
            jumps.append(int(j))
    return np.asarray(breaks, np.int64), np.asarray(jumps, np.int64)
