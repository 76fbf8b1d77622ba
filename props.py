# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender properties: one settings group on the Scene, per-actor data on the actor object,
and the add-on preferences. Registered first, unregistered last (see ``__init__``)."""

import bpy
from bpy.props import BoolProperty, PointerProperty, StringProperty


class ReenactPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    use_gpu: BoolProperty(
        name="Use GPU when available",
        description="Run the ONNX models with CUDA when onnxruntime can really load it; CPU otherwise",
        default=True,
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "use_gpu")
        layout.label(text="GPU inference needs the onnxruntime-gpu build; see the README.", icon="INFO")


class ReenactSceneSettings(bpy.types.PropertyGroup):
    runtime_provider: StringProperty(
        name="Provider",
        description="Execution provider that a real onnxruntime session used at the last check",
        default="",
    )
    runtime_summary: StringProperty(
        name="Runtime",
        description="Versions found at the last runtime check",
        default="",
    )


def preferences(context=None):
    """The add-on preferences, or None when the add-on is not registered as an extension
    (for example when the package is imported from a plain checkout)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon else None


classes = (
    ReenactPreferences,
    ReenactSceneSettings,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    _register_classes()
    bpy.types.Scene.reenact = PointerProperty(type=ReenactSceneSettings)


def unregister():
    del bpy.types.Scene.reenact
    _unregister_classes()
