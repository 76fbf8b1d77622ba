# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact probe FILE... [--json]``: what Reenact reads in a shot before any long work — the
picture as shown (size, rotation, pixel aspect, interlacing, HDR encoding, letterbox bars), its
frames (count, rate, variable rate, truncation), its start timecode and every audio track — and
the warnings tracking and rendering it would give (docs/video-io.md).

Exit status 0 when every file was read; 2 when one could not be (one line
``reenact: error: FILE: problem`` on stderr for each, the others still reported).
"""

import contextlib
import json
import os
import sys

from ..fsutil import shell_quote
from .encode import HDR_TRC


def _footage_line(source, named, line):
    """``line(src, prefix)`` for the movie ``source`` (a path, opened and closed here, or an open
    source); None for anything that is not a readable movie file."""
    if isinstance(source, str) and not os.path.isfile(source):
        return None
    from . import open_video

    try:
        src = open_video(source) if isinstance(source, str) else source
    except ValueError:
        return None
    try:
        return line(src, src.path + ": " if named else "")
    finally:
        if isinstance(source, str):
            src.close()


def _non_square_line(src, prefix):
    sar = getattr(src, "sample_aspect", None)
    if sar is None:
        return None
    w, h = src.size
    out = os.path.splitext(os.path.basename(src.path))[0] + "_square.mp4"
    return ("{}non-square pixels (pixel aspect {}:{}, shown {}x{} from {}x{} stored): tracked as stored, so the face "
            "is fitted {:.0%} squeezed and its head turns and mouth shapes read somewhat off; for a transfer "
            "between actors track a square-pixel copy, e.g. ffmpeg -i {} -vf scale={}:{},setsar=1 -c:v libx264 "
            "-crf 16 -c:a copy {}".format(prefix, sar.numerator, sar.denominator, int(round(w * sar)), h, w, h,
                                          abs(1 - 1 / float(sar)), shell_quote(src.path),
                                          2 * int(round(w * sar / 2)), h, shell_quote(out)))


def _interlace_line(src, prefix):
    if not getattr(src, "interlaced", False):
        return None
    out = os.path.splitext(os.path.basename(src.path))[0] + "_progressive.mp4"
    return ("{}interlaced (two fields woven into each frame): a moving face is tracked through its combing and its "
            "curves come out jittery; work from a deinterlaced copy (track, transfer and render it), e.g. ffmpeg "
            "-i {} -vf bwdif=mode=send_frame -c:v libx264 -crf 16 -c:a copy {}".format(
                prefix, shell_quote(src.path), shell_quote(out)))


def non_square_warning(source, named=True):
    """One line when the movie ``source`` (path or open source) is tagged with non-square pixels
    (anamorphic DV, HDV, DVD; many CIF/QCIF clips, the sample clip among them, say 128:117),
    else None. Its faces are tracked as stored, as Blender's sequencer shows them (it does not
    stretch such footage), which is also where the render draws; but the face model's camera has
    square pixels, so the face is fitted squeezed: driving_d3 stored at 1/1.094, 1/1.185 and 1/1.33
    of its width reads the head 0.9, 1.4 and 3.2 degrees off a square copy's (median), and its
    least-alike expression channel correlates 0.70, 0.19 and 0.24 with it (tools/squeeze_probe.py).
    Transfers carry that to the other actor, so the line names a square-pixel copy to track.
    ``named``: the line starts with the file's path."""
    return _footage_line(source, named, _non_square_line)


def interlace_warning(source, named=True):
    """One line when the movie ``source`` (path or open source) is interlaced, else None. Its
    frames are read with both fields woven in, so a moving face shows combing: driving_d12's own
    frames woven two by two into fields track with expression curves 1.65x as jittery (second
    differences; 0.236 against 0.143 for the same frames progressive) and the head 2.6 degrees
    apart (median; the fields are half a frame apart), a still face (d19) alike
    (tools/interlace_probe.py). The line names a deinterlaced copy to work from (one frame per
    frame, so its frames stay the shot's)."""
    return _footage_line(source, named, _interlace_line)


#: the notes :func:`footage_warnings` leaves out while :func:`leaving_out` holds them
_LEFT_OUT = set()


@contextlib.contextmanager
def leaving_out(*notes):
    """Within it :func:`footage_warnings` gives none of ``notes`` ("non_square", "interlaced"):
    ``reenact demo``, which transfers the sample's actor onto itself, tracks its 128:117 clip
    without the note that is for a transfer between actors (before 2026-12-06 the demo's first
    lines warned of a 9 % squeeze and gave an ffmpeg command into site-packages)."""
    _LEFT_OUT.update(notes)
    try:
        yield
    finally:
        _LEFT_OUT.difference_update(notes)


