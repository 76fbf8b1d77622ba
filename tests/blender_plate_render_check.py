# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_bitdepth.py in a fresh bpy process (Blender 5.0, and 4.5 LTS): an image sequence (an
OpenEXR plate numbered from 1001, 8-bit PNGs, or 8-bit PNGs with alpha: a keyed plate) as an image strip, tracked with Track Actor,
edited (brows raised on timeline frames 5-12) and rendered with Render Performance (region Face,
Output Image Sequence). Prints the result strip's frames and colourspace, and which frames of
its folder are the footage's bit for bit. Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, image_strip, run, track_and_save


def main(plate, work):
    from reenact.blender import blend
    from reenact.video import open_video

    scene = empty_scene(176, 144)
    scene, shot, ob = track_and_save(scene, image_strip(scene, plate), os.path.join(work, "plate.blend"))
    kb = ob.data.shape_keys.key_blocks["browInnerUp"]
    for f in range(5, 13):  # an animator's edit
        kb.value = 0.9
        kb.keyframe_insert("value", frame=f)
    scene.frame_set(8)
    assert bpy.ops.reenact.preview_frame(region="face") == {"FINISHED"}
    previews = [s for s in blend.all_strips(scene) if blend.is_preview(s)]
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=5, frame_last=12, region="face",
                                              output="IMAGES") == {"FINISHED"}
    res = [s for s in blend.all_strips(scene) if s.name.startswith("plate Reenact")][0]
    folder = bpy.path.abspath(res.directory)
    out = {"elements": [e.filename for e in res.elements][:2], "n_elements": len(res.elements),
           "space": res.colorspace_settings.name, "plate_space": shot.colorspace_settings.name,
           "channel": res.channel, "start": int(res.frame_final_start), "previews": len(previews)}
    same, changed, alpha = [], [], []
    with open_video(plate) as p, open_video(folder) as o:
        for i in range(len(p)):
            a, b = p.read_native(i), o.read_native(i)
            (same if np.array_equal(a, b) else changed).append(i)
            alpha.append(a.shape[2] == 4 and b.shape == a.shape and np.array_equal(a[..., 3], b[..., 3]))
    out["same"], out["changed"], out["alpha_kept"] = same, changed, all(alpha)
    # the project copied whole to another place (a colleague, the farm): the results come along
    out["directory"] = res.directory
    bpy.ops.wm.save_mainfile()
    import shutil

    moved = os.path.join(os.path.dirname(work), os.path.basename(work) + " moved")
    shutil.copytree(work, moved)
    shutil.rmtree(os.path.join(work, "reenact"))  # nothing left where it was
    name = res.name  # (the strip's Python object is gone once another file is opened)
    bpy.ops.wm.open_mainfile(filepath=os.path.join(moved, "plate.blend"))
    res = bpy.context.scene.sequence_editor.strips_all[name]
    first = os.path.join(bpy.path.abspath(res.directory), res.elements[0].filename)
    out["moved_found"] = os.path.isfile(first) and os.path.abspath(first).startswith(os.path.abspath(moved))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
