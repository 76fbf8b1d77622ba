# SPDX-License-Identifier: GPL-3.0-or-later
"""How a strip's clip frames lie on the timeline, which every Reenact job relies on: one clip
frame per timeline frame, unless the strip is retimed or plays a clip of another rate at the
clip's own speed (refused: :func:`refuse_retimed`), and which clip frame a reversed, strobed or
other-rate strip shows at a timeline frame (:func:`shown_clip_frame`, Blender's own mapping)."""

import math
import os

from . import blend


def _held_pieces(strip):
    """``strip`` and the other pieces of its shot (its Reenact id and file) that start into their
    clip by a hold offset."""
    rid, path = (strip.get("reenact_id") if hasattr(strip, "get") else None), None
    out = []
    for s in [strip] + ([x for x in blend.siblings(strip) if x != strip and x.get("reenact_id") == rid] if rid else []):
        if int(getattr(s, "animation_offset_start", 0) or 0) and s.type == strip.type:
            path = path or blend.strip_filepath(strip)
            if blend.strip_filepath(s) == path:
                out.append(s)
    return out


def refuse_retimed(strip, what="its result strip would not follow the retiming"):
    """ValueError when ``strip`` starts into its clip by a hold offset (a Hold Split's second
    piece: before 2026-12-05 such a piece was tracked and rendered from the clip's first frames,
    silently), or is retimed (Blender's retiming keys: more than its two ends; an
    older speed factor): its clip frames no longer map one to one onto the timeline, which every
    Reenact job relies on (``what`` says what would go wrong; before 2026-12-05 only tracking
    checked, and a render of a shot retimed after tracking added a result strip playing at the
    clip's own speed over the retimed shot). Adding retiming keys crashes Blender's headless
    module, so Reenact does not copy them. A movie strip playing its clip at the clip's own rate
    in a scene of another rate is refused alike (``rate_adjusted``)."""
    for s in _held_pieces(strip):  # (Blender shows clip frame f - start + hold: every Reenact job counts f - start)
        raise ValueError("strip '{}' starts {} frame(s) into its clip (Hold Offset Start: a piece of a Hold Split, "
                         "Strip ▸ Split ▸ Hold), which Reenact's curves and results do not follow; Hold Offset to "
                         "Trim (Strip ▸ Reenact) shows the same frames with a plain trim".format(
                             s.name, int(s.animation_offset_start)))
    refuse_other_stream(strip)
    if len(getattr(strip, "retiming_keys", ())) > 2 or getattr(strip, "speed_factor", 1.0) != 1.0 or _sped(strip):
        raise ValueError("strip '{}' is retimed: its clip frames no longer map one to one onto the timeline and "
                         "{}; reset its retiming (Strip ▸ Retiming), then retime the result".format(strip.name, what))
    speed = _speed_effect(strip) if hasattr(strip, "id_data") else None
    if speed is not None:  # (a Speed Control effect shows it retimed: before 2026-12-06 not refused)
        raise ValueError("strip '{}' is retimed by the Speed Control effect '{}': the sequencer shows its clip frames "
                         "at another pace than the timeline's, and {}; mute the effect while Reenact works on the "
                         "shot".format(strip.name, speed.name, what))
    clip_fps = rate_adjusted(strip)
    if clip_fps:
        scene_fps = strip.id_data.render.fps / strip.id_data.render.fps_base
        if abs(clip_fps - scene_fps) <= 1e-4 * scene_fps:  # Change Path kept the old clip's rate
            raise ValueError("strip '{}' plays its {:.5g} fps clip at the rate of the clip it showed before (Blender's "
                             "Adjust Playback Rate keeps it after Change Path), not frame for frame; add the clip "
                             "again as a new strip".format(strip.name, clip_fps))
        raise ValueError("strip '{}' plays its {:.5g} fps clip at the clip's speed in this {:.5g} fps scene (Blender's "
                         "Adjust Playback Rate), so its clip frames no longer map one to one onto the timeline, "
                         "as Reenact's curves and results do; Conform to Scene Rate (Strip ▸ Reenact) makes the "
                         "{:.5g} fps clip it shows, or set the scene to the clip's {:.5g} fps".format(
                             strip.name, clip_fps, scene_fps, scene_fps, clip_fps))


