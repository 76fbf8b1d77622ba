# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle (issue 12): losses, training + exact resume, ONNX parity, apply at full resolution,
colourise keeping luminance, bad input. Fast: generated footage, tiny networks, a few steps."""

import json
import os
import sys

import numpy as np

from reenact.provenance.watermark import make_payload, mark_delta
import pytest

from conftest import write_movie_with_audio

from conftest import ROOT
from conftest import restyle_cli as cli


def moving_clip(T=10, S=32, colour=True, seed=0):
    """A textured pattern sliding one pixel per frame (uint8, T x S x S x 3)."""
    rng = np.random.default_rng(seed)
    base = rng.random((S, S + T, 3)).astype(np.float32)
    import cv2

    base = cv2.GaussianBlur(base, (5, 5), 1.0)
    if not colour:
        base = np.repeat(base.mean(-1, keepdims=True), 3, -1)
    else:
        base = base * np.array([1.0, 0.6, 0.3], np.float32)
    return np.stack([np.round(base[:, t:t + S] * 255).astype(np.uint8) for t in range(T)])


def tiny_cfg(**kw):
    from reenact.restyle.config import RestyleConfig

    d = dict(size=32, base=8, batch=2, warmup=1)
    d.update(kw)
    return RestyleConfig(**d)


@pytest.fixture(scope="module")
def torch1():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


# ---------------------------------------------------------------- losses
def test_recycle_loss_is_zero_for_a_perfect_predictor(torch1):
    from reenact.restyle.train import recurrent_loss, recycle_loss

    clip = torch1.from_numpy(moving_clip(T=3, S=24).astype(np.float32) / 255).permute(0, 3, 1, 2)
    x0, x1, x2 = clip[0:1], clip[1:2], clip[2:3]

    def perfect(a, b):  # the pattern slides one pixel left per frame
        return torch1.cat([b[..., 1:], x2[..., -1:]], -1)

    ident = lambda z: z  # noqa: E731
    assert float(recurrent_loss(x0, x1, x2, perfect)) == 0.0
    assert float(recycle_loss(x0, x1, x2, ident, ident, perfect)) == 0.0
    # a generator pair that is a bijection (invert colours both ways) keeps it zero
    inv = lambda z: 1 - z  # noqa: E731
    perf_inv = lambda a, b: 1 - perfect(1 - a, 1 - b)  # noqa: E731
    assert float(recycle_loss(x0, x1, x2, inv, inv, perf_inv)) < 1e-7
    # copying the last frame is not a perfect predictor
    assert float(recycle_loss(x0, x1, x2, ident, ident, lambda a, b: b)) > 1e-3


def test_colour_transform_identity_and_torch_twin(torch1):
    from reenact.restyle.colour import apply_rgb, identity_coefs, upsample
    from reenact.restyle.train import t_apply_rgb

    rng = np.random.default_rng(1)
    img = rng.random((20, 24, 3)).astype(np.float32)
    ident = np.broadcast_to(identity_coefs(), (5, 6, 21)).astype(np.float32)
    np.testing.assert_allclose(apply_rgb(img, upsample(ident, (24, 20))), img, atol=1e-6)
    coef = rng.normal(size=(5, 6, 21)).astype(np.float32)
    got = apply_rgb(img, upsample(coef, (24, 20)))
    ref = t_apply_rgb(torch1.from_numpy(img).permute(2, 0, 1)[None],
                      torch1.from_numpy(coef).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-4)


# ---------------------------------------------------------------- training, resume, export
def test_train_steps_finite_resume_exact_and_onnx_parity(tmp_path, torch1):
    import onnx

    from reenact.restyle.train import train

    X = [moving_clip(seed=1)]
    Y = [moving_clip(seed=2)[..., ::-1].copy()]
    a = train(X, Y, str(tmp_path / "a.onnx"), tiny_cfg(), steps=4, resume=False, report=str(tmp_path / "a.json"))
    assert a["steps"] == 4 and np.isfinite(a["final_g"])
    assert a["parity"]["max_abs_diff"] <= 1e-4
    # stop after 2 steps, resume to 4: the same weights, bit for bit
    b = train(X, Y, str(tmp_path / "b.onnx"), tiny_cfg(), steps=4, resume=False, stop_at=2)
    assert b["cancelled"] and b["steps"] == 2 and not os.path.exists(tmp_path / "b.onnx")
    b = train(X, Y, str(tmp_path / "b.onnx"), tiny_cfg(), steps=4)
    assert b["steps"] == 4
    ca = torch1.load(a["checkpoint"], weights_only=True)["state"]
    cb = torch1.load(b["checkpoint"], weights_only=True)["state"]
    for net in ("G_xy", "G_yx", "P_x", "P_y", "D_x", "D_y"):
        for k, v in ca[net].items():
            assert torch1.equal(v, cb[net][k]), (net, k)
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "a.onnx")).metadata_props}
    assert meta["reenact.kind"] == "restyle"
    from reenact.restyle.config import RestyleConfig

    assert RestyleConfig.from_json(meta["reenact.config"]).size == 32


def test_cycle_method_has_no_temporal_terms(tmp_path, torch1):
    from reenact.restyle.train import Restyle

    r = Restyle(tiny_cfg(method="cycle", warmup=0))
    terms = r.step(moving_clip()[None, :3].repeat(2, 0), moving_clip(seed=3)[None, :3].repeat(2, 0), 0)
    assert "recycle" not in terms and "recurrent" not in terms and np.isfinite(terms["g"])
    r = Restyle(tiny_cfg(method="recycle", warmup=0))
    terms = r.step(moving_clip()[None, :3].repeat(2, 0), moving_clip(seed=3)[None, :3].repeat(2, 0), 0)
    assert terms["recycle"] > 0 and terms["recurrent"] > 0


def test_training_clips_are_split_at_their_cuts():
    """A clip that holds two shots is two clips to the trainer: no triplet of the temporal
    predictors spans the cut. A clip of one shot comes back whole."""
    from reenact.restyle.data import load_domain, sample_triplets

    a = moving_clip(T=12, seed=1)
    b = np.ascontiguousarray(255 - moving_clip(T=9, seed=7)[..., ::-1])  # another shot: another picture, other colours
    parts = load_domain([np.concatenate([a, b])], 32)
    assert [len(p) for p in parts] == [12, 9]
    assert np.array_equal(parts[0], a) and np.array_equal(parts[1], b)
    assert [len(p) for p in load_domain([a], 32)] == [12]
    tri = sample_triplets(parts, np.random.default_rng(0), 64)
    mixed = [t for t in tri if any((np.abs(t.astype(int) - f).max() == 0 for f in b)) and
             any((np.abs(t.astype(int) - f).max() == 0 for f in a))]
    assert not mixed


def test_the_stabiliser_starts_afresh_at_a_cut(carphone):
    """Apply's temporal stabiliser carries the previous frame's change along the flow where the
    pictures match; at a hard cut it starts afresh (given the frames), so nothing of the last
    shot's change is carried into the new one where the two happen to match (here the black band
    both shots share); within a shot it still carries."""
    import cv2

    from reenact.restyle.apply import Stabiliser
    from conftest import read_frames

    fr = read_frames(carphone)[:16]
    h, w = fr[0].shape[:2]
    A = [f.copy() for f in fr[:8]]
    B = [np.ascontiguousarray(cv2.resize(f[h // 4:, w // 4:], (w, h))[..., ::-1]) for f in fr[8:]]  # another shot
    for f in A + B:
        f[: h // 4] = 0  # a band both show alike
    frames = A + B
    small = [cv2.resize(f, (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32) / 255 for f in frames]
    change = [np.full((48, 64, 4), 0.5 if k < 8 else -0.5, np.float32) for k in range(len(frames))]
    band = (slice(0, 10), slice(None))
    for given, expect_fresh in ((True, True), (False, False)):
        stab, out = Stabiliser(0.8), []
        for f, sm, c in zip(frames, small, change):
            out.append(stab(sm, c.copy(), f if given else None))
        assert np.abs(out[1][band] - 0.5).max() < 1e-6  # (A's own change where A matched A: the same)
        first = out[8][band]  # the new shot's first frame, in the band
        if expect_fresh:
            assert np.array_equal(out[8], change[8])  # its own change, nothing of A's
        else:
            assert (first > -0.3).mean() > 0.5  # A's change carried over the cut (before)
    stab, out = Stabiliser(0.8), []
    for k, (f, sm) in enumerate(zip(A, small[:8])):  # within a shot: carried where the pictures match
        out.append(stab(sm, np.full((48, 64, 4), 0.1 * k, np.float32), f))
    assert out[5][band].mean() < 0.5 - 0.1  # (frame 5 asks 0.5: the band keeps part of the earlier frames')


# ---------------------------------------------------------------- apply
@pytest.fixture(scope="module")
def models(tmp_path_factory, torch1):
    from reenact.restyle.train import train

    d = tmp_path_factory.mktemp("restyle_models")
    X = [moving_clip(seed=1)]
    Y = [moving_clip(seed=2)]
    rgb = str(d / "rgb.onnx")
    train(X, Y, rgb, tiny_cfg(), steps=2, resume=False)
    col = str(d / "col.onnx")
    train([moving_clip(seed=4, colour=False)], Y, col, tiny_cfg(colourise=True), steps=2, resume=False)
    return {"rgb": rgb, "col": col}


def _clip(tmp_path, name, colour=True, n=9, size=(72, 56), seed=5):
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        f = np.zeros((size[1], size[0], 3), np.uint8)
        f[:] = (min(250, 40 + 10 * t), 120, 200) if colour else (min(250, 90 + 5 * t),) * 3
        f[10:30, 5 + t:25 + t] = (230, 60, 40) if colour else (220, 220, 220)
        f = np.clip(f.astype(int) + rng.integers(-3, 4, f.shape[:2])[..., None], 0, 255).astype(np.uint8)
        frames.append(f)
    return write_movie_with_audio(str(tmp_path / name), frames, 25, n / 25.0)


def test_a_take_restyled_is_clear_outside_the_frames_its_strip_shows(tmp_path, models):
    """``keep`` (Blender's Restyle Strip into images: the frames its strip shows): the clip frames
    outside it are one transparent file, linked, never decoded; those inside are the frames a
    restyle that copies the footage writes, bit for bit (before 2026-12-06 a shot cut from a long
    clip decoded and wrote the whole clip)."""
    import cv2

    from reenact.restyle.apply import apply_clip
    from reenact.video.sequence import _imread_rgb

    src = _clip(tmp_path, "in.mp4")
    whole, clear = tmp_path / "whole", tmp_path / "clear"
    apply_clip(models["rgb"], src, str(whole), frames=(2, 6), sign=False)
    s = apply_clip(models["rgb"], src, str(clear), frames=(2, 6), sign=False, keep=(2, 6))
    names = sorted(os.listdir(whole))
    assert sorted(os.listdir(clear)) == names and len(names) == 9 and s["cleared"] == 5 and s["written"] == 4
    for i, n in enumerate(names):
        if 2 <= i < 6:
            assert np.array_equal(_imread_rgb(str(clear / n)), _imread_rgb(str(whole / n))), n
        else:
            assert os.path.samefile(clear / n, clear / names[0]), n
    rgba = cv2.imread(str(clear / names[8]), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (56, 72, 4) and not rgba.any()
    # a Frame Range inside what the strip shows: the kept frames around it are the footage, each in
    # its place (before the fix of a review the same day: "frame 6 was already written")
    from reenact.video import open_video

    part = tmp_path / "part"
    s = apply_clip(models["rgb"], src, str(part), frames=(3, 5), sign=False, keep=(2, 6))
    with open_video(src) as v:
        footage = {i: v.read(i) for i in (2, 5)}
    assert s["cleared"] == 5 and s["restyled"] == 2 and sorted(os.listdir(part)) == names
    for i in (3, 4):
        assert np.array_equal(_imread_rgb(str(part / names[i])), _imread_rgb(str(whole / names[i]))), i
    for i in (2, 5):
        assert np.array_equal(_imread_rgb(str(part / names[i])), footage[i]), i


def test_a_full_disk_while_clearing_a_take_says_one_line_and_leaves_nothing(tmp_path, models, monkeypatch):
    """The transparent frames of a take that cannot be written (a full disk) fail in one line
    naming the output and the frame, and the writer's hidden temporary folder goes at once
    (before, a review of 2026-12-06 found the temporary file named and the folder left until
    garbage collection)."""
    import errno

    from reenact.restyle.apply import RestyleError, apply_clip
    from reenact.video import pngs

    src = _clip(tmp_path, "in.mp4")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pngs, "write_png", full)
    out = tmp_path / "out" / "take"
    out.parent.mkdir()
    with pytest.raises(RestyleError) as e:
        apply_clip(models["rgb"], src, str(out), frames=(2, 6), sign=False, keep=(2, 6))
    assert str(e.value) == "{}: cannot write frame_000000.png: No space left on device".format(out), str(e.value)
    assert os.listdir(out.parent) == []


def test_a_restyled_movie_whose_signing_fails_leaves_the_earlier_one(tmp_path, models, monkeypatch):
    """As the render: signing that fails after the new movie was renamed into place puts the
    earlier movie back (before 2026-12-06 the unsigned new one replaced it: a review)."""
    import errno

    from reenact.provenance.movie_signing import MovieSigning
    from reenact.restyle.apply import apply_clip

    src = _clip(tmp_path, "in.mp4")
    out = tmp_path / "out" / "look.mp4"
    out.parent.mkdir()
    apply_clip(models["rgb"], src, str(out), frames=(2, 6))
    before = out.read_bytes()

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(MovieSigning, "finish", full)
    with pytest.raises(OSError):
        apply_clip(models["rgb"], src, str(out), frames=(3, 7))
    assert out.read_bytes() == before and os.listdir(out.parent) == ["look.mp4"]
    with pytest.raises(OSError):  # (a new one: nothing left, not an unsigned movie)
        apply_clip(models["rgb"], src, str(out.parent / "new.mp4"), frames=(3, 7))
    assert os.listdir(out.parent) == ["look.mp4"]


def test_apply_keeps_count_size_rate_and_audio(tmp_path, models):
    from reenact.video import open_video

    src = _clip(tmp_path, "in.mp4")
    out = tmp_path / "out.mp4"
    r = cli("apply", models["rgb"], "--video", src, "--out", out, "--frames", "2:6", "--cpu")
    assert r.returncode == 0, r.stderr
    with open_video(src) as a, open_video(str(out)) as b:
        assert (len(b), b.width, b.height, b.fps) == (len(a), a.width, a.height, a.fps)
        assert b.has_audio if hasattr(b, "has_audio") else True
    import av

    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1
    folder = tmp_path / "frames"
    r = cli("apply", models["rgb"], "--video", src, "--out", folder, "--cpu")
    assert r.returncode == 0, r.stderr
    assert len([f for f in os.listdir(folder) if f.endswith(".png")]) == 9


def test_a_restyle_of_a_keyed_sequence_keeps_its_alpha_and_a_movie_says_it_drops_it(tmp_path, models):
    """A keyed plate (RGBA PNGs) restyled: the frames keep its alpha exactly (since 2026-12-06,
    as a render's do); a movie output, which holds no alpha, says so on stderr and in the
    summary's ``output_warnings`` (before: dropped without a word)."""
    import cv2

    from reenact.video import open_video

    keyed = tmp_path / "keyed"
    keyed.mkdir()
    for t in range(6):
        f = np.zeros((56, 72, 4), np.uint8)
        f[..., :3] = (40 + 20 * t, 120, 200)
        f[..., 3] = np.tile(np.arange(72, dtype=np.uint8) * 3, (56, 1))
        assert cv2.imwrite(str(keyed / "key_{:04d}.png".format(t + 1)), f)
    folder = tmp_path / "restyled"
    r = cli("apply", models["rgb"], "--video", keyed, "--out", folder, "--cpu")
    assert r.returncode == 0, r.stderr
    with open_video(str(keyed)) as a, open_video(str(folder)) as b:
        assert len(b) == 6 and b.alpha
        assert all(np.array_equal(a.read_native(i)[..., 3], b.read_native(i)[..., 3]) for i in range(6))
    r = cli("apply", models["rgb"], "--video", keyed, "--out", tmp_path / "restyled.mp4", "--cpu")
    assert r.returncode == 0, r.stderr
    said = "restyled.mp4: a movie holds no alpha: the shot's alpha channel is dropped (an image sequence output keeps it)"
    assert "reenact: warning: " + said in r.stderr, r.stderr
    assert json.loads(r.stdout)["output_warnings"] == [said]


def test_apply_keeps_the_shots_timecode_and_pixel_aspect(tmp_path, models):
    """A restyled movie starts at the shot's timecode (the editor conforms by it) and keeps its
    pixel aspect (anamorphic footage plays as the shot does)."""
    from fractions import Fraction

    from test_delivery_tags import tagged_movie

    from reenact.video import open_video

    with open_video(_clip(tmp_path, "plain.mp4")) as v:
        frames = [a for _, a in v.iter_frames()]
    src = tagged_movie(tmp_path / "in.mov", frames, timecode="23:59:58:12", sar=Fraction(64, 45))
    out = tmp_path / "out.mov"
    r = cli("apply", models["rgb"], "--video", src, "--out", out, "--cpu")
    assert r.returncode == 0, r.stderr
    with open_video(str(out)) as b:
        assert (b.timecode, b.sample_aspect, len(b)) == ("23:59:58:12", Fraction(64, 45), len(frames))


def test_farm_chunks_make_the_whole_clip(tmp_path, models):
    """A render farm's restyle job, like ``render --chunk``: the job's ``--frames A:B`` in two
    chunks (``apply --chunk C:D``, separate processes, last one first) fill one frame folder, the
    footage's own frames around the job's range included, each restyled frame watermarked and
    signed; every frame equals one apply of the job, bit-exact up to the second chunk and within a
    level or two after (its stabiliser warmed up on the job's frames before it); ``reenact
    assemble`` makes the movie (count, rate, manifest, mark). A chunk into a movie, or outside
    the job's frames, is refused in one line with nothing written."""
    import subprocess

    import cv2

    from reenact.provenance import watermark as wm
    from reenact.provenance.manifest import read_manifest
    from reenact.restyle.apply import CHUNK_WARMUP
    from reenact.video import open_video

    n = CHUNK_WARMUP + 14
    src = _clip(tmp_path, "long.mp4", n=n)
    whole, farm = tmp_path / "whole", tmp_path / "farm"
    job = "2:{}".format(n - 1)
    assert cli("apply", models["rgb"], "--video", src, "--out", whole, "--frames", job, "--cpu").returncode == 0
    cut = CHUNK_WARMUP + 6
    for c, d, wrote in ((cut, n - 1, [cut, n]), (2, cut, [0, cut])):  # in any order, into one folder
        r = cli("apply", models["rgb"], "--video", src, "--out", farm, "--frames", job, "--chunk",
                "{}:{}".format(c, d), "--cpu")
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["chunk"] == wrote and s["restyled"] == d - c, s
    from reenact.render.chunks import MARKER_RE, check_chunks

    names = sorted(n for n in os.listdir(farm) if not MARKER_RE.match(n))  # (each chunk's marker: below)
    assert names == ["frame_{:06d}.png".format(i) for i in range(n)]
    assert check_chunks(str(farm)) == ""  # (both chunks of one job, finished; no --farm-job nor --job-id)

    def png(folder, i):
        return cv2.imread(str(folder / "frame_{:06d}.png".format(i)))[:, :, ::-1].astype(int)

    for i in range(cut):
        assert np.array_equal(png(farm, i), png(whole, i)), i
    assert max(np.abs(png(farm, i) - png(whole, i)).max() for i in range(cut, n)) <= 2
    m = read_manifest(str(farm / names[cut]))
    assert m["valid"] and m["soft_binding"]["value"] == read_manifest(str(whole / names[cut]))["soft_binding"]["value"]

    movie = tmp_path / "restyled.mp4"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "reenact", "assemble", str(farm), "--video", src, "--out", str(movie)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    with open_video(src) as a, open_video(str(movie)) as b:
        assert (len(b), b.width, b.height, b.fps) == (len(a), a.width, a.height, a.fps)
    assert read_manifest(str(movie))["valid"]
    with open_video(str(movie)) as b:
        assert wm.detect([f for _i, f in b.iter_frames()], b.fps)["payload"] is not None
    # a chunk of another submission over the first one's frames: the folder now holds two jobs'
    # frames, and assemble says so instead of making their movie (before 2026-12-06: no markers)
    r = cli("apply", models["rgb"], "--video", src, "--out", farm, "--frames", job, "--chunk", "2:{}".format(cut),
            "--farm-job", "again", "--cpu")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "reenact", "assemble", str(farm), "--video", src, "--out",
                        str(tmp_path / "mixed.mp4")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "of this farm job have not been rendered" in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "mixed.mp4")

    for extra in (["--out", tmp_path / "c.mp4", "--chunk", "0:4"], ["--out", tmp_path / "c", "--frames", "4:9",
                                                                       "--chunk", "2:6"]):
        r = cli("apply", models["rgb"], "--video", src, "--cpu", *extra)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not os.path.exists(extra[1])


def test_colourise_changes_chroma_and_keeps_luminance(tmp_path, models):
    import cv2

    from reenact.restyle.colour import luma, rgb_to_ycc
    from reenact.video import open_video

    src = _clip(tmp_path, "grey.mp4", colour=False)
    folder = tmp_path / "col"
    r = cli("apply", models["col"], "--video", src, "--out", folder, "--cpu")
    summary = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    assert r.returncode == 0, r.stderr
    names = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    with open_video(src) as s:
        ins = [f for _, f in s.iter_frames()]
    assert len(names) == len(ins)
    for name, f in zip(names, ins):
        out = cv2.imread(str(folder / name))[..., ::-1]
        chroma = np.abs(rgb_to_ycc(out.astype(np.float32) / 255)[..., 1:]).mean() * 255
        assert chroma > 1.0  # the reference's colour cast at least
        y_in = np.round(luma(f.astype(np.float32) / 255) * 255)
        y_out = np.round(luma(out.astype(np.float32) / 255) * 255)
        # the shot's luminance, changed only by the watermark (the same change in R, G and B)
        # (format 2's mark is masked by the frame it is added to; its luma is the shot's)
        delta = mark_delta(out.shape[0], out.shape[1], make_payload(summary["job_id"]), frame=f)
        err = np.abs(y_out - np.clip(y_in + delta, 0, 255))
        # rounding, a channel clipped at 0 or 255, and the mask's gain from the output's luma
        # (the shot's up to a level) rather than the shot's own
        assert err.max() <= 2 and err.mean() < 0.1


def test_apply_keeps_letterbox_bars_and_restyles_the_picture_alone(tmp_path, models):
    """A letterboxed shot (black bars top and bottom) restyled by a model that lifts blacks (a
    grade's lifted shadows): the bars stay black (the watermark keeps out of them too), the picture is
    restyled as it would be without the bars, and a chunked farm job crops the same box."""
    import cv2
    import onnx
    from onnx import numpy_helper

    from reenact.restyle.apply import RestyleModel, restyle_frames
    from reenact.video import open_video

    m = onnx.load(models["rgb"])  # the trained model with its constant terms raised by 0.25
    for init in m.graph.initializer:
        if init.name == "ident":
            a = numpy_helper.to_array(init).copy()
            a[0, [6, 13, 20]] += 0.25
            init.CopyFrom(numpy_helper.from_array(a, "ident"))
    lift = str(tmp_path / "lift.onnx")
    onnx.save(m, lift)
    W, H, bar = 72, 56, 8
    rng = np.random.default_rng(6)
    frames = []
    for t in range(9):
        f = np.zeros((H, W, 3), np.uint8)
        f[bar:H - bar] = (60 + 10 * t, 120, 180)
        f[bar + 6:bar + 26, 5 + t:25 + t] = (230, 60, 40)
        f[bar:H - bar] = np.clip(f[bar:H - bar].astype(int) + rng.integers(-3, 4, (H - 2 * bar, W))[..., None], 0, 255)
        frames.append(f)
    src = write_movie_with_audio(str(tmp_path / "scope.mp4"), frames, 25, 9 / 25.0, crf=0)
    out = tmp_path / "out"
    r = cli("apply", lift, "--video", src, "--out", out, "--cpu")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["picture"] == [0, bar, W, H - bar]
    model = RestyleModel(lift, prefer_gpu=False)
    with open_video(src) as s:
        ins = [f for _i, f in s.iter_frames()]
    whole = restyle_frames(model, ins)  # the model on whole frames: the bars lifted
    cropped = restyle_frames(model, [f[bar:H - bar] for f in ins])  # on the picture alone
    names = sorted(f for f in os.listdir(out) if f.endswith(".png"))
    assert len(names) == len(ins)
    payload = make_payload(json.loads(r.stdout.strip().splitlines()[-1])["job_id"])
    for name, f, w, c in zip(names, ins, whole, cropped):
        got = cv2.imread(str(out / name))[..., ::-1].astype(int)
        assert np.concatenate([w[:bar], w[H - bar:]]).mean() > 40  # what a whole-frame restyle does
        want = f.copy()  # the footage's bars around the picture's own restyle, then the watermark
        want[bar:H - bar] = c
        want = np.clip(want + mark_delta(H, W, payload, frame=want)[..., None], 0, 255)
        want[:bar], want[H - bar:] = f[:bar], f[H - bar:]  # the mark keeps out of the bars
        err = np.abs(got - want)
        assert err.max() <= 1 and err.mean() < 0.05, (err.max(), err.mean())
        assert np.array_equal(got[:bar], f[:bar]) and np.array_equal(got[H - bar:], f[H - bar:])  # the bars as they were
    chunk = tmp_path / "chunk"
    r = cli("apply", lift, "--video", src, "--out", chunk, "--frames", "0:9", "--chunk", "5:9", "--cpu")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["picture"] == [0, bar, W, H - bar]


def test_training_frames_leave_letterbox_bars_out(tmp_path):
    """A letterboxed reference clip is loaded for training without its bars (as apply crops
    them), so the look learnt from it holds no share of pure black."""
    from reenact.restyle.data import load_clip

    W, H, bar = 72, 56, 8
    frames = []
    for t in range(6):
        f = np.zeros((H, W, 3), np.uint8)
        f[bar:H - bar] = (90 + 5 * t, 140, 200)
        frames.append(f)
    src = write_movie_with_audio(str(tmp_path / "scope.mp4"), frames, 25, 6 / 25.0, crf=0)
    got = load_clip(src, 32, cache_dir=str(tmp_path / "cache"))
    assert got.shape[1:] == (32, 32, 3) and got.min() > 60  # no black rows left
    again = load_clip(src, 32, cache_dir=str(tmp_path / "cache"))  # from the cache: the same
    assert np.array_equal(got, again)


# ---------------------------------------------------------------- bad input
def test_bad_input_one_line_nothing_written(tmp_path, models):
    colour = _clip(tmp_path, "colour.mp4")
    out = tmp_path / "x.mp4"
    not_restyle = os.path.join(ROOT, "models", "face_detection_short_range.onnx")
    for args in (["apply", not_restyle, "--video", colour, "--out", out],
                 ["apply", models["col"], "--video", colour, "--out", out],
                 ["apply", models["rgb"], "--video", tmp_path / "missing.mp4", "--out", out],
                 ["apply", models["rgb"], "--video", colour, "--out", out, "--frames", "5:99"],
                 ["train", "--x", tmp_path / "missing.mp4", "--y", colour, "--out", tmp_path / "m.onnx"],
                 ["train", "--x", colour, "--y", colour, "--out", tmp_path / "m.onnx", "--colourise", "--steps", "1",
                  "--size", "32"],
                 ["train", "--x", colour, "--y", colour, "--out", tmp_path / "m.onnx", "--steps", "1", "--size", "32"],
                 ["train", "--x", "{}@0:2".format(colour), "--y", models["rgb"], "--out", tmp_path / "m.onnx"]):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("reenact: error")]
        assert len(lines) == 1, r.stderr
        assert not out.exists() and not (tmp_path / "m.onnx").exists()
        assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_frame_ranges_train_on_what_a_strip_shows(tmp_path, torch1):
    """``PATH@A:B`` (a trimmed strip) loads frames A..B-1 only; a checkpoint trained on other
    frames is not resumed (it starts afresh, saying so)."""
    from reenact.restyle.data import ClipSpec, check_domains, clip_spec, load_domain, spec_text
    from reenact.restyle.train import train

    grey = _clip(tmp_path, "grey.mp4", colour=False, n=12)
    assert clip_spec(grey + "@3:9") == ClipSpec(grey, 3, 9) and clip_spec(grey + "@4:") == ClipSpec(grey, 4, None)
    assert clip_spec(grey) == ClipSpec(grey, 0, None) and spec_text(ClipSpec(grey, 3, 9)) == grey + "@3:9"
    whole, part = load_domain([grey, grey + "@3:9"], 32)
    assert len(whole) == 12 and len(part) == 6 and np.array_equal(part, whole[3:9])
    # colourise checks the frames the range shows: a colour lead-in outside it does not count
    mixed = str(tmp_path / "mixed.mp4")
    from reenact.video import VideoWriter

    with VideoWriter(mixed, 24, (32, 32)) as w:
        for f in np.concatenate([moving_clip(T=4, seed=1), moving_clip(T=8, seed=1, colour=False)]):
            w.write(f)
    colour = _clip(tmp_path, "colour.mp4")
    with pytest.raises(ValueError, match="already in colour"):
        check_domains([mixed], [colour], colourise=True)
    check_domains([mixed + "@4:12"], [colour], colourise=True)
    with pytest.raises(ValueError, match="the same file as X"):
        check_domains([mixed + "@4:12"], [mixed + "@0:4"])
    logs = []
    out = str(tmp_path / "m.onnx")
    train([grey + "@0:6"], [colour], out, tiny_cfg(), steps=2, resume=False, log=logs.append)
    s = train([grey + "@6:12"], [colour], out, tiny_cfg(), steps=3, log=logs.append)
    assert s["resumed_from"] == 0 and any("other clips or frame ranges" in m for m in logs), logs
    s = train([grey + "@6:12"], [colour], out, tiny_cfg(), steps=4, log=logs.append)
    assert s["resumed_from"] == 3
    # the checkpoint of the other frames was kept beside it, not written over (since 2026-12-05)
    kept = [f for f in os.listdir(tmp_path) if f.startswith("m.ckpt.pt.") and f.endswith(".old")]
    assert len(kept) == 1 and any("kept as " + kept[0] in m for m in logs), (kept, logs)


