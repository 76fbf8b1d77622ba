# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): Preview Frame on
a tracked shot that starts at timeline frame 5. A frame beside the shot is refused in one line;
each preview gets an image of its own (the one before is kept, for an undo that brings its strip
back); a shot moved while its preview renders gets the preview at the moved frame; a muted
shot's preview, hidden, says so. Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run, track_and_save


def main(clip, work):
    from reenact.blender import blend
    from reenact.blender.operators import preview as preview_ops

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 60
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=5)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "preview.blend"))

    def run_op(**kw):
        try:
            return sorted(bpy.ops.reenact.preview_frame(region="mouth", **kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    def preview():
        pv = [s for s in blend.all_strips(scene) if blend.is_preview(s)]
        return [[int(s.frame_final_start), s.elements[0].filename] for s in pv]

    out = {}
    scene.frame_set(2)
    out["beside"] = run_op()
    scene.frame_set(12)
    out["first"] = [run_op(), preview()]
    scene.frame_set(14)
    out["second"] = [run_op(), preview()]
    pv = next(s for s in blend.all_strips(scene) if blend.is_preview(s))
    folder = bpy.path.abspath(pv.directory)
    out["first_kept"] = os.path.isfile(os.path.join(folder, out["first"][1][0][1]))
    real = preview_ops.preview_job

    def moved(*a, **kw):  # the editor moves the shot 10 frames later while the preview renders
        shot.frame_start += 10
        return real(*a, **kw)

    preview_ops.preview_job = moved
    scene.frame_set(16)
    out["moved"] = [run_op(), preview(), int(shot.frame_start)]
    preview_ops.preview_job = real
    shot.mute = True
    scene.frame_set(30)
    out["muted"] = [run_op(), preview()]
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
