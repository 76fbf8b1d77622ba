# SPDX-License-Identifier: GPL-3.0-or-later
"""The actor's animation layers: the locked "Tracked" NLA strip rebuilt from the Track file,
the edit layer (the active action) above it, F-curve key splicing, and the two directions
between curves and Tracks (imports bpy). Layout and behaviour: docs/transfer.md."""

import bpy
import numpy as np

from . import actor as actor_data
from . import blend
from .curves import (TRACKED, _curve_at, _enum, animated_ids, bookkeeping, check_keys, edit_bag, evaluate_actor,
                     read_keys, timeline_frames, tracked_bag, tracked_strip, write_keys)
from .carry import carry_drivers, carry_nla
from .look import copy_modifiers


MUTE_PROP = "reenact_edit_influence"  # remembered influences while the edit layer is muted


def edited_frames(ob, perf, tracked):
    """Timeline frames where actor ``ob``'s curves (``perf``, :func:`curves_to_track`) differ
    from its Track file (``tracked``): its edits (hand keys, a transfer)."""
    ok = np.asarray(tracked.tracked, bool) & np.asarray(perf.tracked, bool)
    diff = np.zeros(len(ok), bool)
    for key in ("expression", "gaze", "pose"):
        a, b = np.asarray(getattr(perf, key), np.float64), np.asarray(getattr(tracked, key), np.float64)
        d = np.abs(np.nan_to_num(a) - np.nan_to_num(b)).reshape(len(ok), -1).max(axis=1)
        diff |= d > 1e-4
    diff &= ok
    return (np.flatnonzero(diff) + int(tracked.frame_start) + int(ob.reenact.frame_offset)).tolist()


def curves_to_track(ob, scene, base=None, info=None):
    """The actor's current performance as a Track (base: the actor's Track file)."""
    from ..face.transfer import track_from_curves

    base = actor_data.load_actor_track(ob) if base is None else base
    pose, expr, names, gaze, conf = evaluate_actor(ob, base, scene)
    return track_from_curves(base, pose, expr, gaze, conf, names=names, info=info)


def off_track_keys(ob, tracked):
    """Timeline frames where the edit layer holds a key the Tracked layer does not and the Track
    has no face (a frame the tracker lost, a hand over the face): a key there changes no render
    (those frames are the footage's own) and :func:`edited_frames` does not see it. A key holding
    the Tracked layer's own value there (the neighbour of an edit kept past a trim,
    :func:`anchor_beyond`) is none: it changes nothing."""
    ok = np.asarray(tracked.tracked, bool)
    first = int(tracked.frame_start) + int(ob.reenact.frame_offset)
    out = set()
    for idd in animated_ids(ob):
        eb, tb = (edit_bag(idd), tracked_bag(idd)) if idd is not None else (None, None)
        if eb is None:
            continue
        ours = {(fc.data_path, fc.array_index): fc for fc in (tb.fcurves if tb is not None else ())}
        for fc in eb.fcurves:
            if fc.data_path.endswith('["confidence"]') or bookkeeping(fc):
                continue
            co = np.empty(2 * len(fc.keyframe_points), np.float32)
            fc.keyframe_points.foreach_get("co", co)
            mine = set(np.rint(co[0::2]).astype(int).tolist())
            other = ours.get((fc.data_path, fc.array_index))
            if other is not None:
                co2 = np.empty(2 * len(other.keyframe_points), np.float32)
                other.keyframe_points.foreach_get("co", co2)
                mine -= set(np.rint(co2[0::2]).astype(int).tolist())
            off = sorted(f for f in mine if not (0 <= f - first < len(ok) and ok[f - first]))
            if off and other is not None:  # (a key holding the Tracked layer's own value there changes nothing:
                x = np.asarray(off, np.float64)  # the anchors of an edit kept beyond the strip's trim)
                same = np.abs(_curve_at(fc, x) - tracked_at(idd, other, x)) <= 1e-4
                off = [f for f, s in zip(off, same) if not s]
            out.update(off)
    return sorted(out)


def tracked_at(idd, ref, frames):
    """F-curve ``ref`` of the Tracked layer of ``idd`` at timeline ``frames`` as that layer
    plays it: shifted with its strip, held beyond the strip's own frames."""
    st = tracked_strip(idd)
    t = np.asarray(frames, np.float64)
    if st is not None:
        t = np.clip(t, float(st.frame_start), float(st.frame_end)) - float(st.frame_start - st.action_frame_start)
    return _curve_at(ref, t)


