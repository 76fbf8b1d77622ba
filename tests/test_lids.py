# SPDX-License-Identifier: GPL-3.0-or-later
"""Lids slid shut over the footage's own eyes (render/lids.py): a blink key no frame of the shot
shows. The upper lid comes down over an eyeball that stays where it is (not squeezed into the
slit), keys that keep the eye open change nothing, and nothing far from the eye changes."""

import numpy as np

from reenact.render.eyes import EYE_PAIRS
from reenact.render.lids import close_lids, lid_chains, lid_keep

from test_irises import _dark_centroid, _ellipse, _eyes_picture


def _white(img):
    return int((img.astype(int).sum(-1) > 600).sum())


def test_lid_chains_split_a_loop_into_its_upper_and_lower_lid():
    xs, up, lo = lid_chains(_ellipse((100.0, 50.0), 30.0, 10.0))
    assert xs[0] == 70 and xs[-1] == 130
    mid = int(np.argmin(np.abs(xs - 100)))
    assert abs(up[mid] - 40.0) < 0.5 and abs(lo[mid] - 60.0) < 0.5
    assert (up <= lo + 1e-9).all()


def test_a_blink_slides_the_upper_lid_down_over_an_eyeball_that_stays():
    img, L, loops = _eyes_picture()
    c = loops[0].mean(0)
    out, w = close_lids(img, loops, [0.5, 1.0])  # the eye at x 110..170 half shut, the other as it is
    assert out is not img and w is not None and w.shape == img.shape[:2]
    # the white above the new margin is covered by the skin the lid brought down ...
    assert _white(out[:, 100:]) < 0.65 * _white(img[:, 100:])
    assert (np.abs(out[50, 140].astype(int) - (150, 170, 205)).sum() < 40), out[50, 140]
    # ... while the pupil, where the slit still shows it, is where it was, not squeezed
    slit = _ellipse(c + (0, 3.6), 30.0, 6.0)  # (the lids meet 0.8 of the way down)
    before, n0 = _dark_centroid(img, slit)
    after, n1 = _dark_centroid(out, slit)
    assert np.abs(after - before).max() < 0.6 and abs(n1 - n0) <= 0.1 * n0, (before, after, n0, n1)
    # the other eye and the skin far from the eye as they were
    assert np.array_equal(out[:, :100], img[:, :100]) and w[:, :90].max() == 0
    assert np.array_equal(out[:8], img[:8]) and np.array_equal(out[112:], img[112:])
    # shut: hardly any white left
    shut, _ = close_lids(img, loops, [0.0, 1.0])
    assert _white(shut[:, 100:]) < 0.1 * _white(img[:, 100:])


def test_lids_kept_open_change_nothing():
    img, L, loops = _eyes_picture()
    out, w = close_lids(img, loops, [1.0, 1.5])
    assert out is img and w is None


def _open_rows(tr, n=1):
    """The ``n`` tracked rows of ``tr`` whose eyes are the most open (the fitted blinks lowest)."""
    names = [str(n) for n in tr.expression_names]
    b = np.asarray(tr.expression, np.float64)[:, [names.index("eyeBlinkLeft"), names.index("eyeBlinkRight")]].max(1)
    b = np.where(np.asarray(tr.tracked, bool) & np.isfinite(b), b, np.inf)
    return [int(r) for r in np.argsort(b, kind="stable")[:n]]


def _keyed(tr, rows, **values):
    """``tr``'s performance with the expression coefficients ``values`` (name: value) keyed on
    ``rows``, its rows kept as the footage's."""
    from reenact.face import transfer as X

    names = [str(n) for n in tr.expression_names]
    req = X._copy(tr)
    req.expression = np.array(req.expression, np.float64)
    for n, v in values.items():
        req.expression[np.asarray(rows, np.int64), names.index(n)] = v
    return req.with_footage_rows(tr)


def test_lid_keep_reads_a_key_between_the_footage_and_shut(carphone_track):
    tr = carphone_track
    r = _open_rows(tr)[0]
    names = [str(n) for n in tr.expression_names]
    assert np.allclose(lid_keep(tr, tr, r, r, EYE_PAIRS), 1.0)
    for v, lo, hi in ((1.0, 0.0, 0.05), (0.5, 0.1, 0.9)):
        req = tr.subset(0, tr.n_frames)
        req.expression = np.array(req.expression, np.float64)
        req.expression[r, names.index("eyeBlinkLeft")] = max(v, req.expression[r, names.index("eyeBlinkLeft")])
        req.expression[r, names.index("eyeBlinkRight")] = max(v, req.expression[r, names.index("eyeBlinkRight")])
        k = lid_keep(tr, req, r, r, EYE_PAIRS)
        assert k.shape == (2,) and ((lo <= k) & (k <= hi)).all(), (v, k)


