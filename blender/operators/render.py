# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Performance and Preview Frame: the actor's performance (read from its curves) becomes
photoreal footage composited into the original frames, as a new strip above the original
(see docs/compositing.md); Render Edited Actors: every edited actor of the scene in one job."""

import os
import time

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from .. import blend
from .. import timing
from .. import farm
from .. import actor as actor_data
from .. import layers
from .. import props
from .. import shots
from ..modal import ModalJobMixin
from ..report import EXPECTED, describe, report

REGION_ITEMS = farm.REGION_ITEMS
ACCEPT_FOOTAGE = dict(name="Accept Re-encoded Footage", default=False,
                      description="Go ahead although the strip's pixels or frame rate differ from the footage the actor "
                                  "was tracked in (a re-encoded copy of the same shot); its frame size and length must "
                                  "still match")
OUTPUT_ITEMS = farm.OUTPUT_ITEMS
FOOTAGE_DETAIL = dict(name="Footage Detail", default=True,
                      description="Keep the footage's fine detail (skin, stubble), moved by the face mesh to the "
                                  "performance, wherever the render agrees with it; off: the renderer's crop alone "
                                  "(softer on faces larger than the crop)")
KEEP_FRONT = dict(name="Keep What Is in Front", default=True,
                  description="Find what stands in front of the face in the footage (a hand, a microphone, a cup) and keep "
                              "it in front of the render; off: draw over it")
MOUTH = dict(
    name="Mouth", default="AUTO",
    items=[("AUTO", "Auto", "The dubbing actor's mouth when the dub opens the mouth beyond anything the shot's "
                            "footage shows, else the shot's own mouth"),
           ("SHOT", "Shot", "The shot's own frame with the nearest mouth, moved by the face mesh to the "
                            "performance's lips and jaw: the actor's own lips and teeth"),
           ("DRIVER", "Driver", "The footage moved to the performance's lips and jaw, with the dubbing actor's "
                                "mouth interior (teeth, tongue) in the opening"),
           ("RENDERER", "Renderer", "The renderer network draws the mouth")],
    description="Mouth region: where the lower face of the frames whose mouth the performance changes comes from. "
                "Head region: the shot's own mouth, with the dubbing actor's mouth interior in the opening for "
                "Driver, and for Auto where the performance opens the mouth beyond the footage; Renderer: the network. "
                "Face region: an edited mouth from the shot's frame with the nearest mouth (Auto: up to twice the "
                "footage's widest opening, the network beyond; Driver is for dubs)")


# --------------------------------------------------------------------------- helpers

USE_REFERENCE = dict(name="Draw From Frames", default=False,
                     description="Take the actor only from the timeline frames From..To: the renderer's reference "
                                 "frames, the shot's mouths and eyes, and with region Face the faces of the frames "
                                 "outside the range, drawn from it instead of their own (a hand over the face, a "
                                 "damaged stretch)")


def _reference_frames(op, strip, base):
    """Clip frames (c, d) of the operator's Draw From Frames range, checked against the actor's
    Track (one line), or None."""
    if not op.use_reference:
        return None
    from ...render.ranges import reference_track

    ref = (int(op.reference_first) - int(strip.frame_start), int(op.reference_last) + 1 - int(strip.frame_start))
    try:
        reference_track(base, ref)
    except ValueError as exc:
        raise ValueError("Draw From Frames {}..{}: {}".format(op.reference_first, op.reference_last, exc)) from None
    return ref


def _face_driver(op):
    """Mouth Driver is a dub's: refused for region Face in one line, before any work."""
    if op.region == "face" and op.mouth == "DRIVER":
        raise ValueError("Mouth Driver is for regions Mouth and Head; for region Face choose Auto, Shot or Renderer")


def _poll_actor(cls, context):
    if bpy.app.background and blend.edit_scene(context) is not None:
        return True  # a farm or a script names its actor (``actor``); execute says what is wrong
    if blend.edit_scene(context) is None or actor_data.active_actor(context) is None:
        cls.poll_message_set("Make a tracked actor active (Track Actor first)")
        return False
    return True


