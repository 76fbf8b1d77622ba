# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle.py in a fresh bpy process (Blender 5.0 or 4.5 LTS): Train
Restyle from strips (the trainer is a separate Python with torch: this one, or on 4.5, whose
Python has no torch, the one named by ``training_python``, set in the add-on's preferences as a
user would).

A trimmed black-and-white shot (its hidden first frames are in colour) and colour reference
strips in a saved .blend. Bad selections are refused in one line each with nothing written;
Colourise on the untrimmed shot is refused (it shows colour frames), on the trimmed shot it
trains and sets the scene's restyle model, which Restyle Strip applies (a strip above, same start
and length). A restyle run stopped by SIGTERM (what Esc sends) keeps its checkpoint and changes
nothing in the .blend; a second Train resumes from it.

argv: JSON {"shot", "refs": [..], "colour_shot", "gone", "out", "training_python" (optional)}. Prints RESULT <json>.
"""

import json
import os
import signal
import sys
import threading
import time

import bpy


def children_running(word):
    """Child processes of this one whose command line holds ``word`` (the trainer)."""
    me = os.getpid()
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/{}/stat".format(pid)) as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/{}/cmdline".format(pid), "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and word in cmd:
            out.append(int(pid))
    return out


def checkpoint_step(path, python=None):
    """The step a checkpoint holds, read with torch here or (Blender 4.5: no torch in its
    Python) by the training Python."""
    code = ("import sys; from reenact.training.files import load_torch; "
            "print(int(load_torch(sys.argv[1], ('step',))['step']))")
    if not python:
        from reenact.training.files import load_torch

        return int(load_torch(path, ("step",))["step"])
    import subprocess

    out = subprocess.run([python, "-c", code, path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def start_reenact(cfg):
    """An empty file with Reenact registered: enabled as an add-on with ``training_python`` as
    its Training Python when given (Blender 4.5 has no torch of its own), else registered."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if cfg.get("training_python"):  # enabled as an add-on, so it has preferences
        import addon_utils

        addon_utils.enable("reenact", default_set=True)
        bpy.context.preferences.addons["reenact"].preferences.training_python = cfg["training_python"]
    else:
        from reenact import register

        register()


