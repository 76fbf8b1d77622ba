# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a saved .blend
whose renders folder holds takes: one a strip shows, an older one no strip shows, one written a
moment ago, a farm job's folder, Preview Frame's images, an unshown movie, an unshown restyle,
a folder of the user's own files, and a take another .blend saved beside it (Save As) shows.
Delete Unused Takes deletes the unshown, older takes and movie and restyle only, and nothing
while a job runs.
Prints RESULT <json>."""

import json
import os
import time

import bpy
from sequencer_check import empty_scene, run


def main(folder, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, shots

    scene = empty_scene(176, 144)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "cut.blend"))
    scene = bpy.context.scene
    root = actor_data.render_root()
    restyles = os.path.join(os.path.dirname(os.path.dirname(root)), "restyle", actor_data.blend_name())
    names = sorted(n for n in os.listdir(folder) if n.endswith(".png"))
    old = time.time() - 3600

    def take(path, age=old):
        os.makedirs(path, exist_ok=True)
        for n in names:
            with open(os.path.join(folder, n), "rb") as a, open(os.path.join(path, n), "wb") as b:
                b.write(a.read())
            os.utime(os.path.join(path, n), (age, age))
        os.utime(path, (age, age))
        return path

    shown = take(os.path.join(root, "Actor_mouth"))
    for name in ("Actor_mouth.take2", "Actor_mouth.farm", "preview"):
        take(os.path.join(root, name))
    take(os.path.join(root, "Actor_mouth.take3"), age=time.time())  # (a render writing it now)
    take(os.path.join(restyles, "shot_look"))
    movie = os.path.join(root, "Actor_face.mp4")
    with open(movie, "wb") as fh:
        fh.write(b"\0" * 1000)
    os.utime(movie, (old, old))
    plates = os.path.join(root, "client_plates")  # the user's own folder there: never offered
    os.makedirs(plates)
    with open(os.path.join(plates, "notes.txt"), "w") as fh:
        fh.write("keep")
    os.utime(plates, (old, old))
    shot = bpy.context.scene.sequence_editor_create().strips.new_image(
        name="shot", filepath=os.path.join(folder, names[0]), channel=1, frame_start=1)
    # a version saved beside it (Save As: cut_v2.blend) shows the older take 2 of cut.blend's renders
    take2 = take(os.path.join(root, "Actor_face.take2"))
    res = shots.add_result_strip(scene, shot, take2, len(names), "shot Reenact Face", key=("Actor", "face"))
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "cut_v2.blend"))
    scene = bpy.context.scene
    shot, res = scene.sequence_editor.strips_all["shot"], scene.sequence_editor.strips_all["shot Reenact Face"]
    blend_strips = blend.strips_of(scene)
    blend_strips.remove(res)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "cut.blend"))  # (back in cut.blend, without it)
    scene = bpy.context.scene
    shot = scene.sequence_editor.strips_all["shot"]
    shots.add_result_strip(scene, shot, shown, len(names), "shot Reenact Mouth", key=("Actor", "mouth"))
    from reenact.blender.modal import JOB

    JOB.running = True  # (a job running: its new takes are shown only when it ends)
    out = {"while_running": sorted(bpy.ops.reenact.delete_unused_takes("EXEC_DEFAULT"))}
    JOB.running = False
    out["result"] = sorted(bpy.ops.reenact.delete_unused_takes("EXEC_DEFAULT"))
    out["renders"] = sorted(os.listdir(root))
    out["restyles"] = sorted(os.listdir(restyles))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
