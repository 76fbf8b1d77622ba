# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared machinery for long operators: a worker thread polled by a modal timer in the UI, a
progress bar in the sidebar and the status bar, Esc to cancel; blocking in background mode
(and in the PyPI bpy module, where timers never fire). Blender data is only written on the main
thread once the job has succeeded, so a failed or cancelled job leaves the .blend as it was."""

import os

import bpy

from ..jobs import BackgroundJob
from .blend import _strip_paths
from ..progress import ProgressLines
from . import takes
from .report import EXPECTED, describe, fail, report


def _redraw_sidebars(context):
    wm = context.window_manager
    for win in wm.windows:
        for area in win.screen.areas:
            if area.type == "SEQUENCE_EDITOR":
                area.tag_redraw()


class JobState:
    """The running job's progress bar. Kept in Python, not in Blender data: a scene property
    (before 2026-12-05) was saved with the .blend, its autosaves and undo steps, so a file saved
    during a render opened with a job "running" for ever, its buttons hidden and every job
    refused, with nothing to reset it. One job runs at a time in a Blender session."""

    running = False
    progress = 0.0
    text = ""


JOB = JobState()


def set_job_state(context, running, fraction=0.0, text=""):
    """The sidebar's progress bar (:data:`JOB`)."""
    JOB.running, JOB.progress, JOB.text = bool(running), float(fraction), text


def begin_modal(op, context, interval, text):
    """Timer, modal handler, progress cursor and status text for a long operator."""
    wm = context.window_manager
    op._timer = wm.event_timer_add(interval, window=context.window)
    wm.modal_handler_add(op)
    wm.progress_begin(0, 1000)
    set_job_state(context, True, 0.0, text)
    context.workspace.status_text_set("Reenact: {} (Esc to cancel)".format(text))


def end_modal(op, context):
    """Undo everything :func:`begin_modal` set up."""
    wm = context.window_manager
    if op._timer is not None:
        wm.event_timer_remove(op._timer)
        op._timer = None
    wm.progress_end()
    context.workspace.status_text_set(None)
    set_job_state(context, False)
    _redraw_sidebars(context)


def job_error(job):
    """The one line a failed job reports: onnxruntime, OpenCV and memory errors said plainly
    (:func:`~reenact.blender.report.describe`), the core's own errors as they are."""
    exc = getattr(job, "exception", None)
    return describe(exc) if exc is not None else "{}".format(job.error)


def print_unexpected(job):
    """The traceback of a failed job in the console when its failure is a bug (not a file, a
    value or memory the user can act on, which the one ERROR line says): before 2026-12-06 the
    modal path printed it for every failure (a missing file too) and the blocking path guessed
    from the message, so a bug whose text held "Error: " printed none."""
    if job.traceback and not isinstance(getattr(job, "exception", None), EXPECTED + (MemoryError,)):
        print(job.traceback)


def was_renamed(exc):
    """Whether the KeyError ``exc`` is a Blender collection's "key not found" (a scene, strip or
    actor looked up by name, renamed or removed while a job ran)."""
    return bool(exc.args) and 'not found' in str(exc.args[0]) and "key" in str(exc.args[0])


def remember_target(op, scene, strip, ob=None):
    """Note on the operator ``op`` the scene, strip and actor its job works on, by name and by
    who they are (the scene's session id, the strip's ``reenact_id``, the actor's key), so that
    :func:`job_target` finds them again when the editor renamed one while the job ran."""
    from .actor import actor_key

    op._scene_name, op._strip_name = scene.name, strip.name
    op._scene_uid, op._strip_rid = scene.session_uid, strip.get("reenact_id") or ""
    op._strip_at = (strip.as_pointer(), _strip_paths(strip))  # (one never tracked: no reenact_id)
    if ob is not None:
        op._ob_name, op._ob_key = ob.name, actor_key(ob)


def job_target(op):
    """(scene, strip, actor or None) that :func:`remember_target` noted, found by name, else (renamed
    while the job ran) by who they are, the names on ``op`` brought up to date; a scene or strip
    gone (removed, or its id shared by pieces cut from it): KeyError naming it (:func:`was_renamed`).
    Before 2026-12-06 a rename meanwhile lost the job's result ("renamed or removed while it ran")."""
    from .actor import actor_key, is_actor

    uid = getattr(op, "_scene_uid", None)
    scene = bpy.data.scenes.get(op._scene_name)
    if uid is not None and (scene is None or scene.session_uid != uid):
        scene = next((s for s in bpy.data.scenes if s.session_uid == uid), None) or scene  # (else: the name's)
    if scene is None or scene.sequence_editor is None:
        raise KeyError('key "{}" not found'.format(op._scene_name))
    strips = scene.sequence_editor.strips_all
    strip, rid = strips.get(op._strip_name), getattr(op, "_strip_rid", "")
    if rid and (strip is None or strip.get("reenact_id") != rid):
        found = [s for s in strips if s.get("reenact_id") == rid and s.type in {"MOVIE", "IMAGE"}]
        if len(found) > 1:  # (pieces of a shot share its id: the one at the strip's address)
            found = [s for s in found if (s.as_pointer(), _strip_paths(s)) == getattr(op, "_strip_at", None)]
        strip = found[0] if len(found) == 1 else None
    elif not rid and strip is None and getattr(op, "_strip_at", None):  # (the same strip: its address and file;
        found = [s for s in strips if (s.as_pointer(), _strip_paths(s)) == op._strip_at]  # compared, never followed)
        strip = found[0] if len(found) == 1 else None
    if strip is None:
        raise KeyError('key "{}" not found'.format(op._strip_name))
    ob, key = None, getattr(op, "_ob_key", "")
    if getattr(op, "_ob_name", None):
        ob = bpy.data.objects.get(op._ob_name)
        if key and (ob is None or not is_actor(ob) or actor_key(ob) != key):
            found = [o for o in bpy.data.objects if is_actor(o) and actor_key(o) == key]
            ob = found[0] if len(found) == 1 else ob
        if ob is not None:
            op._ob_name = ob.name
    op._scene_name, op._strip_name = scene.name, strip.name
    return scene, strip, ob


def renamed_meanwhile(label, exc):
    """The line for a job whose scene, strip or actor was renamed or removed while it ran (its
    result could not be put back; before 2026-12-05 a raw traceback)."""
    import re

    m = re.search(r'key "(.*)" not found', str(exc.args[0]) if exc.args else "")
    what = "'{}'".format(m[1]) if m else "the scene, strip or actor it worked on"
    return ("{} finished, but {} was renamed or removed while it ran, so nothing was added; run it again "
            "(its finished work is reused where it was saved)".format(label, what))


def interactive(context):
    """Whether an operator runs in Blender's interface (a window), not headless or from a script
    without one: a long job then runs beside Blender, with progress and Esc."""
    return not bpy.app.background and context.window is not None


