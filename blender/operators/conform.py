# SPDX-License-Identifier: GPL-3.0-or-later
"""Conform to Scene Rate: a movie strip that plays its clip at the clip's own speed in a scene
of another rate (Add ▸ Movie's Adjust Playback Rate), or a clip of variable frame rate (phone
footage, screen recordings), which Reenact's jobs refuse, gets a strip of the frames it shows by
Blender's mapping, at the scene's rate (reenact.video.conform, which says where the sequencer's
own pictures differ), directly above it; the original is muted and kept."""

import hashlib
import os

import bpy
from bpy.props import BoolProperty

from .. import actor as actor_data
from .. import blend, look
from .. import timing
from ..modal import ModalJobMixin, job_target, remember_target
from ..report import report


def conform_job(source, fps, out, lossless, adjusted, progress):
    """Worker thread: no bpy here."""
    from ...video.conform import conform_movie

    try:
        return conform_movie(source, fps, out, lossless=lossless, progress=progress, adjusted=adjusted)
    except ValueError as exc:
        if "played frame for frame: nothing to conform" in str(exc):
            raise ValueError("the strip plays its clip frame for frame at a constant rate already: nothing to conform "
                             "({})".format(os.path.basename(source))) from None
        raise


class REENACT_OT_conform_strip(ModalJobMixin, bpy.types.Operator):
    """Make a strip of the frames the active movie strip shows at the scene's rate (a clip of
    another rate played at its own speed skips or repeats frames, a clip of variable frame rate
    is shown by time, and Reenact's jobs need one evenly timed clip frame per timeline frame):
    the movie goes to reenact/conformed/, the new strip directly above with the same start, trims
    and look, and the original is muted"""

    bl_idname = "reenact.conform_strip"
    bl_label = "Conform to Scene Rate"
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin)

    job_label = "Conforming"
    cancel_note = "the strip is as it was"

    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (FFV1 .mkv) instead of H.264 (.mp4)")

    @classmethod
    def poll(cls, context):
        if not blend.poll_media_strip(cls, context):
            return False
        if blend.active_strip(blend.edit_scene(context)).type != "MOVIE":
            cls.poll_message_set("Select a movie strip (an image sequence plays at the scene's rate)")
            return False
        return True

    def prepare(self, context):
        from ...video.source import _as_rate

        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene)
        r = scene.render
        fps = _as_rate(r.fps / r.fps_base)
        clip_fps = timing.rate_adjusted(strip)  # (None: frame for frame; a clip of variable rate is the job's to find)
        if clip_fps and abs(clip_fps - float(fps)) <= 1e-4 * float(fps):
            raise ValueError("strip '{}' plays its {:.5g} fps clip at the rate of the clip it showed before; add the "
                             "clip again as a new strip".format(strip.name, clip_fps))
        root = os.path.join(os.path.dirname(os.path.dirname(actor_data.render_root())), "conformed")
        src = blend.strip_filepath(strip)
        stem = os.path.splitext(os.path.basename(src))[0]
        # named by the source's path too (and whether the strip played it at its own speed): cameras name their
        # clips alike, and before the evening of 2026-12-06 camA/C0001.mp4 and camB/C0001.mp4 conformed to one
        # C0001_25fps.mkv, the second replacing the movie the first conformed strip showed
        key = "{}|{}".format(os.path.normcase(os.path.abspath(src)), int(bool(clip_fps)))
        out = os.path.join(root, "{}_{:.5g}fps-{}{}".format(
            actor_data._safe(stem), float(fps), hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:6],
            ".mkv" if self.lossless else ".mp4"))
        os.makedirs(root, exist_ok=True)
        remember_target(self, scene, strip)  # (found again after a rename meanwhile: job_target)
        self._out, self._fps = out, float(fps)
        self._adjusted = bool(clip_fps)
        return conform_job, (blend.strip_filepath(strip), fps, out, self.lossless, self._adjusted), {}

    def apply(self, context, summary):
        scene, old, _ob = job_target(self)
        a, b = old.frame_final_start, old.frame_final_end
        new = blend.strips_of(scene, old).new_movie(
            name="{} {:.5g}fps".format(old.name, self._fps), filepath=self._out,
            channel=blend.free_channel_above(scene, old), frame_start=int(old.frame_start))
        try:
            blend.project_relative(new)
            new.frame_offset_start, new.frame_offset_end = old.frame_offset_start, old.frame_offset_end
            channel, moved = blend.channel_above(old, a, b, new=new)
            new.channel = channel
            note = "; ".join(n for n in (moved, look.match_look(new, old)) if n)
            new.blend_type, new.blend_alpha = old.blend_type, old.blend_alpha
        except BaseException:
            look.remove_strip(scene, new)  # (the original as it was)
            raise
        old.mute = True
        for s in blend.all_strips(scene):
            s.select = s == new
        scene.sequence_editor.active_strip = new
        how = "its variable frame rate evened as the timeline showed it: {} of the clip's {} frames left out, {} " \
              "shown twice".format(summary["dropped"], summary["clip_frames"], summary["repeated"]) \
            if summary.get("variable_rate") else \
            "{} of the clip's {} frames left out, as the timeline did".format(
                summary["dropped"], summary["clip_frames"])
        report(self, "INFO", "'{}': the {} frames '{}' showed, at {:.5g} fps ({}); '{}' is muted below it".format(
            new.name, summary["frames"], old.name, self._fps, how, old.name))
        if note:
            report(self, "WARNING", "strip '{}': {}".format(new.name, note))
        for w in summary.get("output_warnings", []):  # (a keyed shot's alpha; since 2026-12-06 said)
            report(self, "WARNING", w)


class REENACT_OT_hold_to_trim(bpy.types.Operator):
    """Show the same clip frames with a plain trim instead of a hold offset: a piece of a Hold
    Split (or a strip given a Hold Offset Start) starts into its clip, which Reenact's jobs do
    not follow; the strip keeps its place, length and frames, its start handle now trimming"""

    bl_idname = "reenact.hold_to_trim"
    bl_label = "Hold Offset to Trim"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not blend.poll_media_strip(cls, context):
            return False
        if not int(getattr(blend.active_strip(blend.edit_scene(context)), "animation_offset_start", 0) or 0):
            cls.poll_message_set("The active strip has no Hold Offset Start")
            return False
        return True

    def execute(self, context):
        strips = [s for s in blend.all_strips(blend.edit_scene(context))
                  if (s.select or s == blend.active_strip(blend.edit_scene(context)))
                  and s.type in ("MOVIE", "IMAGE") and int(getattr(s, "animation_offset_start", 0) or 0)]
        for s in strips:
            hold_to_trim(s)
        report(self, "INFO", "{}: the hold offset is a trim now, the same frames shown".format(
            ", ".join("'{}'".format(s.name) for s in strips)))
        return {"FINISHED"}


def hold_to_trim(strip):
    """``strip``'s hold offset (``animation_offset_start``) made a trim: its clip starts that many
    frames earlier on the timeline, and its start handle stays where it was."""
    hold = int(strip.animation_offset_start)
    a, b = int(strip.frame_final_start), int(strip.frame_final_end)
    start = int(strip.frame_start)
    strip.animation_offset_start = 0
    strip.frame_start = start - hold
    strip.frame_final_start, strip.frame_final_end = a, b
    if (int(strip.frame_final_start), int(strip.frame_final_end)) != (a, b):  # (Blender keeps handles in order)
        strip.frame_final_end, strip.frame_final_start = b, a


classes = (REENACT_OT_conform_strip, REENACT_OT_hold_to_trim)
