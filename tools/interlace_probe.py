# SPDX-License-Identifier: GPL-3.0-or-later
"""What interlacing does to tracking: a shared clip's frames woven two by two into the two fields
of one frame (the top field from frame 2k, the bottom one from 2k + 1, as an interlaced camera
records a moving face), tracked, against its even frames tracked progressive (the figures in
docs/video-io.md, *Interlaced footage*, and the tracker's warning).

    python tools/interlace_probe.py [CLIP ...]   (default driving_d12 driving_d19)

Prints per clip and kind: the landmarks' and the expression curves' jitter (mean absolute second
difference; landmarks over the eye distance) and the head rotation between the two tracks.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:0] = [os.path.dirname(here)]
    from reenact.bench.reenact_measures import clip_path, iod, load_track, rot_angle_deg, rotations
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    names = (sys.argv[1:] if argv is None else argv) or ["driving_d12", "driving_d19"]
    work = tempfile.mkdtemp(prefix="interlace_")
    for name in names:
        with open_video(clip_path(name)) as s:
            fr = [s.read(i) for i in range(min(len(s), 240))]
            rate = s.rate
        prog = [fr[2 * k] for k in range(len(fr) // 2)]
        woven = []
        for k in range(len(fr) // 2):
            a = fr[2 * k].copy()
            a[1::2] = fr[2 * k + 1][1::2]
            woven.append(a)
        tracks = {}
        for tag, imgs in (("progressive", prog), ("woven", woven)):
            path = os.path.join(work, "{}_{}.mp4".format(name, tag))
            with VideoWriter(path, rate / 2, (imgs[0].shape[1], imgs[0].shape[0]), crf=14) as w:
                for f in imgs:
                    w.write(f)
            subprocess.run([sys.executable, "-m", "reenact", "track", path, "--out", path[:-4] + ".npz"], check=True,
                           capture_output=True, env=dict(os.environ, PYTHONPATH=os.path.dirname(here)))
            tracks[tag] = load_track(path[:-4] + ".npz")
        for tag, tr in tracks.items():
            L = np.asarray(tr.landmarks, float)[:, :468]
            d2 = np.linalg.norm(L[2:] - 2 * L[1:-1] + L[:-2], axis=2).mean(1) / np.nanmedian(iod(L))
            ex = np.asarray(tr.expression)
            print("{} {:<12} landmark jitter {:.4f}  expression jitter {:.4f}".format(
                name, tag, np.nanmedian(d2), np.abs(np.diff(ex, 2, axis=0)).mean()))
        d = rot_angle_deg(rotations(tracks["progressive"].pose), rotations(tracks["woven"].pose))
        print("{} head rotation woven vs progressive: median {:.2f}, p90 {:.2f} degrees".format(
            name, np.median(d), np.percentile(d, 90)))


if __name__ == "__main__":
    main()
