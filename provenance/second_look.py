# SPDX-License-Identifier: GPL-3.0-or-later
"""A second look at the one-second windows the sync pattern alone misses, once the file's
payload is known (:func:`.watermark.detect`).

The sync search tests the tile's 384 sync cells (the template both formats share) against every
shift and scale. Once the payload has been read from the windows that passed it, the whole tile
is known: sync and data cells, 1,024 values instead of 384, at the alignment a neighbouring
window found. That single test per window is far more sensitive (driving_d14 downscaled by half
at CRF 28: the window the sync search misses at 4.60 reads 7.9) and spends a tenth of the
per-window false-positive budget (z >= 5.20, Q(z) <= 1e-7).

What it must not read is a *copy* of the mark: a video codec predicts the frames after a marked
stretch from the marked picture, and where the background stands still (skip blocks) the copy
carries the frame-fixed mark into seconds Reenact did not synthesise. Reenact's own movies code
a keyframe where marked and copied frames meet (:class:`~reenact.video.VideoWriter`'s
``segment``), another tool's re-encode does not. So the second look reads only the pixels that
*change* during the window (temporal spread over five times the window's median): a
synthesised frame carries the mark on its moving content, a copied one only where nothing moves.
A window that changes over less than :data:`MIN_CHANGED` of its area is not looked at again.

Only windows next to a detected one are looked at (at that neighbour's alignment; the earlier
neighbour first), and only in files whose payload was read: on footage Reenact never marked the
second look never runs, so the false-positive figures of the sync test are those of the file.
"""

import math

import numpy as np

#: a second look passes at z >= this: Q(5.20) = 1e-7, a tenth of the per-window budget
SECOND_LOOK_Z = 5.20
#: the share of the window's area that must change for a second look
MIN_CHANGED = 0.10
#: a pixel changes when its temporal spread over the window exceeds this x the window's median
CHANGE_FACTOR = 5.0


def changed_mask(imgs):
    """float32 mask (work resolution) of the pixels whose spread over the window's work images
    exceeds :data:`CHANGE_FACTOR` x the median spread, grown by about a cell."""
    import cv2

    sd = np.std(np.stack(imgs), axis=0)
    m = (sd > CHANGE_FACTOR * float(np.median(sd))).astype(np.uint8)
    return cv2.dilate(m, np.ones((5, 5), np.uint8)).astype(np.float32)


def keep(det, rec, imgs, img, al):
    """Remember, for the undetected window ``rec`` (work images ``imgs``, whitened residual
    ``img``), its changed pixels' cell values at the neighbour's alignment ``al``
    (``rec["_look"]``); the first neighbour to offer one wins."""
    if rec.get("_look") is not None or len(imgs) < 2:
        return
    m = changed_mask(imgs)
    rec["_look"] = det.cell_values(img * m, al).ravel() if float(m.mean()) >= MIN_CHANGED else False


def tile(wmark, payload):
    """The whole tile of ``payload`` as the cell values carry it (the key's signs removed), flat."""
    return (wmark.cell_grid(payload) * wmark.signs).ravel()


def score(values, code):
    """z of the cell values against the tile ``code`` (:func:`tile`; self-normalised: under no
    mark ~N(0, 1))."""
    return float(values @ code) / max(1e-12, float(np.sqrt(values @ values)))


def apply(det, windows, payload):
    """Look again at the undetected windows that kept cell values; a window that reads the
    payload's whole tile at z >= :data:`SECOND_LOOK_Z` is detected (``second_look`` its z,
    ``payload_match`` true)."""
    code = None
    for w in windows:
        v = w.get("_look")
        if w["detected"] or v is None or v is False:
            continue
        if code is None:
            code = tile(det.wm, payload)  # once per file
        z = score(v, code)
        w["second_look"] = round(z, 2)
        if z >= SECOND_LOOK_Z:
            p = 10.0 * 0.5 * math.erfc(z / math.sqrt(2.0))  # a tenth of the budget: 10 x Q(z)
            w.update(detected=True, payload_match=True, payload_score=round(z, 2),
                     false_positive_probability=float("{:.3g}".format(p)))
