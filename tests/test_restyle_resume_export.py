# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle training stopped during its last save or its export, and a run asked for no more
steps than its checkpoint holds where --out is not that checkpoint's model (missing, or the
model of other settings: Method changed and changed back in Blender, whose model's file name
holds neither). Tiny: size 32, base 8, a few steps, generated clips, one thread."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_restyle import moving_clip, tiny_cfg

#: ``python DRIVER SIG FUNC ARGS...``: ``reenact ARGS`` with SIG sent to itself as the restyle
#: trainer calls FUNC (save_torch: its checkpoint; export_onnx: its model), after its last step
DRIVER = """
import os, signal, sys
import reenact.restyle.train as T
sig, name = getattr(signal, sys.argv[1]), sys.argv[2]
real = getattr(T, name)
def hit(*a, **k):
    os.kill(os.getpid(), sig)
    return real(*a, **k)
setattr(T, name, hit)
from reenact.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def torch1():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _movie(path, seed, colour=True):
    from reenact.video import VideoWriter

    with VideoWriter(str(path), 25, (32, 32)) as w:
        for f in moving_clip(T=8, S=32, colour=colour, seed=seed):
            w.write(f)
    return str(path)


def _meta(path):
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


@pytest.mark.parametrize("sig,func", [("SIGTERM", "save_torch"), ("SIGINT", "export_onnx")])
def test_a_stop_during_the_last_save_or_the_export_finishes_them(tmp_path, sig, func):
    """Esc in Blender (SIGTERM) or Ctrl-C after the last step, while the checkpoint is saved or
    the model exported: both are finished, exit 0, one warning (before 2026-12-06 the handlers
    were put back first: the run died, status 143 or 130, no model, and after a stop in the save
    no checkpoint either)."""
    x, y = _movie(tmp_path / "x.mp4", 1), _movie(tmp_path / "y.mp4", 2)
    drv = tmp_path / "drive.py"
    drv.write_text(DRIVER)
    out = tmp_path / "m.onnx"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", REENACT_ORT_THREADS="1")
    r = subprocess.run([sys.executable, str(drv), sig, func, "restyle", "train", "--x", x, "--y", y, "--out", str(out),
                        "--size", "32", "--base", "8", "--batch", "1", "--steps", "3"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "warning: stopped after the last step" in r.stderr, r.stderr[-2000:]
    assert out.is_file() and (tmp_path / "m.ckpt.pt").is_file()
    assert _meta(out)["reenact.train_steps"] == "3"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_a_checkpoint_without_its_model_is_exported_again(tmp_path, torch1):
    """The checkpoint holds the steps asked for but --out is missing (a run stopped during its
    export) or holds another model: its steps are exported again, with a warning (before
    2026-12-06 refused, "raise --steps to train on, or --no-resume": more steps or the training
    thrown away). Where --out is its model, the refusal stays; the model is not written again."""
    from reenact.restyle.resume import ALREADY_TRAINED
    from reenact.restyle.train import train
    from reenact.training.files import load_torch

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)]
    out, logs = tmp_path / "m.onnx", []
    train(X, Y, str(out), tiny_cfg(), steps=3, resume=False)
    run = _meta(out).get("reenact.train_run")
    os.remove(out)
    for steps in (3, 2):  # (2: at or past, as the refusal's)
        s = train(X, Y, str(out), tiny_cfg(), steps=steps, log=logs.append)
        assert s["exported_again"] and s["steps"] == 3 and s["resumed_from"] == 3, s
        meta = _meta(out)
        assert (meta["reenact.train_steps"], meta["reenact.train_run"]) == ("3", run)
        os.remove(out)
    assert load_torch(str(tmp_path / "m.ckpt.pt"), ("run",))["run"] == run and len(run) == 16
    assert any(m.startswith("warning: m.onnx: not the model of the checkpoint m.ckpt.pt (there is none)") for m in logs)
    train(X, Y, str(out), tiny_cfg(), steps=3)
    before = out.read_bytes()
    with pytest.raises(ValueError, match=ALREADY_TRAINED + r"3 \(at or past --steps 3\)"):
        train(X, Y, str(out), tiny_cfg(), steps=3)
    assert out.read_bytes() == before
    # another model at --out (another method), or a file that is no model: exported again
    train(X, Y, str(tmp_path / "other.onnx"), tiny_cfg(method="cycle"), steps=3, resume=False)
    for other in ((tmp_path / "other.onnx").read_bytes(), b"not a model"):
        out.write_bytes(other)
        assert train(X, Y, str(out), tiny_cfg(), steps=3)["exported_again"]
        assert json.loads(_meta(out)["reenact.config"])["method"] == "recycle"


def test_going_back_to_earlier_settings_exports_their_model(tmp_path, torch1):
    """recycle, cycle, then recycle again into one --out (Method changed and changed back in
    Blender), 5 steps each: the third run resumes the recycle checkpoint kept aside and exports
    it, replacing the cycle model (before 2026-12-06 it refused, "already trained to step 5",
    exit 2, and the cycle model stayed at --out for Restyle Strip to apply)."""
    from reenact.restyle.train import train

    X, Y = [moving_clip(seed=1)], [moving_clip(seed=2)]
    out, logs = tmp_path / "m.onnx", []
    train(X, Y, str(out), tiny_cfg(), steps=5, resume=False)
    first = _meta(out).get("reenact.train_run")
    train(X, Y, str(out), tiny_cfg(method="cycle"), steps=5)
    assert json.loads(_meta(out)["reenact.config"])["method"] == "cycle"
    s = train(X, Y, str(out), tiny_cfg(), steps=5, log=logs.append)
    assert s["exported_again"] and s["resumed_from"] == 5, s
    meta = _meta(out)
    assert json.loads(meta["reenact.config"])["method"] == "recycle" and meta["reenact.train_run"] == first
    assert first is not None
    assert any("not the model of the checkpoint m.ckpt.pt." in m and "another training" in m for m in logs), logs
    # the recycle checkpoint is the one in place now: a run again is refused, its model there
    with pytest.raises(ValueError, match="already trained to step 5"):
        train(X, Y, str(out), tiny_cfg(), steps=5)


def test_train_restyle_says_the_checkpoint_kept_only_when_the_trainer_saved_it():
    """Blender's words for a stopped Train Restyle: "the checkpoint is kept" only after the
    trainer's CANCELLED line (written once it saved); a trainer killed before that is said to
    have saved none (before 2026-12-06 "the checkpoint is kept and the next Train Restyle resumes
    from it" either way)."""
    from reenact.restyle.resume import RUN_NOT_KEPT, stopped_message

    level, said = stopped_message(4, [], ["restyle: step 4", "reenact: cancelled", "CANCELLED 4"])
    assert level == "WARNING" and "stopped at step 4; the checkpoint is kept" in said
    level, said = stopped_message(4, [], ["restyle: step 4", "reenact: cancelled (SIGTERM)"])
    assert "checkpoint is kept" not in said and "before it saved a checkpoint" in said, said
    assert "earlier checkpoint is kept as it was" in stopped_message(1, ["x; " + RUN_NOT_KEPT], ["CANCELLED 1"])[1]
    assert "before its first step" in stopped_message(0, [], [])[1]
