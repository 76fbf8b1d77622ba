# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``reenact`` command: the same core as the Blender extension, for headless and farm use.

Every subcommand exits 0 on success; on bad input it prints one line ``reenact: error: ...``
naming the file and the problem, exits 2, and leaves no half-written output behind.
"""

import argparse
import json
import os
import sys
import time

from ._version import __version__


class UserError(Exception):
    """An expected failure (bad input): reported as one line, exit status 2."""


def _emit_json(obj):
    """The last stdout line of a job is a JSON summary."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


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

def _out_path(path, suffix):
    if not path.lower().endswith(suffix):
        raise UserError("{}: output must be a {} file".format(path, suffix))
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError("{}: output folder does not exist".format(folder))
    return path


def cmd_track(args):
    from .inference.tracker import track_video
    from .progress import ConsoleProgress

    out = _out_path(args.out, ".npz")
    t0 = time.perf_counter()
    bar = ConsoleProgress("track", stream=sys.stderr)
    stats = {}
    try:
        tracks = track_video(args.video, max_faces=args.max_faces, focal_mm=args.focal,
                             progress=bar, stats=stats)
    except ValueError as exc:  # VideoError, TrackingError: one line naming the file
        raise UserError(str(exc)) from exc
    finally:
        bar.close()
    missing = stats.get("missing_frames") or []
    if missing:
        shown = ", ".join(str(m) for m in missing[:20]) + (" ..." if len(missing) > 20 else "")
        print("reenact: warning: {}: {} missing frame(s) left untracked: {}".format(
            args.video, len(missing), shown), file=sys.stderr)
    paths = []
    for i, tr in enumerate(tracks):
        path = out if i == 0 else "{}_actor{}.npz".format(out[: -len(".npz")], i)
        tr.save(path)
        paths.append(path)
    seconds = time.perf_counter() - t0
    frames = int(len(tracks[0].tracked))
    _emit_json({
        "out": paths,
        "frames": frames,
        "actors": len(tracks),
        "tracked_fraction": [round(float(t.tracked.mean()), 4) for t in tracks],
        "seconds": round(seconds, 3),
        "fps": round(frames / seconds, 2) if seconds > 0 else None,
        "provider": stats.get("provider"),
        "missing_frames": missing,
    })
    return 0


# --- demo ---------------------------------------------------------------------------------

def cmd_demo(args):
    from .demo import run_demo

    summary = run_demo(out_dir=args.out)
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
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("demo", help="run the whole job on the embedded sample clip")
    p.add_argument("--out", default="out", help="output folder (default: ./out)")
    p.set_defaults(func=cmd_demo)

    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UserError as exc:
        print("reenact: error: {}".format(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reenact: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
