# SPDX-License-Identifier: GPL-3.0-or-later
"""What a renderer training run resumes, and what it records of itself.

A checkpoint records what it was trained on (``data``), its network (``config``), its run's id
(``run``, made when training starts from scratch and kept by every resume) and its options
(``options``: :func:`run_options`; ``option_changes``: what a resume changed, and at which step).
A run refuses a checkpoint of other data, another network, or other frames held out or another
``--init`` (those decide which frames a report may call held out and where the weights began:
before 2026-12-06 a checkpoint trained on every frame was resumed by ``--report`` with the default
``--holdout 0.15``, which scored frames it had trained on as held out); any other option that
differs is said in one warning and this run's value applies from the resume. Checkpoints written
before they recorded options resume as before. The exported model carries the same record, its
model card (:func:`model_card`; docs/renderer.md, *Model card*), so that a run asked for no more
steps than its checkpoint holds tells its own export from an earlier or interrupted one."""

import os

from ..errors import ReenactError
from ..fsutil import remove_stale_temporaries
from .data import OTHER_FILE, TRACKED_AGAIN
from .files import load_torch

#: options that decide which frames are trained on and held out, or the weights training began
#: from: a checkpoint of other values is refused
KEPT = ("holdout", "init")
#: the other recorded options: a resume with other values says so, and this run's apply
TUNING = ("seed", "batch", "lr", "mouth_weight", "ssim_weight", "gan", "augment", "flip", "ref_gap", "ref_top",
          "anchor", "rehearse_share")


def init_identity(path):
    """{"name", "sha256"} of the ``--init`` weights file ``path``; None without one."""
    if not path:
        return None
    from ..render.cache import file_digest

    return {"name": os.path.basename(os.fspath(path)), "sha256": file_digest(path)}


def run_options(cfg, anchor, rehearsing):
    """The options of :class:`~reenact.training.options.TrainConfig` ``cfg`` a checkpoint and its
    model record (``anchor``: the weight in effect; ``rehearse_share`` only where it rehearses)."""
    return {"holdout": float(cfg.holdout), "init": init_identity(cfg.init), "seed": int(cfg.seed),
            "batch": int(cfg.batch), "lr": float(cfg.lr), "mouth_weight": float(cfg.mouth_weight),
            "ssim_weight": float(cfg.ssim_weight), "gan": float(cfg.gan), "augment": bool(cfg.augment),
            "flip": bool(cfg.flip), "ref_gap": int(cfg.ref_gap), "ref_top": int(cfg.ref_top), "anchor": float(anchor),
            "rehearse_share": float(cfg.rehearse_share) if rehearsing else None}


def _flag(name, value):
    if name == "init":
        return "--init {}".format(value["name"] if value else "none")
    if isinstance(value, bool):
        return "--{} {}".format(name.replace("_", "-"), "on" if value else "off")
    return "--{} {}".format(name.replace("_", "-"), "{:g}".format(value) if isinstance(value, float) else value)


#: why a checkpoint of another value of a :data:`KEPT` option is not resumed
_WHY = {"holdout": "which frames are held out would change (a report could score frames it trained on)",
        "init": "it began from other weights"}


def _kept_differences(old, new):
    """(what the checkpoint was trained with, this run's, why not resumed) for the :data:`KEPT`
    options that differ."""
    then, now, why = [], [], []
    for k in KEPT:
        if k not in old:
            continue
        a, b = old[k], new[k]
        if k == "holdout" and float(a) == float(b) or k == "init" and (a or {}).get("sha256") == (b or {}).get("sha256"):
            continue
        then.append(_flag(k, a))
        same_name = k == "init" and a and b and a["name"] == b["name"]
        now.append(_flag(k, b) + (" ({})".format(OTHER_FILE) if same_name else ""))
        why.append(_WHY[k])
    return then, now, why


def _said_config(c):
    return ", ".join("{} {}".format(k, c[k]) for k in sorted(c)) if isinstance(c, dict) else "unknown"


