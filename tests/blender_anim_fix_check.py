# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's edits through Transfer, Reset to Tracked and Track Again (run by
tests/test_anim_fix_edits.py in a fresh bpy process, 5.0 and 4.5): the scenario named by the
first argument; prints one RESULT line (JSON). Each failed before 2026-12-06 (an audit of the
animator's workflow)."""

import json
import os
import sys

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blender_animator_check import actor, track  # noqa: E402,F401  (the same scene helpers)
from sequencer_check import empty_scene  # noqa: E402

JAW = 'key_blocks["jawOpen"].value'
SAID = []


def scene_of(clips, path):
    """A factory scene with a movie strip per (name, file), channel 1 up, saved as ``path``;
    what the operators report kept in SAID."""
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    for k, (name, clip) in enumerate(clips):
        blend.add_movie_strip(scene, clip, channel=1 + k, frame_start=1, name=name, fit_scene=k == 0)
    bpy.ops.wm.save_as_mainfile(filepath=path)
    from reenact.blender import report as R
    import reenact.blender.operators.transfer as T
    import reenact.blender.operators.track as K

    def rep(op, level, msg):
        SAID.append("{}: {}".format(level, msg))
        return op.report({level}, R.PREFIX + str(msg))

    T.report = K.report = rep
    return bpy.context.scene


def said(call):
    """What an operator call said: its reports, or its error's last line (ERR ...)."""
    SAID.clear()
    try:
        call()
    except RuntimeError as exc:
        return SAID + ["ERR " + str(exc).strip().splitlines()[-1]]
    return list(SAID)


def perf(ob):
    from reenact.blender import layers

    return layers.curves_to_track(ob, bpy.context.scene)


def col(p, name):
    return np.asarray(p.expression)[:, [str(n) for n in p.expression_names].index(name)]


def r3(a):
    return [round(float(x), 3) for x in a]


def slot(clip, clip2, work, out):
    """A second action slot made active on the target's shape keys (Action Editor, New Slot):
    Transfer and Reset to Tracked write into it (before 2026-12-06 a traceback, 'NoneType' object
    has no attribute 'fcurves')."""
    from reenact.blender import actor as A
    from reenact.blender import layers

    scene = scene_of([("a", clip), ("b", clip2)], os.path.join(work, "slot.blend"))
    a, b = track(scene, "a"), track(scene, "b")
    tracked, src = col(perf(a), "jawOpen"), col(perf(b), "jawOpen")
    layers.ensure_layers(a, A.tracked_track(a))
    ad = a.data.shape_keys.animation_data
    ad.action_slot = ad.action.slots.new(id_type="KEY", name="variant")
    out["slot"] = ad.action_slot.name_display
    out["transfer"] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth"))
    out["transferred"] = float(np.abs(col(perf(a), "jawOpen") - src).max())
    out["reset"] = said(lambda: bpy.ops.reenact.reset_to_tracked(actor=a.name))
    out["reset_back"] = float(np.abs(col(perf(a), "jawOpen") - tracked).max())
    out["still_variant"] = ad.action_slot.name_display


def pushed(clip, clip2, work, out):
    """A hand key on jawOpen, then the NLA editor's Push Down on both IDs: Track Again, Keeping
    Edits refuses in one line, saying what to do (before 2026-12-06 every channel became its value
    on the current frame, said kept); done, the edits come through. An edit layer unassigned from
    the shape keys (the Tracked layer playing alone there) carries nothing (before: its value on
    the current frame on every frame)."""
    from reenact.blender import actor as A
    from reenact.blender import layers

    scene = scene_of([("a", clip)], os.path.join(work, "pushed.blend"))
    a = track(scene, "a")
    fc = a.data.shape_keys.animation_data.action.layers[0].strips[0].channelbags[0].fcurves.find(JAW)
    fc.keyframe_points.insert(8, 0.8)
    fc.update()
    scene.frame_set(3)
    want = perf(a)
    kept = []
    for idd in (a, a.data.shape_keys):
        ad = idd.animation_data
        act, slot = ad.action, ad.action_slot
        t = ad.nla_tracks.new()
        st = t.strips.new(act.name, int(act.frame_range[0]), act)
        st.action_slot = slot
        ad.action = None
        kept.append((idd, act, slot, t))
    out["shown_pushed"] = float(np.abs(col(perf(a), "jawOpen") - col(want, "jawOpen")).max())
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["a"]
    out["keep"] = said(lambda: bpy.ops.reenact.track_strip(keep_edits=True))
    out["plain"] = said(lambda: bpy.ops.reenact.track_strip())
    out["same_actor"] = actor("a") == a
    if not out["same_actor"]:
        return
    for idd, act, slot, t in kept:  # what the refusal says: the pushed action active again, its track muted
        idd.animation_data.action = act
        idd.animation_data.action_slot = slot
        t.mute = True
    out["done"] = said(lambda: bpy.ops.reenact.track_strip(keep_edits=True))
    got = perf(actor("a"))
    out["jaw_want"], out["jaw_got"] = r3(col(want, "jawOpen")[:10]), r3(col(got, "jawOpen")[:10])
    out["smile_diff"] = float(np.abs(col(got, "mouthSmileLeft") - col(want, "mouthSmileLeft")).max())
    out["pose_diff"] = float(np.nanmax(np.abs(np.asarray(got.pose) - np.asarray(want.pose))))
    # the shape keys' edit layer unassigned: the Tracked layer plays there, and Keeping Edits carries no key
    b = actor("a")
    layers.ensure_layers(b, A.tracked_track(b))
    b.data.shape_keys.animation_data.action = None
    tracked = col(perf(b), "jawOpen")
    scene.frame_set(3)
    out["unassigned"] = said(lambda: bpy.ops.reenact.track_strip(keep_edits=True))
    out["unassigned_diff"] = float(np.abs(col(perf(actor("a")), "jawOpen") - tracked).max())


def delta(clip, clip2, work, out):
    """Keys on the head's delta rotation and location move it in the viewport and in the render
    (before 2026-12-06 the render read location and rotation alone, and a plain Track Again
    dropped them unsaid); scale keys, which the render cannot draw, are said and not dropped."""
    from reenact.blender import actor as A
    from reenact.blender import layers

    scene = scene_of([("a", clip)], os.path.join(work, "delta.blend"))
    a = track(scene, "a")
    p0 = np.asarray(perf(a).pose)
    a.delta_rotation_euler = (0.0, 0.0, 0.3)
    a.keyframe_insert("delta_rotation_euler", frame=5)
    a.delta_location = (0.0, 0.02, 0.0)
    a.keyframe_insert("delta_location", frame=5)
    scene.frame_set(5)
    ev = a.evaluated_get(bpy.context.evaluated_depsgraph_get())
    m = ev.matrix_basis
    want = A.blender_to_track_pose(np.array([m.translation]), np.array([m.to_3x3().normalized().to_euler("XYZ")]))
    p1 = perf(a)
    row = 5 - int(p1.frame_start) - int(a.reenact.frame_offset)
    out["pose_change"] = float(np.nanmax(np.abs(np.asarray(p1.pose) - p0)))
    out["pose_vs_viewport"] = float(np.abs(np.asarray(p1.pose)[row] - want[0]).max())
    out["edited"] = layers.edited_frames(a, p1, A.load_actor_track(a))
    out["plain"] = said(lambda: track(scene, "a"))
    out["keep"] = said(lambda: track(scene, "a", keep_edits=True))
    b = actor("a")
    out["kept_diff"] = float(np.nanmax(np.abs(np.asarray(perf(b).pose) - np.asarray(p1.pose))))
    # the head scaled: the render cannot draw it (said), and a plain Track Again does not drop it
    out["replace"] = said(lambda: track(scene, "a", replace_edits=True))
    b = actor("a")
    p1 = perf(b)
    b.scale = (1.3, 1.3, 1.3)
    b.keyframe_insert("scale", frame=5)
    base = A.load_actor_track(b)
    info = {}
    p2 = layers.curves_to_track(b, scene, base, info=info)
    out["scale_pose_change"] = float(np.nanmax(np.abs(np.asarray(p2.pose) - np.asarray(p1.pose))))
    out["scale_note"] = layers.clipped_note(b, base, info)
    out["scale_plain"] = said(lambda: track(scene, "a"))
    out["scale_keep"] = said(lambda: track(scene, "a", keep_edits=True))
    c = actor("a")
    out["scale_kept"] = [round(v, 3) for v in c.scale]
    out["scale_keys_kept"] = layers.scaled_frames(c, A.load_actor_track(c))


def hidden(clip, clip2, work, out):
    """A mouth transfer onto an actor whose setup hides or alters it (a driver on jawOpen, the
    edit layer muted or at influence 0.5, a Noise modifier on jawOpen) says so (before 2026-12-06
    only "24 frames (1-24)")."""
    from reenact import unregister
    from reenact.blender import actor as A
    from reenact.blender import blend, layers

    def driver(a):
        d = a.data.shape_keys.key_blocks["jawOpen"].driver_add("value")
        d.driver.type = "SCRIPTED"
        d.driver.expression = "0.05"

    def muted(a):
        bpy.ops.reenact.mute_edit_layer(actor=a.name)

    def half(a):
        layers.ensure_layers(a, A.tracked_track(a))
        a.data.shape_keys.animation_data.action_influence = 0.5

    def noise(a):
        blend.channelbag(a.data.shape_keys, ensure=False).fcurves.find(JAW).modifiers.new("NOISE").strength = 0.5

    for k, prep in enumerate((driver, muted, half, noise, None)):
        if k:
            unregister()
        scene = scene_of([("a", clip), ("b", clip2)], os.path.join(work, "hidden{}.blend".format(k)))
        a, b = track(scene, "a"), track(scene, "b")
        if prep is not None:
            prep(a)
        name = prep.__name__ if prep is not None else "plain"
        out[name] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth"))


def offset(clip, clip2, work, out):
    """A mouth transfer at offset 0, then at offset 5: frames 1-5 keep the first one's mouth, and
    the report says so (before 2026-12-06 it named frames 6-24 alone)."""
    scene = scene_of([("a", clip), ("b", clip2)], os.path.join(work, "offset.blend"))
    a, b = track(scene, "a"), track(scene, "b")
    out["x0"] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth"))
    out["x5"] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth",
                                                                  offset=5))
    out["x5_again"] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth",
                                                                        offset=5))
    out["reset"] = said(lambda: bpy.ops.reenact.reset_to_tracked(actor=a.name, channels="mouth", use_range=True,
                                                                 frame_start=1, frame_end=5))
    out["x5_reset"] = said(lambda: bpy.ops.reenact.transfer_performance(source=b.name, target=a.name, mode="mouth",
                                                                        offset=5))


