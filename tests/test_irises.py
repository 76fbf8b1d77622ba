# SPDX-License-Identifier: GPL-3.0-or-later
"""Irises moved inside the footage's own eyes (render/irises.py): a gaze key no frame of the
shot shows. The move is the one the tracker's eyeball model asks for (read back by the
tracker's own gaze estimate), and it changes nothing outside the eye openings."""

import numpy as np

from reenact.face import transfer as X
from reenact.face.camera import euler_to_matrix
from reenact.face.gaze import gaze_from_iris
from reenact.render.irises import IRISES, iris_shift, move_irises


def _ellipse(c, a, b, n=16):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([c[0] + a * np.cos(t), c[1] + b * np.sin(t)], 1)


def _eyes_picture():
    """A 120 x 200 face: skin, two almond eyes (white, shaded toward the lids), a dark iris with
    a lighter ring in each; the landmarks of both irises; the two eye loops."""
    H, W = 120, 200
    img = np.zeros((H, W, 3), np.float32) + (150, 170, 205)  # BGR-ish skin
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    L = np.full((478, 2), np.nan)
    loops = []
    for (centre, ring), cx in zip(IRISES, (140.0, 60.0)):
        c = np.array([cx, 60.0])
        loop = _ellipse(c, 30.0, 12.0)
        loops.append(loop)
        inside = ((xx - c[0]) / 30.0) ** 2 + ((yy - c[1]) / 12.0) ** 2 <= 1.0
        img[inside] = (235, 238, 240)
        img[inside & (np.abs(yy - c[1]) > 8)] = (215, 218, 222)  # the lids' shadow
        d = np.hypot(xx - c[0], yy - c[1])
        img[inside & (d <= 9)] = (90, 110, 60)
        img[inside & (d <= 5)] = (20, 20, 20)
        L[centre] = c
        L[list(ring)] = c + 9.0 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
    return np.round(img).astype(np.uint8), L, loops


def _dark_centroid(img, loop):
    import cv2

    m = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(loop).astype(np.int32)], 1)
    dark = (img.astype(int).sum(-1) < 200) & (m > 0)
    ys, xs = np.nonzero(dark)
    return np.array([xs.mean(), ys.mean()]), int(dark.sum())


def test_move_irises_moves_each_iris_inside_its_eye_and_nothing_else():
    import cv2

    img, L, loops = _eyes_picture()
    shift = np.array([[7.0, 0.0], [0.0, 0.0]])  # the actor's left iris (image right) moves, the other stays
    out = move_irises(img, L, shift, loops)
    assert out is not img and out.shape == img.shape and out.dtype == np.uint8
    before, n0 = _dark_centroid(img, loops[0])
    after, n1 = _dark_centroid(out, loops[0])
    assert abs(after[0] - before[0] - 7.0) < 1.0 and abs(after[1] - before[1]) < 0.5, (before, after)
    assert abs(n1 - n0) <= 0.1 * n0  # the pupil moved whole, not smeared or cut
    # where the iris's far side was, the white of the eye (filled from around it)
    assert out[60, 131].astype(int).sum() > 3 * 180, out[60, 131]
    # nothing outside the eye openings changes; the other eye not at all
    eyes = np.zeros(img.shape[:2], np.uint8)
    for lp in loops:
        cv2.fillPoly(eyes, [np.round(lp).astype(np.int32)], 1)
    eyes = cv2.dilate(eyes, np.ones((3, 3), np.uint8)) > 0
    assert np.array_equal(out[~eyes], img[~eyes])
    assert np.array_equal(out[:, :100], img[:, :100])
    # no move: the frame itself
    assert move_irises(img, L, np.zeros((2, 2)), loops) is img


def _lid_row(img, x, skin=(150, 170, 205)):
    """The first row from the top where column ``x`` leaves the skin: the upper lid's margin."""
    off = np.abs(img[:, x].astype(int) - skin).sum(-1) > 30
    return int(np.argmax(off))


