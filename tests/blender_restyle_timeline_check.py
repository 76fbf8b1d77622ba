# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_restyle_timeline.py in a fresh bpy process (Blender 5.0 or 4.5 LTS):
what restyling reads of the timeline, in a saved .blend.

- a reversed shot trimmed by 4 at its start: the clip frames Train Restyle reads and Restyle
  Strip restyles (Blender shows clip frames 0-11 of 16 there);
- strips inside a meta strip (moved in by Python, and by Ctrl+G, which leaves them selected):
  the references Train Restyle takes; a shot inside a meta trimmed at its start;
- two scenes whose strips share names (a Full Copy): the model each trains, and a checkpoint
  of the earlier naming adopted by each;
- refusals (a colour shot to colourise with a hand-picked image strip as reference; a 60 fps
  reference trimmed to 4 frames; a colouriser on a colour shot): one line, nothing on disk.

argv: JSON {"shot", "look", "grey", "fast", "images": [..], "model", "colouriser", "out"}.
Prints RESULT <json>.
"""

import json
import os

import bpy


def main(cfg):
    from blender_train_restyle_check import start_reenact  # this script's folder is on sys.path
    from reenact.blender import blend
    from reenact.blender.operators import restyle as R

    res = {"blender": bpy.app.version_string}
    start_reenact(cfg)
    scene = bpy.context.scene
    scene.name = "Edit"
    scene.sequence_editor_create()
    blend.add_movie_strip(scene, cfg["shot"], channel=1, frame_start=1, name="shot")
    blend.add_movie_strip(scene, cfg["look"], channel=2, frame_start=1, name="look", fit_scene=False)
    blend.add_movie_strip(scene, cfg["grey"], channel=3, frame_start=1, name="old_take", fit_scene=False)
    blend.add_movie_strip(scene, cfg["fast"], channel=4, frame_start=1, name="fast", fit_scene=False)
    img = scene.sequence_editor.strips.new_image(name="picked", filepath=cfg["images"][0], channel=5, frame_start=1)
    for f in cfg["images"][1:]:
        img.elements.append(os.path.basename(f))
    s = scene.reenact
    s.restyle_size, s.restyle_minutes, s.restyle_steps = 32, 0.0, 3
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "timeline.blend"))
    scene = bpy.context.scene
    ed, s = scene.sequence_editor, scene.reenact
    disk = os.path.join(cfg["out"], "reenact")

    def select(active, others):
        for st in ed.strips_all:
            st.select = st.name in others or st.name == active
        ed.active_strip = ed.strips_all[active] if active else None

    def refused(fn, **kw):
        try:
            out = {"result": sorted(fn(**kw))}
        except RuntimeError as exc:
            lines = str(exc).strip().splitlines()
            out = {"line": lines[-1], "lines": len(lines)}
        out["written"] = os.path.exists(disk)
        return out

    # refusals first, in a .blend with nothing written yet
    select("shot", ["look", "picked"])
    s.restyle_colourise = True  # (the shot is in colour)
    res["refused_links"] = refused(bpy.ops.reenact.train_restyle)
    s.restyle_colourise = False
    fast = ed.strips_all["fast"]
    fast.frame_offset_end = fast.frame_duration - 4  # 4 frames of a 60 fps clip: 2 at training's 30 fps
    select("shot", ["fast"])
    res["refused_fast"] = refused(bpy.ops.reenact.train_restyle)
    select("shot", [])
    res["refused_colouriser"] = refused(bpy.ops.reenact.restyle_strip, model=cfg["colouriser"])

    # a reversed shot trimmed by 4 at its start
    shot = ed.strips_all["shot"]
    shot.use_reverse_frames = True
    shot.frame_offset_start = 4
    select("shot", ["look"])
    res["reversed_spec"] = list(R.training_domains(scene)[1])[1:]
    select("shot", [])
    res["reversed_restyle"] = sorted(bpy.ops.reenact.restyle_strip(model=cfg["model"]))
    result = [st for st in ed.strips_all if st.name.startswith("shot Restyled")][0]
    res["reversed_result"] = {"reverse": result.use_reverse_frames, "start": int(result.frame_final_start),
                              "length": int(result.frame_final_duration),
                              "folder": bpy.path.abspath(result.directory),
                              "files": [e.filename for e in result.elements]}
    ed.strips.remove(result)
    shot.use_reverse_frames = False
    shot.frame_offset_start = 0

    # strips inside meta strips keep their selection unseen
    inner = ed.strips_all["old_take"]
    meta = ed.strips.new_meta(name="Edit meta", channel=6, frame_start=40)
    inner.move_to_meta(meta)
    inner.select = True
    select("shot", ["look", "old_take"])
    meta.select = False
    res["meta_refs"] = [r.name for r in R.training_domains(scene)[3]]
    for st in ed.strips_all:
        st.select = st.name == "fast"
    fast.frame_offset_end = 0
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        res["meta_make"] = sorted(bpy.ops.sequencer.meta_make())
    res["fast_selected_inside"] = ed.strips_all["fast"].select
    for st in ed.strips:
        st.select = st.name in ("shot", "look")
    ed.active_strip = ed.strips["shot"]
    res["meta_make_refs"] = [r.name for r in R.training_domains(scene)[3]]

    # a shot inside a meta strip whose own trim hides its first 6 frames
    for st in ed.strips:
        st.select = st.name == "shot"
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        bpy.ops.sequencer.meta_make()
    shot = ed.strips_all["shot"]
    shot.parent_meta().frame_offset_start = 6
    for st in ed.strips_all:
        st.select = st.name in ("look",)
    shot.select = True
    ed.active_strip = shot
    res["meta_trim_spec"] = list(R.training_domains(scene)[1])[1:]

    # a Full Copy of the scene: strips of the same names, each scene its own model
    with bpy.context.temp_override(scene=scene, sequencer_scene=scene):
        bpy.ops.scene.new(type="FULL_COPY")
    other = [sc for sc in bpy.data.scenes if sc != scene][0]
    res["scenes"] = [scene.name, other.name]
    paths = [R.model_path(sc.sequence_editor.strips_all["shot"], "restyle", [sc.sequence_editor.strips_all["look"]])
             for sc in (scene, other)]
    res["model_paths"] = paths
    legacy = R.legacy_checkpoints(paths[0], ed.strips_all["shot"], "restyle", [ed.strips_all["look"]])
    res["legacy"] = legacy
    os.makedirs(os.path.dirname(legacy[0]), exist_ok=True)
    with open(legacy[0], "wb") as fh:
        fh.write(b"an earlier checkpoint")
    res["adopted"] = [R.resume_candidates(p, sc.sequence_editor.strips_all["shot"], "restyle",
                                          [sc.sequence_editor.strips_all["look"]]) for sc, p in zip((scene, other), paths)]
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    from sequencer_check import run_json  # (this script's folder is on sys.path)

    run_json(main)
