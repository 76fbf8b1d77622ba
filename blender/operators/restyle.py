# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle Strip: a trained restyle model (``reenact restyle train``, docs/restyle.md) applied to
the active movie or image strip; the restyled shot (watermarked, signed) becomes a strip above
the original, one per strip and model, replaced in place when restyled again."""

import os

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

from .. import actor as actor_data
from .. import blend, farm, props
from ..modal import ModalJobMixin
from ..report import report

#: restyle results go here, next to the .blend (beside the renders)
RESTYLE_DIR = "restyle"


def restyle_job(model, source, out, stabilise, lossless, sign, progress):
    """Worker thread: no bpy here."""
    from ...progress import Cancelled
    from ...restyle.apply import apply_clip

    def step(done, total, message=""):
        if progress(done, total, message) is False:
            raise Cancelled()

    return apply_clip(model, source, out, stabilise=stabilise, progress=step, lossless=lossless,
                      sign_cert=sign[0], sign_key=sign[1])


def _model_name(path):
    return os.path.splitext(os.path.basename(path))[0]


class REENACT_OT_restyle_strip(ModalJobMixin, bpy.types.Operator):
    """Restyle the active movie or image strip with a trained restyle model (a look learned from
    reference footage, or colour for a black-and-white shot) and add the result above it"""

    bl_idname = "reenact.restyle_strip"
    bl_label = "Restyle Strip"
    bl_options = {"REGISTER", "UNDO"}

    model: StringProperty(name="Model", subtype="FILE_PATH", default="",
                          description="Restyle model (.onnx from `reenact restyle train`)")
    stabilise: FloatProperty(name="Stabilise", default=0.8, min=0.0, max=0.95,
                             description="How much of the previous frame's change, moved by optical flow, "
                                         "is kept (0: every frame on its own; more: steadier, slower to follow)")
    output: EnumProperty(name="Output", items=farm.OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False, description="Lossless movie (RGB H.264 in .mkv)")

    job_label = "Restyling"
    cancel_note = "frames written so far are kept in the folder"

    @classmethod
    def poll(cls, context):
        return blend.poll_media_strip(cls, context)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "model")
        layout.prop(self, "stabilise")
        layout.prop(self, "output")
        if self.output == "MOVIE":
            layout.prop(self, "lossless")

    def prepare(self, context):
        from ...restyle.apply import RestyleModel

        scene = context.scene
        strip = blend.active_strip(scene)
        model = self.model or scene.reenact.restyle_model
        if not model:
            raise ValueError("choose a restyle model in Reenact ▸ Restyle (.onnx from `reenact restyle train`)")
        path = bpy.path.abspath(model)
        RestyleModel(path, prefer_gpu=False)  # one line naming the file when it is not one, before any work
        source = actor_data.strip_source(strip)
        root = os.path.join(os.path.dirname(actor_data.render_root()), RESTYLE_DIR)
        name = "{}_{}".format(actor_data._safe(strip.name), actor_data._safe(_model_name(path)))
        out = os.path.join(root, name + ((".mkv" if self.lossless else ".mp4") if self.output == "MOVIE" else ""))
        os.makedirs(root, exist_ok=True)
        self._scene_name, self._strip_name, self._out, self._model = scene.name, strip.name, out, path
        self._model_setting = model
        sign = props.signing_paths(context)
        return restyle_job, (path, source, out, self.stabilise, self.lossless, sign), {}

    def apply(self, context, summary):
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        name = "{} Restyled {}".format(strip.name, _model_name(self._model))
        st = blend.add_result_strip(scene, strip, self._out, summary["frames"], name,
                                    key=("restyle " + strip.name, _model_name(self._model)))
        st["reenact_provider"] = summary.get("provider", "")
        scene.reenact.restyle_model = self._model_setting
        report(self, "INFO", "restyled {} frame(s) with {} on {} -> strip '{}' in channel {}".format(
            summary["restyled"], os.path.basename(self._model),
            str(summary.get("provider", "")).replace("ExecutionProvider", ""), st.name, st.channel))


classes = (REENACT_OT_restyle_strip,)
