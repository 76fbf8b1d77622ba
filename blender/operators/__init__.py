# SPDX-License-Identifier: GPL-3.0-or-later
"""Operators: thin glue that reads Blender state, calls the core, writes Blender state, reports."""

import bpy

from . import conform, farm, preview, render, restyle, runtime, takes, track, train, transfer, verify

classes = (
    *track.classes,
    *conform.classes,
    *runtime.classes,
    *transfer.classes,
    *train.classes,
    *render.classes,
    *preview.classes,
    *farm.classes,
    *restyle.classes,
    *verify.classes,
    *takes.classes,
)

register, unregister = bpy.utils.register_classes_factory(classes)
