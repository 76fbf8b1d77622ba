# SPDX-License-Identifier: GPL-3.0-or-later
"""A result strip shows the shot strip's pixels where and as the shot strip does: its sequencer
transform (Scale to Fit, moved, turned, a keyframed push-in), crop, mirror and colour settings
(blender/blend.py: match_look). Before 2026-12-05 a render of a reframed shot landed at the
footage's own size in the frame's middle, beside the shot it was meant to cover."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_py

pytestmark = pytest.mark.blender


def _check(script, version, request, tmp_path, *args, timeout=600):
    """Run tests/``script`` in Blender ``version`` (5.0 here, 4.5 through the fixture) with
    ``args``; its RESULT line as a dict."""
    py, env = (sys.executable, dict(os.environ)) if version == "5.0" else request.getfixturevalue("blender45")
    res = subprocess.run([py, os.path.join(ROOT, "tests", script), *map(str, args)], capture_output=True, text=True,
                         timeout=timeout, cwd=str(tmp_path), env=env)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert "{}.{}".format(*r["version"][:2]) == version
    r["_stdout"] = res.stdout  # (what the operators reported: background Blender prints it)
    return r


def _clip30(carphone, tmp_path):
    """carphone's first 30 frames as a 30 fps movie (a clip of another rate than a 25 fps scene)."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    clip = tmp_path / "shot30.mp4"
    with open_video(carphone) as src, VideoWriter(str(clip), 30, (src.width, src.height)) as out:
        for i in range(30):
            out.write(src.read(i))
    return clip


