# SPDX-License-Identifier: GPL-3.0-or-later
"""Train Renderer from Blender (training in a separate process), and stopping a training job."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT


@pytest.mark.blender
def test_train_renderer_operator_assigns_model(tmp_path, carphone):
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "blender_train_check.py"),
                          str(tmp_path / "train.blend")], capture_output=True, text=True, timeout=1200,
                         cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][len("RESULT "):])
    assert r["r"] == ["FINISHED"]
    # a project folder moved whole (the Track's stored path is the old place's): Train finds the
    # Track beside the .blend, as every other operator does (before 2026-12-05 it was greyed out)
    assert r["poll_moved"] is True
    # the model sits next to the .blend, in the .blend's own folder (since 2026-12-05: versions
    # saved side by side shared it), and the actor remembers it
    assert r["model"] == str(tmp_path / "reenact" / "models" / "train" / "carphone_pristine_Actor_0.onnx")
    assert r["stored"] == "//reenact/models/train/carphone_pristine_Actor_0.onnx"  # a moved project keeps it
    assert os.path.isfile(r["model"])
    import onnxruntime as ort

    sess = ort.InferenceSession(r["model"], providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].shape[0] in ("batch", None) or isinstance(sess.get_inputs()[0].shape[0], str)


@pytest.mark.parametrize("by_signal", [True, False])
def test_stopping_training_keeps_the_checkpoint(tmp_path, carphone, carphone_track, by_signal):
    """Esc in Blender = a STOP line on the trainer's stdin, and SIGTERM where a signal is not a
    hard kill: it saves its checkpoint and exits as cancelled. Without the signal (Windows, where
    SIGTERM kills the process outright: before 2026-12-05 Esc there lost the work since the last
    checkpoint and read as a failure) the STOP line alone does it."""
    from reenact.jobs import TrainingProcess, find_training_python
    track = tmp_path / "t.npz"
    carphone_track.save(str(track))
    out = tmp_path / "m.onnx"
    p = TrainingProcess(find_training_python(), ["--data", "{}={}".format(track, carphone), "--out", str(out),
                                                 "--steps", "100000", "--size", "64", "--window", "3",
                                                 "--batch", "2"])
    p.stop_by_signal = by_signal
    p.start()
    t0 = time.time()
    while p.status()[0] < 2 and p.running and time.time() - t0 < 600:
        time.sleep(0.2)
    assert p.running, p.tail
    p.cancel()
    p.wait(300)
    assert p.cancelled and not p.error
    assert not out.exists(), "a stopped run must not leave a half-finished model"
    assert os.path.isfile(str(out) + ".ckpt.pt") or any(f.name.endswith(".pt") for f in tmp_path.iterdir())


@pytest.mark.parametrize("stdin_too", [False, True])
def test_a_trainer_whose_parent_is_gone_keeps_its_checkpoint(tmp_path, carphone, carphone_track, stdin_too):
    """Blender crashing in a run: the trainer's next PROGRESS line meets a broken pipe (and its
    stdin ends). Before 2026-12-06 the BrokenPipeError killed it without a checkpoint ("train:
    error: cannot write: Broken pipe"); now it stops as on Esc: the checkpoint saved at its
    step, nothing exported, status 143, nothing more said on the dead pipe. (Two steps from the
    128 px base: the second takes long enough that the pipe is closed before its line.)"""
    from reenact.jobs import BOOT, find_training_python
    from reenact.paths import PACKAGE_ROOT
    from reenact.training.files import load_torch

    track, out = tmp_path / "t.npz", tmp_path / "m.onnx"
    carphone_track.save(str(track))
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONUTF8="1", PYTHONIOENCODING="utf-8", REENACT_STOP_ON_STDIN="1")
    p = subprocess.Popen([find_training_python(), "-c", BOOT, PACKAGE_ROOT, "reenact.training.train", "--data",
                          "{}={}".format(track, carphone), "--out", str(out), "--steps", "2", "--threads", "2",
                          "--init", os.path.join(ROOT, "models", "renderer_base.pt"), "--progress-lines"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    said = []
    try:
        for line in p.stdout:
            said.append(line)
            if line.startswith("PROGRESS 1 "):
                break
        p.stdout.close()  # the reader is gone
        if stdin_too:  # (Blender's end of the trainer's stdin goes with it)
            p.stdin.close()
        code = p.wait(300)
    finally:
        if p.poll() is None:
            p.kill()
        if not p.stdin.closed:
            p.stdin.close()
    assert said and said[-1].startswith("PROGRESS 1 "), "".join(said)
    assert code == 143
    step = load_torch(str(tmp_path / "m.ckpt.pt"))["step"]
    assert step == 2 if not stdin_too else step in (1, 2)  # (stdin's end may be seen before the second step)
    assert not out.exists()


@pytest.mark.skipif(os.name != "posix", reason="a death by signal is a negative exit status on POSIX")
def test_a_killed_trainer_is_said_to_be_killed(tmp_path):
    """The system's out-of-memory killer (or kill -9) ending a trainer: before 2026-12-06 Blender
    said "training failed: init: 34 of 34 tensors copied" (its last line); now which signal,
    and that memory is the usual cause."""
    from reenact.jobs import TrainingProcess

    (tmp_path / "killed_trainer.py").write_text(
        "import os, signal\n"
        "print('init: 34 of 34 tensors copied', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    p = TrainingProcess(sys.executable, [], extra_paths=[str(tmp_path)], module="killed_trainer").start()
    p.wait(60)
    assert not p.running and not p.cancelled
    assert p.error.startswith("the trainer was killed (signal 9, SIGKILL): most often the system ran out of memory"), \
        p.error


def test_train_renderer_starts_from_the_preferred_base(tmp_path, monkeypatch):
    """Train Renderer fine-tunes the bundled renderer the preferences name (the run's size follows
    its weights; by default the 256 px base's); where that one's weights are not installed (the
    extension's zip carries only the default's) it starts from the other base and says why."""
    from types import SimpleNamespace

    import reenact.render.renderer as renderer
    from reenact.blender.operators.train import base_weights

    p128 = os.path.join(ROOT, "models", "renderer_base.pt")
    p256 = os.path.join(ROOT, "models", "renderer_base256.pt")
    assert renderer.DEFAULT_BUNDLED == "base256"
    assert base_weights(SimpleNamespace(base_model="base")) == (p128, None)
    assert base_weights(None) == (p256, None)
    assert base_weights(SimpleNamespace(base_model="base256")) == (p256, None)
    installed = tmp_path / "models"  # an installed extension: the default's weights only
    installed.mkdir()
    (installed / "renderer_base256.pt").write_bytes(b"")
    monkeypatch.setattr(renderer, "BUNDLED_MODELS", {k: str(installed / os.path.basename(v))
                                                      for k, v in renderer.BUNDLED_MODELS.items()})
    path, note = base_weights(SimpleNamespace(base_model="base"))
    assert path == str(installed / "renderer_base256.pt")
    assert "'base'" in note and "not installed" in note and "--init base" in note
    assert base_weights(SimpleNamespace(base_model="base256")) == (str(installed / "renderer_base256.pt"), None)

def test_training_job_says_the_time_left(tmp_path):
    """The sidebar's "~N min left" of a training job: the steps left at the rate measured between
    its progress lines (a stand-in trainer: 10 steps in 0.5 s, then 90 left: ~4.5 s)."""
    from reenact.blender.modal import time_left
    from reenact.jobs import TrainingProcess

    (tmp_path / "fake_trainer.py").write_text(
        "import sys, time\n"
        "print('PROGRESS 1 100 0.5', flush=True)\n"
        "time.sleep(0.5)\n"
        "print('PROGRESS 11 100 0.4', flush=True)\n"
        "time.sleep(30)\n")
    p = TrainingProcess(sys.executable, [], extra_paths=[str(tmp_path)], module="fake_trainer").start()
    try:
        t0 = time.time()
        while p.status()[0] < 11 and p.running and time.time() - t0 < 60:
            time.sleep(0.05)
        assert p.status()[:2] == (11, 100)
        left = p.seconds_left()
        assert left is not None and 3.5 < left < 9.0, left  # 89 steps at 20 a second (plus the reader's lag)
    finally:
        p.cancel()
        p.wait(30)
    assert time_left(None) == "" and time_left(30) == " · <1 min left" and time_left(600) == " · ~10 min left"


def _check(*args):
    """tests/test_blender_look.py's, with a longer limit (a training run)."""
    from test_blender_look import _check as check

    return check(*args, timeout=1200)


@pytest.mark.blender
@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_each_actor_trains_its_own_files_kept_in_the_project(tmp_path, carphone, version, request):
    """(A stand-in trainer: the files a run writes, at once.) Before 2026-12-06 the model file was
    the actor's cleaned name: "shot 1 Actor 0" and "shot_1 Actor 0" shared it, and training one
    fresh replaced the model the other rendered with; the sidebar showed one training preview for
    every actor; an actor renamed while it trained was left without its model, the run said
    trained; and a model trained before the first save stayed in the temporary folder."""
    r = _check("blender_train_files_check.py", version, request, tmp_path, carphone, tmp_path)
    folder = tmp_path / "project" / "reenact" / "models" / "shot"
    # the first save: the renderer (and a stopped run's checkpoint) moves into the project
    assert r["train_a"] == ["FINISHED"] and r["train_stopped"] == ["CANCELLED"], r
    assert r["saved"] == "//reenact/models/shot/shot_1_Actor_0.onnx", r
    for end in (".onnx", ".fp16.onnx", ".pt", ".ckpt.pt", "_preview.png", ".trained_on.json"):
        assert "shot_1_Actor_0" + end in r["saved_files"], (end, r["saved_files"])
    assert "Stopped.ckpt.pt" in r["saved_files"] and r["old_left"] == [], r
    assert r["stopped_resumes"] == [["FINISHED"], str(folder / "Stopped.onnx")], r  # (its checkpoint there)
    # two actors of one cleaned name: a file each; the second's fresh run leaves the first's model
    pa, pb = "pair 1 Actor 0", "pair_1 Actor 0"
    assert r["train_pair"] == [["FINISHED"], ["FINISHED"]], r
    assert r["models"] == {pa: str(folder / "pair_1_Actor_0.onnx"), pb: str(folder / "pair_1_Actor_0_2.onnx")}, r
    assert r["p_model_is_p"] == "run 4", r  # (its own run's: the runs are A, Stopped, Stopped again, P, B...)
    # a duplicate of P (its Renderer and files P's) trains files of its own, P's untouched
    assert r["c_before"] is True and r["train_c"] == ["FINISHED"], r
    assert r["c_model"] == str(folder / "Duplicate.onnx") and r["p_after_c"] is True, r
    # each actor its training preview (the duplicate: its Renderer's); one never trained shows none
    assert r["panel"] == {pa: [["icon"], "pair_1_Actor_0_preview.png"], pb: [["icon"], "pair_1_Actor_0_2_preview.png"],
                          "Duplicate": [["icon"], "pair_1_Actor_0_preview.png"], "Untrained": [[], None]}, r
    # the Training options, in the sidebar: Steps, Accept Re-encoded Footage, Train and Start Fresh
    assert r["training_panel"] == ["prop: train_steps", "prop: train_accept_footage",
                                   "op: reenact.train_renderer Train", "op: reenact.train_renderer Start Fresh",
                                   "  fresh = True"], r
    assert r["scene_steps"] == [["FINISHED"], 7, False], r  # Train without options: the scene's Steps
    # every run trains on every tracked frame (before 2026-12-06 the shot's last 15 % were held out for a
    # score Blender never showed)
    assert r["holdouts"] == ["0"], r
    # P trained again after its duplicate trained: P's own files (before the fix, new ones: P_2, from the base)
    assert r["p_again"] == [["FINISHED"], True, False], r
    # renamed while it trained: the model is the renamed actor's, said so
    assert r["train_renamed"] == ["FINISHED"] and r["renamed"] == ["Tom", str(folder / "pair_1_Actor_0_2.onnx")], r
    assert "(for 'Tom', renamed from 'pair_1 Actor 0')" in r["_stdout"]
    # removed while it trained: a warning naming the model, which is kept
    gone = [ln for ln in r["_stdout"].splitlines() if "'Gone' was removed while it trained" in ln]
    assert r["train_removed"] == ["FINISHED"] and len(gone) == 1 and gone[0].startswith("Warning: "), r["_stdout"]
    assert str(folder / "Gone.onnx") in gone[0]

@pytest.mark.blender
def test_the_sidebars_training_options_unstick_a_trained_renderer(tmp_path, carphone):
    """Train Renderer by the sidebar's Training options (the scene's Steps; Start Fresh), with the
    real trainer. Before 2026-12-06 the UI could set neither: a renderer trained to its Steps
    ("raise Steps") or over a Track since replaced ("start fresh with the Start Fresh option") was
    stuck for good, and the second refusal named the one footage twice and not the Track."""
    r = _check("blender_train_options_check.py", "5.0", None, tmp_path, carphone, tmp_path)
    assert r["first"] == ["FINISHED"], r
    again = r["again"]
    assert "is trained already (1 of 1 steps" in again and "raise Steps (Renderer panel, Training)" in again, again
    assert "train: error:" not in again and "--" not in again, again
    assert r["raised"] == ["FINISHED"] and "renderer trained (2 steps (resumed from step 1)" in r["_stdout"], r
    assert r["model"] == "//reenact/models/options/carphone_pristine_Actor_0.onnx", r
    assert r["retrack"] == ["FINISHED"], r
    other = r["other_track"]
    assert "holds a checkpoint of other training data (an earlier Track of carphone_pristine.mp4: " \
           "'carphone_pristine Actor 0' was tracked again since; this run: its Track {})".format(r["track"]) in other, other
    assert "the Start Fresh option (Renderer panel, Training: it replaces the checkpoint)" in other, other
    assert r["fresh"] == ["FINISHED"] and r["fresh_model"] == r["model"], r
