# SPDX-License-Identifier: GPL-3.0-or-later
"""Where Train Restyle and Restyle Strip keep their files (tests/blender_restyle_paths_check.py,
Blender 5.0): distinct names, .blend files and models keep distinct files, and a look's training
is found again where an earlier name, an unsaved file or a moved project left it."""

import os

import pytest

from conftest import ROOT
from test_blender_restyle import run_check

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_restyle_paths_check.py")


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """Two small colour shots and two reference clips."""
    pytest.importorskip("torch")
    from reenact.video import VideoWriter
    from test_restyle import moving_clip

    d = tmp_path_factory.mktemp("restyle_paths")
    cfg = {}
    for key, seed in (("shot", 3), ("shot2", 4), ("look", 10), ("look2", 11)):
        cfg[key] = str(d / "{}.mp4".format(key))
        with VideoWriter(cfg[key], 24, (48, 48)) as w:
            for f in moving_clip(T=12, S=48, seed=seed):
                w.write(f)
    return cfg


def said(out, name):
    """What the call ``name`` of the check reported."""
    return out.split("CALL {}\n".format(name), 1)[1].split("END {}\n".format(name), 1)[0]


def check(case, footage, request, tmp_path, version="5.0"):
    out = tmp_path / "work"
    out.mkdir()
    return run_check(CHECK, dict(footage, case=case, out=str(out)), version, request, tmp_path)


def test_names_that_clean_alike_keep_their_own_models(footage, request, tmp_path):
    """Shots '山' and '川' (in '場面.blend', reference '空') each train and restyle into files of
    their own (before 2026-12-06 both were 'actor': the second training replaced the first one's
    model and its result became a take of the first one's); a checkpoint an earlier Reenact kept
    under the name cleaned alone (//reenact/models/shot_1/ for 'shot 1.blend') is resumed."""
    r, out = check("names", footage, request, tmp_path)
    assert r["first"] == r["second"] == ["FINISHED"], out[-3000:]
    m1, m2 = r["models"]
    assert m1 != m2 and r["first_kept"], r["models"]
    assert "resumed" not in said(out, "second"), said(out, "second")
    assert r["restyle 山"] == r["restyle 川"] == ["FINISHED"]
    a, b = r["results"]
    assert os.path.dirname(a.rstrip("/")) == os.path.dirname(b.rstrip("/")) and ".take" not in a + b, r["results"]
    # the .blend's results folder by its tagged name, not 'actor', which 'カット.blend' would share (a review)
    assert os.path.basename(os.path.dirname(a.rstrip("/"))) not in ("actor", ""), r["results"]
    assert r["new_project"] == ["FINISHED"] and r["new_folder"].startswith("shot_1-"), r["new_folder"]
    legacy = said(out, "legacy")
    assert r["legacy"] == ["FINISHED"] and "resumed from step 2, of //reenact/models/shot_1/" in legacy, legacy
    assert r["legacy_kept"]


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_the_first_save_moves_restyle_models_into_the_project(footage, request, tmp_path, version):
    """Trained in an unsaved file, the restyle model, checkpoint and preview move into
    //reenact/models/<.blend>/ on the first save, the scene's model with them, and the next Train
    resumes (before 2026-12-06 they stayed in the temporary folder, the model pointing there, and
    the next Train started from step 0)."""
    r, out = check("unsaved", footage, request, tmp_path, version)
    assert r["unsaved"] == ["FINISHED"], out[-3000:]
    stem = os.path.basename(r["before"])[:-5]
    assert r["stored"] == "//reenact/models/p/{}.onnx".format(stem), r["stored"]
    assert r["moved"] == sorted([stem + ".onnx", stem + ".ckpt.pt", stem + "_preview.png"]), r["moved"]
    assert not r["old_left"] and r["preview"] == "//reenact/models/p/{}_preview.png".format(stem), r
    saved = said(out, "saved")
    assert r["saved"] == ["FINISHED"] and "resumed from step 2)" in saved, saved
    assert r["model_after"] == r["stored"]


