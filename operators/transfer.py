# SPDX-License-Identifier: GPL-3.0-or-later
"""Transfer Performance, Reset to Tracked, Curves to Track, Mute Edit Layer: non-destructive
editing of tracked actors (see docs/transfer.md).

Layout of an actor's animation (its object: head, gaze, confidence; its shape keys:
expressions), created the first time one of these operators changes the actor:

- NLA track **"Tracked"** (bottom, locked, never muted): one strip holding the tracked
  performance, rebuilt from the actor's Track file, so it is exactly what the tracker produced.
- The **edit layer**: the active action, evaluated on top of the NLA stack (blend Replace). It
  starts as a complete copy of the tracked curves (what Track Actor keyed), so the Graph Editor
  and the Dope Sheet edit it directly and a key added on any channel behaves as usual.
  Transfers write into it; its influence (``action_influence``) blends it over the tracked
  layer (0 = tracked, 1 = edited); Mute sets the influence to 0 and back; Reset to Tracked
  copies the tracked keys back over a frame range.

Curves to Track evaluates the whole stack (``scene.frame_set`` at every frame: interpolation,
NLA layers, influence, modifiers, drivers) and writes a Track: the inverse of tracking.
"""

import os

import bpy
import numpy as np
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from . import actor_data

TRACKED = "Tracked"
MUTE_PROP = "reenact_edit_influence"  # remembered influences while the edit layer is muted
MODE_ITEMS = (
    ("full", "Full", "Head pose, all expressions and gaze (Deep Video Portraits)"),
    ("expression", "Expression", "All expression coefficients; the target keeps its head and gaze"),
    ("mouth", "Mouth", "Jaw and mouth coefficients only (visual dubbing): the target keeps head, eyes, brows"),
    ("pose", "Pose", "Head rotation and position, relative to each actor's rest pose"),
    ("gaze", "Gaze", "Eye directions only"),
)

# --------------------------------------------------------------------------- actor enum
_ACTOR_ITEMS = []  # module-level: Blender does not keep the strings of dynamic enum items alive


def _actor_items(self, context):
    global _ACTOR_ITEMS
    scene = getattr(context, "scene", None) if context else None
    items = [(ob.name, ob.name, "Actor {} of strip '{}'".format(ob.reenact.actor_index, ob.reenact.strip_name))
             for ob in (actor_data.actor_objects(scene) if scene else [])]
    _ACTOR_ITEMS = items or [("NONE", "No Actors", "Track an actor first")]
    return _ACTOR_ITEMS


def _default_actor(context, exclude=None):
    actors = actor_data.actor_objects(context.scene)
    ob = context.view_layer.objects.active if context.view_layer else None
    if ob in actors and ob != exclude:
        return ob
    rest = [a for a in actors if a != exclude]
    return rest[0] if rest else (actors[0] if actors else None)


def _resolve(op, context, prop, exclude=None):
    """The actor named by the operator property ``prop`` (the active actor when unset)."""
    if op.properties.is_property_set(prop):
        name = getattr(op, prop)
        ob = bpy.data.objects.get(name)
        if ob is None or ob not in actor_data.actor_objects(context.scene):
            raise ValueError("'{}' is not a tracked actor of scene '{}'".format(name, context.scene.name))
        return ob
    ob = _default_actor(context, exclude)
    if ob is None:
        raise ValueError("no tracked actor in scene '{}'".format(context.scene.name))
    return ob


def _poll_actors(cls, context):
    if context.scene is None or not actor_data.actor_objects(context.scene):
        cls.poll_message_set("Track an actor first (Track Actor in the Track panel)")
        return False
    return True


# --------------------------------------------------------------------------- the actor's data
def animated_ids(ob):
    """(object, shape keys): the two IDs that carry an actor's performance."""
    return ob, ob.data.shape_keys


def load_actor_track(ob):
    """The actor's Track file, checked against the actor's footage."""
    from ..face.track import Track
    from ..face.transfer import check_clip

    path = bpy.path.abspath(ob.reenact.track_path)
    if not ob.reenact.track_path:
        raise ValueError("actor '{}' has no Track file: track it again".format(ob.name))
    tr = Track.load(path)
    check_clip(tr, ob.reenact.source_path, ob.reenact.frame_count,
               what="Track file {}".format(os.path.basename(path)), where="the footage of '{}'".format(ob.name))
    return tr


def timeline_frames(ob, track):
    return (np.asarray(track.frames()) + int(ob.reenact.frame_offset)).astype(np.int64)