def test_a_checkpoint_resumes_only_on_the_same_files_and_frame_limit(tmp_path, torch1):
    """A shot written again under its name (a plate rendered anew) or another --max-frames starts
    afresh, saying so (before 2026-12-05 both resumed: the key held the paths and ranges only)."""
    from reenact.restyle.train import train

    grey, colour = _clip(tmp_path, "grey.mp4", colour=False, n=12), _clip(tmp_path, "colour.mp4")
    out, logs = str(tmp_path / "m.onnx"), []
    train([grey], [colour], out, tiny_cfg(), steps=2, resume=False, log=logs.append)
    assert train([grey], [colour], out, tiny_cfg(), steps=3, log=logs.append)["resumed_from"] == 2
    assert train([grey], [colour], out, tiny_cfg(), steps=4, max_frames=8, log=logs.append)["resumed_from"] == 0
    assert train([grey], [colour], out, tiny_cfg(), steps=5, max_frames=8, log=logs.append)["resumed_from"] == 4
    _clip(tmp_path, "grey.mp4", colour=False, n=12, seed=7)  # another picture under the same name
    st = os.stat(grey)
    os.utime(grey, (st.st_atime, st.st_mtime + 5))
    s = train([grey], [colour], out, tiny_cfg(), steps=6, max_frames=8, log=logs.append)
    assert s["resumed_from"] == 0 and sum("training starts afresh" in m for m in logs) == 2, logs


