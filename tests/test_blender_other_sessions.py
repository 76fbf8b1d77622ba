# SPDX-License-Identifier: GPL-3.0-or-later
"""One Blender session's cleanup leaves what another session (or a job still running) made
(tests/blender_other_sessions_check.py): Train Restyle's refusal, Preview Frame's pruning, a
first save while Train Renderer runs."""

import json
import os

import numpy as np
import pytest

from test_blender_look import _check, _clip30

pytestmark = pytest.mark.blender


def _frames(n, size=48, seed=0):
    """``n`` colour frames (RGB uint8) of a moving pattern."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    return [np.roll(base, k, axis=1) for k in range(n)]


def test_a_refused_train_restyle_leaves_the_links_another_session_made(tmp_path, request):
    """Train Restyle refused removes the reference links it made itself, and leaves a numbered
    sequence another session linked in ``//reenact/restyle_frames`` while its checks ran (before
    the evening of 2026-12-06 every ``seq_*`` that appeared meanwhile was deleted: the other
    session's trainer lost its frames)."""
    import cv2

    from reenact.video import VideoWriter

    shot = str(tmp_path / "shot.mp4")
    with VideoWriter(shot, 24, (48, 48)) as w:
        for f in _frames(12):
            w.write(f)
    os.makedirs(str(tmp_path / "seq"))
    images = []
    for i, f in zip((1, 2, 3, 5, 6), _frames(5, seed=1)):  # a gap: not one numbered run, so linked
        images.append(str(tmp_path / "seq" / "ref_{:04d}.png".format(i)))
        cv2.imwrite(images[-1], f[..., ::-1])
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_other_sessions_check.py", "5.0", request, work, "restyle",
               json.dumps({"shot": shot, "images": images, "work": str(work)}))
    assert "already in colour" in r.get("line", ""), r
    assert len(r["own_linked"]) == 1 and r["own_linked"][0].startswith("seq_"), r  # (its own links, made)
    assert r["left"] == ["seq_" + "0" * 16], r  # its own gone, the other session's kept
    assert r["other_frames"] == ["frame_000000.png"], r


def test_preview_frame_leaves_the_previews_of_other_sessions(tmp_path, carphone, request):
    """Preview Frame claims the image it writes (takes.claim: host and process), and its pruning
    of the preview folder beyond the 16 newest leaves a preview another live session claimed (its
    strip shows it) and one written in the last minutes (an earlier Reenact's, being written or
    just shown), while it removes the others with their claims, a gone session's too (before the
    evening of 2026-12-06 every one no strip of this session showed, and nothing was claimed)."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_other_sessions_check.py", "5.0", request, work, "preview",
               json.dumps({"clip": str(clip), "work": str(work)}))
    assert r["first"] == r["second"] == ["FINISHED"], r
    assert r["claim"] == r["me"], r  # its own image claimed by this session
    kept = {"preview_recent.png", "preview_claimed.png", r["mine"], r["newest"]}
    assert set(r["left"]) == kept, r  # preview_gone.png and preview_old.png removed
    assert set(r["claims_left"]) == {"preview_claimed.png", r["mine"], r["newest"]}, r


def test_a_first_save_while_train_renderer_runs_leaves_its_files_to_the_run(tmp_path, carphone, request):
    """An unsaved file saved while Train Renderer runs: the files the trainer writes stay where it
    writes them, and the save says so; a second run before the next save trains on there (it
    resumes); the next save moves them into the project once, the last checkpoint with them
    (before the evening of 2026-12-06 the first save copied the run's early files and removed
    them under the trainer, whose later steps and model stayed outside the project, and the next
    save copied those under a ``_2`` name)."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_other_sessions_check.py", "5.0", request, work, "train",
               json.dumps({"clip": str(clip), "work": str(work)}))
    assert r["first"] == r["second"] == ["FINISHED"], r
    said = [n for n in r["notes"] if "while it trains" in n]
    assert len(said) == 1 and "the first save after the run moves it" in said[0], r["notes"]
    run = r["runs"][0]
    stem = os.path.splitext(os.path.basename(r["after_run"]["model"]))[0]
    files = sorted([stem + ".ckpt.pt", stem + ".onnx", stem + ".trained_on.json", stem + "_preview.png"])
    assert r["after_run"]["model"] == os.path.join(run, stem + ".onnx"), r["after_run"]
    assert r["after_run"]["old"] == files and r["after_run"]["project"] == [], r["after_run"]
    assert r["runs"] == [run, run], r["runs"]  # the second run trains on where the first left its files
    after = r["after_save"]
    assert after["project"] == [os.path.join("a", f) for f in files], after  # (no _2 copies)
    assert after["model"] == "//reenact/models/a/{}.onnx".format(stem) and after["ckpt"] == "run 2 done", after
    assert not after["old"] and after["notes"] == [], after


def test_a_first_save_while_train_restyle_runs_leaves_its_folder_to_the_run(tmp_path, request):
    """An unsaved file saved while Train Restyle runs: the folder the trainer writes stays where
    it is, and the save says so; the first save after the run moves the model into the project
    and points the scene at it (before the evening of 2026-12-06 the save copied the run's early
    files and removed them under the trainer, whose model then lay outside the project)."""
    from reenact.video import VideoWriter

    shot, look = str(tmp_path / "shot.mp4"), str(tmp_path / "look.mp4")
    for path, seed in ((shot, 0), (look, 3)):
        with VideoWriter(path, 24, (48, 48)) as w:
            for f in _frames(12, seed=seed):
                w.write(f)
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_other_sessions_check.py", "5.0", request, work, "restyle_train",
               json.dumps({"shot": shot, "look": look, "work": str(work)}))
    assert r["result"] == ["FINISHED"], r
    said = [n for n in r["notes"] if "while Train Restyle runs" in n]
    assert len(said) == 1 and "the first save after the run moves them next to the .blend" in said[0], r
    assert any(n.endswith(".ckpt.pt") for n in r["old_after_save"] or []), r  # (left to the run)
    after = r["after_save"]
    assert after["old"] in (None, []), r
    assert after["model"].startswith("//reenact/models/a/") and any(p.endswith(".onnx") for p in after["project"]), r
