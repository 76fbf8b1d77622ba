# SPDX-License-Identifier: GPL-3.0-or-later
"""Render-farm glue on the Blender side (docs/farm.md): which actor a farm task means (the
command line over the bpy module is :mod:`reenact.blender.background`)."""

import bpy

from . import actor as actor_data

OUTPUT_ITEMS = (
    ("IMAGES", "Image Sequence", "One PNG per frame (each frame is kept as soon as it is written)"),
    ("MOVIE", "Movie", "One movie file (H.264; lossless RGB with the Lossless option)"),
)


def named_actor(context, name=""):
    """The actor object called ``name`` (a farm task names it), else the active actor."""
    if not name:
        return actor_data.active_actor(context)
    ob = bpy.data.objects.get(name)
    if ob is None or not ob.reenact.is_actor:
        raise ValueError("no tracked actor called '{}' in {}".format(
            name, bpy.path.basename(bpy.data.filepath) or "this .blend"))
    return ob


def render_target(context, name=""):
    """(actor, scene, strip, render folder) of the actor ``name`` (else the active one)."""
    ob = named_actor(context, name)
    if ob is None:
        raise ValueError("no active tracked actor")
    scene, strip = actor_data.actor_strip(ob)
    return ob, scene, strip, actor_data.render_root()
