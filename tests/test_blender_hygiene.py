# SPDX-License-Identifier: GPL-3.0-or-later
"""The documented Blender workflows leave the .blend and the project folder as they should
(issue 14, items 10-14), in the PyPI bpy module on carphone: one Blender run
(tests/blender_hygiene_check.py) shared by one test per item."""

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest

from conftest import ROOT, write_movie_with_audio

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_hygiene_check.py")


def _bad_model(src, out, **changes):
    """The bundled renderer with its configuration changed (what a damaged or foreign model
    looks like to the loader)."""
    import onnx

    m = onnx.load(src)
    for p in m.metadata_props:
        if p.key == "reenact.config":
            cfg = json.loads(p.value)
            cfg.update(changes)
            p.value = json.dumps(cfg)
    onnx.save(m, out)
    return out


@pytest.fixture(scope="module")
def run(carphone, tmp_path_factory):
    import cv2

    from reenact.render.renderer import BASE_MODEL
    from reenact.video import open_video

    tmp = tmp_path_factory.mktemp("hygiene")
    with open_video(carphone) as src:  # the dubbing take: another clip, twice the size
        frames = [cv2.resize(f, (f.shape[1] * 2, f.shape[0] * 2)) for _, f in src.iter_frames(0, 16)]
    big = write_movie_with_audio(str(tmp / "dubbing.mp4"), frames, Fraction(30000, 1001), 0.5)
    bad = {"runtime": _bad_model(BASE_MODEL, str(tmp / "wrong_window.onnx"), window=9),
           "memory": _bad_model(BASE_MODEL, str(tmp / "huge_size.onnx"), size=1 << 20, ref=False)}
    cfg = {"clip": carphone, "big": big, "out": str(tmp), "bad_models": bad}
    res = subprocess.run([sys.executable, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         cwd=str(tmp))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["blender"].startswith("5.0")
    return r


def test_transfer_defaults_follow_the_readme_order(run):
    """Item 10: with no actors named, the dubbing actor (tracked second) goes onto the on-screen
    actor (tracked first), whichever is active; the scene remembers the last choice; a source
    with edits of its own is warned about."""
    onscreen, dubbing = run["actors"]
    d = run["default_transfer"]
    assert d["result"] == "{'FINISHED'}", d
    assert "'{}' -> '{}'".format(dubbing, onscreen) in d["report"], d["report"]
    assert d["layers"] == {onscreen: True, dubbing: False}
    assert "edits of its own" not in d["report"]
    assert run["remembered_1"] == [dubbing, onscreen]
    e = run["explicit_transfer"]  # the on-screen actor now carries the dubbing actor's mouth
    assert e["result"] == "{'FINISHED'}" and e["report"].startswith("Warning:"), e
    assert "the source '{}' has edits of its own on 1".format(onscreen) in e["report"], e["report"]  # 10-12 frames
    assert run["remembered_2"] == [onscreen, dubbing]
    assert "'{}' -> '{}'".format(onscreen, dubbing) in run["remembered_transfer"]["report"]
    assert run["source_only_pair"] == [dubbing, onscreen]


def test_second_clip_keeps_the_scene_resolution_and_camera(run):
    """Item 11: the first tracked clip sets the scene's resolution and camera, a second clip of
    another size does not; View Actor Camera shows the actor's camera (and sets the resolution
    when asked)."""
    _, dubbing = run["actors"]
    assert run["after_first"] == {"resolution": [176, 144], "camera": "onscreen Camera"}
    assert run["after_second"] == {"resolution": [176, 144], "camera": "onscreen Camera"}
    assert run["view_camera"] == "no error: {'FINISHED'}", run["view_camera"]
    assert run["view_camera_scene_camera"] == "dubbing Camera"
    assert run["view_camera_resolution"] == [176, 144]
    assert run["view_camera_set_resolution"] == [352, 288]


def test_one_result_strip_per_actor_and_region(run):
    """Item 12: a render lands in the channel above the original even with a preview there, the
    preview goes, and a movie render replaces the image-sequence result in place."""
    ch, start, dur = run["original"]
    assert run["after_images"] == [["onscreen Reenact Mouth", ch + 1, "IMAGE", start, dur]], run["after_images"]
    assert ["Reenact Preview", ch + 2, "IMAGE", start + 4, 1] in run["with_preview"], run["with_preview"]
    assert run["after_movie"] == [["onscreen Reenact Mouth", ch + 1, "MOVIE", start, dur]], run["after_movie"]


def test_saving_moves_the_tracks_next_to_the_blend(run):
    """Item 13: the Tracks of the unsaved file (user folder) move to //reenact/ on the first save,
    the old files go, and the reopened file loads them."""
    onscreen, dubbing = run["actors"]
    # a save where they cannot go leaves each actor on its old, working Track
    assert run["blocked_save"] == {onscreen: [True, True], dubbing: [True, True]}
    # "Save Copy": the copy takes copies, the session keeps its files
    assert run["copy_save"]["session_kept"] and len(run["copy_save"]["copied"]) == 2, run["copy_save"]
    s = run["save"]
    assert s["old_in_project"] == {onscreen: False, dubbing: False}
    for n in (onscreen, dubbing):
        assert s["new"][n].startswith("//reenact/") and s["new"][n][len("//reenact/"):] in s["new_files"], s
        assert not s["old_exist"][n]
        assert s["reopened_loads"][n] == 12 - 0, s["reopened_loads"]


def test_failed_track_leaves_the_blend_as_it_was(run):
    """Item 14: a Track Actor that fails after tracking leaves no camera, collection or clip and
    keeps the scene camera and resolution."""
    assert run["failed_track_unchanged"], run["failed_track_diff"]
    msg = run["failed_track_error"]
    assert "cannot write the Track files to" in msg and "Traceback" not in msg, msg
    assert run["failed_track_leftovers"] == []
    # re-tracking the strip with another focal length, failing: its actor and camera stay as they were
    assert "cannot write the Track file" in run["failed_retrack_error"], run["failed_retrack_error"]
    assert run["failed_retrack_unchanged"], run["failed_retrack_diff"]
    assert len(run["failed_retrack_leftovers"]) == 2, run["failed_retrack_leftovers"]  # the folder and .kept


def test_preview_errors_are_one_line(run):
    """Item 14: Preview Frame's onnxruntime and memory errors are one line naming the model, not
    a traceback, and add nothing."""
    for kind, f in run["preview_failures"].items():
        m = f["message"]
        assert "Traceback" not in m and len(m.splitlines()) == 1, (kind, m)
        assert f["unchanged"], kind
    assert "wrong_window.onnx" in run["preview_failures"]["runtime"]["message"]
    # a model whose size needs terabytes: refused by the model checks (one line naming it), or,
    # past them, a memory error in one line
    huge = run["preview_failures"]["memory"]["message"]
    assert "huge_size.onnx" in huge and ("memory" in huge or "not a usable Reenact renderer" in huge), huge



def test_background_job_errors_are_one_plain_line(tmp_path):
    """Render Performance, Restyle Strip, Verify Strip run as background jobs: an onnxruntime,
    memory or unexpected failure in the worker is reported as one plain line (no C++ internals,
    no multi-line text), the core's own errors as they are."""
    from conftest import run_py

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    code = r'''
import json
from reenact.jobs import BackgroundJob
from reenact.blender.modal import job_error

def ort(progress):
    import onnxruntime
    onnxruntime.InferenceSession(%r)

def oom(progress):
    raise MemoryError()

def core(progress):
    raise ValueError("shot.npz: made from 'a.mp4', not from b.mp4")

out = {}
for name, f in (("ort", ort), ("oom", oom), ("core", core)):
    job = BackgroundJob(f)
    job._run()
    out[name] = job_error(job)
print("RESULT " + json.dumps(out))
''' % str(bad)
    res = run_py(code)
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-2000:] + res.stderr[-2000:]
    out = json.loads(lines[-1][7:])
    assert out["ort"].startswith("onnxruntime could not run the model") and "\n" not in out["ort"], out["ort"]
    assert out["oom"].startswith("not enough memory"), out["oom"]
    assert out["core"] == "shot.npz: made from 'a.mp4', not from b.mp4"
