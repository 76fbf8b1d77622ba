# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): four tracked
shots, three of them edited, one a two-shot with one of its two actors edited. Render Edited
Actors renders those three in one job, each into its own result strip over its shot (the
two-shot's actors together), and leaves the fourth alone; with no edits it refuses in one
line. Again with nothing changed: nothing rendered (every result up to date). Again with edits,
one shot's file gone and another shot's strip deleted while it renders: the others are
rendered and added, each problem said in its line. Prints RESULT <json>."""

import json
import os

import bpy
import cv2
import numpy as np
from sequencer_check import empty_scene, run


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 150
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "reel.blend"))
    scene = bpy.context.scene
    strips = blend.strips_of(scene)
    from reenact.video import VideoWriter, open_video

    two = os.path.join(work, "two.mp4")  # a two-shot: the clip beside its mirror image
    with open_video(str(clip)) as src, VideoWriter(two, 30, (2 * src.width, src.height), crf=10) as w:
        for _i, f in src.iter_frames():
            w.write(np.concatenate([f, f[:, ::-1]], 1))
    for k, (name, path, faces) in enumerate((("shot A", clip, 1), ("shot B", clip, 1), ("shot C", clip, 1),
                                              ("shot D", two, 2), ("shot E", clip, 1))):
        s = strips.new_movie(name=name, filepath=str(path), channel=1, frame_start=1 + 30 * k)
        scene.sequence_editor.active_strip = s
        assert bpy.ops.reenact.track_strip(max_faces=faces) == {"FINISHED"}

    def run_op(op, **kw):
        try:
            return sorted(op(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    out = {"no_edits": run_op(bpy.ops.reenact.render_edited)}
    # the Tracks of a saved project's actors, relative to it (a copy of the project reads its own)
    out["track_paths"] = sorted({o.reenact.track_path[:10] for o in bpy.data.objects if o.reenact.is_actor})
    # an actor appended into a .blend of another folder: its '//' path is not there; it reads where it was made
    some = next(o for o in bpy.data.objects if o.reenact.is_actor)
    kept, made = some.reenact.track_path, actor_data.track_file(some)
    some.reenact.track_path = "//elsewhere/" + os.path.basename(kept)
    out["appended_reads_made"] = actor_data.track_file(some) == made and os.path.isfile(made)
    some.reenact.track_path = kept
    actors = {o.reenact.strip_name: o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor
              and o.reenact.actor_index == 0}
    for name, f in (("shot A", 5), ("shot B", 40), ("shot D", 100), ("shot E", 125)):  # clip frames 4, 9, 9, 4
        kb = actors[name].data.shape_keys.key_blocks["jawOpen"]
        kb.value = 1.0
        kb.keyframe_insert("value", frame=f)
    strips.remove(scene.sequence_editor.strips_all["shot E"])  # an edited actor's strip deleted
    out["render"] = run_op(bpy.ops.reenact.render_edited, region="mouth")
    out["results"] = sorted([s.name, s.channel, int(s.frame_final_start), int(s.frame_final_end), s.get("reenact_actor")]
                            for s in blend.all_strips(scene) if s.get("reenact_shot"))
    from reenact.video import open_video

    with open_video(str(clip)) as src:
        footage = {k: src.read(k).astype(np.int16) for k in (4, 9)}
    changed = {}
    for name, k in (("shot A", 4), ("shot B", 9)):
        folder = os.path.join(actor_data.render_root(), actor_data._safe(actors[name].name + " mouth"))
        img = cv2.imread(os.path.join(folder, "frame_{:06d}.png".format(k)))[..., ::-1].astype(np.int16)
        changed[name] = float(np.abs(img - footage[k]).mean())
    out["changed"] = changed
    # again with nothing changed: every result is up to date, nothing rendered, no new take
    out["unchanged"] = run_op(bpy.ops.reenact.render_edited, region="mouth")
    # again: A, B and D edited once more, shot C edited but its file gone (left out in one line, the
    # others rendered), and shot B's strip deleted while the reel renders (its line; the others
    # still get their strips)
    for name, f in (("shot A", 7), ("shot B", 42), ("shot C", 70), ("shot D", 102)):
        kb = actors[name].data.shape_keys.key_blocks["jawOpen"]
        kb.value = 1.0
        kb.keyframe_insert("value", frame=f)
    scene.sequence_editor.strips_all["shot C"].filepath = os.path.join(work, "gone.mp4")
    from reenact.blender.operators import render as render_ops

    real = render_ops.batch_job

    def batch(jobs, progress):
        done = real(jobs, progress)
        strips.remove(scene.sequence_editor.strips_all["shot B"])
        return done

    render_ops.batch_job = batch
    out["again"] = run_op(bpy.ops.reenact.render_edited, region="mouth")
    render_ops.batch_job = real
    out["again_results"] = sorted([s.name, os.path.basename(os.path.normpath(bpy.path.abspath(s.directory)))]
                                  for s in blend.all_strips(scene) if s.get("reenact_shot"))
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
