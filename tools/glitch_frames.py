# SPDX-License-Identifier: GPL-3.0-or-later
"""Find one-frame glitches in a render (issue 11): frames that differ from both neighbours where
the neighbours agree with each other.

A region-head render that drew one frame's collar from the wrong place, or a second collar
where its source changed, passes every figure of ``bench.reenact`` (they read the face and its
moves) and shows as a jump for one frame. Per frame ``t`` and pixel: the smaller of the changes
from ``t - 1`` and to ``t + 1``, less half the change from ``t - 1`` to ``t + 1`` (motion that
carries on counts little), in levels; a frame's score is the share of pixels over ``--levels``
within ``--rows`` (a fraction range of the frame's height, default the lower third, where the
body is), and the same for the footage beside it. Prints the frames with the highest scores and
writes a sheet of (t - 1 | t | t + 1 | the deviation) crops around each, so they can be looked at::

    python tools/glitch_frames.py RENDER_DIR_OR_MOVIE --footage CLIP.mp4 [--frames A:B]
        [--rows 0.65:1] [--top 6] [--sheet glitches.png]

Found with it (2026-12-03): d12 -> d20 frame 44's second collar where the head's source changed
and frame 47's body 15 px too high (a lost body offset); docs/reenact-bench.md. Request-driven
motion (a driver who turns fast) scores too: look at the sheet before calling a frame a glitch.
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _span(text, n):
    a, b = (text.split(":") + [""])[:2]
    return max(0, int(a or 0)), min(n, int(b) if b else n)


def deviation(prev, cur, nxt):
    """(H, W) float32: per pixel, how much ``cur`` differs from both neighbours beyond half the
    change between them (levels, the largest over the channels)."""
    p, c, n = (np.asarray(x, np.float32) for x in (prev, cur, nxt))
    a = np.minimum(np.abs(c - p), np.abs(c - n)).max(-1)
    return np.maximum(a - 0.5 * np.abs(n - p).max(-1), 0.0)


def main(argv=None):
    sys.path[:0] = [os.path.dirname(ROOT)]
    import cv2

    from reenact.video import open_video

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("render", help="the rendered movie or frame folder")
    ap.add_argument("--footage", required=True, help="the footage it was rendered over")
    ap.add_argument("--frames", default="", help="A:B (default: every frame)")
    ap.add_argument("--rows", default="0.65:1", help="the part of the frame's height scored, as fractions")
    ap.add_argument("--levels", type=float, default=20.0)
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--sheet", default=None, help="write crops of the top frames here (PNG)")
    a = ap.parse_args(argv)
    lo, hi = (float(v) for v in a.rows.split(":"))
    rows = []  # (render's score, footage's, frame), three frames of each held at a time
    with open_video(a.render) as res, open_video(a.footage) as foot:
        n = min(len(res), len(foot))
        f0, f1 = _span(a.frames, n)
        both = zip(res.iter_frames(f0, f1), foot.iter_frames(f0, f1))
        win = []
        for (t, r), (_, f) in both:
            win = (win + [(r, f)])[-3:]
            if len(win) < 3:
                continue
            (rp, fp), (rc, fc), (rn, fn) = win
            H = rc.shape[0]
            y0, y1 = int(lo * H), int(hi * H)
            d = deviation(rp, rc, rn)[y0:y1]
            e = deviation(fp, fc, fn)[y0:y1]
            rows.append((float((d > a.levels).mean() * 100), float((e > a.levels).mean() * 100), t - 1))
        if not rows:
            print("{}: fewer than three frames in {}:{}".format(a.render, f0, f1))
            return 2
        top = sorted(rows, reverse=True)[:a.top]
        # the sheet's frames read again (only those)
        R = {k: res.read(k) for _s, _fs, t in top for k in (t - 1, t, t + 1)} if a.sheet else {}
    scores = np.array([r[0] for r in rows])
    print("render {}: mean {:.2f} % of the pixels, footage {:.2f} %".format(
        a.render, scores.mean(), np.mean([r[1] for r in rows])))
    for s, fs, t in top:
        print("  frame {:5d}: {:6.2f} % (footage {:.2f} %)".format(t, s, fs))
    if a.sheet:
        strips = []
        for _s, _fs, t in top:
            d = deviation(R[t - 1], R[t], R[t + 1])
            d[:y0], d[y1:] = 0, 0
            y, x = np.unravel_index(int(cv2.blur(d, (31, 31)).argmax()), d.shape)
            Hh, W = d.shape
            c = 80
            ya, xa = min(max(0, y - c), max(0, Hh - 2 * c)), min(max(0, x - c), max(0, W - 2 * c))
            sl = (slice(ya, ya + 2 * c), slice(xa, xa + 2 * c))
            heat = cv2.applyColorMap(np.clip(d[sl] * 3, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
            strips.append(np.concatenate([cv2.cvtColor(R[k][sl], cv2.COLOR_RGB2BGR) for k in (t - 1, t, t + 1)]
                                         + [heat], 1))
        w = max(s.shape[1] for s in strips)
        sheet = np.concatenate([np.pad(s, ((0, 0), (0, w - s.shape[1]), (0, 0))) for s in strips], 0)
        cv2.imwrite(a.sheet, sheet)
        print("wrote {}".format(a.sheet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