def test_a_version_saved_beside_resumes_the_earlier_ones_training(footage, request, tmp_path):
    """Save As p_v02.blend, then Train: resumes the look trained in p_v01.blend (its checkpoint
    left as it was) and says whose; p_v03.blend with the shot's trim changed: trains from step 0
    and says that the earlier checkpoints hold other frames (before 2026-12-06 a version saved
    beside started from step 0 without a word)."""
    r, out = check("save_as", footage, request, tmp_path)
    assert r["v01"] == ["FINISHED"], out[-3000:]
    v02 = said(out, "v02")
    assert r["v02"] == ["FINISHED"] and "resumed from step 2, of //reenact/models/p_v01/shot_restyle_like_ref_in" \
        "_Scene.ckpt.pt)" in v02, v02
    assert r["v02_model"] == "//reenact/models/p_v02/shot_restyle_like_ref_in_Scene.onnx" and r["v01_kept"]
    v03 = said(out, "v03")
    assert r["v03"] == ["FINISHED"] and "resumed" not in v03, v03
    assert "trained from step 0: //reenact/models/p_v02/shot_restyle_like_ref_in_Scene.ckpt.pt, " \
        "//reenact/models/p_v01/shot_restyle_like_ref_in_Scene.ckpt.pt hold trainings of other frames" in v03, v03
    v04 = said(out, "v04")
    assert r["v04"] == ["ERROR"] and "restyle model already trained to step 3 ≥ Steps 3, the checkpoint of " \
        "//reenact/models/p_v03/shot_restyle_like_ref_in_Scene.ckpt.pt: raise Steps" in v04, v04


def test_the_references_name_the_model_whichever_channels_they_lie_in(footage, request, tmp_path):
    """References 'A' and 'B' name one model in either channel order: moved, Train resumes it and
    Restyle Strip replaces its result (before 2026-12-06 the model was named after the reference
    in the lowest channel: a new model, trained from step 0, and a second result strip)."""
    r, out = check("ref_order", footage, request, tmp_path)
    assert r["first"] == r["restyled"] == ["FINISHED"], out[-3000:]
    assert r["channels"][0] < r["channels"][1], r["channels"]
    a, b = r["models"]
    assert a == b and "_like_A+1-" in a, r["models"]
    moved = said(out, "moved")
    assert r["moved"] == ["FINISHED"] and "resumed from step 2)" in moved, moved
    assert r["restyled_again"] == ["FINISHED"] and len(r["results"]) == 1, r["results"]


def test_a_meta_strip_selected_as_reference_gives_the_footage_it_shows(footage, request, tmp_path):
    """A selected meta strip's footage is reference footage (its muted strips not); one that shows
    no footage is left out with a warning naming it, and a refusal for want of references names it
    (before 2026-12-06 meta strips were left out unsaid)."""
    r, out = check("metas", footage, request, tmp_path)
    assert r["look refs meta"] == [["look", "look2"], []], r
    assert r["refs meta"] == [["look2"], []], r
    meta_note = "the selected meta strip 'titles' shows no movie or image strip: left out of the reference footage"
    assert r["look titles"] == [["look"], [meta_note]], r
    refused = said(out, "titles")
    assert r["titles"] == ["ERROR"] and "select one or more reference movie or image-sequence strips" in refused \
        and "(the selected meta strip 'titles' shows no movie or image strip)" in refused, refused
    assert r["with_titles"] == ["FINISHED"] and meta_note in said(out, "with_titles"), said(out, "with_titles")


def test_two_models_of_one_name_in_other_folders_keep_their_own_results(footage, request, tmp_path):
    """projA/look.onnx and projB/look.onnx on one shot: two result strips, each in a folder of its
    own, and projA's again gives its own strip a new take (before 2026-12-06 they counted as one
    model: projB's result became a take of projA's strip, in projA's folder)."""
    import shutil

    from reenact.restyle.train import train
    from test_restyle import moving_clip, tiny_cfg

    models = tmp_path / "models"
    (models / "projA").mkdir(parents=True)
    train([moving_clip(seed=1)], [moving_clip(seed=2)], str(models / "projA" / "look.onnx"), tiny_cfg(), steps=1,
          resume=False)
    (models / "projB").mkdir()
    shutil.copy(str(models / "projA" / "look.onnx"), str(models / "projB" / "look.onnx"))
    footage = dict(footage, models=str(models))
    r, out = check("same_file_name", footage, request, tmp_path)
    assert r["applied"] == [["FINISHED"]] * 3, out[-3000:]
    (a,) = r["first"]
    assert len(r["second"]) == 2 and a in r["second"], r["second"]
    assert a[0] == "shot Restyled look" and os.path.basename(a[2]).startswith("shot_look-"), a
    b = [s for s in r["second"] if s != a][0]
    assert os.path.basename(b[2]).startswith("shot_look-") and os.path.basename(b[2]) != os.path.basename(a[2]), b
    third = r["third"]
    assert len(third) == 2 and b in third, third
    a2 = [s for s in third if s != b][0]
    assert a2[:2] == a[:2] and a2[2] == a[2] + ".take2", (a, a2)
