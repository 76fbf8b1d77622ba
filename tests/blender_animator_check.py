# SPDX-License-Identifier: GPL-3.0-or-later
"""An animator's edits as the render reads them and as Track Again and Undo keep them (run by
tests/test_blender_animator.py in a fresh bpy process, 5.0 and 4.5): an Alt+D copy and an action
borrowed from another actor when a strip moves, a muted shape key and a constraint, Track Again
Keeping Edits with a renamed actor, its material, a driver, an F-curve modifier and an NLA track,
and with a key on frames a trim hides, Ctrl-Z after Track Again, keys on frames the tracker lost, edits pushed down into the NLA, and
a key past the slider's 0..1. Prints one RESULT line (JSON)."""

import json
import os
import sys

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sequencer_check import empty_scene  # noqa: E402


_REGISTERED = []


def scene_of(clips, path):
    """A factory scene with a movie strip per (name, file), channel 1 up, saved as ``path``."""
    from reenact import unregister
    from reenact.blender import blend

    if _REGISTERED:  # (a scene before this one registered Reenact)
        unregister()
    scene = empty_scene(176, 144)
    _REGISTERED.append(True)
    for k, (name, clip) in enumerate(clips):
        blend.add_movie_strip(scene, clip, channel=1 + k, frame_start=1, name=name, fit_scene=k == 0)
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return bpy.context.scene


def actor(name):
    return [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor and o.reenact.strip_name == name][0]


def track(scene, name, **kw):
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all[name]
    assert bpy.ops.reenact.track_strip(**kw) == {"FINISHED"}
    return actor(name)


def fcurve(idd, path, index=0):
    from reenact.blender import blend

    return blend.channelbag(idd, ensure=False).fcurves.find(path, index=index)


def first_key(idd, path):
    return float(fcurve(idd, path).keyframe_points[0].co[0])


def perf(ob):
    from reenact.blender import layers

    return layers.curves_to_track(ob, bpy.context.scene)


def error_of(call):
    try:
        call()
    except RuntimeError as exc:
        return str(exc).strip().splitlines()[-1]
    return ""


JAW = 'key_blocks["jawOpen"].value'


def moves(clip, work, out):
    """An Alt+D copy shares the actor's shape keys and action: the strip moved 10 frames moves
    the keys 10 frames (before 2026-12-06: 20). An action borrowed from another actor: that
    actor's keys stay when the borrower's strip moves (before: they moved with it)."""
    scene = scene_of([("a", clip), ("b", clip)], os.path.join(work, "moves.blend"))
    a, b = track(scene, "a"), track(scene, "b")
    layer = bpy.context.view_layer
    for o in scene.objects:
        o.select_set(False)
    a.select_set(True)
    layer.objects.active = a
    assert bpy.ops.object.duplicate(linked=True) == {"FINISHED"}
    out["copy_shares_keys"] = layer.objects.active.data.shape_keys == a.data.shape_keys
    before = first_key(a.data.shape_keys, JAW)
    scene.sequence_editor.strips_all["a"].frame_start = 11
    layer.update()
    out["linked_copy_moved"] = first_key(a.data.shape_keys, JAW) - before
    ka, kb = a.data.shape_keys.animation_data, b.data.shape_keys.animation_data
    kb.action = ka.action
    kb.action_slot = ka.action.slots[0]
    scene.sequence_editor.strips_all["b"].frame_start = 6
    layer.update()
    out["lender_moved"] = first_key(a.data.shape_keys, JAW) - before - 10
    out["borrower_first_key"] = first_key(b.data.shape_keys, JAW)
    # a strip dragged (a transform running: faked, the bpy module has no window): its actor's
    # keys follow once, when the drag ends (before 2026-12-06 on every step of it)
    from reenact.blender import layers

    real, layers.dragged = layers.dragged, lambda: True
    try:
        start = first_key(a.data.shape_keys, JAW)
        for step in (5, 3):
            scene.sequence_editor.strips_all["a"].frame_start += step
            layer.update()
        out["while_dragged"] = first_key(a.data.shape_keys, JAW) - start
        out["drag_timer"] = bpy.app.timers.is_registered(layers._after_drag)
        out["drag_poll_again"] = layers._after_drag()  # (the drag still runs: it looks again)
    finally:
        layers.dragged = real
    out["drag_ended"] = [layers._after_drag(), first_key(a.data.shape_keys, JAW) - start]
    if bpy.app.timers.is_registered(layers._after_drag):
        bpy.app.timers.unregister(layers._after_drag)
    # an NLA strip of the animator's whose influence is keyed: its keys move with the shot (before
    # 2026-12-06 the strip moved and its influence keys stayed: the fade played at the old frames)
    ad = a.data.shape_keys.animation_data
    look = ad.nla_tracks.new().strips.new("look", 30, ad.action)
    look.use_animated_influence = True
    for frame, v in ((30, 0.0), (36, 1.0)):
        look.influence = v
        look.keyframe_insert("influence", frame=frame)
    scene.sequence_editor.strips_all["a"].frame_start += 4
    layer.update()
    out["nla_influence_keys"] = [[round(k.co[0], 1), round(k.co[1], 2)] for fc in look.fcurves
                                 for k in fc.keyframe_points]


