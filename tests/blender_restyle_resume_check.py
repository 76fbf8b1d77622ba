# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle_timeline.py in a fresh bpy process (Blender 5.0 or 4.5 LTS):
Train Restyle's checkpoint as an artist meets it.

Trained 3 steps; a reference's trim nudged, Train pressed and stopped at once (SIGTERM, what Esc
sends); the trim undone, trained to 4 steps; Steps 2 (below the checkpoint); Start Afresh.
Each operator call is printed between ``CALL <name>`` and ``END <name>`` lines, so the test reads
what each one reported.

argv: JSON {"shot", "look", "out", "training_python" (optional)}. Prints RESULT <json>.
"""

import json
import os
import signal
import threading
import time

import bpy


def main(cfg):
    from blender_train_restyle_check import checkpoint_step, children_running, start_reenact
    from reenact.blender import blend

    res = {"blender": bpy.app.version_string}
    start_reenact(cfg)
    scene = bpy.context.scene
    scene.sequence_editor_create()
    blend.add_movie_strip(scene, cfg["shot"], channel=1, frame_start=1, name="shot")
    blend.add_movie_strip(scene, cfg["look"], channel=2, frame_start=1, name="look", fit_scene=False)
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps = 32, 0.0, 3
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "resume.blend"))
    scene = bpy.context.scene
    ed, s = scene.sequence_editor, scene.reenact
    for st in ed.strips_all:
        st.select = True
    ed.active_strip = ed.strips_all["shot"]
    models = os.path.join(cfg["out"], "reenact", "models", "resume")
    stem = os.path.join(models, "shot_restyle_like_look_in_Scene")

    def call(name, **kw):
        print("CALL " + name, flush=True)
        try:
            out = sorted(bpy.ops.reenact.train_restyle(**kw))
        except RuntimeError as exc:
            print(str(exc), flush=True)
            out = ["ERROR"]
        print("END " + name, flush=True)
        return out

    def files():
        return sorted(os.listdir(models))

    def preview():
        with open(stem + "_preview.png", "rb") as fh:
            return fh.read()

    res["first"] = call("first")
    res["first_step"] = checkpoint_step(stem + ".ckpt.pt", cfg.get("training_python"))
    first_preview = preview()
    ed.strips_all["look"].frame_offset_end = 2
    s.restyle_steps = 100000
    sent = []

    def stopper():
        t0 = time.time()
        while time.time() - t0 < 600:
            kids = children_running("restyle")
            if kids and os.path.isfile(stem + "_preview.run.png"):
                for pid in kids:
                    os.kill(pid, signal.SIGTERM)
                sent.extend(kids)
                return
            time.sleep(0.1)

    th = threading.Thread(target=stopper, daemon=True)
    th.start()
    res["stopped"] = call("stopped")
    th.join(5)
    res["sent"] = len(sent)
    res["after_stop"] = files()
    res["step_after_stop"] = checkpoint_step(stem + ".ckpt.pt", cfg.get("training_python"))
    res["preview_kept"] = preview() == first_preview
    ed.strips_all["look"].frame_offset_end = 0
    s.restyle_steps = 4
    res["resumed"] = call("resumed")
    s.restyle_steps = 2
    res["below"] = call("below")
    res["afresh"] = call("afresh", start_afresh=True)
    res["after_afresh"] = files()
    res["left_running"] = children_running("restyle")
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    from sequencer_check import run_json  # (this script's folder is on sys.path)

    run_json(main)