class ModalJobMixin:
    """Subclasses define ``prepare(context) -> (func, args, kwargs)`` (main thread; reads Blender
    state) and ``apply(context, result)`` (main thread; writes Blender state). ``dialog``: the
    operator's options are shown first (its ``draw``, or Blender's of its properties), and OK
    starts the job: its long jobs have no Adjust Last Operation panel (a change there would run
    the whole job again, blocking Blender), and before 2026-12-06 Render Performance, Render
    Edited Actors, Restyle Strip, Conform and the Assemble operators started at once with their
    last options, the region, output, frames and every other option out of reach."""

    dialog = False
    dialog_width = 360
    job_label = "Working"
    cancel_note = "nothing changed"  # what Esc leaves behind, for the warning
    _timer = None
    _job = None

    def _set_state(self, context, running, fraction=0.0, text=""):
        set_job_state(context, running, fraction, text)

    def _finish(self, context, result, apply=None):
        try:
            (apply or self.apply)(context, result)
        except (ValueError, OSError, RuntimeError) as exc:
            report(self, "ERROR", exc)
            return {"CANCELLED"}
        except KeyError as exc:
            if not was_renamed(exc):  # (a bug, not a name gone: said with its traceback, not as a rename)
                import traceback

                traceback.print_exc()
                report(self, "ERROR", "{} failed while adding its result: {} (the traceback is in the console)".format(
                    self.job_label, describe(exc)))
                return {"CANCELLED"}
            report(self, "ERROR", renamed_meanwhile(self.job_label, exc))  # (renamed or removed meanwhile)
            return {"CANCELLED"}
        return {"FINISHED"}

    def execute(self, context):
        """Blocking path (background mode, scripts); after the options dialog, the job beside Blender."""
        if getattr(self, "_confirmed", False):  # (OK in the options dialog: this operator's own flag, set
            self._confirmed = False  # by its invoke; not a set of addresses, which a cancelled dialog left)
            if interactive(context):
                return self._start(context)
        if JOB.running and not bpy.app.background:  # (before 2026-12-06 a second job ran beside the first)
            report(self, "WARNING", "another job is running; wait or press Esc")
            return {"CANCELLED"}
        takes.drop_pending()
        try:
            func, args, kwargs = self.prepare(context)
        except EXPECTED as exc:
            takes.drop_pending()  # (its takes' claims: nothing left of a refused job)
            return fail(self, exc)
        job = BackgroundJob(takes.claiming(func), *args, **kwargs)  # (the take it writes claimed while it runs)
        if bpy.app.background:  # headless (a farm, a script): progress lines on stdout
            job.echo = ProgressLines(self.job_label)
        job._run()  # same code path as the thread, on this thread
        if job.error:
            report(self, "ERROR", job_error(job))
            print_unexpected(job)
            return {"CANCELLED"}
        if job.cancelled:
            report(self, "WARNING", "cancelled")
            return {"CANCELLED"}
        return self._finish(context, job.result)

    def invoke(self, context, event):
        if not interactive(context):
            return self.execute(context)
        if JOB.running:
            report(self, "WARNING", "another job is running; wait or press Esc")
            return {"CANCELLED"}
        if self.dialog:
            self._confirmed = True  # (execute, after OK, starts the job beside Blender)
            return context.window_manager.invoke_props_dialog(self, width=self.dialog_width)
        return self._start(context)

    def _start(self, context):
        """The job started beside Blender (a thread, a timer, progress and Esc)."""
        if JOB.running:
            report(self, "WARNING", "another job is running; wait or press Esc")
            return {"CANCELLED"}
        takes.drop_pending()
        try:
            func, args, kwargs = self.prepare(context)
        except EXPECTED as exc:
            takes.drop_pending()
            return fail(self, exc)
        self._job = BackgroundJob(takes.claiming(func), *args, **kwargs).start()
        begin_modal(self, context, 0.1, self.job_label + "…")
        return {"RUNNING_MODAL"}

    def _cleanup(self, context):
        end_modal(self, context)

    def modal(self, context, event):
        job = self._job
        if event.type == "ESC" and event.value == "PRESS" and (job.running or job.cancelled or job.error):
            # (a job that finished before Esc reached it is kept, below: before 2026-12-06 a whole
            # render done was thrown away as "cancelled")
            job.cancel()
            job.join()
            self._cleanup(context)
            report(self, "WARNING", "{} cancelled, {}".format(self.job_label.lower(), self.cancel_note))
            partial = getattr(self, "apply_partial", None)  # (a job of several parts keeps those done)
            if partial is not None and job.result:
                # FINISHED when it added something: an undo step for it (before 2026-12-06 CANCELLED,
                # and the strips it added belonged to no undo step)
                return self._finish(context, job.result, apply=partial)
            return {"CANCELLED"}
        if event.type not in ("TIMER", "ESC"):
            return {"PASS_THROUGH"}
        if job.running:
            done, total, message = job.status()
            frac = job.fraction()
            context.window_manager.progress_update(int(frac * 1000))
            text = "{} {}/{} {}".format(self.job_label, done, total, message).strip()
            self._set_state(context, True, frac, text)
            context.workspace.status_text_set("Reenact: {} (Esc to cancel)".format(text))
            _redraw_sidebars(context)
            return {"RUNNING_MODAL"}
        self._cleanup(context)
        if job.cancelled:
            report(self, "WARNING", "cancelled")
            return {"CANCELLED"}
        if job.error:
            print_unexpected(job)
            report(self, "ERROR", job_error(job))
            return {"CANCELLED"}
        return self._finish(context, job.result)

    def cancel(self, context):
        if self._job is not None:
            self._job.cancel()
            self._job.join()
        self._cleanup(context)


