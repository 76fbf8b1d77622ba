# SPDX-License-Identifier: GPL-3.0-or-later
"""How much of the eyes' whites shows (Track.eye_white): measured by the tracker from the picture,
carried by a full transfer, and weighed by the eyes' choice of a moved or held-out head (a lid
lowered over a look down, which the lid landmarks hardly see)."""

import cv2
import numpy as np

from reenact.face import transfer as X
from reenact.tracking.tracker import _EYES, eye_white, steady


def _eye_picture(lowered=0.0, iris=11.0):
    """A grey picture of two eyes on skin (level 170): whites 225, dark irises of radius ``iris``
    px; ``lowered``: the share of the opening's height under a dark lash band (lid and lashes
    over a look down). Returns (picture as eye_grey gives it, landmarks)."""
    g = np.full((200, 300), 170, np.uint8)
    P = np.zeros((478, 2))
    for (loop, centre, ring), cx in zip(_EYES, (100.0, 200.0)):
        cy, a = 90.0, 30.0
        b = 14.0
        t = np.linspace(np.pi, 0, 9)  # upper lid: corner to corner over the top
        upper = np.stack([cx + a * np.cos(t), cy - b * np.sin(t)], 1)
        t2 = np.linspace(0, -np.pi, 9)[1:-1]  # lower lid back
        lower = np.stack([cx + a * np.cos(t2), cy - b * np.sin(t2)], 1)
        loop_pts = np.concatenate([upper, lower])  # 16 points around the opening
        P[list(loop)] = loop_pts
        m = np.zeros_like(g)
        cv2.fillPoly(m, [np.round(loop_pts * 4).astype(np.int32)], 1, shift=2)
        g[m > 0] = 225
        yy, xx = np.mgrid[:g.shape[0], :g.shape[1]]
        r = float(iris)
        g[((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r) & (m > 0)] = 40
        if lowered:
            band = (yy < cy - b + 2 * b * lowered) & (m > 0)
            g[band] = 60
        P[centre] = (cx, cy)
        P[list(ring)] = [(cx + r, cy), (cx, cy - r), (cx - r, cy), (cx, cy + r)]
    return (g, 1.0), P


def test_the_whites_read_lower_under_a_lowered_lid():
    open_ = eye_white(*_eye_picture())
    lowered = eye_white(*_eye_picture(lowered=0.45))
    assert 1.1 < open_ < 1.4, open_  # whites brighter than the skin below the eye
    assert lowered < 0.85 * open_, (lowered, open_)
    assert np.isnan(eye_white(*_eye_picture(iris=40.0)))  # no white beside the irises: not known
    pic, P = _eye_picture()
    P[468] = np.nan
    assert np.isnan(eye_white(pic, P))  # no irises: not known


def test_a_tracked_clip_carries_its_eye_whites(carphone_track):
    w = np.asarray(carphone_track.eye_white, np.float64)
    assert w.shape == (carphone_track.n_frames,)
    ok = np.isfinite(w)
    assert ok.mean() > 0.9 and abs(np.median(w[ok]) - 1.0) < 0.02  # over the actor's own median (then steadied)
    assert 1.05 < np.percentile(w[ok], 95) / np.percentile(w[ok], 5) < 3.0  # it varies, within reason


def test_a_full_transfer_carries_the_drivers_whites_and_a_dub_keeps_the_shots(carphone_track):
    src = X._copy(carphone_track)
    src.eye_white = np.linspace(0.5, 1.5, src.n_frames).astype(np.float32)
    tgt = X._copy(carphone_track)
    tgt.eye_white = np.full(tgt.n_frames, 1.0, np.float32)
    info = {}
    full = X.transfer(src, tgt, "full", offset=2, info=info)  # (the same actor: re-timed)
    rows = np.asarray(info["transferred_frames"]) - int(tgt.frame_start)
    assert len(rows) > 50
    assert np.allclose(np.asarray(full.eye_white)[rows], src.eye_white[rows - 2])
    for mode in ("mouth", "gaze"):  # (the target's lids stay: so do their whites)
        assert np.array_equal(np.asarray(X.transfer(src, tgt, mode, offset=2).eye_white), tgt.eye_white), mode
    src.eye_white = np.zeros(0, np.float32)  # a driver tracked before the measure: not asked
    assert np.isnan(np.asarray(X.transfer(src, tgt, "full", offset=2).eye_white)[rows]).all()


def test_a_held_out_rows_eyes_come_from_a_frame_showing_as_much_white(carphone_track):
    """Of two footage frames the eyes' choice weighs alike, the one whose whites show as much as the
    asked row's (a lowered lid) is taken."""
    from reenact.render.eyes import EYE_WHITE_COST, _EyePool, eye_shapes, plan_eyes
    from reenact.face.camera import euler_to_matrix

    own = X._copy(carphone_track)
    own.eye_white = np.ones(own.n_frames, np.float32)
    _, opening, _ = eye_shapes(own)
    ok = np.flatnonzero(np.isfinite(opening))
    r = int(ok[len(ok) // 2])
    pool = np.array([q for q in ok if abs(q - r) > 3])
    req = X._copy(own)
    # the two frames the choice likes best for row r, without the whites
    Q, oq, gq = eye_shapes(req, [r])
    eyes = _EyePool(own, pool)
    c, _ = eyes.cost(Q[0].reshape(-1), oq[0], X.gaze_through_blinks(req.gaze, req.blink, req.tracked)[r],
                     euler_to_matrix(np.asarray(req.pose, np.float64)[[r], :3])[0], 2.5)
    first, second = eyes.rows[np.argsort(c)[:2]]
    assert c[list(eyes.rows).index(second)] - c[list(eyes.rows).index(first)] < EYE_WHITE_COST * abs(np.log(0.6))
    j0 = int(plan_eyes(own, req, [r], pool)[0])
    own.eye_white[second] = 0.6  # only the second shows as little white as the asked look
    req.eye_white = own.eye_white.copy()
    req.eye_white[r] = 0.6
    j1 = int(plan_eyes(own, req, [r], pool)[0])
    assert j0 != second and j1 == second, (j0, j1, first, second)


def test_the_whites_are_steadied_within_each_shot():
    """A frame's reading moves with the landmarks' jitter: the median of 2 rows each side, never
    across a cut, NaN kept where the row has none."""
    v = np.array([[1.0, 1.0, 0.2, 1.0, 1.0, 0.6, 0.6, 0.6, np.nan, 0.6]], np.float32)
    out = steady(v, [5])
    assert np.allclose(out[0, :5], 1.0)  # the one-frame dip is gone
    assert np.allclose(out[0, 5:8], 0.6) and np.isnan(out[0, 8]) and np.isclose(out[0, 9], 0.6)  # not mixed with the shot before
