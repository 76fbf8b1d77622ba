# SPDX-License-Identifier: GPL-3.0-or-later
"""Train Restyle: a restyle model trained (``reenact restyle train`` in a separate Python with
PyTorch) from the active movie or image-sequence strip (X, the shot) and the other selected movie
or image-sequence strips (Y, the reference footage), each as trimmed on the timeline; the scene's
restyle model becomes the result.

Restyle Strip: a trained restyle model (docs/restyle.md) applied to the active movie or image
strip; the restyled shot (watermarked, signed) becomes a strip above the original, one per strip
and model, replaced in place when restyled again."""

import os

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from .. import actor as actor_data
from .. import blend, farm, props, shots, takes, timing
from ..modal import JOB, ModalJobMixin, TrainingJobMixin, job_target, remember_target, show_preview
from ..saving import TRAINING, training_key
from ..render_inputs import FARM_JOB
from ..report import report, unsigned_note
from ..restyle_files import (PREVIEW_IMAGE, _model_name, _nothing_left_when_refused, blend_tag,  # noqa: F401
                             legacy_checkpoints, made_folders, model_identity, model_path, remove_empty,
                             result_name, resume_candidates, shot_name)

#: restyle results go here, next to the .blend (beside the renders)
RESTYLE_DIR = "restyle"


def restyle_job(model, source, out, stabilise, lossless, sign, frames, fps, progress, chunk=None, job_id=None,
                codec=None, farm_job=None, clip_frames=0, keep=None, footage=None):
    """Worker thread: no bpy here. ``frames``: the clip frames the strip shows (restyled; the
    others are copied, so the result strip takes the original's trims and lines up); ``fps``: the
    scene's rate, for an image sequence written as a movie; ``chunk``: a render farm's part of
    ``frames`` (clip frames [c, d)) written into the frame folder ``out``."""
    from ...progress import Cancelled
    from ...restyle.apply import apply_clip

    def step(done, total, message=""):
        if progress(done, total, message) is False:
            raise Cancelled()

    from ...render.chunks import mark_chunk

    made = made_folders(os.path.dirname(out))
    try:
        if chunk is not None:  # (its marker before its first frame and when done: Assemble Restyle checks them)
            mark_chunk(out, farm_job, frames, chunk, clip_frames, done=False)
        summary = apply_clip(model, source, out, frames=frames, stabilise=stabilise, progress=step, lossless=lossless,
                             sign_cert=sign[0], sign_key=sign[1], fps=fps, chunk=chunk, job_id=job_id, codec=codec,
                             keep=keep, footage=footage)
    except BaseException:  # refused (a colouriser on a colour shot), failed or stopped: no folder left made for it
        remove_empty(made)  # (before 2026-12-06 an empty //reenact/restyle/<.blend> stayed)
        raise
    if chunk is not None:
        mark_chunk(out, farm_job, frames, chunk, summary["frames"])
    return summary


def dub_footage(strip):
    """(the shot's footage, [c, d)) of a result strip whose take holds only clip frames c..d-1
    (:data:`shots.KEPT`: the others transparent), so that a restyle of it copies the shot's own
    frames there into a movie or a farm job's frames (before the fix, black: a review); None."""
    kept, shot = strip.get(shots.KEPT), shots.shot_of(strip) if strip.get("reenact_shot") else None
    if not kept or shot is None:
        return None
    return actor_data.strip_source(shot), (int(kept[0]), int(kept[1]))