def test_a_checkpoint_resumes_in_a_project_moved_or_copied_elsewhere(tmp_path, torch1):
    """The data key is of what the clips hold and the ranges, not where the files lie or when
    they were written: the project moved (file times not kept, as on another machine) resumes
    (before 2026-12-06 "trained on other clips", from step 0); a checkpoint keyed as before
    (absolute paths and times) still resumes where it was trained."""
    import shutil

    import cv2

    from reenact.restyle.train import train
    from reenact.training.files import load_torch, save_torch

    a = tmp_path / "a"
    a.mkdir()
    _clip(a, "grey.mp4", colour=False, n=12)
    _clip(a, "colour.mp4")
    os.makedirs(str(a / "seq"))
    for i, f in enumerate(moving_clip(T=6, S=32, seed=4)):
        cv2.imwrite(str(a / "seq" / "look_{:04d}.png".format(i + 1)), f)

    def items(root):
        return [str(root / "grey.mp4") + "@2:12"], [str(root / "colour.mp4"), str(root / "seq")]

    def run(root, steps, **kw):
        return train(*items(root), str(root / "m.onnx"), tiny_cfg(), steps=steps, **kw)["resumed_from"]

    run(a, 2, resume=False)
    b = tmp_path / "b"
    shutil.copytree(str(a), str(b))
    for f in b.rglob("*"):
        os.utime(str(f), (1e9, 1e9))
    logs = []
    assert run(b, 3, log=logs.append) == 2, logs
    from reenact.restyle.data import _path_key

    ck = str(a / "m.ckpt.pt")  # keyed as before 2026-12-06: resumed where it was trained
    d = dict(load_torch(ck))
    x, y = items(a)
    d["data"] = json.dumps([_path_key(x), _path_key(y)])
    save_torch(d, ck)
    assert run(a, 3) == 2


