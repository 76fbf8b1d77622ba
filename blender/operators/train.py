# SPDX-License-Identifier: GPL-3.0-or-later
"""Train Renderer: fine-tune a neural renderer on the active actor's footage.

Training runs as a separate process in a Python that has torch (the training stack is not
part of Blender); the sidebar shows the step, the loss and a preview image; Esc stops it and
keeps the last checkpoint, from which the next run resumes.
"""

import os

import bpy
from bpy.props import BoolProperty, IntProperty

from .. import actor as actor_data
from .. import blend
from .. import props, shown
from ..modal import JOB, TrainingJobMixin, show_preview
from ..report import report
from ..saving import MODEL_STEM, TRAINING, UNSAVED_ID, left_unsaved, preview_image_name, training_key


#: where the sidebar shows the training options (the errors name them)
OPTIONS_AT = "Renderer panel, Training"
#: beside an actor's checkpoint ``<stem>.ckpt.pt``: what Track it was trained on (Blender's note)
TRAINED_ON = ".trained_on.json"


def _models_dir(ob):
    """``//reenact/models/<.blend name>``: each .blend its own renderers (before 2026-12-05 one
    ``<actor>.onnx`` for all: training in a version saved beside resumed and replaced the other's
    model), as its Tracks, renders and restyle models are. An unsaved .blend's: a folder of its
    own in the extension's user folder, named on the actor (before 2026-12-06 every unsaved file
    shared one, and Start Fresh in one wrote over the model another file's actor rendered with).
    A saved file's actor whose files a save while it trained left in its user folder trains on
    there (``saving.left_unsaved``: the next save moves them all)."""
    import uuid

    if bpy.data.filepath:  # (by the name that keeps two .blend files' apart: actor_data.blend_name)
        folder = blend.own_folder(blend.data_folder("models"))
        folder = left_unsaved(ob, folder) or folder
    else:
        if not ob.get(UNSAVED_ID):
            ob[UNSAVED_ID] = uuid.uuid4().hex[:12]
        folder = os.path.join(blend.data_folder("models"), "unsaved_" + str(ob[UNSAVED_ID]))
    os.makedirs(folder, exist_ok=True)
    return folder


def _model_of(o):
    """Where actor ``o``'s Renderer points, normalised ('' for none)."""
    path = o.reenact.model_path
    return os.path.normcase(os.path.abspath(bpy.path.abspath(path, library=o.library))) if path else ""


def model_stem(ob, folder):
    """The name of ``ob``'s renderer files (``<stem>.onnx``, ``.ckpt.pt``...) in its models
    ``folder``: the one it trained to before (kept when the actor is renamed: the run resumes its
    checkpoint), else its Renderer's there, else its cleaned name, with ``_2``, ``_3``... where
    another actor of the .blend has that name already (by the name it trained to, or its Renderer
    pointing at that file). Before 2026-12-06 the cleaned name alone: "shot 1 Actor 0" and
    "shot_1 Actor 0" shared one file, and Start Fresh on one replaced the model the other rendered with."""
    others = [o for o in bpy.data.objects if o != ob and actor_data.is_actor(o)]
    # (of actors claiming one name, the one named after it keeps it: a Shift+D copy, which holds the
    # claim and Renderer of the actor it copies, does not bump that actor to new files: a review)
    mine_stem = ob.get(MODEL_STEM)
    owner = bool(mine_stem) and bpy.path.clean_name(ob.name) == mine_stem
    others = [o for o in others if not (owner and o.get(MODEL_STEM) == mine_stem
                                        and bpy.path.clean_name(o.name) != mine_stem)]
    claimed = {o.get(MODEL_STEM) for o in others if o.library is None}
    used = {_model_of(o) for o in others}

    def free(stem):
        path = os.path.normcase(os.path.abspath(os.path.join(folder, stem + ".onnx")))
        return bool(stem) and stem not in claimed and path not in used

    own = _model_of(ob)
    mine = [ob.get(MODEL_STEM) or ""]
    if own and os.path.dirname(own) == os.path.normcase(os.path.abspath(folder)) and own.endswith(".onnx"):
        mine.append(os.path.basename(own)[:-len(".onnx")])
    for stem in mine:
        if free(stem) and "." not in stem:  # (an .int8.onnx or .fp16.onnx: not a stem)
            return stem
    base, k = bpy.path.clean_name(ob.name), 2
    stem = base
    while not free(stem):
        stem, k = "{}_{}".format(base, k), k + 1
    return stem


