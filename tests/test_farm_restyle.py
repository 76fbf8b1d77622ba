# SPDX-License-Identifier: GPL-3.0-or-later
"""The restyle Flamenco job type (farm/flamenco/reenact_restyle.js) without a farm: compileJob
runs in Node against tests/flamenco_harness.js and its tasks are checked against reenact.farm's
command lines; then the compiled commands run here with the bpy module standing in for Blender
(python -m reenact.blender.background): the chunks' frames equal one Restyle Strip of the same
strip, and the assemble task adds one strip (the movie, with the footage's audio) and saves."""

import ast
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from test_farm_flamenco import _argv, _env

from reenact import farm

JOB_TYPE = os.path.join(ROOT, "farm", "flamenco", "reenact_restyle.js")
HARNESS = os.path.join(ROOT, "tests", "flamenco_harness.js")
CHECK = os.path.join(ROOT, "tests", "farm_restyle_check.py")
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (.ci/run installs it: apt-get install nodejs)")


def restyle_folder(project, blend, model, shot="shot"):
    """``//reenact/restyle/<blend>/<shot>_<model>-<digest>``: Restyle Strip's results of ``shot``
    with ``model``, a model not in the .blend's own models folder, known by its folder too
    (blender/restyle_files.result_name: the digest of ``<folder>/<file>``)."""
    import hashlib

    stem = os.path.splitext(os.path.basename(model))[0]
    ident = "{}/{}".format(os.path.basename(os.path.dirname(model)), os.path.basename(model))
    return os.path.join(str(project), "reenact", "restyle", blend, "{}_{}-{}".format(
        shot, stem, hashlib.sha1(ident.encode()).hexdigest()[:6]))


