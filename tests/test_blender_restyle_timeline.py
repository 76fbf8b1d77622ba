# SPDX-License-Identifier: GPL-3.0-or-later
"""What restyling in Blender reads of the timeline (tests/blender_restyle_timeline_check.py): a
reversed shot's frames as Blender shows them, strips hidden in meta strips and a meta's trims,
one model per scene, and refusals that write nothing."""

import os

import numpy as np
import pytest

from test_blender_restyle import run_check

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_restyle_timeline_check.py")


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """Clips (a 16-frame colour shot, a colour reference, a grey clip, a 60 fps clip, a hand-picked
    run of images), a restyle model and a colouriser."""
    pytest.importorskip("torch")
    import cv2

    from reenact.restyle.train import train
    from reenact.video import VideoWriter
    from test_restyle import moving_clip, tiny_cfg

    d = tmp_path_factory.mktemp("restyle_timeline")

    def movie(name, frames, fps=24):
        path = str(d / name)
        with VideoWriter(path, fps, (frames.shape[2], frames.shape[1])) as w:
            for f in frames:
                w.write(f)
        return path

    shot = moving_clip(T=16, S=48, seed=3)
    cfg = {"shot": movie("shot.mp4", shot), "look": movie("look.mp4", moving_clip(T=12, S=48, seed=10)),
           "grey": movie("grey.mp4", moving_clip(T=12, S=48, colour=False, seed=11)),
           "fast": movie("fast.mp4", moving_clip(T=12, S=48, seed=12), fps=60), "images": []}
    os.makedirs(str(d / "seq"))
    for i, f in zip((1, 2, 3, 5, 6), moving_clip(T=5, S=48, seed=13)):  # a gap: not one numbered run
        cfg["images"].append(str(d / "seq" / "ref_{:04d}.png".format(i)))
        cv2.imwrite(cfg["images"][-1], f[..., ::-1])
    cfg["model"] = str(d / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], cfg["model"], tiny_cfg(), steps=2, resume=False)
    cfg["colouriser"] = str(d / "colour.onnx")
    train([moving_clip(seed=1, colour=False)], [moving_clip(seed=2)], cfg["colouriser"], tiny_cfg(colourise=True),
          steps=2, resume=False)
    from reenact.video import open_video

    with open_video(cfg["shot"]) as v:
        decoded = [f for _, f in v.iter_frames(0, len(v), 1)]
    return cfg, decoded


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_restyle_reads_what_the_timeline_shows(tmp_path, version, request, footage):
    import cv2

    cfg, decoded = footage
    cfg = dict(cfg, out=str(tmp_path))
    r, out = run_check(CHECK, cfg, version, request, tmp_path)
    # refused jobs write nothing (before 2026-12-06 a hand-picked reference's links were left in
    # //reenact/restyle_frames, and a colouriser refused on a colour shot left an empty
    # //reenact/restyle/<.blend>)
    for key, words in (("refused_links", "already in colour"),
                       ("refused_fast", "fast.mp4: frames 0:4 give 2 frame(s) to train on"),
                       ("refused_colouriser", "already in colour")):
        got = r[key]
        assert got.get("lines") == 1 and words in got["line"] and not got["written"], (key, got, out[-3000:])
    # a reversed shot trimmed by 4 at its start shows clip frames 0..11: trained on them and
    # restyled (before 2026-12-06 frames 4..15: the result showed clip frames 0..3 untouched)
    assert r["reversed_spec"] == [0, 12], r["reversed_spec"]
    assert r["reversed_restyle"] == ["FINISHED"]
    got = r["reversed_result"]
    assert got["reverse"] and (got["start"], got["length"]) == (5, 12) and len(got["files"]) == 16, got
    same = [i for i, name in enumerate(got["files"])
            if np.array_equal(cv2.imread(os.path.join(got["folder"], name))[..., ::-1], decoded[i])]
    assert same == [], same  # (every frame it shows restyled)
    # the clip frames it does not show: one transparent file, linked (before 2026-12-06 copies of them)
    clear = [i for i, name in enumerate(got["files"])
             if cv2.imread(os.path.join(got["folder"], name), cv2.IMREAD_UNCHANGED).shape[2] == 4
             and not cv2.imread(os.path.join(got["folder"], name), cv2.IMREAD_UNCHANGED).any()]
    assert clear == [12, 13, 14, 15], clear
    # strips inside a closed meta strip are not references, even selected (before 2026-12-06
    # 'old_take' and, after Ctrl+G, 'fast' were trained on unseen)
    assert r["meta_refs"] == ["look"], r["meta_refs"]
    assert r["meta_make"] == ["FINISHED"] and r["fast_selected_inside"]
    assert r["meta_make_refs"] == ["look"], r["meta_make_refs"]
    # a meta strip's trims hide its contents' frames (before 2026-12-06 trained on 0..16)
    assert r["meta_trim_spec"] == [6, 16], r["meta_trim_spec"]
    # each scene its own model; a checkpoint of the earlier naming offered to the trainer by each
    # (--resume-from: resumed when it holds these frames; before 2026-12-06 a Full Copy's training
    # wrote over the first scene's model)
    a, b = r["model_paths"]
    models = os.path.join(str(tmp_path), "reenact", "models", "timeline")
    assert a == os.path.join(models, "shot_restyle_like_look_in_Edit.onnx"), a
    assert b != a and os.path.dirname(b) == models and r["scenes"][1] in os.path.basename(b), b
    assert r["legacy"][0] == os.path.join(models, "shot_restyle_like_look.ckpt.pt")
    assert r["adopted"] == [[r["legacy"][0]]] * 2, r["adopted"]


