# SPDX-License-Identifier: GPL-3.0-or-later
"""The Flamenco job type (farm/flamenco/reenact_render.js) without a farm: its compileJob runs in
Node against tests/flamenco_harness.js (the documented part of Flamenco's authoring API it
uses), and the task list is checked (chunks cover the range once, the assemble task depends on
every chunk, commands well formed and equal to reenact.farm's). Then the compiled commands run
here with the bpy module standing in for Blender (python -m reenact.blender.background): two chunks
in parallel, one of them killed mid-way and run again, give the frames of one render byte for
byte; the assemble task adds one strip (the movie, with the footage's audio) and saves."""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

from reenact import farm

JOB_TYPE = os.path.join(ROOT, "farm", "flamenco", "reenact_render.js")
HARNESS = os.path.join(ROOT, "tests", "flamenco_harness.js")
CHECK = os.path.join(ROOT, "tests", "farm_blender_check.py")
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (.ci/run installs it: apt-get install nodejs)")


def compile_job(**settings):
    base = {"actor": "Tom", "frames": "1-250", "chunk_size": 30, "region": "mouth", "output": "IMAGES",
            "lossless": False, "add_strip": True, "job_id": "", "blendfile": "/shared/shot.blend"}
    base.update(settings)
    res = subprocess.run([NODE, HARNESS, JOB_TYPE, json.dumps(base)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _chunk_of(task):
    expr = task["commands"][0]["parameters"]["args"][-1]
    call = ast.parse(expr).body[1].value
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    return kw


@needs_node
def test_job_type_settings_and_evals():
    job_type = compile_job()["job_type"]
    keys = {s["key"]: s for s in job_type["settings"]}
    assert {"actor", "frames", "chunk_size", "region", "output", "blendfile", "job_id"} <= set(keys)
    assert keys["region"]["choices"] == ["mouth", "face", "head"] and keys["chunk_size"]["type"] == "int32"
    for s in job_type["settings"]:  # every eval is a Python expression (the add-on eval()s it)
        if "eval" in s:
            ast.parse(s["eval"], mode="eval")


@needs_node
def test_compiled_tasks_cover_the_range_once():
    job = compile_job(actor='Zoë "B"', region="face", job_id="shot42", frames="1-250", chunk_size=30)
    assert job["error"] is None
    tasks = job["tasks"]
    renders, last = tasks[:-1], tasks[-1]
    assert len(renders) == 9 and len({t["name"] for t in tasks}) == len(tasks)
    covered = []
    for t in renders:
        assert t["type"] == "blender" and t["dependencies"] == [] and len(t["commands"]) == 1
        cmd = t["commands"][0]
        assert cmd["name"] == "blender-render"
        p = cmd["parameters"]
        assert p["exe"] == "{blender}" and p["exeArgs"] == "{blenderArgs}" and p["argsBefore"] == []
        assert p["blendfile"] == "/shared/shot.blend" and all(isinstance(a, str) for a in p["args"])
        assert p["args"][:3] == ["--python-exit-code", "1", "--python-expr"] and len(p["args"]) == 4
        kw = _chunk_of(t)
        assert (kw["frame_first"], kw["frame_last"], kw["use_chunk"], kw["output"]) == (1, 250, True, "IMAGES")
        c, d = kw["chunk_first"], kw["chunk_last"]
        covered += list(range(c, d + 1))
        # the same command line as `reenact blender-render` (reenact.farm), with the job's token
        assert kw["farm_job"] == _chunk_of(renders[0])["farm_job"] != "shot42"  # (every task of the job, its own)
        assert p["args"] == farm.blender_args("x.blend", farm.render_expr('Zoë "B"', 1, 250, (c, d), "face", "shot42",
                                                                          farm_job=kw["farm_job"]))[2:]
    assert covered == list(range(1, 251))  # every frame once, in order
    assert last["name"] == "reenact-assemble" and last["type"] == "blender"
    assert sorted(last["dependencies"]) == sorted(t["name"] for t in renders)
    assert last["commands"][0]["parameters"]["args"][-1] == farm.assemble_expr(
        'Zoë "B"', "IMAGES", False, save=True, region="face", farm_job=_chunk_of(renders[0])["farm_job"])
    # another submission of the same job: another token (its chunks' markers tell the jobs apart)
    again = compile_job(actor='Zoë "B"', region="face", job_id="shot42", frames="1-250", chunk_size=30)["tasks"]
    assert _chunk_of(again[0])["farm_job"] != _chunk_of(renders[0])["farm_job"]
    assert [tuple(x) for x in farm.chunks(1, 250, 30)] == [
        (_chunk_of(t)["chunk_first"], _chunk_of(t)["chunk_last"]) for t in renders]


@needs_node
def test_compile_edge_cases_and_errors():
    one = compile_job(frames="7", chunk_size=5)["tasks"]
    assert len(one) == 2 and (_chunk_of(one[0])["chunk_first"], _chunk_of(one[0])["chunk_last"]) == (7, 7)
    odd = compile_job(frames="3-12", chunk_size=4)["tasks"]
    assert [(_chunk_of(t)["chunk_first"], _chunk_of(t)["chunk_last"]) for t in odd[:-1]] == [(3, 6), (7, 10), (11, 12)]
    # chunks of two frames (a real Manager's frameChunker writes them "1,2", which the job type
    # could not parse before 2026-12-05: every such job was refused), and frames before 0
    pairs = compile_job(frames="1-7", chunk_size=2)["tasks"]
    assert [(_chunk_of(t)["chunk_first"], _chunk_of(t)["chunk_last"]) for t in pairs[:-1]] == [(1, 2), (3, 4), (5, 6),
                                                                                               (7, 7)]
    early = compile_job(frames="-5-4", chunk_size=6)["tasks"]
    assert [(_chunk_of(t)["chunk_first"], _chunk_of(t)["chunk_last"]) for t in early[:-1]] == [(-5, 0), (1, 4)]
    movie = compile_job(output="MOVIE", lossless=True, add_strip=False)["tasks"][-1]
    assert movie["commands"][0]["parameters"]["args"][-1] == farm.assemble_expr(
        "Tom", "MOVIE", True, save=False, farm_job=_chunk_of(movie)["farm_job"])
    both = compile_job(frames="1-20", chunk_size=10, region="head", all_actors=True)["tasks"]  # a two-shot's job
    assert [_chunk_of(t)["all_actors"] for t in both] == [True, True, True]
    token = _chunk_of(both[0])["farm_job"]
    assert both[0]["commands"][0]["parameters"]["args"][-1] == farm.render_expr("Tom", 1, 20, (1, 10), "head", "", True,
                                                                                farm_job=token)
    assert both[-1]["commands"][0]["parameters"]["args"][-1] == farm.assemble_expr(
        "Tom", "IMAGES", False, save=True, region="head", all_actors=True, farm_job=token)
    assert "all_actors" not in one[0]["commands"][0]["parameters"]["args"][-1]
    for bad, msg in (({"frames": "1-10, 20-30"}, "one range"), ({"actor": ""}, "no actor"),
                     ({"frames": "20-10"}, "before the first")):
        job = compile_job(**bad)
        assert job["error"] and msg in job["error"] and job["tasks"] == [], (bad, job["error"])


# ----------------------------------------------------------------------------- run it here
def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _argv(task):
    """A compiled blender-render command as a Worker would run it, with the bpy module as Blender."""
    p = task["commands"][0]["parameters"]
    assert p["exe"] == "{blender}" and p["exeArgs"] == "{blenderArgs}"
    return [sys.executable, "-m", "reenact.blender.background", "-b", *p["argsBefore"], p["blendfile"], *p["args"]]


def _check(cfg):
    res = subprocess.run([sys.executable, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         env=_env())
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    out = json.loads(lines[-1][7:])
    out["stdout"] = res.stdout
    return out


def _pixels(folder, leftovers=False):
    """The folder's frames. ``leftovers``: a chunk killed mid-write may leave the hidden temporary
    of the frame it was writing (docs/farm.md: ignored by the next render, removed by the assemble
    step); they are skipped here, and so are the chunks' markers (render/chunks.py); any other file
    still fails."""
    import cv2

    from reenact.render.chunks import MARKER_RE
    from reenact.video.encode import _FRAME_TMP_RE

    names = sorted(n for n in os.listdir(folder) if not MARKER_RE.match(n))
    if leftovers:
        names = [n for n in names if not _FRAME_TMP_RE.match(n)]
    assert all(n.startswith("frame_") and n.endswith(".png") for n in names), names
    return {n: cv2.imread(os.path.join(folder, n), cv2.IMREAD_UNCHANGED).tobytes() for n in names}


@pytest.mark.blender
@needs_node
def test_compiled_job_runs_chunked_equal_to_one_render(carphone, tmp_path):
    from conftest import write_movie_with_audio

    from reenact.video import open_video

    n = 24
    clip = str(tmp_path / "shot.mp4")
    with open_video(carphone) as src:
        write_movie_with_audio(clip, [f for _, f in src.iter_frames(0, n)], src.rate, n / float(src.rate), crf=12)
    blend = str(tmp_path / "shot.blend")
    evals = {s["key"]: s["eval"] for s in compile_job()["job_type"]["settings"] if "eval" in s}
    setup = _check({"mode": "setup", "clip": clip, "blend": blend, "evals": evals})
    actor = setup["actor"]
    # what Flamenco's add-on fills in: the active actor and its clip (timeline 5..28) in the scene range
    assert setup["evals"] == {"actor": actor, "frames": "5-28"}
    assert setup["evals_inactive"] == {"actor": "", "frames": "1-250"}
    # the window on another scene, the Video Sequencer on the actor's (Blender 5.0)
    assert setup["evals_two_scenes"] == {"actor": actor, "frames": "5-28"}, setup
    # Track Actor in background mode printed its progress (issue 14, item 15)
    assert any(l.startswith("Reenact: Tracking ") for l in setup["stdout"].splitlines()), setup["stdout"][-2000:]
    # timeline 9..24 = clip frames 4..19 (the strip starts at frame 5); two chunks
    job = compile_job(actor=actor, frames="9-24", chunk_size=8, blendfile=blend, output="MOVIE")
    renders, assemble = job["tasks"][:-1], job["tasks"][-1]
    assert len(renders) == 2
    folder = os.path.join(str(tmp_path), "reenact", "renders", "shot",  # (the .blend's own: shot.blend; the farm's)
                          re.sub(r"[^A-Za-z0-9._-]+", "_", actor + " mouth") + ".farm")

    # both chunks at once; the first is killed once it has written a rendered frame, then run again
    slow = subprocess.Popen(_argv(renders[0]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    other = subprocess.Popen(_argv(renders[1]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    want = os.path.join(folder, "frame_000004.png")
    t0 = time.time()
    while not os.path.exists(want) and slow.poll() is None and time.time() - t0 < 600:
        time.sleep(0.005)
    slow.send_signal(signal.SIGKILL)
    slow.communicate()
    out, _ = other.communicate(timeout=900)
    assert other.returncode == 0, out[-3000:]
    assert slow.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(folder, "frame_000011.png"))  # it died mid-way
    # headless progress lines a farm can parse (issue 14, item 15)
    assert any(l.startswith("Reenact: Rendering ") and l.split()[2] == "12/12" for l in out.splitlines()), out[-2000:]
    retry = subprocess.run(_argv(renders[0]), capture_output=True, text=True, timeout=900, env=_env())
    assert retry.returncode == 0, retry.stdout[-3000:] + retry.stderr[-3000:]
    chunked = _pixels(folder, leftovers=True)
    assert len(chunked) == n

    # the assemble task: the movie with the footage's audio, one strip, the .blend saved
    done = subprocess.run(_argv(assemble), capture_output=True, text=True, timeout=900, env=_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _pixels(folder) == chunked  # the killed write's temporary, if any, is gone
    strips = _check({"mode": "inspect", "blend": blend})["results"]
    ch, start, dur = setup["strip"]
    assert [s[1:5] for s in strips] == [[ch + 1, start, dur, "MOVIE"]], strips
    with open_video(strips[0][5]) as m:
        assert len(m) == n and m.has_audio
    again = subprocess.run(_argv(assemble), capture_output=True, text=True, timeout=900, env=_env())
    assert again.returncode == 0
    assert len(_check({"mode": "inspect", "blend": blend})["results"]) == 1  # replaced, not stacked

    # one render of the whole range (no cache) through `reenact blender-render`: the same frames
    shutil.move(folder, str(tmp_path / "chunked"))
    shutil.rmtree(os.path.join(str(tmp_path), "reenact", "renders", "reenact_cache"))
    single = subprocess.run([sys.executable, "-m", "reenact", "blender-render", blend, "--actor", actor,
                             "--frames", "9-24"], capture_output=True, text=True, timeout=900, env=_env())
    assert single.returncode == 0, single.stdout[-3000:] + single.stderr[-3000:]
    assert _pixels(folder) == chunked

    # a failing task exits non-zero with one line (a farm marks it failed)
    bad = subprocess.run([sys.executable, "-m", "reenact", "blender-render", blend, "--actor", "Nobody",
                          "--frames", "9-24"], capture_output=True, text=True, timeout=900, env=_env())
    assert bad.returncode == 1 and "no tracked actor called 'Nobody'" in bad.stdout + bad.stderr