def refuse_other_stream(strip):
    """ValueError when movie strip ``strip`` shows another video stream of its file than the
    first (Stream Index), which is the one every Reenact reader decodes (before 2026-12-06 such a
    strip was tracked, rendered and verified from the first stream, not the one shown)."""
    stream = int(getattr(strip, "stream_index", 0) or 0)
    if stream:
        raise ValueError("strip '{}' shows video stream {} of its file (Stream Index), but Reenact reads a movie's "
                         "first video stream; put that stream in a file of its own (ffmpeg -i IN -map 0:v:{} -c copy "
                         "OUT) and add it as the strip".format(strip.name, stream, stream))


def _sped(strip):
    """True when ``strip`` has just its two end retiming keys but plays at another speed than 1:
    Set Speed on a whole, untrimmed strip adds the two and moves the last (before 2026-12-06 only
    more than two keys counted as retimed, and a strip sped up to 200 % was tracked and rendered
    one clip frame per timeline frame). The keys span the clip's frames less one at speed 1 (the
    last key sits on the last frame); two frames of slack, and a fifth of a percent on long clips,
    for Blender's count against the reader's."""
    keys = list(getattr(strip, "retiming_keys", ()))
    if len(keys) != 2 or getattr(strip, "type", None) not in ("IMAGE", "MOVIE"):
        return False
    span = int(keys[-1].timeline_frame) - int(keys[0].timeline_frame)
    if strip.type == "IMAGE":
        n = len(strip.elements)
    else:
        n = movie_frames(blend.strip_filepath(strip))
        if n is None:
            return False
        clip_fps = rate_adjusted(strip)  # (a clip played at its own rate spans its length at the scene's)
        if clip_fps:
            r = strip.id_data.render
            n = n * (r.fps / r.fps_base) / clip_fps
    return abs(span - n) > max(2, 0.002 * n)


def _speed_effect(strip):
    """The Speed Control effect strip that shows ``strip`` (or a meta strip holding it) at another
    pace than frame for frame, if any: one in the cut (:func:`blend.out_of_cut`), not a Stretch as
    long as what it plays (which plays it one to one) nor a Multiply of 1."""
    held, s = [], strip
    while s is not None:  # (the strip and each meta holding it: an effect may take the meta)
        held.append(s)
        s = s.parent_meta()
    for e in blend.all_strips(strip.id_data):
        src = getattr(e, "input_1", None) if e.type == "SPEED" else None
        if src is None or src not in held or blend.out_of_cut(e):
            continue
        mode = getattr(e, "speed_control", "STRETCH")
        if mode == "STRETCH" and int(e.frame_final_duration) == int(src.frame_final_duration):
            continue
        if mode == "MULTIPLY" and float(getattr(e, "speed_factor", 1.0)) == 1.0:
            continue
        return e
    return None


def rate_adjusted(strip):
    """The clip's frame rate when ``strip`` is a movie strip that Blender does not play one clip
    frame per timeline frame, else None. Blender's Add ▸ Movie plays a clip of another rate than
    the scene's at the clip's own speed (Adjust Playback Rate, on by default): a 30 fps clip in
    a 25 fps scene then shows clip frame 1.2 t at timeline frame t, skipping frames, and no
    Reenact job can line up with it (before 2026-12-05 Track Actor tracked the first 24 frames
    of a 30-frame 30 fps clip in a 25 fps scene, one per timeline frame, while the strip showed
    29 of them 1.2x faster). The setting is not in Python's API, and it keeps the first clip's
    rate when the strip's file is changed; such a strip's length follows the scene's rate, so the
    scene's rate is doubled for one read and set back (a tag for Blender's next update, which
    finds it as it was)."""
    if getattr(strip, "type", None) != "MOVIE":
        return None
    render = strip.id_data.render
    length, word = strip.frame_duration, _flag_word(strip)
    if word is not None:  # (the strip's own flag, read: nothing in the scene changes)
        follows = bool(word & _AUTO_PLAYBACK_RATE)
    else:  # (a build whose strip layout is not the one found, or a strip that cannot be set: the scene's rate
        fps = render.fps  # doubled for one read, as before, which may slide a trimmed sound strip by a frame)
        try:
            render.fps = fps * 2
            follows = strip.frame_duration != length
        finally:
            render.fps = fps
    if not follows:
        return None
    clip_fps, scene_fps = float(strip.fps or 0.0), render.fps / render.fps_base
    if abs(clip_fps - scene_fps) > 1e-4 * scene_fps:
        return clip_fps
    # the setting at the clip's own rate plays it frame for frame (every strip Add > Movie makes
    # in a scene of the clip's rate), unless it kept another clip's rate: then its length is not
    # the clip's (Blender's count and the reader's may differ by one)
    n = movie_frames(blend.strip_filepath(strip))
    return clip_fps if n is not None and abs(length - n) > 1 else None