def _footage_pngs(clip, folder):
    """The result of a render that changed nothing: ``clip``'s frames as the frame folder."""
    import cv2

    from reenact.video import open_video

    folder.mkdir()
    with open_video(clip) as src:
        for i, f in src.iter_frames():
            cv2.imwrite(str(folder / "frame_{:06d}.png".format(i)), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return folder


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_result_and_preview_strips_take_the_shot_strips_look(tmp_path, carphone, version, request):
    folder = _footage_pngs(carphone, tmp_path / "render")
    r = _check("blender_look_check.py", version, request, tmp_path, carphone, folder, tmp_path)
    assert r["fit_scale"] > 1.5 and min(r["shot_mean"]) > 20  # the shot fills the frame, scaled up
    # the same pictures, framed as the shot: within the two decoders' rounding (mean levels)
    assert max(r["result_vs_shot"]) < 1.5 and r["preview_vs_shot"] < 1.5, r
    assert r["plain_vs_shot"] > 15, r  # without the shot strip's look it lies elsewhere
    assert r["note"] == "", r
    # above the shot (channel 2), past the muted channel 3 and the locked channel 5 (before
    # 2026-12-05 the result went into the muted channel and never showed)
    assert r["result_channel"] == 4 and r["preview_channel"] == 6, r
    assert r["preview_keys"] == 2 and r["preview_keys_left"] == 0, r  # scale x and y, removed with it
    assert "blends (ALPHA_OVER, 50%)" in r["note_after"], r
    if r["version"][0] < 5:
        assert "modifiers (Grade)" in r["note_after"] and "Copy to Selected" in r["note_after"], r
    # since 2026-12-05: the multiply's alpha carried, a keyed fade named (it was lost unsaid), a
    # muted shot's result muted (it showed over what the editor chose)
    assert r["multiply_alpha"], r
    assert "opacity is keyed (a fade)" in r["note_fade"] and not r["unmuted_result_mute"], r
    assert r["muted_result_mute"], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_shot_inside_a_meta_strip_gets_its_result_inside_it(tmp_path, carphone, version, request):
    """Editors nest cuts in meta strips; the meta's framing must reach the result (before
    2026-12-05 it went to the top level, framed as the bare footage)."""
    folder = _footage_pngs(carphone, tmp_path / "render")
    r = _check("blender_meta_check.py", version, request, tmp_path, carphone, folder, tmp_path)
    assert r["result_in"] == "Cut" and r["result_channel"] == 2, r
    assert r["shot_mean"] > 20
    assert r["result_vs_shot"] < 1.5 and r["preview_vs_shot"] < 1.5, r
    assert r["top_level_vs_shot"] > 10, r  # where it went before: outside the meta's framing
    assert r["results_after_second"] == 1 and r["second_in"] == "Cut" and r["second_channel"] == 2, r
    assert r["preview_in"] == "Cut" and r["previews_removed"] == 1, r
    assert r["strips_left"] == ["Cut", "shot", "shot Reenact Face", "under"], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_result_lies_under_the_titles_and_grade_above_its_shot(tmp_path, carphone, version, request):
    """Edits carry titles over part of a shot and a grade's adjustment layer over all of it.
    The result strip and a preview go directly above the shot, under them (a channel inserted,
    headers moved with their strips), so the sequencer shows exactly what it showed with the
    shot; before 2026-12-05 the result went above both, hid the title and lost the grade (26
    and 29 levels off at the two frames)."""
    import cv2

    from reenact.video import open_video

    shot = tmp_path / "shot"
    shot.mkdir()
    with open_video(carphone) as src:
        for i in range(12):
            cv2.imwrite(str(shot / "shot_{:04d}.png".format(i + 1)), cv2.cvtColor(src.read(i), cv2.COLOR_RGB2BGR))
    folder = tmp_path / "render"  # a render that changed nothing: the shot's own frames
    folder.mkdir()
    for i, name in enumerate(sorted(os.listdir(shot))):
        shutil.copy(shot / name, folder / "frame_{:06d}.png".format(i))
    r = _check("blender_stack_check.py", version, request, tmp_path, shot, folder, tmp_path)
    assert r["shown_vs_shot"] == {"2": 0.0, "5": 0.0}, r
    res = r["result"]
    assert (res["channel"], res["title"], res["grade"]) == (2, 3, 4), r
    assert res["headers"] == ["Channel 2", "Titles", "Channel 4"] and res["locked"] == [False, True], r
    assert res["note"] == "channel 2 and those above moved up one so that it lies directly under 'Title' as the shot did"
    pv = r["preview"]  # above the result, under the title
    assert (pv["result"], pv["channel"], pv["title"], pv["grade"]) == (2, 3, 4, 5), r
    # the preview gone, the channel inserted for it is given back: the title, the grade and their
    # headers where the result left them (before 2026-12-06 a preview moved them up for good)
    assert r["after_preview"] == {"title": 3, "grade": 4, "result": 2, "headers": ["Channel 2", "Titles", "Channel 4"],
                                  "locked": [False, True]}, r
    assert r["again"] == {"channel": 2, "title": 3, "note": ""}, r  # replaced in place, nothing moved
    assert r["effect_note"] == ("effect strip 'Soften' takes the shot strip as input and lies over the result: set "
                                "its input to the result strip"), r
    # the shot moved 5 frames later and trimmed: its result follows (before 2026-12-05 it stayed,
    # over whatever came there); a result moved by hand stays where it was put
    assert r["followed"]["result"] == r["followed"]["shot"] == [6, 16, 6], r
    assert r["by_hand"] == [7, 17, 7], r
    assert r["preview_moved_to"] == 13, r  # a Preview Frame strip of clip frame 7 moves with the shot
    assert r["with_duplicate"]["result"] == r["with_duplicate"]["shot"] == [4, 14, 4], r  # (a copy elsewhere)
    # the shot's sound directly above it is passed over, not pushed up (it draws nothing)
    # a reversed shot trimmed at its end hides clip frames 0-1: a render and Track Actor cover the frames it
    # shows (before 2026-12-06 the frames it hides, and its result showed the footage on the others)
    span, seen, trimmed = r["reversed_span"]
    assert trimmed == 2 and span == seen and span[0] == 2, r["reversed_span"]
    assert r["over_sound"] == {"result": 2, "sound": 1, "note": ""}, r
    # reversed and strobed: the clip frame Blender shows is the one Preview Frame previews
    assert all(seen == ours for seen, ours in r["shown"]) and len({s for s, _ in r["shown"]}) == 3, r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_reenact_works_on_the_sequencers_scene(tmp_path, carphone, version, request):
    """Blender 5.0's sequencer shows a scene of its own, which need not be the window's. Before
    2026-12-05 Reenact's operators took the window's scene (Track Actor: "Select a movie or image
    strip"), and an actor's curves read in a scene the window did not show were stuck at one
    frame (Preview Frame failed in OpenCV), and did not follow its strip moved there. 4.5 (the
    sequencer shows the window's scene) checks the curves of an actor whose scene the window left."""
    import cv2

    from reenact.video import open_video

    frames = tmp_path / "frames"
    frames.mkdir()
    with open_video(carphone) as src:
        for i in range(12):
            cv2.imwrite(str(frames / "shot_{:04d}.png".format(i + 1001)), cv2.cvtColor(src.read(i), cv2.COLOR_RGB2BGR))
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_scene_check.py", version, request, work, frames, work)
    # the footage behind the actor's camera: a plate numbered from 1001 shows its first file at
    # the strip's first frame (before 2026-12-05 the background looked for file 1: nothing)
    assert r["background"] == [1, 1000, 12], r
    assert r["sequencer_scene"] == "Edit" and r["window_scene"] == "Layout", r
    assert r["track"] == ["FINISHED"] and r["preview"] == ["FINISHED"], r
    assert r["actors"] == {"Edit": ["shot Actor 0"], "Layout": []}, r
    # a face render beside the mouth render: one frame folder and one result strip each (before
    # 2026-12-05 one folder per actor: the face render wrote over the mouth render and replaced
    # its strip)
    assert r["render_mouth"] == ["FINISHED"] and r["render_face"] == ["FINISHED"], r
    assert r["folders"] == {"shot_Actor_0_face": 12, "shot_Actor_0_mouth": 12}, r
    assert r["face_note"] == "it lies over 'shot Reenact Mouth' and hides it: mute one to see the other", r
    assert r["strips"] == {"Edit": ["shot", "shot Reenact Face", "shot Reenact Mouth"], "Layout": []}, r
    assert r["jaw_range"] > 0.1 and r["curves_vs_track"] < 1e-4, r  # (5.0 before: 1.0 off)
    if version == "5.0":  # a strip moved in the sequencer's scene takes its actor's curves along
        assert r["followed"] == [11, 11] and r["background_followed"] == [11, 1000], r  # (the footage too)
        # Transfer Performance lists the sequencer scene's actors (before 2026-12-05 the window
        # scene's, none here: its dialog and the Transfer & Edit panel failed on setting the actor)
        assert r["transfer_actors"] == ["shot Actor 0"], r
        # the Renderer panel offers its buttons for the scene's one actor, as the operators take it
        # (before: "Make a tracked actor active", the window's scene having no active actor)
        assert r["renderer_panel"][:2] == ["reenact.train_renderer", "reenact.render_performance"], r
        assert r["make_active"] == ["FINISHED"], r
        # View Actor Camera shows the actor's scene in the window, the sequencer keeping its own
        assert r["view_camera"] == ["FINISHED"] and r["window_after_camera"] == "Edit", r
        assert r["sequencer_after_camera"] == "Edit", r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_shot_extended_after_tracking_says_which_frames_are_not_tracked(tmp_path, carphone, version, request):
    """Editors extend shots after tracking. Before 2026-12-05 Render Performance then kept the
    extension as the footage without a word, and Preview Frame there said only that the frame
    was outside the actor's clip; now the render names the frames its actor's Track does not
    cover and Preview Frame says to track again, and Track Again, Keeping Edits takes the
    extension without losing the animator's keys (before 2026-12-05: refused, or the keys
    dropped)."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_extend_check.py", version, request, work, clip, work)
    assert r["render"] == ["FINISHED"], r
    # the first Track Actor set the scene to the footage's size and said so (before 2026-12-06 silently)
    assert ("the scene's resolution was 352x288 at 50 %, now 176x144 as the footage, so that the actors' camera "
            "frames it") in r["_stdout"], r["_stdout"][-3000:]
    assert r["note"] == ("strip 'shot' shows frames 21-30 that its actor's Track does not cover (tracked: 1-20); "
                         "they stay the footage as it is: Track Again, Keeping Edits (Track panel) includes them"), r
    assert r["preview"].endswith("frame 25 is outside the actor's Track (frames 1..20): the strip was extended after "
                                 "tracking; Track Again, Keeping Edits (Track panel) includes it"), r
    # tracking again would drop the animator's key: refused (before 2026-12-05 it was dropped without
    # a word)
    assert r["retrack"].endswith("actor 'shot Actor 0' has edits on 1 frame(s) (5-5: keys or a transfer) that "
                                 "tracking again would replace; Track Again, Keeping Edits carries them onto the new "
                                 "tracking, Track Again, Replacing Edits drops them (Track panel)"), r
    assert r["key_kept"] == ["shot Actor 0"], r
    # Keep Edits: the new actor covers the whole shot, its edits exactly the old ones (the key at 5, the
    # head keyed at 8-9), the tracking everywhere else; the transfer's record of driving frames moved to
    # the new rows; the renderer kept; the old camera kept (estimated again over 30 frames instead of 20
    # the sample clip's focal length comes out 36 % longer, and the keyed head would sit in another camera)
    k = r["kept"]
    assert r["retrack_keeping"] == ["FINISHED"] and k["actors"] == 1 and k["name"] == "shot Actor 0", r
    assert k["rows"] == 30 and k["note"] == "" and k["panel"] == "" and k["layers"] is True, r
    assert r["panel"] == "21-30", r  # the Track panel's "Frames 21-30 are not tracked" before
    assert k["edited"] == [5, 8, 9] and k["jaw5"] == 0.9 and k["rest_off"] < 1e-4, r
    assert k["model"] == "//models/fine.onnx" and k["driver"] == "driver", r
    assert k["driver_rows"] == [float(i) for i in range(20)] + [-1.0] * 10, r
    assert k["focal"] == 1.0, r
    assert r["reset_edited"] == [8, 9], r  # Reset to Tracked works on the carried edits
    # the Track file gone: Track Again and Keeping Edits refuse to drop what they cannot compare
    # (before 2026-12-05 the actor and its edits were replaced without a word)
    for key in ("retrack_no_track", "retrack_keeping_no_track"):
        assert "actor 'shot Actor 0': its Track file cannot be read" in r[key] and "Replacing Edits" in r[key], r
    assert r["actors_no_track"] == ["shot Actor 0"], r
    # Replace Edits: a fresh actor; the renderer kept (it belongs to the footage, not to the tracking)
    assert r["retrack_replacing"] == ["FINISHED"], r
    assert r["after"] == {"actors": 1, "rows": 30, "model": "//models/fine.onnx", "note": ""}, r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_shot_cut_in_pieces_is_rendered_and_shown_over_every_piece(tmp_path, carphone, version, request):
    """Editors cut shots (Strip ▸ Split) and put other shots between the pieces. Before
    2026-12-05 Render Performance rendered only the piece that kept the strip's name, the result
    followed that piece alone (cut with its shot, the result's second piece jumped onto the
    first), and Preview Frame over a moved piece previewed the clip frame the first piece would
    show there. Now every piece of the shot is rendered and shows the result, each result keeps
    to its piece, and a preview shows the piece's own clip frame."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_pieces_check.py", version, request, work, clip, work)
    assert r["pieces"] == [["shot", [1, 16, 1]], ["shot.001", [26, 41, 11]]], r
    assert r["render"] == ["FINISHED"], r
    assert r["results"] == [["shot Reenact Mouth", 2, [1, 16, 1], "shot"],
                            ["shot Reenact Mouth.001", 2, [26, 41, 11], "shot.001"]], r
    assert min(r["changed"].values()) > 3.0, r  # the jaw keys changed both clip frames
    # over each piece the sequencer shows the render of the clip frame that piece shows
    for f, k in (("5", 4), ("30", 19)):
        assert r["shown"][f][0] == k and r["shown"][f][1] < 0.5 < 3.0 < r["shown"][f][2], r
    assert r["preview"] == ["FINISHED"], r
    assert r["preview_at"][:2] == [30, True] and r["preview_at"][2] < 0.5 < 3.0 < r["preview_at"][3], r
    # cut together with its shot and moved with it, a result's piece stays on the shot's piece
    assert r["cut_together"] == [["shot Reenact Mouth", 2, [1, 8, 1], "shot"],
                                 ["shot Reenact Mouth.002", 2, [10, 18, 3], "shot.002"],
                                 ["shot Reenact Mouth.001", 2, [26, 41, 11], "shot.001"]], r
    # a copy the editor removed is not made again when the shot changes
    assert r["copy_removed"] == [["shot Reenact Mouth", 2, [2, 8, 1], "shot"],
                                 ["shot Reenact Mouth.002", 2, [10, 18, 3], "shot.002"]], r
    # tracked again (Keep Edits), the shot keeps its pieces and the results stay where they are;
    # the Track covers every piece (clip frames 1-29: the first piece trimmed by one)
    assert r["retrack"] == ["FINISHED"], r
    assert r["retracked"] == {"pieces": ["shot", "shot.002", "shot.001"], "results": r["copy_removed"],
                              "rows": [1, 29]}, r
    # rendered again as a movie: a movie strip over each piece but the one whose copy the editor
    # removed, and said (before 2026-12-06 made again by every render)
    assert r["movie"] == ["FINISHED"], r
    assert r["movie_results"] == [["shot Reenact Mouth", "MOVIE", [2, 8, 1], "shot"],
                                  ["shot Reenact Mouth.001", "MOVIE", [10, 18, 3], "shot.002"]], r
    assert "no result made again over 'shot.001' (its copy was removed by hand" in r["_stdout"], r["_stdout"][-3000:]
    # two pieces deleted: their results left where they were, not moved onto the piece left
    assert r["piece_deleted"] == [[n, 2, sp, p] for n, _t, sp, p in r["movie_results"]], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_the_edits_render_is_signed_when_it_shows_reenact_strips(tmp_path, version, request):
    """Blender's render of the sequencer to an MP4 (the editor's cut) that shows a Reenact result
    is signed: c2pa.edited, compositeWithTrainedAlgorithmicMedia, the strip and its timeline
    frames; with the result muted nothing is signed; a Matroska render says it cannot be (before
    2026-12-05 no render of the edit was signed). Rendered to PNG or JPEG frames (a farm's
    output), each frame that shows the result is signed and the footage's own frames are not;
    OpenEXR frames say they cannot be (before: image frames were never signed)."""
    import cv2
    import numpy as np

    frames, result, work = (tmp_path / n for n in ("shot", "result", "work"))
    for d in (frames, result, work):
        d.mkdir()
    for i in range(12):
        a = np.full((144, 176, 3), 20 * i, np.uint8)
        cv2.imwrite(str(frames / "{:04d}.png".format(i)), a)
        cv2.imwrite(str(result / "frame_{:06d}.png".format(i)), 255 - a)
    r = _check("blender_signing_check.py", version, request, work, frames, result, work)
    assert r["shown"] == [["shot Reenact Mouth", 5, 12]], r
    s = r["signed"]
    assert s["valid"] and s["line"].startswith(s["file"] + ": signed (C2PA, 1 Reenact strip(s) in it"), r
    edited = s["actions"][-1]
    assert edited[:2] == ["c2pa.edited", "compositeWithTrainedAlgorithmicMedia"], r
    # a movie's manifest says where its own frames begin, and the strip's frames in it (counted from
    # 0, as `reenact verify` counts them; before 2026-12-06 timeline frames alone)
    assert edited[2]["synthesised"] == [{"strip": "shot Reenact Mouth", "frames": "5-12", "file_frames": "4-11",
                                         "actor": "shot Actor 0", "region": "mouth"}], r
    assert (edited[2]["first_frame"], edited[2]["fps"]) == (1, 24.0), r
    # a muted result drawn through a dissolve is signed over the dissolve; one at opacity 0 is not
    # signed (before 2026-12-06 the first was not signed, the second was)
    assert r["through_effect"]["present"], r
    assert [(x["strip"], x["frames"]) for x in r["through_effect"]["synthesised"]] == [("shot Reenact Mouth", "5-12")], r
    assert r["no_opacity"] == {"line": None, "present": False}, r
    # the edit in another scene, the shot's scene cut in with a scene strip from frame 101: signed,
    # in the edit's frames (before: not signed, unsaid)
    sc = r["scene_strip"]
    assert sc["present"] and sc["line"].startswith("edit_0101-0112.mp4: signed"), r
    assert sc["parameters"]["synthesised"] == [{"strip": "shot Reenact Mouth", "frames": "105-112",
                                                "file_frames": "4-11", "actor": "shot Actor 0",
                                                "region": "mouth"}], r
    assert sc["parameters"]["first_frame"] == 101, r
    assert r["muted"] == {"line": None, "present": False}, r
    assert r["mkv"]["line"].startswith(r["mkv"]["file"] + ": not signed: C2PA is written into MP4 and MOV"), r
    assert r["still"] == {"line": None, "present": False}, r  # a still render signs no earlier movie
    # image frames: the 8 frames showing the result signed, frames 1-4 (the footage alone) not
    for fmt in ("png", "jpeg"):
        f = r["frames_" + fmt]
        assert f["exist"] == [True] * 12, r
        assert f["signed"] == [False] * 4 + [True] * 8 and f["valid"] == f["signed"], r
        five, twelve = (f["file"].replace("0001", n) for n in ("0005", "0012"))
        assert f["line"].startswith("{} to {}: 8 frame(s) showing 1 Reenact strip(s) signed (C2PA".format(five, twelve)), r
        assert [p and p["frame"] for p in f["parameters"]] == [None] * 4 + list(range(5, 13)), r
        assert f["parameters"][4]["synthesised"] == [{k: v for k, v in x.items() if k != "file_frames"}
                                                     for x in edited[2]["synthesised"]], r
    assert r["write_still"] == {"2": [True, False, None], "7": [True, True, "cut_.png: 1 frame(s) showing 1 "
                                 "Reenact strip(s) signed (C2PA; " + f["line"].split("(C2PA; ")[1]]}, r
    # signed by a worker thread, as Blender's UI does since 2026-12-06: the same files, the same record
    th = r["thread_png"]
    assert th["signed"] == r["frames_png"]["signed"] and th["parameters"] == r["frames_png"]["parameters"], r
    assert th["line"] == r["frames_png"]["line"].replace("frames_png", "thread_png"), r
    assert r["frames_open_exr"]["signed"] == [False] * 12, r
    assert r["frames_open_exr"]["line"].startswith("cut_0005.exr to cut_0012.exr: not signed: C2PA is "
                                                   "written into PNG and JPEG frames"), r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_render_edited_actors_renders_each_edited_shot_into_its_strip(tmp_path, carphone, version, request):
    """A compositor's reel: Render Edited Actors renders every actor with edits, one shot after
    the other in one job, each into its own result strip over its shot (a two-shot's actors
    together), and leaves an actor without edits alone (before 2026-12-05: one Render
    Performance per shot)."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_batch_check.py", version, request, work, clip, work)
    # nothing to do is said, not an error pop-up (before 2026-12-06 an ERROR)
    assert r["no_edits"] == ["CANCELLED"], r
    assert r["track_paths"] == ["//reenact/"], r  # (before 2026-12-06 absolute: a copy read the original's)
    assert r["appended_reads_made"] is True, r  # (appended elsewhere: read where it was made)
    assert "Info: Reenact: no actor of scene 'Scene' has edits (keys or a transfer): nothing to render" in r["_stdout"]
    assert r["render"] == ["FINISHED"], r
    assert r["results"] == [["shot A Reenact Mouth", 2, 1, 31, "shot A Actor 0"],
                            ["shot B Reenact Mouth", 2, 31, 61, "shot B Actor 0"],
                            ["shot D Reenact Mouth (all actors)", 2, 91, 121, "*shot D"]], r  # none over shot C;
    # the two-shot's actors in one result, so that neither hides the other
    assert min(r["changed"].values()) > 1.0, r  # each edited frame rendered
    # an edited actor whose strip is gone is left out, and said so
    assert "Warning: Reenact: actor 'shot E Actor 0' left out: the strip 'shot E' of actor 'shot E Actor 0' is gone" \
        in r["_stdout"], r["_stdout"][-3000:]
    # since 2026-12-06: run again with nothing changed, every shot is up to date (before, a new take
    # of every shot, each a full copy)
    assert r["unchanged"] == ["CANCELLED"], r
    assert "Info: Reenact: nothing to render: every edited actor's result is up to date" in r["_stdout"], r
    assert ("Info: Reenact: up to date, not rendered again (the result strip shows a render of this performance): "
            "'shot A Actor 0', 'shot B Actor 0', 'shot D Actor 0'") in r["_stdout"], r["_stdout"][-3000:]
    # a shot that fails its checks is left out in its line and the reel goes on
    # (before, it stopped the reel before any work); a shot whose strip went while the reel
    # rendered is its line, and the others still get their strips, new takes (before, CANCELLED:
    # "nothing was added", with the strips added). (bpy.ops raises on an error line in background
    # mode: the last one is what the call raised)
    assert r["again"].startswith("Error: Reenact: actor 'shot B Actor 0': its render finished, but 'shot B' was "
                                 "renamed or removed while it ran"), r
    assert "Error: Reenact: actor 'shot C Actor 0': " in r["_stdout"] and "gone.mp4" in r["_stdout"], r["_stdout"][-3000:]
    assert "Info: Reenact: rendered 2 shot(s) of edited actors: 'shot A Actor 0', 'shot D Actor 0'" in r["_stdout"], \
        r["_stdout"][-3000:]
    assert r["again_results"] == [["shot A Reenact Mouth", "shot_A_Actor_0_mouth.take2"],
                                  ["shot B Reenact Mouth", "shot_B_Actor_0_mouth"],
                                  ["shot D Reenact Mouth (all actors)", "shot_D_all_actors_mouth.take2"]], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_reel_rendered_again_keeps_what_the_compositor_did_to_its_results(tmp_path, carphone, version, request):
    """Render Edited Actors after a compositor's work on the result strips (a review of
    2026-12-06): each shot rendered again with the options its result was made with, into a
    result trimmed or cut by hand as it was left, a copy deleted by hand not made again, a muted
    shot and a locked result left alone; each said in a line."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_reel_check.py", version, request, work, carphone, work)
    out = r["_stdout"]
    # shot A rendered by hand with other options: up to date in the reel (before: rendered again
    # with the defaults, the compositor's take replaced)
    assert r["by_hand"] == r["reel_1"] == ["FINISHED"], r
    assert ["shot A Reenact Mouth", 2, 1, 13, False, "shot_A_Actor_0_mouth"] in r["results_1"], r
    assert r["options_a"] == r["options_a_3"] == {"mouth": "RENDERER", "detail": False, "keep_front": False,
                                                  "use_reference": False, "reference_first": 1,
                                                  "reference_last": 250, "job_id": "shot42"}, r
    # trimmed by hand to frames 1-8 and nothing edited: up to date (before: rendered every time)
    assert r["reel_2"] == ["FINISHED"], r
    assert ["shot A Reenact Mouth", 2, 1, 9, False, "shot_A_Actor_0_mouth"] in r["results_2"], r
    # the new take of B's mouth under B's face render: said (before: unsaid, the sequencer showed the old face)
    assert ["shot B Reenact Mouth", 2, 13, 25, False, "shot_B_Actor_0_mouth.take2"] in r["results_2"], r
    assert r["note_b"] == "'shot B Reenact Face' (another Reenact result) lies over it: mute it to see this one", r
    # edited: the trimmed result takes the new take as trimmed (before: stretched over the whole shot)
    assert r["reel_3"] == ["FINISHED"] and r["results_3"] == [
        ["shot A Reenact Mouth", 2, 1, 9, False, "shot_A_Actor_0_mouth.take2"]], r
    assert "'shot A Reenact Mouth': kept as trimmed or cut by hand (frames 1-8): drag its ends" in out, out[-3000:]
    # cut by hand with its second part muted: both parts take the new take, each as it was
    assert r["reel_4"] == ["FINISHED"] and r["results_4"] == [
        ["shot A Reenact Mouth", 2, 1, 9, False, "shot_A_Actor_0_mouth.take3"],
        ["shot A Reenact Mouth.001", 2, 9, 13, True, "shot_A_Actor_0_mouth.take3"]], r
    # results from before their actor's identity: re-filed, none doubled
    assert r["reel_5b"] == ["FINISHED"] and [x[:5] for x in r["results_5b"]] == [
        ["shot C Reenact Mouth", 2, 25, 31, False], ["shot C Reenact Mouth.001", 2, 61, 67, False]], r
    assert len({x[5] for x in r["results_5b"]}) == 1 and r["results_5b"][0][5].endswith(".take2"), r
    # the copy over a piece deleted by hand: not made again, and said
    assert r["reel_5"] == r["reel_6"] == ["FINISHED"], r
    assert r["results_6"] == [["shot C Reenact Mouth", 2, 25, 31, False, "shot_C_Actor_0_mouth.take3"]], r
    assert "no result made again over 'shot C.001' (its copy was removed by hand" in out, out[-3000:]
    # a muted shot is not rendered and a locked result not given a new take, each said
    assert r["reel_7"] == "Error: Reenact: no edited actor can be rendered (1 left out, above)", r
    assert "Info: Reenact: actor 'shot D Actor 0' not rendered: its shot 'shot D' is muted" in out, out[-3000:]
    assert ("Error: Reenact: actor 'shot A Actor 0': result strip 'shot A Reenact Mouth' is locked: unlock it to "
            "give it this render (left out)") in out, out[-3000:]
    assert [x for x in r["results_7"] if x[0].startswith("shot A")] == r["results_4"], r
    # a locked result up to date is said to be up to date, not an error
    assert r["reel_9"] == ["FINISHED"] and r["reel_10"] == ["CANCELLED"], r
    # under a copy of it laid as the shot (to compare takes): the new take into the result's parts, the
    # copy keeps its own, and the shot is up to date after (before: the take went into the copy)
    assert r["reel_11"] == ["FINISHED"] and r["reel_12"] == ["CANCELLED"], r
    copy, part1, part2 = r["results_11"]
    assert copy[:5] == ["A copy", 7, 1, 13, False] and part1[5] == part2[5] != copy[5], r
    assert part1[:5] == ["shot A Reenact Mouth", 2, 1, 9, False] and part2[:5] == ["shot A Reenact Mouth.001", 2, 9,
                                                                                     13, True], r
    # a result that does not record its options (an earlier Reenact's), its actor edited: left as it is, said
    assert r["reel_earlier"] == ["CANCELLED"] and r["earlier_kept"], r
    assert ("left as they are: 'shot B Actor 0' (result 'shot B Reenact Mouth'), whose result does not record the "
            "options it was rendered with") in out, out[-3000:]
    assert r["reel_earlier_too"] == ["FINISHED"] and r["earlier_too"] == [True, True], r  # (Earlier Results Too)
    # a shot inside a muted meta strip is out of the cut: not rendered
    assert r["reel_13"] == ["CANCELLED"], r
    # what a region keeps of the footage is said (before 2026-12-06 unsaid)
    assert r["preview_head"] == r["preview_mouth"] == ["FINISHED"], r
    assert ("'shot B Actor 0': region Head draws a new gaze only on a head or face it moves: frame(s) 20 keep the "
            "footage's eyes (render them with region Face)") in out, out[-3000:]
    assert ("'shot B Actor 0': the performance turns the head up to 15 degrees from the footage's, but region Mouth "
            "keeps the footage's head: render region Head for full reenactment") in out, out[-3000:]
    assert r["hidden_range"] == ("Error: Reenact: frames 13..15 are not shown by strip 'shot B' (its or its meta's "
                                 "trims hide them; it shows frames 16-24): Frame Range takes frames the strip shows"), r
    assert r["transfer"] == ["FINISHED"] and ("3 of them on frames the shot of 'shot B Actor 0' does not show "
                                              "(trimmed): no render draws them") in out, out[-3000:]
    # tracked inside a meta trimmed at its start, or reversed and trimmed: no frame said to be untracked
    assert r["track_in_meta"] == r["track_reversed"] == ["FINISHED"], r
    assert r["untracked_in_meta"] == r["untracked_reversed"] == [], r
    # a copy of a tracked shot (its id copied), trimmed: tracked on the clip frames it shows, 6-11
    # (before: 0-11, the frames of the shot it was copied from too)
    assert r["track_copy"] == ["FINISHED"] and r["copy_rows"] == [6, 6], r
    # a Speed Control effect over the shot: refused (before: tracked frame for frame, the curves wrong),
    # but not one that stretches it to its own length (one to one)
    assert r["track_speed_stretch"] == ["FINISHED"], r
    assert r["track_speed"].startswith("Error: Reenact: strip 'shot B' is retimed by the Speed Control effect "
                                       "'Speed'"), r
    # an edited actor of a scene a scene strip shows: not rendered here, and said (before: unsaid)
    assert ("Warning: Reenact: scene strip 'reel B' shows scene 'Reel B', whose edited actors 'shot A Actor 0.001', "
            "'shot B Actor 0.001', 'shot C Actor 0.001' are not rendered here: run Render Edited Actors with 'Reel B' "
            "in the Video Sequencer") in out, out[-3000:]


