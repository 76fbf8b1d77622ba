# SPDX-License-Identifier: GPL-3.0-or-later
"""A render-farm audit (2026-12-06) of the chunks' markers and the assembly (docs/farm.md, "The
farm's folder is its own"), each case as the wrangler met it, on markers and small frames (no
render): a folder whose first chunk found frames without markers no longer passes every job; a
second job of the shot started while the first runs no longer makes the first look clean; chunks
that rendered different performances, or frames that carry two job ids, are refused in one
line; ``reenact blender-render`` without Blender runs from a project folder."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT


def _frames(folder, n, value=0):
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, "frame_{:06d}.png".format(i)), "wb") as fh:
            fh.write(bytes([value]))


def test_a_folder_a_whole_render_filled_checks_later_jobs_and_refuses_an_unknown_job(tmp_path, capsys):
    """`reenact render --frames 0:12 --out fr3/` (whole: no marker), then job Y's first chunk
    (it finds frames and no marker: "legacy"), then job Z's second chunk, its first missing.
    Before, every job of the folder was checked by its files alone for good: Z, and even
    --farm-job NOSUCHJOB, assembled with exit 0 from the older frames. Now the legacy status
    excuses only Y (the job whose chunk found the frames) and an unknown job is refused."""
    from reenact.cli import main
    from reenact.render.chunks import check_chunks, marking

    folder = str(tmp_path / "fr3")
    _frames(folder, 12)  # (the whole render's frames)
    with marking(folder, "Y", (0, 12), (0, 6), 12):
        pass
    with marking(folder, "Z", (0, 12), (6, 12), 12):
        pass
    with pytest.raises(ValueError, match=r"clip frames 0-5 of this farm job have not been rendered"):
        check_chunks(folder, "Z")
    with pytest.raises(ValueError, match=r"clip frames 0-5 of this farm job have not been rendered"):
        check_chunks(folder)  # (by hand: the newest job, Z)
    with pytest.raises(ValueError, match=r"no chunk of this farm job has finished here \(job 'NOSUCHJOB'; "):
        check_chunks(folder, "NOSUCHJOB")
    assert check_chunks(folder, "Y") is None  # (the older frames around its chunk: checked by its files)
    capsys.readouterr()
    assert main(["assemble", folder, "--video", str(tmp_path / "shot.mp4"), "--out", str(tmp_path / "o.mp4"),
                 "--farm-job", "NOSUCHJOB"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no chunk of this farm job has finished here (job 'NOSUCHJOB'" in err[0], err
    # a legacy job's own chunk that has not finished is not excused either
    with pytest.raises(RuntimeError):
        with marking(folder, "Y", (0, 12), (6, 12), 12):
            raise RuntimeError("the worker died")
    with pytest.raises(ValueError, match=r"clip frames 6-11 of this farm job have not been rendered"):
        check_chunks(folder, "Y")


def test_a_second_job_started_over_a_running_one_leaves_its_marker(tmp_path):
    """Jobs A and B of one shot at once: B's start took A's live start marker for a dead chunk's
    and removed it, A's end marker then had no start ("started": null), its end was taken as its
    start, and B's chunks, done before it, looked written over by A: `reenact assemble --farm-job
    A` exited 0 with B's frames, the movie signed as B. Now A's marker stays while A writes (only
    one untouched for STALE_SECONDS, it and its frames, is cleared), a start marker gone all the
    same leaves the start this process kept (else the earliest), and both jobs are refused."""
    from reenact.render import chunks
    from reenact.render.chunks import check_chunks, mark_chunk, marker_name

    folder = str(tmp_path / "Actor_mouth.farm")
    mark_chunk(folder, "A", (0, 12), (0, 12), 12, done=False)  # A writes
    mark_chunk(folder, "B", (0, 12), (0, 12), 12, done=False)  # B starts over it
    assert os.path.exists(os.path.join(folder, marker_name((0, 12), "A")))
    _frames(folder, 12, 2)
    mark_chunk(folder, "B", (0, 12), (0, 12), 12)
    with pytest.raises(ValueError, match=r"written again by another farm job .*job 'A' has a chunk that has not "
                                         r"finished \(if it died, delete its marker \.reenact_chunk_000000_000012_"):
        check_chunks(folder, "B")
    mark_chunk(folder, "A", (0, 12), (0, 12), 12)
    for job in ("A", "B", None):
        with pytest.raises(ValueError, match=r"clip frames 0-11 were written again by another farm job"):
            check_chunks(folder, job)
    # A's start marker gone all the same (removed by an older Reenact): its end keeps the start
    other = str(tmp_path / "other.farm")
    mark_chunk(other, "A", (0, 12), (0, 12), 12, done=False)
    started = chunks._STARTED[os.path.join(other, marker_name((0, 12), "A"))]
    os.remove(os.path.join(other, marker_name((0, 12), "A")))
    mark_chunk(other, "B", (0, 12), (0, 12), 12, done=False)
    mark_chunk(other, "B", (0, 12), (0, 12), 12)
    mark_chunk(other, "A", (0, 12), (0, 12), 12)
    with open(os.path.join(other, marker_name((0, 12), "A"))) as fh:
        assert json.load(fh)["started"] == started
    with pytest.raises(ValueError, match=r"written again by another farm job"):
        check_chunks(other, "A")
    # a chunk of another job that died (its marker and its frames untouched for STALE_SECONDS) is cleared
    dead = str(tmp_path / "dead.farm")
    mark_chunk(dead, "C", (0, 12), (0, 6), 12, done=False)
    _frames(dead, 12)
    old = os.stat(dead).st_mtime - chunks.STALE_SECONDS - 60
    for name in os.listdir(dead):
        os.utime(os.path.join(dead, name), (old, old))
    os.utime(os.path.join(dead, "frame_000003.png"))  # (a frame it wrote just now: it lives)
    mark_chunk(dead, "D", (0, 12), (0, 12), 12, done=False)
    assert os.path.exists(os.path.join(dead, marker_name((0, 6), "C")))
    os.utime(os.path.join(dead, "frame_000003.png"), (old, old))
    mark_chunk(dead, "D", (0, 12), (0, 12), 12, done=False)
    assert not os.path.exists(os.path.join(dead, marker_name((0, 6), "C")))


def test_chunks_that_rendered_different_performances_are_refused(tmp_path):
    """The .blend saved with another performance while a job ran: each chunk renders the .blend
    as it is when it begins, and one movie was made of two performances without a word. A chunk
    marks what it rendered (``digest``: the performance, model and options) and the assembly
    refuses chunks of one job that differ, naming them."""
    from reenact.render.chunks import check_chunks, marking

    folder = str(tmp_path / "Actor_mouth.farm")
    for chunk, digest in (((0, 4), "p1"), ((4, 8), "p1"), ((8, 12), "p2")):
        with marking(folder, "job7", (0, 12), chunk, 12, digest=digest):
            pass
    with pytest.raises(ValueError, match=r"the chunks of this farm job rendered 2 different performances "
                                         r"\(timeline frames 1-8; timeline frames 9-12\): the .blend"):
        check_chunks(folder, "job7", timeline=(1, 12, False))
    with marking(folder, "job7", (0, 12), (8, 12), 12, digest="p1"):  # (that chunk rendered again)
        pass
    assert check_chunks(folder, "job7") == "job7"


def _signed_frames(folder, ids, models):
    from reenact.provenance.manifest import sign_file
    from reenact.provenance.watermark import make_payload
    from reenact.video.pngs import write_png

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(5)
    for i, (job, model) in enumerate(zip(ids, models)):
        path = os.path.join(folder, "frame_{:06d}.png".format(i))
        write_png(path, rng.integers(0, 255, (32, 32, 3), np.uint8))
        if job is not None:
            sign_file(path, "c2pa.edited", make_payload(job), None, None,
                      {"tool": "Reenact", "model": model, "job_id": "{:010x}".format(job)})


def test_assemble_refuses_frames_of_two_job_ids_and_warns_of_two_weights(tmp_path):
    """Chunks on Workers that open the footage at other paths (or, before, CPU and CUDA Workers:
    int8 and fp16 weights hashed into the derived id) wrote frames of two job ids; the assembly
    signed the movie with the first frame's and verify read "payload unreadable". Now it refuses
    in one line; two weights files under one job id are a warning line. And a job id derived on
    a CPU Worker (int8) and on a CUDA Worker (fp16) is now one."""
    pytest.importorskip("c2pa")
    from types import SimpleNamespace

    from reenact.render.assemble import assemble_movie
    from reenact.render.chunks import marking
    from reenact.render.marking import render_payload
    from reenact.render.renderer import BASE_MODEL
    from reenact.video.encode import VideoWriter

    clip = str(tmp_path / "clip.mp4")
    rng = np.random.default_rng(3)
    with VideoWriter(clip, 25, (32, 32)) as w:
        for _i in range(6):
            w.write(rng.integers(0, 255, (32, 32, 3), np.uint8))
    two = str(tmp_path / "two.farm")
    with marking(two, "j", (1, 5), (1, 3), 6):
        pass
    with marking(two, "j", (1, 5), (3, 5), 6):
        pass
    _signed_frames(two, [None, 0x11, 0x11, 0x22, 0x22, None], [None, "m.int8.onnx", "m.int8.onnx", "m.fp16.onnx",
                                                                "m.fp16.onnx", None])
    with pytest.raises(ValueError, match=r"its frames carry 2 watermark job ids \(0000000011 from clip frame 1, "
                                         r"0000000022 from clip frame 3\): frames of another job, or chunks that "
                                         r"derived the id on Workers that see the footage at other paths"):
        assemble_movie(two, clip, str(tmp_path / "two.mp4"))
    assert not os.path.exists(tmp_path / "two.mp4")
    mixed = str(tmp_path / "mixed.farm")
    _signed_frames(mixed, [None, 0x11, 0x11, 0x11, 0x11, None], [None, "m.int8.onnx", "m.int8.onnx", "m.fp16.onnx",
                                                                  "m.fp16.onnx", None])
    with marking(mixed, "j", (1, 5), (1, 3), 6):
        pass
    with marking(mixed, "j", (1, 5), (3, 5), 6):
        pass
    s = assemble_movie(mixed, clip, str(tmp_path / "mixed.mp4"))
    assert s["job_id"] == "0000000011" and len(s["output_warnings"]) == 1, s
    assert "2 weights files (m.int8.onnx from clip frame 1, m.fp16.onnx from clip frame 3" in s["output_warnings"][0]
    # the derived id: one for the model's int8 and fp16 weights (a CPU and a CUDA Worker)
    stem = os.path.splitext(BASE_MODEL)[0]
    cfg = {"size": 128, "mode": "face-only", "window": 11}
    weights = [SimpleNamespace(path=stem + ext, size=128, mode="face-only", window=11, config=cfg)
               for ext in (".int8.onnx", ".fp16.onnx", ".onnx")]
    own = SimpleNamespace(identity=np.zeros(3), expression_basis=np.zeros(3), focal_px=1.0, principal=np.zeros(2),
                          size=np.ones(2), expression_names=["a"])
    ids = {render_payload(None, "footage", w, own).to_dict()["job_id"] for w in weights if os.path.isfile(w.path)}
    assert len(ids) == 1, ids


def test_blender_render_without_blender_runs_from_a_project_folder(tmp_path, monkeypatch, capfd):
    """`reenact blender-render` where no Blender is installed runs the bpy module's stand-in
    (``python -m reenact.blender.background``); run from a project folder, which holds a
    ``reenact/`` folder (its Tracks, renders, cache), every task failed: "cannot import name
    'register' from 'reenact' (unknown location)". It runs with ``-P`` now."""
    pytest.importorskip("bpy")
    from reenact import farm

    project = tmp_path / "project"
    (project / "reenact" / "renders").mkdir(parents=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    blend = project / "shot.blend"
    subprocess.run([sys.executable, "-c", "import bpy; bpy.ops.wm.save_as_mainfile(filepath={!r})".format(str(blend))],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=300)
    monkeypatch.setattr(farm, "blender_executable", lambda name=None: None)  # (no Blender on PATH)
    monkeypatch.chdir(project)
    capfd.readouterr()
    rc = farm.run("shot.blend", "print('registered', hasattr(bpy.types, 'REENACT_OT_render_performance'))", env=env)
    out, err = capfd.readouterr()
    assert rc == 0 and "registered True" in out, err[-2000:]


def test_movie_on_a_chunk_task_is_refused(tmp_path, capsys):
    """`reenact blender-render ... --chunk 1-6 --movie` (no --assemble): the movie was ignored
    without a word (the chunk wrote its frames); now one line says where --movie belongs."""
    from reenact.cli import main

    blend = tmp_path / "shot.blend"
    blend.write_bytes(b"BLENDER")
    capsys.readouterr()
    assert main(["blender-render", str(blend), "--actor", "Tom", "--frames", "1-12", "--chunk", "1-6", "--movie",
                 "--blender", shutil.which("false") or sys.executable]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--movie: give it to the --assemble task" in err[0], err
