# SPDX-License-Identifier: GPL-3.0-or-later
"""What the render path writes into its frames and files for provenance (docs/provenance.md):
the watermark payload of a render, the C2PA manifest's parameters, and the mark itself, kept
off the lips of the performance."""

import os
import re
from types import SimpleNamespace

import cv2
import numpy as np

from ..provenance.watermark import DEFAULT_KEY, job_id_from, make_payload, mark_frame
from ..video.bars import keep_bars
from .cache import geometry_digest, renderer_identity
from .donor import OUTER_LIP
from .head import posed_points


def render_payload(job_id, source_id, renderer, own):
    """The watermark payload of a render: ``job_id`` when given, else one derived from the
    footage (``source_id``: :func:`~.cache.source_identity`), the renderer and the actor (not
    the performance), so chunks of one job rendered in parallel and Preview Frame carry the
    same id. The renderer counts as the model it was made from, whichever of its weights run
    (:func:`_weights_of`): a CPU Worker's int8 chunk and a CUDA Worker's fp16 chunk of one job
    carry one id (until 2026-12-06's farm audit two, and the assembled movie's watermark read as unreadable)."""
    if job_id is None:
        job_id = job_id_from(source_id, renderer_identity(_weights_of(renderer)), geometry_digest(own))
    return make_payload(job_id)


def _weights_of(renderer):
    """``renderer`` as the model its running weights were made from (``MODEL.onnx`` for
    ``MODEL.int8.onnx`` or ``MODEL.fp16.onnx``, when it is there; the renderer itself otherwise):
    what :func:`~.cache.renderer_identity` reads of it."""
    path = re.sub(r"\.(int8|fp16)\.onnx$", ".onnx", renderer.path)
    if path == renderer.path or not os.path.isfile(path):
        return renderer
    return SimpleNamespace(path=path, size=renderer.size, mode=renderer.mode, window=renderer.window,
                           config=renderer.config)


def manifest_parameters(renderer, region, frames, payload):
    """The parameters the C2PA manifest records with a render's action; ``frames`` [a, b) is
    recorded as the text "first-last" (:func:`~reenact.provenance.manifest.frames_text`)."""
    from ..provenance.manifest import frames_text

    return {"tool": "Reenact", "model": os.path.basename(renderer.path), "region": region,
            "frames": frames_text(frames), "job_id": payload.to_dict()["job_id"]}


#: the mark keeps off the lips (their hull grown by LIPS_KEEP_OUT about its centre, feathered by
#: LIPS_FEATHER of the lips' width): docs/provenance.md
LIPS_KEEP_OUT = 1.4
LIPS_FEATHER = 0.1


def row_points(track, row):
    """(468, 2) frame pixels of row ``row`` of ``track``'s fitted mesh, computed for that row
    alone (render_clip and Preview Frame get the same numbers)."""
    return posed_points(track, [row])[0][0]


def _lips_keep_out(points, shape):
    """((x0, y0, x1, y1), weight) of the lips of mesh ``points`` in a frame of ``shape``, or None."""
    p = None if points is None else np.asarray(points, np.float64)[list(OUTER_LIP)]
    if p is None or not np.isfinite(p).all():
        return None
    c = p.mean(0)
    hull = cv2.convexHull((c + (p - c) * LIPS_KEEP_OUT).astype(np.float32))[:, 0]
    f = max(1.0, LIPS_FEATHER * float(np.ptp(p[:, 0])))
    H, W = shape[:2]
    x0, y0 = np.maximum(np.floor(hull.min(0) - 3 * f).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(hull.max(0) + 3 * f).astype(int), (W, H))
    if not (x1 > x0 and y1 > y0):
        return None
    m = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillConvexPoly(m, np.round((hull - (x0, y0)) * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
    return (int(x0), int(y0), int(x1), int(y1)), cv2.GaussianBlur(m, (0, 0), f)


def mark_performance(frame, i, payload, points, area=None):
    """``frame`` (a frame the render path synthesised, frame index ``i``) with the watermark of
    ``payload``, kept off the lips of the performance's mesh ``points`` ((468, 2) frame pixels,
    :func:`row_points`; a list of them: every actor's lips of a several-actor render; None:
    marked everywhere) and out of the footage's letterbox or pillarbox bars (``area``, the
    picture inside them: :func:`~reenact.video.bars.keep_bars`; they stay the footage's black,
    and d14's weakest window after a downscale read no lower for it)."""
    many = isinstance(points, (list, tuple))
    keeps = [k for k in (_lips_keep_out(p, frame.shape) for p in (points if many else [points])) if k is not None]
    keep = keeps[0] if len(keeps) == 1 else None
    if len(keeps) > 1:  # one box around them all, each actor's weight in it
        x0, y0 = min(k[0][0] for k in keeps), min(k[0][1] for k in keeps)
        x1, y1 = max(k[0][2] for k in keeps), max(k[0][3] for k in keeps)
        w = np.zeros((y1 - y0, x1 - x0), np.float32)
        for (a0, b0, a1, b1), m in keeps:
            np.maximum(w[b0 - y0:b1 - y0, a0 - x0:a1 - x0], m, out=w[b0 - y0:b1 - y0, a0 - x0:a1 - x0])
        keep = ((x0, y0, x1, y1), w)
    return keep_bars(mark_frame(frame, i, DEFAULT_KEY, payload, keep_out=keep), frame, area)