def _printed(code, prefix):
    """The line starting with ``prefix`` that ``code`` prints in a fresh Python (it must run)."""
    from conftest import printed

    return printed(code, prefix)


def test_render_edited_actors_keeps_the_shots_done_before_esc():
    """Esc during Render Edited Actors: the job returns the renders done before it, and the
    operator gives them their strips (``apply_partial``); the shot being rendered is dropped."""
    code = (
        "from reenact.blender.operators.render import batch_job\n"
        "from reenact.progress import Cancelled\n"
        "def ok(progress=None):\n"
        "    progress(1, 1, 'done')\n"
        "    return 'A'\n"
        "def esc(progress=None):\n"
        "    raise Cancelled()\n"
        "seen = []\n"
        "print('DONE', batch_job([('a', (ok, (), {})), ('b', (esc, (), {})), ('c', (ok, (), {}))],\n"
        "                        lambda d, t, m: seen.append((d, t, m)) or True), seen)\n")
    assert _printed(code, "DONE") == "DONE ['A'] [(1000, 3000, \"'a' (1/3) done\")]"


def test_render_edited_actors_goes_on_past_a_failed_shot():
    """A shot of the reel that fails (a missing model, a damaged frame) is its own line, and the
    next shots are rendered (before 2026-12-05 the first failure stopped the batch, unnamed, and
    the shots rendered before it got no strips)."""
    code = (
        "from reenact.blender.operators.render import batch_job\n"
        "def ok(progress=None):\n"
        "    return 'A'\n"
        "def bad(progress=None):\n"
        "    raise OSError(2, 'No such file or directory', '/x/model.onnx')\n"
        "print('DONE', batch_job([('a', (ok, (), {})), ('b', (bad, (), {})), ('c', (ok, (), {}))],\n"
        "                        lambda d, t, m: True))\n")
    assert _printed(code, "DONE") == ("DONE ['A', Failed(\"actor 'b': [Errno 2] No such file or directory: "
                                      "'/x/model.onnx'\"), 'A']")


