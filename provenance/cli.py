# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify FILE... [--json]``: watermark verdict, payload, synthesised time ranges,
one-second windows and the C2PA manifest of movies, images and folders of frames.

Exit status 0 when every file was read, whatever the verdict; 2 when a file could not be read
(one line ``reenact: error: FILE: problem`` on stderr for each, the others are still reported).
"""

import json
import sys


def add_signing_arguments(parser):
    """``--sign-cert``/``--sign-key`` for commands that export (render, restyle apply): pass
    ``args.sign_cert``/``args.sign_key`` to :func:`reenact.provenance.manifest.sign_file`."""
    parser.add_argument("--sign-cert", default=None, metavar="CHAIN.pem",
                        help="C2PA signing certificate chain (leaf first); default: a local chain made on "
                             "first use, trusted by no one else (see docs/provenance.md)")
    parser.add_argument("--sign-key", default=None, metavar="KEY.pem", help="private key of --sign-cert")
    parser.add_argument("--job-id", default=None, metavar="ID",
                        help="job id carried by the watermark (hex < 2**40, or any text, hashed); default: "
                             "derived from the footage, the renderer and the actor, so chunks of one job "
                             "rendered in parallel carry the same id")


def add_parser(subparsers):
    p = subparsers.add_parser("verify", help="check movies, images or frame folders for Reenact's "
                                             "watermark and C2PA manifest")
    p.add_argument("files", nargs="+", metavar="FILE", help="movie, image or folder of frames")
    p.add_argument("--json", action="store_true", help="print one JSON object: {\"results\": [...], \"errors\": [...]}")
    p.add_argument("--key", default=None, help="watermark key (default: Reenact's public key)")
    p.add_argument("--window", type=float, default=1.0, metavar="SECONDS", help="window length (default 1 s)")
    p.add_argument("--fps", type=float, default=None, help="frame rate of a folder of frames (default 25)")
    p.add_argument("--no-manifest", action="store_true", help="skip the C2PA manifest")
    p.set_defaults(func=run)
    return p


def run(args):
    from .verify import format_report, verify_path
    from .watermark import DEFAULT_KEY

    key = args.key if args.key is not None else DEFAULT_KEY
    if not args.window > 0:
        print("reenact: error: --window must be > 0", file=sys.stderr)
        return 2
    results, errors = [], []
    for f in args.files:
        try:
            r = verify_path(f, key=key, window=args.window, fps=args.fps, manifest=not args.no_manifest)
        except (ValueError, OSError) as exc:
            msg = " ".join(str(exc).split())
            if f not in msg:
                msg = "{}: {}".format(f, msg)
            errors.append({"file": f, "error": msg})
            print("reenact: error: {}".format(msg), file=sys.stderr)
            continue
        results.append(r)
        if not args.json:
            print(format_report(r))
    if args.json:
        sys.stdout.write(json.dumps({"results": results, "errors": errors}, sort_keys=True) + "\n")
    return 2 if errors else 0
