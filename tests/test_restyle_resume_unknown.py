# SPDX-License-Identifier: GPL-3.0-or-later
"""A restyle checkpoint that does not record what it was trained on (made on 2026-11-29 and 30,
before checkpoints kept a data key) is not resumed. Tiny: size 32, base 8, a few steps."""

import os

import pytest

from test_restyle import moving_clip, tiny_cfg


def test_a_checkpoint_of_unknown_footage_starts_afresh(tmp_path):
    """Before 2026-12-06 it resumed on any clips (``ck.get("data", data)``: a missing key read as
    this run's). Now training starts afresh with the usual line, and the checkpoint is kept aside
    as ``.old`` once the run saves its own."""
    pytest.importorskip("torch").set_num_threads(1)
    from reenact.restyle.train import train
    from reenact.training.files import load_torch, save_torch

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)]
    out, ck = str(tmp_path / "m.onnx"), str(tmp_path / "m.ckpt.pt")
    train(X, Y, out, tiny_cfg(), steps=2, resume=False)
    d = dict(load_torch(ck))
    save_torch({k: d[k] for k in ("config", "state", "step", "history")}, ck)  # as written on 2026-11-30
    logs = []
    s = train([moving_clip(seed=5)], Y, out, tiny_cfg(), steps=3, log=logs.append)
    assert s["resumed_from"] == 0 and s["steps"] == 3, s
    assert any("m.ckpt.pt does not record the footage it was trained on (2 steps); training starts afresh" in m
               for m in logs), logs
    assert [f for f in os.listdir(tmp_path) if f.endswith(".old")]
