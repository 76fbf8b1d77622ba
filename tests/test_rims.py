# SPDX-License-Identifier: GPL-3.0-or-later
"""A glasses rim over the eyes stays where the glasses are (render/rims.py): it is found as a long
thin line across an eye and beyond its corners, taken out of the frames the eyes are drawn from,
and laid back where the head's rigid motion carries it, so a blink no longer bends it."""

import numpy as np
import pytest

from reenact.render import rims as RM

from test_irises import _ellipse, _eyes_picture


def _with_rim(img, y=40.0, x0=10, x1=190, dark=(60, 60, 70)):
    """``img`` with a 3 px dark rim along y = ``y`` + a slight bow, from x0 to x1 (a pair of
    glasses over both eyes of :func:`test_irises._eyes_picture`)."""
    out = img.astype(np.float32).copy()
    for x in range(x0, x1):
        yc = y - 0.00015 * (x - 100) ** 2 * 10
        for yy in range(int(yc) - 2, int(yc) + 3):
            w = float(np.clip(2.0 - abs(yy - yc), 0.0, 1.0))
            out[yy, x] = (1 - w) * out[yy, x] + w * np.asarray(dark, np.float32)
    return np.round(out).astype(np.uint8)


def _textured(img, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape[:2])[..., None], 0, 255).astype(np.uint8)


def test_a_rim_across_the_eyes_is_found_taken_out_and_laid_back_exactly():
    face, _, loops = _eyes_picture()
    face = _textured(face)
    img = _with_rim(face)
    rims = RM.find_rims(img, loops)
    assert len(rims) == 2 and min(r.score for r in rims) >= RM.MIN_SCORE
    clean = RM.without_rims(img, rims)
    # the rim's rows over the eyes' span are skin again (within the texture's few levels)
    for x in (40, 60, 80, 120, 140, 160):
        yc = int(round(40.0 - 0.0015 * (x - 100) ** 2))
        assert np.abs(clean[yc - 1:yc + 2, x].astype(int) - face[yc - 1:yc + 2, x].astype(int)).max() <= 12, x
        assert np.abs(img[yc, x].astype(int) - face[yc, x].astype(int)).max() > 60  # (the rim was there)
    # the eyes themselves untouched
    for lp in loops:
        (xa, ya), (xb, yb) = lp.min(0).astype(int), lp.max(0).astype(int)
        assert np.array_equal(clean[ya + 2:yb, xa:xb], img[ya + 2:yb, xa:xb])
    # laid back where it was: the frame's own pixels
    assert np.array_equal(RM.paste_rims(clean, [(rims, None, 1.0)]), img)


def test_a_rim_laid_back_moves_with_the_affine():
    face, _, loops = _eyes_picture()
    img = _with_rim(_textured(face))
    rims = RM.find_rims(img, loops)
    A = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -3.0]])  # the head moved 2 px right, 3 up
    moved = RM.paste_rims(RM.without_rims(img, rims), [(rims, A, 1.0)])
    x = 60
    yc = int(round(40.0 - 0.0015 * (x - 2 - 100) ** 2))
    assert moved[yc - 3, x].astype(int).sum() < 260  # dark where the rim went
    assert np.abs(moved[yc + 1, x].astype(int) - face[yc + 1, x].astype(int)).max() <= 12  # skin where it was
    # the rim's affine from points: a pure translation found exactly
    P = np.random.default_rng(1).uniform(0, 100, (30, 2))
    assert np.allclose(RM.rim_affine(P, P + (2.0, -3.0)), A)


def test_no_rim_without_glasses():
    """A lid's crease (a dark curve over the eye that ends at its corners) and a brow (a soft
    dark arch above it) are not a rim."""
    import cv2

    face, _, loops = _eyes_picture()
    img = face.astype(np.float32).copy()
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]].astype(np.float32)
    for lp in loops:
        c = lp.mean(0)
        crease = _ellipse(c + (0, 2.0), 30.0, 16.0)
        for x, y in crease[crease[:, 1] < c[1]]:
            img[int(round(y)), int(round(x))] = (70, 70, 80)
        arch = (np.hypot((xx - c[0]) / 36.0, (yy - c[1] - 8.0) / 40.0) < 1.0) & (
            np.hypot((xx - c[0]) / 40.0, (yy - c[1] - 8.0) / 48.0) >= 1.0)
        brow = cv2.GaussianBlur(arch.astype(np.float32), (0, 0), 2.0)[..., None]
        img = img * (1 - 0.7 * brow) + 0.7 * brow * np.float32((50, 50, 60))
    img = np.round(img).astype(np.uint8)
    assert RM.find_rims(img, loops) == []
    assert RM.find_rims(_textured(face), loops) == []


@pytest.fixture(scope="module")
def d13_blink():
    """driving_d13 (glasses whose rim lies just above his upper lids) tracked, and his own
    performance with both eyes closed on every row (the head where it was)."""
    from conftest import shared_clip

    from reenact.face import transfer as X
    from reenact.tracking.tracker import track_video

    clip = shared_clip("driving_d13.mp4")
    tr = track_video(clip)[0]
    names = list(tr.expression_names)
    req = X._copy(tr)
    req.expression = np.array(req.expression)
    for n in ("eyeBlinkLeft", "eyeBlinkRight"):
        req.expression[:, names.index(n)] = 1.0
    return clip, tr, req.with_footage_rows(tr)