# --------------------------------------------------------------------------- Render Performance
def render_job(track, source, model, out, frames, region, crop_track, lossless, cache_dir, prefer_gpu, sign,
               progress, chunk=None, job_id=None, accept_footage=False, detail=True, mouth_from=None,
               mouth_mode="auto", reference_frames=None, front=True, codec=None):
    """Worker thread: no bpy here. ``sign``: (certificate, key) paths or (None, None)."""
    from ...render.pipeline import render_clip

    return render_clip(track, source, model, out=out, frames=frames, region=region, cache_dir=cache_dir,
                       progress=progress, crop_track=crop_track, lossless=lossless, prefer_gpu=prefer_gpu,
                       sign_cert=sign[0], sign_key=sign[1], chunk=chunk, job_id=job_id,
                       accept_footage=accept_footage, detail=detail, mouth_from=mouth_from, mouth_mode=mouth_mode,
                       reference_frames=reference_frames, front=front, codec=codec)


def render_actors_job(actors, source, model, out, frames, region, lossless, cache_dir, prefer_gpu, sign, progress,
                      chunk=None, job_id=None, accept_footage=False, detail=True, mouth_mode="auto", front=True,
                      codec=None):
    """Worker thread (no bpy): every actor of a strip into one output (render/actors.py)."""
    from ...render.actors import render_actors

    return render_actors(actors, source, model, out=out, frames=frames, region=region, cache_dir=cache_dir,
                         progress=progress, lossless=lossless, prefer_gpu=prefer_gpu, sign_cert=sign[0],
                         sign_key=sign[1], chunk=chunk, job_id=job_id, accept_footage=accept_footage, detail=detail,
                         mouth_mode=mouth_mode, front=front, codec=codec)


def _strip_actors(op, ob, scene, strip, track, base, mouth_from, reference):
    """The render's actors when Every Actor of the Strip is on: this one first, then the strip's
    other tracked actors (each its own performance, renderer and dubbing actor), or None."""
    others = farm.other_actors(ob, scene, strip)
    if not op.all_actors or not others:
        return None
    actors = [{"track": track, "crop_track": base, "mouth_from": mouth_from, "reference_frames": reference,
               "model": actor_data.model_of(ob)}]
    for o in others:
        b = actor_data.tracked_track(o)
        for w in actor_data.check_strip_footage(o, strip, b, op.accept_footage):
            report(op, "WARNING", w)
        t = layers.curves_to_track(o, scene, b)
        m = actor_data.driver_of(o, t) if op.region in ("mouth", "head") and op.mouth in ("AUTO", "DRIVER") else None
        actors.append({"track": t, "crop_track": b, "mouth_from": m, "model": actor_data.model_of(o)})
    return actors


def _render_inputs(context, name="", op=None, accept=False):
    """The actor (``name``, else the active one), its scene and strip, the render folder and its
    tracked Track, checked against the footage the strip shows now (warnings reported on
    ``op``)."""
    ob, scene, strip, root = farm.render_target(context, name)
    base = actor_data.tracked_track(ob)
    warnings = actor_data.check_strip_footage(ob, strip, base, accept)
    # (extended after tracking; the pieces of a shot cut after tracking are rendered with it)
    warnings += [w for w in (actor_data.untracked_note(p, base) for p in shots.pieces(strip)) if w]
    for w in warnings:
        if op is not None:
            report(op, "WARNING", w)
    return ob, scene, strip, root, base

