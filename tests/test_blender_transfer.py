# SPDX-License-Identifier: GPL-3.0-or-later
"""Transfer, Reset to Tracked, Mute and Curves to Track in the PyPI bpy module (5.0, and 4.5
LTS when .venv-bpy45 exists) on actors built from real tracks, plus CLI == operator."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_transfer_check.py")
PAIRS = {
    # target clip, source clip, offset (target clip frame t takes source clip frame t - offset), range
    "carphone": ("carphone", "carphone", 7, (10, 71)),  # the same actor re-timed (one take onto another)
    "shared": ("driving_d12", "driving_d0", 5, (10, 71)),  # two different people
}


def _clip(name, carphone):
    if name == "carphone":
        return carphone
    path = os.path.join(SHARED_DATA, "clips", name + ".mp4")
    if not os.path.isfile(path):
        pytest.skip("shared data clip {}.mp4 not present (../shared/data is optional)".format(name))
    return path


@pytest.fixture(scope="module")
def track_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tracks")


def _track_file(name, clip, folder):
    path = os.path.join(str(folder), name + ".npz")
    if not os.path.isfile(path):
        from reenact.tracking.tracker import track_video

        track_video(clip)[0].save(path)
    return path


def _config(pair, carphone, folder, out):
    tname, sname, offset, rng = PAIRS[pair]
    tclip, sclip = _clip(tname, carphone), _clip(sname, carphone)
    return {"target": {"clip": tclip, "track": _track_file(tname, tclip, folder)},
            "source": {"clip": sclip, "track": _track_file(sname, sclip, folder)},
            "offset": offset, "range": list(rng), "out": str(out)}


def _run(python, cfg, cwd, env=None):
    res = subprocess.run([python, CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=900,
                         cwd=str(cwd), env=env)
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(lines[-1][7:])


def _check(r):
    # curves -> Track: the inverse of building the actor, exactly (float32 keys, pose via metres and
    # Euler: what they hold of the Track's values reads as them)
    assert r["roundtrip_expr_err"] == 0.0 and r["roundtrip_gaze_err"] == 0.0 and r["roundtrip_conf_err"] == 0.0
    assert r["roundtrip_pose_err"] == 0.0 and r["roundtrip_tracked_same"]
    # curves -> Track -> curves: bit-identical keys on every curve
    assert r["curves_roundtrip_max_diff"] == 0.0 and r["curves_roundtrip_count"] >= 3 + 3 + 4 + 1 + 43
    # a key moved by hand shows at its frame and in the interpolated frames around it
    assert r["hand_edit_at_key"] == r["hand_edit_expected"]
    assert r["hand_edit_interp_err"] < 1e-6 and r["hand_edit_others_unchanged"], r.get("hand_edit_others_diff")
    # bad input: one clear line each, nothing changed
    f = r["failures"]
    assert "same actor" in f["same_actor"][0]
    assert "no overlapping frames" in f["no_overlap"][0]
    assert "from clip 'some_other_clip.mp4'" in f["other_clip"][0]
    assert "expression names differ" in f["expression_names"][0]
    assert all(unchanged for _, unchanged in f.values()), f
    # undo / redo through Blender's undo stack
    assert r["undo_flags"] and r["transfer_changed"] and r["undo_restores"] and r["redo_restores"]
    # layout: the tracked performance in a locked, unmuted NLA track; the edit layer on top
    for lay in r["layout"].values():
        assert lay["tracks"] == ["Tracked"] and lay["tracked_locked"] and not lay["tracked_muted"]
        assert lay["tracked_action"].endswith(" Tracked") and lay["edit_action"] != lay["tracked_action"]
    assert r["tracked_layer_err"] == 0.0
    # after the mouth transfer: mouth = source's (offset applied), everything else unchanged
    # (the source's values as the curves hold them; one within the curves' precision of the target's
    # own tracked value reads as that: transfer.as_tracked)
    assert r["transferred_rows"] > 40 and r["mouth_err"] <= 2e-5
    assert r["mouth_outside_unchanged"] and r["others_unchanged"], r.get("others_diff")
    # the source is remembered as the dubbing actor, with the source frame that drives each row
    assert r["driver_name_ok"] and r["driver_frames_ok"] and r["driver_video_ok"], r
    assert r["driver_rows"][1] - r["driver_rows"][0] >= r["transferred_rows"]
    if "driver_mouth_render" in r:  # Render Performance: the driver's mouth changes the mouth, one strip
        assert r["driver_mouth_render"] == [["FINISHED"], 1, ["FINISHED"], 1], r["driver_mouth_render"]
        assert min(r["driver_mouth_changed"]) > 5, r["driver_mouth_changed"]
        assert r["driver_mouth_preview_diff"] <= 1, r["driver_mouth_preview_diff"]  # Preview == the render
        assert r["driver_mouth_auto_preview_diff"] <= 1, r["driver_mouth_auto_preview_diff"]
        assert r["shot_mouth_preview_diff"] <= 1, r["shot_mouth_preview_diff"]
        assert min(r["shot_mouth_changed"]) > 5, r["shot_mouth_changed"]  # not the renderer's mouth
        assert "nobody" in r["driver_gone_error"] and "is gone" in r["driver_gone_error"], r["driver_gone_error"]
        assert r["driver_gone_unchanged"]
    assert r["hand_edit_kept"] == r["hand_edit_expected"]
    # blend, mute, unmute
    # (within the curves' precision: a value that close to the tracked one reads as it, as_tracked)
    assert r["half_influence_err"] <= 2e-5 and r["muted_is_tracked"] and r["unmuted_is_edit"]
    # reset to tracked over a range, then everything
    assert r["reset_range_is_tracked"] == 0.0 and r["reset_outside_unchanged"]
    assert r["reset_keeps_brow_edit"] == r["hand_edit_expected"]
    assert r["reset_all_is_tracked"]
    assert r["reset_rows_undriven"] == [True, True, True]
    # a trimmed dubbing strip drives from the first frame it shows, not from the frames trimmed away
    assert r["trimmed_drives_from"][0] >= r["trimmed_drives_from"][1], r["trimmed_drives_from"]
    if "relinked_error" in r:  # (the pair of two files) a dubbing strip relinked to another file: refused
        assert r["relinked_error"] and "driving_d12" in r["relinked_error"], r["relinked_error"]
    assert r["reset_all_copies"][1] == r["reset_all_copies"][0] > 0, r["reset_all_copies"]
    assert r["reload_same"] and r["reload_has_layers"]
    assert r["curves_to_track_ms_per_frame"] > 0  # its speed is reported, not asserted
    assert r["removed_actions_left"] == []
    assert r["driver_after_rename"] is True, r  # a renamed dubbing actor is still its driver
    # a duplicate's transfer is its own (before 2026-12-05 the shared action moved the original too)
    assert r["duplicate_shared_action"] and r["duplicate_transfer"] == ["FINISHED"], r
    assert r["duplicate_leaves_original"] and r["duplicate_changed"], r


def _cli_matches_operator(cfg, out):
    """`reenact transfer` on the two Track files gives what the operator gave (within the
    float32 precision of F-curve keys)."""
    from reenact.face.track import Track
    from reenact.face.transfer import as_tracked

    runs = {
        "operator_full": ["--mode", "full", "--offset", str(cfg["offset"]), "--gain", "mouth=1.2", "--gain", "pose=0.8",
                          "--smoothing", "1"],
        "operator_full_rest": ["--mode", "full", "--offset", str(cfg["offset"]), "--anchor", "rest", "--free-turns"],
        "operator_mouth": ["--mode", "mouth", "--offset", str(cfg["offset"]),
                           "--frames", "{}:{}".format(*cfg["range"])],
    }
    worst = {}
    for name, args in runs.items():
        cli_out = os.path.join(out, name + "_cli.npz")
        res = subprocess.run([sys.executable, "-m", "reenact", "transfer", "--source", cfg["source"]["track"],
                              "--target", cfg["target"]["track"], *args, "--out", cli_out],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        a, b = Track.load(cli_out), Track.load(os.path.join(out, name + ".npz"))
        assert np.array_equal(a.tracked, b.tracked)
        ok = a.tracked
        tracked = Track.load(cfg["target"]["track"])
        for key, tol in (("expression", 1e-6), ("blink", 1e-6), ("gaze", 1e-6), ("pose", 2e-5)):
            # (a value the curves hold within their precision of the target's tracked one reads as
            # that one: transfer.as_tracked, read so here too)
            want = as_tracked(getattr(a, key), getattr(tracked, "expression" if key == "blink" else key)[
                :, [list(tracked.expression_names).index(n) for n in ("eyeBlinkLeft", "eyeBlinkRight")]]
                if key == "blink" else getattr(tracked, key))
            d = float(np.abs(want[ok] - getattr(b, key)[ok]).max())
            worst[name + "." + key] = d
            assert d < tol, (name, key, d)
    return worst


@pytest.mark.parametrize("pair", ["carphone", "shared"])
def test_transfer_operators_blender_5(pair, carphone, track_dir, tmp_path):
    cfg = dict(_config(pair, carphone, track_dir, tmp_path), render_driver_mouth=True)
    r = _run(sys.executable, cfg, tmp_path)
    assert r["blender"].startswith("5.0")
    assert "driver_mouth_render" in r
    _check(r)
    _cli_matches_operator(cfg, str(tmp_path))


def test_transfer_operators_blender_4_5(carphone, track_dir, tmp_path, blender45):
    """The same checks on Blender 4.5 LTS (actors are built from the Track files; the checkout
    and the runtime wheels the extension ships: Transfer checks each Track against the footage its
    strip shows, which reads the footage)."""
    py, env = blender45
    pair = "shared" if os.path.isdir(os.path.join(SHARED_DATA, "clips")) else "carphone"
    cfg = _config(pair, carphone, track_dir, tmp_path)
    r = _run(py, cfg, tmp_path, env=env)
    assert r["blender"].startswith("4.5")
    _check(r)


RATE_CHECK = os.path.join(ROOT, "tests", "blender_transfer_rate_check.py")


def _grey_movie(path, n, rate, size=(176, 144)):
    import av

    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 100 + i, np.uint8), format="rgb24")
            vf.pts = i
            for p in vs.encode(vf):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return str(path)


def test_a_driver_of_another_rate_drives_the_frames_it_lines_up_with_on_the_timeline(carphone_track, tmp_path):
    _rate_case(sys.executable, None, carphone_track, tmp_path)


def test_a_driver_of_another_rate_lines_up_by_timeline_frame_blender_4_5(carphone_track, tmp_path, blender45):
    _rate_case(*blender45, carphone_track, tmp_path)


def _rate_case(python, env, carphone_track, tmp_path):
    """A 25 fps target and a 30 fps driver in a 25 fps scene, the driver's strip playing its clip
    frame for frame (Adjust Playback Rate off; its Track says 30 fps): target timeline frame F
    takes the driver's curves at timeline frame F, as the Offset's tooltip says, and a trimmed
    driver drives the frames it shows on the timeline with what it shows there (before
    2026-12-06: re-timed by clip time, 1.2 driver frames a frame, so frame 20 took the driver's
    frame 23, and the trimmed limit, by timeline frame, did not match it)."""
    made = {}
    for role, n, rate in (("target", 50, 25), ("source", 60, 30)):
        clip = _grey_movie(tmp_path / "{}{}.mp4".format(role, rate), n, rate)
        tr = carphone_track.subset(0, n)
        tr.fps, tr.source, tr.source_frames, tr.source_digest = float(rate), os.path.basename(clip), n, ""
        if role == "source":  # a jaw that opens a little more every frame: which frame drives shows
            tr.expression = np.array(tr.expression)
            tr.expression[:, tr.expression_index("jawOpen")] = 0.1 + 0.01 * np.arange(n)
        path = str(tmp_path / "{}.npz".format(role))
        tr.save(path)
        made[role] = {"clip": clip, "track": path}
    cfg = dict(made, source_start=6)
    res = subprocess.run([python, RATE_CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=600,
                         cwd=str(tmp_path), env=env)
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["scene_fps"] == 25 and r["driver_fps"] == 30 and r["driver_rate_adjusted"] is None, r
    assert r["driver_length"] == 60
    tracked = carphone_track.expression[:50, carphone_track.expression_index("jawOpen")]
    for name, first in (("whole", 6), ("trimmed", 16)):
        c = r[name]
        assert c["result"] == ["FINISHED"] and c["shown"][0] == first, (name, c["shown"])
        tgt, drv = ({int(k): v for k, v in c[w].items()} for w in ("target", "driver"))
        for F in range(1, 51):
            if first <= F <= c["shown"][1]:  # lined up with what the driver shows there
                assert abs(tgt[F] - drv[F]) < 1e-5, (name, F, tgt[F], drv[F])
            else:  # (before the driver's first frame shown: the target's own)
                assert abs(tgt[F] - tracked[F - 1]) < 1e-5, (name, F, tgt[F], tracked[F - 1])


# --------------------------------------------------------------------------- the dubbing actor
DRIVER_CHECK = os.path.join(ROOT, "tests", "blender_transfer_driver_check.py")
#: jawOpen of each actor's Track at clip frame i: which frame drives a target's frame shows
JAWS = {"A": lambda i: 0.6 - 0.01 * i, "B": lambda i: 0.1 + 0.01 * i, "C": lambda i: 0.4 + 0.005 * i}


@pytest.fixture(scope="module")
def dub_actors(carphone_track, tmp_path_factory):
    """Three 30-frame 25 fps actors A, B, C (grey clips, carphone's tracking with a jawOpen ramp
    each), and B's Track as tracking its strip trimmed by 10 gives it (clip frames 10-29)."""
    folder = tmp_path_factory.mktemp("dub")
    made = {}
    for k, ramp in JAWS.items():
        clip = _grey_movie(folder / "{}25.mp4".format(k), 30, 25)
        tr = carphone_track.subset(0, 30)
        tr.fps, tr.source, tr.source_frames, tr.source_digest = 25.0, os.path.basename(clip), 30, ""
        tr.expression = np.array(tr.expression)
        tr.expression[:, tr.expression_index("jawOpen")] = [ramp(i) for i in range(30)]
        path = str(folder / "{}.npz".format(k))
        tr.save(path)
        made[k] = {"clip": clip, "track": path}
        if k == "B":
            made["short"] = str(folder / "B_short.npz")
            tr.subset(10, 30).save(made["short"])
    return made


