# SPDX-License-Identifier: GPL-3.0-or-later
import json

import bpy

from .. import blend
from .common import ReenactSequencerPanel


class SEQUENCER_PT_reenact_verify(ReenactSequencerPanel, bpy.types.Panel):
    bl_label = "Verify"
    bl_options = {"DEFAULT_CLOSED"}
    bl_order = 90

    def draw(self, context):
        layout = self.layout
        ed = blend.edit_scene(context).sequence_editor if blend.edit_scene(context) else None
        strip = ed.active_strip if ed else None
        layout.operator("reenact.verify_strip", icon="CHECKMARK")
        signed = blend.edit_scene(context).get("reenact_last_signed") if blend.edit_scene(context) else None
        if signed:  # the last render of the edit (blender/signing.py)
            layout.label(text="Last render: " + str(signed), icon="LOCKED")
        raw = strip.get(blend.VERIFY_PROP) if strip is not None else None
        if not raw:
            layout.label(text="Not verified yet")
            return
        res = json.loads(raw)
        from ..actor import source_key

        try:
            changed = res.get("source_key") not in (None, source_key(strip))
        except ValueError:
            changed = False
        if changed:  # (before 2026-12-05 the old file's verdict stayed on a strip given another file)
            layout.label(text="The strip's file changed since it was verified: verify again", icon="ERROR")
            return
        w, m = res.get("watermark") or {}, res.get("manifest") or {}
        col = layout.column(align=True)
        if w.get("detected"):
            col.label(text="Reenact watermark, job {}".format((w.get("payload") or {}).get("job_id", "?")),
                      icon="ERROR")
            col.label(text="Score {:.1f}, false-positive probability {}".format(
                float(w.get("score") or 0.0), w.get("false_positive_probability")))
            ranges = res.get("scene_ranges") or []
            for a, b in ranges:
                col.label(text="Synthesised: frames {}-{}".format(a, b))
            if not ranges:  # (the marked frames lie in the part trimmed off: the report said so, the panel not)
                col.label(text="Synthesised: none on the timeline (in the trimmed-off part)")
        else:
            col.label(text="No Reenact watermark", icon="CHECKMARK")
        if m.get("present"):
            col.label(text="C2PA: {} ({})".format("valid" if m.get("valid") else "INVALID", m.get("signer") or "?"))
            if m.get("valid"):  # (as the CLI's line says it; the panel did not before 2026-12-06)
                col.label(text="Signer not trusted" if not m.get("trusted") else "Trusted by this machine's local root "
                          "only" if m.get("trust_list") == "local root" else "Signer trusted")
            from ...provenance.verify import declared_synthesised

            acts = ", ".join(str(a.get("action", "?")) for a in m.get("actions") or [])
            if acts:
                col.label(text="Actions: " + acts)
            for a in m.get("actions") or []:  # what a signed edit declares synthesised
                for said in declared_synthesised(a):
                    col.label(text="Declared: " + said)
        else:
            col.label(text="C2PA: no manifest")
        ms = res.get("manifests")
        if ms and ms.get("frames", 0) > 1:  # an image sequence: every frame's manifest was read
            bad = ms["signed"] - ms["valid"]
            col.label(text="Signed frames: {} of {}{}".format(ms["signed"], ms["frames"],
                                                             ", {} INVALID".format(bad) if bad else ""),
                      icon="ERROR" if bad else "NONE")


classes = (SEQUENCER_PT_reenact_verify,)