def test_a_retimed_shot_is_refused_before_any_work():
    """Render Performance, Preview Frame, Restyle Strip and Track Actor refuse a retimed shot
    strip in one line (timing.refuse_retimed): its clip frames no longer map one to one onto the
    timeline, and the result strip would play at the clip's speed over it (before 2026-12-05 only
    tracking checked). Blender's headless module crashes adding retiming keys, so the strip is a
    stand-in with the attributes the check reads."""
    code = (
        "from types import SimpleNamespace as S\n"
        "from reenact.blender import timing\n"
        "timing.refuse_retimed(S(name='shot', retiming_keys=[1, 2]))\n"
        "try:\n"
        "    timing.refuse_retimed(S(name='shot', retiming_keys=[1, 2, 3]))\n"
        "except ValueError as e:\n"
        "    print('REFUSED', e)\n")
    line = _printed(code, "REFUSED")
    assert "strip 'shot' is retimed" in line and "result strip would not follow" in line, line


def test_a_strip_sped_up_whole_or_showing_another_stream_is_refused(tmp_path):
    """Set Speed on a whole strip leaves Blender's two end retiming keys and moves the last, and
    a movie strip's Stream Index shows another video stream of its file: before 2026-12-06 both
    were tracked and rendered one first-stream clip frame per timeline frame, the curves and the
    result off the picture, without a word. The speed's strip is a stand-in (Blender's headless
    module crashes adding retiming keys); the stream's is real, from a file of two streams."""
    code = (
        "import os, sys\n"
        "from types import SimpleNamespace as S\n"
        "import av, numpy as np\n"
        "sys.path.insert(0, {tests!r})\n"
        "from sequencer_check import empty_scene\n"
        "from reenact.blender import timing\n"
        "def strip(span):\n"
        "    return S(name='shot', type='IMAGE', elements=[0] * 6,\n"
        "             retiming_keys=[S(timeline_frame=1), S(timeline_frame=1 + span)])\n"
        "timing.refuse_retimed(strip(6))  # (the keys at speed 1: not refused)\n"
        "try:\n"
        "    timing.refuse_retimed(strip(3))\n"
        "except ValueError as e:\n"
        "    print('SPEED', e)\n"
        "path = os.path.join({work!r}, 'two streams.mp4')\n"
        "with av.open(path, 'w') as c:\n"
        "    ss = [c.add_stream('libx264', rate=25) for _ in range(2)]\n"
        "    for s in ss:\n"
        "        s.width, s.height, s.pix_fmt = 64, 64, 'yuv420p'\n"
        "    for i in range(4):\n"
        "        for k, s in enumerate(ss):\n"
        "            img = np.full((64, 64, 3), 60 + 120 * k, np.uint8)\n"
        "            for p in s.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):\n"
        "                c.mux(p)\n"
        "    for s in ss:\n"
        "        for p in s.encode():\n"
        "            c.mux(p)\n"
        "scene = empty_scene(64, 64)\n"
        "st = scene.sequence_editor.strips.new_movie(name='shot', filepath=path, channel=1, frame_start=1)\n"
        "timing.refuse_retimed(st)  # (the first stream: not refused)\n"
        "st.stream_index = 1\n"
        "try:\n"
        "    timing.refuse_retimed(st)\n"
        "except ValueError as e:\n"
        "    print('STREAM', e)\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n").format(tests=os.path.join(ROOT, "tests"), work=str(tmp_path))
    res = run_py(code)
    lines = {ln.split(" ", 1)[0]: ln for ln in res.stdout.splitlines() if ln.startswith(("SPEED", "STREAM"))}
    assert "strip 'shot' is retimed" in lines.get("SPEED", ""), res.stdout[-2000:] + res.stderr[-2000:]
    assert "strip 'shot' shows video stream 1 of its file (Stream Index)" in lines.get("STREAM", ""), \
        res.stdout[-2000:] + res.stderr[-2000:]


