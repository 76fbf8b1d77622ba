# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact demo``: the whole job on the embedded sample clip, headless.

Runs in the PyPI ``bpy`` module (installed by ``make env``). Today it: puts the sample
talking-head clip in a new sequencer scene (frame rate and resolution matched), tracks the actor
with the Track Actor operator (camera + actor mesh with keyframed expressions, head pose and
gaze) and saves ``out/demo.blend``, plus the Track as ``out/demo_track.npz``.
"""

import os
import shutil
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
    from . import blend, register, unregister

    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    registered = hasattr(bpy.types.Scene, "reenact")
    if not registered:
        register()
    try:
        scene = bpy.context.scene
        scene.name = "Reenact Demo"
        strip = blend.add_movie_strip(scene, clip, channel=1, frame_start=1, name="carphone")
        scene.sequence_editor.active_strip = strip
        result = bpy.ops.reenact.track_strip()
        if result != {"FINISHED"}:
            raise UserError("{}: tracking the sample clip failed".format(clip))
        actor = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
        track_out = os.path.join(out_dir, "demo_track.npz")
        shutil.copyfile(actor.reenact.track_path, track_out + ".tmp.npz")
        os.replace(track_out + ".tmp.npz", track_out)
        actor.reenact.track_path = track_out
        blend_path = blend.save_blend(os.path.join(out_dir, "demo.blend"))
        summary = {
            "blend": blend_path,
            "track": track_out,
            "clip": clip,
            "strip": strip.name,
            "frames": strip.frame_final_duration,
            "fps": scene.render.fps / scene.render.fps_base,
            "resolution": [scene.render.resolution_x, scene.render.resolution_y],
            "actor": actor.name,
            "shape_keys": len(actor.data.shape_keys.key_blocks) - 1,
            "tracked_fraction": round(actor.reenact.tracked_fraction, 4),
        }
    finally:
        if not registered:
            unregister()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary
