# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Performance with Every Actor of the Strip on a two-actor strip (run by
tests/test_blender_render.py in a fresh bpy process, 5.0 and 4.5; each point failed before
2026-12-06, found by a review of two-actor shots).

A two-shot (the sample clip beside its mirror image) tracked with two actors:

- NOTES: jawOpen keyed to 1.6 on both actors, the head of actor 0 turned on two frames: rendered
  with actor 1 active, the warnings name each actor's keys outside 0..1, the turn region Mouth
  keeps and the head pose region Head cannot show (before: the active actor's notes alone, and the
  unseen-pose warning of the last pass only); Preview Frame of every actor at frame 12 says the same
  for that frame (before: the last actor's keys alone, and no other actor's head pose).
- KEY: the whole shot rendered with actor 1 active, then with actor 0 active: the same pixels,
  and Render Edited Actors finds each result up to date (before: the passes went in the active
  actor's order, up to 11 levels apart, and Render Edited Actors rendered the shot again).
- REVERSED: the strip reversed, actor 0's head pushed into actor 1's on clip frames 10-11 and a
  hand before its face there: the cut and the hand are named at timeline frames 9-10, where the
  strip shows those frames (before: 11-12, counted from the strip's start).

argv: clip, work folder. Prints one RESULT line (JSON) and, before each part, a line naming it.
"""

import json
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blender_two_track_check import tracked_two_shot  # noqa: E402


def render(**kw):
    """Render Performance of every actor of the strip: its result, or the error's line."""
    try:
        return sorted(bpy.ops.reenact.render_performance(all_actors=True, **kw))
    except RuntimeError as exc:
        return str(exc)


def main(clip, work):
    out = {"version": list(bpy.app.version)}
    scene, strip, (a, b) = tracked_two_shot(clip, work)
    out["names"] = [a.name, b.name]
    for ob in (a, b):  # jawOpen past the face model's range on frames 11-15
        kb = ob.data.shape_keys.key_blocks["jawOpen"]
        kb.slider_max = 2.0
        for f in range(11, 16):
            kb.value = 1.6
            kb.keyframe_insert("value", frame=f)
    for f in (12, 13):  # actor 0's head turned further than any frame shows
        scene.frame_set(f)
        a.rotation_euler[1] += 0.7
        a.keyframe_insert("rotation_euler", index=1, frame=f)
    scene.frame_set(1)
    bpy.context.view_layer.objects.active = b

    print("NOTES MOUTH")
    out["notes_mouth"] = render(region="mouth", use_range=True, frame_first=11, frame_last=14)
    print("NOTES HEAD")
    out["notes_head"] = render(region="head", use_range=True, frame_first=12, frame_last=13)
    print("NOTES PREVIEW")  # Preview Frame of every actor at frame 12, actor 1 active
    scene.frame_set(12)
    try:
        out["notes_preview"] = sorted(bpy.ops.reenact.preview_frame(region="head", all_actors=True))
    except RuntimeError as exc:
        out["notes_preview"] = str(exc)
    scene.frame_set(1)
    print("NOTES DONE")

    # the same shot rendered with either actor active: one render (passes, pixels, key)
    def take():
        st = scene.sequence_editor.strips_all["two Reenact Mouth (all actors)"]
        folder = bpy.path.abspath(st.directory)
        return {f: cv2.imread(os.path.join(folder, f)).astype(int) for f in sorted(os.listdir(folder))
                if f.endswith(".png")}

    def edited():
        try:
            return sorted(bpy.ops.reenact.render_edited(region="mouth"))
        except RuntimeError as exc:
            return str(exc)

    import cv2

    print("KEY")
    takes = []
    for ob in (b, a):
        bpy.context.view_layer.objects.active = ob
        assert render(region="mouth") == ["FINISHED"]
        takes.append(take())
        out["edited_after_" + ob.name] = edited()
    out["takes_differ"] = max(int(abs(takes[0][f] - takes[1][f]).max()) for f in takes[0])
    out["take_frames"] = [len(t) for t in takes]
    print("KEY DONE")

    # a reversed strip: clip frames 10-11 lie at timeline frames 9-10 (from its end); actor 0's head pushed into
    # actor 1's there, and a hand before actor 0's face (its pass's survey, as the worker hands it back)
    from reenact.blender import timing
    from reenact.blender.operators import render as render_ops

    strip = scene.sequence_editor.strips_all["two"]
    strip.use_reverse_frames = True
    out["reversed_at"] = [timing.timeline_frame(strip, c) for c in (10, 11)]
    for c in (10, 11):
        f = int(a.reenact.frame_offset) + c  # (the actor's keys: clip frame + its offset)
        scene.frame_set(f)
        a.location.x += 0.3
        a.keyframe_insert("location", index=0, frame=f)
    real = render_ops.render_actors_job

    def with_a_hand(*args, **kw):
        summary = real(*args, **kw)
        summary["actors"][0]["in_front"] = {"runs": [[10, 12, 0.4, True]]}
        return summary

    render_ops.render_actors_job = with_a_hand
    bpy.context.view_layer.objects.active = a
    print("REVERSED")
    try:
        out["reversed"] = render(region="head", use_range=True, frame_first=min(out["reversed_at"]),
                                 frame_last=max(out["reversed_at"]))
    finally:
        render_ops.render_actors_job = real
    print("REVERSED DONE")
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # (bpy 4.5 waits at exit on the decoder's threads)


if __name__ == "__main__":
    main(sys.argv[-2], sys.argv[-1])
