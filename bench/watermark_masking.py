# SPDX-License-Identifier: GPL-3.0-or-later
"""How visible the watermark is on flat skin and sky against what survives a 50 % downscale +
CRF 28 (issue 13; docs/provenance.md, "Visibility: the trade-off measured" and "Visibility:
format 2"). Prints a table and
writes ``bench/results/watermark_masking.json``.

    .venv/bin/python -m bench.watermark_masking [--clips 6] [--seconds 4] [--gains 1,0.7,0.5,0.3]
                                                [--cells 80,100] [--crops DIR]

For each cell size (cells per shorter side; the shipped mark: 80) and each *flat gain* (the
pattern's gain where the picture is flat, rising to ``--textured`` on texture and near edges:
``reenact.provenance.masking``; 1 = format 1's unmasked mark, in format 1's layout and code;
below 1, format 2's layout and code, and at 0.3 format 2's shipped mark), every clip (the first
``--seconds`` of the first ``--clips`` shared clips, the same ones as bench.watermark) is marked
with its own payload, the frame's RMS change capped at 2.5 levels (PSNR >= 40 dB), and measured:

- **flat RMS**: the mark's RMS (luma, 8-bit levels) over the pixels whose local contrast is under
  1 level (flat skin, sky, walls; every 10th frame), as bench.watermark's h-wm variant measured it;
- **PSNR** of marked vs unmarked;
- after **50 % downscale + H.264 CRF 28** (bench.watermark's attack): per one-second window, at
  the alignment a downscaled copy has (scale 1, shift 0; no search), the sync cells' z (the
  detector's single test there needs 4.89, its search 6.91) and the whole tile's
  z with the payload known (sync + data cells); the coded-bit error rate of the payload read
  from the window, and from the whole file (soft values summed over its windows), and whether
  the file's payload decodes (Viterbi, CRC). A window can carry the right payload only when the
  file's payload decodes (or its own does).

``--crops DIR``: PNG crops (original | each flat gain, 2x, nearest) of driving_d14's forehead and
source_s20's sky, frame 10, to look at; not kept in the repository (shared footage).

The cell sizes other than 80 are measured by setting the module's constants for the run
(restored after): the detector and the pattern then use that cell size, as a format with it
would.
"""

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile

import numpy as np

from .watermark import SHARED_CLIPS, encode, read

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "watermark_masking.json")
RMS_CAP = 2.5


@contextlib.contextmanager
def cell_size(cells_per_side):
    """The watermark module with ``cells_per_side`` cells per shorter side (4 work pixels per cell)."""
    from reenact.provenance import watermark as wm

    old = (wm.CELLS_PER_SIDE, wm.WORK_SIDE, wm._WORK_CELL)
    wm.CELLS_PER_SIDE, wm.WORK_SIDE, wm._WORK_CELL = float(cells_per_side), int(4 * cells_per_side), 4.0
    wm.Watermark._cache.clear()
    try:
        yield wm
    finally:
        wm.CELLS_PER_SIDE, wm.WORK_SIDE, wm._WORK_CELL = old
        wm.Watermark._cache.clear()


def masking_gain(y, cells_per_side, flat, textured, t0=1.0, t1=5.0):
    """The pattern's gain per pixel of a frame of luma ``y`` (:mod:`reenact.provenance.masking`,
    what format 2 ships with flat 0.3, textured 1.8)."""
    from reenact.provenance import masking

    return masking.masking_gain(y, cells_per_side, flat, textured, t0, t1)


def mark(wm, frames, payload, flat, textured):
    """Frames marked with the key's pattern in ``payload``'s format: flat gain 1, the pattern
    unmasked (format 1's mark for a format-1 payload); below 1, times the masking gain with that
    flat gain, the frame's RMS capped at :data:`RMS_CAP` (format 2's ``masked_delta``: with flat
    0.3 and textured 1.8 the shipped mark). Rounded, the same in R, G, B."""
    W = wm.Watermark.get(wm.DEFAULT_KEY)
    payload = wm.make_payload(payload)
    out = []
    for fr in frames:
        h, w = fr.shape[:2]
        if flat < 1.0:
            q = W.masked_delta(fr, payload, flat=flat, textured=textured, rms_cap=RMS_CAP)
        else:
            q = W.pattern(h, w, payload)[0]
        out.append(np.clip(fr.astype(np.int16) + q[..., None], 0, 255).astype(np.uint8))
    return out


