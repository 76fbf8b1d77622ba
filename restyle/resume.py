# SPDX-License-Identifier: GPL-3.0-or-later
"""What a restyle training run does with a checkpoint it does not resume (trained on other
frames or with another configuration, or the run asked to start afresh): it stays in place
until the run saves a checkpoint of its own, then it is kept beside it as ``<name>.<time>.old``.
A run stopped before it saved one, with fewer steps than the earlier checkpoint, leaves that
where it was and drops its own steps (before 2026-12-06 it was moved aside before the first
step, and Esc right after a reference's trim was nudged left the next Train, trim undone,
starting from 0 with the earlier training in a ``.old`` file nobody was told of). No torch here."""

import json
import os
import secrets
import time

#: the words of the trainer's error when it is asked for no more steps than its checkpoint holds
#: (Train Restyle in Blender finds them in the error and says it in the artist's terms)
ALREADY_TRAINED = "is already trained to step "
#: the words of the trainer's warning when a stopped run leaves the earlier checkpoint in place
RUN_NOT_KEPT = "this run's steps are not kept"


def new_run():
    """A training's id (16 hex digits): made when it starts from step 0, kept by every resume, and
    carried by its model (``reenact.train_run``), so that a run tells its checkpoint's model from
    another's."""
    return secrets.token_hex(8)


def aside(path):
    """Move ``path`` to an unused ``<path>.<time>.old`` beside it; returns that name."""
    stem = "{}.{}".format(path, time.strftime("%Y%m%d-%H%M%S"))
    name, k = stem + ".old", 1
    while os.path.lexists(name):
        name, k = "{}-{}.old".format(stem, k), k + 1
    os.replace(path, name)
    return name


class EarlierCheckpoint:
    """A checkpoint at ``path`` of ``steps`` steps that this run does not resume, ``why`` (words
    for the log: 'was trained on other clips'), kept in place until :meth:`before_save`."""

    def __init__(self, path, why, steps, log):
        self.path, self.why, self.steps, self.log = path, why, int(steps), log
        log("restyle: {} {} ({} steps); training starts afresh, and it is kept aside when this run saves its "
            "own checkpoint".format(os.path.basename(path), why, self.steps))

    def before_save(self):
        """The run saves its own checkpoint: the earlier one moved aside, with a warning."""
        if os.path.isfile(self.path):
            kept = aside(self.path)
            self.log("warning: {} {} ({} steps); kept as {}, training started afresh".format(
                os.path.basename(self.path), self.why, self.steps, os.path.basename(kept)))

    def keeps_place(self, step):
        """The run stopped at ``step`` before saving a checkpoint: True (and a warning) when the
        earlier one, of more steps, stays in place and this run's steps are dropped."""
        if step >= self.steps or not os.path.isfile(self.path):
            return False
        self.log("warning: stopped at step {}, before this run saved a checkpoint: the earlier {} ({} steps) is "
                 "kept as it was, and {}".format(step, os.path.basename(self.path), self.steps, RUN_NOT_KEPT))
        return True


def matching_aside(path, load, fits, log):
    """The newest checkpoint kept aside beside ``path`` (``<path>.<time>.old``) that this run may
    resume (``fits(ck)`` None), loaded by ``load(name)``, its name as ``"path"``; None when none
    does. An artist who nudged a reference's trim, trained past the first checkpoint and undid the
    trim resumes the earlier training, not step 0."""
    import glob

    olds = sorted(glob.glob(glob.escape(path) + ".*.old"), key=lambda f: os.path.getmtime(f), reverse=True)
    return first_fitting(olds, load, fits, log)


def first_fitting(paths, load, fits, log, why="was kept aside by an earlier run and holds this training"):
    """The first of the checkpoints ``paths`` that this run may resume (``fits(ck)`` None), loaded
    by ``load(name)``, its name as ``"path"``; None when none does (one missing, damaged or of
    other training is passed over and left as it is). Also ``--resume-from``: the checkpoint of
    this training under an earlier name, or of the .blend a project was saved from (Train Restyle
    in Blender)."""
    for name in paths:
        try:
            ck = dict(load(name))
        except Exception:  # (missing, damaged, another program's: not resumed, left as it is)
            continue
        if fits(ck) is None:
            log("restyle: {} {} ({} steps): resumed from it".format(os.path.basename(name), why, int(ck["step"])))
            ck["path"] = name
            return ck
    return None


def fitting(cfg, data, x_items, y_items, max_frames):
    """``fits(ck)`` for this run (configuration ``cfg``, data key ``data``): None when it resumes
    the checkpoint ``ck``, else why not. A checkpoint that records no data key (those made on
    2026-11-29 and 30) is of unknown footage: not resumed, kept aside as any other (before
    2026-12-06 it resumed on whatever clips a run gave)."""
    from .config import RestyleConfig
    from .data import trained_on

    def fits(ck):
        if ck.get("data") is None:
            return "does not record the footage it was trained on"
        saved = RestyleConfig.from_json(ck["config"])
        saved.steps = cfg.steps
        if ck["data"] != data and not trained_on(ck["data"], x_items, y_items, max_frames):
            return "was trained on other clips or frame ranges (or files since written under their names)"
        return None if saved == cfg else "was trained with another configuration"

    return fits


