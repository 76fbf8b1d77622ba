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
from dataclasses import replace

import bpy

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from .. import blend
from .. import actor as actor_data
from .. import dubbing, layers, shots, shown
from ..render_inputs import ACCEPT_FOOTAGE
from ..report import EXPECTED, fail, report
from ..still_edited import over_transfer, still_edited

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
    scene = blend.edit_scene(context) if context else None  # (the sequencer's scene: the one the operators use)
    items = [(ob.name, ob.name, "Actor {} of strip '{}'".format(ob.reenact.actor_index, ob.reenact.strip_name))
             for ob in (actor_data.actor_objects(scene) if scene else [])]
    _ACTOR_ITEMS = items or [("NONE", "No Actors", "Track an actor first")]
    return _ACTOR_ITEMS


def _resolve(op, context, prop, exclude=None):
    """The actor named by the operator property ``prop`` (the active actor when unset)."""
    if op.properties.is_property_set(prop):
        name = getattr(op, prop)
        ob = bpy.data.objects.get(name)
        scene = blend.edit_scene(context)
        if ob is None or ob not in actor_data.actor_objects(scene):
            raise ValueError("'{}' is not a tracked actor of scene '{}'".format(name, scene.name))
        actor_data.check_local(scene, ob)
        return ob
    ob = actor_data.active_actor(context, exclude)
    if ob is None:
        raise ValueError("no tracked actor in scene '{}'".format(blend.edit_scene(context).name))
    actor_data.check_local(blend.edit_scene(context), ob)
    return ob


def default_pair(scene, source=None, target=None):
    """(source, target) actors for Transfer Performance: the names given, else the scene's last
    choice, else the README's order: the target is the actor tracked first (the on-screen
    actor), the source the one tracked last besides it (the dubbing actor). None where the scene
    has no actor."""
    actors = actor_data.actor_objects(scene)

    def pick(*names):
        for n in names:
            ob = bpy.data.objects.get(n) if n else None
            if ob in actors:
                return ob
        return None

    ordered = sorted(actors, key=lambda o: (o.reenact.track_order or 1 << 30, o.name))
    settings = scene.reenact
    tgt = pick(target, settings.transfer_target) or (ordered[0] if ordered else None)
    given = pick(source)
    if target is None and given is not None and given == tgt:  # only the source named: another target
        tgt = next((o for o in ordered if o != given), tgt)
    others = [o for o in ordered if o != tgt]
    src = pick(source, settings.transfer_source if settings.transfer_source != getattr(tgt, "name", None)
               else None) or (others[-1] if others else tgt)
    return src, tgt


def source_edits(src, perf, tracked):
    """Timeline frames where the source's curves (``perf``, what Transfer Performance sends)
    differ from its Track file (``tracked``): edits of its own (hand edits, an earlier transfer)."""
    return layers.edited_frames(src, perf, tracked)


def _poll_actors(cls, context):
    scene = blend.edit_scene(context)
    if scene is None or not shown.shown_actors(scene):
        cls.poll_message_set("Track an actor first (Track Actor in the Track panel)")
        return False
    return True


# --------------------------------------------------------------------------- the actor's data


# --------------------------------------------------------------------------- keys in bulk


# --------------------------------------------------------------------------- layers


# --------------------------------------------------------------------------- channels