def check_checkpoint_data(path, data, log, config=None, steps=None, out=None, options=None, fp16=None, weights=None):
    """Refuse (one line naming ``path``) to resume a checkpoint trained on other data than
    ``data`` (:func:`~reenact.training.data.training_data`; a rehearsal clip by its footage
    alone: its Track is made again each run, and tracking differs in the last bits with the
    number of CPU threads), with another ``config`` (another --size, --window, base: before
    2026-12-06 it was started over and overwritten without a word), with other :data:`KEPT`
    ``options`` (--holdout, --init), or one that has all ``steps`` already when ``out`` is its
    export (a run again would train nothing; an ``out`` of another run or an earlier step, left
    by a run stopped or refused during its export, is exported again from the checkpoint:
    :func:`export_differs`). A checkpoint that cannot be read is left to the resume step (it
    moves it aside and says so); one that records no data is resumed unchecked, with a warning."""
    if not os.path.isfile(path):
        return
    try:
        ck = load_torch(path)
    except (ReenactError, OSError):  # damaged: the resume step moves it aside and says so
        return
    old = ck.get("data") if isinstance(ck, dict) else None
    if old is None:
        log("warning: {}: the checkpoint does not record what it was trained on; resuming it "
            "unchecked (--no-resume starts fresh)".format(path))
        return

    def key(d):
        return (None if d.get("rehearse") else d.get("track"), d.get("footage"), bool(d.get("rehearse")))

    if [key(d) for d in old] != [key(d) for d in data]:
        then, now = ", ".join(str(d.get("name")) for d in old) or "nothing", ", ".join(d["name"] for d in data)
        if then == now:  # the same names: what differs behind them (before 2026-12-06 the names twice, unexplained)
            footage = any(o.get("footage") != d.get("footage") for o, d in zip(old, data))
            now += ", " + (OTHER_FILE if footage else TRACKED_AGAIN)
        raise ReenactError("holds a checkpoint of other training data ({}; this run: {}): start fresh with "
                           "--no-resume (it is overwritten), or train to another --out".format(then, now), path)
    if config is not None and ck.get("config") != config:
        raise ReenactError("holds a checkpoint of another configuration ({}; this run: {}): give the options it was "
                           "trained with to resume it, start fresh with --no-resume (it is overwritten), or train to "
                           "another --out".format(_said_config(ck.get("config")), _said_config(config)), path)
    then, now, why = _kept_differences(ck.get("options") or {}, options) if options is not None else ([], [], [])
    if then:
        raise ReenactError("holds a checkpoint trained with {} (this run: {}): if resumed, {}; give the options it was "
                           "trained with to resume it, start fresh with --no-resume (it is overwritten), or train to "
                           "another --out".format(", ".join(then), ", ".join(now), " and ".join(why)), path)
    done = int(ck.get("step", 0) or 0)
    if steps is not None and done >= int(steps) and out is not None and os.path.isfile(out):
        why = export_differs(out, fp16, weights, ck.get("run"), done) if ck.get("run") else None
        if why is None:
            raise ReenactError("is trained already ({} of {} steps; its checkpoint {}): give more --steps to train it "
                               "further, or start fresh with --no-resume".format(done, int(steps),
                                                                                 os.path.basename(path)), out)
        log("{}: not the export of its checkpoint {} ({}): the checkpoint's {} steps are exported again".format(
            out, os.path.basename(path), why, done))