def test_the_lids_follow_an_iris_moved_down_and_nothing_far_from_the_eye_changes():
    img, L, loops = _eyes_picture()
    out = move_irises(img, L, np.array([[0.0, 6.0], [0.0, 0.0]]), loops)  # the eye at x 110..170 looks down
    before, _ = _dark_centroid(img, loops[0] + (0, 6))
    after, _ = _dark_centroid(out, loops[0] + (0, 6))
    assert abs(after[1] - before[1] - 6.0) < 1.0 and abs(after[0] - before[0]) < 0.5, (before, after)
    # the upper lid comes down with the iris at the middle of the eye, hardly at its corners
    assert abs(_lid_row(out, 140) - _lid_row(img, 140) - 6) <= 1, (_lid_row(img, 140), _lid_row(out, 140))
    assert abs(_lid_row(out, 112) - _lid_row(img, 112)) <= 1
    # the lower lid follows a little (LID_FOLLOW[1]): the white still ends within 3 px of where it did
    low = lambda im: int(np.flatnonzero(np.abs(im[:, 140].astype(int) - (150, 170, 205)).sum(-1) > 30).max())
    assert 0 <= low(out) - low(img) <= 3, (low(img), low(out))
    # the other eye, and the skin well above and below the eye, as they were
    assert np.array_equal(out[:, :100], img[:, :100])
    assert np.array_equal(out[:15], img[:15]) and np.array_equal(out[100:], img[100:])
    # a shut eye (its opening a sliver) is left as it is
    shut = [_ellipse(loops[0].mean(0), 30.0, 1.5), loops[1]]
    assert move_irises(img, L, np.array([[0.0, 6.0], [0.0, 0.0]]), shut) is img
    # up: the lid goes up with the iris
    up = move_irises(img, L, np.array([[0.0, -5.0], [0.0, 0.0]]), loops)
    assert abs(_lid_row(up, 140) - _lid_row(img, 140) + 5) <= 1


