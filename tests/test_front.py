# SPDX-License-Identifier: GPL-3.0-or-later
"""What stands in front of the face (reenact.render.front): a dark microphone held before the
mouth is found, kept in front of a dub (the dub drew a mouth on it), and nothing is found on
footage whose face nothing covers."""

import os

import cv2
import numpy as np
import pytest

from reenact.face import transfer as X
from reenact.render.front import SOURCE_MARGIN_S, InFront, run_warning
from reenact.render.rewrite import plan
from reenact.tracking.tracker import track_video
from reenact.video import VideoWriter, open_video
from conftest import read_frames

FIRST, END = 30, 60  # carphone frames with the microphone before the mouth
SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared",
                      "data", "clips")


def _mic(track, r, shape):
    """A microphone's head (a dark disc) and its stick, before the mouth of row ``r``: mask."""
    L = np.asarray(track.landmarks[r], np.float64)
    m = L[[13, 14, 61, 291]].mean(0)
    iod = float(np.linalg.norm(L[33] - L[263]))
    mask = np.zeros(shape[:2], np.uint8)
    cv2.circle(mask, (int(round(m[0])), int(round(m[1] + 0.15 * iod))), int(round(0.35 * iod)), 1, -1, cv2.LINE_AA)
    x = int(round(m[0]))
    cv2.rectangle(mask, (x - int(0.1 * iod), int(m[1])), (x + int(0.1 * iod), shape[0]), 1, -1)
    return mask.astype(bool)


def _face(track, r):
    """bool mask of the hull of row ``r``'s landmarks."""
    face = np.zeros((track.size[1], track.size[0]), np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(track.landmarks[r, :468].astype(np.float32)).astype(np.int32), 1)
    return face > 0


@pytest.fixture(scope="module")
def with_mic(carphone, carphone_track, tmp_path_factory):
    fr = read_frames(carphone)
    masks = {}
    path = str(tmp_path_factory.mktemp("front") / "mic.mkv")
    with VideoWriter(path, 30, fr[0].shape[1::-1], lossless=True) as wr:
        for j, f in enumerate(fr):
            if FIRST <= j < END:
                masks[j] = _mic(carphone_track, j, f.shape)
                f = f.copy()
                f[masks[j]] = (38, 36, 40)
                fr[j] = f
            wr.write(f)
    return path, track_video(path)[0], masks, fr


def test_an_object_before_the_mouth_is_found_on_its_frames_only(with_mic):
    path, own, masks, frames = with_mic
    front = InFront(own, path, (0, own.n_frames))
    np.testing.assert_array_equal(np.flatnonzero(front.rows), np.arange(FIRST, END))
    assert [a for a, b, _m, _hand in front.runs()] == [FIRST] and front.runs()[0][1] == END
    assert front.runs()[0][3] is False and "something stands in front" in run_warning(*front.runs()[0])
    for r in (FIRST + 5, 45, END - 5):
        m = front.matte(r, frames[r])
        disc = masks[r] & _face(own, r)  # (the part beyond the face's outline is not looked for)
        assert (m[disc] > 0.5).mean() > 0.85  # the object, on the face (its rim at the chin: the outline)
        assert ((m > 0.5) & ~masks[r]).sum() < 0.5 * disc.sum()  # and little around it
    assert front.matte(10, frames[10]) is None


def test_the_summary_is_plain_json(with_mic):
    """The render's summary (printed as JSON by ``reenact render``) holds plain numbers: a run's
    frames were numpy integers, and the command failed after rendering every frame."""
    import json

    path, own, _masks, _frames = with_mic
    summary = json.loads(json.dumps(InFront(own, path, (0, own.n_frames)).summary()))
    assert summary["runs"] == [[FIRST, END, summary["runs"][0][2], False]] and summary["hand_rows"] == 0


def test_a_part_of_the_frames_finds_what_all_of_them_find(with_mic, tmp_path):
    """A render farm's chunk (or Preview Frame) surveys the whole shot its frames lie in, so a
    chunk whose own frames all hold the object under the 8 % that starts a run keeps it as one
    render of all does; the survey is stored in the render's cache and read back, not redone."""
    path, own, _masks, _frames = with_mic
    whole = InFront(own, path, (0, own.n_frames))
    tail = [r for r in range(FIRST, END) if whole.share[r] < 0.12][:3]  # (under a higher threshold)
    for span in ((40, 44), (FIRST - 1, FIRST + 1), (END - 1, END + 3), (tail[0], tail[-1] + 1)):
        part = InFront(own, path, span, cache_dir=str(tmp_path))
        np.testing.assert_array_equal(part.rows, whole.rows)
        assert part.rows_read == (own.n_frames if span[0] == 40 else 0)  # (the first survey stored)
    assert part.runs() == [(tail[0], tail[-1] + 1, part.runs()[0][2], False)]  # (within the frames asked for)