def _onnx_meta(path):
    """{key: value} of the ONNX file's metadata; None when it cannot be read."""
    try:
        import onnx

        return {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    except Exception:  # noqa: BLE001 - missing, damaged, not ONNX: not this checkpoint's export
        return None


def export_differs(out, fp16, weights, run, step):
    """None when ``out``, its fp16 variant (``fp16``: exported, else absent) and the ``weights``
    file are the export of the checkpoint of run ``run`` at ``step``; else words saying which is
    not (the model of another run or step, left by a run stopped or refused during its export)."""
    meta = _onnx_meta(out) or {}
    if meta.get("reenact.train_run") != run:
        return "it holds another run's model" if "reenact.train_run" in meta else "it records no training run"
    if meta.get("reenact.train_steps") != str(step):
        return "it holds step {}".format(meta.get("reenact.train_steps"))
    p16 = os.path.splitext(out)[0] + ".fp16.onnx"
    if fp16:
        m16 = _onnx_meta(p16) or {}
        if (m16.get("reenact.train_run"), m16.get("reenact.train_steps")) != (run, str(step)):
            return "its fp16 variant is missing or of another step"
    elif fp16 is not None and os.path.exists(p16):
        return "an fp16 variant lies beside it"
    if weights is not None:
        try:
            w = load_torch(weights, ("state_dict",), "renderer weights file")
        except (ReenactError, OSError):
            return "its weights file is missing or damaged"
        if (w.get("train_run"), w.get("train_steps")) != (run, step):
            return "its weights file {} is of another step".format(os.path.basename(weights))
    return None


def resumed_options(ck, options, step, path, log, opts=(), sched=None, betas=None):
    """After a checkpoint ``ck`` is resumed at ``step``: the options that differ from its recorded
    ones in one warning, this run's applying (its learning rate set on the optimisers ``opts``
    and the scheduler ``sched``, which the checkpoint's state had replaced; ``betas`` with another
    --gan); returns the option changes to record (the checkpoint's, and this one's)."""
    history = list(ck.get("option_changes") or [])
    old = ck.get("options")
    if not isinstance(old, dict):
        return history
    changed = {k: [old[k], options[k]] for k in TUNING if k in old and old[k] != options[k]}
    if not changed:
        return history
    if "lr" in changed and old["lr"]:
        for i, o in enumerate(opts):
            for g in o.param_groups:
                g["lr"] = g["lr"] * options["lr"] / old["lr"] if i == 0 else options["lr"]
                if "initial_lr" in g:
                    g["initial_lr"] = options["lr"]
        if sched is not None:
            sched.base_lrs = [options["lr"] for _ in sched.base_lrs]
    if "gan" in changed and betas is not None and opts:
        for g in opts[0].param_groups:
            g["betas"] = betas
    log("warning: {}: resumed at step {} with other options than it was trained with: {}; this run's apply from "
        "that step (--no-resume starts afresh)".format(path, step, ", ".join(
            "{} (it was trained with {})".format(_flag(k, b), _flag(k, a).split(" ", 1)[1]) for k, (a, b) in changed.items())))
    return history + [{"step": int(step), "changed": changed}]


def held_out_frames(clips, names, holdout):
    """[{"name", "frames": [first, end) or None}] of the training ``clips`` (their footage names
    ``names``): the frames ``holdout`` keeps out of training, which --report scores."""
    res = []
    for c, name in zip(clips, names):
        _tr, va = c.split(holdout)
        res.append({"name": name, "frames": [int(c.frames[va[0]]), int(c.frames[va[-1]]) + 1] if len(va) else None})
    return res


def model_card(run, step, data, held_out, options, changes):
    """The ``reenact.*`` metadata a trained renderer carries beside its configuration (stable
    keys; docs/renderer.md, *Model card*): values are strings or JSON-able."""
    return {"train_run": run, "train_steps": str(int(step)), "trained_on": list(data),
            "held_out": {"share": options["holdout"], "clips": held_out},
            "init": options["init"] or "none",
            "training": dict({k: options[k] for k in TUNING}, option_changes=list(changes))}


def clean_temporaries(paths, log):
    """Remove the temporaries that runs killed while writing ``paths`` left (older than a minute),
    with one line each."""
    for p in paths:
        for name in remove_stale_temporaries(p):
            log("removed {}: a temporary file left by a run killed while writing {}".format(name, os.path.basename(p)))
