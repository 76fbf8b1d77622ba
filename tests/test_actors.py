# SPDX-License-Identifier: GPL-3.0-or-later
"""Two actors of one shot rendered into one output (render/actors.py, ``reenact render --also``),
on a generated two-shot: carphone beside its own mirror image, tracked with two faces."""

import json
import os

import numpy as np
import pytest

from conftest import edited, read_frames
from reenact.render.actors import render_actors
from reenact.render.pipeline import render_clip

FRAMES = (10, 18)


@pytest.fixture(scope="module")
def two_shot(carphone, tmp_path_factory):
    """(movie, [Track of actor 0, Track of actor 1], their edits) of a 40-frame two-shot."""
    from reenact.tracking.tracker import track_video
    from reenact.video import VideoWriter, open_video

    folder = tmp_path_factory.mktemp("two")
    path = str(folder / "two.mp4")
    with open_video(carphone) as src:
        frames = [f for _, f in src.iter_frames(0, 40)]
        rate = src.rate
    with VideoWriter(path, rate, (2 * frames[0].shape[1], frames[0].shape[0]), crf=10) as w:
        for f in frames:
            w.write(np.concatenate([f, f[:, ::-1]], 1))
    tracks = track_video(path, max_faces=2)
    assert len(tracks) == 2 and all(np.mean(t.tracked) == 1.0 for t in tracks)
    return path, tracks, [edited(t) for t in tracks]


def _half(track):
    """Which half of the frame the actor's face is in (0 left, 1 right)."""
    x = float(np.nanmean(track.landmarks[:, :, 0])) / float(track.size[0])
    return int(x > 0.5)