def viewport(clip, work, out):
    """A muted shape key adds nothing and a Limit Rotation holds the head, in the render as on
    the mesh (before 2026-12-06 the render read the muted key's value and the unconstrained
    rotation)."""
    from reenact.blender import actor as actor_data

    scene = scene_of([("c", clip)], os.path.join(work, "viewport.blend"))
    c = track(scene, "c")
    p0 = perf(c)
    j = [str(n) for n in p0.expression_names].index("jawOpen")
    c.data.shape_keys.key_blocks["jawOpen"].mute = True
    p1 = perf(c)
    c.data.shape_keys.key_blocks["jawOpen"].mute = False
    out["muted_jaw"] = [float(np.nanmax(p0.expression[:, j])), float(np.nanmax(np.abs(p1.expression[:, j])))]
    from reenact.blender import layers

    c.parent.location = (120.0, -75.0, 30.0)  # a constraint that moves nothing, the camera far from the origin:
    idle = c.constraints.new("LIMIT_ROTATION")  # no frame an edit (a first version read float32 rounding as edits)
    out["idle_constraint_edits"] = len(layers.edited_frames(c, perf(c), actor_data.load_actor_track(c)))
    c.constraints.remove(idle)
    c.parent.location = (0.0, 0.0, 0.0)
    con = c.constraints.new("LIMIT_ROTATION")
    con.use_limit_x = con.use_limit_y = con.use_limit_z = True
    p2 = perf(c)
    ok = np.asarray(p0.tracked, bool)
    loc, _rot = actor_data.track_pose_to_blender(np.asarray(p0.pose)[ok])
    held = actor_data.blender_to_track_pose(loc, np.zeros_like(loc))
    out["held_head"] = [float(np.abs(np.asarray(p0.pose)[ok][:, :3] - held[:, :3]).max()),
                        float(np.abs(np.asarray(p2.pose)[ok][:, :3] - held[:, :3]).max())]
    # the actor hidden (disabled in viewports, or its collection excluded) while the constraint sends the
    # reading frame by frame: its keys still reach the render (before 2026-12-06 every row read one frame's)
    kb = c.data.shape_keys.key_blocks["jawOpen"]
    first = int(c.reenact.frame_offset) + int(p0.frame_start)
    for f, v in ((first + 2, 0.9), (first + 8, 0.1)):
        kb.value = v
        kb.keyframe_insert("value", frame=f)
    hidden = {}
    for how in ("shown", "hide_viewport", "excluded"):
        lc = bpy.context.view_layer.layer_collection.children.get(c.users_collection[0].name)
        if how == "hide_viewport":
            c.hide_viewport = True
        if how == "excluded":
            c.hide_viewport = False
            lc.exclude = True
        e = perf(c).expression[:, j]
        hidden[how] = [round(float(e[2]), 3), round(float(e[8]), 3), bool(c.hide_viewport), bool(lc.exclude)]
        lc.exclude = False
    out["hidden_actor"] = hidden


