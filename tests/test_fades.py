# SPDX-License-Identifier: GPL-3.0-or-later
"""Fades: the light on each face is measured while tracking (Track.light), and no row is drawn
from a frame lit otherwise (a dub of driving_d19 faded in and out over 40 frames gave 35 rows
of full light the dark lower face of a fading frame, and the darkest rows a bright mouth)."""

import cv2
import numpy as np
import pytest

from reenact.face import transfer as X
from reenact.render.rewrite import changed_rows, plan
from reenact.tracking.tracker import track_video
from reenact.video import VideoWriter, open_video

FADE = 40  # carphone's last 40 frames fade to black


def _gain(j, n):
    return float(np.clip((n - j) / FADE, 0.05, 1.0))


@pytest.fixture(scope="module")
def faded(carphone, tmp_path_factory):
    src = open_video(carphone)
    try:
        fr = [src.read(i) for i in range(len(src))]
    finally:
        src.close()
    n = len(fr)
    path = str(tmp_path_factory.mktemp("fade") / "fade.mkv")
    with VideoWriter(path, 30, fr[0].shape[1::-1], lossless=True) as wr:
        for j, f in enumerate(fr):
            wr.write(np.clip(f.astype(np.float32) * _gain(j, n) + 0.5, 0, 255).astype(np.uint8))
    return path, track_video(path)[0]


def test_the_light_on_the_face_follows_a_fade(faded, carphone_track):
    path, tr = faded
    n = tr.n_frames
    assert tr.light.shape == (n,) and tr.light.dtype == np.float32
    ok = np.flatnonzero(np.asarray(tr.tracked, bool) & np.isfinite(tr.light))
    assert len(ok) > n - 10
    lit = float(np.median(tr.light[: n - FADE]))
    for j in ok[ok >= n - FADE]:
        if _gain(j, n) >= 0.2:
            assert abs(tr.light[j] / lit - _gain(j, n)) < 0.1 * _gain(j, n) + 0.02, (j, tr.light[j] / lit)
    # the unfaded clip: steady (a handheld phone, its face turning)
    steady = carphone_track.light[np.isfinite(carphone_track.light)]
    assert steady.max() / steady.min() < 1.3
    assert tr.subset(tr.frame_start + 10, tr.frame_start + 20).light.shape == (10,)


def test_a_dub_takes_no_mouth_from_a_frame_lit_otherwise(carphone_track):
    own = X._copy(carphone_track)
    n = own.n_frames
    own.light = np.where(np.arange(n) < n // 2, 120.0, 40.0).astype(np.float32)  # the second half dimmed
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=25)
    rows = changed_rows(own, perf)
    src = plan(own, perf, rows)[0]
    ok = src >= 0
    assert ok.sum() > 20 and (own.light[src[ok]] == own.light[rows[ok]]).all()
    unknown = X._copy(own)
    unknown.light = np.zeros(0, np.float32)  # a Track made before light was measured: as before
    src = plan(unknown, perf, rows)[0]
    assert (own.light[src[src >= 0]] != own.light[rows[src >= 0]]).any()  # (what the light prevents)


def test_a_moved_head_draws_every_part_from_frames_lit_alike(carphone_track, carphone):
    from reenact.render.shothead import ShotHead

    own = X._copy(carphone_track)
    n = own.n_frames
    own.light = np.where(np.arange(n) % 40 < 20, 120.0, 40.0).astype(np.float32)
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "full", offset=25)
    with ShotHead(own, perf, carphone) as sh:
        for name in ("source", "mouth", "eyes", "brows"):
            got = np.asarray(getattr(sh, name))
            rows = np.flatnonzero(got >= 0)
            assert len(rows) > 20, name
            assert (own.light[got[rows]] == own.light[rows]).all(), name


def _lower_face_light(frames, tr, rows):
    out = []
    for r in rows:
        m = np.zeros(frames[r].shape[:2], np.uint8)
        pts = tr.landmarks[r, [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 152, 148, 176, 149, 150, 136,
                               377, 400, 378, 379, 365, 397], :2]
        cv2.fillConvexPoly(m, cv2.convexHull(pts.astype(np.int32)), 1)
        out.append(float(frames[r][m > 0].mean()))
    return np.asarray(out)


@pytest.mark.parametrize("light", ["measured", "unknown"])
def test_a_dub_of_a_fading_shot_keeps_each_row_s_light(faded, carphone_track, tmp_path, light):
    """Rendered end to end: every dubbed row's lower face about as bright as the footage's; without
    the light (a Track made before) a fading frame's dark mouth went onto a lit row."""
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    path, own = faded
    own = X._copy(own)
    if light == "unknown":
        own.light = np.zeros(0, np.float32)
    n = own.n_frames
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=-30)  # the driver's mouth of 30 frames later
    got = {}
    render_clip(perf, path, BASE_MODEL, out=str(tmp_path / "out"), frames=(0, n), region="mouth", mouth_mode="shot",
                prefer_gpu=False, cache_dir=str(tmp_path / "c"), sign=False, watermark=False,
                on_frame=lambda i, f: got.__setitem__(i, f))
    src = open_video(path)
    try:
        footage = [src.read(i) for i in range(n)]
    finally:
        src.close()
    rows = [r for r in changed_rows(own, perf) if r in got and _gain(r, n) >= 0.3]
    assert len(rows) > 40
    ratio = _lower_face_light([got.get(r) for r in range(n)], own, rows) / _lower_face_light(footage, own, rows)
    # (a dub changes the mouth, and with it the lower face's mean a little: 0.86-1.06 where the
    # light is known; a fading frame's mouth on a lit row: 0.34)
    if light == "measured":
        assert ratio.min() > 0.75 and ratio.max() < 1.33, ratio
    else:
        assert ratio.min() < 0.5, ratio


def test_no_row_is_drawn_from_a_flash(carphone, carphone_track, tmp_path):
    """A camera flash: its light is no face's (NaN in the Track), so no other row takes its mouth
    (a flash that saturates a bright face reads only ~1.3x its light, under LIGHT_APART)."""
    src = open_video(carphone)
    try:
        fr = [src.read(i) for i in range(len(src))]
    finally:
        src.close()
    flash = (30, 70, 71)
    path = str(tmp_path / "flash.mkv")
    with VideoWriter(path, 30, fr[0].shape[1::-1], lossless=True) as wr:
        for j, f in enumerate(fr):
            wr.write(np.clip(f.astype(np.float32) * 1.6 + 60, 0, 255).astype(np.uint8) if j in flash else f)
    own = track_video(path)[0]
    assert not own.shot_start.any()  # (a flash is not a cut)
    assert np.isnan(own.light[list(flash)]).all() and np.isfinite(np.delete(own.light, flash)[5:]).all()
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=-25)  # rows 45-46 ask for the mouths of 70-71
    rows = changed_rows(own, perf)
    src_rows = plan(own, perf, rows)[0]
    drawn = src_rows[(src_rows >= 0) & ~np.isin(rows, flash)]
    assert len(drawn) > 20 and not np.isin(drawn, flash).any()
    steady = X._copy(own)
    steady.light = np.where(np.isnan(own.light), np.nanmedian(own.light), own.light).astype(np.float32)  # as if unlit
    src_rows = plan(steady, perf, rows)[0]
    assert np.isin(src_rows[(src_rows >= 0) & ~np.isin(rows, flash)], flash).any()  # (what the NaN prevents)
