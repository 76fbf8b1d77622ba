# SPDX-License-Identifier: GPL-3.0-or-later
import bpy

from .. import blend
from .actors import draw_job_progress
from .common import ReenactSequencerPanel


class SEQUENCER_PT_reenact_restyle(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Restyle"
    bl_options = {"DEFAULT_CLOSED"}
    bl_order = 80

    def draw(self, context):
        layout = self.layout
        s = blend.edit_scene(context).reenact
        box = layout.box()
        box.label(text="Active strip: the shot · selected strips: the look", icon="SEQUENCE")
        box.prop(s, "restyle_colourise")
        row = box.row(align=True)
        row.prop(s, "restyle_method", expand=True)
        col = box.column(align=True)
        col.prop(s, "restyle_size")
        col.prop(s, "restyle_minutes")
        col.prop(s, "restyle_steps")
        if not draw_job_progress(box):
            row = box.row(align=True)
            row.operator("reenact.train_restyle", icon="PLAY")
            # (trains from step 0, the earlier checkpoint kept aside: before 2026-12-06 the UI could not)
            row.operator("reenact.train_restyle", text="Start Afresh", icon="FILE_REFRESH").start_afresh = True
        img = bpy.data.images.get("Reenact Restyle Preview")
        if img is not None and img.preview is not None:
            box.template_icon(icon_value=img.preview.icon_id, scale=8.0)
        layout.prop(s, "restyle_model", text="Model")
        layout.operator("reenact.restyle_strip", icon="BRUSH_DATA")


classes = (SEQUENCER_PT_reenact_restyle,)
