# SPDX-License-Identifier: GPL-3.0-or-later
"""How much a non-square pixel aspect (anamorphic footage tracked as stored) moves what the tracker
reads: the first frames of a shared clip squeezed horizontally by each pixel aspect (stored at
1/aspect of their width, as DV, DVD or HDV store them), tracked, and compared with the same frames
tracked square; a square copy made back from the 4:3 squeeze shows what the squeeze alone costs
(the figures in docs/video-io.md, *Timecode and pixel aspect*, and the tracker's warning).

    python tools/squeeze_probe.py [--clip driving_d3] [--frames 150] [--work DIR]

Prints per aspect: head rotation off the square track (median, p90, degrees) and the correlation
of the expression channels that move (least alike, median). About a minute on 2 cores.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import cv2
import numpy as np


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:0] = [os.path.dirname(here)]
    from reenact.bench.reenact_measures import clip_path, load_track, rot_angle_deg, rotations
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", default="driving_d3")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--work", default=None)
    args = ap.parse_args(argv)
    work = args.work or tempfile.mkdtemp(prefix="squeeze_")
    with open_video(clip_path(args.clip)) as src:
        frames = [src.read(i) for i in range(min(args.frames, len(src)))]
        rate = src.rate
    h, w = frames[0].shape[:2]

    def track(name, imgs):
        path = os.path.join(work, name + ".mp4")
        with VideoWriter(path, rate, (imgs[0].shape[1], imgs[0].shape[0]), crf=14) as wr:
            for f in imgs:
                wr.write(f)
        out = os.path.join(work, name + ".npz")
        subprocess.run([sys.executable, "-m", "reenact", "track", path, "--out", out], check=True,
                       capture_output=True, env=dict(os.environ, PYTHONPATH=os.path.dirname(here)))
        return load_track(out)

    square = track("square", frames)

    def compare(label, tr):
        d = rot_angle_deg(rotations(square.pose), rotations(tr.pose))
        ea, eb = np.asarray(square.expression), np.asarray(tr.expression)
        cs = [np.corrcoef(ea[:, i], eb[:, i])[0, 1] for i in range(ea.shape[1]) if ea[:, i].std() > 0.02]
        print("{:<28} head {:.2f} deg median, {:.2f} p90; expression r least {:.2f}, median {:.2f}".format(
            label, np.median(d), np.percentile(d, 90), np.min(cs), np.median(cs)))

    squeezed43 = None
    for sar in (Fraction(128, 117), Fraction(32, 27), Fraction(4, 3)):
        sw = 2 * int(round(w / sar / 2))
        imgs = [cv2.resize(f, (sw, h), interpolation=cv2.INTER_AREA) for f in frames]
        compare("pixel aspect {}:{} ({}x{})".format(sar.numerator, sar.denominator, sw, h),
                track("sar_{}_{}".format(sar.numerator, sar.denominator), imgs))
        squeezed43 = imgs
    back = [cv2.resize(f, (w, h), interpolation=cv2.INTER_LANCZOS4) for f in squeezed43]
    compare("4:3 made square again", track("square_again", back))
    print("work folder:", work)


if __name__ == "__main__":
    main()
