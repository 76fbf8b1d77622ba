# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process: a render farm's job of one edited
shot (two chunk tasks writing frames, as farm.render_expr has them run), assembled into a movie
by Assemble Render; then Render Edited Actors with Output Movie finds that result up to date,
and with Lossless does not. Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run


def main(clip, work):
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 30
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "farm.blend"))
    scene = bpy.context.scene
    s = blend.strips_of(scene).new_movie(name="shot", filepath=str(clip), channel=1, frame_start=1)
    scene.sequence_editor.active_strip = s
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    bpy.context.view_layer.objects.active = ob
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 1.0
    kb.keyframe_insert("value", frame=6)
    for c, d in ((1, 15), (16, 30)):  # (the farm's two tasks: frames into the job's folder)
        assert bpy.ops.reenact.render_performance(actor=ob.name, region="mouth", use_chunk=True, chunk_first=c,
                                                  chunk_last=d, output="IMAGES", farm_job="j1") == {"FINISHED"}
    assert bpy.ops.reenact.assemble_render(actor=ob.name, region="mouth", output="MOVIE",
                                           farm_job="j1") == {"FINISHED"}
    res = [st for st in blend.all_strips(scene) if st.get("reenact_shot")]
    out = {"results": [[st.name, st.type, os.path.splitext(blend._strip_paths(st) or "")[1]] for st in res],
           "options": json.loads(res[0].get("reenact_render_options") or "null") if res else None}

    def run_op(**kw):
        try:
            return sorted(bpy.ops.reenact.render_edited(region="mouth", **kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    out["movie_again"] = run_op(output="MOVIE")  # the farm's movie is this render: nothing to do
    out["lossless"] = run_op(output="MOVIE", lossless=True)  # another file: rendered
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