def evaluate_actor(ob, track, scene):
    """Evaluate the actor's animation (everything Blender evaluates) at the timeline frame of
    every row of ``track``: returns pose (T, 6, Track convention), expression (T, K), the
    shape-key names, gaze (T, 4), confidence (T,)."""
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
    cur, sub = scene.frame_current, scene.frame_subframe
    try:
        for i, f in enumerate(frames):
            scene.frame_set(int(f))
            kb.foreach_get("value", vals)
            expr[i] = vals[1:]
            loc[i] = ob.location
            rot[i] = ob.rotation_euler if ob.rotation_mode == "XYZ" else ob.matrix_basis.to_euler("XYZ")
            gaze[i] = [float(ob.get(p, 0.0)) for p in actor_data.GAZE_PROPS]
            conf[i] = float(ob.get("confidence", 0.0))
    finally:
        scene.frame_set(cur, subframe=sub)
    pose = actor_data.blender_to_track_pose(loc, rot)
    return pose, expr, names, gaze, conf


def curves_to_track(ob, scene, base=None, info=None):
    """The actor's current performance as a Track (base: the actor's Track file)."""
    from ..face.transfer import track_from_curves

    base = load_actor_track(ob) if base is None else base
    pose, expr, names, gaze, conf = evaluate_actor(ob, base, scene)
    return track_from_curves(base, pose, expr, gaze, conf, names=names, info=info)


# --------------------------------------------------------------------------- keys in bulk
_KEY_ATTRS = (  # (name, components, dtype) of every Keyframe property worth keeping
    ("co", 2, np.float32), ("handle_left", 2, np.float32), ("handle_right", 2, np.float32),
    ("handle_left_type", 1, np.int32), ("handle_right_type", 1, np.int32),
    ("interpolation", 1, np.int32), ("type", 1, np.int32), ("easing", 1, np.int32),
    ("back", 1, np.float32), ("amplitude", 1, np.float32), ("period", 1, np.float32),
)


def _enum(prop, item):
    return bpy.types.Keyframe.bl_rna.properties[prop].enum_items[item].value


def read_keys(fc):
    """Every keyframe of ``fc`` as {attribute: array}."""
    n = len(fc.keyframe_points)
    out = {}
    for name, c, dt in _KEY_ATTRS:
        a = np.empty(n * c, dt)
        fc.keyframe_points.foreach_get(name, a)
        out[name] = a.reshape(n, c) if c > 1 else a
    return out


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
    kp = fc.keyframe_points
    kp.clear()
    n = len(order)
    if n:
        kp.add(n)
        for name, _, _ in _KEY_ATTRS:
            kp.foreach_set(name, np.ascontiguousarray(merged[name]).reshape(-1))
    fc.update()


def _fcurve(bag, path, index, group):
    fc = bag.fcurves.find(path, index=index)
    if fc is None:
        fc = bag.fcurves.new(path, index=index)
        grp = next((g for g in bag.groups if g.name == group), None) or bag.groups.new(group)
        fc.group = grp
    return fc


# --------------------------------------------------------------------------- layers
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


def has_layers(ob):
    return all(tracked_bag(idd) is not None and edit_bag(idd) is not None for idd in animated_ids(ob))


def ensure_layers(ob, track):
    """Create the "Tracked" NLA layer (from ``track``, the actor's Track file) and the edit
    layer (the active action, kept as it is, or a copy of the tracked one) where missing."""
    ids = animated_ids(ob)
    if all(tracked_bag(idd) is not None for idd in ids):
        tracked_actions = [tracked_strip(idd).action for idd in ids]
    else:
        tracked_actions = []
        bags = []
        for idd, kind in zip(ids, ("Head", "Expressions")):
            act = bpy.data.actions.new("{} {} Tracked".format(ob.name, kind))
            slot = act.slots.new(id_type=idd.id_type, name=idd.name)
            strip = act.layers.new("Layer").strips.new(type="KEYFRAME")
            bags.append(strip.channelbag(slot, ensure=True))
            tracked_actions.append(act)
        actor_data.write_animation(ob, track, int(ob.reenact.frame_offset), bags=tuple(bags))
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
        ad.action_blend_type = "REPLACE"
        ad.action_extrapolation = "HOLD"
        ad.use_nla = True


def edit_muted(ob):
    ids = [idd for idd in animated_ids(ob) if idd.animation_data is not None]
    return bool(ids) and has_layers(ob) and all(idd.animation_data.action_influence == 0.0 for idd in ids)


