# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os

import bpy

from .. import blend
from .. import timing
from .common import ReenactSequencerPanel


def _frames(ranges):
    return ", ".join("{}-{}".format(a, b) if a != b else str(a) for a, b in ranges)


def _unplaced(strip, res):
    """Why the verdict's frames cannot be placed on the timeline (the report's words, kept with
    it: before 2026-12-06 the panel said "in the trimmed-off part" for a strip keeping another
    clip's rate), or None; a strip held or retimed since it was verified is said here too (read
    only: a panel's draw may not write, and the playback rate's test does)."""
    why = res.get("unplaced")
    if why is None and (int(getattr(strip, "animation_offset_start", 0) or 0)
                        or len(getattr(strip, "retiming_keys", ())) > 2 or getattr(strip, "speed_factor", 1.0) != 1.0):
        why = "the strip was retimed or given a Hold Offset since it was verified: verify again"
    return why


#: an image strip's footage key as last read (:func:`_source_key`): {identity: (when, key)}
_KEYS = {}
#: how long an image strip's key is kept between redraws (seconds)
KEY_SECONDS = 2.0


def _source_key(strip, source_key):
    """``source_key(strip)``; for an image strip, kept for :data:`KEY_SECONDS` while its folder,
    frame count and first and last files are the same (the panel draws at every frame of playback:
    before the evening of 2026-12-06 a 10,000-frame plate's every file was listed and stat'ed at
    each redraw, 50 ms)."""
    import time

    if strip.type != "IMAGE" or len(strip.elements) < 3:
        return source_key(strip)
    els = strip.elements
    directory = bpy.path.abspath(strip.directory, library=strip.id_data.library)
    ends = []
    for e in (els[0], els[len(els) - 1]):
        try:
            st = os.stat(os.path.join(directory, e.filename))
            ends.append((e.filename, st.st_size, st.st_mtime_ns))
        except OSError:
            ends.append((e.filename, None))
    ident = (strip.as_pointer(), directory, len(els), tuple(ends))
    now = time.monotonic()
    hit = _KEYS.get(ident)
    if hit is not None and now - hit[0] < KEY_SECONDS:
        return hit[1]
    key = source_key(strip)
    if len(_KEYS) > 64:
        _KEYS.clear()
    _KEYS[ident] = (now, key)
    return key