def _dub_case(python, env, actors, tmp_path, *cases):
    cfg = dict(actors, cases=list(cases))
    res = subprocess.run([python, DRIVER_CHECK, json.dumps(cfg)], capture_output=True, text=True, timeout=600,
                         cwd=str(tmp_path), env=env)
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(lines[-1][7:])


def _check_split(r):
    """A dubbing strip cut in two drives with both pieces: in place, every target frame takes the
    driver's frame lined up with it; its second piece moved 5 later (a pause in the line), target
    frames 21-30 take the clip frames 15-24 it shows there and 16-20 keep their own (before
    2026-12-06 the piece that kept the strip's name drove alone: frames 1-15 only, and "the strip
    shows no more (trimmed)")."""
    c = r["in_place"]
    assert c["result"]["result"] == "FINISHED" and "only" not in c["result"]["message"], c["result"]
    tgt, drv = ({int(k): v for k, v in c[w].items()} for w in ("target", "driver"))
    assert all(abs(tgt[F] - drv[F]) < 1e-5 for F in range(1, 31)), (tgt, drv)
    assert c["record"] == ["B Actor 0", list(range(30))], c["record"]
    c = r["moved"]
    assert c["second"] == [21, 36] and c["result"]["result"] == "FINISHED", c
    assert "frames 1-15, 21-30 only" in c["result"]["message"], c["result"]
    tgt, drv = ({int(k): v for k, v in c[w].items()} for w in ("target", "driver"))
    for F in range(1, 31):
        want = drv[F] if F <= 15 else JAWS["A"](F - 1) if F <= 20 else drv[F - 5]
        assert abs(tgt[F] - want) < 1e-5, (F, tgt[F], want)
    assert c["record"][1] == list(range(15)) + [-1] * 5 + list(range(15, 25)), c["record"]


