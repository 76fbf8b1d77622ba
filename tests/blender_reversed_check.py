# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): Render Performance
on a reversed shot trimmed at its start, the clip frames each job is given (the job itself is not
run: the operator's prepare is watched). A farm's chunks of the timeline (Use Chunk) and a frame
range must be the clip frames the timeline shows there, from the content's end. Prints RESULT
<json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run, track_and_save


def main(clip, work):
    from reenact.blender import blend, timing
    from reenact.blender.operators import render as R

    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    shot.frame_final_duration = 40
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "reversed.blend"))
    shot.use_reverse_frames = True
    shot.frame_offset_start = 10  # shows clip frames from its content's end
    t0, t1 = int(shot.frame_final_start), int(shot.frame_final_end)
    got = {}
    real = R.REENACT_OT_render_performance.prepare

    def watch(self, context):
        func, args, kw = real(self, context)
        got["range"], got["chunk"] = [int(v) for v in args[4]], kw.get("chunk")
        raise ValueError("watched")

    R.REENACT_OT_render_performance.prepare = watch

    def call(**kw):
        got.clear()
        try:
            bpy.ops.reenact.render_performance(region="mouth", output="IMAGES", **kw)
        except RuntimeError as exc:
            got["error"] = str(exc).strip().splitlines()[-1]
        return dict(got)

    def shown(a, b):
        seen = [timing.shown_clip_frame(shot, f) for f in range(a, b + 1)]
        return [min(seen), max(seen) + 1]

    out = {"chunks": [], "version": list(bpy.app.version)}
    for a, b in ((t0, t0 + 9), (t0 + 10, t1 - 1)):
        r = call(use_range=True, frame_first=t0, frame_last=t1 - 1, use_chunk=True, chunk_first=a, chunk_last=b)
        out["chunks"].append([list(r.get("chunk") or []), shown(a, b), r.get("error", "")])
    r = call(use_range=True, frame_first=t0, frame_last=t0 + 4)
    out["range"] = [r.get("range"), shown(t0, t0 + 4)]
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
