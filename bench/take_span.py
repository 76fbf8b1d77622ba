# SPDX-License-Identifier: GPL-3.0-or-later
"""A take of a shot cut from a longer clip (Blender's Render Performance into images): the
time and disk of a mouth dub of 40 frames of driving_d14 (536 frames), written with every frame
of the clip (``render_clip`` without ``keep``: what a take held before 2026-12-06, and what the
command line writes) and with the frames the shot shows only (``keep``: the others one
transparent file, linked, never decoded). Skips without ../shared/data.

    python -m reenact.bench.take_span [--clip PATH] [--shot 200:240]

Prints a table and writes bench/results/take_span.json (each run renders afresh: own caches)."""

import argparse
import json
import os
import shutil
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(HERE, "..", "..", "shared", "data", "clips", "driving_d14.mp4")


def disk(folder):
    """(files, bytes on disk counting each linked file once)."""
    seen = {}
    for name in os.listdir(folder):
        st = os.stat(os.path.join(folder, name))
        seen[st.st_ino] = st.st_size
    return len(os.listdir(folder)), sum(seen.values())


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reenact.bench.take_span")
    ap.add_argument("--clip", default=CLIP)
    ap.add_argument("--shot", default="200:240", help="clip frames A:B the shot shows")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.clip):
        print("take_span: skipped, {} not present".format(a.clip))
        return 0
    from reenact.bench.reenact_measures import brows_raised
    from reenact.render.pipeline import render_clip
    from reenact.tracking.tracker import track_video

    s0, s1 = (int(v) for v in a.shot.split(":"))
    track = track_video(a.clip)[0]
    perf = brows_raised(track)  # (every row of the shot drawn)
    rows, report = [], {"clip": os.path.basename(a.clip), "shot": [s0, s1], "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="reenact-take-span-") as work:
        for name, keep in (("every frame of the clip", None), ("the frames the shot shows", (s0, s1))):
            out = os.path.join(work, "take{}".format(len(rows)))
            t = time.perf_counter()
            s = render_clip(perf, a.clip, None, out=out, frames=(s0, s1), region="mouth", crop_track=track,
                            prefer_gpu=False, cache_dir=os.path.join(work, "cache{}".format(len(rows))), keep=keep)
            seconds = time.perf_counter() - t
            files, size = disk(out)
            rows.append({"take holds": name, "seconds": round(seconds, 1), "MB": round(size / 1e6, 1), "files": files,
                         "drawn": s["rendered"] + s["cached"] + s["warped"], "cleared": s.get("cleared", 0)})
            shutil.rmtree(out, ignore_errors=True)
    report["rows"] = rows
    print("| take holds | seconds | MB | files | drawn | transparent |\n|---|---|---|---|---|---|")
    for r in rows:
        print("| {take holds} | {seconds} | {MB} | {files} | {drawn} | {cleared} |".format(**r))
    path = os.path.join(HERE, "results", "take_span.json")
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
