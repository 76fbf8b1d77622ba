# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a shot with a
result strip (as Render Performance adds one), then the shot given another file (Strip ▸ Change
Path), given its own back, and its file written over by a new export. The Track panel, with the
result or the shot active, must say when the result was made from other footage than the shot
shows now. Prints RESULT <json>."""

import json
import os
import shutil

import bpy
from sequencer_check import Layout, empty_scene, run


def main(clip, folder, recut, work):
    from reenact.blender import blend, shots
    from reenact.blender.panels.actors import SEQUENCER_PT_reenact_track as Panel

    shot_file, other = os.path.join(work, "shot.mp4"), os.path.join(work, "other.mp4")
    shutil.copyfile(clip, shot_file)
    shutil.copyfile(clip, other)
    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=shot_file, channel=1, frame_start=1)
    n = len([f for f in os.listdir(folder) if f.endswith(".png")])
    res, _ = shots.add_result_strips(scene, shot, folder, n, "shot Reenact Mouth", key=("Actor", "mouth"))

    def labels():
        out = []
        for s in (res, shot):
            scene.sequence_editor.active_strip = s
            log = []
            Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
            out.append([t for t in log if "footage" in t])
        return out

    out = {"rendered": labels()}
    shot.filepath = other  # (Change Path)
    out["relinked"] = labels()
    shot.filepath = shot_file
    out["back"] = labels()
    shutil.copyfile(recut, shot_file)  # a new export written over the shot's file
    out["written_over"] = labels()
    print("RESULT " + json.dumps(dict(out, version=list(bpy.app.version))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 4)
