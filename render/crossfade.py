# SPDX-License-Identifier: GPL-3.0-or-later
"""A cross-fade between two pictures of the same thing drawn in slightly different places,
without the double image a plain cross-fade draws.

Region ``head`` turns the moved head, taken from another frame of the shot, into this frame's
own actor where the head's motion fades out (the neck, the shoulders, hair beyond the head
region). The two agree at the head and at the torso but not always in between: when the actor
held the head otherwise against the body in the source frame (d20: leaning, the camera tilting),
the source's collar sits some pixels above this frame's, and a cross-fade over the neck draws
both collars, one of them half transparent. :func:`aligned_crossfade` morphs instead: optical
flow from one picture to the other over the band where the weight is between 0 and 1, and
both pictures moved to the geometry in between (at weight ``w``, ``w`` of the way from the
first picture's to the second's) before they are mixed. Where the weight is 0 or 1 nothing
moves, so the result is exactly one picture there; across the band the geometry slides from one
to the other continuously.

The coverage changes hands over a narrower band (:data:`COVERAGE_BAND`) than the colour. Where
the two agree (both actor, or both room) that changes nothing; where one shows the actor and the
other the room, a linear mix of the coverages drew a ghost: s20, the head moved 60 px to one
side, this frame's own hair where the head's motion was still 0.7-0.9 of the way on came out as
a half-transparent bubble of hair in the sky beside the moved head (coverage 0.26). With the
narrower band the one that dominates the weight decides whether there is actor there.

::

    colour, alpha = aligned_crossfade(a_rgb, a_alpha, b_rgb, b_alpha, weight_of_b)
"""

import cv2
import numpy as np

from .meshes import channels, grown_box, pixels_box, smoothstep

#: the flow is computed at most this many pixels on the band's longer side
FLOW_SIDE = 200
#: the band: weights strictly between these
BAND = (0.02, 0.98)
#: the coverage passes from the first picture's to the second's while the weight goes over this
#: range (smoothstep); the colour over the whole band
COVERAGE_BAND = (0.35, 0.65)
#: the flow is smoothed by a Gaussian of this fraction of the band box's longer side (it moves
#: shapes, not texture)
FLOW_SMOOTH = 0.012