def test_iris_shift_is_the_move_the_tracker_reads_as_the_asked_gaze(carphone_track):
    """The tracked sample clip: a gaze key of (+0.2, +0.1) rad on both eyes moves the irises by
    iris_shift; the tracker's gaze estimate on the moved iris centres reads the key back."""
    tr = carphone_track
    r = int(np.flatnonzero(np.asarray(tr.tracked, bool))[len(tr.tracked) // 2])
    req = X._copy(tr)
    req.gaze = np.array(req.gaze, np.float64)
    req.gaze[r] += (0.2, 0.1, 0.2, 0.1)
    s = iris_shift(tr, req, r, r)
    assert s.shape == (2, 2) and np.isfinite(s).all()
    pose = np.asarray(tr.pose, np.float64)[r:r + 1]
    R, t, cam = euler_to_matrix(pose[:, :3]), pose[:, 3:], tr.camera()
    px = np.asarray(tr.landmarks, np.float64)[r][[c for c, _ in IRISES], :2][None]
    g0 = gaze_from_iris(px, tr.identity, R, t, cam)[0]
    g1 = gaze_from_iris(px + s[None], tr.identity, R, t, cam)[0]
    assert np.allclose(g1 - g0, (0.2, 0.1, 0.2, 0.1), atol=0.03), (g1 - g0)
    # a gaze beyond what the tracker reads is not an eye's turn: no move
    req.gaze[r] = (5.0, 0.0, 5.0, 0.0)
    assert np.isnan(iris_shift(tr, req, r, r)).all()


def test_an_iris_pushed_into_the_eye_s_corner_does_not_fit():
    from reenact.render.irises import fits

    _, L, loops = _eyes_picture()  # eyes 60 px wide, irises of radius 9
    assert fits(L, np.array([[7.0, 0.0], [-7.0, 2.0]]), loops)
    assert not fits(L, np.array([[24.0, 0.0], [0.0, 0.0]]), loops)  # 6 px from the corner: cut off there
    assert not fits(L, np.array([[0.0, 0.0], [0.0, 20.0]]), loops)  # below the eye
    assert not fits(L, np.array([[np.nan, 0.0], [0.0, 0.0]]), loops)


def test_iris_circle_finds_the_picture_s_iris_near_a_tracked_ring_that_is_off():
    """iris_circle: the synthetic eye's iris (radius 9, lids over its top and bottom) is found from
    a tracked ring 2 px to the side and 20 % too small, and from one 25 % too large; a flat eye
    (no edge) keeps the tracked ring; the iris moved from a ring too small leaves no dark rim."""
    import cv2

    from reenact.render.irises import iris_circle

    img, L, loops = _eyes_picture()
    c = L[IRISES[0][0]]
    eye = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(eye, [np.round(loops[0] * 16).astype(np.int32)], 1, cv2.LINE_AA, 4)
    eye = eye.astype(np.float32)
    for off, r in (((2.0, 0.0), 7.2), ((-1.5, 0.0), 11.25)):
        got_c, got_r = iris_circle(img, eye, c + off, r)
        assert abs(got_r - 9.0) <= 0.8 and np.abs(got_c - c).max() <= 0.8, (off, r, got_c - c, got_r)
    flat = np.full_like(img, 200)
    got_c, got_r = iris_circle(flat, eye, c + (2.0, 0.0), 7.2)
    assert np.allclose(got_c, c + (2.0, 0.0)) and got_r == 7.2
    # the move from a ring 20 % too small: nothing dark stays where the iris's rim was
    small = L.copy()
    for centre, ring in IRISES:
        small[list(ring)] = small[centre] + 0.8 * (L[list(ring)] - L[centre])
    out = move_irises(img, small, np.array([[8.0, 0.0], [8.0, 0.0]]), loops)
    rim = (np.hypot(*(np.mgrid[0:img.shape[0], 0:img.shape[1]][::-1] - c[:, None, None])) > 7.5) & \
          (np.mgrid[0:img.shape[0], 0:img.shape[1]][1] < c[0] - 6) & (eye > 0.5)
    assert out[rim].astype(int).sum(-1).min() > 400, out[rim].astype(int).sum(-1).min()


def test_a_small_move_pushes_the_iris_and_fills_nothing():
    """A move of a few pixels slides the iris and the white beside it (push_field): nothing is
    inpainted, so an eye-opening loop that sits off the picture's lids (as the mesh's and the
    tracker's can on dark, soft eyes) leaves no piece of the old iris behind and no pale fill
    over the lid; the iris moves whole; the eye's corners and everything beyond the push stay."""
    from reenact.render import irises

    img, L, loops = _eyes_picture()
    low = [loops[0] + (0.0, 10.0), loops[1]]  # the loop off the picture's opening: the pupil's top outside it
    whole = np.array([[105, 40], [175, 40], [175, 80], [105, 80]], np.float64)
    for lp in (loops, low):
        out = move_irises(img, L, np.array([[3.0, 0.0], [0.0, 0.0]]), lp)
        before, n0 = _dark_centroid(img, whole)
        after, n1 = _dark_centroid(out, whole)
        assert abs(after[0] - before[0] - 3.0) < 0.5 and abs(after[1] - before[1]) < 0.3, (before, after)
        assert abs(n1 - n0) <= 0.05 * n0  # the whole pupil moved: none of it left above the loop
        # the corners (columns 110 and 170) and what lies beyond them do not move
        assert np.array_equal(out[:, :111], img[:, :111]) and np.array_equal(out[:, 170:], img[:, 170:])
        # the push fades out: well above and below the eye nothing changes
        assert np.array_equal(out[:30], img[:30]) and np.array_equal(out[92:], img[92:])
    # a larger move than PUSH_MAX of the radius takes the white-fill path (as the first test)
    assert irises.push_field(np.ones((40, 80), np.float32), (40.0, 20.0), 9.0, (7.0, 0.0)) is None
    assert irises.push_field(np.ones((40, 80), np.float32), (40.0, 20.0), 9.0, (3.0, 0.0)) is not None
