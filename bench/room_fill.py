# SPDX-License-Identifier: GPL-3.0-or-later
"""The room a moved head uncovers, where no frame of the shot shows it (region ``head``): the
smooth fill with its grain (before 2026-12-02) against the patch completion of the shot's plate
(``render/inpaint.py``), on room whose truth is known.

Per shared clip: the shot's background plate as region ``head`` makes it (the footage's own
Track, the actor's matte), then a ring of *known* room around the actor's never-seen place
(RING of the shorter side wide, inside the picture) is hidden and filled by both methods from
the rest; figures on the ring against the plate's own pixels there: PSNR, SSIM, and the detail
kept (variance of the Laplacian, result / truth; the smooth fill's is low). The ring is what a
head moving by a few per cent of the frame uncovers next to where the actor stood.

    python -m bench.room_fill [--clips C1,C2] [--work DIR] [--out JSON] [--sheet PNG]

The clips looked at while the completion was set up (their plates and renders) are marked
``tuned``; the others were run only here.
"""

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

from .reenact_measures import PATHS, clip_path, laplacian_var, load_track, psnr, ssim, track_clip

HERE = os.path.dirname(os.path.abspath(__file__))
CLIPS = ("driving_d0", "driving_d3", "driving_d10", "driving_d11", "driving_d12", "driving_d13", "driving_d14",
         "driving_d18", "driving_d19", "driving_d20", "source_s20", "source_s29", "source_s32")
#: looked at while the completion's settings were chosen (2026-12-02)
TUNED = ("driving_d3", "driving_d13", "driving_d14", "driving_d20", "source_s20")
#: the hidden ring's width, a fraction of the frame's shorter side
RING = 0.05


def plate_of(clip, work, log):
    import reenact.render.motion as motion
    from reenact.video import open_video

    tr = load_track(track_clip(clip, work, log))
    keep = motion.COMPLETE_ROOM
    motion.COMPLETE_ROOM = False  # the plate as the frames show it; each method fills it below
    try:
        with open_video(clip_path(clip)) as src:
            p = motion.shot_plate(src, tr)
    finally:
        motion.COMPLETE_ROOM = keep
    return p


