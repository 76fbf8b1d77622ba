# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): Blender renders
the sequencer (the editor's cut) to an MP4 while a Reenact result strip shows over part of it:
the movie is signed, naming the strip and its frames; with the result muted it is not; to a
Matroska file it cannot be, and says so. Prints RESULT <json>."""

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
    res.mute = False
    path, line = render("cut_mkv_", "MKV")
    out["mkv"] = {"file": os.path.basename(path), "line": line}
    # a still render (F12) with the movie output writes no movie: the earlier one is not signed again
    scene.render.ffmpeg.format = "MPEG4"
    scene.render.filepath = os.path.join(work, "muted_")
    del scene["reenact_last_signed"]
    bpy.ops.render.render()
    out["still"] = {"line": scene.get("reenact_last_signed"),
                    "present": read_manifest(os.path.join(work, "muted_0001-0012.mp4"))["present"]}
    out["shown"] = [[s.name, a, b] for s, a, b in signing.synthesised_strips(scene, 1, 12)]
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 3)
