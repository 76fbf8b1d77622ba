# SPDX-License-Identifier: GPL-3.0-or-later
"""Renderer inference with onnxruntime (bundled base model) and ``reenact render`` on carphone."""

import json
import os

import numpy as np
import pytest

from conftest import run_py
from reenact.render.pipeline import render_clip
from reenact.render.renderer import BASE_MODEL, NeuralRenderer
from reenact.render.composite import feather_mask, paste_back


@pytest.fixture(scope="module")
def track_file(carphone_edit, tmp_path_factory):
    """carphone's performance edited (brows raised): a render draws every frame of it."""
    path = str(tmp_path_factory.mktemp("trk") / "carphone.npz")
    carphone_edit.save(path)
    return path


def test_base_model_bundled_and_small():
    assert os.path.isfile(BASE_MODEL)
    assert os.path.getsize(BASE_MODEL) <= 50 * 2**20
    assert os.path.isfile(os.path.splitext(BASE_MODEL)[0] + ".pt")  # weights for --init


def test_base_model_inference_on_carphone(track_file, carphone):
    from reenact.face.track import Track

    rend = NeuralRenderer(BASE_MODEL, prefer_gpu=False, threads=2)
    assert rend.provider == "CPUExecutionProvider" and rend.mode == "face-only"
    x = np.random.default_rng(0).random((2, rend.config["in_ch"], rend.size, rend.size), dtype=np.float32)
    crops = rend.run(x, batch=2)
    assert crops.shape == (2, rend.size, rend.size, 3) and crops.dtype == np.uint8
    # a uint8 input (the render path's) is the float input scaled by 1/255: the same crops,
    # also for a batch that reuses the buffer of a bigger one
    u = (x * 255).astype(np.uint8)
    np.testing.assert_array_equal(rend.run(u, batch=2), rend.run(u.astype(np.float32) / 255.0, batch=2))
    np.testing.assert_array_equal(rend.run(u[:1], batch=1), rend.run(u[:1].astype(np.float32) / 255.0, batch=1))
    np.testing.assert_array_equal(rend.run([u[1], u[0]], batch=2), rend.run(u[::-1], batch=2))  # a list of frames
    # frames kept as their parts (the render path's StackedInput), and the lane's session
    from reenact.render.conditioning import StackedInput

    parts = [StackedInput([a[:7], a[7:]]) for a in (u[1], u[0])]
    np.testing.assert_array_equal(rend.run(parts, batch=2), rend.run(u[::-1], batch=2))
    lane = rend.run(u, batch=2, session=rend.lane_session())  # threads may sum in another order: a level
    assert np.abs(lane.astype(int) - rend.run(u, batch=2)).max() <= 1
    tr = Track.load(track_file)
    from reenact.video import open_video

    with open_video(carphone) as src:
        originals = {i: f for i, f in src.iter_frames(30, 36)}
    got = {}
    summary = render_clip(tr, carphone, BASE_MODEL, frames=(30, 36), region="face", batch=4, prefer_gpu=False,
                          on_frame=lambda i, f: got.__setitem__(i, f))
    out = {i: got[i] for i in range(30, 36)}
    from reenact.provenance.watermark import MAX_CHANGE, make_payload, mark_delta

    for i, f in out.items():
        assert f.shape == originals[i].shape and f.dtype == np.uint8
        diff = np.abs(f.astype(int) - originals[i].astype(int)).sum(-1)
        # the face changed a little (re-rendered); the corners of the frame only by the mark: the
        # same change in R, G and B, within MAX_CHANGE, with the sign of the key's pattern, and
        # within a level of the (masked) mark of the footage's own frame (the composite's gain
        # differs from the footage's only near the face)
        pl = make_payload(summary["job_id"])
        d = f[:10, :10].astype(int) - originals[i][:10, :10].astype(int)
        keep = (originals[i][:10, :10] > 6).all(-1) & (originals[i][:10, :10] < 249).all(-1)
        assert (d[..., 0] == d[..., 1])[keep].all() and (d[..., 1] == d[..., 2])[keep].all()
        assert np.abs(d).max() <= MAX_CHANGE and diff.max() > 0
        assert (np.sign(d[..., 0]) * np.sign(mark_delta(*f.shape[:2], pl)[:10, :10]) >= 0)[keep].all()
        near = np.clip(originals[i].astype(int) + mark_delta(*f.shape[:2], pl, frame=originals[i])[..., None], 0, 255)
        assert np.abs(f[:10, :10].astype(int) - near[:10, :10]).max() <= 1
        assert np.mean(diff[diff > 0]) < 60  # a plausible face, not noise


