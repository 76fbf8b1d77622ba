# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process: .blend files whose names clean alike
('场景' and '镜头' both cleaned to 'untitled'; 'shot v01' and 'shot_v01') saved side by side keep
their renders and renderers apart, and Delete Unused Takes in one never offers the other's take;
a project of before (its folder of the earlier naming) keeps its folders. Prints RESULT <json>."""

import json
import os
import time

import bpy
from sequencer_check import empty_scene, run_json


def main(a):
    from reenact.blender import actor as actor_data
    from reenact.blender import takes
    from reenact.blender.operators import takes as takes_op
    from reenact.blender.operators import train
    from reenact.video.pngs import FRAME_PREFIX

    work, out = a["work"], {"version": list(bpy.app.version)}

    empty_scene(64, 64)

    def save(name):  # (Save As: the one session's file under each name)
        bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, name))
        return {"renders": os.path.relpath(actor_data.render_root(), work),
                "models": os.path.relpath(train._models_dir(None), work)}

    out["a"] = save("场景.blend")
    take = os.path.join(actor_data.render_root(), "shot_Actor_0_mouth")  # (a take of 场景's, shown by nothing)
    os.makedirs(take)
    with open(os.path.join(take, FRAME_PREFIX + "000001.png"), "wb") as fh:
        fh.write(b"\x89PNG")
    old = time.time() - 3600
    for p in (os.path.join(take, FRAME_PREFIX + "000001.png"), take):  # (an hour old: no render running)
        os.utime(p, (old, old))
    out["a_unused"] = [os.path.relpath(p, work) for p, _n in takes.unused_takes(takes_op._roots())]
    out["b"] = save("镜头.blend")
    out["b_unused"] = [os.path.relpath(p, work) for p, _n in takes.unused_takes(takes_op._roots())]
    # a project of before: its folders of the earlier naming stay its own ...
    for kind in ("renders", "models"):
        os.makedirs(os.path.join(work, "old", "reenact", kind, "My_Shot"))
    out["legacy"] = save(os.path.join("old", "My Shot.blend"))
    # ... also once a folder of the new name is made beside it (Train Restyle names its models' folder anew)
    from reenact.blender.restyle_files import models_folder

    os.makedirs(models_folder(bpy.context.scene))
    out["legacy_beside_new"] = os.path.relpath(train._models_dir(None), work)
    take = os.path.join(work, "old", "reenact", "renders", "My_Shot", "shot_Actor_0_mouth")
    os.makedirs(take)
    with open(os.path.join(take, FRAME_PREFIX + "000001.png"), "wb") as fh:
        fh.write(b"\x89PNG")
    for p in (os.path.join(take, FRAME_PREFIX + "000001.png"), take):
        os.utime(p, (old, old))
    out["legacy_unused"] = [os.path.relpath(p, work) for p, _n in takes.unused_takes(takes_op._roots())]
    # ... until another .blend beside it names alike: that one never offers the earlier file's takes
    out["alike"] = save(os.path.join("old", "My_Shot.blend"))
    out["alike_unused"] = [os.path.relpath(p, work) for p, _n in takes.unused_takes(takes_op._roots())]
    bpy.ops.wm.open_mainfile(filepath=os.path.join(work, "old", "My Shot.blend"))
    out["legacy_alike"] = {"renders": os.path.relpath(actor_data.render_root(), work),
                           "models": os.path.relpath(train._models_dir(None), work)}
    print("RESULT " + json.dumps(out))
    os._exit(0)


if __name__ == "__main__":
    run_json(main)
