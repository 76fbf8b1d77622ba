# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a tracked shot
cut in two, rendered, its result strips worked on by the compositor (renamed, a keyed fade, a
colour tag, a blur effect strip that takes the result as input, on 4.5 a strip modifier), then
the performance edited and rendered again. The second render is a new take beside the first;
the result strips are the same strips, given the new take, with what the compositor set on them;
the first take's frames are as they were, so an undo that points a strip back at them shows
them. Prints RESULT <json>."""

import json
import os

import bpy
import cv2
import numpy as np
from sequencer_check import empty_scene, render, run, track_and_save


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, shots, takes

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 40
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "takes.blend"))
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    for f in (5, 20):  # the animator opens the jaw on clip frames 4 and 19
        kb.value = 1.0
        kb.keyframe_insert("value", frame=f)
    second = shot.split(frame=16, split_method="SOFT")  # the editor cut the shot; a cutaway between
    second.frame_start += 10
    bpy.context.view_layer.update()
    out = {"render_1": sorted(bpy.ops.reenact.render_performance(region="mouth"))}
    root = actor_data.render_root()
    take1 = os.path.join(root, "shot_Actor_0_mouth")
    res = scene.sequence_editor.strips_all["shot Reenact Mouth"]
    copy = next(s for s in blend.all_strips(scene) if s.get("reenact_shot_name") == second.name)
    first_frames = {k: cv2.imread(os.path.join(take1, "frame_{:06d}.png".format(k))) for k in (4, 19)}
    # the compositor's work on the result strips
    res.name, res.color_tag = "Dub A", "COLOR_05"
    for frame, a in ((1, 1.0), (12, 0.6)):
        res.blend_alpha = a
        res.keyframe_insert("blend_alpha", frame=frame)
    copy.blend_alpha = 0.9
    strips = blend.strips_of(scene)
    try:
        blur = strips.new_effect(name="Soften", type="GAUSSIAN_BLUR", channel=5, frame_start=1, length=15, input1=res)
    except TypeError:  # (4.5 takes an end)
        blur = strips.new_effect(name="Soften", type="GAUSSIAN_BLUR", channel=5, frame_start=1, frame_end=16,
                                 input1=res)
    blur.mute = True
    if bpy.app.version < (5, 0, 0):  # (5.0's bpy module crashes on StripModifiers.new headless)
        res.modifiers.new(name="Match", type="BRIGHT_CONTRAST")
    out["next_take"] = os.path.basename(takes.next_take(take1, folder=True))
    # a copy of the result (as Shift+D makes it: the same file and Reenact properties) above it, to
    # compare the takes: a render again leaves it showing take 1
    dup = strips.new_image(name="Dub A copy", filepath=os.path.join(take1, res.elements[0].filename), channel=6,
                           frame_start=int(res.frame_start))
    for e in list(res.elements)[1:]:
        dup.elements.append(e.filename)
    dup.frame_offset_start, dup.frame_offset_end = res.frame_offset_start, res.frame_offset_end
    for k in res.keys():
        if k.startswith("reenact_"):
            dup[k] = res[k]
    # the animator moves the jaw key: rendered again
    for f in (5, 20):
        kb.value = 0.0
        kb.keyframe_insert("value", frame=f)
    out["render_2"] = sorted(bpy.ops.reenact.render_performance(region="mouth"))
    results = [s for s in blend.all_strips(scene) if s.get("reenact_shot")]
    out["results"] = sorted([s.name, s.type, os.path.basename(os.path.normpath(bpy.path.abspath(s.directory))),
                             s.get("reenact_shot_name")] for s in results)
    res, copy = scene.sequence_editor.strips_all["Dub A"], scene.sequence_editor.strips_all[copy.name]
    out["note"] = res.get("reenact_look_note", "")
    bag = blend.channelbag(scene, ensure=False)
    fade = [fc for fc in bag.fcurves if fc.data_path == res.path_from_id() + ".blend_alpha"]
    out["kept"] = {"colour_tag": res.color_tag, "fade_keys": [[round(v, 3) for v in k.co] for fc in fade for k in fc.keyframe_points],
                   "copy_opacity": round(copy.blend_alpha, 3), "blur_input": blur.input_1.name if blur.input_1 else None,
                   "modifiers": [m.name for m in res.modifiers], "mute": [res.mute, copy.mute]}
    take2 = os.path.join(root, "shot_Actor_0_mouth.take2")
    again = {k: cv2.imread(os.path.join(take1, "frame_{:06d}.png".format(k))) for k in (4, 19)}
    new = {k: cv2.imread(os.path.join(take2, "frame_{:06d}.png".format(k))) for k in (4, 19)}
    out["take_1_unchanged"] = all(np.array_equal(first_frames[k], again[k]) for k in (4, 19))
    out["takes_differ"] = {k: float(np.abs(new[k].astype(int) - first_frames[k]).mean()) for k in (4, 19)}
    # the sequencer shows the new take: clip frame 19 over the second piece (timeline 30)
    from reenact.video import open_video

    with open_video(str(clip)) as src:
        footage = src.read(19)[:, :, ::-1].astype(np.float64)
    shown = render(scene, 30, os.path.join(work, "shown.png"))  # (the copy at opacity 0.9 over the shot)
    where = np.abs(new[19].astype(int) - first_frames[19]).max(axis=2) > 12  # (the mouth: where the takes differ)
    out["differ_px"] = int(where.sum())
    out["shown_vs"] = [float(np.abs(shown - 0.9 * new[19] - 0.1 * footage)[where].mean()),
                       float(np.abs(shown - 0.9 * first_frames[19] - 0.1 * footage)[where].mean())]
    # an undo points the strips back at take 1 (its frames as they were); take 2, shown by no
    # strip now, is what a third render writes over, and while take 2 is shown, a new take 3
    out["while_shown"] = os.path.basename(takes.next_take(take1, folder=True))
    for s in (res, copy):
        shots.refile(s, take1, [e.filename for e in s.elements])
    out["after_undo"] = os.path.basename(takes.next_take(take1, folder=True))
    movie = os.path.join(work, "dub.mp4")  # a movie take no strip shows: never written over (always complete)
    open(movie, "wb").close()
    out["movie_take"] = os.path.basename(takes.next_take(movie))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


if __name__ == "__main__":
    run(main, 2)