def _check_modes(r):
    """Only a mode that moves the mouth records its driver, on the rows it changed (before
    2026-12-06 Gaze C->A made C the driver of B's lip sync, and Pose at Offset 5 moved the rows)."""
    whole = ["B Actor 0", list(range(30))]
    assert r["after_mouth"] == whole and r["after_gaze"] == whole and r["after_pose"] == whole, r
    assert r["driver_clip"] == "ok B25.mp4", r["driver_clip"]
    m = r["mouth_c"]
    assert m["result"] == "FINISHED" and m["level"] == "WARNING", m
    assert "frames 1-15 keep the mouth of 'B Actor 0'" in m["message"], m
    assert r["after_mouth_c"] == ["C Actor 0", [-1] * 15 + list(range(15, 30))], r["after_mouth_c"]


def _check_retracked(r):
    """The dubbing actor tracked again on fewer frames than drive the dub: Render Performance's
    line names it and says what to do (before 2026-12-06 the donor's "Error: Reenact: covers clip
    frames 10..29, the performance is driven by frames 0..29", naming nothing)."""
    e = r["error"]
    assert "'B Actor 0' is tracked on frames 11-30" in e and "its frames 1-30 drive the mouth of 'A Actor 0'" in e, e
    assert "Transfer Performance again" in e and "Mouth to Shot or Renderer" in e, e


