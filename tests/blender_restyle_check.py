# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle.py in a fresh bpy process (Blender 5.0).

A movie strip, a saved .blend; Restyle Strip with a file that is not a restyle model refuses in
one line and adds nothing; with a restyle model it adds one result strip above the original
(frame for frame); restyling again replaces that strip in place.

argv: JSON {"clip", "model", "bad_model", "out"}. Prints RESULT <json>.
"""

import json
import os
import sys

import bpy


def main(cfg):
    from reenact import register
    from reenact.blender import blend

    res = {"blender": bpy.app.version_string}
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, cfg["clip"], channel=2, frame_start=1, name="shot")
    scene.sequence_editor.active_strip = strip
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "restyle check.blend"))
    scene = bpy.context.scene

    def names():
        return sorted(s.name for s in blend.all_strips(scene))

    try:
        bpy.ops.reenact.restyle_strip(model=cfg["bad_model"])
        res["bad"] = None
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        res["bad"] = {"line": lines[-1], "lines": len(lines)}
    res["after_bad"] = names()
    res["first"] = sorted(bpy.ops.reenact.restyle_strip(model=cfg["model"]))
    res["after_first"] = names()
    res["remembered"] = scene.reenact.restyle_model
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["shot"]
    res["again"] = sorted(bpy.ops.reenact.restyle_strip())  # the scene's model
    res["after_again"] = names()
    out = [s for s in blend.all_strips(scene) if s.name.startswith("shot Restyled")]
    res["result"] = [{"name": s.name, "channel": s.channel, "start": int(s.frame_start),
                      "length": int(s.frame_final_duration), "type": s.type,
                      "folder": bpy.path.abspath(s.directory) if s.type == "IMAGE" else None} for s in out]
    res["original"] = {"channel": strip.channel, "length": int(strip.frame_final_duration)}
    # a farm task names a strip of another scene than the one the file opens in (Blender 5.0's
    # own sequencer scene; a file saved showing another scene): found by its name
    edit = bpy.data.scenes.new("Edit")
    blend.add_movie_strip(edit, cfg["clip"], channel=1, frame_start=1, name="other shot")
    res["other_scene"] = sorted(bpy.ops.reenact.restyle_strip(strip_name="other shot", model=cfg["model"]))
    res["other_results"] = sorted(s.name for s in blend.all_strips(edit))
    res["window_scene"] = bpy.context.scene.name
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
