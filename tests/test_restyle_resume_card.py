# SPDX-License-Identifier: GPL-3.0-or-later
"""What a restyle model's card says of its training: the files and frames it was trained on,
their digests, --max-frames, its training's id across resumes and where it resumed (docs/
restyle.md, *Model card in the ONNX*). Tiny: size 32, base 8, a few steps, generated clips."""

import numpy as np
import pytest

from test_restyle import moving_clip, tiny_cfg


@pytest.fixture(scope="module")
def torch1():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _movie(path, frames):
    from reenact.video import VideoWriter

    with VideoWriter(str(path), 25, (32, 32)) as w:
        for f in frames:
            w.write(f)
    return str(path)


def test_the_model_card_says_what_the_model_was_trained_on(tmp_path, torch1):
    """Before 2026-12-06 the card held the steps and ``x_clips``/``y_clips`` only (shots after
    splitting at cuts, not files): which files, frames and --max-frames a model was trained on,
    and whether it was resumed, could not be told from it. Now ``trained_on`` (per clip: name,
    frames, footage digest as the checkpoint's data key holds it, shots), ``train_run`` (kept by a
    resume) and ``train_resumes``; ``reenact probe`` prints them."""
    from reenact.modelcard import format_card, model_card
    from reenact.restyle.train import train
    from reenact.training.files import load_torch

    x = _movie(tmp_path / "x.mp4", moving_clip(T=10, S=32, seed=1))
    y = _movie(tmp_path / "y.mp4", moving_clip(T=8, S=32, seed=2))
    cut = _movie(tmp_path / "cut.mp4", np.concatenate([moving_clip(T=6, S=32, seed=3),
                                                      255 - moving_clip(T=6, S=32, seed=4)[..., ::-1]]))
    out = tmp_path / "m.onnx"
    train([x + "@1:9"], [y, cut], str(out), tiny_cfg(), steps=2, resume=False, max_frames=10)
    card = model_card(out)["card"]
    on = card["trained_on"]
    assert on["max_frames"] == 10 and [c["name"] for c in on["x"]] == ["x.mp4"] and on["x"][0]["frames"] == [1, 9]
    assert [(c["name"], c["frames"]) for c in on["y"]] == [("y.mp4", [0, None]), ("cut.mp4", [0, None])]
    assert on["y"][1]["shots"] == 2 and on["y"][0]["shots"] == on["x"][0]["shots"] == 1, on
    assert card["y_clips"] == "3" and card["x_clips"] == "1"  # (shots, not files)
    data = load_torch(str(tmp_path / "m.ckpt.pt"), ("data",))["data"]
    assert all(c["footage"] in data and len(c["footage"]) == 20 for c in on["x"] + on["y"])
    run = card["train_run"]
    assert len(run) == 16 and card["train_resumes"] == [] and card["train_steps"] == "2"
    train([x + "@1:9"], [y, cut], str(out), tiny_cfg(), steps=3, max_frames=10)
    card = model_card(out)["card"]
    assert card["train_run"] == run and card["train_resumes"] == [{"step": 2, "from": "m.ckpt.pt"}], card
    text = format_card(model_card(out))
    assert "  train_run: " + run in text and '"name": "cut.mp4"' in text and "train_resumes: " in text, text
    # started afresh (--no-resume): another training's id
    train([x + "@1:9"], [y, cut], str(out), tiny_cfg(), steps=1, resume=False, max_frames=10)
    assert model_card(out)["card"]["train_run"] != run


def test_the_data_key_is_as_before(tmp_path):
    """The checkpoint's data key, now made from the clips' card records, is the key of before
    (checkpoints made before resume as they did)."""
    from reenact.restyle import data as D

    x = _movie(tmp_path / "x.mp4", moving_clip(T=8, S=32, seed=1))
    items = [x + "@2:7", x, moving_clip(T=4, S=32)]
    old = sorted(D._keyed(items, lambda sp: "{}:{}|{}".format(sp.start or 0, "" if sp.stop is None else sp.stop,
                                                              D._content(sp.path)))) + ["max_frames=5"]
    assert D.data_key(items, 5) == old == D.data_key(items, 5, D.clip_records(items))
