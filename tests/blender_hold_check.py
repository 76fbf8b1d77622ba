# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a tracked shot
cut with a Hold Split (Strip ▸ Split ▸ Hold): its second piece starts into its clip (Hold Offset
Start). Reenact's jobs refuse that piece in one line; Hold Offset to Trim makes the hold a plain
trim, the sequencer showing the same pictures, and the piece is then a piece of the shot that
Preview Frame and Render Performance work on. Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, render, run, track_and_save


def main(clip, work):
    import numpy as np

    from reenact.blender import shots

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 30
    from reenact.blender import blend

    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "hold.blend"))

    def state(s):
        return [int(s.frame_start), int(s.frame_final_start), int(s.frame_final_end), int(s.animation_offset_start)]

    def attempt(op, **kw):
        try:
            return sorted(op(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    second = shot.split(frame=16, split_method="HARD")
    second.frame_start += 5  # (moved along the timeline, a cutaway before it)
    bpy.context.view_layer.update()
    out = {"hold": state(second), "pieces_before": [p.name for p in shots.pieces(shot)]}
    frames = (21, 25, 35)
    before = [render(scene, f, os.path.join(work, "before_{}.png".format(f))) for f in frames]
    scene.sequence_editor.active_strip = second
    scene.frame_set(25)
    out["preview_before"] = attempt(bpy.ops.reenact.preview_frame, region="mouth")
    out["to_trim"] = attempt(bpy.ops.reenact.hold_to_trim)
    out["trimmed"] = state(second)
    after = [render(scene, f, os.path.join(work, "after_{}.png".format(f))) for f in frames]
    out["same_pictures"] = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
    out["pieces_after"] = [p.name for p in shots.pieces(shot)]
    scene.frame_set(25)
    out["preview_after"] = attempt(bpy.ops.reenact.preview_frame, region="mouth")
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
