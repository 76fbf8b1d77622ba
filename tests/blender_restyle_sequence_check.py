# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle.py in a fresh bpy process (Blender 5.0 or 4.5 LTS): Train
Restyle and Restyle Strip on image-sequence strips (numbered PNGs, as artists often hold shots).

The shot is a trimmed image strip, the reference an image strip, a movie strip and an image strip
whose images are not one numbered run (trained on through a numbered sequence of links to its
images). A still image as the shot is refused in one line, nothing written; Train Restyle trains
on what the strips show and sets the scene's model;
Restyle Strip on the image strip adds a strip above with the same start and length (a PNG
folder, then a movie at the scene's rate that replaces it); a model that is not a restyle model
leaves the .blend as it was.

argv: JSON {"shot": [files], "ref": [files], "ref_movie", "gappy": [files], "still", "bad_model",
"out", "training_python" (optional)}. Prints RESULT <json>.
"""

import json
import os
import sys

import bpy


def image_strip(scene, name, files, channel, start):
    from reenact.blender import blend

    st = blend.strips_of(scene).new_image(name=name, filepath=files[0], channel=channel, frame_start=start)
    for f in files[1:]:
        st.elements.append(os.path.basename(f))
    return st


def main(cfg):
    from blender_train_restyle_check import start_reenact  # this script's folder is on sys.path
    from reenact.blender import blend

    res = {"blender": bpy.app.version_string, "refused": {}}
    start_reenact(cfg)
    scene = bpy.context.scene
    ed = scene.sequence_editor_create()
    scene.render.fps, scene.render.fps_base = 24, 1.0
    shot = image_strip(scene, "shot", cfg["shot"], 1, 3)
    image_strip(scene, "look", cfg["ref"], 2, 1)
    blend.add_movie_strip(scene, cfg["ref_movie"], channel=3, frame_start=1, name="look movie", fit_scene=False)
    image_strip(scene, "gappy", cfg["gappy"], 4, 40)
    image_strip(scene, "still", [cfg["still"]], 5, 40)
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps = 32, 0.0, 2
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "sequence restyle.blend"))
    scene = bpy.context.scene
    ed = scene.sequence_editor
    s = scene.reenact
    shot = ed.strips_all["shot"]

    def select(active, others):
        for st in blend.all_strips(scene):
            st.select = st.name in others or st.name == active
        ed.active_strip = ed.strips_all[active] if active else None

    def run(key, op, **kw):
        try:
            r = sorted(op(**kw))
            res["refused"][key] = {"result": r}
        except RuntimeError as exc:
            lines = str(exc).strip().splitlines()
            res["refused"][key] = {"line": lines[-1], "lines": len(lines)}
        res["refused"][key]["written"] = os.path.exists(os.path.join(cfg["out"], "reenact"))
        res["refused"][key]["model"] = s.restyle_model

    def state():
        return {"strips": sorted((st.name, st.type, st.channel, int(st.frame_final_start), int(st.frame_final_duration))
                                 for st in blend.all_strips(scene)), "model": bpy.path.abspath(s.restyle_model)}

    select("still", ["look"])
    run("still", bpy.ops.reenact.train_restyle)
    from reenact.blender.operators.restyle import strip_spec
    from reenact.video import open_video

    gappy = ed.strips_all["gappy"]
    gappy.frame_offset_start = 1  # trimmed: clip frames 1.. of the strip's images
    spec = strip_spec(gappy)
    with open_video(spec.path) as src:
        res["gappy"] = {"start": spec.start, "stop": spec.stop, "pattern": spec.path,
                        "files": [os.path.realpath(f) for f in src.files]}

    shot.frame_offset_start = 2
    shot.frame_offset_end = 1
    res["shot"] = {"start": int(shot.frame_final_start), "length": int(shot.frame_final_duration),
                   "channel": shot.channel}
    select("shot", ["look", "look movie", "gappy"])
    res["trained"] = sorted(bpy.ops.reenact.train_restyle())
    res["model"] = bpy.path.abspath(s.restyle_model)

    select("shot", [])
    before = state()
    run("bad_model", bpy.ops.reenact.restyle_strip, model=cfg["bad_model"])
    res["bad_model_unchanged"] = state() == before
    res["restyle_folder_after_bad"] = os.path.exists(os.path.join(cfg["out"], "reenact", "restyle"))

    def results():
        return [{"name": st.name, "type": st.type, "channel": st.channel, "start": int(st.frame_final_start),
                 "length": int(st.frame_final_duration),
                 "path": bpy.path.abspath(st.directory if st.type == "IMAGE" else st.filepath),
                 "elements": [e.filename for e in st.elements] if st.type == "IMAGE" else None}
                for st in blend.all_strips(scene) if st.name.startswith("shot Restyled")]

    select("shot", [])
    res["applied"] = sorted(bpy.ops.reenact.restyle_strip())
    res["images"] = results()
    select("shot", [])
    res["applied_movie"] = sorted(bpy.ops.reenact.restyle_strip(output="MOVIE"))
    res["movie"] = results()
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
