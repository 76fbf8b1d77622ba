# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's edits, as the render reads them and as Track Again and Undo keep them, in
Blender 5.0 and 4.5 (tests/blender_animator_check.py; each point failed on the version before
2026-12-06, found by a review of the animator's workflow)."""

import numpy as np
import pytest

from test_blender_look import _check


@pytest.fixture(scope="module")
def clips(carphone, tmp_path_factory):
    """(24 frames of the sample clip, the same with frames 10-13 grey: a face the tracker loses)."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    d = tmp_path_factory.mktemp("animator")
    clip, gap = d / "clip.mp4", d / "gap.mp4"
    with open_video(carphone) as src, VideoWriter(str(clip), 25, (src.width, src.height), crf=12) as a, \
            VideoWriter(str(gap), 25, (src.width, src.height), crf=12) as g:
        for i in range(24):
            f = src.read(i)
            a.write(f)
            g.write(np.full_like(f, 128) if 10 <= i < 14 else f)
    return str(clip), str(gap)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_an_animators_edits_reach_the_render_and_survive_track_again_and_undo(clips, tmp_path, version, request):
    r = _check("blender_animator_check.py", version, request, tmp_path, clips[0], clips[1], tmp_path)
    # a strip moved 10 frames: an Alt+D copy's shared keys move 10 (before: 20); an actor whose
    # action another actor borrowed keeps its keys when the borrower's strip moves (before: moved)
    assert r["copy_shares_keys"] and r["linked_copy_moved"] == 10.0
    assert r["lender_moved"] == 0.0 and r["borrower_first_key"] == 16.0
    # a drag moves the keys once, when it ends (before 2026-12-06 on every step: a long shot's drag stuttered)
    assert r["while_dragged"] == 0.0 and r["drag_timer"] and r["drag_poll_again"] == 0.1, r
    assert r["drag_ended"] == [None, 8.0], r
    # an animator's NLA strip's influence keys move with the shot (before 2026-12-06 they stayed)
    assert r["nla_influence_keys"] == [[34.0, 0.0], [40.0, 1.0]], r
    # what the mesh shows renders: a muted jawOpen adds nothing, a Limit Rotation holds the head
    assert r["muted_jaw"][0] > 0.05 and r["muted_jaw"][1] == 0.0
    assert r["held_head"][0] > 0.05 and r["held_head"][1] < 1e-5 and r["idle_constraint_edits"] == 0
    # an actor whose shape keys were deleted: the panel says so, the operators refuse in one line
    assert "Its shape keys are gone: Track Again, Replacing Edits" in r["no_keys_panel"], r["no_keys_panel"]
    for said in r["no_keys_ops"]:
        assert said.endswith("has no shape keys (deleted?): its expressions are gone; Track Again, Replacing Edits "
                             "(Track panel) builds the actor again") and "Traceback" not in said, said
    # another .blend's shot: linked, its Track found beside the library and the change refused in one line;
    # appended, the missing Track names where it looked; an excluded actor is not picked (one line)
    assert r["link_track_found"] and "'Shot010' is linked from 'shot.blend': make it local" in r["link_reset"], r
    # (appended, Blender makes the Track's path absolute where it was saved relative: found, and the reset done
    # on the appended copy; where not found, the line names where it looked)
    assert (r["append_track_found"] and r["append_reset"] == "") or "is not there" in r["append_reset"], r
    assert "is not in view layer" in r["excluded_pick"] and "include the collection" in r["excluded_pick"], r
    # a hidden actor read frame by frame (a constraint on it) keeps its keys, and stays hidden
    h = r["hidden_actor"]
    assert h["shown"][:2] == [0.9, 0.1] and h["hide_viewport"] == [0.9, 0.1, True, False] and \
        h["excluded"] == [0.9, 0.1, False, True], h
    # Track Again, Keeping Edits: the name, material, driver, F-curve modifier and NLA track stay
    k = r["kept"]
    assert (k["name"], k["materials"], k["drivers"], k["modifiers"]) == ("Alice", ["skin"], 1, 1)
    assert k["nla"] == ["Tracked", "lent"] and k["driver_reads"] and k["driver_valid"]  # (it reads the new object)
    assert np.allclose(k["values"], k["values_before"], atol=0.02), k
    # a key on a frame the new trim hides: said so; the trim extended back, that frame alone an edit
    assert "the edits of 't Actor 0' kept (1 channel(s) on frames 4); of them, frame(s) 4 lie where 't' does not " \
        "show now: not tracked, no render draws them" in r["_stdout"], r["_stdout"][-3000:]
    assert "the edits of 't Actor 0' kept (1 channel(s) on frames 4);" in r["_stdout"].split("lie where 't'")[-1]
    b = r["beyond_trim"]
    assert b["edited"] == [4] and b["shown"][1] == 0.9, b
    assert np.allclose([b["shown"][k] for k in (0, 2, 3, 4)], [b["tracked"][k] for k in (0, 2, 3, 4)], atol=1e-4), b
    # Ctrl-Z after Track Again: the actor back on the Track it was made from, no frame an edit
    u = r["undo"]
    assert u["paths"][0] != u["paths"][1] and u["back_on"] == u["paths"][0] and u["edits"] == 0
    # a key on frames the tracker lost: Track Again refuses to drop it, naming the frame
    assert r["lost"] and "has keys on frame(s) {} where its face is not tracked".format(r["lost"][0]) in r["lost_refused"]
    assert r["lost_kept"] == ["Gus", 0.9]  # (Keeping Edits keeps it, and the name, with no tracked frame edited)
    # edits pushed down into the NLA: a mouth transfer refuses to hide them
    assert "its edits are pushed down into the NLA" in r["pushed_refused"]
    # the performance read from the F-curves (a 20,000-frame shot in a fraction of a second) is
    # Blender's own evaluation through every edit; a driver is left to Blender's
    steps = dict(r["fast_reading"])
    assert steps.pop("driver") is None, r["fast_reading"]
    assert all(d is not None and d < 1e-5 for d in steps.values()), r["fast_reading"]
    assert "the edits of 'f Actor 0' kept (2 channel(s) on frames" in r["_stdout"], r["_stdout"][-3000:]
    # a key past the slider's 0..1: Preview Frame says the render draws it at 1
    assert "jawOpen of 'q Actor 0' keyed outside 0..1 on frame(s) 10" in r["_stdout"]
