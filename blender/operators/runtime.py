# SPDX-License-Identifier: GPL-3.0-or-later
"""Runtime check: which onnxruntime execution provider really runs here."""

import bpy

from .. import blend
from ..report import report


class REENACT_OT_check_runtime(bpy.types.Operator):
    """Open a real onnxruntime session on a bundled model and report the execution provider it uses"""

    bl_idname = "reenact.check_runtime"
    bl_label = "Check Runtime"
    bl_options = {"REGISTER"}

    def execute(self, context):
        from .. import props
        from ...doctor import runtime_report

        prefs = props.preferences(context)
        info = runtime_report(prefer_gpu=prefs.use_gpu if prefs else True)
        settings = blend.edit_scene(context).reenact
        settings.runtime_provider = info["provider"] or ""
        settings.runtime_summary = "onnxruntime {} · numpy {} · OpenCV {}".format(
            info["onnxruntime"], info["numpy"], info["opencv"]
        )
        if info["error"]:  # (the panel says it failed and why, not "Not checked yet")
            settings.runtime_provider = "Failed"
            settings.runtime_summary = info["error"][:200]
            report(self, "ERROR", info["error"])
            return {"CANCELLED"}
        report(self, "INFO", "onnxruntime {} runs on {}".format(info["onnxruntime"], info["provider"]))
        return {"FINISHED"}


classes = (REENACT_OT_check_runtime,)
