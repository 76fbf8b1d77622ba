# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie conformed to another frame rate exactly as Blender's sequencer plays it.

Blender plays a movie strip whose clip rate differs from the scene's at the clip's own speed
(Add ▸ Movie's *Adjust Playback Rate*, on by default): timeline frame ``k`` of the strip shows
clip frame ``k * clip_fps / scene_fps`` rounded to the nearest, in single precision, over
``int(n / factor)`` frames. Reenact's jobs need one clip frame per timeline frame, so they refuse such a strip
(``blender/timing.py``, ``rate_adjusted``); :func:`conform_movie` writes the movie of the frames
that mapping gives, at the scene's rate, with the clip's sound as it is (the same duration),
and Blender's *Conform to Scene Rate* puts it in a strip. No frame is blended or invented: a
30 fps clip conformed to 25 fps drops one frame in six, as the timeline did.

Checked against the sequencer's own pictures (2026-12-05, Blender 5.0, 120-frame clips, every
timeline frame): 30 -> 25, 25 -> 24, 60 -> 25 and 30 -> 23.976 fps show the same frames
throughout. A clip just slower than the scene differs at a few frames: 24 -> 25 at 5 of 125 (the
sequencer shows the frame before where the mapped index ends in .96, repeating it) and
29.97 -> 30 at 1 of 120 (its second frame); there the conformed clip shows the mapped frame."""

import os
import time

import numpy as np

from ..fsutil import refuse_overwriting
from ..progress import Cancelled
from . import VideoWriter, open_video
from .encode import source_tags
from .movie import usual_rate
from .source import _as_rate
from .timecode import retime_timecode


def conform_indices(n, clip_fps, fps):
    """The clip frame shown at each frame of a clip of ``n`` frames at ``clip_fps`` played at
    its own speed in a scene of ``fps``: Blender's mapping (single precision, as the
    sequencer computes it)."""
    factor = np.float32(np.float32(float(clip_fps)) / np.float32(float(fps)))
    m = int(np.float32(n) / factor)
    index = np.minimum(np.arange(m, dtype=np.float32) * factor, np.float32(n - 1))
    return np.floor(index + np.float32(0.5)).astype(np.int64)  # (the sequencer rounds a movie's frame index)


def shown_by_time(times, time_base, rate, seconds):
    """The frame a Blender movie strip shows at each of its own frames when the clip's frames
    are not evenly spaced (variable frame rate: phone footage, screen recordings, dropped
    frames): Blender plays the clip at its guessed ``rate`` for ``seconds`` (the stream's
    duration) and shows, at its frame ``k``, the last frame whose time is at or before ``k /
    rate`` rounded to the stream's ``time_base`` ticks. ``times``: each frame's time from the
    first (seconds, ascending). Checked against Blender 5.0 and 4.5's own pictures (two clips:
    30 then 20 fps, and 30 fps with jitter and three frames dropped: every frame alike)."""
    tb = float(time_base)
    ticks = np.rint(np.asarray(times, np.float64) / tb).astype(np.int64)
    n = max(int(seconds * float(rate) + 0.5), 1)
    target = np.rint(np.arange(n) / float(rate) / tb).astype(np.int64)
    return np.clip(np.searchsorted(ticks, target, side="right") - 1, 0, len(ticks) - 1)


def _usual_rate(src, video):
    """The rate ``reenact conform`` gives a clip of variable rate without ``--fps``: the usual rate
    nearest FFmpeg's guess for it, within 1 % (30000/1001 for 29.96), else the guess."""
    guess = src.blender_rate or src.rate
    if not src.variable_rate:
        raise ValueError("{}: a clip of constant frame rate ({:.6g} fps): nothing to conform (give --fps to conform it "
                         "to another rate, as Blender's Adjust Playback Rate plays it)".format(video, float(guess)))
    return usual_rate(guess)  # (the rate the variable-rate refusal's ffmpeg line names)


