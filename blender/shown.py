# SPDX-License-Identifier: GPL-3.0-or-later
"""What the sidebar's panels and the buttons' polls ask at every redraw (the sequencer's sidebar
redraws at every frame of playback): the scene's actors, kept between changes of the file."""

import bpy

from . import actor as actor_data

#: the file's change count (blender/saving.py's handlers: every depsgraph update, load, undo and
#: redo), which :func:`shown_actors` keeps its list by
CHANGES = [0]
_SHOWN = {}


def shown_actors(scene):
    """:func:`~.actor.actor_objects` of ``scene`` for the sidebar's panels and buttons' polls, which ask it
    a score of times at each redraw: kept until the file changes (:data:`CHANGES`), objects are
    added or removed, or a second has passed (before the evening of 2026-12-06 every object of
    the file was looked at each time: 17-77 ms a redraw in a file of 2,000-5,000 objects).
    Operators ask :func:`~.actor.actor_objects` itself."""
    import time

    key = (CHANGES[0], scene.as_pointer() if scene is not None else 0, len(bpy.data.objects), int(time.monotonic()))
    hit = _SHOWN.get(key)
    if hit is not None:
        try:
            if all(actor_data.is_actor(ob) for ob in hit):
                return list(hit)
        except ReferenceError:  # (an object removed meanwhile)
            pass
    found = actor_data.actor_objects(scene)
    _SHOWN.clear()
    _SHOWN[key] = found
    return list(found)


def shown_active(context):
    """:func:`~.actor.active_actor` for a panel's draw or a button's poll."""
    return actor_data.active_actor(context, listed=shown_actors)