def restyle_target(context, strip_name, model):
    """(scene, strip, model path, result path without extension) of a restyle of ``strip_name``
    (default: the active strip) with ``model`` (default: the scene's restyle model)."""
    scene = blend.edit_scene(context)
    strip = blend.active_strip(scene) if not strip_name else (
        scene.sequence_editor.strips_all.get(strip_name) if scene.sequence_editor else None)
    if strip is None and strip_name:  # a farm task names its strip: in Blender 5.0 the sequencer's
        # scene need not be the one a background Blender opens the file in
        found = [(sc, sc.sequence_editor.strips_all[strip_name]) for sc in bpy.data.scenes
                 if sc.sequence_editor is not None and sc.sequence_editor.strips_all.get(strip_name) is not None]
        if len(found) == 1:
            scene, strip = found[0]
    if strip is None or strip.type not in {"MOVIE", "IMAGE"}:
        raise ValueError("no movie or image strip '{}' in scene '{}'".format(strip_name, scene.name) if strip_name
                         else "select a movie or image strip in the sequencer")
    timing.refuse_retimed(strip)
    model = model or scene.reenact.restyle_model
    if not model:
        raise ValueError("choose a restyle model in Reenact ▸ Restyle (.onnx from `reenact restyle train`)")
    path = bpy.path.abspath(model)
    # (//reenact/restyle/<.blend name>: each .blend its own, by its name as restyle_files.tag keeps it; before the
    # review of 2026-12-06 actor.blend_name, which makes '場面.blend' and 'カット.blend' one folder)
    root = os.path.join(os.path.dirname(os.path.dirname(actor_data.render_root())), RESTYLE_DIR, blend_tag())
    return scene, strip, path, os.path.join(root, result_name(strip, path))


def add_restyled_strip(scene, strip, out, frames, model):
    """The result strip ``<strip> Restyled <model>`` above ``strip``, replaced in place when there:
    one per shot and model, the model known by its folder too (:func:`model_identity`; a result
    made before 2026-12-06, which does not record it, by its name)."""
    name = shot_name(strip)
    key = ("restyle " + name, _model_name(model), "restyle model " + model_identity(model))
    st, _ = shots.add_result_strips(scene, strip, out, frames, "{} Restyled {}".format(name, _model_name(model)),
                                    key=key)
    return st


#: Restyle Strip's farm properties (docs/farm.md, *Restyle on a farm*): not in the dialog
FARM_PROPS = dict(
    strip_name=StringProperty(name="Strip", default="", options={"SKIP_SAVE"},
                              description="Strip to restyle (default: the active strip)"),
    use_range=BoolProperty(name="Frame Range", default=False, options={"SKIP_SAVE"},
                           description="Restyle only these timeline frames; the strip's others are copied"),
    frame_first=IntProperty(name="First", default=1, options={"SKIP_SAVE"}),
    frame_last=IntProperty(name="Last", default=250, options={"SKIP_SAVE"}),
    use_chunk=BoolProperty(name="Chunk", default=False, options={"SKIP_SAVE"},
                           description="Restyle only the timeline frames Chunk First..Chunk Last of the range into "
                                       "the image folder and add no strip (Assemble Restyle adds it)"),
    chunk_first=IntProperty(name="Chunk First", default=1, options={"SKIP_SAVE"}),
    chunk_last=IntProperty(name="Chunk Last", default=1, options={"SKIP_SAVE"}),
    job_id=StringProperty(name="Job ID", default="", options={"SKIP_SAVE"},
                          description="Job id carried by the watermark (default: derived from the footage and the model)"),
    farm_job=StringProperty(**FARM_JOB),
)


