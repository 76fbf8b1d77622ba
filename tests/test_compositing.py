# SPDX-License-Identifier: GPL-3.0-or-later
"""Seamless paste-back, the render pipeline (frame count / size / rate / audio, cache, cancel)
and ``reenact render`` on real footage (carphone). Kept small: 24 frames, 128 px model."""

import os

import numpy as np
import pytest

from reenact.render.composite import blend_region, crop_lowpass, paste_back
from reenact.render.renderer import BASE_MODEL

N = 24


@pytest.fixture(scope="module")
def clip_with_audio(carphone, tmp_path_factory):
    """The first N frames of carphone with an AAC sine track (carphone itself has no audio)."""
    from conftest import write_movie_with_audio

    from reenact.video import open_video

    path = str(tmp_path_factory.mktemp("clip") / "carphone audio.mp4")
    with open_video(carphone) as src:
        frames = [f for _, f in src.iter_frames(0, N)]
        rate = src.rate
    return write_movie_with_audio(path, frames, rate, N / float(rate), crf=12)


@pytest.fixture(scope="module")
def tracked(clip_with_audio):
    from reenact.tracking.tracker import track_video

    return track_video(clip_with_audio)[0]


@pytest.fixture(scope="module")
def performance(tracked):
    """An edit of the clip's own performance (brows raised): what a render draws."""
    from conftest import edited

    return edited(tracked)


@pytest.fixture(scope="module")
def frame_and_masks(tracked, clip_with_audio):
    from reenact.render.conditioning import Rasterizer, crop_frame, crop_transforms, hole_mask
    from reenact.video import open_video

    xf = crop_transforms(tracked, 256)
    out = Rasterizer(tracked, 256, xf).render(10)
    with open_video(clip_with_audio) as src:
        frame = src.read(10)
    return frame, crop_frame(frame, xf.M[10], 256), hole_mask(out["face"], 256), out["mouth_region"], xf.Minv[10]


# ----------------------------------------------------------------------------- composite
@pytest.mark.parametrize("which", ["face", "mouth"])
def test_paste_back_outside_region_is_bit_exact(frame_and_masks, which):
    frame, crop, hole, mouth, Minv = frame_and_masks
    mask = hole if which == "face" else mouth
    rng = np.random.default_rng(1)
    render = np.clip(crop.astype(int) + rng.integers(-40, 40, crop.shape) + 25, 0, 255).astype(np.uint8)
    out = paste_back(frame, render, mask, Minv)
    region = blend_region(frame.shape, mask, Minv)
    changed = np.any(out != frame, -1)
    assert changed.sum() > 50  # it did paste
    assert not (changed & ~region).any()  # nothing outside the blend region moved
    np.testing.assert_array_equal(out[~region], frame[~region])
    # the region is the mask grown by a couple of feathers, not the whole crop
    import cv2

    m = cv2.warpAffine((mask > 0.5).astype(np.float32), Minv, frame.shape[1::-1]) > 0.5
    assert region.sum() < 3.0 * m.sum() + 400


def test_paste_back_colour_match_and_seam(frame_and_masks):
    import cv2

    frame, crop, hole, mouth, Minv = frame_and_masks
    # a render with a global colour cast: colour matching takes it out
    cast = np.clip(crop.astype(int) + np.array([30, -20, 10]), 0, 255).astype(np.uint8)
    m = cv2.warpAffine((hole > 0.5).astype(np.float32), Minv, frame.shape[1::-1]) > 0.5
    matched = paste_back(frame, cast, hole, Minv)
    raw = paste_back(frame, cast, hole, Minv, colour=False)
    err = lambda o: float(np.abs(o.astype(int) - frame.astype(int))[m].mean())  # noqa: E731
    assert err(matched) < 4.0 and err(raw) > 12.0
    # seam: the jump across the mask edge is small compared to a hard paste of the same render
    edge = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)) - cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8))
    hard_mask = (hole > 0.5).astype(np.float32)
    hard = paste_back(frame, cast, hard_mask, Minv, feather=0, colour=False)

    def seam(o):
        d = (o.astype(np.float32) - frame.astype(np.float32)).mean(-1)
        g = np.hypot(cv2.Sobel(d, cv2.CV_32F, 1, 0), cv2.Sobel(d, cv2.CV_32F, 0, 1))
        return float(g[edge > 0].mean())

    assert seam(matched) < 0.25 * seam(hard), (seam(matched), seam(hard))



