# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a shot strip
rendered (a result of its very pictures added as Render Performance adds one, and a Preview
Frame strip), then reframed by the editor: scaled to fit a larger scene, moved, turned, a
push-in keyed, cropped, mirrored, desaturated. The result and the preview must take the new
framing (the sequencer's picture with them shown equals the picture with them muted); a result
the compositor nudged by hand, its shot unchanged, stays nudged. Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, render, run


def main(clip, folder, work):
    from reenact.blender import blend, shots

    scene = empty_scene(320, 240)
    scene.frame_start, scene.frame_end = 1, 60
    strips = blend.strips_of(scene)
    shot = strips.new_movie(name="shot", filepath=clip, channel=2, frame_start=1)
    n = len([f for f in os.listdir(folder) if f.endswith(".png")])
    res, _ = shots.add_result_strips(scene, shot, folder, n, "shot Reenact Face", key=("Actor", "face"))
    pv = shots.preview_strip(scene, shot, os.path.join(folder, "frame_{:06d}.png".format(39)), 40)  # clip frame 39
    bpy.context.view_layer.update()

    def shown_vs_muted(frame, over):
        """Mean levels between the picture with ``over`` shown and with it muted."""
        others = [s for s in (res, pv) if s != over]
        for s in others:
            s.mute = True
        over.mute = True
        a = render(scene, frame, os.path.join(work, "muted_{}.png".format(frame)))
        over.mute = False
        b = render(scene, frame, os.path.join(work, "shown_{}.png".format(frame)))
        for s in others:
            s.mute = False
        return float(np.abs(a - b).mean())

    out = {"before": shown_vs_muted(20, res)}
    # the editor reframes the shot after the render
    t = shot.transform
    t.scale_x = t.scale_y = 2.2
    t.offset_x, t.offset_y, t.rotation = 24.0, -10.0, 0.12
    shot.crop.min_x, shot.crop.max_y = 8, 6
    shot.use_flip_x = True
    shot.color_saturation = 0.6
    for frame, s in ((4, 2.2), (60, 2.8)):  # a slow push-in, keyframed
        t.scale_x = t.scale_y = s
        t.keyframe_insert("scale_x", frame=frame)
        t.keyframe_insert("scale_y", frame=frame)
    bpy.context.view_layer.update()
    out["after"] = [shown_vs_muted(f, res) for f in (20, 50)]
    out["preview"] = shown_vs_muted(40, pv)
    # the compositor nudges the result by hand and warms it (the shot unchanged): it stays so, and
    # when the editor then changes the shot's saturation, only the saturation follows
    res.transform.offset_x += 3.0
    res.color_multiply = 1.2
    bpy.context.view_layer.update()
    scene.frame_set(30)
    out["nudged"] = round(res.transform.offset_x - t.offset_x, 3)
    shot.color_saturation = 0.4
    bpy.context.view_layer.update()
    out["after_saturation"] = [round(res.transform.offset_x - t.offset_x, 3), round(res.color_multiply, 3),
                               round(res.color_saturation, 3)]
    # a muted channel under the shot while the editor changes it: the result is not muted by the follow
    scene.sequence_editor.channels[shot.channel].mute = True
    shot.use_flip_y = True
    bpy.context.view_layer.update()
    scene.sequence_editor.channels[shot.channel].mute = False
    out["flip_y_followed_unmuted"] = [bool(res.use_flip_y), bool(res.mute)]
    # the shot strip itself muted (an alternate take hidden), then shown again: its result with it;
    # the result muted alone by the compositor stays muted when the shot changes otherwise
    shot.mute = True
    bpy.context.view_layer.update()
    muted = bool(res.mute)
    shot.mute = False
    bpy.context.view_layer.update()
    shown = bool(res.mute)
    res.mute = True
    shot.color_saturation = 0.5
    bpy.context.view_layer.update()
    out["mute_followed"] = [muted, shown, bool(res.mute)]
    res.mute = False
    # a driven move (offset_x = frame x 2) and a keyed zoom that cycles (an F-curve modifier) on the
    # shot: the result is driven and cycles as the shot does
    fc = t.driver_add("offset_y")
    fc.driver.expression = "frame * 2"
    bag = blend.channelbag(scene, ensure=False)
    zoom = next(f for f in bag.fcurves if f.data_path == t.path_from_id() + ".scale_x")
    zoom.modifiers.new("CYCLES")
    bpy.context.view_layer.update()
    seen = []
    for f in (7, 75):
        scene.frame_set(f)
        seen.append([round(res.transform.offset_y - t.offset_y, 3), round(res.transform.scale_x - t.scale_x, 4)])
    out["driven_and_cycled"] = seen
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


if __name__ == "__main__":
    run(main, 3)
