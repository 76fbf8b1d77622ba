# SPDX-License-Identifier: GPL-3.0-or-later
"""The reenactment benches' contact sheets (original | driver | result at the hard frames), split
from :mod:`.reenact_measures` (the measures themselves)."""

import os

import numpy as np

from .reenact_measures import ROOT, cv2_warp, source_index, square_crop

def contact_sheet(path, rows, cell=200, labels=("original target", "driver", "result")):
    """JPEG of rows of crops (one per label: original, driver, result), each ``cell`` px square or
    ``cell`` = (width, height) px."""
    import cv2

    cw, ch = (cell, cell) if np.isscalar(cell) else cell
    bar = 22
    sheet = []
    head = np.full((bar, cw * len(labels), 3), 255, np.uint8)
    for k, t in enumerate(labels):
        cv2.putText(head, t, (k * cw + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    sheet.append(head)
    for cells, caption in rows:
        row = np.concatenate(cells, 1)
        cv2.putText(row, caption, (6, ch - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
        sheet.append(row)
    img = np.concatenate(sheet, 0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    q = 88
    while True:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if len(buf) < 190_000 or q <= 40:
            break
        q -= 8
    with open(path + ".tmp", "wb") as f:
        f.write(buf.tobytes())
    os.replace(path + ".tmp", path)
    return os.path.relpath(path, ROOT)


def hard_frames(score, rows, k=3, gap=8):
    """Up to ``k`` rows with the highest ``score``, at least ``gap`` apart."""
    order = [int(rows[i]) for i in np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")]
    out = []
    for r in order:
        if all(abs(r - o) >= gap for o in out):
            out.append(r)
        if len(out) == k:
            break
    return sorted(out)


def sheet_rows(frames_t, frames_d, frames_r, tgt, drv, ts, captions, cell=200, also=None):
    """Contact sheet rows (target | driver | result) at rows ``ts``; the target's and result's
    crop holds the target's face and, with ``also`` ((T, N, 2) points, e.g. the re-tracked
    result's), those too (a moved head is not cut off)."""
    rows = []
    for t, cap in zip(ts, captions):
        di = source_index(t, tgt, drv)
        lt = np.asarray(tgt.landmarks[t], np.float64)
        if also is not None and np.isfinite(np.asarray(also[t], np.float64)).all():
            lt = np.concatenate([lt, np.asarray(also[t], np.float64)], 0)
        ld = np.asarray(drv.landmarks[min(di, drv.n_frames - 1)], np.float64)
        _, A = square_crop(frames_t[t], lt, cell, 1.6)
        b, _ = square_crop(frames_d[di], ld if np.isfinite(ld).all() else lt, cell, 1.6)
        # beyond the frame: black (an edge repeated streaks with the watermark's grain)
        a, c = cv2_warp(frames_t[t], A, cell, border=0), cv2_warp(frames_r[t], A, cell, border=0)
        rows.append(([a, b, c], cap))
    return rows


def self_sheet(path, track, cut, orig, columns, cell=256):
    """Case 3's contact sheet: the 4 held-out rows farthest (expression and pose features) from
    every pool row, 8 frames apart at least; per row the truth then ``columns`` ({label: {row:
    frame}}, BGR frames), each the 1.3x square crop around the face."""
    from reenact.render.reference import features

    f = features(track)
    rows = sorted(orig)
    far = np.argsort([-np.min(np.linalg.norm(f[:cut] - f[t], axis=1)) for t in rows])
    pick = []
    for k in far:
        if len(pick) < 4 and all(abs(rows[k] - p) > 8 for p in pick):
            pick.append(rows[k])
    L = np.asarray(track.landmarks, np.float64)
    out = []
    for t in sorted(pick):
        a, A = square_crop(orig[t], L[t, :468], cell, 1.3)
        out.append(([a] + [cv2_warp(c[t], A, cell) for c in columns.values()], "frame {}".format(t)))
    return contact_sheet(path, out, cell, ("original (truth)",) + tuple(columns))
