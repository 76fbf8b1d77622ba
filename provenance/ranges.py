# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthesised frame ranges from the watermark's one-second windows (:func:`.watermark.detect`)."""

import numpy as np


def frame_ranges(windows, frame_scores, n):
    """Synthesised frame ranges: detected windows merged; where a detected window borders an
    undetected one, the edge is placed by a CUSUM of per-frame scores at the detected alignment."""
    mark = np.zeros(n, bool)
    for w in windows:
        if w["detected"]:
            a, b = w["frames"]
            mark[a:b] = True
    # refine each edge between a detected and an undetected window
    for k in range(len(windows) - 1):
        w0, w1 = windows[k], windows[k + 1]
        if w0["detected"] == w1["detected"]:
            continue
        a, b = w0["frames"][0], w1["frames"][1]
        idx = list(range(a, b))
        if not all(i in frame_scores for i in idx):
            continue
        s = np.array([frame_scores[i][0] for i in idx])
        d, u = (w0, w1) if w0["detected"] else (w1, w0)
        mu = float(np.median([frame_scores[i][0] for i in range(*d["frames"])]))
        mu0 = float(np.median([frame_scores[i][0] for i in range(*u["frames"])]))
        if not mu > mu0:
            continue
        # two levels: the marked window's median and the unmarked one's (the static picture
        # correlates a little with the pattern too); the cut is where the sum crosses midway
        x = s - (mu + mu0) / 2.0
        if w0["detected"]:   # marked then unmarked: the cut maximises the sum before it
            c = np.concatenate([[0.0], np.cumsum(x)])
            cut = int(np.argmax(c))
            mark[a:a + cut] = True
            mark[a + cut:b] = False
        else:                # unmarked then marked: the cut maximises the sum after it
            c = np.concatenate([np.cumsum(x[::-1])[::-1], [0.0]])
            cut = int(np.argmax(c))
            mark[a:a + cut] = False
            mark[a + cut:b] = True
    out = []
    i = 0
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