def clipped_note(ob, base, info, rows=None):
    """What a render of the performance read with ``info`` (:func:`curves_to_track`) draws
    otherwise than the keys say, in timeline frames ('' when nothing): the expressions keyed
    outside 0..1 (a slider goes to -1..2), which the face model draws at 0 or 1, and the gaze
    keyed beyond what the tracker reads (+-0.87 rad), drawn at that (since 2026-12-06; before,
    unsaid, and the eye drawn whitish). ``rows``: the clip rows rendered (Preview Frame's one)."""
    from ..face.gaze import GAZE_LIMIT
    from ..render.actors import frame_runs

    mask = np.asarray(info.get("clipped_mask", np.zeros((0, 0), bool)), bool)
    gaze = np.asarray(info.get("gaze_beyond", np.zeros(0, bool)), bool)
    if rows is not None:
        def within(n):
            keep = np.zeros(n, bool)
            keep[[r for r in rows if 0 <= r < n]] = True
            return keep

        mask, gaze = mask & within(len(mask))[:, None], gaze & within(len(gaze))
    tl = np.asarray(timeline_frames(ob, base))
    out = []
    hit = np.flatnonzero(mask.any(1)) if mask.size else []
    if len(hit):
        names = [n for n, k in zip(info.get("clipped_names", []), mask.any(0)) if k]
        out.append("{} of '{}' keyed outside 0..1 on frame(s) {}: the render draws {} at 0 or 1, the face model's "
                   "range".format(", ".join(names[:4]) + (" ..." if len(names) > 4 else ""), ob.name,
                                  frame_runs([int(f) for f in tl[hit]]), "it" if len(names) == 1 else "them"))
    if gaze.any():
        out.append("gaze of '{}' keyed beyond \u00b1{:.2f} rad ({:.0f}\u00b0) on frame(s) {}: drawn at \u00b1{:.2f}, what the "
                   "tracker reads".format(ob.name, GAZE_LIMIT, np.degrees(GAZE_LIMIT),
                                          frame_runs([int(f) for f in tl[np.flatnonzero(gaze)]]), GAZE_LIMIT))
    scaled = set(scaled_frames(ob, base))
    if rows is not None:
        scaled &= {int(tl[r]) for r in rows if 0 <= r < len(tl)}
    if scaled:
        out.append("the head of '{}' is scaled on frame(s) {} (its scale keyed or set): the render draws it at its "
                   "tracked size, the face model has no scale".format(ob.name, frame_runs(sorted(scaled))))
    return "; ".join(out)


def scaled_frames(ob, track):
    """Timeline frames of ``track`` where the head of actor ``ob`` is scaled (its scale or delta
    scale, keyed in the edit layer or set, not 1): the viewport draws it so, a render at its
    tracked size (the face model has no scale), and Track Again replaces the object. Before
    2026-12-06 unsaid, and a plain Track Again dropped the keys."""
    t = timeline_frames(ob, track).astype(np.float64)
    bag = edit_bag(ob)
    curves = {(fc.data_path, fc.array_index): fc for fc in (bag.fcurves if bag is not None else ())
              if fc.data_path in ("scale", "delta_scale") and not fc.mute and len(fc.keyframe_points)}
    bad = np.zeros(len(t), bool)
    for path in ("scale", "delta_scale"):
        for i in range(3):
            fc = curves.get((path, i))
            v = _curve_at(fc, t) if fc is not None else np.full(len(t), float(getattr(ob, path)[i]))
            bad |= np.abs(v - 1.0) > 1e-4
    return t[bad].astype(np.int64).tolist()


def new_keys(frames, values, interpolation="LINEAR"):
    n = len(frames)
    co = np.stack([np.asarray(frames, np.float32), np.asarray(values, np.float32)], 1)
    return {
        "co": co, "handle_left": co.copy(), "handle_right": co.copy(),
        "handle_left_type": np.full(n, _enum("handle_left_type", "AUTO_CLAMPED"), np.int32),
        "handle_right_type": np.full(n, _enum("handle_right_type", "AUTO_CLAMPED"), np.int32),
        "interpolation": np.full(n, _enum("interpolation", interpolation), np.int32),
        "type": np.full(n, _enum("type", "KEYFRAME"), np.int32),
        "easing": np.full(n, _enum("easing", "AUTO"), np.int32),
        "back": np.full(n, 1.70158, np.float32), "amplitude": np.full(n, 0.8, np.float32),
        "period": np.full(n, 4.1, np.float32),
    }