def test_a_result_that_shows_the_shot_otherwise_is_said(tmp_path, carphone):
    """A movie strip Blender deinterlaces (an image result keeps the fields woven: combing over
    the whole frame) and an OpenEXR plate shown in another colour space than Reenact reads it in
    (the preview and a movie shift its colours): Render Performance and Preview Frame warn before
    any work, for the outputs that differ (before 2026-12-06 unsaid; a review of strip settings)."""
    code = (
        "import os, sys\n"
        "import numpy as np\n"
        "sys.path.insert(0, {tests!r})\n"
        "from sequencer_check import empty_scene\n"
        "from reenact.blender import look\n"
        "from reenact.video.pngs import write_exr\n"
        "scene = empty_scene(176, 144)\n"
        "st = scene.sequence_editor.strips.new_movie(name='shot', filepath={clip!r}, channel=1, frame_start=1)\n"
        "print('PLAIN', [look.display_notes(st, o) for o in ('IMAGES', 'PREVIEW', 'MOVIE')])\n"
        "st.use_deinterlace = True\n"
        "print('DEINT', [len(look.display_notes(st, o)) for o in ('IMAGES', 'PREVIEW', 'MOVIE', 'PRORES')],\n"
        "      look.display_notes(st, 'IMAGES')[0])\n"
        "for i in range(2):\n"
        "    write_exr(os.path.join({work!r}, 'plate_{{:04d}}.exr'.format(i)), np.full((16, 16, 3), 0.25, np.float32))\n"
        "ex = scene.sequence_editor.strips.new_image(name='plate', filepath=os.path.join({work!r}, 'plate_0000.exr'),\n"
        "                                            channel=2, frame_start=1)\n"
        "ex.elements.append('plate_0001.exr')\n"
        "print('LINEAR', [look.display_notes(ex, o) for o in ('IMAGES', 'PREVIEW', 'MOVIE')])\n"
        "ex.colorspace_settings.name = 'ACEScg'\n"
        "print('ACESCG', [len(look.display_notes(ex, o)) for o in ('IMAGES', 'PREVIEW', 'MOVIE')],\n"
        "      look.display_notes(ex, 'MOVIE')[0])\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n").format(tests=os.path.join(ROOT, "tests"), work=str(tmp_path), clip=str(carphone))
    res = run_py(code)
    got = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in res.stdout.splitlines()
           if ln.startswith(("PLAIN", "DEINT", "LINEAR", "ACESCG"))}
    assert len(got) == 4, res.stdout[-2000:] + res.stderr[-2000:]
    assert got["PLAIN"] == "[[], [], []]" and got["LINEAR"] == "[[], [], []]", got
    assert got["DEINT"].startswith("[1, 1, 0, 0] strip 'shot' is deinterlaced by Blender"), got
    assert "combing wherever the picture moves" in got["DEINT"], got
    assert got["ACESCG"].startswith("[0, 1, 1] strip 'plate' shows its OpenEXR plate in the colour space ACEScg, "
                                    "but Reenact reads it as Linear Rec.709"), got


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_clip_played_at_its_own_rate_in_a_scene_of_another_is_refused(tmp_path, carphone, version, request):
    """Editors drop 30 fps clips into 25 fps timelines, and Blender's Add ▸ Movie then plays the
    clip at its own speed (Adjust Playback Rate), 1.2 clip frames per timeline frame. Before
    2026-12-05 Track Actor tracked the first 24 of such a 30-frame clip one per timeline frame
    while the strip showed 29 of them; now every job refuses the strip in one line and changes
    nothing, Conform to Scene Rate makes the strip of the frames it shows, and the same clip
    played frame for frame (Python's new_movie, or Add > Movie at the clip's rate) works."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_rate_check.py", version, request, work, clip, work)
    assert r["tracked"] == ["FINISHED"], r
    assert r["frame_for_frame"] == {"length": 30, "adjusted": None, "preview": ["FINISHED"]}, r
    speed = r["clip_speed"]
    assert speed["length"] == 24 and speed["adjusted"] == 30.0, r
    for job in ("preview", "render", "assemble", "track"):
        assert "plays its 30 fps clip at the clip's speed in this 25 fps scene" in speed[job], (job, r)
        assert "Conform to Scene Rate (Strip ▸ Reenact) makes the 25 fps clip it shows" in speed[job], (job, r)
    assert speed["strips"] == ["shot"] and speed["unchanged"] and speed["actors"] == 1, r
    # what Add > Movie does to a clip of the scene's own rate plays frame for frame: not refused
    assert r["same_rate"] == {"adjusted": None, "length": 30}, r
    # Conform to Scene Rate: the frames the strip showed, at 25 fps, above it, the shot muted; the
    # sequencer shows the same pictures (within the two decoders' rounding; a neighbouring frame
    # is 5 levels off), and the new strip tracks
    c = r["conformed"]
    assert r["conform"] == ["FINISHED"] and c["name"] == "shot 25fps", r
    assert c["file"].startswith("shot30_25fps-") and c["file"].endswith(".mkv"), r  # (named by its source too)
    assert (c["channel"], c["start"], c["length"], c["adjusted"], c["shot_muted"]) == (2, 1, 24, None, True), r
    assert c["vs_shown"] < 1.6 and c["track"] == ["FINISHED"], r
    # a trimmed dialogue strip lies where it lay after every job's check (before 2026-12-06 19:51 UTC
    # each check slid it: 13 -> 8 at its head after five at 30 fps)
    assert r["sound"]["after"] == r["sound"]["before"], r["sound"]
    # the shot's file changed to the 25 fps clip (Change Path) keeps the 30 fps clip's rate: refused
    assert "at the rate of the clip it showed before" in r["changed_path"]["track"], r
    # another camera's clip of the same file name gets its own conformed file; the first one's stays
    assert r["same_name"] == {"conform": ["FINISHED"], "own_file": True, "first_unchanged": True}, r


def _clip_dropping_frames(carphone, tmp_path):
    """carphone's first 30 frames as a 30 fps movie whose capture dropped frames: 4 gaps of one
    frame, so the last frames come 133 ms later than their count says (variable frame rate)."""
    from fractions import Fraction

    import av

    from reenact.video import open_video

    clip = tmp_path / "dropped.mp4"
    ticks = [i + sum(i > g for g in (6, 12, 18, 24)) for i in range(30)]
    c = av.open(str(clip), "w")
    v = c.add_stream("libx264", rate=30)
    v.width, v.height, v.pix_fmt, v.options = 176, 144, "yuv420p", {"crf": "0"}
    v.time_base = v.codec_context.time_base = Fraction(1, 30)
    with open_video(carphone) as src:
        for i, t in enumerate(ticks):
            vf = av.VideoFrame.from_ndarray(src.read(i), format="rgb24")
            vf.pts, vf.time_base = t, Fraction(1, 30)
            for p in v.encode(vf):
                c.mux(p)
    for p in v.encode():
        c.mux(p)
    c.close()
    return clip


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_clip_of_variable_frame_rate_is_conformed_as_the_sequencer_shows_it(tmp_path, carphone, version, request):
    """Phone footage, screen recordings and captures that dropped frames have frames unevenly
    timed; the sequencer shows them by time (a frame held over a gap), while Reenact counts
    frames, so every job refuses such a strip. Before 2026-12-05 the refusal named an ffmpeg
    command, and no way inside Blender; now it names Conform to Scene Rate, which makes a strip of
    the very pictures the sequencer showed (played frame for frame in a scene of its rate, and
    at its own speed in a 25 fps scene), and that strip tracks."""
    clip, work = _clip_dropping_frames(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_vfr_check.py", version, request, work, clip, work)
    ff, cs = r["frame_for_frame"], r["clip_speed"]
    # the sequencer holds the frame before each gap: the frames Reenact's rule predicts
    assert ff["strip_fps"] == 30.0 and ff["length"] == 34 and ff["off"] < 2.0, r
    assert ff["shown"] == r["predicted"] == sorted(list(range(30)) + [6, 12, 18, 24]), r
    assert "variable frame rate" in ff["track"] and "Conform to Scene Rate" in ff["track"], r
    for case in (ff, cs):  # (at its own speed, the rate's refusal comes first and names it too)
        assert "Conform to Scene Rate" in case["track"], r
        assert case["conform"] == ["FINISHED"], r
        c = case["conformed"]
        assert c["shown"] == case["shown"] and c["off"] < 2.0 and c["shot_muted"], r
    assert ff["conformed"]["name"] == "shot 30fps" and ff["conformed"]["track"] == ["FINISHED"], r
    # at its own speed in a 25 fps scene: 34 frames at 30 fps last 28 at 25
    assert cs["length"] == 28 and cs["conformed"]["length"] == 28, r


def test_verify_strip_places_synthesised_frames_where_the_strip_shows_them():
    """Verify Strip's timeline ranges follow what the strip shows: clip frames 6-11 and 20-29
    synthesised, on a plain strip from frame 11, a reversed one, and a 30 fps clip played at its
    own speed in a 25 fps scene (Blender's mapping, video/conform.py); before 2026-12-05 clip
    frame i was put at the strip's start + i whatever the strip did. Stand-in strips: the
    mapping alone (Blender's own is checked in test_a_result_lies_under_the_titles_and_grade
    and test_a_clip_played_at_its_own_rate_in_a_scene_of_another_is_refused)."""
    from conftest import run_py

    code = (
        "import json\n"
        "from types import SimpleNamespace as S\n"
        "from reenact.blender.operators.verify import strip_ranges\n"
        "res = {'watermark': {'frame_ranges': [[6, 12], [20, 30]]}}\n"
        "def strip(n, rev=False):\n"
        "    return S(frame_start=11, frame_duration=n, frame_final_start=11, frame_final_end=11 + n,\n"
        "             use_reverse_frames=rev, strobe=1.0)\n"
        "print('RESULT ' + json.dumps([strip_ranges(res, strip(30)), strip_ranges(res, strip(30, True)),\n"
        "                              strip_ranges(res, strip(24), 1.2, 30)]))\n")
    res = run_py(code)
    assert res.returncode == 0, res.stderr[-2000:]
    plain, reversed_, rate = json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")][0][7:])
    assert plain == [[17, 22], [31, 40]] and reversed_ == [[11, 20], [29, 34]], (plain, reversed_)
    assert rate == [[16, 20], [28, 34]], rate  # clip frames 6-11 and 20-29 at 25 of 30 frames a second


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_renamed_or_moved_strip_keeps_its_actor(tmp_path, carphone, version, request):
    """Editors rename strips and move them in time; the actor finds its strip again by the
    strip's reenact_id (before 2026-12-05 every operator said the strip was gone, and tracking it
    again added a second actor), and its curves move with the strip."""
    import cv2

    from reenact.video import open_video

    frames = tmp_path / "frames"
    frames.mkdir()
    with open_video(carphone) as src:
        for i in range(24):
            cv2.imwrite(str(frames / "shot_{:04d}.png".format(i + 1)), cv2.cvtColor(src.read(i), cv2.COLOR_RGB2BGR))
    r = _check("blender_rename_check.py", version, request, tmp_path, frames, tmp_path)
    assert r["preview"] == ["FINISHED"], r
    assert r["strip_name"] == "sh010 plate v2" and r["actors"] == ["sh010 plate v2"], r
    # moved 10 frames later: the curves follow (before 2026-12-05 they stayed behind, and a key set
    # against the moved strip edited clip frame 17 instead of 7)
    assert r["frame_offset"] == 11, r
    assert abs(r["jaw_at_clip_7"][0] - r["jaw_at_clip_7"][1]) < 1e-4, r
    assert r["jaw_key_row"] == 7, r
    assert r["dup_id_differs"], r
    # the scene renamed as well (before 2026-12-05 its actors were cut off: "the strip ... is gone")
    assert r["preview_after_scene_rename"] == ["FINISHED"] and r["scene_name"] == "Edit v2", r
    assert len(r["actors_of_scene"]) == 1, r
    # the actor renamed between two renders: one result strip, showing the second render
    assert r["render_1"] == r["render_2"] == ["FINISHED"], r
    assert r["results"] == [["sh010 plate v2 Reenact Mouth", 2, "Lead_mouth", "Lead"]], r
    # the scene, strip and actor renamed while a render ran, a strip while Verify Strip ran
    assert r["render_3"] == r["verify"] == ["FINISHED"] and r["verified"], r
    assert r["results_3"] == [["sh010 plate v2 Reenact Mouth", "Lead_mouth.take2", "sh010 plate v3", "Lead 2"]], r


def test_a_file_saved_during_a_job_opens_with_no_job_running(tmp_path):
    """The sidebar's progress bar is not Blender data: a .blend saved (or autosaved) while a job
    ran opens with the Track, Train and Render buttons shown and jobs allowed. Before 2026-12-05
    the running flag was a scene property, saved with the file, so such a file opened with a job
    "running" for ever and every job refused, with nothing in the UI to reset it."""
    path = str(tmp_path / "saved_mid_job.blend")
    saved = _printed(
        "import bpy\n"
        "from reenact import register\n"
        "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
        "register()\n"
        "from reenact.blender import modal\n"
        "modal.set_job_state(bpy.context, True, 0.4, 'Rendering 40/100')\n"
        "bpy.ops.wm.save_as_mainfile(filepath={!r})\n"
        "running = modal.JOB.running\n"
        "bpy.ops.wm.open_mainfile(filepath={!r})\n"  # (in the same session: no job outlives its file)
        "print('SAVED', running, modal.JOB.running)\n".format(path, path), "SAVED")
    assert saved == "SAVED True False"
    opened = _printed(
        "import bpy\n"
        "from reenact import register\n"
        "register()\n"
        "bpy.ops.wm.open_mainfile(filepath={!r})\n"
        "from reenact.blender import modal\n"
        "from reenact.blender.panels.actors import draw_job_progress\n"
        "class Layout:\n"
        "    def row(self): return self\n"
        "    def progress(self, **kw): pass\n"
        "    def label(self, **kw): pass\n"
        "s = bpy.context.scene\n"
        "print('OPENED', modal.JOB.running, draw_job_progress(Layout()), "
        "bool(s.reenact.get('job_running')))\n".format(path), "OPENED")
    assert opened == "OPENED False False False", opened


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_hold_split_piece_is_refused_then_made_a_trim(tmp_path, carphone, version, request):
    """A Hold Split (Strip ▸ Split ▸ Hold) leaves the second piece starting into its clip (Hold
    Offset Start). Before 2026-12-05 every job took that piece's timeline frame f as clip frame
    f - start: it was tracked and rendered from the clip's first frames, silently. Now the jobs
    refuse it in one line naming the remedy, and Hold Offset to Trim shows the very same frames
    with a plain trim, after which the piece is one of the shot's and previews."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_hold_check.py", version, request, work, clip, work)
    assert r["hold"] == [21, 21, 36, 15] and r["pieces_before"] == ["shot"], r
    assert "starts 15 frame(s) into its clip (Hold Offset Start" in r["preview_before"], r
    assert "Hold Offset to Trim (Strip ▸ Reenact)" in r["preview_before"], r
    assert r["to_trim"] == ["FINISHED"] and r["trimmed"] == [6, 21, 36, 0], r
    assert r["same_pictures"] == 0.0, r
    assert r["pieces_after"] == ["shot", "shot.001"] and r["preview_after"] == ["FINISHED"], r


