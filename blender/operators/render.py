# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Performance: the actor's performance (read from its curves) becomes photoreal footage
composited into the original frames, as a new strip above the original (see
docs/compositing.md; Preview Frame, one frame, is operators/preview.py); Render Edited Actors:
every edited actor of the scene in one job."""

import json
import os

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from .. import blend
from .. import farm
from .. import actor as actor_data
from .. import layers
from .. import props
from .. import dubbing, look, shots, shown, takes, timing
from ..render_key import CARRIED_OPTIONS, OUTPUT_KEYS, OUTPUTS, RENDER_KEY, RENDER_OPTIONS, render_key, render_keys
from ..modal import ModalJobMixin, job_target, remember_target
from ..render_inputs import (ACCEPT_FOOTAGE, FARM_JOB, FOOTAGE_DETAIL, KEEP_FRONT, MOUTH, OUTPUT_ITEMS,
                             REFERENCE_FIRST, REFERENCE_LAST, REGION_ITEMS, RENDERED_ACTOR, USE_REFERENCE, face_driver,
                             poll_actor, reference_frames, region_note, render_inputs)
from ..report import EXPECTED, NothingToDo, report, unsigned_note


# --------------------------------------------------------------------------- Render Performance
def render_job(track, source, model, out, frames, region, crop_track, lossless, cache_dir, prefer_gpu, sign,
               progress, chunk=None, job_id=None, accept_footage=False, detail=True, mouth_from=None,
               mouth_mode="auto", reference_frames=None, front=True, codec=None, mark=None, keep=None):
    """Worker thread: no bpy here. ``sign``: (certificate, key) paths or (None, None); ``mark``:
    (farm job, clip length) of a farm chunk, whose marker is left once its frames are written
    (:mod:`reenact.render.chunks`); ``keep``: the clip frames a take holds
    (:func:`~reenact.render.pipeline.render_clip`)."""
    from ...render.pipeline import render_clip

    _marked(None, out, frames, chunk, mark, done=False)  # (a chunk's marker before its first frame)
    summary = render_clip(track, source, model, out=out, frames=frames, region=region, cache_dir=cache_dir,
                          progress=progress, crop_track=crop_track, lossless=lossless, prefer_gpu=prefer_gpu,
                          sign_cert=sign[0], sign_key=sign[1], chunk=chunk, job_id=job_id,
                          accept_footage=accept_footage, detail=detail, mouth_from=mouth_from, mouth_mode=mouth_mode,
                          reference_frames=reference_frames, front=front, codec=codec, keep=keep)
    return _marked(summary, out, frames, chunk, mark)


def _marked(summary, out, frames, chunk, mark, done=True):
    if chunk is not None and mark is not None:
        from ...render.chunks import mark_chunk

        mark_chunk(out, mark[0], frames, chunk, mark[1], done=done, digest=mark[2] if len(mark) > 2 else None,
                   options=mark[3] if len(mark) > 3 else None)
    return summary


def render_actors_job(actors, source, model, out, frames, region, lossless, cache_dir, prefer_gpu, sign, progress,
                      chunk=None, job_id=None, accept_footage=False, detail=True, mouth_mode="auto", front=True,
                      codec=None, mark=None, keep=None):
    """Worker thread (no bpy): every actor of a strip into one output (render/actors.py)."""
    from ...render.actors import render_actors

    _marked(None, out, frames, chunk, mark, done=False)
    summary = render_actors(actors, source, model, out=out, frames=frames, region=region, cache_dir=cache_dir,
                            progress=progress, lossless=lossless, prefer_gpu=prefer_gpu, sign_cert=sign[0],
                            sign_key=sign[1], chunk=chunk, job_id=job_id, accept_footage=accept_footage,
                            detail=detail, mouth_mode=mouth_mode, front=front, codec=codec, keep=keep)
    return _marked(summary, out, frames, chunk, mark)


def _strip_actors(op, ob, scene, strip, track, base, mouth_from, reference, info):
    """The render's actors when Every Actor of the Strip is on, in their order in the strip (actor
    0 first, whichever is active: the passes, the watermark's job id and Render Edited Actors' key
    are the same from any of them; before 2026-12-06 the active actor went first, so a shot
    Render Performance had just rendered was rendered again, its pixels up to 11 levels apart),
    each its own performance, renderer and dubbing actor; with each, its object and what reading
    its curves found (:func:`layers.curves_to_track`'s ``info``). None when it is off or alone."""
    others = farm.other_actors(ob, scene, strip)
    if not op.all_actors or not others:
        return None
    out = [(ob, {"track": track, "crop_track": base, "mouth_from": mouth_from, "reference_frames": reference,
                 "model": actor_data.model_of(ob)}, info)]
    for o in others:
        b = actor_data.tracked_track(o)
        for w in actor_data.check_strip_footage(o, strip, b, op.accept_footage):
            report(op, "WARNING", w)
        seen = {}
        t = layers.curves_to_track(o, scene, b, info=seen)
        m = actor_data.driver_of(o, t) if op.region in ("mouth", "head") and op.mouth in ("AUTO", "DRIVER") else None
        out.append((o, {"track": t, "crop_track": b, "mouth_from": m, "model": actor_data.model_of(o)}, seen))
    return sorted(out, key=lambda e: e[0].reenact.actor_index)


def _key_notes(ob, region, track, base, info, strip, a, b):
    """(clipped keys, [what the region keeps, keys off the Track]) of actor ``ob``'s render of
    clip frames [a, b): what it draws otherwise than its keys say, each naming the actor."""
    rows = range(a - int(base.frame_start), b - int(base.frame_start))
    notes = [region_note(ob, region, track, base, rows)]  # (the head a face render keeps, the eyes a head render keeps)
    notes.append(dubbing.stale_note(ob))  # (the dubbing strip moved, trimmed or cut since the transfer)
    off = [f for f in layers.off_track_keys(ob, base) if a <= f - int(strip.frame_start) < b]
    if off:
        from ...render.actors import frame_runs

        notes.append("'{}' has keys on frame(s) {} where its face is not tracked: the render leaves the footage "
                     "there".format(ob.name, frame_runs(off)))
    return layers.clipped_note(ob, base, info, rows=rows), [n for n in notes if n]


def _pass_warnings(strip, summary, who):
    """([head poses no frame shows], [what stood in front of the face]): the render's warnings in
    timeline frames, each pass's of Every Actor of the Strip naming its actor (``who``: [(name, or
    None for a render of one actor, its keys' frame offset)] in the passes' order; before
    2026-12-06 the last pass's alone). The first where the animator keys the frames; the second
    where ``strip`` shows them (a reversed strip's from its end; None: not said)."""
    from ...render.front import run_warning
    from ...render.shothead import unseen_pose_warning

    unseen, front = [], []
    passes = (summary.get("actors") or [summary]) if len(who) > 1 else [summary]
    for s, (name, offset) in zip(passes, who):
        said = "'{}': ".format(name) if name is not None else ""
        line = unseen_pose_warning(s.get("unseen_pose"), offset=offset)
        unseen += [said + line] if line else []
        for run in (s.get("in_front") or {}).get("runs", []) if strip is not None else ():
            first, last = timing.timeline_range(strip, run[0], run[1])
            front.append(said + run_warning(first, last + 1, *run[2:]))
    return unseen, front


def ranges_at_shot(op, strip):
    """Render Performance's Frame Range and Draw From Frames, where not in use, set to the frames
    ``strip`` shows (its dialog's start)."""
    a, b = int(strip.frame_final_start), int(strip.frame_final_end) - 1
    if not op.use_range:
        op.frame_first, op.frame_last = a, b
    if not op.use_reference:
        op.reference_first, op.reference_last = a, b


class REENACT_OT_render_performance(ModalJobMixin, bpy.types.Operator):
    """Render the active actor's performance (its curves, edits included) with its renderer,
    composite it into the original frames and add the result as a new strip above the original"""

    bl_idname = "reenact.render_performance"
    bl_label = "Render Performance"
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin)

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    use_range: BoolProperty(name="Frame Range", default=False,
                            description="Render only these timeline frames; the others are the footage's own")
    frame_first: IntProperty(name="First", default=1, description="First timeline frame to render")
    frame_last: IntProperty(name="Last", default=250, description="Last timeline frame to render (included)")
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (.mkv, FFV1; a shot of more than 8 bits keeps them)")
    cpu: BoolProperty(name="CPU Only", default=False, description="Do not try CUDA")
    detail: BoolProperty(**FOOTAGE_DETAIL)
    keep_front: BoolProperty(**KEEP_FRONT)
    mouth: EnumProperty(**MOUTH)
    use_reference: BoolProperty(**USE_REFERENCE)
    reference_first: IntProperty(**REFERENCE_FIRST)
    reference_last: IntProperty(**REFERENCE_LAST)
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
    farm_job: StringProperty(**FARM_JOB)
    accept_footage: BoolProperty(**ACCEPT_FOOTAGE)
    all_actors: BoolProperty(name="Every Actor of the Strip", default=False,
                             description="Render every tracked actor of this strip, each with its own performance, "
                                         "renderer and dubbing actor, into one result strip (a two-shot dubbed for "
                                         "both); off: this actor only, in a strip of its own")

    job_label = "Rendering"
    cancel_note = "the frames already rendered are kept (cache and frame folder); render again to resume"

    @classmethod
    def poll(cls, context):
        return poll_actor(cls, context)

    def invoke(self, context, event):
        """The dialog's frame ranges start at the frames the actor's shot shows, unless in use
        (before 2026-12-06 at 1-250: ticked on a shot at 301-400, refused)."""
        try:
            strip = actor_data.actor_strip(farm.named_actor(context, self.actor))[1]
        except (ValueError, KeyError, AttributeError, TypeError):
            strip = None
        if strip is not None:
            ranges_at_shot(self, strip)
        return super().invoke(context, event)

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
        ob, scene, strip, root, base = render_inputs(context, self.actor, self, self.accept_footage)
        context.window_manager[RENDERED_ACTOR] = ob.name  # (Preview takes its options: operators/preview.py)
        for w in look.display_notes(strip, self.output):  # (what the output shows otherwise than the shot)
            report(self, "WARNING", w)
        info = {}
        track = layers.curves_to_track(ob, scene, base, info=info)
        n = int(base.source_frames) or int(strip.frame_duration)
        group = shots.pieces(strip)  # (the strip and the other pieces of its shot)
        if self.use_range:
            a = int(self.frame_first) - int(strip.frame_start)
            b = int(self.frame_last) + 1 - int(strip.frame_start)
            if not (0 <= a < b <= n):
                raise ValueError("frames {}..{} are outside strip '{}' (frames {}..{})".format(
                    self.frame_first, self.frame_last, strip.name, int(strip.frame_start), int(strip.frame_start) + n - 1))
            a, b = timing.clip_range(strip, self.frame_first, self.frame_last)  # (a reversed strip's from its end)
            a, b = max(0, a), min(n, b)
            sa, sb = shots.clip_span(group)
            if b <= sa or a >= sb:  # (all hidden by the trims: before 2026-12-06 rendered, marked, and never seen)
                raise ValueError("frames {}..{} are not shown by strip '{}' (its or its meta's trims hide them; it "
                                 "shows frames {}): Frame Range takes frames the strip shows".format(
                                     self.frame_first, self.frame_last, strip.name, ", ".join(
                                         "{}-{}".format(t0, t1 - 1) for t0, t1 in map(timing.shown_frames, group)
                                         if t1 > t0)))
        else:  # what the strip shows, and the other pieces of its shot (cut, or duplicated) with it
            a, b = shots.clip_span(group)
            b = min(n, b)
        # what the render draws otherwise than the keys say, on its frames (before 2026-12-06 unsaid): a key
        # past 0..1, keys where the face was not tracked (the footage's own frames there)
        clipped, notes = _key_notes(ob, self.region, track, base, info, strip, a, b)
        if not self.all_actors and not any(a <= f - int(strip.frame_start) < b for f in layers.edited_frames(ob, track, base)):
            # (the dubbing actor, active after Track Actor, rendered as a "dub": a compositor's review)
            drives = [o.name for o in bpy.data.objects if o.get(actor_data.DRIVER_PROP) == ob.name]
            notes.insert(0, "'{}' has no edits on these frames: the result is its footage{}".format(
                ob.name, ", and it drives the mouth of {}: make that actor active to render the dub".format(
                    ", ".join("'{}'".format(d) for d in drives)) if drives else ""))
        self._clipped = "; ".join(n for n in [clipped] + notes if n)
        chunk = None
        if self.use_chunk:
            chunk = timing.clip_range(strip, self.chunk_first, self.chunk_last)
            if not (a <= chunk[0] < chunk[1] <= b):
                raise ValueError("chunk {}..{} is not inside the frames {}..{} of the render".format(
                    self.chunk_first, self.chunk_last, *timing.timeline_range(strip, a, b)))
            if self.output != "IMAGES":  # (a chunk of the whole range wrote the movie itself, over a take)
                raise ValueError("a chunk renders into the image folder (Output Images); Assemble Render makes "
                                 "the movie")
        self._chunk = chunk
        face_driver(self)
        reference = reference_frames(self, strip, base)
        # a dub from another actor: the driver's mouth (a performance no transfer made has none)
        mouth_from = (actor_data.driver_of(ob, track) if self.region in ("mouth", "head") and self.mouth in ("AUTO", "DRIVER")
                      else None)
        if self.region in ("mouth", "head") and self.mouth == "DRIVER" and mouth_from is None:
            raise ValueError("Mouth Driver: the performance was not transferred from another actor here "
                             "(Transfer Performance records the dubbing actor)")
        every = _strip_actors(self, ob, scene, strip, track, base, mouth_from, reference, info)
        self._all = every is not None
        actors = [e[1] for e in every] if every else None
        self._who = [(o.name, int(o.reenact.frame_offset)) for o, _a, _i in every] if every else None
        if every:  # every actor's notes, each naming it (before 2026-12-06 the active actor's alone)
            noted = [_key_notes(o, self.region, e["track"], e["crop_track"], i, strip, a, b) for o, e, i in every]
            self._clipped = "; ".join(n for c, rest in noted for n in [c] + rest if n)
        name, self._result, self._key = farm.result_of(strip, ob, self.region, self._all)
        if chunk is None and not getattr(self, "_in_batch", False):  # (the batch: after its up-to-date check)
            refuse_locked(scene, strip, self._key)
        # a farm chunk: the job's folder beside the takes (<name>.farm), never one of them
        out = farm.output_path(os.path.join(root, name), self.output, self.lossless, take=chunk is None)
        remember_target(self, scene, strip, ob)  # (found again after a rename meanwhile: job_target)
        self._out = out
        keyed = actors or [
            {"track": track, "crop_track": base, "model": actor_data.model_of(ob), "mouth_from": mouth_from}]
        self._render_key = render_key(self, strip, (a, b), keyed)
        self._legacy_key = render_key(self, strip, (a, b), keyed, legacy=True)
        # a chunk's marker records what it renders: the assembly refuses a job whose chunks rendered two
        # performances (the .blend saved while the job ran; before 2026-12-06 one movie of both)
        # (and its options: the assembled result keeps them for Render Edited Actors; before the review of the
        # evening of 2026-12-06 a farm's result had none, and a render again used the defaults)
        # (and the key of each movie Assemble Render may make of the frames: before 2026-12-06 19:22 UTC an
        # assembled movie was keyed as frames, and Render Edited Actors with Output Movie rendered it again)
        mark = (self.farm_job, n, self._render_key, dict({o: getattr(self, o) for o in CARRIED_OPTIONS}, **{
            OUTPUT_KEYS: render_keys(self, strip, (a, b), keyed, [(o, q) for o in OUTPUTS for q in (False, True)])})) \
            if chunk is not None else None
        cache = actor_data.cache_root()
        sign = props.signing_paths(context)
        # a take's frames its shot does not show: clear, never decoded (the strip shows the shot through
        # them; before 2026-12-06 a shot cut from a long clip wrote the whole clip, a compositor's review)
        keep = self._keep = shots.clip_span(group) if chunk is None and self.output == "IMAGES" else None
        if self._all:
            return (render_actors_job, (actors, actor_data.strip_source(strip), actors[0]["model"], out, (a, b),
                                        self.region, self.lossless, cache, not self.cpu, sign),
                    {"chunk": chunk, "job_id": self.job_id or None, "accept_footage": self.accept_footage,
                     "detail": self.detail, "mouth_mode": self.mouth.lower(), "front": self.keep_front,
                     "codec": farm.movie_codec(self.output), "mark": mark, "keep": keep})
        return (render_job, (track, actor_data.strip_source(strip), actor_data.model_of(ob), out, (a, b), self.region, base,
                             self.lossless, cache, not self.cpu, sign), {"chunk": chunk, "job_id": self.job_id or None,
                                                                        "accept_footage": self.accept_footage,
                                                                        "detail": self.detail, "mouth_from": mouth_from,
                                                                        "mouth_mode": self.mouth.lower(),
                                                                        "reference_frames": reference,
                                                                        "codec": farm.movie_codec(self.output),
                                                                        "front": self.keep_front, "mark": mark,
                                                                        "keep": keep})

    def apply(self, context, summary):
        if self._chunk is None:  # (the actor, scene and strip as they are called now: renamed meanwhile)
            scene, strip, ob = job_target(self)
            if ob is not None and not self._all:  # (the result named and keyed with its name now, who it is kept)
                _stem, self._result, self._key = farm.result_of(strip, ob, self.region, False)
        else:
            ob = bpy.data.objects.get(self._ob_name)
        unseen, front = _pass_warnings(strip if self._chunk is None else None, summary, getattr(self, "_who", None) or [
            (None, int(ob.reenact.frame_offset) if ob is not None else 0)])
        for line in unseen:  # in timeline frames, where the animator looks
            report(self, "WARNING", line)
        if getattr(self, "_clipped", ""):
            report(self, "WARNING", self._clipped)
        if self._chunk is not None:  # a farm task: the frames are on disk, Assemble Render adds the strip
            report(self, "INFO", "rendered chunk {}..{}: {} frame(s) written, {} rendered, {} from the cache, on {}".format(
                self.chunk_first, self.chunk_last, summary["frames"], summary["rendered"], summary["cached"],
                summary["provider"].replace("ExecutionProvider", "")))
            return
        for w in summary.get("output_warnings", []):  # what the output cannot keep (alpha in a movie, bits)
            report(self, "WARNING", w)
        for line in front:  # in timeline frames (a reversed strip's too: before 2026-12-06 counted from its start)
            report(self, "WARNING", line)
        if os.path.isdir(self._out):  # the footage copied through: one file for all the takes (a review)
            takes.share_copies(self._out)
        # (one strip for the strip's actors together, Every Actor of the Strip)
        st, copies = shots.add_result_strips(scene, strip, self._out, summary["frames"], self._result, key=self._key)
        for s in [st] + copies:  # what a result strip could not take from its piece of the shot
            if s.get("reenact_look_note"):
                report(self, "WARNING", "strip '{}': {}".format(s.name, s["reenact_look_note"]))
        if self._all and summary.get("overlap"):  # in timeline frames, where the compositor looks
            from ...render.actors import overlap_warning

            cut = sorted(timing.timeline_frame(strip, f) for f in summary["overlap"])  # (a reversed strip's too)
            report(self, "WARNING", overlap_warning(cut))
        st["reenact_provider"] = summary["provider"]
        options = json.dumps({n: getattr(self, n) for n in CARRIED_OPTIONS})
        parts = [s for s in blend.siblings(strip) if s != st and s.get("reenact_shot_name") == strip.name
                 and blend._strip_paths(s) == blend._strip_paths(st)]  # (the result as cut by hand)
        for s in [st] + copies + parts:  # (Render Edited Actors: a result of the same key is up to date)
            s[RENDER_KEY], s[RENDER_OPTIONS] = self._render_key, options
            if getattr(self, "_keep", None):  # (the clip frames its take holds: a restyle of it takes the others
                s[shots.KEPT] = [int(v) for v in self._keep]  # from the shot)
            elif shots.KEPT in s:
                del s[shots.KEPT]
        st["reenact_rendered"] = summary["rendered"]
        st["reenact_cached"] = summary["cached"]
        if ob is not None:
            ob["reenact_last_render"] = "{} · {}".format(os.path.basename(self._out), summary["provider"])
        # (frames drawn from the shot's or the driver's frames count: "rendered 0 frame(s)" read as nothing done)
        report(self, "INFO", "rendered {} frame(s){}, {} from the cache, on {} -> strip '{}' in channel {}{}".format(
            summary["rendered"], ", {} drawn from footage frames".format(summary["warped"]) if summary.get("warped")
            else "", summary["cached"], summary["provider"].replace("ExecutionProvider", ""),
            st.name, st.channel, shots.copies_note(copies)))
        unsigned_note(self, summary, self._out)


