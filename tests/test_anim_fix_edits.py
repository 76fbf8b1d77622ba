# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's edits through Transfer Performance, Reset to Tracked and Track Again, in
Blender 5.0 and 4.5 (tests/blender_anim_fix_check.py, one scenario a test; each failed before
2026-12-06, found by an audit of the animator's workflow)."""

import pytest

from test_blender_look import _check

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def clips(carphone, tmp_path_factory):
    """(24 frames of the sample clip, its frames 30-53: another take to dub from)."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    d = tmp_path_factory.mktemp("anim_fix")
    a, b = d / "a.mp4", d / "b.mp4"
    with open_video(carphone) as src, VideoWriter(str(a), 25, (src.width, src.height), crf=12) as wa, \
            VideoWriter(str(b), 25, (src.width, src.height), crf=12) as wb:
        for i in range(24):
            wa.write(src.read(i))
            wb.write(src.read(i + 30))
    return str(a), str(b)


def _run(name, clips, tmp_path, version, request):
    return _check("blender_anim_fix_check.py", version, request, tmp_path, name, clips[0], clips[1], tmp_path)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_new_action_slot_of_the_animators_takes_a_transfer_and_a_reset(clips, tmp_path, version, request):
    r = _run("slot", clips, tmp_path, version, request)
    assert r["slot"] == "variant" and r["still_variant"] == "variant", r
    for key in ("transfer", "reset"):
        assert r[key] and not any(s.startswith("ERR") for s in r[key]), r[key]
    assert r["transferred"] < 1e-3 and r["reset_back"] < 1e-4, r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_edits_pushed_down_into_the_nla_are_refused_by_track_again_then_kept(clips, tmp_path, version, request):
    r = _run("pushed", clips, tmp_path, version, request)
    assert r["shown_pushed"] < 1e-6, r
    for key in ("keep", "plain"):  # (before: Keeping Edits made every channel its frame-3 value, said kept)
        assert r[key][-1].startswith("ERR") and "its edits are pushed down into the NLA ('NlaTrack')" in r[key][-1] \
            and "make the pushed action active again (Action Editor) and mute its NLA track(s)" in r[key][-1], r[key]
    assert r["same_actor"], r
    # done as it says: the hand key and the tracking between, as they were
    assert "kept (1 channel(s) on frames 8" in r["done"][-1], r["done"]
    assert r["jaw_got"] == r["jaw_want"] and r["smile_diff"] < 1e-4 and r["pose_diff"] < 1e-4, r
    # the shape keys' edit layer unassigned: the Tracked layer plays there, and nothing is held
    assert r["unassigned_diff"] < 1e-4, r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_the_heads_delta_transform_renders_and_its_scale_is_said_and_kept(clips, tmp_path, version, request):
    r = _run("delta", clips, tmp_path, version, request)
    # delta rotation and location keys: read as the viewport moves the head (before: pose change 0.0, no edit)
    assert r["pose_change"] > 0.1 and r["pose_vs_viewport"] < 1e-4 and r["edited"], r
    assert r["plain"][-1].startswith("ERR") and "has edits on 24 frame(s)" in r["plain"][-1], r["plain"]
    assert "the edits of 'a Actor 0' kept" in r["keep"][-1] and r["kept_diff"] < 1e-4, r
    # scale: the render draws the tracked size (said), and a plain Track Again refuses to drop it
    assert r["scale_pose_change"] < 1e-4, r
    assert "the head of 'a Actor 0' is scaled on frame(s) 1-24" in r["scale_note"], r["scale_note"]
    assert r["scale_plain"][-1].startswith("ERR") and "has its head scaled on frame(s) 1-24" in r["scale_plain"][-1], r
    assert r["scale_kept"] == [1.3, 1.3, 1.3] and r["scale_keys_kept"] == list(range(1, 25)), r


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_transfer_says_what_on_the_target_hides_or_alters_it(clips, tmp_path, version, request):
    r = _run("hidden", clips, tmp_path, version, request)
    lead = "mouth transfer 'b Actor 0' -> 'a Actor 0': 24 frames (1-24)"
    assert r["plain"] == ["INFO: " + lead], r["plain"]  # (nothing in the way: nothing said)
    for case, words in (("driver", "a driver on jawOpen"), ("muted", "its edit layer muted on the expressions"),
                        ("half", "its edit layer at influence 0.50 on the expressions"),
                        ("noise", "a Noise modifier on jawOpen")):
        assert r[case] == ["WARNING: {}; 'a Actor 0' does not show this transfer as written: it keeps {}".format(
            lead, words) + (" (Mute Edit Layer unmutes it)" if case == "muted" else
                            " (the transfer blended with the tracking)" if case == "half" else "")], (case, r[case])


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_transfer_at_another_offset_names_the_frames_keeping_the_earlier_one(clips, tmp_path, version, request):
    r = _run("offset", clips, tmp_path, version, request)
    said = "frames 1-5 keep the mouth of an earlier transfer from 'b Actor 0' (this one does not reach them): " \
        "Reset to Tracked there clears it"
    assert r["x0"] == ["INFO: mouth transfer 'b Actor 0' -> 'a Actor 0': 24 frames (1-24)"], r["x0"]
    assert said in r["x5"][-1] and said in r["x5_again"][-1], r  # (before: frames 6-24 alone named)
    assert r["x5_reset"] == ["INFO: mouth transfer 'b Actor 0' -> 'a Actor 0': 19 frames (6-24)"], r  # (cleared)


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_shift_d_copy_of_an_actor_is_named_by_track_again(clips, tmp_path, version, request):
    r = _run("duplicate", clips, tmp_path, version, request)
    assert r["names"] == ["a Actor 0", "a Actor 0.001"], r
    # Keeping Edits: a copy on its original's face (before: 'found no face where it was', the face there)
    assert r["keep"][-1].startswith("ERR") and "actor 'a Actor 0.001' has edits and lies on the face of actor " \
        "'a Actor 0' (a copy of it, Shift+D?)" in r["keep"][-1] and "Replacing Edits deletes it" in r["keep"][-1], r
    # Replacing Edits names what it deletes (before: 'tracked 1 actor(s) in 'a'' alone)
    assert r["replace"] == ["WARNING: tracked 1 actor(s) in 'a', 100% of frames; actor(s) 'a Actor 0.001' deleted, "
                            "with their keys: no new face takes their place (Ctrl-Z brings them back)"], r["replace"]
    assert r["actors"] == ["a Actor 0"], r
