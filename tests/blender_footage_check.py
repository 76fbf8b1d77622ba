# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_footage.py in a fresh bpy process (Blender 5.0).

Tracks carphone in a strip, saves the .blend, then relinks the strip to other files of the same
size and length: noise (another clip) and a re-encoded copy of carphone (the same shot, other
pixels). Render Performance, Preview Frame and Train Renderer must refuse both with one line
naming both files (adding nothing), and accept the re-encoded copy with the Accept Re-encoded
Footage option. Train Renderer over a checkpoint of other data is refused and Start Fresh
trains anew; an old Track renders with a warning.

argv: JSON {"clip", "out"}. Prints RESULT <json>.
"""

import json
import os
import sys

import bpy
import numpy as np


def _error(fn):
    """Run an operator that must fail: its one error line, or None when it did not fail."""
    try:
        r = fn()
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        return {"line": lines[-1], "lines": len(lines)}
    return {"line": None, "result": sorted(r)}


def main(cfg):
    from reenact import register
    from reenact.blender import blend
    from reenact.video import VideoWriter, open_video

    res = {"blender": bpy.app.version_string}
    with open_video(cfg["clip"]) as src:
        frames = [f for _, f in src.iter_frames()]
        rate, size = src.rate, src.size
    rng = np.random.default_rng(1)
    files = {"noise": os.path.join(cfg["out"], "noise.mp4"), "copy": os.path.join(cfg["out"], "carphone copy.mp4")}
    with VideoWriter(files["noise"], rate, size) as w:
        for f in frames:
            w.write(rng.integers(0, 256, f.shape, dtype=np.uint8))
    with VideoWriter(files["copy"], rate, size, crf=30) as w:
        for f in frames:
            w.write(f)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, cfg["clip"], channel=2, frame_start=1, name="carphone")
    scene.sequence_editor.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(cfg["out"], "footage check.blend"))
    scene = bpy.context.scene
    strip = scene.sequence_editor.strips_all["carphone"]
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob
    scene.frame_set(41)
    renders = os.path.join(cfg["out"], "reenact", "renders")

    def render(**kw):
        return bpy.ops.reenact.render_performance(use_range=True, frame_first=41, frame_last=42, region="mouth", **kw)

    for key in ("noise", "copy"):
        strip.filepath = files[key]  # relinked: same size, same length
        res[key] = {
            "length": int(strip.frame_duration),
            "render": _error(render),
            "preview": _error(lambda: bpy.ops.reenact.preview_frame(region="mouth")),
            "train": _error(lambda: bpy.ops.reenact.train_renderer(steps=1)),
            "strips": sorted(s.name for s in blend.all_strips(scene)),
            "renders_folder": os.path.isdir(renders),
        }
    # the re-encoded copy of the same shot, when asked
    res["copy_accepted"] = {"render": sorted(render(accept_footage=True)),
                            "preview": sorted(bpy.ops.reenact.preview_frame(region="mouth", accept_footage=True))}
    # back to the original: no option needed
    strip.filepath = cfg["clip"]
    res["original"] = {"render": sorted(render()), "preview": sorted(bpy.ops.reenact.preview_frame(region="mouth"))}
    # Train Renderer over a checkpoint of other data (another actor's of the same name): refused,
    # naming the operator's Start Fresh option, which then trains from step 0
    import torch

    from reenact.blender.operators.train import _models_dir

    ckpt = os.path.join(_models_dir(ob), bpy.path.clean_name(ob.name) + ".ckpt.pt")
    torch.save({"config": {}, "step": 5, "data": [{"track": "0" * 64, "footage": "1" * 64, "name": "other.mp4"}]},
               ckpt)
    res["train_other_checkpoint"] = _error(lambda: bpy.ops.reenact.train_renderer(steps=1))
    res["train_fresh"] = sorted(bpy.ops.reenact.train_renderer(steps=1, fresh=True))
    res["trained_on"] = [d["name"] for d in torch.load(ckpt, weights_only=True)["data"]]
    # an old Track file (no footage digest): size and length checked, the rest said
    from reenact.face.track import Track

    path = bpy.path.abspath(ob.reenact.track_path)
    old = Track.load(path)
    old.source_digest = ""
    old.save(path)
    sys.stdout.flush()
    res["old_track"] = {"render": sorted(render())}
    sys.stdout.flush()
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
