# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_saving.py in a fresh bpy process: a shot tracked in an unsaved .blend,
then saved where the Track cannot be copied next to it and where the record of the renders it
shows cannot be written (both faked: an OSError, as a read-only or full disk gives). The save
goes through, and the Track panel says what it could not do; the next save that can clears it.
Prints RESULT <json>."""

import errno
import json
import os

import bpy
from sequencer_check import Layout, empty_scene, run


def main(clip, work):
    from reenact.blender import blend, saving, takes
    from reenact.blender.panels.actors import SEQUENCER_PT_reenact_track

    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.sequence_editor.active_strip = shot
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}

    def refused(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    real = (saving._copy_into, takes.record_shown)
    saving._copy_into, takes.record_shown = refused, refused
    try:
        bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "a.blend"))
    finally:
        saving._copy_into, takes.record_shown = real
    out = {"saved": os.path.isfile(os.path.join(work, "a.blend")), "notes": list(saving.NOTES)}

    class Panel:  # (the panel's draw, headless)
        pass

    log = []
    panel = Panel()
    panel.layout = Layout(log)
    SEQUENCER_PT_reenact_track.draw(panel, bpy.context)
    out["panel"] = [t for t in log if t.startswith("Saving: ")]
    bpy.ops.wm.save_mainfile()
    out["notes_after"] = list(saving.NOTES)
    # a renderer left in the user folder by an earlier version (an old project), then Save As: the
    # new .blend takes copies, the files the saved one uses stay (before the fix they were deleted)
    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    old_dir = os.path.join(saving.user_model_folders()[0], "unsaved_old")
    os.makedirs(old_dir, exist_ok=True)
    for ext in (".onnx", ".ckpt.pt"):
        with open(os.path.join(old_dir, "A" + ext), "wb") as fh:
            fh.write(b"weights")
    ob.reenact.model_path = os.path.join(old_dir, "A.onnx")
    bpy.ops.wm.save_mainfile()  # (a.blend saved: it now uses copies next to it; its old files go)
    out["plain_save"] = [ob.reenact.model_path, sorted(os.listdir(old_dir)) if os.path.isdir(old_dir) else []]
    os.makedirs(old_dir, exist_ok=True)
    for ext in (".onnx", ".ckpt.pt"):
        with open(os.path.join(old_dir, "A" + ext), "wb") as fh:
            fh.write(b"weights")
    ob.reenact.model_path = os.path.join(old_dir, "A.onnx")
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "b.blend"))
    out["save_as"] = [ob.reenact.model_path, sorted(os.listdir(old_dir))]
    saving.NOTES.append("a note of this project")  # (opening another file: its notes are not that one's)
    bpy.ops.wm.open_mainfile(filepath=os.path.join(work, "a.blend"))
    out["notes_after_open"] = list(saving.NOTES)
    # the project copied without its reenact folder: the Track and Actors panels say the Track file
    # is missing (before 2026-12-06 nothing, and "100% tracked")
    from reenact.blender import actor as actor_data
    from reenact.blender.panels.actors import SEQUENCER_PT_reenact_actors

    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    bpy.context.scene.sequence_editor.active_strip = bpy.context.scene.sequence_editor.strips_all["shot"]
    track = actor_data.track_file(ob)
    os.rename(track, track + ".aside")
    log = []
    panel.layout = Layout(log)
    SEQUENCER_PT_reenact_track.draw(panel, bpy.context)
    SEQUENCER_PT_reenact_actors.draw(panel, bpy.context)
    out["track_missing"] = [t for t in log if "missing" in t]
    os.rename(track + ".aside", track)
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    run(main, 2)
