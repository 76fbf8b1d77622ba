# SPDX-License-Identifier: GPL-3.0-or-later
import bpy


class ReenactSequencerPanel:
    """Mixin: every Reenact panel lives in the sequencer sidebar, tab "Reenact"."""

    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Reenact"
