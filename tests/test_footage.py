# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing silently wrong (issue 14, items 1-3): a Track meets only the footage it was made from
(render, train; a re-encoded copy only when asked), a checkpoint resumes only on the data it
was trained on, variable-frame-rate footage is refused with the remedy. Carphone and footage
generated here."""

import os
from fractions import Fraction

import numpy as np
import pytest

from reenact.render.renderer import BASE_MODEL


def _frames(clip, stop=None):
    from reenact.video import open_video

    with open_video(clip) as src:
        return [f for _, f in src.iter_frames(0, stop)], src.rate


def _write(path, frames, rate, **kw):
    from reenact.video import VideoWriter

    with VideoWriter(str(path), rate, (frames[0].shape[1], frames[0].shape[0]), **kw) as w:
        for f in frames:
            w.write(f)
    return str(path)


@pytest.fixture(scope="module")
def footage(carphone, tmp_path_factory):
    """Carphone's look-alikes: noise of the same size and length, a re-encoded copy (other
    pixels, same shot), a copy 10 frames shorter, the mirrored shot (another "actor")."""
    d = tmp_path_factory.mktemp("footage")
    frames, rate = _frames(carphone)
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, f.shape, dtype=np.uint8) for f in frames]
    return {
        "noise": _write(d / "noise.mp4", noise, rate),
        "reencode": _write(d / "carphone copy.mp4", frames, rate, crf=30),
        "shorter": _write(d / "shorter.mp4", frames[:-10], rate, crf=30),
        "mirror": _write(d / "mirror.mp4", [np.ascontiguousarray(f[:, ::-1]) for f in frames[:60]], rate),
        "rate": rate,
    }


@pytest.fixture(scope="module")
def track_file(carphone_track, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("trk") / "carphone.npz")
    carphone_track.save(path)
    return path


# ----------------------------------------------------------------------------- 1. footage identity
def test_track_records_its_footage(carphone, carphone_track, track_file):
    from reenact.face.track import Track
    from reenact.video.identity import footage_id, sample_indices

    fid = footage_id(carphone)
    assert (fid.width, fid.height, fid.frames, Fraction(fid.rate)) == (176, 144, 120, Fraction(30000, 1001))
    assert carphone_track.source_digest == fid.digest and len(fid.digest) == 64
    assert Track.load(track_file).source_digest == fid.digest
    assert sample_indices(120) == [0, 30, 60, 89, 119] and sample_indices(3) == [0, 1, 2]
    # a movie with enough keyframes: the keyframe at or before each (a seek, no long decode)
    assert sample_indices(536, keys=[0, 250, 500]) == [0, 250, 500]
    assert sample_indices(536, keys=[0, 100, 200, 300, 400, 500]) == [0, 100, 200, 400, 500]
    assert sample_indices(120, keys=[0]) == [0, 30, 60, 89, 119]  # one keyframe: the frames themselves


def test_check_footage(carphone, carphone_track, footage):
    from reenact.video.identity import FootageMismatch, check_footage

    assert check_footage(carphone_track, carphone) == []
    with pytest.raises(FootageMismatch) as e:
        check_footage(carphone_track, footage["noise"], track_label="t.npz")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("t.npz: ") and "noise.mp4" in msg and "carphone_pristine.mp4" in msg
    assert "the pixels differ" in msg and "--accept-footage" in msg
    with pytest.raises(FootageMismatch, match="pixels differ"):
        check_footage(carphone_track, footage["reencode"])
    assert check_footage(carphone_track, footage["reencode"], accept=True) == []
    faster = carphone_track.subset(0, 120)
    faster.fps = 30.0
    with pytest.raises(FootageMismatch, match="frame rate differs"):
        check_footage(faster, carphone)
    assert check_footage(faster, carphone, accept=True) == []
    # size and frame count are never accepted
    with pytest.raises(FootageMismatch, match="frame count differs"):
        check_footage(carphone_track, footage["shorter"], accept=True)
    bigger = carphone_track.subset(0, 120)
    bigger.size = np.array([352, 288])  # a Track made for other frames
    with pytest.raises(FootageMismatch, match="frame size differs"):
        check_footage(bigger, carphone, accept=True)
    # an old Track (no digest): what can be checked is checked, the rest is said
    old = carphone_track.subset(0, 120)
    old.source_digest = ""
    (w,) = check_footage(old, footage["noise"], track_label="old.npz")
    assert w.startswith("old.npz: ") and "cannot be checked" in w
    with pytest.raises(FootageMismatch, match="frame count differs"):
        check_footage(old, footage["shorter"])


def test_transferred_track_carries_the_target_footage(carphone, carphone_track, footage):
    from reenact.face.transfer import transfer
    from reenact.tracking.tracker import track_video
    from reenact.video.identity import FootageMismatch, check_footage, footage_id

    mirror = track_video(footage["mirror"])[0]
    assert mirror.source_digest == footage_id(footage["mirror"]).digest != carphone_track.source_digest
    out = transfer(mirror, carphone_track, "mouth")
    assert out.source_digest == carphone_track.source_digest and out.source == carphone_track.source
    assert check_footage(out, carphone) == []
    with pytest.raises(FootageMismatch):
        check_footage(out, footage["noise"])


def test_cli_render_refuses_another_clip(track_file, carphone, footage, tmp_path, capsys):
    from reenact.cli import main

    out = str(tmp_path / "frames")
    for video in (footage["noise"], footage["reencode"]):
        capsys.readouterr()
        assert main(["render", track_file, "--video", video, "--model", BASE_MODEL, "--out", out, "--cpu"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("reenact: error: {}: ".format(track_file)), err
        assert os.path.basename(video) in err[0] and "pixels differ" in err[0]
    capsys.readouterr()
    assert main(["render", track_file, "--video", footage["shorter"], "--model", BASE_MODEL, "--out", out,
                 "--cpu", "--accept-footage"]) == 2
    assert "frame count differs" in capsys.readouterr().err
    assert not os.path.exists(out) and not os.path.exists(str(tmp_path / "reenact_cache"))
    # a re-encoded copy of the same shot, when asked
    assert main(["render", track_file, "--video", footage["reencode"], "--model", BASE_MODEL, "--out", out,
                 "--cpu", "--frames", "40:42", "--accept-footage"]) == 0
    assert len(os.listdir(out)) == 120


def test_pipeline_refuses_another_clip(carphone_track, footage):
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.video.identity import FootageMismatch

    with pytest.raises(FootageMismatch, match="noise.mp4"):
        render_clip(carphone_track, footage["noise"], BASE_MODEL, out=None, frames=(0, 2), prefer_gpu=False)
    frame = _frames(footage["noise"], 1)[0][0]
    with pytest.raises(FootageMismatch, match="noise.mp4"):
        render_frame(carphone_track, frame, 0, BASE_MODEL, video=footage["noise"], prefer_gpu=False)


def test_training_data_refuses_another_clip(carphone_track, footage):
    from reenact.training.data import prepare_clip
    from reenact.video.identity import FootageMismatch

    with pytest.raises(FootageMismatch, match="pixels differ"):
        prepare_clip(carphone_track, footage["noise"], 32, track_label="t.npz")
    bigger = carphone_track.subset(0, 120)
    bigger.size = np.array([352, 288])  # a Track made for other frames never trains on these
    with pytest.raises(FootageMismatch, match="frame size differs"):
        prepare_clip(bigger, footage["reencode"], 32, accept_footage=True)
    clip = prepare_clip(carphone_track, footage["reencode"], 32, frames=(0, 8), accept_footage=True)
    assert len(clip) == 8


def test_cli_train_refuses_another_clip_before_training(track_file, footage, tmp_path, capsys):
    pytest.importorskip("torch")
    from reenact.cli import main

    out = tmp_path / "m.onnx"
    assert main(["train", track_file, "--video", footage["noise"], "--out", str(out), "--steps", "1",
                 "--size", "32", "--init", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reenact: error: {}: ".format(track_file)), err
    assert "noise.mp4" in err[0] and "pixels differ" in err[0]
    # the training subprocess (Blender's Train Renderer) says the same in one line
    from reenact.training.train import main as train_main

    assert train_main(["--data", "{}={}".format(track_file, footage["noise"]), "--out", str(out), "--steps", "1",
                       "--size", "32"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("train: error: {}: ".format(track_file)), err
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- 2. checkpoint provenance
def test_checkpoint_of_other_data_is_refused(carphone, carphone_track, footage, tmp_path, capsys):
    pytest.importorskip("torch")
    from reenact.cli import main
    from reenact.errors import ReenactError
    from reenact.tracking.tracker import track_video
    from reenact.training import train as T

    kw = dict(size=32, window=3, steps=2, batch=2, base=8, checkpoint_every=1, threads=2, bar=False, fp16=False,
              log=lambda *a: None)
    mirror = track_video(footage["mirror"])[0]
    out = str(tmp_path / "actor.onnx")
    first = T.train([(carphone_track, carphone)], out, **kw)
    assert first["steps"] == 2 and os.path.isfile(out)
    before = open(out, "rb").read()
    # another actor's data to the same --out: refused before any training, the model untouched
    with pytest.raises(ReenactError) as e:
        T.train([(mirror, footage["mirror"])], out, **kw)
    msg = str(e.value)
    assert msg.startswith(first["checkpoint"] + ": ") and "\n" not in msg
    assert "carphone_pristine.mp4" in msg and "mirror.mp4" in msg and "--no-resume" in msg
    assert open(out, "rb").read() == before
    # the same from the command line: one line
    mfile = str(tmp_path / "mirror.npz")
    mirror.save(mfile)
    capsys.readouterr()
    assert main(["train", mfile, "--video", footage["mirror"], "--out", out, "--steps", "2", "--size", "32",
                 "--window", "3", "--batch", "2", "--base", "8", "--init", "none", "--no-fp16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reenact: error: " + first["checkpoint"]), err
    # starting fresh when asked: trains from step 0 on the new data
    fresh = T.train([(mirror, footage["mirror"])], out, resume=False, **kw)
    assert fresh["steps"] == 2 and len(fresh["losses"]) == 2 and open(out, "rb").read() != before
    # resuming on the same data keeps working: two more steps only
    more = T.train([(mirror, footage["mirror"])], out, **dict(kw, steps=4))
    assert more["steps"] == 4 and len(more["losses"]) == 2


# ----------------------------------------------------------------------------- 3. variable frame rate
def _write_pts(path, times, size=(64, 48), audio_seconds=None):
    """H.264 with the given frame times (seconds, 1/1000 time base), optionally an AAC tone."""
    import av

    c = av.open(str(path), "w")
    v = c.add_stream("libx264", rate=30)
    v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
    v.time_base = v.codec_context.time_base = Fraction(1, 1000)
    for i, t in enumerate(times):
        f = np.full((size[1], size[0], 3), (i * 7) % 256, np.uint8)
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts, vf.time_base = int(round(t * 1000)), Fraction(1, 1000)
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    c.close()
    return str(path)


def test_variable_frame_rate_is_refused_with_the_remedy(tmp_path, capsys):
    from reenact.cli import main
    from reenact.video import VideoError, open_video

    cfr = _write_pts(tmp_path / "cfr.mp4", np.arange(60) / 30.0)
    # a phone-style clip: 30 fps, then 20 fps for a while (the average rate hides it)
    vfr = _write_pts(tmp_path / "vfr.mp4", list(np.arange(30) / 30.0) + list(1.0 + np.arange(30) / 20.0))
    with open_video(cfr) as src:
        assert not src.variable_rate and src.rate_drift < 0.002
    with pytest.raises(VideoError) as e:
        open_video(vfr)
    msg = str(e.value)
    assert msg.startswith(vfr + ": variable frame rate") and "ms off a constant" in msg
    assert "ffmpeg -i " in msg and "-vf fps=" in msg and "vfr_cfr.mp4" in msg
    with open_video(vfr, allow_variable_rate=True) as src:  # for tools that only look (verify)
        assert src.variable_rate and 0.15 < src.rate_drift < 0.3 and src.frame_count == 60
    out = str(tmp_path / "t.npz")
    assert main(["track", vfr, "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("reenact: error: {}: variable frame rate".format(vfr)) and not os.path.exists(out)


def test_an_image_sequence_renders_into_a_movie_at_its_tracks_rate(carphone, tmp_path):
    """A PNG sequence tracked at 23.976 fps (`track --fps`, Blender's scene rate) renders into a
    movie of that rate, and `reenact assemble --fps` makes the same from a frame folder (before
    2026-12-05 both were written at the sequences' default 25: a 10-second shot became 9.6 s and
    drifted off its sound)."""
    import cv2

    from reenact import cli
    from reenact.render.pipeline import render_clip
    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    folder = tmp_path / "shot"
    folder.mkdir()
    frames, _ = _frames(carphone, 16)
    for k, f in enumerate(frames):
        cv2.imwrite(str(folder / "shot_{:04d}.png".format(1001 + k)), f[..., ::-1])
    track = track_video(str(folder), fps="24000/1001")[0]
    assert abs(track.fps - 24000 / 1001) < 1e-6
    out = tmp_path / "shot.mp4"
    render_clip(track, str(folder), BASE_MODEL, out=str(out), prefer_gpu=False, cache_dir=str(tmp_path / "c"),
                watermark=False)
    with open_video(out) as got:
        assert got.rate == Fraction(24000, 1001) and len(got) == 16
    frames_dir = tmp_path / "frames"
    render_clip(track, str(folder), BASE_MODEL, out=str(frames_dir), prefer_gpu=False,
                cache_dir=str(tmp_path / "c"), watermark=False)
    for fps, want in ((None, Fraction(25)), ("23.976", Fraction(24000, 1001))):
        movie = tmp_path / "assembled_{}.mp4".format(fps)
        argv = ["assemble", str(frames_dir), "--video", str(folder), "--out", str(movie)]
        assert cli.main(argv + (["--fps", fps] if fps else [])) == 0
        with open_video(movie) as got:
            assert got.rate == want and len(got) == 16
