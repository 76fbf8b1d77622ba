# SPDX-License-Identifier: GPL-3.0-or-later
"""Does the tracked head nod when the actor blinks? Prints a table and writes
bench/results/head_lids.json.

    .venv/bin/python -m bench.head_lids [--clips driving_d14,driving_d3,...] [--out J]

The tracker moves the points round the eyes and brows when the lids move, further than the lids'
own shape explains; a head pose fitted to them nods with every blink, and an animator sees it in
the head's curves, a full transfer carries it onto another actor. Per shared clip this measures
the vertical distance between forehead and nose (points 151, 9, 10, 108, 337 against 1, 4, 5, 195),
regressed on a blink signal taken from the landmarks (mean lid gap over the eye-corner distance,
0 = open as the clip's 90th percentile, 1 = shut as its 2nd), both high-passed (less a 15-frame
running median), in mm of face per full blink:

- **picture**: the footage's own motion, DIS optical flow sampled at those points and summed over
  time: what the face really did (a real nod with a blink shows here too);
- **landmarks**: the tracker's points themselves;
- **fit, all points**: the head pose fitted to all 468 points (the fit until 2026-12-01), its
  rigid face (identity, no expression) projected;
- **fit**: the tracker's own fit, the eye and brow regions left out of the pose
  (``face.fit.POSE_EXCLUDE``).

The fit's rows should match the picture's; the distance between them is the nod the tracker adds.
Also per fit: the head's height (mm) and pitch (degrees) per full blink (these include real head
motion). Needs ../shared/data (``REENACT_BENCH_DATA``); says so and writes nothing without it.
"""

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
from scipy.ndimage import median_filter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results", "head_lids.json")
DATA = os.environ.get("REENACT_BENCH_DATA") or os.path.join(os.path.dirname(ROOT), "shared", "data")
CLIPS = ("driving_d14", "driving_d3", "driving_d13", "driving_d10", "driving_d11", "source_s29", "driving_d19")
FOREHEAD, NOSE = [151, 9, 10, 108, 337], [1, 4, 5, 195]
#: nose tip and cheekbones: at the same height, 3.5 cm apart in depth, so their vertical offset
#: changes with the head's pitch (~0.6 mm per degree) and hardly with its distance
TIP, CHEEKS = [1, 4], [50, 280, 205, 425]
PAIRS = {"forehead_nose": (FOREHEAD, NOSE), "tip_cheeks": (TIP, CHEEKS)}
LID_PAIRS = ((386, 374), (385, 380), (387, 373), (159, 145), (158, 153), (160, 144))
#: target: the fit's forehead-nose distance follows the picture's within this (mm per full blink)
TARGET_MM = 0.3


def _hp(x):
    return x - median_filter(x, 15, mode="nearest")


def _slope(b, x):
    return float(np.polyfit(b, _hp(x), 1)[0]), float(np.corrcoef(b, _hp(x))[0, 1])


def blink_signal(L):
    """0 (open: the clip's 90th percentile lid gap) .. 1 (shut: its 2nd) from 2-D landmarks."""
    gap = np.mean([np.linalg.norm(L[:, a, :2] - L[:, b, :2], axis=-1) for a, b in LID_PAIRS], 0)
    gap /= np.linalg.norm(L[:, 33, :2] - L[:, 263, :2], axis=-1)
    hi, lo = np.nanpercentile(gap, 90), np.nanpercentile(gap, 2)
    return (hi - gap) / max(hi - lo, 1e-9)


def picture_motion(path, L, groups):
    """(T, len(groups)) vertical motion (px, summed from frame 0) of each group of points, from
    DIS flow between consecutive frames sampled round the tracked points."""
    cap = cv2.VideoCapture(path)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    acc, prev, i = [np.zeros(len(groups))], None, 0
    try:
        while i < len(L):
            ok, frame = cap.read()
            if not ok:
                break
            g = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            if prev is not None:
                fl = dis.calc(prev, g, None)
                step = []
                for pts in groups:
                    v = [np.median(fl[max(int(y) - 4, 0):int(y) + 5, max(int(x) - 4, 0):int(x) + 5, 1])
                         for x, y in np.round(L[i - 1, pts, :2]) if np.isfinite(x)]
                    step.append(np.median(v) if v else 0.0)
                acc.append(acc[-1] + step)
            prev, i = g, i + 1
    finally:
        cap.release()
    out = np.full((len(L), len(groups)), np.nan)
    out[:len(acc)] = acc
    return out


def _fit_rows(track, pts):
    """(T, len(pts)) image y of the fitted rigid face (identity, the head pose, no expression)."""
    from reenact.face.camera import euler_to_matrix

    P = np.asarray(track.pose, np.float64)
    X = np.einsum("tij,nj->tni", euler_to_matrix(np.nan_to_num(P[:, :3])), track.identity[pts]) + P[:, None, 3:]
    return track.focal_px * X[..., 1] / X[..., 2] + track.principal[1]


