# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS where given): the
shot strip lies inside a meta strip (an editor's nested cut) that is moved and scaled in the
frame, on a channel above a top-level strip. A result strip of the very same pictures, added as a
render adds one, must go inside that meta (so the meta's framing reaches it), and the sequencer's
render with it shown must equal the render with it muted; so must a Preview Frame strip; a second
render of the same actor replaces the first in place; removing the previews works inside a meta.
Before 2026-12-05 the result went to the top level, outside the meta's framing (the check can
fail: it measures how far the top-level placement is off). Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, render, run


def main(clip, folder, work):
    from reenact.blender import blend, look, shots

    scene = empty_scene(320, 240)
    scene.frame_start, scene.frame_end = 1, 120
    top = blend.strips_of(scene)
    under = top.new_effect("under", "COLOR", 2, 1,
                           **({"length": 130} if bpy.app.version >= (5, 0, 0) else {"frame_end": 131}))
    under.color = (0.2, 0.5, 0.3)
    meta = top.new_meta("Cut", 3, 1)
    shot = meta.strips.new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    shot.frame_offset_start = 3  # trimmed
    meta.frame_final_end = shot.frame_final_end  # the bounds meta_make would give it
    meta.transform.offset_x, meta.transform.offset_y = 30.0, -12.0
    meta.transform.scale_x = meta.transform.scale_y = 1.3
    n = len([f for f in os.listdir(folder) if f.endswith(".png")])
    out = {}
    res = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face", key=("Actor", "face"))
    home = res.parent_meta()
    out["result_in"] = home.name if home is not None else None
    out["result_channel"] = res.channel
    f = 40
    res.mute = True
    a = render(scene, f, os.path.join(work, "shot.png"))
    res.mute = False
    b = render(scene, f, os.path.join(work, "result.png"))
    out["result_vs_shot"] = float(np.abs(a - b).mean())
    out["shot_mean"] = float(a.mean())
    # the same strip at the top level, where a render put it before: off
    plain = top.new_image(name="plain", filepath=os.path.join(folder, "frame_{:06d}.png".format(f - 1)),
                          channel=4, frame_start=f)
    look.match_look(plain, shot)
    res.mute = True
    c = render(scene, f, os.path.join(work, "plain.png"))
    out["top_level_vs_shot"] = float(np.abs(a - c).mean())
    top.remove(plain)
    res.mute = False
    # a second render of the same actor and region replaces the first, in its place
    res2 = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face", key=("Actor", "face"))
    out["results_after_second"] = len([s for s in blend.all_strips(scene) if s.get("reenact_actor") == "Actor"])
    out["second_in"] = res2.parent_meta().name if res2.parent_meta() is not None else None
    out["second_channel"] = res2.channel
    # a preview, inside the meta and over everything there
    res2.mute = True
    pv = shots.preview_strip(scene, shot, os.path.join(folder, "frame_{:06d}.png".format(f - 1)), f)
    out["preview_in"] = pv.parent_meta().name if pv.parent_meta() is not None else None
    p = render(scene, f, os.path.join(work, "preview.png"))
    out["preview_vs_shot"] = float(np.abs(a - p).mean())
    out["previews_removed"] = shots.remove_previews(scene)
    out["strips_left"] = sorted(s.name for s in blend.all_strips(scene))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


if __name__ == "__main__":
    run(main, 3)
