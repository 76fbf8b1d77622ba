# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a tracked shot
cut in two (Strip ▸ Split) with a cutaway between the pieces. Render Performance renders both
pieces and shows the result over each; Preview Frame over the second piece previews the clip
frame that piece shows there; cutting a result with its shot keeps each piece on its piece; a
copy the editor removed is not made again; tracking the shot again keeps its pieces. Prints
RESULT <json>."""

import json
import os

import bpy
import cv2
import numpy as np
from sequencer_check import empty_scene, render, run, track_and_save


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, shots, timing

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    scene.frame_start, scene.frame_end = 1, 60
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene, shot, ob = track_and_save(scene, shot, os.path.join(work, "pieces.blend"))
    kb = ob.data.shape_keys.key_blocks["jawOpen"]  # the animator opens the jaw on clip frames 4 and 19
    for f in (5, 20):
        kb.value = 1.0
        kb.keyframe_insert("value", frame=f)

    def span(s):
        return [int(s.frame_final_start), int(s.frame_final_end), int(s.frame_start)]

    def run_op(op, **kw):
        try:
            return sorted(op(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    # the editor cuts the shot at frame 16 and puts a cutaway of 10 frames between the pieces
    second = shot.split(frame=16, split_method="SOFT")
    second.frame_start += 10
    bpy.context.view_layer.update()
    out = {"pieces": [[p.name, span(p)] for p in shots.pieces(shot)]}
    out["render"] = run_op(bpy.ops.reenact.render_performance, region="mouth")

    def results():
        return sorted(([s.name, s.channel, span(s), s.get("reenact_shot_name")] for s in blend.all_strips(scene)
                       if s.get("reenact_shot")), key=lambda r: r[2])

    out["results"] = results()
    folder = os.path.join(actor_data.render_root(), "shot_Actor_0_mouth")
    rendered = {k: cv2.imread(os.path.join(folder, "frame_{:06d}.png".format(k))).astype(np.int16) for k in (4, 19, 29)}
    footage = {}
    from reenact.video import open_video

    with open_video(str(clip)) as src:
        for k in (4, 19):
            footage[k] = src.read(k).astype(np.int16)
    out["changed"] = {k: float(np.abs(rendered[k] - footage[k]).mean()) for k in (4, 19)}  # the jaw keys
    # the sequencer's picture over each piece: the render's frame of the clip frame it shows
    out["shown"] = {}
    for f, piece in ((5, shot), (30, second)):
        k = timing.shown_clip_frame(piece, f)
        pic = render(scene, f, os.path.join(work, "shown_{}.png".format(f)))
        out["shown"][f] = [k, float(np.abs(pic - rendered[k]).mean()), float(np.abs(pic - footage[k]).mean())]
    # Preview Frame over the second piece: the clip frame that piece shows (19), over it
    scene.frame_set(30)
    out["preview"] = run_op(bpy.ops.reenact.preview_frame, region="mouth")
    pv = scene.sequence_editor.strips_all.get(blend.PREVIEW_STRIP)
    if pv is not None:
        img = cv2.imread(os.path.join(bpy.path.abspath(pv.directory), pv.elements[0].filename)).astype(np.int16)
        out["preview_at"] = [int(pv.frame_final_start), pv.channel > second.channel,
                             float(np.abs(img - rendered[19]).mean()), float(np.abs(img - rendered[29]).mean())]
        shots.remove_previews(scene)
    # the editor cuts the first piece and its result together at frame 8, and moves the new third
    # piece with its result 2 frames later: each result stays on its piece
    res = scene.sequence_editor.strips_all["shot Reenact Mouth"]
    third, res3 = shot.split(frame=8, split_method="SOFT"), res.split(frame=8, split_method="SOFT")
    bpy.context.view_layer.update()
    third.frame_start += 2
    res3.frame_start += 2
    bpy.context.view_layer.update()
    out["cut_together"] = results()
    # the editor removes the copy over the second piece, then trims the first: it is not made again
    copy = next(s for s in blend.all_strips(scene) if s.get("reenact_shot_name") == second.name)
    blend.strips_of(scene).remove(copy)
    bpy.context.view_layer.update()
    shot.frame_offset_start += 1
    bpy.context.view_layer.update()
    out["copy_removed"] = results()
    # the shot tracked again (its edits kept): its pieces stay its pieces, and their results in place
    scene.sequence_editor.active_strip = shot
    out["retrack"] = run_op(bpy.ops.reenact.track_strip, keep_edits=True)
    bpy.context.view_layer.update()
    tr = actor_data.tracked_track([o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0])
    out["retracked"] = {"pieces": [p.name for p in shots.pieces(shot)], "results": results(),
                        "rows": [int(tr.frame_start), int(tr.n_frames)]}
    # rendered again as a movie: one movie strip over each piece but the one whose copy the editor
    # removed (said; before 2026-12-06 made again by every render, over the shot's own picture
    # the compositor had kept there)
    out["movie"] = run_op(bpy.ops.reenact.render_performance, region="mouth", output="MOVIE")
    out["movie_results"] = sorted([s.name, s.type, span(s), s.get("reenact_shot_name")]
                                  for s in blend.all_strips(scene) if s.get("reenact_shot"))
    # the editor deletes the second and third pieces (their results left behind): those results
    # stay where they were, not moved onto the piece left, which has its own
    for name in ("shot.001", "shot.002"):
        blend.strips_of(scene).remove(scene.sequence_editor.strips_all[name])
    bpy.context.view_layer.update()
    out["piece_deleted"] = results()
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
