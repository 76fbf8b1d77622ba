# SPDX-License-Identifier: GPL-3.0-or-later
"""Measures of the mouth a dub draws, read against the target's footage (case 1 of
``python -m bench.reenact``): dark lines beside the mouth corners and the lips' colour."""

import numpy as np

from .reenact_measures import _r, clip_path, Frames, opening_and_lips, output_frames, OUTER_LIP


def read_rows(clip, out, rows, step=3):
    """(every ``step``-th of ``rows``, the footage's frames of them, the result's): what
    :func:`corner_creases` and :func:`lip_colour` read, decoded once for both."""
    rows = np.asarray(rows)[::step]
    F = Frames(clip_path(clip))
    try:
        orig = F.get(rows)
    finally:
        F.close()
    return rows, orig, output_frames(out, rows)


def corner_creases(orig, res_f, rows, L, requested):
    """Dark lines beside the mouth corners, result / the target's footage: the mean black-hat
    response (grey closing minus the luma, a disc a tenth of the mouth's width across: thin dark
    structures) in a box beyond each outer-lip corner (out to 0.4 of the mouth's width, 0.3 of it
    high, the lips grown by 4 % left out), over ``rows`` (the footage's and the result's frames
    ``orig``, ``res_f`` by row: :func:`read_rows`). The result is read around the ``requested``
    mesh's corners (T, 468, 2), the footage around its own landmarks ``L`` (T, 468, 2+): the
    footage's own corner shadows count once on each side, a crease the warp stretches out of a
    corner raises the ratio (docs/reenact-bench.md, "Creases at the mouth corners")."""
    import cv2

    L = np.asarray(L, np.float64)
    luma = np.array([0.114, 0.587, 0.299], np.float32)  # frames are BGR

    def lines(img, P):
        oc = np.asarray(P, np.float64)[OUTER_LIP, :2]
        if not np.isfinite(oc).all():
            return None
        c0, c1 = oc[0], oc[10]
        w = float(np.hypot(*(c1 - c0)))
        if w < 8:
            return None
        u = (c1 - c0) / w
        n = np.array([-u[1], u[0]])
        y = img.astype(np.float32) @ luma
        k = max(3, int(0.1 * w) | 1)
        bh = cv2.morphologyEx(y, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        lips = np.zeros(y.shape, np.uint8)
        cv2.fillConvexPoly(lips, cv2.convexHull(np.round(oc).astype(np.int32)), 1)
        g = max(1, int(round(0.04 * w)))
        lips = cv2.dilate(lips, np.ones((2 * g + 1, 2 * g + 1), np.uint8))
        yy, xx = np.mgrid[0:y.shape[0], 0:y.shape[1]]
        vals = []
        for corner, sgn in ((c0, -1.0), (c1, 1.0)):
            dx, dy = xx - (corner[0] + sgn * 0.2 * w * u[0]), yy - (corner[1] + sgn * 0.2 * w * u[1])
            box = (np.abs(dx * u[0] + dy * u[1]) < 0.2 * w) & (np.abs(dx * n[0] + dy * n[1]) < 0.15 * w) & (lips == 0)
            if box.any():
                vals.append(float(bh[box].mean()))
        return float(np.mean(vals)) if vals else None

    vo, vr = [], []
    for t in rows:
        a, b = lines(orig[int(t)], L[t]), lines(res_f[int(t)], np.asarray(requested[t]))
        if a is not None and b is not None:
            vo.append(a)
            vr.append(b)
    if not vo:
        return None
    return _r(np.mean(vr) / max(np.mean(vo), 1e-9), 3)


def lip_colour(orig, res_f, rows, own, requested, opening=None):
    """The lips' colour in the result against the target's footage: per row, the mean CIELAB
    colour of the redder half (by a*) of the lips (:func:`opening_and_lips`: inside the outer
    contour's hull, beyond the inner contour grown by 4 % of the mouth's width, so a drawn
    opening is left out), read around the ``requested`` mesh (T, 468, 2) in the result
    (``res_f``) and around the footage's own fitted mesh ``own`` (T, 468, 2) in the footage
    (``orig``), over ``rows`` (:func:`read_rows`). Returns the median over rows of
    the CIE76 difference between the two means (delta E; ~2 is about what an eye notices side by
    side) and of the L*, a*, b* shifts, or None; with ``opening`` (per row of ``rows``, the
    requested lip gap) also delta E over the widest-open third of the rows read. A mouth dub
    keeps the target's lips: another actor's lip colour drawn over them shows here."""
    import cv2

    own = np.asarray(own, np.float64)

    def mean_lab(img, P):
        P = np.asarray(P, np.float64)[:, :2]
        if not np.isfinite(P).all():
            return None
        w = float(np.hypot(*(P[OUTER_LIP[10]] - P[OUTER_LIP[0]])))
        if w < 8:
            return None
        _, lips = opening_and_lips(img.shape, P, max(1, int(round(0.04 * w))))
        if lips.sum() < 20:
            return None
        lab = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)[lips]
        # the redder half: around an opened mouth the band also takes in skin and the inner
        # lip's pale surface, which are not the lips' colour
        return lab[lab[:, 1] >= np.median(lab[:, 1])].mean(0)

    d, gap = [], []
    op = None if opening is None else np.asarray(opening, np.float64)
    for k, t in enumerate(rows):
        a, b = mean_lab(orig[int(t)], own[t]), mean_lab(res_f[int(t)], np.asarray(requested[t]))
        if a is not None and b is not None:
            d.append(b - a)
            gap.append(np.nan if op is None else op[k])
    if not d:
        return None
    d, gap = np.asarray(d), np.asarray(gap)
    e = np.linalg.norm(d, axis=1)
    res = {"delta_e": _r(np.median(e), 2), "dL": _r(np.median(d[:, 0]), 2),
           "da": _r(np.median(d[:, 1]), 2), "db": _r(np.median(d[:, 2]), 2), "rows": int(len(d))}
    if np.isfinite(gap).sum() >= 3:
        wide = np.isfinite(gap) & (gap >= np.nanpercentile(gap, 100 * 2 / 3))
        res["delta_e_widest_third"] = _r(np.median(e[wide]), 2)
    return res