def test_an_export_out_of_tolerance_leaves_the_model_it_would_replace(tmp_path, torch1, monkeypatch):
    """The ONNX parity check runs before the model is written: one ValueError line, the earlier
    model untouched (before 2026-12-05 the bad export replaced it, then an AssertionError)."""
    from reenact.restyle import train as T

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)[..., ::-1].copy()]
    out = tmp_path / "m.onnx"
    out.write_bytes(b"the model the scene uses")
    monkeypatch.setattr("reenact.training.export.PARITY_ATOL_FP32", -1.0)
    with pytest.raises(ValueError, match="m.onnx: ONNX differs from PyTorch .*; the model was not written"):
        T.train(X, Y, str(out), tiny_cfg(), steps=1, resume=False)
    assert out.read_bytes() == b"the model the scene uses"
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_empty_domain_is_an_error():
    from reenact.restyle.data import load_domain

    with pytest.raises(ValueError, match="empty"):
        load_domain([], 32, name="Y (the reference)")


@pytest.mark.parametrize("arch,disc", [("global", "pixel"), ("unet", "patch"), ("transform", "stats")])
def test_variants_train_a_step(arch, disc, torch1):
    from reenact.restyle.train import Restyle

    r = Restyle(tiny_cfg(arch=arch, disc=disc, warmup=0, w_swd=1.0, w_cstat=1.0))
    if arch == "global":
        r.set_banks([moving_clip(seed=5)], [moving_clip(seed=6)])
    r.set_stat_targets([moving_clip(seed=5)], [moving_clip(seed=6)])
    xb = moving_clip()[None, :3].repeat(2, 0)
    terms = r.step(xb, moving_clip(seed=3)[None, :3].repeat(2, 0), 0)
    assert all(np.isfinite(v) for v in terms.values()) and terms["cstat"] > 0
    assert "stat_run" in r.state()


