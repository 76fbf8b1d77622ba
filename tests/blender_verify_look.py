# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_verify_blender.py in a fresh bpy process: Verify Strip on a movie holding a
render of five frames, downscaled and re-encoded, finds it by looking again in 0.2 s windows as
``reenact verify`` does, and says so (before 2026-12-06 "no Reenact watermark found": Verify Strip
passed no window, and the one-second windows averaged the five marked frames with 25 unmarked
ones). Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import Layout, empty_scene, run, verify_lines


def main(path, _work):
    import reenact.blender.operators.verify as verify_op
    from reenact.blender import blend
    from reenact.blender.panels.verify import SEQUENCER_PT_reenact_verify as Panel

    verify = verify_lines(verify_op)
    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    strip = blend.strips_of(scene).new_movie(name="edit", filepath=path, channel=1, frame_start=1)
    said = verify(strip)
    log = []
    Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
    print("RESULT " + json.dumps({"said": said, "shown": log, "version": list(bpy.app.version)}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
