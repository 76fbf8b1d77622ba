# SPDX-License-Identifier: GPL-3.0-or-later
"""Runtime check: which onnxruntime execution provider really runs here."""

import bpy


class REENACT_OT_check_runtime(bpy.types.Operator):
    """Open a real onnxruntime session on a bundled model and report the execution provider it uses"""

    bl_idname = "reenact.check_runtime"
    bl_label = "Check Runtime"
    bl_options = {"REGISTER"}

    def execute(self, context):
        from .. import props
        from ..doctor import runtime_report

        prefs = props.preferences(context)
        report = runtime_report(prefer_gpu=prefs.use_gpu if prefs else True)
        settings = context.scene.reenact
        settings.runtime_provider = report["provider"] or ""
        settings.runtime_summary = "onnxruntime {} · numpy {} · OpenCV {}".format(
            report["onnxruntime"], report["numpy"], report["opencv"]
        )
        if report["error"]:
            self.report({"ERROR"}, "Reenact: " + report["error"])
            return {"CANCELLED"}
        self.report({"INFO"}, "Reenact: onnxruntime {} runs on {}".format(report["onnxruntime"], report["provider"]))
        return {"FINISHED"}


classes = (REENACT_OT_check_runtime,)