class REENACT_OT_render_performance(ModalJobMixin, bpy.types.Operator):
    """Render the active actor's performance (its curves, edits included) with its renderer,
    composite it into the original frames and add the result as a new strip above the original"""

    bl_idname = "reenact.render_performance"
    bl_label = "Render Performance"
    bl_options = {"REGISTER", "UNDO"}

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    use_range: BoolProperty(name="Frame Range", default=False,
                            description="Render only these timeline frames; the others are the footage's own")
    frame_first: IntProperty(name="First", default=1, description="First timeline frame to render")
    frame_last: IntProperty(name="Last", default=250, description="Last timeline frame to render (included)")
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False, description="Lossless movie (RGB H.264)")
    cpu: BoolProperty(name="CPU Only", default=False, description="Do not try CUDA")
    detail: BoolProperty(**FOOTAGE_DETAIL)
    keep_front: BoolProperty(**KEEP_FRONT)
    mouth: EnumProperty(**MOUTH)
    use_reference: BoolProperty(**USE_REFERENCE)
    reference_first: IntProperty(name="From", default=1, description="First timeline frame to draw the actor from")
    reference_last: IntProperty(name="To", default=250, description="Last timeline frame to draw the actor from")
    # a render farm's task (docs/farm.md): not in the dialog
    actor: StringProperty(name="Actor", default="", options={"SKIP_SAVE"},
                          description="Actor object to render (default: the active actor)")
    use_chunk: BoolProperty(name="Chunk", default=False, options={"SKIP_SAVE"},
                            description="Render only the timeline frames Chunk First..Chunk Last of the range "
                                        "into the image folder and add no strip (Assemble Render adds it)")
    chunk_first: IntProperty(name="Chunk First", default=1, options={"SKIP_SAVE"})
    chunk_last: IntProperty(name="Chunk Last", default=1, options={"SKIP_SAVE"})
    job_id: StringProperty(name="Job ID", default="", options={"SKIP_SAVE"},
                           description="Job id carried by the watermark (default: derived from the footage, "
                                       "the renderer and the actor)")
    accept_footage: BoolProperty(**ACCEPT_FOOTAGE)
    all_actors: BoolProperty(name="Every Actor of the Strip", default=False,
                             description="Render every tracked actor of this strip, each with its own performance, "
                                         "renderer and dubbing actor, into one result strip (a two-shot dubbed for "
                                         "both); off: this actor only, in a strip of its own")

    job_label = "Rendering"
    cancel_note = "the frames already rendered are kept (cache and frame folder); render again to resume"

    @classmethod
    def poll(cls, context):
        return _poll_actor(cls, context)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "region", expand=True)
        layout.prop(self, "use_range")
        row = layout.row(align=True)
        row.enabled = self.use_range
        row.prop(self, "frame_first")
        row.prop(self, "frame_last")
        layout.prop(self, "output")
        if self.output == "MOVIE":
            layout.prop(self, "lossless")
        layout.prop(self, "cpu")
        layout.prop(self, "detail")
        layout.prop(self, "keep_front")
        layout.prop(self, "mouth")
        layout.prop(self, "use_reference")
        row = layout.row(align=True)
        row.enabled = self.use_reference
        row.prop(self, "reference_first")
        row.prop(self, "reference_last")
        layout.prop(self, "accept_footage")
        layout.prop(self, "all_actors")

    def prepare(self, context):
        ob, scene, strip, root, base = _render_inputs(context, self.actor, self, self.accept_footage)
        track = layers.curves_to_track(ob, scene, base)
        n = int(base.source_frames) or int(strip.frame_duration)
        if self.use_range:
            a = int(self.frame_first) - int(strip.frame_start)
            b = int(self.frame_last) + 1 - int(strip.frame_start)
            if not (0 <= a < b <= n):
                raise ValueError("frames {}..{} are outside strip '{}' (frames {}..{})".format(
                    self.frame_first, self.frame_last, strip.name, int(strip.frame_start), int(strip.frame_start) + n - 1))
        else:  # what the strip shows, and the other pieces of its shot (cut, or duplicated) with it
            a, b = shots.clip_span(shots.pieces(strip))
            b = min(n, b)
        chunk = None
        if self.use_chunk:
            chunk = (int(self.chunk_first) - int(strip.frame_start), int(self.chunk_last) + 1 - int(strip.frame_start))
            if not (a <= chunk[0] < chunk[1] <= b):
                raise ValueError("chunk {}..{} is not inside the frames {}..{} of the render".format(
                    self.chunk_first, self.chunk_last, a + int(strip.frame_start), b - 1 + int(strip.frame_start)))
            if self.output != "IMAGES" and chunk != (a, b):
                raise ValueError("a chunk renders into the image folder; Assemble Render makes the movie")
        self._chunk = chunk
        _face_driver(self)
        reference = _reference_frames(self, strip, base)
        # a dub from another actor: the driver's mouth (a performance no transfer made has none)
        mouth_from = (actor_data.driver_of(ob, track) if self.region in ("mouth", "head") and self.mouth in ("AUTO", "DRIVER")
                      else None)
        if self.region in ("mouth", "head") and self.mouth == "DRIVER" and mouth_from is None:
            raise ValueError("Mouth Driver: the performance was not transferred from another actor here "
                             "(Transfer Performance records the dubbing actor)")
        actors = _strip_actors(self, ob, scene, strip, track, base, mouth_from, reference)
        self._all = actors is not None
        name, self._result, self._key = farm.result_of(strip, ob, self.region, self._all)
        out = farm.output_path(os.path.join(root, name), self.output, self.lossless, take=chunk is None)
        self._ob_name, self._scene_name, self._strip_name = ob.name, scene.name, strip.name
        self._out = out
        cache = actor_data.cache_root()
        sign = props.signing_paths(context)
        if self._all:
            return (render_actors_job, (actors, actor_data.strip_source(strip), actor_data.model_of(ob), out, (a, b),
                                        self.region, self.lossless, cache, not self.cpu, sign),
                    {"chunk": chunk, "job_id": self.job_id or None, "accept_footage": self.accept_footage,
                     "detail": self.detail, "mouth_mode": self.mouth.lower(), "front": self.keep_front,
                     "codec": farm.movie_codec(self.output)})
        return (render_job, (track, actor_data.strip_source(strip), actor_data.model_of(ob), out, (a, b), self.region, base,
                             self.lossless, cache, not self.cpu, sign), {"chunk": chunk, "job_id": self.job_id or None,
                                                                        "accept_footage": self.accept_footage,
                                                                        "detail": self.detail, "mouth_from": mouth_from,
                                                                        "mouth_mode": self.mouth.lower(),
                                                                        "reference_frames": reference,
                                                                        "codec": farm.movie_codec(self.output),
                                                                        "front": self.keep_front})

    def apply(self, context, summary):
        from ...render.front import run_warning
        from ...render.shothead import unseen_pose_warning

        ob = bpy.data.objects.get(self._ob_name)
        unseen = unseen_pose_warning(summary.get("unseen_pose"), offset=int(ob.reenact.frame_offset) if ob is not None else 0)
        if unseen:  # in timeline frames, where the animator looks
            report(self, "WARNING", unseen)
        if self._chunk is not None:  # a farm task: the frames are on disk, Assemble Render adds the strip
            report(self, "INFO", "rendered chunk {}..{}: {} frame(s) written, {} rendered, {} from the cache, on {}".format(
                self.chunk_first, self.chunk_last, summary["frames"], summary["rendered"], summary["cached"],
                summary["provider"].replace("ExecutionProvider", "")))
            return
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        for w in summary.get("output_warnings", []):  # what the output cannot keep (alpha in a movie, bits)
            report(self, "WARNING", w)
        for run in (summary.get("in_front") or {}).get("runs", []):  # in timeline frames
            report(self, "WARNING", run_warning(*run, offset=int(strip.frame_start)))
        # (one strip for the strip's actors together, Every Actor of the Strip)
        st, copies = shots.add_result_strips(scene, strip, self._out, summary["frames"], self._result, key=self._key)
        for s in [st] + copies:  # what a result strip could not take from its piece of the shot
            if s.get("reenact_look_note"):
                report(self, "WARNING", "strip '{}': {}".format(s.name, s["reenact_look_note"]))
        if self._all and summary.get("overlap"):  # in timeline frames, where the compositor looks
            from ...render.actors import overlap_warning

            report(self, "WARNING", overlap_warning(summary["overlap"], offset=int(strip.frame_start)))
        st["reenact_provider"] = summary["provider"]
        st["reenact_rendered"] = summary["rendered"]
        st["reenact_cached"] = summary["cached"]
        if ob is not None:
            ob["reenact_last_render"] = "{} · {}".format(os.path.basename(self._out), summary["provider"])
        report(self, "INFO", "rendered {} frame(s), {} from the cache, on {} -> strip '{}' in channel {}{}".format(
            summary["rendered"], summary["cached"], summary["provider"].replace("ExecutionProvider", ""),
            st.name, st.channel, shots.copies_note(copies)))


