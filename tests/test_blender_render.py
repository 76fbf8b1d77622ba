# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Performance and Preview Frame in the PyPI bpy module (5.0) on carphone: the new strip
sits in the channel above the original with the same start and length, its frames equal a
direct pipeline render frame for frame, the cache re-renders only what changed, Preview Frame
shows the current frame. (Blender 4.5's test venv has no onnxruntime/OpenCV/PyAV: the
extension ships those as wheels, and tests/test_extension.py covers the install there.)"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_render_check.py")


def test_render_performance_and_preview_blender_5(carphone, tmp_path):
    res = subprocess.run([sys.executable, CHECK, json.dumps({"clip": carphone, "out": str(tmp_path)})],
                         capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["blender"].startswith("5.0")
    # failures: one line, nothing added
    assert "save the .blend first" in r["unsaved_error"] and r["unsaved_unchanged"]
    assert "outside strip 'carphone'" in r["range_error"]
    # the new strip: channel above, same start and length, next to the .blend
    assert r["new_strips"] == 1
    ch, start, dur = r["orig"]
    assert r["new"] == [ch + 1, start, dur, "IMAGE"]
    assert r["folder_rel"].startswith(os.path.join("reenact", "renders"))
    assert r["provider"] == "CPUExecutionProvider"
    # frame for frame: the strip shows exactly the pipeline's frames; outside the range, the footage
    assert r["frame_exact_max_diff"] == 0 and r["outside_range_is_footage"]
    assert r["changed_in_range"] == 12
    # a render of frames without an edit says so, and names the actor this one dubs (a compositor
    # rendered the dubbing actor, active after Track Actor, and got the footage without a word)
    before, after = res.stdout.split("--- the render of frames without edits")
    assert "has no edits on these frames" not in before
    assert ("has no edits on these frames: the result is its footage, and it drives the mouth of 'dubbed actor': "
            "make that actor active to render the dub") in after, after[-2000:]
    # cache: a second render renders nothing; one edited key (clip frame 15, window 11) re-renders 15..21
    assert r["counts_1"] == [12, 0] and r["counts_2"] == [0, 12] and r["counts_3"] == [7, 5]
    assert r["strips_after_rerender"] == 1  # replaced, not stacked
    # lossless movie: replaces the image-sequence result in place (one result per actor and region)
    assert len(r["movie"]) == 1 and r["movie"][0][:3] == [ch + 1, start, dur] and r["movie"][0][3].endswith(".mkv")
    # Output ProRes Movie: a .mov in ProRes 422 HQ, 10-bit 4:2:2, every frame of the strip
    assert r["prores"][0] == 1 and r["prores"][1].endswith(".mov")
    assert r["prores"][2:5] == ["prores", "HQ", "yuv422p10le"]
    assert r["prores"][5] == 120, r["prores"]
    # Preview Frame: a one-frame strip at the current frame, equal to the pipeline's frame
    # (within a level: Preview Frame evaluates only the window's rows of the edited curves
    # (layers.performance_rows), the direct render all of them (curves_to_track); given the same
    # Track, render_frame equals render_clip exactly: test_compositing)
    assert r["preview_strip"][:2] == [start + 42, 1] and r["preview_max_diff"] <= 1 and r["preview_changed"]
    assert r["preview_head_max_diff"] <= 1  # Preview Frame offers the head region too
    # Draw From Frames: Preview Frame draws an outside frame's face from them, as the render does;
    # a range outside the clip is one line
    assert r["preview_reference_max_diff"] <= 1 and r["reference_changes_the_face"]
    assert r["reference_error"] and "Draw From Frames" in r["reference_error"], r["reference_error"]
    v = r["verify"]  # Verify Strip: the render is marked over the strip's frames and signed
    assert v["detected"] and v["manifest_valid"] and v["scene_ranges"]
    assert v["strip"][0] <= v["scene_ranges"][0][0] and v["scene_ranges"][-1][1] <= v["strip"][1]
    assert r["verify_original_detected"] is False
    assert all(ms > 0 for ms in r["preview_ms"])  # its speed: bench/render_path.py


def test_every_actor_of_a_strip_in_one_render(carphone, tmp_path):
    """Render Performance with Every Actor of the Strip: a two-shot's two actors in one result
    strip, frame for frame the pipeline's several-actor render, each actor's change on its half;
    the same from a render farm's chunks and Assemble Render, and in Preview Frame."""
    check = os.path.join(ROOT, "tests", "blender_actors_check.py")
    res = subprocess.run([sys.executable, check, json.dumps({"clip": carphone, "out": str(tmp_path)})],
                         capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["strips_after_chunks"] == 0  # a farm's chunk adds no strip; Assemble Render adds the one
    assert r["farm_strips"] == ["two Reenact Face (all actors)"] and r["farm_max_diff"] == 0
    assert r["farm_record"] == {"key_is_chunks": True, "options": {
        "mouth": "AUTO", "detail": True, "keep_front": True, "use_reference": False, "reference_first": 1,
        "reference_last": 250, "job_id": ""}}, r["farm_record"]  # (the chunks' key and options, kept on the assembled result)
    assert r["actors"] == 2 and r["new_strips"] == 1 and r["all_strip"][1:] == [1, 30]
    assert r["frame_exact_max_diff"] == 0
    assert all(left > 20 and right > 20 for left, right in r["changed_halves"]), r["changed_halves"]
    assert r["strips_after_single"] == 2  # the actor alone: a strip of its own beside the shared one
    assert r["preview_all"] == [0, 0, 0]  # Preview Frame of every actor: the render's frame exactly
    # ... whichever actor is active (before 2026-12-06 the active one first: up to 11 levels off)
    assert r["preview_all_second"] == [0, 0, 0], r
    assert r["preview_one"][0] > 3 and min(r["preview_one"][1:]) == 0 and max(r["preview_one"][1:]) > 20  # one half


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_track_again_keeps_each_actor_of_a_two_shot(carphone, tmp_path, version, request):
    """Track Again, Keeping Edits on a two-actor strip (tests/blender_two_track_check.py; each
    point failed before 2026-12-06, a review of two-actor shots)."""
    from test_blender_look import _check

    r = _check("blender_two_track_check.py", version, request, tmp_path, carphone, tmp_path)
    before, after = r["before"], r["after"]
    assert sorted(before) == ["two Reenact Mouth (Alice)", "two Reenact Mouth (Bob)"], before
    # the faces found in the other order: Bob is actor 0 now, and his render is his own result strip's
    # new take; Alice's keeps hers (before: Bob's take went into 'two Reenact Mouth (Alice)')
    assert r["indices"] == {"Alice": 1, "Bob": 0}, r["indices"]
    assert after["two Reenact Mouth (Alice)"] == before["two Reenact Mouth (Alice)"], after
    bob = after["two Reenact Mouth (Bob)"]
    assert bob[0] == "Bob" and bob[1] != before["two Reenact Mouth (Bob)"][1] and len(after) == 2, after
    assert len(set(r["keys"].values())) == 2, r["keys"]
    assert r["driver_is_bob"]  # (Alice's dub still driven by Bob: before, by herself, found by Bob's old index)
    # the scene's Actors at 1: both faces tracked again, each actor kept (before: "actor 'Bob' has edits, and
    # tracking 'two' again found no face where it was"; Bob without edits deleted unsaid)
    assert r["keep_one"] == ["FINISHED"] and r["after_keep_one"] == [["Alice", 0], ["Bob", 1]], r
    said = r["_stdout"].split("KEEP ONE")[-1].split("KEEP DONE")[0]
    assert "2 faces looked for, one for each of the strip's 2 actors (the Actors setting says 1)" in said, said
    assert r["keep_unedited"] == ["FINISHED"] and r["after_keep_unedited"] == [["Alice", 0], ["Bob", 1]], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_every_actor_of_a_two_shot_is_warned_for(carphone, tmp_path, version, request):
    """Render Performance with Every Actor of the Strip (tests/blender_two_render_check.py; each
    point failed before 2026-12-06, a review of two-actor shots)."""
    from test_blender_look import _check

    r = _check("blender_two_render_check.py", version, request, tmp_path, carphone, tmp_path)
    a, b = r["names"]
    # actor 1 active: each actor's notes, naming it (before: the active actor's alone)
    mouth = r["_stdout"].split("NOTES MOUTH")[-1].split("NOTES HEAD")[0]
    assert r["notes_mouth"] == ["FINISHED"], r["notes_mouth"]
    for n in (a, b):
        assert "jawOpen of '{}' keyed outside 0..1 on frame(s) 11-14".format(n) in mouth, mouth
    assert "'{}': the performance turns the head up to".format(a) in mouth, mouth
    assert "'{}': the performance turns".format(b) not in mouth, mouth
    # region Head: actor 0's pose no frame shows, said with actor 1 active (before: the last pass's alone)
    head = r["_stdout"].split("NOTES HEAD")[-1].split("NOTES PREVIEW")[0]
    assert r["notes_head"] == ["FINISHED"], r["notes_head"]
    assert "'{}': frames 12-13 ask for a head pose no frame of the shot shows".format(a) in head, head
    # Preview Frame of every actor at frame 12, actor 1 active: both actors' keys and actor 0's head pose (before
    # 2026-12-06: the last actor's keys alone, actor 1's lost, and actor 0's head pose unsaid)
    preview = r["_stdout"].split("NOTES PREVIEW")[-1].split("NOTES DONE")[0]
    assert r["notes_preview"] == ["FINISHED"], r["notes_preview"]
    for n in (a, b):
        assert "jawOpen of '{}' keyed outside 0..1 on frame(s) 12".format(n) in preview, preview
    assert "'{}': frame 12 asks for a head pose no frame of the shot shows".format(a) in preview, preview
    # the whole shot with actor 1 active, then actor 0: the same pixels, and Render Edited Actors finds each up to
    # date (before: passes in the active actor's order, and the shot rendered again)
    assert r["take_frames"][0] == r["take_frames"][1] > 0 and r["takes_differ"] == 0, r
    for n in (a, b):
        assert r["edited_after_" + n] == ["CANCELLED"], r["edited_after_" + n]
    key = r["_stdout"].split("KEY\n")[-1].split("KEY DONE")[0]
    assert key.count("up to date, not rendered again") == 2, key[-3000:]
    # a reversed strip: the cut and the hand named where the strip shows clip frames 10-11 (before: counted from
    # its start, frames 11-12)
    assert r["reversed"] == ["FINISHED"] and sorted(r["reversed_at"]) == [9, 10], r
    rev = r["_stdout"].split("REVERSED\n")[-1].split("REVERSED DONE")[0]
    assert "frames 9-10: an actor's render reached into another actor's head" in rev, rev[-3000:]
    assert "'{}': frames 9-10: a hand stands in front of the face".format(a) in rev, rev[-3000:]


def test_a_moved_project_keeps_its_results_up_to_date(tmp_path, carphone, carphone_track):
    """Render Edited Actors' key of a render (what a result strip records) names the actor's
    renderer by its contents and the footage by names, sizes and whole-second times: a project
    folder moved or copied whole (cp -a), or the bundled base found in another Blender version's
    extensions folder, keeps its results up to date (before 2026-12-06 the renderer's absolute
    path and times to the nanosecond: every shot was rendered again). A renderer or footage
    changed is another key; a key made before still matches where nothing moved."""
    from conftest import printed

    for name, src in (("shot.mp4", carphone), ("mine.onnx", os.path.join(ROOT, "models", "renderer_base.int8.onnx"))):
        os.makedirs(tmp_path / "a", exist_ok=True)
        shutil.copy2(src, tmp_path / "a" / name)
    carphone_track.save(str(tmp_path / "a" / "shot.npz"))
    line = printed("""
import os, shutil
from types import SimpleNamespace as S
from reenact.blender.render_key import render_key
from reenact.face.track import Track

def key(folder, legacy=False):
    t = Track.load(os.path.join(folder, "shot.npz"))
    op = S(region="mouth", mouth="AUTO", detail=True, keep_front=True, output="IMAGES", lossless=False,
           use_reference=False, job_id="")
    return render_key(op, os.path.join(folder, "shot.mp4"), (0, 10),
                      [{{"track": t, "crop_track": t, "model": os.path.join(folder, "mine.onnx")}}], legacy)

a, b, c = ({a!r}, {b!r}, {c!r})
first, old, old_again = key(a), key(a, True), key(a, True)
os.rename(a, b)
moved, old_moved = key(b), key(b, True)
shutil.copytree(b, c, copy_function=shutil.copy)  # (a copy with new times: the renderer's contents decide;
shutil.copy2(os.path.join(b, "shot.mp4"), os.path.join(c, "shot.mp4"))  # the footage copied with its times)
copied = key(c)
with open(os.path.join(c, "mine.onnx"), "ab") as f:
    f.write(b"x")
print("KEYS", first == moved, old == old_moved, copied == first, key(c) == copied, old == old_again)
""".format(a=str(tmp_path / "a"), b=str(tmp_path / "b"), c=str(tmp_path / "c")), "KEYS")
    # moved: the same key (the old form changed); copied with the footage's times kept: the same;
    # the renderer changed: another; the old form is stable where nothing moved
    assert line == "KEYS True False True False True", line