class REENACT_OT_restyle_strip(ModalJobMixin, bpy.types.Operator):
    """Restyle the active movie or image strip with a trained restyle model (a look learned from
    reference footage, or colour for a black-and-white shot) and add the result above it"""

    bl_idname = "reenact.restyle_strip"
    bl_label = "Restyle Strip"
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin; before 2026-12-06 none reachable)

    # (not remembered: the dialog starts at the scene's model, the one Train Restyle set last)
    model: StringProperty(name="Model", subtype="FILE_PATH", default="", options={"SKIP_SAVE"},
                          description="Restyle model (.onnx from `reenact restyle train`; default: the scene's)")
    stabilise: FloatProperty(name="Stabilise", default=0.8, min=0.0, max=0.95,
                             description="How much of the previous frame's change, moved by optical flow, "
                                         "is kept (0: every frame on its own; more: steadier, slower to follow)")
    output: EnumProperty(name="Output", items=farm.OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (.mkv, FFV1; a shot of more than 8 bits keeps them)")
    strip_name: FARM_PROPS["strip_name"]
    use_range: FARM_PROPS["use_range"]
    frame_first: FARM_PROPS["frame_first"]
    frame_last: FARM_PROPS["frame_last"]
    use_chunk: FARM_PROPS["use_chunk"]
    chunk_first: FARM_PROPS["chunk_first"]
    chunk_last: FARM_PROPS["chunk_last"]
    job_id: FARM_PROPS["job_id"]
    farm_job: FARM_PROPS["farm_job"]

    job_label = "Restyling"

    @property
    def cancel_note(self):  # (before 2026-12-05 always the chunk's: a whole clip's frames go to a temporary folder)
        return "the chunk's frames written so far are kept" if self.use_chunk else \
            "nothing was written; an earlier result is kept"

    @classmethod
    def poll(cls, context):
        return blend.poll_media_strip(cls, context)

    def invoke(self, context, event):
        scene = blend.edit_scene(context)
        if not self.model and scene is not None:
            self.model = scene.reenact.restyle_model
        return super().invoke(context, event)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "model")
        layout.prop(self, "stabilise")
        layout.prop(self, "output")
        if self.output == "MOVIE":
            layout.prop(self, "lossless")

    def prepare(self, context):
        from ...restyle.apply import RestyleModel

        scene, strip, path, out = restyle_target(context, self.strip_name, self.model)
        RestyleModel(path, prefer_gpu=False)  # one line naming the file when it is not one, before any work
        source = actor_data.strip_source(strip)
        frames, chunk = self._frames(strip)
        out = farm.output_path(out, self.output, self.lossless, take=chunk is None)  # (its folder: made by the job)
        remember_target(self, scene, strip)  # (found again after a rename meanwhile: job_target)
        self._out, self._model = out, path
        self._model_setting, self._chunk = self.model or scene.reenact.restyle_model, chunk
        sign = props.signing_paths(context)
        fps = scene.render.fps / scene.render.fps_base  # an image sequence plays at the scene's rate
        return restyle_job, (path, source, out, self.stabilise, self.lossless, sign, frames, fps), {
            "chunk": chunk, "job_id": self.job_id or None, "codec": farm.movie_codec(self.output),
            "farm_job": self.farm_job,  # (the frames the shot does not show: clear, never decoded)
            "keep": timing.shown_span(shots.pieces(strip)) if chunk is None and self.output == "IMAGES" else None,
            "footage": dub_footage(strip),
            "clip_frames": len(strip.elements) if strip.type == "IMAGE" else int(strip.frame_duration)}

    def _frames(self, strip):
        """(the clip frames [a, b) restyled: the strip's visible part, or the timeline range when
        asked; the chunk [c, d) of them from the chunk's timeline frames, or None), as Blender
        maps timeline to clip frames (:func:`timing.shown_span`: a reversed shot from its end)."""
        group = shots.pieces(strip)  # (and the other pieces of its shot, cut or duplicated)
        a, b = timing.shown_span(group)
        if a >= b:
            raise ValueError("strip '{}' shows no frames (its meta strip's trims hide it)".format(strip.name))

        ends = timing.timeline_range(strip, a, b)  # (timeline frames of the strip's start, whichever piece shows them)
        if self.use_range:
            lo, hi = timing.clip_range(strip, int(self.frame_first), int(self.frame_last))
            if self.frame_last < self.frame_first or not (a <= lo < hi <= b):
                raise ValueError("frames {}..{} are outside what strip '{}' shows (frames {}..{})".format(
                    self.frame_first, self.frame_last, strip.name, *ends))
            a, b = lo, hi
        if not self.use_chunk:
            return (a, b), None
        chunk = timing.clip_range(strip, int(self.chunk_first), int(self.chunk_last))
        if self.chunk_last < self.chunk_first or not (a <= chunk[0] < chunk[1] <= b):
            raise ValueError("chunk {}..{} is not inside the frames {}..{} of the restyle".format(
                self.chunk_first, self.chunk_last, *timing.timeline_range(strip, a, b)))
        if self.output != "IMAGES":
            raise ValueError("a chunk restyles into the image folder; Assemble Restyle makes the movie")
        return (a, b), chunk

    def apply(self, context, summary):
        if self._chunk is not None:  # a farm task: the frames are on disk, Assemble Restyle adds the strip
            report(self, "INFO", "restyled chunk {}..{}: {} frame(s) written, {} restyled".format(
                self.chunk_first, self.chunk_last, summary["written"], summary["restyled"]))
            return
        scene, strip, _ob = job_target(self)
        if os.path.isdir(self._out):  # the footage copied through: one file for all the takes
            takes.share_copies(self._out)
        st = add_restyled_strip(scene, strip, self._out, summary["frames"], self._model)
        if st.get("reenact_look_note"):  # what the result strip could not take from the shot strip
            report(self, "WARNING", "strip '{}': {}".format(st.name, st["reenact_look_note"]))
        for w in summary.get("output_warnings", []):  # what the output cannot keep (alpha in a movie, bits)
            report(self, "WARNING", w)
        st["reenact_provider"] = summary.get("provider", "")
        scene.reenact.restyle_model = self._model_setting
        report(self, "INFO", "restyled {} frame(s) with {} on {} -> strip '{}' in channel {}".format(
            summary["restyled"], os.path.basename(self._model),
            str(summary.get("provider", "")).replace("ExecutionProvider", ""), st.name, st.channel))
        unsigned_note(self, summary, self._out)


