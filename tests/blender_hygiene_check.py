# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_hygiene.py in a fresh bpy process (Blender 5.0): the documented
workflows leave the .blend and the project folder as they should (issue 14, items 10-14).

1. A Track Actor that fails (the .blend's ``reenact`` folder cannot be made) leaves no camera,
   collection or clip behind and keeps the scene camera and resolution.
2. The README's order: track the on-screen actor (a short stretch of carphone), then the dubbing
   actor (carphone at twice the size, in another strip): the scene keeps the first clip's
   resolution and camera; View Actor Camera shows the second.
3. Transfer Performance with no explicit actors: dubbing -> on-screen; the last choice is
   remembered; a source with edits of its own is warned about.
4. Saving the unsaved file moves the Tracks next to it (and they load after reopening).
5. Preview Frame with a model onnxruntime cannot run, or one that needs more memory than there
   is: one line, nothing added.
6. Preview Frame, then Render Performance as images then as a movie: one result strip for the
   actor and region, replaced in place, previews removed, in the channel above the original.

argv: JSON {"clip", "big", "out", "bad_models": {"runtime", "memory"}}. Prints RESULT <json>.
"""

import ctypes
import json
import os
import sys
import tempfile

import bpy

FRAMES = 12  # the visible stretch of each clip that is tracked (fast)
OFFSET = -100  # the dubbing take lies 100 frames after the on-screen one on the timeline


def captured(fn):
    """(fn(), what Blender printed meanwhile: the operator reports in background mode)."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            try:
                res = fn()
            except RuntimeError as exc:
                res = "RuntimeError: " + str(exc)
        finally:
            sys.stdout.flush()
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        return res, tmp.read().decode(errors="replace")


def blend_state(scene):
    """What a failed operator must not change."""
    r = scene.render
    return {"objects": sorted(o.name for o in bpy.data.objects), "cameras": sorted(c.name for c in bpy.data.cameras),
            "collections": sorted(c.name for c in bpy.data.collections),
            "clips": sorted(c.name for c in bpy.data.movieclips), "images": sorted(i.name for i in bpy.data.images),
            "meshes": sorted(m.name for m in bpy.data.meshes), "actions": sorted(a.name for a in bpy.data.actions),
            "scene_camera": scene.camera.name if scene.camera else None,
            "resolution": [r.resolution_x, r.resolution_y, r.resolution_percentage],
            "strips": sorted((s.name, s.channel) for s in scene.sequence_editor.strips_all)
            if scene.sequence_editor else []}


def add_clip(scene, path, channel, name, fit, start=1):
    from reenact.blender import blend

    strip = blend.add_movie_strip(scene, path, channel=channel, frame_start=start, name=name, fit_scene=fit)
    strip.frame_final_duration = FRAMES
    scene.sequence_editor.active_strip = strip
    return strip


def actor_of(strip_name):
    return next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor
                and o.reenact.strip_name == strip_name)


def error_line(fn):
    try:
        res = fn()
        return "no error: {}".format(res)
    except (RuntimeError, AttributeError) as exc:  # AttributeError: an operator that does not exist
        return str(exc).strip()


