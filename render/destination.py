# SPDX-License-Identifier: GPL-3.0-or-later
"""What a :func:`~reenact.render.warp.warp_field` field's destination alone decides (the mesh's
pixels, the distance and nearest mesh pixel of every other pixel, the head region and the head
motion's weight), shared by the fields onto the same destination: region ``head`` warps three
footage frames (the row's and its neighbours' sources) onto each row's head, and the shot mouth
three onto each row's mouth. These are the field's costliest steps after the head's proxy (on a
1080p frame about a third of a field's time), and they depend on the triangle-id raster only
through its coverage, which the sources' slivers seldom change. numpy + OpenCV."""

import threading

import cv2
import numpy as np

from ..face.topology import CHIN
from .head import head_mask
from .meshes import FOREHEAD_TOP, _fix, grown_box, pixels_box, smoothstep

#: each thread's last destination (the render path draws two rows at once, each thread one row:
#: its three sources one after another; at 4K a whole frame's destination is ~140 MB)
_LAST = threading.local()


def shared_destination(cov, Pd, H, W, ours, grow, hair, fade, neck, band, c0, fs):
    """:func:`destination`, this thread's last one kept (read-only arrays; a field's destination
    is exactly the same computation whichever source it is for)."""
    key = (cov.tobytes(), np.asarray(Pd, np.float64).tobytes(), H, W, bool(ours), grow, hair, fade, neck, band,
           float(c0), float(fs))
    last = getattr(_LAST, "dest", None)
    if last is not None and last[0] == key:
        return last[1]
    _LAST.dest = None  # (the old one freed before the new one is made)
    dest = destination(cov, Pd, H, W, ours, grow, hair, fade, neck, band, c0, fs)
    _LAST.dest = (key, dest)
    return dest


def forget():
    """Drop this thread's kept destination. A render's draw threads end with it and take theirs
    along; a thread that lives on (Blender's, running Preview Frame) would hold its last one, up
    to ~140 MB at 4K, until its next preview."""
    _LAST.dest = None


def destination(cov, Pd, H, W, ours, grow, hair, fade, neck, band, c0, fs):
    """(yy, xx, flat, px, py, labels, lab_in, n_labels, decay, head, weight) of the coverage
    ``cov`` (H, W) bool of the destination mesh's triangle-id raster: its pixels (rows, columns,
    flat indices, and their centres as float32), each other pixel's nearest mesh pixel
    (``labels``; ``lab_in``: those of the mesh's own pixels, ``n_labels``: one more than the largest) and the border's fade
    (``decay``), the head region and the head motion's weight. Read-only arrays."""
    # (flat indices: an (H, W) array's values at them by take, 4x faster than by rows and columns)
    flat = np.flatnonzero(cov)
    yy, xx = np.divmod(flat, W)
    px = xx.astype(np.float32) + np.float32(c0)
    py = yy.astype(np.float32) + np.float32(c0)
    labels = decay = lab_in = None
    n_labels = 0
    if len(yy):
        dist_out, labels = cv2.distanceTransformWithLabels((~cov).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5,
                                                           labelType=cv2.DIST_LABEL_PIXEL)
        decay = _fade(dist_out, pixels_box(cov), band * fs)
        lab_in = labels.take(flat)
        n_labels = int(labels.max()) + 1
    head = head_mask(Pd, (H, W), grow, hair, pixel_centre=c0) if ours else hull_mask(Pd, (H, W), grow, c0)
    head |= cov
    dist_head = cv2.distanceTransform((~head).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    hb = pixels_box(head)
    weight = _fade(dist_head, hb, fade * fs)
    if ours and neck is not None and hb is not None:
        # below the chin (along the head's chin -> forehead axis) the motion fades out: the
        # neck stretches, the torso stays (where the weight is not 0 already)
        up = Pd[FOREHEAD_TOP] - Pd[CHIN]
        up /= max(np.linalg.norm(up), 1e-9)
        x0, y0, x1, y1 = _grown(hb, fade * fs, H, W)
        below = (-(np.arange(W, dtype=np.float32)[None, x0:x1] + c0 - Pd[CHIN, 0]) * np.float32(up[0])
                 - (np.arange(H, dtype=np.float32)[y0:y1, None] + c0 - Pd[CHIN, 1]) * np.float32(up[1]))
        weight[y0:y1, x0:x1] *= smoothstep(1.0 - below * np.float32(1.0 / max(float(neck) * fs, 1.0)))
    out = (yy, xx, flat, px, py, labels, lab_in, n_labels, decay, head, weight)
    for a in out:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return out


def _grown(box, reach, H, W):
    """``box`` (x0, y0, x1, y1) grown by ``reach`` px and more (a chamfer distance of 5x5 is at
    least 0.99 of the Euclidean), clipped to (H, W)."""
    return grown_box(box, int(np.ceil(1.05 * reach)) + 3, (H, W))


def _fade(dist, box, reach):
    """(H, W) float32: ``smoothstep(1 - dist / reach)`` (``reach`` at least 1 px), made only
    within ``reach`` of ``box`` (the pixels at distance 0; None: none), which beyond it is 0."""
    out = np.zeros(dist.shape, np.float32)
    if box is None:
        return out
    x0, y0, x1, y1 = _grown(box, reach, *dist.shape)
    out[y0:y1, x0:x1] = smoothstep(1.0 - dist[y0:y1, x0:x1] * np.float32(1.0 / max(reach, 1.0)))
    return out


def hull_mask(P, shape, grow, centre):
    """(H, W) bool: the convex hull of the points ``P`` grown by ``grow`` about its centre (the
    head region of a mesh other than the tracker's)."""
    hull = P[cv2.convexHull(P.astype(np.float32), returnPoints=False).ravel()]
    c = hull.mean(0)
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [_fix(c + (hull - c) * (1 + grow), centre)], 1, cv2.LINE_8, 4)
    return m.astype(bool)
