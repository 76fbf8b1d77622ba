#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Figures for the README, made from real results:

    .venv/bin/python tools/make_figures.py              # track: docs/images/track_carphone.png (the sample clip)
    .venv/bin/python tools/make_figures.py dub          # the cross-actor mouth dubs' contact sheets
    .venv/bin/python tools/make_figures.py head         # the full reenactments' (head pose) contact sheets
    .venv/bin/python tools/make_figures.py dissolve     # docs/images/dissolve_fade.jpg (the sample clip)
    .venv/bin/python tools/make_figures.py all [--out DIR] [--data ../shared/data]

``track`` and ``dissolve`` need only the installed environment (the sample clip comes from a pinned package).
``dub`` and ``head`` render and re-track pairs of different actors from ``../shared/data`` with
the benchmark's own cases (``python -m bench.reenact --cases 1`` / ``2``: original target |
driver | result at the hard frames, the figures printed beside them); without the data they
say so and write nothing. Their figures go to a temporary JSON, not to ``bench/results``.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the README's cross-actor dubs (driver:target): the quiet target, the shot's own mouth, an unseen target
DUB_PAIRS = ("driving_d18:source_s20", "driving_d3:driving_d19", "driving_d10:driving_d14")
#: the README's full reenactments (driver:target): an unseen target, a panning shot
HEAD_PAIRS = ("driving_d12:driving_d14", "driving_d12:source_s20")


