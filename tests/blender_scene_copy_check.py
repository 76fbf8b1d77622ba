# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS where given): a shot
tracked, then its scene copied whole (Scene ▸ New ▸ Full Copy) and another scene made and given
the first one's old name. Each actor must belong to the scene that holds it and its strip, and a
strip moved in one scene must move that scene's actor only. Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run, track_and_save


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, layers

    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "copies.blend"))
    with bpy.context.temp_override(scene=scene):
        assert bpy.ops.scene.new(type="FULL_COPY") == {"FINISHED"}
    copy = [s for s in bpy.data.scenes if s != scene][0]
    cob = [o for o in copy.objects if o.reenact.is_actor][0]
    out = {"orig": [o.name for o in actor_data.actor_objects(scene)],
           "copy": [o.name for o in actor_data.actor_objects(copy)], "copy_actor": cob.name}
    before = int(cob.reenact.frame_offset)
    shot.frame_start = 11  # the original strip moved: its actor follows, the copy's does not
    layers.follow_moved_strips(scene)
    out["offsets"] = [int(ob.reenact.frame_offset), before, int(cob.reenact.frame_offset)]
    # the original scene renamed and a new empty scene given its old name: the actors stay home
    old = scene.name
    scene.name = "Shot 1"
    fresh = bpy.data.scenes.new(old)
    out["renamed"] = [o.name for o in actor_data.actor_objects(scene)]
    out["fresh"] = [o.name for o in actor_data.actor_objects(fresh)]
    # another scene cutting the same movie (a strip of the same name), tracked at another focal
    # length: its own camera and collection; the first scene's camera keeps its lens
    lens = ob.parent.data.lens
    other = bpy.data.scenes.new("Other cut")
    other.sequence_editor_create()
    o_shot = blend.strips_of(other).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    other.sequence_editor.active_strip = o_shot
    with bpy.context.temp_override(scene=other, view_layer=other.view_layers[0]):
        out["other_track"] = sorted(bpy.ops.reenact.track_strip(use_focal=True, focal_mm=85.0))
    oob = [o for o in other.objects if o.reenact.is_actor][0]
    out["other"] = {"lens_kept": ob.parent.data.lens == lens, "own_camera": oob.parent != ob.parent,
                    "own_collection": set(oob.users_collection).isdisjoint(ob.users_collection),
                    "first_scene_objects": sorted(o.name for o in scene.objects if o.reenact.is_actor)}
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
