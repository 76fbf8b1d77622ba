# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact demo``: the whole job on the embedded sample clip, headless.

Runs in the PyPI ``bpy`` module (installed by ``make env``), with the same operators an artist
clicks:

1. puts the sample talking-head clip in a new sequencer scene (frame rate and resolution
   matched) and tracks the actor (Track Actor: camera + actor mesh with keyframed expressions,
   head pose and gaze); the Track is also written as ``out/demo_track.npz``;
2. makes a visible edit: Transfer Performance, mode ``mouth``, the actor onto itself with an
   offset of :data:`OFFSET` frames over the second part of the clip (the mouth of one stretch of
   the performance on another, as visual dubbing does with a second take);
3. saves ``out/demo.blend`` and runs Render Performance (bundled base model, region mouth) over
   the edited range: the result is an image sequence in ``out/reenact/renders/`` and a new strip
   in the channel above the original, same start and length;
4. writes ``out/demo.mp4`` (every frame, from the render cache: nothing is rendered twice) and
   ``out/demo_side_by_side.png`` (original | result for the frames where the edit moved the
   mouth most).
"""

import os
import shutil
import time

from ..errors import ReenactError
from ..fsutil import write_atomic

#: the edit: clip frame t takes the mouth of clip frame t - OFFSET, for t in EDIT_RANGE (clip frames)
OFFSET = 40
EDIT_RANGE = (40, 120)


def run_demo(out_dir="out"):
    from ..sample import SampleMissing, sample_clip

    t0 = time.perf_counter()
    try:
        clip = sample_clip()
    except SampleMissing as exc:
        raise ReenactError(str(exc)) from exc
    try:
        import bpy  # noqa: F401  (the demo builds a .blend)
    except ImportError as exc:
        raise ReenactError("the demo needs Blender's Python module: pip install bpy==5.0.1 (or run `make demo`)") from exc
    from . import blend
    from ..video.probe import leaving_out
    from .actor import track_file as actor_track_file
    from .. import register, unregister

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
        with leaving_out("non_square"):  # (the note on the sample's 128:117 pixels is for a transfer between
            result = bpy.ops.reenact.track_strip()  # actors: the demo transfers the actor onto itself)
        if result != {"FINISHED"}:
            raise ReenactError("{}: tracking the sample clip failed".format(clip))
        actor = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
        track_out = os.path.join(out_dir, "demo_track.npz")
        with open(actor_track_file(actor), "rb") as src:
            write_atomic(track_out, lambda fh: shutil.copyfileobj(src, fh))
        actor.reenact.track_path = track_out
        bpy.context.view_layer.objects.active = actor
        # save first: renders go next to the .blend (//reenact/renders)
        blend_path = os.path.join(out_dir, "demo.blend")
        bpy.ops.wm.save_as_mainfile(filepath=blend_path)
        scene = bpy.context.scene
        strip = scene.sequence_editor.strips_all["carphone"]
        actor = bpy.data.objects[actor.name]
        bpy.context.view_layer.objects.active = actor
        n = strip.frame_final_duration
        a, b = EDIT_RANGE[0], min(EDIT_RANGE[1], n)
        f0 = int(strip.frame_start)
        result = bpy.ops.reenact.transfer_performance(source=actor.name, target=actor.name, mode="mouth",
                                                      offset=OFFSET, use_range=True,
                                                      frame_start=f0 + a, frame_end=f0 + b - 1)
        if result != {"FINISHED"}:
            raise ReenactError("the demo's mouth transfer failed")
        # the neural renderer and its cache (the actor re-timed onto itself: Mouth Auto would
        # draw these frames from the footage's own frames instead: docs/compositing.md)
        result = bpy.ops.reenact.render_performance(region="mouth", use_range=True, frame_first=f0 + a,
                                                    frame_last=f0 + b - 1, output="IMAGES", mouth="RENDERER")
        if result != {"FINISHED"}:
            raise ReenactError("the demo's render failed")
        new = [s for s in blend.all_strips(scene) if s.name.startswith(strip.name + " Reenact")][0]
        video = _write_outputs(actor, scene, clip, out_dir, (a, b))
        blend_path = blend.save_blend(blend_path)
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
            "edit": {"mode": "mouth", "offset": OFFSET, "clip_frames": [a, b]},
            "render_strip": {"name": new.name, "channel": new.channel, "start": new.frame_final_start,
                             "frames": new.frame_final_duration, "provider": new.get("reenact_provider"),
                             "rendered": new.get("reenact_rendered"), "cached": new.get("reenact_cached")},
            **video,
        }
    finally:
        if not registered:
            unregister()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def summary_text(summary):
    """The demo's few lines for a person (stderr; the JSON summary stays the last stdout line)."""
    def shown(path):
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path

    files = [summary[k] for k in ("blend", "video", "side_by_side", "track")]
    r = summary["render_strip"]
    a, b = summary["edit"]["clip_frames"]
    return ("reenact demo: wrote {} ({:.0f} s)\n  the sample clip tracked; on frames {}-{} the actor has the mouth "
            "of {} frames earlier, rendered as strip '{}' in channel {} above the clip\n  open {} in Blender 5.0 or "
            "4.5 (Video Sequencer); {} is the result as a movie".format(
                ", ".join(shown(f) for f in files), summary["seconds"], r["start"] + a, r["start"] + b - 1, OFFSET,
                r["name"], r["channel"], shown(files[0]), shown(files[1])))