def test_operators_that_change_the_file_are_undo_steps():
    """Every Reenact operator that writes Blender data is an undo step, so Ctrl+Z of the next
    edit does not also take back what it set (before 2026-12-05 Train Renderer, Train Restyle
    and Verify Strip were not: undoing the edit after a training put the bundled renderer back);
    the trainings and the other long jobs offer no redo panel, whose change would run the job
    again, blocking Blender."""
    line = _printed(
        "import bpy\n"
        "from reenact import register\n"
        "register()\n"
        "from reenact.blender import operators\n"
        "print('OPTIONS', sorted((c.bl_idname, sorted(c.bl_options)) for c in operators.classes "
        "if c.bl_idname.startswith('reenact.')))\n", "OPTIONS")
    import ast

    options = dict(ast.literal_eval(line[len("OPTIONS "):]))
    # (what onnxruntime uses, shown in the panel; files deleted outside the .blend: nothing to undo)
    read_only = {"reenact.check_runtime", "reenact.delete_unused_takes"}
    assert all("UNDO" in o for n, o in options.items() if n not in read_only), options
    assert options["reenact.train_renderer"] == ["UNDO"] and options["reenact.train_restyle"] == ["UNDO"], options
    # nor the other long jobs (since 2026-12-06: the F9 panel ran the whole render again, blocking)
    for long_job in ("render_performance", "render_edited", "restyle_strip", "assemble_render", "assemble_restyle",
                     "track_strip", "conform_strip"):
        assert options["reenact." + long_job] == ["UNDO"], (long_job, options)


def test_a_job_whose_strip_was_renamed_meanwhile_says_so_in_one_line():
    """A job's result is put back by the names its scene and strip had when it started; renamed or
    removed meanwhile, the operator now reports one line naming it (before 2026-12-05 a raw
    KeyError traceback, and the user did not learn that nothing was added)."""
    line = _printed(
        "import bpy\n"
        "from reenact.blender.modal import ModalJobMixin\n"
        "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
        "class Op(ModalJobMixin):\n"
        "    job_label = 'Rendering'\n"
        "    said = []\n"
        "    def report(self, kind, text): self.said.append((sorted(kind), text))\n"
        "    def apply(self, context, result):\n"
        "        bpy.context.scene.sequence_editor_create().strips_all['shot']\n"
        "op = Op()\n"
        "print('FINISH', sorted(op._finish(bpy.context, None)), op.said)\n", "FINISH")
    assert line.startswith("FINISH ['CANCELLED'] [(['ERROR'], \"Reenact: Rendering finished, but 'shot' was renamed or removed "
                           "while it ran, so nothing was added; run it again"), line


def test_versions_of_a_shot_file_saved_side_by_side_keep_their_own_tracks_and_renders(tmp_path, carphone, request):
    """File ▸ Save Incremental leaves shot_v01.blend and shot_v02.blend in one folder. Before
    2026-12-05 they shared //reenact's Track files and //reenact/renders' frame folders, so a
    render in v02 wrote over the frames v01's result strip showed and tracking again in v02
    replaced v01's Track. Now each .blend's Tracks and renders carry its name."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_versions_check.py", "5.0", request, work, clip, work)
    assert r["v01_render"] == r["v02_render"] == r["v02_track"] == ["FINISHED"], r
    p = r["paths"]
    assert p["v01_frames"] == os.path.join("reenact", "renders", "shot_v01", "shot_Actor_0_mouth"), r
    assert p["v02_frames"] == os.path.join("reenact", "renders", "shot_v02", "shot_Actor_0_mouth"), r
    assert p["v01_track"].startswith(os.path.join("reenact", "shot_v01_")), r
    assert p["v02_track"].startswith(os.path.join("reenact", "shot_v02_")), r
    assert r["v01_unchanged"] == {"track": True, "frames": True}, r
    # Save As: v02 reads its own copy of the Track at once (before 2026-12-05 v01's, until it
    # tracked again); into another folder the Track is copied there and the renderer still found
    assert r["v02_track_at_save"].startswith(os.path.join("reenact", "shot_v02_")) and r["v02_track_is_a_copy"], r
    v3 = r["v03"]
    assert v3["track"].startswith(os.path.join("elsewhere", "reenact", "shot_v03_")) and v3["track_exists"], r
    assert v3["model"] == os.path.join("reenact", "models", "shot_v01", "fine.onnx"), r
    assert v3["model_stored"] == "//../reenact/models/shot_v01/fine.onnx", r
    assert r["after_copy_unchanged"], r


def test_blend_files_whose_names_clean_alike_keep_their_renders_and_takes_apart(tmp_path, request):
    """'场景.blend' and '镜头.blend' in one folder: before the evening of 2026-12-06 both names
    cleaned to one folder name ('actor'), so they shared //reenact/renders/actor and
    //reenact/models/actor, and Delete Unused Takes in one offered (and deleted) the other's take.
    Now each has a folder of its own (the name with a digest where it is no file name). A project
    of before keeps its folder of the earlier naming, until another .blend beside it names alike:
    that one never offers the earlier file's takes, and the earlier file moves to a folder of its
    own; the plain-named one ('My_Shot.blend') then renders into a folder of its own too."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_names_check.py", "5.0", request, work, json.dumps({"work": str(work)}))
    assert r["a"]["renders"] != r["b"]["renders"] and r["a"]["models"] != r["b"]["models"], r
    assert r["a_unused"] == [os.path.join(r["a"]["renders"], "shot_Actor_0_mouth")], r  # (its own: offered)
    assert r["b_unused"] == [], r
    assert r["legacy"] == {"renders": os.path.join("old", "reenact", "renders", "My_Shot"),
                           "models": os.path.join("old", "reenact", "models", "My_Shot")}, r
    assert r["legacy_unused"] == [os.path.join("old", "reenact", "renders", "My_Shot", "shot_Actor_0_mouth")], r
    # a restyle models' folder of the new name beside it does not move its renderers (before the review of the
    # evening of 2026-12-06 it did, and Train Renderer started from step 0)
    assert r["legacy_beside_new"] == os.path.join("old", "reenact", "models", "My_Shot"), r
    assert r["alike_unused"] == [], r
    # the plain-named one ('My_Shot.blend', whose name is the earlier folder's) renders and trains into
    # a folder of its own, not the one the earlier file's takes and models lie in (before the review of
    # the evening of 2026-12-06 it rendered over the earlier file's take)
    for kind in ("renders", "models"):
        assert r["alike"][kind].startswith(os.path.join("old", "reenact", kind, "My_Shot-")), r
        assert r["alike"][kind] != r["legacy_alike"][kind], r
    moved = r["legacy_alike"]
    assert moved["renders"].startswith(os.path.join("old", "reenact", "renders", "My_Shot-")), r
    assert moved["models"].startswith(os.path.join("old", "reenact", "models", "My_Shot-")), r