class REENACT_OT_assemble_restyle(ModalJobMixin, bpy.types.Operator):
    """Add the result strip of a restyle made in chunks (on a render farm): check the strip's frame
    folder is complete, make the movie from it (keeping the footage's audio) when Output is Movie"""

    bl_idname = "reenact.assemble_restyle"
    bl_label = "Assemble Restyle"
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)
    dialog = True  # (its options first: modal.ModalJobMixin)

    strip_name: FARM_PROPS["strip_name"]
    model: StringProperty(name="Model", subtype="FILE_PATH", default="", options={"SKIP_SAVE"},
                          description="The restyle model the chunks used (default: the scene's)")
    output: EnumProperty(name="Output", items=farm.OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False,
                           description="Lossless movie (.mkv, FFV1; a shot of more than 8 bits keeps them)")
    farm_job: FARM_PROPS["farm_job"]

    job_label = "Assembling"
    cancel_note = "the frames are kept"

    @classmethod
    def poll(cls, context):
        return blend.edit_scene(context) is not None

    def prepare(self, context):
        scene, strip, path, folder = restyle_target(context, self.strip_name, self.model)
        out = None
        if self.output != "IMAGES":
            if strip.type != "MOVIE":  # a sequence has no rate or audio of its own to assemble with
                raise ValueError("strip '{}' is an image sequence: its chunks make an image folder (Output Images)"
                                 .format(strip.name))
            out = farm.output_path(folder, self.output, self.lossless)  # (a take)
        chunks = farm.farm_folder(folder)  # (the job's chunks': docs/farm.md)
        take = farm.output_path(folder, "IMAGES", False) if out is None else None  # (the frames become a take)
        remember_target(self, scene, strip)
        self._model, self._out = path, out or take
        sign = props.signing_paths(context)
        return farm.assemble_job, (chunks, actor_data.strip_source(strip), out, self.lossless, sign), {
            "timeline": timing.numbering(strip), "stranded": farm.stranded_take(chunks, self.farm_job, out),
            "codec": farm.movie_codec(self.output), "farm_job": self.farm_job or None, "take": take}

    def apply(self, context, summary):
        scene, strip, _ob = job_target(self)
        self._out = summary.get("out") or self._out  # (an assembly run again finds the take the first moved it to)
        st = add_restyled_strip(scene, strip, self._out, summary["frames"], self._model)
        if st.get("reenact_look_note"):  # what the result strip could not take from the shot strip
            report(self, "WARNING", "strip '{}': {}".format(st.name, st["reenact_look_note"]))
        for w in summary.get("output_warnings", []):
            report(self, "WARNING", w)
        report(self, "INFO", "assembled {} frame(s) -> strip '{}' in channel {}".format(summary["frames"], st.name,
                                                                                      st.channel))


