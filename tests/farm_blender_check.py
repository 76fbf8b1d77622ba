# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_farm_flamenco.py in a fresh bpy process (Blender 5.0).

argv: JSON {"mode", ...}. Prints RESULT <json>.

* ``setup`` {"clip", "blend", "evals"}: a strip at timeline frame 5, Track Actor, save the
  .blend; then the job type's ``eval`` settings with the actor active and with none.
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
    # the job type's `eval` settings, evaluated as Flamenco's add-on does (empty globals)
    bpy.context.view_layer.objects.active = ob
    scene.frame_start, scene.frame_end = 1, 250
    evals = {k: eval(e, {}, {"bpy": bpy, "C": bpy.context}) for k, e in cfg.get("evals", {}).items()}
    bpy.context.view_layer.objects.active = None
    evals_inactive = {k: eval(e, {}, {"bpy": bpy, "C": bpy.context}) for k, e in cfg.get("evals", {}).items()}
    # Blender 5.0: the window shows another scene (range 1-10), the Video Sequencer this one, its
    # actor active there (Make Actor Active): the settings are the sequencer scene's (before
    # 2026-12-06 the window's: no actor, frames 1-10, the actor's edited frames left unrendered)
    evals_two = None
    if bpy.app.version >= (5, 0, 0) and bpy.context.window is not None:
        layout = bpy.data.scenes.new("Layout")
        layout.frame_start, layout.frame_end = 1, 10
        bpy.context.window.scene = layout
        bpy.context.window.workspace.sequencer_scene = scene
        scene.view_layers[0].objects.active = ob
        evals_two = {k: eval(e, {}, {"bpy": bpy, "C": bpy.context}) for k, e in cfg.get("evals", {}).items()}
    return {"actor": ob.name, "strip": [strip.channel, int(strip.frame_final_start), int(strip.frame_final_duration)],
            "evals": evals, "evals_inactive": evals_inactive, "evals_two_scenes": evals_two}


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
    from reenact.blender.background import remove_session_tempdir

    remove_session_tempdir()
    os._exit(0)
