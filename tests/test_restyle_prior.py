# SPDX-License-Identifier: GPL-3.0-or-later
"""Colourise mode's retrieval prior (restyle/prior.py): the nearest reference frames' chroma,
aligned by flow, carried onto a grey shot; never its own clip in training; shipped in the ONNX or
given with --reference; luminance kept. Generated footage only."""

import json

import cv2
import numpy as np
import pytest

from reenact.restyle.colour import colourise_rgb, grey3, luma, rgb_to_ycc
from reenact.restyle.prior import RefPool

from conftest import restyle_cli as cli


def scene_clip(T=12, S=64, x0=8, dx=2, seed=0):
    """A red disc (bright) and a blue square (dark) moving right over a textured green-grey wall:
    colours that differ by region, with distinct luminance, uint8 (T, S, S, 3)."""
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur(rng.random((S, S)).astype(np.float32), (0, 0), 2.0)
    frames = []
    for t in range(T):
        f = np.empty((S, S, 3), np.float32)
        f[:] = np.array([0.35, 0.5, 0.35], np.float32)
        f += (wall[..., None] - 0.5) * 0.2
        cx = x0 + dx * t
        cv2.circle(f, (cx + S // 4, S // 3), S // 6, (1.0, 0.55, 0.45), -1)
        cv2.rectangle(f, (cx, 2 * S // 3 - S // 10), (cx + S // 5, 2 * S // 3 + S // 10), (0.1, 0.15, 0.55), -1)
        frames.append(np.clip(np.round(f * 255), 0, 255).astype(np.uint8))
    return np.stack(frames)


def grey_u8(frames):
    return np.clip(np.round(grey3(frames.astype(np.float32) / 255) * 255), 0, 255).astype(np.uint8)


def chroma_err(rgb_f, truth_u8):
    return float(np.abs(rgb_to_ycc(rgb_f)[..., 1:] - rgb_to_ycc(truth_u8.astype(np.float32) / 255)[..., 1:]).mean())


def test_prior_carries_the_reference_colour_onto_the_grey_shot():
    ref = scene_clip(T=12, x0=6, dx=2, seed=1)        # reference: the scene, objects further left
    shot = scene_clip(T=6, x0=19, dx=1, seed=1)       # the shot: the same scene, objects elsewhere
    pool = RefPool.from_clips([ref])
    mean = pool.cf.reshape(-1, 2).mean(0)
    for t in (0, 5):
        y = luma(shot[t].astype(np.float32) / 255)
        p = pool.prior(y)
        assert p.shape == (64, 64, 5) and 0 <= p[..., 4].min() and p[..., 4].max() <= 1
        got = colourise_rgb(y, p[..., :4])
        flat = colourise_rgb(y, np.broadcast_to(np.float32([0, mean[0], 0, mean[1]]), y.shape + (4,)))
        err, err_mean = chroma_err(got, shot[t]), chroma_err(flat, shot[t])
        assert err < 0.35 * err_mean, (err, err_mean)
        # the disc comes out red and the square blue, where they are in the shot, not where they were
        cx = 19 + t
        disc = got[64 // 3, cx + 16]
        square = got[2 * 64 // 3, cx + 6]
        assert disc[0] > disc[2] + 0.3 and square[2] > square[0] + 0.2, (disc, square)
        # the luminance is the shot's own
        assert np.abs(luma(got) - y).max() < 1e-5


def test_prior_never_retrieves_its_own_clip_in_training():
    a, b = scene_clip(seed=1), scene_clip(seed=2, x0=10)
    pool = RefPool.from_clips([a, b])
    y = luma(a[4].astype(np.float32) / 255)
    assert pool.clip[pool.candidates(y)[0]] == 0   # free retrieval finds the frame's own clip
    cand = pool.candidates(y, exclude=(0, 4))
    assert cand and all(pool.clip[j] == 1 for j in cand)
    # one reference clip: frames at least a quarter of the clip away
    one = RefPool.from_clips([scene_clip(T=40, dx=1)])
    cand = one.candidates(luma(one.yf[20][..., None].repeat(3, -1)), exclude=(0, 20))
    assert cand and all(abs(int(one.pos[j]) - 20) >= 39 // 4 for j in cand)
    # priors of a reference clip for training: every frame's from the other clip only
    pr = pool.clip_priors(a[:3], clip_id=0)
    assert pr.shape == (3, 64, 64, 5) and pr.dtype == np.float16 and np.isfinite(pr.astype(np.float32)).all()


def test_pool_round_trip_and_damage():
    pool = RefPool.from_clips([scene_clip(T=20), scene_clip(T=10, seed=3)], max_frames=12)
    assert 10 <= len(pool) <= 14 and pool.n_clips == 2
    back = RefPool.from_text(pool.to_text())
    assert np.array_equal(back.y, pool.y) and np.array_equal(back.c, pool.c) and np.array_equal(back.clip, pool.clip)
    y = pool.yf[3]
    assert np.allclose(back.prior(y), pool.prior(y))
    with pytest.raises(ValueError, match="damaged"):
        RefPool.from_text(pool.to_text()[:-40] + "A" * 40)


@pytest.fixture(scope="module")
def prior_models(tmp_path_factory):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from conftest import write_movie_with_audio

    d = tmp_path_factory.mktemp("restyle_prior")
    refs = []
    for i, seed in enumerate((1, 2)):
        c = scene_clip(T=10, seed=seed, x0=4 + 6 * i)
        refs.append(write_movie_with_audio(str(d / "ref{}.mp4".format(i)), list(c), 25, 0.4))
    shot = write_movie_with_audio(str(d / "shot.mp4"), list(grey_u8(scene_clip(T=10, seed=5, x0=14))), 25, 0.4)
    greyref = write_movie_with_audio(str(d / "greyref.mp4"), list(grey_u8(scene_clip(T=10, seed=6))), 25, 0.4)
    out = {"refs": refs, "shot": shot, "dir": d, "greyref": greyref}
    for name, extra in (("shipped", []), ("bare", ["--pool-frames", "0"])):
        m = d / (name + ".onnx")
        r = cli("train", "--colourise", "--x", shot, "--y", refs[0], "--y", refs[1], "--out", m, "--size", "32",
                "--steps", "3", "--base", "8", "--batch", "2", "--no-resume", *extra)
        assert r.returncode == 0, r.stderr
        out[name] = str(m)
    return out


def test_shipped_pool_colourises_and_keeps_luminance(prior_models):
    from reenact.restyle.apply import RestyleModel, restyle_frames
    from reenact.video import open_video

    m = RestyleModel(prior_models["shipped"], prefer_gpu=False)
    assert m.cfg.uses_prior and m.cfg.in_ch == 6 and m.pool is not None and m.pool.n_clips == 2
    assert (m.cfg.prior_head, m.cfg.w_gan) == ("trust", 0.0)  # the CLI's colourise defaults
    assert "reenact.pool" in m.meta and m.sess.get_inputs()[0].shape[1] == 6
    with open_video(prior_models["shot"]) as s:
        grey = [f for _, f in s.iter_frames()]
    out = restyle_frames(m, grey)
    for g, o in zip(grey, out):
        assert o.shape == g.shape
        y_in = np.round(luma(g.astype(np.float32) / 255) * 255)
        y_out = np.round(luma(o.astype(np.float32) / 255) * 255)
        assert np.array_equal(y_in, y_out)  # 8-bit luminance identical
        assert np.abs(rgb_to_ycc(o.astype(np.float32) / 255)[..., 1:]).mean() * 255 > 3  # coloured


def test_model_without_its_references_refuses_and_takes_them_at_apply(prior_models, tmp_path):
    shot, refs = prior_models["shot"], prior_models["refs"]
    out = tmp_path / "out.mp4"
    r = cli("apply", prior_models["bare"], "--video", shot, "--out", out, "--cpu")
    assert r.returncode == 2 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "exported without its reference frames" in lines[0] and "--reference" in lines[0]
    r = cli("apply", prior_models["bare"], "--video", shot, "--out", out, "--cpu", "--reference", refs[0],
            "--reference", refs[1])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["restyled"] == 10
    # a black-and-white reference, or --reference to a model without the prior: one line each
    r = cli("apply", prior_models["bare"], "--video", shot, "--out", tmp_path / "b.mp4", "--cpu", "--reference",
            prior_models["greyref"])
    assert r.returncode == 2 and "black-and-white" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b.mp4").exists()
    r = cli("train", "--colourise", "--x", shot, "--y", refs[0], "--y", prior_models["greyref"], "--out",
            tmp_path / "c.onnx", "--steps", "1")
    assert r.returncode == 2 and not (tmp_path / "c.onnx").exists()
    assert r.stderr.strip().splitlines() == ["reenact: error: {}: --colourise: the reference footage (Y) is "
                                             "black-and-white; give colour footage".format(prior_models["greyref"])]
    r = cli("train", "--colourise", "--x", shot, "--y", refs[0], "--y", refs[1],
            "--out", tmp_path / "d.onnx", "--steps", "1", "--prior", "none", "--size", "32", "--base", "8")
    assert r.returncode == 0, r.stderr
    r = cli("apply", tmp_path / "d.onnx", "--video", shot, "--out", tmp_path / "e.mp4", "--cpu", "--reference", refs[0])
    assert r.returncode == 2 and "--reference is for colourisers" in r.stderr and not (tmp_path / "e.mp4").exists()


@pytest.mark.parametrize("head,start,top", [("trust", 0.982, 1.0), ("gate", 1.0, 2.0)])
def test_generator_starts_at_the_prior_and_only_rescales_it(head, start, top):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from reenact.restyle.config import RestyleConfig
    from reenact.restyle.train import Restyle

    cfg = RestyleConfig(colourise=True, prior="retrieval", prior_head=head, size=32, base=8, chroma_prior=(-0.02, 0.01))
    pool = RefPool.from_clips([scene_clip(S=32, seed=1), scene_clip(S=32, seed=2, x0=12)])
    y = luma(grey_u8(scene_clip(S=32, seed=5))[3].astype(np.float32) / 255)
    p = pool.prior_for(y, 32)
    x = torch.from_numpy(np.concatenate([y[..., None], p], -1).transpose(2, 0, 1)[None].copy())
    half = torch.nn.functional.avg_pool2d(x[:, 1:5], 2)
    g = Restyle(cfg).G_xy
    mean = g.mean
    ok = (half - mean).abs() > 1e-3
    with torch.no_grad():
        s0 = (g(x) - mean) / (half - mean)
    assert torch.allclose(s0[ok], torch.full_like(s0[ok], start), atol=1e-3)  # training starts at the prior
    with torch.no_grad():  # whatever it learns, the chroma is mean + s * (prior - mean), 0 < s < top
        for prm in g.parameters():
            prm.add_(torch.randn_like(prm) * 0.5)
        s_ = (g(x) - mean) / (half - mean)
    assert (s_[ok] > 0).all() and (s_[ok] < top).all() and s_[ok].std() > 0.01
    both = ok[:, 0] & ok[:, 1]
    assert torch.allclose(s_[:, 0][both], s_[:, 1][both], atol=1e-4)  # one scale for a and b
