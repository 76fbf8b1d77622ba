# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_other_sessions.py in a fresh bpy process: what one Blender session's
cleanup leaves of another session's files (or of a job still running). argv: the part, then a
JSON object of its inputs. Prints RESULT <json>.

- ``restyle``: Train Restyle refused (Colourise on a colour shot, with a hand-picked image strip
  as reference, linked into ``//reenact/restyle_frames``) while another session links its own
  reference images there: this call's links go, the other session's stay.
- ``preview``: Preview Frame claims the image it writes; its pruning of the preview folder
  leaves the previews another live session claimed and any written in the last minutes, and
  removes the others beyond the newest with their claims.
- ``train``: an unsaved file saved while Train Renderer runs (a stand-in trainer that writes its
  checkpoint, preview and model as the real one does, the user saving between its steps): the
  run's files stay where it writes them, said; a second run before the next save trains on
  there; the next save moves them all into the project, once.
"""

import json
import os
import shutil

import bpy
from sequencer_check import empty_scene, run


def restyle(cfg):
    from reenact.blender import blend
    from reenact.restyle import data

    scene = empty_scene(48, 48)
    strips = blend.strips_of(scene)
    shot = strips.new_movie(name="shot", filepath=cfg["shot"], channel=1, frame_start=1)
    img = strips.new_image(name="picked", filepath=cfg["images"][0], channel=2, frame_start=1)
    for f in cfg["images"][1:]:
        img.elements.append(os.path.basename(f))
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps, s.restyle_colourise = 32, 0.0, 3, True
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["work"], "a.blend"))
    scene = bpy.context.scene
    ed = scene.sequence_editor
    for st in ed.strips_all:
        st.select = True
    ed.active_strip = ed.strips_all[shot.name]
    frames = os.path.join(cfg["work"], "reenact", "restyle_frames")
    other = os.path.join(frames, "seq_" + "0" * 16)  # (another session's trainer reads it)
    real = data.check_domains
    out = {}

    def meanwhile(*a, **k):  # (the checks take seconds: a torch import; another session links meanwhile)
        out["own_linked"] = sorted(os.listdir(frames))
        os.makedirs(other)
        shutil.copyfile(cfg["images"][0], os.path.join(other, "frame_000000.png"))
        return real(*a, **k)

    data.check_domains = meanwhile
    try:
        out["result"] = sorted(bpy.ops.reenact.train_restyle())
    except RuntimeError as exc:
        out["line"] = str(exc).strip().splitlines()[-1]
    finally:
        data.check_domains = real
    out["left"] = sorted(os.listdir(frames)) if os.path.isdir(frames) else None
    out["other_frames"] = sorted(os.listdir(other)) if os.path.isdir(other) else None
    return out


def preview(cfg):
    import socket
    import subprocess
    import sys
    import time

    from reenact.blender import blend, takes
    from sequencer_check import track_and_save

    takes.KEEP_WRITTEN = True  # (as in a Blender with a window: its previews may be shown unsaved)
    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 30
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=cfg["clip"], channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(cfg["work"], "p.blend"))
    scene.frame_set(3)
    out = {"first": sorted(bpy.ops.reenact.preview_frame(region="mouth"))}
    pv = next(s for s in blend.all_strips(scene) if blend.is_preview(s))
    folder, mine = bpy.path.abspath(pv.directory), pv.elements[0].filename
    claim = os.path.join(folder, takes.CLAIMS, mine)
    out["claim"] = open(claim).read().split("\n")[:2] if os.path.isfile(claim) else None
    out["me"] = [socket.gethostname(), str(os.getpid())]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # (a session that has ended)
    gone.wait()
    now = time.time()

    def write(name, age, pid=None):
        path = os.path.join(folder, name)
        shutil.copyfile(os.path.join(folder, mine), path)
        os.utime(path, (now - age, now - age))
        if pid:
            os.makedirs(os.path.join(folder, takes.CLAIMS), exist_ok=True)
            with open(os.path.join(folder, takes.CLAIMS, name), "w") as fh:
                fh.write("{}\n{}\n{:.0f}\n".format(socket.gethostname(), pid, now - age))

    for k in range(16):  # (the newest: kept whoever's they are)
        write("preview_new{:02d}.png".format(k), 10)
    write("preview_recent.png", 120)  # another session's, written two minutes ago (no claim: an earlier Reenact)
    write("preview_claimed.png", 7200, os.getppid())  # another live session's, its strip shows it (the test's process)
    write("preview_gone.png", 7200, gone.pid)  # of a session that has ended
    write("preview_old.png", 7200)  # no one's
    scene.frame_set(5)
    out["second"] = sorted(bpy.ops.reenact.preview_frame(region="mouth"))
    out["newest"] = next(s for s in blend.all_strips(scene) if blend.is_preview(s)).elements[0].filename
    out["mine"] = mine
    out["left"] = sorted(n for n in os.listdir(folder) if n.startswith("preview_") and "_new" not in n)
    out["claims_left"] = sorted(n for n in os.listdir(os.path.join(folder, takes.CLAIMS)) if "_new" not in n)
    return out


def model_files(work):
    """The files under ``work``'s //reenact/models, relative to it, sorted."""
    root = os.path.join(work, "reenact", "models")
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names)