#: strips that hold footage Train Restyle reads: movies and image sequences
FOOTAGE = {"MOVIE", "IMAGE"}


def strip_spec(strip):
    """The :class:`reenact.restyle.data.ClipSpec` of what a strip shows: a movie's file, or an
    image strip's numbered sequence (its folder's ``name_%04d.png`` pattern), with the clip
    frames inside the strip's trims. An image strip whose images are not one numbered run
    (hand-picked images, a run with gaps, mixed names) is given as a numbered sequence of links
    to its images in the data folder ``restyle_frames`` (:func:`reenact.video.link_sequence`).
    One ValueError line naming the strip for a still image, a missing image or images of more
    than one kind."""
    from ...restyle.data import ClipSpec, sequence_spec
    from ...video import link_sequence

    # retimed, held or rate-adjusted: the clip frames it shows are not a..b (before 2026-12-05
    # trained on other frames than it shows, then Restyle Strip refused the strip)
    timing.refuse_retimed(strip, "Train Restyle would learn from other frames than it shows")
    a, b = timing.shown_span([strip])  # (a reversed strip shows its clip from the end; a meta's trims hide frames)
    if a >= b:
        raise ValueError("strip '{}' shows no frames: the trims of the meta strip it lies in hide it".format(strip.name))
    if strip.type == "MOVIE":  # (a strip held past its clip's end shows its last frame: the frames are the clip's)
        return ClipSpec(blend.strip_filepath(strip), a, min(b, max(int(strip.frame_duration), a + 1)))
    files = actor_data.strip_source(strip)
    b = min(b, max(len(files), a + 1))
    if len(files) < 3:
        raise ValueError("strip '{}' holds {} image(s) ({}); train on footage: a movie or an image sequence of 3 "
                         "frames or more".format(strip.name, len(files), files[0] if files else "no file"))
    try:
        return sequence_spec(files, a, b)
    except ValueError:
        pass  # not one numbered run: linked as one below
    try:
        pattern, first = link_sequence(files, blend.data_folder("restyle_frames"))
    except (ValueError, OSError) as exc:
        raise ValueError("strip '{}': {}".format(strip.name, exc)) from None
    return ClipSpec(pattern, first + a, first + b)


def shown_level(scene):
    """The strips the timeline shows: those of the meta strip being edited (Tab), else the top
    level's. Strips inside a closed meta keep their selection unseen (Ctrl+G leaves them
    selected): before 2026-12-06 Train Restyle took them as reference footage."""
    ed = scene.sequence_editor
    if ed is None:
        return []
    stack = list(getattr(ed, "meta_stack", ()) or ())
    return list(stack[-1].strips if stack else ed.strips)


def meta_footage(meta):
    """The movie and image strips inside the meta strip ``meta`` (at any depth) that it shows
    frames of: not muted, not hidden by its trims."""
    out = []
    for s in meta.strips:
        if s.mute:
            continue
        if s.type == "META":
            out += meta_footage(s)
        elif s.type in FOOTAGE and timing.shown_span([s])[0] < timing.shown_span([s])[1]:
            out.append(s)
    return out


def training_domains(scene, notes=None):
    """(shot strip, X, Y, reference strips): the active movie or image-sequence strip and the
    other selected ones, as :class:`reenact.restyle.data.ClipSpec` (:func:`strip_spec`), the
    references in the order of their names (which channels they lie in does not name the model:
    before 2026-12-06 a reference moved to another channel made another model, trained from step
    0, and a second result strip). A selected meta strip gives the footage it shows
    (:func:`meta_footage`); one that shows none is left out, with a line in ``notes`` (before
    2026-12-06 every meta strip was left out unsaid). One ValueError line when there is no shot
    or no reference; sound and other strips are ignored."""
    x = blend.active_strip(scene)
    if x is None or x.type not in FOOTAGE:
        raise ValueError("make the shot to restyle the active strip (a movie or image-sequence strip), and select "
                         "the reference footage with it")
    ys, empty = [], []
    for s in shown_level(scene):
        if s.select and s != x and s.type == "META":
            inner = [f for f in meta_footage(s) if f != x]
            ys += inner
            if not inner:
                empty.append("'{}'".format(s.name))
        elif s.select and s != x and s.type in FOOTAGE:
            ys.append(s)
    metas = "meta strip{} {} show{} no movie or image strip".format(
        "s" if len(empty) > 1 else "", ", ".join(empty), "" if len(empty) > 1 else "s") if empty else ""
    if not ys:
        raise ValueError("select one or more reference movie or image-sequence strips (the footage with the look "
                         "you want) besides the active strip '{}'{}".format(x.name, " (the selected " + metas + ")"
                                                                           if metas else ""))
    if metas and notes is not None:
        notes.append("the selected " + metas + ": left out of the reference footage")
    ys = sorted(ys, key=lambda s: s.name)
    return x, strip_spec(x), [strip_spec(s) for s in ys], ys