def footage_warnings(source, named=True):
    """The lines :func:`non_square_warning` and :func:`interlace_warning` have for ``source``
    (the movie opened once), less those :func:`leaving_out` holds."""
    return _footage_line(source, named, lambda src, prefix: [
        w for k, w in (("non_square", _non_square_line(src, prefix)), ("interlaced", _interlace_line(src, prefix)))
        if w and k not in _LEFT_OUT]) or []


def _audio(path):
    """Each audio stream of the movie ``path``: codec, rate, channels, name, language, start
    (seconds), ``offset`` (its start less the picture's: > 0 the sound starts after the first
    frame) and ``default`` (the track a player plays)."""
    import av

    def start(s):
        return float(s.start_time * s.time_base) if s.start_time is not None else None

    try:
        with av.open(path) as c:
            vs = [s for s in c.streams.video if not (s.disposition & 0x400)]  # (not a cover picture)
            v0 = (start(vs[0]) if vs else None) or 0.0
            return [{"codec": s.codec_context.name if s.codec_context else None,
                     "sample_rate": int(s.codec_context.sample_rate or 0) if s.codec_context else None,
                     "channels": int(s.codec_context.channels or 0) if s.codec_context else None,
                     "name": s.metadata.get("title") or s.metadata.get("name"),
                     "language": s.metadata.get("language"),
                     "start": start(s), "offset": round(start(s) - v0, 3) if start(s) is not None else None,
                     "default": bool(s.disposition & 1)}
                    for s in c.streams.audio]
    except (av.error.FFmpegError, OSError):
        return []


def probe(path):
    """A JSON-able dict of what :func:`~reenact.video.open_video` reads in ``path`` (a movie, a
    folder or pattern of images), and ``warnings``: the lines tracking it would print and the
    reasons it would be refused (a variable frame rate, a truncated file). Raises ``ValueError``
    (one line naming the file) when it cannot be read at all."""
    from . import open_video
    from .bars import shot_picture_area

    path = os.fspath(path)
    with open_video(path, allow_variable_rate=True, allow_truncated=True) as src:
        out = {"file": os.path.abspath(path), "kind": src.kind, "frames": int(src.frame_count),
               "rate": "{}/{}".format(src.rate.numerator, src.rate.denominator) if src.rate.denominator != 1
               else str(src.rate.numerator), "fps": round(float(src.rate), 6),
               "duration": round(float(src.duration), 3), "size": list(src.size)}
        warnings = []
        if src.kind == "movie":
            sar = src.sample_aspect
            colour = getattr(src, "colour", None) or {}
            out.update({"codec": src.codec, "rotation": int(getattr(src, "rotation", 0)),
                        "pixel_aspect": "{}:{}".format(sar.numerator, sar.denominator) if sar else "1:1",
                        "interlaced": bool(src.interlaced), "timecode": src.timecode,
                        "hdr": HDR_TRC.get(int(colour.get("trc", 2))) if colour else None,
                        "bits": int(colour.get("bits", 8)) if colour else 8,
                        "variable_rate": bool(src.variable_rate), "rate_drift_ms": round(1000 * src.rate_drift, 1),
                        "truncated": bool(src.truncated), "audio": _audio(path)})
            warnings += footage_warnings(src)
            if src.variable_rate:  # (said against the rate of conform's copy, as the refusal says it: before
                # 2026-12-06 against FFmpeg's average, 24.0015 fps where the copy is 29.667 fps)
                from fractions import Fraction

                from .movie import _nominal_rate

                even, t = float(Fraction(_nominal_rate(src.blender_rate or src.rate))), src.frame_times()
                off = 1000 * float(max(abs(x - i / even) for i, x in enumerate(t))) if t is not None else 0.0
                warnings.append("{}: variable frame rate, frames up to {:.0f} ms off a constant {:.6g} fps: track, "
                                "render and train refuse it; reenact conform makes an evenly timed copy at {:.6g} fps "
                                "(in Blender: Conform to Scene Rate; docs/video-io.md, Variable frame rate)".format(
                                    path, off, even, even))
            if src.truncated:
                warnings.append("{}: truncated: only the first {} frames are readable".format(path, src.frame_count))
        else:  # a plate of more than 8 bits: read at 8, a render written back at its depth
            out.update({"depth": src.depth, "first_number": src.first_number, "rate_assumed": True})
        x0, y0, x1, y1 = shot_picture_area(src)
        out["picture"] = [int(x0), int(y0), int(x1), int(y1)]
        out["bars"] = [int(x0), int(y0), int(src.size[0] - x1), int(src.size[1] - y1)] != [0, 0, 0, 0]
    out["warnings"] = warnings
    return out


