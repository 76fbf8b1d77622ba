# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a shot tracked
while trimmed, then extended by the editor. Render Performance names the frames its actor's
Track does not cover (they stay the footage as it is) and Preview Frame on one of them says to
track again; tracking again would drop the animator's keys, so it is refused unless Keep Edits
(carried onto the new tracking) or Replace Edits. Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, run, track_and_save


def main(clip, work):
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    # an edit set up for delivery at another size: the first Track Actor says it sets the footage's
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 352, 288, 50
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    shot.frame_offset_end = 10  # tracked with its last 10 frames trimmed off
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "extend.blend"))
    shot.frame_offset_end = 0  # the editor extends the shot
    from reenact.blender import actor as actor_data

    focal = float(actor_data.tracked_track(ob).focal_px)

    def run_op(op, **kw):
        try:
            return sorted(op(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    out = {"render": run_op(bpy.ops.reenact.render_performance, region="mouth",
                            use_range=True, frame_first=2, frame_last=3)}
    scene.frame_set(25)
    out["preview"] = run_op(bpy.ops.reenact.preview_frame, region="mouth")

    out["note"] = actor_data.untracked_note(shot, actor_data.tracked_track(ob))
    from reenact.blender.panels.actors import _untracked

    out["panel"] = _untracked(shot, ob)[0]  # (the Track panel's line)
    # the animator's key, then Track Actor again (to take the extension): refused, the edit kept,
    # unless Replace Edits
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 0.9
    kb.keyframe_insert("value", frame=5)
    scene.sequence_editor.active_strip = shot
    out["retrack"] = run_op(bpy.ops.reenact.track_strip)
    out["key_kept"] = [o.name for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor
                       and o.data.shape_keys.animation_data is not None]
    # Track Again, Keeping Edits: the new tracking everywhere but on the edited frames; a transfer's
    # record of its driving frames follows the new rows, the actor's renderer stays
    ob.reenact.model_path = "//models/fine.onnx"
    ob[actor_data.DRIVER_PROP], ob[actor_data.DRIVER_FRAMES_PROP] = "driver", [float(i) for i in range(20)]
    ob.location.z += 1.0  # an edited head on frames 8-9 (two keys)
    for f in (8, 9):
        ob.keyframe_insert("location", index=2, frame=f)
    out["retrack_keeping"] = run_op(bpy.ops.reenact.track_strip, keep_edits=True)
    new = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor]
    tr = actor_data.tracked_track(new[0])
    from reenact.blender import layers

    perf = layers.curves_to_track(new[0], scene, tr)
    edited = layers.edited_frames(new[0], perf, tr)
    jaw = list(tr.expression_names).index("jawOpen")
    ok = np.asarray(tr.tracked, bool)
    others = np.ones(tr.n_frames, bool)
    others[[4, 7, 8]] = False
    out["kept"] = {"actors": len(new), "name": new[0].name, "rows": tr.n_frames, "edited": edited,
                   "jaw5": round(float(perf.expression[4, jaw]), 4),
                   "rest_off": float(np.abs(np.asarray(perf.expression) - np.asarray(tr.expression))[others & ok].max()),
                   "model": new[0].reenact.model_path, "driver": new[0].get(actor_data.DRIVER_PROP),
                   "driver_rows": list(new[0].get(actor_data.DRIVER_FRAMES_PROP, [])),
                   "layers": layers.has_layers(new[0]), "focal": round(float(tr.focal_px) / focal, 4),
                   "note": actor_data.untracked_note(shot, tr), "panel": _untracked(shot, new[0])[0]}
    # the layers work on the carried edits: Reset to Tracked brings frame 5 back
    layers.reset_range(new[0], 5, 5)
    tr_perf = layers.curves_to_track(new[0], scene, tr)
    out["reset_edited"] = layers.edited_frames(new[0], tr_perf, tr)
    # its Track file gone (a project copied without it): Track Again refuses to drop the edits it
    # can no longer compare (before 2026-12-05 it replaced the actor without a word)
    track_path = actor_data.track_file(new[0])
    os.rename(track_path, track_path + ".away")
    out["retrack_no_track"] = run_op(bpy.ops.reenact.track_strip)
    out["retrack_keeping_no_track"] = run_op(bpy.ops.reenact.track_strip, keep_edits=True)
    out["actors_no_track"] = [o.name for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor]
    os.rename(track_path + ".away", track_path)
    out["retrack_replacing"] = run_op(bpy.ops.reenact.track_strip, replace_edits=True)
    new = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor]
    out["after"] = {"actors": len(new), "rows": actor_data.tracked_track(new[0]).n_frames,
                    "model": new[0].reenact.model_path,
                    "note": actor_data.untracked_note(shot, actor_data.tracked_track(new[0]))}
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