# --------------------------------------------------------------------------- Preview Frame


class REENACT_OT_preview_frame(ModalJobMixin, bpy.types.Operator):
    """Re-render the current frame with the active actor's performance (or every actor of its
    strip) and show it in the sequencer (a one-frame strip above the original)"""

    bl_idname = "reenact.preview_frame"
    bl_label = "Preview Frame"
    bl_options = {"REGISTER", "UNDO"}

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    detail: BoolProperty(**FOOTAGE_DETAIL)
    keep_front: BoolProperty(**KEEP_FRONT)
    mouth: EnumProperty(**MOUTH)
    use_reference: BoolProperty(**USE_REFERENCE)
    reference_first: IntProperty(name="From", default=1, description="First timeline frame to draw the actor from")
    reference_last: IntProperty(name="To", default=250, description="Last timeline frame to draw the actor from")
    accept_footage: BoolProperty(**ACCEPT_FOOTAGE)
    all_actors: BoolProperty(name="Every Actor of the Strip", default=False,
                             description="Preview every tracked actor of this strip, each with its own performance, "
                                         "renderer and dubbing actor, as Render Performance lays them together")

    @classmethod
    def poll(cls, context):
        return _poll_actor(cls, context)

    job_label = "Preview"

    def prepare(self, context):
        """Main thread: the actor, its strip and the performance read from Blender; the frame,
        the mouth's plan, the room behind the actor (region Head, seconds to a minute the first
        time on a shot) and the render happen in :func:`preview_job`, with progress and Esc."""
        self._t0 = time.perf_counter()
        ob, scene, strip, root, base = _render_inputs(context, "", self, self.accept_footage)
        f = int(blend.edit_scene(context).frame_current)
        # the piece of the shot under the frame (the shot cut, a piece moved; else the strip itself)
        view = max((p for p in shots.pieces(strip) if p.frame_final_start <= f < p.frame_final_end),
                   key=lambda p: (p == strip, p.channel), default=strip)
        i = timing.shown_clip_frame(view, f)  # (a reversed or strobed shot shows another than f - start)
        r = i - int(base.frame_start)
        if not (0 <= r < base.n_frames):
            raise ValueError("frame {} is outside the actor's Track (frames {}..{}){}".format(
                f, int(view.frame_start) + base.frame_start, int(view.frame_start) + base.frame_start + base.n_frames - 1,
                "" if not actor_data.untracked_note(view, base) else ": the strip was extended after tracking; "
                "Track Again, Keeping Edits (Track panel) includes it"))
        _face_driver(self)
        actor = self._actor_inputs(ob, scene, base, i, _reference_frames(self, strip, base))
        others = []
        if self.all_actors:  # the strip's other actors in this frame, as Render Performance takes them
            for o in farm.other_actors(ob, scene, strip):
                b = actor_data.tracked_track(o)
                for w in actor_data.check_strip_footage(o, strip, b, self.accept_footage):
                    report(self, "WARNING", w)
                if 0 <= i - int(b.frame_start) < b.n_frames:
                    others.append(self._actor_inputs(o, scene, b, i, None, active=False))
        root_folder = os.path.join(root, "preview")
        # alternate two names so the sequencer never shows a stale cached image
        prev = scene.sequence_editor.strips_all.get(blend.PREVIEW_STRIP) if scene.sequence_editor else None
        name = "preview_b.png" if prev is not None and prev.elements[0].filename == "preview_a.png" else "preview_a.png"
        self._ob_name, self._scene_name, self._strip_name, self._frame = ob.name, scene.name, view.name, f
        return (preview_job, (*actor[:3], actor_data.strip_source(strip), i, *actor[3:],
                              actor_data.cache_root(), os.path.join(root_folder, name)), {"others": others})

    def _actor_inputs(self, ob, scene, base, i, reference, active=True):
        """(window rows, whole performance, footage Track, renderer, plan) of actor ``ob`` for
        clip frame ``i`` (:func:`preview_job`'s); ``active``: the actor the options are for (the
        others draw a dubbing actor's mouth where they have one, as Render Performance does)."""
        from ...render.conditioning import window_indices
        from ...render.pipeline import get_renderer
        from ...render.ranges import pool_rows
        from ...render.renderer import model_path

        model = actor_data.model_of(ob)
        model_name = os.path.basename(model_path(model))
        try:
            renderer = get_renderer(model)
        except EXPECTED:
            raise
        except Exception as exc:  # onnxruntime, memory: one line naming the model, the .blend as it was
            raise ValueError(describe(exc, model_name)) from None
        r = i - int(base.frame_start)
        rows = [int(k) for k in window_indices(r, renderer.window, base.n_frames)]
        track = layers.performance_rows(ob, base, scene, rows)
        # the mouth, the head's source frames and the held-out faces are chosen on the whole
        # performance (the preview's ``track`` holds only the window's rows), as Render
        # Performance does, so the preview shows what the render will draw
        full = layers.curves_to_track(ob, scene, base)
        mouth_from = None
        if self.region in ("mouth", "head") and self.mouth in ("AUTO", "DRIVER"):
            mouth_from = actor_data.driver_of(ob, full)
        if active and self.region in ("mouth", "head") and self.mouth == "DRIVER" and mouth_from is None:
            raise ValueError("Mouth Driver: the performance was not transferred from another actor here "
                             "(Transfer Performance records the dubbing actor)")
        plan = {"region": self.region, "detail": self.detail, "mouth": self.mouth, "mouth_from": mouth_from,
                "front": self.keep_front,
                "accept_footage": self.accept_footage, "reference": reference, "allowed": pool_rows(base, reference),
                "xf": actor_data.crop_transforms_of(base, renderer.size), "model_name": model_name}
        return track, full, base, renderer, plan

    def apply(self, context, result):
        from ...render.shothead import unseen_pose_warning

        path, info = result
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        ob = bpy.data.objects.get(self._ob_name)
        st = blend.preview_strip(scene, strip, path, self._frame, actor=self._ob_name)
        if st.get("reenact_look_note"):
            report(self, "WARNING", "preview: {}".format(st["reenact_look_note"]))
        ms = (time.perf_counter() - self._t0) * 1000.0
        if ob is not None:
            ob["reenact_last_preview_ms"] = round(ms, 1)
        if info.get("unseen_pose"):  # (this frame; in timeline frames)
            report(self, "WARNING", unseen_pose_warning(info["unseen_pose"],
                                                        offset=int(ob.reenact.frame_offset) if ob is not None else 0))
        if info.get("overlap"):  # (this frame: an actor's change cut at another's part, as a render names it)
            from ...render.actors import overlap_warning

            report(self, "WARNING", overlap_warning([self._frame]))
        report(self, "INFO", "preview of frame {}{} in {:.0f} ms ({}, {})".format(
            self._frame, ", {} actors".format(info["actors"]) if info.get("actors") else "", ms,
            "driver's mouth" if info.get("warped") else "cached" if info["cached"] else "rendered",
            info["provider"].replace("ExecutionProvider", "")))
        self._result = {"ms": ms, "info": info, "strip": st.name, "path": path}