def failed_track(cfg, res):
    """1. Track Actor in a saved .blend whose ``reenact`` folder cannot be made."""
    folder = os.path.join(cfg["out"], "failing")
    os.makedirs(folder)
    with open(os.path.join(folder, "reenact"), "w") as fh:
        fh.write("a file where the folder should be\n")
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(folder, "failing.blend"))
    scene = bpy.context.scene
    add_clip(scene, cfg["clip"], 2, "shot", fit=False)
    scene.render.resolution_x, scene.render.resolution_y = 1280, 720
    before = blend_state(scene)
    res["failed_track_error"] = error_line(lambda: bpy.ops.reenact.track_strip())
    res["failed_track_unchanged"] = blend_state(scene) == before
    res["failed_track_diff"] = {k: [before[k], v] for k, v in blend_state(scene).items() if before[k] != v}
    res["failed_track_leftovers"] = sorted(f for f in os.listdir(folder) if f not in ("reenact", "failing.blend"))
    # re-tracking that fails at the very end (the Track's name is taken by a folder), with another
    # focal length asked: the strip's actor, its Track and its camera stay as they were
    os.remove(os.path.join(folder, "reenact"))
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    track = bpy.path.abspath(next(o for o in bpy.data.objects if o.reenact.is_actor).reenact.track_path)
    os.replace(track, track + ".kept")
    os.mkdir(track)

    def actors():
        return [(o.name, o.reenact.track_path, o.parent.name) for o in bpy.data.objects if o.reenact.is_actor]

    before = dict(blend_state(scene), actors=actors(), lens=bpy.data.cameras["shot Camera"].lens)
    # (Replacing Edits: its Track unreadable, a plain Track Again now refuses before any work)
    res["failed_retrack_error"] = error_line(lambda: bpy.ops.reenact.track_strip(use_focal=True, focal_mm=20.0,
                                                                                  replace_edits=True))
    after = dict(blend_state(scene), actors=actors(), lens=bpy.data.cameras["shot Camera"].lens)
    res["failed_retrack_unchanged"] = after == before
    res["failed_retrack_diff"] = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    res["failed_retrack_leftovers"] = sorted(os.listdir(os.path.dirname(track)))