def flat_rms(orig, marked, step=10):
    """The mark's RMS over pixels whose local contrast is under 1 level, every ``step``-th frame."""
    import cv2

    rms = []
    for o, m in zip(orig[::step], marked[::step]):
        y = cv2.cvtColor(o, cv2.COLOR_RGB2GRAY).astype(np.float32)
        hp = y - cv2.GaussianBlur(y, (0, 0), 2.0)
        flat = np.sqrt(cv2.GaussianBlur(hp * hp, (0, 0), 4.0)) < 1.0
        if flat.any():
            d = (m.astype(np.float32) - o).mean(-1)[flat]
            rms.append(float(np.sqrt((d * d).mean())))
    return float(np.mean(rms)) if rms else 0.0


def psnr(a, b):
    mse = float(np.mean([np.mean((x.astype(np.float32) - y) ** 2) for x, y in zip(a, b)]))
    return 10.0 * math.log10(255.0 ** 2 / max(mse, 1e-12))


def read_at_prior(wm, frames, fps, payload):
    """Per one-second window at scale 1, shift 0: sync z, whole-tile z (payload known), coded-bit
    error rate; and the file's payload (soft values summed): decoded right, its bit error rate."""
    from reenact.provenance import ecc

    det = wm.Detector(wm.DEFAULT_KEY, scales=(1.0,))
    W = det.wm
    P = 2 * wm.N
    payload = wm.make_payload(payload)
    v = payload.version
    code = ecc.encode(payload.bits(), wm.FORMATS[v]["gens"]).astype(np.float64) * 2.0 - 1.0
    full = wm._periodic_upsample(W.cell_grid(payload), 2.0, 2.0, P, P)
    full_fft = np.conj(np.fft.rfft2(full - full.mean()))
    ims = [wm.work_image(f) for f in frames]
    n = max(1, int(round(fps)))
    wins, soft_sum = [], np.zeros(len(code))
    for s in range(0, len(ims) - n + 1, n):
        hp, norm = wm._whiten(np.mean(ims[s:s + n], axis=0))
        img = hp * norm
        F, _A = wm._whitened_fft(wm._fold(img, 1.0))
        c = np.fft.irfft2(F * W._template_fft, s=(P, P))
        ck = np.fft.irfft2(F * full_fft, s=(P, P))
        soft, g = det.soft_bits(img, wm._Alignment(1.0, 0, 0, 0.0), v)
        soft_sum += soft * g * g
        wins.append({"sync_z": float(c[0, 0] / c.std()), "tile_z": float(ck[0, 0] / ck.std()),
                     "bit_errors": float(np.mean(np.sign(soft) != code))})
    pl, ok = det.decode(soft_sum, 1.0, v)
    right = bool(ok) and pl == payload
    return wins, right, float(np.mean(np.sign(soft_sum) != code))