# --------------------------------------------------------------------------- Render Edited Actors
# every actor of the scene whose performance was edited (keys, a transfer) rendered one after the
# other in one job, with one progress bar and Esc, each into its own result strip as Render
# Performance makes it: a compositor's reel of dubbed shots in one go instead of one click a shot



def _result_on(scene, strip_name, key):
    """The result strip of ``key`` (:func:`reenact.blender.farm.result_of`) on the shot strip named
    ``strip_name`` that a render again gives its take (:func:`shots.result_parts`: one trimmed,
    moved or cut by the compositor counts, a copy of it above to compare takes does not); None."""
    strip = scene.sequence_editor.strips_all.get(strip_name) if scene.sequence_editor else None
    parts = shots.result_parts(strip, key) if strip is not None else []
    return parts[0] if parts else None


def refuse_locked(scene, strip, key):
    """ValueError (one line) when the result of ``key`` on ``strip``, or a part of it cut by hand,
    is locked (or lies in a locked channel): a render again would give it a new take (before
    2026-12-06 it did)."""
    locked = [s for s in shots.result_parts(strip, key) if look.locked(s)]
    if locked:
        res = locked[0]
        raise ValueError("result strip '{}' is locked{}: unlock it to give it this render".format(
            res.name, "" if res.lock else " (its channel {})".format(res.channel)))


