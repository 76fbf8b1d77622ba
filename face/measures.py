# SPDX-License-Identifier: GPL-3.0-or-later
"""Geometric expression measures on pose-normalised shapes (lip gap, eye aspect ratio, mouth
corner height, brow height, ...) and their per-actor mapping to 0..1 coefficients."""

import numpy as np

from .expressions import EXPRESSION_NAMES
from .topology import load_topology


def _measure_table(topo):
    """[(name, function(A) -> (T,), rest percentile, sign, min span cm, region)] per coefficient.

    ``A``: pose-normalised shapes (T, 468, 3), model frame, cm (inter-ocular distance ~ 9 cm).
    sign +1: the coefficient grows as the raw measure rises above its rest value; -1: as it
    falls below. Left-side landmark indices are given; the right side uses the mirror map.
    """
    m = topo.mirror

    def sided(fn_left):
        # fn_left(A, idx, sx) with idx mapping left indices -> sided indices, sx = +1 left / -1 right
        def left(A):
            return fn_left(A, lambda i: i, 1.0)

        def right(A):
            return fn_left(A, lambda i: int(m[i]), -1.0)

        return left, right

    def y(A, i):
        return A[:, i, 1]

    def mean_y(A, ids):
        return A[:, list(ids), 1].mean(1)

    def lip_gap(A):
        return np.mean([y(A, a) - y(A, b) for a, b in ((13, 14), (82, 87), (312, 317))], 0)

    def mouth_width(A):
        return A[:, 291, 0] - A[:, 61, 0]

    def outer_height(A):
        return y(A, 0) - y(A, 17)

    def corner_h(A, I, sx):
        return y(A, I(291)) - 0.5 * (y(A, 13) + y(A, 14))

    def corner_w(A, I, sx):
        return sx * A[:, I(291), 0]

    T = []

    def add(name, fn, rest, sign, span, region):
        T.append((name, fn, rest, sign, span, region))

    add("jawOpen", lip_gap, 3, +1, 2.6, "mouth")
    add("jawForward", lambda A: A[:, 152, 2] - A[:, 10, 2], 50, +1, 0.6, "mouth")
    add("jawLeft", lambda A: A[:, 152, 0], 50, +1, 0.8, "mouth")
    add("jawRight", lambda A: A[:, 152, 0], 50, -1, 0.8, "mouth")
    add("mouthClose", lambda A: (y(A, 2) - y(A, 152)) - lip_gap(A), 50, +1, 1.0, "mouth")
    add("mouthFunnel", lambda A: -mouth_width(A) + 0.5 * outer_height(A), 50, +1, 0.8, "mouth")
    add("mouthPucker", lambda A: -mouth_width(A) - 0.5 * outer_height(A), 50, +1, 0.8, "mouth")
    add("mouthLeft", lambda A: A[:, [0, 17, 61, 291], 0].mean(1), 50, +1, 0.6, "mouth")
    add("mouthRight", lambda A: A[:, [0, 17, 61, 291], 0].mean(1), 50, -1, 0.6, "mouth")
    for nm, fn, sg, sp in (
        ("mouthSmile", lambda A, I, sx: corner_h(A, I, sx) + 0.5 * corner_w(A, I, sx), +1, 0.8),
        ("mouthFrown", lambda A, I, sx: corner_h(A, I, sx), -1, 0.5),
        ("mouthDimple", lambda A, I, sx: -A[:, I(291), 2] + 0.3 * corner_w(A, I, sx), +1, 0.4),
        ("mouthStretch", lambda A, I, sx: corner_w(A, I, sx) - 0.5 * corner_h(A, I, sx), +1, 0.6),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, 50, sg, sp, "mouth_left")
        add(nm + "Right", rf, 50, sg, sp, "mouth_right")
    add("mouthRollLower", lambda A: -(y(A, 14) - y(A, 17)), 50, +1, 0.4, "mouth")
    add("mouthRollUpper", lambda A: -(y(A, 0) - y(A, 13)), 50, +1, 0.4, "mouth")
    add("mouthShrugLower", lambda A: -(y(A, 17) - y(A, 152)), 50, +1, 0.5, "mouth")
    add("mouthShrugUpper", lambda A: y(A, 0) - y(A, 2), 50, +1, 0.4, "mouth")
    for nm, fn, sg, sp in (
        ("mouthPress", lambda A, I, sx: -((y(A, I(267)) - y(A, I(312))) + (y(A, I(317)) - y(A, I(314)))), +1, 0.4),
        ("mouthLowerDown", lambda A, I, sx: y(A, I(291)) - y(A, I(314)), +1, 0.5),
        ("mouthUpperUp", lambda A, I, sx: y(A, I(267)) - y(A, I(327)), +1, 0.4),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, 50, sg, sp, "mouth_left")
        add(nm + "Right", rf, 50, sg, sp, "mouth_right")
    add("cheekPuff", lambda A: A[:, 425, 0] - A[:, 205, 0], 50, +1, 0.5, "mouth")

    def lid_gap(A, I, sx):
        # eye aspect ratio (mean of three lid-to-lid distances over the corner distance) in cm
        # for a nominal 3 cm wide eye
        pairs = ((386, 374), (385, 380), (387, 373))
        gap = np.mean([np.linalg.norm(A[:, I(a)] - A[:, I(b)], axis=-1) for a, b in pairs], 0)
        return 3.0 * gap / np.linalg.norm(A[:, I(263)] - A[:, I(362)], axis=-1)

    def lower_lid(A, I, sx):
        return mean_y(A, [I(374), I(380), I(373)]) - 0.5 * (y(A, I(263)) + y(A, I(362)))

    for nm, fn, rest, sg, sp in (
        ("eyeBlink", lid_gap, 90, -1, 0.6),
        ("eyeSquint", lower_lid, 50, +1, 0.25),
        ("eyeWide", lid_gap, 90, +1, 0.3),
    ):
        lf, rf = sided(fn)
        add(nm + "Left", lf, rest, sg, sp, "eye_left")
        add(nm + "Right", rf, rest, sg, sp, "eye_right")

    def inner_brow(A, I, sx):
        return mean_y(A, [I(336), I(285)]) - y(A, I(362))

    def outer_brow(A, I, sx):
        return mean_y(A, [I(300), I(276), I(293), I(283)]) - y(A, I(263))

    lf, rf = sided(inner_brow)
    add("browDownLeft", lf, 50, -1, 0.4, "brow_left")
    add("browDownRight", rf, 50, -1, 0.4, "brow_right")
    # (lf, rf bound now: the names are reused below, and a late-bound lambda measured the last
    # pair assigned, the nose sneer's, until 2026-12-02)
    add("browInnerUp", lambda A, lf=lf, rf=rf: 0.5 * (lf(A) + rf(A)), 50, +1, 0.6, "brow_both")
    lf, rf = sided(outer_brow)
    add("browOuterUpLeft", lf, 50, +1, 0.5, "brow_left")
    add("browOuterUpRight", rf, 50, +1, 0.5, "brow_right")
    lf, rf = sided(lambda A, I, sx: mean_y(A, [I(346), I(347), I(349)]) - y(A, I(263)))
    add("cheekSquintLeft", lf, 50, +1, 0.3, "cheek_left")
    add("cheekSquintRight", rf, 50, +1, 0.3, "cheek_right")
    lf, rf = sided(lambda A, I, sx: mean_y(A, [I(358), I(327), I(294)]) - y(A, 6))
    add("noseSneerLeft", lf, 50, +1, 0.3, "nose_left")
    add("noseSneerRight", rf, 50, +1, 0.3, "nose_right")
    return T


