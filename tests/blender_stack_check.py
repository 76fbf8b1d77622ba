# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a shot under a
title over part of it and a grade's adjustment layer over all of it. The result strip (the
shot's own frames, as a render that changed nothing gives) and a preview go directly above the
shot, under the title and the grade, so the sequencer's picture is the shot's; a channel is
inserted for them with its header. Prints RESULT <json>."""

import json
import os

import bpy
import cv2
import numpy as np
from sequencer_check import empty_scene, image_strip, render, run


def effect(strips, name, kind, channel, start, end, **kw):
    """An effect strip over timeline frames [start, end) (5.0 takes a length, 4.5 an end)."""
    try:
        return strips.new_effect(name=name, type=kind, channel=channel, frame_start=start, length=end - start, **kw)
    except TypeError:
        return strips.new_effect(name=name, type=kind, channel=channel, frame_start=start, frame_end=end, **kw)


def main(frames, folder, work):
    from reenact.blender import blend, shots, timing

    scene = empty_scene(176, 144)
    shot = image_strip(scene, frames, name="shot")
    n = len(shot.elements)
    strips = blend.strips_of(scene)
    title = effect(strips, "Title", "TEXT", 2, 3, 9)
    title.text, title.font_size = "HELLO", 40
    grade = effect(strips, "Grade", "ADJUSTMENT", 3, 1, n + 1)
    grade.color_multiply, grade.color_saturation = 0.7, 0.3
    headers = scene.sequence_editor.channels
    headers[2].name, headers[3].lock = "Titles", True
    out = {"shot": {f: render(scene, f, os.path.join(work, "shot_{}.png".format(f))) for f in (2, 5)}}
    res = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face", key=("actor", "face"))
    out["result"] = {"channel": res.channel, "note": res.get("reenact_look_note", ""),
                     "title": title.channel, "grade": grade.channel,
                     "headers": [headers[k].name for k in (2, 3, 4)], "locked": [headers[k].lock for k in (3, 4)]}
    pv = shots.preview_strip(scene, shot, os.path.join(folder, sorted(os.listdir(folder))[4]), 5)
    out["preview"] = {"channel": pv.channel, "note": pv.get("reenact_look_note", ""), "title": title.channel,
                      "grade": grade.channel, "result": res.channel}
    diff = {}
    for f in (2, 5):
        shown = render(scene, f, os.path.join(work, "with_{}.png".format(f)))
        diff[f] = float(np.abs(shown - out["shot"][f]).mean())
    out["shown_vs_shot"] = diff
    # a render again replaces the result in place; the preview's frame is left alone
    shots.remove_previews(scene)
    out["after_preview"] = {"title": title.channel, "grade": grade.channel, "result": res.channel,
                            "headers": [headers[k].name for k in (2, 3, 4)], "locked": [headers[k].lock for k in (3, 4)]}
    res2 = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face", key=("actor", "face"))
    out["again"] = {"channel": res2.channel, "title": title.channel, "note": res2.get("reenact_look_note", "")}
    # an effect strip that takes the shot as input lies over the result: named
    blur = effect(strips, "Soften", "GAUSSIAN_BLUR", 9, 1, n + 1, input1=shot)
    out["effect_note"] = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face",
                                                key=("actor", "face")).get("reenact_look_note", "")
    blend.strips_of(scene).remove(blur)
    # the editor moves the shot 5 frames later and trims 2 frames off its end: the result follows
    res = scene.sequence_editor.strips_all["shot Reenact Face"]
    pv = shots.preview_strip(scene, shot, os.path.join(folder, sorted(os.listdir(folder))[7]), 8)  # clip frame 7
    shot.frame_start += 5
    shot.frame_offset_end = 2
    bpy.context.view_layer.update()
    out["preview_moved_to"] = int(pv.frame_final_start)  # with its clip frame
    shots.remove_previews(scene)

    def span(s):
        return [int(s.frame_final_start), int(s.frame_final_end), int(s.frame_start)]

    out["followed"] = {"shot": span(shot), "result": span(res)}
    res.frame_start += 1  # moved by hand, its shot unchanged: left where it was put
    bpy.context.view_layer.update()
    out["by_hand"] = span(res)
    res.frame_start -= 1
    # a duplicate of the shot (Shift+D keeps its id) elsewhere: the shot is still the one of its name
    dup = image_strip(scene, frames, name="shot copy", channel=8)
    dup["reenact_id"] = shot["reenact_id"]
    dup.frame_start = 40
    shot.frame_start -= 2
    bpy.context.view_layer.update()
    out["with_duplicate"] = {"shot": span(shot), "result": span(res)}
    blend.strips_of(scene).remove(dup)
    # the clip frame a reversed, strobed shot shows (Preview Frame previews it): Blender's own
    for s in blend.all_strips(scene):
        s.mute = s != shot
    clips = [cv2.imread(os.path.join(frames, nm)).astype(np.int16) for nm in sorted(os.listdir(frames))]
    shot.use_reverse_frames, shot.strobe = True, 3.0
    out["shown"] = []
    for f in (int(shot.frame_final_start) + d for d in (1, 4, 8)):
        pic = render(scene, f, os.path.join(work, "reversed_{}.png".format(f)))
        out["shown"].append([int(np.argmin([np.abs(pic - c).mean() for c in clips])), timing.shown_clip_frame(shot, f)])
    # ... and the clip frames a render or Track Actor of the reversed shot (trimmed 2 at its end) covers
    shot.strobe = 1.0
    seen = [timing.shown_clip_frame(shot, f) for f in range(int(shot.frame_final_start), int(shot.frame_final_end))]
    out["reversed_span"] = [list(shots.clip_span([shot])), [min(seen), max(seen) + 1], int(shot.frame_offset_end)]
    # the shot's own sound directly above it: passed over (it draws nothing), no channel inserted
    import wave

    wav = os.path.join(work, "sound.wav")
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)
    shot.use_reverse_frames, shot.strobe = False, 1.0
    for s in list(blend.all_strips(scene)):
        if s != shot:
            blend.strips_of(scene).remove(s)
    sound = blend.strips_of(scene).new_sound(name="shot sound", filepath=wav, channel=shot.channel + 1,
                                             frame_start=int(shot.frame_final_start))
    res = shots.add_result_strip(scene, shot, folder, n, "shot Reenact Face", key=("actor", "face"))
    out["over_sound"] = {"result": res.channel - shot.channel, "sound": sound.channel - shot.channel,
                         "note": res.get("reenact_look_note", "")}
    out.pop("shot")
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 3)
