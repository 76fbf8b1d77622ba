# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle.py in a fresh bpy process (5.0): a dubbed shot whose dub
is restyled (Restyle Strip on the dub's result strip: the only way to have both). The restyled
dub keeps to the dub as the dub keeps to the shot (moved, trimmed), and a new take of the dub
says that its restyle is of an earlier take (a review of 2026-12-06: the restyled dub stayed
put, and the report said only "mute it to see this one"). Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, run, track_and_save


def main(clip, model, work):
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 25, 1
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, 24
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "both.blend"))
    ed = scene.sequence_editor
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 1.0
    kb.keyframe_insert("value", frame=7)
    out = {"dub": sorted(bpy.ops.reenact.render_performance(region="mouth"))}
    dub = ed.strips_all["shot Reenact Mouth"]
    ed.active_strip = dub
    out["restyle"] = sorted(bpy.ops.reenact.restyle_strip(model=model))
    restyled = next(s for s in blend.all_strips(scene) if s.get("reenact_shot") == dub.get("reenact_id"))

    def places():
        return [[s.name, int(s.frame_final_start), int(s.frame_final_end)] for s in (shot, dub, restyled)]

    out["before"] = places()
    shot.frame_start += 10  # the editor moves the shot: the dub follows, and its restyle with it
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["moved"] = places()
    shot.frame_offset_end = 4  # and trims its end
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["trimmed"] = places()
    # the editor cuts the shot: the new piece gets a copy of the dub, and over it a copy of the
    # restyle (before 2026-12-06 the new piece showed the dub unrestyled)
    right = shot.split(frame=21, split_method="SOFT")
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    mine = [s for s in blend.all_strips(scene) if s.get("reenact_shot") and s not in (dub, restyled)]
    dub2 = next((s for s in mine if s.get("reenact_shot_name") == right.name), None)
    re2 = next((s for s in mine if dub2 is not None and s.get("reenact_shot") == dub2.get("reenact_id")), None)
    out["cut"] = {"left": places(), "copies": [[s.type, int(s.frame_final_start), int(s.frame_final_end), int(s.channel),
                                               s.get("reenact_region"), blend._strip_paths(s) == blend._strip_paths(o)]
                                              for s, o in ((dub2, dub), (re2, restyled)) if s is not None],
                  "right": [int(right.frame_final_start), int(right.frame_final_end), int(right.channel)]}
    right.frame_start += 3  # the new piece moved: its dub copy follows, and the restyle copy with it
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["cut_moved"] = [[int(s.frame_final_start), int(s.frame_final_end)] for s in (right, dub2, re2) if s is not None]
    for s in (re2, dub2, right):  # (the rest of the check on the shot as it was: one piece)
        if s is not None:
            blend.strips_of(scene).remove(s)
    shot.frame_offset_end = 4
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["uncut"] = places()
    # the dub rendered again: its restyle is of the earlier take, and the report says so
    kb.value = 0.3
    kb.keyframe_insert("value", frame=17)
    out["again"] = sorted(bpy.ops.reenact.render_performance(region="mouth"))
    out["note"] = dub.get("reenact_look_note", "")
    from reenact.blender import shots

    out["stale"] = shots.stale_note(restyled)  # (the Track panel's line on the restyle)
    # the shot muted (an alternate take hidden): the dub and its restyle with it; shown again: both
    shot.mute = True
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["muted"] = [bool(dub.mute), bool(restyled.mute)]
    shot.mute = False
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["shown"] = [bool(dub.mute), bool(restyled.mute)]
    dub.mute = True  # the dub muted by hand under its restyle: the restyle stays shown
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["dub_muted_by_hand"] = [bool(dub.mute), bool(restyled.mute)]
    dub.mute = False
    # rendered again as a movie (the dub replaced by a strip of the other kind): the restyle still
    # keeps to it (before: orphaned, it stayed put)
    kb.value = 0.6
    kb.keyframe_insert("value", frame=12)
    out["movie"] = sorted(bpy.ops.reenact.render_performance(region="mouth", output="MOVIE"))
    dub = next(s for s in blend.all_strips(scene) if s.get("reenact_shot_name") == shot.name
               and s.get("reenact_region") == "mouth")
    shot.frame_start -= 5
    bpy.context.view_layer.update()
    bpy.context.view_layer.update()
    out["after_movie"] = [[s.type, int(s.frame_final_start), int(s.frame_final_end)] for s in (shot, dub, restyled)]
    out["movie_note"] = dub.get("reenact_look_note", "")
    # the edit's manifest names the restyle and the dub it was made from (the dub muted under it)
    from reenact.blender import signing

    dub.mute = True
    plan = signing.signing_plan(scene, {f: os.path.join(work, "x_{:04d}.png".format(f)) for f in range(6, 9)})
    out["manifest_entries"] = plan["files"][0][1]["synthesised"] if plan and "files" in plan else plan
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 3)