# --------------------------------------------------------------------------- channels
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


# --------------------------------------------------------------------------- operators
def _fail(op, exc):
    op.report({"ERROR"}, "Reenact: {}".format(exc))
    return {"CANCELLED"}


class REENACT_OT_transfer_performance(bpy.types.Operator):
    """Transfer the source actor's performance (or part of it) onto the target actor, as an
    editable layer on top of the target's tracked performance"""

    bl_idname = "reenact.transfer_performance"
    bl_label = "Transfer Performance"
    bl_options = {"REGISTER", "UNDO"}

    source: EnumProperty(name="Source", items=_actor_items, description="Actor whose performance is transferred")
    target: EnumProperty(name="Target", items=_actor_items, description="Actor who takes the performance")
    mode: EnumProperty(name="Mode", items=MODE_ITEMS, default="mouth")
    offset: IntProperty(name="Offset", default=0,
                        description="Target timeline frame F takes the source at timeline frame F - Offset "
                                    "(0: what lines up on the timeline)")
    use_range: BoolProperty(name="Frame Range", default=False,
                            description="Only change the target frames below (else every frame that overlaps)")
    frame_start: IntProperty(name="Start", default=1, description="First target timeline frame to change")
    frame_end: IntProperty(name="End", default=250, description="Last target timeline frame to change (included)")
    gain_mouth: FloatProperty(name="Mouth", default=1.0, min=0.0, soft_max=2.0,
                              description="Gain of the jaw and mouth coefficients")
    gain_eyes: FloatProperty(name="Eyes", default=1.0, min=0.0, soft_max=2.0,
                             description="Gain of blinks, squints, widening")
    gain_brows: FloatProperty(name="Brows", default=1.0, min=0.0, soft_max=2.0,
                              description="Gain of the brow coefficients")
    gain_pose: FloatProperty(name="Pose", default=1.0, min=0.0, soft_max=2.0,
                             description="Gain of the head motion relative to the rest pose")
    smoothing: FloatProperty(name="Smoothing", default=0.0, min=0.0, soft_max=5.0,
                             description="Gaussian smoothing of the source's curves (sigma, frames); 0 = none")

    @classmethod
    def poll(cls, context):
        return _poll_actors(cls, context)

    def invoke(self, context, event):
        tgt = _default_actor(context)
        if not self.properties.is_property_set("target") and tgt is not None:
            self.target = tgt.name
        if not self.properties.is_property_set("source"):
            src = _default_actor(context, exclude=tgt)
            if src is not None:
                self.source = src.name
        if not self.properties.is_property_set("frame_start"):
            self.frame_start, self.frame_end = context.scene.frame_start, context.scene.frame_end
        if bpy.app.background or context.window is None:
            return self.execute(context)
        return context.window_manager.invoke_props_dialog(self, width=360)

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        for p in ("source", "target", "mode", "offset", "smoothing"):
            layout.prop(self, p)
        col = layout.column(heading="Gain", align=True)
        for p in ("gain_mouth", "gain_eyes", "gain_brows", "gain_pose"):
            col.prop(self, p)
        layout.prop(self, "use_range")
        col = layout.column(align=True)
        col.active = self.use_range
        col.prop(self, "frame_start")
        col.prop(self, "frame_end")

    def execute(self, context):
        from ..face.transfer import rest_pose, transfer

        scene = context.scene
        try:
            tgt = _resolve(self, context, "target")
            src = _resolve(self, context, "source", exclude=tgt)
            if src == tgt and self.offset == 0:
                raise ValueError("source and target are the same actor ('{}'): pick another source, "
                                 "or an offset to re-time this actor".format(tgt.name))
            tgt_track = load_actor_track(tgt)
            src_tracked = load_actor_track(src)
            src_perf = curves_to_track(src, scene, base=src_tracked)
            offset = int(self.offset) + int(src.reenact.frame_offset) - int(tgt.reenact.frame_offset)
            frames = None
            if self.use_range:
                if self.frame_end < self.frame_start:
                    raise ValueError("frame range {}-{} is empty".format(self.frame_start, self.frame_end))
                fo = int(tgt.reenact.frame_offset)
                frames = (self.frame_start - fo, self.frame_end + 1 - fo)
                c0, c1 = int(tgt_track.frame_start), int(tgt_track.frame_start) + tgt_track.n_frames
                if frames[1] <= c0 or frames[0] >= c1:
                    raise ValueError("frames {}-{} lie outside the clip of '{}' ({}-{})".format(
                        self.frame_start, self.frame_end, tgt.name, c0 + fo, c1 - 1 + fo))
            gains = {"mouth": self.gain_mouth, "eyes": self.gain_eyes, "brows": self.gain_brows,
                     "pose": self.gain_pose}
            info = {}
            try:
                result = transfer(src_perf, tgt_track, self.mode, offset=offset, gains=gains, frames=frames,
                                  smoothing=self.smoothing, source_rest=rest_pose(src_tracked),
                                  target_rest=rest_pose(tgt_track), info=info)
            except ValueError as exc:
                if str(exc).startswith("no overlapping frames") and src_perf.fps == tgt_track.fps:
                    raise ValueError(self._no_overlap(src, tgt, src_perf, tgt_track)) from None
                raise
            if not info["transferred"]:
                raise ValueError("no frame to transfer: the source or the target is untracked on every "
                                 "overlapping frame")
        except (ValueError, OSError) as exc:
            return _fail(self, exc)
        ensure_layers(tgt, tgt_track)
        write_transfer(tgt, tgt_track, result, info)
        scene.frame_set(scene.frame_current, subframe=scene.frame_subframe)
        fo = int(tgt.reenact.frame_offset)
        fr = info["transferred_frames"]
        self.report({"INFO"}, "Reenact: {} transfer '{}' -> '{}': {} frames ({}-{}){}".format(
            self.mode, src.name, tgt.name, len(fr), fr[0] + fo, fr[-1] + fo,
            ", {} skipped (untracked)".format(info["skipped_untracked_source"] + info["skipped_untracked_target"])
            if info["skipped_untracked_source"] + info["skipped_untracked_target"] else ""))
        return {"FINISHED"}


    def _no_overlap(self, src, tgt, src_track, tgt_track):
        """The no-overlap message in timeline frames (what the artist sees)."""
        t0 = int(tgt.reenact.frame_offset) + int(tgt_track.frame_start)
        t1 = t0 + tgt_track.n_frames - 1
        if self.use_range:
            t0, t1 = max(t0, self.frame_start), min(t1, self.frame_end)
        s0 = int(src.reenact.frame_offset) + int(src_track.frame_start)
        return ("no overlapping frames: target '{}' frames {}-{} take source frames {}-{} (offset {}), "
                "but '{}' covers frames {}-{}".format(tgt.name, t0, t1, t0 - self.offset, t1 - self.offset,
                                                      self.offset, src.name, s0, s0 + src_track.n_frames - 1))