def preview_job(track, full, base, source, i, renderer, plan, cache_dir, path, progress, others=()):
    """Worker thread of Preview Frame (no bpy here): clip frame ``i`` of ``source`` with the
    performance drawn (:func:`~reenact.render.oneframe.render_frame`; ``track``: the window's
    rows, ``full``: the whole performance, ``base``: the footage's Track), written to ``path``
    (PNG). ``others``: the strip's other actors, (track, full, base, renderer, plan) each, drawn
    each over the footage and laid together with this one as a several-actor render lays its
    passes (:func:`~reenact.render.actors.merge_frame`), marked once. Returns (path, this actor's
    render_frame info). onnxruntime's and memory errors become one line naming the model (a
    ValueError), as the operator reports them."""
    import numpy as np

    from ...progress import Cancelled
    from ...video.encode import write_png

    def step(message, done=0, total=1):
        if progress(done, total, message) is False:
            raise Cancelled()

    step("reading the frame")
    frame = blend.read_frame(source, i)
    out, info = _preview_one(track, full, base, source, i, renderer, plan, cache_dir, frame, progress, step,
                             watermark=not others)
    if others:
        from ...render.actors import merge_frame
        from ...render.cache import source_identity
        from ...render.marking import render_payload
        from ...render.plates import footage_area

        renders, tracks = [out if _drew(info) else None], [full]
        for k, (t, fu, b, rd, pl) in enumerate(others):
            o, inf = _preview_one(t, fu, b, source, i, rd, pl, cache_dir, frame, progress,
                                  lambda m, d=0, n=1, k=k: step("actor {}/{}: {}".format(k + 2, len(others) + 1, m), d, n),
                                  watermark=False)
            renders.append(o if _drew(inf) else None)
            tracks.append(fu)
        # (the job id of the render of them all: the first actor's, as render_actors)
        mark = (render_payload(None, source_identity(source), renderer, base), footage_area(source, base))
        out, info["overlap"] = merge_frame(i, frame, renders, tracks, mark)
        info["actors"] = len(renders)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_png(path, np.asarray(out, np.uint8), compression=1)
    return path, info