def test_a_take_another_session_claimed_is_neither_written_over_nor_offered(tmp_path, request):
    """Two Blender sessions on one .blend (an artist's and a background render, or two people):
    before the evening of 2026-12-06 each took the last take that no strip of its own showed for
    a free one, so both rendered into one folder (the last to write a frame won), Assemble
    Render deleted the other session's take, and Delete Unused Takes offered it. Now a session
    claims the take it writes (host, process), and a take claimed by another live process is
    left: the next render makes a new take, and it is not offered; once that process has ended it
    is free again."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_claims_check.py", "5.0", request, work, json.dumps({"work": str(work)}))
    take = "shot_Actor_0_mouth"
    assert r["own"] == {"next": take, "unused": [take]}, r
    assert r["claimed"] == {"next": take + ".take2", "unused": []}, r
    assert r["claimed_unmade"] == take + ".take3", r  # (claimed by the other session, not made yet)
    assert r["ended"] == {"next": take, "unused": [take]}, r
    # a job claims its take while it runs (its own: not held elsewhere); one refused leaves nothing
    assert r["job_wrote"] == {"during": [False, True], "claim_left": True}, r
    assert r["job_refused"] == {"during": [False, True], "claim_left": False} and not r["refused_left"], r
    assert r["background_claim_left"] is False, r  # (a farm task's: not held from other machines afterwards)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_an_actor_belongs_to_the_scene_that_holds_it(tmp_path, carphone, version, request):
    """Scene ▸ New ▸ Full Copy copies the actors with the strip; a scene renamed and its old name
    reused by a new scene. Each actor is its own scene's (before 2026-12-05 actors were found by
    the stored scene name: the copy's actors were the original's, moved with its strip, edited
    and re-tracked by its operators, and a new scene of the old name took the renamed one's)."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_scene_copy_check.py", version, request, work, carphone, work)
    assert r["orig"] == ["shot Actor 0"] and r["copy"] == [r["copy_actor"]] != r["orig"], r
    assert r["offsets"] == [11, 1, 1], r
    assert r["renamed"] == ["shot Actor 0"] and r["fresh"] == [], r
    # another scene cutting the same movie has its own camera and collection (before 2026-12-05
    # tracking it at another focal length changed the first scene's camera)
    o = r["other"]
    assert r["other_track"] == ["FINISHED"] and o["lens_kept"] and o["own_camera"] and o["own_collection"], r
    assert o["first_scene_objects"] == ["shot Actor 0"], r


def test_a_verdict_is_not_shown_for_a_strip_given_another_file(tmp_path, carphone, request):
    """Verify Strip's verdict is kept on the strip; after Change Path the panel says to verify
    again instead of showing the old file's verdict as the new one's (before 2026-12-05 it did)."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_change_check.py", "5.0", request, work, carphone, work)
    assert "No Reenact watermark" in r["verified"], r
    assert "No Reenact watermark" not in r["changed"], r
    assert any("changed since it was verified" in t for t in r["changed"]), r
    t = r["trimmed_off"]
    assert "Synthesised: none on the timeline (in the trimmed-off part)" in t and "Score 12.3, false-positive " \
        "probability 1e-30" in t and "Trusted by this machine's local root only" in t, t


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_render_again_is_a_new_take_in_the_strips_the_compositor_worked_on(tmp_path, carphone, version, request):
    """A compositor fixing a dub renders a shot, works on its result strips (renames one, keys a
    fade, tags it, blurs it with an effect strip, grades it with a modifier), and renders again.
    Before 2026-12-06 the render again wrote over the first render's frames and replaced the
    result strips with new ones: the fade, tag, name, modifier and opacity were gone, the effect
    strip taking the result as input was deleted with it, and an undo brought back a strip
    showing the new frames. Now the render again is a new take beside the first
    (``<name>.take2``), the same strips are given it with what was set on them, and the first
    take's frames stay as they were; a take no strip shows (one undone) is what the next render
    writes over."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_takes_check.py", version, request, work, clip, work)
    assert r["render_1"] == r["render_2"] == ["FINISHED"], r
    assert r["next_take"] == "shot_Actor_0_mouth.take2", r
    assert r["results"] == [["Dub A", "IMAGE", "shot_Actor_0_mouth.take2", "shot"],
                            ["Dub A copy", "IMAGE", "shot_Actor_0_mouth", "shot"],  # (the compositor's copy)
                            ["shot Reenact Mouth.001", "IMAGE", "shot_Actor_0_mouth.take2", "shot.001"]], r
    assert r["note"] == "'Dub A copy' (a copy of it, another take) lies over it: mute it to see this one", r
    kept = r["kept"]
    assert kept["colour_tag"] == "COLOR_05" and kept["fade_keys"] == [[1.0, 1.0], [12.0, 0.6]], r
    assert kept["copy_opacity"] == 0.9 and kept["blur_input"] == "Dub A" and kept["mute"] == [False, False], r
    assert kept["modifiers"] == ([] if version == "5.0" else ["Match"]), r
    assert r["take_1_unchanged"] and min(r["takes_differ"].values()) > 0.2 and r["differ_px"] > 100, r
    # the sequencer shows the new take (the copy at its opacity 0.9 over the shot), not the first:
    # mean levels off where the takes differ (the mouth)
    assert r["shown_vs"][0] < 2.0 < 10 < r["shown_vs"][1], r
    assert (r["while_shown"], r["after_undo"]) == ("shot_Actor_0_mouth.take3", "shot_Actor_0_mouth.take2"), r
    assert r["movie_take"] == "dub.take2.mp4", r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_take_holds_only_the_frames_its_trimmed_shot_shows(tmp_path, carphone, version, request):
    """A shot cut from a longer clip (here frames 10..21 of 30) dubbed: its take holds the clip's
    frame count, but the frames the shot does not show are one transparent file, linked, never
    decoded nor encoded; before 2026-12-06 each was the footage (a compositor's review: a 40-frame
    shot of a 536-frame clip wrote 536 PNGs, 99 MB, a take; a 3-second shot of a 5-minute clip,
    the 5 minutes). The sequencer shows the dub where it was rendered, and where the editor
    opens the trim afterwards the shot through the take (not black)."""
    pytest.importorskip("torch")
    from reenact.restyle.train import train
    from test_restyle import moving_clip, tiny_cfg

    model = str(tmp_path / "look.onnx")
    train([moving_clip(seed=1)], [moving_clip(seed=2)], model, tiny_cfg(), steps=1, resume=False)
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_take_span_check.py", version, request, work, clip, model, work)
    assert r["render"] == ["FINISHED"] and r["files"] == 30, r
    assert r["linked"] == list(range(10)) + list(range(22, 30)), r
    assert r["result"] == [1, 10, 8] and r["result_after"] == [1, 0, 0], r
    assert r["dub_vs_footage"] > 0.3, r  # (the opened jaw)
    assert max(r["opened_vs_footage"]) < 1.5, r  # (the shot through the take: within the decoders' rounding)
    # the dub restyled as a movie: where the opened trim shows frames its take does not hold, the
    # shot's own frames (before the fix of a review the same day: black)
    assert r["restyled"] == {"IMAGES": ["FINISHED"], "MOVIE": ["FINISHED"]} and r["restyle_type"] == "MOVIE", r
    assert r["restyle_after"] == [1, 31] and max(r["restyle_opened_vs_footage"]) < 3.0, r
    assert r["restyle_linked"] == list(range(10)) + list(range(22, 30)), r  # (images: linked, not re-encoded)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_result_follows_a_reframe_of_its_shot_made_after_the_render(tmp_path, carphone, version, request):
    """Editors reframe shots after the dub is rendered. Before 2026-12-06 the result strip kept
    the framing the shot had at the render: a reframed shot's dub lay at the old place and size
    (a mouth beside the face). Now the result and a preview take the shot's new look (transform,
    keyed push-in, crop, mirror, colour) as soon as it changes; a result nudged by hand, its shot
    unchanged, stays nudged."""
    folder = _footage_pngs(carphone, tmp_path / "render")
    r = _check("blender_follow_look_check.py", version, request, tmp_path, carphone, folder, tmp_path)
    assert r["before"] < 1.5, r
    # the same pictures, framed as the shot: within the two decoders' rounding (mean levels)
    assert max(r["after"]) < 1.5 and r["preview"] < 1.5, r
    assert r["nudged"] == 3.0, r
    # since 2026-12-06, property by property: the nudge and the warmth stay when the
    # shot's saturation changes (before, any change of the shot re-applied its whole look)
    assert r["after_saturation"] == [3.0, 1.2, 0.4], r
    assert r["flip_y_followed_unmuted"] == [True, False], r
    assert r["mute_followed"] == [True, False, True], r
    # a driven move and a cycling zoom on the shot: driven and cycling on the result too (before,
    # the driven value was copied once and the Cycles modifier left off)
    assert r["driven_and_cycled"] == [[0.0, 0.0], [0.0, 0.0]], r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_result_made_from_other_footage_than_its_shot_shows_is_flagged(tmp_path, carphone, version, request):
    """An editor relinks a shot to a new grade or conform (Change Path), or a new export is
    written over its file, after the dub was rendered: the result strip still shows the old
    footage's pixels around the dub. Before 2026-12-06 nothing said so. Now the Track panel says
    it with the result or the shot active, and stops saying it when the shot's file is back."""
    folder = _footage_pngs(carphone, tmp_path / "render")
    recut = _clip30(carphone, tmp_path)  # (another export of the shot: another size)
    r = _check("blender_stale_check.py", version, request, tmp_path, carphone, folder, recut, tmp_path)
    said = ["Made from other footage than 'shot' shows now: render again"], [
        "'shot Reenact Mouth' made from other footage than this shows now: render again"]
    assert r["rendered"] == r["back"] == [[], []], r
    assert r["relinked"] == r["written_over"] == list(said), r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_preview_frame_on_the_frames_the_shot_shows_each_with_its_own_image(tmp_path, carphone, version, request):
    """Preview Frame, as an animator uses it between renders. Before 2026-12-06 a frame beside
    the shot previewed its first or last frame (FINISHED, a strip where the shot is not); two
    image names took turns, so an undo brought back a preview strip showing another frame, and
    another scene's preview wrote over this one's; a shot moved while the preview rendered got
    the preview at its old place; a muted shot's preview, hidden, said nothing."""
    clip, work = _clip30(carphone, tmp_path), tmp_path / "work"
    work.mkdir()
    r = _check("blender_preview_check.py", version, request, work, clip, work)
    assert r["beside"] == ("Error: Reenact: frame 2 is not shown by strip 'shot' (it shows frames 5-34): put the "
                           "playhead on it"), r
    (ok1, [[at1, name1]]), (ok2, [[at2, name2]]) = r["first"], r["second"]
    assert ok1 == ok2 == ["FINISHED"] and (at1, at2) == (12, 14) and name1 != name2 and r["first_kept"], r
    ok, [[at, _name]], start = r["moved"]
    assert ok == ["FINISHED"] and start == 15 and at == 26, r  # clip frame 11, where the shot now shows it
    ok, [[at, _name]] = r["muted"]
    assert ok == ["FINISHED"] and at == 30, r
    assert "the preview is hidden as its shot is (muted, or in a muted channel or meta): unmute the shot to see it" \
        in r["_stdout"], r["_stdout"][-2000:]


