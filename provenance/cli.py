# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify FILE... [--json]``: watermark verdict, payload, synthesised time ranges,
one-second windows and the C2PA manifest of movies, images and folders of frames.

Exit status 0 when every file was read, whatever the verdict; 2 when a file could not be read
(one line ``reenact: error: FILE: problem`` on stderr for each, the others are still reported).

``reenact sign FILE...``: a cut finished in another editing system, holding Reenact's frames,
signed with a C2PA manifest that says so and where (:func:`run_sign`).
"""

import json
import sys


def add_signing_arguments(parser, derived="the footage, the renderer and the actor"):
    """``--sign-cert``/``--sign-key`` for commands that export (render, restyle apply): pass
    ``args.sign_cert``/``args.sign_key`` to :func:`reenact.provenance.manifest.sign_file`.
    ``derived``: what the default job id is derived from (restyle: the footage and the model)."""
    parser.add_argument("--sign-cert", default=None, metavar="CHAIN.pem",
                        help="C2PA signing certificate chain (leaf first); default: a local chain made on "
                             "first use, trusted by no one else (see docs/provenance.md)")
    parser.add_argument("--sign-key", default=None, metavar="KEY.pem", help="private key of --sign-cert")
    parser.add_argument("--job-id", default=None, metavar="ID",
                        help="job id carried by the watermark (hex < 2**40, or any text, hashed); default: "
                             "derived from {}, so chunks of one job rendered in parallel carry the same "
                             "id".format(derived))


def _fps(text):
    """A frame rate option as the other commands take it ("25", "29.97", "30000/1001"; since
    2026-12-06: before, verify and sign refused "30000/1001" and took "1/0" to argparse's float)."""
    import argparse

    from ..video import VideoError
    from ..video.source import _as_rate

    try:
        return float(_as_rate(text))
    except VideoError:
        raise argparse.ArgumentTypeError("invalid frame rate {!r}".format(text)) from None


def add_parser(subparsers):
    p = subparsers.add_parser("verify", help="check movies, images or frame folders for Reenact's "
                                             "watermark and C2PA manifest")
    p.add_argument("files", nargs="+", metavar="FILE", help="movie, image or folder of frames")
    p.add_argument("--json", action="store_true", help="print one JSON object: {\"results\": [...], \"errors\": [...]}")
    p.add_argument("--key", default=None, help="watermark key (default: Reenact's public key)")
    p.add_argument("--window", type=float, default=1.0, metavar="SECONDS", help="window length (default 1 s)")
    p.add_argument("--fps", type=_fps, default=None, metavar="RATE",
                   help="frame rate of a folder of frames (default 25; 30000/1001 too)")
    p.add_argument("--no-manifest", action="store_true", help="skip the C2PA manifest")
    p.add_argument("--trust", default=None, metavar="ROOTS.pem",
                   help="root certificate(s) whose signers are trusted (a studio's root); default: this machine's "
                        "local root only")
    p.set_defaults(func=run)
    s = subparsers.add_parser("sign", help="sign a cut that holds Reenact's frames (finished in another editing "
                                           "system) with a C2PA manifest naming where they are")
    s.add_argument("files", nargs="+", metavar="FILE", help="MP4 or MOV movie, PNG or JPEG image, or a folder of "
                                                            "PNG or JPEG frames")
    s.add_argument("--key", default=None, help="watermark key (default: Reenact's public key)")
    s.add_argument("--fps", type=_fps, default=None, metavar="RATE",
                   help="frame rate of a folder of frames: needed for a folder, whose seconds go into every "
                        "frame's manifest (25, 29.97, 30000/1001; a movie keeps its own)")
    s.add_argument("--sign-cert", default=None, metavar="CHAIN.pem",
                   help="C2PA signing certificate chain (leaf first); default: the local chain, trusted by no one else")
    s.add_argument("--sign-key", default=None, metavar="KEY.pem", help="private key of --sign-cert")
    s.set_defaults(func=run_sign)
    return p


def sign_cut(path, key=None, cert=None, sign_key=None, progress=None, fps=None):
    """Sign ``path`` (a movie or image holding Reenact's frames) with ``c2pa.edited``,
    digitalSourceType ``compositeWithTrainedAlgorithmicMedia``, the watermark found in it as
    soft binding and the synthesised seconds (frames, timecodes) as the action's parameters; a
    folder of PNG or JPEG frames (``fps``: its rate, required: a folder has none of its own) has
    each frame of the seconds the watermark shows signed so. ValueError (one line naming the file) for a format C2PA is
    not written into, a file that already carries a manifest, or one where no Reenact watermark
    is found: a manifest must not claim what the file does not show.
    Credentials that cannot sign are refused before any decoding (:func:`.manifest.check_credentials`).
    So is a file that cannot be written (:func:`.manifest.write_refusal`).
    A folder's frames missing from its numbering are passed over (``frames_missing`` counts them).
    Every frame of a folder to sign is checked before any is signed; a failure after names the frame.
    A folder whose frames to sign all carry a manifest is refused as a signed file is.
    Returns (the verdict, the signing's dict)."""
    import os

    from .c2pa_io import append_refusal
    from .manifest import (COMPOSITE_WITH_TRAINED, MIME_TYPES, check_credentials, folder_refusal, read_manifest,
                           sign_file, write_refusal)
    from .payload import Payload
    from .verify import verify_path
    from .watermark import DEFAULT_KEY

    ext = os.path.splitext(path)[1].lower()
    folder = os.path.isdir(path)
    if ext not in MIME_TYPES and not folder:
        raise ValueError("{}: C2PA is written into MP4 and MOV movies and PNG and JPEG images".format(path))
    if folder and fps is None:  # (before 2026-12-06 read at 25 fps unsaid: a 29.97 fps folder was signed
        raise ValueError(       # "1.60-4.80 s" for 1.33-4.00 s in every frame, and could not be signed again)
            "{}: a folder of frames has no rate of its own: give it with --fps (25, 29.97, 30000/1001); the "
            "synthesised seconds are written into every signed frame's manifest".format(path))
    check_credentials(cert, sign_key)  # (before 2026-12-06 checked after the file's whole decode)
    if os.path.isfile(path):
        had = read_manifest(path)
        if had["present"]:
            raise ValueError("{}: already carries a C2PA manifest (signed by {}): nothing added".format(
                path, had.get("signer") or "?"))
        real = os.path.realpath(path)  # (a movie has its manifest appended, an image a signed copy put in place)
        why = write_refusal(path) or (folder_refusal(os.path.dirname(real)) if (
            MIME_TYPES[ext].startswith("image/") or append_refusal(real) is not None) else None)
        if why:  # (before 2026-12-06 found after the decode, and a read-only image was replaced)
            raise ValueError("{}: {}".format(path, why))
    r = verify_path(path, key=key or DEFAULT_KEY, manifest=False, progress=progress, fps=fps)
    wm = r["watermark"]
    if not wm["detected"]:
        raise ValueError("{}: no Reenact watermark found (best score {:.1f}): not signed, as a manifest would claim "
                         "frames the file does not show".format(path, wm["score"]))
    if not wm.get("payload"):
        raise ValueError("{}: Reenact's watermark is found but no render's job id can be read from it (marks of "
                         "several renders, or too little of one): not signed".format(path))
    pl = wm["payload"]
    payload = Payload(int(pl["job_id"], 16), tool=pl["tool"], version=pl["version"])
    parameters = {"synthesised_seconds": ["{:.2f}-{:.2f}".format(a, b) for a, b in wm["ranges"]],
                  "synthesised_frames": ["{}-{}".format(a, b - 1) for a, b in wm["frame_ranges"]],
                  "job_id": pl["job_id"]}
    other = [w for w in wm["windows"] if w.get("detected") and w.get("payload_match") is False]
    if other:  # (a cut of two renders: these seconds carry another job's mark than the file's)
        parameters["other_job_seconds"] = ["{:.2f}-{:.2f}".format(w["start"], w["end"]) for w in other]
    found_with = (wm.get("pixel_aspect") or {}).get("found")
    if found_with:  # (the seconds were read with a pixel-aspect change undone: since 2026-12-06)
        parameters["found_with_pixel_aspect"] = found_with
    if r.get("timecode_ranges"):
        parameters["synthesised_timecodes"] = ["{}-{}".format(a, b) for a, b in r["timecode_ranges"]]
    if not folder:
        info = sign_file(path, action="c2pa.edited", payload=payload, cert=cert, key=sign_key,
                         parameters=parameters, source_type=COMPOSITE_WITH_TRAINED)
        return r, info
    from ..video import open_video

    with open_video(path, fps=fps, allow_gaps=True) as src:  # (as verify reads it: before 2026-12-06 a
        files = list(src.files)                               # missing frame refused the folder)
    todo, already = [], []
    for a, b in wm["frame_ranges"]:  # each frame of the seconds the watermark shows
        for f in files[a:b]:
            if f is None or os.path.splitext(f)[1].lower() not in MIME_TYPES:
                continue
            m = read_manifest(f)
            if m["present"]:  # (a Reenact render's own frame: signed already)
                already.append(m)
            else:
                todo.append(f)
    if not todo and not already:
        raise ValueError("{}: its frames are not PNG or JPEG images, which C2PA is written into".format(path))
    if not todo:  # (before 2026-12-06 "signed (C2PA in 0 frame(s), ...; signer None)", exit 0)
        raise ValueError("{}: its {} frame(s) of Reenact's seconds already carry a C2PA manifest (signed by {}): "
                         "nothing added".format(path, len(already), already[0].get("signer") or "?"))
    folders = set()
    for f in todo:  # every frame checked before any is signed (before 2026-12-06 a failure half way
        real = os.path.realpath(f)  # left the folder part-signed)
        why = write_refusal(f)
        if not why and os.path.dirname(real) not in folders:
            why = folder_refusal(os.path.dirname(real))
            folders.add(os.path.dirname(real))
        if why:
            raise ValueError("{}: {}: {}; no frame signed".format(path, os.path.basename(f), why))
    info = {"bytes_added": 0, "signer": None, "frames_signed": 0, "frames_already": len(already),
            "frames_missing": len(r.get("missing_frames") or [])}
    for f in todo:
        try:
            one = sign_file(f, action="c2pa.edited", payload=payload, cert=cert, key=sign_key,
                            parameters=parameters, source_type=COMPOSITE_WITH_TRAINED)
        except (ValueError, OSError) as exc:  # (a disk that filled: the frame named, not its hidden copy)
            msg = " ".join(str(exc).split())
            real = os.path.realpath(f)
            msg = msg[len(real) + 2:] if msg.startswith(real + ": ") else msg
            raise ValueError("{}: {}: {}; {} frame(s) before it signed, {} not".format(
                path, os.path.basename(f), msg, info["frames_signed"], len(todo) - info["frames_signed"])) from None
        info["bytes_added"] += one["bytes_added"]
        info["signer"] = one["signer"]
        info["frames_signed"] += 1
    return r, info


def check_signing_options(cert, key):
    """One line naming the option for ``--sign-cert``/``--sign-key`` that cannot sign, or None."""
    from .manifest import check_credentials

    if (cert is None) != (key is None):
        return "{} given without {}: give both, or neither (the local chain)".format(
            *(("--sign-cert", "--sign-key") if key is None else ("--sign-key", "--sign-cert")))
    try:
        check_credentials(cert, key)
    except (ValueError, OSError) as exc:
        return " ".join(str(exc).split())
    return None


def run_sign(args):
    bad = check_signing_options(args.sign_cert, args.sign_key)
    if bad:  # once, before any file is read (before 2026-12-06 after each file's decode)
        print("reenact: error: {}".format(bad), file=sys.stderr)
        return 2
    errors = 0
    for f in args.files:
        try:
            r, info = sign_cut(f, key=args.key, cert=args.sign_cert, sign_key=args.sign_key, fps=args.fps)
        except (ValueError, OSError) as exc:
            msg = " ".join(str(exc).split())
            print("reenact: error: {}".format(msg if f in msg else "{}: {}".format(f, msg)), file=sys.stderr)
            errors += 1
            continue
        wm = r["watermark"]
        frames = "" if "frames_signed" not in info else " in {} frame(s){}{}".format(
            info["frames_signed"], ", {} signed already".format(info["frames_already"]) if info["frames_already"] else "",
            ", {} frame(s) missing from the folder".format(info["frames_missing"]) if info["frames_missing"] else "")
        found_with = (wm.get("pixel_aspect") or {}).get("found")
        print("{}: signed (C2PA{}, {} bytes; Reenact's frames, job {}: {} s{}{})".format(
            f, frames, info["bytes_added"], wm["payload"]["job_id"],
            ", ".join("{:.2f}-{:.2f}".format(a, b) for a, b in wm["ranges"]),
            ", found with the {} pixel-aspect change undone".format(found_with) if found_with else "",
            "; signer {}".format(info["signer"]) if info.get("signer") else ""))
    return 2 if errors else 0


def run(args):
    from .verify import format_report, printable, verify_path
    from .watermark import DEFAULT_KEY

    key = args.key if args.key is not None else DEFAULT_KEY
    if not 0.2 <= args.window <= 10.0:  # (a window of 1e-320 overflowed; one of 60 s held GBs of frames)
        print("reenact: error: --window {:g}: give 0.2 to 10 seconds (default 1)".format(args.window), file=sys.stderr)
        return 2
    trust = getattr(args, "trust", None)
    if trust:  # (once, before any file is read: a file of no certificate is one line)
        from .keys import trust_roots

        try:
            trust_roots(trust)
        except ValueError as exc:
            print(printable("reenact: error: --trust {}".format(exc)), file=sys.stderr)
            return 2
    results, errors = [], []
    for f in args.files:
        try:
            r = verify_path(f, key=key, window=args.window, fps=args.fps, manifest=not args.no_manifest, trust=trust)
        except (ValueError, OSError) as exc:
            msg = " ".join(str(exc).split())
            if f not in msg:
                msg = "{}: {}".format(f, msg)
            errors.append({"file": f, "error": msg})
            print(printable("reenact: error: {}".format(msg)).encode("utf-8", "backslashreplace").decode("utf-8"),
                  file=sys.stderr)
            continue
        results.append(r)
        if not args.json:  # (a file name that is not UTF-8 is printed escaped, not a traceback)
            print(format_report(r).encode("utf-8", "backslashreplace").decode("utf-8"))
    if args.json:
        sys.stdout.write(json.dumps({"results": results, "errors": errors}, sort_keys=True) + "\n")
    return 2 if errors else 0
