# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared by the checks that drive Blender's sequencer in a fresh bpy process (5.0, and 4.5 LTS
where given): blender_look_check.py, blender_meta_check.py, blender_plate_check.py,
blender_plate_render_check.py, blender_rename_check.py, blender_rate_check.py,
blender_scene_check.py, blender_stack_check.py, blender_extend_check.py. The check
scripts import it from their own folder (a script's folder is on its path)."""

import os
import sys

import bpy
import numpy as np


def empty_scene(width, height):
    """A factory-empty scene with Reenact registered, rendering the sequencer at ``width`` x
    ``height`` to PNG through the Standard view (what the checks compare)."""
    from reenact import register

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100
    scene.render.image_settings.file_format = "PNG"
    scene.view_settings.view_transform = "Standard"
    return scene


def image_strip(scene, folder, name="plate", channel=1):
    """The images of ``folder`` (sorted) as an image strip from timeline frame 1, the scene's
    range set to it; returns the strip."""
    from reenact.blender import blend

    names = sorted(os.listdir(folder))
    strip = blend.strips_of(scene).new_image(name=name, filepath=os.path.join(folder, names[0]), channel=channel,
                                             frame_start=1)
    for nm in names[1:]:
        strip.elements.append(nm)
    scene.frame_start, scene.frame_end = 1, len(names)
    return strip


def track_and_save(scene, shot, path):
    """Track ``shot`` (made the active strip) with Track Actor and save the .blend as ``path``;
    returns (scene, shot, actor) as found after the save, the actor made the active object."""
    scene.sequence_editor.active_strip = shot
    name = shot.name
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=path)
    scene = bpy.context.scene
    shot = scene.sequence_editor.strips_all[name]
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob
    return scene, shot, ob


def render(scene, frame, path):
    """The sequencer's picture at ``frame`` (BGR int16, written to ``path`` on the way)."""
    import cv2

    scene.frame_set(frame)
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
    return cv2.imread(path, cv2.IMREAD_COLOR).astype(np.int16)


class Layout:
    """A stand-in for a panel's layout that records its labels (a panel's ``draw`` run headless)."""

    def __init__(self, log):
        self.log = log

    def label(self, text="", **_kw):
        self.log.append(text)

    def operator(self, *_a, **_kw):
        return self

    def column(self, **_kw):
        return self

    def row(self, **_kw):
        return self

    def box(self):
        return self

    def prop(self, *_a, **_kw):
        pass


def verify_lines(verify_op):
    """Verify Strip with its reports recorded (``verify_op``: its operator module): a function
    ``verify(strip)`` -> the last line it reported, or "ERR <line>" when it failed."""
    said, report = [], verify_op.report

    def recorded(op, level, text):
        said.append(str(text))
        return report(op, level, text)

    verify_op.report = recorded

    def verify(strip):
        strip.id_data.sequence_editor.active_strip = strip
        said.clear()
        try:
            assert bpy.ops.reenact.verify_strip() == {"FINISHED"}
        except RuntimeError as exc:
            return "ERR " + str(exc).strip().splitlines()[-1]
        return said[-1]

    return verify


def run_json(main):
    """``main`` on the script's last argument read as JSON; an error is printed, and the script
    always ends at once with status 0 (the test reads its RESULT line; the bpy 4.5 module hangs at
    exit after sequencer renders)."""
    import json

    try:
        main(json.loads(sys.argv[-1]))
    except Exception:
        import traceback

        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run(main, n_args):
    """``main`` on the script's last ``n_args`` arguments; an error is printed and exits 1 at
    once (the bpy 4.5 module hangs at exit after sequencer renders: ``main`` ends with
    ``os._exit(0)`` after its RESULT line)."""
    try:
        main(*sys.argv[-n_args:])
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
