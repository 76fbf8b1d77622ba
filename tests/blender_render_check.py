# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_render.py in a fresh bpy process (Blender 5.0).

Tracks carphone in a strip that starts at timeline frame 5, saves the .blend, then: Render
Performance over a short range (image sequence), the new strip's place and length, frame-exact
against a direct pipeline render, a second render from the cache, an edited key that re-renders
only the frames whose window holds it, a lossless movie render, Preview Frame and its latency,
and the failures (unsaved .blend, range outside the strip).

argv: JSON {"clip", "out"}. Prints RESULT <json>.
"""

import json
import os
import sys
import time

import bpy
import numpy as np


def main(cfg):
    import cv2

    from reenact.blender import blend
    from reenact import register
    from reenact.render.pipeline import render_clip
    from reenact.blender import actor as actor_data
    from reenact.blender.layers import curves_to_track

    res = {"blender": bpy.app.version_string}
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, cfg["clip"], channel=2, frame_start=5, name="carphone")
    scene.sequence_editor.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob

    # unsaved .blend: one clear line, nothing added
    n_strips = len(blend.all_strips(scene))
    try:
        bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=20)
        res["unsaved_error"] = None
    except RuntimeError as exc:
        res["unsaved_error"] = str(exc).strip().splitlines()[-1]
    res["unsaved_unchanged"] = len(blend.all_strips(scene)) == n_strips
    blend_path = os.path.join(cfg["out"], "render check.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend_path)
    scene = bpy.context.scene
    strip = scene.sequence_editor.strips_all["carphone"]
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob
    # an animator's edit: brows raised by 0.4 on clip frames 0..59 (a render draws only the
    # frames the performance changes; the performance as tracked is the footage)
    tracked = actor_data.tracked_track(ob)
    kb = ob.data.shape_keys.key_blocks["browInnerUp"]
    k = [str(n) for n in tracked.expression_names].index("browInnerUp")
    for i in range(0, 60):
        kb.value = float(min(1.0, tracked.expression[i - int(tracked.frame_start), k] + 0.4))
        kb.keyframe_insert("value", frame=int(strip.frame_start) + i)

    try:
        bpy.ops.reenact.render_performance(use_range=True, frame_first=1, frame_last=20)
        res["range_error"] = None
    except RuntimeError as exc:
        res["range_error"] = str(exc).strip().splitlines()[-1]

    # --- Render Performance, timeline frames 15..26 = clip frames 10..21 ----------------------
    t = time.perf_counter()
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=26, region="mouth") == {"FINISHED"}
    res["render_s"] = time.perf_counter() - t
    new = [s for s in blend.all_strips(scene) if s.name.startswith("carphone Reenact")]
    res["new_strips"] = len(new)
    st = new[0]
    res["orig"] = [strip.channel, strip.frame_final_start, strip.frame_final_duration]
    res["new"] = [st.channel, st.frame_final_start, st.frame_final_duration, st.type]
    res["provider"] = st.get("reenact_provider")
    res["counts_1"] = [st.get("reenact_rendered"), st.get("reenact_cached")]
    folder = bpy.path.abspath(st.directory)
    res["folder_rel"] = os.path.relpath(folder, os.path.dirname(blend_path))

    # --- frame exact: the strip's image at timeline frame f == the pipeline's clip frame f-5 --
    base = actor_data.tracked_track(ob)
    perf = curves_to_track(ob, scene, base)
    direct = {}
    render_clip(perf, cfg["clip"], None, out=None, frames=(10, 22), region="mouth", crop_track=base,
                on_frame=lambda i, f: direct.__setitem__(i, f))
    worst, outside_same = 0, True
    orig = {}
    from reenact.video import open_video

    with open_video(cfg["clip"]) as src:
        for i, f in src.iter_frames():
            orig[i] = f
    for f in range(st.frame_final_start, st.frame_final_end):
        elem = st.elements[f - int(st.frame_start)]
        img = cv2.cvtColor(cv2.imread(os.path.join(folder, elem.filename)), cv2.COLOR_BGR2RGB)
        i = f - int(strip.frame_start)
        worst = max(worst, int(np.abs(img.astype(int) - direct[i].astype(int)).max()))
        if not (10 <= i < 22):
            outside_same &= bool(np.array_equal(img, orig[i]))
    res["frame_exact_max_diff"] = worst
    res["outside_range_is_footage"] = outside_same
    res["changed_in_range"] = int(sum(np.abs(direct[i].astype(int) - orig[i]).sum() > 0 for i in range(10, 22)))

    # --- again: everything from the cache ------------------------------------------------------
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=26, region="mouth") == {"FINISHED"}
    st = [s for s in blend.all_strips(scene) if s.name.startswith("carphone Reenact")]
    res["strips_after_rerender"] = len(st)
    res["counts_2"] = [st[0].get("reenact_rendered"), st[0].get("reenact_cached")]

    # --- edit one key (jawOpen at clip frame 15): frames 15..21 in range re-render ------------
    kb = ob.data.shape_keys.key_blocks["jawOpen"]
    kb.value = 0.9
    kb.keyframe_insert("value", frame=int(strip.frame_start) + 15)
    # (Mouth Renderer: the network's crop cache is what is tested; Auto would draw the frames
    # whose mouth changed from the shot's own frames, without the network)
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=26, region="mouth",
                                              mouth="RENDERER") == {"FINISHED"}
    st = [s for s in blend.all_strips(scene) if s.name.startswith("carphone Reenact")][0]
    res["counts_3"] = [st.get("reenact_rendered"), st.get("reenact_cached")]

    # --- lossless movie --------------------------------------------------------------------------
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=18, output="MOVIE",
                                              lossless=True) == {"FINISHED"}
    mv = [s for s in blend.all_strips(scene) if s.type == "MOVIE" and s.name != "carphone"]
    res["movie"] = [[s.channel, s.frame_final_start, s.frame_final_duration, os.path.basename(s.filepath)] for s in mv]
    # --- ProRes movie (what editing systems conform from): replaces it in place ------------------
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=15, frame_last=18,
                                              output="PRORES") == {"FINISHED"}
    mv = [s for s in blend.all_strips(scene) if s.type == "MOVIE" and s.name != "carphone"]
    import av

    with av.open(bpy.path.abspath(mv[0].filepath)) as c:
        cc = c.streams.video[0].codec_context
        res["prores"] = [len(mv), os.path.basename(mv[0].filepath), cc.name, cc.profile, cc.pix_fmt,
                         c.streams.video[0].frames]

    # --- Preview Frame ---------------------------------------------------------------------------
    scene.frame_set(int(strip.frame_start) + 40)
    times = []
    for k in range(3):
        scene.frame_set(int(strip.frame_start) + 40 + k)
        t = time.perf_counter()
        assert bpy.ops.reenact.preview_frame(region="mouth") == {"FINISHED"}
        times.append((time.perf_counter() - t) * 1000)
    pv = scene.sequence_editor.strips_all["Reenact Preview"]
    res["preview_ms"] = times
    res["preview_strip"] = [pv.frame_final_start, pv.frame_final_duration, pv.channel]
    img = cv2.cvtColor(cv2.imread(os.path.join(bpy.path.abspath(pv.directory), pv.elements[0].filename)), cv2.COLOR_BGR2RGB)
    one = {}
    render_clip(curves_to_track(ob, scene, base), cfg["clip"], None, out=None, frames=(42, 43), region="mouth",
                crop_track=base, on_frame=lambda i, f: one.__setitem__(i, f))
    res["preview_max_diff"] = int(np.abs(img.astype(int) - one[42].astype(int)).max())
    res["preview_changed"] = bool(np.abs(img.astype(int) - orig[42]).max() > 0)
    # the head region (full reenactment) through the same operator equals the core's render
    assert bpy.ops.reenact.preview_frame(region="head") == {"FINISHED"}
    pv = scene.sequence_editor.strips_all["Reenact Preview"]
    img = cv2.cvtColor(cv2.imread(os.path.join(bpy.path.abspath(pv.directory), pv.elements[0].filename)), cv2.COLOR_BGR2RGB)
    one = {}
    render_clip(curves_to_track(ob, scene, base), cfg["clip"], None, out=None, frames=(42, 43), region="head",
                crop_track=base, on_frame=lambda i, f: one.__setitem__(i, f))
    res["preview_head_max_diff"] = int(np.abs(img.astype(int) - one[42].astype(int)).max())
    # Draw From Frames (clip frames 0..29): frame 42's face drawn from them, as render_clip's
    f0 = int(strip.frame_start)
    assert bpy.ops.reenact.preview_frame(region="face", use_reference=True, reference_first=f0,
                                         reference_last=f0 + 29) == {"FINISHED"}
    pv = scene.sequence_editor.strips_all["Reenact Preview"]
    img = cv2.cvtColor(cv2.imread(os.path.join(bpy.path.abspath(pv.directory), pv.elements[0].filename)), cv2.COLOR_BGR2RGB)
    one, own = {}, {}
    render_clip(curves_to_track(ob, scene, base), cfg["clip"], None, out=None, frames=(42, 43), region="face",
                crop_track=base, reference_frames=(0, 30), on_frame=lambda i, f: one.__setitem__(i, f))
    render_clip(curves_to_track(ob, scene, base), cfg["clip"], None, out=None, frames=(42, 43), region="face",
                crop_track=base, on_frame=lambda i, f: own.__setitem__(i, f))
    res["preview_reference_max_diff"] = int(np.abs(img.astype(int) - one[42].astype(int)).max())
    res["reference_changes_the_face"] = bool(np.abs(one[42].astype(int) - own[42].astype(int)).max() > 10)
    try:
        bpy.ops.reenact.render_performance(use_range=True, frame_first=f0 + 40, frame_last=f0 + 43, region="face",
                                           use_reference=True, reference_first=f0 + 500, reference_last=f0 + 520)
        res["reference_error"] = None
    except RuntimeError as exc:
        res["reference_error"] = str(exc).strip().splitlines()[-1]
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=f0 + 40, frame_last=f0 + 43, region="face",
                                              use_reference=True, reference_first=f0,
                                              reference_last=f0 + 29) == {"FINISHED"}

    # --- Verify Strip on a whole-strip movie render: marked, which frames, signed -----------------
    assert bpy.ops.reenact.render_performance(use_range=False, region="mouth", output="MOVIE") == {"FINISHED"}
    new = [s for s in blend.all_strips(scene) if s.type == "MOVIE" and s.get("reenact_region") == "mouth"][0]
    scene.sequence_editor.active_strip = new
    assert bpy.ops.reenact.verify_strip() == {"FINISHED"}
    ver = json.loads(new["reenact_verify"])
    res["verify"] = {"detected": ver["watermark"]["detected"], "scene_ranges": ver["scene_ranges"],
                     "manifest_valid": bool(ver["manifest"] and ver["manifest"].get("valid")),
                     "strip": [int(new.frame_final_start), int(new.frame_final_end)]}
    scene.sequence_editor.active_strip = strip  # the original footage: not marked
    assert bpy.ops.reenact.verify_strip() == {"FINISHED"}
    res["verify_original_detected"] = json.loads(strip["reenact_verify"])["watermark"]["detected"]
    # frames without an edit (the keys are on clip frames 0..59): said, with the actor it drives
    # when it dubs another (the dubbing actor, active after Track Actor, rendered as the "dub")
    other = bpy.data.objects.new("dubbed actor", None)
    other["reenact_driver"] = ob.name
    print("--- the render of frames without edits")
    assert bpy.ops.reenact.render_performance(use_range=True, frame_first=5 + 80, frame_last=5 + 83,
                                              region="mouth") == {"FINISHED"}
    bpy.ops.wm.save_mainfile()
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main(json.loads(sys.argv[-1]))