def track_digest(ob):
    """A digest of what the actor's Track holds (what the trainer's checkpoint records of it)."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for k, v in sorted(actor_data.tracked_track(ob).to_arrays().items()):
        v = np.ascontiguousarray(v)
        h.update("|{}|{}|{}|".format(k, v.dtype.str, v.shape).encode())
        h.update(v.tobytes())
    return h.hexdigest()[:32]


def find_trained_actor(name, key, stem):
    """The actor a training ran for, by its ``name`` then (renamed meanwhile) by the files it
    trained to (``stem``) and its identity (``key``, :func:`~reenact.blender.actor.actor_key`), as
    the render jobs find theirs again (``modal.job_target``); None when it is gone. Before
    2026-12-06 by its name alone: an actor renamed while it trained was left without the model."""
    def fits(o):
        return actor_data.is_actor(o) and (not key or actor_data.actor_key(o) == key) and o.get(MODEL_STEM) in (
            stem, None)  # (none: the claim undone meanwhile)

    ob = bpy.data.objects.get(name)
    if ob is not None and fits(ob):
        return ob
    found = [o for o in bpy.data.objects if o.library is None and fits(o) and o.get(MODEL_STEM) == stem]
    return found[0] if len(found) == 1 else None


def trained_on(stem_path):
    """The note beside the checkpoint of ``stem_path`` (``<folder>/<stem>``): {"track": digest,
    "name": the Track file's name} of the Track it was last trained on, or {}."""
    import json

    try:
        with open(stem_path + TRAINED_ON, encoding="utf-8") as fh:
            note = json.load(fh)
        return note if isinstance(note, dict) else {}
    except (OSError, ValueError):
        return {}


def note_trained_on(stem_path, digest, name):
    """Note beside the checkpoint of ``stem_path`` that it is of the Track ``digest`` (``name``)."""
    import json

    try:
        with open(stem_path + TRAINED_ON, "w", encoding="utf-8") as fh:
            json.dump({"track": digest, "name": name}, fh)
    except OSError:  # (a note for a clearer refusal later: never a failure)
        pass


def other_data_line(err, ob, note, track_name, digest):
    """The trainer's "holds a checkpoint of other training data (X; this run: X)", where both
    runs' footage has the one name, said with what differs: the actor's Track (tracked again
    since), else the footage behind that name, as the checkpoint's ``note`` (:func:`trained_on`)
    tells. Before 2026-12-06 the one file was named twice and the Track not at all."""
    import re

    from ...training.data import OTHER_FILE, TRACKED_AGAIN

    m = re.search(r"other training data \((.*); this run: (.*?)(?:, (?:{}|{}))?\)(:|$)".format(
        re.escape(TRACKED_AGAIN), re.escape(OTHER_FILE)), err)
    if not m or m[1] != m[2]:
        return err  # (other footage by its name: said as it is)
    old = note.get("track")
    who = "'{}'".format(ob.name) if ob is not None else "the actor"
    if old and old != digest:
        what = "an earlier Track of {}: {} was tracked again since; this run: its Track {}".format(
            m[1], who, track_name)
    elif old:
        what = "other footage named {}: the strip's file changed since".format(m[1])
    else:
        what = "another Track or other footage of {}; this run: the Track {}".format(m[1], track_name)
    return err[:m.start(1)] + what + err[m.end(2):][err[m.end(2):].index(")"):]


def base_weights(prefs=None):
    """(the bundled weights Train Renderer starts from, a note or None): those of the renderer the
    preferences name (*Bundled Renderer*, default the 256 px base; the run's crop size follows
    them); where those are not installed (the extension's zip carries only the default's), the
    other bundled base's, and the note says so."""
    from ...render.renderer import BUNDLED_MODELS, DEFAULT_BUNDLED, bundled_weights

    name = getattr(prefs, "base_model", DEFAULT_BUNDLED) or DEFAULT_BUNDLED
    if name not in BUNDLED_MODELS:
        name = DEFAULT_BUNDLED
    wanted = bundled_weights(name)
    if os.path.isfile(wanted):
        return wanted, None
    for other in BUNDLED_MODELS:
        if other != name and os.path.isfile(bundled_weights(other)):
            return bundled_weights(other), (
                "the training weights of the bundled renderer '{}' ({}) are not installed with the extension: "
                "training starts from '{}' (use `reenact train --init {}` from a checkout of the repository for "
                "that renderer)".format(name, os.path.basename(wanted), other, name))
    return wanted, None


class REENACT_OT_train_renderer(TrainingJobMixin, bpy.types.Operator):
    """Fine-tune a neural renderer on the active actor's footage, starting from the bundled base model
    (Steps and the other options: the Renderer panel's Training). Runs in a separate Python with PyTorch;
    Esc stops and keeps the last checkpoint"""

    bl_idname = "reenact.train_renderer"
    bl_label = "Train Renderer"
    bl_options = {"UNDO"}  # (an undo step for the model it sets; no F9 redo: that would train again, blocking)

    # (the sidebar's Training options are the scene's, props.ReenactSceneSettings.train_*; these, for
    # scripts, override them when given, and are never remembered: before 2026-12-06 the UI could set
    # none of them, and a run "trained already" or over another Track's checkpoint was stuck for good)
    steps: IntProperty(name="Steps", default=400, min=1, max=1000000, options={"SKIP_SAVE"},
                       description="Training steps in all (resumes from the last checkpoint when there is one); "
                                   "not given: the scene's Steps")
    accept_footage: BoolProperty(name="Accept Re-encoded Footage", default=False, options={"SKIP_SAVE"},
                                 description="Train although the strip's pixels or frame rate differ from the footage "
                                             "the actor was tracked in (a re-encoded copy of the same shot); its frame "
                                             "size and length must still match")
    fresh: BoolProperty(name="Start Fresh", default=False, options={"SKIP_SAVE"},
                        description="Train from the bundled base instead of resuming the actor's last checkpoint "
                                    "(needed when that checkpoint was trained on other footage or another Track, or "
                                    "has all its steps); the checkpoint is replaced")

    @classmethod
    def poll(cls, context):
        ob = shown.shown_active(context)
        if ob is None:
            cls.poll_message_set("Make a tracked actor the active object (Track Actor first)")
            return False
        if not os.path.isfile(actor_data.track_file(ob)):  # (a project folder moved whole: the Track beside the .blend)
            cls.poll_message_set("The actor's Track file is missing: track the strip again")
            return False
        if JOB.running:
            cls.poll_message_set("Another Reenact job is running")
            return False
        return True

    def _options(self, context):
        """(steps, accept footage): the operator's where a script gave them, else the scene's
        (the sidebar's Training options)."""
        s = blend.edit_scene(context).reenact
        given = self.properties.is_property_set
        return (self.steps if given("steps") else s.train_steps,
                self.accept_footage if given("accept_footage") else s.train_accept_footage)

    def _start(self, context):
        from ...jobs import TrainingProcess, find_training_python

        ob = actor_data.active_actor(context)
        steps, accept = self._options(context)
        prefs = props.preferences(context)
        python = find_training_python(prefs.training_python if prefs else "")
        track = actor_data.track_file(ob)
        # the footage the strip shows now, checked against the Track before the trainer starts
        _scene, strip = actor_data.actor_strip(ob)
        video = blend.strip_filepath(strip)
        if strip.type == "IMAGE":
            video = os.path.dirname(video)  # the trainer opens the sequence's folder
        if not os.path.exists(video):
            raise ValueError("{}: the actor's footage is missing".format(video))
        for w in actor_data.check_strip_footage(ob, strip, actor_data.tracked_track(ob), accept):
            report(self, "WARNING", w)
        folder = _models_dir(ob)
        stem = model_stem(ob, folder)
        ob[MODEL_STEM] = stem  # (this actor's from now on: another actor's run takes another name)
        out = os.path.join(folder, stem + ".onnx")
        self._out, self._stem, self._track_name = out, stem, os.path.basename(track)
        self._actor, self._key = ob.name, actor_data.actor_key(ob)
        self._digest = track_digest(ob)
        self.preview_image = preview_image_name(stem)  # (the modal loop shows it as it comes)
        self._preview = os.path.join(folder, stem + "_preview.png")
        # every tracked frame of the shot (--holdout 0: the last 15 % were held out for a score Blender
        # never shows; before 2026-12-06 the end of the shot was never trained on, a review)
        args = ["--data", "{}={}".format(track, video), "--out", out, "--steps", str(steps),
                "--preview", self._preview, "--preview-every", "25", "--holdout", "0"]
        weights, note = base_weights(prefs)
        if note:
            report(self, "WARNING", note)
        if os.path.isfile(weights):
            args += ["--init", weights]
        if accept:
            args.append("--accept-footage")
        if self.fresh:
            args.append("--no-resume")
        extra = [p for p in __import__("sys").path if p.endswith("site-packages") and ".local" in p]
        self._proc = TrainingProcess(python, args, extra_paths=extra).start()
        self._writing = training_key(folder, stem)  # (a save meanwhile leaves these files: saving.move_models)
        TRAINING.add(self._writing)

    def _cleanup(self, context):
        super()._cleanup(context)
        TRAINING.discard(getattr(self, "_writing", None))

    def _finish(self, context):
        TRAINING.discard(getattr(self, "_writing", None))  # (its files are the next save's to move)
        p = self._proc
        for w in p.warnings:  # (a damaged checkpoint moved aside, no rehearsal clip: before 2026-12-06 unsaid)
            report(self, "WARNING", "training: " + w.replace(" (reenact quantize makes it)", ""))  # (no such option here)
        ob = find_trained_actor(self._actor, self._key, self._stem)
        stem_path = os.path.splitext(self._out)[0]
        if p.step > 0:  # (its checkpoint is of this Track now: said when a later run is refused)
            note_trained_on(stem_path, self._digest, self._track_name)
        if p.cancelled:
            if max(p.step, p.resumed_from) == 0:  # (Esc while the footage was read: nothing trained, nothing kept)
                report(self, "WARNING", "training stopped before its first step: nothing was trained")
            else:
                report(self, "WARNING", "training stopped at step {}; the checkpoint is kept and the next "
                                         "run resumes from it".format(max(p.step, p.resumed_from)))
            return {"CANCELLED"}
        if p.error or not p.done_path:
            # the trainer names its command-line flags; here they are the sidebar's options
            err = (p.error or "no model written").replace("train: error: ", "").replace(
                ", or train to another --out", "").replace(
                "--no-resume (it is overwritten)", "the Start Fresh option ({}: it replaces the checkpoint)".format(
                    OPTIONS_AT)).replace(
                "--no-resume", "the Start Fresh option ({})".format(OPTIONS_AT)).replace(
                "--accept-footage", actor_data.ACCEPT_HINT).replace(
                "give more --steps", "raise Steps ({})".format(OPTIONS_AT)).replace(
                "; --no-rehearse-sample fine-tunes without it", "").replace(  # (flags the sidebar has not: reviews)
                "give the options it was trained with to resume it, ", "")
            err = other_data_line(err, ob, trained_on(stem_path), self._track_name, self._digest)
            report(self, "ERROR", "training failed: {}".format(err))
            return {"CANCELLED"}
        show_preview(p.preview, self.preview_image)
        said = "renderer trained ({} steps{}, loss {:.4f}): {}".format(
            p.step, " (resumed from step {})".format(p.resumed_from) if p.resumed_from else "", p.loss, p.done_path)
        if p.step == 0 and p.resumed_from:  # (its model exported again from the checkpoint: no step trained)
            said = "renderer exported again from its checkpoint ({} steps): {}".format(p.resumed_from, p.done_path)
        if ob is None:  # (removed while it trained: the model is kept, for an actor to take)
            report(self, "WARNING", "{}; but the actor '{}' was removed while it trained, so no actor uses it: "
                                    "set an actor's Renderer to that file".format(said, self._actor))
            return {"FINISHED"}
        ob.reenact.model_path = blend.relative_to_project(p.done_path)  # (a moved project keeps it)
        report(self, "INFO", said if ob.name == self._actor else "{} (for '{}', renamed from '{}')".format(
            said, ob.name, self._actor))
        return {"FINISHED"}


classes = (REENACT_OT_train_renderer,)
