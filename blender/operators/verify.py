# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify Strip: is the active strip's footage marked by Reenact, which seconds, which job, and
is its C2PA manifest valid (reenact.provenance.verify; docs/provenance.md)."""

import json

import bpy

from .. import actor as actor_data
from .. import blend
from .. import timing
from ..modal import ModalJobMixin, job_target, remember_target
from ..report import report



def verify_job(source, fps, progress):
    """Worker thread: no bpy here."""
    from ...provenance.verify import verify_path

    return verify_path(source, fps=fps, progress=progress)


def strip_ranges(result, strip, factor=1.0, clip_frames=None):
    """The synthesised frame ranges of a verify result as the timeline frames of ``strip`` that
    show them (on the timeline only; a reversed or strobed strip and one playing its clip at the
    clip's own speed, ``factor`` clip frames a timeline frame, as Blender maps them: before
    2026-12-05 clip frame i was put at the strip's start + i whatever the strip did)."""
    ranges = (result.get("watermark") or {}).get("frame_ranges") or []
    out = []
    for t in range(int(strip.frame_final_start), int(strip.frame_final_end)):
        c = timing.shown_clip_frame(strip, t, factor, clip_frames)
        if any(int(a) <= c < int(b) for a, b in ranges):
            if out and out[-1][1] == t - 1:
                out[-1][1] = t
            else:
                out.append([t, t])
    return out


class REENACT_OT_verify_strip(ModalJobMixin, bpy.types.Operator):
    """Check the active movie or image strip for Reenact's watermark (which seconds were
    synthesised, by which render job) and its C2PA manifest"""

    bl_idname = "reenact.verify_strip"
    bl_label = "Verify Strip"
    bl_options = {"REGISTER", "UNDO"}  # (it records its verdict on the strip)

    job_label = "Verifying"
    cancel_note = "nothing changed"

    @classmethod
    def poll(cls, context):
        return blend.poll_media_strip(cls, context)

    def prepare(self, context):
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene)
        remember_target(self, scene, strip)  # (found again after a rename meanwhile: job_target)
        fps = scene.render.fps / scene.render.fps_base
        return verify_job, (actor_data.strip_source(strip), fps), {}

    def apply(self, context, result):
        _scene, strip, _ob = job_target(self)
        factor = timing.playback_factor(strip)
        clip_frames = timing.movie_frames(blend.strip_filepath(strip)) if factor not in (None, 1.0) else None
        ranges = strip_ranges(result, strip, factor, clip_frames) if factor is not None else []
        result = dict(result, scene_ranges=ranges, source_key=actor_data.source_key(strip))
        strip[blend.VERIFY_PROP] = json.dumps(result)
        w, m = result.get("watermark") or {}, result.get("manifest") or {}
        if w.get("detected"):
            ranges = ", ".join("{}-{}".format(a, b) for a, b in result["scene_ranges"]) or (
                "none on the timeline" if factor is not None else
                "not placed on the timeline (the strip keeps another clip's playback rate: add it again)")
            text = "'{}': Reenact watermark, job {}, synthesised frames {} (false-positive probability {})".format(
                strip.name, (w.get("payload") or {}).get("job_id", "?"), ranges, w.get("false_positive_probability"))
        else:
            text = "'{}': no Reenact watermark found".format(strip.name)
        text += "; C2PA manifest {}".format(
            ("valid" if m.get("valid") else "INVALID") if m.get("present") else "absent")
        report(self, "INFO", text)


classes = (REENACT_OT_verify_strip,)