def test_a_margin_surveys_the_span_alone(with_mic):
    """A driver's long take is surveyed only about the frames that drive the dub (``margin``):
    the rows read are the span's and the margin's, the object still found on them."""
    path, own, _masks, _frames = with_mic
    part = InFront(own, path, (40, 44), margin=5)
    assert part.rows_read == 14 and np.isfinite(part.share[35:49]).all() and np.isnan(part.share[:35]).all()
    assert part.rows[40:44].all()


def test_no_row_is_drawn_from_a_frame_with_something_in_front(with_mic, carphone_track):
    """A dub asking rows 0-29 for the mouths of the microphone's frames 30-59 drew them from those
    frames (the microphone with them); with the survey's sources, from frames without it."""
    path, own, _masks, _frames = with_mic
    driver = X._copy(own)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=-FIRST)  # the mouths of 30 frames later
    rows = list(range(0, FIRST))
    before = plan(own, perf, rows)[0]
    assert np.isin(before, np.arange(FIRST, END)).mean() > 0.5, before
    src = InFront(own, path, (0, own.n_frames)).sources()
    m = int(round(SOURCE_MARGIN_S * own.fps))  # (and half a second either side: it comes in, it leaves)
    np.testing.assert_array_equal(np.flatnonzero(src.no_source), np.arange(FIRST - m, END + m))
    now = plan(src, perf, rows)[0]
    assert not np.isin(now, np.arange(FIRST - m, END + m)).any(), now


def test_nothing_is_in_front_of_a_face_nothing_covers(carphone, carphone_track):
    front = InFront(carphone_track, carphone, (0, carphone_track.n_frames))
    assert not front.rows.any() and front.share.max() < 0.04


@pytest.mark.parametrize("front", [True, False])
def test_a_dub_is_drawn_behind_the_microphone(with_mic, carphone_track, tmp_path, front):
    """Rendered end to end: the dubbed rows keep the footage where the microphone is (a mouth was
    drawn on it), and the summary names the frames; the mouth still changes beside it."""
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    path, own, masks, frames = with_mic
    driver = X._copy(carphone_track)
    driver.source = "driver.mp4"
    perf = X.transfer(driver, own, "mouth", offset=-25)  # the driver's mouth of 25 frames later
    got = {}
    res = render_clip(perf, path, BASE_MODEL, out=None, frames=(FIRST - 10, END), region="mouth", mouth_mode="shot",
                      prefer_gpu=False, cache_dir=str(tmp_path / "c"), sign=False, watermark=False,
                      on_frame=lambda i, f: got.__setitem__(i, f), front=front)
    src = open_video(path)
    try:
        footage = {i: src.read(i) for i in range(FIRST - 10, END)}
    finally:
        src.close()
    diff = {i: np.abs(got[i].astype(np.int16) - footage[i].astype(np.int16)).max(-1) for i in footage}
    # the share of the microphone on the face that the render changed (by more than 8 levels)
    on_mic = np.array([(diff[i][masks[i] & _face(own, i)] > 8).mean() for i in range(FIRST, END)])
    beside = np.array([diff[i].max() for i in range(FIRST - 10, FIRST)])
    assert (beside > 20).mean() > 0.5  # the dub changes the mouth where nothing covers it
    if front:
        assert res["in_front"]["runs"] == [[FIRST, END, res["in_front"]["runs"][0][2], False]]
        assert any("something stands in front of the face" in w for w in res["warnings"])
        # (changed: the matte's feathered rim and the object's edge at the chin, which the outline's band misses)
        assert on_mic.max() < 0.4 and np.median(on_mic) < 0.2, on_mic
    else:
        assert res["in_front"] is None
        assert on_mic.min() > 0.9, on_mic  # the dub drew over it


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/data is not here")
@pytest.mark.parametrize("clip", ["driving_d10", "driving_d12", "driving_d3"])
def test_expressions_are_not_objects_in_front(clip):
    """The shared clips whose faces frown, stick the tongue out or have hair over the temple
    (largest shares 0.03-0.04 of the face) keep every row: nothing in front."""
    path = os.path.join(SHARED, clip + ".mp4")
    own = track_video(path)[0]
    front = InFront(own, path, (0, own.n_frames))
    assert not front.rows.any() and front.share.max() < 0.06, front.share.max()
