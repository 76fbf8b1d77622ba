# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_train.py (Blender 5.0): Train Renderer driven by the sidebar's
Training options (the scene's Steps, and the Start Fresh button's option), with the real trainer
(the 128 px base, 2 steps at most).

Train to Steps 1; Train again: "trained already", raise Steps; Steps 2 resumes; Track Again
(another focal length): the checkpoint is of the earlier Track, said so; Start Fresh trains anew.

argv: the clip, the work folder. Prints RESULT <json>.
"""

import json
import os

import bpy
from sequencer_check import run


class Prefs:  # the preferences: the smaller bundled base (128 px), the training Python found
    base_model = "base"
    training_python = ""
    use_gpu = False


def main(clip, work):
    from reenact import register
    from reenact.blender import blend, props

    bpy.ops.wm.read_factory_settings(use_empty=True)
    register()
    props.preferences = lambda context=None: Prefs()
    sc = bpy.context.scene
    st = blend.add_movie_strip(sc, clip, channel=1, frame_start=1)
    sc.sequence_editor.active_strip = st
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(work, "options.blend"))
    sc = bpy.context.scene

    def actor():
        ob = [o for o in bpy.data.objects if o.reenact.is_actor][0]
        bpy.context.view_layer.objects.active = ob
        return ob

    def train(**kw):
        actor()
        try:
            return sorted(bpy.ops.reenact.train_renderer(**kw))
        except RuntimeError as exc:
            return str(exc).strip().splitlines()[-1]

    res = {"version": list(bpy.app.version)}
    # (no Training options: stop here, before a run of the operator's 400 steps)
    assert "train_steps" in sc.reenact.bl_rna.properties, "the scene has no Training options"
    sc.reenact.train_steps = 1
    res["first"] = train()
    res["again"] = train()  # all its Steps: refused, naming the option that helps
    sc.reenact.train_steps = 2
    res["raised"] = train()  # resumes to step 2
    res["model"] = actor().reenact.model_path
    sc.sequence_editor.active_strip = sc.sequence_editor.strips_all[st.name]
    res["retrack"] = sorted(bpy.ops.reenact.track_strip(use_focal=True, focal_mm=35.0, replace_edits=True))
    res["track"] = os.path.basename(actor().reenact.track_path)
    res["other_track"] = train()
    res["fresh"] = train(fresh=True)  # the Start Fresh button
    res["fresh_model"] = actor().reenact.model_path
    print("RESULT " + json.dumps(res), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