def keep_edits(clip, work, out):
    """Track Again, Keeping Edits keeps the name and material the animator gave the actor, its
    driver, the F-curve modifier of an edited channel and an NLA track laid over it (before
    2026-12-06 all dropped while the report said the edits were kept)."""
    scene = scene_of([("d", clip)], os.path.join(work, "keep.blend"))
    d = track(scene, "d")
    d.name = "Alice"
    mat = bpy.data.materials.new("skin")
    d.data.materials.append(mat)
    key = d.data.shape_keys
    d["smile"] = 0.8  # a control on the actor object that a shape key's driver reads
    drv = key.key_blocks["mouthSmileLeft"].driver_add("value")
    drv.driver.type = "SCRIPTED"
    var = drv.driver.variables.new()
    var.name, var.targets[0].id_type, var.targets[0].id, var.targets[0].data_path = "s", "OBJECT", d, '["smile"]'
    drv.driver.expression = "s"
    brow = fcurve(key, 'key_blocks["browInnerUp"].value')
    m = brow.modifiers.new("GENERATOR")
    m.mode, m.use_additive = "POLYNOMIAL", True
    m.coefficients = (0.3, 0.0)
    lent = bpy.data.actions.new("lent")
    slot = lent.slots.new(id_type="KEY", name="lent")
    bag = lent.layers.new("L").strips.new(type="KEYFRAME").channelbag(slot, ensure=True)
    bag.fcurves.new('key_blocks["eyeSquintLeft"].value').keyframe_points.insert(5, 0.5)
    nt = key.animation_data.nla_tracks.new()
    nt.name = "lent"
    nt.strips.new("lent", 5, lent).action_slot = slot
    names = [str(n) for n in perf(d).expression_names]
    before = perf(d).expression[2, [names.index("mouthSmileLeft"), names.index("browInnerUp")]]
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["d"]
    assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}
    n = actor("d")
    k = n.data.shape_keys
    out["kept"] = {"name": n.name, "materials": [x.name for x in n.data.materials],
                   "drivers": len(k.animation_data.drivers),
                   "driver_reads": k.animation_data.drivers[0].driver.variables[0].targets[0].id == n,
                   "driver_valid": bool(k.animation_data.drivers[0].driver.is_valid),
                   "modifiers": len(fcurve(k, 'key_blocks["browInnerUp"].value').modifiers),
                   "nla": [t.name for t in k.animation_data.nla_tracks],
                   "values": [float(v) for v in perf(n).expression[2, [names.index("mouthSmileLeft"),
                                                                       names.index("browInnerUp")]]],
                   "values_before": [float(v) for v in before]}


def kept_beyond_trim(clip, work, out):
    """A key on a frame the strip's new trim hides, Track Again Keeping Edits: the report says
    the strip does not show it now, and Keeping Edits again once the trim is extended back edits
    that frame alone, the new tracking on both sides (before 2026-12-06 said kept as if shown,
    then the frames up to the tracking were counted as edits, drawn interpolated from the key)."""
    from reenact.blender import actor as actor_data, layers

    scene = scene_of([("t", clip)], os.path.join(work, "trim.blend"))
    t = track(scene, "t")
    kb = t.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 0.9
    kb.keyframe_insert("value", frame=4)
    strip = scene.sequence_editor.strips_all["t"]
    strip.frame_offset_start = 8  # (shows 9-24)
    t = track(scene, "t", keep_edits=True)
    strip.frame_offset_start = 0
    t = track(scene, "t", keep_edits=True)
    tr = actor_data.load_actor_track(t)
    p = perf(t)
    j = [str(n) for n in p.expression_names].index("jawOpen")
    rows = [f - int(t.reenact.frame_offset) - int(tr.frame_start) for f in (3, 4, 5, 6, 8)]
    out["beyond_trim"] = {"edited": layers.edited_frames(t, p, tr),
                          "shown": [round(float(p.expression[r, j]), 4) for r in rows],
                          "tracked": [round(float(tr.expression[r, j]), 4) for r in rows]}


def undo(clip, work, out):
    """Ctrl-Z after Track Again gives the actor back with the Track it was made from (before
    2026-12-06 the file was written over: every frame an edit)."""
    from reenact.blender import actor as actor_data, layers

    scene = scene_of([("e", clip)], os.path.join(work, "undo.blend"))
    e = track(scene, "e")
    first = bpy.path.abspath(e.reenact.track_path)
    bpy.ops.ed.undo_push(message="tracked")
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["e"]
    assert bpy.ops.reenact.track_strip(use_focal=True, focal_mm=35.0) == {"FINISHED"}
    second = bpy.path.abspath(actor("e").reenact.track_path)
    bpy.ops.ed.undo_push(message="tracked again")
    bpy.ops.ed.undo()
    e = actor("e")
    tr = actor_data.load_actor_track(e)
    out["undo"] = {"paths": [os.path.basename(first), os.path.basename(second)],
                   "back_on": os.path.basename(bpy.path.abspath(e.reenact.track_path)),
                   "edits": len(layers.edited_frames(e, perf(e), tr))}


