# SPDX-License-Identifier: GPL-3.0-or-later
import bpy

from .common import ReenactSequencerPanel


class SEQUENCER_PT_reenact_restyle(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Restyle"
    bl_options = {"DEFAULT_CLOSED"}
    bl_order = 80

    def draw(self, context):
        layout = self.layout
        layout.prop(context.scene.reenact, "restyle_model", text="Model")
        layout.operator("reenact.restyle_strip", icon="BRUSH_DATA")
        layout.label(text="Train models with `reenact restyle train`")


classes = (SEQUENCER_PT_reenact_restyle,)