def main(cfg):
    from reenact import register
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, layers

    res = {"blender": bpy.app.version_string}
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    failed_track(cfg, res)

    # --- 2. two clips tracked in the README's order -----------------------------------------------
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    add_clip(scene, cfg["clip"], 1, "onscreen", fit=True)
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    r = scene.render
    res["after_first"] = {"resolution": [r.resolution_x, r.resolution_y],
                          "camera": scene.camera.name if scene.camera else None}
    add_clip(scene, cfg["big"], 1, "dubbing", fit=False, start=1 - OFFSET)
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    res["after_second"] = {"resolution": [r.resolution_x, r.resolution_y],
                           "camera": scene.camera.name if scene.camera else None}
    onscreen, dubbing = actor_of("onscreen").name, actor_of("dubbing").name
    res["actors"] = [onscreen, dubbing]
    bpy.context.view_layer.objects.active = bpy.data.objects[dubbing]
    res["view_camera"] = error_line(lambda: bpy.ops.reenact.view_actor_camera())
    res["view_camera_scene_camera"] = scene.camera.name if scene.camera else None
    res["view_camera_resolution"] = [r.resolution_x, r.resolution_y]
    error_line(lambda: bpy.ops.reenact.view_actor_camera(set_resolution=True))
    res["view_camera_set_resolution"] = [r.resolution_x, r.resolution_y]
    bpy.context.view_layer.objects.active = bpy.data.objects[onscreen]
    error_line(lambda: bpy.ops.reenact.view_actor_camera(set_resolution=True))  # back to the first clip's

    # --- 3. Transfer Performance's defaults, memory and warning -------------------------------------
    bpy.context.view_layer.objects.active = bpy.data.objects[dubbing]  # the last tracked, as after tracking
    out, text = captured(lambda: bpy.ops.reenact.transfer_performance("INVOKE_DEFAULT", mode="mouth", offset=OFFSET))
    res["default_transfer"] = {"result": str(out), "report": text.strip(),
                               "layers": {n: layers.has_layers(bpy.data.objects[n]) for n in (onscreen, dubbing)}}
    s = scene.reenact
    res["remembered_1"] = [getattr(s, "transfer_source", None), getattr(s, "transfer_target", None)]
    # the other way round, chosen explicitly: the source (on-screen) now has edits of its own (step 3)
    out, text = captured(lambda: bpy.ops.reenact.transfer_performance(source=onscreen, target=dubbing, mode="mouth",
                                                                                   offset=-OFFSET))
    res["explicit_transfer"] = {"result": str(out), "report": text.strip()}
    res["remembered_2"] = [getattr(s, "transfer_source", None), getattr(s, "transfer_target", None)]
    out, text = captured(lambda: bpy.ops.reenact.transfer_performance("INVOKE_DEFAULT", mode="mouth", offset=-OFFSET))
    res["remembered_transfer"] = {"result": str(out), "report": text.strip()}
    try:  # only the source named, the remembered target being that actor: the other one is the target
        from reenact.blender.operators.transfer import default_pair

        res["source_only_pair"] = [o.name for o in default_pair(scene, source=dubbing)]
    except ImportError as exc:
        res["source_only_pair"] = str(exc)

    # --- 4. saving moves the Tracks next to the .blend ---------------------------------------------
    old = {n: bpy.path.abspath(bpy.data.objects[n].reenact.track_path) for n in (onscreen, dubbing)}
    # a save where the Tracks cannot follow (its "reenact" is a file): the actors keep their old paths
    blocked = os.path.join(cfg["out"], "blocked")
    os.makedirs(blocked)
    with open(os.path.join(blocked, "reenact"), "w") as fh:
        fh.write("a file where the folder should be\n")
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(blocked, "shot.blend"))
    res["blocked_save"] = {n: [bpy.data.objects[n].reenact.track_path == p, os.path.isfile(p)]
                           for n, p in old.items()}
    # "Save Copy": the copy gets the Tracks next to it, this session keeps its own
    copy = os.path.join(cfg["out"], "copy")
    os.makedirs(copy)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(copy, "shot copy.blend"), copy=True)
    res["copy_save"] = {"session_kept": all(bpy.data.objects[n].reenact.track_path == p and os.path.isfile(p)
                                            for n, p in old.items()),
                        "copied": sorted(os.listdir(os.path.join(copy, "reenact")))
                        if os.path.isdir(os.path.join(copy, "reenact")) else []}
    project = os.path.join(cfg["out"], "project")
    blend_path = os.path.join(project, "shot.blend")
    os.makedirs(project)
    bpy.ops.wm.save_as_mainfile(filepath=blend_path)
    scene = bpy.context.scene
    new = {n: bpy.data.objects[n].reenact.track_path for n in (onscreen, dubbing)}
    res["save"] = {"old_in_project": {n: p.startswith(project) for n, p in old.items()},
                   "new": new, "old_exist": {n: os.path.exists(p) for n, p in old.items()},
                   "new_files": sorted(os.listdir(os.path.join(project, "reenact")))
                   if os.path.isdir(os.path.join(project, "reenact")) else []}
    bpy.ops.wm.open_mainfile(filepath=blend_path)
    scene = bpy.context.scene
    loads = {}
    for n in (onscreen, dubbing):
        try:
            tr = actor_data.load_actor_track(bpy.data.objects[n])
            loads[n] = int(tr.n_frames)
        except (ValueError, OSError) as exc:
            loads[n] = str(exc)
    res["save"]["reopened_loads"] = loads

    # --- 5. Preview Frame failures: one line, nothing added -----------------------------------------
    ob = bpy.data.objects[onscreen]
    bpy.context.view_layer.objects.active = ob
    strip = scene.sequence_editor.strips_all["onscreen"]
    scene.frame_set(int(strip.frame_start) + 5)
    failures = {}
    for kind, model in sorted(cfg["bad_models"].items()):
        ob.reenact.model_path = model
        before = blend_state(scene)
        msg = error_line(lambda: bpy.ops.reenact.preview_frame(region="mouth"))
        failures[kind] = {"message": msg, "unchanged": blend_state(scene) == before}
    ob.reenact.model_path = ""
    res["preview_failures"] = failures

    # --- 6. previews and results: one strip per actor and region, replaced in place ----------------
    scene.frame_set(int(strip.frame_start) + 3)
    assert bpy.ops.reenact.preview_frame(region="mouth") == {"FINISHED"}
    assert bpy.ops.reenact.render_performance(region="mouth") == {"FINISHED"}

    def results():
        return sorted([s.name, s.channel, s.type, s.frame_final_start, s.frame_final_duration]
                      for s in blend.all_strips(scene) if s.name not in ("onscreen", "dubbing"))

    res["after_images"] = results()
    scene.frame_set(int(strip.frame_start) + 4)
    assert bpy.ops.reenact.preview_frame(region="mouth") == {"FINISHED"}
    res["with_preview"] = results()
    assert bpy.ops.reenact.render_performance(region="mouth", output="MOVIE") == {"FINISHED"}
    res["after_movie"] = results()
    res["original"] = [strip.channel, strip.frame_final_start, strip.frame_final_duration]
    print("RESULT " + json.dumps(res), flush=True)
    from reenact import unregister

    unregister()


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
