# SPDX-License-Identifier: GPL-3.0-or-later
"""The small adapter between Blender data and the core (imports bpy).

Everything that differs between Blender 4.5 LTS and 5.x lives here, so operators and the
command line share one tested code path.
"""

import os

import bpy


def strips_of(scene):
    """The top-level strip collection (``strips`` since 4.4; ``sequences`` was removed in 5.0)."""
    ed = scene.sequence_editor_create()
    return ed.strips


def all_strips(scene):
    ed = scene.sequence_editor
    if ed is None:
        return []
    return list(ed.strips_all)


def active_strip(scene):
    ed = scene.sequence_editor
    return ed.active_strip if ed else None


def strip_filepath(strip):
    """Absolute path of a movie strip's file or an image strip's folder + first element."""
    if strip.type == "MOVIE":
        return bpy.path.abspath(strip.filepath, library=strip.id_data.library)
    if strip.type == "IMAGE":
        directory = bpy.path.abspath(strip.directory, library=strip.id_data.library)
        return os.path.join(directory, strip.elements[0].filename)
    raise ValueError("strip '{}' is a {} strip, not a movie or image strip".format(strip.name, strip.type))


def free_channel_above(scene, strip):
    """The lowest channel above ``strip`` that is free over its whole frame range."""
    start, end = strip.frame_final_start, strip.frame_final_end
    channel = strip.channel + 1
    used = [(s.channel, s.frame_final_start, s.frame_final_end) for s in all_strips(scene)]
    while any(c == channel and s < end and e > start for c, s, e in used):
        channel += 1
    return channel


def add_movie_strip(scene, filepath, channel=1, frame_start=1, name=None, fit_scene=True):
    """Add a movie strip and, when ``fit_scene``, make the scene's resolution, frame rate and
    range match the footage so the sequencer shows it frame for frame."""
    strips = strips_of(scene)
    name = name or os.path.splitext(os.path.basename(filepath))[0]
    strip = strips.new_movie(name=name, filepath=filepath, channel=channel, frame_start=frame_start)
    if fit_scene:
        elem = strip.elements[0] if len(strip.elements) else None
        if elem is not None and elem.orig_width > 0:
            scene.render.resolution_x = elem.orig_width
            scene.render.resolution_y = elem.orig_height
            scene.render.resolution_percentage = 100
        fps = strip.fps
        if fps > 0:
            set_scene_fps(scene, fps)
        scene.frame_start = strip.frame_final_start
        scene.frame_end = strip.frame_final_end - 1
    return strip


def set_scene_fps(scene, fps):
    """Set the scene rate from a float (29.97 -> 30000/1001 exactly)."""
    for base in (1.0, 1.001):
        num = fps * base
        if abs(num - round(num)) < 1e-3:
            scene.render.fps = int(round(num))
            scene.render.fps_base = base
            return
    scene.render.fps = int(round(fps * 1000))
    scene.render.fps_base = 1000.0


def new_scene(name):
    scene = bpy.data.scenes.new(name)
    scene.sequence_editor_create()
    return scene


def save_blend(filepath):
    """Save to a temporary name, then rename: a failed save leaves the old file intact."""
    filepath = os.path.abspath(filepath)
    os.makedirs(os.path.dirname(filepath), exist_ok=True)
    tmp = filepath + ".tmp.blend"
    bpy.ops.wm.save_as_mainfile(filepath=tmp, copy=True, compress=True)
    os.replace(tmp, filepath)
    return filepath
