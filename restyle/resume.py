# SPDX-License-Identifier: GPL-3.0-or-later
"""What a restyle training run does with a checkpoint it does not resume (trained on other
frames or with another configuration, or the run asked to start afresh): it stays in place
until the run saves a checkpoint of its own, then it is kept beside it as ``<name>.<time>.old``.
A run stopped before it saved one, with fewer steps than the earlier checkpoint, leaves that
where it was and drops its own steps (before 2026-12-06 it was moved aside before the first
step, and Esc right after a reference's trim was nudged left the next Train, trim undone,
starting from 0 with the earlier training in a ``.old`` file nobody was told of). No torch here."""

import os
import time

#: the words of the trainer's error when it is asked for no more steps than its checkpoint holds
#: (Train Restyle in Blender finds them in the error and says it in the artist's terms)
ALREADY_TRAINED = "is already trained to step "
#: the words of the trainer's warning when a stopped run leaves the earlier checkpoint in place
RUN_NOT_KEPT = "this run's steps are not kept"


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
