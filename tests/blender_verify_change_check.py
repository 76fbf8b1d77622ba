# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py and tests/test_blender_verify.py in a fresh bpy process
(5.0): Verify Strip on a movie strip, then the strip given another file (Strip ▸ Change Path), or
its file written over on disk: the Verify panel must say the verdict is for the file it had, not
show it as this one's; a project folder moved whole keeps its verdicts; a ``//`` path in an
unsaved .blend is refused; the report and the panel say what ``reenact verify`` says of a
truncated file, missing frames, an untrusted signer and an invalid frame. Prints RESULT <json>."""

import json
import os
import shutil

import bpy
from sequencer_check import Layout, empty_scene, run, verify_lines


def main(clip, work):
    from reenact.blender import blend
    from reenact.blender.panels.verify import SEQUENCER_PT_reenact_verify as Panel

    other = os.path.join(work, "other.mp4")
    shutil.copyfile(clip, other)
    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.sequence_editor.active_strip = shot
    assert bpy.ops.reenact.verify_strip() == {"FINISHED"}

    def labels():
        log = []
        Panel.draw(type("P", (), {"layout": Layout(log)})(), bpy.context)
        return log

    out = {"verified": labels()}
    shot.filepath = other  # (Change Path)
    out["changed"] = labels()
    # a marked file whose synthesised frames lie in the part trimmed off, signed by the local chain:
    # the panel says what the report says (before 2026-12-06 no range line, no score, no trust)
    from reenact.blender.actor import source_key

    shot[blend.VERIFY_PROP] = json.dumps({
        "source_key": source_key(shot), "file_key": source_key(shot), "scene_ranges": [],
        "watermark": {"detected": True, "score": 12.34, "false_positive_probability": 1e-30,
                      "payload": {"job_id": "3a5f00c0de"}},
        "manifest": {"present": True, "valid": True, "trusted": True, "trust_list": "local root", "signer": "me",
                     "actions": []}})
    out["trimmed_off"] = labels()
    out.update(since(clip, work, labels))
    print("RESULT " + json.dumps(dict(out, version=list(bpy.app.version))), flush=True)
    os._exit(0)


def movie(clip, path, fps, n):
    """The first ``n`` frames of ``clip`` as a ``fps`` movie."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    with open_video(clip) as src, VideoWriter(path, fps, (src.width, src.height)) as out:
        for i in range(n):
            out.write(src.read(i))
    return path


def since(clip, work, labels):
    """The checks of 2026-12-06 (each failed before)."""
    import reenact.blender.operators.verify as verify_op
    from reenact.blender import blend
    from reenact.provenance.verify import verify_path

    out = {}
    verify = verify_lines(verify_op)

    def fresh():  # (Reenact stays registered: empty_scene registers it again, which fails)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        return bpy.context.scene

    # the file written over on disk (another size; then the same bytes touched): verify again
    # (before 2026-12-06 the clean verdict stayed: the key was the path alone)
    a = os.path.join(work, "a.mp4")
    shutil.copyfile(clip, a)
    scene = fresh()
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=a, channel=1, frame_start=1)
    out["report"] = verify(shot)  # names the file verified (before 2026-12-06 the strip alone)
    out["report_file"] = a
    movie(clip, a, 25, 40)
    out["written_over"] = labels()
    verify(shot)
    st = os.stat(a)
    os.utime(a, (st.st_atime, st.st_mtime + 10))
    out["touched"] = labels()
    os.rename(a, a + ".aside")  # the file gone (a copy without its renders): said as missing, not "changed"
    out["missing"] = labels()
    os.rename(a + ".aside", a)

    # a saved project folder moved whole, the strip's file '//clip.mp4' beside the .blend: the
    # same file, its verdict kept (before 2026-12-06 "changed": the key was the absolute path)
    p1, p2 = os.path.join(work, "p1"), os.path.join(work, "p2")
    os.makedirs(p1)
    shutil.copyfile(clip, os.path.join(p1, "clip.mp4"))
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(p1, "p.blend"))
    shot = bpy.context.scene.sequence_editor.strips_all["shot"]
    shot.filepath = "//clip.mp4"
    out["relative_saved"] = verify(shot)
    bpy.ops.wm.save_mainfile()
    shutil.copytree(p1, p2)  # (copy2: the files keep their times, as a move does)
    bpy.ops.wm.open_mainfile(filepath=os.path.join(p2, "p.blend"))
    out["moved_project"] = labels()

    # '//' in a .blend not saved yet: refused (before 2026-12-06 read from the working folder:
    # another file, here a.mp4 in the folder Blender runs in, verified as the strip's)
    scene = fresh()
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=a, channel=1, frame_start=1)
    if not os.path.exists(os.path.join(os.getcwd(), "a.mp4")):  # (the test runs it in ``work``)
        shutil.copyfile(a, os.path.join(os.getcwd(), "a.mp4"))
    shot.filepath = "//a.mp4"
    out["unsaved_relative"] = verify(shot)

    # a truncated file: the caveat in the report and the panel (as `reenact verify` says it)
    whole = movie(clip, os.path.join(work, "whole.mp4"), 25, 60)
    data = open(whole, "rb").read()
    cut = os.path.join(work, "cut.mp4")
    with open(cut, "wb") as fh:
        fh.write(data[:len(data) * 6 // 10])
    shot.filepath = cut
    out["truncated"] = [verify(shot), labels()]

    # an untrusted signer; a sequence with a frame missing and a signed frame INVALID (a verdict
    # of verify_path's shape: the signing itself is tests/test_provenance.py's)
    def signed(source, fps, progress):
        r = verify_path(source, fps=fps, progress=progress)
        m = dict(r["manifest"], present=True, valid=True, trusted=False, signer="Reenact renderer (user)")
        if isinstance(source, list):
            r.update(missing_frames=[1004], manifests={"frames": len(source), "signed": 4, "valid": 3,
                                                       "invalid": ["f_1008.png"]})
        return dict(r, manifest=m)

    verify_op.verify_job = signed
    out["untrusted"] = verify(shot)
    import cv2

    from reenact.video import open_video

    folder = os.path.join(work, "seq")
    os.makedirs(folder)
    with open_video(clip) as src:
        for i in range(10):
            cv2.imwrite(os.path.join(folder, "f_{:04d}.png".format(1001 + i)), cv2.cvtColor(src.read(i), cv2.COLOR_RGB2BGR))
    from sequencer_check import image_strip

    plate = image_strip(scene, folder, channel=2)
    plate.frame_start = 11  # f_1008 (its 8th frame) at timeline frame 18
    out["sequence"] = [verify(plate), labels()]
    return out


if __name__ == "__main__":
    run(main, 2)