def duplicate(clip, clip2, work, out):
    """A Shift+D copy of an actor, its jaw keyed: Track Again, Keeping Edits says it is a copy on
    its original's face (before 2026-12-06 'found no face where it was'), and Replacing Edits names
    it deleted (before: 'tracked 1 actor(s)')."""
    scene = scene_of([("a", clip)], os.path.join(work, "duplicate.blend"))
    a = track(scene, "a")
    layer = bpy.context.view_layer
    for o in scene.objects:
        o.select_set(False)
    a.select_set(True)
    layer.objects.active = a
    assert bpy.ops.object.duplicate() == {"FINISHED"}
    d = layer.objects.active
    out["names"] = [a.name, d.name]
    kb = d.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 0.85
    kb.keyframe_insert("value", frame=8)
    out["keep"] = said(lambda: track(scene, "a", keep_edits=True))
    out["replace"] = said(lambda: track(scene, "a", replace_edits=True))
    out["actors"] = sorted(o.name for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)


if __name__ == "__main__":
    name, clip, clip2, work = sys.argv[1:5]
    out = {"version": list(bpy.app.version)}
    try:
        globals()[name](clip, clip2, work, out)
    except Exception as exc:  # (the old code's way out: said, and the process ends)
        import traceback

        traceback.print_exc()
        out["error"] = repr(exc)
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # (4.5 may hang at exit)