def _check_strip_gone(r):
    """The dubbing actor's strip deleted: said as the dub's driver's, with Mouth Shot / Renderer
    offered (before 2026-12-06 the strip's own line: "rename it back, or track it again")."""
    e = r["error"]
    assert "the strip 'B' of the dubbing actor 'B Actor 0', whose mouth drives 'A Actor 0', is gone" in e, e
    assert "set Mouth to Shot or Renderer" in e, e


def _check_stale(r):
    """The dubbing strip moved, trimmed or cut after a mouth transfer: Render Performance and Preview
    Frame are told to transfer again (before 2026-12-06 nothing said so); lined up again, or a
    transfer that left the mouth alone: nothing."""
    assert r["moved"] and r["moved"] in r["render_notes"], r  # (Render Performance says it: added 2026-12-06)
    assert r["moved_then_again"].startswith("frame(s) 1-3 of 'A Actor 0' keep a mouth transferred from 'B Actor 0' "
                                            "when its dubbing strip 'B' lay otherwise"), r["moved_then_again"]
    assert r["fresh"] == "" and r["both_moved"] == "" and r["untrimmed"] == "" and r["gaze_only"] == "", r
    assert "'B' lay then; that strip lies 3 frame(s) later against the shot" in r["moved"], r["moved"]
    assert "Transfer Performance again" in r["moved"] and "'A Actor 0'" in r["moved"], r["moved"]
    assert "was trimmed since" in r["trimmed"], r["trimmed"]
    assert "was cut or joined since" in r["cut"], r["cut"]


