# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthesised frame ranges from the watermark's one-second windows (:func:`.watermark.detect`).

A window is detected on the evidence of all its frames, so a dub of ten frames makes its whole
second "detected"; the frames themselves are then placed by their own scores (each frame's
correlation with the pattern at the detected alignment, ``frame_scores``). Per run of detected
windows, over the run and one window either side (cut to the file), by two levels
(:func:`_levels`, hysteresis): frames scoring above the upper level (half way between the
unmarked frames' scores, from the undetected windows beside the run, and the marked ones') are
synthesised, and so are the frames of the detected windows joined to them by frames above the
lower level (the unmarked frames' spread: a marked stretch of flat content scores a fraction of
textured content's); a detected window with no frame above the upper level takes its frames
above the lower one. A window found by the second look (:mod:`.second_look`) counts whole (its
frames' scores are at no alignment the sync test found). Before 2026-12-06 only an edge between
a detected and an undetected window was placed, and only where the detected window's median was
a marked frame's: a ten-frame dub read as the whole second around it, and an edit at the start
or end of a file as reaching the file's edge."""

import numpy as np

#: the lower level: this many spreads of the unmarked frames' scores (from their frame-to-frame
#: differences, robust to a level that drifts) above their lower quartile (an undetected window
#: beside an edit can hold marked frames: an attack weakened it, or H.264 carried the mark into
#: copied frames over a static background), and at least :data:`EDGE_LOW` of the way to the
#: marked level (the unmarked frames' own level drifts with the picture: a re-encode's copies
#: after an edit scored 5-14 where the rest scored -16)
NULL_Z = 3.0
#: the upper level: half way from the lower quartile to the marked frames' level (the run's 90th
#: percentile), and at least the lower level
NULL_SHARE = 0.5
#: with no undetected window beside the run (nothing to measure the unmarked frames by: a file
#: marked to its edges), these shares of the marked level over 0 (unmarked frames score about 0)
#: for the upper and the lower level; a marked stretch of flat content scores about a sixth of
#: textured content's
EDGE_SHARE, EDGE_LOW = 0.25, 0.1
#: fewest frames of undetected windows to measure the unmarked frames' scores by
NULL_FRAMES = 8
#: a stretch outside the run's detected windows counts from this many frames (one frame above the
#: level is noise)
MIN_FRAMES = 3


def frame_ranges(windows, frame_scores, n):
    """Synthesised [a, b) frame ranges of a file of ``n`` frames: the detected ``windows``
    (dicts with ``frames`` [a, b) and ``detected``), their frames placed by ``frame_scores``
    ({frame: (score, ...)}; see the module doc). Where a frame of the run has no score, the
    detected windows are the answer."""
    mark = np.zeros(n, bool)
    k = 0
    while k < len(windows):
        if not windows[k]["detected"]:
            k += 1
            continue
        e = k
        while e + 1 < len(windows) and windows[e + 1]["detected"]:
            e += 1
        run = windows[k:e + 1]
        a, b = int(run[0]["frames"][0]), int(run[-1]["frames"][1])
        lo = int(windows[k - 1]["frames"][0]) if k > 0 else 0
        hi = int(windows[e + 1]["frames"][1]) if e + 1 < len(windows) else n
        lo, hi = max(0, min(lo, a)), min(n, max(hi, b))
        null = [i for w in (windows[k - 1:k] if k > 0 else []) + windows[e + 1:e + 2] for i in range(*w["frames"])]
        got = _marked(frame_scores, lo, hi, [tuple(int(v) for v in w["frames"]) for w in run], null)
        if got is None:
            mark[a:b] = True
        else:
            mark[lo:hi] |= got
        for w in run:  # found by the second look (the payload's whole tile): its frames' scores are
            if "second_look" in w:  # at an alignment the sync test did not find, so it counts whole
                mark[w["frames"][0]:w["frames"][1]] = True
        k = e + 1
    out, i = [], 0
    while i < n:
        if mark[i]:
            j = i
            while j < n and mark[j]:
                j += 1
            out.append([i, j])
            i = j
        else:
            i += 1
    return out


def _levels(s_run, s_null):
    """(upper, lower) score levels of a run (see :data:`NULL_Z`, :data:`NULL_SHARE`, :data:`EDGE_SHARE`)."""
    top = float(np.percentile(s_run, 90))
    if len(s_null) >= NULL_FRAMES:
        m0 = float(np.percentile(s_null, 25))
        sd = 1.4826 * float(np.median(np.abs(np.diff(s_null)))) / np.sqrt(2.0)
        low = m0 + max(NULL_Z * sd, EDGE_LOW * (top - m0))
        return max(low, m0 + NULL_SHARE * (top - m0)), low
    return EDGE_SHARE * max(top, 0.0), EDGE_LOW * max(top, 0.0)


def _marked(frame_scores, lo, hi, run, null_frames):
    """(hi - lo,) bool: the synthesised frames of lo..hi around the detected windows ``run``
    ([(a, b)]) by hysteresis (the module doc); None where a frame has no score or none stands
    above the levels."""
    if not all(i in frame_scores for i in range(lo, hi)):
        return None
    s = np.array([float(frame_scores[i][0]) for i in range(lo, hi)])
    null = np.array([float(frame_scores[i][0]) for i in null_frames if i in frame_scores])
    inside = np.zeros(len(s), bool)
    for a, b in run:
        inside[a - lo:b - lo] = True
    upper, lower = _levels(s[inside], null)
    seed = s >= upper
    for a, b in run:  # a window detected on frames none of which reaches the upper level (flat content)
        w = slice(a - lo, b - lo)
        if not seed[w].any():
            seed[w] = s[w] >= lower
    grow = inside & (s >= lower)  # (grown only within the detected windows)
    mark = seed.copy()
    for i in range(1, len(s)):  # joined to a seed through frames above the lower level, both ways
        mark[i] |= mark[i - 1] and grow[i]
    for i in range(len(s) - 2, -1, -1):
        mark[i] |= mark[i + 1] and grow[i]
    # stretches that do not touch a detected window, or too short to be more than noise, go
    i = 0
    while i < len(s):
        if not mark[i]:
            i += 1
            continue
        j = i
        while j < len(s) and mark[j]:
            j += 1
        if not inside[i:j].any() or (j - i < MIN_FRAMES and not inside[i:j].all()):
            mark[i:j] = False
        i = j
    return mark if mark.any() else None
