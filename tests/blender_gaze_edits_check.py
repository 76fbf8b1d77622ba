# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's gaze and NLA edits (run by tests/test_blender_gaze.py in a fresh bpy process,
5.0 and 4.5; each point failed before 2026-12-06, found by a review of the gaze and NLA
workflow): a look strip whose influence fades in and out kept by Track Again, Keeping Edits;
gaze keyed past the tracker's range, and left out by region Mouth;
Reenact's own property baked with the actor's curves; a gaze channel deleted from an actor without
layers; Reset to Tracked and Mute Edit Layer over a driver and a modifier. Prints one RESULT line (JSON)."""

import json
import os
import sys

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blender_animator_check import actor, perf, scene_of, track  # noqa: E402

GAZE_X = ("gaze_left_x", "gaze_right_x")


def look_strip(clip, work, out):
    """An NLA track of the animator's whose strip looks aside, its influence keyed 0, 1, 0 (a look
    fading in and out), the edit layer at 0: Track Again, Keeping Edits keeps the influence keys
    and their modifier (before 2026-12-06 one key, (1, 0.0), was left: the look never played,
    while the report said the track was kept)."""
    from reenact.blender import layers

    scene = scene_of([("a", clip)], os.path.join(work, "look.blend"))
    ob = track(scene, "a")
    layers.ensure_layers(ob, layers.actor_data.load_actor_track(ob))
    ob.animation_data.action_influence = 0.0  # (Head Edit at 0: the animator works in the NLA)
    act = bpy.data.actions.new("look")
    slot = act.slots.new(id_type="OBJECT", name="look")
    bag = act.layers.new("L").strips.new(type="KEYFRAME").channelbag(slot, ensure=True)
    for p in GAZE_X:
        fc = bag.fcurves.new('["{}"]'.format(p))
        fc.keyframe_points.insert(1, 0.5)
        fc.keyframe_points.insert(24, 0.5)
    nt = ob.animation_data.nla_tracks.new()
    nt.name = "look"
    st = nt.strips.new("look", 1, act)
    st.action_slot = slot
    st.use_animated_influence = True
    for f, v in ((1, 0.0), (12, 1.0), (24, 0.0)):
        st.influence = v
        st.keyframe_insert("influence", frame=f)
    st.fcurves.find("influence").modifiers.new("CYCLES")
    rows = [0, 5, 11, 17, 23]
    before = perf(ob).gaze[rows, 0]
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["a"]
    assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}
    n = actor("a")
    s2 = n.animation_data.nla_tracks["look"].strips[0]
    fc = s2.fcurves.find("influence")
    out["look_strip"] = {"keys": [[float(k.co[0]), float(k.co[1])] for k in fc.keyframe_points],
                         "modifiers": [m.type for m in fc.modifiers], "animated": bool(s2.use_animated_influence),
                         "before": [float(v) for v in before], "after": [float(v) for v in perf(n).gaze[rows, 0]],
                         "edited": len(layers.edited_frames(n, perf(n), layers.actor_data.load_actor_track(n)))}


def gaze_beyond(clip, work, out):
    """Both eyes keyed to look 1.5 rad aside on frames 5-7 (past the tracker's +-0.87): the
    performance read from the curves holds 0.87 there, and Preview Frame says so (before
    2026-12-06 the raw angle went to the network unsaid: the right eye came out whitish)."""
    from reenact.blender.actor import GAZE_PROPS

    scene = scene_of([("b", clip)], os.path.join(work, "beyond.blend"))
    ob = track(scene, "b")
    tracked = perf(ob)
    for p in GAZE_X:
        for f in range(4, 9):
            ob[p] = 1.5 if 5 <= f <= 7 else float(tracked.gaze[f - 1, GAZE_PROPS.index(p)])
            ob.keyframe_insert('["{}"]'.format(p), frame=f)
    got = perf(ob).gaze
    out["gaze_beyond"] = {"read": [float(v) for v in got[3:8, 0]], "max": float(np.abs(got).max())}
    scene.frame_set(6)
    bpy.context.view_layer.objects.active = ob
    assert bpy.ops.reenact.preview_frame(region="face") == {"FINISHED"}
    # region Mouth, the default, draws the mouth alone: it says the gaze is left out (before 2026-12-06 unsaid)
    assert bpy.ops.reenact.preview_frame(region="mouth") == {"FINISHED"}
    out["gaze_beyond"]["actor_props"] = sorted(k for k in ob.keys() if k.startswith("reenact_"))


def baked(clip, work, out):
    """Bake Action with Custom Properties over an actor carrying Reenact's own property (Preview
    Frame's timing, left on the actor before 2026-12-06): no edit, the fast reading kept, Keep
    Edits keeps nothing (before: "kept (1 channel(s) on frames 1-24)", and every read frame by
    frame: 11 s for 20,000 frames)."""
    from reenact.blender import actor as actor_data
    from reenact.blender import curves, layers

    scene = scene_of([("c", clip)], os.path.join(work, "baked.blend"))
    ob = track(scene, "c")
    ob["reenact_last_preview_ms"] = 1234.5
    for o in scene.objects:
        o.select_set(False)
    ob.select_set(True)
    bpy.context.view_layer.objects.active = ob
    assert bpy.ops.nla.bake(frame_start=1, frame_end=24, only_selected=True, visual_keying=True,
                            use_current_action=True, bake_types={"OBJECT"},
                            channel_types={"LOCATION", "ROTATION", "PROPS"}) == {"FINISHED"}
    tracked = actor_data.load_actor_track(ob)
    out["baked"] = {"keyed": curves.edit_bag(ob).fcurves.find('["reenact_last_preview_ms"]') is not None,
                    "fast": curves._fast_evaluate(ob, tracked, scene) is not None,
                    "edited": layers.edited_frames(ob, perf(ob), tracked)}
    print("BAKED KEEP")
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["c"]
    assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}


def deleted_channel(clip, work, out):
    """An actor with no layers yet (keys set straight into its tracked action) whose gaze_left_x
    F-curve was deleted: the render reads the property's own value (0) on every frame, and Track
    Again, Keeping Edits keeps that (before 2026-12-06 the tracked gaze came back, unsaid). The
    Transfer & Edit panel does not call it "Tracked only" (before: it did, over the animator's keys)."""
    from sequencer_check import Layout

    from reenact.blender import actor as actor_data
    from reenact.blender import curves, layers
    from reenact.blender.panels.transfer import SEQUENCER_PT_reenact_transfer as Panel

    scene = scene_of([("e", clip)], os.path.join(work, "deleted.blend"))
    ob = track(scene, "e")
    bag = curves.edit_bag(ob)
    bag.fcurves.remove(bag.fcurves.find('["gaze_left_x"]'))
    ob["gaze_left_x"] = 0.0
    scene.frame_set(3)
    tracked = actor_data.load_actor_track(ob)
    p = perf(ob)
    before = {"gaze": [float(v) for v in p.gaze[:6, 0]], "edited": len(layers.edited_frames(ob, p, tracked)),
              "has_layers": layers.has_layers(ob)}
    log = []
    Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
    before["panel"] = log
    print("DELETED KEEP")
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["e"]
    assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}
    n = actor("e")
    p = perf(n)
    out["deleted_channel"] = {"before": before, "gaze": [float(v) for v in p.gaze[:6, 0]],
                              "edited": len(layers.edited_frames(n, p, actor_data.load_actor_track(n)))}


def still_changed(clip, work, out):
    """Reset to Tracked and Mute Edit Layer over a gaze a driver sets (an empty's X), a Noise
    modifier on the other eye and an NLA track of the animator's: they name what still changes
    the gaze and the frames, and delete none of it (before 2026-12-06: "reset to tracked", "showing
    the tracked performance", while the gaze followed the driver on every frame)."""
    from reenact.blender import curves, layers

    scene = scene_of([("h", clip)], os.path.join(work, "still.blend"))
    ob = track(scene, "h")
    layers.ensure_layers(ob, layers.actor_data.load_actor_track(ob))
    emp = bpy.data.objects.new("LookAt", None)
    scene.collection.objects.link(emp)
    emp.location = (0.4, 0, 0)
    d = ob.driver_add('["gaze_left_x"]')
    d.driver.type = "SCRIPTED"
    v = d.driver.variables.new()
    v.name, v.type = "x", "TRANSFORMS"
    v.targets[0].id, v.targets[0].transform_type, v.targets[0].transform_space = emp, "LOC_X", "WORLD_SPACE"
    d.driver.expression = "x"
    m = curves.edit_bag(ob).fcurves.find('["gaze_right_x"]').modifiers.new("NOISE")
    m.strength, m.scale = 0.3, 2
    act = bpy.data.actions.new("up")  # (an NLA track of the animator's: the eyes up, hidden by the edit layer at 1)
    slot = act.slots.new(id_type="OBJECT", name="up")
    act.layers.new("L").strips.new(type="KEYFRAME").channelbag(slot, ensure=True).fcurves.new(
        '["gaze_left_y"]').keyframe_points.insert(1, 0.3)
    nt = ob.animation_data.nla_tracks.new()
    nt.name = "up"
    nt.strips.new("up", 1, act).action_slot = slot
    for step, call in (("RESET GAZE", lambda: bpy.ops.reenact.reset_to_tracked(actor=ob.name, channels="gaze")),
                       ("RESET MOUTH", lambda: bpy.ops.reenact.reset_to_tracked(actor=ob.name, channels="mouth")),
                       ("MUTE", lambda: bpy.ops.reenact.mute_edit_layer(actor=ob.name))):
        print(step)
        assert call() == {"FINISHED"}
    print("DONE")
    out["still_changed"] = {"drivers": len(ob.animation_data.drivers), "nla": [t.name for t in ob.animation_data.nla_tracks],
                            "modifiers": len(curves.edit_bag(ob).fcurves.find('["gaze_right_x"]').modifiers)}


def main(clip, work):
    out = {"version": list(bpy.app.version)}
    for step in (look_strip, gaze_beyond, baked, deleted_channel, still_changed):
        step(clip, work, out)
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