# --------------------------------------------------------------------------- operators
class REENACT_OT_transfer_performance(bpy.types.Operator):
    """Transfer the source actor's performance (or part of it) onto the target actor, as an
    editable layer on top of the target's tracked performance"""

    bl_idname = "reenact.transfer_performance"
    bl_label = "Transfer Performance"
    bl_options = {"REGISTER", "UNDO"}

    source: EnumProperty(name="Source", items=_actor_items, description="Actor whose performance is transferred")
    target: EnumProperty(name="Target", items=_actor_items, description="Actor who takes the performance")
    mode: EnumProperty(name="Mode", items=MODE_ITEMS, default="mouth")
    accept_footage: BoolProperty(**ACCEPT_FOOTAGE)
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
    anchor: EnumProperty(name="Head Position", default="shot", items=(
        ("shot", "Shot", "The head stays where the target's footage has it (camera moves, the actor shifting) "
                         "and takes the source's quicker moves: the body, which the render cannot move, "
                         "stays under it"),
        ("rest", "Rest", "The source's whole motion about the target's rest pose (a slow lean too)")),
        description="Where the moved head sits (modes Full and Pose)")
    keep_turns: BoolProperty(name="Turns the Shot Can Show", default=True,
                             description="Ease head turns further than 6 degrees from every rotation of the "
                                         "target's footage towards them (never more than 9.5 beyond): the render draws the "
                                         "head from the nearest frame, and a larger warp stretches its far side. "
                                         "Off: the source's turns as they are (modes Full and Pose)")

    @classmethod
    def poll(cls, context):
        return _poll_actors(cls, context)

    # what the dialog found about its default source (hidden; shown by draw)
    checked_source: StringProperty(options={"HIDDEN", "SKIP_SAVE"})
    checked_edits: IntProperty(options={"HIDDEN", "SKIP_SAVE"})

    def _pair(self, context):
        """The actors named by the operator, else the defaults (:func:`default_pair`)."""
        scene = blend.edit_scene(context)
        src, tgt = default_pair(
            scene, self.source if self.properties.is_property_set("source") else None,
            self.target if self.properties.is_property_set("target") else None)
        for prop, ob in (("target", tgt), ("source", src)):
            if self.properties.is_property_set(prop) and (ob is None or ob.name != getattr(self, prop)):
                raise ValueError("'{}' is not a tracked actor of scene '{}'".format(getattr(self, prop), scene.name))
        if tgt is None:
            raise ValueError("no tracked actor in scene '{}'".format(scene.name))
        return src, tgt

    def invoke(self, context, event):
        src, tgt = default_pair(blend.edit_scene(context))
        if not self.properties.is_property_set("target") and tgt is not None:
            self.target = tgt.name
        if not self.properties.is_property_set("source") and src is not None:
            self.source = src.name
        if not self.properties.is_property_set("frame_start"):
            scene = blend.edit_scene(context)
            self.frame_start, self.frame_end = scene.frame_start, scene.frame_end
        if bpy.app.background or context.window is None:
            return self.execute(context)
        src = bpy.data.objects.get(self.source)
        if src is not None and src in actor_data.actor_objects(blend.edit_scene(context)):
            try:
                tracked = actor_data.tracked_track(src)
                perf = layers.curves_to_track(src, blend.edit_scene(context), tracked)
                self.checked_edits = len(source_edits(src, perf, tracked))
                self.checked_source = src.name
            except EXPECTED:
                pass
        return context.window_manager.invoke_props_dialog(self, width=360)

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(self, "source", text="Source (Dubbing)")
        if self.checked_edits and self.source == self.checked_source:
            row = layout.row()
            row.alert = True
            row.label(text="The source has edits of its own on {} frames: they are transferred too".format(
                self.checked_edits), icon="ERROR")
        layout.prop(self, "target", text="Target (On Screen)")
        for p in ("mode", "offset", "smoothing"):
            layout.prop(self, p)
        if self.mode in ("full", "pose"):
            layout.prop(self, "anchor")
            layout.prop(self, "keep_turns")
        col = layout.column(heading="Gain", align=True)
        for p in ("gain_mouth", "gain_eyes", "gain_brows", "gain_pose"):
            col.prop(self, p)
        layout.prop(self, "use_range")
        col = layout.column(align=True)
        col.active = self.use_range
        col.prop(self, "frame_start")
        col.prop(self, "frame_end")
        layout.prop(self, "accept_footage")

    def execute(self, context):
        from ...face.drivers import hidden_drivers
        from ...face.transfer import MOUTH_MODES, TURN_REACH_DEG, rest_pose, transfer
        from ...render.actors import frame_runs

        scene = blend.edit_scene(context)
        try:
            src, tgt = self._pair(context)
            if src == tgt and self.offset == 0:
                raise ValueError("source and target are the same actor ('{}'): pick another source, "
                                 "or an offset to re-time this actor".format(tgt.name))
            tgt_track = actor_data.tracked_track(tgt)
            src_tracked = actor_data.tracked_track(src)
            src_strip, tgt_span = None, None
            for ob, tr in ((tgt, tgt_track), (src, src_tracked)):  # each Track of the footage its strip shows
                try:  # now (a dub strip relinked to another take transferred the old take: a review)
                    strip = actor_data.actor_strip(ob)[1]
                except ValueError:
                    continue  # (a strip gone: its Track is all there is)
                for w in actor_data.check_strip_footage(ob, strip, tr, self.accept_footage):
                    report(self, "WARNING", w)
                if ob == tgt:  # (the clip frames the target's shot shows, its pieces with it: said below)
                    tgt_span = shots.clip_span(shots.pieces(strip))
                if ob == src:  # (the pieces of the dubbing strip and what each shows: dubbing.piece_runs)
                    src_strip = strip
            src_perf = layers.curves_to_track(src, scene, base=src_tracked)
            edited = source_edits(src, src_perf, src_tracked) if src != tgt else []
            # every actor's keys lie one clip frame a timeline frame (a strip playing its clip at the clip's own
            # speed is refused), so what lines up is by timeline frame, whatever rates the Tracks say: the
            # source taken at the target's (before 2026-12-06 a 30 fps driver in a 25 fps scene was re-timed by
            # its clip time, 1.2 frames a frame: target frame 20 took the driver's 23, its trimmed limit not)
            drive = replace(src_perf, fps=tgt_track.fps)
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
            # each piece of the dubbing strip drives the target frames it lines up with, only the clip frames it
            # shows (its own trims and its metas', a reversed strip's from its end): not those beyond
            runs, unused = [("", offset, frames)], []
            if src_strip is not None and src != tgt:
                runs, unused = dubbing.piece_runs(src, src_strip, offset, frames, tgt_track)
                if not runs:
                    a, b = shots.clip_span(shots.pieces(src_strip))
                    raise ValueError("the strip of '{}' shows its clip frames {}-{} (trimmed), which drive none of "
                                     "the target's frames{}".format(src.name, a, b - 1,
                                                       " {}-{}".format(self.frame_start, self.frame_end)
                                                       if self.use_range else ""))
            gains = {"mouth": self.gain_mouth, "eyes": self.gain_eyes, "brows": self.gain_brows,
                     "pose": self.gain_pose}
            result, infos = tgt_track, []
            for _, off, fr in runs:  # (one transfer a piece, onto the last one's result)
                infos.append({})
                try:
                    result = transfer(drive, result, self.mode, offset=off, gains=gains, frames=fr,
                                      smoothing=self.smoothing, source_rest=rest_pose(src_tracked),
                                      target_rest=rest_pose(tgt_track), info=infos[-1], anchor=self.anchor,
                                      turn_reach=TURN_REACH_DEG if self.keep_turns else None)
                except ValueError as exc:
                    if str(exc).startswith("no overlapping frames"):
                        raise ValueError(self._no_overlap(src, tgt, src_perf, tgt_track)) from None
                    raise
            info = dubbing.merge_infos(infos)
            if not info["transferred"]:
                raise ValueError("no frame to transfer: the source or the target is untracked on every "
                                 "overlapping frame")
            layers.check_pushed_down(tgt)
        except EXPECTED as exc:
            return fail(self, exc)
        layers.ensure_layers(tgt, tgt_track)
        replaced = dubbing.replaced_keys(tgt, tgt_track, result, info)
        layers.write_transfer(tgt, tgt_track, result, info)
        # only a mode that moves the mouth names its driver, on the rows it changed (before 2026-12-06 every
        # mode, over the whole record: a Gaze transfer from C made C the driver of B's lip sync)
        driver, undriven = (dubbing.record_mouth(tgt, src, result.performance_frame, src_tracked, src_strip)
                            if self.mode in MOUTH_MODES else (None, {}))
        scene.frame_set(scene.frame_current, subframe=scene.frame_subframe)
        scene.reenact.transfer_source, scene.reenact.transfer_target = src.name, tgt.name
        fo = int(tgt.reenact.frame_offset)
        fr = info["transferred_frames"]
        msg = "{} transfer '{}' -> '{}': {} frames ({}){}".format(
            self.mode, src.name, tgt.name, len(fr), frame_runs([f + fo for f in fr]),
            ", {} skipped (untracked)".format(info["skipped_untracked_source"] + info["skipped_untracked_target"])
            if info["skipped_untracked_source"] + info["skipped_untracked_target"] else "")
        whole = (int(tgt_track.frame_start), int(tgt_track.frame_start) + tgt_track.n_frames)
        if frames is not None:
            whole = (max(whole[0], frames[0]), min(whole[1], frames[1]))
        reach = dubbing.covered(runs, whole)
        if len(reach) < whole[1] - whole[0]:
            msg += "; frames {} only: the strip of '{}' shows no more (trimmed{})".format(
                frame_runs([f + fo for f in reach]), src.name,
                ", in {} pieces".format(len(runs)) if len(runs) > 1 else "")
        warn = []
        if unused and not self.use_range:
            warn.append("the piece(s) {} of the strip of '{}' line up with none of the frames of '{}': they drive "
                        "nothing".format(", ".join("'{}'".format(n) for n in unused), src.name, tgt.name))
        if driver is not None and driver != src.name:  # (a chain: before 2026-12-06 the source, not its footage's)
            msg += "; the dubbing actor recorded: '{}', whose mouth '{}' took by an earlier transfer".format(
                driver, src.name)
        first = int(tgt_track.frame_start) + fo
        earlier = dubbing.earlier_rows(tgt, result) if driver is not None and not self.use_range else []
        if earlier:  # (an offset changed: the last transfer's frames this one does not reach; before 2026-12-06 unsaid)
            warn.append("frames {} keep the mouth of an earlier transfer from '{}' (this one does not reach them): "
                        "Reset to Tracked there clears it".format(frame_runs([r + first for r in earlier]), driver))
        for name, rows in undriven.items():  # (one actor's footage draws a render's mouth)
            warn.append("frames {} keep the mouth of '{}', but a render draws the footage's mouth of one dubbing "
                        "actor, '{}': there the shot's or the renderer's mouth".format(
                            frame_runs(sorted(r + first for r in rows)), name, driver))
        if replaced:  # (keys of the channels it writes, on the frames it writes: before 2026-12-06 unsaid)
            chans = sorted(replaced, key=lambda c: (-len(replaced[c]), c))
            warn.append("replaced keys that held neither the tracked values nor this transfer's (hand fixes, or an "
                        "earlier transfer's): {}{} ({} keys; Ctrl-Z brings them back)".format(
                            ", ".join("{} on frame{} {}".format(c, "s" if len(replaced[c]) > 1 else "",
                                                                 frame_runs(replaced[c])) for c in chans[:4]),
                            " and {} more channels".format(len(chans) - 4) if len(chans) > 4 else "",
                            sum(len(v) for v in replaced.values())))
        unseen = [f for f in fr if tgt_span is not None and not tgt_span[0] <= f < tgt_span[1]]
        if unseen:  # (keys kept for a later trim; before 2026-12-06 unsaid)
            msg += "; {} of them on frames the shot of '{}' does not show (trimmed): no render draws them".format(
                len(unseen), tgt.name)
        if info.get("eased_frames"):
            msg += ("; the head's moves eased on {} frames: '{}' sways further than '{}''s body can follow "
                    "(reach {:.1f} cm; Head Position Rest carries them all)").format(
                        info["eased_frames"], src.name, tgt.name, info["neck_reach_cm"])
        if info.get("eased_turns"):
            msg += ("; head turns eased on {} frames (up to {:.0f} degrees): '{}' turns further than any frame "
                    "of '{}' shows (Turns the Shot Can Show off carries them as they are)").format(
                        info["eased_turns"], info["turned_back_deg"], src.name, tgt.name)
        hidden = sorted({f + int(src.reenact.frame_offset) for i in infos
                         for f in hidden_drivers(src_tracked, result, i)})
        if hidden:
            msg += "; a hand before '{}''s face on its frames {}: the performance there is the tracker's guess".format(
                src.name, frame_runs(hidden))
        if edited:
            msg += ("; the source '{}' has edits of its own on {} frames ({}-{}) and they were transferred too "
                    "(Mute Edit Layer on it to transfer its tracked performance)").format(
                        src.name, len(edited), edited[0], edited[-1])
        over = over_transfer(tgt, self.mode)
        if over:  # (the animator's own, kept; before 2026-12-06 unsaid)
            warn.append("'{}' does not show this transfer as written: it keeps {}".format(
                tgt.name, ", ".join(over[:4]) + (" and {} more".format(len(over) - 4) if len(over) > 4 else "")))
        if warn:
            msg += "; " + "; ".join(warn)
        report(self, "WARNING" if edited or hidden or warn else "INFO", msg)
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
            scene = blend.edit_scene(context)
            self.frame_start, self.frame_end = scene.frame_start, scene.frame_end
        if bpy.app.background or context.window is None:
            return self.execute(context)
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        try:
            ob = _resolve(self, context, "actor")
            track = actor_data.tracked_track(ob)
            frames = layers.timeline_frames(ob, track)
            a, b = int(frames[0]), int(frames[-1])
            if self.use_range:
                if self.frame_end < self.frame_start:
                    raise ValueError("frame range {}-{} is empty".format(self.frame_start, self.frame_end))
                a, b = max(a, self.frame_start), min(b, self.frame_end)
                if b < a:
                    raise ValueError("frames {}-{} lie outside the clip of '{}' ({}-{})".format(
                        self.frame_start, self.frame_end, ob.name, int(frames[0]), int(frames[-1])))
            layers.check_pushed_down(ob)
        except EXPECTED as exc:
            return fail(self, exc)
        layers.ensure_layers(ob, track)
        n = layers.reset_range(ob, a, b, self.channels)
        if self.channels in ("full", "expression", "mouth"):  # (the mouth is the footage's again: not the driver's)
            dubbing.forget_driver(ob, track, a, b)
        scene = blend.edit_scene(context)
        scene.frame_set(scene.frame_current, subframe=scene.frame_subframe)
        # what still changes those channels there, kept (the animator's): named (before 2026-12-06 unsaid)
        still = still_edited(ob, scene, track, self.channels, a, b)
        report(self, "WARNING" if still else "INFO", "'{}' reset to tracked on frames {}-{} ({} curves){}".format(
            ob.name, a, b, n, "; but " + still if still else ""))
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
        ob = actor_data.active_actor(context) if not self.properties.is_property_set("actor") else None
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
            tr = layers.curves_to_track(ob, blend.edit_scene(context), info=info)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            tr.save(path)
        except EXPECTED as exc:
            return fail(self, exc)
        self.filepath = path
        msg = "wrote {} ({} frames of '{}')".format(path, tr.n_frames, ob.name)
        if info.get("clipped"):
            msg += "; {} values outside 0..1 clipped".format(info["clipped"])
        report(self, "WARNING" if info.get("clipped") else "INFO", msg)
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
            track = actor_data.tracked_track(ob)
            layers.check_pushed_down(ob)
        except EXPECTED as exc:
            return fail(self, exc)
        layers.ensure_layers(ob, track)
        ids = layers.animated_ids(ob)
        if layers.edit_muted(ob):
            saved = list(ob.get(layers.MUTE_PROP, [1.0, 1.0]))
            for idd, v in zip(ids, saved):
                idd.animation_data.action_influence = float(v) if v > 0 else 1.0
            if layers.MUTE_PROP in ob:
                del ob[layers.MUTE_PROP]
            text = "unmuted"
        else:
            ob[layers.MUTE_PROP] = [float(idd.animation_data.action_influence) for idd in ids]
            for idd in ids:
                idd.animation_data.action_influence = 0.0
            text = "muted: showing the tracked performance"
        scene = blend.edit_scene(context)
        scene.frame_set(scene.frame_current, subframe=scene.frame_subframe)
        still = still_edited(ob, scene, track) if layers.edit_muted(ob) else ""  # (before 2026-12-06 unsaid)
        if still:
            text = "muted; but " + still
        report(self, "WARNING" if still else "INFO", "edit layer of '{}' {}".format(ob.name, text))
        return {"FINISHED"}


classes = (
    REENACT_OT_transfer_performance,
    REENACT_OT_reset_to_tracked,
    REENACT_OT_curves_to_track,
    REENACT_OT_mute_edit_layer,
)
