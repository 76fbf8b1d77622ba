# SPDX-License-Identifier: GPL-3.0-or-later
"""Tracking benchmark: throughput with and without decode, at the clip's size and at 512x512,
time per stage, fit error, and MediaPipe FaceMesh (refine_landmarks) measured in the same run
as the reference. Prints a table and writes bench/results/track.json.

    .venv/bin/python -m bench.track [--clip PATH] [--repeat N] [--landmark-model mesh+iris]

Target (issue 3), 2 CPU cores: >= 200 frames/s at 512x512 for detection + landmarks + fit,
the fit adding <= 20 % to the tracker's time.

Memory (issue 14): peak RSS of ``track_video`` (decode, landmarks, smoothing, fit: everything
``reenact track`` does but writing the file) on the clip looped to 500 and 5 000 frames, each in
a fresh process (``resource.getrusage`` ``ru_maxrss``); ``--memory-frames`` sets the lengths,
``--no-memory`` skips it. Target: flat, i.e. what a frame adds is bounded by the Track's own
per-frame data (its landmarks: 478 x 3 float32 = 5.6 KB/frame) — at most 12 KB/frame.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _decode(path):
    from reenact.video import open_video

    t0 = time.perf_counter()
    with open_video(path) as src:
        frames = [f for _, f in src.iter_frames()]
        fps = float(src.fps)
    return frames, fps, time.perf_counter() - t0


def _ours(frames, fps, repeat, landmark_model="attention"):
    from reenact.face.fit import fit_track
    from reenact.tracking.facemesh import STAGES, FaceMesh
    from reenact.tracking.smoothing import smooth_landmarks

    fm = FaceMesh(max_faces=1, profile=True, landmark_model=landmark_model)
    # warm-up (session initialisation, allocator)
    prev = None
    for f in frames[:10]:
        prev = fm.process(f, previous=prev)
    best = None
    for _ in range(repeat):
        fm.reset_timings()
        lms = np.full((len(frames), 478, 3), np.nan, np.float32)
        pres = np.zeros(len(frames), np.float32)
        t0 = time.perf_counter()
        for i, res in enumerate(fm.track(frames)):  # the pipelined video path `reenact track` uses
            if len(res):
                lms[i], pres[i] = res.landmarks[0], res.presence[0]
        t_mesh = time.perf_counter() - t0
        t1 = time.perf_counter()
        iod = np.linalg.norm(lms[:, 33, :2] - lms[:, 263, :2], axis=1)
        sm = smooth_landmarks(lms, fps, scale=iod, out=np.empty_like(lms))  # float32, as the tracker
        t_smooth = time.perf_counter() - t1
        t2 = time.perf_counter()
        h, w = frames[0].shape[:2]
        tr = fit_track(sm, size=(w, h), fps=fps, presence=pres)
        t_fit = time.perf_counter() - t2
        run = dict(mesh_s=t_mesh, smooth_s=t_smooth, fit_s=t_fit,
                   stages_ms={k: 1000 * fm.timings[k] / len(frames) for k in STAGES}, track=tr)
        if best is None or t_mesh + t_fit < best["mesh_s"] + best["fit_s"]:
            best = run
    tr = best.pop("track")
    proj = tr.project()
    err = np.linalg.norm(proj - tr.landmarks[:, :468], axis=-1)
    iod = np.linalg.norm(tr.landmarks[:, 33] - tr.landmarks[:, 263], axis=-1)
    rel = np.nanmedian(err, axis=1) / iod
    best["fit_error_pct_iod"] = float(100 * np.nanmedian(rel[tr.tracked]))
    best["tracked_fraction"] = float(tr.tracked.mean())
    best["provider"] = fm.provider
    best["landmarks"] = lms
    return best


def _mediapipe(frames, refine=True):
    try:
        import mediapipe as mp
    except ImportError:
        return None
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, refine_landmarks=refine,
                                         max_num_faces=1) as fmp:
        for f in frames[:10]:
            fmp.process(f)
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, refine_landmarks=refine,
                                         max_num_faces=1) as fmp:
        h, w = frames[0].shape[:2]
        out = np.full((len(frames), 478 if refine else 468, 2), np.nan)
        t0 = time.perf_counter()
        for i, f in enumerate(frames):
            r = fmp.process(f)
            if r.multi_face_landmarks:
                lm = r.multi_face_landmarks[0].landmark
                out[i] = [(p.x * w, p.y * h) for p in lm]
        t = time.perf_counter() - t0
    return dict(seconds=t, landmarks=out)


def bench_size(label, frames, fps, decode_s, repeat, landmark_model="attention"):
    n = len(frames)
    ours = _ours(frames, fps, repeat, landmark_model)
    track_s = ours["mesh_s"] + ours["smooth_s"] + ours["fit_s"]
    row = {
        "size": label,
        "frames": n,
        "decode_fps": n / decode_s if decode_s else None,
        "track_fps": n / track_s,  # detection + landmarks + smoothing + fit, decode excluded
        "track_with_decode_fps": n / (track_s + decode_s) if decode_s else None,
        "facemesh_fps": n / ours["mesh_s"],
        "fit_ms_per_frame": 1000 * ours["fit_s"] / n,
        "fit_share_of_tracker": ours["fit_s"] / ours["mesh_s"],
        "stages_ms": ours["stages_ms"],
        "fit_error_pct_iod": ours["fit_error_pct_iod"],
        "tracked_fraction": ours["tracked_fraction"],
        "provider": ours["provider"],
    }
    mp = _mediapipe(frames)
    if mp is not None:
        row["mediapipe_fps"] = n / mp["seconds"]
        a, b = ours["landmarks"][:, :, :2], mp["landmarks"]
        iod = np.linalg.norm(b[:, 468] - b[:, 473], axis=1)
        d = np.nanmean(np.linalg.norm(a - b, axis=-1), axis=1) / iod
        row["parity_median_pct_iod"] = float(100 * np.nanmedian(d))
        mp0 = _mediapipe(frames, refine=False)
        d0 = np.nanmean(np.linalg.norm(a[:, :468] - mp0["landmarks"], axis=-1), axis=1) / iod
        row["parity_468_vs_norefine_pct_iod"] = float(100 * np.nanmedian(d0))
    return row


#: what one more frame may add to tracking's peak memory (KB): the Track's landmarks (5.6 KB) and
#: its small per-frame fields, with room for the fit's per-frame arrays; the whole-clip fit added ~88
MEMORY_TARGET_KB_PER_FRAME = 12.0


def _looped_clip(frames, fps, n, path):
    """Write ``frames`` looped to ``n`` frames as an H.264 movie (the project's writer)."""
    from reenact.video.encode import VideoWriter

    h, w = frames[0].shape[:2]
    with VideoWriter(path, fps, (w, h), preset="ultrafast") as out:
        for i in range(n):
            out.write(frames[i % len(frames)])
    return path


def _memory_child(path):
    """Track ``path`` as `reenact track` does; print frames, seconds and the peak RSS as JSON."""
    import resource

    from reenact.tracking.tracker import track_video

    t0 = time.perf_counter()
    tracks = track_video(path)
    print(json.dumps({"frames": int(tracks[0].n_frames), "seconds": time.perf_counter() - t0,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


def bench_memory(frames, fps, lengths):
    """Peak RSS of tracking the clip looped to each length, each in a fresh process."""
    module = __spec__.name if __spec__ is not None else __name__
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    tmp = tempfile.mkdtemp(prefix="reenact-bench-memory-")
    rows = []
    try:
        for n in lengths:
            clip = _looped_clip(frames, fps, n, os.path.join(tmp, "looped_{}.mp4".format(n)))
            out = subprocess.run([sys.executable, "-m", module, "--memory-child", clip], env=env,
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            os.remove(clip)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    first, last = rows[0], rows[-1]
    span = last["frames"] - first["frames"]
    growth = 1024.0 * (last["peak_rss_mb"] - first["peak_rss_mb"]) / span if span else 0.0
    return {
        "rows": rows,
        "growth_kb_per_frame": growth,
        "ratio": last["peak_rss_mb"] / first["peak_rss_mb"],
        "target_kb_per_frame": MEMORY_TARGET_KB_PER_FRAME,
        "meets_target": bool(growth <= MEMORY_TARGET_KB_PER_FRAME),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="tracking benchmark")
    ap.add_argument("--clip", default=None, help="clip to measure (default: carphone)")
    ap.add_argument("--frames", type=int, default=600, help="at most this many frames")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--landmark-model", default="attention", choices=("attention", "mesh+iris"),
                    help="FaceMesh landmark model (default: attention, the tracker's default)")
    ap.add_argument("--out", default=None, help="JSON file (default bench/results/track_<clip>.json)")
    ap.add_argument("--memory-frames", default="500,5000",
                    help="clip lengths (frames, comma-separated) for the peak-memory measurement")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        return _memory_child(args.memory_child)
    from reenact.sample import sample_clip

    clip = args.clip or sample_clip()
    if args.out is None:
        args.out = os.path.join(HERE, "results", "track_{}.json".format(os.path.splitext(os.path.basename(clip))[0]))
    frames, fps, decode_s = _decode(clip)
    memory = None
    if not args.no_memory:  # first, while this process is small: the children are measured alone
        memory = bench_memory(frames, fps, [int(v) for v in args.memory_frames.split(",")])
    decode_s *= min(1.0, args.frames / len(frames))
    frames = frames[: args.frames]
    rows = [bench_size("{}x{} (clip)".format(frames[0].shape[1], frames[0].shape[0]), frames, fps, decode_s,
                       args.repeat, args.landmark_model)]
    big = [cv2.resize(f, (512, 512), interpolation=cv2.INTER_LINEAR) for f in frames]
    rows.append(bench_size("512x512", big, fps, None, args.repeat, args.landmark_model))

    cols = [("size", "{}"), ("track_fps", "{:.0f}"), ("track_with_decode_fps", "{:.0f}"),
            ("facemesh_fps", "{:.0f}"), ("fit_ms_per_frame", "{:.2f}"), ("fit_share_of_tracker", "{:.1%}"),
            ("fit_error_pct_iod", "{:.2f}"), ("mediapipe_fps", "{:.0f}"), ("parity_median_pct_iod", "{:.2f}"),
            ("parity_468_vs_norefine_pct_iod", "{:.3f}")]
    print("tracking benchmark: {} ({} frames), {} cores, {}, landmark model {}".format(
        os.path.basename(clip), len(frames), os.cpu_count(), rows[0]["provider"], args.landmark_model))
    print(" | ".join(c for c, _ in cols))
    for r in rows:
        print(" | ".join("-" if r.get(c) is None else f.format(r[c]) for c, f in cols))
    for r in rows:
        print("stages ms/frame @ {}: ".format(r["size"]) +
              ", ".join("{} {:.2f}".format(k, v) for k, v in r["stages_ms"].items()))
    if memory is not None:
        print("peak memory of tracking (fresh process, {} looped):".format(os.path.basename(clip)))
        print("frames | peak RSS MB | seconds")
        for r in memory["rows"]:
            print("{} | {:.0f} | {:.1f}".format(r["frames"], r["peak_rss_mb"], r["seconds"]))
        print("growth {:.1f} KB/frame (target <= {:.0f}), {:.2f}x from {} to {} frames".format(
            memory["growth_kb_per_frame"], memory["target_kb_per_frame"], memory["ratio"],
            memory["rows"][0]["frames"], memory["rows"][-1]["frames"]))
    result = {
        "clip": os.path.basename(clip),
        "landmark_model": args.landmark_model,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "target": {"track_fps_512": 200, "fit_share_max": 0.20},
        "rows": rows,
        "meets_target": bool(rows[1]["track_fps"] >= 200 and rows[1]["fit_share_of_tracker"] <= 0.20),
        "memory": memory,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=2)
    os.replace(tmp, args.out)
    print("wrote", args.out)
    return result


if __name__ == "__main__":
    main()
