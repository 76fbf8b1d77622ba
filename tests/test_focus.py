# SPDX-License-Identifier: GPL-3.0-or-later
"""A mouth drawn from another frame is as soft as the frame it goes into (reenact.render.focus):
a rack focus over driving_d19 gave its soft rows crisp lips and teeth from frames in focus."""

import cv2
import numpy as np
import pytest

from reenact.face import transfer as X
from reenact.render.focus import SAME_FOCUS, edge_energy, focus_sigma
from reenact.tracking.tracker import track_video
from reenact.video import VideoWriter
from conftest import read_frames

SOFT = (35, 75)  # carphone frames out of focus
PEAK = 2.5  # their Gaussian blur at the middle (pixels)


def _sigma(j):
    return PEAK * np.sin(np.pi * (j - SOFT[0]) / (SOFT[1] - SOFT[0])) if SOFT[0] <= j < SOFT[1] else 0.0


def _blur(f, s):
    return cv2.GaussianBlur(f, (0, 0), s) if s > 0.3 else f


def _face_box(track, r):
    L = track.landmarks[r, :468]
    x0, y0 = np.floor(np.nanmin(L, 0)).astype(int)
    x1, y1 = np.ceil(np.nanmax(L, 0)).astype(int)
    return max(0, x0), max(0, y0), x1, y1


def test_the_blur_between_two_views_of_a_face_is_measured(carphone, carphone_track):
    f = read_frames(carphone)[20].astype(np.float32)
    x0, y0, x1, y1 = _face_box(carphone_track, 20)
    face = f[y0:y1, x0:x1]
    w = np.ones(face.shape[:2], np.float32)
    assert focus_sigma(face, face, w) == 0.0
    for s in (1.5, 2.5):
        soft = cv2.GaussianBlur(face, (0, 0), s)
        got = focus_sigma(face, soft, w)
        # (brought to SAME_FOCUS times the soft view's edges: a little under the blur itself)
        assert 0.55 * s < got < s, (s, got)
        assert edge_energy(cv2.GaussianBlur(face, (0, 0), got), w) == pytest.approx(SAME_FOCUS * edge_energy(soft, w),
                                                                                     rel=0.1)
        assert focus_sigma(soft, face, w) == 0.0  # a softer source is left as it is


@pytest.fixture(scope="module")
def rack_focus(carphone, tmp_path_factory):
    fr = read_frames(carphone)
    path = str(tmp_path_factory.mktemp("focus") / "focus.mkv")
    with VideoWriter(path, 30, fr[0].shape[1::-1], lossless=True) as wr:
        for j, f in enumerate(fr):
            wr.write(_blur(f, _sigma(j)))
    return path, track_video(path)[0]


def test_a_dubbed_mouth_is_as_soft_as_its_row(rack_focus, carphone_track, tmp_path, monkeypatch):
    """Rendered end to end with the shot's own mouth: on the soft rows whose mouth comes from a
    frame in focus the lips' edges were sharper than the footage's; now as soft."""
    from reenact.render import rewrite
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    path, own = rack_focus
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=-30)  # the driver's mouth of 30 frames later
    footage = read_frames(path)
    rows, src = list(range(*SOFT)), rewrite.plan(own, perf, list(range(*SOFT)))[0]
    crisp = [r for r, j in zip(rows, src) if _sigma(r) > 1.5 and j >= 0 and _sigma(j) < 0.5]
    assert len(crisp) >= 5, crisp  # rows whose mouth comes from a frame in focus

    def lips_edges(frames):
        out = []
        for r in crisp:
            P = own.landmarks[r, [61, 291, 0, 17]]  # (the footage's lips, and about them)
            pad = int(np.ceil(0.25 * np.ptp(P[:, 0])))
            x0, y0 = np.floor(P.min(0)).astype(int) - pad
            x1, y1 = np.ceil(P.max(0)).astype(int) + pad
            out.append(edge_energy(frames[r][y0:y1, x0:x1].astype(np.float32), np.ones((y1 - y0, x1 - x0), np.float32)))
        return np.array(out)

    def render(folder):
        got = {}
        render_clip(perf, path, BASE_MODEL, out=None, frames=SOFT, region="mouth", mouth_mode="shot", prefer_gpu=False,
                    cache_dir=str(tmp_path / folder), sign=False, watermark=False, front=False,
                    on_frame=lambda i, f: got.__setitem__(i, f))
        return got

    now = lips_edges(render("now")) / lips_edges(footage)
    monkeypatch.setattr(rewrite, "as_soft_as", lambda src, here, w: (src, 0.0))
    before = lips_edges(render("before")) / lips_edges(footage)
    # (the dub changes the mouth's shape, so the lips' edges differ from the footage's anyway:
    # before 0.8-1.8x, median 1.24; now 0.6-1.3x, 0.7x of before's on the median row)
    assert np.median(before) > 1.15, before
    assert np.median(now / before) < 0.8 and np.median(now) < 1.0, (now, before)
