# SPDX-License-Identifier: GPL-3.0-or-later
"""Track Again, Keeping Edits on a strip with two actors (run by tests/test_blender_render.py in a
fresh bpy process, 5.0 and 4.5; each point failed before 2026-12-06, found by a review of
two-actor shots).

A two-shot (the sample clip beside its mirror image) tracked with two actors, renamed Alice and
Bob, each keyed and rendered alone (a result strip each). Then:

- Track Again, Keeping Edits finds the faces in the other order (the tracker's order changes with
  the frames a trimmed shot shows: here its job hands the faces back reversed): Bob is actor 0
  now, Alice 1, and a render of Bob alone gives Bob's result strip a new take while Alice's keeps
  hers (before: Bob's render went into 'two Reenact Mouth (Alice)', which showed Bob's take);
- with the scene's Actors at 1, Track Again, Keeping Edits tracks the strip's two faces (before:
  "actor 'Bob' has edits, and tracking 'two' again found no face where it was"; Bob without
  edits was deleted without a word).

argv: clip, work folder. Prints one RESULT line (JSON).
"""

import json
import os
import sys

import bpy
import numpy as np


def two_shot(src_clip, path, n=20):
    """``src_clip``'s first ``n`` frames beside their mirror image: a shot of two faces."""
    from reenact.video import VideoWriter, open_video

    with open_video(src_clip) as src:
        frames, rate = [f for _, f in src.iter_frames(0, n)], src.rate
    with VideoWriter(path, rate, (2 * frames[0].shape[1], frames[0].shape[0]), crf=10) as w:
        for f in frames:
            w.write(np.concatenate([f, f[:, ::-1]], 1))
    return path


def tracked_two_shot(clip, work, n=20, movie="two.mp4", saved="two.blend"):
    """A fresh scene with the two-shot of ``clip``'s first ``n`` frames (``work/movie``) tracked
    with two actors and saved as ``work/saved``: (scene, strip, [actor 0, actor 1])."""
    from reenact import register
    from reenact.blender import actor as actor_data
    from reenact.blender import blend

    path = two_shot(clip, os.path.join(work, movie), n)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    scene = bpy.context.scene
    strip = blend.add_movie_strip(scene, path, channel=2, frame_start=1, name="two")
    scene.sequence_editor.active_strip = strip
    scene.reenact.max_faces = 2
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, saved))
    scene = bpy.context.scene
    actors = sorted(actor_data.actor_objects(scene), key=lambda o: o.reenact.actor_index)
    return scene, scene.sequence_editor.strips_all["two"], actors


def results(scene):
    """{result strip name: [its actor, its frame folder]}."""
    from reenact.blender import blend

    return {s.name: [s.get("reenact_actor"), s.directory] for s in blend.all_strips(scene) if s.get("reenact_actor")}


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender.operators import track as track_ops

    out = {"version": list(bpy.app.version)}
    scene, strip, (a, b) = tracked_two_shot(clip, work)
    a.name, b.name = "Alice", "Bob"
    for ob in (a, b):
        kb = ob.data.shape_keys.key_blocks["jawOpen"]
        for f in range(5, 9):
            kb.value = 0.9
            kb.keyframe_insert("value", frame=f)
    for ob in (a, b):  # each alone: a result strip each
        bpy.context.view_layer.objects.active = ob
        assert bpy.ops.reenact.render_performance(region="mouth", use_range=True, frame_first=5,
                                                  frame_last=6) == {"FINISHED"}
    out["before"] = results(scene)
    # Bob's mouth drives Alice's on frames 5-8 (a transfer's record: Render Performance draws his mouth there)
    pf = np.full(actor_data.tracked_track(a).n_frames, np.nan)
    pf[4:8] = np.arange(4, 8)
    actor_data.record_driver(a, b, pf)

    # 1. Track Again, Keeping Edits: the tracker hands the faces back in the other order
    real = track_ops.track_job

    def reversed_faces(*args, **kw):
        tracks, lines = real(*args, **kw)
        return tracks[::-1], lines

    track_ops.track_job = reversed_faces
    try:
        scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["two"]
        assert bpy.ops.reenact.track_strip(keep_edits=True) == {"FINISHED"}
    finally:
        track_ops.track_job = real
    out["indices"] = {o.name: o.reenact.actor_index for o in actor_data.actor_objects(scene)}
    bpy.context.view_layer.objects.active = bpy.data.objects["Bob"]
    assert bpy.ops.reenact.render_performance(region="mouth", use_range=True, frame_first=5,
                                              frame_last=6) == {"FINISHED"}
    out["after"] = results(scene)
    out["keys"] = {o.name: actor_data.actor_key(o) for o in actor_data.actor_objects(scene)}
    alice, bob = bpy.data.objects["Alice"], bpy.data.objects["Bob"]
    driver = actor_data.driver_of(alice, actor_data.tracked_track(alice))[0]
    out["driver_is_bob"] = bool(np.array_equal(driver.landmarks, actor_data.tracked_track(bob).landmarks, equal_nan=True))

    # 2. the scene's Actors at 1 (left so after tracking a one-actor shot): both faces tracked again
    scene.reenact.max_faces = 1
    print("KEEP ONE")
    try:
        out["keep_one"] = sorted(bpy.ops.reenact.track_strip(keep_edits=True))
    except RuntimeError as exc:
        out["keep_one"] = str(exc)
    print("KEEP DONE")
    out["after_keep_one"] = sorted((o.name, o.reenact.actor_index) for o in actor_data.actor_objects(scene))
    # ... and Bob without edits (reset to tracked): kept too (before: deleted without a word)
    assert bpy.ops.reenact.reset_to_tracked(actor="Bob") == {"FINISHED"}
    for o in (bpy.data.objects["Alice"], bpy.data.objects["Bob"]):  # (no dub left either)
        for p in (actor_data.DRIVER_PROP, actor_data.DRIVER_FRAMES_PROP, actor_data.DRIVER_KEY_PROP):
            o.pop(p, None)
    try:
        out["keep_unedited"] = sorted(bpy.ops.reenact.track_strip(keep_edits=True))
    except RuntimeError as exc:
        out["keep_unedited"] = str(exc)
    out["after_keep_unedited"] = sorted((o.name, o.reenact.actor_index) for o in actor_data.actor_objects(scene))
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # (bpy 4.5 waits at exit on the decoder's threads)


if __name__ == "__main__":
    main(sys.argv[-2], sys.argv[-1])
