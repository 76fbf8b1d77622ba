# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0): a shot tracked and dubbed in
shot_v01.blend, then saved as shot_v02.blend beside it (File ▸ Save Incremental), where the
animator changes a key, renders again and tracks again. v01's Track and rendered frames must be
as v01 left them. Prints RESULT <json>."""

import hashlib
import json
import os
import shutil

import bpy
from sequencer_check import empty_scene, run, track_and_save


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend

    def digest(folder_or_file):
        h = hashlib.sha256()
        paths = [folder_or_file] if os.path.isfile(folder_or_file) else [
            os.path.join(folder_or_file, n) for n in sorted(os.listdir(folder_or_file))]
        for p in paths:
            if os.path.isfile(p):
                with open(p, "rb") as fh:
                    h.update(fh.read())
        return h.hexdigest()

    def result_folder(scene):
        st = [s for s in blend.all_strips(scene) if s.get("reenact_shot")][0]
        return os.path.dirname(bpy.path.abspath(os.path.join(st.directory, st.elements[0].filename)))

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, 30
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "shot_v01.blend"))  # (saved before tracking)
    scene, shot = bpy.context.scene, bpy.context.scene.sequence_editor.strips_all["shot"]
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "shot_v01.blend"))
    kb = ob.data.shape_keys.key_blocks["jawOpen"]

    def key_and_render(value):
        kb.value = value
        kb.keyframe_insert("value", frame=4)
        return sorted(bpy.ops.reenact.render_performance(region="mouth", use_range=True, frame_first=3,
                                                           frame_last=5))

    out = {"v01_render": key_and_render(0.9)}
    v01 = {"track": actor_data.track_file(ob), "frames": result_folder(scene)}
    v01_digests = {k: digest(p) for k, p in v01.items()}
    bpy.ops.wm.save_mainfile()
    ob.reenact.model_path = "//reenact/models/shot_v01/fine.onnx"  # (a trained renderer, relative)
    os.makedirs(os.path.join(work, "reenact", "models", "shot_v01"), exist_ok=True)
    from reenact.render.renderer import BASE_MODEL

    shutil.copyfile(BASE_MODEL, os.path.join(work, "reenact", "models", "shot_v01", "fine.onnx"))
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "shot_v02.blend"))  # (Save Incremental)
    scene = bpy.context.scene
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    # v02 reads its own copy of the Track, not v01's (since 2026-12-05)
    out["v02_track_at_save"] = os.path.relpath(actor_data.track_file(ob), work)
    out["v02_track_is_a_copy"] = digest(actor_data.track_file(ob)) == v01_digests["track"]
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    bpy.context.view_layer.objects.active = ob
    out["v02_render"] = key_and_render(0.2)
    v02_frames = result_folder(scene)
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["shot"]
    out["v02_track"] = sorted(bpy.ops.reenact.track_strip(keep_edits=True))
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    out["paths"] = {"v01_frames": os.path.relpath(v01["frames"], work), "v02_frames": os.path.relpath(v02_frames, work),
                    "v01_track": os.path.relpath(v01["track"], work),
                    "v02_track": os.path.relpath(actor_data.track_file(ob), work)}
    out["v01_unchanged"] = {k: digest(p) == v01_digests[k] for k, p in v01.items()}
    # Save As into another folder: the Track copied there under the new name, the renderer's
    # relative path re-pointed at the same file (before 2026-12-05 "renderer model not found")
    os.makedirs(os.path.join(work, "elsewhere"))
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "elsewhere", "shot_v03.blend"))
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    out["v03"] = {"track": os.path.relpath(actor_data.track_file(ob), work),
                  "track_exists": os.path.isfile(actor_data.track_file(ob)),
                  "model": os.path.relpath(bpy.path.abspath(ob.reenact.model_path), work),
                  "model_stored": ob.reenact.model_path}
    # Save Copy: the copy points at its own files; this session keeps its own
    before = (ob.reenact.track_path, ob.reenact.model_path)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "copy_v04.blend"), copy=True)
    out["after_copy_unchanged"] = (ob.reenact.track_path, ob.reenact.model_path) == before
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
