# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_look.py in a fresh bpy process: a frame folder take that no strip of
this session shows, claimed by another live process of this machine (another Blender session
rendering the same actor, or showing its take unsaved), is neither written over by the next
render (a new take) nor offered by Delete Unused Takes; once that process has ended it is both
again. Prints RESULT <json>."""

import json
import os
import subprocess
import sys
import time

import bpy
from sequencer_check import empty_scene, run_json


def main(a):
    from reenact.blender import actor as actor_data
    from reenact.blender import farm, takes
    from reenact.blender.operators import takes as takes_op
    from reenact.video.pngs import FRAME_PREFIX

    work, out = a["work"], {"version": list(bpy.app.version)}
    empty_scene(64, 64)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "shot.blend"))
    stem = os.path.join(actor_data.render_root(), "shot_Actor_0_mouth")
    os.makedirs(stem)
    frame = os.path.join(stem, FRAME_PREFIX + "000001.png")
    with open(frame, "wb") as fh:
        fh.write(b"\x89PNG")
    old = time.time() - 3600
    for p in (frame, stem):
        os.utime(p, (old, old))

    def state():
        return {"next": os.path.basename(farm.output_path(stem, "IMAGES", False)),
                "unused": [os.path.basename(p) for p, _n in takes.unused_takes(takes_op._roots())]}

    out["own"] = state()  # (this session's own claim, made by output_path just now: free to it)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.makedirs(os.path.join(os.path.dirname(stem), takes.CLAIMS), exist_ok=True)
    def claim_as_other(take):
        with open(os.path.join(os.path.dirname(stem), takes.CLAIMS, os.path.basename(take)), "w") as fh:
            fh.write("{}\n{}\n{:.0f}\n".format(__import__("socket").gethostname(), other.pid, time.time()))

    try:  # another session claims the take, as its render does
        claim_as_other(stem)
        out["claimed"] = state()
        # and the next one, which its job has not made yet: passed by too (before the review of the
        # evening of 2026-12-06 handed out again)
        claim_as_other(stem + ".take2")
        out["claimed_unmade"] = state()["next"]
        os.remove(os.path.join(os.path.dirname(stem), takes.CLAIMS, os.path.basename(stem) + ".take2"))
    finally:
        other.kill()
        other.wait()
    out["ended"] = state()
    # a job claims the take it writes while it runs; one that wrote nothing (refused) leaves nothing
    claims = os.path.join(os.path.dirname(stem), takes.CLAIMS)
    fresh = os.path.join(work, "reenact", "restyle", "shot", "shot_look")
    for path, write in ((stem + ".take5", True), (fresh, False)):
        takes.pending(path)

        def job(progress=None, path=path, write=write):
            seen = takes.held_elsewhere(path), os.path.isfile(os.path.join(os.path.dirname(path), takes.CLAIMS,
                                                                           os.path.basename(path)))
            if write:
                os.makedirs(path)
            return seen

        out["job_" + ("wrote" if write else "refused")] = {  # (as in a Blender with a window)
            "during": takes.claiming(job, keep_written=True)(), "claim_left": os.path.isfile(os.path.join(
                os.path.dirname(path), takes.CLAIMS, os.path.basename(path)))}
    # a farm task's or a script's (background) claim is taken back when its job ends, written or not
    takes.pending(stem + ".take6")
    takes.claiming(lambda progress=None: os.makedirs(stem + ".take6"))()
    out["background_claim_left"] = os.path.isfile(os.path.join(claims, os.path.basename(stem) + ".take6"))
    out["refused_left"] = os.path.exists(os.path.join(work, "reenact", "restyle"))
    out["claims_kept"] = sorted(os.listdir(claims))
    print("RESULT " + json.dumps(out))
    os._exit(0)


if __name__ == "__main__":
    run_json(main)