def _take(keys, mask):
    return {k: v[mask] for k, v in keys.items()}


def splice_keys(fc, new, drop):
    """Replace the keys of ``fc`` for which ``drop(frames)`` is True by the keys ``new``."""
    old = read_keys(fc)
    keep = _take(old, ~drop(old["co"][:, 0]))
    merged = {k: np.concatenate([keep[k], new[k]]) for k in keep}
    order = np.argsort(merged["co"][:, 0], kind="stable")
    merged = _take(merged, order)
    write_keys(fc, merged)


def _fcurve(bag, path, index, group):
    fc = bag.fcurves.find(path, index=index)
    if fc is None:
        fc = bag.fcurves.new(path, index=index)
        grp = next((g for g in bag.groups if g.name == group), None) or bag.groups.new(group)
        fc.group = grp
    return fc


def _users(action):
    """The IDs (objects, shape keys) whose active action is ``action``."""
    return [idd for coll in (bpy.data.objects, bpy.data.shape_keys) for idd in coll
            if idd.animation_data is not None and idd.animation_data.action == action]


def own_action(ad):
    """Give the animation data ``ad`` its own copy of its action (the same slot)."""
    slot = ad.action_slot.identifier if ad.action_slot is not None else None
    ad.action = ad.action.copy()
    if slot is not None and ad.action.slots.get(slot) is not None:
        ad.action_slot = ad.action.slots[slot]


def _shift_keys(fc, delta):
    """Every key of F-curve ``fc`` (and its handles) ``delta`` frames later, all at once."""
    kp = fc.keyframe_points
    xy = np.empty(2 * len(kp), np.float32)
    for attr in ("co", "handle_left", "handle_right"):
        kp.foreach_get(attr, xy)
        xy[0::2] += delta
        kp.foreach_set(attr, xy)
    fc.update()


def follow_strip(ob, strip, moving=None, done=None):
    """Move the actor's animation in time with its strip when the strip was moved after tracking
    (every NLA strip of the actor, the Tracked layer's included, and the edit layer's keys), so
    that timeline frame F keeps showing clip frame F - strip start, as the strip does: an
    animator's key then lands on the frame the strip shows there (before 2026-12-05 the curves
    stayed where the strip had been, and a key set against the moved strip edited another clip
    frame). ``moving``: {ID pointer: frames} of every ID moving now (default: this actor's);
    ``done``: the IDs and actions moved already (an ID or an action moves once: shape keys an
    Alt+D copy shares, its shared action; before 2026-12-06 moved twice). An edit action
    another actor uses that does not move with it (an action from another actor) is first made
    this actor's own (before, the other actor's performance moved too). Returns the frames
    moved (0: in place)."""
    delta = int(strip.frame_start) - int(ob.reenact.frame_offset)
    if delta == 0:
        return 0
    ids = [idd for idd in animated_ids(ob) if idd is not None]
    moving = {idd.as_pointer(): delta for idd in ids} if moving is None else moving
    done = set() if done is None else done
    for idd in ids:
        ad = idd.animation_data
        if ad is None or idd.as_pointer() in done:
            continue
        done.add(idd.as_pointer())
        for t in ad.nla_tracks:
            locked, t.lock = t.lock, False
            for st in sorted(t.strips, key=lambda x: x.frame_start, reverse=delta > 0):  # no overlap on the way
                st.frame_start_ui = st.frame_start_ui + delta
                for fc in st.fcurves:  # (its animated influence and time: before 2026-12-06 left in place)
                    _shift_keys(fc, delta)
            t.lock = locked
        if ad.action is not None:
            if any(moving.get(u.as_pointer()) != delta for u in _users(ad.action)):
                own_action(ad)
            elif ad.action.as_pointer() in done:
                continue
            done.add(ad.action.as_pointer())
        bag = edit_bag(idd)
        for fc in (bag.fcurves if bag is not None else ()):
            _shift_keys(fc, delta)
    ob.reenact.frame_offset = int(strip.frame_start)
    actor_data.line_up_background(ob.parent, strip)  # (the footage behind the mesh moves along)
    return delta


#: the scenes whose actors follow their strips once a drag (a transform) ends
_AFTER_DRAG = set()
#: seconds between looks at whether the drag ended
DRAG_POLL = 0.1


