# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact demo``: the whole job on the embedded sample clip, headless.

Runs in the PyPI ``bpy`` module (installed by ``make env``). Writes ``out/demo.blend``: a
sequencer scene holding the sample talking-head clip, frame rate and resolution matched.
"""

import os
import time


def run_demo(out_dir="out"):
    from .cli import UserError
    from .sample import SampleMissing, sample_clip

    t0 = time.perf_counter()
    try:
        clip = sample_clip()
    except SampleMissing as exc:
        raise UserError(str(exc)) from exc
    try:
        import bpy  # noqa: F401  (the demo builds a .blend)
    except ImportError as exc:
        raise UserError("the demo needs Blender's Python module: pip install bpy==5.0.1 (or run `make demo`)") from exc
    from . import blend

    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "Reenact Demo"
    strip = blend.add_movie_strip(scene, clip, channel=1, frame_start=1, name="carphone")
    blend_path = blend.save_blend(os.path.join(out_dir, "demo.blend"))
    return {
        "blend": blend_path,
        "clip": clip,
        "strip": strip.name,
        "frames": strip.frame_final_duration,
        "fps": scene.render.fps / scene.render.fps_base,
        "resolution": [scene.render.resolution_x, scene.render.resolution_y],
        "seconds": round(time.perf_counter() - t0, 3),
    }