def test_sliced_wasserstein_zero_on_same_distribution(torch1):
    from reenact.restyle.train import sliced_wasserstein

    a = torch1.from_numpy(moving_clip(T=2).astype(np.float32) / 255).permute(0, 3, 1, 2)
    same = torch1.cat([a, a])
    assert float(sliced_wasserstein(same, same, torch1.Generator().manual_seed(1))) < 0.05


def test_band_stats_follow_a_grade_and_learn_it_from_the_same_content(torch1):
    """The tone-conditioned colour statistics: ranking by the input's luminance equals ranking by
    the output's own under a monotone grade; and matching them (unpaired: only the statistics of
    the graded frames are used) moves a colour transform from the identity to the grade."""
    from reenact.restyle.colour import STYLES, identity_coefs
    from reenact.restyle.train import band_stats, t_apply_rgb, t_luma

    x = torch1.from_numpy(np.concatenate([moving_clip(T=4, seed=s) for s in (1, 2)]).astype(np.float32) / 255)
    x = x.permute(0, 3, 1, 2)
    graded = torch1.from_numpy(STYLES["grade"](x.permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2)
    a, b = band_stats(graded, 4, t_luma(x)), band_stats(graded, 4)
    assert a.shape == (20,) and float((a - b).abs().max()) < 0.02
    target = band_stats(graded[torch1.randperm(len(graded), generator=torch1.Generator().manual_seed(0))], 4)
    coef = torch1.tensor(identity_coefs()).view(1, 21, 1, 1).repeat(1, 1, 1, 1).requires_grad_(True)
    opt = torch1.optim.Adam([coef], lr=1e-2)
    for _ in range(150):
        loss = (band_stats(t_apply_rgb(x, coef.expand(len(x), -1, -1, -1)), 4, t_luma(x)) - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch1.no_grad():
        before = float(((x - graded) ** 2).mean())
        after = float(((t_apply_rgb(x, coef.expand(len(x), -1, -1, -1)).clamp(0, 1) - graded) ** 2).mean())
    assert after < 0.5 * before, (before, after)


def test_training_process_stopped_at_once_is_cancelled_not_failed(tmp_path):
    """Esc right after Train Restyle starts: SIGTERM reaches the trainer before it handles
    signals (status -15); that is a cancel, not a failure, and nothing is written."""
    from reenact.jobs import TrainingProcess

    grey = _clip(tmp_path, "grey.mp4", colour=False)
    colour = _clip(tmp_path, "colour.mp4")
    out = tmp_path / "m.onnx"
    p = TrainingProcess(sys.executable, ["restyle", "train", "--x", grey, "--y", colour, "--out", str(out),
                                         "--steps", "50", "--size", "32"], module="reenact").start()
    p.cancel()
    p.wait(120)
    assert p.cancelled and not p.error, p.tail
    assert not out.exists() and not any(".tmp" in f for f in os.listdir(tmp_path))


# ---------------------------------------------------------------- image sequences
def test_image_sequences_as_shot_and_reference(tmp_path, models):
    """A numbered PNG sequence given as its files (an image strip) is named by one pattern with a
    frame range (what the trainer process reads); the CLI applies a model to a folder of PNGs, to
    PNGs or to a movie at ``--fps``; bad sequences are one line naming the folder, nothing written."""
    import cv2

    from reenact.restyle.data import ClipSpec, check_domains, load_domain, sequence_spec, spec_text
    from reenact.video import VideoError, open_video, sequence_pattern

    d = tmp_path / "shot 1"
    d.mkdir()
    frames = moving_clip(T=12, S=32, seed=7)
    files = []
    for i, f in enumerate(frames):
        files.append(str(d / "shot_v2_{:04d}.png".format(i + 1)))
        cv2.imwrite(files[-1], f[..., ::-1])
    pattern = str(d / "shot_v2_%04d.png")
    assert sequence_pattern(files[3:9]) == (pattern, 3)
    assert sequence_spec(files, 2, 9) == ClipSpec(pattern, 2, 9)
    assert sequence_spec(files[1:], 0, 99) == ClipSpec(pattern, 1, 12)  # clamped to the strip's images
    (part,) = load_domain([spec_text(sequence_spec(files, 2, 9))], 32)
    assert len(part) == 7 and np.array_equal(part, frames[2:9])
    for _ in range(2):  # decoded, then from the cache (keyed on every image of the sequence)
        (cached,) = load_domain([pattern + "@2:9"], 32, cache_dir=str(tmp_path / "cache"))
        assert np.array_equal(cached, part) and len(os.listdir(tmp_path / "cache")) == 1
    colour = _clip(tmp_path, "colour.mp4")
    check_domains([spec_text(sequence_spec(files, 2, 9))], [colour])
    with pytest.raises(ValueError, match="the same file as X"):
        check_domains([pattern + "@0:6"], [pattern + "@6:12"])
    with pytest.raises(VideoError, match="not one run of consecutive frame numbers"):
        sequence_pattern(files[:3] + files[4:6])
    with pytest.raises(ValueError, match="no file matches the pattern"):
        check_domains([str(tmp_path / "none_%04d.png")], [colour])
    # the CLI: a folder in, PNGs out (count and size kept) or a movie at --fps
    r = cli("apply", models["rgb"], "--video", d, "--out", tmp_path / "pngs", "--frames", "2:9", "--cpu")
    assert r.returncode == 0, r.stderr
    outs = sorted(os.listdir(tmp_path / "pngs"))
    assert len(outs) == 12 and cv2.imread(str(tmp_path / "pngs" / outs[0])).shape == (32, 32, 3)
    r = cli("apply", models["rgb"], "--video", pattern, "--out", tmp_path / "m.mp4", "--fps", "24", "--cpu")
    assert r.returncode == 0, r.stderr
    with open_video(str(tmp_path / "m.mp4")) as v:
        assert (len(v), v.size, v.rate, v.has_audio) == (12, (32, 32), 24, False)
    # a sequence with a missing frame: one line naming the folder, nothing written
    os.remove(files[5])
    with pytest.raises(VideoError, match="sequence shot_v2_%04d.png has missing frame"):
        sequence_pattern(files[:4])  # consecutive, but the folder's sequence has a gap
    r = cli("apply", models["rgb"], "--video", d, "--out", tmp_path / "bad", "--cpu")
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("reenact: error")]
    assert r.returncode == 2 and len(lines) == 1 and str(d) in lines[0] and "missing frame" in lines[0], r.stderr
    assert not (tmp_path / "bad").exists() and not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_apply_never_writes_over_its_own_footage(tmp_path, models):
    """``restyle apply --out`` naming the shot itself: one line, the shot untouched (before
    2026-12-05 the restyle replaced it)."""
    src = _clip(tmp_path, "in.mp4")
    before = open(src, "rb").read()
    r = cli("apply", models["rgb"], "--video", src, "--out", src, "--cpu")
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == (
        "reenact: error: {}: is the footage it is made from; --out wants another file".format(src)), r.stderr
    assert open(src, "rb").read() == before and sorted(os.listdir(tmp_path)) == ["in.mp4"]


def test_apply_to_an_exr_plate_writes_exr_frames_with_only_the_change(tmp_path, models):
    """An OpenEXR plate (scene-linear half floats) restyled into a folder: OpenEXR frames in the
    plate's kind, the frames outside --frames the plate's own values (a highlight at 4.0
    included), the restyled ones showing exactly what the restyle of the 8-bit picture gives
    (video/bitdepth.py; before 2026-12-05 OpenEXR plates were refused)."""
    import cv2

    from reenact.video import bitdepth, open_video

    src = _clip(tmp_path, "in.mp4")
    plate, pngs = tmp_path / "plate", tmp_path / "pngs"
    plate.mkdir()
    pngs.mkdir()
    bitdepth.enable_exr()
    with open_video(src) as s:
        for i, f in s.iter_frames():
            lin = bitdepth.srgb_decode(f / 255.0)
            lin[:4, :4] = 4.0
            cv2.imwrite(str(plate / "sh.{:04d}.exr".format(101 + i)), cv2.cvtColor(lin, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF])
    with open_video(str(plate)) as p:  # the same pictures as 8-bit PNGs
        for i, f in p.iter_frames():
            cv2.imwrite(str(pngs / "sh.{:04d}.png".format(101 + i)), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out, ref = tmp_path / "out", tmp_path / "ref"
    said = []
    for shot, dest in ((plate, out), (pngs, ref)):
        r = cli("apply", models["rgb"], "--video", shot, "--out", dest, "--frames", "2:6", "--cpu", "--job-id", "5eed")
        assert r.returncode == 0, r.stderr
        said.append("OpenEXR frames carry the watermark but no C2PA manifest" in r.stderr)
    assert said == [True, False]  # (said, as the render says it; before 2026-12-06 only in the JSON)
    assert sorted(os.listdir(out)) == ["frame_{:06d}.exr".format(101 + i) for i in range(9)]  # as the plate
    with open_video(str(plate)) as p, open_video(str(out)) as o, open_video(str(ref)) as e:
        assert o.depth == "float"
        for i in range(9):
            a, b = p.read_native(i), o.read_native(i)
            if not 2 <= i < 6:
                assert np.array_equal(a, b), i
            else:
                assert not np.array_equal(a, b), i  # (a changed highlight takes the restyle's value)
            assert np.array_equal(o.read(i), e.read(i)), i


def test_apply_refuses_a_stabilise_weight_out_of_range(tmp_path):
    """``restyle apply --stabilise`` takes 0 to 0.95, as Blender's Restyle Strip does, and says so
    before any frame is read (before 2026-12-05: 2 made the change overshoot and swing from frame
    to frame, nan failed with a traceback)."""
    from reenact.restyle.apply import RestyleError, apply_clip

    for bad in (2.0, -0.5, float("nan")):
        with pytest.raises(RestyleError, match=r"--stabilise .*: give a value from 0 to 0.95"):
            apply_clip(str(tmp_path / "model.onnx"), str(tmp_path / "shot.mp4"), str(tmp_path / "out.mp4"),
                       stabilise=bad)
    assert not os.listdir(tmp_path)


def test_restyle_config_refuses_what_apply_could_not_load():
    """A working size beyond 1024 (apply refuses such a model) and a batch under 1 are refused
    by the configuration, before any clip is read (before 2026-12-05: hours of training first)."""
    from reenact.restyle.config import RestyleConfig

    for opts, said in (({"size": 1280}, "--size must be a multiple of 16 from 32 to 1024"),
                       ({"batch": 0}, "--batch must be at least 1"),
                       ({"base": 0}, "--base must be a multiple of 8"), ({"base": 36}, "--base must be a multiple of 8"),
                       ({"w_gan": -5.0}, "--gan must be a weight of 0 or more")):
        with pytest.raises(ValueError, match=said):
            RestyleConfig(**opts).check()


def test_train_refuses_settings_that_make_an_untrained_model(tmp_path):
    """--steps 0 or less, --minutes 0 or less, --base 0, a negative --gan, a range past the
    clip's end (with --colourise it failed with a traceback): one line each, before any work,
    nothing written (before 2026-12-05 the first four wrote an untrained model and exited 0)."""
    grey, colour = _clip(tmp_path, "grey.mp4", colour=False, n=12), _clip(tmp_path, "colour.mp4")
    m = tmp_path / "m.onnx"
    base = ["train", "--x", grey, "--y", colour, "--out", m, "--size", "32"]
    for extra, said in ((["--steps", "0"], "--steps must be at least 1"), (["--steps", "-3"], "--steps must be"),
                        (["--minutes", "0"], "--minutes must be more than 0"), (["--minutes", "-1"], "--minutes"),
                        (["--base", "0"], "--base must be"), (["--gan", "-5"], "--gan must be")):
        r = cli(*(base + extra))
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("reenact: error")]
        assert r.returncode == 2 and len(lines) == 1 and said in lines[0], (extra, r.stderr)
    for x, y in ((grey + "@20:", colour), (grey, colour + "@30:40")):
        r = cli("train", "--x", x, "--y", y, "--out", m, "--colourise", "--steps", "1", "--size", "32")
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("reenact: error")]
        assert r.returncode == 2 and len(lines) == 1 and "are outside the clip" in lines[0], r.stderr
        assert "Traceback" not in r.stderr
    assert not m.exists() and not [f for f in os.listdir(tmp_path) if f.startswith("m.")]


