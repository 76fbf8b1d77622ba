# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle Strip in Blender (PyPI bpy module, 5.0): a trained restyle model applied to the
active strip adds one result strip above it, frame for frame, replaced in place when run again;
a file that is not a restyle model is one line and adds nothing."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_restyle_check.py")


def test_restyle_strip_adds_one_result_strip(tmp_path):
    pytest.importorskip("torch")
    import cv2

    from reenact.render.renderer import BASE_MODEL
    from reenact.restyle.train import train
    from reenact.video import VideoWriter
    from test_restyle import moving_clip, tiny_cfg

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=2, resume=False)
    clip = str(tmp_path / "shot.mp4")
    frames = moving_clip(T=12, S=64, seed=3)
    with VideoWriter(clip, 24, (64, 64)) as w:
        for f in frames:
            w.write(f)
    cfg = {"clip": clip, "model": model, "bad_model": BASE_MODEL, "out": str(tmp_path)}
    res = subprocess.run([sys.executable, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["bad"] is not None and r["bad"]["lines"] == 1, r["bad"]
    assert "renderer_base.onnx" in r["bad"]["line"] and "not a restyle model" in r["bad"]["line"], r["bad"]
    assert r["after_bad"] == ["shot"]  # nothing added
    assert r["first"] == ["FINISHED"] and r["again"] == ["FINISHED"]
    assert r["remembered"].endswith("look.onnx")
    assert len(r["result"]) == 1 and r["after_first"] == r["after_again"], r
    got = r["result"][0]
    assert got["name"] == "shot Restyled look" and got["channel"] > r["original"]["channel"]
    assert got["start"] == 1 and got["length"] == r["original"]["length"] == 12
    pngs = sorted(n for n in os.listdir(got["folder"]) if n.endswith(".png"))
    assert len(pngs) == 12
    # the frames are exactly what `reenact restyle apply` makes of the shot (same model, same
    # watermark job id), and not the footage
    from reenact.restyle.apply import apply_clip

    ref = str(tmp_path / "cli")
    apply_clip(model, clip, ref, sign=False)
    for n in pngs:
        a = cv2.imread(os.path.join(got["folder"], n))
        b = cv2.imread(os.path.join(ref, n))
        assert a is not None and b is not None and np.array_equal(a, b), n
    out0 = cv2.imread(os.path.join(got["folder"], pngs[0]))[..., ::-1]
    assert out0.shape == (64, 64, 3) and float(np.abs(out0.astype(int) - frames[0].astype(int)).mean()) > 1.0
    # a strip named by a farm task in a scene the window does not show (before 2026-12-05: "no
    # movie or image strip 'other shot' in scene 'Scene'")
    assert r["window_scene"] == "Scene" and r["other_scene"] == ["FINISHED"], r
    assert r["other_results"] == ["other shot", "other shot Restyled look"], r


TRAIN_CHECK = os.path.join(ROOT, "tests", "blender_train_restyle_check.py")


def blender_python(version, request):
    """(python, env) of a bpy check process: this Python for 5.0; for 4.5 LTS the bpy 4.5 venv
    with the extension's runtime wheels (conftest ``blender45``)."""
    if version == "5.0":
        return sys.executable, dict(os.environ)
    return request.getfixturevalue("blender45")


def run_check(script, cfg, version, request, tmp_path):
    """``script`` run with ``cfg`` in the bpy of ``version`` (4.5 trains through this Python, as
    its Training Python preference): (its RESULT, from that Blender, and its output)."""
    py, env = blender_python(version, request)
    if version != "5.0":
        cfg["training_python"] = sys.executable
    env = dict(env, OMP_NUM_THREADS="1", REENACT_ORT_THREADS="1")
    res = subprocess.run([py, script, json.dumps(cfg)], capture_output=True, text=True, timeout=1200,
                         cwd=str(tmp_path), env=env)
    out = res.stdout + res.stderr
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, out[-4000:]
    r = json.loads(lines[-1][7:])
    assert r["blender"].startswith(version), r["blender"]
    return r, out


def assert_refused(refused, cases):
    """Each (key, words): one line holding ``words``, nothing written, the model unset."""
    for key, words in cases:
        assert refused[key].get("lines") == 1 and words in refused[key]["line"], (key, refused[key])
        assert not refused[key]["written"] and refused[key]["model"] == "", (key, refused[key])


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_train_restyle_from_strips(tmp_path, version, request):
    """Train Restyle on strips: refusals (one line, nothing written), trims honoured, progress,
    the scene's model set and applied by Restyle Strip; a stopped run keeps its checkpoint,
    leaves the .blend as it was, and a second Train resumes from it. On Blender 5.0 and on 4.5
    LTS (whose Python has no torch: the trainer is the Python set in the add-on's preferences)."""
    pytest.importorskip("torch")
    from reenact.video import VideoWriter
    from test_restyle import moving_clip

    def movie(name, frames):
        path = str(tmp_path / name)
        with VideoWriter(path, 24, (frames.shape[2], frames.shape[1])) as w:
            for f in frames:
                w.write(f)
        return path

    # black and white, except 4 colour frames at the start that the strip's trim hides
    grey = moving_clip(T=16, S=64, colour=False, seed=3)
    lead = moving_clip(T=16, S=64, colour=True, seed=3)[:4]
    cfg = {"shot": movie("shot.mp4", np.concatenate([lead, grey[4:]])),
           "refs": [movie("look{}.mp4".format(i), moving_clip(T=12, S=48, seed=10 + i)) for i in range(2)],
           "colour_shot": movie("colour.mp4", moving_clip(T=8, S=64, seed=5)),
           "gone": movie("gone.mp4", moving_clip(T=8, S=64, seed=6)), "out": str(tmp_path)}
    r, out = run_check(TRAIN_CHECK, cfg, version, request, tmp_path)
    ref = r["refused"]
    assert_refused(ref, (("no_active", "active strip"), ("no_reference", "select one or more reference"),
                         ("same_file", "same file"), ("missing", "gone.mp4: file does not exist"),
                         ("colour_shot", "colour.mp4: --colourise: the shot (X) is already in colour"),
                         ("untrimmed", "shot.mp4: --colourise: the shot (X) is already in colour"),
                         ("held_reference", "strip 'look1' starts 2 frame(s) into its clip")))
    # trained on what the trimmed strip shows (the grey frames), with progress lines
    assert r["trained"] == ["FINISHED"], out[-4000:]
    # each .blend and each choice of references its own model (before 2026-12-05 one per shot strip)
    models = os.path.join(str(tmp_path), "reenact", "models", "train_restyle-5e5af4")  # ('train restyle.blend')
    assert r["model"] == os.path.join(models, "shot_colourise_like_look0+1-630145_in_Scene.onnx") and os.path.isfile(r["model"])
    assert r["model_stored"] == "//reenact/models/train_restyle-5e5af4/shot_colourise_like_look0+1-630145_in_Scene.onnx", r["model_stored"]
    assert os.path.isfile(r["preview"])
    assert "Training 3/3" in out or "3/3" in out, out[-3000:]
    from reenact.restyle.apply import RestyleModel

    assert RestyleModel(r["model"], prefer_gpu=False).cfg.colourise
    # Restyle Strip applied the scene's model: a strip above, same start and length as shown
    assert r["applied"] == ["FINISHED"]
    assert len(r["result"]) == 1, r["result"]
    got = r["result"][0]
    assert got["name"] == "shot Restyled shot_colourise_like_look0+1-630145_in_Scene" and got["channel"] > 1
    assert (got["start"], got["length"]) == (r["shot"]["start"], r["shot"]["length"]) == (5, 11)
    # stopped: checkpoint kept, no model, the .blend as it was; a second Train resumes from it
    assert r["sent"] >= 1 and r["stopped"] == ["CANCELLED"], out[-3000:]
    assert r["unchanged"], r["after_stop"]
    assert r["checkpoint"] and not r["restyle_onnx_after_stop"]
    k = r["checkpoint_step"]
    assert k >= 1 and r["resumed"] == ["FINISHED"]
    assert "resumed from step {}".format(k) in out, out[-3000:]
    assert r["model_after_resume"] == os.path.join(models, "shot_restyle_like_look0+1-630145_in_Scene.onnx")
    assert r["names"][0] == "shot_restyle_like_look0+1-630145_in_Scene.onnx" and r["names"][1] != r["names"][0]
    assert r["left_running"] == []


SEQUENCE_CHECK = os.path.join(ROOT, "tests", "blender_restyle_sequence_check.py")


def png_sequence(folder, frames, name="shot_", first=1):
    """``frames`` written as ``folder/name0001.png``, ... (numbered from ``first``); their paths."""
    import cv2

    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, f in enumerate(frames):
        p = os.path.join(folder, "{}{:04d}.png".format(name, first + i))
        assert cv2.imwrite(p, np.ascontiguousarray(f[..., ::-1]))
        paths.append(p)
    return paths


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_restyle_image_sequence_strips(tmp_path, version, request):
    """Image-sequence strips (numbered PNGs): Train Restyle takes them as shot and reference
    (trims honoured), Restyle Strip writes the shot's frames as a PNG folder in an image strip
    above (same start and length, frames outside the trims one transparent file, the others the
    same frames as `reenact restyle apply` on the folder) or a movie at the scene's rate; a reference whose images are not
    one numbered run trained on through links to its images; a still image and a file that is not
    a restyle model: one line each, nothing changed."""
    pytest.importorskip("torch")
    import cv2

    from reenact.render.renderer import BASE_MODEL
    from reenact.restyle.apply import apply_clip
    from reenact.video import VideoWriter, open_video
    from test_restyle import moving_clip

    shot_frames = moving_clip(T=14, S=48, seed=3)[:, :, 4:44]  # 40 x 48: not square
    shot = png_sequence(str(tmp_path / "shot seq"), shot_frames)
    ref = png_sequence(str(tmp_path / "look"), moving_clip(T=10, S=40, seed=11), name="look.", first=101)
    gappy = png_sequence(str(tmp_path / "gappy"), moving_clip(T=6, S=40, seed=12))
    del gappy[3]  # shot_0004 is not in the strip: not one numbered run
    ref_movie = str(tmp_path / "look.mp4")
    with VideoWriter(ref_movie, 24, (40, 40)) as w:
        for f in moving_clip(T=10, S=40, seed=13):
            w.write(f)
    cfg = {"shot": shot, "ref": ref, "ref_movie": ref_movie, "gappy": gappy, "still": ref[0],
           "bad_model": BASE_MODEL, "out": str(tmp_path)}
    r, out = run_check(SEQUENCE_CHECK, cfg, version, request, tmp_path)
    ref_ = r["refused"]
    assert_refused(ref_, (("still", "strip 'still' holds 1 image(s)"),))
    # images that are not one numbered run: a numbered sequence of links to them, in the strip's
    # order, in the .blend's data folder, with the strip's trims (clip frames 1..5)
    g = r["gappy"]
    assert g["files"] == [os.path.realpath(f) for f in gappy], g
    assert (g["start"], g["stop"]) == (1, 5)
    assert g["pattern"].startswith(os.path.join(str(tmp_path), "reenact", "restyle_frames") + os.sep)
    bad = ref_["bad_model"]
    assert bad.get("lines") == 1 and "renderer_base.onnx" in bad["line"] and "not a restyle model" in bad["line"], bad
    assert r["bad_model_unchanged"] and not r["restyle_folder_after_bad"]
    # trained on the strips (the shot as trimmed: clip frames 2..12)
    assert r["trained"] == ["FINISHED"], out[-4000:]
    assert r["model"] == os.path.join(str(tmp_path), "reenact", "models", "sequence_restyle-9a1bd7",
                                      "shot_restyle_like_gappy+2-b3ba29_in_Scene.onnx")  # (the first by name)
    assert "Training 2/2" in out, out[-3000:]
    # Restyle Strip: a PNG folder in an image strip above, same start and length as shown
    assert r["applied"] == ["FINISHED"] and len(r["images"]) == 1, r["images"]
    got = r["images"][0]
    assert got["type"] == "IMAGE" and got["channel"] > r["shot"]["channel"]
    assert (got["start"], got["length"]) == (r["shot"]["start"], r["shot"]["length"]) == (5, 11)
    assert len(got["elements"]) == 14
    reference = str(tmp_path / "cli")
    apply_clip(r["model"], str(tmp_path / "shot seq"), reference, frames="2:13", sign=False)
    for i, name in enumerate(got["elements"]):
        if i < 2 or i == 13:  # outside the trims: one transparent frame, linked (before 2026-12-06 copies)
            a = cv2.imread(os.path.join(got["path"], name), cv2.IMREAD_UNCHANGED)
            assert a.shape == (48, 40, 4) and not a.any(), name
            assert os.path.samefile(os.path.join(got["path"], name), os.path.join(got["path"], got["elements"][0]))
            continue
        a = cv2.imread(os.path.join(got["path"], name))[..., ::-1]
        b = cv2.imread(os.path.join(reference, name))[..., ::-1]
        assert a.shape == (48, 40, 3) and np.array_equal(a, b), name  # the CLI on the folder: the same frames
        if i == 2:
            assert float(np.abs(a.astype(int) - shot_frames[i].astype(int)).mean()) > 1.0
    # as a movie: the same strip replaced, at the scene's rate, frame for frame
    assert r["applied_movie"] == ["FINISHED"] and len(r["movie"]) == 1, r["movie"]
    mov = r["movie"][0]
    assert mov["type"] == "MOVIE" and (mov["channel"], mov["start"], mov["length"]) == (
        got["channel"], got["start"], got["length"])
    with open_video(mov["path"]) as v:
        assert (len(v), v.size, v.fps, v.has_audio) == (14, (40, 48), 24.0, False)


def test_a_restyled_dub_keeps_to_its_dub_and_a_new_take_says_it_is_stale(tmp_path, carphone):
    """Restyle Strip on a dub's result strip (a dubbed and restyled shot): the restyle keeps to the
    dub when the editor moves or trims the shot, and a render again of the dub says that the
    restyle above it is of an earlier take (a review of 2026-12-06: the restyled dub stayed where
    it was, over the cutaway that took its place, and the report advised to mute it)."""
    pytest.importorskip("torch")
    from reenact.restyle.train import train
    from reenact.video import VideoWriter, open_video
    from test_restyle import moving_clip, tiny_cfg

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=1, resume=False)
    clip = str(tmp_path / "shot.mp4")
    with open_video(carphone) as src, VideoWriter(clip, 25, (src.width, src.height)) as w:
        for i in range(24):
            w.write(src.read(i))
    work = tmp_path / "work"
    work.mkdir()
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "blender_restyled_dub_check.py"), clip, model,
                          str(work)], capture_output=True, text=True, timeout=900, cwd=str(work))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["dub"] == r["restyle"] == r["again"] == ["FINISHED"], r
    names = [p[0] for p in r["before"]]
    assert [p[1:] for p in r["before"]] == [[1, 25]] * 3, r
    assert [p[1:] for p in r["moved"]] == [[11, 35]] * 3, r  # (before 2026-12-06 the restyle stayed at 1-25)
    assert [p[1:] for p in r["trimmed"]] == [[11, 31]] * 3, r
    # the shot cut at 21: the dub and its restyle stay on the left piece; the right piece gets a copy
    # of the dub and, over it, of the restyle (before 2026-12-06 none: the new piece showed the dub unrestyled)
    cut = r["cut"]
    assert [p[1:] for p in cut["left"]] == [[11, 21]] * 3 and cut["right"][:2] == [21, 31], r
    assert [c[:3] for c in cut["copies"]] == [["IMAGE", 21, 31], ["IMAGE", 21, 31]], r
    assert cut["copies"][0][3] < cut["copies"][1][3] and all(c[5] for c in cut["copies"]), r
    assert r["cut_moved"] == [[24, 34]] * 3 and [p[1:] for p in r["uncut"]] == [[11, 31]] * 3, r
    assert ("'{}' restyles an earlier take of it: Restyle Strip on '{}' again to restyle this one".format(
        names[2], names[1])) in r["note"], r
    assert r["stale"] == "Made from an earlier take of '{}' than it shows now: Restyle Strip on it again".format(
        names[1]), r
    # the shot hidden: its dub and the dub's restyle with it; the dub muted by hand: the restyle stays
    assert r["muted"] == [True, True] and r["shown"] == [False, False], r
    assert r["dub_muted_by_hand"] == [True, False], r
    # the dub rendered again as a movie (a new strip of the other kind): the restyle still keeps to it
    assert r["movie"] == ["FINISHED"], r
    assert r["after_movie"] == [["MOVIE", 6, 26], ["MOVIE", 6, 26], ["IMAGE", 6, 26]], r
    assert "restyles an earlier take of it" in r["movie_note"], r
    # the edit's manifest names the restyle by its model, and the dub's actor it was made from
    assert r["manifest_entries"] == [{"strip": names[2], "frames": "6-8", "restyle": "look",
                                      "of": {"actor": "shot Actor 0", "region": "mouth"}}], r
