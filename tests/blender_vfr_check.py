# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a movie of
variable frame rate (frames dropped, as a capture that fell behind) in the sequencer, played
frame for frame in a scene of its rate and at its own speed in a 25 fps scene (Add ▸ Movie's
Adjust Playback Rate). Which clip frame the sequencer shows at each timeline frame is read from
its pictures; Track Actor refuses the strip naming Conform to Scene Rate; Conform to Scene Rate
makes a strip showing the same pictures, which tracks. Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from blender_rate_check import adjust_playback_rate, attempt
from sequencer_check import empty_scene, render, run


def main(clip, work):
    import cv2

    from reenact.blender import blend
    from reenact.video import open_video
    from reenact.video.conform import shown_by_time

    with open_video(clip, allow_variable_rate=True) as src:
        frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR).astype(np.int16) for _, f in src.iter_frames()]
        predicted = shown_by_time(src.frame_times(), src.time_base, src.blender_rate, src.stream_seconds).tolist()

    def which(picture):
        """The clip frame a rendered picture is, and how far it is from it (mean levels)."""
        d = [float(np.abs(picture - f).mean()) for f in frames]
        return int(np.argmin(d)), min(d)

    empty_scene(176, 144)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "vfr.blend"))  # (conformed clips go beside it)
    scene = bpy.context.scene
    out = {"version": list(bpy.app.version), "predicted": predicted}
    for case, fps in (("frame_for_frame", None), ("clip_speed", 25)):
        for s in list(blend.all_strips(scene)):
            blend.strips_of(scene).remove(s)
        shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
        scene.render.fps, scene.render.fps_base = int(round(shot.fps)), 1
        if fps:
            scene.render.fps = fps
            adjust_playback_rate(shot)
        scene.frame_start, scene.frame_end = 1, shot.frame_final_end - 1
        scene.sequence_editor.active_strip = shot
        timeline = range(1, shot.frame_final_end)
        seen = [which(render(scene, f, os.path.join(work, "{}_{}.png".format(case, f)))) for f in timeline]
        r = {"strip_fps": shot.fps, "length": shot.frame_final_duration, "shown": [i for i, _ in seen],
             "off": max(d for _, d in seen), "track": attempt(bpy.ops.reenact.track_strip)}
        r["conform"] = attempt(bpy.ops.reenact.conform_strip, lossless=True)
        new = scene.sequence_editor.active_strip
        again = [which(render(scene, f, os.path.join(work, "{}_c{}.png".format(case, f)))) for f in timeline]
        r["conformed"] = {"name": new.name, "length": new.frame_final_duration, "shot_muted": shot.mute,
                          "shown": [i for i, _ in again], "off": max(d for _, d in again)}
        if fps is None:  # (tracking once is enough)
            r["conformed"]["track"] = attempt(bpy.ops.reenact.track_strip)
        out[case] = r
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