def test_a_blink_key_no_frame_shows_closes_the_frames_own_lids(carphone_track, carphone, monkeypatch):
    """The render path: a blink key beyond every footage frame's lids (the shot's eyes' reach
    set below zero) is drawn by sliding the frame's own lids shut, not by the mesh squeeze."""
    from reenact.render import eyes
    from reenact.render.eyes import ShotEyes
    from reenact.render.meshes import _mesh
    from reenact.render.motion import HeadMotion
    from reenact.video import open_video

    monkeypatch.setattr(eyes, "EDIT_LIDS_REACH", -1.0)
    tr = carphone_track
    f0 = int(tr.frame_start)
    rows = _open_rows(tr, 3)
    req = _keyed(tr, rows, eyeBlinkLeft=1.0, eyeBlinkRight=1.0)
    hm = HeadMotion(tr, req).with_shot_eyes(ShotEyes(tr, carphone))
    try:
        with open_video(carphone) as src:
            for r in rows:
                assert hm.edits(r) and hm.eye_source(r) is None and hm.lids_move(r), r
                frame = src.read(r + f0)
                out, _ = hm.face_frame(r, frame)
                squeezed = hm._moved(frame, hm.field(r, frame.shape, hm.detail_box(r, frame.shape), head_model="plane"), r)[0]
                d = np.abs(out.astype(int) - squeezed.astype(int)).max(-1)
                assert d.max() > 20  # the eyes are drawn otherwise than the mesh squeezes them ...
                ys, xs = np.nonzero(d > 3)
                eye_pts = hm.ps[r][np.concatenate([list(lp) for lp in _mesh().eyes])]
                lo, hi = eye_pts.min(0), eye_pts.max(0)
                w = hi[0] - lo[0]
                # ... and only around them
                assert xs.min() >= lo[0] - w and xs.max() <= hi[0] + w and ys.min() >= lo[1] - w and ys.max() <= hi[1] + w
    finally:
        hm.close()


def test_a_shot_blink_that_closes_too_little_is_set_aside(carphone_track, carphone):
    """ShotEyes takes a footage frame's blink for a shut key only where it closes nearly as far
    (EDIT_LIDS_SHUT of the way between the row's open lids and shut); else the row's own lids
    are slid shut."""
    from reenact.render.eyes import EDIT_LIDS_SHUT, ShotEyes, eye_shapes

    tr = carphone_track
    r = _open_rows(tr)[0]
    req = _keyed(tr, [r], eyeBlinkLeft=1.0, eyeBlinkRight=1.0)
    oq, ox = eye_shapes(req, [r])[1][0], eye_shapes(tr, [r])[1][0]
    se = ShotEyes(tr, carphone)
    try:
        span = ox - oq  # (the key is the row's face shut: oq is the shut opening)
        assert se._shuts_less(r, oq + (EDIT_LIDS_SHUT + 0.05) * span, oq, ox)
        assert not se._shuts_less(r, oq + (EDIT_LIDS_SHUT - 0.05) * span, oq, ox)
    finally:
        se.close()


def _narrow_eye():
    """A 120 x 120 face with one narrow eye (opening 30 x 6 px half-axes) whose lids hide the top
    and bottom of its iris (radius 9): the picture, its landmarks, its loop (which follows the lids
    exactly; where a mesh's loop runs over the lashes, they are carried into the iris)."""
    from reenact.render.irises import IRISES

    H = W = 120
    img = np.zeros((H, W, 3), np.float32) + (150, 170, 205)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    c = np.array([60.0, 60.0])
    inside = ((xx - c[0]) / 30.0) ** 2 + ((yy - c[1]) / 6.0) ** 2 <= 1.0
    d = np.hypot(xx - c[0], yy - c[1])
    img[inside] = (235, 238, 240)
    img[inside & (d <= 9)] = (90, 110, 60)
    img[inside & (d <= 4)] = (20, 20, 20)
    L = np.full((478, 2), np.nan)
    centre, ring = IRISES[0]
    L[centre] = c
    L[list(ring)] = c + 9.0 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
    return np.round(img).astype(np.uint8), L, [_ellipse(c, 30.0, 6.0)]