def crops(wm, out_dir, gains, textured):
    import cv2

    os.makedirs(out_dir, exist_ok=True)
    for name, (y0, y1, x0, x1) in (("driving_d14", (120, 300, 100, 330)), ("source_s20", (0, 170, 230, 480))):
        path = os.path.join(SHARED_CLIPS, name + ".mp4")
        if not os.path.isfile(path):
            continue
        f = read(path, 11)[0][10:11]
        tiles = [f[0]] + [mark(wm, f, wm.Payload(0x1234, version=1 if g >= 1 else 2), g, textured)[0] for g in gains]
        row = np.concatenate([cv2.resize(t[y0:y1, x0:x1], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
                              for t in tiles], axis=1)
        p = os.path.join(out_dir, "watermark_masking_{}_cells{:g}.png".format(name, wm.CELLS_PER_SIDE))
        cv2.imwrite(p, cv2.cvtColor(row, cv2.COLOR_RGB2BGR))
        print("  crops (original | flat gain {}): {}".format(" | ".join("{:g}".format(g) for g in gains), p))


def main(argv=None):
    import cv2

    ap = argparse.ArgumentParser(prog="python -m bench.watermark_masking")
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--gains", default="1,0.7,0.5,0.3", help="flat gains (1: unmasked, the shipped mark)")
    ap.add_argument("--textured", type=float, default=1.8, help="gain on texture and near edges")
    ap.add_argument("--cells", default="80", help="cells per shorter side, comma-separated (shipped: 80)")
    ap.add_argument("--crops", default=None, help="write PNG crops to this folder (shared footage: not to commit)")
    ap.add_argument("--out", default=RESULTS)
    args = ap.parse_args(argv)
    if not os.path.isdir(SHARED_CLIPS):
        print("skipping the watermark masking benchmark: {} not present".format(SHARED_CLIPS))
        return 0
    names = sorted(f for f in os.listdir(SHARED_CLIPS) if f.endswith(".mp4"))[: args.clips]
    clips = []
    for n in names:
        fr, fps = read(os.path.join(SHARED_CLIPS, n))
        clips.append((n[:-4], fr[: int(round(args.seconds * fps))], fps))
    gains = [float(g) for g in args.gains.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = os.path.join(tmp, "a.mp4")
        for cps in [float(c) for c in args.cells.split(",")]:
            with cell_size(cps) as wm:
                if args.crops:
                    crops(wm, args.crops, gains, args.textured)
                for g in gains:
                    row = {"cells_per_side": cps, "flat_gain": g, "textured_gain": args.textured if g < 1 else 1.0,
                           "format": 1 if g >= 1 else 2, "clips": []}
                    for ci, (name, frames, fps) in enumerate(clips):
                        # flat gain 1: format 1 (unmasked); below: format 2's masked mark and code
                        job = wm.Payload(0x1000000000 + ci * 7919, version=1 if g >= 1 else 2)
                        m = mark(wm, frames, job, g, args.textured)
                        small = [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
                                 for f in m]
                        wins, right, ber = read_at_prior(wm, encode(small, fps, mp4, 28), fps, job)
                        row["clips"].append({"clip": name, "flat_rms": flat_rms(frames, m), "psnr": psnr(frames, m),
                                             "windows": wins, "file_payload_right": right, "file_bit_errors": ber})
                    cl = row["clips"]
                    row.update(flat_rms=float(np.mean([c["flat_rms"] for c in cl])),
                               flat_rms_max=float(np.max([c["flat_rms"] for c in cl])),
                               psnr_min=float(np.min([c["psnr"] for c in cl])),
                               files_payload_right=sum(c["file_payload_right"] for c in cl),
                               min_sync_z=float(min(w["sync_z"] for c in cl for w in c["windows"])),
                               min_tile_z=float(min(w["tile_z"] for c in cl for w in c["windows"])),
                               window_bit_errors=float(np.mean([w["bit_errors"] for c in cl for w in c["windows"]])),
                               file_bit_errors=[round(c["file_bit_errors"], 3) for c in cl])
                    rows.append(row)
                    print("cells 1/{:g}, flat gain {:g}: flat RMS {:.2f} (max {:.2f}), PSNR >= {:.2f} dB; downscale + "
                          "CRF 28: files with the payload {}/{}, coded-bit errors per window {:.3f}, per file {}, "
                          "min sync z {:.2f}, min whole-tile z {:.2f}".format(
                              cps, g, row["flat_rms"], row["flat_rms_max"], row["psnr_min"], row["files_payload_right"],
                              len(cl), row["window_bit_errors"], row["file_bit_errors"], row["min_sync_z"],
                              row["min_tile_z"]), flush=True)
    print()
    print("{:>6s} {:>5s} {:>9s} {:>8s} {:>10s} {:>12s} {:>11s} {:>7s} {:>7s}".format(
        "cells", "flat", "flat RMS", "min PSNR", "payload ok", "bit err/win", "bit err/file", "min zs", "min zk"))
    for r in rows:
        print("{:>6g} {:>5g} {:>9.2f} {:>8.2f} {:>10s} {:>12.3f} {:>11.3f} {:>7.2f} {:>7.2f}".format(
            r["cells_per_side"], r["flat_gain"], r["flat_rms"], r["psnr_min"],
            "{}/{}".format(r["files_payload_right"], len(r["clips"])), r["window_bit_errors"],
            float(np.mean(r["file_bit_errors"])), r["min_sync_z"], r["min_tile_z"]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"clips": [n for n, _f, _r in clips], "seconds": args.seconds, "rms_cap": RMS_CAP,
                   "rows": rows}, fh, indent=1)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
