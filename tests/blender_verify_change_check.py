# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process (5.0): Verify Strip on a movie strip,
then the strip given another file (Strip ▸ Change Path): the Verify panel must say the verdict is
for the file it had, not show it as this one's. Prints RESULT <json>."""

import json
import os
import shutil

import bpy
from sequencer_check import Layout, empty_scene, run


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
        "source_key": source_key(shot), "scene_ranges": [],
        "watermark": {"detected": True, "score": 12.34, "false_positive_probability": 1e-30,
                      "payload": {"job_id": "3a5f00c0de"}},
        "manifest": {"present": True, "valid": True, "trusted": True, "trust_list": "local root", "signer": "me",
                     "actions": []}})
    out["trimmed_off"] = labels()
    print("RESULT " + json.dumps(dict(out, version=list(bpy.app.version))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
