# SPDX-License-Identifier: GPL-3.0-or-later
"""Is the payload read after a 50 % downscale + CRF 28 whatever the job id? (issue 13;
docs/provenance.md, *The payload after a downscale, over many job ids*). Prints a table and
writes ``bench/results/watermark_payload.json``.

    .venv/bin/python -m bench.watermark_payload [--clips driving_d14,driving_d11] [--ids 12]
                                                [--seconds 4,1] [--paths 1,64,64+256]

bench.watermark marks each clip with one job id; the mark's data cells change with the job id,
and so does what a close-up's downscaled copy leaves of them. Here every clip (the close-ups by
default: their faces fill the frame, the hardest case after the downscale) is marked with
``--ids`` job ids drawn from a fixed seed, as ``mark_frame`` marks a render (format 2, the whole
frame), its first ``--seconds`` seconds (each length its own excerpt) downscaled by half and
encoded with H.264 CRF 28 (bench.watermark's attack), and read with ``detect``. Per decoder
(``--paths``: the paths the payload's list Viterbi decoder keeps, ``provenance.watermark.
LIST_PATHS``; 1 = the plain Viterbi decoder used before 2026-12-01 23:55 UTC; "64+256": 64, and
256 for a file 64 do not read, the default since 2026-12-02) the share of
one-second windows detected with the file's right payload, the files whose payload is read,
and the lowest window score (the detection, which the decoder does not change).
"""

import argparse
import os
import random
import sys
import tempfile
import time

from .watermark import SHARED_CLIPS, encode, read

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "watermark_payload.json")


def job_ids(n, seed=5):
    r = random.Random(seed)
    return [r.getrandbits(40) for _ in range(n)]


def attacked(frames, fps, job, mp4):
    """``frames`` marked with job id ``job``, downscaled by half, H.264 CRF 28, decoded."""
    import cv2

    from reenact.provenance import watermark as wm

    pl = wm.make_payload(job)
    small = [cv2.resize(m, (m.shape[1] // 2, m.shape[0] // 2), interpolation=cv2.INTER_AREA)
             for m in (wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) for i, f in enumerate(frames))]
    return encode(small, fps, mp4, 28)


def read_back(frames, fps, job, paths):
    """(windows with the right payload, windows, file payload right, lowest window score)."""
    from reenact.provenance import watermark as wm

    old = wm.LIST_PATHS, wm.LIST_PATHS_FALLBACK
    first, _, again = str(paths).partition("+")  # "64+256": 64 paths, then 256 for the file
    wm.LIST_PATHS, wm.LIST_PATHS_FALLBACK = int(first), int(again or first)
    try:
        d = wm.detect(frames, fps)
    finally:
        wm.LIST_PATHS, wm.LIST_PATHS_FALLBACK = old
    right = d["payload"] is not None and d["payload"]["job_id"] == "{:010x}".format(job)
    wins = d["windows"]
    good = sum(bool(w.get("payload_match")) for w in wins) if right else 0
    return good, len(wins), right, min(w["score"] for w in wins)


def main(argv=None):
    from .reenact_measures import write_report

    ap = argparse.ArgumentParser(prog="python -m bench.watermark_payload")
    ap.add_argument("--clips", default="driving_d14,driving_d11")
    ap.add_argument("--ids", type=int, default=12, help="job ids per clip (fixed seed)")
    ap.add_argument("--seconds", default="4,1", help="excerpt lengths (s), each read on its own")
    ap.add_argument("--paths", default="1,64,64+256",
                    help="list decoder sizes to compare (1: plain Viterbi; 64+256: 256 for a file 64 do not read)")
    ap.add_argument("--out", default=RESULTS)
    a = ap.parse_args(argv)
    if not os.path.isdir(SHARED_CLIPS):
        print("skipping the watermark payload benchmark: {} not present".format(SHARED_CLIPS))
        return 0
    t0 = time.perf_counter()
    ids = job_ids(a.ids)
    paths = a.paths.split(",")
    lengths = [float(s) for s in a.seconds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = os.path.join(tmp, "a.mp4")
        for name in a.clips.split(","):
            frames, fps = read(os.path.join(SHARED_CLIPS, name + ".mp4"))
            for sec in lengths:
                n = int(round(sec * fps))
                row = {"clip": name, "seconds": sec, "decoders": {p: {"windows_right": 0, "windows": 0, "files_right": 0,
                                                                        "files": 0} for p in paths},
                       "lowest_score": None}
                for job in ids:
                    x = attacked(frames[:n], fps, job, mp4)
                    for p in paths:
                        good, nwin, right, low = read_back(x, fps, job, p)
                        r = row["decoders"][p]
                        r["windows_right"] += good
                        r["windows"] += nwin
                        r["files_right"] += int(right)
                        r["files"] += 1
                        row["lowest_score"] = low if row["lowest_score"] is None else min(row["lowest_score"], low)
                rows.append(row)
                print("{:12s} {:>4.1f} s  lowest score {:5.2f}  ".format(name, sec, row["lowest_score"]) + "  ".join(
                    "paths {:>6s}: windows {:>3d}/{:<3d} files {:>2d}/{:<2d}".format(
                        p, r["windows_right"], r["windows"], r["files_right"], r["files"])
                    for p, r in row["decoders"].items()), flush=True)
    rep = {"command": "python -m bench.watermark_payload " + " ".join(argv or sys.argv[1:]),
           "attack": "50 % downscale (INTER_AREA) + H.264 CRF 28 (veryfast)", "job_ids": ["{:010x}".format(j) for j in ids],
           "threshold_scale1": 4.89, "rows": [dict(r, decoders={str(k): v for k, v in r["decoders"].items()}) for r in rows],
           "seconds": round(time.perf_counter() - t0, 1)}
    write_report(a.out, rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
