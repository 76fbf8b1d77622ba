# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): Blender 5.0's
sequencer shows a scene of its own (the workspace's Sequencer Scene), here "Edit", while the
window shows another, "Layout". Reenact's operators work on the sequencer's: Track Actor tracks
Edit's active strip and makes its actor there, Preview Frame previews it there, and the window's
scene is left alone. In both versions an actor's curves read in a scene the window does not show
(a farm task of a file saved showing another scene) are its curves. Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import empty_scene, image_strip, run


def main(frames, work):
    from reenact.blender import blend

    from reenact.blender import actor as actor_data
    from reenact.blender.layers import curves_to_track

    layout = empty_scene(176, 144)
    layout.name = "Layout"
    edit = bpy.data.scenes.new("Edit")
    edit.render.resolution_x, edit.render.resolution_y = 176, 144
    shot = image_strip(edit, frames, name="shot")
    edit.sequence_editor.active_strip = shot
    five = hasattr(bpy.context.window.workspace, "sequencer_scene")
    if five:
        bpy.context.window.workspace.sequencer_scene = edit
    else:  # 4.5: the sequencer shows the window's scene; tracked there, then the window shows Layout
        bpy.context.window.scene = edit
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "scenes.blend"))
    out = {"sequencer_scene": blend.edit_scene(bpy.context).name}
    try:
        out["track"] = sorted(bpy.ops.reenact.track_strip())
    except RuntimeError as exc:
        out["track"] = str(exc).strip().splitlines()[-1]
    edit, layout = bpy.data.scenes["Edit"], bpy.data.scenes["Layout"]
    if not five:
        bpy.context.window.scene = layout
    out["window_scene"] = bpy.context.scene.name
    # the actor's curves read in its own scene, which the window does not show: the track itself
    ob = [o for o in edit.objects if o.type == "MESH" and o.reenact.is_actor][0]
    tracked = actor_data.tracked_track(ob)
    perf = curves_to_track(ob, edit, tracked)
    bg = ob.parent.data.background_images[0].image_user
    out["background"] = [bg.frame_start, bg.frame_offset, bg.frame_duration]
    out["curves_vs_track"] = float(abs(perf.expression - tracked.expression).max())
    out["jaw_range"] = float(tracked.expression.max() - tracked.expression.min())
    if not five:
        bpy.context.window.scene = edit  # (4.5's operators work on the window's scene)
    out["actors"] = {sc.name: sorted(o.name for o in sc.objects if o.type == "MESH" and o.reenact.is_actor)
                     for sc in bpy.data.scenes}
    edit.frame_set(5)
    try:
        out["preview"] = sorted(bpy.ops.reenact.preview_frame(region="mouth"))
    except RuntimeError as exc:
        out["preview"] = str(exc).strip().splitlines()[-1]
    # a mouth render, then a face render kept beside it for comparison: a frame folder each
    for region in ("mouth", "face"):
        try:
            out["render_" + region] = sorted(bpy.ops.reenact.render_performance(
                region=region, use_range=True, frame_first=3, frame_last=5))
        except RuntimeError as exc:
            out["render_" + region] = str(exc).strip().splitlines()[-1]
    face = edit.sequence_editor.strips_all.get("shot Reenact Face")
    out["face_note"] = face.get("reenact_look_note", "") if face is not None else None
    renders = os.path.join(work, "reenact", "renders", "scenes")  # (scenes.blend's own renders)
    out["folders"] = {d: len(os.listdir(os.path.join(renders, d))) for d in sorted(os.listdir(renders))
                      if d.startswith("shot")}
    out["strips"] = {sc.name: sorted(s.name for s in blend.all_strips(sc)) for sc in bpy.data.scenes}
    if five:  # the editor moves the shot in the sequencer's scene: the actor's curves follow
        shot = edit.sequence_editor.strips_all["shot"]
        shot.frame_start += 10
        bpy.context.view_layer.update()
        out["followed"] = [int(shot.frame_start), int(ob.reenact.frame_offset)]
        bg = ob.parent.data.background_images[0].image_user
        out["background_followed"] = [bg.frame_start, bg.frame_offset]
    if five:  # Transfer Performance's actor list: the sequencer's scene's actors (the window shows Layout)
        from reenact.blender.operators.transfer import _actor_items
        out["transfer_actors"] = [it[0] for it in _actor_items(None, bpy.context)]

        class Layout:  # what a panel draws: the operators' names and the labels
            def __init__(self, drawn):
                self.drawn = drawn

            def __getattr__(self, name):  # row, column, box, split...: the same recorder
                return lambda *a, **k: self

            def operator(self, idname, **k):
                self.drawn.append(idname)
                return self

            def label(self, text="", **k):
                self.drawn.append("label: " + text)

        from reenact.blender.panels.actors import SEQUENCER_PT_reenact_renderer

        drawn = []
        SEQUENCER_PT_reenact_renderer.draw(type("P", (), {"layout": Layout(drawn)})(), bpy.context)
        out["renderer_panel"] = [d for d in drawn if d.startswith(("reenact.", "label: Make"))]
        out["make_active"] = sorted(bpy.ops.reenact.make_actor_active(actor="shot Actor 0"))
    if five:  # View Actor Camera: the window shows the actor's scene (its 3D view, its curves)
        bpy.context.view_layer.update()
        out["view_camera"] = sorted(bpy.ops.reenact.view_actor_camera())
        out["window_after_camera"] = bpy.context.window.scene.name
        out["sequencer_after_camera"] = bpy.context.sequencer_scene.name
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
