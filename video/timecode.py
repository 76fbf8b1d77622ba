# SPDX-License-Identifier: GPL-3.0-or-later
"""SMPTE timecode: the frame a timecode names and the timecode of a frame, so what Reenact reports
in frames (``reenact verify``'s synthesised ranges) can be read against an editor's timeline.

A timecode counts frames at the nominal rate (24, 25, 30, 60 for 23.976, 25, 29.97, 59.94).
Drop-frame (written with ``;`` before the frames, at 29.97 or 59.94 only) skips the first 2
(4 at 59.94) frame numbers of every minute except each tenth, so the clock stays with real time.
"""

from fractions import Fraction

from .source import TIMECODE_RE, snap_ntsc

__all__ = ["timecode_frames", "frames_timecode", "timecode_after", "retime_timecode"]


def _nominal(rate):
    return max(1, int(round(float(Fraction(rate)))))


def _drops(tc, rate):
    """Frame numbers dropped each minute: 2 at 29.97, 4 at 59.94 when ``tc`` is drop-frame."""
    r = snap_ntsc(rate)  # (19001/317: a 59.94 fps Matroska's rate as FFmpeg reads it)
    if ";" not in tc and "." not in tc:
        return 0
    return {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}.get(r, 0)


def timecode_frames(tc, rate):
    """Frames from 00:00:00:00 to the timecode ``tc`` at ``rate`` (an exact ``Fraction`` or a
    number). Raises ValueError for text that is not a timecode."""
    tc = str(tc).strip()
    if not TIMECODE_RE.match(tc):
        raise ValueError("{!r} is not a timecode (HH:MM:SS:FF)".format(tc))
    h, m, s, f = (int(p) for p in tc.replace(";", ":").replace(".", ":").split(":"))
    fps, drop = _nominal(rate), _drops(tc, rate)
    minutes = 60 * h + m
    return (3600 * h + 60 * m + s) * fps + f - drop * (minutes - minutes // 10)


def frames_timecode(n, rate, drop=False):
    """The timecode of frame count ``n`` (from 00:00:00:00) at ``rate``; ``drop``: drop-frame
    (only at 29.97 and 59.94; elsewhere it is ignored). Wraps at 24 hours, as timecode does."""
    fps = _nominal(rate)
    d = _drops(";", rate) if drop else 0
    n = int(n)
    if d:
        per_ten = 10 * 60 * fps - 9 * d  # frames in ten minutes
        per_min = 60 * fps - d  # in a minute that drops
        tens, rest = divmod(n, per_ten)
        n += 9 * d * tens + (d * ((rest - d) // per_min) if rest > d else 0)
    n %= 24 * 3600 * fps
    f = n % fps
    s = n // fps
    return "{:02d}:{:02d}:{:02d}{}{:02d}".format(s // 3600, s // 60 % 60, s % 60, ";" if d else ":", f)


def timecode_after(start, frames, rate):
    """The timecode ``frames`` frames after the timecode ``start`` (drop-frame when it is)."""
    return frames_timecode(timecode_frames(start, rate) + int(frames), rate, drop=_drops(str(start), rate) > 0)


def _counted_rate(tc, rate):
    """The rate the timecode ``tc`` counts at: a drop-frame one (``;``) only exists at 29.97 and
    59.94, so it is read at 30000/1001 (60000/1001) where the clip's rate was taken as near 30
    (60): a variable-rate phone clip's guess (30, 179/6)."""
    if (";" in tc or "." in tc) and _nominal(rate) in (30, 60):
        return Fraction(1000 * _nominal(rate), 1001)
    return rate


def retime_timecode(tc, rate, new_rate):
    """The start timecode ``tc`` of a clip at ``rate`` for the same moment in a copy of it at
    ``new_rate`` (``reenact conform``): as it is when the timecode counts the same frames
    (30000/1001 and 30: both count 30), else the same clock time on the new rate's count
    (a drop-frame timecode's clock is real time; a non-drop one's is its frames over the nominal
    rate; 01:00:00:00 at 23.976 is 01:00:00:00 at 25). A drop-frame ``tc`` is counted at 29.97
    (59.94) whatever ``rate`` says (:func:`_counted_rate`): a copy at 30 fps gets the non-drop
    timecode of the same moment (10:00:00;00, 35999.964 s, is 09:59:59:29 at 30), one at 29.97 the
    same timecode. Before 2026-12-06 a variable-rate clip FFmpeg guessed at 30 fps kept its
    "10:00:00;00" in a 30 fps copy (a drop-frame timecode at a rate that has none), and a copy at
    29.97 was given "10:00:00:00", non-drop."""
    tc, new_rate = str(tc).strip(), snap_ntsc(new_rate)
    rate = _counted_rate(tc, snap_ntsc(rate))
    if _nominal(rate) == _nominal(new_rate) and (_drops(tc, rate) > 0) == (_drops(tc, new_rate) > 0):
        return tc
    frames = timecode_frames(tc, rate)
    seconds = Fraction(frames) / (Fraction(rate) if _drops(tc, rate) else _nominal(rate))
    drop = _drops(tc, rate) > 0 and _drops(";", new_rate) > 0
    n = seconds * (Fraction(new_rate) if drop else _nominal(new_rate))
    return frames_timecode(int(round(n)), new_rate, drop=drop)
