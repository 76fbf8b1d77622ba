#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Figures for the README, made from real results on the sample clip (carphone):

    .venv/bin/python tools/make_figures.py      # writes docs/images/track_carphone.png
"""

import os
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    x = lambda t: int(40 + (width - 60) * t / max(T - 1, 1))
    y = lambda v: int(height - 30 - (height - 60) * v)
    cv2.rectangle(img, (40, 30), (width - 20, height - 30), (200, 200, 200), 1)
    for k, (n, c) in enumerate(zip(names, colours)):
        v = tr.expression[:, tr.expression_index(n)]
        pts = np.array([[x(t), y(v[t])] for t in range(T) if np.isfinite(v[t])], np.int32)
        cv2.polylines(img, [pts], False, c, 2, cv2.LINE_AA)
        cv2.putText(img, n, (50 + 150 * k, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, c, 1, cv2.LINE_AA)
    cv2.putText(img, "frame", (width - 70, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (90, 90, 90), 1)
    return img


def main():
    sys.path.insert(0, os.path.dirname(ROOT))
    from ..face.topology import load_topology
    from ..tracking.tracker import track_video
    from ..sample import sample_clip
    from ..video import open_video

    clip = sample_clip()
    tr = track_video(clip)[0]
    topo = load_topology()
    with open_video(clip) as src:
        frames = [f for _, f in src.iter_frames()]
    jaw = tr.expression[:, tr.expression_index("jawOpen")]
    rest = int(np.nanargmin(jaw))
    wide = int(np.nanargmax(jaw))
    scale = 3
    a = _overlay(frames[rest], tr, rest, topo, scale)
    b = _overlay(frames[wide], tr, wide, topo, scale)
    top = np.concatenate([a, b], axis=1)
    plot = _plot(tr, top.shape[1], 220)
    fig = np.concatenate([top, plot], axis=0)
    out = os.path.join(ROOT, "docs", "images", "track_carphone.png")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cv2.imwrite(out + ".tmp.png", fig)
    os.replace(out + ".tmp.png", out)
    print(out, "rest frame", rest, "open frame", wide)


if __name__ == "__main__":
    main()
