# SPDX-License-Identifier: GPL-3.0-or-later
import bpy

from .. import blend, shown
from .common import ReenactSequencerPanel


class SEQUENCER_PT_reenact_transfer(ReenactSequencerPanel, bpy.types.Panel):
    """Transfer performances between actors; the active actor's edit layer (influence, mute,
    reset) and Curves to Track."""

    bl_label = "Transfer & Edit"
    bl_order = 20

    def draw(self, context):
        from .. import actor as actor_data
        from .. import layers

        layout = self.layout
        actors = shown.shown_actors(blend.edit_scene(context))
        if not actors:
            layout.label(text="No tracked actors yet", icon="INFO")
            return
        layout.operator("reenact.transfer_performance", icon="ARMATURE_DATA")
        active = blend.edit_view_layer(context).objects.active
        ob = active if active in actors else actors[0]
        box = layout.box()
        box.label(text=ob.name, icon="OUTLINER_OB_MESH")
        if layers.animated_ids(ob)[1] is None:  # (its shape keys deleted)
            box.label(text="Its shape keys are gone: Track Again, Replacing Edits", icon="ERROR")
            return
        if layers.has_layers(ob):
            col = box.column(align=True)
            head, keys = layers.animated_ids(ob)
            col.prop(head.animation_data, "action_influence", text="Head Edit", slider=True)
            col.prop(keys.animation_data, "action_influence", text="Expression Edit", slider=True)
            muted = layers.edit_muted(ob)
            op = box.operator("reenact.mute_edit_layer", text="Unmute Edit Layer" if muted else "Mute Edit Layer",
                              icon="HIDE_ON" if muted else "HIDE_OFF", depress=muted)
            op.actor = ob.name
        else:
            # (the tracking and any keys the animator set are one action until the layers are made: before
            # 2026-12-06 "Tracked only" was said over the animator's keys too)
            box.label(text="No edit layer yet: the tracking and your keys are one action", icon="INFO")
        row = box.row(align=True)
        op = row.operator("reenact.reset_to_tracked", icon="LOOP_BACK")
        op.actor = ob.name
        op = row.operator("reenact.curves_to_track", icon="EXPORT")
        op.actor = ob.name


classes = (SEQUENCER_PT_reenact_transfer,)
