# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything that imports bpy: properties, the actor/animation adapter, operators, panels.

Registration order: properties first, then operators, then panels, then the save and render
handlers; the reverse on unregister.
"""

from . import operators, panels, props, saving, signing


def register():
    props.register()
    operators.register()
    panels.register()
    saving.register()
    signing.register()


def unregister():
    signing.unregister()
    saving.unregister()
    panels.unregister()
    operators.unregister()
    props.unregister()