def _grey(img):
    return cv2.cvtColor(np.clip(np.asarray(img, np.float32) + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def band_flow(a, b, weight, pad=8):
    """((x0, y0, x1, y1) box, (h, w, 2) float32 flow) from picture ``a`` to ``b`` (H, W, 3),
    ``a(p) ~ b(p + flow(p))``, over the box around every pixel whose ``weight`` lies strictly
    between 0 and 1 (grown by ``pad``), or None when fewer than a few lie inside :data:`BAND`."""
    w = np.asarray(weight, np.float32)
    if not ((w > BAND[0]) & (w < BAND[1])).any():
        return None
    box = _grown_box((w > 0.0) & (w < 1.0), pad)  # (all of it: the box is also where the two are mixed)
    return None if box is None else (box, _box_flow(a, b, box))


def _grown_box(mask, pad):
    """(x0, y0, x1, y1): the box around ``mask``'s pixels grown by ``pad`` (inside the image),
    or None when it is smaller than 8 px either way."""
    x0, y0, x1, y1 = grown_box(pixels_box(mask), pad, mask.shape)
    return None if x1 - x0 < 8 or y1 - y0 < 8 else (x0, y0, x1, y1)


def _box_flow(a, b, box):
    """(h, w, 2) float32 flow from ``a`` to ``b`` over ``box`` (x0, y0, x1, y1): DIS at most
    :data:`FLOW_SIDE` px, smoothed by :data:`FLOW_SMOOTH` (shapes, not texture)."""
    x0, y0, x1, y1 = box
    s = min(1.0, FLOW_SIDE / float(max(x1 - x0, y1 - y0)))
    ga, gb = (_grey(np.asarray(im)[y0:y1, x0:x1]) for im in (a, b))
    if s < 1.0:
        size = (max(8, int(round((x1 - x0) * s))), max(8, int(round((y1 - y0) * s))))
        ga, gb = (cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in (ga, gb))
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(ga, gb, None)
    sig = max(1.0, FLOW_SMOOTH * max(ga.shape))
    flow = cv2.GaussianBlur(flow, (0, 0), sig)
    if s < 1.0:
        flow = cv2.resize(flow, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR) * np.float32(1.0 / s)
    return flow.astype(np.float32)


def mean_geometry(pictures, mattes, weights, main, where, pad=8):
    """Pictures of one thing drawn in slightly different places (a moved head's sources, each
    warped to the row's head, that were different moments of the shot: the face's mesh aligns
    them, the collar and hair beyond it sit where each moment held them) moved to their
    ``weights``' mean geometry where ``where`` (H, W) 0..1 lets them: optical flow from
    ``pictures[main]`` to each other picture, over the box where ``where`` > 0, scaled by
    ``where``; each picture (and its matte) resampled by its flow less the weighted mean of the
    flows, so that their mix draws one collar, not one per moment (d12 -> d20 frame 44: a second
    collar half transparent across the neck where the source changed). Returns (pictures,
    mattes) as lists; unchanged (the same objects) where ``where`` is nowhere > 0."""
    w = np.asarray(where, np.float32)
    on = w > BAND[0]
    pictures, mattes = list(pictures), list(mattes)
    box = _grown_box(on, pad) if on.any() and len(pictures) > 1 else None
    if box is None:
        return pictures, mattes
    x0, y0, x1, y1 = box
    wb = w[y0:y1, x0:x1, None]
    flows = [np.zeros((y1 - y0, x1 - x0, 2), np.float32) if k == main else
             _box_flow(pictures[main], p, box) * wb for k, p in enumerate(pictures)]
    total = float(sum(weights))
    mean = sum(np.float32(wk / total) * f for wk, f in zip(weights, flows))
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    for k, f in enumerate(flows):
        d = f - mean  # picture k at q + F_k - M shows what the mean geometry puts at q
        mx, my = gx + d[..., 0], gy + d[..., 1]
        for seq in (pictures, mattes):
            img = np.array(seq[k], copy=True)
            # (remap reads the whole picture, so the box's edge sees real pixels)
            img[y0:y1, x0:x1] = cv2.remap(np.asarray(seq[k]), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            seq[k] = img
    return pictures, mattes


def aligned_crossfade(a, a_alpha, b, b_alpha, weight):
    """Mix picture ``a`` (H, W, 3) float with coverage ``a_alpha`` (H, W) and picture ``b`` with
    ``b_alpha``, ``weight`` (H, W) of ``b`` and ``1 - weight`` of ``a``, premultiplied by the
    coverages, after moving both to the geometry ``weight`` of the way from ``a``'s to ``b``'s
    (see the module's text); the coverage passes from ``a``'s to ``b``'s over
    :data:`COVERAGE_BAND` of the weight. Returns (colour (H, W, 3) float32, coverage (H, W) float32); where
    the coverage is 0 the colour is ``b``'s."""
    w = np.asarray(weight, np.float32)
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    a_alpha, b_alpha = np.asarray(a_alpha, np.float32), np.asarray(b_alpha, np.float32)
    # beyond the band one picture alone: a where the weight is 0 and a covers, else b (the band
    # itself lies inside the box _mix writes)
    colour = np.where(((w <= 0.0) & (a_alpha > 1e-3))[..., None], a, b)
    cov = np.where(w <= 0.0, a_alpha, b_alpha)
    got = band_flow(a, b, w)
    if got is None:  # no band, or too small a one to move: the plain mix there
        mixed = (w > 0.0) & (w < 1.0)
        if mixed.any():
            box = pixels_box(mixed)
            _mix(colour, cov, a, a_alpha, b, b_alpha, w, box, None)
        return colour, cov
    box, flow = got
    _mix(colour, cov, a, a_alpha, b, b_alpha, w, box, flow)
    return colour, cov


def _mix(colour, cov, a, a_alpha, b, b_alpha, w, box, flow):
    """:func:`aligned_crossfade` inside ``box`` (x0, y0, x1, y1), written into ``colour`` and
    ``cov``; ``flow`` (box-sized) None: no motion."""
    x0, y0, x1, y1 = box
    sl = (slice(y0, y1), slice(x0, x1))
    wb = w[sl]
    if flow is None:
        pa, paa, pb, pba = a[sl], a_alpha[sl], b[sl], b_alpha[sl]
    else:
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        # a at p - w F(p), b at p + (1 - w) F(p): a(q) ~ b(q + F) puts both on the same thing;
        # remap reads the whole picture, so the box's edge sees real pixels
        ax, ay = gx - wb * flow[..., 0], gy - wb * flow[..., 1]
        bx, by = gx + (1.0 - wb) * flow[..., 0], gy + (1.0 - wb) * flow[..., 1]

        def moved(img, mx, my):
            return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        pa, paa, pb, pba = moved(a, ax, ay), moved(a_alpha, ax, ay), moved(b, bx, by), moved(b_alpha, bx, by)
    aa, ba = (1.0 - wb) * paa, wb * pba
    c = aa + ba
    sure = c > 1e-3
    colour[sl] = np.where(sure[..., None], (channels(aa) * pa + channels(ba) * pb) / channels(np.where(sure, c, 1.0)), pb)
    lo, hi = COVERAGE_BAND  # the second picture's share of the coverage
    ws = smoothstep((wb - np.float32(lo)) * np.float32(1.0 / (hi - lo)))
    cov[sl] = (1.0 - ws) * paa + ws * pba
