# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): three tracked
shots, two of them edited. Render Edited Actors renders those two in one job, each into its own
result strip over its shot, and leaves the third alone; with no edits it refuses in one line.
Prints RESULT <json>."""

import json
import os

import bpy
import cv2
import numpy as np
from sequencer_check import empty_scene, run


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 90
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "reel.blend"))
    scene = bpy.context.scene
    strips = blend.strips_of(scene)
    for k, name in enumerate(("shot A", "shot B", "shot C")):
        s = strips.new_movie(name=name, filepath=clip, channel=1, frame_start=1 + 30 * k)
        scene.sequence_editor.active_strip = s
        assert bpy.ops.reenact.track_strip() == {"FINISHED"}

    def run_op(op, **kw):
        try:
            return sorted(op(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    out = {"no_edits": run_op(bpy.ops.reenact.render_edited)}
    actors = {o.reenact.strip_name: o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor}
    for name, f in (("shot A", 5), ("shot B", 40)):  # clip frames 4 and 9
        kb = actors[name].data.shape_keys.key_blocks["jawOpen"]
        kb.value = 1.0
        kb.keyframe_insert("value", frame=f)
    out["render"] = run_op(bpy.ops.reenact.render_edited, region="mouth")
    out["results"] = sorted([s.name, s.channel, int(s.frame_final_start), int(s.frame_final_end), s.get("reenact_actor")]
                            for s in blend.all_strips(scene) if s.get("reenact_shot"))
    from reenact.video import open_video

    with open_video(str(clip)) as src:
        footage = {k: src.read(k).astype(np.int16) for k in (4, 9)}
    changed = {}
    for name, k in (("shot A", 4), ("shot B", 9)):
        folder = os.path.join(actor_data.render_root(), actor_data._safe(actors[name].name + " mouth"))
        img = cv2.imread(os.path.join(folder, "frame_{:06d}.png".format(k)))[..., ::-1].astype(np.int16)
        changed[name] = float(np.abs(img - footage[k]).mean())
    out["changed"] = changed
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
