# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): Blender renders
the sequencer (the editor's cut) to an MP4 while a Reenact result strip shows over part of it:
the movie is signed, naming the strip and its frames; with the result muted it is not; to a
Matroska file it cannot be, and says so; rendered to PNG or JPEG frames, each frame showing the
result is signed and the others are not; to OpenEXR frames, it says it cannot be. Prints RESULT
<json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, image_strip, run


def main(frames, result, work):
    os.environ["REENACT_C2PA_DIR"] = os.path.join(work, "c2pa")  # (this check's own local chain)
    from reenact.blender import blend, shots, signing
    from reenact.provenance.manifest import read_manifest

    scene = empty_scene(176, 144)
    shot = image_strip(scene, frames, name="shot")
    blend.strip_id(shot)
    res, _ = shots.add_result_strips(scene, shot, result, len(shot.elements), "shot Reenact Mouth",
                                     key=("shot Actor 0", "mouth"))
    res.frame_offset_start = 4  # the result shows over frames 5-12 of 12
    scene.render.use_sequencer = True
    ims = scene.render.image_settings
    if hasattr(ims, "media_type"):
        ims.media_type = "VIDEO"
    ims.file_format = "FFMPEG"
    scene.render.ffmpeg.codec = "H264"
    out = {}

    def render(name, container):
        scene.render.ffmpeg.format = container
        scene.render.filepath = os.path.join(work, name)
        if "reenact_last_signed" in scene:
            del scene["reenact_last_signed"]
        bpy.ops.render.render(animation=True)
        path = bpy.path.abspath(scene.render.frame_path(frame=scene.frame_start))
        return path, scene.get("reenact_last_signed")

    path, line = render("cut_", "MPEG4")
    m = read_manifest(path)
    out["signed"] = {"file": os.path.basename(path), "line": line, "valid": m["valid"],
                     "actions": [[a["action"], (a["digitalSourceType"] or "").rsplit("/", 1)[-1], a["parameters"]]
                                 for a in m["actions"]]}
    res.mute = True
    path, line = render("muted_", "MPEG4")
    out["muted"] = {"line": line, "present": read_manifest(path)["present"]}
    # muted, but drawn through a dissolve (a Cross effect strip takes it): signed over the effect
    strips = blend.strips_of(scene)
    try:
        cross = strips.new_effect(name="Dissolve", type="CROSS", channel=4, frame_start=5, length=8,
                                  input1=shot, input2=res)
    except TypeError:  # (4.5 takes an end)
        cross = strips.new_effect(name="Dissolve", type="CROSS", channel=4, frame_start=5, frame_end=13,
                                  input1=shot, input2=res)
    path, line = render("through_", "MPEG4")
    m = read_manifest(path)
    out["through_effect"] = {"present": m["present"],
                             "synthesised": m["actions"][-1]["parameters"]["synthesised"] if m["present"] else None}
    strips.remove(cross)
    res.mute = False
    res.blend_alpha = 0.0  # at no opacity: nothing of it shows, nothing signed
    path, line = render("clear_", "MPEG4")
    out["no_opacity"] = {"line": line, "present": read_manifest(path)["present"]}
    res.blend_alpha = 1.0
    # the edit in another scene: a scene strip shows this scene's sequencer from timeline frame 101
    edit = bpy.data.scenes.new("Edit")
    for attr in ("resolution_x", "resolution_y", "resolution_percentage", "fps", "fps_base", "use_sequencer",
                 "filepath"):
        setattr(edit.render, attr, getattr(scene.render, attr))
    if hasattr(edit.render.image_settings, "media_type"):  # (5.0: a movie is a media type)
        edit.render.image_settings.media_type = "VIDEO"
    edit.render.image_settings.file_format = "FFMPEG"
    edit.render.ffmpeg.format, edit.render.ffmpeg.codec = "MPEG4", "H264"
    edit.frame_start, edit.frame_end = 101, 112
    edit.sequence_editor_create()
    reel = edit.sequence_editor.strips.new_scene(name="shot scene", scene=scene, channel=1, frame_start=101)
    reel.scene_input = "SEQUENCER"
    edit.render.filepath = os.path.join(work, "edit_")
    bpy.context.window.scene = edit
    bpy.ops.render.render(animation=True)
    path = bpy.path.abspath(edit.render.frame_path(frame=edit.frame_start))
    m = read_manifest(path)
    out["scene_strip"] = {"line": edit.get("reenact_last_signed"), "present": m["present"],
                          "parameters": m["actions"][-1]["parameters"] if m["present"] else None}
    bpy.context.window.scene = scene
    path, line = render("cut_mkv_", "MKV")
    out["mkv"] = {"file": os.path.basename(path), "line": line}
    # a still render (F12) with the movie output writes no movie: the earlier one is not signed again
    scene.render.ffmpeg.format = "MPEG4"
    scene.render.filepath = os.path.join(work, "muted_")
    del scene["reenact_last_signed"]
    bpy.ops.render.render()
    out["still"] = {"line": scene.get("reenact_last_signed"),
                    "present": read_manifest(os.path.join(work, "muted_0001-0012.mp4"))["present"]}
    # image frames (a farm's usual output): each frame showing the result signed, the others not
    if hasattr(ims, "media_type"):
        ims.media_type = "IMAGE"
    for fmt in ("PNG", "JPEG", "OPEN_EXR"):
        ims.file_format = fmt
        scene.render.filepath = os.path.join(work, "frames_" + fmt.lower(), "cut_")
        scene.pop("reenact_last_signed", None)
        bpy.ops.render.render(animation=True)
        files = [bpy.path.abspath(scene.render.frame_path(frame=f)) for f in range(1, 13)]
        ms = [read_manifest(f) if f.endswith((".png", ".jpg")) else {"present": False} for f in files]
        out["frames_" + fmt.lower()] = {
            "file": os.path.basename(files[0]), "line": scene.get("reenact_last_signed"),
            "exist": [os.path.isfile(f) for f in files], "signed": [m["present"] for m in ms],
            "valid": [bool(m.get("valid")) for m in ms],
            "parameters": [m["actions"][-1]["parameters"] if m["present"] else None for m in ms]}
    # Blender's UI signs image frames in a worker thread, a timer writing the record when it is done
    # (before 2026-12-06 the timer signed them in slices on the main thread): the same files signed
    ims.file_format = "PNG"
    scene.render.filepath = os.path.join(work, "thread_png", "cut_")
    bpy.app.handlers.render_complete.remove(signing.on_render_complete)
    try:
        bpy.ops.render.render(animation=True)
    finally:
        bpy.app.handlers.render_complete.append(signing.on_render_complete)
    written = {f: bpy.path.abspath(scene.render.frame_path(frame=f)) for f in range(1, 13)}
    scene.pop("reenact_last_signed", None)
    poll = signing._sign_named(scene.name, written, in_thread=True)
    import time

    t0 = time.monotonic()
    while poll() is not None and time.monotonic() - t0 < 120:
        time.sleep(0.05)
    ms = [read_manifest(written[f]) for f in range(1, 13)]
    out["thread_png"] = {"line": scene.get("reenact_last_signed"), "signed": [m["present"] for m in ms],
                         "parameters": [m["actions"][-1]["parameters"] if m["present"] else None for m in ms]}
    # a still render written to a PNG (render(write_still=True), as `blender -b -f N` does): signed
    # when its frame shows the result
    ims.file_format = "PNG"
    scene.render.filepath = os.path.join(work, "still_png", "cut_")
    out["write_still"] = {}
    for f in (2, 7):
        scene.frame_set(f)
        scene.pop("reenact_last_signed", None)
        bpy.ops.render.render(write_still=True)
        path = os.path.join(work, "still_png", "cut_.png")  # (a still's file has no frame number)
        out["write_still"][f] = [os.path.isfile(path), read_manifest(path)["present"], scene.get("reenact_last_signed")]
    out["shown"] = [[s.name, a, b] for s, a, b in signing.synthesised_strips(scene, 1, 12)]
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 3)
