# SPDX-License-Identifier: GPL-3.0-or-later
"""Check (issues 11, 13): ``bench.reenact`` on footage the size artists shoot. The shared clips are
480-512 px; this writes the named clips scaled up so their longer side is ``--side`` px (bicubic,
H.264 CRF 14, audio kept), points the bench at them in place of the originals (the drivers stay
as they are) and runs it with the arguments after ``--``.

    python tools/scaled_clips.py --side 1920 --clips source_s20,driving_d14 --work DIR -- \\
        --cases 1,2 --pair driving_d18:source_s20 --head-pair driving_d12:driving_d14 --no-images

The render and re-track of those two cases take ~15 minutes on 2 cores at 1920 px; the bench's
flicker measures then run DIS flow at that size for over an hour. ``--read`` instead prints case 1's
lip gap and jawOpen and case 2's rotation error from what a run wrote in ``DIR`` (the same windows
the bench picks), without its other measures.
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(work, pair, head_pair, length=90):
    import numpy as np

    from reenact.bench.reenact import jaw, load_track
    from reenact.bench.reenact_measures import fit_line, lip_gap, pick_window, rot_angle_deg, rotations

    drv, tgt = pair.split(":")
    T, D = (load_track(os.path.join(work, "tracks", n + ".npz")) for n in (tgt, drv))
    dg = lip_gap(D.landmarks)
    a, b = pick_window(T, D, length, lambda rows: float(np.nanstd(dg[rows])))
    d = os.path.join(work, "mouth_{}_to_{}_zero_shot".format(drv, tgt))
    req, got = (load_track(os.path.join(d, n)) for n in ("request.npz", "result.npz"))
    rows = np.arange(a, b)
    print("case 1 {} -> {} ({} x {}), frames {}:{}: lip gap {}, jawOpen {}".format(
        drv, tgt, *T.size, a, b, fit_line(lip_gap(req.project())[rows], lip_gap(got.landmarks)[rows]),
        fit_line(jaw(req)[rows], jaw(got)[rows])))
    drv, tgt = head_pair.split(":")
    T, D = (load_track(os.path.join(work, "tracks", n + ".npz")) for n in (tgt, drv))
    Rd = rotations(D.pose)
    ok = np.asarray(D.tracked, bool)
    turn = rot_angle_deg(Rd, Rd[ok][len(Rd[ok]) // 2][None])
    a, b = pick_window(T, D, length, lambda rows: float(np.nanmax(turn[rows]) - np.nanmin(turn[rows])))
    d = os.path.join(work, "full_{}_to_{}".format(drv, tgt))
    req, got = (load_track(os.path.join(d, n)) for n in ("request.npz", "result.npz"))
    rows = np.arange(a, b)
    err = rot_angle_deg(rotations(req.pose)[rows], rotations(got.pose)[rows])
    print("case 2 {} -> {} ({} x {}), frames {}:{}: rotation error median {:.2f}°, p90 {:.2f}°".format(
        drv, tgt, *T.size, a, b, float(np.nanmedian(err)), float(np.nanpercentile(err, 90))))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    rest = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=1920)
    ap.add_argument("--clips", required=True, help="clip names to scale up (comma-separated)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--read", action="store_true", help="only read a finished or stopped run's cases 1 and 2")
    ap.add_argument("--pair", default="driving_d18:source_s20")
    ap.add_argument("--head-pair", default="driving_d12:driving_d14")
    a = ap.parse_args(argv)
    sys.path[:0] = [os.path.dirname(ROOT)]
    if a.read:
        read(a.work, a.pair, a.head_pair)
        return 0
    import reenact.bench.reenact as BR
    import reenact.bench.reenact_measures as RM
    from reenact.bench.scaled import scaled_clip

    os.makedirs(a.work, exist_ok=True)
    original = RM.clip_path
    big = {}
    for name in (n for n in a.clips.split(",") if n):
        dest = os.path.join(a.work, "{}_{}.mp4".format(name, a.side))
        if not os.path.isfile(dest):
            scaled_clip(original(name), dest, a.side)
        big[name] = dest

    def clip_path(name):
        return big.get(name) or original(name)

    BR.clip_path = RM.clip_path = clip_path  # (both look clips up by name)
    return BR.main(rest + ["--work", a.work])


if __name__ == "__main__":
    sys.exit(main())
