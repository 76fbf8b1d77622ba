# SPDX-License-Identifier: GPL-3.0-or-later
"""Sidebar panels in the Video Sequencer (tab "Reenact") and the Strip ▸ Reenact menu."""

import bpy

from . import actors, menus, restyle, system, transfer, verify

classes = (
    *actors.classes,
    *system.classes,
    *transfer.classes,
    *restyle.classes,
    *verify.classes,
    *menus.classes,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    _register_classes()
    menus.register()


def unregister():
    menus.unregister()
    _unregister_classes()