def test_lids_opened_wider_uncover_the_eyes_own_white_and_a_whole_iris():
    from reenact.render.lids import open_lids

    img, L, loops = _narrow_eye()
    out, w = open_lids(img, loops, [1.5], L)
    assert out is not img and w is not None
    assert _white(out) > 1.3 * _white(img)  # more white shows
    col = np.abs(out[:, 60].astype(int) - (150, 170, 205)).sum(-1) > 30  # the middle column's opening
    col0 = np.abs(img[:, 60].astype(int) - (150, 170, 205)).sum(-1) > 30
    assert col.sum() >= col0.sum() + 4, (col0.sum(), col.sum())
    # the iris, which the lids cut to 12 px high, shows whole now (its hidden top and bottom drawn
    # from the part the lids showed), still centred where it was
    green = (np.abs(out.astype(int) - (90, 110, 60)).sum(-1) < 40) | (out.astype(int).sum(-1) < 100)
    ys, xs = np.nonzero(green)
    assert ys.max() - ys.min() + 1 >= 16 and abs(xs.mean() - 60) < 1.0 and abs(ys.mean() - 60) < 1.5
    pupil = np.nonzero(out.astype(int).sum(-1) < 100)[0]  # not stretched with the white
    assert pupil.max() - pupil.min() + 1 <= 10, (pupil.min(), pupil.max())
    # far from the eye nothing changes; a key that keeps the eye does nothing
    assert np.array_equal(out[:, :20], img[:, :20]) and np.array_equal(out[:, 100:], img[:, 100:])
    same, w1 = open_lids(img, loops, [1.0], L)
    assert same is img and w1 is None


def test_a_wide_key_slides_the_frames_own_lids_open_and_leaves_no_hole(carphone_track, carphone):
    """The render path: eyeWide keyed on open-eyed rows of the sample clip (no footage frame
    opens that wide) is drawn by sliding the row's own lids open; the network is left no eye hole
    to fill there."""
    from reenact.render.eyes import ShotEyes
    from reenact.render.motion import HeadMotion
    from reenact.video import open_video

    tr = carphone_track
    rows = _open_rows(tr, 2)
    req = _keyed(tr, rows, eyeWideLeft=1.0, eyeWideRight=1.0)
    hm = HeadMotion(tr, req).with_shot_eyes(ShotEyes(tr, carphone))
    tested = 0
    try:
        with open_video(carphone) as src:
            for r in rows:
                if hm.eye_source(r) is not None:
                    continue  # (a footage frame opens that wide: its eyes are drawn)
                tested += 1
                assert hm.lids_move(r) and float(np.max(hm._lid_rows[r])) > 1.0, r
                frame = src.read(r + int(tr.frame_start))
                out, f = hm.face_frame(r, frame)
                plain, g = HeadMotion(tr, req).face_frame(r, frame)
                assert np.abs(out.astype(int) - plain.astype(int)).max() > 10
                assert not f.eye_hole.any() and (f.valid[g.eye_hole] == 1).all()
    finally:
        hm.close()
    assert tested


def test_a_moved_head_asked_to_squint_beyond_the_shot_gets_its_lids_slid(carphone_track, carphone):
    """Region head draws a moved head's eyes from the footage frame nearest in lids; where the
    asked lids keep less than HEAD_LIDS_SLIDE of that frame's opening (d20 never squints, the
    driver grins with his eyes), the eye is drawn at its own opening (a similarity fitted on the
    loop, not squeezed into the asked one, iris and all) and its lids slid to the asked share.
    The share is the median over the row and its neighbours: a one-frame twitch of the tracked
    driver's lids is not drawn."""
    from types import SimpleNamespace

    from reenact.render.eyes import HEAD_LIDS_SLIDE, eye_maps, head_lids_keep, slide_lids
    from reenact.render.meshes import _mesh
    from reenact.render.shotframes import ShotFrames

    tr = carphone_track
    r = next(k for k in _open_rows(tr, 20) if 1 <= k < len(tr.expression) - 1)
    j = r
    with ShotFrames(tr, carphone) as shot:
        asked = _keyed(tr, [r - 1, r, r + 1], eyeBlinkLeft=0.85, eyeBlinkRight=0.85)
        keep = head_lids_keep(shot, j, asked, r)
        assert keep is not None and np.isfinite(keep).all() and (keep < HEAD_LIDS_SLIDE).all(), keep
        assert head_lids_keep(shot, j, _keyed(tr, [r], eyeBlinkLeft=0.85, eyeBlinkRight=0.85), r) is None
        assert head_lids_keep(shot, j, tr, r) is None
        # the map that keeps the frame's own opening is a similarity (no vertical squeeze)
        from reenact.render.head import posed_points

        pd = posed_points(asked, [r])[0][0]
        squeezed = eye_maps(shot, j, pd)
        own = eye_maps(shot, j, pd, own_opening=[True, True])
        for A, B in zip(squeezed, own):
            assert abs(B[0, 0] - B[1, 1]) < 1e-6 and abs(B[0, 1] + B[1, 0]) < 1e-6, B
            assert abs(A[1, 1] / A[0, 0]) > 1.2  # (the asked opening is narrower: squeezed there)

    # the lids slide as close_lids slides them, on the loops the maps drew the eyes at
    img, _, loops = _eyes_picture()
    ps = np.zeros((468, 2))
    for lp, loop in zip(_mesh().eyes, loops):
        c = loop.mean(0)
        t = np.linspace(0, 2 * np.pi, len(lp), endpoint=False)
        ps[list(lp)] = np.stack([c[0] + 30.0 * np.cos(t), c[1] + 12.0 * np.sin(t)], 1)
    eye = [ps[list(lp)] for lp in _mesh().eyes]
    I = np.float64([[1, 0, 0], [0, 1, 0]])
    got = slide_lids(SimpleNamespace(ps=[ps]), 0, [I, I], img, np.array([0.5, np.nan]))
    want, _ = close_lids(img, eye, [0.5, 1.0])
    assert np.array_equal(got, want) and not np.array_equal(got, img)