def _drew(info):
    """True when render_frame drew the frame (rendered, from the cache or warped), not the footage."""
    return bool(info.get("rendered") or info.get("cached") or info.get("warped"))


def _preview_one(track, full, base, source, i, renderer, plan, cache_dir, frame, progress, step, watermark=True):
    """One actor's Preview Frame render of clip frame ``i`` (``frame``: its pixels): (frame, info)."""
    from ...progress import Cancelled
    from ...render.cache import source_identity
    from ...render.oneframe import render_frame

    region, mode = plan["region"], plan["mouth"].lower()
    mouth = head = face = front = None
    try:
        if plan.get("front", True):  # what stands in front of the face, as the render finds it (its shot
            from ...render.front import in_front  # surveyed once, kept in the cache): never a source

            front = in_front(base, track, source, [int(i) - int(track.frame_start)], progress=progress, total=1,
                             cache_dir=cache_dir)
            base = front.sources() if front is not None else base
        if region in ("mouth", "face") and mode != "renderer" and not (region == "face" and not plan["detail"]):
            from ...render.rewrite import face_mouth, prepare_mouth

            if region == "face":
                mouth = face_mouth(full, base, source, mode, plan["allowed"])[0]
            else:
                mouth = prepare_mouth(full, base, source, plan["mouth_from"], mode, plan["accept_footage"],
                                      plan["allowed"])[0]
        if region == "face" and plan["detail"] and plan["reference"] is not None:  # on the whole performance
            from ...render.shotface import preview_face

            face = preview_face(base, full, source, plan["allowed"], renderer.size, plan["xf"])
        if region == "head":  # the head's source frames are chosen on the whole performance
            from ...render.plates import stored_plate
            from ...render.rewrite import head_donor
            from ...render.shothead import ShotHead

            donor = head_donor(full, base, plan["mouth_from"], mode, plan["accept_footage"], source)[0]
            if front is not None:  # (a driver's frame with a hand over his mouth lends none, as the render)
                from ...render.front import hide_driver

                hide_driver(front, donor, progress=progress, total=1)
            plate = stored_plate(source, base, cache_dir, progress=lambda d, t: progress(
                d, t, "the room behind the actor {}/{}".format(d, t)))
            head = ShotHead(base, full, source, plate, mouth=mode != "renderer", donor=donor, pool=plan["allowed"])
        step("rendering")
        # region head: the crop follows the performance's head, not the footage's
        return render_frame(track, frame, i, renderer, region=region, cache_dir=cache_dir,
                            transforms=None if region == "head" else plan["xf"], crop_track=base,
                            source_id=source_identity(source), video=source,
                            accept_footage=plan["accept_footage"], detail=plan["detail"], mouth=mouth,
                            mouth_mode="auto" if mouth is not None else "renderer", shot_head=head,
                            shot_face=face, reference_frames=plan["reference"], front=front, watermark=watermark)
    except (Cancelled,) + EXPECTED:
        raise
    except Exception as exc:
        raise ValueError(describe(exc, plan["model_name"])) from exc
    finally:
        for held in (mouth, head, face):
            if held is not None:
                held.close()
        from ...render.destination import forget

        forget()