def lost_frames(gap, work, out):
    """A key on frames the tracker lost: Track Again refuses to drop it (before 2026-12-06 it
    went without a word)."""
    scene = scene_of([("g", gap)], os.path.join(work, "gap.blend"))
    g = track(scene, "g")
    lost = [int(f) + 1 for f in np.flatnonzero(~np.asarray(perf(g).tracked, bool))]
    out["lost"] = lost
    if lost:
        fcurve(g.data.shape_keys, JAW).keyframe_points.insert(lost[0], 0.9)
        scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["g"]
        out["lost_refused"] = error_of(lambda: bpy.ops.reenact.track_strip())
        g.name = "Gus"  # Keep Edits: that key and the name stay, though no tracked frame is edited
        assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}
        n = actor("g")
        out["lost_kept"] = [n.name, round(fcurve(n.data.shape_keys, JAW).evaluate(lost[0]), 3)]


def pushed_and_clipped(clip, gap, work, out):
    """Edits pushed down into the NLA: a mouth transfer refuses to hide them under a new edit
    layer (before 2026-12-06: hidden). A key past 1: Preview Frame says the render draws 1."""
    scene = scene_of([("p", clip), ("q", gap)], os.path.join(work, "pushed.blend"))  # (two shots)
    p, q = track(scene, "p"), track(scene, "q")
    fcurve(q.data.shape_keys, JAW).keyframe_points.insert(10, 1.6)
    scene.frame_set(10)
    bpy.context.view_layer.objects.active = q
    assert bpy.ops.reenact.preview_frame() == {"FINISHED"}  # (the active actor)
    for idd in (p, p.data.shape_keys):
        ad = idd.animation_data
        act, slot = ad.action, ad.action_slot
        st = ad.nla_tracks.new().strips.new(act.name, int(act.frame_range[0]), act)
        st.action_slot = slot
        ad.action = None
    out["pushed_refused"] = error_of(lambda: bpy.ops.reenact.transfer_performance(source=q.name, target=p.name,
                                                                                  mode="mouth"))