def test_a_slanted_eye_closes_on_a_line_not_a_staircase():
    """The lids' move jumps at their new margins; sampled once per pixel row, a margin that runs
    across the rows (a slanted eye) came out as a staircase of dark dashes with light steps
    between them, over a light line (the white of the eye the footage's blur spreads below the
    loop, brought up with the lower lid): d12 -> d20's closed eyes at 3x. Each pixel is now the
    mean of sub-rows and the rising lower lid leaves its rim out: the closed line's darkness
    follows the slant within a few hundredths of a pixel, evenly dark, with skin (not a lighter
    line) beside it."""
    import cv2

    H, W, S = 90, 160, 8  # (drawn at 8x and area-reduced: its own edges are not staircases)
    img = np.full((H * S, W * S, 3), 160, np.float32)
    yy, xx = (np.mgrid[0:H * S, 0:W * S].astype(np.float64) + 0.5) / S - 0.5
    c, a, b, tilt = np.array([80.0, 45.0]), 40.0, 10.0, np.deg2rad(9.0)
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    loop = c + np.stack([a * np.cos(t) * np.cos(tilt) - b * np.sin(t) * np.sin(tilt),
                         a * np.cos(t) * np.sin(tilt) + b * np.sin(t) * np.cos(tilt)], 1)
    u = (xx - c[0]) * np.cos(tilt) + (yy - c[1]) * np.sin(tilt)
    v = -(xx - c[0]) * np.sin(tilt) + (yy - c[1]) * np.cos(tilt)
    inside = (u / a) ** 2 + (v / b) ** 2 <= 1.0
    img[inside] = 235  # the white of the eye
    img[(~inside) & (v < 0) & ((u / a) ** 2 + (v / (b + 3.0)) ** 2 <= 1.0)] = 30  # the lash line
    img = cv2.GaussianBlur(cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA), (0, 0), 0.8)
    img += np.random.default_rng(0).uniform(-6.0, 6.0, img.shape[:2])[..., None]  # the skin's grain
    out, _ = close_lids(np.clip(img.round(), 0, 255).astype(np.uint8), [loop], [0.0])
    g = out.astype(np.float64).mean(-1)
    xs, us, ls = lid_chains(loop)
    line = us + 0.8 * (ls - us)  # where the lids meet (UPPER_SHARE of the way down)
    cs, ys, darkest, light = [], [], [], []
    for x in range(int(c[0] - 0.6 * a), int(c[0] + 0.6 * a)):
        y0 = int(round(np.interp(x, xs, line)))
        seg = g[y0 - 6:y0 + 7, x]
        w = np.clip(150.0 - seg, 0, None)  # darkness
        assert w.sum() > 0, x
        cs.append(x)
        ys.append(float((np.arange(y0 - 6, y0 + 7) * w).sum() / w.sum()))
        darkest.append(seg.min())
        light.append(seg.max() - 160.0)
    cs, ys = np.array(cs, float), np.array(ys)
    fit = np.polyval(np.polyfit(cs, ys, 2), cs)
    assert np.sqrt(np.mean((ys - fit) ** 2)) < 0.05, np.round(ys - fit, 2)
    assert np.abs(np.diff(darkest)).max() <= 10, np.round(darkest)  # (before: 13)
    assert max(darkest) < 100  # (a line, not faded away)
    assert np.mean(light) < 6.0 and max(light) < 12.0, np.round(light)  # the grain is +-6 (before: 23.6, 43)
    # beside the eye, where nothing moves, the frame's own pixels (not a sub-row blur of them:
    # the first version of the sub-rows blurred every pixel of the lids' box a little)
    src = np.clip(img.round(), 0, 255).astype(np.uint8)
    beside = slice(int(np.ceil(xs[-1])) + 2, int(np.ceil(xs[-1])) + 8)
    assert np.array_equal(out[:, beside], src[:, beside])