def measure(clip, path):
    from reenact.face import fit as F
    from reenact.tracking.tracker import track_video

    t0 = time.perf_counter()
    tr = track_video(path)[0]
    L = np.dstack([np.asarray(tr.landmarks, np.float64), np.asarray(tr.landmarks_z, np.float64)[..., None]])
    # the tracker's own fit is the default one; the same landmarks refitted with every point
    fits = {"fit, all points": F.fit_track(L, tuple(int(v) for v in tr.size), float(tr.fps),
                                           focal_px=float(tr.focal_px), pose_exclude=()),
            "fit": tr}
    groups = [g for pair in PAIRS.values() for g in pair]
    flow = picture_motion(path, L, groups)
    b = blink_signal(L)
    ok = np.isfinite(b) & np.isfinite(flow).all(1) & np.asarray(tr.tracked, bool)
    for t in fits.values():
        ok &= np.isfinite(np.asarray(t.pose)).all(1)
    b = b[ok] - median_filter(b[ok], 15, mode="nearest")
    ident = fits["fit"].identity
    px_per_mm = np.nanmedian(np.linalg.norm(L[ok, 33, :2] - L[ok, 263, :2], axis=-1)) / (
        10 * np.linalg.norm(ident[33] - ident[263]))
    row = {"clip": clip, "frames": int(ok.sum())}
    for m, (top, bottom) in enumerate(PAIRS.values()):
        name = list(PAIRS)[m]
        series = {"picture": flow[ok, 2 * m] - flow[ok, 2 * m + 1],
                  "landmarks": L[ok][:, top, 1].mean(1) - L[ok][:, bottom, 1].mean(1)}
        for k, t in fits.items():
            y = _fit_rows(t, top + bottom)[ok]
            series[k] = y[:, :len(top)].mean(1) - y[:, len(top):].mean(1)
        mm, r = {}, {}
        for k, v in series.items():
            s_, r[k] = _slope(b, v)
            mm[k] = s_ / px_per_mm
        row[name] = {"mm_per_blink": mm, "r": r,
                     "excess_mm": {k: mm[k] - mm["picture"] for k in ("landmarks", "fit, all points", "fit")}}
    for name, t in fits.items():
        P = np.asarray(t.pose, np.float64)[ok]
        row.setdefault("head_height_mm_per_blink", {})[name] = -10 * _slope(b, P[:, 4])[0]  # camera y is down
        row.setdefault("head_distance_mm_per_blink", {})[name] = 10 * _slope(b, P[:, 5])[0]
        row.setdefault("pitch_deg_per_blink", {})[name] = float(np.degrees(_slope(b, P[:, 0])[0]))
    row["seconds"] = time.perf_counter() - t0
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description="does the tracked head nod with a blink")
    ap.add_argument("--clips", default=",".join(CLIPS))
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--out", default=RESULTS)
    args = ap.parse_args(argv)
    clips = [c for c in args.clips.split(",") if c]
    paths = [os.path.join(args.data, "clips", c + ".mp4") for c in clips]
    if not all(os.path.isfile(p) for p in paths):
        print("bench.head_lids: skipped, the shared clips are not in {}".format(args.data))
        return 0
    rows = []
    for clip, path in zip(clips, paths):
        rows.append(measure(clip, path))
        print("  {} done in {:.0f} s".format(clip, rows[-1]["seconds"]), flush=True)
    cols = ("picture", "landmarks", "fit, all points", "fit")
    summary = {}
    for name, what in (("forehead_nose", "forehead-nose distance (scale, height)"),
                       ("tip_cheeks", "nose tip over cheekbones (pitch)")):
        print("\n{} per full blink, mm (r): the fit should read what the picture does".format(what))
        print("{:<13}".format("clip") + "".join("{:>19}".format(c) for c in cols))
        for r in rows:
            mm, rr = r[name]["mm_per_blink"], r[name]["r"]
            print("{:<13}".format(r["clip"]) + "".join("{:>12.2f} ({:+.2f})".format(mm[c], rr[c]) for c in cols))
        summary[name] = {k: float(np.median([abs(r[name]["excess_mm"][k]) for r in rows]))
                         for k in ("landmarks", "fit, all points", "fit")}
        summary[name]["fit_worst"] = float(max(abs(r[name]["excess_mm"]["fit"]) for r in rows))
        summary[name]["fit_all_points_worst"] = float(max(abs(r[name]["excess_mm"]["fit, all points"]) for r in rows))
        print("|fit - picture| median (worst): all points {:.2f} ({:.2f}) mm, fit {:.2f} ({:.2f}) mm; landmarks {:.2f}"
              .format(summary[name]["fit, all points"], summary[name]["fit_all_points_worst"], summary[name]["fit"],
                      summary[name]["fit_worst"], summary[name]["landmarks"]))
    print("\nthe head per full blink (real motion included), all points / fit:")
    print("{:<13}{:>18}{:>18}{:>18}".format("clip", "height mm", "distance mm", "pitch deg"))
    for r in rows:
        cells = ("{:>9.2f} /{:>6.2f} ".format(r[k]["fit, all points"], r[k]["fit"]) for k in (
            "head_height_mm_per_blink", "head_distance_mm_per_blink", "pitch_deg_per_blink"))
        print("{:<13}".format(r["clip"]) + "".join(cells))
    met = all(summary[n]["fit"] <= TARGET_MM for n in PAIRS)
    result = {"benchmark": "head_lids", "clips": clips, "rows": rows, "summary": summary, "target_mm": TARGET_MM,
              "target": "median |fit - picture| <= target_mm for both measures", "met": met,
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=2)
    os.replace(tmp, args.out)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
