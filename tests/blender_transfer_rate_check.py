# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_transfer.py in a fresh bpy process: Transfer Performance between a
25 fps target and a 30 fps driver in a 25 fps scene, the driver's strip playing its clip frame
for frame (strips.new_movie: Adjust Playback Rate off), whole and trimmed.

argv: JSON {"target": {"clip", "track"}, "source": {"clip", "track"}, "source_start": timeline
frame of the driver's clip frame 0}. Prints RESULT <json>: for each case the target's and the
driver's jawOpen on every timeline frame the target shows (None where the actor has no frame)."""

import json
import os
import sys

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sequencer_check import empty_scene  # noqa: E402


def jaw_by_frame(ob, scene):
    """{timeline frame: jawOpen} of ``ob`` as Blender shows it (every layer evaluated)."""
    from reenact.blender import layers

    tr = layers.curves_to_track(ob, scene)
    j = list(tr.expression_names).index("jawOpen")
    fo = int(ob.reenact.frame_offset)
    return {int(f) + fo: float(tr.expression[k, j]) for k, f in enumerate(tr.frames())}


def main(cfg):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, timing
    from reenact.face.track import Track

    scene = empty_scene(176, 144)
    coll = blend.ensure_collection(scene, "Reenact")
    actors = {}
    for role, channel, start in (("target", 1, 1), ("source", 2, int(cfg["source_start"]))):
        c = cfg[role]
        strip = blend.add_movie_strip(scene, c["clip"], channel=channel, frame_start=start, name=role,
                                      fit_scene=(role == "target"))
        tr = Track.load(c["track"])
        cam = actor_data.ensure_camera(scene, coll, tr, strip, "{} Camera".format(role))
        actors[role] = actor_data.build_actor(scene, coll, tr, strip, 0, c["track"], cam)
    tgt, src = actors["target"], actors["source"]
    drv = scene.sequence_editor.strips_all["source"]
    out = {"scene_fps": scene.render.fps / scene.render.fps_base, "driver_fps": float(drv.fps),
           "driver_rate_adjusted": timing.rate_adjusted(drv), "driver_length": int(drv.frame_duration)}

    def case(name):
        bpy.ops.reenact.reset_to_tracked(actor=tgt.name)
        res = bpy.ops.reenact.transfer_performance(source=src.name, target=tgt.name, mode="mouth")
        out[name] = {"result": sorted(res), "target": jaw_by_frame(tgt, scene), "driver": jaw_by_frame(src, scene),
                     "shown": [int(drv.frame_final_start), int(drv.frame_final_end) - 1]}

    case("whole")
    drv.frame_offset_start = 10  # the driver's first 10 clip frames trimmed off
    case("trimmed")
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    try:
        main(json.loads(sys.argv[1]))
    finally:
        sys.stdout.flush()
        os._exit(0)