def compile_job(**settings):
    base = {"strip": "shot", "model": "//look.onnx", "frames": "1-250", "chunk_size": 50, "stabilise": 0.8,
            "output": "IMAGES", "lossless": False, "add_strip": True, "job_id": "", "blendfile": "/shared/shot.blend"}
    base.update(settings)
    res = subprocess.run([NODE, HARNESS, JOB_TYPE, json.dumps(base)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _kw(task):
    call = ast.parse(task["commands"][0]["parameters"]["args"][-1]).body[1].value
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


@needs_node
def test_restyle_job_type_compiles_chunks_that_cover_the_range_once():
    job_type = compile_job()["job_type"]
    keys = {s["key"]: s for s in job_type["settings"]}
    assert {"strip", "model", "frames", "chunk_size", "stabilise", "output", "blendfile", "job_id"} <= set(keys)
    for s in job_type["settings"]:
        if "eval" in s:
            ast.parse(s["eval"], mode="eval")
    job = compile_job(strip='Zoë "B"', model="//models/look.onnx", frames="6-130", chunk_size=50, stabilise=0.5,
                      job_id="shot42")
    assert job["error"] is None
    chunks, last = job["tasks"][:-1], job["tasks"][-1]
    assert [(_kw(t)["chunk_first"], _kw(t)["chunk_last"]) for t in chunks] == farm.chunks(6, 130, 50)
    for t in chunks:
        p = t["commands"][0]["parameters"]
        assert t["type"] == "blender" and p["exe"] == "{blender}" and p["blendfile"] == "/shared/shot.blend"
        c, d = _kw(t)["chunk_first"], _kw(t)["chunk_last"]
        # the same command line as reenact.farm builds
        assert _kw(t)["farm_job"] == _kw(chunks[0])["farm_job"]  # (the job's token, every task the same)
        assert p["args"] == farm.blender_args("x.blend", farm.restyle_expr('Zoë "B"', "//models/look.onnx", 6, 130,
                                                                           (c, d), "shot42", 0.5,
                                                                           farm_job=_kw(t)["farm_job"]))[2:]
    assert sorted(last["dependencies"]) == sorted(t["name"] for t in chunks)
    assert last["commands"][0]["parameters"]["args"][-1] == farm.restyle_assemble_expr(
        'Zoë "B"', "//models/look.onnx", "IMAGES", False, save=True, farm_job=_kw(chunks[0])["farm_job"])
    two = compile_job(frames="6-27", chunk_size=10)["tasks"][:-1]  # (a last chunk of two frames)
    assert [(_kw(t)["chunk_first"], _kw(t)["chunk_last"]) for t in two] == farm.chunks(6, 27, 10)
    movie = compile_job(output="MOVIE", lossless=True, add_strip=False)["tasks"][-1]
    assert movie["commands"][0]["parameters"]["args"][-1] == farm.restyle_assemble_expr(
        "shot", "//look.onnx", "MOVIE", True, save=False, farm_job=_kw(movie)["farm_job"])
    assert _kw(compile_job(stabilise=0)["tasks"][0])["stabilise"] == 0
    for bad, msg in (({"strip": ""}, "no strip"), ({"model": ""}, "no restyle model"),
                     ({"frames": "1-10, 20-30"}, "one range"), ({"stabilise": 2}, "stabilise")):
        job = compile_job(**bad)
        assert job["error"] and msg in job["error"] and job["tasks"] == [], (bad, job["error"])


def _check(cfg):
    res = subprocess.run([sys.executable, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         env=_env())
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(lines[-1][7:])


def _pixels(folder):
    import cv2

    names = sorted(n for n in os.listdir(folder) if n.endswith(".png"))
    return names, [cv2.imread(os.path.join(folder, n)) for n in names]


@pytest.mark.blender
@needs_node
def test_restyle_job_runs_chunked_equal_to_one_restyle(tmp_path):
    pytest.importorskip("torch")
    from conftest import write_movie_with_audio
    from test_restyle import moving_clip, tiny_cfg

    from reenact.restyle.train import train
    from reenact.video import open_video

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=2, resume=False)
    n = 14
    clip = str(tmp_path / "shot.mp4")
    frames = moving_clip(T=n, S=64, seed=3)
    write_movie_with_audio(clip, list(frames), 24, n / 24.0, crf=12)
    blend = str(tmp_path / "shot.blend")
    evals = {s["key"]: s["eval"] for s in compile_job()["job_type"]["settings"] if "eval" in s}
    setup = _check({"mode": "setup", "clip": clip, "model": model, "blend": blend, "evals": evals})
    # what Flamenco's add-on fills in: the active strip, the scene's model, the strip's visible frames
    assert setup["evals"] == {"strip": "shot", "model": setup["model"], "frames": "6-18"}, setup
    assert setup["evals_inactive"]["strip"] == "" and setup["evals_inactive"]["frames"] == ""
    job = compile_job(strip="shot", model=setup["model"], frames="6-18", chunk_size=5, blendfile=blend,
                      output="MOVIE")
    chunks, assemble = job["tasks"][:-1], job["tasks"][-1]
    assert len(chunks) == 3
    folder = restyle_folder(tmp_path, "shot", model) + ".farm"  # (shot.blend's own; the farm's)
    for t in reversed(chunks[1:]):  # any order
        res = subprocess.run(_argv(t), capture_output=True, text=True, timeout=900, env=_env())
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert "restyled chunk" in res.stdout + res.stderr
    # the first through `reenact blender-render` (another queue's command), the scene's model
    kw = _kw(chunks[0])
    res = subprocess.run([sys.executable, "-m", "reenact", "blender-render", blend, "--restyle", "shot", "--frames", "6-18",
                          "--chunk", "{}-{}".format(kw["chunk_first"], kw["chunk_last"]), "--farm-job", kw["farm_job"]],
                         capture_output=True, text=True, timeout=900, env=_env())
    assert res.returncode == 0 and "restyled chunk" in res.stdout + res.stderr, res.stdout[-3000:] + res.stderr[-3000:]
    names, chunked = _pixels(folder)
    assert len(names) == n  # the trimmed-off clip frame 0 too (the footage's own)
    done = subprocess.run(_argv(assemble), capture_output=True, text=True, timeout=900, env=_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    strips = _check({"mode": "inspect", "blend": blend})["results"]
    ch, start, dur = setup["strip"]
    assert [s[1:5] for s in strips] == [[ch + 1, start, dur, "MOVIE"]], strips
    assert strips[0][0] == "shot Restyled look"
    with open_video(strips[0][5]) as m:
        assert len(m) == n and m.has_audio
    again = subprocess.run(_argv(assemble), capture_output=True, text=True, timeout=900, env=_env())
    assert again.returncode == 0
    assert len(_check({"mode": "inspect", "blend": blend})["results"]) == 1  # replaced, not stacked

    # one Restyle Strip of the same strip (no chunks): the same frames
    shutil.move(folder, str(tmp_path / "chunked"))
    assert _check({"mode": "single", "blend": blend})["result"] == ["FINISHED"]
    names1, single = _pixels(folder[:-len(".farm")])  # (a restyle made in Blender: its take)
    assert names1 == names
    for i, (name, a, b) in enumerate(zip(names, chunked, single)):
        if i == 0:  # clip frame 0, trimmed off: the farm's frames the footage's own, the take's transparent
            assert a.any() and not b.any(), name  # (since 2026-12-06: a take holds what its strip shows)
            continue
        assert a is not None and b is not None and np.array_equal(a, b), name
    assert float(np.abs(single[5][..., ::-1].astype(int) - frames[5].astype(int)).mean()) > 1.0  # (restyled)


@pytest.mark.blender
@needs_node
def test_restyle_job_on_an_image_sequence_strip(tmp_path):
    """An image-sequence strip: two chunks make the PNG folder of one Restyle Strip; the assemble
    task adds an image strip; asked for a movie (a sequence has no rate or audio of its own to
    assemble with) it refuses in one line and adds nothing."""
    pytest.importorskip("torch")
    from test_blender_restyle import png_sequence
    from test_restyle import moving_clip, tiny_cfg

    from reenact.restyle.train import train

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=2, resume=False)
    images = png_sequence(str(tmp_path / "seq"), moving_clip(T=9, S=48, seed=4))
    blend = str(tmp_path / "seq.blend")
    setup = _check({"mode": "setup", "images": images, "model": model, "blend": blend})
    job = compile_job(strip="shot", model=setup["model"], frames="6-13", chunk_size=4, blendfile=blend,
                      output="MOVIE")
    chunks, movie = job["tasks"][:-1], job["tasks"][-1]
    for t in chunks:
        res = subprocess.run(_argv(t), capture_output=True, text=True, timeout=900, env=_env())
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    refused = subprocess.run(_argv(movie), capture_output=True, text=True, timeout=900, env=_env())
    assert refused.returncode == 1
    lines = [l for l in (refused.stdout + refused.stderr).splitlines() if "image sequence" in l]
    assert lines and "Output Images" in lines[0], refused.stdout[-2000:] + refused.stderr[-2000:]
    assert _check({"mode": "inspect", "blend": blend})["results"] == []
    folder = restyle_folder(tmp_path, "seq", model) + ".farm"  # (seq.blend's own; the farm's)
    names, chunked = _pixels(folder)
    assert len(names) == 9
    images_job = compile_job(strip="shot", model=setup["model"], frames="6-13", chunk_size=4, blendfile=blend)
    last = images_job["tasks"][-1]  # (its assembly, given the chunks' job: another submission would be refused)
    last["commands"][0]["parameters"]["args"][-1] = last["commands"][0]["parameters"]["args"][-1].replace(
        _kw(last)["farm_job"], _kw(job["tasks"][0])["farm_job"])
    done = subprocess.run(_argv(last), capture_output=True, text=True, timeout=900, env=_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    strips = _check({"mode": "inspect", "blend": blend})["results"]
    assert [s[1:5] for s in strips] == [[setup["strip"][0] + 1, 6, 8, "IMAGE"]], strips
    # the job's frames became a take (since 2026-12-06: the next farm job writes a folder of its own,
    # not the frames this strip shows)
    assert os.path.normpath(strips[0][5]) == folder[:-len(".farm")] and not os.path.exists(folder), strips
    # the assembly run again (a farm's retry): it finds the take its first run moved the frames to
    again = subprocess.run(_argv(last), capture_output=True, text=True, timeout=900, env=_env())
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert _check({"mode": "inspect", "blend": blend})["results"] == strips
    assert _check({"mode": "single", "blend": blend})["result"] == ["FINISHED"]
    names1, single = _pixels(folder[:-len(".farm")] + ".take2")  # (a restyle made in Blender: its next take)
    # the same frames, but for those the strip does not show: the take's transparent (since 2026-12-06)
    hidden = [i for i, b in enumerate(single) if not b.any()]
    assert names1 == names and len(hidden) == 9 - 8 and all(chunked[i].any() for i in hidden), hidden
    assert all(np.array_equal(a, b) for i, (a, b) in enumerate(zip(chunked, single)) if i not in hidden)
