# SPDX-License-Identifier: GPL-3.0-or-later
"""Chunked renders for render farms (docs/farm.md) with the command line, on real footage
(carphone's first 24 frames with an AAC track): two ``reenact render --chunk`` processes run in
parallel into one frame folder and cache and give the frames of one render, byte for byte; a
chunk killed mid-way (SIGKILL) leaves nothing that blocks its retry; a finished chunk run again
renders nothing; ``reenact assemble`` makes the movie of the single render, with the audio."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT
from reenact.render.renderer import BASE_MODEL

N = 24
JOB = "4:20"  # the job's clip frames; the frames around it are the footage's own


@pytest.fixture(scope="module")
def shot(carphone, tmp_path_factory):
    """(clip with audio, an edit of its Track as a file) in a module folder."""
    from conftest import edited, write_movie_with_audio

    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    d = tmp_path_factory.mktemp("farm")
    clip = str(d / "shot.mp4")
    with open_video(carphone) as src:
        frames = [f for _, f in src.iter_frames(0, N)]
        rate = src.rate
    write_movie_with_audio(clip, frames, rate, N / float(rate), crf=12)
    track = str(d / "shot.npz")
    edited(track_video(clip)[0]).save(track)  # an edit (brows raised): a render draws every frame
    return clip, track


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _render_cmd(shot, out, cache, *extra):
    clip, track = shot
    return [sys.executable, "-m", "reenact", "render", track, "--video", clip, "--model", BASE_MODEL, "--out", out,
            "--frames", JOB, "--region", "mouth", "--cache", cache, "--cpu", "--job-id", "farm-test", *extra]


def _run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=_env())
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _frames(folder):
    """{name: decoded RGB pixels} of a frame folder; fails on any other file."""
    import cv2

    from reenact.render.chunks import MARKER_RE

    names = sorted(n for n in os.listdir(folder) if not MARKER_RE.match(n))  # (the chunks' markers: below)
    assert all(n.startswith("frame_") and n.endswith(".png") for n in names), names
    return {n: cv2.imread(os.path.join(folder, n), cv2.IMREAD_UNCHANGED) for n in names}


def _same(a, b):
    assert sorted(a) == sorted(b)
    diff = [n for n in a if a[n].shape != b[n].shape or a[n].tobytes() != b[n].tobytes()]
    assert diff == [], diff


@pytest.fixture(scope="module")
def single(shot, tmp_path_factory):
    d = tmp_path_factory.mktemp("single")
    s = _run(_render_cmd(shot, str(d / "frames"), str(d / "cache")))
    assert s["frames"] == N and s["rendered"] == 16 and s["chunk"] == [4, 20]
    return str(d / "frames"), s


def test_two_parallel_chunks_equal_one_render(shot, single, tmp_path):
    out, cache = str(tmp_path / "frames"), str(tmp_path / "cache")
    procs = [subprocess.Popen(_render_cmd(shot, out, cache, "--chunk", c), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for c in ("4:12", "12:20")]
    res = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in res]
    s1, s2 = (json.loads(r[0].strip().splitlines()[-1]) for r in res)
    # each chunk writes its frames and the footage's frames on its side of the job's range
    assert (s1["frames"], s1["rendered"], s1["copied"]) == (12, 8, 4)
    assert (s2["frames"], s2["rendered"], s2["copied"]) == (12, 8, 4)
    assert s1["job_id"] == s2["job_id"] == single[1]["job_id"]
    _same(_frames(out), _frames(single[0]))
    # the watermark carries the job's id in the union as in the single render
    from reenact.provenance.verify import verify_path

    v = verify_path(out, fps=30, manifest=False)
    assert v["watermark"]["detected"] and v["watermark"]["payload"]["job_id"] == single[1]["job_id"]

    # a finished chunk run again renders nothing (the cache) and changes nothing
    again = _run(_render_cmd(shot, out, cache, "--chunk", "4:12"))
    assert (again["rendered"], again["cached"]) == (0, 8)
    _same(_frames(out), _frames(single[0]))


def test_killed_chunk_is_retried_to_the_same_frames(shot, single, tmp_path):
    out, cache = str(tmp_path / "frames"), str(tmp_path / "cache")
    first = _run(_render_cmd(shot, out, cache, "--chunk", "12:20"))
    assert first["rendered"] == 8
    p = subprocess.Popen(_render_cmd(shot, out, cache, "--chunk", "4:12", "--batch", "1"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    want = os.path.join(out, "frame_000005.png")  # the chunk has written a rendered frame: kill it
    t0 = time.time()
    while not os.path.exists(want) and p.poll() is None and time.time() - t0 < 300:
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    done = set(os.listdir(out))
    assert "frame_000011.png" not in done  # killed mid-way
    # what a killed chunk may leave (hidden temporaries of a frame) does not block the retry
    open(os.path.join(out, ".frame_000009.png.x1y2z3.tmp"), "wb").write(b"partial")
    retry = _run(_render_cmd(shot, out, cache, "--chunk", "4:12"))
    assert retry["cached"] >= 1 and retry["rendered"] + retry["cached"] == 8
    # the movie: assembled from the folder (temporaries removed) = the single render's movie
    movie = str(tmp_path / "movie.mp4")
    a = _run([sys.executable, "-m", "reenact", "assemble", out, "--video", shot[0], "--out", movie])
    assert a["frames"] == N and a["audio"] and a["temporaries_removed"] >= 1 and a["job_id"] == single[1]["job_id"]
    _same(_frames(out), _frames(single[0]))
    ref = str(tmp_path / "single.mp4")
    _run(_render_cmd(shot, ref, str(tmp_path / "cache")))
    from reenact.video import open_video

    with open_video(movie) as m, open_video(ref) as r:
        assert len(m) == len(r) == N and m.rate == r.rate and m.has_audio and r.has_audio
        fm = np.stack([f for _, f in m.iter_frames(0, N)])
        fr = np.stack([f for _, f in r.iter_frames(0, N)])
    assert np.array_equal(fm, fr)


def test_chunk_errors_are_one_line(shot, tmp_path):
    clip, track = shot
    res = subprocess.run(_render_cmd(shot, str(tmp_path / "m.mp4"), str(tmp_path / "c"), "--chunk", "4:8"),
                         capture_output=True, text=True, env=_env())
    assert res.returncode == 2 and "assemble" in res.stderr and not os.path.exists(tmp_path / "m.mp4")
    res = subprocess.run(_render_cmd(shot, str(tmp_path / "f"), str(tmp_path / "c"), "--chunk", "2:8"),
                         capture_output=True, text=True, env=_env())
    assert res.returncode == 2 and "not inside the job's frames 4:20" in res.stderr
    # assembling before every chunk is done: one line naming the missing frames, no movie
    os.makedirs(tmp_path / "part")
    _run(_render_cmd(shot, str(tmp_path / "part"), str(tmp_path / "c"), "--chunk", "4:8"))

    def assemble(*extra):
        return subprocess.run([sys.executable, "-m", "reenact", "assemble", str(tmp_path / "part"), "--video", clip,
                               "--out", str(tmp_path / "m.mp4"), *extra], capture_output=True, text=True, env=_env())

    res = assemble()
    assert res.returncode == 2 and "clip frames 8-19 of this farm job have not been rendered" in res.stderr, res.stderr
    assert not os.path.exists(tmp_path / "m.mp4")
    # the rest rendered by another submission (an edit since, a job name of its own): every frame
    # is there, but two jobs' frames are not assembled as one (before 2026-12-06 `reenact render
    # --chunk` left no marker and assemble made the movie of both)
    _run(_render_cmd(shot, str(tmp_path / "part"), str(tmp_path / "c"), "--chunk", "8:20", "--farm-job", "again"))
    res = assemble()
    assert res.returncode == 2 and "clip frames 4-7 of this farm job have not been rendered" in res.stderr, res.stderr
    res = assemble("--farm-job", "farm-test")
    assert res.returncode == 2 and "clip frames 8-19 of this farm job have not been rendered" in res.stderr, res.stderr
    assert not os.path.exists(tmp_path / "m.mp4")


def test_progress_lines_for_headless_runs():
    """Blender in background mode prints a parseable line per step, at most one per interval
    (first and last always)."""
    import io
    import re

    from reenact.progress import ProgressLines

    buf = io.StringIO()
    lines = ProgressLines("Rendering", stream=buf, interval=3600)
    for k in range(1, 11):
        assert lines(k, 10, "frame {} on CPU".format(k + 3)) is True
    out = buf.getvalue().splitlines()
    assert out == ["Reenact: Rendering 1/10 frame 4 on CPU", "Reenact: Rendering 10/10 frame 13 on CPU"]
    m = re.match(r"^Reenact: (.+?) (\d+)/(\d+)", out[-1])
    assert m and m.groups() == ("Rendering", "10", "10")
    every = io.StringIO()
    each = ProgressLines("Tracking", stream=every, interval=0)
    for k in range(3):
        each(k, 3)
    assert every.getvalue() == "Reenact: Tracking 0/3\nReenact: Tracking 1/3\nReenact: Tracking 2/3\n"


def test_unsigned_chunk_files_are_byte_identical(shot, tmp_path):
    """Without C2PA signing (whose manifests carry the signing time) the PNG files themselves of
    chunks, run in any order, equal one render's byte for byte; with signing only the manifests
    of the rendered frames differ (the pixels are compared above)."""
    import hashlib

    from reenact.face.track import Track
    from reenact.render.pipeline import chunk_segments, render_clip

    clip, path = shot
    track = Track.load(path)

    def digests(folder):
        return {n: hashlib.sha256(open(os.path.join(folder, n), "rb").read()).hexdigest()
                for n in sorted(os.listdir(folder))}

    kw = dict(frames=(4, 20), region="mouth", prefer_gpu=False, sign=False, job_id="farm-test")
    one = render_clip(track, clip, BASE_MODEL, out=str(tmp_path / "one"), cache_dir=str(tmp_path / "c1"), **kw)
    for c in ((16, 20), (4, 9), (9, 16)):  # three chunks, last one first
        render_clip(track, clip, BASE_MODEL, out=str(tmp_path / "parts"), cache_dir=str(tmp_path / "c2"), chunk=c, **kw)
    assert one["frames"] == N and digests(tmp_path / "parts") == digests(tmp_path / "one")
    # which frames a chunk writes: its own, and the footage's on its side of the job's range
    assert chunk_segments((4, 20), (4, 9), N) == [(0, 4), (4, 9)]
    assert chunk_segments((4, 20), (9, 16), N) == [(9, 16)]
    assert chunk_segments((4, 20), (16, 20), N) == [(16, 20), (20, 24)]
    assert chunk_segments((0, N), None, N) == [(0, N)]
    with pytest.raises(ValueError, match="not inside the frames 4:20"):
        chunk_segments((4, 20), (2, 9), N)


def test_chunks_of_a_full_reenactment_draw_the_same_room_as_one_render(tmp_path, carphone, carphone_track):
    """Region head in chunks: each chunk builds the shot's plate and completes the room no frame
    shows (a seeded patch search), so the chunks' frames equal the single render's byte for byte."""
    import hashlib

    from conftest import turned

    from reenact.render.pipeline import render_clip

    def digests(folder):
        return {n: hashlib.sha256(open(os.path.join(folder, n), "rb").read()).hexdigest()
                for n in sorted(os.listdir(folder))}

    req = turned(carphone_track, 0.15)
    kw = dict(frames=(60, 68), region="head", prefer_gpu=False, sign=False, job_id="farm-test")
    render_clip(req, carphone, BASE_MODEL, out=str(tmp_path / "one"), cache_dir=str(tmp_path / "c1"), **kw)
    for c in ((64, 68), (60, 64)):
        render_clip(req, carphone, BASE_MODEL, out=str(tmp_path / "parts"), cache_dir=str(tmp_path / "c2"), chunk=c, **kw)
    one = digests(tmp_path / "one")
    assert len(one) == carphone_track.n_frames and digests(tmp_path / "parts") == one


def test_two_chunks_of_a_shared_clip_equal_one_render(tmp_path):
    """The issue's acceptance check on real footage with audio and a keyframe mid-clip
    (driving_d12: 183 frames, 512 x 512, keyframes at 0 and 164): the second chunk starts by
    seeking, the first decodes from the start; in parallel they give the single render's frames,
    and the assembled movie keeps the audio."""
    from conftest import edited, shared_clip

    from reenact.tracking.tracker import track_video

    clip = shared_clip("driving_d12.mp4")
    track = str(tmp_path / "d12.npz")
    edited(track_video(clip)[0]).save(track)
    shot = (clip, track)

    def cmd(out, cache, *extra):
        c = _render_cmd(shot, out, cache, *extra)
        c[c.index("--frames") + 1] = "160:176"
        return c

    single = _run(cmd(str(tmp_path / "single"), str(tmp_path / "c1")))
    assert single["frames"] == 183 and single["rendered"] + single["cached"] == 16
    out, cache = str(tmp_path / "chunks"), str(tmp_path / "c2")
    procs = [subprocess.Popen(cmd(out, cache, "--chunk", c), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=_env()) for c in ("160:168", "168:176")]
    res = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in res]
    _same(_frames(out), _frames(str(tmp_path / "single")))
    a = _run([sys.executable, "-m", "reenact", "assemble", out, "--video", clip, "--out", str(tmp_path / "d12.mp4")])
    assert a["frames"] == 183 and a["audio"]


def test_assembled_movie_starts_a_keyframe_where_rendered_and_copied_frames_meet(shot, single, tmp_path):
    """The assembled movie codes the first rendered frame (4) and the first copied one after
    the job (20) on their own: H.264 then predicts no copied frame from a watermarked picture
    (docs/provenance.md, "Limits"). Rendered frames are the signed PNGs of the folder."""
    import av

    from reenact.provenance.manifest import png_has_manifest
    from reenact.render.assemble import assemble_movie

    folder = single[0]
    signed = [i for i, n in enumerate(sorted(os.listdir(folder))) if png_has_manifest(os.path.join(folder, n))]
    assert signed == list(range(4, 20))
    out = str(tmp_path / "job.mp4")
    assemble_movie(folder, shot[0], out)
    with av.open(out) as c:
        s = c.streams.video[0]
        keys = sorted(int(round(float(p.pts * s.time_base) * 30)) for p in c.demux(s) if p.pts is not None and p.is_keyframe)
    assert {4, 20} <= set(keys) and set(keys) <= {0, 4, 20}, keys


def test_assemble_checks_the_chunks_are_one_jobs(tmp_path):
    """Each farm chunk leaves a marker naming its job before its first frame and once its frames
    are written (render/chunks.py); Assemble checks them. Before 2026-12-06 it checked only that
    a file was there for every frame: a chunk that failed this time left the frames of an earlier
    job in the folder, and a second job of the same shot wrote over the first's frames, and both
    were assembled as one result without a word. The times are the marker files' (one clock, the
    shared storage's), not each worker's."""
    from reenact.render.chunks import check_chunks, mark_chunk, marker_name
    from reenact.video.encode import FrameFolder

    folder = tmp_path / "Actor_mouth.farm"
    folder.mkdir()
    clock = [1000.0]

    def mark(job, frames, chunk, done=True):  # (each marker a minute after the last, by the file's time)
        mark_chunk(str(folder), job, frames, chunk, 12, done=done)
        clock[0] += 60
        os.utime(folder / marker_name(chunk, job), (clock[0], clock[0]))

    assert check_chunks(str(folder)) is None  # (an older job's folder: its files alone are checked)
    mark("jobA", (2, 10), (2, 6))
    mark("jobA", (2, 10), (6, 10), done=False)  # running (or killed)
    with pytest.raises(ValueError, match=r"clip frames 6-9 of this farm job have not been rendered .*still running"):
        check_chunks(str(folder), "jobA")
    # Assemble Render names the timeline frames its tasks are named by (a scene-and-farm review,
    # 2026-12-06: clip frames, which no task was named by); a strip at frame 5, and reversed
    with pytest.raises(ValueError, match=r"timeline frames 11-14 of this farm job have not been rendered"):
        check_chunks(str(folder), "jobA", timeline=(5, 12, False))
    with pytest.raises(ValueError, match=r"timeline frames 7-10 of this farm job have not been rendered"):
        check_chunks(str(folder), "jobA", timeline=(5, 12, True))
    mark("jobA", (2, 10), (6, 10))
    assert check_chunks(str(folder), "jobA") == "jobA" and check_chunks(str(folder)) == "jobA"
    mark("jobB", (4, 5), (4, 5), done=False)  # resubmitted after an edit, its chunk writing frames 0-11
    with pytest.raises(ValueError, match=r"clip frames 0-11 were written again by another farm job"):
        check_chunks(str(folder), "jobA")
    mark("jobB", (4, 5), (4, 5))
    assert check_chunks(str(folder)) == "jobB" and check_chunks(str(folder), "jobB") == "jobB"
    # a job chunked alike, resubmitted while the first still writes: each keeps its own marker, and
    # the first is refused while the second's chunk runs (before, the one marker was the last one's)
    mark("jobC", (2, 10), (2, 6), done=False)
    mark("jobB", (4, 5), (4, 5))  # (jobB's again)
    with pytest.raises(ValueError, match=r"written again by another farm job"):
        check_chunks(str(folder), "jobB")
    # a chunk of a job that died mid-way is cleared by the next job's chunk over those frames
    mark("jobD", (2, 10), (2, 6), done=False)
    assert not (folder / marker_name((2, 6), "jobC")).exists()
    with pytest.raises(ValueError, match=r"no chunk of this farm job has finished here"):
        check_chunks(str(folder), "jobC")
    # two jobs with no name of their own, chunked otherwise: one's chunks cannot fill the other's gap
    other = tmp_path / "Actor_face.farm"
    other.mkdir()
    folder = other
    for c in ((0, 6), (6, 12)):
        mark("", (0, 12), c)
    mark("", (0, 12), (0, 4))
    with pytest.raises(ValueError, match=r"chunks of more than one job are here under one job name \(none given\)"):
        check_chunks(str(folder))
    # the markers belong in a frame folder: a render into it is not refused for them
    FrameFolder(str(folder), 12)


def test_a_folder_from_before_markers_and_a_job_rendered_whole_again_still_assemble(tmp_path):
    """A review of the markers (2026-12-06): a farm folder rendered before markers existed, one
    chunk of it rendered again since, is checked by its files as before (it was refused: "clip
    frames 0-24, 50-249 ... have not been rendered"); a job whose chunk failed, then rendered whole
    without --chunk into its folder, leaves the whole job's marker (it was refused forever)."""
    import time

    from reenact.render.chunks import MARKER_RE, check_chunks, marking

    old = tmp_path / "old"
    old.mkdir()
    for i in range(250):
        p = old / "frame_{:06d}.png".format(i)
        p.write_bytes(b"")
        os.utime(p, (time.time() - 86400,) * 2)
    with marking(str(old), "shot42", (0, 250), (25, 50), 250):
        pass
    assert check_chunks(str(old)) is None
    again = tmp_path / "again"
    with marking(str(again), "", (0, 250), (0, 125), 250):
        pass
    with pytest.raises(RuntimeError):
        with marking(str(again), "", (0, 250), (125, 250), 250):
            raise RuntimeError("the worker died")
    with pytest.raises(ValueError, match="clip frames 125-249 of this farm job have not been rendered"):
        check_chunks(str(again))
    with marking(str(again), "", (0, 250), None, 250):  # (`reenact render --frames 0:250` into the folder)
        pass
    assert check_chunks(str(again)) == ""
    assert len([n for n in os.listdir(again) if MARKER_RE.match(n)]) == 1  # (the whole job's; the chunks' superseded)
    plain = tmp_path / "plain"  # a render into a folder of its own leaves no marker
    with marking(str(plain), "", (0, 250), None, 250):
        pass
    assert not plain.exists() or not os.listdir(plain)


def test_assemble_render_again_after_an_undo_finds_the_farm_frames_and_no_render_writes_over_them(tmp_path):
    """Assemble Render by hand (F3) moves the farm job's folder to a take; an undo takes its strip
    away, the frames stay. A scene-and-farm review (2026-12-06): assembling again said "no frames
    rendered here yet" (the take was looked up only by a farm task's job token), and the next
    Render Performance in Blender took that take, shown by no strip, as its own to write over. Now
    the assembly finds the take by its chunks' markers, and a take holding them is never written over."""
    pytest.importorskip("bpy")
    import cv2

    from reenact.blender import farm, takes
    from reenact.render.chunks import marking
    from reenact.video.encode import VideoWriter

    clip = str(tmp_path / "clip.mp4")
    rng = np.random.default_rng(3)
    with VideoWriter(clip, 25, (32, 32)) as w:
        for _i in range(6):
            w.write(rng.integers(0, 255, (32, 32, 3), np.uint8))
    stem = str(tmp_path / "renders" / "shot_Actor_0_mouth")
    folder = farm.farm_folder(stem)
    os.makedirs(folder)
    for a, b in ((0, 3), (3, 6)):  # (the job's two chunks)
        with marking(folder, "job1", (0, 6), (a, b), 6):
            for i in range(a, b):
                cv2.imwrite(os.path.join(folder, "frame_{:06d}.png".format(i)), np.full((32, 32, 3), i, np.uint8))

    def assemble():  # (as the operator does, no job token: by hand)
        take = farm.output_path(stem, "IMAGES", False)
        return farm.assemble_job(folder, clip, None, False, (None, None), lambda *a: True, take=take,
                                 stranded=farm.stranded_take(folder, None, None))

    first = assemble()
    assert first["out"] == stem and not os.path.exists(folder), first
    # the undo took the strip away: assembling again finds the take (before: "no frames rendered here yet")
    again = assemble()
    assert again["out"] == stem and again["frames"] == 6, again
    # a render in Blender now writes a new take, not over the farm's frames (no strip shows them)
    assert takes.next_take(stem, folder=True) == stem + ".take2"
    assert takes.take_number(stem + ".take12") == 12 and takes.take_number(stem) == 1
    # a strip shows that take (no undo): a new job that has written nothing yet is not taken for it
    import bpy

    scene = bpy.data.scenes[0]
    shown = scene.sequence_editor_create().strips.new_image(
        name="dub", filepath=os.path.join(stem, "frame_000000.png"), channel=2, frame_start=1)
    try:
        with pytest.raises(ValueError, match="no frames rendered here yet"):
            assemble()
    finally:
        scene.sequence_editor.strips.remove(shown)


def test_chunks_of_a_performance_changed_mid_job_are_not_assembled(shot, tmp_path):
    """The performance edited while a farm job ran (its Track saved again between two chunks):
    each chunk's marker records what it rendered, and the assembly refuses the job in one line
    naming the two parts (before 2026-12-06 one movie of both performances, exit 0)."""
    from reenact.face.track import Track

    clip, track = shot
    mine = str(tmp_path / "perf.npz")
    shutil.copyfile(track, mine)
    out, cache = str(tmp_path / "part"), str(tmp_path / "c")
    _run(_render_cmd((clip, mine), out, cache, "--chunk", "4:8", "--farm-job", "j1"))
    t = Track.load(mine)
    t.expression = np.clip(t.expression + 0.2, 0.0, 1.0)  # (the animator's change, saved mid-job)
    t.save(mine)
    _run(_render_cmd((clip, mine), out, cache, "--chunk", "8:20", "--farm-job", "j1"))
    res = subprocess.run([sys.executable, "-m", "reenact", "assemble", out, "--video", clip, "--farm-job", "j1",
                          "--out", str(tmp_path / "m.mp4")], capture_output=True, text=True, env=_env())
    assert res.returncode == 2 and "rendered 2 different performances" in res.stderr, res.stderr
    assert not os.path.exists(tmp_path / "m.mp4")


def test_actors_whose_names_clean_alike_keep_their_own_takes():
    """Two actors renamed '张' and '李' (or 'Zoë' and 'Zoé') cleaned to one stem ('mouth'), so they
    shared one take and one farm folder, and Assemble Render of one added the other's frames
    (before the review of the evening of 2026-12-06). A name with letters a file name loses gets a
    digest; a plain one keeps its stem (existing projects' takes keep their names)."""
    pytest.importorskip("bpy")
    from reenact.blender.farm import _stem

    assert _stem("shot Actor 0 mouth") == "shot_Actor_0_mouth"
    a, b = _stem("张 mouth"), _stem("李 mouth")
    assert a != b and a.startswith("mouth-") and b.startswith("mouth-"), (a, b)
    assert _stem("Zoë mouth") != _stem("Zoé mouth")


def test_a_farm_job_assembled_into_a_movie_is_up_to_date_for_render_edited_actors_with_output_movie(
        carphone, tmp_path, request):
    """A wrangler's farm job (chunk tasks write frames) assembled into a movie by Assemble Render;
    the compositor then runs Render Edited Actors with Output Movie. Before 2026-12-06 19:22 UTC
    the movie was keyed as the chunks' frames, and the farm's shot was rendered again on the
    compositor's machine; now each chunk records the key of every output the assembly may make."""
    pytest.importorskip("bpy")
    from test_blender_look import _check, _clip30

    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_farm_movie_check.py", "5.0", request, work, clip, work)
    assert r["results"] == [["shot Reenact Mouth", "MOVIE", ".mp4"]], r
    assert r["options"] and "output_keys" not in r["options"], r  # (the keys are the markers', not the options)
    assert r["movie_again"] == ["CANCELLED"], r
    assert "nothing to render: every edited actor's result is up to date" in r["_stdout"], r["_stdout"][-3000:]
    assert r["lossless"] == ["FINISHED"], r  # (a lossless movie is another file: rendered)
