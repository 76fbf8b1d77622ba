# SPDX-License-Identifier: GPL-3.0-or-later
import bpy

from .. import blend
from .common import ReenactSequencerPanel


class SEQUENCER_PT_reenact_system(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Runtime"
    bl_options = {"DEFAULT_CLOSED"}
    bl_order = 100

    def draw(self, context):
        layout = self.layout
        settings = blend.edit_scene(context).reenact
        col = layout.column(align=True)
        if settings.runtime_provider:
            col.label(text=settings.runtime_provider,
                      icon="ERROR" if settings.runtime_provider == "Failed" else "CHECKMARK")
            col.label(text=settings.runtime_summary)
        else:
            col.label(text="Not checked yet", icon="QUESTION")
        layout.operator("reenact.check_runtime", icon="FILE_REFRESH")


classes = (SEQUENCER_PT_reenact_system,)
