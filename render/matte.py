# SPDX-License-Identifier: GPL-3.0-or-later
"""Person matte for full reenactment (region ``head``): which pixels of a frame are the actor
(face, hair, neck, shoulders) and which are the room behind. numpy + OpenCV + onnxruntime.

The network is MediaPipe's selfie segmentation (``models/selfie_segmentation.onnx``, converted
by ``tools/convert_mediapipe.py``; model card in ``models/README.md``): an RGB frame squeezed to
256 x 256, values 0..1, gives the probability of "person" per pixel, upsampled here to the frame.
Region ``head`` uses it to move the head as a layer over the frame's own background
(:func:`reenact.render.head.layer_head`): the wall and shelf beside a turning head stay where
they are instead of being dragged along by the head's motion, and hair that lies where the
room's plate also shows hair moves with the head instead of staying behind (docs/warp.md).
"""

import os
import threading

import cv2
import numpy as np

from ..paths import MODELS_DIR
from .meshes import grow_disc, grown_box, pixels_box

MODEL_PATH = os.path.join(MODELS_DIR, "selfie_segmentation.onnx")
#: the network's input side
SIZE = 256
#: a component of the thresholded matte belongs to the actor when it reaches into the face
#: (the convex hull of the fitted mesh); others (a bottle, a second person) are dropped, over a
#: soft edge this fraction of the face size wide
GATE_EDGE = 0.08

_lock = threading.Lock()


def _session():
    from ..session import create_session

    # small (3 ms a frame on one core): never worth a GPU round trip next to the renderer
    return create_session(MODEL_PATH, prefer_gpu=False, threads=1)


def _lowres(rgb):
    """The network's (256, 256) float32 matte of ``rgb`` (H, W, 3) uint8."""
    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError("person_matte expects an (H, W, 3) uint8 RGB frame, got {} {}".format(a.dtype, a.shape))
    x = cv2.resize(a, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)[None] * (1.0 / 255.0)
    sess = _session()
    with _lock:  # one session shared by the render path's two drawing threads
        y = sess.run(None, {sess.get_inputs()[0].name: x})[0][0, ..., 0]
    return np.ascontiguousarray(y)


def _full(m, shape):
    up = cv2.resize(m, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)
    return np.clip(up, 0.0, 1.0, out=up)  # (in place: no second frame-sized array)


def person_matte(rgb):
    """(H, W) float32 0..1: the probability that each pixel of ``rgb`` (H, W, 3) uint8 shows a
    person (MediaPipe's preprocessing: the whole frame resized to 256 x 256, no letterbox; the
    network's matte resized back)."""
    return _full(_lowres(rgb), np.asarray(rgb).shape)


def actor_matte(rgb, pts):
    """:func:`person_matte` of ``rgb`` kept to the person whose fitted mesh is ``pts`` (468, 2)
    frame pixels: components of the matte (thresholded at 0.5, at the network's resolution)
    that do not reach into the face fade out (a bottle or a lamp taken for a person, someone
    else in the shot). The face itself (the mesh's hull) is always in it, so a matte that
    misses the actor (a face the network does not take for a person) cannot leave the face
    behind: the head then moves as by the warp alone."""
    shape = np.asarray(rgb).shape
    m = _lowres(rgb)
    P = np.asarray(pts, np.float64)
    if not np.isfinite(P).all():
        return _full(m, shape)
    n, lab = cv2.connectedComponents((m > 0.5).astype(np.uint8), connectivity=8)
    q = P * (np.array([SIZE / shape[1], SIZE / shape[0]]))
    if n > 2:
        face = np.zeros(m.shape, np.uint8)
        cv2.fillConvexPoly(face, cv2.convexHull(np.round(q).astype(np.int32)), 1)
        keep = np.unique(lab[(face > 0) & (lab > 0)])
        if len(keep):
            gate = np.isin(lab, keep).astype(np.float32)
            r = max(1, int(round(GATE_EDGE * (float(np.ptp(q[:, 1])) + 1.0))))
            gate = grow_disc(gate, r).astype(np.float32)
            m = m * np.clip(cv2.GaussianBlur(gate, (0, 0), r / 2.0), 0.0, 1.0)
    out = _full(m, shape)
    face = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(P).astype(np.int32)), 255)
    # the face's soft edge over the face's box grown by FACE_PAD (its blur is 0 beyond: 7 taps;
    # the whole frame's blur and maximum took 29 ms a 1080p frame), the matte as it is elsewhere
    box = pixels_box(face)
    if box is not None:
        x0, y0, x1, y1 = grown_box(box, FACE_PAD, shape)
        sl = (slice(y0, y1), slice(x0, x1))
        soft = cv2.GaussianBlur(np.ascontiguousarray(face[sl]), (0, 0), 1.0, borderType=cv2.BORDER_REFLECT_101)
        np.maximum(out[sl], soft.astype(np.float32) * (1.0 / 255.0), out=out[sl])
    return out


#: :func:`actor_matte`: the face's blur (sigma 1 px, 7 taps) is made this far around the face
FACE_PAD = 8