def _check_chain(r):
    """A->B, then B->C at Offset 2: C's mouth is A's, so A is recorded as the dubbing actor with
    A's frames (before 2026-12-06 B, with B's frames: Mouth Driver drew B's own mouth)."""
    assert r["first"]["result"] == "FINISHED" and r["second"]["result"] == "FINISHED", r
    assert "the dubbing actor recorded: 'A Actor 0'" in r["second"]["message"], r["second"]
    assert r["record"] == ["A Actor 0", [-1, -1] + list(range(28))], r["record"]
    ja, jc = ({int(k): v for k, v in r[w].items()} for w in ("jaw_a", "jaw_c"))
    assert all(abs(jc[F] - ja[F - 2]) < 1e-5 for F in range(3, 31))
    assert r["driver_clip"] == "ok A25.mp4", r["driver_clip"]


def _check_replaced(r):
    """Transfer again says which keys of other edits on the channels it writes it replaced (a
    hand fix of jawOpen, not the brow key it leaves), and nothing when it only rewrites its own."""
    assert "replaced" not in r["first"]["message"] and r["first"]["level"] == "INFO", r["first"]
    m = r["again"]
    assert m["level"] == "WARNING" and "replaced keys" in m["message"], m
    assert "jawOpen on frame 12 (1 keys" in m["message"] and "browInnerUp" not in m["message"], m
    assert "Ctrl-Z" in m["message"], m
    assert "replaced" not in r["third"]["message"] and r["third"]["level"] == "INFO", r["third"]


DUB_CASES = ("split", "modes", "retracked", "strip_gone", "stale", "chain", "replaced")


@pytest.mark.parametrize("case", DUB_CASES)
def test_the_dubbing_actor(case, dub_actors, tmp_path):
    r = _dub_case(sys.executable, None, dub_actors, tmp_path, case)
    globals()["_check_" + case](r[case])


def test_the_dubbing_actor_blender_4_5(dub_actors, tmp_path, blender45):
    r = _dub_case(*blender45, dub_actors, tmp_path, *DUB_CASES)
    assert r["blender"].startswith("4.5")
    for case in DUB_CASES:
        globals()["_check_" + case](r[case])


def test_a_driver_track_short_of_the_driving_frames_is_named_with_what_to_do(carphone, carphone_track):
    """The donor's line when its driver Track came as a Track (Blender, render --also): it names
    the Track's footage and says what to do (before 2026-12-06 the bare "covers clip frames ...")."""
    from reenact.face import transfer as X
    from reenact.render.donor import open_donor

    src = X._copy(carphone_track)
    tgt = X._copy(carphone_track)
    tgt.source = "other.mp4"
    perf = X.transfer(src, tgt, "mouth", offset=10)
    short = src.subset(int(src.frame_start) + 30, int(src.frame_start) + 50)
    with pytest.raises(ValueError) as err:
        open_donor(perf, short, carphone, accept_footage=True)
    e = str(err.value)
    assert e.startswith("the driver Track of '{}': covers clip frames".format(os.path.basename(src.source))), e
    assert "transfer again from this Track" in e and "Mouth Shot or Renderer" in e, e
