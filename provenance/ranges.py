# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthesised frame ranges from the watermark's one-second windows (:func:`.watermark.detect`).

A window is detected on the evidence of all its frames, so a dub of ten frames makes its whole
second "detected"; the frames themselves are then placed by their own scores (each frame's
correlation with the pattern at the detected alignment, ``frame_scores``). Per run of detected
windows, over the run and one window either side (cut to the file), the stretch of frames whose
scores stand above the level of unmarked frames is the range: the segment of greatest summed
excess over a level :func:`_level` sets between the unmarked frames' scores (the undetected
windows beside the run) and the marked ones'; a window found by the second look
(:mod:`.second_look`) counts whole (its frames' scores are at no alignment the sync test found).
Before 2026-12-06 only an edge between a detected
and an undetected window was placed, and only where the detected window's median was a marked
frame's: a ten-frame dub read as the whole second around it, and an edit at the start or end of a
file as reaching the file's edge."""

import numpy as np

#: a frame is marked where its score stands this many spreads of the unmarked frames' scores
#: (from their frame-to-frame differences, robust to a level that drifts) above their lower
#: quartile (an undetected window beside an edit can hold marked frames: an attack weakened it,
#: or H.264 carried the mark into copied frames over a static background) ...
NULL_Z = 3.0
#: ... and half way from there to the marked frames' level (the run's 90th percentile)
NULL_SHARE = 0.5
#: with no undetected window beside the run (nothing to measure the unmarked frames by: a file
#: marked to its edges) this share of the marked level over 0 (unmarked frames score about 0): a
#: weakly marked stretch (flat content, a codec's loss) keeps its frames
EDGE_SHARE = 0.25
#: fewest frames of undetected windows to measure the unmarked frames' scores by
NULL_FRAMES = 8


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
        a, b = int(windows[k]["frames"][0]), int(windows[e]["frames"][1])
        lo = int(windows[k - 1]["frames"][0]) if k > 0 else 0
        hi = int(windows[e + 1]["frames"][1]) if e + 1 < len(windows) else n
        lo, hi = max(0, min(lo, a)), min(n, max(hi, b))
        segs = _segments(frame_scores, lo, hi, a, b,
                         [i for w in (windows[k - 1:k] if k > 0 else []) + windows[e + 1:e + 2]
                          for i in range(*w["frames"])])
        for s0, e0 in segs or [(a, b)]:
            mark[s0:e0] = True
        for w in windows[k:e + 1]:  # found by the second look (the payload's whole tile): its frames'
            if "second_look" in w:  # scores are at an alignment the sync test did not find, so it counts whole
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


def _level(s_run, s_null):
    """The score above which a frame counts as marked (see :data:`NULL_Z`, :data:`NULL_SHARE`,
    :data:`EDGE_SHARE`)."""
    top = float(np.percentile(s_run, 90))
    if len(s_null) >= NULL_FRAMES:
        m0 = float(np.percentile(s_null, 25))
        sd = 1.4826 * float(np.median(np.abs(np.diff(s_null)))) / np.sqrt(2.0)
        return m0 + max(NULL_Z * sd, NULL_SHARE * (top - m0))
    return EDGE_SHARE * max(top, 0.0)


def _segments(frame_scores, lo, hi, a, b, null_frames):
    """[[s, e), ...]: the stretches of frames lo..hi whose summed scores above :func:`_level` are
    largest (Kadane's maximum subarray, then again on either side of it: two edits within one
    run), where they meet the detected run [a, b) (after the first, of at least
    :data:`MIN_FRAMES`); None where a frame has no score or nothing stands above the level."""
    if not all(i in frame_scores for i in range(lo, hi)):
        return None
    s = np.array([float(frame_scores[i][0]) for i in range(lo, hi)])
    null = np.array([float(frame_scores[i][0]) for i in null_frames if i in frame_scores])
    x = s - _level(s[a - lo:b - lo], null)
    found, todo = [], [(0, len(x))]
    while todo:
        p, q = todo.pop()
        got = _largest(x[p:q])
        if got is None:
            continue
        s0, e0 = lo + p + got[0], lo + p + got[1]
        if not (s0 < b and e0 > a) or (found and e0 - s0 < MIN_FRAMES):
            continue
        found.append((s0, e0))
        todo += [(p, p + got[0]), (p + got[1], q)]
    return sorted(found) or None


#: a second stretch of a run counts from this many frames (a lone frame above the level is noise)
MIN_FRAMES = 3


def _largest(x):
    """(i, j): the slice of ``x`` of largest positive sum, or None."""
    best, where, run, start = 0.0, None, 0.0, 0
    for i, v in enumerate(x):
        if run <= 0.0:
            run, start = 0.0, i
        run += v
        if run > best:
            best, where = run, (start, i + 1)
    return where