class REENACT_OT_reset_to_tracked(bpy.types.Operator):
    """Put the tracked performance back over a frame range (only the chosen channels), undoing
    transfers and hand edits there"""

    bl_idname = "reenact.reset_to_tracked"
    bl_label = "Reset to Tracked"
    bl_options = {"REGISTER", "UNDO"}

    actor: EnumProperty(name="Actor", items=_actor_items)
    channels: EnumProperty(name="Channels", items=(
        ("full", "All", "Every channel: head, expressions, gaze, confidence"),
        ("expression", "Expressions", "All expression coefficients"),
        ("mouth", "Mouth", "Jaw and mouth coefficients"),
        ("pose", "Pose", "Head rotation and position"),
        ("gaze", "Gaze", "Eye directions"),
    ), default="full")
    use_range: BoolProperty(name="Frame Range", default=False,
                            description="Only reset the frames below (else the actor's whole clip)")
    frame_start: IntProperty(name="Start", default=1, description="First timeline frame to reset")
    frame_end: IntProperty(name="End", default=250, description="Last timeline frame to reset (included)")

    @classmethod
    def poll(cls, context):
        return _poll_actors(cls, context)

    def invoke(self, context, event):
        if not self.properties.is_property_set("frame_start"):
            self.frame_start, self.frame_end = context.scene.frame_start, context.scene.frame_end
        if bpy.app.background or context.window is None:
            return self.execute(context)
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        try:
            ob = _resolve(self, context, "actor")
            track = load_actor_track(ob)
            frames = timeline_frames(ob, track)
            a, b = int(frames[0]), int(frames[-1])
            if self.use_range:
                if self.frame_end < self.frame_start:
                    raise ValueError("frame range {}-{} is empty".format(self.frame_start, self.frame_end))
                a, b = max(a, self.frame_start), min(b, self.frame_end)
                if b < a:
                    raise ValueError("frames {}-{} lie outside the clip of '{}' ({}-{})".format(
                        self.frame_start, self.frame_end, ob.name, int(frames[0]), int(frames[-1])))
        except (ValueError, OSError) as exc:
            return _fail(self, exc)
        ensure_layers(ob, track)
        n = reset_range(ob, a, b, self.channels)
        context.scene.frame_set(context.scene.frame_current, subframe=context.scene.frame_subframe)
        self.report({"INFO"}, "Reenact: '{}' reset to tracked on frames {}-{} ({} curves)".format(ob.name, a, b, n))
        return {"FINISHED"}


