# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS where given): a shot
strip reframed in the sequencer (Scale to Fit into a larger scene, moved, turned, its zoom
keyframed, cropped, mirrored, desaturated) and a result strip of the very same pictures added
above it as a render adds one. The sequencer's render with the result strip shown must equal its
render with the result muted (the shot strip as the editor framed it), and so must a Preview
Frame strip; a result strip without the shot strip's look must not (the check can fail). Prints
RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, render, run


def main(clip, folder, work):
    from reenact.blender import blend, shots

    scene = empty_scene(320, 240)
    scene.frame_start, scene.frame_end = 1, 120
    strips = blend.strips_of(scene)
    shot = strips.new_movie(name="shot", filepath=clip, channel=2, frame_start=1, fit_method="FIT")
    shot.frame_offset_start = 3  # trimmed
    t = shot.transform
    t.offset_x, t.offset_y, t.rotation = 24.0, -10.0, 0.12
    shot.crop.min_x, shot.crop.max_y = 8, 6
    shot.use_flip_x = True
    shot.color_saturation, shot.color_multiply = 0.6, 1.1
    shot.strobe = 3.0  # every third clip frame, held
    base = float(t.scale_x)
    for frame, s in ((4, 1.0), (60, 1.35)):  # a slow push-in, keyframed
        t.scale_x = t.scale_y = base * s
        t.keyframe_insert("scale_x", frame=frame)
        t.keyframe_insert("scale_y", frame=frame)
    n = len([f for f in os.listdir(folder) if f.endswith(".png")])
    out = {"fit_scale": base}
    channels = scene.sequence_editor.channels
    channels[3].mute = True  # the editor hides channel 3 for now, and locks channel 5
    channels[5].lock = True
    res = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face")
    out["note"] = res.get("reenact_look_note", "")
    out["result_channel"] = res.channel
    frames = (11, 41)  # clip frames 10 and 40, where the strobe shows 9 and 39
    worst = []
    for f in frames:
        res.mute = True
        a = render(scene, f, os.path.join(work, "shot_{}.png".format(f)))
        res.mute = False
        b = render(scene, f, os.path.join(work, "result_{}.png".format(f)))
        worst.append(float(np.abs(a - b).mean()))
        out.setdefault("shot_mean", []).append(float(a.mean()))
    out["result_vs_shot"] = worst
    # a preview of frame 40's picture, over everything there
    pv = shots.preview_strip(scene, shot, os.path.join(folder, "frame_{:06d}.png".format(40 - 1)), 40)  # clip frame 39
    out["preview_channel"] = pv.channel
    res.mute = True
    p = render(scene, 40, os.path.join(work, "preview.png"))
    out["preview_vs_shot"] = float(np.abs(p - render_shot_only(scene, shot, pv, res, work)).mean())
    # the same result strip without the shot strip's look: far from it (the check can fail)
    pv.mute, res.mute = True, False
    bag = blend.channelbag(scene, ensure=False)
    for fc in [fc for fc in bag.fcurves if fc.data_path.startswith(res.path_from_id() + ".")]:
        bag.fcurves.remove(fc)
    res.transform.scale_x = res.transform.scale_y = 1.0
    res.transform.offset_x = res.transform.offset_y = res.transform.rotation = 0.0
    res.crop.min_x = res.crop.max_y = 0
    res.use_flip_x = False
    res.color_saturation = res.color_multiply = 1.0
    res.strobe = 1.0
    a = render_shot_only(scene, shot, pv, res, work, frame=10)
    scene.frame_set(10)
    b = render(scene, 10, os.path.join(work, "plain.png"))
    out["plain_vs_shot"] = float(np.abs(a - b).mean())
    # the preview had the reframe's keys; removed, it leaves none behind
    pv_path = pv.path_from_id()
    out["preview_keys"] = len([fc for fc in bag.fcurves if fc.data_path.startswith(pv_path + ".")])
    shots.remove_previews(scene)
    out["preview_keys_left"] = len([fc for fc in bag.fcurves if fc.data_path.startswith(pv_path + ".")])
    # what it cannot carry: a blend other than opaque (and, on 4.5, a modifier: 5.0's bpy module
    # crashes on StripModifiers.new headless)
    shot.blend_alpha = 0.5
    shot.multiply_alpha = True  # (the multiply dims its opacity too: carried since 2026-12-05)
    if bpy.app.version < (5, 0, 0):
        shot.modifiers.new(name="Grade", type="BRIGHT_CONTRAST")
    res2 = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face")
    out["note_after"] = res2.get("reenact_look_note", "")
    out["multiply_alpha"] = bool(res2.multiply_alpha)
    # a fade: the opacity keyed from 1 to 0, opaque where the playhead is; then the shot muted
    if bpy.app.version < (5, 0, 0):
        shot.modifiers.clear()
    scene.frame_set(1)
    for frame, a in ((1, 1.0), (100, 0.0)):
        shot.blend_alpha = a
        shot.keyframe_insert("blend_alpha", frame=frame)
    scene.frame_set(1)
    res3 = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face")
    out["note_fade"] = res3.get("reenact_look_note", "")
    out["unmuted_result_mute"] = bool(res3.mute)
    shot.mute = True  # an alternate take, hidden: so is its result
    res4 = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face")
    out["muted_result_mute"] = bool(res4.mute)
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


def render_shot_only(scene, shot, pv, res, work, frame=40):
    """The sequencer's render with the preview and result strips muted (the shot as framed)."""
    was = (pv.mute, res.mute)
    pv.mute = res.mute = True
    a = render(scene, frame, os.path.join(work, "shot_only_{}.png".format(frame)))
    pv.mute, res.mute = was
    return a


if __name__ == "__main__":
    run(main, 3)
