# SPDX-License-Identifier: GPL-3.0-or-later
"""The shot's own mouth in a mouth dub (render/rewrite.py, ``render --mouth shot``, the default
within the footage's range): the footage frame whose mouth the dub asks for is found, runs of
consecutive frames are kept, its lower face lands on the frame being replaced and nothing else
changes; the render path draws those rows without the network."""

import numpy as np
import pytest

from reenact.face import transfer as X
from reenact.render.motion import HeadMotion
from reenact.render.rewrite import SWITCH_COST, ShotMouth, changed_rows, plan
from reenact.video import open_video


def _retimed(track, offset):
    """``track``'s own mouth re-timed by ``offset`` frames: a dub whose every mouth the footage
    shows (the performance of row t is the footage's row ``offset`` frames away)."""
    return X.transfer(track, track, "mouth", offset=offset)


def test_plan_finds_the_footage_frames_that_show_the_requested_mouth(carphone_track):
    req = _retimed(carphone_track, 12)
    rows = changed_rows(carphone_track, req)
    assert len(rows) > 50
    src, dist = plan(carphone_track, req, rows)
    ok = src >= 0
    assert ok.mean() > 0.95
    # the frames that drive them (12 apart) hold exactly these mouths; the plan takes them (or
    # one as close)
    drive = np.asarray(req.performance_frame)[rows].astype(int) - int(carphone_track.frame_start)
    assert (np.abs(drive - rows) == 12).all()
    assert (src == drive).mean() > 0.9 and np.nanmedian(dist[ok]) < 0.05
    # ... as runs of consecutive frames, not a frame-by-frame jumble
    assert (np.diff(src[ok]) == np.diff(rows[ok])).mean() > 0.8
    # a pool without those frames: it still finds the nearest the pool holds
    pool = np.arange(0, carphone_track.n_frames, 2)
    src2, dist2 = plan(carphone_track, req, rows, pool=pool)
    assert set(src2[src2 >= 0].tolist()) <= set(pool.tolist())