def fast_reading(clip, work, out):
    """The performance read from the F-curves equals Blender's own evaluation, frame by frame,
    through the edits an animator makes (a Bezier key, a Noise modifier, the Tracked layer under
    an edit blended at 50 %, a moved strip, a muted key); a driver sends it to Blender's."""
    from reenact.blender import actor as actor_data, curves, layers

    scene = scene_of([("f", clip)], os.path.join(work, "fast.blend"))
    f = track(scene, "f")
    tr = actor_data.load_actor_track(f)
    key = f.data.shape_keys
    steps = []

    def compare(what):
        fast = curves._fast_evaluate(f, tr)
        slow = curves.evaluate_actor(f, tr, bpy.context.scene, fast=False)
        diff = None if fast is None else max(float(np.nanmax(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
                                             for k, (a, b) in enumerate(zip(fast, slow)) if k != 2)
        steps.append([what, diff])

    compare("tracked")
    key.animation_data.action_influence = 0.0  # (no Tracked layer under it yet: Blender applies it whole)
    compare("influence 0 over no layer")
    key.animation_data.action_influence = 1.0
    fcurve(key, JAW).keyframe_points.insert(7, 0.9)
    compare("bezier key")
    fcurve(key, JAW).keyframe_points.insert(9, 3.0)  # (past the slider's -1..2: Blender holds it at 2)
    compare("past the slider")
    key.key_blocks["mouthClose"].name = 'mouth"Close'  # (its F-curve's path escaped)
    compare("quoted name")
    key.key_blocks['mouth"Close'].name = "mouthClose"
    extra = f.shape_key_add(name="extra", from_mix=False)
    extra.value = 0.25
    empty = curves.edit_bag(key).fcurves.new('key_blocks["extra"].value')  # (no keys: Blender skips it)
    compare("empty curve")
    curves.edit_bag(key).fcurves.remove(empty)
    f.shape_key_remove(extra)
    fcurve(key, 'key_blocks["browInnerUp"].value').modifiers.new("NOISE")
    key.animation_data.action.update_tag()  # (as the interface does: Blender's evaluation takes it up)
    compare("noise modifier")
    layers.ensure_layers(f, tr)
    key.animation_data.action_influence = 0.5
    f.animation_data.action_influence = 0.25
    compare("layers blended")
    scene.sequence_editor.strips_all["f"].frame_start = 6
    bpy.context.view_layer.update()
    compare("strip moved")
    key.key_blocks["mouthSmileLeft"].mute = True
    compare("muted key")
    drv = key.key_blocks["mouthSmileRight"].driver_add("value")
    drv.driver.expression = "0.3"
    compare("driver")
    out["fast_reading"] = steps
    # Keep Edits after the strip moved: the two channels edited (a key, a modifier), not every channel
    # (before 2026-12-06 the moved edit layer was compared with the tracking unshifted)
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["f"]
    assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}


def no_keys(clip, work, out):
    """An actor whose shape keys were deleted (Shape Keys > Delete All): the Transfer & Edit panel
    says so and each operator refuses in one line (before 2026-12-06 the panel raised on every
    redraw and the operators failed with a traceback)."""
    from sequencer_check import Layout

    from reenact.blender.panels.transfer import SEQUENCER_PT_reenact_transfer as Panel

    scene = scene_of([("k", clip)], os.path.join(work, "no_keys.blend"))
    k = track(scene, "k")
    assert bpy.ops.reenact.reset_to_tracked(actor=k.name, use_range=True, frame_start=2, frame_end=3) == {"FINISHED"}
    k.shape_key_clear()
    log = []
    Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
    out["no_keys_panel"] = log
    said = []
    for call in (lambda: bpy.ops.reenact.mute_edit_layer(actor=k.name),
                 lambda: bpy.ops.reenact.reset_to_tracked(actor=k.name),
                 lambda: bpy.ops.reenact.render_performance(region="mouth")):
        try:
            call()
            said.append("")
        except RuntimeError as exc:  # (the whole message: one line, no traceback)
            said.append(str(exc).strip())
    out["no_keys_ops"] = said


def other_files(clip, work, out):
    """A shot's scene linked into another .blend: its actors' Tracks are found beside the library
    (before 2026-12-06 beside this file), and the operators refuse in one line to change what
    saving would lose (they finished as if done); appended, a missing Track names where it looked;
    an actor whose collection is excluded from the view layer is refused by the actor button (a
    traceback, the selection cleared)."""
    from reenact.blender import actor as actor_data

    lib_dir = os.path.join(work, "library")
    os.makedirs(lib_dir, exist_ok=True)
    scene = scene_of([("lib", clip)], os.path.join(lib_dir, "shot.blend"))
    scene.name = "Shot010"
    a = track(scene, "lib")
    bpy.ops.wm.save_mainfile()
    exc_layer = bpy.context.view_layer.layer_collection.children.get(a.users_collection[0].name)
    exc_layer.exclude = True
    out["excluded_pick"] = error_of(lambda: bpy.ops.reenact.make_actor_active(actor=a.name))
    exc_layer.exclude = False
    bpy.ops.wm.save_mainfile()
    for mode in ("link", "append"):
        bpy.ops.wm.read_homefile(use_empty=True)
        bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "edit_{}.blend".format(mode)))
        with bpy.data.libraries.load(os.path.join(lib_dir, "shot.blend"), link=(mode == "link")) as (_src, dst):
            dst.scenes = ["Shot010"]
        s2 = bpy.data.scenes["Shot010"]
        b = [o for o in s2.objects if o.reenact.is_actor][0]
        out[mode + "_track_found"] = os.path.isfile(actor_data.track_file(b))
        with bpy.context.temp_override(scene=s2, view_layer=s2.view_layers[0]):
            out[mode + "_reset"] = error_of(lambda: bpy.ops.reenact.reset_to_tracked(actor=b.name))


def main(clip, gap, work):
    out = {"version": list(bpy.app.version)}
    for step in (moves, viewport, keep_edits, kept_beyond_trim, undo, fast_reading, no_keys, other_files):
        step(clip, work, out)
    lost_frames(gap, work, out)
    pushed_and_clipped(clip, gap, work, out)
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
