# SPDX-License-Identifier: GPL-3.0-or-later
"""Assemble Render: the last task of a render-farm job (docs/farm.md). The chunks of Render
Performance filled the actor's frame folder; this makes the movie from it (with the footage's
audio) when asked and adds the result strip, once."""

import json
import os

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from .. import actor as actor_data
from .. import blend, farm, props, shots, timing
from ..farm import assemble_job
from ..modal import ModalJobMixin, job_target, remember_target
from ..render_inputs import FARM_JOB
from ..render_key import OUTPUT_KEYS, RENDER_KEY, RENDER_OPTIONS, output_tag
from ..report import report


class REENACT_OT_assemble_render(ModalJobMixin, bpy.types.Operator):
    """Add the result strip of a render made in chunks (on a render farm): check the actor's frame
    folder is complete, make the movie from it (keeping the footage's audio) when Output is Movie"""

    bl_idname = "reenact.assemble_render"
    bl_label = "Assemble Render"
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin)

    actor: StringProperty(name="Actor", default="", options={"SKIP_SAVE"},
                          description="Actor object whose render is assembled (default: the active actor)")
    region: EnumProperty(name="Region", items=farm.REGION_ITEMS, default="mouth",
                         description="The region the chunks rendered (names the result strip, one per actor and region)")
    output: EnumProperty(name="Output", items=farm.OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (.mkv, FFV1; a shot of more than 8 bits keeps them)")
    all_actors: BoolProperty(name="Every Actor of the Strip", default=False, options={"SKIP_SAVE"},
                             description="The chunks rendered every tracked actor of the actor's strip together "
                                         "(Render Performance's Every Actor of the Strip)")
    farm_job: StringProperty(**FARM_JOB)

    job_label = "Assembling"
    cancel_note = "the frames are kept"

    @classmethod
    def poll(cls, context):
        return blend.edit_scene(context) is not None

    def prepare(self, context):
        ob, scene, strip, root = farm.render_target(context, self.actor)
        together = self.all_actors and bool(farm.other_actors(ob, scene, strip))  # (as Render Performance)
        name, self._result, self._key = farm.result_of(strip, ob, self.region, together)
        folder = farm.farm_folder(os.path.join(root, name))  # (the job's chunks': docs/farm.md)
        out = farm.output_path(os.path.join(root, name), self.output, self.lossless) if self.output != "IMAGES" else None
        take = farm.output_path(os.path.join(root, name), "IMAGES", False) if out is None else None  # (frames: a take)
        remember_target(self, scene, strip, ob)  # (found again after a rename meanwhile: job_target)
        self._out, self._farm_dir = out or take, folder
        sign = props.signing_paths(context)
        return assemble_job, (folder, actor_data.strip_source(strip), out, self.lossless, sign), {
            "codec": farm.movie_codec(self.output), "fps": scene.render.fps / scene.render.fps_base,
            "farm_job": self.farm_job or None, "take": take, "timeline": timing.numbering(strip),
            "stranded": farm.stranded_take(folder, self.farm_job, out)}

    def apply(self, context, summary):
        scene, strip, ob = job_target(self)
        self._out = summary.get("out") or self._out  # (an assembly run again finds the take the first moved it to)
        st, copies = shots.add_result_strips(scene, strip, self._out, summary["frames"], self._result, key=self._key)
        for s in [st] + copies:  # what a result strip could not take from its piece of the shot
            if s.get("reenact_look_note"):
                report(self, "WARNING", "strip '{}': {}".format(s.name, s["reenact_look_note"]))
        # what the chunks rendered, and with what options (their markers: in the take the frames moved to, or
        # beside the movie): Render Edited Actors finds the result up to date, or renders it again with them
        # (before the review of the evening of 2026-12-06 neither was kept: every later Render Edited Actors
        # rendered the farm's shot again on this machine, with the default options)
        from ...render.chunks import job_record

        marks = self._farm_dir if os.path.isdir(self._farm_dir) else self._out
        digest, options = job_record(marks, self.farm_job or None) if os.path.isdir(marks) else (None, None)
        # the key of the output made here (the chunks record one per output: a movie keyed as the frames
        # they wrote was rendered again by Render Edited Actors with Output Movie, before 2026-12-06 19:22 UTC)
        keys = options.pop(OUTPUT_KEYS, None) if options else None
        if digest and isinstance(keys, dict):
            digest = keys.get(output_tag(self.output, self.lossless)) or digest
        for s in [st] + copies:
            for name, value in ((RENDER_KEY, digest), (RENDER_OPTIONS, options and json.dumps(options))):
                if value:
                    s[name] = value
                elif name in s:
                    del s[name]
        if ob is not None:
            ob["reenact_last_render"] = os.path.basename(self._out)
        for w in summary.get("output_warnings", []):  # what the movie cannot keep (alpha, bits)
            report(self, "WARNING", w)
        report(self, "INFO", "assembled {} frame(s) -> strip '{}' in channel {}{}".format(
            summary["frames"], st.name, st.channel, shots.copies_note(copies)))


classes = (REENACT_OT_assemble_render,)
