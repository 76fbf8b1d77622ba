# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_verify_blender.py in a fresh bpy process (5.0 and 4.5 LTS): Verify Strip on
a cut of two renders names each job with its own frames, in its report and its panel (before
2026-12-06 "job 1111111111, synthesised frames 46-75, 241-270": the second job's frames credited
to the first), and what its manifest's ingredients' manifests say. The verdict is the file's (verify_path on it) with the watermark of a cut of two
renders put in (the mark itself is tests/test_verify_report.py's). And a meta strip selected: the
greyed-out button says to open it (Tab). Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import Layout, empty_scene, run, verify_lines

A, B = "1111111111", "2222222222"


def main(clip, work):
    import reenact.blender.operators.verify as verify_op
    from reenact.blender import blend
    from reenact.blender.panels.verify import SEQUENCER_PT_reenact_verify as Panel
    from reenact.provenance.verify import verify_path
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    path = os.path.join(work, "cut.mp4")
    with open_video(clip) as src, VideoWriter(path, 25, (src.width, src.height)) as out:
        for i in range(50):
            out.write(src.read(i))

    def window(a, b, job=None, match=None):
        w = {"start": a / 25, "end": b / 25, "frames": [a, b], "detected": job is not None, "score": 9.0 if job else 4.2,
             "payload": {"job_id": job} if job else None}
        if match is not None:
            w["payload_match"] = match
        return w

    def job(source, fps, progress):
        r = verify_path(source, fps=fps, progress=progress)
        r["watermark"] = dict(r["watermark"], detected=True, frame_ranges=[[5, 10], [30, 40]], score=12.0,
                              false_positive_probability=1e-20, payload={"job_id": A},
                              windows=[window(0, 25, A, True), window(25, 50, B, False)])
        # its manifest valid, made from a dub with a manifest of its own (what the panel shows of it)
        edited = {"action": "c2pa.edited", "parameters": {"job_id": A, "frames": "45-74", "model": "r.onnx"}}
        r["manifest"] = {"present": True, "valid": True, "trusted": False, "signer": "Reenact renderer (user)",
                         "errors": [], "actions": [{"action": "c2pa.opened"}, dict(edited, parameters={
                             "operation": "restyle", "job_id": "3333333333"})],
                         "ingredients": [{"title": "dub.mp4", "relationship": "parentOf", "manifest": {
                             "signer": "Reenact renderer (user)", "claim_generator": "Reenact 0.1.0", "valid": True,
                             "errors": [], "actions": [{"action": "c2pa.opened"}, edited], "ingredients": []}}]}
        return r

    verify_op.verify_job = job
    verify = verify_lines(verify_op)
    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 25, 1
    strips = blend.strips_of(scene)

    def panel(strip):
        scene.sequence_editor.active_strip = strip
        log = []
        Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
        return [t for t in log if t.startswith(("Synthesised", "Not placed", "Reenact watermark", "Another", "Made"))]

    out = {}
    cut = strips.new_movie(name="cut", filepath=path, channel=1, frame_start=1)
    out["cut"] = [verify(cut), panel(cut)]
    cut.frame_start = 101  # moved since: each job's frames follow it
    out["moved"] = panel(cut)
    # a meta strip: its poll says to open it (before 2026-12-06 "Select a movie or image strip")
    meta = strips.new_meta("Cut", 4, 1)
    meta.strips.new_movie(name="inner", filepath=path, channel=1, frame_start=1)
    out["meta"] = verify(meta)
    print("RESULT " + json.dumps(dict(out, version=list(bpy.app.version))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