def choose_checkpoint(checkpoint, fits, resume, adopt, load_checked, load, log):
    """(the checkpoint this run resumes or None, the :class:`EarlierCheckpoint` it does not resume
    or None, whether it was adopted from ``adopt``, --resume-from). ``load_checked(path)``: the
    checkpoint, None when damaged (moved aside); ``load(path)`` raises instead."""
    ck = earlier = None
    if os.path.isfile(checkpoint):
        ck = load_checked(checkpoint)
        other = None if ck is None else fits(ck) if resume else "is not resumed (Start Afresh: --no-resume)"
        if other is not None:  # kept in place until this run saves its own (before 2026-12-06 moved aside at once)
            earlier = EarlierCheckpoint(checkpoint, other, ck["step"], log)
            # one this run's frames and settings trained, set aside by an earlier run: resumed (before
            # 2026-12-06 a trim nudged and undone started afresh, the training in a .old file)
            ck = matching_aside(checkpoint, load, fits, log) if resume else None
        return ck, earlier, False
    if resume and adopt:  # this training's checkpoint under an earlier name, or an earlier .blend's (left as it is)
        ck = first_fitting(adopt, load, fits, log, "holds this training")
        return ck, None, ck is not None
    return None, None, False


def _onnx_meta(path):
    """{key: value} of the ONNX file's metadata; None when it cannot be read."""
    try:
        import onnx

        return {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    except Exception:  # noqa: BLE001 - damaged, not ONNX: not this checkpoint's export
        return None


def export_differs(out, ck):
    """None when ``out`` is the export of the checkpoint ``ck``: its training run (``run``, where
    the checkpoint records one), its steps and its configuration; else words saying why not (a
    run stopped during its export left none, or the model of other settings lies there: Method or
    Working Size changed in Blender, whose model's name holds neither)."""
    if not os.path.isfile(out):
        return "there is none"
    meta = _onnx_meta(out)
    if meta is None or meta.get("reenact.kind") != "restyle":
        return "it is not a restyle model"
    if ck.get("run") and meta.get("reenact.train_run") != ck["run"]:
        return "it is the model of another training" if "reenact.train_run" in meta else "it records no training run"
    if meta.get("reenact.train_steps") != str(int(ck["step"])):
        return "it holds step {}".format(meta.get("reenact.train_steps"))
    try:
        theirs, ours = json.loads(meta.get("reenact.config") or "null"), json.loads(ck["config"])
    except ValueError:
        theirs, ours = None, {}
    if theirs != ours:
        theirs = theirs if isinstance(theirs, dict) else {}
        return "it is the model of another configuration ({})".format(", ".join(
            "{} {} (the checkpoint's: {})".format(k, theirs.get(k), ours.get(k)) for k in sorted(ours)
            if theirs.get(k) != ours.get(k) and k != "steps")[:200] or "unreadable")
    return None


def already_trained(out, ck, path, step, total, adopted, log):
    """The checkpoint ``ck`` resumed from ``path`` holds ``step`` >= ``total`` steps: ValueError
    (:data:`ALREADY_TRAINED`) when ``out`` is its export, or ``ck`` is another .blend's
    (--resume-from: its model lies beside it); else True, said in a warning: its steps are exported
    again (before 2026-12-06 refused, "raise --steps or --no-resume", with no model or another's
    at ``out``: a run stopped during its export, or Method changed and changed back in Blender)."""
    why = None if adopted else export_differs(out, ck)
    if why is None:  # (before 2026-12-06 exported as it was: "0 steps, loss nan")
        raise ValueError("{} {}{} (at or past --steps {}): raise --steps to train on, or --no-resume to start "
                         "afresh".format(path, ALREADY_TRAINED, step, total))
    log("warning: {}: not the model of the checkpoint {} ({}): its {} steps are exported again".format(
        os.path.basename(out), os.path.basename(path), why, step))
    return True


def model_card(run, step, x_records, y_records, max_frames, resumes, x_shots, y_shots):
    """The ``reenact.*`` entries a trained restyle model carries beside its configuration (stable
    keys; docs/restyle.md, *Model card in the ONNX*): what it was trained on, its training's id
    (kept by every resume) and the steps it resumed at. Values are text (JSON for lists)."""
    return {"reenact.train_steps": int(step), "reenact.train_run": run,
            "reenact.trained_on": json.dumps({"x": x_records, "y": y_records, "max_frames": max_frames}),
            "reenact.train_resumes": json.dumps(resumes), "reenact.x_clips": x_shots, "reenact.y_clips": y_shots}


def stopped_message(step, warnings, tail):
    """What Train Restyle in Blender says of a trainer stopped at ``step`` (its ``warnings`` and
    last lines ``tail``): (level, words). The checkpoint is said kept only when the trainer said
    ``CANCELLED`` (after saving it): before 2026-12-06 a trainer killed during its last save was
    said to have kept one it had not written."""
    if any(RUN_NOT_KEPT in w for w in warnings):
        return "WARNING", "restyle training stopped at step {}; the earlier checkpoint is kept as it was (see " \
                          "above)".format(step)
    if not step:
        return "WARNING", "restyle training stopped before its first step; nothing changed"
    if any(line.startswith("CANCELLED") for line in tail):
        return "WARNING", "restyle training stopped at step {}; the checkpoint is kept and the next Train Restyle " \
                          "resumes from it".format(step)
    return "WARNING", "restyle training stopped at step {} before it saved a checkpoint; the next Train Restyle " \
                      "resumes from the last one saved, if any".format(step)