_TABLE_CACHE = {}


def measure_table():
    topo = load_topology()
    key = topo.checksum
    if key not in _TABLE_CACHE:
        _TABLE_CACHE[key] = {row[0]: row for row in _measure_table(topo)}
    return _TABLE_CACHE[key]


def semantic_measures(A, names=EXPRESSION_NAMES):
    """Raw measurements (T, K) on pose-normalised shapes A (T, 468, 3) (cm, model frame)."""
    tab = measure_table()
    return np.stack([tab[n][1](A) for n in names], 1)


def expression_ranges(raw, names=EXPRESSION_NAMES):
    """(K, 2) raw values that map to 0 (rest) and 1 (full) for each coefficient.

    rest = the measure's rest percentile over the clip (3rd for jawOpen's lip gap, 60th for the
    eyelid gap, the median otherwise); full = rest + sign * max(|p99.5 (or p0.5) - rest|, min span).
    """
    tab = measure_table()
    out = np.empty((len(names), 2))
    for k, n in enumerate(names):
        _, _, rest_p, sign, span, _ = tab[n]
        x = raw[:, k]
        lo = np.percentile(x, rest_p)
        ext = np.percentile(x, 99.5 if sign > 0 else 0.5)
        out[k] = lo, lo + sign * max(abs(ext - lo), span)
    return out


def normalise(raw, ranges):
    """Raw measures (T, K) -> coefficients clipped to 0..1 through ``ranges`` (K, 2)."""
    lo, hi = ranges[:, 0], ranges[:, 1]
    return np.clip((raw - lo) / (hi - lo), 0.0, 1.0)
