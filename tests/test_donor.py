# SPDX-License-Identifier: GPL-3.0-or-later
"""The mouth dub's driver mouth (render/donor.py, ``render --mouth-from``): the driver's mouth
interior lands in the requested opening, nothing changes outside the lower face, closed lips
take no interior, the face above the upper lip stays, and a driver that does not belong to the
performance is refused with one line."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from reenact.face import transfer as X
from reenact.render.donor import (INNER_LIP, INTERIOR_GROW, LOWER_FACE, OUTER_LIP, MouthDonor, fill_lip_line,
                                  lower_face_weights, open_donor, pin_upper_face)
from reenact.render.head import posed_points
from reenact.render.whites import _eye_loops, eye_white, white_tint
from reenact.video import VideoWriter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLUE = np.array([20, 40, 230], np.uint8)


def _driver_clip(track, path, rate=30):
    """A driver clip the size of ``track``'s footage: grey, with the inside of each frame's
    tracked inner lips (grown by 2 px) pure blue: the 'teeth' that must reach the target."""
    w, h = (int(v) for v in track.size)
    with VideoWriter(path, rate, (w, h), lossless=True) as wr:
        for t in range(track.n_frames):
            fr = np.full((h, w, 3), 128, np.uint8)
            if track.tracked[t]:
                q = np.round(track.landmarks[t][list(INNER_LIP), :2] * 16).astype(np.int32)
                cv2.fillPoly(fr, [q], BLUE.tolist(), shift=4)
                m = cv2.dilate((fr == BLUE).all(2).astype(np.uint8), np.ones((5, 5), np.uint8))
                fr[m > 0] = BLUE
            wr.write(fr)
    return path


def _opened(P, px):
    """The mesh points ``P`` (468, 2) with the lower inner lip and everything below the mouth
    moved down by ``px`` pixels (an opened mouth)."""
    Q = P.copy()
    lower = [317, 14, 87, 178, 88, 95, 324, 318, 402]
    y_lip = P[13, 1]
    below = np.flatnonzero(P[:, 1] > y_lip + 0.5)
    Q[below, 1] += px
    Q[lower, 1] = P[lower, 1] + px
    return Q


def test_lower_face_weights_hold_the_upper_face(carphone_track):
    r = int(np.flatnonzero(carphone_track.tracked)[0])
    P, Z = posed_points(carphone_track, [r])
    w = lower_face_weights(P[0])
    assert w[168] == 0.0 and w[1] == 0.0 and w[33] == 0.0  # nose bridge, nose tip, eye corner
    assert w[152] == 1.0 and w[14] == 1.0 and w[17] == 1.0  # chin, lower lip
    Pd = P + np.array([0.0, 5.0])
    pd, zd = pin_upper_face(P, Z, Pd, Z + 1.0)
    np.testing.assert_allclose(pd[0, 1], P[0, 1])  # the nose tip stays where the footage has it
    np.testing.assert_allclose(pd[0, 152], Pd[0, 152])  # the chin moves as asked


def test_lower_face_weights_fade_toward_the_jaw_angles(carphone_track):
    """A dub's motion fades out toward the face's sides: the jaw's angles below the ears stay
    (moved sideways they drag the cheek over the hair beside it), the chin moves whole."""
    r = int(np.flatnonzero(carphone_track.tracked)[0])
    P = posed_points(carphone_track, [r])[0][0]
    w = lower_face_weights(P)
    assert w[132] < 0.1 and w[361] < 0.1  # the jaw line's ends, below the ears
    assert w[152] == 1.0 and w[61] > 0.9 and w[291] > 0.9  # chin, mouth corners
    jaw = w[list(LOWER_FACE[:17])]  # ear to ear along the jaw: rises toward the chin, then falls
    assert jaw[8] == 1.0 and (np.diff(jaw[:9]) >= -1e-9).all() and (np.diff(jaw[8:]) <= 1e-9).all()


def test_fill_lip_line_removes_the_crease_and_nothing_else(carphone_track):
    """The footage's dark lip line (which a dub's warp would stretch into the opened corners) is
    filled with the colour around it; pixels away from the mouth are untouched."""
    tr = carphone_track
    r = int(np.flatnonzero(tr.tracked)[0])
    own = posed_points(tr, [r])[0][0]
    h, w = (int(v) for v in tr.size[::-1])
    frame = np.full((h, w, 3), (120, 140, 200), np.uint8)  # skin
    line = np.zeros((h, w), np.uint8)
    c = own[list(INNER_LIP)]
    a, b = c[0], c[10]  # the corners: a dark crease from corner to corner, a little beyond
    u = (b - a) / np.linalg.norm(b - a)
    p0, p1 = a - 0.05 * np.linalg.norm(b - a) * u, b + 0.05 * np.linalg.norm(b - a) * u
    cv2.line(line, tuple(int(v) for v in np.round(p0)), tuple(int(v) for v in np.round(p1)), 1, 2)
    frame[line > 0] = (30, 30, 60)
    out = fill_lip_line(frame, own)
    assert out is not frame and out.shape == frame.shape
    err = np.abs(out[line > 0].astype(int) - (120, 140, 200)).max()
    assert err <= 12, err  # the crease is gone
    far = np.ones((h, w), bool)
    lo, hi = np.floor(c.min(0)).astype(int), np.ceil(c.max(0)).astype(int)
    far[max(lo[1] - 20, 0):hi[1] + 20, max(lo[0] - 20, 0):hi[0] + 20] = False
    assert (out[far] == frame[far]).all()
    bad = own.copy()
    bad[13] = np.nan
    assert fill_lip_line(frame, bad) is frame  # no usable mesh: the frame as it is


def test_driver_interior_lands_in_the_requested_opening(carphone_track, tmp_path):
    tr = carphone_track
    video = _driver_clip(tr, str(tmp_path / "driver.mkv"))
    r = int(np.flatnonzero(tr.tracked)[len(np.flatnonzero(tr.tracked)) // 2])
    own = posed_points(tr, [r])[0][0]
    h, w = (int(v) for v in tr.size[::-1])
    rng = np.random.default_rng(0)
    base = np.clip(rng.normal(150, 20, (h, w, 3)), 0, 255).astype(np.uint8)  # the render
    warped = np.full((h, w, 3), (200, 150, 130), np.uint8)  # the footage warped: skin
    frames = np.full(tr.n_frames, np.nan)
    frames[r] = r + int(tr.frame_start)
    with MouthDonor(tr, video, frames) as donor:
        req = _opened(own, 6.0)
        out = donor.lower_face(r, base, warped, req, own)
        shut = own.copy()
        shut[list(INNER_LIP), 1] = own[list(INNER_LIP), 1].mean()
        closed = donor.lower_face(r, base, warped, shut, own)  # the request keeps the lips shut
        other = donor.lower_face(r - 1, base, warped, req, own)  # a row no driver frame drives
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(req[list(INNER_LIP)] * 16).astype(np.int32)], 1, shift=4)
    core = cv2.erode(m, np.ones((3, 3), np.uint8)) > 0
    assert core.sum() >= 10
    inside = out[core].astype(float).mean(0)
    assert inside[2] > inside[0] + 40 and inside[2] > inside[1] + 40, inside  # blue: the driver's interior
    # the lower face is the warped footage, the rest of the frame the render, untouched
    far = np.ones((h, w), bool)
    far[int(own[:, 1].min()) - 2:, :] = False  # everything above the face's top row
    np.testing.assert_array_equal(out[far], base[far])
    chin = np.round(own[152] + [0, -2]).astype(int)
    np.testing.assert_allclose(out[chin[1], chin[0]].astype(float), warped[chin[1], chin[0]], atol=12)
    c2 = closed[core].astype(float).mean(0)
    np.testing.assert_allclose(c2, [200, 150, 130], atol=3)  # closed lips: no interior, only the warped skin
    np.testing.assert_array_equal(other, base)


def _lipped_driver_clip(track, path, lips, scale=1, eyes=None):
    """Like :func:`_driver_clip`, ``scale`` times the size, the inner lips' inside blue and the
    lips around them (the outer lip contour's hull) the colour ``lips``, which also reach 2 px
    inside the inner contour (the tracker's contour sits a little outside the lips' meeting);
    with ``eyes`` the eye loops that colour (their whites) round a dark iris."""
    w, h = (int(v) * scale for v in track.size)
    with VideoWriter(path, 30, (w, h), lossless=True) as wr:
        for t in range(track.n_frames):
            fr = np.full((h, w, 3), 128, np.uint8)
            if track.tracked[t]:
                P = track.landmarks[t][:, :2] * scale
                for loop in (_eye_loops() if eyes is not None else ()):
                    cv2.fillPoly(fr, [np.round(P[loop] * 16).astype(np.int32)], list(eyes), shift=4)
                    c, r = P[loop].mean(0), 0.18 * np.ptp(P[loop][:, 0])
                    cv2.circle(fr, (int(round(c[0])), int(round(c[1]))), max(1, int(round(r))), (60, 40, 30), -1)
                hull = cv2.convexHull(np.round(P[list(OUTER_LIP)] * 16).astype(np.int32))
                cv2.fillConvexPoly(fr, hull, list(lips), shift=4)
                inner = np.zeros((h, w), np.uint8)
                cv2.fillPoly(inner, [np.round(P[list(INNER_LIP)] * 16).astype(np.int32)], 1, shift=4)
                fr[cv2.erode(inner, np.ones((5, 5), np.uint8)) > 0] = BLUE
            wr.write(fr)
    return path


@pytest.mark.parametrize("ORANGE, PINK", [
    ((230, 110, 70), (200, 100, 130)),  # d10's orange lips onto d14's pink lipstick
    ((205, 109, 101), (112, 56, 35)),  # d10's pale lips onto a warm-lit target's dark lips: drawn
    # lilac while each channel's gain was clipped on its own (blue asked 0.34, held at 0.5)
], ids=["orange-onto-pink", "pale-onto-dark"])
def test_the_driver_s_lips_take_the_target_s_lip_colour(carphone_track, tmp_path, monkeypatch, ORANGE, PINK):
    """The interior reaches over the lips' inner edge, bringing the driver's lips with it; they
    are recoloured to the target's lips (d10's orange lips onto d14's pink ones read as painted
    on: docs/compositing.md), their hue too where the brightness differs much. Checked against
    the same draw without the recolouring, which shows the driver's lips there."""
    s = 4  # carphone's mouth is ~20 px wide: four times the size, so the lips are a band
    tr = X._copy(carphone_track)
    tr.landmarks = np.array(tr.landmarks, np.float64)
    tr.landmarks[..., :2] *= s
    tr.size = np.asarray(tr.size) * s
    SKIN = (200, 150, 130)  # ORANGE: the driver's lips, PINK: the target's
    video = _lipped_driver_clip(carphone_track, str(tmp_path / "driver.mkv"), ORANGE, s)
    r = int(np.flatnonzero(tr.tracked)[len(np.flatnonzero(tr.tracked)) // 2])
    own = tr.landmarks[r][:, :2].copy()
    h, w = (int(v) for v in tr.size[::-1])
    req = _opened(own, 6.0 * s)
    base, warped = (np.full((h, w, 3), SKIN, np.uint8) for _ in range(2))  # the footage (skin, pink lips)
    for im, P in ((base, own), (warped, req)):  # ... and the footage warped to the request
        cv2.fillConvexPoly(im, cv2.convexHull(np.round(P[list(OUTER_LIP)] * 16).astype(np.int32)), PINK, shift=4)
    frames = np.full(tr.n_frames, np.nan)
    frames[r] = r + int(tr.frame_start)
    opening = np.zeros((h, w), np.uint8)
    cv2.fillPoly(opening, [np.round(req[list(INNER_LIP)] * 16).astype(np.int32)], 1, shift=4)
    width = float(np.hypot(*(req[INNER_LIP[10]] - req[INNER_LIP[0]])))
    g = max(1, int(round(INTERIOR_GROW * width)))
    band = (cv2.dilate(opening, np.ones((2 * g + 1, 2 * g + 1), np.uint8)) > 0) & (opening == 0)
    assert band.sum() >= 30
    with MouthDonor(tr, video, frames) as donor:
        out = donor.lower_face(r, base, warped, req, own)
        monkeypatch.setattr(MouthDonor, "_lip_colour", lambda self, g, *a: g)
        plain = donor.lower_face(r, base, warped, req, own)
    chroma = plain.astype(float) / (plain.astype(float).sum(-1, keepdims=True) + 1.0)
    near = [np.abs(chroma - np.divide(c, sum(c))).max(-1) for c in (ORANGE, PINK)]
    orange = (near[0] < 0.5 * near[1]) & (near[1] > 0.04)  # the driver's lips' hue, not the target's
    lips = band & orange
    assert lips.sum() >= 0.2 * band.sum()  # without the recolouring the driver's lips show there
    got = out[lips].astype(float).mean(0)
    assert np.abs(got - PINK).max() < 20, got  # with it the target's
    assert abs(got[2] / got[0] - PINK[2] / PINK[0]) < 0.05, got  # ... and its hue (blue over red)
    # ... also where the driver's lips reach inside its inner contour (a nearly closed mouth)
    meeting = (opening > 0) & orange
    assert meeting.sum() >= 20
    got = out[meeting].astype(float).mean(0)
    assert np.abs(got - PINK).max() < 10, got  # (26 levels off without the colour test inside)
    # the driver's skin the reach brings past its lips' corners (grey): the target's skin colour
    grey = (opening == 0) & (np.ptp(plain.astype(int), axis=-1) < 12) & (np.abs(plain.astype(int) - SKIN).max(-1) > 30)
    assert grey.sum() >= 20
    assert np.abs(out[grey].astype(float).mean(0) - SKIN).max() < 25, out[grey].astype(float).mean(0)
    # the interior (the driver's blue 'teeth') as it was
    teeth = (opening > 0) & (plain[..., 2].astype(int) > plain[..., :2].max(-1).astype(int) + 150)
    assert teeth.sum() >= 30
    np.testing.assert_allclose(out[teeth].astype(float).mean(0), plain[teeth].astype(float).mean(0), atol=3)


def test_the_driver_s_interior_takes_the_target_shot_s_light(carphone_track, tmp_path):
    """The driver's teeth and tongue are drawn in the light of the target's shot: the tint
    between the two shots' eye whites (d10's interior in a tungsten-lit copy of d14 was lilac
    beside her cream teeth: docs/compositing.md). Without the target's footage they keep the
    driver's colour (one brightness gain), as before."""
    s = 4
    tr = X._copy(carphone_track)
    tr.landmarks = np.array(tr.landmarks, np.float64)
    tr.landmarks[..., :2] *= s
    tr.size = np.asarray(tr.size) * s
    NEUTRAL, WARM = (215, 215, 215), (235, 205, 150)
    video = _lipped_driver_clip(carphone_track, str(tmp_path / "driver.mkv"), (200, 100, 130), s, eyes=NEUTRAL)
    footage = _lipped_driver_clip(carphone_track, str(tmp_path / "target.mkv"), (200, 100, 130), s, eyes=WARM)
    tr.blink = np.array(tr.blink, np.float64)
    tr.blink[::7] = 1.0  # blinks: their rows are not looked at, and stay the Track's rows
    tracked = tr.tracked.copy()
    white = eye_white(lambda r: open_frame(footage, r), tr)
    np.testing.assert_array_equal(tr.tracked, tracked)  # (a blink once untracked the driver's rows)
    assert white is not None and np.abs(white - WARM).max() <= 3, white  # the whites, not the iris or the skin
    tint = white_tint(WARM, NEUTRAL)
    assert abs(float(tint @ [0.299, 0.587, 0.114]) - 1.0) < 1e-4 and tint[0] > 1.05 and tint[2] < 0.8, tint
    r = int(np.flatnonzero(tr.tracked)[len(np.flatnonzero(tr.tracked)) // 2])
    own = tr.landmarks[r][:, :2].copy()
    h, w = (int(v) for v in tr.size[::-1])
    req = _opened(own, 6.0 * s)
    base = np.full((h, w, 3), (120, 90, 80), np.uint8)  # (darker than the driver's: no channel clipped)
    frames = np.full(tr.n_frames, np.nan)
    frames[r] = r + int(tr.frame_start)
    with MouthDonor(tr, video, frames) as donor:
        plain = donor.lower_face(r, base, base, req, own)
        np.testing.assert_array_equal(donor.white_tint(), np.ones(3))
        lit = donor.in_scene(tr, footage).lower_face(r, base, base, req, own)
    teeth = (plain[..., 2] > 3 * plain[..., :2].max(-1).astype(int)) & (plain[..., 2] > 100) & (plain.max(-1) < 250)
    assert teeth.sum() >= 30  # (not clipped at white: the ratio is read)
    got = lit[teeth].astype(float).mean(0) / plain[teeth].astype(float).mean(0)
    np.testing.assert_allclose(got, tint, rtol=0.06)


def open_frame(path, r):
    from reenact.video import open_video

    src = open_video(path)
    try:
        return src.read(r)
    finally:
        src.close()


def test_a_driver_that_does_not_belong_is_refused(carphone_track, tmp_path):
    src = X._copy(carphone_track)
    src.source_digest = "ab" * 32
    tgt = X._copy(carphone_track)
    tgt.source = "other.mp4"
    perf = X.transfer(src, tgt, "mouth", offset=10)
    video = _driver_clip(carphone_track, str(tmp_path / "driver.mkv"))
    stranger = X._copy(carphone_track)
    stranger.source_digest = "cd" * 32
    with pytest.raises(ValueError, match="not the Track the performance was transferred from"):
        open_donor(perf, stranger, video, label="stranger.npz")
    with pytest.raises(ValueError, match="records no driving frames"):
        open_donor(tgt, src, video, performance_label="own.npz")
    short = src.subset(int(src.frame_start), int(src.frame_start) + 20)
    with pytest.raises(ValueError, match="covers clip frames"):
        open_donor(perf, short, video, accept_footage=True)


def test_cli_mouth_from_needs_the_mouth_region(carphone, carphone_track, tmp_path):
    src = X._copy(carphone_track)
    tgt = X._copy(carphone_track)
    tgt.source = "other.mp4"
    perf = str(tmp_path / "dub.npz")
    X.transfer(src, tgt, "mouth", offset=10).save(perf)
    drv = str(tmp_path / "drv.npz")
    src.save(drv)
    out = str(tmp_path / "out")
    res = subprocess.run([sys.executable, "-m", "reenact", "render", perf, "--video", carphone, "--out", out,
                          "--model", os.path.join(ROOT, "models", "renderer_base.onnx"), "--region", "face",
                          "--mouth-from", "{}={}".format(drv, carphone), "--cpu"],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert "--mouth-from" in lines[-1] and "--region mouth" in lines[-1], res.stderr
    assert not os.path.exists(out)


def test_auto_draws_the_driver_mouth_only_beyond_the_footage(carphone_track, tmp_path):
    """``auto`` picks the driver's mouth for a performance that opens the mouth wider than the
    footage ever does, and the shot's own mouth for one within the footage's range (the renderer
    beyond twice the footage's widest without a driver); ``driver`` always; one choice for the whole
    performance."""
    from reenact.render.donor import beyond_footage, mouth_openings
    from reenact.render.rewrite import choose_mouth

    from reenact.face.expressions import MOUTH_GROUP

    def quiet_by(tr, name, f):  # the same actor, the mouth opening f as far
        out = X._copy(tr)
        out.source = name
        cols = [k for k, n in enumerate(out.expression_names) if str(n) in MOUTH_GROUP]
        out.expression[:, cols] *= f
        return out

    def quiet(tr, name):  # a third as far: a quiet footage
        return quiet_by(tr, name, 0.3)

    src = X._copy(carphone_track)
    tgt = quiet(carphone_track, "quiet_target.mp4")
    video = _driver_clip(carphone_track, str(tmp_path / "driver.mkv"))
    wide = X.transfer(src, tgt, "mouth", offset=10)  # carphone's wide mouth onto the quiet one
    within = X.transfer(quiet(carphone_track, "quiet_driver.mp4"), tgt, "mouth", offset=10)
    own = tgt.footage()
    rows = np.flatnonzero(np.isfinite(wide.performance_frame))
    assert np.nanmax(mouth_openings(wide, rows)) > 1.25 * np.nanmax(mouth_openings(own))
    assert beyond_footage(wide, own, rows)[0] and not beyond_footage(within, own, rows)[0]
    for perf, mode, source in ((within, "auto", "shot"), (wide, "auto", "driver"), (within, "on", "driver"),
                               (wide, "shot", "shot"), (wide, "renderer", "renderer")):
        donor = open_donor(perf, src, video, accept_footage=True)[0]
        got, info = choose_mouth(donor, perf, own, mode)
        assert got == source and info["source"] == source and info["used"] == (source == "driver"), (mode, info)
        donor.close()
    # without a driver: the shot's own mouth within the footage and up to twice its widest
    # opening (stretched), the renderer beyond
    assert choose_mouth(None, within, own, "auto")[0] == "shot"
    assert choose_mouth(None, wide, own, "auto")[0] == "renderer"
    assert np.nanmax(mouth_openings(wide, rows)) > 2 * np.nanmax(mouth_openings(own))
    mid = X.transfer(quiet_by(carphone_track, "mid_driver.mp4", 0.45), tgt, "mouth", offset=10)
    ratio = np.nanmax(mouth_openings(mid, rows)) / np.nanmax(mouth_openings(own))
    assert 1.25 < ratio < 2.0 and beyond_footage(mid, own, rows)[0], ratio
    assert choose_mouth(None, mid, own, "auto")[0] == "shot"
    with pytest.raises(ValueError, match="--mouth-from"):
        choose_mouth(None, wide, own, "driver")
    with pytest.raises(ValueError, match="unknown mouth source"):
        choose_mouth(None, wide, own, "teeth")


def test_a_dub_is_never_written_over_its_driver_s_footage(carphone_track, carphone, tmp_path):
    """``render --mouth-from DUB.npz=DUB.mp4 --out DUB.mp4`` is refused before any work, the
    driver's movie left as it was (before 2026-12-05 only the shot's own footage was guarded, and
    the finished dub replaced the driver's movie)."""
    import shutil

    from reenact.errors import ReenactError
    from reenact.render.pipeline import render_clip

    driver = str(tmp_path / "driver.mp4")
    shutil.copy(carphone, driver)
    size = os.path.getsize(driver)
    with pytest.raises(ReenactError, match="driver.mp4: is the footage it is made from"):
        render_clip(X.transfer(carphone_track, carphone_track, "mouth", offset=5), carphone, out=driver,
                    region="mouth", frames=(0, 4), crop_track=carphone_track, mouth_from=(carphone_track, driver),
                    sign=False)
    assert os.path.getsize(driver) == size and sorted(os.listdir(tmp_path)) == ["driver.mp4"]