def dragged():
    """Whether a transform runs in a window (a strip, or its handle, dragged with the mouse or G):
    each of its steps moves the strip, and the actors' keys follow once, when it ends (before
    2026-12-06 on every step: 20 ms a step for a shot of 54,000 keys, 69 ms for 270,000: the drag
    stuttered). Never in the bpy module or a farm (no window)."""
    wm = getattr(bpy.context, "window_manager", None)
    for win in (wm.windows if wm is not None else ()):
        if any(op.bl_idname.startswith("TRANSFORM_OT") for op in getattr(win, "modal_operators", ())):
            return True
    return False


def _after_drag():
    """The timer that makes the actors follow once the drag ended (again in :data:`DRAG_POLL`
    seconds while it runs)."""
    if dragged():
        return DRAG_POLL
    for name in list(_AFTER_DRAG):
        _AFTER_DRAG.discard(name)
        scene = bpy.data.scenes.get(name)
        if scene is not None:
            try:
                follow_moved_strips(scene)
            except Exception as exc:  # (a timer never raises into Blender)
                print("Reenact: an actor did not follow its strip: {}".format(exc))
    return None


def follow_moved_strips(scene):
    """:func:`follow_strip` for every actor of ``scene`` (renamed strips found first): run after
    every change to the scene (a depsgraph handler), so the curves move with a moved strip (once
    a drag ends: :func:`dragged`)."""
    ed = scene.sequence_editor if scene is not None else None
    if ed is None:
        return 0
    actor_data.follow_renamed_strips(scene)
    plan = []
    for ob in actor_data.actor_objects(scene):
        strip = ed.strips_all.get(ob.reenact.strip_name)
        if strip is not None and int(strip.frame_start) != int(ob.reenact.frame_offset):
            plan.append((ob, strip))
    if plan and dragged():  # (once the drag ends: each of its steps moved every key of a long shot)
        _AFTER_DRAG.add(scene.name)
        if not bpy.app.timers.is_registered(_after_drag):
            bpy.app.timers.register(_after_drag, first_interval=DRAG_POLL)
        return 0
    moving = {}
    for ob, strip in plan:
        for idd in animated_ids(ob):
            if idd is not None:
                moving.setdefault(idd.as_pointer(), int(strip.frame_start) - int(ob.reenact.frame_offset))
    done = set()
    return sum(abs(follow_strip(ob, strip, moving, done)) for ob, strip in plan)


def has_layers(ob):
    if animated_ids(ob)[1] is None:  # (its shape keys deleted: no layers to show; the operators say why)
        return False
    return all(tracked_bag(idd) is not None and edit_bag(idd) is not None for idd in animated_ids(ob))


def edit_layer_differs(ob):
    """True when the actor's edit layer holds keys its Tracked layer does not (hand keys, a
    transfer): its edits, told without its Track file. False without layers."""
    if not has_layers(ob):
        return False
    for idd in animated_ids(ob):
        tracked = {(fc.data_path, fc.array_index): fc for fc in tracked_bag(idd).fcurves}
        for fc in edit_bag(idd).fcurves:
            if bookkeeping(fc):
                continue
            other = tracked.get((fc.data_path, fc.array_index))
            if other is None or len(other.keyframe_points) != len(fc.keyframe_points):
                return True
            a, b = (np.zeros(2 * len(f.keyframe_points), np.float32) for f in (fc, other))
            fc.keyframe_points.foreach_get("co", a)
            other.keyframe_points.foreach_get("co", b)
            if np.abs(a - b).max(initial=0.0) > 1e-6:
                return True
    return False


def tracked_actions_of(ob, track):
    """New actions (object's, shape keys') holding the keys tracking writes for ``ob`` from
    ``track``, one slot each; returns (actions, their channelbags)."""
    acts, bags = [], []
    for idd, kind in zip(animated_ids(ob), ("Head", "Expressions")):
        act = bpy.data.actions.new("{} {} Tracked".format(ob.name, kind))
        slot = act.slots.new(id_type=idd.id_type, name=idd.name)
        bags.append(act.layers.new("Layer").strips.new(type="KEYFRAME").channelbag(slot, ensure=True))
        acts.append(act)
    actor_data.write_animation(ob, track, int(ob.reenact.frame_offset), bags=tuple(bags))
    return acts, bags


def pushed_down(ob):
    """The names of the NLA tracks of its own that play over the actor's Tracked layer on an ID
    with no edit layer (no active action): its edits pushed down (NLA editor, Push Down)."""
    out = []
    for idd in animated_ids(ob):
        ad = idd.animation_data if idd is not None else None
        if ad is not None and ad.action is None:
            out += [t.name for t in ad.nla_tracks if t.name != TRACKED and not t.mute and len(t.strips)]
    return out


