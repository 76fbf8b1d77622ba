# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0, and 4.5 LTS): a 30 fps movie
strip tracked in a 30 fps scene, then the scene set to 25 fps. Played frame for frame (the strip
as Python's API adds it) Preview Frame still works; played at the clip's own speed (Blender's
Add ▸ Movie with Adjust Playback Rate, its default) every Reenact job refuses it in one line and
leaves the scene as it was. Prints RESULT <json>."""

import ctypes
import json
import os

import bpy
import numpy as np
from sequencer_check import empty_scene, render, run

AUTO_PLAYBACK_RATE = 1 << 17  # Blender's SEQ_AUTO_PLAYBACK_RATE strip flag
FLIP_X = 1 << 11  # SEQ_FLIPX, the flag use_flip_x sets


def adjust_playback_rate(strip):
    """What Add ▸ Movie's Adjust Playback Rate does to ``strip``: the flag is not in Python's API
    and the operator crashes Blender's headless module, so the flag is set in the strip's own
    memory, found as the word that use_flip_x changes."""
    n = 512
    ptr = strip.as_pointer()
    before = bytes((ctypes.c_ubyte * n).from_address(ptr))
    strip.use_flip_x = not strip.use_flip_x
    after = bytes((ctypes.c_ubyte * n).from_address(ptr))
    strip.use_flip_x = not strip.use_flip_x
    changed = [i for i in range(n) if before[i] != after[i]]
    assert len(changed) == 1 and after[changed[0]] ^ before[changed[0]] == FLIP_X >> 8, changed
    flag = ctypes.c_int.from_address(ptr + changed[0] - 1)  # bit 11 lies in the int's second byte
    flag.value |= AUTO_PLAYBACK_RATE


def attempt(op, **kw):
    try:
        return sorted(op(**kw))
    except RuntimeError as exc:
        return str(exc).strip().splitlines()[-1]


def main(clip, work):
    from reenact.blender import blend, timing

    scene = empty_scene(176, 144)
    scene.render.fps, scene.render.fps_base = 30, 1
    same = blend.strips_of(scene).new_movie(name="same", filepath=clip, channel=3, frame_start=1)
    adjust_playback_rate(same)  # what Add > Movie does to every clip, of the scene's rate too
    same_rate = {"adjusted": timing.rate_adjusted(same), "length": same.frame_final_duration}
    blend.strips_of(scene).remove(same)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.frame_start, scene.frame_end = 1, shot.frame_final_end - 1
    scene.sequence_editor.active_strip = shot
    out = {"same_rate": same_rate, "tracked": sorted(bpy.ops.reenact.track_strip())}
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "rate.blend"))
    scene = bpy.context.scene
    shot = scene.sequence_editor.strips_all["shot"]
    ob = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor][0]
    bpy.context.view_layer.objects.active = ob
    scene.render.fps = 25  # the editor's timeline rate
    scene.frame_set(6)
    out["frame_for_frame"] = {"length": shot.frame_final_duration, "adjusted": timing.rate_adjusted(shot),
                              "preview": attempt(bpy.ops.reenact.preview_frame, region="mouth")}
    for s in list(blend.all_strips(scene)):
        if s != shot:
            blend.strips_of(scene).remove(s)
    adjust_playback_rate(shot)
    # a dialogue recorded apart, its slate trimmed off: where it lies must not change (before 2026-12-06 19:55
    # UTC each job's rate check doubled the scene's rate and set it back, and Blender's re-timing slid it)
    import wave

    wav = os.path.join(work, "dialogue.wav")
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((np.sin(np.arange(int(4.3452 * 48000)) / 20) * 3000).astype(np.int16).tobytes())
    # (4.3452 s: 108.63 frames at 25 fps, 217.26 at 50, which Blender's re-timing does not undo exactly)
    dialogue = blend.strips_of(scene).new_sound(name="dialogue", filepath=wav, channel=8, frame_start=1)
    dialogue.frame_offset_start, dialogue.frame_offset_end = 12, 7

    def lies():
        return [dialogue.frame_start, dialogue.frame_final_start, dialogue.frame_final_end]

    sound_before = lies()
    before = (shot.frame_final_start, shot.frame_final_end, scene.render.fps, scene.render.fps_base)
    scene.sequence_editor.active_strip = shot
    out["clip_speed"] = {
        "length": shot.frame_final_duration, "adjusted": timing.rate_adjusted(shot),
        "preview": attempt(bpy.ops.reenact.preview_frame, region="mouth"),
        "render": attempt(bpy.ops.reenact.render_performance, region="mouth"),
        "assemble": attempt(bpy.ops.reenact.assemble_render),
        "track": attempt(bpy.ops.reenact.track_strip),
        "strips": sorted(s.name for s in blend.all_strips(scene) if s.type != "SOUND"),
        "unchanged": before == (shot.frame_final_start, shot.frame_final_end, scene.render.fps,
                                scene.render.fps_base),
        "actors": sum(1 for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor)}
    # Conform to Scene Rate: a strip of the frames the shot shows, at 25 fps, above it
    frames = (1, 2, 7, 13, 24)
    shown = [render(scene, f, os.path.join(work, "shown_{}.png".format(f))) for f in frames]
    out["conform"] = attempt(bpy.ops.reenact.conform_strip, lossless=True)  # (exact frames to compare)
    new = scene.sequence_editor.active_strip
    out["conformed"] = {
        "name": new.name, "channel": new.channel, "start": int(new.frame_final_start),
        "length": new.frame_final_duration, "adjusted": timing.rate_adjusted(new), "shot_muted": shot.mute,
        "file": os.path.basename(new.filepath),
        "vs_shown": max(float(np.abs(render(scene, f, os.path.join(work, "conformed_{}.png".format(f))) - a).mean())
                        for f, a in zip(frames, shown))}
    out["conformed"]["track"] = attempt(bpy.ops.reenact.track_strip)
    out["sound"] = {"before": sound_before, "after": lies()}
    # the shot's file changed to a clip of the scene's rate (Change Path): it keeps the old rate
    shot.filepath = new.filepath
    scene.sequence_editor.active_strip = shot
    out["changed_path"] = {"length": shot.frame_final_duration, "track": attempt(bpy.ops.reenact.track_strip)}
    # a clip of the same file name from another camera's folder (cameras name their clips alike): its
    # own conformed file; the first one's is left as it was (before the evening of 2026-12-06 both were
    # <name>_25fps.mkv, and the second conform replaced the movie the first conformed strip showed)
    import hashlib
    import shutil

    def digest(p):
        with open(p, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()

    first = bpy.path.abspath(new.filepath)
    before_second = digest(first)
    os.makedirs(os.path.join(work, "camB"))
    other = shutil.copy(clip, os.path.join(work, "camB", os.path.basename(clip)))
    cam_b = blend.strips_of(scene).new_movie(name="camB", filepath=other, channel=6, frame_start=1)
    adjust_playback_rate(cam_b)
    scene.sequence_editor.active_strip = cam_b
    second = attempt(bpy.ops.reenact.conform_strip, lossless=True)
    conformed_b = bpy.path.abspath(scene.sequence_editor.active_strip.filepath)
    out["same_name"] = {"conform": second, "own_file": os.path.normpath(conformed_b) != os.path.normpath(first),
                        "first_unchanged": digest(first) == before_second}
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