def test_a_colour_image_strip_given_to_a_colouriser_is_named_by_its_folder(tmp_path, models):
    """Blender's image strip comes to apply as its list of files: the refusal names the folder,
    not every image of a plate on one line (before 2026-12-06, a review of restyle)."""
    import cv2

    from reenact.restyle.apply import apply_clip

    folder = tmp_path / "plate"
    folder.mkdir()
    files = []
    for i, f in enumerate(moving_clip(T=6, seed=3)):
        files.append(str(folder / "shot_{:04d}.png".format(i + 1)))
        cv2.imwrite(files[-1], f[:, :, ::-1])
    with pytest.raises(ValueError) as e:
        apply_clip(models["col"], files, str(tmp_path / "out"))
    msg = str(e.value)
    assert msg.startswith(str(folder) + ": the shot is already in colour") and "shot_0002.png" not in msg, msg
    assert not (tmp_path / "out").exists()


def test_a_stopped_run_leaves_the_earlier_checkpoint_in_place(tmp_path, torch1):
    """A run that does not resume the checkpoint it finds (other frames) keeps it in place until it
    saves one of its own; stopped before that, with fewer steps, the earlier checkpoint stays
    where it was, saying so, and the next run on the earlier frames resumes it. Before
    2026-12-06 it was moved aside before the first step: an artist who nudged a reference's
    trim, pressed Train, then Esc, and undid the trim, trained again from step 0, the 30-step
    checkpoint in a ``.old`` file that no report named. A checkpoint kept aside that holds a
    run's very frames and settings is resumed (before: never)."""
    from reenact.restyle.resume import RUN_NOT_KEPT
    from reenact.restyle.train import train
    from reenact.training.files import load_torch

    grey, colour = _clip(tmp_path, "grey.mp4", colour=False, n=12), _clip(tmp_path, "colour.mp4")
    out, ck, logs = str(tmp_path / "m.onnx"), str(tmp_path / "m.ckpt.pt"), []
    train([grey + "@0:12"], [colour], out, tiny_cfg(), steps=4, resume=False)
    s = train([grey + "@2:12"], [colour], out, tiny_cfg(), steps=100, stop_at=1, log=logs.append)
    assert s["cancelled"] and int(load_torch(ck, ("step",))["step"]) == 4
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".old")]
    assert any(m.startswith("warning: ") and RUN_NOT_KEPT in m and "(4 steps)" in m for m in logs), logs
    assert train([grey + "@0:12"], [colour], out, tiny_cfg(), steps=5)["resumed_from"] == 4
    # a run that saves its own sets the earlier one aside, with a warning
    logs.clear()
    s = train([grey + "@2:12"], [colour], out, tiny_cfg(), steps=2, log=logs.append)
    kept = [f for f in os.listdir(tmp_path) if f.endswith(".old")]
    assert s["resumed_from"] == 0 and len(kept) == 1 and any(
        m.startswith("warning: ") and "kept as " + kept[0] in m for m in logs), (kept, logs)
    # the trim undone: the checkpoint kept aside holds this training, and is resumed
    logs.clear()
    s = train([grey + "@0:12"], [colour], out, tiny_cfg(), steps=6, log=logs.append)
    assert s["resumed_from"] == 5 and any(kept[0] in m and "resumed from it" in m for m in logs), logs
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".old")]) == 2  # (the 2-step one aside now)
    # --no-resume (Train Restyle's Start Afresh) keeps the checkpoint it does not resume alike
    train([grey + "@2:12"], [colour], out, tiny_cfg(), steps=1, resume=False)
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".old")]) == 3


