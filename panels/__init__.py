# SPDX-License-Identifier: GPL-3.0-or-later
"""Sidebar panels in the Video Sequencer, tab "Reenact"."""

import bpy

from . import actors, system

classes = (
    *actors.classes,
    *system.classes,
)

register, unregister = bpy.utils.register_classes_factory(classes)
