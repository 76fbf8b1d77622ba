# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact restyle train`` and ``reenact restyle apply`` (argparse here; work in .train / .apply).

Registered by the main CLI with ``add_parser(subparsers)``; every failure on bad input is one line
on stderr and a non-zero exit, with nothing written.
"""

import json
import math
import os
import sys

from ..errors import ReenactError
from ..fsutil import check_output_file, check_output_folder, os_error, refuse_overwriting
from ..provenance.cli import add_signing_arguments
from ..video.encode import MOVIE_CODECS, check_movie_codec


def add_parser(subparsers):
    p = subparsers.add_parser("restyle", help="restyle footage (Recycle-GAN; colourise black-and-white shots)")
    sub = p.add_subparsers(dest="restyle_command", metavar="ACTION")

    t = sub.add_parser("train", help="train X (shots) -> Y (reference footage), unpaired; export ONNX")
    t.add_argument("--x", action="append", required=True, metavar="SHOT",
                   help="shot to change (repeatable); SHOT@A:B uses its frames A..B-1 only")
    t.add_argument("--y", action="append", required=True, metavar="REF",
                   help="reference footage (repeatable); REF@A:B uses its frames A..B-1 only")
    t.add_argument("--out", required=True, metavar="MODEL.onnx")
    t.add_argument("--method", choices=("recycle", "cycle"), default="recycle",
                   help="recycle (temporal predictors; default) or cycle (per-frame baseline)")
    t.add_argument("--colourise", action="store_true", help="X is black-and-white, Y colour: predict chroma")
    t.add_argument("--prior", choices=("retrieval", "none"), default="retrieval",
                   help="colourise: start from the nearest reference frames' chroma, aligned by optical flow "
                        "(retrieval, default) or from the mean reference chroma (none)")
    t.add_argument("--gan", type=float, default=None, metavar="W",
                   help="weight of the adversarial term (default 1; 0 for --colourise with the retrieval prior, "
                        "where the paired term teaches it and the adversarial term measured worse)")
    t.add_argument("--pool-frames", type=int, default=512, metavar="N",
                   help="colourise: reference frames shipped in the model for the prior (default 512, ~4 MB; "
                        "0: none, apply then needs --reference)")
    t.add_argument("--size", type=int, default=128, help="working resolution (multiple of 16, default 128)")
    t.add_argument("--minutes", type=float, default=None, help="training time budget")
    t.add_argument("--steps", type=int, default=None, help="training steps (default 2000 without --minutes)")
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--base", type=int, default=16, help="network width (default 16)")
    t.add_argument("--arch", choices=("transform", "global", "unet"), default="transform",
                   help="transform: colour transform starting at identity (default); unet: free residual")
    t.add_argument("--disc", choices=("stats", "pixel", "patch"), default="stats",
                   help="stats: colour/texture discriminator (default); patch: 70x70 PatchGAN")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-frames", type=int, default=None, help="frames read per clip (default all)")
    t.add_argument("--threads", type=int, default=None, help="torch threads")
    t.add_argument("--report", default=None, metavar="METRICS.json")
    t.add_argument("--preview", default=None, metavar="PNG")
    t.add_argument("--preview-every", type=int, default=50, metavar="N", help="refresh the preview every N steps")
    t.add_argument("--progress-lines", action="store_true",
                   help="machine-readable PROGRESS/PREVIEW/DONE/CANCELLED lines on stdout (for the Blender UI)")
    t.add_argument("--checkpoint", default=None)
    t.add_argument("--no-resume", action="store_true")
    t.add_argument("--resume-from", action="append", default=[], metavar="CKPT",
                   help="without a checkpoint of its own, resume the first of these that holds this training "
                        "(the same clips, ranges and settings); they are left as they are")
    t.add_argument("--cache", default=None, metavar="DIR", help="cache decoded working-size frames here")
    t.set_defaults(func=run)

    a = sub.add_parser("apply", help="apply a restyle model to a clip at its resolution")
    a.add_argument("model", metavar="MODEL.onnx")
    a.add_argument("--video", required=True,
                   help="the shot: a movie, a folder of numbered images or a pattern (shot/frame_%%04d.png)")
    a.add_argument("--fps", default=None, metavar="RATE",  # (a string: 30000/1001 too, since 2026-12-05)
                   help="frame rate of an image-sequence shot (default 25; a movie keeps its own)")
    a.add_argument("--out", required=True, help="movie file (.mp4/.mov/.mkv) or folder of PNGs")
    a.add_argument("--frames", default=None, metavar="A:B", help="0-based frames A..B-1 (others copied)")
    a.add_argument("--reference", action="append", default=None, metavar="REF",
                   help="colourise: colour reference footage to retrieve the prior from (repeatable; REF@A:B "
                        "for a range), instead of the frames shipped in the model")
    a.add_argument("--stabilise", type=float, default=None,
                   help="weight of the flow-warped previous frame's transform, 0 = per frame (default 0.8)")
    a.add_argument("--lossless", action="store_true")
    a.add_argument("--codec", choices=MOVIE_CODECS, default="h264",
                   help="movie codec: h264 (default) or prores (ProRes 422 HQ in a .mov, for editing systems)")
    a.add_argument("--chunk", default=None, metavar="C:D",
                   help="a render farm's task: this process's part of --frames (0-based, D excluded), written into "
                        "the frame folder --out beside the job's other chunks; then `reenact assemble OUT --video "
                        "VIDEO --out MOVIE` (docs/farm.md)")
    a.add_argument("--farm-job", default=None, metavar="ID",
                   help="with --chunk: the job the chunk belongs to, the same for every chunk of one submission "
                        "(default: --job-id); `reenact assemble` checks by it that they all finished")
    a.add_argument("--cpu", action="store_true", help="do not try CUDA")
    add_signing_arguments(a, derived="the footage and the model")
    a.set_defaults(func=run)
    p.set_defaults(func=run, restyle_command=None, _restyle_parser=p)
    return p


def _fail(msg):
    print("reenact: error: {}".format(msg), file=sys.stderr)
    return 2


def run(args):
    cmd = getattr(args, "restyle_command", None)
    if cmd == "train":
        return _train(args)
    if cmd == "apply":
        return _apply(args)
    args._restyle_parser.print_help()
    return 2


def _train(args):
    from .config import RestyleConfig

    from .data import check_domains

    try:  # the inputs: missing files, ranges, X = Y, a colour shot to colourise: before any work
        check_domains(args.x, args.y, args.colourise)
    except ValueError as exc:
        return _fail(str(exc))
    try:  # every file the run writes, before it runs
        check_output_file(args.out, ".onnx")
        for opt in ("report", "preview", "checkpoint"):
            if getattr(args, opt):
                check_output_file(getattr(args, opt), option="--" + opt)
        if args.cache:
            check_output_folder(args.cache, option="--cache")
        refuse_clashes(args)
    except ReenactError as exc:
        return _fail(str(exc))
    cfg = RestyleConfig(method=args.method, colourise=args.colourise, size=args.size, base=args.base,
                        arch=args.arch, disc=args.disc, batch=args.batch, seed=args.seed,
                        prior=args.prior if args.colourise else "none", pool_frames=args.pool_frames)
    cfg.w_gan = args.gan if args.gan is not None else 0.0 if cfg.uses_prior else 1.0
    try:
        cfg.check()
        if args.steps is not None and args.steps < 1:  # (before 2026-12-05 an untrained model, exit 0)
            raise ValueError("--steps must be at least 1")
        if args.minutes is not None and not (math.isfinite(args.minutes) and args.minutes > 0):
            raise ValueError("--minutes must be more than 0")
        if args.threads is not None and args.threads < 1:  # (before 2026-12-06 a traceback after decoding)
            raise ValueError("--threads must be at least 1")
        if args.max_frames is not None and args.max_frames < 3:  # (before 2026-12-06 0 meant every frame and
            # -1 to 2 failed after decoding, "needs at least 3 frames, has 1")
            raise ValueError("--max-frames must be at least 3 (training takes frames three at a time)")
    except ValueError as exc:
        return _fail(str(exc))
    from ..progress import ConsoleProgress
    from .train import train

    bar = ConsoleProgress("restyle", stream=sys.stderr)
    hooks = {}
    if args.progress_lines:  # the protocol reenact.jobs.TrainingProcess reads
        hooks["on_step"] = lambda step, total, terms: print("PROGRESS {} {} {:.5f}".format(
            step, total, terms["g"]), flush=True)
        hooks["on_preview"] = lambda path: print("PREVIEW {}".format(os.path.abspath(path)), flush=True)
    try:
        s = train(args.x, args.y, args.out, cfg, steps=args.steps, minutes=args.minutes, checkpoint=args.checkpoint,
                  resume=not args.no_resume, report=args.report, preview=args.preview, progress=bar,
                  preview_every=max(1, args.preview_every), cache_dir=args.cache, max_frames=args.max_frames,
                  threads=args.threads, adopt=args.resume_from, **hooks)
    except ValueError as exc:
        return _fail(str(exc))
    except OSError as exc:  # a disk that filled or turned read-only: one line
        return _fail(str(os_error(exc)))
    finally:
        bar.close()
    if args.progress_lines and s.get("resumed_from"):
        print("RESUMED {}".format(s["resumed_from"]), flush=True)
    if s.get("cancelled"):
        from ..progress import EXIT_INTERRUPTED

        print("reenact: cancelled; checkpoint kept at {}".format(s["checkpoint"]), file=sys.stderr)
        if args.progress_lines:
            print("CANCELLED {}".format(s["steps"]), flush=True)
        return 128 + s["signal"] if s.get("signal") else EXIT_INTERRUPTED
    print(json.dumps(s, sort_keys=True))
    if args.progress_lines:
        print("DONE {}".format(os.path.abspath(args.out)), flush=True)
    return 0


def refuse_clashes(args):
    """Raise ReenactError (one line naming the file) when two of the files ``restyle train`` writes
    (--out, --report, --preview, the checkpoint) are one file, or one of them is a file it trains on
    (a movie, an image of a sequence given as its folder or pattern, through links). Before
    2026-12-06 --report on the shot replaced it with JSON, --preview replaced a frame of it,
    --checkpoint on the reference moved it aside as damaged, and --report on --out made the model a
    JSON file, exit 0."""
    from .data import clip_files, clip_spec

    inputs = [f for item in args.x + args.y for f in clip_files(clip_spec(item).path)]
    outs = [("--out", args.out)]
    if not args.checkpoint:  # (the trainer's default, beside the model)
        outs.append(("the checkpoint beside --out", os.path.splitext(args.out)[0] + ".ckpt.pt"))
    outs += [("--" + opt, getattr(args, opt)) for opt in ("checkpoint", "report", "preview") if getattr(args, opt)]
    for i, (opt, path) in enumerate(outs):
        refuse_overwriting(path, inputs, opt if opt.startswith("--") else "--checkpoint")
        for other, earlier in outs[:i]:
            if _same_file(path, earlier):
                raise ReenactError("is also {}; {} wants another file".format(other, opt), path=path)


def _same_file(a, b):
    """``a`` and ``b`` name one file (through links; either may not exist yet)."""
    ra, rb = os.path.realpath(a), os.path.realpath(b)
    return ra == rb or (os.path.exists(ra) and os.path.exists(rb) and os.path.samefile(ra, rb))


def _apply(args):
    from ..progress import ConsoleProgress
    from ..video import MOVIE_EXTENSIONS
    from ..video.encode import FrameFolder
    from .apply import DEFAULT_STABILISE, RestyleError, RestyleModel, apply_clip

    try:
        if args.chunk is not None and os.path.splitext(args.out)[1].lower() in MOVIE_EXTENSIONS:
            return _fail("{}: --chunk writes into a frame folder, not a movie (assemble it afterwards)".format(
                args.out))
        codec = check_movie_codec(args.out, args.codec, args.lossless)  # (ProRes into a folder: refused)
        if os.path.splitext(args.out)[1].lower() in MOVIE_EXTENSIONS:
            check_output_file(args.out)
        else:
            check_output_folder(args.out, FrameFolder.owns if args.chunk is not None else  # other chunks' frames
                                FrameFolder.holds)
        model = RestyleModel(args.model, prefer_gpu=not args.cpu, reference=args.reference)
        bar = ConsoleProgress("restyle", stream=sys.stderr)
        try:
            s = apply_clip(model, args.video, args.out, frames=args.frames, progress=bar, lossless=args.lossless,
                           codec=codec, stabilise=DEFAULT_STABILISE if args.stabilise is None else args.stabilise,
                           job_id=args.job_id, sign_cert=args.sign_cert, sign_key=args.sign_key, fps=args.fps,
                           chunk=args.chunk, farm_job=args.farm_job or args.job_id or "")
        finally:
            bar.close()
    except (RestyleError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(str(os_error(exc)))
    for w in s.get("output_warnings", []):  # what the output cannot keep (a keyed shot's alpha in a movie, bits)
        print("reenact: warning: " + w, file=sys.stderr)
    print(json.dumps(s, sort_keys=True))
    return 0
