# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's gaze and NLA edits, as the render reads them and as Track Again keeps them, in
Blender 5.0 and 4.5 (tests/blender_gaze_edits_check.py; each point failed before 2026-12-06,
found by a review of the gaze and NLA workflow)."""

import numpy as np
import pytest

from test_blender_look import _check


@pytest.fixture(scope="module")
def clip(carphone, tmp_path_factory):
    """24 frames of the sample clip."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    path = tmp_path_factory.mktemp("gaze") / "clip.mp4"
    with open_video(carphone) as src, VideoWriter(str(path), 25, (src.width, src.height), crf=12) as out:
        for i in range(24):
            out.write(src.read(i))
    return str(path)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_gaze_and_nla_edits(clip, tmp_path, version, request):
    r = _check("blender_gaze_edits_check.py", version, request, tmp_path, clip, tmp_path)
    # Track Again, Keeping Edits: a look strip's influence keys (fading in and out) and their modifier kept
    # (before: one key (1, 0.0) left, the look never played)
    s = r["look_strip"]
    assert s["animated"] and s["keys"] == [[1.0, 0.0], [12.0, 1.0], [24.0, 0.0]] and s["modifiers"] == ["CYCLES"], s
    assert np.allclose(s["after"], s["before"], atol=1e-4) and s["edited"] > 0, s
    # gaze keyed to 1.5 rad on frames 5-7: read at 0.87 (what the tracker reads, Transfer's clamp), and said
    # (before: the raw angle reached the network unsaid, the right eye drawn whitish)
    g = r["gaze_beyond"]
    assert np.allclose(g["read"][1:4], 0.87) and g["max"] <= 0.87 and g["read"][0] < 0.87, g
    assert "gaze of 'b Actor 0' keyed beyond \u00b10.87 rad (50\u00b0) on frame(s) 6: drawn at \u00b10.87" in r["_stdout"], \
        r["_stdout"][-3000:]
    # region Mouth keeps the footage's eyes: said, naming the frame (before: unsaid)
    assert "'b Actor 0': region Mouth draws the mouth alone and keeps the footage's eyes: frame(s) 6 change the gaze: " \
        "render them with region Face" in r["_stdout"], r["_stdout"][-3000:]
    # Preview Frame's timing stays off the actor; baked with Custom Properties (a file saved before), it is no edit:
    # the fast reading kept, Keep Edits keeps nothing (before: "kept (1 channel(s) on frames 1-24)", read frame by frame)
    assert g["actor_props"] == [], g
    b = r["baked"]
    assert b["keyed"] and b["fast"] and b["edited"] == [], b
    kept = r["_stdout"].split("BAKED KEEP")[-1]
    assert "tracked 1 actor(s) in 'c'" in kept and "the edits of 'c Actor 0' kept" not in kept, kept[-2000:]
    # a gaze channel deleted from an actor without layers (read 0 on all 24 frames): Keep Edits keeps it and says so
    # (before: the tracked gaze came back, unsaid)
    d = r["deleted_channel"]
    assert not d["before"]["has_layers"] and d["before"]["gaze"] == [0.0] * 6 and d["before"]["edited"] == 24, d
    assert d["gaze"] == [0.0] * 6 and d["edited"] == 24, d
    assert "No edit layer yet: the tracking and your keys are one action" in d["before"]["panel"], d  # (not "Tracked only")
    assert "the edits of 'e Actor 0' kept (1 channel(s) on frames 1-24)" in r["_stdout"].split("DELETED KEEP")[-1], \
        r["_stdout"][-2000:]
    # Reset to Tracked / Mute Edit Layer name what still changes the gaze, and keep it (before: "tracked", unsaid)
    out = r["_stdout"].split("RESET GAZE")[-1]
    reset, mouth, mute = out.split("RESET MOUTH")[0], out.split("RESET MOUTH")[1].split("MUTE")[0], \
        out.split("MUTE")[-1].split("DONE")[0]
    assert "'h Actor 0' reset to tracked on frames 1-24 (4 curves); but 'h Actor 0' keeps a driver on gaze_left_x, " \
        "a Noise modifier on gaze_right_x: frame(s) 1-24 still edited" in reset, reset
    assert "reset to tracked on frames 1-24" in mouth and "still edited" not in mouth, mouth  # (the mouth is tracked)
    assert "edit layer of 'h Actor 0' muted; but 'h Actor 0' keeps a driver on gaze_left_x, its NLA track 'up': " \
        "frame(s) 1-24 still edited" in mute, mute  # (the Noise is the muted edit layer's; 'up' shows once it is muted)
    assert r["still_changed"] == {"drivers": 1, "nla": ["Tracked", "up"], "modifiers": 1}, r["still_changed"]
