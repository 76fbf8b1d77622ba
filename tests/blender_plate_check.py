# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_bitdepth.py in a fresh bpy process (5.0, and 4.5 LTS where given): an OpenEXR
plate as an image strip, a render of it (OpenEXR frames, the very plate's pixels) added as a
render adds one, and a Preview Frame strip (an 8-bit PNG of the picture Reenact reads). The
sequencer's render must be the same with either shown as with the plate alone: the result strip
read in the plate's colourspace, the PNG as sRGB (in the plate's linear space it would be washed
out: the check measures that too). Prints RESULT <json>."""

import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, image_strip, render, run


def main(plate, result, png, work):
    from reenact.blender import shots

    scene = empty_scene(176, 144)
    shot = image_strip(scene, plate)
    out = {"plate_space": shot.colorspace_settings.name}
    from reenact.blender import actor as actor_data
    from reenact.video import open_video

    with open_video(actor_data.strip_source(shot)) as src:  # what Track Actor and Render Performance open
        out["strip_depth"], out["strip_frames"] = src.depth, len(src)
    res = shots.add_result_strip(scene, shot, result, len(shot.elements), "plate Reenact Face")
    out["result_space"] = res.colorspace_settings.name
    out["result_files"] = res.elements[0].filename
    f = 11
    res.mute = True
    a = render(scene, f, os.path.join(work, "plate.png"))
    res.mute = False
    b = render(scene, f, os.path.join(work, "result.png"))
    out["result_vs_plate"] = float(np.abs(a - b).mean())
    res.mute = True
    pv = shots.preview_strip(scene, shot, png, f)
    out["preview_space"] = pv.colorspace_settings.name
    c = render(scene, f, os.path.join(work, "preview.png"))
    out["preview_vs_plate"] = float(np.abs(a - c).mean())
    pv.colorspace_settings.name = shot.colorspace_settings.name  # what copying the plate's space gives
    d = render(scene, f, os.path.join(work, "preview_linear.png"))
    out["preview_in_plate_space_vs_plate"] = float(np.abs(a - d).mean())
    out["plate_mean"] = float(a.mean())
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # the bpy 4.5 module hangs at exit after sequencer renders


if __name__ == "__main__":
    run(main, 4)
