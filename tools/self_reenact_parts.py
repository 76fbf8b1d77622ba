# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe (issue 11): where the error of case 3 (self-reenactment of a held-out last 15 %) is.

Renders the held-out rows of a clip as ``bench.reenact`` case 3 does (region face, the shot's
frames, the pool and the faces drawn from the first 85 % only) and scores the face as the bench
does, for:

- ``shipped``: the render as it is;
- ``eyes: truth pasted``: the shipped frame with both eye regions (a disc of 0.75 eye widths
  about each eye's corners) replaced by the truth's: what perfect eyes would give (a ceiling,
  not a method);
- ``eyes: own frame``: the eyes drawn through the same path from the held-out row's *own*
  frame (not allowed in the bench: it is the truth) - the warp and blend's own loss;
- ``eyes: best pool frame``: the eyes drawn from the allowed frame whose eye patches (aligned
  on the eye corners) look most like the truth's (an oracle choice among what the shot allows);
- ``mouth: truth pasted``: the same ceiling for the mouth (a disc of 0.8 mouth widths).

    python tools/self_reenact_parts.py --clip driving_d14 --model models/renderer_base256.onnx [--work DIR]

Needs ../shared/data/clips.
"""

import argparse
import os
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="driving_d14")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "renderer_base256.onnx"))
    ap.add_argument("--work", default=None)
    args = ap.parse_args(argv)
    sys.path[:0] = [os.path.dirname(ROOT)]
    from reenact.bench import reenact as B
    from reenact.bench.reenact_measures import cv2_warp, face_mask, oval_index, psnr, square_crop
    import reenact.render.shothead as rewrite  # (ShotHead, whose eyes these rows swap, lives there)
    from reenact.render.pipeline import get_renderer, render_clip
    from reenact.render.reference import build_pool

    work = args.work or tempfile.mkdtemp(prefix="reenact-parts-")
    tr = B.load_track(B.track_clip(args.clip, work, []))
    n = tr.n_frames
    cut = int(round(0.85 * n))
    rows = np.arange(cut, n)
    F = B.Frames(B.clip_path(args.clip))
    frames = F.get(np.arange(n))
    F.close()
    L = np.asarray(tr.landmarks, np.float64)
    rend = get_renderer(args.model, prefer_gpu=False)
    pool = build_pool(tr.subset(0, cut), B.clip_path(args.clip), rend.size)

    def render():
        got = {}
        render_clip(tr, B.clip_path(args.clip), rend, out=None, frames=(cut, n), region="face", crop_track=tr,
                    detail=True, cache_dir=tempfile.mkdtemp(dir=work), prefer_gpu=False, pool=pool, redraw=True,
                    on_frame=lambda i, f: got.update({i: np.ascontiguousarray(f[..., ::-1])} if i >= cut else {}),
                    reference_frames=(0, cut))
        return got

    def crop(img, t):
        a, A = square_crop(frames[t], L[t, :468], 256, 1.3)
        return a, cv2_warp(img, A, 256), A

    def discs(t, A, pairs, scale):
        P = np.c_[L[t, :468, :2], np.ones(468)] @ A.T
        m = np.zeros((256, 256), np.uint8)
        for o, i in pairs:
            c, r = (P[o] + P[i]) / 2, np.linalg.norm(P[o] - P[i]) * scale
            cv2.circle(m, (int(c[0]), int(c[1])), int(r), 1, -1)
        return m > 0

    oval = oval_index()

    def score(got, paste=None):
        out = []
        for t in rows:
            a, b, A = crop(got[int(t)], int(t))
            if paste is not None:
                b = b.copy()
                m = discs(int(t), A, *paste)
                b[m] = a[m]
            m = face_mask(a.shape, np.c_[L[t, oval], np.ones(len(oval))] @ A.T, erode=2)
            out.append(psnr(b, a, m))
        return round(float(np.mean(out)), 2)

    eyes, mouth = ([(33, 133), (362, 263)], 0.75), ([(61, 291)], 0.8)
    shipped = render()
    res = {"shipped": score(shipped), "eyes: truth pasted": score(shipped, eyes),
           "mouth: truth pasted": score(shipped, mouth)}
    plan_eyes = rewrite.plan_eyes
    try:
        rewrite.plan_eyes = lambda own, req, rr, pool=None, **kw: np.where(np.asarray(rr) >= cut, rr, -1)
        res["eyes: own frame"] = score(render())

        def patch(i, pair, size=(96, 48)):
            p, q = L[i, pair[0]], L[i, pair[1]]
            W, H = size
            src = np.float32([p, q, p + np.array([-(q - p)[1], (q - p)[0]])])
            dst = np.float32([[0.15 * W, H / 2], [0.85 * W, H / 2], [0.15 * W, H / 2 + 0.7 * W]])
            return cv2.warpAffine(frames[i], cv2.getAffineTransform(src, dst), size).astype(np.float32).ravel()

        def best(own, req, rr, pool=None, **kw):
            cand = np.asarray(pool)
            fp = np.stack([np.concatenate([patch(j, p) for p in eyes[0]]) for j in cand])
            return np.array([int(cand[np.argmin(((fp - np.concatenate([patch(r, p) for p in eyes[0]])) ** 2).mean(1))])
                             if r >= cut else -1 for r in rr])

        rewrite.plan_eyes = best
        res["eyes: best pool frame"] = score(render())
    finally:
        rewrite.plan_eyes = plan_eyes
    width = max(len(k) for k in res)
    print("{}: held-out rows {}..{}, face PSNR dB ({})".format(args.clip, cut, n - 1, os.path.basename(args.model)))
    for k, v in res.items():
        print("  {:<{}}  {:.2f}  ({:+.2f})".format(k, width, v, v - res["shipped"]))


if __name__ == "__main__":
    main()
