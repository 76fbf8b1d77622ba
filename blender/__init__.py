# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything that imports bpy: properties, the actor/animation adapter, operators, panels.

Registration order: properties first, then operators, then panels; the reverse on unregister.
"""

from . import operators, panels, props


def register():
    props.register()
    operators.register()
    panels.register()


def unregister():
    panels.unregister()
    operators.unregister()
    props.unregister()
