# SPDX-License-Identifier: GPL-3.0-or-later
"""How straight a glasses rim is drawn over each eye of a render (issue 11, render/rims.py).

For each frame of a render (a folder of frame_NNNNNN.png or a movie), the rim over each eye is
looked for as render/rims.py looks for it in footage (a long thin line across the eye and beyond
its corners), the eyes placed by the requested Track. A rim drawn straight scores as the
footage's (d13: 4-12); one bent into a wave by a closing lid, or doubled, scores low (0 where no
line runs across). Prints the median and the lowest score per eye and the frames under 2.

    python tools/rim_scores.py RENDER --track REQUEST.npz --frames A:B [--json OUT]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def main(argv=None):
    from reenact.face.track import Track
    from reenact.render import rims as RM
    from reenact.render.head import posed_points
    from reenact.video import open_video

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("render", help="the render (frame folder or movie)")
    ap.add_argument("--track", required=True, help="the Track the render drew (its eyes place the rims)")
    ap.add_argument("--frames", required=True, help="A:B frames of the render")
    ap.add_argument("--json", help="write the per-frame scores here")
    a = ap.parse_args(argv)
    tr = Track.load(a.track)
    lo, hi = (int(v) for v in a.frames.split(":"))
    P = posed_points(tr, np.arange(lo, hi))[0]
    scores = []
    with open_video(a.render) as src:
        for i, (_, img) in enumerate(src.iter_frames(lo, hi)):
            scores.append([(lambda x: x.score if x is not None else 0.0)(RM.find_rim(img, lp))
                           for lp in RM.eye_loops(P[i])])
    if len(scores) < hi - lo:
        raise SystemExit("{}: has {} of frames {}:{} (a frame folder is read from its first file as frame 0)".format(
            a.render, len(scores), lo, hi))
    sc = np.asarray(scores)
    low = sorted({lo + int(i) for i in np.flatnonzero((sc < 2.0).any(1))})
    print("{}: rim score per eye, median {} lowest {}; frames with an eye under 2: {} of {} {}".format(
        a.render, np.round(np.median(sc, 0), 2).tolist(), np.round(sc.min(0), 2).tolist(), len(low), len(sc), low))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"frames": [lo, hi], "scores": sc.round(3).tolist(), "low_frames": low}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
