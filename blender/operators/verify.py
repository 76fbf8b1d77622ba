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

#: what Verify cannot do on a strip whose clip frames do not map one to one (timing.refuse_retimed)
UNPLACED = "Verify cannot tell which timeline frames show its synthesised frames"


def verify_job(source, fps, progress):
    """Worker thread: no bpy here."""
    from ...provenance.verify import verify_path

    return verify_path(source, fps=fps, progress=progress)


def strip_ranges(result, strip, factor=1.0, clip_frames=None):
    """The synthesised frame ranges of a verify result as the timeline frames of ``strip`` that
    show them (:func:`timing.shown_ranges`: the frames the timeline shows, a meta's trims too; a
    reversed or strobed strip and one playing its clip at the clip's own speed, ``factor`` clip
    frames a timeline frame, as Blender maps them: before 2026-12-05 clip frame i was put at the
    strip's start + i whatever the strip did)."""
    return timing.shown_ranges(strip, (result.get("watermark") or {}).get("frame_ranges") or [], factor, clip_frames)


def placing(strip):
    """(factor, why): clip frames a timeline frame as Blender plays ``strip`` (1, or a clip's own
    speed in a scene of another rate), or None and the one line saying why its frames cannot be
    placed on the timeline: a piece starting into its clip (Hold Offset Start), retiming, a Speed
    Control effect (:func:`timing.refuse_retimed`, as every job says it; before 2026-12-06 Verify
    placed such a strip's frames where it does not show them), another clip's playback rate."""
    factor = timing.playback_factor(strip)
    if factor is None:
        return None, "the strip keeps another clip's playback rate: add it again"
    if not (int(getattr(strip, "animation_offset_start", 0) or 0) or len(getattr(strip, "retiming_keys", ())) > 2
            or getattr(strip, "speed_factor", 1.0) != 1.0 or timing._speed_effect(strip) is not None
            or timing._sped(strip)):
        return factor, None  # (its own timing: another piece of the shot held by a Hold Split is not this one's)
    try:
        timing.refuse_retimed(strip, UNPLACED)
    except ValueError as exc:
        return None, str(exc)
    return factor, None


def manifest_words(result):
    """The C2PA verdict as ``reenact verify`` words it: "valid, signer not trusted", "1 of 25
    signed frames INVALID (f_1070.png)" (before 2026-12-06 Blender said "valid" for both)."""
    m, ms = result.get("manifest") or {}, result.get("manifests") or {}
    bad = int(ms.get("signed", 0)) - int(ms.get("valid", 0))
    if bad:
        names = list(ms.get("invalid") or [])
        return "{} of {} signed frames INVALID ({}{})".format(bad, ms["signed"], ", ".join(names),
                                                              ", ..." if bad > len(names) else "")
    if not m.get("present"):
        return "absent"
    if not m.get("valid"):
        return "INVALID"
    return "valid, " + ("signer not trusted" if not m.get("trusted") else "trusted by this machine's local root only"
                        if m.get("trust_list") == "local root" else "trusted")


def caveats(result):
    """What the verdict was read on, as ``reenact verify`` says it: a look again in short windows, a
    truncated file, frames missing from a sequence (before 2026-12-06 Blender's verdict said none)."""
    from ...provenance.verify import looked_again_words

    out = []
    again = looked_again_words(result.get("watermark") or {})
    if again:  # (short windows where the default ones found no mark or no job id: since 2026-12-06)
        out.append(again)
    mf = result.get("missing_frames") or []
    if mf:
        out.append("{} frame(s) missing from the sequence ({}{}): read as blank".format(
            len(mf), ", ".join(str(m) for m in mf[:8]), ", ..." if len(mf) > 8 else ""))
    if result.get("truncated"):
        out.append("the file is truncated: verified on its first {} readable frames".format(result.get("frames")))
    return out


