# SPDX-License-Identifier: GPL-3.0-or-later
"""Preview Frame: the current frame re-rendered with the active actor's performance (or every
actor of its strip), shown as a one-frame strip above the original (docs/compositing.md)."""

import os
import time
import uuid

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty

from .. import actor as actor_data
from .. import blend, dubbing, farm, layers, look, shots, takes, timing
from ..modal import ModalJobMixin, job_target, remember_target
from ..render_inputs import (ACCEPT_FOOTAGE, FOOTAGE_DETAIL, KEEP_FRONT, MOUTH, REFERENCE_FIRST, REFERENCE_LAST,
                             REGION_ITEMS, RENDERED_ACTOR, USE_REFERENCE, face_driver, poll_actor, reference_frames,
                             region_note, render_inputs)
from ..report import EXPECTED, describe, report


class REENACT_OT_preview_frame(ModalJobMixin, bpy.types.Operator):
    """Re-render the current frame with the active actor's performance (or every actor of its
    strip) and show it in the sequencer (a one-frame strip above the original)"""

    bl_idname = "reenact.preview_frame"
    bl_label = "Preview Frame"
    bl_options = {"REGISTER", "UNDO"}

    # (not remembered between previews: unless given, each is Render Performance's last, below)
    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth", options={"SKIP_SAVE"})
    detail: BoolProperty(**FOOTAGE_DETAIL, options={"SKIP_SAVE"})
    keep_front: BoolProperty(**KEEP_FRONT, options={"SKIP_SAVE"})
    mouth: EnumProperty(**MOUTH, options={"SKIP_SAVE"})
    use_reference: BoolProperty(**USE_REFERENCE, options={"SKIP_SAVE"})
    reference_first: IntProperty(**REFERENCE_FIRST, options={"SKIP_SAVE"})
    reference_last: IntProperty(**REFERENCE_LAST, options={"SKIP_SAVE"})
    accept_footage: BoolProperty(**ACCEPT_FOOTAGE, options={"SKIP_SAVE"})
    all_actors: BoolProperty(name="Every Actor of the Strip", default=False, options={"SKIP_SAVE"},
                             description="Preview every tracked actor of this strip, each with its own performance, "
                                         "renderer and dubbing actor, as Render Performance lays them together")

    #: the options Preview Frame takes from Render Performance's last: these from any render, and
    #: those of SAME_ACTOR only from a render of this actor (a range of frames, or Mouth Driver, of
    #: another shot's render would be refused here); Accept Re-encoded Footage never (a review)
    SHARED = ("region", "detail", "keep_front", "all_actors")
    SAME_ACTOR = ("mouth", "use_reference", "reference_first", "reference_last")

    @classmethod
    def poll(cls, context):
        return poll_actor(cls, context)

    def invoke(self, context, event):
        """The options not given (the panel's Preview button gives none) are those Render
        Performance's dialog last had, so the preview shows what the render will draw (before
        2026-12-06 its own defaults or last values: region Mouth under a Face render's keys)."""
        wm = context.window_manager
        ob = actor_data.active_actor(context)
        self.take_render_options(getattr(wm, "operator_properties_last", None),
                                 ob is not None and wm.get(RENDERED_ACTOR) == ob.name)
        return super().invoke(context, event)

    def take_render_options(self, last_of, same_actor=False):
        last = last_of("reenact.render_performance") if last_of is not None else None
        names = self.SHARED + (self.SAME_ACTOR if same_actor else ())
        for name in names if last is not None else ():
            if not self.properties.is_property_set(name):
                try:
                    setattr(self, name, getattr(last, name))
                except (AttributeError, TypeError):
                    pass

    job_label = "Preview"

    def prepare(self, context):
        """Main thread: the actor, its strip and the performance read from Blender; the frame,
        the mouth's plan, the room behind the actor (region Head, seconds to a minute the first
        time on a shot) and the render happen in :func:`preview_job`, with progress and Esc."""
        self._t0 = time.perf_counter()
        ob, scene, strip, root, base = render_inputs(context, "", self, self.accept_footage)
        f = int(blend.edit_scene(context).frame_current)
        # the piece of the shot under the frame (the shot cut, a piece moved)
        group = shots.pieces(strip)
        view = max((p for p in group if p.frame_final_start <= f < p.frame_final_end),
                   key=lambda p: (p == strip, p.channel), default=None)
        if view is None:  # (before 2026-12-06 a frame beside the shot previewed its first or last frame)
            raise ValueError("frame {} is not shown by strip '{}' (it shows frames {}): put the playhead on it".format(
                f, strip.name, ", ".join("{}-{}".format(p.frame_final_start, p.frame_final_end - 1) for p in group)))
        meta = view.parent_meta()
        while meta is not None:  # (a meta trimmed shows only part of what it holds)
            if not meta.frame_final_start <= f < meta.frame_final_end:
                raise ValueError("frame {} is outside meta strip '{}' (frames {}-{}), which holds strip '{}'".format(
                    f, meta.name, meta.frame_final_start, meta.frame_final_end - 1, view.name))
            meta = meta.parent_meta()
        for w in look.display_notes(strip, "PREVIEW"):  # (what the preview shows otherwise than the shot)
            report(self, "WARNING", w)
        i = timing.shown_clip_frame(view, f)  # (a reversed or strobed shot shows another than f - start)
        r = i - int(base.frame_start)
        if not (0 <= r < base.n_frames):
            raise ValueError("frame {} is outside the actor's Track (frames {}..{}){}".format(
                f, int(view.frame_start) + base.frame_start, int(view.frame_start) + base.frame_start + base.n_frames - 1,
                "" if not actor_data.untracked_note(view, base) else ": the strip was extended after tracking; "
                "Track Again, Keeping Edits (Track panel) includes it"))
        face_driver(self)
        *actor, note = self._actor_inputs(ob, scene, base, i, reference_frames(self, strip, base))
        others, at = [], 0
        # each actor's notes and key offset, in the strip's order (before 2026-12-06 the last actor's
        # clipped keys alone, the active actor's lost, and no other actor's unseen head pose said)
        who = [(ob.reenact.actor_index, ob.name, int(ob.reenact.frame_offset), note)]
        if self.all_actors:  # the strip's other actors in this frame, as Render Performance takes them
            for o in farm.other_actors(ob, scene, strip):
                b = actor_data.tracked_track(o)
                for w in actor_data.check_strip_footage(o, strip, b, self.accept_footage):
                    report(self, "WARNING", w)
                if 0 <= i - int(b.frame_start) < b.n_frames:
                    *inputs, n = self._actor_inputs(o, scene, b, i, None, active=False)
                    others.append((o.reenact.actor_index, inputs))
                    who.append((o.reenact.actor_index, o.name, int(o.reenact.frame_offset), n))
            # in their order in the strip, as the render lays its passes (before 2026-12-06 the active
            # actor first: with actor 1 active the preview differed from the render by up to 11 levels)
            at = sum(1 for k, _ in others if k < ob.reenact.actor_index)
            others = [a for _, a in sorted(others, key=lambda e: e[0])]
        self._who = [(name if len(who) > 1 else None, offset, n) for _, name, offset, n in sorted(who, key=lambda e: e[0])]
        # a new name each time: the sequencer never shows a stale cached image, and a preview strip
        # an undo brings back shows its own picture (before 2026-12-06 two names took turns, shared by
        # the scenes of the .blend: an undo or another scene's preview showed another frame)
        self._folder = os.path.join(root, "preview")
        name = "preview_{}.png".format(uuid.uuid4().hex[:12])
        remember_target(self, scene, view, ob)  # (found again after a rename meanwhile: job_target)
        self._frame = f
        self._at = int(view.frame_start)  # (the strip moved meanwhile: the preview goes where its frame is)
        self._driver = actor[4]["mouth_from"] is not None
        takes.pending(os.path.join(self._folder, name))  # (claimed: another session's Preview Frame leaves it, _prune)
        return (preview_job, (*actor[:3], actor_data.strip_source(strip), i, *actor[3:],
                              actor_data.cache_root(), os.path.join(self._folder, name)), {"others": others, "at": at})

    def _actor_inputs(self, ob, scene, base, i, reference, active=True):
        """(window rows, whole performance, footage Track, renderer, plan, the notes on its keys at
        this frame) of actor ``ob`` for clip frame ``i`` (:func:`preview_job`'s); ``active``: the actor the options are for (the
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
        info = {}
        full = layers.curves_to_track(ob, scene, base, info=info)
        note = layers.clipped_note(ob, base, info, rows=(r,))  # (this frame's keys; before 2026-12-06 unsaid)
        # the head a face render keeps, the eyes a head render keeps: each actor's, as the render says them
        note = "; ".join(n for n in (note, region_note(ob, self.region, full, base, [r]), dubbing.stale_note(ob)) if n)
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
        return track, full, base, renderer, plan, note

    def apply(self, context, result):
        from ...render.shothead import unseen_pose_warning

        path, info = result
        scene, strip, ob = job_target(self)
        frame = self._frame + int(strip.frame_start) - self._at
        st = shots.preview_strip(scene, strip, path, frame, actor=self._ob_name)
        _prune(self._folder, path)
        if st.get("reenact_look_note"):
            report(self, "WARNING", "preview: {}".format(st["reenact_look_note"]))
        metas, meta = [], st.parent_meta()
        while meta is not None:
            metas.append(meta)
            meta = meta.parent_meta()
        if look.hidden(st) or any(look.hidden(m) for m in metas):  # (before 2026-12-06 unsaid)
            report(self, "WARNING", "the preview is hidden as its shot is (muted, or in a muted channel or meta): "
                                    "unmute the shot to see it")
        ms = (time.perf_counter() - self._t0) * 1000.0
        st["reenact_preview_ms"] = round(ms, 1)  # (on the preview: before 2026-12-06 on the actor, where a
        # Bake Action with Custom Properties keyed it, and Keep Edits kept it as an edit)
        # every actor's, naming it when several (this frame; the unseen pose in the frames its keys are on)
        for (name, offset, note), unseen in zip(self._who, info.get("unseen_each") or [info.get("unseen_pose")]):
            if note:
                report(self, "WARNING", note)
            if unseen:
                report(self, "WARNING", ("'{}': ".format(name) if name else "") + unseen_pose_warning(unseen, offset=offset))
        if info.get("overlap"):  # (this frame: an actor's change cut at another's part, as a render names it)
            from ...render.actors import overlap_warning

            report(self, "WARNING", overlap_warning([self._frame]))
        report(self, "INFO", "preview of frame {}{} in {:.0f} ms ({}, {})".format(
            frame, ", {} actors".format(info["actors"]) if info.get("actors") else "", ms,
            {"MouthDonor": "the driver's mouth", "ShotMouth": "the shot's own mouth"}.get(info.get("mouth"), "the shot moved")
            if info.get("warped") else
            "cached" if info["cached"] else "rendered" if info.get("rendered") else
            "untracked here: the footage" if info.get("untracked") else
            "the footage: nothing this region draws is asked otherwise here",  # (before 2026-12-06 "rendered")
            info["provider"].replace("ExecutionProvider", "")))
        self._result = {"ms": ms, "info": info, "strip": st.name, "path": path}


#: the preview images kept in a .blend's preview folder (the newest, and those a strip shows)
KEEP_PREVIEWS = 16


def _prune(folder, newest):
    """Remove the preview images of ``folder`` beyond the :data:`KEEP_PREVIEWS` newest that no
    strip of any scene shows (an undo brings back a recent preview strip with its picture), but
    those of other sessions: one another live session claimed (each Preview Frame claims its
    image: :func:`takes.held_elsewhere`, its strip may show it unsaved), and any written in the
    last :data:`takes.RECENT_SECONDS` (a session that claims nothing, an earlier Reenact's or one
    whose claim could not be written, writing or showing it). Before the evening of 2026-12-06 the
    previews another session showed or was writing (an unsaved file's share one folder) were
    deleted."""
    shown = {os.path.normcase(os.path.abspath(os.path.join(bpy.path.abspath(s.directory), e.filename)))
             for sc in bpy.data.scenes if sc.sequence_editor is not None
             for s in sc.sequence_editor.strips_all if blend.is_preview(s) and s.type == "IMAGE" for e in s.elements}
    try:
        names = [n for n in os.listdir(folder) if n.startswith("preview_") and n.endswith(".png")]
        times = {n: os.path.getmtime(os.path.join(folder, n)) for n in names}
    except OSError:
        return
    now = time.time()
    for n in sorted(names, key=times.get, reverse=True)[KEEP_PREVIEWS:]:
        p = os.path.join(folder, n)
        if os.path.normcase(os.path.abspath(p)) in shown or p == newest or now - times[n] < takes.RECENT_SECONDS \
                or takes.held_elsewhere(p):
            continue
        for f in (p, os.path.join(folder, takes.CLAIMS, n)):  # (and its claim, this session's or a gone one's)
            try:
                os.remove(f)
            except OSError:
                pass


def preview_job(track, full, base, source, i, renderer, plan, cache_dir, path, progress, others=(), at=0):
    """Worker thread of Preview Frame (no bpy here): clip frame ``i`` of ``source`` with the
    performance drawn (:func:`~reenact.render.oneframe.render_frame`; ``track``: the window's
    rows, ``full``: the whole performance, ``base``: the footage's Track), written to ``path``
    (PNG). ``others``: the strip's other actors, (track, full, base, renderer, plan) each, drawn
    each over the footage and laid together with this one as a several-actor render lays its
    passes (:func:`~reenact.render.actors.merge_frame`; ``at``: this actor's place among them, in
    the strip's order, as the render takes them), marked once. Returns (path, this actor's
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

        renders, tracks, firsts, unseen = [], [], [], []
        for k, (t, fu, b, rd, pl) in enumerate(others):
            o, inf = _preview_one(t, fu, b, source, i, rd, pl, cache_dir, frame, progress,
                                  lambda m, d=0, n=1, k=k: step("actor {}/{}: {}".format(k + 2, len(others) + 1, m), d, n),
                                  watermark=False)
            renders.append(o if _drew(inf) else None)
            unseen.append(inf.get("unseen_pose"))
            tracks.append(fu)
            firsts.append((rd, b))
        renders.insert(at, out if _drew(info) else None)
        tracks.insert(at, full)
        firsts.insert(at, (renderer, base))
        unseen.insert(at, info.get("unseen_pose"))
        info["unseen_each"] = unseen  # (each actor's, in the strip's order, as the operator's notes)
        # (the job id of the render of them all: the first actor's in the strip, as render_actors)
        mark = (render_payload(None, source_identity(source), *firsts[0]), footage_area(source, firsts[0][1]))
        out, info["overlap"] = merge_frame(i, frame, renders, tracks, mark)
        info["actors"] = len(renders)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    alpha = blend.read_alpha(source, i)  # (a keyed shot's preview keeps its alpha, as the render does)
    out = np.asarray(out, np.uint8) if alpha is None else np.dstack([np.asarray(out, np.uint8), alpha])
    write_png(path, out, compression=1)
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
        out, info = render_frame(track, frame, i, renderer, region=region, cache_dir=cache_dir,
                            transforms=None if region == "head" else plan["xf"], crop_track=base,
                            source_id=source_identity(source), video=source,
                            accept_footage=plan["accept_footage"], detail=plan["detail"], mouth=mouth,
                            mouth_mode="auto" if mouth is not None else "renderer", shot_head=head,
                            shot_face=face, reference_frames=plan["reference"], front=front, watermark=watermark)
        info["mouth"] = type(mouth).__name__ if mouth is not None else None  # (what drew it: the report says)
        return out, info
    except (Cancelled,) + EXPECTED:
        raise
    except Exception as exc:
        # (the model's name in front of what the model or memory did, not of any error)
        model = type(exc).__module__.startswith("onnxruntime") or isinstance(exc, MemoryError)
        raise ValueError(describe(exc, plan["model_name"] if model else None)) from exc
    finally:
        for held in (mouth, head, face):
            if held is not None:
                held.close()
        from ...render.destination import forget

        forget()


classes = (REENACT_OT_preview_frame,)