class SEQUENCER_PT_reenact_verify(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Verify"
    bl_options = {"DEFAULT_CLOSED"}
    bl_order = 90

    def draw(self, context):
        layout = self.layout
        scene = blend.edit_scene(context)
        ed = scene.sequence_editor if scene else None
        strip = ed.active_strip if ed else None
        layout.operator("reenact.verify_strip", icon="CHECKMARK")
        signed = scene.get("reenact_last_signed") if scene else None
        if signed:  # the last render of the edit (blender/signing.py)
            layout.label(text="Last render: " + str(signed), icon="LOCKED")
        raw = strip.get(blend.VERIFY_PROP) if strip is not None else None
        if not raw:
            layout.label(text="Not verified yet")
            return
        res = json.loads(raw)
        from ..actor import source_key

        if res.get("file_key") is None:  # (a verdict of before 2026-12-06: its key was the path alone)
            layout.label(text="Verified by an earlier version of Reenact: verify again", icon="ERROR")
            return
        try:
            changed = res["file_key"] != _source_key(strip, source_key)
        except ValueError:
            changed = False
        if changed:  # another file, or this one written over (before 2026-12-06 the path alone was compared)
            try:  # (a file not there is said as such: before 2026-12-06 "changed", in a copy without its renders)
                gone = not os.path.isfile(blend.strip_filepath(strip))
            except ValueError:
                gone = False
            layout.label(text="The strip's file is missing: relink it (Strip ▸ Change Path), then verify again"
                         if gone else "The strip's file changed since it was verified: verify again", icon="ERROR")
            return
        w, m = res.get("watermark") or {}, res.get("manifest") or {}
        col = layout.column(align=True)
        if res.get("file"):
            col.label(text="File: " + os.path.basename(str(res["file"])))
        for note in res.get("notes") or []:  # a truncated file, missing frames (as `reenact verify` says)
            col.label(text=note[:1].upper() + note[1:], icon="ERROR")
        why = _unplaced(strip, res)
        factor, clip_frames = res.get("factor") or 1.0, res.get("clip_frames")
        if w.get("detected"):
            # each render job with its own frames (a cut of two renders: before 2026-12-06 the second
            # job's frames were listed under the first's)
            jobs = res.get("jobs") or [{"job_id": (w.get("payload") or {}).get("job_id"),
                                        "frame_ranges": w.get("frame_ranges") or []}]
            for k, job in enumerate(jobs):
                col.label(text="{}, job {}".format("Reenact watermark" if k == 0 else "Another render's mark",
                                                   job.get("job_id") or "unreadable"), icon="ERROR")
                if k == 0:
                    col.label(text="Score {:.1f}, false-positive probability {}".format(
                        float(w.get("score") or 0.0), w.get("false_positive_probability")))
                if why:
                    col.label(text="Synthesised: file frames " + (_frames([[a, b - 1] for a, b in job.get(
                        "frame_ranges") or []]) or "none"))
                else:  # where the strip shows them now (moved, trimmed, split or duplicated since: mapped here)
                    ranges = timing.shown_ranges(strip, job.get("frame_ranges") or [], factor, clip_frames)
                    for a, b in ranges:
                        col.label(text="Synthesised: frames {}-{}".format(a, b))
                    if not ranges:  # (the marked frames lie in the part trimmed off: the report said so)
                        col.label(text="Synthesised: none on the timeline (in the trimmed-off part)")
            if why:
                col.label(text="Not placed on the timeline: " + why)
        else:
            col.label(text="No Reenact watermark", icon="CHECKMARK")
        ms = res.get("manifests")
        if m.get("present"):
            col.label(text="C2PA{}: {} ({})".format(" of " + m["of"] if m.get("of") and ms else "",
                                                    "valid" if m.get("valid") else "INVALID", m.get("signer") or "?"))
            if m.get("valid"):  # (as the CLI's line says it; the panel did not before 2026-12-06)
                col.label(text="Signer not trusted" if not m.get("trusted") else "Trusted by this machine's local root "
                          "only" if m.get("trust_list") == "local root" else "Signer trusted")
            from ...provenance.verify import declared_synthesised, ingredient_words

            acts = ", ".join(str(a.get("action", "?")) for a in m.get("actions") or [])
            if acts:
                col.label(text="Actions: " + acts)
            for a in m.get("actions") or []:  # what a signed edit declares synthesised
                for said in declared_synthesised(a):
                    col.label(text="Declared: " + said)
            todo = [(ing, 0) for ing in m.get("ingredients") or []]
            while todo:  # what its ingredients' manifests say (a restyle of a dub: the dub's; since 2026-12-06)
                ing, depth = todo.pop(0)
                if ing.get("manifest"):
                    col.label(text="  " * depth + "Made from " + ingredient_words(ing))
                    todo[:0] = [(sub, depth + 1) for sub in ing["manifest"].get("ingredients") or []]
        else:
            col.label(text="C2PA: no manifest")
        if ms and ms.get("frames", 0) > 1:  # an image sequence: every frame's manifest was read
            bad = ms["signed"] - ms["valid"]
            col.label(text="Signed frames: {} of {}{}".format(ms["signed"], ms["frames"],
                                                             ", {} INVALID".format(bad) if bad else ""),
                      icon="ERROR" if bad else "NONE")
            for name, k in res.get("invalid_frames") or []:  # which (before 2026-12-06 not named)
                at = timing.shown_ranges(strip, [[k, k + 1]], factor, clip_frames) if k is not None and not why else []
                col.label(text="INVALID: {}{}".format(name, " (frame {})".format(_frames(at[:1])) if at else
                                                      " (not on the timeline)" if k is not None and not why else ""),
                          icon="ERROR")
            if bad > len(res.get("invalid_frames") or []):
                col.label(text="(and {} more)".format(bad - len(res.get("invalid_frames") or [])))


classes = (SEQUENCER_PT_reenact_verify,)