_AUTO_PLAYBACK_RATE = 1 << 17  # Blender's SEQ_AUTO_PLAYBACK_RATE strip flag (Adjust Playback Rate)
_FLIP_X, _FLIP_Y, _MUTE, _REVERSE = 1 << 11, 1 << 12, 1 << 5, 1 << 7  # (SEQ_FLIPX, SEQ_FLIPY, SEQ_MUTE, SEQ_REVERSE_FRAMES)
_FLAG_AT = []  # [the byte offset of a strip's flag word] once found


def _flag_word(strip):
    """The flag word of ``strip`` as Blender keeps it (Adjust Playback Rate is not in Python's API),
    or None where it cannot be read safely. Its place in the strip is found once per session as the
    word Flip X changes (set and set back), and every read is checked against four flags Python
    does show (flips, mute, reverse). Before 2026-12-06 19:51 UTC the flag was found by doubling
    the scene's frame rate and setting it back, which re-timed every sound strip, rounding: a
    trimmed dialogue strip slid a frame or two at each job's check (5 frames early after three)."""
    import ctypes
    import sys

    try:
        ptr = strip.as_pointer()
        if not _FLAG_AT:
            n = 512
            before = bytes((ctypes.c_ubyte * n).from_address(ptr))
            strip.use_flip_x = not strip.use_flip_x
            try:
                after = bytes((ctypes.c_ubyte * n).from_address(ptr))
            finally:
                strip.use_flip_x = not strip.use_flip_x
            changed = [i for i in range(n) if before[i] != after[i]]
            if not (sys.byteorder == "little" and len(changed) == 1 and changed[0] % 4 == 1
                    and before[changed[0]] ^ after[changed[0]] == _FLIP_X >> 8):
                return None  # (not found: looked for again at the next read)
            _FLAG_AT.append(changed[0] - 1)
        word = ctypes.c_int.from_address(ptr + _FLAG_AT[0]).value
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    shown = ((_FLIP_X, strip.use_flip_x), (_FLIP_Y, strip.use_flip_y), (_MUTE, strip.mute),
             (_REVERSE, getattr(strip, "use_reverse_frames", False)))
    return word if all(bool(word & bit) == bool(value) for bit, value in shown) else None


_FRAME_COUNTS = {}


