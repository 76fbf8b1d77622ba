# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact assemble`` and ``reenact blender-render``: the render farm's commands (argparse here;
the work in :mod:`reenact.render.assemble` and this package). Registered by the main CLI with
``add_parsers(subparsers)``; bad input is one line on stderr and a non-zero exit."""

import os
import sys

from ..errors import ReenactError as UserError
from ..fsutil import check_output_file
from ..provenance.cli import add_signing_arguments
from ..video.encode import MOVIE_CODECS, check_movie_codec


def _emit_json(obj):
    """The last stdout line of a job is a JSON summary."""
    import json

    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def cmd_assemble(args):
    from ..progress import ConsoleProgress
    from ..render.assemble import assemble_movie
    from ..render.chunks import check_chunks
    from ..video import MOVIE_EXTENSIONS

    ext = os.path.splitext(args.out)[1].lower()
    if ext not in MOVIE_EXTENSIONS:
        raise UserError("{}: the movie must be .mp4, .mov or .mkv".format(args.out))
    check_output_file(args.out, ext)
    try:  # the chunks' markers: every chunk of the job finished, no other job wrote over its frames
        check_chunks(args.folder, args.farm_job)
    except OSError:
        pass  # (no such folder: assemble_movie's line)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    bar = ConsoleProgress("assemble", stream=sys.stderr)
    try:
        summary = assemble_movie(args.folder, args.video, args.out, lossless=args.lossless, progress=bar,
                                 sign_cert=args.sign_cert, sign_key=args.sign_key, fps=args.fps,
                                 codec=check_movie_codec(args.out, args.codec, args.lossless))
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        bar.close()
    _emit_json(summary)
    return 0


def cmd_blender_render(args):
    from .. import farm

    if not os.path.isfile(args.blend):
        raise UserError("{}: no such .blend".format(args.blend))
    try:
        first, last = farm.parse_frames(args.frames)
        chunk = farm.parse_frames(args.chunk) if args.chunk else (first, last)
        farm.blender_executable(args.blender)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if args.movie and not args.assemble:  # (until 2026-12-06's farm audit ignored: the chunk wrote frames unsaid)
        raise UserError("--movie: give it to the --assemble task (a chunk writes the job's frames; the assemble task "
                        "makes the movie)")
    output = ("PRORES" if args.prores else "MOVIE") if args.movie else "IMAGES"
    if args.prores and (args.lossless or not args.movie):
        raise UserError("--prores: give it with --movie, and without --lossless")
    if not args.assemble and not (first <= chunk[0] <= chunk[1] <= last):
        raise UserError("--chunk {}: not inside --frames {}".format(args.chunk, args.frames))
    if args.restyle and not 0.0 <= args.stabilise <= 0.95:
        raise UserError("--stabilise {}: give a value from 0 to 0.95".format(args.stabilise))
    job = args.farm_job or args.job_id or ""  # (the chunks' markers: render/chunks.py)
    if args.restyle and args.assemble:
        expr = farm.restyle_assemble_expr(args.restyle, args.model, output, args.lossless, not args.no_save, job)
    elif args.restyle:
        expr = farm.restyle_expr(args.restyle, args.model, first, last, chunk, args.job_id or "", args.stabilise, job)
    elif args.assemble:
        expr = farm.assemble_expr(args.actor, output, args.lossless, save=not args.no_save, region=args.region,
                                  all_actors=args.all_actors, farm_job=job)
    else:
        expr = farm.render_expr(args.actor, first, last, chunk, args.region, args.job_id or "", args.all_actors, job)
    sys.stdout.flush()
    return farm.run(args.blend, expr, args.blender)


def add_parsers(sub):
    """The farm's subcommands on the main parser's ``sub``."""
    p = sub.add_parser("assemble", help="make the movie of a render done in chunks, from its frame folder, with "
                                        "the footage's audio")
    p.add_argument("folder", help="the frame folder the chunks wrote (frame_000000.png ...)")
    p.add_argument("--video", required=True, help="the footage (frame count, rate and audio)")
    p.add_argument("--fps", default=None, metavar="RATE", help="an image sequence's frame rate (default 25)")
    p.add_argument("--out", required=True, help="movie file (.mp4/.mov/.mkv)")
    p.add_argument("--lossless", action="store_true", help="lossless movie (RGB H.264 / FFV1 in .mkv)")
    p.add_argument("--codec", choices=MOVIE_CODECS, default="h264",
                   help="movie codec: h264 (default) or prores (ProRes 422 HQ in a .mov, for editing systems)")
    p.add_argument("--farm-job", default=None, metavar="ID",
                   help="the job whose chunks to assemble, as given to `reenact render --farm-job` (default: the job "
                        "of the newest finished chunk); its chunks must all have finished and no other job written "
                        "over its frames since")
    add_signing_arguments(p)
    p.set_defaults(func=cmd_assemble)

    p = sub.add_parser("blender-render", help="render an actor's performance (or restyle a strip) from a saved .blend "
                                              "in Blender's background mode (one render-farm task)")
    p.add_argument("blend", help="the saved .blend")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--actor", help="the actor object's name")
    who.add_argument("--restyle", metavar="STRIP",
                     help="restyle this movie or image strip instead (Restyle Strip; Assemble Restyle with --assemble)")
    p.add_argument("--model", default="", help="with --restyle: the restyle model (default: the scene's)")
    p.add_argument("--stabilise", type=float, default=0.8, help="with --restyle: as Restyle Strip's (default 0.8)")
    p.add_argument("--frames", required=True, metavar="FIRST-LAST",
                   help="timeline frames of the job, both included (e.g. 1-250)")
    p.add_argument("--chunk", default=None, metavar="FIRST-LAST", help="this task's frames, inside --frames")
    p.add_argument("--region", choices=("face", "mouth", "head"), default="mouth")
    p.add_argument("--job-id", default=None, metavar="ID", help="job id carried by the watermark")
    p.add_argument("--farm-job", default=None, metavar="ID", help="the job its chunks' markers name, the same for every "
                   "task of one job and another for each job; --assemble checks them (default: --job-id)")
    p.add_argument("--all-actors", action="store_true", help="every tracked actor of the actor's strip in one result "
                   "(Every Actor of the Strip); give it to the chunks and to --assemble alike")
    p.add_argument("--assemble", action="store_true",
                   help="the job's last task instead: add the result strip (after every chunk is done)")
    p.add_argument("--movie", action="store_true", help="with --assemble: also make the movie (footage audio)")
    p.add_argument("--lossless", action="store_true", help="with --movie: lossless (.mkv)")
    p.add_argument("--prores", action="store_true", help="with --movie: ProRes 422 HQ (.mov) for editing systems")
    p.add_argument("--no-save", action="store_true", help="with --assemble: do not save the .blend")
    p.add_argument("--blender", default=None, metavar="EXE",
                   help="Blender executable (default: blender on PATH, else this Python's bpy module)")
    p.set_defaults(func=cmd_blender_render)