class REENACT_OT_train_restyle(TrainingJobMixin, bpy.types.Operator):
    """Train a restyle model: the active movie or image-sequence strip is the shot to change, the
    other selected movie or image-sequence strips are the reference footage (unpaired; what each strip shows on the timeline). Runs in a
    separate Python with PyTorch; Esc stops and keeps the checkpoint, a second Train resumes.
    The scene's restyle model becomes the result, for Restyle Strip"""

    bl_idname = "reenact.train_restyle"
    bl_label = "Train Restyle"
    bl_options = {"UNDO"}  # (an undo step for the model it sets; no F9 redo: that would train again, blocking)

    preview_image = PREVIEW_IMAGE

    @classmethod
    def poll(cls, context):
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene) if scene else None
        if strip is None or strip.type not in FOOTAGE:
            cls.poll_message_set("Make the shot to restyle the active strip (a movie or image-sequence strip), "
                                 "with the reference strips selected")
            return False
        if JOB.running:
            cls.poll_message_set("Another Reenact job is running")
            return False
        return True

    start_afresh: BoolProperty(name="Start Afresh", default=False, options={"SKIP_SAVE"},
                               description="Train from the start, not from the checkpoint of an earlier run "
                                           "(which is kept aside once this run saves its own)")

    def _start(self, context):
        scene = blend.edit_scene(context)
        with _nothing_left_when_refused():  # (before 2026-12-06 a refused job left restyle_frames/seq_*)
            self._prepare(scene, context)

    def _prepare(self, scene, context):
        from ...jobs import TrainingProcess, find_training_python
        from ...restyle.data import check_domains, spec_text

        s = scene.reenact
        if s.restyle_size % 16:
            raise ValueError("the working size must be a multiple of 16 (not {})".format(s.restyle_size))
        notes = []
        strip, x, ys, refs = training_domains(scene, notes)
        for n in notes:  # (a meta strip that shows no footage: before 2026-12-06 left out unsaid)
            report(self, "WARNING", n)
        check_domains([x], ys, s.restyle_colourise)  # missing files, X = Y, a colour shot: before any work
        prefs = props.preferences(context)
        python = find_training_python(prefs.training_python if prefs else "")
        kind = "colourise" if s.restyle_colourise else "restyle"
        out = model_path(strip, kind, refs)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        # this training's checkpoint under an earlier name: resumed by the trainer when it holds these frames
        self._elsewhere = [] if self.start_afresh or os.path.exists(os.path.splitext(out)[0] + ".ckpt.pt") else \
            resume_candidates(out, strip, kind, refs)
        self._out, self._scene_name, self._steps = out, scene.name, s.restyle_steps
        # this run's preview beside the model's, which it becomes when the run finishes (before
        # 2026-12-06 a stopped run's replaced the finished model's)
        self._preview = os.path.splitext(out)[0] + "_preview.png"
        self._run_preview = os.path.splitext(out)[0] + "_preview.run.png"
        args = ["restyle", "train", "--x", spec_text(x)]
        for y in ys:
            args += ["--y", spec_text(y)]
        args += ["--out", out, "--method", s.restyle_method, "--size", str(s.restyle_size),
                 "--steps", str(s.restyle_steps), "--preview", self._run_preview, "--preview-every", "10"]
        if s.restyle_minutes > 0:
            args += ["--minutes", "{:g}".format(s.restyle_minutes)]
        if s.restyle_colourise:
            args.append("--colourise")
        if self.start_afresh:
            args.append("--no-resume")
        for c in self._elsewhere:
            args += ["--resume-from", c]
        extra = [p for p in __import__("sys").path if p.endswith("site-packages") and ".local" in p]
        self._proc = TrainingProcess(python, args, extra_paths=extra, module="reenact").start()
        # (a first save meanwhile leaves the folder it writes: saving.move_restyle_models; before the evening of
        # 2026-12-06 its files were copied and removed under the running trainer)
        self._writing = training_key(os.path.dirname(out), "*")
        TRAINING.add(self._writing)

    def _cleanup(self, context):
        super()._cleanup(context)
        TRAINING.discard(getattr(self, "_writing", None))

    def _finish(self, context):
        from ...restyle.resume import ALREADY_TRAINED, stopped_message

        TRAINING.discard(getattr(self, "_writing", None))  # (its files are the next save's to move)
        p = self._proc
        for w in p.warnings:  # (a checkpoint of other footage kept aside: before 2026-12-05 unsaid, and
            report(self, "WARNING", w)  # before 2026-12-06 unsaid when the run stopped or failed)
        if not p.done_path:
            _remove(self._run_preview)
        if p.cancelled:  # ("the checkpoint is kept" only when the trainer said it saved one: before 2026-12-06
            report(self, *stopped_message(p.step, p.warnings, p.tail))  # also when it was killed in its last save)
            return {"CANCELLED"}
        if p.error or not p.done_path:
            err = (p.error or "no model written").replace("reenact: error: ", "")
            if ALREADY_TRAINED in err:  # (before 2026-12-06 "trained (0 steps (resumed from step 30), loss nan)")
                which, rest = err.split(ALREADY_TRAINED, 1)
                done = rest.split()[0].rstrip(",.")
                which = which.strip()
                # (an earlier version's checkpoint, after Save As: named; before the review of 2026-12-06 unsaid)
                of = ", the checkpoint of " + blend.relative_to_project(which) if which in (self._elsewhere or ()) else ""
                report(self, "ERROR", "restyle model already trained to step {} ≥ Steps {}{}: raise Steps to train "
                                      "on, or Start Afresh".format(done, self._steps, of))
            else:
                report(self, "ERROR", "restyle training failed: {}".format(err))
            return {"CANCELLED"}
        scene = bpy.data.scenes.get(self._scene_name) or blend.edit_scene(context)
        scene.reenact.restyle_model = blend.relative_to_project(p.done_path)  # (a moved project keeps it)
        try:
            os.replace(self._run_preview, self._preview)
        except OSError:
            pass
        show_preview(self._preview, PREVIEW_IMAGE)
        resumed = " (resumed from step {}{})".format(p.resumed_from, self._adopted()) if p.resumed_from else ""
        if self._elsewhere and not p.resumed_from:  # (said: it did not just forget them)
            report(self, "INFO", "trained from step 0: {} {} of other frames or settings".format(
                ", ".join(blend.relative_to_project(c) for c in self._elsewhere),
                "holds training" if len(self._elsewhere) == 1 else "hold trainings"))
        report(self, "INFO", "restyle model trained ({} steps{}, loss {:.4f}): {}; Restyle Strip applies it".format(
            p.step, resumed, p.loss, p.done_path))
        return {"FINISHED"}

    def _adopted(self):
        """', of <the checkpoint>' when the run resumed one of :func:`resume_candidates`."""
        if not self._elsewhere:
            return ""
        if len(self._elsewhere) == 1:
            return ", of " + blend.relative_to_project(self._elsewhere[0])
        return ", of one of " + ", ".join(blend.relative_to_project(c) for c in self._elsewhere)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


classes = (REENACT_OT_train_restyle, REENACT_OT_restyle_strip, REENACT_OT_assemble_restyle)
