# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact restyle`` on the command line: what it refuses before any work, in one line, and
what it must never write over. Generated footage (64 x 64, a few frames); the two models are
trained one step at 32 px."""

import os

import cv2
import numpy as np
import pytest

from conftest import ROOT, write_movie_with_audio
from conftest import restyle_cli as cli

S = 64


def _frames(n=8, colour=True, seed=0):
    """``n`` textured frames sliding a pixel a frame (uint8 RGB, S x S): in colour or grey."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.random((S, S + n, 3)).astype(np.float32), (5, 5), 1.0)
    base = base * np.array([1.0, 0.6, 0.3], np.float32) if colour else np.repeat(base.mean(-1, keepdims=True), 3, -1)
    return [np.round(base[:, t:t + S] * 255).astype(np.uint8) for t in range(n)]


def _movie(path, frames):
    return write_movie_with_audio(str(path), frames, 25, len(frames) / 25.0)


def _pngs(folder, frames):
    os.makedirs(folder, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(os.path.join(folder, "frame_{:04d}.png".format(i)), f[..., ::-1])
    return str(folder)


def _error(r):
    """The one error line of a refused command (and that it was refused in one line)."""
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("reenact: error: ")]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0][len("reenact: error: "):]


def _contents(paths):
    return {p: open(p, "rb").read() for p in paths}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("torch")
    from reenact.restyle.config import RestyleConfig
    from reenact.restyle.train import train

    d = tmp_path_factory.mktemp("restyle_cli_models")
    Y = [np.stack(_frames(seed=2))[:, :32, :32]]
    out = {}
    for name, colourise, x in (("rgb", False, _frames(seed=1)), ("col", True, _frames(seed=3, colour=False))):
        out[name] = str(d / "{}.onnx".format(name))
        train([np.stack(x)[:, :32, :32]], Y, out[name], RestyleConfig(size=32, base=8, batch=2, warmup=1,
                                                                       colourise=colourise), steps=1, resume=False,
              threads=1, log=lambda *a: None)
    return out


# --------------------------------------------------------------- train's outputs and inputs
def test_train_writes_no_side_output_over_its_footage_or_another_output(tmp_path):
    """--report, --preview, --checkpoint and --out naming the shot, a frame of its image sequence
    (folder or pattern, through a link), the reference or one another: one line before any work,
    the footage untouched, nothing written (before 2026-12-06 --report on the shot replaced it
    with JSON, --preview replaced a frame, --checkpoint on the reference moved it aside as
    'damaged', and --report on --out made the model a JSON file, exit 0)."""
    shot = _movie(tmp_path / "shot.mp4", _frames(seed=1))
    ref = _movie(tmp_path / "ref.mp4", _frames(seed=2))
    seq = _pngs(tmp_path / "seq", _frames(seed=4))
    os.symlink(os.path.join("seq", "frame_0002.png"), str(tmp_path / "link.png"))
    footage = [shot, ref] + [os.path.join(seq, n) for n in sorted(os.listdir(seq))]
    before = _contents(footage)
    m = str(tmp_path / "m.onnx")
    base = ["train", "--size", "32", "--steps", "1", "--threads", "1", "--no-resume"]
    for args, said in (
            (["--x", shot, "--y", ref, "--out", m, "--report", shot],
             shot + ": is the footage it is made from; --report wants another file"),
            (["--x", seq, "--y", ref, "--out", m, "--preview", str(tmp_path / "link.png")],
             str(tmp_path / "link.png") + ": is the footage it is made from; --preview wants another file"),
            (["--x", os.path.join(seq, "frame_%04d.png@0:5"), "--y", ref, "--out", m, "--preview",
              os.path.join(seq, "frame_0007.png")], "frame_0007.png: is the footage it is made from; --preview"),
            (["--x", seq, "--y", ref, "--out", m, "--checkpoint", ref],
             ref + ": is the footage it is made from; --checkpoint wants another file"),
            (["--x", shot, "--y", ref, "--out", m, "--report", m], m + ": is also --out; --report wants another file"),
            (["--x", shot, "--y", ref, "--out", m, "--report", str(tmp_path / "m.ckpt.pt")],
             "m.ckpt.pt: is also the checkpoint beside --out; --report wants another file"),
            (["--x", shot, "--y", ref, "--out", m, "--checkpoint", str(tmp_path / "p.png"), "--preview",
              str(tmp_path / "p.png")], "p.png: is also --checkpoint; --preview wants another file")):
        line = _error(cli(*(base + args)))
        assert said in line, (args, line)
        assert _contents(footage) == before
        assert sorted(os.listdir(tmp_path)) == ["link.png", "ref.mp4", "seq", "shot.mp4"], args
        assert sorted(os.listdir(seq)) == ["frame_{:04d}.png".format(i) for i in range(8)]


