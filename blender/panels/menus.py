# SPDX-License-Identifier: GPL-3.0-or-later
"""Sequencer menu entries: Strip ▸ Reenact. Being in a menu is also what makes the operators
findable with F3 (menu search) without Developer Extras."""

import bpy


class SEQUENCER_MT_reenact(bpy.types.Menu):
    bl_label = "Reenact"
    bl_idname = "SEQUENCER_MT_reenact"

    def draw(self, context):
        layout = self.layout
        for cls in operator_classes():
            layout.operator(cls.bl_idname)


def operator_classes():
    from .. import operators

    return [c for c in operators.classes if getattr(c, "bl_idname", "").startswith("reenact.")
            and getattr(c, "in_menu", True)]


def draw_strip_menu(self, context):
    self.layout.separator()
    self.layout.menu(SEQUENCER_MT_reenact.bl_idname)


def register():
    bpy.types.SEQUENCER_MT_strip.append(draw_strip_menu)


def unregister():
    bpy.types.SEQUENCER_MT_strip.remove(draw_strip_menu)


classes = (SEQUENCER_MT_reenact,)