def conform_movie(video, fps, out, lossless=False, progress=None, adjusted=True, by_time=False):
    """Write ``out`` (.mp4/.mov/.mkv): the frames of the movie ``video`` that a strip of it
    shows in a scene of ``fps`` (``adjusted``: played at the clip's own speed,
    :func:`conform_indices`; else frame for frame), at ``fps``, with ``video``'s sound copied as
    it is, its colour encoding and pixel aspect kept. A clip of variable frame rate is first
    taken as Blender shows it (:func:`shown_by_time`), so its frames are even in time
    (``by_time``: sampled so at ``fps`` itself, as a clip whose rate Blender took to be ``fps``
    would be shown: ``reenact conform``'s way; there ``fps`` None is the usual rate within 1 % of
    FFmpeg's guess for the clip, and a clip of constant rate needs ``fps``). Returns a
    summary dict (``out``, ``frames``, ``dropped``, ``repeated``, ``audio``, ``variable_rate``,
    ``seconds``)."""
    t0 = time.perf_counter()
    with open_video(video, allow_variable_rate=True) as src:
        if src.kind != "movie":
            raise ValueError("{}: an image sequence plays at the scene's rate already; nothing to conform".format(video))
        refuse_overwriting(out, [src.path])
        n, size = len(src), (src.width, src.height)
        times = src.frame_times() if src.variable_rate else None
        rate = _as_rate(fps) if fps is not None else _usual_rate(src, video)
        if times is not None:
            clip_rate = rate if by_time else (src.blender_rate or src.rate)
            base = shown_by_time(times, src.time_base, clip_rate, src.stream_seconds or float(times[-1]))
            adjusted = adjusted and not by_time
        else:
            if not adjusted:
                raise ValueError("{}: a clip of constant frame rate played frame for frame: nothing to conform".format(
                    video))
            clip_rate, base = src.rate, np.arange(n)
        idx = base[conform_indices(len(base), clip_rate, rate)] if adjusted else base
        if not len(idx):
            raise ValueError("{}: {} frame(s) at {:.5g} fps last less than a frame at {:.5g} fps".format(
                video, n, float(src.rate), float(rate)))
        tags = source_tags(src)
        # (a shot of more than 8 bits: each frame written from its own deep decode, the frame of
        # the clip it shows; before 2026-12-06 8 bits: an HDR phone clip's 10-bit copy banded)
        keyed = tags.pop("alpha", False)  # (said below: a movie holds no alpha)
        if tags.get("timecode"):  # frame 0 is the clip's first moment: its timecode on the new rate's count
            tags["timecode"] = retime_timecode(tags["timecode"], src.blender_rate or src.rate, rate)  # (before: dropped)
        writer = VideoWriter(out, rate, size, lossless=lossless, audio_from=video if src.has_audio else None, **tags)
        try:
            j = 0
            for i, frame in src.iter_frames(0, int(idx[-1]) + 1):  # in order: no seeking
                while j < len(idx) and idx[j] == i:  # (a clip slower than the scene repeats frames)
                    writer.write(frame, index=i)
                    j += 1
                    if progress is not None and progress(j, len(idx), "frame {}".format(j - 1)) is False:
                        raise Cancelled()
        except BaseException:
            writer.abort()
            raise
        writer.close()
    shown = set(int(i) for i in idx)
    warnings = list(writer.warnings)  # (what the movie cannot keep: before 2026-12-06 not said)
    bits = int((tags.get("colour") or {}).get("bits") or 8)
    if tags.get("deep_from") is not None and not any(b in writer.pix_fmt for b in ("10", "12", "16")) and not warnings:
        # (a 10-bit camera clip conformed to 8-bit H.264: before 2026-12-06 19:53 UTC silently)
        warnings.append("{}: H.264 holds 8 bits of this {}-bit clip (its gradients may band); the lossless copy "
                        "(--lossless: FFV1 .mkv; Blender: Conform to Scene Rate's Lossless) keeps them".format(
                            os.path.basename(out), bits if bits > 8 else "deeper"))
    if keyed:
        warnings.append("{}: the conformed movie holds no alpha: the shot's alpha channel is dropped, and the "
                        "strip covers what lies under it".format(os.path.basename(out)))
    return {"out": os.path.abspath(os.fspath(out)), "frames": int(len(idx)), "clip_frames": n,
            "dropped": n - len(shown), "repeated": int(len(idx) - len(shown)), "audio": bool(writer.audio_copied),
            "variable_rate": times is not None,
            "output_warnings": warnings,
            "fps": float(rate), "seconds": round(time.perf_counter() - t0, 3)}


# ------------------------------------------------------------------------------ reenact conform
def add_parser(subparsers):
    """``reenact conform CLIP --out OUT [--fps RATE] [--lossless]`` (argparse only)."""
    p = subparsers.add_parser("conform", help="make an evenly timed copy of a movie as Blender's sequencer shows it: "
                                              "a clip of variable frame rate (phone footage, screen recordings), or "
                                              "a clip played at its own speed at another rate (--fps)")
    p.add_argument("clip", help="the movie")
    p.add_argument("--out", required=True, help="the copy (.mp4, .mov or .mkv); the clip's sound is copied as it is")
    p.add_argument("--fps", default=None, metavar="RATE",
                   help="the scene's rate (e.g. 25 or 30000/1001; default: the rate Blender gives the clip)")
    p.add_argument("--lossless", action="store_true", help="lossless (FFV1 .mkv) instead of H.264")
    p.set_defaults(func=_cmd)


def _cmd(args):
    import json
    import sys

    from ..errors import ReenactError
    from ..fsutil import check_output_file
    from ..progress import ConsoleProgress
    from . import MOVIE_EXTENSIONS, VideoError

    ext = os.path.splitext(args.out)[1].lower()
    if ext not in MOVIE_EXTENSIONS or (args.lossless and ext != ".mkv"):
        raise ReenactError("{}: the copy must be .mp4, .mov or .mkv (.mkv with --lossless)".format(args.out))
    check_output_file(args.out)
    bar = ConsoleProgress("conform", stream=sys.stderr)
    try:  # (a clip of variable rate sampled by time at the rate; one of constant rate as Adjust Playback Rate)
        summary = conform_movie(args.clip, args.fps, args.out, lossless=args.lossless, progress=bar, by_time=True)
    except (ValueError, VideoError) as exc:
        raise ReenactError(str(exc)) from exc
    finally:
        bar.close()
    for line in summary["output_warnings"]:  # (before 2026-12-06 19:53 UTC in the JSON alone)
        print("reenact: warning: {}".format(line), file=sys.stderr)
    print(json.dumps(summary, indent=1, sort_keys=True))
    return 0