def _carry_options(plan, scene, ob):
    """Give ``plan`` (Render Edited Actors' render of ``ob``) the options its shot's result was
    rendered with (:data:`RENDER_OPTIONS`), so that a render again keeps what the compositor chose.
    Returns the result strip when it records none (made by a Reenact of before 2026-12-06, or
    assembled from a farm job's chunks that did not record them), else None."""
    strip = actor_data.actor_strip(ob)[1]
    res = _result_on(scene, strip.name, farm.result_of(strip, ob, plan.region, plan.all_actors)[2])
    if res is not None and not res.get(RENDER_OPTIONS):
        return res
    try:
        options = json.loads(res.get(RENDER_OPTIONS) or "{}") if res is not None else {}
    except ValueError:
        options = {}
    for n in CARRIED_OPTIONS:
        if n in options and isinstance(options[n], type(getattr(plan, n))):
            setattr(plan, n, options[n])
    return None


def _up_to_date(scene, plan):
    """Whether the result strip of ``plan``'s actor and region lying on its shot (the one a render
    again would give its take: not a compositor's copy) shows a render of the very key ``plan``
    would render now (its file still there)."""
    res = _result_on(scene, plan._strip_name, plan._key)  # (trimmed by hand: before 2026-12-06 rendered every time)
    keys = {k for k in (plan._render_key, getattr(plan, "_legacy_key", None)) if k}
    return bool(res is not None and res.get(RENDER_KEY) in keys
                and os.path.exists(blend._strip_paths(res) or ""))


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
        self._op, self._in_batch = op, True

    def report(self, level, message):
        self._op.report(level, message)


