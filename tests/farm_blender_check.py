# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_farm_flamenco.py in a fresh bpy process (Blender 5.0).

argv: JSON {"mode", ...}. Prints RESULT <json>.

* ``setup`` {"clip", "blend"}: a strip at timeline frame 5, Track Actor, save the .blend.
* ``inspect`` {"blend"}: open the .blend, list the result strips (name, channel, start, length,
  type, path) and the original strip's place.
"""

import json
import os
import sys

import bpy


def setup(cfg):
    from reenact import register
    from reenact.blender import blend

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    bpy.ops.wm.save_as_mainfile(filepath=cfg["blend"])  # Track files next to the .blend
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, cfg["clip"], channel=2, frame_start=5, name="shot")
    scene.sequence_editor.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.ops.wm.save_mainfile()
    return {"actor": ob.name, "strip": [strip.channel, int(strip.frame_final_start), int(strip.frame_final_duration)]}


def inspect(cfg):
    from reenact import register
    from reenact.blender import blend

    register()
    bpy.ops.wm.open_mainfile(filepath=cfg["blend"])
    scene = bpy.context.scene
    out = []
    for s in blend.all_strips(scene):
        if s.name.startswith("shot Reenact"):
            path = bpy.path.abspath(s.filepath) if s.type == "MOVIE" else bpy.path.abspath(s.directory)
            out.append([s.name, s.channel, int(s.frame_final_start), int(s.frame_final_duration), s.type, path])
    return {"results": out}


if __name__ == "__main__":
    cfg = json.loads(sys.argv[-1])
    res = {"setup": setup, "inspect": inspect}[cfg["mode"]](cfg)
    print("RESULT " + json.dumps(res))
    sys.stdout.flush()
    os._exit(0)
