# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_hands.py in a fresh bpy process: Track Actor on a clip with a hand before the
face; prints RESULT <json> with the actor's keyed confidence per timeline frame."""

import json
import sys

import bpy
import numpy as np


def main(clip):
    from reenact import register
    from reenact.blender import blend

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, clip, channel=2, frame_start=101)
    scene.sequence_editor.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = [o for o in bpy.data.objects if o.reenact.is_actor][0]
    fc = blend.channelbag(ob, ensure=False).fcurves.find('["confidence"]')
    co = np.empty(2 * len(fc.keyframe_points), np.float32)
    fc.keyframe_points.foreach_get("co", co)
    print("RESULT " + json.dumps({"frames": co[0::2].astype(int).tolist(), "confidence": co[1::2].tolist(),
                                  "strip_start": int(strip.frame_start)}))


if __name__ == "__main__":
    main(sys.argv[sys.argv.index("--") + 1] if "--" in sys.argv else sys.argv[1])
