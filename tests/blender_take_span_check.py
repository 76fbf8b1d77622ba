# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a shot trimmed
to clip frames 10..21 of its 30-frame clip, dubbed and rendered (Output Images), the dub restyled
(Restyle Strip, Output Images and Movie), then the shot's trim opened by the editor. The take
holds the clip's 30 frames, those the shot does not show one transparent file linked (never
decoded); the sequencer shows the dub where it was rendered and, on the frames the opened trim
shows, the shot through the take and through the restyle of images, and the shot's own frames
in the restyle's movie (not black). Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, render, run, track_and_save


def main(clip, model, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 30
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "span.blend"))
    shot.frame_offset_start, shot.frame_offset_end = 10, 8  # shows clip frames 10..21 (timeline 11..22)
    bpy.context.view_layer.update()
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 1.0
    kb.keyframe_insert("value", frame=16)  # the animator opens the jaw on clip frame 15
    out = {"render": sorted(bpy.ops.reenact.render_performance(region="mouth"))}
    take = os.path.join(actor_data.render_root(), "shot_Actor_0_mouth")
    names = sorted(os.listdir(take))
    out["files"] = len(names)
    first = os.path.join(take, names[0])
    out["linked"] = [i for i, n in enumerate(names) if os.path.samefile(os.path.join(take, n), first)]
    res = scene.sequence_editor.strips_all["shot Reenact Mouth"]
    out["result"] = [int(res.frame_start), int(res.frame_offset_start), int(res.frame_offset_end)]
    from reenact.video import open_video

    with open_video(str(clip)) as src:
        footage = {k: src.read(k)[:, :, ::-1].astype(np.int16) for k in (3, 15, 27)}
    dubbed = render(scene, 16, os.path.join(work, "dubbed.png"))
    out["dub_vs_footage"] = float(np.abs(dubbed - footage[15]).mean())  # (the dub shows: the mouth differs)
    ed = scene.sequence_editor
    ed.active_strip = res
    out["restyled"] = {}
    for kind in ("IMAGES", "MOVIE"):  # (the movie replaces the images: one restyle per dub)
        out["restyled"][kind] = sorted(bpy.ops.reenact.restyle_strip(model=model, output=kind))
        ed.active_strip = res
        if kind == "IMAGES":  # (its frames outside the dub's: linked too, the dub's take read as RGB)
            r = next(s for s in blend.all_strips(scene) if s.get("reenact_shot") == res.get("reenact_id"))
            folder = bpy.path.abspath(r.directory)
            files = sorted(os.listdir(folder))
            out["restyle_linked"] = [i for i, n in enumerate(files) if os.path.samefile(
                os.path.join(folder, n), os.path.join(folder, files[0]))]
    restyled = next(s for s in blend.all_strips(scene) if s.get("reenact_shot") == res.get("reenact_id"))
    out["restyle_type"] = restyled.type
    shot.frame_offset_start, shot.frame_offset_end = 0, 0  # the editor opens the trim
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["result_after"] = [int(res.frame_start), int(res.frame_offset_start), int(res.frame_offset_end)]
    out["restyle_after"] = [int(restyled.frame_final_start), int(restyled.frame_final_end)]
    restyled.mute = True
    out["opened_vs_footage"] = [float(np.abs(render(scene, k + 1, os.path.join(work, "o{}.png".format(k))) -
                                             footage[k]).mean()) for k in (3, 27)]
    restyled.mute = False  # the restyle's movie there: the shot's own frames (before the fix, black)
    out["restyle_opened_vs_footage"] = [float(np.abs(render(scene, k + 1, os.path.join(work, "r{}.png".format(k))) -
                                                     footage[k]).mean()) for k in (3, 27)]
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


if __name__ == "__main__":
    run(main, 3)