def test_esc_after_a_job_finished_keeps_its_result():
    """Esc that reaches the operator after its worker finished (the last frame written between
    two timer ticks) keeps the result: before 2026-12-06 a whole render done was thrown away as
    "cancelled". Esc while it runs still cancels. The modal path is driven with a stand-in
    window manager (the bpy module has no window)."""
    code = (
        "import threading\n"
        "from reenact import register\n"
        "register()\n"
        "from reenact.blender import modal as M\n"
        "from reenact.jobs import BackgroundJob\n"
        "class WM:\n"
        "    windows = []\n"
        "    def event_timer_add(self, i, window=None): return 1\n"
        "    def event_timer_remove(self, t): pass\n"
        "    def modal_handler_add(self, op): pass\n"
        "    def progress_begin(self, a, b): pass\n"
        "    def progress_update(self, v): pass\n"
        "    def progress_end(self): pass\n"
        "class WS:\n"
        "    def status_text_set(self, t): pass\n"
        "class Ctx:\n"
        "    window_manager, workspace, window = WM(), WS(), object()\n"
        "class Ev:\n"
        "    def __init__(self, t, v): self.type, self.value = t, v\n"
        "gate = threading.Event()\n"
        "def work(progress):\n"
        "    while not gate.is_set():\n"
        "        if progress(0, 1, 'frame') is False:\n"
        "            from reenact.progress import Cancelled\n"
        "            raise Cancelled()\n"
        "        gate.wait(0.01)\n"
        "    return 'frames'\n"
        "class Op(M.ModalJobMixin):\n"
        "    job_label = 'Rendering'\n"
        "    def __init__(self): self.lines, self.applied = [], None\n"
        "    def report(self, level, msg): self.lines.append(msg)\n"
        "    def apply(self, context, result): self.applied = result\n"
        "out = []\n"
        "for finish_first in (True, False):\n"
        "    op, gate = Op(), threading.Event()\n"
        "    op._job = BackgroundJob(work).start()\n"
        "    M.begin_modal(op, Ctx(), 0.1, 'x')\n"
        "    if finish_first:\n"
        "        gate.set()\n"
        "        op._job.join()\n"
        "    out.append([sorted(op.modal(Ctx(), Ev('ESC', 'PRESS'))), op.applied, M.JOB.running])\n"
        "    gate.set()\n"
        "print('ESC', out)\n")
    assert _printed(code, "ESC") == "ESC [[['FINISHED'], 'frames', False], [['CANCELLED'], None, False]]"


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_delete_unused_takes_deletes_only_what_no_strip_shows(tmp_path, carphone, version, request):
    """Each render again leaves the previous take on disk (~0.6 GB per 10 s of 1080p PNGs).
    Delete Unused Takes removes the takes, movies and restyles of the .blend that no strip of any
    scene shows, and leaves the shown take, a take being written (a render running), a farm job's
    folder, Preview Frame's images, the cache, a folder of the user's own, a take another .blend
    saved beside it shows (Save As), and everything while a job runs."""
    folder = _footage_pngs(carphone, tmp_path / "render")
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_cleanup_check.py", version, request, work, folder, work)
    assert r["while_running"] == ["CANCELLED"] and r["result"] == ["FINISHED"], r
    assert r["renders"] == [".shown_by", "Actor_face.take2", "Actor_mouth", "Actor_mouth.farm", "Actor_mouth.take3",
                            "client_plates", "preview"], r  # (take 2 of the face: cut_v2.blend shows it)
    assert r["restyles"] == [], r
    assert "deleted 3 unused takes" in r["_stdout"], r["_stdout"][-2000:]


def test_a_shot_is_up_to_date_by_the_result_on_it_not_by_a_copy(tmp_path):
    """Render Edited Actors skips a shot whose result strip shows a render of its present
    performance. The result that counts is the one lying on the shot (the one a render again
    gives its take), not a compositor's copy of an earlier take: a copy carrying the key the
    performance has now (an edit undone back to the first render) left the shot showing another
    render skipped, as up to date."""
    import cv2
    import numpy as np

    frame = tmp_path / "f"
    frame.mkdir()

    for k in range(3):
        cv2.imwrite(str(frame / "frame_{:06d}.png".format(k)), np.full((8, 8, 3), 40 * k, np.uint8))
    code = (
        "import os, sys\n"
        "sys.path.insert(0, {tests!r})\n"
        "from sequencer_check import empty_scene, image_strip\n"
        "from reenact.blender import shots\n"
        "from reenact.blender.operators.render import RENDER_KEY, _up_to_date\n"
        "scene = empty_scene(8, 8)\n"
        "shot = image_strip(scene, {folder!r}, name='shot')\n"
        "res = shots.add_result_strip(scene, shot, {folder!r}, 3, 'shot Reenact Mouth', key=('A', 'mouth'))\n"
        "copy = scene.sequence_editor.strips.new_image(name='copy', filepath=os.path.join({folder!r}, 'frame_000000.png'),\n"
        "                                               channel=5, frame_start=10)\n"
        "for k in res.keys():\n"
        "    copy[k] = res[k]\n"
        "res[RENDER_KEY], copy[RENDER_KEY] = 'second', 'first'\n"
        "class Plan:\n"
        "    _strip_name, _key = 'shot', ('A', 'mouth')\n"
        "out = []\n"
        "for key in ('first', 'second'):\n"
        "    Plan._render_key = key\n"
        "    out.append(_up_to_date(scene, Plan))\n"
        "print('UP', out)\n"
        "os._exit(0)\n").format(tests=os.path.join(ROOT, "tests"), folder=str(frame))
    assert _printed(code, "UP") == "UP [False, True]"


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_render_of_a_reversed_shot_takes_the_frames_the_timeline_shows(tmp_path, carphone, version, request):
    """A farm's chunks of a reversed shot trimmed at its start, and a frame range: the clip frames
    the timeline shows there, counted from the content's end (before 2026-12-06 a chunk was its
    timeline frames minus the strip's start: it rendered frames shown elsewhere, or was refused as
    outside the render)."""
    work = tmp_path / "w"
    work.mkdir()
    r = _check("blender_reversed_check.py", version, request, work, carphone, work)
    for chunk, shown, err in r["chunks"]:
        assert chunk == shown and err.endswith("watched"), r
    assert r["range"][0] == r["range"][1], r


def test_a_reel_of_many_keyed_shots_keeps_every_curve_s_digest():
    """follow_shots digests every keyed reframe of every shot with a result on each change of the
    scene; the digests of its keys' arrays are kept (a review of a project at scale, 2026-12-06:
    the cache kept 512 curves, so a reel of more walked in the same order evicted each one before
    it was needed again, and every click cost 105-415 ms instead of 15-36 ms)."""
    line = _printed(
        "import bpy, numpy as np, os, tempfile\n"
        "from reenact.blender import look\n"
        "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
        "scene = bpy.context.scene\n"
        "d = tempfile.mkdtemp()\n"
        "import cv2\n"
        "cv2.imwrite(os.path.join(d, 'a.png'), np.zeros((8, 8, 3), np.uint8))\n"
        "strips = scene.sequence_editor_create().strips\n"
        "shots = []\n"
        "for k in range(160):\n"
        "    s = strips.new_image(name='s%d' % k, filepath=os.path.join(d, 'a.png'), channel=1 + k % 30, frame_start=1 + 3 * k)\n"
        "    for f in range(1, 21):\n"
        "        t = s.transform\n"
        "        t.offset_x, t.offset_y, t.scale_x, t.rotation = f + k, f + 2 * k, 1 + f / 100 + k / 1000, f / 50 + k / 1000\n"
        "        for p in ('offset_x', 'offset_y', 'scale_x', 'rotation'):\n"
        "            s.transform.keyframe_insert(p, frame=f)\n"
        "    shots.append(s)\n"
        "index = look.fcurve_index(scene)\n"
        "look._KEYS_REPR.clear(); getattr(look, '_KEYS_REPR_SIZE', [0])[0] = 0\n"
        "first = [look.digests(s, index) for s in shots]\n"
        "kept = len(look._KEYS_REPR)\n"
        "again = [look.digests(s, index) for s in shots]\n"
        "print('KEPT', kept, len(look._KEYS_REPR), first == again)\n"
        "os._exit(0)\n", "KEPT")
    _word, kept, after, same = line.split()
    assert int(kept) == int(after) > 512 and same == "True", line  # (every distinct curve's keys: 512 before)