def test_a_steady_mouth_is_held_not_looped(carphone_track):
    """A performance that holds one mouth for a second and a half: the plan holds the nearest
    footage frame (its warp follows the request) instead of cycling through a few frames and
    jumping back each time, which showed as a stutter of the lower face (d18 -> s20: frames
    141-146 six times over); with a hold costing as much as a switch it still cycles."""
    tr = carphone_track
    req = X._copy(tr)
    req.expression = np.array(req.expression)
    ok = np.flatnonzero(tr.tracked)
    k = int(ok[len(ok) // 2])
    rows = np.array([r for r in range(20, 60) if tr.tracked[r]])
    req.expression[rows] = tr.expression[k]
    src, _ = plan(tr, req, rows)
    steps = np.diff(src)
    assert (steps == 0).mean() > 0.5 and (steps < 0).sum() <= 1, src
    looped, _ = plan(tr, req, rows, hold_cost=SWITCH_COST)  # the rule before
    assert (np.diff(looped) < 0).sum() >= 3, looped


def test_shot_mouth_draws_the_requested_mouth(carphone, carphone_track, tmp_path):
    """Each row asks for the mouth of the footage row 12 frames away: re-tracked, the drawn
    frames open and close the lips as asked (far closer than the footage does), and above the
    brows nothing changes."""
    import os

    from reenact.face.geometry import iod_px
    from reenact.tracking.tracker import track_video
    from reenact.video.encode import write_png

    req = _retimed(carphone_track, 12)
    rows = [r for r in range(20, 110, 3) if carphone_track.tracked[r]]
    folder = str(tmp_path / "out")
    os.makedirs(folder)
    with ShotMouth(carphone_track, req, carphone) as sm, open_video(carphone) as src:
        hm = HeadMotion(carphone_track, req, lower_only=True)
        for k, r in enumerate(rows):
            frame = src.read(int(carphone_track.frame_start) + r)
            out = sm.draw(r, frame, hm, r)
            top = int(carphone_track.project()[r][[70, 300], 1].min())  # above the brows nothing moves
            assert sm.driver_row(r) is not None and np.array_equal(out[:top], frame[:top])
            write_png(os.path.join(folder, "f_{:03d}.png".format(k)), out)
    got = track_video(folder)[0]
    assert got.tracked.all()

    def gap(P):
        return np.linalg.norm(P[:, 13] - P[:, 14], axis=-1) / iod_px(P)

    asked = gap(req.project()[rows])
    result = gap(np.asarray(got.landmarks)[..., :2])
    footage = gap(carphone_track.project()[rows])
    assert np.corrcoef(asked, result)[0, 1] > 0.9, np.corrcoef(asked, result)[0, 1]
    assert np.abs(result - asked).mean() < 0.5 * np.abs(footage - asked).mean()
    with pytest.raises(ValueError, match="different frames"):
        ShotMouth(carphone_track.subset(0, 50), req, carphone)


def test_render_draws_a_dub_within_the_footage_with_the_shot_mouth(carphone, carphone_track, tmp_path):
    """... on two threads (render/overlap.py: Draws), the frames handed on in order and each the
    same as Preview Frame draws it alone."""
    from reenact.render.pipeline import render_clip, source_identity
    from reenact.render.oneframe import render_frame

    req = _retimed(carphone_track, 12)
    got, order = {}, []

    def keep(i, f):
        order.append(i)
        got[i] = f

    s = render_clip(req, carphone, out=None, frames=(40, 46), region="mouth", crop_track=carphone_track,
                    prefer_gpu=False, cache_dir=str(tmp_path / "c"), on_frame=keep)
    assert s["driver_mouth"]["source"] == "shot" and s["warped"] == 6 and s["rendered"] == 0, s
    assert order == sorted(order) and set(range(40, 46)) <= set(order)
    with open_video(carphone) as src:
        for i in (40, 43, 45):
            one, info = render_frame(req, src.read(i), i, region="mouth", crop_track=carphone_track, prefer_gpu=False,
                                     video=carphone, source_id=source_identity(carphone), cache_dir=str(tmp_path / "c"))
            assert info["warped"] == 1
            np.testing.assert_array_equal(one, got[i])
    r = render_clip(req, carphone, out=None, frames=(40, 46), region="mouth", crop_track=carphone_track,
                    prefer_gpu=False, cache_dir=str(tmp_path / "c"), mouth_mode="renderer")
    assert r["driver_mouth"]["source"] == "renderer" and r["rendered"] == 6 and r["warped"] == 0, r


def test_cli_mouth_choices_are_checked(carphone, carphone_track, tmp_path):
    """``--mouth driver`` without the driver or with region face (a dub's; region face takes auto,
    shot or renderer for an edited mouth): one line each, before any work, nothing written."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    perf = str(tmp_path / "dub.npz")
    _retimed(carphone_track, 12).save(perf)
    out = str(tmp_path / "out")
    for extra, words in ((["--mouth", "driver", "--region", "mouth"], ("--mouth driver", "--mouth-from")),
                         (["--mouth", "driver", "--region", "face"], ("--mouth driver", "--region mouth or head"))):
        res = subprocess.run([sys.executable, "-m", "reenact", "render", perf, "--video", carphone, "--out", out,
                              "--model", os.path.join(root, "models", "renderer_base.onnx"), "--cpu"] + extra,
                             capture_output=True, text=True, cwd=str(tmp_path))
        lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        assert res.returncode != 0 and all(w in lines[-1] for w in words), res.stderr
        assert not os.path.exists(out)


@pytest.mark.parametrize("region", ["mouth", "face"])
def test_a_dub_keeps_a_letterbox_bar_that_cuts_the_chin(carphone, carphone_track, tmp_path, region):
    """Footage letterboxed so that the bottom bar cuts the chin: a dub drawn from the shot's other
    frames (and region face's network composite) neither draws the chin into the bar nor drags
    the bar's black up into the chin (both did: up to 116 levels in the bar, ~45 black pixels
    under the lip per frame), and the watermark keeps out of the bar too: it stays bit-exact."""
    from conftest import write_movie_with_audio
    from reenact.render.pipeline import render_clip

    tr = carphone_track
    req = _retimed(tr, 12)
    P = tr.project()
    rows = range(40, 60)
    B = int(np.median([0.5 * (P[r][152, 1] + P[r][14, 1]) for r in rows]))  # between the lower lip and the chin
    with open_video(carphone) as s:
        frames = [f for _i, f in s.iter_frames()]
    for f in frames:
        f[B:] = 0
    clip = write_movie_with_audio(str(tmp_path / "letterbox.mp4"), frames, 25, len(frames) / 25.0, crf=0)
    got = {}
    s = render_clip(req, clip, out=None, frames=(40, 60), region=region, crop_track=tr, prefer_gpu=False,
                    cache_dir=str(tmp_path / "c"), on_frame=got.__setitem__, sign=False, accept_footage=True)
    assert s["warped"] + s["rendered"] >= 15, s
    assert s["picture"] == [0, 0, 176, B], s["picture"]  # the summary says where it found the picture
    drew = 0
    with open_video(clip) as src:
        for i in rows:
            f = src.read(i)
            assert np.array_equal(got[i][B:], f[B:]), i  # the bar as it was, unmarked
            assert not ((got[i][:B].max(-1) <= 24) & (f[:B].max(-1) > 40)).any(), i  # no black in the picture
            drew += int((np.abs(got[i][:B].astype(int) - f[:B].astype(int)).max(-1) > 8).sum() > 50)
    assert drew >= 15, drew  # the mouths were drawn
    from reenact.render.pipeline import source_identity
    from reenact.render.oneframe import render_frame

    with open_video(clip) as src:  # Preview Frame draws the same frame (the same bars, the same mark)
        for i in (41, 53):
            one, _info = render_frame(req, src.read(i), i, region=region, crop_track=tr, prefer_gpu=False, video=clip,
                                      source_id=source_identity(clip), cache_dir=str(tmp_path / "c"),
                                      accept_footage=True)
            np.testing.assert_array_equal(one, got[i])


def test_a_long_shots_plan_in_blocks_chooses_as_row_by_row(carphone_track, monkeypatch):
    """A 10-minute shot's dub planned row by row took 4 minutes (Preview Frame included: a
    review of long shots, 2026-12-06); above 4 million row x pool pairs the rows go in blocks,
    lip distances by matrix products. Forced on the sample clip (two dubs, the light term on),
    it chooses the same footage frames with the same distances."""
    import reenact.render.rewrite as R

    tr = X._copy(carphone_track)
    tr.light = np.linspace(1.0, 1.6, tr.n_frames)  # (a fade: the light term counts)
    for offset in (12, -7):
        req = _retimed(tr, offset)
        rows = changed_rows(tr, req)
        want = plan(tr, req, rows)
        monkeypatch.setattr(R, "BLOCKED_ABOVE", 0)
        monkeypatch.setattr(R, "_MEMO", {})  # (else the rows' candidates come from the plan above)
        got = plan(tr, req, rows)
        monkeypatch.setattr(R, "BLOCKED_ABOVE", 4_000_000)
        assert np.array_equal(got[0], want[0]), (offset, np.flatnonzero(got[0] != want[0]))
        assert np.allclose(got[1], want[1], equal_nan=True)


def test_a_plan_after_an_edit_chooses_again_only_the_edited_rows(carphone_track, monkeypatch):
    """Preview Frame plans the whole performance for every frame it shows: a 10-minute dub took
    20 s of choosing after each edit (a review of long shots, 2026-12-06). The rows' candidates
    are kept per footage Track and settings, with the mouth and head each row asked for: an edit
    of a few keys chooses those rows again, and the plan is the one a fresh plan makes."""
    import reenact.render.rewrite as R

    tr = carphone_track
    monkeypatch.setattr(R, "_MEMO", {})
    made = []
    real = R._candidates

    def counted(F, gf, Q, gq, pool, rows, *a):
        made.append([int(r) for r in rows])
        return real(F, gf, Q, gq, pool, rows, *a)

    monkeypatch.setattr(R, "_candidates", counted)
    req = _retimed(tr, 12)
    rows = changed_rows(tr, req)
    first = plan(tr, req, rows)
    assert made[-1] == rows.tolist()
    again = plan(tr, req, rows)
    assert len(made) == 1 and np.array_equal(again[0], first[0])
    edited = X._copy(req)
    ex = np.array(edited.expression)
    keys = [int(r) for r in rows[10:14]]
    ex[keys] *= 1.5  # (an animator's keys on four frames)
    edited.expression = ex
    got = plan(tr, edited, rows)
    assert made[-1] == keys
    monkeypatch.setattr(R, "_MEMO", {})
    fresh = plan(tr, edited, rows)
    assert np.array_equal(got[0], fresh[0]) and np.allclose(got[1], fresh[1], equal_nan=True)
    assert not np.array_equal(got[0], first[0])  # (the edit changed the choice: the test can fail)
    # other footage (its light: a fade) or another pool: every row chosen again
    lit = X._copy(tr)
    lit.light = np.linspace(1.0, 1.6, tr.n_frames)
    plan(lit, edited, rows)
    assert made[-1] == rows.tolist()
    plan(tr, edited, rows, pool=np.arange(0, tr.n_frames, 2))
    assert made[-1] == rows.tolist()


def test_the_shots_meshes_are_made_for_the_rows_read(carphone_track):
    """A dub reads a few rows' meshes per frame (Preview Frame one frame's), where every row's
    mesh of a 10-minute shot took 3 s and 225 MB each time: :class:`ShotMouth`'s points are made
    in blocks as read, the same as the whole shot's."""
    from reenact.bench.long_shots import tiled
    from reenact.render.head import posed_points

    tr = tiled(carphone_track, 1000)
    P, Z = posed_points(tr)
    with ShotMouth(tr, _retimed(tr, 12), None) as sm:
        for j in (5, 70, -1):
            assert np.allclose(sm.ps[j], P[j], atol=1e-9, equal_nan=True)
            assert np.allclose(sm.zs[j], Z[j], atol=1e-9, equal_nan=True)
        assert len(sm.ps._rows) == 3  # (rows 0-63, 64-127 and 960-999: nothing else made)
        assert np.allclose(np.asarray(sm.ps), P, atol=1e-9, equal_nan=True) and len(sm.ps) == tr.n_frames
        assert np.allclose(sm.ps[[3, 1]], P[[3, 1]], atol=1e-9, equal_nan=True)
