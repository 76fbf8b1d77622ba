# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything that imports bpy: properties, the actor/animation adapter, operators, panels.

Registration order: properties first, then operators, then panels, then the save handlers;
the reverse on unregister.
"""

from . import operators, panels, props, saving


def register():
    props.register()
    operators.register()
    panels.register()
    saving.register()


def unregister():
    saving.unregister()
    panels.unregister()
    operators.unregister()
    props.unregister()