def edited_actors(scene):
    """(the actors of ``scene`` whose curves differ from their Track (keys, a transfer) on frames
    their shot shows, in the order of their strips on the timeline; [(actor, why)] of those left
    out: a Track or strip that cannot be found; [(actor, why)] of those not rendered: a shot muted
    out of the cut, edits only on frames the shot's trims hide (before 2026-12-06 both rendered,
    the second a take of plain footage))."""
    out, skipped, hidden = [], [], []
    for ob in actor_data.actor_objects(scene):
        try:
            tracked = actor_data.tracked_track(ob)
            edits = layers.edited_frames(ob, layers.curves_to_track(ob, scene, tracked), tracked)
            if not edits:
                continue
            _scene, strip = actor_data.actor_strip(ob)
            group = shots.pieces(strip)
            a, b = shots.clip_span(group)
            if not any(a <= f - int(strip.frame_start) < b for f in edits):  # (as Render Performance counts them)
                hidden.append((ob.name, "its edits lie on frames its shot '{}' does not show".format(strip.name)))
            elif all(blend.out_of_cut(p) for p in group):  # (its meta muted too)
                hidden.append((ob.name, "its shot '{}' is muted".format(strip.name)))
            else:
                out.append((int(strip.frame_final_start), int(strip.channel), ob.name))
        except EXPECTED as exc:
            skipped.append((ob.name, str(exc)))
    return [name for _f, _c, name in sorted(out)], skipped, hidden