# --------------------------------------------------------------------------- Render Edited Actors
# every actor of the scene whose performance was edited (keys, a transfer) rendered one after the
# other in one job, with one progress bar and Esc, each into its own result strip as Render
# Performance makes it: a compositor's reel of dubbed shots in one go instead of one click a shot

class _ActorRender:
    """Render Performance's options for one actor (its defaults, the batch's region and output):
    what its ``prepare`` and ``apply`` read and keep, reporting through the batch operator."""

    def __init__(self, op, name):
        empty = {bpy.props.BoolProperty: False, bpy.props.IntProperty: 0, bpy.props.FloatProperty: 0.0,
                 bpy.props.StringProperty: ""}
        for key, prop in REENACT_OT_render_performance.__annotations__.items():  # (the declared properties)
            kw = getattr(prop, "keywords", {})
            items = kw.get("items")
            default = kw["default"] if "default" in kw else (
                items[0][0] if items else empty.get(getattr(prop, "function", None)))
            setattr(self, key, default)
        self.region, self.output, self.lossless, self.cpu = op.region, op.output, op.lossless, op.cpu
        self.actor, self.mouth = name, "AUTO"
        self._op = op

    def report(self, level, message):
        self._op.report(level, message)


def edited_actors(scene):
    """(the actors of ``scene`` whose curves differ from their Track (keys, a transfer), in the
    order of their strips on the timeline; [(actor, why)] of those left out: a Track or strip
    that cannot be found)."""
    out, skipped = [], []
    for ob in actor_data.actor_objects(scene):
        try:
            tracked = actor_data.load_actor_track(ob)
            if layers.edited_frames(ob, layers.curves_to_track(ob, scene, tracked), tracked):
                _scene, strip = actor_data.actor_strip(ob)
                out.append((int(strip.frame_final_start), int(strip.channel), ob.name))
        except EXPECTED as exc:
            skipped.append((ob.name, str(exc)))
    return [name for _f, _c, name in sorted(out)], skipped


