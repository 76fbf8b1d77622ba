# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (Blender 5.0): a tracked strip
renamed in the sequencer (as editors do) keeps its actor: Preview Frame and Render Performance
find it, and tracking the renamed strip again replaces its actor instead of adding a second one.
Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run


def main(frames, work):
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    names = sorted(os.listdir(frames))
    shot = blend.strips_of(scene).new_image(name="plate", filepath=os.path.join(frames, names[0]), channel=1,
                                            frame_start=1)
    for nm in names[1:]:
        shot.elements.append(nm)
    scene.sequence_editor.active_strip = shot
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "rename.blend"))
    scene = bpy.context.scene
    shot = scene.sequence_editor.strips_all["plate"]
    shot.name = "sh010 plate v2"  # the editor renames it
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob
    out = {}
    scene.frame_set(6)
    try:
        out["preview"] = sorted(bpy.ops.reenact.preview_frame(region="mouth"))
    except RuntimeError as exc:
        out["preview"] = str(exc).strip().splitlines()[-1]
    out["strip_name"] = ob.reenact.strip_name
    scene.sequence_editor.active_strip = shot
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    out["actors"] = sorted(o.reenact.strip_name for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