def format_probe(r):
    """A few human-readable lines for one :func:`probe` result."""
    # (a folder's rate is an assumption: before 2026-12-06 "120 frames at 25 fps" stated it as fact)
    lines = ["{}: {} {}x{}, {} frames at {} fps{} ({:.2f} s)".format(
        r["file"], r["kind"], r["size"][0], r["size"][1], r["frames"], r["rate"],
        " assumed" if r.get("rate_assumed") else "", r["duration"])]
    if r.get("rate_assumed"):
        lines.append("  images carry no frame rate: track, restyle apply and assemble take --fps; Blender plays "
                     "them at the scene's rate")
    if r["kind"] == "movie":
        bits = int(r.get("bits") or 8)  # (10 bits said for SDR footage too: before 2026-12-06 only with HDR)
        lines.append("  {}{}{}, pixel aspect {}{}{}{}".format(
            r["codec"], ", {}-bit {}".format(bits, r["hdr"]) if r["hdr"] else ", {}-bit".format(bits) if bits > 8
            else "", _rotation_words(r["rotation"]), r["pixel_aspect"],
            ", interlaced" if r["interlaced"] else "", ", timecode " + r["timecode"] if r["timecode"] else "",
            ", variable rate" if r["variable_rate"] else ""))
        tracks = ["{} {} ch {} Hz{}{}{}{}".format(a["codec"], a["channels"], a["sample_rate"],
                                                 " '{}'".format(a["name"]) if a["name"] else "",
                                                 " ({})".format(a["language"]) if a["language"] else "",
                                                 _audio_start(a),
                                                 ", default" if a.get("default") and len(r["audio"]) > 1 else "")
                  for a in r["audio"]]
        lines.append("  audio: " + ("; ".join(tracks) if tracks else "none"))
    elif r.get("depth") in ("16", "float"):
        lines.append("  {}: read as 8-bit sRGB (Blender's Standard view); a render is written back at the plate's "
                     "depth, only the change applied".format(
                         "16-bit" if r["depth"] == "16" else "OpenEXR, scene-linear"))
    if r["bars"]:
        x0, y0, x1, y1 = r["picture"]
        lines.append("  picture inside bars: {}x{} at ({}, {})".format(x1 - x0, y1 - y0, x0, y0))
    lines += ["  warning: " + w for w in r["warnings"]]
    return "\n".join(lines)


def _rotation_words(rotation):
    """", shown rotated 90° clockwise": a display rotation as an editor reads it. ``rotation`` is
    FFmpeg's (and the JSON's): the angle players turn the stored pixels *anticlockwise*, so a
    portrait phone clip's -90 is shown turned 90° clockwise (checked against Blender 5.0's strip of
    a clip with a display matrix, 2026-12-06). Before 2026-12-06 probe printed "rotated -90"."""
    cw = int(round(-float(rotation or 0))) % 360
    if not cw:
        return ""
    if cw == 180:
        return ", shown rotated 180°"
    return ", shown rotated {}° {}".format(360 - cw if cw > 180 else cw, "anticlockwise" if cw > 180 else "clockwise")


def _audio_start(a):
    """", starts 0.278 s after the picture": where one audio track of a probe starts against the
    first frame (before the evening of 2026-12-06 only ``--json`` said it)."""
    off = a.get("offset")
    if off is None:
        return ""
    if abs(off) < 0.0005:
        return ", starts with the picture"
    return ", starts {:.3f} s {} the picture".format(abs(off), "after" if off > 0 else "before")


def add_parser(subparsers):
    p = subparsers.add_parser("probe", help="what Reenact reads in a shot (size, pixel aspect, rate, timecode, "
                                            "audio tracks, bars) and the warnings it would give, before any work")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="movie, folder of images or pattern; or a Reenact model (.onnx): its model card; or a "
                        "Track (.npz): its clip, frames, and a transfer's mouth driver")
    p.add_argument("--json", action="store_true", help="print one JSON object: {\"results\": [...], \"errors\": [...]}")
    p.set_defaults(func=_cmd)


def _cmd(args):
    results, errors = [], []
    from ..face.track_card import format_track, track_card
    from ..modelcard import format_card, model_card

    read = {".onnx": model_card, ".npz": track_card}
    for f in args.files:
        try:
            results.append(read.get(os.path.splitext(str(f))[1].lower(), probe)(f))
        except ValueError as exc:
            errors.append(str(exc))
            print("reenact: error: {}".format(exc), file=sys.stderr)
    if args.json:
        print(json.dumps({"results": results, "errors": errors}, indent=1, sort_keys=True))
    else:
        for r in results:
            print({"model": format_card, "track": format_track}.get(r["kind"], format_probe)(r))
    return 2 if errors else 0