def _overlay(frame, tr, t, topo, scale):
    img = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    proj = tr.project()[t] * scale
    pts = proj.astype(np.int32)
    overlay = img.copy()
    for tri in topo.triangles:
        cv2.polylines(overlay, [pts[tri]], True, (80, 220, 255), 1, cv2.LINE_AA)
    img = cv2.addWeighted(overlay, 0.55, img, 0.45, 0)
    for c in (tr.landmarks[t, 468], tr.landmarks[t, 473]):
        cv2.circle(img, tuple((c * scale).astype(int)), 3, (60, 60, 255), -1, cv2.LINE_AA)
    jaw = tr.expression[t, tr.expression_index("jawOpen")]
    cv2.putText(img, "frame {}  jawOpen {:.2f}".format(t, jaw), (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                (255, 255, 255), 2, cv2.LINE_AA)
    return img


def _plot(tr, width, height):
    img = np.full((height, width, 3), 255, np.uint8)
    names = ["jawOpen", "mouthSmileLeft", "eyeBlinkLeft", "browInnerUp"]
    colours = [(40, 40, 220), (40, 160, 40), (200, 120, 20), (150, 60, 150)]
    T = tr.n_frames
    x = lambda t: int(40 + (width - 60) * t / max(T - 1, 1))  # noqa: E731
    y = lambda v: int(height - 30 - (height - 60) * v)  # noqa: E731
    cv2.rectangle(img, (40, 30), (width - 20, height - 30), (200, 200, 200), 1)
    for k, (n, c) in enumerate(zip(names, colours)):
        v = tr.expression[:, tr.expression_index(n)]
        pts = np.array([[x(t), y(v[t])] for t in range(T) if np.isfinite(v[t])], np.int32)
        cv2.polylines(img, [pts], False, c, 2, cv2.LINE_AA)
        cv2.putText(img, n, (50 + 150 * k, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, c, 1, cv2.LINE_AA)
    cv2.putText(img, "frame", (width - 70, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (90, 90, 90), 1)
    return img


def track_figure(out_dir):
    """The tracked sample clip: the fitted mesh at rest and wide open, four expression curves."""
    from reenact.face.topology import load_topology
    from reenact.sample import sample_clip
    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    clip = sample_clip()
    tr = track_video(clip)[0]
    topo = load_topology()
    with open_video(clip) as src:
        frames = [f for _, f in src.iter_frames()]
    jaw = tr.expression[:, tr.expression_index("jawOpen")]
    rest = int(np.nanargmin(jaw))
    wide = int(np.nanargmax(jaw))
    scale = 3
    top = np.concatenate([_overlay(frames[rest], tr, rest, topo, scale), _overlay(frames[wide], tr, wide, topo, scale)],
                         axis=1)
    fig = np.concatenate([top, _plot(tr, top.shape[1], 220)], axis=0)
    out = os.path.join(out_dir, "track_carphone.png")
    os.makedirs(out_dir, exist_ok=True)
    tmp = out + ".tmp.png"
    try:
        if not cv2.imwrite(tmp, fig):
            raise OSError("{}: could not be written".format(tmp))
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(out, "rest frame", rest, "open frame", wide)
    return out


def bench_figures(kind, out_dir, data=None):
    """The contact sheets of the benchmark's cross-actor cases (``dub``: case 1 on
    :data:`DUB_PAIRS`, ``head``: case 2 on :data:`HEAD_PAIRS`) written to ``out_dir``; the
    benchmark's exit code (0 and a line without ../shared/data)."""
    with tempfile.TemporaryDirectory(prefix="reenact_figures_") as tmp:
        base = [sys.executable, "-m", "bench.reenact", "--images", "--images-dir", out_dir, "--work", tmp]
        if data:
            base += ["--data", data]
        runs = ([base + ["--cases", "1", "--out", os.path.join(tmp, "dub.json")]
                 + [x for p in DUB_PAIRS for x in ("--pair", p)]] if kind == "dub" else
                [base + ["--cases", "2", "--head-pair", p, "--out", os.path.join(tmp, "head{}.json".format(i))]
                 for i, p in enumerate(HEAD_PAIRS)])
        for cmd in runs:
            rc = subprocess.call(cmd, cwd=ROOT)
            if rc:
                return rc
    return 0


def dissolve_figure(out_dir):
    """docs/images/dissolve_fade.jpg: the sample clip dissolving over 8 frames into a closer,
    warmer framing of itself (as ``tests/test_cuts.py`` builds it), its mouth opened on every row
    (jawOpen 0.7, region mouth): per dissolve frame the footage | the render drawn whole (a Track
    without ``blend``) | the render faded with the face's shot (as shipped), the face at 3x."""
    sys.path.insert(0, os.path.dirname(ROOT))
    from reenact.face import transfer as X
    from reenact.render.pipeline import render_clip
    from reenact.sample import sample_clip
    from reenact.tracking.tracker import track_video
    from reenact.video import VideoWriter, open_video

    with open_video(sample_clip()) as src:
        fr = [src.read(i) for i in range(len(src))]
    h, w = fr[0].shape[:2]

    def closer(f):
        f = cv2.resize(f[h // 8:h // 8 + h * 3 // 4, w // 8:w // 8 + w * 3 // 4], (w, h), interpolation=cv2.INTER_CUBIC)
        return np.clip(f.astype(np.float32) * (1.15, 1.0, 0.8), 0, 255).astype(np.uint8)

    a, b, at, n = fr[:40], [closer(f) for f in fr[60:100]], 30, 8
    frames = a[:at] + [np.clip((1 - (k + 1) / (n + 1.0)) * a[at + k].astype(np.float32) + (k + 1) / (n + 1.0) * b[k]
                               + 0.5, 0, 255).astype(np.uint8) for k in range(n)] + b[n:]
    with tempfile.TemporaryDirectory(prefix="reenact_figures_") as tmp:
        path = os.path.join(tmp, "soft.mkv")
        with VideoWriter(path, 30, (w, h), lossless=True) as wr:
            for f in frames:
                wr.write(f)
        tr = track_video(path)[0]
        perf = X._copy(tr)
        perf.expression = np.array(perf.expression)
        k = list(perf.expression_names).index("jawOpen")
        perf.expression[:, k] = np.maximum(perf.expression[:, k], 0.7)
        perf = perf.with_footage_rows(tr)
        plain = X._copy(tr)
        plain.blend = np.zeros(0, np.float32)
        got = {}
        for name, own in (("whole", plain), ("faded", tr)):
            got[name] = {}
            render_clip(perf, path, None, out=None, frames=(at, at + n), region="mouth", crop_track=own, prefer_gpu=False,
                        sign=False, cache_dir=os.path.join(tmp, name), on_frame=lambda i, f, d=got[name]: d.__setitem__(i, f))
    share = np.asarray(tr.blend, np.float64)
    rows, shown = [], (at + 2, at + 4, at + 6)
    L = np.asarray(tr.landmarks)[list(shown), :468, :2].reshape(-1, 2)  # one box for every tile
    (x0, y0), (x1, y1) = np.floor(np.nanmin(L, 0)).astype(int) - 6, np.ceil(np.nanmax(L, 0)).astype(int) + 6
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    for i in shown:
        tiles = [cv2.resize(np.ascontiguousarray(im[y0:y1, x0:x1]), (3 * (x1 - x0), 3 * (y1 - y0)),
                            interpolation=cv2.INTER_CUBIC) for im in (frames[i], got["whole"][i], got["faded"][i])]
        row = np.concatenate(tiles, 1)
        cv2.putText(row, "frame {}: its shot {:.0%} of the picture".format(i, share[i]), (4, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(cv2.copyMakeBorder(row, 0, 4, 0, 0, cv2.BORDER_CONSTANT))
    sheet = np.concatenate(rows, 0)
    os.makedirs(out_dir, exist_ok=True)
    dst = os.path.join(out_dir, "dissolve_fade.jpg")
    cv2.imwrite(dst, sheet[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    print("wrote", dst)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="track", choices=("track", "dissolve", "dub", "head", "all"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "images"), help="folder (default docs/images)")
    ap.add_argument("--data", default=None, help="shared data folder holding clips/ (dub, head; default ../shared/data)")
    a = ap.parse_args(argv)
    out = os.path.abspath(a.out)
    if a.what in ("track", "all"):
        track_figure(out)
    if a.what in ("dissolve", "all"):
        dissolve_figure(out)
    for kind in ("dub", "head"):
        if a.what in (kind, "all"):
            rc = bench_figures(kind, out, a.data)
            if rc:
                return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