def main(cfg):
    from reenact.blender import blend

    res = {"blender": bpy.app.version_string, "refused": {}}
    start_reenact(cfg)
    scene = bpy.context.scene
    ed = scene.sequence_editor_create()
    shot = blend.add_movie_strip(scene, cfg["shot"], channel=1, frame_start=1, name="shot")
    for i, p in enumerate(cfg["refs"]):
        blend.add_movie_strip(scene, p, channel=2 + i, frame_start=1, name="look{}".format(i), fit_scene=False)
    blend.add_movie_strip(scene, cfg["shot"], channel=6, frame_start=1, name="twin", fit_scene=False)
    blend.add_movie_strip(scene, cfg["colour_shot"], channel=7, frame_start=40, name="colour", fit_scene=False)
    blend.add_movie_strip(scene, cfg["gone"], channel=8, frame_start=40, name="gone", fit_scene=False)
    os.remove(cfg["gone"])
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps = 32, 0.0, 3
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "train restyle.blend"))
    scene = bpy.context.scene
    s = scene.reenact
    models = os.path.join(cfg["out"], "reenact", "models", "train_restyle-5e5af4")  # (the .blend's own: 'train restyle')

    def select(active, others):
        for st in blend.all_strips(scene):
            st.select = st.name in others or st.name == active
        ed.active_strip = ed.strips_all[active] if active else None

    def refused(key):
        try:
            r = bpy.ops.reenact.train_restyle()
            res["refused"][key] = {"result": sorted(r)}
        except RuntimeError as exc:
            lines = str(exc).strip().splitlines()
            res["refused"][key] = {"line": lines[-1], "lines": len(lines)}
        res["refused"][key]["written"] = os.path.exists(os.path.join(cfg["out"], "reenact"))
        res["refused"][key]["model"] = s.restyle_model

    select(None, ["look0"])
    refused("no_active")
    select("shot", [])
    refused("no_reference")
    select("shot", ["twin"])
    refused("same_file")
    select("shot", ["look0", "gone"])
    refused("missing")
    s.restyle_colourise = True
    select("colour", ["look0"])
    refused("colour_shot")
    # the shot's first 4 frames are in colour: untrimmed, it is not a black-and-white shot
    select("shot", ["look0", "look1"])
    refused("untrimmed")
    look1 = ed.strips_all["look1"]  # a reference that is a Hold Split's second piece: other frames than a..b
    look1.animation_offset_start = 2
    refused("held_reference")
    look1.animation_offset_start = 0
    look1.frame_offset_end = -3  # held 3 frames past its clip's end: trained on the clip's frames
    shot.frame_offset_start = 4
    shot.frame_offset_end = 1
    res["shot"] = {"start": int(shot.frame_final_start), "length": int(shot.frame_final_duration)}

    # train (Colourise) on what the strips show, then apply with the scene's model
    res["trained"] = sorted(bpy.ops.reenact.train_restyle())
    res["model"] = bpy.path.abspath(s.restyle_model)
    res["model_stored"] = s.restyle_model  # relative to the .blend: a moved project keeps it
    res["preview"] = os.path.join(models, "shot_colourise_like_look0+1-630145_in_Scene_preview.png")
    select("shot", [])
    res["applied"] = sorted(bpy.ops.reenact.restyle_strip())
    res["result"] = [{"name": st.name, "channel": st.channel, "start": int(st.frame_final_start),
                      "length": int(st.frame_final_duration)}
                     for st in blend.all_strips(scene) if st.name.startswith("shot Restyled")]

    # stop a longer restyle run (not colourise) as Esc does: SIGTERM to the trainer
    s.restyle_colourise = False
    s.restyle_steps = 100000
    select("shot", ["look0", "look1"])

    def state():
        return {"strips": sorted((st.name, st.channel, int(st.frame_final_start), int(st.frame_final_duration))
                                 for st in blend.all_strips(scene)),
                "model": bpy.path.abspath(s.restyle_model), "images": sorted(i.name for i in bpy.data.images),
                "settings": [s.restyle_colourise, s.restyle_method, s.restyle_size, s.restyle_steps]}

    before = state()
    from reenact.blender.operators.restyle import model_path

    ed = scene.sequence_editor  # another choice of references with the same first one: its own model (before
    res["names"] = [os.path.basename(model_path(ed.strips_all["shot"], "restyle", [ed.strips_all[n] for n in names]))
                    for names in (["look0", "look1"], ["look0", "colour"])]  # 2026-12-06 both 'like_look0+1')
    preview = os.path.join(models, "shot_restyle_like_look0+1-630145_in_Scene_preview.run.png")
    sent = []

    def stopper():
        t0 = time.time()
        while time.time() - t0 < 600:
            kids = children_running("restyle")
            if kids and os.path.isfile(preview):
                for pid in kids:
                    os.kill(pid, signal.SIGTERM)
                sent.extend(kids)
                return
            time.sleep(0.2)

    th = threading.Thread(target=stopper, daemon=True)
    th.start()
    res["stopped"] = sorted(bpy.ops.reenact.train_restyle())
    th.join(5)
    res["sent"] = len(sent)
    res["unchanged"] = state() == before
    res["after_stop"] = state()
    ck = os.path.join(models, "shot_restyle_like_look0+1-630145_in_Scene.ckpt.pt")
    res["checkpoint"] = os.path.isfile(ck)
    res["restyle_onnx_after_stop"] = os.path.isfile(os.path.join(models, "shot_restyle_like_look0+1-630145_in_Scene.onnx"))
    if res["checkpoint"]:
        k = checkpoint_step(ck, cfg.get("training_python"))
        res["checkpoint_step"] = k
        s.restyle_steps = k + 2
        res["resumed"] = sorted(bpy.ops.reenact.train_restyle())
        res["model_after_resume"] = bpy.path.abspath(s.restyle_model)
    res["left_running"] = children_running("restyle")
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