RESUME_CHECK = os.path.join(ROOT, "tests", "blender_restyle_resume_check.py")


def _said(out, name):
    """What the call ``name`` of the resume check reported."""
    return out.split("CALL {}\n".format(name), 1)[1].split("END {}\n".format(name), 1)[0]


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_train_restyle_says_what_became_of_the_checkpoint(tmp_path, version, request, footage):
    """A run on other frames stopped at once leaves the earlier checkpoint in place and says so
    (before 2026-12-06 it was moved aside unsaid, "the checkpoint is kept and the next Train
    Restyle resumes from it", and the next Train, the trim undone, started from step 0; the
    stopped run's preview replaced the finished model's). Steps at or below the checkpoint's:
    one clear line (before: "trained (0 steps (resumed from step 30), loss nan)"); Start Afresh
    trains from the start, the earlier checkpoint kept aside."""
    from reenact.restyle.resume import RUN_NOT_KEPT

    cfg = dict(footage[0], out=str(tmp_path))
    r, out = run_check(RESUME_CHECK, cfg, version, request, tmp_path)
    assert r["first"] == ["FINISHED"] and r["first_step"] == 3, out[-3000:]
    assert r["sent"] >= 1 and r["stopped"] == ["CANCELLED"], out[-3000:]
    said = _said(out, "stopped")
    assert RUN_NOT_KEPT in said and "the earlier checkpoint is kept as it was" in said, said
    assert "resumes from it" not in said, said
    assert r["step_after_stop"] == 3 and not [f for f in r["after_stop"] if f.endswith(".old")], r["after_stop"]
    assert r["preview_kept"] and not [f for f in r["after_stop"] if ".run." in f], r["after_stop"]
    assert r["resumed"] == ["FINISHED"] and "resumed from step 3" in _said(out, "resumed"), _said(out, "resumed")
    below = _said(out, "below")
    assert r["below"] == ["ERROR"] and "already trained to step 4 ≥ Steps 2: raise Steps to train on, or Start " \
        "Afresh" in below, below
    afresh = _said(out, "afresh")
    assert r["afresh"] == ["FINISHED"] and "2 steps," in afresh and "resumed" not in afresh.split("trained (")[-1], \
        afresh
    assert len([f for f in r["after_afresh"] if f.endswith(".old")]) == 1 and "kept as" in afresh, afresh
    assert r["left_running"] == []
