# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify Strip: is the active strip's footage marked by Reenact, which seconds, which job, and
is its C2PA manifest valid (reenact.provenance.verify; docs/provenance.md)."""

import json

import bpy

from .. import actor as actor_data
from .. import blend
from ..modal import ModalJobMixin
from ..report import report



def verify_job(source, fps, progress):
    """Worker thread: no bpy here."""
    from ...provenance.verify import verify_path

    return verify_path(source, fps=fps, progress=progress)


def strip_ranges(result, strip):
    """The synthesised frame ranges of a verify result as scene frames of ``strip`` (clipped to
    the part of the strip on the timeline)."""
    lo, hi = int(strip.frame_final_start), int(strip.frame_final_end) - 1
    out = []
    for a, b in (result.get("watermark") or {}).get("frame_ranges") or []:
        s, e = int(strip.frame_start) + int(a), int(strip.frame_start) + int(b) - 1
        s, e = max(s, lo), min(e, hi)
        if s <= e:
            out.append([s, e])
    return out


class REENACT_OT_verify_strip(ModalJobMixin, bpy.types.Operator):
    """Check the active movie or image strip for Reenact's watermark (which seconds were
    synthesised, by which render job) and its C2PA manifest"""

    bl_idname = "reenact.verify_strip"
    bl_label = "Verify Strip"
    bl_options = {"REGISTER"}

    job_label = "Verifying"
    cancel_note = "nothing changed"

    @classmethod
    def poll(cls, context):
        return blend.poll_media_strip(cls, context)

    def prepare(self, context):
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene)
        self._strip_name, self._scene_name = strip.name, scene.name
        fps = scene.render.fps / scene.render.fps_base
        return verify_job, (actor_data.strip_source(strip), fps), {}

    def apply(self, context, result):
        strip = bpy.data.scenes[self._scene_name].sequence_editor.strips_all[self._strip_name]
        result = dict(result, scene_ranges=strip_ranges(result, strip))
        strip[blend.VERIFY_PROP] = json.dumps(result)
        w, m = result.get("watermark") or {}, result.get("manifest") or {}
        if w.get("detected"):
            ranges = ", ".join("{}-{}".format(a, b) for a, b in result["scene_ranges"]) or "none on the timeline"
            text = "'{}': Reenact watermark, job {}, synthesised frames {} (false-positive probability {})".format(
                strip.name, (w.get("payload") or {}).get("job_id", "?"), ranges, w.get("false_positive_probability"))
        else:
            text = "'{}': no Reenact watermark found".format(strip.name)
        text += "; C2PA manifest {}".format(
            ("valid" if m.get("valid") else "INVALID") if m.get("present") else "absent")
        report(self, "INFO", text)


classes = (REENACT_OT_verify_strip,)
