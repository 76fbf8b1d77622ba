# SPDX-License-Identifier: GPL-3.0-or-later
import os

import bpy

from .. import blend, saving, shots
from ..shown import shown_active
from .common import ReenactSequencerPanel


def draw_job_progress(layout):
    """The running job's progress bar and Esc hint (True when one runs)."""
    from ..modal import JOB

    if JOB.running:
        row = layout.row()
        row.progress(factor=JOB.progress, type="BAR", text=JOB.text or "Working…")
        layout.label(text="Esc cancels", icon="CANCEL")
        return True
    return False


class SEQUENCER_PT_reenact_track(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Track"
    bl_order = 0

    def draw(self, context):
        layout = self.layout
        scene = blend.edit_scene(context)
        settings, ed = scene.reenact, scene.sequence_editor
        strip = ed.active_strip if ed else None
        col = layout.column(align=True)
        col.label(text=strip.name if strip else "No active strip", icon="SEQUENCE")
        stale = shots.stale_note(strip) if strip is not None else ""
        if stale:  # (a result over a shot relinked or re-exported since: before 2026-12-06 unsaid)
            layout.label(text=stale, icon="ERROR")
        for note in saving.NOTES[-3:]:  # (what the last save could not do: before 2026-12-06 the console only)
            layout.label(text="Saving: " + note, icon="ERROR")
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        col.prop(settings, "max_faces")
        col.prop(settings, "use_focal")
        sub = col.column()
        sub.active = settings.use_focal
        sub.prop(settings, "focal_mm")
        col.prop(settings, "small_faces")
        if not draw_job_progress(layout):
            layout.operator("reenact.track_strip", icon="TRACKING")
            from ..shown import shown_actors

            mine = [o for o in shown_actors(scene) if strip is not None and o.reenact.strip_name == strip.name]
            gone = [o for o in mine if not _track_there(o)]
            for o in gone:  # (before 2026-12-06 unsaid here: a project copied without its reenact folder)
                layout.label(text="'{}': its Track file {} is missing: copy the project's reenact folder beside "
                                  "the .blend".format(o.name, os.path.basename(o.reenact.track_path)), icon="ERROR")
            if mine:
                untracked, _bad = _untracked(strip, mine[0])
                if untracked:  # the shot extended after tracking: say so where the fix is
                    layout.label(text="Frames {} are not tracked".format(untracked), icon="ERROR")
                for o in mine:  # (each actor's: before the evening of 2026-12-06 nothing said)
                    bad = _untracked(strip, o)[1] if o not in gone else ""
                    if bad:
                        layout.label(text="'{}': its Track file cannot be used: {}".format(o.name, bad), icon="ERROR")
                # tracking a strip again refuses to drop its actors' edits: these carry or replace them
                col = layout.column(align=True)
                op = col.operator("reenact.track_strip", text="Track Again, Keeping Edits", icon="FILE_REFRESH")
                op.keep_edits = True
                op = col.operator("reenact.track_strip", text="Track Again, Replacing Edits", icon="TRASH")
                op.replace_edits = True


def _track_there(ob):
    """Whether actor ``ob``'s Track file is where it is read from (one stat)."""
    from .. import actor as actor_data

    try:
        return os.path.isfile(actor_data.track_file(ob))
    except (ValueError, OSError):
        return False


def _untracked(strip, ob):
    """('21-30': the timeline frames of ``strip`` that its actor ``ob``'s Track does not cover, or
    '', and '' or the line why that Track cannot be used)."""
    from .. import actor as actor_data

    try:
        track = actor_data.tracked_track(ob)  # (memoised by the file's size and time, a refusal too: cheap to draw)
    except (ValueError, OSError) as exc:
        return "", str(exc)
    return " and ".join(actor_data.untracked_parts(strip, track)), ""


class SEQUENCER_PT_reenact_actors(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Actors"
    bl_order = 10

    def draw(self, context):
        layout = self.layout
        from ..actor import is_actor

        actors = [ob for ob in blend.edit_scene(context).objects if is_actor(ob)]
        if not actors:
            layout.label(text="No tracked actors yet", icon="INFO")
            return
        from ..actor import active_actor

        active = shown_active(context)
        for ob in actors:
            box = layout.box()
            row = box.row()
            # (a button: in Blender 5.0 the actors live in the sequencer's scene, which the
            # window's 3D view and outliner need not show)
            row.operator("reenact.make_actor_active", text=ob.name, emboss=ob != active,
                         icon="OUTLINER_OB_MESH" if ob != active else "RADIOBUT_ON").actor = ob.name
            s = ob.reenact
            if not _track_there(ob):  # (before 2026-12-06 "100% tracked" with its Track file gone)
                box.label(text="{} · Track file missing".format(s.strip_name), icon="ERROR")
                continue
            box.label(text="{} · {:.0%} tracked · {} shape keys".format(
                s.strip_name, s.tracked_fraction,
                max(0, len(ob.data.shape_keys.key_blocks) - 1) if ob.data.shape_keys else 0))
        layout.operator("reenact.view_actor_camera", icon="OUTLINER_OB_CAMERA")


class SEQUENCER_PT_reenact_renderer(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Renderer"
    bl_order = 30

    def draw(self, context):
        layout = self.layout
        from ..actor import active_actor

        ob = shown_active(context)  # (the operators' own rule: the one actor of the scene counts as active)
        if ob is None:
            layout.label(text="Make a tracked actor active (Actors panel)", icon="INFO")
            return
        s = ob.reenact
        col = layout.column(align=True)
        if s.model_path:
            col.label(text=os.path.basename(s.model_path), icon="NETWORK_DRIVE")
        else:
            col.label(text="Bundled base model", icon="NETWORK_DRIVE")
        col.prop(s, "model_path", text="")
        if not draw_job_progress(layout):
            layout.operator("reenact.train_renderer", icon="PLAY")
            row = layout.row(align=True)
            row.operator("reenact.render_performance", icon="RENDER_ANIMATION")
            row.operator("reenact.preview_frame", text="Preview", icon="RESTRICT_VIEW_OFF")
            layout.operator("reenact.render_edited", icon="RENDERLAYERS")  # (every edited actor, in one job)
            layout.operator("reenact.delete_unused_takes", icon="TRASH")  # (the takes renders again left)
        if ob.get("reenact_last_render"):
            layout.label(text=str(ob["reenact_last_render"]), icon="SEQUENCE")
        img = training_preview(ob)
        if img is not None and img.preview is not None:
            layout.template_icon(icon_value=img.preview.icon_id, scale=8.0)


def training_preview(ob):
    """The image of actor ``ob``'s training preview, or None (one it was never trained: before
    2026-12-06 one image for all, and actor B showed the preview of actor A's training)."""
    from ..saving import MODEL_STEM, preview_image_name

    stem = ob.get(MODEL_STEM) or os.path.basename(ob.reenact.model_path).split(".")[0]  # (its Renderer's)
    return bpy.data.images.get(preview_image_name(stem)) if stem else None


class SEQUENCER_PT_reenact_training(ReenactSequencerPanel, bpy.types.Panel):
    """Train Renderer's options (the scene's): what its errors name. Before 2026-12-06 none could
    be set from the UI, and a renderer trained to its Steps, or over a Track since replaced, was stuck."""

    bl_label = "Training"
    bl_parent_id = "SEQUENCER_PT_reenact_renderer"

    @classmethod
    def poll(cls, context):
        from ..actor import active_actor

        return shown_active(context) is not None

    def draw(self, context):
        layout = self.layout
        s = blend.edit_scene(context).reenact
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        col.prop(s, "train_steps")
        col.prop(s, "train_accept_footage")
        from ..modal import JOB

        if not JOB.running:  # (the Renderer panel above shows the job's progress)
            row = layout.row(align=True)
            row.operator("reenact.train_renderer", text="Train", icon="PLAY")
            # (from the bundled base: the actor's checkpoint replaced, as the errors that need it say)
            row.operator("reenact.train_renderer", text="Start Fresh", icon="FILE_REFRESH").fresh = True


classes = (SEQUENCER_PT_reenact_track, SEQUENCER_PT_reenact_actors, SEQUENCER_PT_reenact_renderer,
           SEQUENCER_PT_reenact_training)
