# SPDX-License-Identifier: GPL-3.0-or-later
"""Large footage: what a dub and a full reenactment cost on a 1080p and a 4K shot.

The shared clips are 480-512 px; artists' shots are HD or 4K, where every width that follows
the face (feathers, smoothing, the head's proxy) grows with it. A shared clip (driving_d19, the
first FRAMES frames) is scaled to the shot's height and pillarboxed into 16:9 (so the bars are
part of the test), tracked, and given a mouth dub from driving_d3 (`transfer --mode mouth`,
`render --region mouth --mouth shot`: the shot's own mouth, a compositor's default within the
footage's range), an animator's edit of its own performance (brows raised, `--region face`)
and a full reenactment from driving_d12 (`transfer --mode full`, `render --region head`; 8
frames at 1080p, 3 at 4K). Each render goes through the CLI as a user runs it; the head is rendered
twice, the second time with the room behind the actor read back from the cache (as a re-render or
the other chunks of a farm job do). Reported: seconds and CPU seconds per frame, the render's
own stage timings, the bars' largest change (the watermark over black; no picture drawn there),
each render's peak resident memory (its process's, ``ru_maxrss``; the head's first render, which
also makes the room behind the actor).

    python -m bench.large_footage [--work DIR] [--out JSON] [--sizes 1080p,4k]

Skips with one line without ../shared/data. About 5 minutes on 2 cores.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from .reenact_measures import PATHS, clip_path, cli, edited_performance, track_clip

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}
CLIP, DUB_DRIVER, HEAD_DRIVER = "driving_d19", "driving_d3", "driving_d12"
FRAMES = 40
DUB_FRAMES = {"1080p": 30, "4k": 12}
HEAD_FRAMES = {"1080p": 8, "4k": 3}
EDIT_FRAMES = {"1080p": 20, "4k": 12}


def scaled_clip(src_path, size, frames, out):
    """The first ``frames`` frames of ``src_path`` scaled to the height of ``size`` (W, H) and
    pillarboxed (black bars) into it, H.264 CRF 18 at 25 fps. Returns the picture's box."""
    import av
    import cv2

    from reenact.video import open_video

    W, H = size
    with open_video(src_path) as src:
        n = min(frames, len(src))
        first = src.read(0)
        w = int(round(first.shape[1] * H / first.shape[0])) // 2 * 2
        x0 = (W - w) // 2
        c = av.open(out, "w")
        st = c.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        st.options = {"crf": "18", "preset": "veryfast"}
        for i in range(n):
            canvas = np.zeros((H, W, 3), np.uint8)
            canvas[:, x0:x0 + w] = cv2.resize(src.read(i), (w, H), interpolation=cv2.INTER_CUBIC)
            for p in st.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
        c.close()
    return (x0, 0, x0 + w, H), n


def bars_change(result, footage, box, frames):
    """Largest change (levels) over the bars outside ``box`` of the rendered ``frames``."""
    from reenact.video import open_video

    x0, _y0, x1, _y1 = box
    worst = 0
    with open_video(result) as r, open_video(footage) as f:
        for i in frames:
            a, b = r.read(i).astype(np.int16), f.read(i).astype(np.int16)
            worst = max(worst, int(np.abs(a[:, :x0] - b[:, :x0]).max()), int(np.abs(a[:, x1:] - b[:, x1:]).max()))
    return worst


def per_frame(summary, wall, n):
    return {"seconds_per_frame": round(wall / n, 3),
            "cpu_seconds_per_frame": round(summary["bench_cpu_seconds"] / n, 3),
            "timings_ms": summary.get("timings_ms"), "frames": n,
            "peak_memory_mb": summary.get("bench_peak_memory_mb")}