def _band_errors(clip, tr, make, draw, enabled, rows=(20, 180)):
    """(mean |drawn - footage| on the footage's rim band, per eye and row; mean change inside the
    eye openings) of the rows ``draw(obj, r, frame)`` draws with ``obj = make()``, the rims'
    handling on or off."""
    from reenact.render.donor import ClipFrames
    from reenact.render.head import posed_points

    P = posed_points(tr)[0]
    frames = ClipFrames(clip)
    score = RM.SHOT_SCORE
    RM.SHOT_SCORE = score if enabled else np.inf
    try:
        obj = make()
    finally:
        RM.SHOT_SCORE = score
    errs, closed = [], []
    try:
        for r in rows:
            fr = frames.clip_frame(r)
            out, g = draw(obj, r, fr)
            assert g is not None
            loops = RM.eye_loops(P[r])
            for rim, lp in zip(RM.find_rims(fr, loops), loops):
                x0, y0, x1, y1 = rim.box
                band = rim.alpha > 0.99
                errs.append(float(np.abs(out[y0:y1, x0:x1].astype(float) - fr[y0:y1, x0:x1])[band].mean()))
                (xa, ya), (xb, yb) = lp.min(0).astype(int), lp.max(0).astype(int)
                closed.append(float(np.abs(out[ya:yb, xa:xb].astype(float) - fr[ya:yb, xa:xb]).mean()))
    finally:
        obj.close()
        frames.close()
    return errs, closed


def _check(errs, closed, before, rows=2):
    assert len(errs) == 2 * rows, errs  # (a rim over each eye)
    assert min(closed) > 10, closed  # the eyes did close
    # the rim where it was: the footage's own band, within the tracking's sub-pixel jitter (7-9
    # levels on d13 for region head, 28-36 before)
    assert max(errs) < 12.0, errs
    assert np.mean(before) > 2 * np.mean(errs) + 4, (before, errs)  # (what it was: carried down with the lids)


def test_a_blink_leaves_the_glasses_rim_where_it_was(d13_blink):
    """Region head (a full reenactment's drawing) asked to close d13's eyes used to bend his
    glasses rim down with the lids (the warp and the lids' slide carried it)."""
    from reenact.render.shothead import ShotHead

    clip, tr, req = d13_blink

    def make():
        sh = ShotHead(tr, req, clip)
        assert sh.rimless == (RM.SHOT_SCORE < np.inf)
        return sh

    errs, closed = _band_errors(clip, tr, make, lambda sh, r, fr: sh.frame(r, fr), True)
    before, _ = _band_errors(clip, tr, make, lambda sh, r, fr: sh.frame(r, fr), False)
    _check(errs, closed, before)


def test_a_blink_key_leaves_the_glasses_rim_where_it_was(d13_blink):
    """The same blink as an animator's key on the footage's own face (region face: the frame's
    own face warped, its eyes from the shot's nearest frame or its lids slid)."""
    from reenact.render.eyes import ShotEyes
    from reenact.render.motion import HeadMotion

    clip, tr, req = d13_blink

    class Face:
        def __init__(self):
            self.eyes = ShotEyes(tr, clip)
            self.m = HeadMotion(tr, req).with_shot_eyes(self.eyes)
            assert self.eyes.rimless == (RM.SHOT_SCORE < np.inf)

        def close(self):
            self.eyes.close()

    errs, closed = _band_errors(clip, tr, Face, lambda o, r, fr: o.m.face_frame(r, fr), True)
    before, _ = _band_errors(clip, tr, Face, lambda o, r, fr: o.m.face_frame(r, fr), False)
    _check(errs, closed, before)


def test_the_glasses_answer_is_kept_and_a_head_without_eye_frames_takes_it(d13_blink):
    """Whether a shot wears glasses is looked for once per footage (a Preview Frame makes its
    shot's frames anew each time), and a moved head drawn without frames of its own for the eyes
    and brows takes the rims out of its own frames all the same."""
    from reenact.render.donor import ClipFrames
    from reenact.render.shothead import ShotHead
    from reenact.render.shotframes import ShotFrames

    clip, tr, req = d13_blink
    rows = np.flatnonzero(tr.tracked)
    with ShotFrames(tr, clip) as first:
        assert RM.shot_has_rims(first, rows)

    class Counting(ShotFrames):
        calls = 0

        def rims(self, j, frame=None):
            Counting.calls += 1
            return super().rims(j, frame)

    with Counting(tr, clip) as again:
        assert RM.shot_has_rims(again, rows) and Counting.calls == 0
    sh = ShotHead(tr, req, clip, eyes=False, brows=False)
    frames = ClipFrames(clip)
    try:
        assert sh.rimless and sh._eye_frames is None and sh._brow_frames is None
        out, g = sh.frame(20, frames.clip_frame(20))
        assert g is not None and out.shape == frames.clip_frame(20).shape
    finally:
        sh.close()
        frames.close()


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