def test_each_actor_rendered_as_alone_and_laid_together(two_shot, tmp_path):
    """Each actor's change is the one a render of that actor alone makes (same job, unmarked),
    laid over the other's: exactly one + other - footage; the frames outside the range are the
    footage; no pass's folder is left behind."""
    video, tracks, edits = two_shot
    kw = dict(frames=FRAMES, region="face", watermark=False, prefer_gpu=False, job_id="2a", batch=4)
    s = render_actors(edits, video, None, out=str(tmp_path / "both"), **kw)
    assert s["overlap"] == [] and len(s["actors"]) == 2 and not s["watermark"]
    assert s["frames"] == 40 and s["copied"] == 40 - (FRAMES[1] - FRAMES[0])
    assert sorted(os.listdir(tmp_path)) == ["both", "reenact_cache"]  # the first pass's folder is gone
    alone = [render_clip(e, video, None, out=str(tmp_path / "one{}".format(k)), cache_dir=str(tmp_path / "reenact_cache"),
                         **kw) for k, e in enumerate(edits)]
    assert all(a["job_id"] == s["job_id"] for a in alone)
    orig = read_frames(video)
    both, one = read_frames(str(tmp_path / "both")), [read_frames(str(tmp_path / "one{}".format(k))) for k in (0, 1)]
    W = orig[0].shape[1]
    for i in range(40):
        o = orig[i].astype(int)
        d = [one[k][i].astype(int) - o for k in (0, 1)]
        assert np.array_equal(both[i].astype(int), np.clip(o + d[0] + d[1], 0, 255)), i
        if not FRAMES[0] <= i < FRAMES[1]:
            assert np.array_equal(both[i], orig[i]), i
            continue
        for k in (0, 1):  # each actor's change lies on its own half of the frame, and there is one
            changed = np.abs(d[k]).max(2) > 0
            side = _half(tracks[k])
            assert changed[:, side * W // 2:(side + 1) * W // 2].sum() > 20, (i, k)
            assert changed[:, (1 - side) * W // 2:(2 - side) * W // 2].sum() == 0, (i, k)


def test_marked_once_verified_and_signed(two_shot, tmp_path):
    """A two-actor movie carries one watermark (one job id) over both actors' frames: `reenact
    verify` finds it in every second and names the payload; the change the mark makes is
    small; the movie is signed."""
    from reenact.provenance.verify import verify_path

    video, _tracks, edits = two_shot
    out = str(tmp_path / "both.mp4")
    kw = dict(frames=(0, 40), region="face", prefer_gpu=False, batch=4)
    s = render_actors(edits, video, None, out=out, **kw)
    plain = render_actors(edits, video, None, out=str(tmp_path / "plain"), watermark=False, job_id=s["job_id"], **kw)
    assert s["watermark"] and s["manifest"] and plain["job_id"] == s["job_id"]
    res = verify_path(out)
    wm = res["watermark"]
    assert wm["detected"] and wm["payload_valid"] and wm["payload"]["job_id"] == s["job_id"]
    assert res["manifest"]["present"] and not res["manifest"]["errors"]
    marked = np.stack(read_frames(out)).astype(float)
    unmarked = np.stack(read_frames(str(tmp_path / "plain"))).astype(float)
    assert 10 * np.log10(255.0 ** 2 / np.mean((marked - unmarked) ** 2)) > 35  # the mark, and H.264's loss


def test_cancel_leaves_nothing(two_shot, tmp_path):
    from reenact.progress import Cancelled

    video, _tracks, edits = two_shot
    calls = []

    def progress(done, total, text=""):
        calls.append(text)
        return not text.startswith("actor 2/2")  # cancelled in the second pass

    with pytest.raises(Cancelled):
        render_actors(edits, video, None, out=str(tmp_path / "both.mp4"), frames=FRAMES, region="face",
                      prefer_gpu=False, progress=progress)
    assert any(t.startswith("actor 1/2") for t in calls)
    assert sorted(os.listdir(tmp_path)) in (["reenact_cache"], [])


def test_cli_also(two_shot, tmp_path, capsys):
    """``reenact render A.npz --also B.npz`` renders both, also in a farm's chunks; a Track of other
    footage is one line before any work."""
    from reenact.cli import main

    video, _tracks, edits = two_shot
    paths = []
    for k, e in enumerate(edits):
        paths.append(str(tmp_path / "e{}.npz".format(k)))
        e.save(paths[-1])
    out = str(tmp_path / "out")
    assert main(["render", paths[0], "--also", paths[1], "--video", video, "--model", "base", "--out", out,
                 "--frames", "10:12", "--region", "face", "--cpu"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(summary["actors"]) == 2 and summary["frames"] == 40 and sorted(os.listdir(out))[10] == "frame_000010.png"
    from reenact.sample import sample_clip

    carphone_only = str(tmp_path / "carphone.npz")
    from reenact.tracking.tracker import track_video

    track_video(sample_clip())[0].save(carphone_only)
    assert main(["render", paths[0], "--also", carphone_only, "--video", video, "--model", "base",
                 "--out", str(tmp_path / "x"), "--cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "carphone.npz" in err[0] and not os.path.exists(str(tmp_path / "x"))
    chunked = str(tmp_path / "y")  # a farm's two tasks into one folder: the frames of the one render
    for c in ("10:11", "11:12"):
        assert main(["render", paths[0], "--also", paths[1], "--video", video, "--model", "base", "--out", chunked,
                     "--frames", "10:12", "--chunk", c, "--region", "face", "--cpu"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["chunk"] == [11, 12]
    whole, parts = read_frames(out), read_frames(chunked)
    assert len(parts) == 40 and all(np.array_equal(x, y) for x, y in zip(whole, parts))
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".reenact-actor")]


def test_chunks_of_a_two_actor_render_equal_one_render(two_shot, tmp_path):
    """A render farm's chunks of a several-actor job, each task every actor over its frames into
    the job's folder, write exactly the frames of the job rendered at once (marked, one job id);
    the temporary pass folders are gone."""
    video, _tracks, edits = two_shot
    kw = dict(frames=FRAMES, region="face", prefer_gpu=False, job_id="2c", batch=4, sign=False)
    whole = render_actors(edits, video, None, out=str(tmp_path / "whole"), **kw)
    done = [render_actors(edits, video, None, out=str(tmp_path / "chunks"), chunk=c, cache_dir=str(tmp_path / "c2"), **kw)
            for c in ((FRAMES[0], 13), (13, FRAMES[1]))]
    assert [d["chunk"] for d in done] == [[FRAMES[0], 13], [13, FRAMES[1]]] and whole["watermark"]
    assert done[0]["frames"] == 13 and done[1]["frames"] == 40 - 13  # the footage around the job's range too
    a, b = read_frames(str(tmp_path / "whole")), read_frames(str(tmp_path / "chunks"))
    assert len(b) == 40 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert sorted(os.listdir(tmp_path)) == ["c2", "chunks", "reenact_cache", "whole"]


def test_region_head_keeps_each_actor_in_its_part(two_shot, tmp_path):
    """Region head moves each actor's head and also lays the frame's other person over the room
    again: each actor's pass counts only in the pixels nearer its face, so the merged frame is
    one actor's render alone on each side, never the sum of both."""
    from conftest import turned
    from reenact.render.actors import Over

    video, tracks, _edits = two_shot
    reqs = [turned(t, 0.12) for t in tracks]
    kw = dict(frames=(20, 23), region="head", watermark=False, prefer_gpu=False, job_id="2b", batch=4)
    s = render_actors(reqs, video, None, out=str(tmp_path / "both"), **kw)
    alone = [render_clip(r, video, None, out=str(tmp_path / "one{}".format(k)), cache_dir=str(tmp_path / "reenact_cache"),
                         **kw) for k, r in enumerate(reqs)]
    assert all(a["rendered"] + a["warped"] + a["cached"] > 0 for a in alone)
    orig = read_frames(video)
    both, one = read_frames(str(tmp_path / "both")), [read_frames(str(tmp_path / "one{}".format(k))) for k in (0, 1)]
    W = orig[0].shape[1]
    for i in (20, 21, 22):
        parts = [Over(k, reqs).part(i, orig[i].shape) for k in (0, 1)]
        assert np.array_equal(parts[0], ~parts[1] | (parts[0] & parts[1]))  # they cover the frame
        for k in (0, 1):
            side = _half(tracks[k])
            assert parts[k][:, side * W // 2:(side + 1) * W // 2].mean() > 0.9
            assert np.array_equal(both[i][parts[k]], one[k][i][parts[k]]), (i, k)
    assert s["overlap"] == [] or all(20 <= f < 23 for f in s["overlap"])


def test_a_pass_counts_only_in_its_actors_part(two_shot):
    """Where a pass changes pixels nearer the other actor's face (region head lays the other
    person over the room again), the earlier passes' frame stays there, never the sum of both,
    and the frame is named."""
    from reenact.render.actors import Over

    video, tracks, _edits = two_shot
    orig = read_frames(video)[5]
    earlier = np.clip(orig.astype(int) + 20, 0, 255).astype(np.uint8)  # actor 0's pass changed everything

    class Canvas:
        def read(self, i):
            return earlier

    over = Over(1, tracks, Canvas())
    over.take(5, orig)
    mine = np.clip(orig.astype(int) - 30, 0, 255).astype(np.uint8)  # and so did actor 1's
    out, synthesised = over.finish(5, mine, True)
    part = over.part(5, orig.shape)
    assert synthesised and 0.3 < part.mean() < 0.7
    assert np.array_equal(out[part], mine[part]) and np.array_equal(out[~part], earlier[~part])
    assert over.cut == [5]


def test_overlap_warning_names_the_frames():
    from reenact.render.actors import overlap_warning

    w = overlap_warning([3, 4, 5, 9])
    assert w.startswith("frames 3-5, 9: ") and "another actor's face" in w
    assert overlap_warning([3, 4], offset=100).startswith("frames 103-104: ")


def test_merge_frame_is_the_render_of_every_actor(two_shot, tmp_path):
    """Preview Frame's several-actor frame (each actor's render_frame unmarked, laid together by
    merge_frame and marked once) equals the frame render_actors writes."""
    from reenact.render.actors import merge_frame
    from reenact.render.cache import source_identity
    from reenact.render.marking import render_payload
    from reenact.render.pipeline import get_renderer
    from reenact.render.oneframe import render_frame
    from reenact.render.plates import footage_area

    video, tracks, edits = two_shot
    got = {}
    render_actors([{"track": e, "crop_track": t} for e, t in zip(edits, tracks)], video, None, out=None, frames=(12, 13),
                  region="face", prefer_gpu=False, on_frame=lambda i, f: got.__setitem__(i, f))
    footage = read_frames(video)[12]
    rend = get_renderer(None, prefer_gpu=False)
    renders = [render_frame(e, footage, 12, rend, region="face", crop_track=t, video=video, watermark=False,
                            cache_dir=str(tmp_path / "c"), prefer_gpu=False)[0] for e, t in zip(edits, tracks)]
    mark = (render_payload(None, source_identity(video), rend, tracks[0]), footage_area(video, tracks[0]))
    merged, cut = merge_frame(12, footage, renders, edits, mark)
    assert cut == [] and np.array_equal(merged, got[12])
    alone, _ = merge_frame(12, footage, [renders[0], None], edits, mark)  # actor 1 drew nothing here
    W, mine = footage.shape[1], _half(tracks[0])
    a0, a1 = slice(mine * W // 2, (mine + 1) * W // 2), slice((1 - mine) * W // 2, (2 - mine) * W // 2)
    # actor 0's half as in the render of both (the mark's keep-out, one box around both lips, moves a level)
    assert np.abs(alone[:, a0].astype(int) - merged[:, a0]).max() <= 2
    assert np.abs(alone[:, a1].astype(int) - merged[:, a1]).max() > 8  # actor 1's change is not there


def test_a_near_actors_head_keeps_its_whole_head(two_shot):
    """Actor 1 nearer the camera (its requested head twice as large and moved towards actor
    0) reaches past the line half way between the faces: its pass keeps the whole of its head
    there (cut at that line before), where the two heads overlap too (it is in front: its face
    is the larger), and nothing of actor 0's head beyond; the frame is not named. Actor 0's
    pass, behind, keeps nothing where the near head covers its own."""
    from reenact.render.actors import CUT_PIXELS, Over
    from reenact.render.head import head_mask
    from reenact.render.marking import row_points

    video, tracks, _edits = two_shot
    orig = read_frames(video)[5]
    H, W = orig.shape[:2]
    p0, p1 = (row_points(t, 5) for t in tracks)
    c0, c1 = p0.mean(0), p1.mean(0)
    p1 = c1 + 2.0 * (p1 - c1) - [0.45 * (c1[0] - c0[0]), 0]  # nearer the camera, and nearer actor 0
    c1 = p1.mean(0)

    class Near(Over):
        def points(self, i):
            return {0: p0, 1: p1}

    head1, head0 = head_mask(p1, (H, W)), head_mask(p0, (H, W))
    ys, xs = np.mgrid[:H, :W]
    nearer0 = np.hypot(xs - c0[0], ys - c0[1]) < np.hypot(xs - c1[0], ys - c1[1])
    beyond = head1 & ~head0 & nearer0
    assert beyond.sum() > 200  # the near head reaches past the half-way line
    earlier = orig.copy()

    class Canvas:
        def read(self, i):
            return earlier

    over = Near(1, tracks, Canvas())
    over.take(5, orig)
    mine = orig.copy()
    mine[head1] = np.clip(orig[head1].astype(int) + 40, 0, 255).astype(np.uint8)  # its pass changed its head
    out, _ = over.finish(5, mine, True)
    assert np.array_equal(out[beyond], mine[beyond]) and np.array_equal(out[head1 & ~head0], mine[head1 & ~head0])
    assert np.array_equal(out[head0 & ~head1], earlier[head0 & ~head1])  # nothing of the other's head
    assert over.cut == ([5] if (head1 & head0 & nearer0).sum() > CUT_PIXELS else [])
    # moved further, over actor 0's head: in front of it where they overlap (its face the larger)
    c1 = p0.mean(0) + 0.4 * (c1 - p0.mean(0))
    p1 = c1 + (p1 - p1.mean(0))
    head1 = head_mask(p1, (H, W))
    both = head1 & head0
    nearer0 = np.hypot(xs - c0[0], ys - c0[1]) < np.hypot(xs - c1[0], ys - c1[1])
    assert (both & nearer0).sum() > 10 * CUT_PIXELS  # (the heads overlap, also nearer actor 0's face)
    over = Near(1, tracks, Canvas())
    over.take(5, orig)
    mine = orig.copy()
    mine[head1] = np.clip(orig[head1].astype(int) + 40, 0, 255).astype(np.uint8)
    out, _ = over.finish(5, mine, True)
    assert np.array_equal(out[head1], mine[head1]) and over.cut == []  # the near head in front, whole
    # actor 0's pass: the part of its head the near one covers is not its own, and is named
    far = Near(0, tracks, Canvas())
    far.take(5, orig)
    drawn = orig.copy()
    drawn[head0] = np.clip(orig[head0].astype(int) - 40, 0, 255).astype(np.uint8)
    out0, _ = far.finish(5, drawn, True)
    assert np.array_equal(out0[both], earlier[both]) and np.array_equal(out0[head0 & ~head1], drawn[head0 & ~head1])
    assert far.cut == [5]
    # heads of one size share their overlap by the line half way between the faces, as before
    p1same = c1 + (p1 - c1) / 2.0

    class Same(Over):
        def points(self, i):
            return {0: p0, 1: p1same}

    same = Same(1, tracks, Canvas())
    part = same.part(5, orig.shape)
    h1 = head_mask(p1same, (H, W))
    c1s = p1same.mean(0)
    nearer1 = np.hypot(xs - c1s[0], ys - c1s[1]) <= np.hypot(xs - c0[0], ys - c0[1])
    assert np.array_equal(part[h1 & head0], nearer1[h1 & head0])


def test_the_actors_of_a_shot_are_fitted_in_one_camera(two_shot):
    """One shot, one camera: its second actor is fitted with the first one's focal length, so that
    both meshes lie on their faces under the shot's camera (a review of tracking in Blender,
    2026-12-06: each actor estimated its own and the second's mesh sat 80-187 px off its face
    under the camera Blender makes from the first's)."""
    _video, tracks, _edits = two_shot
    assert tracks[0].focal_px == tracks[1].focal_px
    for t in tracks:  # (each fitted well in it)
        err = np.linalg.norm(t.project() - np.asarray(t.landmarks)[:, :468, :2], axis=-1)
        assert float(np.nanmedian(err)) < 3.0, float(np.nanmedian(err))