def test_no_more_steps_than_the_checkpoint_holds_is_one_clear_line(tmp_path, torch1):
    """Asked for no more steps than the checkpoint holds, its model at --out: one line saying so,
    the model not written again (before 2026-12-06 it was exported as it was, and Blender reported
    "trained (0 steps (resumed from step 30), loss nan)"; where --out is not its model, it is
    exported again: test_restyle_resume_export.py)."""
    from reenact.restyle.resume import ALREADY_TRAINED
    from reenact.restyle.train import train

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)]
    out = str(tmp_path / "m.onnx")
    train(X, Y, out, tiny_cfg(), steps=3, resume=False)
    before = open(out, "rb").read()
    for steps in (2, 3):
        with pytest.raises(ValueError, match=ALREADY_TRAINED + r"3 \(at or past --steps {}\): raise --steps".format(
                steps)):
            train(X, Y, out, tiny_cfg(), steps=steps)
    assert open(out, "rb").read() == before
    assert train(X, Y, out, tiny_cfg(), steps=4)["resumed_from"] == 3


def test_the_steps_a_time_budget_allows_after_a_resume(tmp_path, torch1):
    """Under a time budget, the total the progress bar shows after a resume is the resumed steps
    plus what this run's rate allows (before 2026-12-06 the resumed steps counted as trained in
    this run's time: resumed at 300, the first total was thousands and the bar sat near 5 %)."""
    from reenact.restyle.train import train

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)]
    out = str(tmp_path / "m.onnx")
    train(X, Y, out, tiny_cfg(warmup=0), steps=300, resume=False)
    seen = []
    s = train(X, Y, out, tiny_cfg(warmup=0), minutes=0.04, on_step=lambda step, tot, terms: seen.append((step, tot)))
    assert s["resumed_from"] == 300 and s["steps"] > 302, s
    trained = s["steps"] - 300
    first = [tot for step, tot in seen if step >= 303][0]  # (after a few steps: a rate to go by)
    assert first <= 300 + 4 * trained, (first, s["steps"], seen[:5])


def test_a_range_too_short_at_the_training_rate_is_refused_before_any_work(tmp_path):
    """Training samples about 30 fps: a 60 fps reference trimmed to 4 frames gives 2, refused by
    the checks that run before any work, in one line (before 2026-12-06 it passed them, and the
    trainer failed after starting: "needs at least 3 frames, has 2", its model folder left)."""
    from reenact.restyle.data import check_domains
    from reenact.video import VideoWriter

    fast = str(tmp_path / "fast.mp4")
    with VideoWriter(fast, 60, (32, 32)) as w:
        for f in moving_clip(T=12, seed=4):
            w.write(f)
    shot = _clip(tmp_path, "shot.mp4", n=8)
    with pytest.raises(ValueError, match=r"fast.mp4: frames 0:4 give 2 frame\(s\) to train on .* every 2 frame"):
        check_domains([shot], [fast + "@0:4"])
    with pytest.raises(ValueError, match="give 2 frame"):
        check_domains([fast + "@3:7"], [shot])
    check_domains([shot], [fast + "@0:5"])  # (frames 0, 2 and 4)
    check_domains([shot], [fast])
