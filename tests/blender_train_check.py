# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_train.py: track carphone, then Train Renderer (a few steps, in a
subprocess Python with torch) assigns the model to the actor. Prints RESULT <json>."""
import sys, json, bpy
from reenact.blender import blend
from reenact import register
from reenact.sample import sample_clip
bpy.ops.wm.read_factory_settings(use_empty=True)
register()
sc = bpy.context.scene
st = blend.add_movie_strip(sc, sample_clip(), channel=1, frame_start=1)
sc.sequence_editor.active_strip = st
assert bpy.ops.reenact.track_strip() == {"FINISHED"}
ob = [o for o in bpy.data.objects if o.reenact.is_actor][0]
bpy.context.view_layer.objects.active = ob
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
# the project folder moved whole: the stored path is the old place's, the Track lies beside the .blend
import os
ob.reenact.track_path = os.path.join(os.sep, "gone", "project", "reenact", os.path.basename(ob.reenact.track_path))
poll = bpy.ops.reenact.train_renderer.poll()
r = bpy.ops.reenact.train_renderer(steps=2)
print("RESULT", json.dumps({"r": sorted(r), "model": bpy.path.abspath(ob.reenact.model_path),
                            "stored": ob.reenact.model_path, "poll_moved": poll}))