class REENACT_OT_curves_to_track(bpy.types.Operator):
    """Write the actor's performance as Blender shows it (every curve, layer, influence and
    modifier evaluated at every frame of its clip) to a Track file"""

    bl_idname = "reenact.curves_to_track"
    bl_label = "Curves to Track"
    bl_options = {"REGISTER", "UNDO"}

    actor: EnumProperty(name="Actor", items=_actor_items)
    filepath: StringProperty(name="Track File", subtype="FILE_PATH",
                             description="Where to write the Track (.npz); empty: next to the .blend")
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return _poll_actors(cls, context)

    @staticmethod
    def default_path(ob):
        track_path = bpy.path.abspath(ob.reenact.track_path)
        folder = os.path.join(bpy.path.abspath("//"), "reenact") if bpy.data.filepath else os.path.dirname(track_path)
        stem = os.path.splitext(os.path.basename(track_path))[0] or bpy.path.clean_name(ob.name)
        return os.path.join(folder, stem + "_performance.npz")

    def invoke(self, context, event):
        ob = _default_actor(context) if not self.properties.is_property_set("actor") else None
        if ob is not None:
            self.actor = ob.name
        if not self.filepath:
            try:
                self.filepath = self.default_path(_resolve(self, context, "actor"))
            except ValueError:
                pass
        if bpy.app.background or context.window is None:
            return self.execute(context)
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        try:
            ob = _resolve(self, context, "actor")
            path = bpy.path.abspath(self.filepath) if self.filepath else self.default_path(ob)
            if not path.lower().endswith(".npz"):
                raise ValueError("{}: a Track file must end in .npz".format(path))
            info = {}
            tr = curves_to_track(ob, context.scene, info=info)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            tr.save(path)
        except (ValueError, OSError) as exc:
            return _fail(self, exc)
        self.filepath = path
        msg = "Reenact: wrote {} ({} frames of '{}')".format(path, tr.n_frames, ob.name)
        if info.get("clipped"):
            msg += "; {} values outside 0..1 clipped".format(info["clipped"])
        self.report({"WARNING"} if info.get("clipped") else {"INFO"}, msg)
        return {"FINISHED"}


class REENACT_OT_mute_edit_layer(bpy.types.Operator):
    """Mute or unmute the actor's edit layer (transfers and hand edits): muted, the actor shows
    its tracked performance"""

    bl_idname = "reenact.mute_edit_layer"
    bl_label = "Mute Edit Layer"
    bl_options = {"REGISTER", "UNDO"}

    actor: EnumProperty(name="Actor", items=_actor_items)

    @classmethod
    def poll(cls, context):
        return _poll_actors(cls, context)

    def execute(self, context):
        try:
            ob = _resolve(self, context, "actor")
            track = load_actor_track(ob)
        except (ValueError, OSError) as exc:
            return _fail(self, exc)
        ensure_layers(ob, track)
        ids = animated_ids(ob)
        if edit_muted(ob):
            saved = list(ob.get(MUTE_PROP, [1.0, 1.0]))
            for idd, v in zip(ids, saved):
                idd.animation_data.action_influence = float(v) if v > 0 else 1.0
            if MUTE_PROP in ob:
                del ob[MUTE_PROP]
            text = "unmuted"
        else:
            ob[MUTE_PROP] = [float(idd.animation_data.action_influence) for idd in ids]
            for idd in ids:
                idd.animation_data.action_influence = 0.0
            text = "muted: showing the tracked performance"
        context.scene.frame_set(context.scene.frame_current, subframe=context.scene.frame_subframe)
        self.report({"INFO"}, "Reenact: edit layer of '{}' {}".format(ob.name, text))
        return {"FINISHED"}


classes = (
    REENACT_OT_transfer_performance,
    REENACT_OT_reset_to_tracked,
    REENACT_OT_curves_to_track,
    REENACT_OT_mute_edit_layer,
)