def test_paste_back_identity_crop():
    frame = np.random.default_rng(0).integers(0, 255, (90, 120, 3), np.uint8)
    Minv = np.array([[1.0, 0, 20], [0, 1.0, 10]])  # frame <- crop
    crop = frame[10:74, 20:84].copy()
    mask = np.ones((64, 64), np.float32)
    out = paste_back(frame, crop, mask, Minv, feather=4)
    np.testing.assert_array_equal(out, frame)  # pasting the frame's own crop changes nothing
    assert feather_mask(mask, 4)[32, 32] > 0.99 and feather_mask(mask, 4)[0, 0] < 0.05


def test_cli_render_movie_same_count_size_fps_no_torch(track_file, carphone, tmp_path):
    out = str(tmp_path / "render.mp4")
    code = (
        "import sys, json\n"
        "from reenact.cli import main\n"
        "rc = main(['render', {!r}, '--video', {!r}, '--model', {!r}, '--out', {!r}, '--cpu'])\n"
        "print('TORCH', 'torch' in sys.modules)\n"
        "sys.exit(rc)\n"
    ).format(track_file, carphone, BASE_MODEL, out)
    r = run_py(code)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "TORCH False" in r.stdout
    summary = json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])
    assert summary["provider"] == "CPUExecutionProvider"
    from reenact.video import open_video

    with open_video(carphone) as a, open_video(out) as b:
        assert len(b) == len(a) == summary["frames"]
        assert (b.width, b.height) == (a.width, a.height)
        assert abs(b.fps - a.fps) < 1e-6


def test_cli_render_frames_to_folder_and_bad_input(track_file, carphone, tmp_path):
    from reenact.cli import main

    out = str(tmp_path / "frames")
    assert main(["render", track_file, "--video", carphone, "--model", BASE_MODEL, "--out", out,
                 "--frames", "5:9", "--region", "mouth", "--cpu"]) == 0
    # only 5..8 are rendered; the others are the footage's, so the output keeps the frame count
    from reenact.video import open_video

    with open_video(carphone) as src, open_video(out) as res:
        assert len(res) == len(src)
        assert sorted(os.listdir(out)) == ["frame_{:06d}.png".format(i) for i in range(len(src))]
        for i in (0, 4, 9, len(src) - 1):
            np.testing.assert_array_equal(res.read(i), src.read(i))
        assert any(np.any(res.read(i) != src.read(i)) for i in range(5, 9))
    bad = str(tmp_path / "bad.mp4")
    assert main(["render", track_file, "--video", carphone, "--model", str(tmp_path / "missing.onnx"),
                 "--out", bad]) == 2
    assert main(["render", track_file, "--video", carphone, "--model", BASE_MODEL, "--out", bad,
                 "--frames", "100:500"]) == 2
    assert not os.path.exists(bad)


def test_bundled_256_base_by_name(track_file, carphone, tmp_path):
    """``--model base256`` is the bundled 256 px base (docs/renderer.md, *The 256 px base*), the
    renderer used where none is named (Blender's default); it crops at 256 px, draws the face (the rendered face differs from the footage's and from the
    128 px base's) and keeps the frames it does not render."""
    from reenact.cli import main
    from reenact.render.renderer import BUNDLED_MODELS, model_path
    from reenact.video import open_video

    path = model_path("base256")
    assert model_path("base") == BASE_MODEL and model_path(None) == path
    assert path == BUNDLED_MODELS["base256"] and os.path.isfile(path) and os.path.getsize(path) <= 50 * 2**20
    assert os.path.isfile(os.path.splitext(path)[0] + ".pt") and os.path.isfile(os.path.splitext(path)[0] + ".int8.onnx")
    assert NeuralRenderer(path, prefer_gpu=False).size == 256
    outs = {}
    for name in ("base", "base256"):
        out = str(tmp_path / name)
        assert main(["render", track_file, "--video", carphone, "--model", name, "--out", out, "--frames", "40:43",
                     "--region", "face", "--cpu"]) == 0
        with open_video(out) as src:
            outs[name] = {i: f.astype(int) for i, f in src.iter_frames(38, 43)}
    with open_video(carphone) as src:
        orig = {i: f.astype(int) for i, f in src.iter_frames(38, 43)}
    for i in (38, 39):  # copied through by both
        assert np.array_equal(outs["base256"][i], orig[i]) and np.array_equal(outs["base"][i], orig[i])
    for i in (40, 41, 42):  # a face drawn (the brows raised) over as much of the frame as the 128 px base's
        changed = {k: int((np.abs(outs[k][i] - orig[i]).max(2) > 6).sum()) for k in outs}
        assert changed["base256"] > 0.5 * changed["base"] > 50, changed  # carphone: a 60 px face
        assert np.abs(outs["base256"][i] - outs["base"][i]).max() > 6  # by another network