# --- training in a separate process (Train Renderer, Train Restyle) ---------------------------
def show_preview(path, name):
    """Load or reload the trainer's preview PNG as the image ``name`` (the sidebar draws its preview)."""
    if not path or not os.path.isfile(path):
        return
    img = bpy.data.images.get(name)
    if img is None:
        img = bpy.data.images.load(path, check_existing=False)
        img.name = name
    else:
        img.filepath = path
        img.reload()
    img.preview_ensure()


def time_left(seconds):
    """' · ~N min left' (' · <1 min left'), or '' when ``seconds`` is None."""
    if seconds is None:
        return ""
    return " · <1 min left" if seconds < 60 else " · ~{:.0f} min left".format(seconds / 60.0)


class TrainingJobMixin:
    """A trainer in a separate process (:class:`reenact.jobs.TrainingProcess`), polled by a modal
    timer: step, loss and preview in the sidebar and the status bar, Esc stops it (the trainer
    saves its checkpoint), blocking with progress lines in background mode. Subclasses define
    ``_start(context)`` (checks, then ``self._proc = TrainingProcess(...).start()``) and
    ``_finish(context)`` (reads ``self._proc``; writes Blender state only on success)."""


    preview_image = "Reenact Training Preview"  #: the image the sidebar shows
    _timer = None
    _proc = None
    _serial = 0

    def execute(self, context):
        try:
            self._start(context)
        except EXPECTED as exc:
            return fail(self, exc)
        if bpy.app.background:  # headless: progress lines on stdout while the trainer runs
            lines = ProgressLines("Training", interval=0.0)
            while self._proc.running:
                self._proc.wait(5.0)
                step, total, loss, _preview, _serial = self._proc.status()
                if total:
                    lines(step, total, "loss {:.4f}{}".format(loss, time_left(self._proc.seconds_left())))
        self._proc.wait()
        return self._finish(context)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            self._start(context)
        except EXPECTED as exc:
            return fail(self, exc)
        begin_modal(self, context, 0.25, "Training…")
        return {"RUNNING_MODAL"}

    def _cleanup(self, context):
        end_modal(self, context)

    def modal(self, context, event):
        p = self._proc
        if event.type == "ESC" and event.value == "PRESS":
            p.cancel()  # the trainer checkpoints and exits; keep polling until it has
            JOB.text = "Stopping, saving the checkpoint…"
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        step, total, loss, preview, serial = p.status()
        if p.running:
            frac = step / total if total else 0.0
            JOB.progress = frac
            if p.stopping:  # (Esc: said until the trainer has saved and exited)
                JOB.text = "Stopping, saving the checkpoint…"
            elif not total:  # (decoding the footage, tracking the rehearsal clip: no step yet)
                JOB.text = "Training: reading the footage…"
            else:
                JOB.text = "Training {}/{} · loss {:.4f}{}".format(step, total, loss, time_left(p.seconds_left()))
            context.window_manager.progress_update(int(frac * 1000))
            context.workspace.status_text_set("Reenact: {} (Esc to stop)".format(JOB.text))
            if serial != self._serial:
                self._serial = serial
                show_preview(preview, self.preview_image)
            for area in context.screen.areas:
                if area.type == "SEQUENCE_EDITOR":
                    area.tag_redraw()
            return {"RUNNING_MODAL"}
        self._cleanup(context)
        return self._finish(context)

    def cancel(self, context):
        if self._proc is not None:
            self._proc.cancel()
            self._proc.wait(60)
        self._cleanup(context)
