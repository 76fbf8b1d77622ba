# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_farm_restyle.py in a fresh bpy process (Blender 5.0).

argv: JSON {"mode", ...}. Prints RESULT <json>.

* ``setup`` {"clip" or "images", "model", "blend", "evals"}: a movie strip (or an image-sequence
  strip of ``images``) at timeline frame 5 with its first clip frame trimmed off, the scene's restyle model, the .blend saved; then the job type's
  ``eval`` settings with the strip active and with none.
* ``single`` {"blend"}: Restyle Strip on the active strip in one go (Output Images).
* ``inspect`` {"blend"}: open the .blend, list the restyle result strips (name, channel, start,
  length, type, path).
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
    bpy.ops.wm.save_as_mainfile(filepath=cfg["blend"])
    scene = bpy.context.scene
    if cfg.get("images"):  # an image-sequence strip
        strip = blend.strips_of(scene).new_image(name="shot", filepath=cfg["images"][0], channel=2, frame_start=5)
        for f in cfg["images"][1:]:
            strip.elements.append(os.path.basename(f))
    else:
        strip = blend.add_movie_strip(scene, cfg["clip"], channel=2, frame_start=5, name="shot")
    strip.frame_offset_start = 1  # the strip shows clip frames 1.. from timeline frame 6
    scene.sequence_editor.active_strip = strip
    scene.reenact.restyle_model = bpy.path.relpath(cfg["model"])
    bpy.ops.wm.save_mainfile()
    evals = {k: eval(e, {}, {"bpy": bpy, "C": bpy.context}) for k, e in cfg.get("evals", {}).items()}
    scene.sequence_editor.active_strip = None
    evals_inactive = {k: eval(e, {}, {"bpy": bpy, "C": bpy.context}) for k, e in cfg.get("evals", {}).items()}
    return {"strip": [strip.channel, int(strip.frame_final_start), int(strip.frame_final_duration)],
            "model": scene.reenact.restyle_model, "evals": evals, "evals_inactive": evals_inactive}


def single(cfg):
    from reenact import register

    register()
    bpy.ops.wm.open_mainfile(filepath=cfg["blend"])
    return {"result": sorted(bpy.ops.reenact.restyle_strip())}


def inspect(cfg):
    from reenact import register
    from reenact.blender import blend

    register()
    bpy.ops.wm.open_mainfile(filepath=cfg["blend"])
    out = []
    for s in blend.all_strips(bpy.context.scene):
        if s.name.startswith("shot Restyled"):
            path = bpy.path.abspath(s.filepath) if s.type == "MOVIE" else bpy.path.abspath(s.directory)
            out.append([s.name, s.channel, int(s.frame_final_start), int(s.frame_final_duration), s.type, path])
    return {"results": out}


if __name__ == "__main__":
    cfg = json.loads(sys.argv[-1])
    res = {"setup": setup, "single": single, "inspect": inspect}[cfg["mode"]](cfg)
    print("RESULT " + json.dumps(res))
    sys.stdout.flush()
    from reenact.blender.background import remove_session_tempdir

    remove_session_tempdir()
    os._exit(0)
