# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_verify.py in a fresh bpy process (5.0 and 4.5 LTS): where Verify
Strip says the synthesised frames lie on the timeline, in its report and its panel, as the strip
lies now. The verdict is the file's (verify_path on it), its watermark said found on clip frames
20-29 (the mark itself is tests/test_provenance.py's). Prints RESULT <json>."""

import json
import os

import bpy
from sequencer_check import Layout, empty_scene, run, verify_lines

RANGES = [[20, 30]]  # clip frames [a, b): shown at timeline frames 21-30 by a strip from frame 1


def movie(clip, path, fps, n):
    """The first ``n`` frames of ``clip`` as a ``fps`` movie."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    with open_video(clip) as src, VideoWriter(path, fps, (src.width, src.height)) as out:
        for i in range(n):
            out.write(src.read(i))
    return path


def main(clip, work):
    import reenact.blender.operators.verify as verify_op
    from blender_rate_check import adjust_playback_rate
    from reenact.blender import blend, timing
    from reenact.blender.panels.verify import SEQUENCER_PT_reenact_verify as Panel
    from reenact.provenance.verify import verify_path

    m25 = movie(clip, os.path.join(work, "m25.mp4"), 25, 60)
    m30 = movie(clip, os.path.join(work, "m30.mp4"), 30, 60)

    def job(source, fps, progress):
        r = verify_path(source, fps=fps, progress=progress)
        r["watermark"] = dict(r["watermark"], detected=True, frame_ranges=RANGES, score=12.0,
                              false_positive_probability=1e-20, payload={"job_id": "3a5f00c0de"})
        return r

    verify_op.verify_job = job
    verify = verify_lines(verify_op)
    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 25, 1
    strips = blend.strips_of(scene)

    def synthesised(strip):
        """The panel's lines on where the synthesised frames are."""
        scene.sequence_editor.active_strip = strip
        log = []
        Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
        return [t for t in log if t.startswith(("Synthesised", "Not placed"))]

    def each_frame(strip, factor=1.0, n=None):
        """The panel's lines as Blender shows the clip frames, frame by frame (what the panel must say)."""
        out = []
        for t in range(int(strip.frame_final_start), int(strip.frame_final_end)):
            c = timing.shown_clip_frame(strip, t, factor, n)
            if any(a <= c < b for a, b in RANGES):
                if out and out[-1][1] == t - 1:
                    out[-1][1] = t
                else:
                    out.append([t, t])
        return ["Synthesised: frames {}-{}".format(a, b) for a, b in out]

    out = {}
    shot = strips.new_movie(name="shot", filepath=m25, channel=1, frame_start=1)
    out["verified"] = [verify(shot), synthesised(shot)]
    shot.frame_start = 101  # moved: the panel follows (before 2026-12-06 it kept 21-30)
    out["moved"] = synthesised(shot)
    shot.frame_offset_start = 25  # trimmed into the synthesised frames
    out["trimmed"] = synthesised(shot)
    shot.frame_offset_start = 0
    right = shot.split(frame=125, split_method="SOFT")  # each piece shows its own part
    out["split"] = [synthesised(shot), synthesised(right)]
    # reversed and strobed strips, verified, then moved: as Blender shows them, frame by frame
    for name, setup, channel in (("reversed", "use_reverse_frames", 2), ("strobed", "strobe", 3)):
        s = strips.new_movie(name=name, filepath=m25, channel=channel, frame_start=1)
        setattr(s, setup, True if setup == "use_reverse_frames" else 3.0)
        verify(s)
        s.frame_start = 8
        out[name] = [synthesised(s), each_frame(s)]

    # a meta strip trimmed to frames 1-24: frames 25-30 are not shown (before 2026-12-06 reported)
    meta = strips.new_meta("Cut", 4, 1)
    inner = meta.strips.new_movie(name="inner", filepath=m25, channel=1, frame_start=1)
    meta.frame_final_end = inner.frame_final_end
    meta.frame_final_end = 25
    out["meta"] = [[int(meta.frame_final_start), int(meta.frame_final_end)], verify(inner), synthesised(inner)]

    # a Hold Split's second piece shows clip frame t - start + 10: not placed where it is not
    # shown (before 2026-12-06 frames 21-30), said as every job says it; and one held since
    held = strips.new_movie(name="held", filepath=m25, channel=5, frame_start=1)
    held.animation_offset_start = 10
    out["hold"] = [verify(held), synthesised(held)]
    later = strips.new_movie(name="later", filepath=m25, channel=6, frame_start=1)
    verify(later)
    later.animation_offset_start = 10
    out["held_since"] = synthesised(later)

    # a 30 fps clip at its own speed in the 25 fps scene: Blender's mapping (before and after)
    fast = strips.new_movie(name="fast", filepath=m30, channel=7, frame_start=1)
    adjust_playback_rate(fast)
    out["rate"] = [verify(fast), synthesised(fast), each_frame(fast, 30 / 25, timing.movie_frames(m30))]
    # Change Path to the 25 fps clip keeps the 30 fps rate: not placed, and the panel says why
    # (before 2026-12-06 it said "none on the timeline (in the trimmed-off part)")
    fast.filepath = m25
    out["kept_rate"] = [timing.playback_factor(fast), verify(fast), synthesised(fast)]
    print("RESULT " + json.dumps(dict(out, version=list(bpy.app.version))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
