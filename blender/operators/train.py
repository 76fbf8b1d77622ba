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
from .. import props
from ..modal import JOB, TrainingJobMixin, show_preview
from ..report import report


#: an unsaved .blend's actor: the name of its models folder in the extension's user folder
UNSAVED_ID = "reenact_unsaved_models"


def _models_dir(ob):
    """``//reenact/models/<.blend name>``: each .blend its own renderers (before 2026-12-05 one
    ``<actor>.onnx`` for all: training in a version saved beside resumed and replaced the other's
    model), as its Tracks, renders and restyle models are. An unsaved .blend's: a folder of its
    own in the extension's user folder, named on the actor (before 2026-12-06 every unsaved file
    shared one, and Start Fresh in one wrote over the model another file's actor rendered with)."""
    import uuid

    if bpy.data.filepath:
        name = actor_data.blend_name()
    else:
        if not ob.get(UNSAVED_ID):
            ob[UNSAVED_ID] = uuid.uuid4().hex[:12]
        name = "unsaved_" + str(ob[UNSAVED_ID])
    folder = os.path.join(blend.data_folder("models"), name)
    os.makedirs(folder, exist_ok=True)
    return folder


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
    """Fine-tune a neural renderer on the active actor's footage, starting from the bundled base model.
    Runs in a separate Python with PyTorch; Esc stops and keeps the last checkpoint"""

    bl_idname = "reenact.train_renderer"
    bl_label = "Train Renderer"
    bl_options = {"UNDO"}  # (an undo step for the model it sets; no F9 redo: that would train again, blocking)

    steps: IntProperty(name="Steps", default=400, min=1, max=1000000,
                       description="Training steps (resumes from the last checkpoint when there is one)")
    accept_footage: BoolProperty(name="Accept Re-encoded Footage", default=False,
                                 description="Train although the strip's pixels or frame rate differ from the footage "
                                             "the actor was tracked in (a re-encoded copy of the same shot); its frame "
                                             "size and length must still match")
    fresh: BoolProperty(name="Start Fresh", default=False,
                        description="Train from the start instead of resuming the actor's last checkpoint (needed "
                                    "when that checkpoint was trained on other footage or another Track)")

    @classmethod
    def poll(cls, context):
        ob = actor_data.active_actor(context)
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

    def _start(self, context):
        from ...jobs import TrainingProcess, find_training_python

        ob = actor_data.active_actor(context)
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
        for w in actor_data.check_strip_footage(ob, strip, actor_data.tracked_track(ob), self.accept_footage):
            report(self, "WARNING", w)
        out = os.path.join(_models_dir(ob), bpy.path.clean_name(ob.name) + ".onnx")
        self._out = out
        self._actor = ob.name
        self._preview = os.path.join(os.path.dirname(out), bpy.path.clean_name(ob.name) + "_preview.png")
        args = ["--data", "{}={}".format(track, video), "--out", out, "--steps", str(self.steps),
                "--preview", self._preview, "--preview-every", "25"]
        weights, note = base_weights(prefs)
        if note:
            report(self, "WARNING", note)
        if os.path.isfile(weights):
            args += ["--init", weights]
        if self.accept_footage:
            args.append("--accept-footage")
        if self.fresh:
            args.append("--no-resume")
        extra = [p for p in __import__("sys").path if p.endswith("site-packages") and ".local" in p]
        self._proc = TrainingProcess(python, args, extra_paths=extra).start()

    def _finish(self, context):
        p = self._proc
        for w in p.warnings:  # (a damaged checkpoint moved aside, no rehearsal clip: before 2026-12-06 unsaid)
            report(self, "WARNING", "training: " + w)
        if p.cancelled:
            if max(p.step, p.resumed_from) == 0:  # (Esc while the footage was read: nothing trained, nothing kept)
                report(self, "WARNING", "training stopped before its first step: nothing was trained")
            else:
                report(self, "WARNING", "training stopped at step {}; the checkpoint is kept and the next "
                                         "run resumes from it".format(max(p.step, p.resumed_from)))
            return {"CANCELLED"}
        if p.error or not p.done_path:
            # the trainer names its command-line flags; here they are this operator's options
            err = (p.error or "no model written").replace(", or train to another --out", "").replace(
                "--no-resume", "the Start Fresh option").replace("--accept-footage", actor_data.ACCEPT_HINT).replace(
                "give more --steps", "raise Steps")
            report(self, "ERROR", "training failed: {}".format(err))
            return {"CANCELLED"}
        ob = bpy.data.objects.get(self._actor)
        if ob is not None:
            ob.reenact.model_path = blend.relative_to_project(p.done_path)  # (a moved project keeps it)
        show_preview(p.preview, self.preview_image)
        report(self, "INFO", "renderer trained ({} steps, loss {:.4f}): {}".format(
            p.step, p.loss, p.done_path))
        return {"FINISHED"}

classes = (REENACT_OT_train_renderer,)