def one(size_name, work, log, model):
    size = SIZES[size_name]
    d = os.path.join(work, size_name)
    os.makedirs(d, exist_ok=True)
    clip = os.path.join(d, "shot.mp4")
    box, n = scaled_clip(clip_path(CLIP), size, FRAMES, clip)
    res = {"size": list(size), "picture": list(box), "frames": n}
    t = time.perf_counter()
    shot = os.path.join(d, "shot.npz")
    s, wall = cli(["track", clip, "--out", shot], log)
    res["track"] = {"seconds_per_frame": round(wall / n, 3), "cpu_seconds_per_frame": round(s["bench_cpu_seconds"] / n, 3)}
    k = DUB_FRAMES[size_name]
    dub = os.path.join(d, "dub.npz")
    cli(["transfer", "--source", track_clip(DUB_DRIVER, work, log), "--target", shot, "--mode", "mouth",
         "--frames", "0:{}".format(k), "--out", dub], log)
    out = os.path.join(d, "dub.mp4")
    s, wall = cli(["render", dub, "--video", clip, "--model", model, "--out", out, "--frames", "0:{}".format(k),
                   "--region", "mouth", "--mouth", "shot", "--cpu", "--cache", os.path.join(d, "cache")], log)
    res["dub_shot_mouth"] = per_frame(s, wall, k)
    res["dub_shot_mouth"]["bars_max_change"] = bars_change(out, clip, box, range(0, k, 3))
    # an animator's edit (brows raised on every row; region face, the network's crop and the
    # frame's own detail), as Render Performance and Preview Frame draw it
    k = EDIT_FRAMES[size_name]
    out = os.path.join(d, "edit.mp4")
    s, wall = cli(["render", edited_performance(shot, os.path.join(d, "edit.npz")), "--video", clip, "--model", model,
                   "--out", out, "--frames", "0:{}".format(k), "--region", "face", "--cpu",
                   "--cache", os.path.join(d, "cache")], log)
    res["edit_face"] = per_frame(s, wall, k)
    res["edit_face"]["bars_max_change"] = bars_change(out, clip, box, range(0, k, 3))
    if size_name in HEAD_FRAMES:
        k = HEAD_FRAMES[size_name]
        full = os.path.join(d, "full.npz")
        cli(["transfer", "--source", track_clip(HEAD_DRIVER, work, log), "--target", shot, "--mode", "full",
             "--frames", "0:{}".format(n), "--out", full], log)
        for tag in ("head_first", "head_plate_cached"):
            out = os.path.join(d, tag + ".mp4")
            s, wall = cli(["render", full, "--video", clip, "--model", model, "--out", out, "--frames",
                           "{}:{}".format(n // 2, n // 2 + k), "--region", "head", "--cpu",
                           "--cache", os.path.join(d, "cache")], log)
            res[tag] = per_frame(s, wall, k)
        res["head_plate_cached"]["bars_max_change"] = bars_change(out, clip, box, range(n // 2, n // 2 + k, 3))
        res["room_behind_actor_seconds"] = round((res["head_first"]["seconds_per_frame"]
                                                  - res["head_plate_cached"]["seconds_per_frame"]) * k, 1)
    res["seconds"] = round(time.perf_counter() - t, 1)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.large_footage", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=None, help="keep clips, tracks and renders here (default: a temporary folder)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "large_footage.json"))
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--model", default="base256", help="renderer: a path or a bundled name (default: base256, the "
                                                       "default renderer)")
    a = ap.parse_args(argv)
    if not os.path.isdir(PATHS["clips"]):
        print("skipping the large-footage benchmark: {} not present".format(PATHS["clips"]))
        return 0
    work = a.work or tempfile.mkdtemp(prefix="reenact-large-")
    log, rep = [], {"clip": CLIP, "model": a.model, "load_average_start": list(os.getloadavg()), "sizes": {}}
    for name in [s for s in a.sizes.split(",") if s]:
        if name not in SIZES:
            print("unknown size {!r} (one of {})".format(name, ", ".join(SIZES)))
            return 2
        rep["sizes"][name] = one(name, work, log, a.model)
    rep["load_average_end"] = list(os.getloadavg())
    rep["commands"] = log
    print("Large footage ({} scaled and pillarboxed; renderer {}; 2 cores; seconds per frame, wall / CPU)".format(
        CLIP, a.model))
    print("{:<7} {:>14} {:>20} {:>20} {:>20} {:>8} {:>9} {:>24}".format(
        "size", "track", "dub (shot's mouth)", "edit (region face)", "head (room cached)", "room s", "bars max",
        "peak GB dub/edit/head"))
    for name, r in rep["sizes"].items():
        def f(key):
            v = r.get(key)
            return "{:.2f} / {:.2f}".format(v["seconds_per_frame"], v["cpu_seconds_per_frame"]) if v else "-"
        bars = max(r[k]["bars_max_change"] for k in ("dub_shot_mouth", "edit_face", "head_plate_cached") if k in r)
        peak = "/".join("{:.1f}".format(r[k]["peak_memory_mb"] / 1024.0) if r.get(k, {}).get("peak_memory_mb")
                        else "-" for k in ("dub_shot_mouth", "edit_face", "head_first"))
        print("{:<7} {:>14} {:>20} {:>20} {:>20} {:>8} {:>9} {:>24}".format(
            name, f("track"), f("dub_shot_mouth"), f("edit_face"), f("head_plate_cached"),
            r.get("room_behind_actor_seconds", "-"), bars, peak))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump(rep, fh, indent=1)
    print("wrote {}".format(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
