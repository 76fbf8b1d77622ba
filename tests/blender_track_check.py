# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_track.py in a fresh bpy process: put a clip in the sequencer (at a
non-trivial position, trimmed), run Track Actor, check the actor against its Track file, track
again (replaces cleanly), save, reload. Prints RESULT <json>."""

import json
import os
import sys

import bpy
import numpy as np


def keys_of(bag, path, index=0):
    fc = bag.fcurves.find(path, index=index)
    n = len(fc.keyframe_points)
    co = np.empty(2 * n, np.float32)
    fc.keyframe_points.foreach_get("co", co)
    return co[0::2], co[1::2]


class CheckingLayout:
    """Stands in for a panel's UILayout headless: records what is drawn and checks that every
    property and operator a panel names exists (a typo would only show in the UI otherwise)."""

    def __init__(self, log):
        self.log = log
        self.use_property_split = self.use_property_decorate = self.active = self.enabled = True
        self.alert = False
        self.scale_y = 1.0

    def _sub(self, *a, **k):
        return CheckingLayout(self.log)

    row = column = box = split = grid_flow = column_flow = _sub

    def label(self, text="", icon="NONE", **k):
        self.log.append(("label", text))

    def prop(self, data, name, **k):
        assert hasattr(data, name) or name in data.bl_rna.properties, "no property {}".format(name)
        self.log.append(("prop", name))

    def operator(self, idname, **k):
        cat, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, cat), name), "no operator " + idname
        self.log.append(("operator", idname))
        return type("OpProps", (), {})()

    def menu(self, idname, **k):
        self.log.append(("menu", idname))

    def separator(self, **k):
        pass

    def progress(self, **k):
        self.log.append(("progress", k.get("text")))

    def template_icon(self, **k):
        self.log.append(("icon", k.get("icon_value")))

    def template_list(self, *a, **k):
        self.log.append(("list", a[0] if a else ""))


def draw_panels():
    """Draw every Reenact panel with the checking layout; returns the operators they offer."""
    from reenact.blender import panels

    drawn = []
    for cls in panels.classes:
        if not issubclass(cls, bpy.types.Panel):
            continue
        log = []
        fake = type("P", (), {"layout": CheckingLayout(log)})()
        if hasattr(cls, "poll") and not cls.poll(bpy.context):
            continue
        cls.draw(fake, bpy.context)
        drawn += [x for x in log if x[0] == "operator"]
    return sorted({x[1] for x in drawn})


def main(clip, blend_path, seq_dir=None):
    from reenact.blender import blend
    from reenact import register
    from reenact.face.track import Track
    from reenact.blender.actor import track_pose_to_blender

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, clip, channel=2, frame_start=11)
    strip.frame_offset_start = 5  # trimmed: the first 5 clip frames are hidden
    scene.sequence_editor.active_strip = strip
    out = {}
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    actors = [o for o in bpy.data.objects if o.reenact.is_actor]
    assert len(actors) == 1, actors
    ob = actors[0]
    tr = Track.load(ob.reenact.track_path)
    out["track_frames"] = int(tr.n_frames)
    out["frame_start"] = int(tr.frame_start)
    out["tracked_fraction"] = float(tr.tracked.mean())
    names = [str(n) for n in tr.expression_names]
    kb = ob.data.shape_keys.key_blocks
    out["shape_keys"] = [k.name for k in kb][1:]
    assert out["shape_keys"] == names
    # shape keys are identity + basis (metres)
    co = np.empty(len(ob.data.vertices) * 3, np.float32)
    kb["jawOpen"].data.foreach_get("co", co)
    k = names.index("jawOpen")
    out["basis_err"] = float(np.abs(co.reshape(-1, 3) - (tr.identity + tr.expression_basis[k]) * 0.01).max())
    # keyframes match the Track exactly, at timeline frame = strip.frame_start + clip frame
    kbag = blend.channelbag(ob.data.shape_keys, ensure=False)
    frames_expected = (tr.frames()[tr.tracked] + strip.frame_start).astype(np.float32)
    worst = 0.0
    for i, n in enumerate(names):
        f, v = keys_of(kbag, 'key_blocks["{}"].value'.format(n))
        assert np.array_equal(f, frames_expected), n
        worst = max(worst, float(np.abs(v - tr.expression[tr.tracked, i].astype(np.float32)).max()))
    out["expr_key_err"] = worst
    bag = blend.channelbag(ob, ensure=False)
    loc, rot = track_pose_to_blender(tr.pose[tr.tracked])
    lerr = max(float(np.abs(keys_of(bag, "location", i)[1] - loc[:, i]).max()) for i in range(3))
    rerr = max(float(np.abs(keys_of(bag, "rotation_euler", i)[1] - rot[:, i]).max()) for i in range(3))
    out["pose_key_err"] = max(lerr, rerr)
    g = keys_of(bag, '["gaze_left_x"]')[1]
    out["gaze_key_err"] = float(np.abs(g - tr.gaze[tr.tracked, 0]).max())
    # evaluated: the mesh at a frame shows that frame's expression
    fr = int(frames_expected[len(frames_expected) // 2])
    scene.frame_set(fr)
    out["eval_jaw"] = float(kb["jawOpen"].value)
    out["track_jaw"] = float(tr.expression[fr - int(strip.frame_start) - tr.frame_start, k])
    cam = scene.objects[strip.name + " Camera"]
    bpy.context.view_layer.objects.active = [o for o in bpy.data.objects if o.reenact.is_actor][0]
    out["panel_operators"] = draw_panels()
    out["camera_lens"] = cam.data.lens
    out["focal_px"] = float(tr.focal_px)
    out["bg_source"] = cam.data.background_images[0].source
    # track again: replaced, nothing orphaned
    n_actions = len(bpy.data.actions)
    n_meshes = len(bpy.data.meshes)
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    out["actors_after_retrack"] = len([o for o in bpy.data.objects if o.reenact.is_actor])
    out["actions_stable"] = len(bpy.data.actions) == n_actions
    out["meshes_stable"] = len(bpy.data.meshes) == n_meshes
    # save, reload, intact
    bpy.ops.wm.save_as_mainfile(filepath=blend_path)
    bpy.ops.wm.open_mainfile(filepath=blend_path)
    ob = [o for o in bpy.data.objects if o.reenact.is_actor][0]
    kbag = blend.channelbag(ob.data.shape_keys, ensure=False)
    f, v = keys_of(kbag, 'key_blocks["jawOpen"].value')
    out["reload_keys"] = int(len(f))
    out["reload_shape_keys"] = len(ob.data.shape_keys.key_blocks) - 1
    if seq_dir:
        out["sequence"] = image_sequence_strip(seq_dir)
    print("RESULT " + json.dumps(out))


def image_sequence_strip(seq_dir):
    """An image-sequence strip tracks too, frames mapped through its position."""
    from reenact.blender import blend

    files = sorted(f for f in os.listdir(seq_dir) if f.endswith(".png"))
    scene = bpy.context.scene
    strip = blend.strips_of(scene).new_image(name="seq", filepath=os.path.join(seq_dir, files[0]), channel=5,
                                             frame_start=200)
    for f in files[1:]:
        strip.elements.append(f)
    scene.sequence_editor.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = [o for o in bpy.data.objects if o.reenact.is_actor and o.reenact.strip_name == "seq"][0]
    kbag = blend.channelbag(ob.data.shape_keys, ensure=False)
    f, v = keys_of(kbag, 'key_blocks["jawOpen"].value')
    cam = scene.objects["seq Camera"]
    return {"frames": [float(f[0]), float(f[-1])], "n": int(len(f)), "files": len(files),
            "bg_source": cam.data.background_images[0].source,
            "other_actors": len([o for o in bpy.data.objects if o.reenact.is_actor])}


if __name__ == "__main__":
    main(*sys.argv[1:])
