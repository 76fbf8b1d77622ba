# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``reenact`` command: the same core as the Blender extension, for headless and farm use.

Every subcommand exits 0 on success; on bad input it prints one line ``reenact: error: ...``
naming the file and the problem, exits 2, and leaves no half-written output behind. Where the
results go is checked before the work starts (:mod:`reenact.fsutil`); a disk that fills or turns
read-only during the work is one line too (exit 2). Ctrl-C exits 130 and SIGTERM 143 after the
same cleanup, with one line ``reenact: cancelled`` (docs/errors.md).
"""

import argparse
import json
import os
import sys
import time

from ._version import __version__
from .errors import ReenactError
from .farm.cli import add_parsers as add_farm_parsers
from .fsutil import (CheckedStdout, StdoutClosed, atomic_path, check_output_file, check_output_folder, os_error,
                     write_stdout)
from .provenance.cli import add_parser as add_verify_parser, add_signing_arguments
from .video.conform import add_parser as add_conform_parser
from .video.encode import MOVIE_CODECS, check_movie_codec
from .video.probe import add_parser as add_probe_parser


#: the CLI's name for the core's error type (kept for callers of ``reenact.cli``)
UserError = ReenactError
EXIT_PIPE = 128 + 13  # (SIGPIPE's: standard output's reader closed it)


def _emit_json(obj):
    """The last stdout line of a job is a JSON summary (all of it, or one error line: a full disk)."""
    write_stdout(json.dumps(obj, sort_keys=True) + "\n")


# --- doctor -------------------------------------------------------------------------------

def cmd_doctor(args):
    from .doctor import format_report, full_report

    report = full_report(prefer_gpu=not args.cpu)
    if args.json:
        _emit_json(report)
    else:
        print(format_report(report))
    return 1 if report.get("error") else 0


# --- track --------------------------------------------------------------------------------

def _out_path(path, suffix, option="--out"):
    """``path`` checked before the work: a ``suffix`` file in an existing folder that accepts
    new files (one line naming the path otherwise)."""
    return check_output_file(path, suffix, option)


def cmd_track(args):
    from contextlib import ExitStack

    from .tracking.tracker import track_video
    from .progress import ConsoleProgress

    out = _out_path(args.out, ".npz")
    paths = [out] + [_out_path("{}_actor{}.npz".format(out[:-4], i), ".npz") for i in range(1, args.max_faces)]
    t0 = time.perf_counter()
    bar = ConsoleProgress("track", stream=sys.stderr)
    stats = {}
    try:
        tracks = track_video(args.video, max_faces=args.max_faces, focal_mm=args.focal, fps=args.fps,
                             progress=bar, stats=stats, small_faces=args.small_faces, hands=not args.no_hands)
    except ValueError as exc:  # VideoError, TrackingError: one line naming the file
        raise UserError(str(exc)) from exc
    finally:
        bar.close()
    missing = stats.get("missing_frames") or []
    if missing:
        shown = ", ".join(str(m) for m in missing[:20]) + (" ..." if len(missing) > 20 else "")
        print("reenact: warning: {}: {} missing frame(s) left untracked: {}".format(
            args.video, len(missing), shown), file=sys.stderr)
    import numpy as np
    from .render.actors import frame_runs

    for i, tr in enumerate(tracks):
        hidden = tr.hidden_frames()
        if hidden:
            print("reenact: warning: {}: a hand before {}'s face on frames {} (up to {:.0%} of it): confidence "
                  "lowered there; the landmarks under the hand are the tracker's guess".format(
                      args.video, "actor {}".format(i) if len(tracks) > 1 else "the actor", frame_runs(hidden),
                      float(np.nanmax(tr.hidden))), file=sys.stderr)
    for line in stats.get("footage_warnings", []):  # anamorphic or interlaced footage: read as stored
        print("reenact: warning: {}: {}".format(args.video, line), file=sys.stderr)
    # every name checked before the work, every file written before any is renamed into place: a
    # full disk leaves all the earlier files (before 2026-12-06 t.npz was replaced, then
    # t_actor1.npz failed: a pair from two runs; a t_actor1.npz folder was found after tracking)
    paths = paths[:len(tracks)]
    try:
        with ExitStack() as stack:
            for tr, path in zip(tracks, paths):
                tr.validate(path)  # (a message names the file, not its temporary)
                tr.save(stack.enter_context(atomic_path(path)))
    except OSError as exc:  # full or read-only disk: one line naming the file, nothing half-written
        raise os_error(exc) from None
    seconds = time.perf_counter() - t0
    frames = int(len(tracks[0].tracked))
    _emit_json({
        "out": paths, "frames": frames, "actors": len(tracks),
        "tracked_fraction": [round(float(t.tracked.mean()), 4) for t in tracks],
        "seconds": round(seconds, 3),
        "fps": round(frames / seconds, 2) if seconds > 0 else None,
        "provider": stats.get("provider"),
        "missing_frames": missing,
        "shot_starts": stats.get("shot_starts", []),  # clip frames that begin a shot after a cut
        "dissolve_frames": stats.get("dissolve_frames", []),  # a short dissolve's blended frames: no source
        "hidden_frames": [frame_runs(t.hidden_frames()) for t in tracks],  # per actor: where a hand covers the face
    })
    return 0


# --- transfer -----------------------------------------------------------------------------

def _frame_range(text, option="--frames"):
    """'A:B' (B excluded, like a Python slice; either side may be empty) -> (A or None, B or None)."""
    a, sep, b = str(text).partition(":")
    try:
        if not sep:
            raise ValueError
        out = (int(a) if a.strip() else None, int(b) if b.strip() else None)
    except ValueError:
        raise UserError(option + " {}: expected A:B, clip frame numbers (0-based, B excluded)".format(text)) from None
    if out[0] is not None and out[1] is not None and out[1] <= out[0]:
        raise UserError(option + " {}: empty range (A:B needs A < B)".format(text))
    if any(v is not None and v < 0 for v in out):
        raise UserError(option + " {}: frame numbers start at 0".format(text))
    return out


def cmd_transfer(args):
    from .face.track import Track
    from .face.drivers import hidden_drivers
    from .face.transfer import TURN_REACH_DEG, transfer

    out = _out_path(args.out, ".npz")
    frames = _frame_range(args.frames) if args.frames else None
    t0 = time.perf_counter()
    try:
        source = Track.load(args.source)
        target = Track.load(args.target)
        info = {}
        result = transfer(source, target, args.mode, offset=args.offset, gains=args.gain or None,
                          frames=frames, smoothing=args.smoothing, info=info, anchor=args.anchor,
                          turn_reach=None if args.free_turns else TURN_REACH_DEG)
        result.save(out)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise os_error(exc, out) from None
    summary = {k: v for k, v in info.items() if k not in ("transferred_frames", "expressions")}
    summary["expression_curves"] = len(info["expressions"])
    summary["hidden_source_frames"] = hidden = hidden_drivers(source, result, info)  # (every mode's rows)
    if hidden:
        from .render.actors import frame_runs

        print("reenact: warning: {}: a hand before the face on source frames {}: the performance they drive is the "
              "tracker's guess there".format(args.source, frame_runs(hidden)), file=sys.stderr)
    if info.get("mouth_through_chain"):  # (the mouth's driver through a chain: face.drivers.mouth_driver)
        print("reenact: {}: its mouth was transferred from another actor's footage, which now drives {}'s mouth: "
              "render --mouth-from takes that actor's Track and footage".format(args.source, out), file=sys.stderr)
    if info.get("mouth_undriven_frames"):
        from .render.actors import frame_runs

        print("reenact: warning: {}: clip frames {} keep the transferred mouth, but another footage than the rest's "
              "drove it there: a render draws the shot's or the renderer's mouth on them".format(
                  out, frame_runs(info["mouth_undriven_frames"])), file=sys.stderr)
    summary.update(out=out, source=args.source, target=args.target,
                   frames_total=int(result.n_frames), seconds=round(time.perf_counter() - t0, 3))
    _emit_json(summary)
    return 0


# --- train / render -----------------------------------------------------------------------

def cmd_quantize(args):
    from .face.track import Track
    from .video.identity import check_footage

    from .training.quantize import MIN_PSNR, calibration_inputs, check_inputs, quantize

    data = []
    try:
        args.out = check_inputs(args.model, args.out)  # (before the calibration's renders)
        for tpath, clip in args.data:
            tr = Track.load(tpath)
            for w in check_footage(tr, clip, False, tpath):
                print("warning: " + w, file=sys.stderr)
            data.append((tr, clip))
        inputs = calibration_inputs(args.model, data)
        summary = quantize(args.model, inputs, args.out, MIN_PSNR if args.min_psnr is None else args.min_psnr)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    print(json.dumps(summary))


def cmd_train(args):
    from .face.track import Track

    try:
        Track.load(args.track)  # a bad Track file: one line before anything else
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if not os.path.isfile(args.video) and not os.path.isdir(args.video):
        raise UserError("{}: no such video".format(args.video))
    out = _out_path(args.out, ".onnx")
    if args.size is not None and (args.size % 16 or args.size < 32):
        raise UserError("--size {}: must be a multiple of 16, at least 32".format(args.size))
    if args.window < 1:
        raise UserError("--window must be at least 1")
    from .render.renderer import BUNDLED_MODELS, DEFAULT_BUNDLED, bundled_weights

    base = bundled_weights(DEFAULT_BUNDLED)
    if args.init is None:  # the default bundled renderer's weights are the default start
        args.init = base if os.path.isfile(base) else None
    elif args.init in BUNDLED_MODELS:  # a bundled renderer's weights (fine-tuned at its size unless --size)
        args.init = bundled_weights(args.init)
    elif args.init.lower() == "none":
        args.init = None
    if args.init and not os.path.isfile(args.init):
        raise UserError("{}: --init weights not found".format(args.init))
    for opt in ("report", "preview", "checkpoint"):  # every file the run writes, before it runs
        if getattr(args, opt):
            check_output_file(getattr(args, opt), option="--" + opt)
    stem = os.path.splitext(out)[0]
    for path in (stem + ".pt", stem + ".fp16.onnx", args.checkpoint or stem + ".ckpt.pt"):
        if os.path.isdir(path):
            raise UserError("is a folder; training writes a file there (beside --out)", path=path)
    from .progress import EXIT_INTERRUPTED
    from .training.train import common_kwargs, train

    try:
        summary = train([(args.track, args.video)], out, **common_kwargs(args))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise os_error(exc) from None
    if summary.get("cancelled"):
        print("reenact: cancelled; checkpoint kept at {}".format(summary["checkpoint"]), file=sys.stderr)
        return 128 + summary["signal"] if summary.get("signal") else EXIT_INTERRUPTED
    _emit_json({k: v for k, v in summary.items() if k not in ("metrics", "losses")} | (
        {"metrics": {"model": summary["metrics"]["model"], "nearest_neighbour": summary["metrics"]["nearest_neighbour"]}}
        if "metrics" in summary else {}))
    return 0


def _track_video(s):
    if "=" not in s:
        raise argparse.ArgumentTypeError("expected DRIVER.npz=DRIVER.mp4")
    return tuple(s.split("=", 1))


def _also(s):
    """``PERF.npz`` or ``PERF.npz=DRIVER.npz=DRIVER.mp4`` (--also)."""
    parts = s.split("=", 2)
    if len(parts) == 2:
        raise argparse.ArgumentTypeError("expected PERF.npz or PERF.npz=DRIVER.npz=DRIVER.mp4")
    return parts[0], (tuple(parts[1:]) if len(parts) == 3 else None)


def _other_actors(args, warnings):
    """[dict(track, mouth_from)] of ``--also``, each checked against the footage and its driver
    before any long work (one line naming the file)."""
    from .face.track import Track
    from .render.donor import open_donor
    from .render.pipeline import check_tracks_footage
    from .video import VideoError

    actors = []
    for path, driver in args.also:
        try:
            tr = Track.load(path)
            warnings += check_tracks_footage(tr, args.video, None, args.accept_footage, (path, None))
            if driver is not None:
                if args.region == "face":
                    raise UserError("{}: a driver's mouth is for --region mouth or head".format(path))
                donor, dw = open_donor(tr, driver[0], driver[1], args.accept_footage, performance_label=path)
                donor.close()
                warnings += dw
        except (ValueError, VideoError) as exc:
            raise UserError(str(exc)) from exc
        actors.append({"track": tr, "mouth_from": driver})
    return actors


def _render_digest(args, track, crop_track, mouth_from, renderer, others, mouth):
    """What a chunk of ``reenact render`` renders (its marker records it: the assembly refuses a
    farm job whose chunks rendered different performances, models or options; since 2026-12-06):
    the performances, the renderer as the model its weights were made from, the options."""
    import hashlib

    from .render.cache import file_digest, performance_digest, renderer_identity
    from .render.marking import _weights_of

    def perf(t):
        return performance_digest(t) if t is not None else None

    def driver(m):  # (a driver's Track file by its contents, its footage by its name)
        return m and (file_digest(m[0]) if os.path.isfile(m[0]) else m[0], os.path.basename(str(m[1])))

    parts = [perf(track), perf(crop_track), driver(mouth_from), renderer_identity(_weights_of(renderer)),
             args.region, mouth, args.no_detail, args.no_front, args.reference_frames] + \
        [(perf(o["track"]), driver(o.get("mouth_from"))) for o in others]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def cmd_render(args):
    from .face.track import Track
    from .render.shothead import region_keeps
    from .render.chunks import marking
    from .render.pipeline import check_destinations, check_tracks_footage, get_renderer, render_clip, resolve_range
    from .progress import ConsoleProgress
    from .video import MOVIE_EXTENSIONS, VideoError, open_video

    try:
        track = Track.load(args.track)
        crop_track = Track.load(args.crop_track) if args.crop_track else None
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    try:
        renderer = get_renderer(args.model, prefer_gpu=not args.cpu, precision=args.precision)
        renderer.check_region(args.region)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    warnings = []
    try:
        with open_video(args.video) as src:
            check_destinations(src, args.out, args.cache)  # before any work
            n = len(src)
    except VideoError as exc:
        raise UserError(str(exc)) from exc
    frames = _frame_range(args.frames) if args.frames else None  # (a malformed range: its own line)
    try:
        a, b = resolve_range(frames, n)
    except ValueError:
        raise UserError("--frames {}: outside the clip's {} frames".format(args.frames, n)) from None
    # what the region keeps of the footage, over the frames rendered (since 2026-12-06 those only)
    # (since 2026-12-06 a gaze asked on an unmoved head is said too)
    # (since 2026-12-06 too: the gaze a --region mouth render leaves out, as Blender says it)
    for kind, what in region_keeps(track, crop_track if crop_track is not None else track.footage(), args.region,
                                   range(a - int(track.frame_start), b - int(track.frame_start)), every=True):
        if kind == "turn":
            warnings.append("the performance turns the head up to {:.0f} degrees away from the footage's, but "
                            "--region {} keeps the footage's head: use --region head for full reenactment"
                            .format(what, args.region))
        else:
            from .render.actors import frame_runs

            runs = frame_runs([r + int(track.frame_start) for r in what])
            warnings.append("--region mouth draws the mouth alone: frame(s) {} change the gaze and keep the "
                            "footage's eyes (--region face draws them)".format(runs) if args.region == "mouth" else
                            "--region head draws a new gaze only on a head or face it moves: frame(s) {} keep the "
                            "footage's eyes (--region face draws them)".format(runs))
        print("reenact: warning: " + warnings[-1], file=sys.stderr)
    chunk = None
    if args.chunk:
        c = _frame_range(args.chunk)
        chunk = (a if c[0] is None else c[0], b if c[1] is None else c[1])
        if not (a <= chunk[0] < chunk[1] <= b):
            raise UserError("--chunk {}: not inside the job's frames {}:{}".format(args.chunk, a, b))
    ref_frames = None
    if args.reference_frames:
        from .render.pipeline import reference_track

        ref_frames = _frame_range(args.reference_frames, "--reference-frames")
        if not renderer.ref:
            raise UserError("--reference-frames: {} uses no actor reference".format(os.path.basename(renderer.path)))
        try:
            reference_track(crop_track if crop_track is not None else track.footage(), ref_frames)
        except ValueError as exc:
            raise UserError("--reference-frames {}: {}".format(args.reference_frames, exc)) from None
    try:  # the Tracks must be of this footage (one line naming both files)
        for w in check_tracks_footage(track, args.video, crop_track, args.accept_footage, (args.track, args.crop_track)):
            warnings.append(w)
            print("reenact: warning: " + w, file=sys.stderr)
    except VideoError as exc:
        raise UserError(str(exc)) from exc
    mouth_from = None
    if args.mouth_from:  # the driver's mouth: checked before any long work
        from .render.donor import open_donor

        if args.region == "face":
            raise UserError("--mouth-from draws the driver's mouth in a dub or a moved head: use --region mouth or head")
        dt, dv = args.mouth_from
        if not os.path.isfile(dv) and not os.path.isdir(dv):
            raise UserError("{}: no such video (--mouth-from)".format(dv))
        try:
            donor, dw = open_donor(track, dt, dv, args.accept_footage, performance_label=args.track)
            donor.close()
        except (ValueError, VideoError) as exc:
            raise UserError(str(exc)) from exc
        for w in dw:
            warnings.append(w)
            print("reenact: warning: " + w, file=sys.stderr)
        mouth_from = (dt, dv)
    mouth = args.mouth if args.mouth is not None else args.driver_mouth  # --driver-mouth: the older name
    if mouth in ("driver", "on") and args.region == "face":
        raise UserError("--mouth driver draws the driver's mouth in a dub or a moved head: use --region mouth or head")
    if mouth in ("driver", "on") and mouth_from is None:
        raise UserError("--mouth driver needs the driver: --mouth-from DRIVER.npz=DRIVER.mp4")
    ext = os.path.splitext(args.out)[1].lower()
    if ext and ext not in MOVIE_EXTENSIONS:
        raise UserError("{}: unsupported output '{}' (use .mp4, .mov, .mkv or a folder)".format(args.out, ext))
    if chunk is not None and chunk != (a, b) and ext:
        raise UserError("{}: a --chunk renders into a frame folder; `reenact assemble` makes the movie "
                        "when every chunk is done".format(args.out))
    if args.batch < 1:
        raise UserError("--batch must be at least 1")
    codec = check_movie_codec(args.out, args.codec, args.lossless)  # (ProRes into a folder: refused)
    if ext:
        check_output_file(args.out)
    else:
        from .video.encode import FrameFolder

        check_output_folder(args.out, FrameFolder.owns)
    if args.cache:
        check_output_folder(args.cache, option="--cache")
    n_warned = len(warnings)
    others = _other_actors(args, warnings) if args.also else []
    for w in warnings[n_warned:]:
        print("reenact: warning: " + w, file=sys.stderr)
    bar = ConsoleProgress("render", stream=sys.stderr)
    digest = _render_digest(args, track, crop_track, mouth_from, renderer, others, mouth) if chunk is not None else None
    try:
        common = dict(out=args.out, frames=(a, b), region=args.region, cache_dir=args.cache, batch=args.batch,
                      progress=bar, lossless=args.lossless, codec=codec, job_id=args.job_id, sign_cert=args.sign_cert,
                      sign_key=args.sign_key, detail=not args.no_detail, accept_footage=args.accept_footage,
                      mouth_mode=mouth or "auto", front=not args.no_front)
        if others:  # a two-shot: every actor's change laid over one output (render/actors.py)
            from .render.actors import render_actors

            first = {"track": track, "crop_track": crop_track, "mouth_from": mouth_from,
                     "reference_frames": ref_frames}
            with marking(args.out, args.farm_job or args.job_id, (a, b), chunk, n, digest=digest):
                summary = render_actors([first] + others, args.video, renderer, chunk=chunk, **common)
        else:
            with marking(args.out, args.farm_job or args.job_id, (a, b), chunk, n, digest=digest):
                summary = render_clip(track, args.video, renderer, crop_track=crop_track, chunk=chunk,
                                      mouth_from=mouth_from, reference_frames=ref_frames, **common)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise os_error(exc) from None
    finally:
        bar.close()
    summary["fps"] = round(summary["frames"] / summary["seconds"], 2) if summary["seconds"] > 0 else None
    for w in summary.get("warnings", []):  # what the render found (a pose the shot never shows, the model)
        if w not in warnings:
            warnings.append(w)
            print("reenact: warning: " + w, file=sys.stderr)
    for w in _sound_notes(args, ext, chunk, mouth_from):
        warnings.append(w)
        print("reenact: warning: " + w, file=sys.stderr)
    summary["warnings"] = warnings
    _emit_json(summary)
    return 0


def _sound_notes(args, ext, chunk, mouth_from):
    """What a render's output does not carry of the sound (before the evening of 2026-12-06 unsaid):
    a frame folder none (`reenact assemble` puts the shot's back), and a dub the shot's sound, not
    the dubbing actor's."""
    from .video import open_video

    def has_sound(path):
        try:
            with open_video(path) as v:
                return bool(getattr(v, "has_audio", False))
        except (ValueError, OSError):
            return False

    notes = []
    if not ext and chunk is None and has_sound(args.video):
        from .video.audiotracks import no_sound_note

        notes.append(no_sound_note(args.out, args.video))
    if ext and mouth_from is not None and has_sound(mouth_from[1]):
        notes.append("{}: keeps the sound of the shot ({}), not that of the dubbing actor's footage ({}), whose "
                     "mouth it follows: lay the dub's sound under it in the edit".format(
                         args.out, os.path.basename(args.video), os.path.basename(str(mouth_from[1]))))
    return notes


# --- demo ---------------------------------------------------------------------------------

def cmd_demo(args):
    check_output_folder(args.out)
    from .blender.demo import run_demo, summary_text
    summary = run_demo(out_dir=args.out)
    print(summary_text(summary), file=sys.stderr)  # (for a person: before 2026-12-06 the JSON line alone)
    _emit_json(summary)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="reenact",
        description="Face reenactment, visual dubbing and video restyling for Blender's Video Sequencer.",
    )
    parser.add_argument("--version", action="version", version="reenact " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("doctor", help="report versions and the onnxruntime provider really in use")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--cpu", action="store_true", help="do not try CUDA")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("track", help="track the faces of a clip into a Track (.npz)")
    p.add_argument("video", help="movie file, image-sequence folder or pattern (frame_%%04d.png)")
    p.add_argument("--out", required=True, help="Track file to write (.npz); extra actors get _actor1.npz, ...")
    p.add_argument("--max-faces", type=int, default=1, choices=range(1, 5), metavar="N",
                   help="how many faces to track, the most prominent first (1-4, default 1)")
    p.add_argument("--focal", type=float, default=None, metavar="MM",
                   help="focal length in mm (36 mm sensor width); estimated when omitted")
    p.add_argument("--fps", default=None, metavar="RATE", help="an image sequence's frame rate (default 25)")
    p.add_argument("--small-faces", action="store_true", help="also look for faces smaller than a fifth of the "
                   "frame (wide or full-body shots of 320 px or more): slower, and more false faces on cluttered footage")
    p.add_argument("--no-hands", action="store_true", help="do not look for hands before the faces (faster; "
                   "the Track then does not say which frames a hand hides)")
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("transfer", help="move (part of) one actor's performance onto another actor's Track")
    p.add_argument("--source", required=True, metavar="S.npz", help="Track whose performance is transferred")
    p.add_argument("--target", required=True, metavar="T.npz", help="Track of the actor who takes it")
    p.add_argument("--mode", required=True, choices=("full", "expression", "mouth", "pose", "gaze"),
                   help="full = pose + expression + gaze; mouth = jaw/mouth coefficients only (dubbing)")
    p.add_argument("--offset", type=int, default=0, metavar="N",
                   help="target frame t takes source frame t - N (default 0)")
    p.add_argument("--gain", action="append", default=[], metavar="GROUP=VALUE",
                   help="scale a group: mouth, eyes, brows, cheeks_nose, pose, gaze (repeatable)")
    p.add_argument("--frames", default=None, metavar="A:B",
                   help="target clip frames to change, 0-based, B excluded (default: all)")
    p.add_argument("--smoothing", type=float, default=0.0, metavar="SIGMA",
                   help="Gaussian smoothing of the source's signals, sigma in frames (default 0: none)")
    p.add_argument("--anchor", choices=("shot", "rest"), default="shot",
                   help="where the moved head sits (modes full, pose): shot = the target footage's own slow "
                        "path (camera moves, the actor shifting) plus the source's quicker moves (default); "
                        "rest = the source's motion about the target's rest pose")
    p.add_argument("--free-turns", action="store_true",
                   help="carry the source's head turns as they are (modes full, pose); by default a turn "
                        "further than 6 degrees from every rotation the target's footage shows is eased "
                        "towards them, never more than 9.5 beyond (a render warps the nearest frame the rest of the way, "
                        "and a larger warp stretches the head's far side)")
    p.add_argument("--out", required=True, help="Track file to write (.npz): the target with the transfer")
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("train", help="train a neural renderer for one actor and export it to ONNX")
    p.add_argument("track", help="the actor's Track (.npz)")
    p.add_argument("--video", required=True, help="the clip the track was made from")
    p.add_argument("--out", required=True, help="ONNX file to write (weights .pt and .fp16.onnx beside it)")
    from .training.options import add_common as _train_opts  # argparse only
    _train_opts(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("render", help="render a Track with a neural renderer and composite full frames")
    p.add_argument("track", help="the performance to render (.npz)")
    p.add_argument("--video", required=True, help="the target clip (frames to composite into)")
    p.add_argument("--model", required=True, help="renderer ONNX, or a bundled one by name: base256 (256 px crops, "
                                                  "the default of Blender and of training) or base (128 px crops, "
                                                  "a quarter of the network's time)")
    p.add_argument("--out", required=True, help="movie file (.mp4/.mov/.mkv) or folder of PNGs")
    p.add_argument("--frames", default=None, metavar="A:B",
                   help="0-based clip frames A..B-1 to render (default: all); the other frames are "
                        "copied unchanged, so the output keeps the clip's frame count")
    p.add_argument("--region", choices=("face", "mouth", "head"), default="face",
                   help="what is rendered: the face, the mouth region only (visual dubbing), or the whole "
                        "head moved to the requested pose (full reenactment)")
    p.add_argument("--crop-track", default=None, metavar="T.npz",
                   help="the footage's own tracked Track, to place the crops and make the actor "
                        "reference (default: the footage's rows that a transferred TRACK carries, "
                        "else TRACK itself)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="crop cache folder (default: reenact_cache/ beside the output); unchanged "
                        "frames are not rendered again")
    p.add_argument("--lossless", action="store_true", help="lossless movie (RGB H.264 / FFV1 in .mkv)")
    p.add_argument("--codec", choices=MOVIE_CODECS, default="h264",
                   help="movie codec: h264 (default) or prores (ProRes 422 HQ in a .mov, for editing systems)")
    p.add_argument("--chunk", default=None, metavar="C:D",
                   help="render only clip frames C..D-1 of --frames and write them to the frame folder (a "
                        "render farm's task; chunks covering --frames once give the frames of one render, "
                        "see docs/farm.md)")
    p.add_argument("--farm-job", default=None, metavar="ID",
                   help="with --chunk: the job the chunk belongs to, the same for every chunk of one submission "
                        "(default: --job-id); `reenact assemble` checks by it that they all finished")
    p.add_argument("--accept-footage", action="store_true",
                   help="accept footage whose pixels or frame rate differ from the Track's (a re-encoded copy "
                        "of the same shot); frame size and count must still match")
    p.add_argument("--mouth-from", type=_track_video, default=None, metavar="DRIVER.npz=DRIVER.mp4",
                   help="mouth dub (and region head): draw the lower face from the footage warped to the requested "
                        "mouth, with the driver's own mouth interior (teeth, tongue) in the opening; the driver's "
                        "Track and footage, which TRACK must have been transferred from (docs/compositing.md)")
    p.add_argument("--also", type=_also, action="append", default=[], metavar="PERF.npz[=DRIVER.npz=DRIVER.mp4]",
                   help="another actor of the same shot (a Track of --video's --max-faces tracking, edited or "
                        "transferred), rendered into the same output; with its driver's mouth after '='. Repeatable "
                        "(docs/compositing.md, Two actors in one shot)")
    p.add_argument("--mouth", choices=("auto", "shot", "driver", "renderer"), default=None,
                   help="region head: the moved head's lower face from the footage frame with the nearest mouth, "
                        "with the driver's mouth interior in its opening where the performance opens beyond the "
                        "footage and --mouth-from is given ('auto', default; 'driver': always; 'shot': never), or "
                        "'renderer': the network fills the opening. Region mouth: where the lower "
                        "face of the rows the performance changes comes from: "
                        "'shot' the footage's own frame with the nearest mouth, warped to the requested one "
                        "(the actor's own lips and teeth); 'driver' the footage warped to the requested mouth "
                        "with the driver's mouth interior (--mouth-from); 'renderer' the network; 'auto' "
                        "(default) the driver's mouth when the dub opens the mouth beyond anything the footage "
                        "shows (without --mouth-from the shot's own mouth up to twice the footage's widest "
                        "opening, the renderer beyond), else the shot's own mouth. Region face: an edited mouth "
                        "(a jawOpen key) from the footage frame with the nearest mouth ('auto': up to twice the "
                        "footage's widest opening; 'shot': always) or the network ('renderer')")
    p.add_argument("--driver-mouth", choices=("auto", "on"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-front", action="store_true",
                   help="draw over what stands in front of the face in the footage (a hand, a microphone, a cup); by "
                        "default it is found and kept in front (docs/compositing.md)")
    p.add_argument("--reference-frames", default=None, metavar="A:B",
                   help="draw the actor only from clip frames A..B-1 of --crop-track: the reference pool and, "
                        "region face, the faces of the frames outside them, taken from those frames (a hand over "
                        "the face; a held-out self-reenactment, whose scored frames stay out)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--cpu", action="store_true", help="do not try CUDA")
    p.add_argument("--precision", choices=("auto", "fp32"), default="auto",
                   help="on the CPU, 'auto' runs MODEL.int8.onnx when `reenact quantize` made it from this "
                        "very model (about half the CPU time), 'fp32' always the model itself")
    p.add_argument("--no-detail", action="store_true",
                   help="composite the network's crop alone, without the footage's fine detail "
                        "(docs/compositing.md)")
    add_signing_arguments(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("quantize", help="make MODEL.int8.onnx, the renderer's int8 variant for the CPU")
    p.add_argument("model", help="the fp32 renderer ONNX")
    p.add_argument("--data", action="append", required=True, type=_track_video, metavar="TRACK.npz=CLIP",
                   help="a tracked clip to calibrate on (repeatable; a few seconds of each are rendered)")
    p.add_argument("--out", default=None, help="default: MODEL.int8.onnx beside MODEL (where render finds it)")
    p.add_argument("--min-psnr", type=float, default=None,
                   help="refuse a variant whose face differs from the fp32 model's by more (dB; default 40)")
    p.set_defaults(func=cmd_quantize)

    add_farm_parsers(sub)

    from .restyle.cli import add_parser as _restyle_parser  # argparse only
    _restyle_parser(sub)

    p = sub.add_parser("demo", help="run the whole job on the embedded sample clip", description="Track the sample "
                       "clip in a Blender sequencer scene, give frames 41-120 the mouth of 40 frames earlier and render "
                       "it; writes OUT/demo.blend, demo.mp4, demo_side_by_side.png, demo_track.npz and OUT/reenact/.")
    p.add_argument("--out", default="out", help="output folder (default: ./out)")
    p.set_defaults(func=cmd_demo)

    add_verify_parser(sub)
    add_probe_parser(sub)
    add_conform_parser(sub)

    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .progress import EXIT_INTERRUPTED, EXIT_TERMINATED, Cancelled, Terminated, terminate_as_interrupt

    restore = terminate_as_interrupt()  # SIGTERM cleans up like Ctrl-C
    stdout = sys.stdout  # (while the command runs: written to the last byte, or one error line, exit 2)
    sys.stdout = CheckedStdout(stdout) if stdout is not None else None
    try:
        rc = args.func(args)
        write_stdout()  # what the command printed, out before its exit status says it worked
        return rc
    except StdoutClosed:
        return EXIT_PIPE
    except UserError as exc:
        print("reenact: error: {}".format(exc), file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:  # a full disk, or a file asking for more memory than there is: one line
        print("reenact: error: {}".format(os_error(exc) if isinstance(exc, OSError) else "out of memory ({}): "
                                          "the input is larger than this machine can hold".format(exc)), file=sys.stderr)
        return 2
    except Terminated:
        print("reenact: cancelled (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except (KeyboardInterrupt, Cancelled):
        print("reenact: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        restore()
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