def one(clip, work, log):
    from reenact.render.head import fill_background
    from reenact.render.inpaint import complete_plate
    from reenact.video.bars import within

    p = plate_of(clip, work, log)
    if p is None:
        return {"error": "no tracked frames"}
    if len(p) > 3:  # a moving camera: the whole canvas of the room
        plate, known, area = p[3].canvas, p[3].canvas_known, None
    else:
        plate, known, area = p
    H, W = known.shape
    inside = within(np.ones((H, W), bool), area)
    g = max(2, int(round(RING * min(H, W))))
    near = cv2.dilate((~known).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1, 2 * g + 1))) > 0
    ring = known & near & inside
    # keep off the picture's edge (no room beyond it to judge by) and off thin slivers of room
    ring &= cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8), borderValue=0) > 0
    if ring.sum() < 500:
        return {"error": "too little room around the actor"}
    seen = known & ~ring
    hidden = np.array(plate, copy=True)
    hidden[~seen] = 0
    t0 = time.perf_counter()
    smooth = fill_background(hidden, ~seen & inside, grain=((H, W), (0, 0)))
    t_smooth = time.perf_counter() - t0
    t0 = time.perf_counter()
    done, filled = complete_plate(hidden, seen, area)
    t_patch = time.perf_counter() - t0
    patch = fill_background(done, ~filled & inside, grain=((H, W), (0, 0)))  # beyond the band, as rendered
    bgr = [cv2.cvtColor(np.ascontiguousarray(x), cv2.COLOR_RGB2BGR) for x in (plate, smooth, patch)]
    # judged a few pixels off the never-seen place (the plate holds nothing there, and the
    # truth's Laplacian would see that edge)
    m = (ring & (cv2.erode(known.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)).astype(np.uint8)
    truth_detail = max(laplacian_var(bgr[0], m), 1e-6)
    res = {"size": [W, H], "ring_pixels": int(ring.sum()), "ring_px": g, "tuned": clip in TUNED,
           "moving_camera": len(p) > 3}
    for name, img, t in (("smooth_fill", bgr[1], t_smooth), ("patches", bgr[2], t_patch)):
        res[name] = {"psnr": round(psnr(img, bgr[0], m), 2), "ssim": round(ssim(img, bgr[0], m), 3),
                     "detail": round(laplacian_var(img, m) / truth_detail, 3), "seconds": round(t, 2)}
    return res, bgr, ring


def sheet_rows(clip, bgr, ring, height=240):
    """[truth | smooth fill | patches] around the ring's largest part, scaled to ``height``."""
    H, W = ring.shape
    half = min(H, W) // 4
    dens = cv2.blur(ring.astype(np.float32), (half, half))  # where the ring is thickest in view
    cy, cx = np.unravel_index(int(np.argmax(dens)), dens.shape)
    y0, x0 = max(0, min(H - 2 * half, cy - half)), max(0, min(W - 2 * half, cx - half))
    tiles = []
    for img, label in zip(bgr, (clip + ": room", "smooth fill", "patches")):
        t = img[y0:y0 + 2 * half, x0:x0 + 2 * half].copy()
        edge = cv2.dilate(ring[y0:y0 + 2 * half, x0:x0 + 2 * half].astype(np.uint8), np.ones((3, 3), np.uint8)) - \
            ring[y0:y0 + 2 * half, x0:x0 + 2 * half].astype(np.uint8)
        t = cv2.resize(t, (height, height), interpolation=cv2.INTER_AREA)
        e = cv2.resize(edge, (height, height), interpolation=cv2.INTER_NEAREST) > 0
        t[e] = (0, 220, 255)  # the hidden ring's outline
        cv2.putText(t, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(t)
    return np.concatenate(tiles, 1)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.room_fill", description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", default=",".join(CLIPS))
    ap.add_argument("--work", default=None, help="keep tracks here (default: a temporary folder)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "room_fill.json"))
    ap.add_argument("--sheet", default=None, help="write [room | smooth fill | patches] of every clip here (PNG or JPEG)")
    a = ap.parse_args(argv)
    if not os.path.isdir(PATHS["clips"]):
        print("skipping the room-fill benchmark: {} not present".format(PATHS["clips"]))
        return 0
    import tempfile

    work = a.work or tempfile.mkdtemp(prefix="reenact-room-")
    log, rep, rows = [], {"ring_fraction": RING, "clips": {}}, []
    t0 = time.perf_counter()
    for clip in [c for c in a.clips.split(",") if c]:
        out = one(clip, work, log)
        if isinstance(out, dict):
            rep["clips"][clip] = out
            continue
        res, bgr, ring = out
        rep["clips"][clip] = res
        if a.sheet:
            rows.append(sheet_rows(clip, bgr, ring))
    print("{:<12} {:>5} {:>14} {:>14} {:>14} {:>9}".format("clip", "tuned", "PSNR smooth/patch", "SSIM", "detail",
                                                            "patch s"))
    groups = {True: [], False: []}
    for clip, r in rep["clips"].items():
        if "error" in r:
            print("{:<12} {}".format(clip, r["error"]))
            continue
        s, p = r["smooth_fill"], r["patches"]
        groups[r["tuned"]].append(r)
        print("{:<12} {:>5} {:>7.2f} /{:>6.2f} {:>6.3f} /{:>6.3f} {:>6.3f} /{:>6.3f} {:>9.2f}".format(
            clip.replace("driving_", "").replace("source_", ""), "yes" if r["tuned"] else "", s["psnr"], p["psnr"],
            s["ssim"], p["ssim"], s["detail"], p["detail"], p["seconds"]))
    rep["summary"] = {}
    for tuned, rs in groups.items():
        if not rs:
            continue
        key = "tuned" if tuned else "not_tuned"
        rep["summary"][key] = {m: {k: round(float(np.median([r[m][k] for r in rs])), 3) for k in ("psnr", "ssim", "detail")}
                               for m in ("smooth_fill", "patches")}
        rep["summary"][key]["clips"] = len(rs)
        s, p = rep["summary"][key]["smooth_fill"], rep["summary"][key]["patches"]
        print("median, {} ({} clips): PSNR {:.2f} / {:.2f}, SSIM {:.3f} / {:.3f}, detail {:.3f} / {:.3f}".format(
            key.replace("_", " "), len(rs), s["psnr"], p["psnr"], s["ssim"], p["ssim"], s["detail"], p["detail"]))
    rep["seconds"] = round(time.perf_counter() - t0, 1)
    rep["commands"] = log
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(rep, f, indent=1)
    if a.sheet and rows:
        cv2.imwrite(a.sheet, np.concatenate(rows, 0), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print("wrote {}".format(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