def _write_outputs(actor, scene, clip, out_dir, rng):
    """``demo.mp4`` (the whole clip with the render, from the cache) and the side-by-side PNG."""
    import cv2
    import numpy as np

    from ..render.pipeline import render_clip
    from . import actor as actor_data
    from . import layers
    from ..video import open_video
    from ..video.encode import write_png

    base = actor_data.tracked_track(actor)
    perf = layers.curves_to_track(actor, scene, base)
    frames = {}
    movie = os.path.join(out_dir, "demo.mp4")
    summ = render_clip(perf, clip, actor_data.model_of(actor), out=movie, frames=rng, region="mouth", crop_track=base,
                       mouth_mode="renderer",  # as the strip: the renderer, from its cache
                       cache_dir=actor_data.cache_root(),
                       on_frame=lambda i, f: frames.__setitem__(i, f) if rng[0] <= i < rng[1] else None)
    # side by side where the edit moved the jaw most (at least 8 frames apart)
    k = [str(x) for x in perf.expression_names].index("jawOpen")
    d = np.abs(np.nan_to_num(perf.expression[:, k] - base.expression[:, k]))
    d[: rng[0] - perf.frame_start] = -1
    d[rng[1] - perf.frame_start:] = -1
    picks = []
    for r in np.argsort(-d):
        if d[r] < 0 or len(picks) == 4:
            break
        if all(abs(int(r) - p) >= 8 for p in picks):
            picks.append(int(r))
    picks = sorted(p + int(perf.frame_start) for p in picks)
    rows = []
    with open_video(clip) as src:
        for i in picks:
            o, res = src.read(i), frames[i]
            pair = [cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) for x in (o, res)]
            gap = np.full((pair[0].shape[0], 6, 3), 255, np.uint8)
            row = np.concatenate([pair[0], gap, pair[1]], 1)
            cv2.putText(row, "frame {}".format(i), (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
            rows.append(row)
            rows.append(np.full((6, row.shape[1], 3), 255, np.uint8))
    grid = np.concatenate(rows[:-1], 0)
    head = np.full((26, grid.shape[1], 3), 255, np.uint8)
    half = pair[0].shape[1]
    cv2.putText(head, "original", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(head, "Reenact: mouth from {} frames earlier".format(OFFSET), (half + 12, 18),
                cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    grid = np.concatenate([head, grid], 0)
    png = os.path.join(out_dir, "demo_side_by_side.png")
    write_png(png, grid)
    return {"video": movie, "side_by_side": png, "side_by_side_frames": picks,
            "video_frames": summ["frames"], "video_rendered": summ["rendered"], "video_cached": summ["cached"]}