@pytest.fixture(scope="module")
def big_textured(frame_and_masks):
    """The frame 4x larger with fine texture (like skin and stubble on a face bigger than the
    crop), a 64 px crop transform into it and the face hole at 64 px."""
    import cv2

    frame, _crop, hole, _mouth, Minv = frame_and_masks
    big = cv2.resize(frame, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(7)
    big = np.clip(big + rng.normal(0, 14, big.shape[:2])[..., None], 0, 255).astype(np.uint8)
    Minv64 = np.asarray(Minv, np.float64) * 4.0
    Minv64[:, :2] *= 4.0  # 64 px crop -> 256 px crop -> 4x frame
    hole64 = (cv2.resize(hole, (64, 64), interpolation=cv2.INTER_AREA) > 0.5).astype(np.float32)
    # a render that agrees with the footage: the footage's own low frequencies at 64 px
    rend = np.clip(crop_lowpass(big, cv2.invertAffineTransform(Minv64), Minv64, 64) + 0.5, 0, 255).astype(np.uint8)
    inside = cv2.warpAffine(cv2.erode(hole64, np.ones((9, 9), np.uint8)), Minv64, big.shape[1::-1]) > 0.99
    return big, rend, hole64, Minv64, inside


def test_paste_back_detail_keeps_the_footage_texture_where_the_render_agrees(big_textured):
    big, rend, hole64, Minv64, inside = big_textured
    err = lambda o: float(np.abs(o.astype(int) - big.astype(int))[inside].mean())  # noqa: E731
    plain = paste_back(big, rend, hole64, Minv64)
    kept = paste_back(big, rend, hole64, Minv64, detail=big)
    assert inside.sum() > 5000
    assert err(plain) > 8.0  # a 64 px crop blown up 4x has lost the texture
    assert err(kept) < 1.0, err(kept)  # the render agrees: the footage's own pixels come back
    # a render a couple of levels off (the network's frame-to-frame noise) still gives the
    # footage back: a still face stays still
    noisy = np.clip(rend.astype(int) + 2, 0, 255).astype(np.uint8)
    assert err(paste_back(big, noisy, hole64, Minv64, detail=big)) < 1.0
    # outside the blend region nothing changes either way
    region = blend_region(big.shape, hole64, Minv64)
    np.testing.assert_array_equal(kept[~region], big[~region])
    # the validity of the detail source (a warp's holes) switches it off
    off = paste_back(big, rend, hole64, Minv64, detail=big, detail_valid=np.zeros(big.shape[:2], np.float32))
    np.testing.assert_array_equal(off, plain)


def test_paste_back_detail_never_paints_footage_over_what_the_network_drew(big_textured):
    import cv2

    big, rend, hole64, Minv64, inside = big_textured
    # the network draws a dark open mouth the footage does not show
    drawn = rend.copy()
    ys, xs = np.nonzero(hole64 > 0.5)
    cy, cx = int(np.percentile(ys, 75)), int(np.mean(xs))
    cv2.ellipse(drawn, (cx, cy), (9, 5), 0, 0, 360, (40, 20, 20), -1)
    disc = np.zeros((64, 64), np.float32)
    cv2.ellipse(disc, (cx, cy), (6, 3), 0, 0, 360, 1.0, -1)
    disc = cv2.warpAffine(disc, Minv64, big.shape[1::-1]) > 0.99
    plain = paste_back(big, drawn, hole64, Minv64)
    kept = paste_back(big, drawn, hole64, Minv64, detail=big)
    assert disc.sum() > 200
    # inside the drawn mouth: the network's pixels (no footage texture, no lips showing through)
    assert float(np.abs(kept.astype(int) - plain.astype(int))[disc].mean()) < 1.0
    assert float(kept[disc].mean()) < 70.0
    # away from it the texture is still the footage's
    far = inside & ~(cv2.dilate(disc.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0)
    assert float(np.abs(kept.astype(int) - big.astype(int))[far].mean()) < 1.0


# ----------------------------------------------------------------------------- pipeline
def test_a_take_stores_the_footage_it_copies_once(tracked, performance, clip_with_audio, tmp_path):
    """Each take of a render holds every frame of its clip, most of them the footage copied
    through (a compositor's review: a 40-frame shot of a 536-frame clip wrote 536 PNGs, 99 MB, per
    take). A second take's copies that are the same files as the first take's become links to
    them; the frames it rendered (signed) and those that differ keep their own files, and every
    frame reads as written."""
    from reenact.render.pipeline import render_clip
    from reenact.video.pngs import share_frames

    one, two = tmp_path / "dub", tmp_path / "dub.take2"
    render_clip(performance, clip_with_audio, BASE_MODEL, out=str(one), frames=(4, 8), region="mouth", prefer_gpu=False)
    s = render_clip(performance, clip_with_audio, BASE_MODEL, out=str(two), frames=(6, 10), region="mouth",
                    prefer_gpu=False)
    before = {n: open(two / n, "rb").read() for n in sorted(os.listdir(two))}
    shared = share_frames(str(two), [str(one)])
    names = ["frame_{:06d}.png".format(i) for i in range(N)]
    linked = [i for i, n in enumerate(names) if os.path.samefile(one / n, two / n)]
    assert linked == [i for i in range(N) if not (4 <= i < 10)], linked  # (4-5 drawn in take 1 only, 6-9 in 2)
    assert shared == sum(os.path.getsize(one / names[i]) for i in linked)
    assert all(open(two / n, "rb").read() == before[n] for n in names) and s["rendered"] + s["cached"] == 4
    assert sorted(os.listdir(two)) == sorted(before)  # (no temporary left)
    assert share_frames(str(two), [str(one)]) == 0  # (again: nothing more to share)


def test_a_take_clear_outside_its_frames_writes_them_without_decoding(tracked, performance, clip_with_audio,
                                                                       tmp_path, monkeypatch):
    """``keep`` (Blender's take, whose strip shows the shot through the others): the clip frames
    outside ``keep`` are one fully transparent frame, hard-linked, and never decoded; the frames
    inside (drawn in ``frames``, the footage around them) are those of a render of every frame. Before
    2026-12-06 a take decoded and wrote every frame of the clip (a 40-frame shot of a 536-frame
    clip: 536 PNGs; a 3-second shot cut from a 5-minute clip, the 5 minutes)."""
    import numpy as np

    from reenact.render import pipeline
    from reenact.video import decode
    from reenact.video.sequence import _imread_rgb

    whole, clear = tmp_path / "whole", tmp_path / "clear"
    pipeline.render_clip(performance, clip_with_audio, BASE_MODEL, out=str(whole), frames=(5, 9), region="mouth",
                         prefer_gpu=False, cache_dir=str(tmp_path / "c"))
    seen = []
    opened = decode.open_sequence_at

    def counting(*a, **k):
        src = opened(*a, **k)
        read = src.iter_frames

        def iter_frames(start=0, stop=None, *rest, **kw):
            for i, f in read(start, stop, *rest, **kw):
                seen.append(i)
                yield i, f
        src.iter_frames = iter_frames
        return src

    monkeypatch.setattr(pipeline, "open_sequence_at", counting)
    s = pipeline.render_clip(performance, clip_with_audio, BASE_MODEL, out=str(clear), frames=(5, 9), region="mouth",
                             prefer_gpu=False, cache_dir=str(tmp_path / "c"), keep=(3, 11))
    names = ["frame_{:06d}.png".format(i) for i in range(N)]
    assert sorted(os.listdir(clear)) == names and s["frames"] == N and s["cleared"] == N - 8
    assert sorted(seen) == list(range(3, 11))  # (the render's source hands over only the frames kept)
    for i, n in enumerate(names):
        if 3 <= i < 11:  # (5-8 drawn, 3, 4, 9, 10 the footage: a Frame Range inside what the shot shows)
            assert np.array_equal(_imread_rgb(str(clear / n)), _imread_rgb(str(whole / n))), n  # (signed: own manifest)
        else:
            assert os.path.samefile(clear / n, clear / names[0]), n
    import cv2

    rgba = cv2.imread(str(clear / names[0]), cv2.IMREAD_UNCHANGED)
    assert rgba.shape[2] == 4 and not rgba.any()  # (transparent: the shot shows through)
    assert _imread_rgb(str(whole / names[0])).shape == rgba.shape[:2] + (3,)
    assert np.array_equal(np.asarray(s["range"]), [5, 9]) and s["copied"] == 4


def test_a_movie_whose_signing_fails_leaves_the_earlier_movie_as_it_was(tracked, performance, clip_with_audio,
                                                                        tmp_path, monkeypatch):
    """A render again into a movie whose signing fails after the new movie was renamed into place
    (a full disk while the manifest is added) puts the earlier movie back, byte for byte, and
    leaves no hidden file; before 2026-12-06 the unsigned new movie replaced the earlier, signed
    one (a review of disk failures)."""
    import errno

    from reenact.provenance.movie_signing import MovieSigning
    from reenact.render.pipeline import render_clip

    out = tmp_path / "dub.mp4"
    render_clip(performance, clip_with_audio, BASE_MODEL, out=str(out), frames=(4, 8), region="mouth", prefer_gpu=False)
    before = out.read_bytes()

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(MovieSigning, "finish", full)
    with pytest.raises(OSError):
        render_clip(performance, clip_with_audio, BASE_MODEL, out=str(out), frames=(6, 10), region="mouth",
                    prefer_gpu=False)
    assert out.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["dub.mp4", "reenact_cache"]


def test_render_movie_keeps_count_size_rate_and_audio(tracked, performance, clip_with_audio, tmp_path):
    from reenact.render.pipeline import render_clip
    from reenact.video import open_video

    out = str(tmp_path / "out.mp4")
    s = render_clip(performance, clip_with_audio, BASE_MODEL, out=out, frames=(4, 12), region="mouth", prefer_gpu=False)
    assert s["frames"] == N and s["rendered"] == 8 and s["copied"] == N - 8 and s["audio"]
    with open_video(clip_with_audio) as a, open_video(out) as b:
        assert len(b) == len(a) == N and b.size == a.size and b.rate == a.rate
        assert b.has_audio and b.audio_stream_info["codec"] == "aac"
    assert os.path.isdir(s["cache_dir"]) and s["cache_dir"] == str(tmp_path / "reenact_cache")
    assert sorted(os.listdir(tmp_path)) == ["out.mp4", "reenact_cache"]  # no temporary files


def test_cache_rerenders_only_what_changed(tracked, performance, clip_with_audio, tmp_path):
    from reenact.render.pipeline import render_clip

    out = str(tmp_path / "frames")
    # (without the detail layer: with it, region face moves the footage's own face where the edit
    # keeps the head pose, and the network draws only the warp's holes: test below)
    first = render_clip(performance, clip_with_audio, BASE_MODEL, out=out, region="face", prefer_gpu=False,
                        detail=False)
    ok = int(np.sum(tracked.tracked))
    assert first["rendered"] == ok and first["frames"] == N
    assert sorted(os.listdir(out)) == ["frame_{:06d}.png".format(i) for i in range(N)]
    again = render_clip(performance, clip_with_audio, BASE_MODEL, out=out, region="mouth", prefer_gpu=False,
                        detail=False)
    assert again["rendered"] == 0 and again["cached"] == ok  # the region is compositing only
    # one frame's expression changed: only the frames whose window (t-10..t) holds it
    edited = performance.subset(0, N)
    k = [str(n) for n in edited.expression_names].index("jawOpen")
    edited.expression[12, k] = 1.0 - edited.expression[12, k]
    third = render_clip(edited, clip_with_audio, BASE_MODEL, out=out, region="mouth", crop_track=tracked,
                        prefer_gpu=False)
    assert third["rendered"] == min(N, 12 + 11) - 12
    # a new model file (same weights, new bytes) invalidates everything
    import shutil

    other = str(tmp_path / "other.onnx")
    shutil.copyfile(BASE_MODEL, other)
    with open(other, "ab") as f:
        f.write(b"\xc0\x3e\x01")  # an unknown protobuf field: a different file, same network
    fourth = render_clip(performance, clip_with_audio, other, out=out, frames=(0, 3), prefer_gpu=False)
    assert fourth["rendered"] == 3


def test_cancel_keeps_written_frames_and_resumes(tracked, performance, clip_with_audio, tmp_path):
    from reenact.render.pipeline import render_clip
    from reenact.progress import Cancelled

    out = str(tmp_path / "frames")
    seen = []

    def progress(done, total, message=""):
        seen.append(message)
        return done < 10

    with pytest.raises(Cancelled):
        render_clip(performance, clip_with_audio, BASE_MODEL, out=out, progress=progress, batch=4, prefer_gpu=False)
    assert "on CPU" in seen[-1]  # the provider is in the progress text (the first may be the pool's)
    assert sorted(os.listdir(out)) == ["frame_{:06d}.png".format(i) for i in range(10)]
    again = render_clip(performance, clip_with_audio, BASE_MODEL, out=out, batch=4, prefer_gpu=False)
    assert again["cached"] >= 10 and again["rendered"] == int(np.sum(tracked.tracked)) - again["cached"]
    # a cancelled movie leaves no file
    movie = str(tmp_path / "m.mp4")
    with pytest.raises(Cancelled):
        render_clip(performance, clip_with_audio, BASE_MODEL, out=movie, progress=lambda d, t, m="": d < 3,
                    prefer_gpu=False)
    assert not os.path.exists(movie) and not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["movie", "folder"])
def test_writer_error_in_its_thread_reaches_the_caller_and_leaves_no_partial_output(
        tracked, performance, clip_with_audio, tmp_path, monkeypatch, kind):
    """The writer runs in its own thread (render/overlap.py): a failing write is raised by
    render_clip; a movie leaves no file and no temporary, a folder keeps whole frames only, in
    order up to the failure, and no writer thread is left running."""
    import threading

    from reenact.render.pipeline import render_clip
    from reenact.video import encode

    calls = []
    cls, name = (encode.VideoWriter, "write") if kind == "movie" else (encode.FrameFolder, "write")
    orig = getattr(cls, name)

    def failing(self, frame, *args, **kwargs):
        calls.append(threading.current_thread().name)
        if len(calls) == 7:
            raise OSError("No space left on device")
        return orig(self, frame, *args, **kwargs)

    monkeypatch.setattr(cls, name, failing)
    out = str(tmp_path / ("m.mp4" if kind == "movie" else "frames"))
    with pytest.raises(OSError, match="No space left"):
        render_clip(performance, clip_with_audio, BASE_MODEL, out=out, frames=(2, 20), batch=4, prefer_gpu=False,
                    cache_dir=str(tmp_path / "cache"))
    assert calls and all(c.startswith("reenact-write") for c in calls)  # written off the main thread
    assert len(calls) == 7  # nothing written after the failure
    if kind == "movie":
        assert sorted(os.listdir(tmp_path)) == ["cache"]
    else:
        assert sorted(os.listdir(out)) == ["frame_{:06d}.png".format(i) for i in range(6)]
    assert not [t for t in threading.enumerate() if t.name.startswith(("reenact-write", "reenact-infer"))]


def test_render_frame_equals_clip_frame(tracked, performance, clip_with_audio, tmp_path):
    from reenact.render.pipeline import render_clip, source_identity
    from reenact.render.oneframe import render_frame
    from reenact.video import open_video

    frames = {}
    render_clip(performance, clip_with_audio, BASE_MODEL, out=None, frames=(14, 15), region="mouth",
                cache_dir=str(tmp_path / "c"), on_frame=lambda i, f: frames.__setitem__(i, f), prefer_gpu=False)
    with open_video(clip_with_audio) as src:
        f14 = src.read(14)
    one, info = render_frame(performance, f14, 14, BASE_MODEL, region="mouth", cache_dir=str(tmp_path / "c"),
                             source_id=source_identity(clip_with_audio), prefer_gpu=False, video=clip_with_audio)
    assert info["cached"] == 1  # same key as the clip render
    np.testing.assert_array_equal(one, frames[14])
    two, info = render_frame(performance, f14, 14, BASE_MODEL, region="mouth", prefer_gpu=False, video=clip_with_audio)
    assert info["rendered"] == 1
    assert np.abs(two.astype(int) - one.astype(int)).max() <= 1


# ----------------------------------------------------------------------------- CLI
def test_cli_render_bad_inputs_exit_2_no_output(tracked, clip_with_audio, carphone, tmp_path, capsys):
    from reenact.cli import main

    trk = str(tmp_path / "t.npz")
    tracked.save(trk)
    out = str(tmp_path / "o.mp4")
    base = ["render", trk, "--video", clip_with_audio, "--model", BASE_MODEL, "--cpu"]
    cases = [
        base + ["--out", out, "--frames", "30:40"],          # outside the clip
        base + ["--out", out, "--frames", "x"],              # not A:B
        base + ["--out", str(tmp_path / "o.avi")],           # unsupported container
        ["render", trk, "--video", str(tmp_path / "missing.mp4"), "--model", BASE_MODEL, "--out", out],
        ["render", trk, "--video", clip_with_audio, "--model", str(tmp_path / "no.onnx"), "--out", out],
        ["render", str(tmp_path / "missing.npz"), "--video", clip_with_audio, "--model", BASE_MODEL, "--out", out],
    ]
    for argv in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("reenact: error:"), err
    assert sorted(os.listdir(tmp_path)) == ["t.npz"]


def test_reference_frames_restrict_the_pool(tracked, performance, clip_with_audio, tmp_path, capsys):
    """``reference_frames`` / ``render --reference-frames A:B``: the actor reference pool holds
    only clip frames A..B-1 of the crop track (held-out self-reenactment from the CLI); a range
    outside the track is refused in one line before any output."""
    from reenact.cli import main
    from reenact.render.pipeline import render_clip

    every = render_clip(performance, clip_with_audio, BASE_MODEL, frames=(16, 20), region="face", prefer_gpu=False,
                        cache_dir=str(tmp_path / "c1"), detail=False)
    assert max(every["pool_frames"]) >= 12  # unrestricted, the pool reaches past frame 12
    got = {}
    held = render_clip(performance, clip_with_audio, BASE_MODEL, frames=(16, 20), region="face", prefer_gpu=False,
                       cache_dir=str(tmp_path / "c2"), reference_frames=(0, 12), detail=False,
                       on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    assert held["pool_frames"] and all(0 <= f < 12 for f in held["pool_frames"])
    assert held["rendered"] == 4
    trk = str(tmp_path / "t.npz")
    tracked.save(trk)
    out = str(tmp_path / "frames")
    argv = ["render", trk, "--video", clip_with_audio, "--model", BASE_MODEL, "--cpu", "--out", out,
            "--frames", "16:20", "--region", "face", "--crop-track", trk, "--cache", str(tmp_path / "c3")]
    capsys.readouterr()
    assert main(argv + ["--reference-frames", "0:12"]) == 0
    import json

    summary = json.loads(capsys.readouterr().out)
    assert summary["pool_frames"] == held["pool_frames"]
    for bad in ("20:30", "5:2", "x"):
        capsys.readouterr()
        assert main(argv[:-6] + ["--out", str(tmp_path / "bad"), "--reference-frames", bad]) == 2, bad
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("reenact: error: --reference-frames"), err
    assert not os.path.exists(str(tmp_path / "bad"))


def test_rows_the_performance_does_not_change_are_the_footage(tracked, performance, clip_with_audio, tmp_path):
    """A render of the footage's own performance draws nothing: every frame is the footage, bit
    for bit, unmarked (it was not synthesised); an edit of a few rows draws only those, and
    Preview Frame shows the same."""
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.video import open_video

    got = {}
    s = render_clip(tracked, clip_with_audio, BASE_MODEL, frames=(0, N), region="face", prefer_gpu=False,
                    cache_dir=str(tmp_path / "c"), on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    assert s["rendered"] == 0 and s["cached"] == 0 and s["copied"] == N
    with open_video(clip_with_audio) as src:
        frames = {i: f for i, f in src.iter_frames(0, N)}
    assert all(np.array_equal(got[i], frames[i]) for i in range(N))
    one, info = render_frame(tracked, frames[10], 10, BASE_MODEL, region="face", prefer_gpu=False,
                             cache_dir=str(tmp_path / "c"))
    assert np.array_equal(one, frames[10]) and info["rendered"] == 0
    few = tracked.subset(0, N)
    few.expression = np.array(few.expression)
    few.expression[5:8] = performance.expression[5:8]  # brows raised on frames 5..7 only
    few.with_footage_rows(tracked)
    got.clear()
    s = render_clip(few, clip_with_audio, BASE_MODEL, frames=(0, N), region="face", prefer_gpu=False,
                    cache_dir=str(tmp_path / "c2"), on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    assert s["rendered"] + s["warped"] == 3 and s["copied"] == N - 3
    assert all(np.array_equal(got[i], frames[i]) for i in range(N) if not 5 <= i < 8)
    assert all(not np.array_equal(got[i], frames[i]) for i in range(5, 8))


def test_a_face_edit_that_keeps_the_pose_moves_the_footage_s_own_face(tracked, performance, clip_with_audio, tmp_path):
    """Region face, an edit of expression only (brows raised): each frame is the footage warped
    by the fitted meshes to the edit, and the network draws only near what the warp cannot show
    (the frame equals the warped footage away from the warp's holes); the brows moved."""
    import cv2

    from reenact.render.motion import HeadMotion
    from reenact.render.pipeline import render_clip
    from reenact.video import open_video

    got = {}
    s = render_clip(performance, clip_with_audio, BASE_MODEL, frames=(8, 14), region="face", prefer_gpu=False,
                    cache_dir=str(tmp_path / "c"), watermark=False, on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    assert s["rendered"] + s["warped"] == 6 and s["warped"] >= 1
    hm = HeadMotion(tracked, performance)
    brows = [105, 66, 107, 334, 296, 336]  # inner and middle brow points of the mesh
    with open_video(clip_with_audio) as src:
        for i in range(8, 14):
            r = i - int(tracked.frame_start)
            frame = src.read(i)
            moved, field = hm.face_frame(r, frame)
            assert field is not None
            holes = (field.mouth_hole | field.eye_hole | field.occluded).astype(np.uint8)
            near = cv2.dilate(holes, np.ones((25, 25), np.uint8)) > 0
            diff = np.abs(got[i].astype(int) - moved.astype(int)).max(-1)
            assert diff[~near].max() <= 1, diff[~near].max()
            assert (hm.ps[r][brows, 1] - hm.pd[r][brows, 1]).mean() > 0.2  # raised: up in the image (a small face)
            assert np.abs(got[i].astype(int) - frame.astype(int)).max() > 4  # and the picture changed


def test_an_hd_face_keeps_its_grain_where_the_detail_layer_moves_it(carphone, carphone_track):
    """The detail layer moves the frame's own skin to the edited face by sub-pixel amounts; on an
    HD face (carphone's track and frame at 5x: a 290 px face, with a fine grain added as stubble
    is) it resamples with Lanczos and keeps most of the grain's high-frequency energy (bicubic
    keeps 0.56 of it there); a small face (carphone itself) keeps the cheaper bicubic."""
    from dataclasses import replace

    import cv2
    from conftest import edited

    from reenact.render.motion import SHARP_BAND, SHARP_FACE_PX, HeadMotion
    from reenact.video import open_video

    k, r = 5, 6
    tr = carphone_track
    big = replace(tr, focal_px=tr.focal_px * k, principal=np.asarray(tr.principal) * k,
                  size=tuple(int(v * k) for v in tr.size), landmarks=np.asarray(tr.landmarks) * k)
    small, hd = HeadMotion(tr, edited(tr)), HeadMotion(big, edited(big))
    assert np.ptp(small.pd[r][:, 1]) < SHARP_FACE_PX - SHARP_BAND / 2 < SHARP_FACE_PX + SHARP_BAND / 2 <= np.ptp(
        hd.pd[r][:, 1])
    assert small.sharp_weight(r) == 0.0 and hd.sharp_weight(r) == 1.0
    # the row alone decides (Preview Frame warps a one-row performance): the same pixels
    one = HeadMotion(big.subset(r, r + 1), edited(big).subset(r, r + 1))
    assert one.sharp_weight(0) == 1.0
    with open_video(carphone) as src:
        frame = cv2.resize(src.read(r + int(tr.frame_start)), None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    grain = np.random.default_rng(0).normal(0, 10, frame.shape[:2])[..., None]
    frame = np.clip(frame + grain, 0, 255).astype(np.uint8)
    moved, _ = hd.detail(r, frame)
    changed = np.abs(moved.astype(int) - frame.astype(int)).max(-1) > 0
    inside = cv2.erode(changed.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # the brows and the skin around them moved (not the hair: since the head's motion beyond the
    # face follows the pose only, a brow raise no longer moves the hairline; 11.8k px here, 2x
    # that before)
    assert inside.sum() > 8000

    def lap(im):
        return cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.float32), cv2.CV_32F)[inside].var()

    assert lap(moved) >= 0.65 * lap(frame), lap(moved) / lap(frame)
    assert np.array_equal(one.detail(0, frame)[0], moved)


def test_a_gaze_edit_draws_the_eyes_of_a_frame_that_looks_there(tracked, clip_with_audio, tmp_path):
    """Region face, an edit of the gaze only (an animator's gaze keys): the rows whose asked gaze
    some footage frame shows take their eyes from that frame (the frame's own eyeball turns with
    the face and cannot look elsewhere); the picture changes only around the eyes; Preview Frame
    draws the same; an edit too far from any footage gaze moves the frame's own irises, and one
    beyond any eye's turn is left to the renderer."""
    from conftest import around_eyes

    from reenact.face import transfer as X
    from reenact.face.gaze import gaze_to_directions
    from reenact.render.motion import HeadMotion
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.render.eyes import ShotEyes
    from reenact.video import open_video

    g = np.asarray(tracked.gaze, np.float64)
    f0 = int(tracked.frame_start)
    rows = [r for r in range(8 - f0, 14 - f0) if tracked.tracked[r]]
    ok = np.flatnonzero(np.asarray(tracked.tracked, bool) & np.isfinite(g).all(1))
    k = int(ok[np.argmax([np.linalg.norm(g[j] - g[rows].mean(0)) for j in ok])])  # the gaze furthest from theirs
    req = X._copy(tracked)
    req.gaze = np.array(req.gaze)
    req.gaze[rows] = g[k]
    req = req.with_footage_rows(tracked)

    def off(gz, r):  # degrees between a gaze and the one asked on row r
        d = gaze_to_directions(np.stack([gz, req.gaze[r]]))
        return float(np.degrees(np.arccos(np.clip((d[0] * d[1]).sum(-1), -1, 1))).mean())

    hm = HeadMotion(tracked, req).with_shot_eyes(ShotEyes(tracked, clip_with_audio))
    for r in rows:
        j = hm.eye_source(r)
        assert j is not None and off(g[j], r) < 0.5 * off(g[r], r), (r, j)
        assert hm.edits(r) and not hm.moves(r)  # the gaze alone: no mesh point moves
    got = {}
    render_clip(req, clip_with_audio, BASE_MODEL, frames=(8, 14), region="face", prefer_gpu=False, crop_track=tracked,
                cache_dir=str(tmp_path / "c"), watermark=False, on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    with open_video(clip_with_audio) as src:
        for r in rows:
            i = r + f0
            frame = src.read(i)
            P = hm.pd[r]
            near = around_eyes(P, frame.shape)
            diff = np.abs(got[i].astype(int) - frame.astype(int)).max(-1)
            assert diff[~near].max() <= 1 and diff[near].max() > 10, (i, diff[~near].max())
            one, _ = render_frame(req, frame, i, BASE_MODEL, region="face", cache_dir=str(tmp_path / "c"),
                                  crop_track=tracked, video=clip_with_audio, prefer_gpu=False, watermark=False)
            assert np.array_equal(one, got[i])
    far = X._copy(tracked)
    far.gaze = np.array(far.gaze)
    far.gaze[rows, 0::2] = 5.0  # no eye turns that far
    far = far.with_footage_rows(tracked)
    hf = HeadMotion(tracked, far).with_shot_eyes(hm.shot_eyes)
    assert all(hf.eye_source(r) is None and hf.iris_move(r) is None and not hf.edits(r) for r in rows)
    # a turn no footage frame shows but an eye can make: the frame's own irises, moved (render/irises.py)
    near = X._copy(tracked)
    near.gaze = np.array(near.gaze)
    near.gaze[rows, 0::2] = np.clip(g[rows, 0::2] + 0.6, -0.85, 0.85)
    hn = HeadMotion(tracked, near.with_footage_rows(tracked)).with_shot_eyes(hm.shot_eyes)
    out_of_reach = [r for r in rows if hn.eye_source(r) is None]
    assert out_of_reach and all(hn.iris_move(r) is not None and hn.edits(r) for r in out_of_reach)
    hm.close()


def test_a_frame_rewritten_in_place_changes_the_footage_s_identity(tmp_path):
    """The render cache names image-sequence footage by every file (a plate re-graded or re-exported
    in place is new footage: before 2026-12-05 only the folder counted, whose time a rewritten file
    does not change, and the old crops were reused)."""
    import time

    from reenact.render.cache import source_identity

    d = tmp_path / "plate"
    d.mkdir()
    for i in range(3):
        (d / "f_{:04d}.png".format(i + 1)).write_bytes(b"frame %d" % i)
    before = (source_identity(str(d)), source_identity(str(d / "f_####.png")))
    folder_time = os.stat(d).st_mtime_ns
    time.sleep(0.01)
    (d / "f_0002.png").write_bytes(b"re-graded frame 1")  # in place: the folder's time stays
    assert os.stat(d).st_mtime_ns == folder_time
    after = (source_identity(str(d)), source_identity(str(d / "f_####.png")))
    assert before[0] != after[0] and before[1] != after[1]