def run_with(trainer):
    """The trainings started from now on run ``trainer`` (a :func:`stand_in`) with this Python."""
    import sys

    from reenact import jobs

    jobs.TrainingProcess, jobs.find_training_python = trainer, lambda preferred="": sys.executable


def stand_in(out):
    """A trainer process that runs nothing: it records the folder of each run's ``--out`` in
    ``out["runs"]``; its ``wait`` (each part's own) writes what the real one writes."""
    from reenact import jobs

    class StandIn(jobs.TrainingProcess):
        def start(self):
            out["runs"].append(os.path.dirname(self.args[self.args.index("--out") + 1]))
            return self

        @property
        def running(self):
            return False

        def paths(self):
            return tuple(self.args[self.args.index(k) + 1] for k in ("--out", "--preview"))

    return StandIn


def train(cfg):
    import numpy as np

    from reenact.blender import blend, saving
    from reenact.video.encode import write_png

    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=cfg["clip"], channel=1, frame_start=1)
    scene.sequence_editor.active_strip = shot
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    bpy.context.view_layer.objects.active = ob
    out = {"runs": []}

    class Trainer(stand_in(out)):  # (writes what the trainer writes, where it is told to)
        def wait(self, timeout=None):
            target, preview = self.paths()
            run = len(out["runs"])

            def step(what):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(os.path.splitext(target)[0] + ".ckpt.pt", "w") as fh:
                    fh.write("run {} {}".format(run, what))
                write_png(preview, np.full((8, 8, 3), 40 * run, np.uint8))

            step("early")
            if run == 1:  # the user saves the new file while it trains
                bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["work"], "a.blend"))
                out["notes"] = list(saving.NOTES)
            step("done")
            with open(target, "w") as fh:
                fh.write("model of run {}".format(run))
            self.step, self.total, self.loss, self.done_path, self.preview = 20, 20, 0.1, target, preview
            return True

    def project():
        return model_files(cfg["work"])

    run_with(Trainer)
    out["first"] = sorted(bpy.ops.reenact.train_renderer(steps=20))
    out["after_run"] = {"model": ob.reenact.model_path, "project": project(),
                        "old": sorted(os.listdir(out["runs"][0])) if os.path.isdir(out["runs"][0]) else None}
    out["second"] = sorted(bpy.ops.reenact.train_renderer(steps=40))  # (again, before the next save)
    bpy.ops.wm.save_mainfile()
    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)
    root = os.path.join(cfg["work"], "reenact", "models")
    ckpt = [os.path.join(root, p) for p in project() if p.endswith(".ckpt.pt")]
    out["after_save"] = {"model": ob.reenact.model_path, "project": project(), "old": os.path.isdir(out["runs"][0]),
                         "ckpt": open(ckpt[0]).read() if len(ckpt) == 1 else None, "notes": list(saving.NOTES)}
    return out


def restyle_train(cfg):
    """An unsaved file saved while Train Restyle runs: the folder it writes stays the run's, said;
    the first save after the run moves the model into the project."""
    import numpy as np

    from reenact.blender import blend, saving
    from reenact.video.encode import write_png

    scene = empty_scene(48, 48)
    strips = blend.strips_of(scene)
    shot = strips.new_movie(name="shot", filepath=cfg["shot"], channel=1, frame_start=1)
    look = strips.new_movie(name="look", filepath=cfg["look"], channel=2, frame_start=1)
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps, s.restyle_colourise = 32, 0.0, 3, False
    for st in (shot, look):
        st.select = True
    scene.sequence_editor.active_strip = shot
    out = {"runs": []}

    class Trainer(stand_in(out)):  # (writes what the trainer writes, where it is told to)
        def wait(self, timeout=None):
            target, preview = self.paths()
            with open(os.path.splitext(target)[0] + ".ckpt.pt", "w") as fh:
                fh.write("early")
            write_png(preview, np.full((8, 8, 3), 40, np.uint8))
            bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["work"], "a.blend"))  # (the user saves meanwhile)
            out["notes"] = list(saving.NOTES)
            out["old_after_save"] = sorted(os.listdir(out["runs"][0])) if os.path.isdir(out["runs"][0]) else None
            os.makedirs(os.path.dirname(target), exist_ok=True)  # (as the real trainer's write would need)
            with open(os.path.splitext(target)[0] + ".ckpt.pt", "w") as fh:
                fh.write("done")
            with open(target, "w") as fh:
                fh.write("model")
            self.step, self.total, self.loss, self.done_path, self.preview = 3, 3, 0.1, target, preview
            return True

    def project():
        return model_files(cfg["work"])

    run_with(Trainer)
    out["result"] = sorted(bpy.ops.reenact.train_restyle())
    out["model_after_run"] = bpy.context.scene.reenact.restyle_model
    bpy.ops.wm.save_mainfile()
    out["after_save"] = {"model": bpy.context.scene.reenact.restyle_model, "project": project(),
                         "old": sorted(os.listdir(out["runs"][0])) if os.path.isdir(out["runs"][0]) else None}
    return out


def main(part, cfg):
    out = {"restyle": restyle, "preview": preview, "train": train, "restyle_train": restyle_train}[part](json.loads(cfg))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)  # (Blender 5.0 only: it exits, its temporary folder removed)


if __name__ == "__main__":
    run(main, 2)