class Failed:
    """A render of Render Edited Actors that failed: its one line."""

    def __init__(self, line):
        self.line = line

    def __repr__(self):
        return "Failed({!r})".format(self.line)


def batch_job(jobs, progress):
    """Worker thread (no bpy): each actor's render job in turn, one progress over them all.
    Returns the summaries of the renders done (all of them, or those before Esc); a render that
    failed is its one line (:class:`Failed`) and the others go on (before 2026-12-05 one failure stopped
    the reel, and the shots done before it got no strips)."""
    from ...progress import Cancelled
    from ..report import describe

    results = []
    for k, (name, (func, args, kwargs)) in enumerate(jobs):
        def step(done, total, message="", k=k, name=name):
            frac = done / total if total else 0.0
            return progress(int((k + frac) * 1000), 1000 * len(jobs), "'{}' ({}/{}) {}".format(
                name, k + 1, len(jobs), message).strip())

        try:
            results.append(func(*args, progress=step, **kwargs))
        except Cancelled:  # the shots done keep their strips (apply_partial)
            break
        except Exception as exc:  # (this actor's line; the next shot is rendered)
            results.append(Failed("actor '{}': {}".format(name, describe(exc))))
    return results


class REENACT_OT_render_edited(ModalJobMixin, bpy.types.Operator):
    """Render every actor of the scene whose performance was edited (keys, a transfer), one shot
    after the other, each into its own result strip above its shot (the actors of a two-shot
    together, as Every Actor of the Strip)"""

    bl_idname = "reenact.render_edited"
    bl_label = "Render Edited Actors"
    bl_options = {"REGISTER", "UNDO"}

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False, description="Lossless movie (RGB H.264)")
    cpu: BoolProperty(name="CPU Only", default=False, description="Do not try CUDA")

    job_label = "Rendering"
    cancel_note = "the shots rendered before it get their strips; the frames already rendered are kept (cache " \
                  "and frame folders): run it again to resume"

    @classmethod
    def poll(cls, context):
        scene = blend.edit_scene(context)
        if scene is None or not actor_data.actor_objects(scene):
            cls.poll_message_set("Track an actor first")
            return False
        return True

    def prepare(self, context):
        """Main thread: each edited actor's render planned as Render Performance plans it (its
        checks first, so a bad actor stops the batch before any work, naming the actor)."""
        names, skipped = edited_actors(blend.edit_scene(context))
        for name, why in skipped:  # (said, not hidden: an actor left out of the reel)
            report(self, "WARNING", "actor '{}' left out: {}".format(name, why))
        if not names:
            raise ValueError("no actor of scene '{}' has edits (keys or a transfer): nothing to render".format(
                blend.edit_scene(context).name))
        self._plans, jobs, strips = [], [], set()
        scene = blend.edit_scene(context)
        for name in names:
            ob = bpy.data.objects[name]
            if ob.reenact.strip_name in strips:
                continue  # (rendered with the strip's first edited actor, below)
            strips.add(ob.reenact.strip_name)
            plan = _ActorRender(self, name)
            # a two-shot: every actor of the strip in one result, each its own performance (Every
            # Actor of the Strip), so that neither result hides the other
            plan.all_actors = bool(farm.other_actors(ob, scene, actor_data.actor_strip(ob)[1]))
            try:
                jobs.append((name, REENACT_OT_render_performance.prepare(plan, context)))
            except EXPECTED as exc:
                raise ValueError("actor '{}': {}".format(name, exc)) from None
            self._plans.append(plan)
        return batch_job, (jobs,), {}

    def apply_partial(self, context, results):
        """Esc: the shots rendered before it get their strips."""
        if results:
            self.apply(context, results)

    def apply(self, context, results):
        done = [(p, s) for p, s in zip(self._plans, results) if not isinstance(s, Failed)]
        for failed in (s for s in results if isinstance(s, Failed)):
            report(self, "ERROR", failed.line)
        if not done:
            raise ValueError("no shot was rendered ({} failed)".format(len(results)))
        for plan, summary in done:
            REENACT_OT_render_performance.apply(plan, context, summary)
        report(self, "INFO", "rendered {} shot(s) of edited actors: {}{}".format(
            len(done), ", ".join("'{}'{}".format(p.actor, " with the other actors of its strip" if p._all else "")
                                 for p, _s in done),
            "; {} failed (above)".format(len(results) - len(done)) if len(done) < len(results) else ""))


classes = (REENACT_OT_render_performance, REENACT_OT_preview_frame, REENACT_OT_render_edited)