def check_pushed_down(ob, retrack=False):
    """ValueError when the actor has no edit layer (no active action) and NLA tracks of its own
    play over its Tracked layer (edits pushed down): a new edit layer, a copy of the tracking
    over everything, would hide them (before 2026-12-06 a mouth transfer did, without a word).
    ``retrack``: Track Again, which carries an edit layer's keys and cannot carry these (before
    2026-12-06 Keeping Edits turned every channel into its value on the current frame, said kept)."""
    check_keys(ob)  # (and its shape keys there to write in)
    pushed = list(dict.fromkeys(pushed_down(ob)))  # (each name once: the object's and the shape keys' alike)
    if pushed and retrack:
        raise ValueError("actor '{}': its edits are pushed down into the NLA ({}), and Track Again carries the edits "
                         "of the active action alone; make the pushed action active again (Action Editor) and mute "
                         "its NLA track(s), then Track Again, Keeping Edits (Track Again, Replacing Edits drops "
                         "them)".format(ob.name, ", ".join("'{}'".format(n) for n in pushed[:3])))
    if pushed:
        raise ValueError("actor '{}': its edits are pushed down into the NLA ({}) and a new edit layer would hide "
                         "them; make the pushed action active again (Action Editor) or mute those NLA tracks, "
                         "then try again".format(ob.name, ", ".join("'{}'".format(n) for n in pushed[:3])))


def ensure_layers(ob, track):
    """Create the "Tracked" NLA layer (from ``track``, the actor's Track file) and the edit
    layer (the active action, kept as it is, or a copy of the tracked one) where missing."""
    check_keys(ob)
    ids = animated_ids(ob)
    for idd in ids:  # a duplicate (Shift+D) shares the edit action: its own copy, so that an edit of
        ad = idd.animation_data  # one is not the other's (before 2026-12-05 a transfer changed both)
        if ad is not None and ad.action is not None and ad.action.users > 1:
            own_action(ad)
    if all(tracked_bag(idd) is not None for idd in ids):
        tracked_actions = [tracked_strip(idd).action for idd in ids]
    else:
        tracked_actions, _ = tracked_actions_of(ob, track)
        for idd, act in zip(ids, tracked_actions):
            ad = idd.animation_data or idd.animation_data_create()
            for t in [t for t in ad.nla_tracks if t.name == TRACKED]:
                ad.nla_tracks.remove(t)
            nt = ad.nla_tracks.new()
            nt.name = TRACKED
            start = int(np.floor(act.frame_range[0]))
            st = nt.strips.new(TRACKED, start, act)
            st.action_slot = act.slots[0]
            st.blend_type = "REPLACE"
            st.extrapolation = "HOLD"
            nt.lock = True
    for idd, act in zip(ids, tracked_actions):
        ad = idd.animation_data
        for t in ad.nla_tracks:
            if t.name == TRACKED:
                t.mute = False
                t.is_solo = False
        if ad.action is None:
            edit = act.copy()
            edit.name = act.name[: -len(" Tracked")] if act.name.endswith(" Tracked") else act.name + " Edit"
            ad.action = edit
        if ad.action_slot is None:
            ad.action_slot = ad.action.slots[0]
        if edit_bag(idd) is None:  # a slot of the animator's with no keys yet (Action Editor, New Slot): its
            blend.channelbag(idd)  # keys' home, empty (before 2026-12-06 a traceback in Transfer and Reset)
        ad.action_blend_type = "REPLACE"
        ad.action_extrapolation = "HOLD"
        ad.use_nla = True


def edit_muted(ob):
    ids = [idd for idd in animated_ids(ob) if idd is not None and idd.animation_data is not None]
    return bool(ids) and has_layers(ob) and all(idd.animation_data.action_influence == 0.0 for idd in ids)


def _channel_filter(mode, names):
    """Predicate (id index 0 = object / 1 = shape keys, data_path, index) for ``mode``;
    'full' means every channel (also confidence and any channel added by hand)."""
    from ..face.transfer import mode_channels

    if mode == "full":
        return lambda which, path, index: True
    expr, pose, gaze = mode_channels(mode, names)
    expr_paths = {'key_blocks["{}"].value'.format(n) for n in expr}
    gaze_paths = {'["{}"]'.format(p) for p in actor_data.GAZE_PROPS}

    def ok(which, path, index):
        if which == 1:
            return path in expr_paths
        return (pose and path in ("location", "rotation_euler")) or (gaze and path in gaze_paths)

    return ok


