# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_other_sessions.py in a fresh bpy process: what one Blender session's
cleanup leaves of another session's files (or of a job still running). argv: the part, then a
JSON object of its inputs. Prints RESULT <json>.

- ``restyle``: Train Restyle refused (Colourise on a colour shot, with a hand-picked image strip
  as reference, linked into ``//reenact/restyle_frames``) while another session links its own
  reference images there: this call's links go, the other session's stay.
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


def main(part, cfg):
    out = {"restyle": restyle}[part](json.loads(cfg))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
