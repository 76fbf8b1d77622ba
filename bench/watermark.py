# SPDX-License-Identifier: GPL-3.0-or-later
"""Watermark benchmark (issue 13): robustness, false positives, invisibility, speed, C2PA cost.
Prints a table and writes ``bench/results/watermark.json``.

    .venv/bin/python -m bench.watermark [--clips N] [--seconds S] [--keys K] [--no-shared] [--no-anchor]
    .venv/bin/python -m bench.watermark --c2pa-only

**Clips.** The first ``--seconds`` (default 4) of up to ``--clips`` (default 6) clips of
../shared/data/clips (when present), else generated footage (static textured background, a
moving textured blob, sensor noise). Each clip is marked in every frame with its own job id.

**Attacks** (PyAV, libx264/libx265, yuv420p): none; H.264 CRF 23; H.264 CRF 28; H.265 CRF 28;
50 % downscale + CRF 28; crop 10 % per side + CRF 28; 30 -> 25 fps (frames resampled in time) +
CRF 28 (25 -> 20 for 25 fps clips); a re-encode of an excerpt (from 0.5 s on) at CRF 28. Per attack: the share of one-second
windows detected, the share detected *with the right payload* (the window's own decode, or its
data cells agreeing with the file's decoded payload at z >= 4), files whose payload was decoded
right, the mean window score.

**False positives.** The unmarked clips and their CRF 28 re-encodes, every window start offset
in ``--offsets`` (default 0, 0.25, 0.5, 0.75 s) and ``--keys`` keys (default 40: Reenact's and
random ones): windows counted and false detections (limit: 1e-6 per window by construction).

**Invisibility.** PSNR of marked vs unmarked frames; warping error (mean absolute difference
between frame t and frame t-1 warped to it by DIS optical flow computed on the unmarked frames,
pixels inside the frame that pass the flow's forward-backward check), the same flow and pixels
for marked and unmarked; over all such pixels and per class: static (flow < 0.25 px), moving and
flat, moving and textured. The same for the anchor.

**Anchor** (bench/watermark_anchor.py): invisible-watermark's dwtDctSvd on the same clips, the
same attacks (windows read with the right 48 bits, bit accuracy), PSNR, warping error, ms per
1080p frame; one line saying why when it is not installed (requirements/anchor.txt).

**Speed** (ms per frame, this machine): embed at 512x512, 960x540, 1920x1080; detect at 1080p
(luma reduction per frame + the window search amortised over one second at 30 fps), decoding
excluded; OpenCV's threads and the usable cores are recorded.

**C2PA** (:func:`c2pa_cost`; alone with ``--c2pa-only``, written to
``bench/results/watermark_c2pa.json``): sign time, wall and CPU (median of ``--c2pa-repeats``),
and bytes added for a small MP4, 1080p movies of ~6 and ~23 MB generated here and a PNG, each
read back and validated; MP4s with the native file streams, with c2pa-python's own, and as
signing was before (c2pa-python's streams, ``os.replace``). Then (:func:`c2pa_written`,
``--c2pa-written-seconds``, default 60) a ~110 MB 1080p movie signed as the render path signs
it: the manifest set up before the first frame and the movie's mdat hashed while it is written,
so only the rest is left after the writer closes.

``REENACT_SHARED_CLIPS`` names the clips folder when it is not ../shared/data/clips.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "watermark.json")
RESULTS_C2PA = os.path.join(HERE, "results", "watermark_c2pa.json")
SHARED_CLIPS = os.environ.get("REENACT_SHARED_CLIPS") or os.path.join(ROOT, "..", "shared", "data", "clips")


def synthetic_clip(n, size=(960, 540), seed=0):
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    bg = np.zeros((h, w, 3), np.float32)
    for sigma, amp in ((2.0, 25.0), (8.0, 40.0), (30.0, 60.0)):
        bg += cv2.GaussianBlur(rng.normal(0, 1, (h, w, 3)).astype(np.float32), (0, 0), sigma) * amp * sigma ** 0.5 / 3
    bg += np.array([110, 100, 90], np.float32)
    tex = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3.0) * 30
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for t in range(n):
        cx = w * (0.5 + 0.25 * np.sin(2 * np.pi * t / 70.0))
        cy = h * (0.5 + 0.15 * np.cos(2 * np.pi * t / 55.0))
        inside = (((xx - cx) / (0.16 * w)) ** 2 + ((yy - cy) / (0.3 * h)) ** 2) < 1.0
        f = bg.copy()
        f[inside] = np.array([200, 160, 140], np.float32) + np.roll(tex, t * 3, axis=1)[inside][:, None]
        f += rng.normal(0, 2.0, f.shape).astype(np.float32)
        out.append(np.clip(f, 0, 255).astype(np.uint8))
    return out


def noisy_movie(path, seconds, size=(1920, 1080), fps=30, crf=23, seed=0, signing=None):
    """A high-bitrate movie written by the render path's writer (H.264, faststart MP4): a
    smooth random picture panning 7 px per frame plus grain (4 noise frames in turn, 0-15
    levels, no overflow). At 1080p, CRF 23: ~1.9 MB per second. Returns its size in bytes.
    ``signing``: a :class:`~reenact.provenance.movie_signing.MovieSigning` that follows the writer."""
    import cv2

    from reenact.video import VideoWriter

    w, h = size
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 240, (h // 8, w // 8, 3), dtype=np.uint8), (w + 256, h),
                      interpolation=cv2.INTER_LINEAR)
    grain = rng.integers(0, 16, (4, h, w, 3), dtype=np.uint8)
    with VideoWriter(path, fps, (w, h), crf=crf, preset="ultrafast") as wr:
        if signing is not None:
            signing.follow(wr)
        for i in range(int(round(seconds * fps))):
            off = (i * 7) % 256
            wr.write(np.ascontiguousarray(base[:, off:off + w] + grain[i % 4]))
    return os.path.getsize(path)


def read(path, n=None):
    from reenact.video import open_video

    with open_video(path) as s:
        return [f for _i, f in s.iter_frames(0, n)], s.fps


def encode(frames, fps, path, crf=28, codec="libx264"):
    """Encode RGB frames (even size, yuv420p) and decode them back."""
    import av

    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    c = av.open(path, "w")
    v = c.add_stream(codec, rate=int(round(fps)))
    v.width, v.height, v.pix_fmt = w, h, "yuv420p"
    v.options = {"crf": str(crf), "preset": "veryfast"}
    if codec == "libx265":
        v.options["x265-params"] = "log-level=error"
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:h, :w]), format="rgb24")
        vf.pts = i
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    c.close()
    return read(path)[0]


def attacks(tmp):
    import cv2

    mp4 = os.path.join(tmp, "a.mp4")

    def crop(f, q=0.1):
        h, w = f.shape[:2]
        return f[int(h * q):h - int(h * q), int(w * q):w - int(w * q)]

    def slower(fps):
        return 25.0 if fps > 26 else 20.0

    def refps(x, fps):
        to = slower(fps)
        n = int(len(x) / fps * to)
        return [x[min(len(x) - 1, int(round(j * fps / to)))] for j in range(n)]

    return {
        "none": lambda x, fps: (x, fps),
        "h264 crf23": lambda x, fps: (encode(x, fps, mp4, 23), fps),
        "h264 crf28": lambda x, fps: (encode(x, fps, mp4, 28), fps),
        "h265 crf28": lambda x, fps: (encode(x, fps, mp4, 28, "libx265"), fps),
        "downscale 50% + crf28": lambda x, fps: (encode([cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2),
                                                                    interpolation=cv2.INTER_AREA) for f in x],
                                                        fps, mp4, 28), fps),
        "crop 10%/side + crf28": lambda x, fps: (encode([crop(f) for f in x], fps, mp4, 28), fps),
        "fps 30->25 (25->20) + crf28": lambda x, fps: (encode(refps(x, fps), slower(fps), mp4, 28), slower(fps)),
        "excerpt from 0.5 s + crf28": lambda x, fps: (encode(x[int(0.5 * fps):], fps, mp4, 28), fps),
    }


def warping_error(frames, flows, reference):
    """Warping error of ``frames``: mean |frame t - frame t-1 warped to t| (8-bit levels, mean of
    R, G, B), with the flow of ``flows`` (computed on the unmarked frames, the same for marked and
    unmarked) and over the same pixels for both: inside the frame and not occluded
    (forward-backward check of the flow). Returned per pixel class, decided on ``reference`` (the
    unmarked frames): ``all``, ``static`` (flow < 0.25 px: a change there is flicker),
    ``moving_flat`` (flow >= 0.25 px, local contrast < 1 level: the flow is hardly observable
    there), ``moving_textured``; ``no_occlusion_check``: all pixels inside the frame (the
    previous measure). Each entry: mean error (``error``), the mean squared error (``squared``:
    Lai et al.'s own form, which weighs the large residuals more) and the share of pixels."""
    import cv2

    sums = {}
    for t, fl, occluded in flows:
        a = frames[t].astype(np.float32)
        b = frames[t - 1].astype(np.float32)
        h, w = fl.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        warped = cv2.remap(b, gx + fl[..., 0], gy + fl[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        err = np.abs(a - warped).mean(-1)
        sq = ((a - warped) ** 2).mean(-1)
        inside = (gx + fl[..., 0] >= 0) & (gx + fl[..., 0] <= w - 1) & (gy + fl[..., 1] >= 0) & (gy + fl[..., 1] <= h - 1)
        valid = inside & ~occluded
        y = cv2.cvtColor(reference[t], cv2.COLOR_RGB2GRAY).astype(np.float32)
        hp = y - cv2.GaussianBlur(y, (0, 0), 2.0)
        flat = np.sqrt(cv2.GaussianBlur(hp * hp, (0, 0), 4.0)) < 1.0
        moving = np.hypot(fl[..., 0], fl[..., 1]) >= 0.25
        for name, m in (("all", valid), ("static", valid & ~moving), ("moving_flat", valid & moving & flat),
                        ("moving_textured", valid & moving & ~flat), ("no_occlusion_check", inside)):
            s = sums.setdefault(name, [0.0, 0, 0, 0.0])
            s[0] += float(err[m].sum())
            s[1] += int(m.sum())
            s[2] += h * w
            s[3] += float(sq[m].sum())
    return {k: {"error": v[0] / max(1, v[1]), "squared": v[3] / max(1, v[1]), "share": v[1] / max(1, v[2])}
            for k, v in sums.items()}


def flows_of(frames, n_pairs=12):
    """DIS flow from frame t to t-1 for ``n_pairs`` pairs, and the pixels the forward-backward
    check calls occluded (|f_t->t-1(x) + f_t-1->t(x + f(x))| above 0.01 |f|^2 + 0.5 px)."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    out = []
    step = max(1, (len(frames) - 1) // n_pairs)
    for t in range(1, len(frames), step)[:n_pairs]:
        g1 = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY)
        g0 = cv2.cvtColor(frames[t - 1], cv2.COLOR_RGB2GRAY)
        back = dis.calc(g1, g0, None)   # t -> t-1
        fwd = dis.calc(g0, g1, None)    # t-1 -> t
        h, w = back.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        f2 = cv2.remap(fwd, gx + back[..., 0], gy + back[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        d = back + f2
        occluded = (d ** 2).sum(-1) > 0.01 * ((back ** 2).sum(-1) + (f2 ** 2).sum(-1)) + 0.5
        out.append((t, back, occluded))
    return out


def embed_ms(wm, size, reps=40, mask=False):
    w, h = size
    f = (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)
    m = None
    if mask:  # a feathered face-sized region
        import cv2

        m = np.zeros((h, w), np.float32)
        cv2.ellipse(m, (w // 2, h // 2), (w // 8, h // 4), 0, 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), 6)
    wm.mark_frame(f, 0, wm.DEFAULT_KEY, 1, mask=m)  # pattern precomputed once per size and payload
    t = time.perf_counter()
    for i in range(reps):
        wm.mark_frame(f, i, wm.DEFAULT_KEY, 1, mask=m)
    return (time.perf_counter() - t) / reps * 1000.0


def detect_ms_1080p(wm, frames=30):
    f = synthetic_clip(1, (1920, 1080), seed=9)[0]
    t = time.perf_counter()
    ims = [wm.work_image(f) for _ in range(frames)]
    t1 = time.perf_counter()
    wm.detect(ims, 30, prepared=True)
    t2 = time.perf_counter()
    return (t1 - t) / frames * 1000.0, (t2 - t1) / frames * 1000.0


C2PA_MOVIES = (("mp4_small", None, 0), ("mp4_1080p_6mb", (1920, 1080), 3.2),
               ("mp4_1080p_23mb", (1920, 1080), 12.3))


def c2pa_cost(tmp, frames, fps, repeats=5):
    """Sign time (wall and this process's CPU, median of ``repeats`` in-place signatures of a
    fresh copy of the unsigned file, as the render path signs the movie its writer just
    closed) and bytes added, for a small MP4 of ``frames``, 1080p movies of ~6 and ~23 MB made here
    (:func:`noisy_movie`) and a PNG; each read back and validated. MP4s are timed with the
    manifest appended (the default: "append"), rewritten by the native library with the native
    file streams (``REENACT_C2PA_IO=rewrite``: "native"), with c2pa-python's Python streams
    (``REENACT_C2PA_IO=python``) and as before :mod:`reenact.provenance.c2pa_io` (those streams,
    ``os.replace``): "before"."""
    import shutil

    import cv2

    from reenact.provenance import c2pa_io
    from reenact.provenance.manifest import read_manifest, sign_file

    replace = c2pa_io.replace
    src = {}
    for name, size, seconds in C2PA_MOVIES:
        src[name] = os.path.join(tmp, "unsigned_{}.mp4".format(name))
        if size is None:
            encode(frames[:60], fps, src[name], 23)
        else:
            noisy_movie(src[name], seconds, size)
    src["png"] = os.path.join(tmp, "unsigned.png")
    cv2.imwrite(src["png"], cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))
    warm = os.path.join(tmp, "warm.png")
    shutil.copyfile(src["png"], warm)
    sign_file(warm, action="c2pa.created", payload=1)  # library load, local chain
    modes = ["append"] if c2pa_io.append_available() else []
    modes += ["native", "python"] if c2pa_io.native_available() else ["python"]
    modes.append("before")  # Python streams and os.replace: signing as it was before c2pa_io
    env = {"append": "", "native": "rewrite", "python": "python", "before": "python"}
    before = os.environ.get("REENACT_C2PA_IO")
    out = {"io": {"native_available": c2pa_io.native_available(), "append_available": c2pa_io.append_available(),
                  "repeats": repeats}}
    try:
        for name, path in src.items():
            ext = os.path.splitext(path)[1]
            act = "c2pa.created" if ext == ".png" else "c2pa.edited"
            rec = {"file_bytes": os.path.getsize(path)}
            for mode in (modes if ext == ".mp4" else modes[:1]):
                os.environ["REENACT_C2PA_IO"] = env[mode]
                walls, cpus = [], []
                for _ in range(repeats):
                    dst = os.path.join(tmp, "signed" + ext)
                    # like a movie the encoder has just closed: in the page cache, not yet on disk
                    shutil.copyfile(path, dst)
                    time.sleep(0.2)
                    c2pa_io.replace = os.replace if mode == "before" else replace
                    try:
                        t, c = time.perf_counter(), time.process_time()
                        info = sign_file(dst, action=act, payload=1)
                        walls.append((time.perf_counter() - t) * 1000.0)
                        cpus.append((time.process_time() - c) * 1000.0)
                    finally:
                        c2pa_io.replace = replace
                m = read_manifest(dst)
                rec[mode] = {"sign_ms": round(float(np.median(walls)), 1), "sign_ms_min": round(min(walls), 1),
                             "cpu_ms": round(float(np.median(cpus)), 1), "bytes_added": info["bytes_added"],
                             "embedding": info.get("embedding"),
                             "valid": m["valid"], "actions": [a["action"] for a in m["actions"]]}
            best = rec[modes[0]]
            rec.update(sign_ms=best["sign_ms"], cpu_ms=best["cpu_ms"], bytes_added=best["bytes_added"],
                       valid=best["valid"], actions=best["actions"], io=modes[0])
            out[name] = rec
    finally:
        if before is None:
            os.environ.pop("REENACT_C2PA_IO", None)
        else:
            os.environ["REENACT_C2PA_IO"] = before
    return out


def c2pa_written(tmp, seconds):
    """A 1080p movie of ``seconds`` written by the render path's writer while
    :class:`~reenact.provenance.movie_signing.MovieSigning` follows it (its mdat hashed as
    written): the wall time of ``finish()`` after the writer closed (what signing adds at the
    end), the follower's own time during the writing, bytes added, leaf size, valid on read-back;
    against :func:`sign_file` of an unsigned copy of the same movie (hashed whole, afterwards)."""
    import shutil

    from reenact.provenance.manifest import read_manifest, sign_file
    from reenact.provenance.movie_signing import MovieSigning

    path = os.path.join(tmp, "written.mp4")
    n = int(round(seconds * 30))
    signing = MovieSigning(path, "c2pa.edited", 1, parameters={"frames": [0, n]}, expected_frames=n)
    t = time.perf_counter()
    size = noisy_movie(path, seconds, signing=signing)
    encode_s = time.perf_counter() - t
    copy = os.path.join(tmp, "written_unsigned.mp4")
    shutil.copyfile(path, copy)
    time.sleep(0.2)
    t, c = time.perf_counter(), time.process_time()
    info = signing.finish()
    rec = {"file_bytes": size, "seconds": seconds, "encode_s": round(encode_s, 1),
           "finish_ms": round((time.perf_counter() - t) * 1000.0, 1),
           "finish_cpu_ms": round((time.process_time() - c) * 1000.0, 1),
           "follow_ms": round(signing.follow_seconds * 1000.0, 1), "bytes_added": info["bytes_added"],
           "leaf_kb": info["leaf_kb"], "prehashed": info["prehashed"], "fallback": info["fallback"],
           "valid": read_manifest(path)["valid"]}
    time.sleep(0.2)
    t = time.perf_counter()
    after = sign_file(copy, action="c2pa.edited", payload=1, parameters={"frames": [0, n]})
    rec["signed_afterwards"] = {"sign_ms": round((time.perf_counter() - t) * 1000.0, 1),
                                "bytes_added": after["bytes_added"], "valid": read_manifest(copy)["valid"]}
    return rec


def print_c2pa(c2):
    io = c2["io"]
    print("C2PA: sign in place (median of {} wall / CPU ms; {}), bytes added, manifest valid on read-back".format(
        io["repeats"], "movies: manifest appended" if io.get("append_available") else
        "native file streams" if io["native_available"] else "Python streams"))
    for k, v in c2.items():
        if k in ("io", "written"):
            continue
        line = "  {:16s} {:6.2f} MB: {:6.1f} / {:6.1f} ms, +{} bytes, {} ({})".format(
            k, v["file_bytes"] / 1e6, v["sign_ms"], v["cpu_ms"], v["bytes_added"], "valid" if v["valid"] else "NOT VALID",
            v[v["io"]].get("embedding"))
        if "native" in v and v["io"] != "native":
            line += "; rewritten with native streams {:.1f} / {:.1f}".format(v["native"]["sign_ms"], v["native"]["cpu_ms"])
        if "python" in v and v["io"] != "python":
            line += "; c2pa-python's streams {:.1f} / {:.1f}".format(v["python"]["sign_ms"], v["python"]["cpu_ms"])
        if "before" in v:
            line += "; before (those streams + os.replace) {:.1f} / {:.1f}".format(
                v["before"]["sign_ms"], v["before"]["cpu_ms"])
        print(line)
    w = c2.get("written")
    if w:
        print("  signed while written: {:.0f} MB 1080p movie ({:.0f} s): finish {:.1f} ms after the writer closed "
              "(CPU {:.1f}), +{} bytes ({} KB leaves), {}, {}; the follower hashed during the {:.0f} s encode for "
              "{:.0f} ms; signed afterwards instead: {:.1f} ms".format(
                  w["file_bytes"] / 1e6, w["seconds"], w["finish_ms"], w["finish_cpu_ms"], w["bytes_added"],
                  w["leaf_kb"], "valid" if w["valid"] else "NOT VALID",
                  "prehashed" if w["prehashed"] else "fell back: " + str(w["fallback"]), w["encode_s"],
                  w["follow_ms"], w["signed_afterwards"]["sign_ms"]))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.watermark")
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--offsets", default="0,0.25,0.5,0.75")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--no-anchor", action="store_true", help="skip invisible-watermark's dwtDctSvd")
    ap.add_argument("--anchor-step", type=int, default=3, help="decode every N-th frame for the anchor")
    ap.add_argument("--out", default=None, help="JSON path (default {}; with --c2pa-only {})".format(
        os.path.relpath(RESULTS, ROOT), os.path.relpath(RESULTS_C2PA, ROOT)))
    ap.add_argument("--c2pa-only", action="store_true",
                    help="only the C2PA cost (small, ~6 MB and ~23 MB movies made here, a PNG)")
    ap.add_argument("--c2pa-repeats", type=int, default=5)
    ap.add_argument("--c2pa-written-seconds", type=float, default=60.0,
                    help="length of the 1080p movie signed while it is written (~1.9 MB/s, ~1.3x real time "
                         "to encode); 0 skips it")
    args = ap.parse_args(argv)

    os.environ.setdefault("REENACT_C2PA_DIR", os.path.join(tempfile.gettempdir(), "reenact-bench-c2pa"))
    if args.c2pa_only:
        return c2pa_main(args, argv)
    args.out = args.out or RESULTS
    from reenact.provenance import watermark as wm

    names = []
    if not args.no_shared and os.path.isdir(SHARED_CLIPS):
        names = sorted(f for f in os.listdir(SHARED_CLIPS) if f.endswith(".mp4"))[: args.clips]
    clips = []
    for n in names:
        fr, fps = read(os.path.join(SHARED_CLIPS, n))
        clips.append((n, fr[: int(round(args.seconds * fps))], fps))
    if not clips:
        for k in range(max(1, min(args.clips, 3))):
            clips.append(("generated_{}".format(k), synthetic_clip(int(30 * args.seconds), seed=k), 30.0))
    print("clips: " + ", ".join("{} {}x{} {:.0f} fps".format(n, f[0].shape[1], f[0].shape[0], fps)
                                for n, f, fps in clips))

    from bench import watermark_anchor as anchor

    anchor_why = "skipped (--no-anchor)" if args.no_anchor else anchor.unavailable()
    if anchor_why:
        print("anchor (invisible-watermark dwtDctSvd): " + anchor_why)
    anchor_attack = {}
    per_attack = {}
    invis = []
    fp_windows = fp_false = 0
    fp_max_score = fp_max_prior = 0.0
    keys = [wm.DEFAULT_KEY] + ["bench-key-{}".format(k) for k in range(args.keys - 1)]
    offsets = [float(x) for x in args.offsets.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        atk = attacks(tmp)
        for ci, (name, frames, fps) in enumerate(clips):
            job = 0x1000000000 + ci * 7919
            pl = wm.make_payload(job)
            marked = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) for i, f in enumerate(frames)]
            fl = flows_of(frames)
            rec_i = {"clip": name, "psnr": psnr(frames, marked), "warp_unmarked": warping_error(frames, fl, frames),
                     "warp_marked": warping_error(marked, fl, frames)}
            anchored = None
            if anchor_why is None:
                anc = anchor.Anchor(anchor.payload_bits(job))
                anchored = [anc.embed(f) for f in frames]
                rec_i.update(anchor_psnr=psnr(frames, anchored), warp_anchor=warping_error(anchored, fl, frames))
            invis.append(rec_i)
            print("  {:12s} PSNR {:.2f} dB, warping error unmarked {:.3f} marked {:.3f} ({:+.1%})".format(
                name[:12], rec_i["psnr"], rec_i["warp_unmarked"]["all"]["error"], rec_i["warp_marked"]["all"]["error"],
                rec_i["warp_marked"]["all"]["error"] / rec_i["warp_unmarked"]["all"]["error"] - 1), flush=True)
            for an, fn in atk.items():
                x, f2 = fn(marked, fps)
                r = wm.detect(x, f2)
                want = "{:010x}".format(job)
                rec = per_attack.setdefault(an, {"windows": 0, "detected": 0, "right_payload": 0,
                                                 "files": 0, "file_payload_right": 0, "scores": []})
                for w in r["windows"]:
                    rec["windows"] += 1
                    rec["detected"] += int(w["detected"])
                    own = (w.get("payload") or {}).get("job_id") == want
                    match = bool(w.get("payload_match")) and (r["payload"] or {}).get("job_id") == want
                    rec["right_payload"] += int(bool(w["detected"]) and (own or match))
                    rec["scores"].append(w["score"])
                rec["files"] += 1
                rec["file_payload_right"] += int((r["payload"] or {}).get("job_id") == want)
                print("  {:12s} {:28s} windows {}/{} payload {} score {}".format(
                    name[:12], an, sum(w["detected"] for w in r["windows"]), len(r["windows"]),
                    (r["payload"] or {}).get("job_id"), [w["score"] for w in r["windows"]]), flush=True)
                if anchored is not None:
                    xa, fa = fn(anchored, fps)
                    ra = anchor.read_windows(anc, xa, fa, step=args.anchor_step)
                    arec = anchor_attack.setdefault(an, {"windows": 0, "right": 0, "bit_accuracy": []})
                    arec["windows"] += len(ra)
                    arec["right"] += sum(w["right"] for w in ra)
                    arec["bit_accuracy"] += [w["bit_accuracy"] for w in ra]
                    acc = [w["bit_accuracy"] for w in ra if w["bit_accuracy"] == w["bit_accuracy"]]
                    print("  {:12s} {:28s} anchor: {}/{} windows right, bit accuracy {}".format(
                        name[:12], an, sum(w["right"] for w in ra), len(ra),
                        "{:.3f}".format(np.mean(acc)) if acc else "- (frames too small for the library)"), flush=True)
            # unmarked: the clip and its CRF 28 re-encode, many keys and window offsets
            for src in (frames, encode(frames, fps, os.path.join(tmp, "u.mp4"), 28)):
                ims = [wm.work_image(f) for f in src]
                for off in offsets:
                    k0 = int(round(off * fps))
                    for key in keys:
                        r = wm.detect(ims[k0:], fps, key=key, prepared=True)
                        fp_windows += len(r["windows"])
                        fp_false += sum(w["detected"] for w in r["windows"])
                        fp_max_score = max(fp_max_score, max(w["search_score"] for w in r["windows"]))
                        fp_max_prior = max(fp_max_prior, max(w["prior_score"] for w in r["windows"]))
            print("  {:12s} unmarked: {} windows so far, {} false, max score {:.2f}".format(
                name[:12], fp_windows, fp_false, fp_max_score), flush=True)
        c2 = c2pa_cost(tmp, clips[0][1], clips[0][2], args.c2pa_repeats)
        if args.c2pa_written_seconds > 0:
            c2["written"] = c2pa_written(tmp, args.c2pa_written_seconds)

    speed = {"embed_ms_512x512": embed_ms(wm, (512, 512)), "embed_ms_960x540": embed_ms(wm, (960, 540)),
             "embed_ms_1920x1080": embed_ms(wm, (1920, 1080)),
             "embed_ms_960x540_region_mask": embed_ms(wm, (960, 540), mask=True)}
    red, search = detect_ms_1080p(wm)
    speed.update(detect_ms_1080p_reduce=red, detect_ms_1080p_search=search, detect_ms_1080p=red + search)

    table = []
    for an, rec in per_attack.items():
        table.append({"attack": an, "windows": rec["windows"],
                      "detected": rec["detected"] / max(1, rec["windows"]),
                      "right_payload": rec["right_payload"] / max(1, rec["windows"]),
                      "file_payload_right": "{}/{}".format(rec["file_payload_right"], rec["files"]),
                      "mean_score": float(np.mean(rec["scores"])), "min_score": float(np.min(rec["scores"]))})
    print()
    print("{:28s} {:>8s} {:>9s} {:>14s} {:>13s} {:>6s} {:>6s}".format(
        "attack", "windows", "detected", "right payload", "file payload", "mean z", "min z"))
    for t in table:
        print("{:28s} {:8d} {:9.1%} {:14.1%} {:>13s} {:6.1f} {:6.1f}".format(
            t["attack"], t["windows"], t["detected"], t["right_payload"], t["file_payload_right"],
            t["mean_score"], t["min_score"]))
    print("unmarked: {} windows ({} keys x {} offsets x clips and their CRF 28 re-encodes): {} false "
          "detections, highest score {:.2f} (thresholds: search {:.2f}, scale-1 test {:.2f}); highest "
          "scale-1 test score {:.2f}".format(fp_windows, len(keys), len(offsets), fp_false, fp_max_score,
                                               _threshold(wm), _threshold(wm, prior=True), fp_max_prior))
    ps = [v["psnr"] for v in invis]
    print("PSNR marked vs unmarked: mean {:.2f} dB, min {:.2f} dB".format(np.mean(ps), np.min(ps)))
    warp = {}
    for cls in ("all", "static", "moving_flat", "moving_textured", "no_occlusion_check"):
        wu = float(np.mean([v["warp_unmarked"][cls]["error"] for v in invis]))
        wk = float(np.mean([v["warp_marked"][cls]["error"] for v in invis]))
        share = float(np.mean([v["warp_unmarked"][cls]["share"] for v in invis]))
        rel = wk / wu - 1 if wu > 0 else float("nan")
        qu = float(np.mean([v["warp_unmarked"][cls].get("squared", np.nan) for v in invis]))
        qk = float(np.mean([v["warp_marked"][cls].get("squared", np.nan) for v in invis]))
        warp[cls] = {"unmarked": wu, "marked": wk, "increase": rel, "pixel_share": share,
                     "squared_unmarked": qu, "squared_marked": qk, "squared_increase": qk / qu - 1 if qu > 0 else None}
        line = "warping error {:18s} ({:5.1%} of pixels): unmarked {:.3f}, marked {:.3f} ({:+.1%}; squared {:+.1%})".format(
            cls, share, wu, wk, rel, qk / qu - 1 if qu > 0 else float("nan"))
        if anchor_why is None:
            wa = float(np.mean([v["warp_anchor"][cls]["error"] for v in invis]))
            warp[cls]["anchor"] = wa
            line += "; anchor {:.3f} ({:+.1%})".format(wa, wa / wu - 1 if wu > 0 else float("nan"))
        print(line)
    print("embed ms/frame: 512x512 {:.2f}, 960x540 {:.2f} (region mask {:.2f}), 1920x1080 {:.2f}; detect ms/frame at 1080p {:.2f} "
          "(reduce {:.2f} + search {:.2f})".format(speed["embed_ms_512x512"], speed["embed_ms_960x540"],
                                                   speed["embed_ms_960x540_region_mask"],
                                                   speed["embed_ms_1920x1080"], speed["detect_ms_1080p"], red, search))
    print_c2pa(c2)
    anchor_report = {"unavailable": anchor_why}
    if anchor_why is None:
        ae, ad = anchor.speed_1080p(clips[0][1][0])
        anchor_report = {"method": anchor.METHOD, "bits": anchor.BITS, "decode_step": args.anchor_step,
                         "psnr_mean": float(np.mean([v["anchor_psnr"] for v in invis])),
                         "psnr_min": float(np.min([v["anchor_psnr"] for v in invis])),
                         "embed_ms_1920x1080": ae, "decode_ms_1920x1080": ad, "attacks": []}
        print()
        print("anchor: invisible-watermark {} ({} bits per frame, no detector: always returns bits; "
              "a window is right when the majority of every {}th frame's bits is the payload)".format(
                  anchor.METHOD, anchor.BITS, args.anchor_step))
        print("{:28s} {:>8s} {:>14s} {:>13s}".format("attack", "windows", "right payload", "bit accuracy"))
        for an, rec in anchor_attack.items():
            row = {"attack": an, "windows": rec["windows"], "right_payload": rec["right"] / max(1, rec["windows"]),
                   "bit_accuracy": float(np.nanmean(rec["bit_accuracy"]))}
            anchor_report["attacks"].append(row)
            print("{:28s} {:8d} {:14.1%} {:13.3f}".format(an, row["windows"], row["right_payload"], row["bit_accuracy"]))
        print("anchor PSNR mean {:.2f} dB, min {:.2f} dB; ms per 1080p frame: embed {:.0f}, decode {:.0f}".format(
            anchor_report["psnr_mean"], anchor_report["psnr_min"], ae, ad))
    report = {"clips": [{"name": n, "size": [f[0].shape[1], f[0].shape[0]], "fps": fps, "frames": len(f)}
                        for n, f, fps in clips],
              "attacks": table, "false_positives": {"windows": fp_windows, "false": fp_false,
                                                     "max_score": fp_max_score, "keys": len(keys),
                                                     "max_prior_score": fp_max_prior,
                                                     "offsets": offsets, "threshold_z": _threshold(wm),
                                                     "threshold_prior_z": _threshold(wm, prior=True)},
              "invisibility": invis, "warping_error": warp, "speed_ms": speed, "c2pa": c2, "anchor": anchor_report,
              "settings": {"strength_rms": wm.DEFAULT_STRENGTH, "cells_per_side": wm.CELLS_PER_SIDE,
                           "tile": wm.N, "payload_bits": wm.PAYLOAD_BITS, "coded_bits": wm.CODED_BITS},
              "machine": _machine(),
              "command": "python -m bench.watermark " + " ".join(argv if argv is not None else sys.argv[1:])}
    _write_json(args.out, report)
    return 0


def c2pa_main(args, argv):
    """``--c2pa-only``: the C2PA cost alone, on generated footage (no shared clips needed)."""
    with tempfile.TemporaryDirectory() as tmp:
        c2 = c2pa_cost(tmp, synthetic_clip(60, (960, 540)), 30, args.c2pa_repeats)
        if args.c2pa_written_seconds > 0:
            c2["written"] = c2pa_written(tmp, args.c2pa_written_seconds)
    print_c2pa(c2)
    report = {"c2pa": c2, "machine": _machine(),
              "command": "python -m bench.watermark " + " ".join(argv if argv is not None else sys.argv[1:])}
    _write_json(args.out or RESULTS_C2PA, report)
    return 0


def _machine():
    return {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "opencv_threads": _cv2_threads(), "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _write_json(path, report):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmpf = path + ".tmp"
    with open(tmpf, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    os.replace(tmpf, path)
    print("wrote", path)


def psnr(a, b):
    mse = np.mean([np.mean((x.astype(np.float64) - y) ** 2) for x, y in zip(a, b)])
    return float(10 * np.log10(255.0 ** 2 / mse))


def _cv2_threads():
    import cv2

    return cv2.getNumThreads()


def _threshold(wm, prior=False):
    """The window score at which the false-positive probability reaches the limit: of the search
    over every scale and shift, or (``prior``) of the single test at scale 1, no shift."""
    det = wm.Detector()
    prob = det.prior_probability if prior else det.search_probability
    lo, hi = 3.0, 20.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if prob(mid) < wm.FALSE_POSITIVE_LIMIT:
            hi = mid
        else:
            lo = mid
    return round(hi, 2)


if __name__ == "__main__":
    sys.exit(main())
