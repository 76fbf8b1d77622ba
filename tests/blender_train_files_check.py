# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_train.py (Blender 5.0 and 4.5): where Train Renderer keeps each
actor's files, with a stand-in trainer (it writes the files a run writes and says DONE, at once).

In an unsaved file, actor A ("shot 1 Actor 0") trains, another stops after a step; the first save
moves the renderer (and the stopped run's checkpoint) into //reenact/models/<.blend name>/, A's
Renderer relative, and the stopped one resumes there. Then actors "pair 1 Actor 0" and "pair_1
Actor 0" (one cleaned name), and a copy of the first made after it trained (a duplicate: its
Renderer and files) train each their own files; the sidebar shows each actor its own preview; one renamed
while it trains gets its model, one removed says so.

argv: the clip, the work folder. Prints RESULT <json>.
"""

import json
import os
import shutil
import sys

import bpy
from sequencer_check import run

RUNS = []  # what each stand-in run was told, and what happened while it "trained"


class FakeProcess:
    """:class:`reenact.jobs.TrainingProcess` as the operator reads it; ``MODE``: 'done' (the model
    and its files), 'stop' (Esc after a step: the checkpoint only); ``DURING``: what the artist does
    while it trains."""

    MODE = "done"
    DURING = None

    def __init__(self, python, args, extra_paths=(), module=None):
        self.args = list(args)
        self.step, self.total, self.loss, self.resumed_from = 0, 0, 0.5, 0
        self.preview, self.done_path, self.error, self.cancelled = None, None, None, False
        self.warnings, self.running = [], False

    def start(self):
        a = self.args
        out, preview = a[a.index("--out") + 1], a[a.index("--preview") + 1]
        stem = out[:-len(".onnx")]
        n = len(RUNS) + 1
        RUNS.append({"out": out, "fresh": "--no-resume" in a, "steps": int(a[a.index("--steps") + 1]),
                     "holdout": a[a.index("--holdout") + 1] if "--holdout" in a else None})
        with open(stem + ".ckpt.pt", "w") as fh:
            fh.write("run {}".format(n))
        self.step = self.total = RUNS[-1]["steps"]
        if self.MODE == "stop":
            self.cancelled = True
            return self
        for f in (out, stem + ".fp16.onnx", stem + ".pt"):
            with open(f, "w") as fh:
                fh.write("run {}".format(n))
        shutil.copyfile(PNG, preview)
        self.preview, self.done_path = preview, out
        return self

    def status(self):
        return self.step, self.total, self.loss, self.preview, 1

    def seconds_left(self):
        return None

    def wait(self, timeout=None):
        if FakeProcess.DURING is not None:
            FakeProcess.DURING()
            FakeProcess.DURING = None


def _png(path):
    img = bpy.data.images.new("png", 4, 4)
    img.filepath_raw, img.file_format = path, "PNG"
    img.save()
    bpy.data.images.remove(img)
    return path


class Layout:  # what a panel draws: operators, properties, icons
    def __init__(self, drawn):
        self.drawn = drawn

    def __getattr__(self, name):  # row, column, box...: the same recorder
        return lambda *a, **k: self

    def operator(self, idname, text="", **k):
        self.drawn.append("op: {} {}".format(idname, text).strip())
        drawn = self.drawn

        class Props:
            def __setattr__(self, key, value):
                drawn.append("  {} = {!r}".format(key, value))
        return Props()

    def prop(self, owner, name, **k):
        self.drawn.append("prop: " + name)

    def template_icon(self, **k):
        self.drawn.append("icon")


def drawn(panel):
    out = []
    panel.draw(type("P", (), {"layout": Layout(out)})(), bpy.context)
    return out


def main(clip, work):
    global PNG
    import reenact.jobs as jobs
    from reenact import register
    from reenact.blender import blend, panels

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    PNG = _png(os.path.join(work, "preview.png"))
    jobs.TrainingProcess = FakeProcess
    jobs.find_training_python = lambda *a, **k: sys.executable
    sc = bpy.context.scene
    st = blend.add_movie_strip(sc, clip, channel=1, frame_start=1, name="shot 1")
    sc.sequence_editor.active_strip = st
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    a = [o for o in bpy.data.objects if o.reenact.is_actor][0]
    layer = bpy.context.view_layer

    def copy(ob, name):
        c = ob.copy()
        c.name = name
        for coll in ob.users_collection:
            coll.objects.link(c)
        return c

    def train(ob, **kw):
        layer.objects.active = ob
        try:
            return sorted(bpy.ops.reenact.train_renderer(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    def model(ob):
        return bpy.path.abspath(ob.reenact.model_path)

    def text(path):
        with open(path) as fh:
            return fh.read()

    res = {"version": list(bpy.app.version), "name_a": a.name}

    def bare(ob, name):  # another actor of the strip: never trained
        c = copy(ob, name)
        c.pop("reenact_model_stem", None)
        c.reenact.model_path = ""
        return c

    # an unsaved file: A trained, another stopped after a step (its checkpoint only)
    res["train_a"] = train(a, steps=1)
    e = bare(a, "Stopped")
    FakeProcess.MODE = "stop"
    res["train_stopped"] = train(e, steps=1)
    FakeProcess.MODE = "done"
    res["stopped_ckpt"] = RUNS[-1]["out"][:-len(".onnx")] + ".ckpt.pt"
    res["unsaved"] = model(a)
    # the first save: the renderers move into the project, the Renderers relative
    blend_path = os.path.join(work, "project", "shot.blend")
    os.makedirs(os.path.dirname(blend_path))
    bpy.ops.wm.save_as_mainfile(filepath=blend_path)
    res["saved"] = a.reenact.model_path
    folder = os.path.join(work, "project", "reenact", "models", "shot")
    res["saved_files"] = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    res["old_left"] = sorted(p for p in (res["unsaved"], res["stopped_ckpt"]) if os.path.exists(p))
    res["stopped_resumes"] = [train(e, steps=2), RUNS[-1]["out"]]
    # saved: two actors whose names clean as one ("pair 1 Actor 0" / "pair_1 Actor 0") train; the
    # second fresh
    p, b = bare(a, "pair 1 Actor 0"), bare(a, "pair_1 Actor 0")
    res["train_pair"] = [train(p, steps=1), train(b, steps=1, fresh=True)]
    res["models"] = {o.name: model(o) for o in (p, b)}
    res["p_model_is_p"] = text(model(p))  # (before: B's run wrote over it)
    # a duplicate of P (Shift+D: P's Renderer, its claim on P's files) trains files of its own
    c = copy(p, "Duplicate")
    res["c_before"] = model(c) == model(p)
    u = bare(a, "Untrained")
    res["panel"] = {}  # the sidebar: each actor its own preview; one never trained, none
    from reenact.blender.panels import actors as panel
    for ob in (p, b, c, u):
        layer.objects.active = ob
        img = panel.training_preview(ob) if hasattr(panel, "training_preview") else None
        res["panel"][ob.name] = [[d for d in drawn(panel.SEQUENCER_PT_reenact_renderer) if d == "icon"],
                                 os.path.basename(img.filepath) if img is not None else None]
    bpy.data.objects.remove(u)
    p_run = text(model(p))
    res["train_c"] = train(c, steps=1, fresh=True)
    res["c_model"] = model(c)
    res["p_after_c"] = text(model(p)) == p_run
    p_out = model(p)
    copy(p, "Copy two")  # (a copy of P not trained yet: P's claim and Renderer)
    res["p_again"] = [train(p, steps=2), RUNS[-1]["out"] == p_out, RUNS[-1]["fresh"]]  # (P keeps its files)
    # the Training options of the sidebar (the scene's), and its Start Fresh button
    training = getattr(panels.actors, "SEQUENCER_PT_reenact_training", None)
    layer.objects.active = a
    res["training_panel"] = drawn(training) if training is not None else None
    if hasattr(sc.reenact, "train_steps"):
        sc.reenact.train_steps = 7
    res["scene_steps"] = [train(a), RUNS[-1]["steps"], RUNS[-1]["fresh"]]
    res["holdouts"] = sorted({str(r["holdout"]) for r in RUNS})  # (every tracked frame trained on)
    # renamed while it trains: the model is the renamed actor's
    FakeProcess.DURING = lambda: setattr(b, "name", "Tom")
    b.reenact.model_path = ""
    res["train_renamed"] = train(b, steps=1)
    res["renamed"] = [b.name, model(b)]
    # removed while it trains: said, and where the model is
    d = bare(a, "Gone")

    def remove():
        bpy.data.objects.remove(d)

    FakeProcess.DURING = remove
    layer.objects.active = d
    try:
        res["train_removed"] = sorted(bpy.ops.reenact.train_renderer(steps=1))
    except RuntimeError as exc:
        res["train_removed"] = str(exc)
    print("RESULT " + json.dumps(res), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
