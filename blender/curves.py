# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading an actor's animation (imports bpy): the two IDs that carry its performance, its
layers (the locked "Tracked" NLA strip and the edit action above it: blender/layers.py makes
them) and the performance Blender evaluates from them at every frame of the Track
(:func:`evaluate_actor`)."""

import bpy  # noqa: F401  (the actor's datablocks)
import numpy as np

from . import actor as actor_data

TRACKED = "Tracked"


def animated_ids(ob):
    """(object, shape keys): the two IDs that carry an actor's performance (shape keys None when
    they were deleted: :func:`check_keys`)."""
    return ob, getattr(ob.data, "shape_keys", None)


def check_keys(ob):
    """ValueError, one line, when the actor's shape keys are gone (Shape Keys ▸ Delete All): its
    expressions have nowhere to be read or written (before 2026-12-06 a traceback in every
    operator and the Transfer & Edit panel gone)."""
    if getattr(ob.data, "shape_keys", None) is None:
        raise ValueError("actor '{}' has no shape keys (deleted?): its expressions are gone; Track Again, "
                         "Replacing Edits (Track panel) builds the actor again".format(ob.name))


def bookkeeping(fc):
    """True for an F-curve of one of Reenact's own custom properties (``["reenact_..."]``: a timing,
    the remembered influences): nothing a render reads, so no edit, and read past. A Bake Action
    with Custom Properties keys them (before 2026-12-06 such a curve read as an edit on every
    frame: Keep Edits said "kept (1 channel(s) on frames 1-24)" and every read left the fast path)."""
    return fc.data_path.startswith('["reenact')


def timeline_frames(ob, track):
    return (np.asarray(track.frames()) + int(ob.reenact.frame_offset)).astype(np.int64)


def evaluate_actor(ob, track, scene, fast=True):
    """Evaluate the actor's animation (everything Blender evaluates) at the timeline frame of
    every row of ``track``: returns pose (T, 6, Track convention), expression (T, K), the
    shape-key names, gaze (T, 4), confidence (T,). The animation as Track Actor and the
    operators lay it out (the Tracked NLA strip and the edit action above it, Replace, no
    drivers or constraints) is read from its F-curves directly (:func:`_fast_evaluate`: a 20,000
    frame shot in a fraction of a second, where setting the scene to each frame took 11 s, and
    longer with every other actor of the scene, each evaluated at every frame); anything else
    (an NLA track of the animator's, a driver, a constraint) frame by frame, as Blender
    evaluates it (``fast`` False: always)."""
    check_keys(ob)
    if fast:
        got = _fast_evaluate(ob, track, scene)
        if got is not None:
            return got
    frames = timeline_frames(ob, track)
    T = len(frames)
    kb = ob.data.shape_keys.key_blocks
    names = [k.name for k in kb][1:]
    vals = np.empty(len(kb), np.float32)
    expr = np.empty((T, len(names)))
    loc = np.empty((T, 3))
    rot = np.empty((T, 3))
    gaze = np.empty((T, 4))
    conf = np.empty(T)
    # what the viewport shows is what renders (since 2026-12-06; before, a muted shape key and a
    # constraint on the head showed on the mesh and not in the render): a muted key adds nothing,
    # a constraint (Limit Rotation, Damped Track ...) moves the head
    muted = np.array([bool(k.mute) for k in kb][1:], bool)
    constrained = any(not c.mute and c.influence > 0 for c in ob.constraints)
    cur, sub = scene.frame_current, scene.frame_subframe
    shown = _shown_while_read(ob, scene)  # (a disabled or excluded actor is not evaluated: it read one frame)
    try:
        for i, f in enumerate(frames):
            scene.frame_set(int(f))
            ev = _evaluated(ob, scene)
            ev.data.shape_keys.key_blocks.foreach_get("value", vals)
            expr[i] = vals[1:]
            free = ev.matrix_basis if ev.parent is None else (
                ev.parent.matrix_world @ ev.matrix_parent_inverse @ ev.matrix_basis) if constrained else None
            if constrained and max(abs(a - b) for ra, rb in zip(free, ev.matrix_world) for a, b in zip(ra, rb)) > 1e-4:
                # the head's place after its constraints, in its parent's (the camera's) space; only where
                # they move it (the matrices' float32 rounding, far from the origin, is no edit)
                m = ev.matrix_world if ev.parent is None else (
                    ev.matrix_parent_inverse.inverted() @ ev.parent.matrix_world.inverted() @ ev.matrix_world)
                loc[i] = m.translation
                rot[i] = m.to_3x3().normalized().to_euler("XYZ")
            else:  # (its delta transform too, as the viewport moves it: before 2026-12-06 not read)
                loc[i] = ev.matrix_basis.translation
                rot[i] = ev.rotation_euler if ev.rotation_mode == "XYZ" and not any(ev.delta_rotation_euler) else \
                    ev.matrix_basis.to_3x3().normalized().to_euler("XYZ", ev.rotation_euler)
            gaze[i] = [float(ev.get(p, 0.0)) for p in actor_data.GAZE_PROPS]
            conf[i] = float(ev.get("confidence", 0.0))
    finally:
        shown()
        scene.frame_set(cur, subframe=sub)
    expr[:, muted] = 0.0
    pose = actor_data.blender_to_track_pose(loc, rot)
    return pose, expr, names, gaze, conf


def _curve_at(fc, t):
    """F-curve ``fc`` at the times ``t`` (float64 array): with numpy for keys all LINEAR or all
    CONSTANT (what tracking and transfers write) without modifiers, held before the first key
    and after the last; ``fc.evaluate`` for anything else (Bezier hand keys, modifiers)."""
    n = len(fc.keyframe_points)
    if n and not len(fc.modifiers) and fc.extrapolation == "CONSTANT":
        co = np.empty(2 * n, np.float32)
        fc.keyframe_points.foreach_get("co", co)
        x, y = co[0::2].astype(np.float64), co[1::2].astype(np.float64)
        if n == 1:
            return np.full(len(t), y[0])
        ip = np.empty(n, np.int32)
        fc.keyframe_points.foreach_get("interpolation", ip)
        if np.all(np.diff(x) > 0):
            if np.all(ip[:-1] == _enum("interpolation", "LINEAR")):
                return np.interp(t, x, y)
            if np.all(ip[:-1] == _enum("interpolation", "CONSTANT")) and np.all(x == np.round(x)):
                # (keys on whole frames: Blender takes a key a hair after the frame as on it)
                return y[np.clip(np.searchsorted(x, t, side="right") - 1, 0, n - 1)]
    return np.array([fc.evaluate(float(f)) for f in t], np.float64)


def _plain_values(idd, t, known):
    """{(data path, index): values at the scene frames ``t``} of the ID's animation when it is
    laid out as Reenact lays it (at most the Tracked NLA strip, Replace, held, and the active
    action, Replace, over it; no drivers; F-curves of the paths ``known(path)`` accepts), else
    None (the caller evaluates frame by frame)."""
    ad = idd.animation_data
    if ad is None:
        return {}
    if len(ad.drivers) or ad.use_tweak_mode or not ad.use_nla or any(tr.is_solo for tr in ad.nla_tracks):
        return None
    out = {}
    live = [tr for tr in ad.nla_tracks if not tr.mute and len(tr.strips)]
    if any(tr.name != TRACKED for tr in live) or len(live) > 1:
        return None

    def usable(fc):  # (False: a curve this reader does not follow; None: one Blender skips)
        if fc.mute or (fc.group is not None and fc.group.mute):
            return False
        if bookkeeping(fc):
            return None
        if not known(fc.data_path):
            return False
        if not len(fc.keyframe_points):  # (Blender skips it, unless a modifier makes its values)
            return False if any(m.type in ("GENERATOR", "FNGENERATOR") for m in fc.modifiers) else None
        return True

    if live:
        if len(live[0].strips) != 1:
            return None
        st = live[0].strips[0]
        if (st.mute or st.blend_type != "REPLACE" or st.use_animated_influence or st.extrapolation != "HOLD"
                or abs(st.scale - 1.0) > 1e-9 or abs(st.repeat - 1.0) > 1e-9 or st.use_reverse
                or st.blend_in > 0 or st.blend_out > 0 or st.action is None or st.action_slot is None
                or abs((st.frame_end - st.frame_start) - (st.action_frame_end - st.action_frame_start)) > 1e-4):
            return None
        bag = _channelbag_of(st.action, st.action_slot)
        ta = np.clip(t, st.frame_start, st.frame_end) - st.frame_start + st.action_frame_start
        for fc in (bag.fcurves if bag is not None else ()):
            ok = usable(fc)
            if ok is False:
                return None
            if ok:
                out[(fc.data_path, fc.array_index)] = _curve_at(fc, ta)
    if ad.action is not None:
        if ad.action_blend_type != "REPLACE" or ad.action_extrapolation != "HOLD" or ad.action.use_frame_range:
            return None
        w = float(ad.action_influence) if live else 1.0  # (over no NLA strip Blender applies it whole)
        bag = edit_bag(idd)
        for fc in (bag.fcurves if bag is not None else ()):
            ok = usable(fc)
            if ok is False:
                return None
            if ok is None:
                continue
            key = (fc.data_path, fc.array_index)
            v = _curve_at(fc, t)
            if w >= 1.0:
                out[key] = v
            elif key in out:
                out[key] = out[key] + (v - out[key]) * w
            elif w > 0.0:  # (blended over what lies under it in Blender: not this reader's to guess)
                return None
    return out


def _fast_evaluate(ob, track, scene=None):
    """:func:`evaluate_actor` from the F-curves, for an actor animated as Reenact lays it out (no
    driver, no constraint, no NLA track of the animator's); None otherwise. Matches Blender's
    own evaluation (tests/blender_animator_check.py compares the two)."""
    key = ob.data.shape_keys
    if key is None or ob.rotation_mode != "XYZ" or any(not c.mute and c.influence > 0 for c in ob.constraints):
        return None
    if any(ob.delta_location) or any(ob.delta_rotation_euler):  # (a delta transform: frame by frame, which reads it)
        return None
    if any(sc.render.frame_map_old != sc.render.frame_map_new  # (Time Stretching)
           for sc in ([scene] if scene is not None else list(ob.users_scene))):
        return None
    t = np.asarray(timeline_frames(ob, track), np.float64)
    T = len(t)
    esc = bpy.utils.escape_identifier
    shape_paths = {'key_blocks["{}"].value'.format(esc(k.name)) for k in key.key_blocks}
    ob_paths = {"location", "rotation_euler", "scale", "delta_scale"} | {  # (a delta transform keyed: frame by frame)
        '["{}"]'.format(p) for p in actor_data.GAZE_PROPS + ("confidence",)}
    # (any other path, a key's mute or slider animated, an index-form path: frame by frame)
    obv, kv = _plain_values(ob, t, ob_paths.__contains__), _plain_values(key, t, shape_paths.__contains__)
    if obv is None or kv is None:
        return None

    def channel(vals, path, index, static):
        v = vals.get((path, index))
        return np.full(T, float(static)) if v is None else v

    kb = key.key_blocks
    names = [k.name for k in kb][1:]
    expr = np.empty((T, len(names)))
    for j, k in enumerate(list(kb)[1:]):
        v = channel(kv, 'key_blocks["{}"].value'.format(esc(k.name)), 0, k.value)
        expr[:, j] = 0.0 if k.mute else np.clip(v, k.slider_min, k.slider_max)  # (as Blender holds a key's value)
    loc = np.stack([channel(obv, "location", i, ob.location[i]) for i in range(3)], 1)
    rot = np.stack([channel(obv, "rotation_euler", i, ob.rotation_euler[i]) for i in range(3)], 1)
    gaze = np.stack([channel(obv, '["{}"]'.format(p), 0, ob.get(p, 0.0)) for p in actor_data.GAZE_PROPS], 1)
    conf = channel(obv, '["confidence"]', 0, ob.get("confidence", 0.0))
    f32 = np.float32  # (as Blender holds them)
    pose = actor_data.blender_to_track_pose(loc.astype(f32), rot.astype(f32))
    return pose, expr.astype(f32).astype(np.float64), names, gaze.astype(f32).astype(np.float64), \
        conf.astype(f32).astype(np.float64)


def _shown_while_read(ob, scene):
    """Let ``scene``'s depsgraph evaluate ``ob`` while its animation is read frame by frame: an
    actor disabled in viewports, in a collection disabled in viewports or excluded from the view
    layer is not evaluated, and read the values of one frame on every row (before 2026-12-06: a
    hidden actor's render ignored its keys where a driver or constraint sent it this way). Returns
    the function that puts each flag back as it was."""
    changed = []

    def clear(x, attr):
        if getattr(x, attr, False):
            changed.append((x, attr))
            setattr(x, attr, False)

    clear(ob, "hide_viewport")
    holders, todo = set(), list(ob.users_collection)
    while todo:  # the collections holding it, and those holding them
        c = todo.pop()
        if c.name in holders:
            continue
        holders.add(c.name)
        clear(c, "hide_viewport")
        todo += [p for p in bpy.data.collections if c.name in p.children]
    for layer in scene.view_layers:
        stack = [layer.layer_collection]
        while stack:
            lc = stack.pop()
            if lc.collection.name in holders:
                clear(lc, "exclude")
            stack += list(lc.children)

    def put_back():
        for x, attr in reversed(changed):
            setattr(x, attr, True)

    return put_back


def _evaluated(ob, scene):
    """``ob`` as ``scene``'s depsgraph evaluates it at the scene's frame. In Blender 5.0
    ``frame_set`` brings the evaluation back into the datablocks only for the scene the window
    shows, so an actor of another scene (the sequencer's own scene, a farm task of a file saved
    showing another scene) is read from its scene's own depsgraph (before 2026-12-05 it was read
    unevaluated there: its curves stuck at one frame, and Preview Frame failed in OpenCV)."""
    ctx = bpy.context
    if getattr(ctx, "scene", None) == scene and getattr(ctx, "view_layer", None) is not None:
        return ob.evaluated_get(ctx.evaluated_depsgraph_get())
    layers = [v for v in scene.view_layers if ob.name in v.objects] or list(scene.view_layers)
    depsgraph = layers[0].depsgraph
    depsgraph.update()
    return ob.evaluated_get(depsgraph)


_KEY_ATTRS = (  # (name, components, dtype) of every Keyframe property worth keeping
    ("co", 2, np.float32), ("handle_left", 2, np.float32), ("handle_right", 2, np.float32),
    ("handle_left_type", 1, np.int32), ("handle_right_type", 1, np.int32),
    ("interpolation", 1, np.int32), ("type", 1, np.int32), ("easing", 1, np.int32),
    ("back", 1, np.float32), ("amplitude", 1, np.float32), ("period", 1, np.float32),
)


def read_keys(fc, names=None):
    """Every keyframe of ``fc`` as {attribute: array} (``names``: only those attributes)."""
    n = len(fc.keyframe_points)
    out = {}
    for name, c, dt in _KEY_ATTRS:
        if names is None or name in names:
            a = np.empty(n * c, dt)
            fc.keyframe_points.foreach_get(name, a)
            out[name] = a.reshape(n, c) if c > 1 else a
    return out


def write_keys(fc, keys):
    """Make ``keys`` (:func:`read_keys`'s whole dict) the keyframes of ``fc``, at once."""
    kp = fc.keyframe_points
    kp.clear()
    n = len(keys["co"])
    if n:
        kp.add(n)
        for name, _, _ in _KEY_ATTRS:
            kp.foreach_set(name, np.ascontiguousarray(keys[name]).reshape(-1))
    fc.update()


def _enum(prop, item):
    return bpy.types.Keyframe.bl_rna.properties[prop].enum_items[item].value


def _channelbag_of(action, slot):
    for layer in action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(slot)
            if bag:
                return bag
    return None


def tracked_strip(idd):
    ad = idd.animation_data
    tr = ad.nla_tracks.get(TRACKED) if ad is not None else None
    if tr is None or not len(tr.strips):
        return None
    return tr.strips[0]


def tracked_bag(idd):
    st = tracked_strip(idd)
    return None if st is None or st.action is None else _channelbag_of(st.action, st.action_slot)


def edit_bag(idd):
    ad = idd.animation_data
    if ad is None or ad.action is None or ad.action_slot is None:
        return None
    return _channelbag_of(ad.action, ad.action_slot)