def write_transfer(ob, track, result, info):
    """Write the channels ``info`` says were transferred, on the transferred frames, into the
    edit layer of ``ob`` (``track``: the actor's Track file; ``result``: transfer's output)."""
    ob_id, key_id = animated_ids(ob)
    fr = np.asarray(info["transferred_frames"], np.int64)
    if not len(fr):
        return
    rows = fr - int(track.frame_start)
    tl = (fr + int(ob.reenact.frame_offset)).astype(np.float64)
    lo, hi = tl.min() - 0.5, tl.max() + 0.5
    on_frames = set(tl.astype(np.int64).tolist())

    def drop(x):
        xi = np.round(x).astype(np.int64)
        return (x > lo) & (x < hi) & np.isin(xi, list(on_frames)) & (np.abs(x - xi) < 1e-3)

    names = [str(n) for n in result.expression_names]
    kbag = edit_bag(key_id)
    for n in info["expressions"]:
        k = names.index(n)
        fc = _fcurve(kbag, 'key_blocks["{}"].value'.format(n), 0, "Expressions")
        splice_keys(fc, new_keys(tl, result.expression[rows, k]), drop)
    bag = edit_bag(ob_id)
    if info["gaze"]:
        for i, p in enumerate(actor_data.GAZE_PROPS):
            fc = _fcurve(bag, '["{}"]'.format(p), 0, "Gaze")
            splice_keys(fc, new_keys(tl, result.gaze[rows, i]), drop)
    if info["pose"]:
        ok = np.asarray(result.tracked, bool)
        loc_all, rot_all = actor_data.track_pose_to_blender(np.asarray(result.pose, np.float64)[ok])
        where = np.searchsorted(np.flatnonzero(ok), rows)
        for i in range(3):
            splice_keys(_fcurve(bag, "location", i, "Head"), new_keys(tl, loc_all[where, i]), drop)
            splice_keys(_fcurve(bag, "rotation_euler", i, "Head"), new_keys(tl, rot_all[where, i]), drop)


def reset_range(ob, a, b, mode="full"):
    """Copy the tracked keys of timeline frames a..b (inclusive) back into the edit layer, for
    the channels of ``mode``. Returns the number of F-curves touched."""
    names = [k.name for k in ob.data.shape_keys.key_blocks][1:]
    want = _channel_filter(mode, names)
    lo, hi = a - 0.5, b + 0.5

    def drop(x):
        return (x > lo) & (x < hi)

    touched = 0
    for which, idd in enumerate(animated_ids(ob)):
        tb, eb = tracked_bag(idd), edit_bag(idd)
        done = set()
        for fc in list(eb.fcurves):
            if not want(which, fc.data_path, fc.array_index):
                continue
            tf = tb.fcurves.find(fc.data_path, index=fc.array_index)
            if tf is None:  # a channel keyed by hand: no tracked keys to bring back
                new = new_keys([], [])
            else:
                keys = read_keys(tf)
                new = _take(keys, drop(keys["co"][:, 0]))
            splice_keys(fc, new, drop)
            done.add((fc.data_path, fc.array_index))
            touched += 1
        for tf in tb.fcurves:  # a channel deleted from the edit layer comes back
            if (tf.data_path, tf.array_index) in done or not want(which, tf.data_path, tf.array_index):
                continue
            fc = _fcurve(eb, tf.data_path, tf.array_index, tf.group.name if tf.group else "Reenact")
            keys = read_keys(tf)
            splice_keys(fc, _take(keys, drop(keys["co"][:, 0])), drop)
            touched += 1
    return touched


def performance_rows(ob, base, scene, rows):
    """``base`` with the actor's evaluated curves written into ``rows`` (the other rows keep the
    tracked values). The whole-performance path is ``transfer.curves_to_track``."""
    import numpy as np

    from ..face.transfer import track_from_curves

    sub = base.subset(base.frame_start + min(rows), base.frame_start + max(rows) + 1)
    pose, expr, names, gaze, conf = evaluate_actor(ob, sub, scene)
    names_b = [str(n) for n in base.expression_names]
    full_pose = np.array(base.pose, np.float64)
    full_expr = np.array(base.expression, np.float64)
    full_gaze = np.array(base.gaze, np.float64)
    full_conf = np.array(base.confidence, np.float64)
    lo, hi = min(rows), max(rows) + 1
    full_pose[lo:hi] = pose
    full_expr[lo:hi] = expr[:, [names.index(n) for n in names_b]]
    full_gaze[lo:hi] = gaze
    full_conf[lo:hi] = conf
    return track_from_curves(base, full_pose, full_expr, full_gaze, full_conf, names=names_b)