def movie_frames(path):
    """The number of frames of the movie ``path`` (None when it cannot be read), kept per file
    version."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _FRAME_COUNTS:
        from ..video import VideoError, open_video

        try:
            with open_video(path) as src:
                _FRAME_COUNTS[key] = len(src)
        except VideoError:
            _FRAME_COUNTS[key] = None
    return _FRAME_COUNTS[key]


def shown_clip_frame(strip, frame, factor=1.0, clip_frames=None):
    """The clip frame ``strip`` shows at timeline ``frame``, as Blender maps it: counted from the
    end when reversed, ``factor`` clip frames a timeline frame (:func:`playback_factor`), every
    nth held when strobed, clamped to the clip's ``clip_frames`` (default: the strip's length),
    rounded (Preview Frame previews that frame; before 2026-12-05 it took ``frame`` minus the
    strip's start, another frame on a reversed or strobed shot)."""
    start, length = int(strip.frame_start), max(1, int(strip.frame_duration))
    n = clip_frames or length
    i = start + length - 1 - int(frame) if getattr(strip, "use_reverse_frames", False) else int(frame) - start
    i = min(max(i, 0) * factor, n - 1)
    strobe = float(getattr(strip, "strobe", 1.0) or 1.0)
    if strobe > 1.0:
        i -= math.fmod(i, strobe)
    return int(math.floor(i + 0.5))


def playback_factor(strip):
    """Clip frames per timeline frame: 1 for a strip that plays its clip frame for frame, the
    clip's rate over the scene's for a movie strip played at its clip's own speed
    (:func:`rate_adjusted`), None where Blender keeps another clip's rate (unknown here)."""
    clip_fps = rate_adjusted(strip)
    if not clip_fps:
        return 1.0
    r = strip.id_data.render
    scene_fps = r.fps / r.fps_base
    return clip_fps / scene_fps if abs(clip_fps - scene_fps) > 1e-4 * scene_fps else None


def shown_frames(strip):
    """Timeline frames [t0, t1) where ``strip`` can be seen: its own trims, and those of each meta
    strip it lies in (a meta's trims hide its contents' frames outside them; before 2026-12-06
    Train Restyle read a shot in a meta trimmed to frames 7-16 from frame 1). t0 >= t1: hidden."""
    t0, t1 = int(strip.frame_final_start), int(strip.frame_final_end)
    meta = strip.parent_meta() if hasattr(strip, "parent_meta") else None
    while meta is not None:
        t0, t1 = max(t0, int(meta.frame_final_start)), min(t1, int(meta.frame_final_end))
        meta = meta.parent_meta()
    return t0, t1


def shown_ranges(strip, ranges, factor=1.0, clip_frames=None):
    """[[first, last], ...]: the timeline frames where ``strip`` shows clip frames ``ranges``
    ([a, b) each), in timeline order, touching runs joined: only the frames the sequencer shows
    (:func:`shown_frames`: a meta's trims too) and as it maps them (:func:`shown_clip_frame`: a
    reversed, strobed or other-rate strip). The clip frame shown only grows (shrinks when
    reversed) along the timeline, so each range's ends are found by bisection: cheap enough for
    a panel's draw (Verify's, which places a verdict's frames as the strip lies now)."""
    import bisect

    t0, t1 = shown_frames(strip)
    if t0 >= t1:
        return []
    rev = bool(getattr(strip, "use_reverse_frames", False))
    frames = range(t0, t1)

    def key(t):
        c = shown_clip_frame(strip, t, factor, clip_frames)
        return -c if rev else c

    spans = []
    for a, b in ranges:
        lo, hi = (1 - int(b), 1 - int(a)) if rev else (int(a), int(b))  # (reversed: a <= c < b as -c)
        i, j = bisect.bisect_left(frames, lo, key=key), bisect.bisect_left(frames, hi, key=key)
        if i < j:
            spans.append([t0 + i, t0 + j - 1])
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def numbering(strip):
    """(start, length, reversed): how ``strip`` lays its clip frames on the timeline
    (:func:`timeline_frame` as plain numbers, for a worker thread's messages)."""
    return int(strip.frame_start), max(1, int(strip.frame_duration)), bool(getattr(strip, "use_reverse_frames", False))


def timeline_frame(strip, clip_frame):
    """The timeline frame where ``strip`` (played frame for frame) shows ``clip_frame``: counted
    from its content's end when reversed."""
    start, length = int(strip.frame_start), max(1, int(strip.frame_duration))
    return start + length - 1 - int(clip_frame) if getattr(strip, "use_reverse_frames", False) else start + int(clip_frame)


def shown_span(strips, first=None, last=None):
    """Clip frames [a, b) that ``strips`` (pieces of one shot, played frame for frame:
    :func:`refuse_retimed`) show between them over timeline frames ``first``..``last`` (default:
    all they show, :func:`shown_frames`), as Blender maps them (:func:`shown_clip_frame`: a
    reversed strip shows its clip from the end, so one trimmed by 4 at its start shows clip frames
    0-11 of 16, not 4-15 as frame minus start says; before 2026-12-06 Restyle Strip restyled
    4-15 and left 0-3, which the result showed, untouched). (0, 0) when they show none."""
    lo, hi = None, None
    for s in strips:
        t0, t1 = shown_frames(s)
        if first is not None:
            t0, t1 = max(t0, int(first)), min(t1, int(last) + 1)
        if t0 >= t1:
            continue
        ends = (shown_clip_frame(s, t0), shown_clip_frame(s, t1 - 1))
        lo = min(ends) if lo is None else min(lo, min(ends))
        hi = max(ends) + 1 if hi is None else max(hi, max(ends) + 1)
    return (0, 0) if lo is None else (lo, hi)


def clip_range(strip, first, last):
    """Clip frames [a, b) that timeline frames ``first``..``last`` of ``strip`` (played frame for
    frame) show, from its content's end when reversed (:func:`clip_frame` at both ends): a job's
    frame range and a farm's chunk."""
    c = sorted(clip_frame(strip, t) for t in (first, last))
    return c[0], c[1] + 1


def timeline_range(strip, a, b):
    """(first, last): the timeline frames where ``strip`` shows clip frames [a, b)
    (:func:`clip_range`'s inverse, for messages in the frames the editor sees)."""
    first, last = sorted(timeline_frame(strip, c) for c in (a, b - 1))
    return first, last


def clip_frame(strip, frame):
    """The clip frame ``strip`` (played frame for frame) shows at timeline ``frame``, as if it
    were untrimmed and its clip endless (:func:`timeline_frame`'s inverse): for ranges given in
    timeline frames."""
    start, length = int(strip.frame_start), max(1, int(strip.frame_duration))
    return start + length - 1 - int(frame) if getattr(strip, "use_reverse_frames", False) else int(frame) - start