def test_train_refuses_numbers_that_cannot_work_before_any_work(tmp_path):
    """--threads under 1 (before 2026-12-06 a traceback after decoding), --max-frames under 3
    (-1 said "needs at least 3 frames, has 1" after decoding and 0 silently meant every frame):
    one line each, nothing written."""
    shot = _movie(tmp_path / "shot.mp4", _frames(seed=1))
    ref = _movie(tmp_path / "ref.mp4", _frames(seed=2))
    m = tmp_path / "m.onnx"
    for extra, said in ((["--threads", "-1"], "--threads must be at least 1"), (["--threads", "0"], "--threads"),
                        (["--max-frames", "-1"], "--max-frames must be at least 3"),
                        (["--max-frames", "0"], "--max-frames must be at least 3"), (["--max-frames", "2"], "--max-frames must")):
        line = _error(cli("train", "--x", shot, "--y", ref, "--out", m, "--size", "32", "--steps", "1", *extra))
        assert line.startswith(said), (extra, line)
        assert sorted(os.listdir(tmp_path)) == ["ref.mp4", "shot.mp4"]


def test_a_truncated_movie_is_one_line_a_command_line_user_can_act_on(tmp_path):
    """A movie cut short: one line naming the file and what to do, in words for any caller (before
    2026-12-06 "open with allow_truncated=True", a Python argument)."""
    rng = np.random.default_rng(0)
    frames = [np.clip(f.astype(int) + rng.integers(-40, 40, f.shape), 0, 255).astype(np.uint8)
              for f in _frames(n=40, seed=1)]
    from reenact.video import VideoWriter

    with VideoWriter(str(tmp_path / "full.mp4"), 25, (S, S), options={"g": "8"}) as w:  # (its index first)
        for f in frames:
            w.write(f)
    data = open(tmp_path / "full.mp4", "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    line = _error(cli("train", "--x", cut, "--y", tmp_path / "full.mp4", "--out", tmp_path / "m.onnx"))
    assert line.startswith(str(cut) + ": file is truncated: only the first ") and "of about 40 frames" in line
    assert "allow_truncated" not in line and "copy the whole file again" in line, line


# --------------------------------------------------------------- shot and reference
def test_one_image_sequence_named_as_folder_and_as_pattern_is_one_footage(tmp_path):
    """The shot's own sequence as the reference, named by its folder for X and its pattern (or a
    link to the folder) for Y: refused as the same footage (before 2026-12-06 it trained)."""
    from reenact.restyle.data import check_domains

    seq = _pngs(tmp_path / "seq", _frames(seed=4))
    other = _pngs(tmp_path / "other", _frames(seed=5))
    os.symlink("seq", str(tmp_path / "alias"))
    for x, y in ((seq, os.path.join(seq, "frame_%04d.png")), (os.path.join(seq, "frame_####.png@0:4"), seq),
                 (seq, str(tmp_path / "alias" / "frame_%04d.png@2:8"))):
        with pytest.raises(ValueError, match="the reference footage is the shot itself"):
            check_domains([x], [y])
    check_domains([seq], [os.path.join(other, "frame_%04d.png")])
    line = _error(cli("train", "--x", seq, "--y", os.path.join(seq, "frame_%04d.png"), "--out", tmp_path / "m.onnx",
                      "--size", "32", "--steps", "1"))
    assert "the reference footage is the shot itself" in line


# --------------------------------------------------------------- colourise
def test_a_grey_shot_with_a_small_saturated_patch_is_colour(tmp_path, models):
    """A black-and-white shot with a small saturated object (selective colour, 1.6 % of the frame)
    is in colour for colourise, which would paint over it (before 2026-12-06 the frame's mean
    chroma passed it as grey); grey footage stays grey, through H.264 and with colour noise or a
    scan's colour fringes, and a sepia shot stays colour."""
    from reenact.restyle.colour import is_grey
    from reenact.restyle.data import check_domains
    from reenact.video import open_video

    grey = _frames(colour=False, seed=3)
    patched = [f.copy() for f in grey]
    for f in patched:
        f[24:32, 30:38] = (220, 30, 30)  # 8 x 8 of 64 x 64
    rng = np.random.default_rng(1)
    noisy = [np.clip(f.astype(int) + rng.integers(-4, 5, f.shape), 0, 255).astype(np.uint8) for f in grey]
    with open_video(_movie(tmp_path / "noisy.mp4", noisy)) as v:
        noisy_h264 = [f for _, f in v.iter_frames()]
    big = np.repeat(np.repeat(grey[0], 4, 0), 4, 1)  # 256 x 256, edges a scan fringes
    fringed = big.copy()
    fringed[..., 0], fringed[..., 2] = np.roll(big[..., 0], 1, 1), np.roll(big[..., 2], -1, 1)
    sepia = [np.clip(f * np.array([1.07, 0.98, 0.82]), 0, 255).astype(np.uint8) for f in grey]
    assert is_grey(grey) and is_grey(noisy) and is_grey(noisy_h264) and is_grey([fringed])
    assert not is_grey(patched) and not is_grey(sepia)
    with open_video(_movie(tmp_path / "patched.mp4", patched)) as v:
        assert not is_grey([f for _, f in v.iter_frames()])  # (through H.264's chroma subsampling)
    shot = _pngs(tmp_path / "shot", patched)
    ref = _movie(tmp_path / "ref.mp4", _frames(seed=2))
    with pytest.raises(ValueError, match="the shot .X. is already in colour"):
        check_domains([shot], [ref], colourise=True)
    line = _error(cli("apply", models["col"], "--video", shot, "--out", tmp_path / "out", "--cpu"))
    assert line.startswith(shot + ": the shot is already in colour"), line
    assert not (tmp_path / "out").exists()


def test_the_docs_say_the_watermark_changes_a_colourised_shots_luminance():
    """docs/restyle.md: the output's luminance is the shot's but for the watermark, by at most
    MAX_CHANGE levels (before 2026-12-06 it promised the shot's luminance exactly in a PNG folder
    or a lossless movie, which carry the mark: up to 6 levels off)."""
    from reenact.provenance.watermark import MAX_CHANGE

    text = " ".join(open(os.path.join(ROOT, "docs", "restyle.md"), encoding="utf-8").read().split())
    assert "up to `MAX_CHANGE` ({}) levels".format(MAX_CHANGE) in text
    assert "the luminance is the shot's except for the mark's change, up to {} levels".format(MAX_CHANGE) in text
    assert "luminance equals the shot's exactly (8-bit luminance identical after rounding; tested) in the RGB" not in text


# --------------------------------------------------------------- apply
def test_a_reversed_frame_range_is_said_to_be_reversed(tmp_path, models):
    """``--frames 8:3``: reversed, not "outside the clip's 12 frames" (before 2026-12-06)."""
    shot = _movie(tmp_path / "shot.mp4", _frames(n=12, seed=1))
    for opt in ("8:3", "11:0"):
        line = _error(cli("apply", models["rgb"], "--video", shot, "--out", tmp_path / "o.mp4", "--frames", opt,
                          "--cpu"))
        assert line == "--frames {}: reversed range (A:B needs A < B)".format(opt)
    line = _error(cli("apply", models["rgb"], "--video", shot, "--out", tmp_path / "o.mp4", "--frames", "3:20", "--cpu"))
    assert "outside the clip's 12 frames" in line
    assert sorted(os.listdir(tmp_path)) == ["shot.mp4"]