def edit_runs(fc, ref, offset=0.0, span=None):
    """Runs (a, b) of timeline frames, inclusive, where F-curve ``fc`` (the edit layer's)
    differs from ``ref`` (what tracking wrote for the same channel, in its action's time: scene
    time minus ``offset``, the Tracked strip's shift when its strip was moved, held beyond the
    strip's own frames ``span`` (start, end); None: a channel
    keyed by hand, edited wherever it has keys). Before 2026-12-06 a moved strip's edit layer was
    compared with the tracking unshifted: every channel read as edited on every frame."""
    xs = read_keys(fc)["co"][:, 0]
    if ref is not None:
        rx = read_keys(ref)["co"][:, 0] + offset
        xs = np.concatenate([xs, rx if span is None else np.clip(rx, *span)])
    if not len(xs):
        return []
    fr = np.arange(int(np.floor(xs.min())), int(np.ceil(xs.max())) + 1)
    if ref is None:
        return [(int(fr[0]), int(fr[-1]))]
    t = fr.astype(np.float64)
    tr = (t if span is None else np.clip(t, *span)) - offset  # (the Tracked strip held beyond its own frames)
    return _runs(fr, np.abs(_curve_at(fc, t) - _curve_at(ref, tr)) > 1e-4)


def _runs(fr, diff):
    """Runs (a, b), inclusive, of the frames ``fr`` where ``diff`` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], diff.astype(np.int8), [0]])))
    return [(int(fr[a]), int(fr[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def held_runs(idd, ref):
    """(runs, value) for a channel of ``idd`` that has no F-curve and no layer under it (deleted in
    the Graph Editor from an actor without layers): it holds its property's own value on every
    frame; the runs of timeline frames, inclusive, where that differs from ``ref`` (what tracking
    wrote) over its keys."""
    try:
        v = idd.path_resolve(ref.data_path)
        v = float(v[ref.array_index]) if hasattr(v, "__len__") else float(v)
    except (ValueError, TypeError, IndexError):
        return [], None
    xs = read_keys(ref, ("co",))["co"][:, 0]
    if not len(xs):
        return [], v
    fr = np.arange(int(np.floor(xs.min())), int(np.ceil(xs.max())) + 1)
    return _runs(fr, np.abs(_curve_at(ref, fr.astype(np.float64)) - v) > 1e-4), v


def anchor_beyond(idd, fc, frames):
    """Keys on ``frames`` (the unedited neighbours of runs carried into ``fc``, the edit layer of
    ``idd``) beyond its Tracked layer's strip, where the edit layer has none: the Tracked layer's
    value there (held), LINEAR as tracking keys. Inside the strip the tracking's own keys are
    the neighbours."""
    st, tb = tracked_strip(idd), tracked_bag(idd)
    ref = tb.fcurves.find(fc.data_path, index=fc.array_index) if tb is not None else None
    if ref is None or not len(ref.keyframe_points):
        return
    have = set(np.rint(read_keys(fc, ("co",))["co"][:, 0]).astype(int).tolist())
    want = sorted({int(f) for f in frames if (f < st.frame_start or f > st.frame_end) and int(f) not in have})
    if want:
        splice_keys(fc, new_keys(want, tracked_at(idd, ref, want)), lambda x: np.zeros(len(x), bool))


def carry_edits(old, new, old_track, new_track):
    """Tracking the strip again, keeping edits: the edits of actor ``old`` (its edit layer where
    it differs from what tracking wrote, from ``old_track``; channels keyed by hand whole) are
    written into the edit layer of ``new`` (made here over its Tracked layer, from
    ``new_track``), the keys of each edited run with the new tracking round them; the edit
    layer's influence comes along, and the channels' F-curve modifiers, the actor's drivers and
    its own NLA tracks (since 2026-12-06; before, dropped while the report said the edits were
    kept). An edited run the new tracking does not reach (the strip trimmed past it) keeps its
    unedited neighbours as keys holding the Tracked layer's value there, so that it stays an edit
    of its own frames alone when the trim is extended again (before 2026-12-06 its keys stood
    alone, and the next Keep Edits counted the frames up to the tracking as edits, drawn
    interpolated). A channel deleted from an actor without layers (no F-curve: its property's own
    value on every frame, as the render reads it) is carried as keys of that value where it
    differs from the tracking (:func:`held_runs`; before 2026-12-06 the tracking came back).
    Both actors on the same strip, ``old`` moved with it first. Returns (channels
    carried, timeline frames edited, drivers carried, NLA tracks carried, the frames edited that
    the new tracking does not cover: what the strip does not show now)."""
    if pushed_down(old):
        check_pushed_down(old, retrack=True)
    temp = []
    try:
        if has_layers(old):
            refs = [tracked_bag(idd) for idd in animated_ids(old)]
            strips = [tracked_strip(idd) for idd in animated_ids(old)]
            shifts = [float(st.frame_start - st.action_frame_start) for st in strips]
            spans = [(float(st.frame_start), float(st.frame_end)) for st in strips]
        else:  # keys set straight into its tracked keys: what tracking wrote, made again to compare
            temp, refs = tracked_actions_of(old, old_track)
            shifts, spans = [0.0, 0.0], [None, None]
        ensure_layers(new, new_track)
        channels, frames, drivers, nla = 0, set(), 0, 0
        for oid, nid, ref, shift, span in zip(animated_ids(old), animated_ids(new), refs, shifts, spans):
            bag, nbag = edit_bag(oid), edit_bag(nid)
            todo = [(fc, edit_runs(fc, ref.fcurves.find(fc.data_path, index=fc.array_index), shift, span), None)
                    for fc in (bag.fcurves if bag is not None else ()) if not bookkeeping(fc)]  # (a bake's: no edit)
            live = oid.animation_data is not None and any(not t.mute and len(t.strips)
                                                          for t in oid.animation_data.nla_tracks)
            if temp and not live:  # no layers: a channel deleted from the action holds its own value on every frame,
                # as the render reads it (before 2026-12-06 the tracking came back, unsaid); not under an NLA
                # track, which plays it (before 2026-12-06 its value on the current frame was held everywhere)
                have = {(fc.data_path, fc.array_index) for fc, _, _ in todo}
                todo += [(rf,) + held_runs(oid, rf) for rf in ref.fcurves
                         if (rf.data_path, rf.array_index) not in have and not bookkeeping(rf)]
            for fc, runs, held in todo:
                if not runs:
                    continue
                lo = np.array([a - 1 for a, _ in runs], np.float64)
                hi = np.array([b + 1 for _, b in runs], np.float64)

                def inside(x, lo=lo, hi=hi):  # within a run, up to its unedited neighbours
                    x = np.asarray(x, np.float64)[:, None]
                    return ((x > lo) & (x < hi)).any(axis=1)

                nf = _fcurve(nbag, fc.data_path, fc.array_index, fc.group.name if fc.group else "Reenact")
                if held is None:
                    keys = read_keys(fc)
                    splice_keys(nf, _take(keys, inside(keys["co"][:, 0])), inside)
                else:  # (the held value from the first frame of each run to its last)
                    at = sorted({f for run in runs for f in run})
                    splice_keys(nf, new_keys(at, np.full(len(at), held)), inside)
                anchor_beyond(nid, nf, np.concatenate([lo, hi]))
                if held is None and len(fc.modifiers):  # (a Generator's offset, a Noise: before 2026-12-06
                    copy_modifiers(fc, nf)  # dropped, said kept)
                    nf.update()
                channels += 1
                for a, b in runs:
                    frames.update(range(a, b + 1))
            if oid.animation_data is not None:
                nid.animation_data.action_influence = oid.animation_data.action_influence
                drivers += carry_drivers(oid, nid, dict(zip(animated_ids(old), animated_ids(new))))
                nla += carry_nla(oid, nid)
        if MUTE_PROP in old:
            new[MUTE_PROP] = list(old[MUTE_PROP])
        for p in ("delta_location", "delta_rotation_euler", "delta_scale", "scale"):  # (set, not keyed: the head's
            setattr(new, p, getattr(old, p))  # own; tracking keys location and rotation alone)
        shown = timeline_frames(new, new_track)
        hidden = [f for f in sorted(frames) if not (len(shown) and shown[0] <= f <= shown[-1])]
        return channels, sorted(frames), drivers, nla, hidden
    finally:
        for act in temp:
            bpy.data.actions.remove(act)
