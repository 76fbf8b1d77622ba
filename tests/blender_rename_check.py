# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a tracked strip
renamed in the sequencer (as editors do) keeps its actor: Preview Frame and Render Performance
find it, and tracking the renamed strip again replaces its actor instead of adding a second one;
a strip moved in time takes its actor's curves with it; an actor renamed between two renders keeps
its one result strip.
Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, image_strip, run, track_and_save


def main(frames, work):
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene, shot, ob = track_and_save(scene, image_strip(scene, frames), os.path.join(work, "rename.blend"))
    shot.name = "sh010 plate v2"  # the editor renames it
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
    # the editor moves the strip 10 frames later: the actor's curves follow it
    from reenact.blender import actor as actor_data
    from reenact.blender.layers import curves_to_track

    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    tracked = actor_data.tracked_track(ob)
    k = [str(n) for n in tracked.expression_names].index("jawOpen")
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    shot.frame_start += 10
    bpy.context.view_layer.update()
    out["frame_offset"] = int(ob.reenact.frame_offset)
    scene.frame_set(int(shot.frame_start) + 7)  # clip frame 7 where the strip now shows it
    out["jaw_at_clip_7"] = [float(kb.value), float(tracked.expression[7 - int(tracked.frame_start), k])]
    kb.value = 0.95  # a key set against the moved strip: clip frame 7's
    kb.keyframe_insert("value", frame=int(shot.frame_start) + 7)
    perf = curves_to_track(ob, scene, tracked)
    out["jaw_key_row"] = int(np.argmax(np.abs(perf.expression[:, k] - tracked.expression[:, k]))) + int(tracked.frame_start)
    # a duplicate of the strip (Shift+D copies its custom properties) tracked too: an id of its own

    dup = image_strip(scene, frames, name="dup", channel=3)
    dup["reenact_id"] = shot["reenact_id"]
    out["dup_id_differs"] = blend.strip_id(dup) != blend.strip_id(shot)
    # the editor renames the scene too: its actors stay its own
    blend.strips_of(scene).remove(dup)
    scene.name = "Edit v2"
    bpy.context.view_layer.objects.active = ob
    scene.frame_set(int(shot.frame_start) + 5)
    try:
        out["preview_after_scene_rename"] = sorted(bpy.ops.reenact.preview_frame(region="mouth"))
    except RuntimeError as exc:
        out["preview_after_scene_rename"] = str(exc).strip().splitlines()[-1]
    out["scene_name"] = ob.reenact.scene_name
    out["actors_of_scene"] = [o.name for o in actor_data.actor_objects(scene)]
    # rendered, the actor renamed by the animator, rendered again: the one result strip takes the
    # new render (before 2026-12-06 a second result strip above the first, which hid the new one)
    kb.value = 1.0
    kb.keyframe_insert("value", frame=int(shot.frame_start) + 9)
    scene.sequence_editor.active_strip = shot
    out["render_1"] = sorted(bpy.ops.reenact.render_performance(region="mouth"))
    ob.name = "Lead"
    kb.value = 0.2
    kb.keyframe_insert("value", frame=int(shot.frame_start) + 9)
    out["render_2"] = sorted(bpy.ops.reenact.render_performance(region="mouth"))
    out["results"] = sorted([s.name, s.channel, os.path.basename(os.path.normpath(s.directory)), s.get("reenact_actor")]
                            for s in blend.all_strips(scene) if s.get("reenact_result"))
    # the editor renames the scene, the strip and the actor while a render runs (a job's result is
    # put back when it ends): the render finds them again (before 2026-12-06 "... was renamed or
    # removed while it ran, so nothing was added"); so does Verify Strip of a strip never tracked
    import reenact.blender.operators.render as render_op
    import reenact.blender.operators.verify as verify_op

    def renaming(job, names):
        def run_job(*args, **kwargs):
            for thing, name in names:
                thing.name = name
            return job(*args, **kwargs)
        return run_job

    kb.value = 0.6
    kb.keyframe_insert("value", frame=int(shot.frame_start) + 9)
    plain = image_strip(scene, frames, name="plain", channel=5)
    render_op.render_job = renaming(render_op.render_job, [(scene, "Edit v3"), (shot, "sh010 plate v3"), (ob, "Lead 2")])
    out["render_3"] = sorted(bpy.ops.reenact.render_performance(region="mouth"))
    scene.sequence_editor.active_strip = plain
    verify_op.verify_job = renaming(verify_op.verify_job, [(plain, "plain v2")])
    out["verify"] = sorted(bpy.ops.reenact.verify_strip())
    out["verified"] = blend.VERIFY_PROP in plain
    out["results_3"] = sorted([s.name, os.path.basename(os.path.normpath(s.directory)), s.get("reenact_shot_name"),
                               s.get("reenact_actor")]
                              for s in blend.all_strips(scene) if s.get("reenact_result"))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