def _in_scene_strips(scene):
    """A line for each scene strip of ``scene`` that shows another scene holding edited actors:
    Render Edited Actors renders the actors of the scene it runs in, not those of scenes its scene
    strips show (each is rendered with that scene in the Video Sequencer)."""
    lines, seen = [], set()
    for s in blend.all_strips(scene):
        other = getattr(s, "scene", None) if s.type == "SCENE" else None
        if other is None or other == scene or other.name in seen or other.sequence_editor is None:
            continue
        seen.add(other.name)
        names = edited_actors(other)[0]
        if names:
            lines.append("scene strip '{}' shows scene '{}', whose edited actor{} {} {} not rendered here: run Render "
                         "Edited Actors with '{}' in the Video Sequencer".format(
                             s.name, other.name, "s" if len(names) > 1 else "",
                             ", ".join("'{}'".format(n) for n in names), "are" if len(names) > 1 else "is",
                             other.name))
    return lines


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
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin)

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (.mkv, FFV1; a shot of more than 8 bits keeps them)")
    cpu: BoolProperty(name="CPU Only", default=False, description="Do not try CUDA")
    earlier_results: BoolProperty(
        name="Earlier Results Too", default=False, options={"SKIP_SAVE"},
        description="Also render again the results that do not record the options they were rendered with (made "
                    "by an earlier Reenact): with the default options. Off: they are left as they are, and named")

    job_label = "Rendering"
    cancel_note = "the shots rendered before it get their strips; the frames already rendered are kept (cache " \
                  "and frame folders): run it again to resume"

    @classmethod
    def poll(cls, context):
        scene = blend.edit_scene(context)
        if scene is None or not shown.shown_actors(scene):
            cls.poll_message_set("Track an actor first")
            return False
        return True

    def prepare(self, context):
        """Main thread: each edited actor's render planned as Render Performance plans it (its
        checks first: an actor that fails them is left out in one line naming it, before any
        work, and the others are rendered, as a shot failing while it renders is; before
        2026-12-06 it stopped the whole reel)."""
        names, skipped, hidden = edited_actors(blend.edit_scene(context))
        for name, why in skipped:  # (said, not hidden: an actor left out of the reel)
            report(self, "WARNING", "actor '{}' left out: {}".format(name, why))
        for name, why in hidden:  # (not rendered, and said: Render Performance renders it on its own)
            report(self, "INFO", "actor '{}' not rendered: {}".format(name, why))
        for line in _in_scene_strips(blend.edit_scene(context)):  # (before 2026-12-06 left out unsaid)
            report(self, "WARNING", line)
        if not names:
            if skipped:  # (before 2026-12-06 "no actor has edits" though the ones left out above had)
                raise ValueError("no edited actor of scene '{}' can be rendered ({} left out, said above): nothing "
                                 "rendered".format(blend.edit_scene(context).name, len(skipped)))
            raise NothingToDo("no actor of scene '{}' has edits (keys or a transfer){}: nothing to render".format(
                blend.edit_scene(context).name, " on frames the cut shows" if hidden else ""))
        self._plans, jobs, strips, left, current, earlier = [], [], set(), [], [], []
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
            unknown = _carry_options(plan, scene, ob)  # (the options its result was rendered with)
            try:
                job = REENACT_OT_render_performance.prepare(plan, context)
            except EXPECTED as exc:
                left.append("actor '{}': {}".format(name, exc))
                report(self, "ERROR", "{} (left out)".format(left[-1]))
                continue
            if _up_to_date(scene, plan):  # (its result shows a render of this very performance: no new take)
                current.append(name)
                continue
            if unknown is not None and not self.earlier_results:  # (before the review of the evening of 2026-12-06 rendered again with the
                # defaults, without a word: a shot rendered with Mouth Renderer or a frame range got a new take of
                # the whole shot in Mouth Auto)
                earlier.append("'{}' (result '{}')".format(name, unknown.name))
                continue
            try:  # (a locked result up to date is not an error: checked after)
                refuse_locked(scene, actor_data.actor_strip(ob)[1], plan._key)
            except ValueError as exc:
                left.append("actor '{}': {}".format(name, exc))
                report(self, "ERROR", "{} (left out)".format(left[-1]))
                continue
            jobs.append((name, job))
            self._plans.append(plan)
        if current:
            report(self, "INFO", "up to date, not rendered again (the result strip shows a render of this "
                                 "performance): {}".format(", ".join("'{}'".format(n) for n in current)))
        if earlier:
            report(self, "WARNING", "left as they are: {}, whose result does not record the options it was rendered "
                                    "with (an earlier Reenact's): Render Performance on the actor renders it again "
                                    "with the options you choose, Earlier Results Too with the defaults".format(
                                        ", ".join(earlier)))
        if not jobs:
            if earlier and not left:
                raise NothingToDo("nothing rendered: the edited actors' results are up to date or left as they are "
                                  "(above)")
            if not left:  # (said, not an error: before 2026-12-06 an error pop-up for a no-op)
                raise NothingToDo("nothing to render: every edited actor's result is up to date")
            raise ValueError("no edited actor can be rendered ({} left out, above)".format(len(left)))
        return batch_job, (jobs,), {}

    def apply_partial(self, context, results):
        """Esc: the shots rendered before it get their strips."""
        if results:
            self.apply(context, results)

    def apply(self, context, results):
        from ..modal import renamed_meanwhile, was_renamed

        done = [(p, s) for p, s in zip(self._plans, results) if not isinstance(s, Failed)]
        for failed in (s for s in results if isinstance(s, Failed)):
            report(self, "ERROR", failed.line)
        if not done:
            raise ValueError("no shot was rendered ({} failed)".format(len(results)))
        added = []
        for plan, summary in done:  # each shot on its own: one whose strip went meanwhile does not undo the others
            try:
                REENACT_OT_render_performance.apply(plan, context, summary)
                added.append((plan, summary))
            except KeyError as exc:
                if not was_renamed(exc):
                    raise
                report(self, "ERROR", "actor '{}': {}".format(plan.actor, renamed_meanwhile("its render", exc)))
            except (ValueError, OSError, RuntimeError) as exc:
                report(self, "ERROR", "actor '{}': {}".format(plan.actor, exc))
        if not added:
            raise ValueError("no rendered shot could be added ({} above)".format(len(done)))
        done = added
        report(self, "INFO", "rendered {} shot(s) of edited actors: {}{}".format(
            len(done), ", ".join("'{}'{}".format(p.actor, " with the other actors of its strip" if p._all else "")
                                 for p, _s in done),
            "; {} failed (above)".format(len(results) - len(done)) if len(done) < len(results) else ""))


classes = (REENACT_OT_render_performance, REENACT_OT_render_edited)