def refuse_unsaved_relative(strip):
    """ValueError when ``strip`` names its file relative to a .blend not saved yet: ``//`` would be
    read from Blender's working folder, another file (before 2026-12-06 verified as this one)."""
    stored = strip.filepath if strip.type == "MOVIE" else strip.directory
    if stored.startswith("//") and not bpy.data.filepath and strip.id_data.library is None:
        raise ValueError("strip '{}' names its file relative to the .blend ('{}'), which is not saved yet: save the "
                         ".blend in the folder '//' means, or give the strip the file's full path".format(
                             strip.name, stored))


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
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene) if scene else None
        if strip is not None and strip.type == "META":  # (before 2026-12-06 "Select a movie or image strip")
            cls.poll_message_set("A meta strip holds other strips: open it (Tab) and verify a movie or image strip "
                                 "inside")
            return False
        return blend.poll_media_strip(cls, context)

    def prepare(self, context):
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene)
        refuse_unsaved_relative(strip)
        timing.refuse_other_stream(strip)
        remember_target(self, scene, strip)  # (found again after a rename meanwhile: job_target)
        self._file_key = actor_data.source_key(strip)  # (the file as it was read, not as it is when done)
        fps = scene.render.fps / scene.render.fps_base
        return verify_job, (actor_data.strip_source(strip), fps), {}

    def apply(self, context, result):
        from ...provenance.verify import job_ranges, printable

        _scene, strip, _ob = job_target(self)
        factor, why = placing(strip)
        clip_frames = timing.movie_frames(blend.strip_filepath(strip)) if factor not in (None, 1.0) else None
        ranges = strip_ranges(result, strip, factor, clip_frames) if why is None else []
        names = [e.filename for e in strip.elements] if strip.type == "IMAGE" else []
        bad = [[n, names.index(n) if n in names else None] for n in (result.get("manifests") or {}).get("invalid") or []]
        # the panel places the clip frames where the strip shows them when it draws (a strip moved,
        # trimmed, split or duplicated since: before 2026-12-06 it showed the frames of verify time)
        # each render job's own frames (a cut of two renders: before 2026-12-06 all credited to the file's job)
        jobs = job_ranges(result.get("watermark") or {}) if (result.get("watermark") or {}).get("detected") else []
        result = dict(result, scene_ranges=ranges, file_key=self._file_key, factor=factor, clip_frames=clip_frames,
                      unplaced=why, invalid_frames=bad, notes=caveats(result), c2pa=manifest_words(result), jobs=jobs)
        strip[blend.VERIFY_PROP] = json.dumps(result)
        w = result.get("watermark") or {}
        n = len(names)
        what = "'{}' ({}{})".format(strip.name, printable(result.get("file", "?")),
                                    " and {} more frames".format(n - 1) if n > 1 else "")
        if w.get("detected"):
            def said(frame_ranges):
                if why is None:
                    shown = strip_ranges(dict(result, watermark=dict(w, frame_ranges=frame_ranges)), strip, factor,
                                         clip_frames)
                    return ", ".join("{}-{}".format(a, b) for a, b in shown) or "none on the timeline"
                # (the file's own frames, counted from 0 as `reenact verify` counts them)
                return "{} of the file".format(", ".join("{}-{}".format(a, b - 1) for a, b in frame_ranges) or "none")

            each = ["job {}, synthesised frames {}".format(j["job_id"] or "unreadable", said(j["frame_ranges"]))
                    for j in jobs] or ["job {}, synthesised frames {}".format(
                        (w.get("payload") or {}).get("job_id") or "unreadable", said([]))]
            text = "{}: Reenact watermark, {} (false-positive probability {})".format(
                what, "; ".join(each), w.get("false_positive_probability"))
            text += "; not placed on the timeline: " + why if why else ""
        else:
            text = "{}: no Reenact watermark found".format(what)
        text += "; C2PA manifest " + result["c2pa"] + "".join("; " + c for c in result["notes"])
        report(self, "INFO", text)


classes = (REENACT_OT_verify_strip,)
