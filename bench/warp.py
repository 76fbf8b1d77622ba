# SPDX-License-Identifier: GPL-3.0-or-later
"""Warp figures of docs/warp.md: warp_field / warp_image timings on synthetic crops, and per
clip the PSNR inside the destination face of frame t warped to frame u's mesh, against frame t
unwarped and aligned by the reference renderer's 2-D similarity.

    OMP_NUM_THREADS=1 python -m bench.warp ../shared/data/clips/driving_d{0,3,10,12,14,19}.mp4
"""

import json
import os
import sys
import time
import zlib

import cv2
import numpy as np

from reenact.face.geometry import robust_similarity_2d
from reenact.render.conditioning import frontal_template
from reenact.render.head import posed_points
from reenact.render.meshes import _fix, _mesh
from reenact.render.warp import warp_field, warp_image
from reenact.tracking.tracker import track_video
from reenact.video import open_video


def _bench(clips, pairs=24, gap=15, seed=0, log=print):
    """Timings (one thread; run with OMP_NUM_THREADS=1) on synthetic crops and, per clip, PSNR
    inside the destination face (holes and a 2 px margin excluded) of frame t warped to frame
    u's mesh vs frame t unwarped vs frame t aligned by the reference renderer's 2-D similarity.
    Pairs: ``pairs`` random (t, u) at least ``gap`` frames apart among the clip's first 300
    frames. Returns the figures as a dict."""
    out = {"timing_ms": {}, "clips": {}}
    for size in (256, 512):
        P = frontal_template(size)
        c = np.array([size / 2.0, size / 2.0])
        th = 0.1
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        Q = (P - c) @ R.T * 1.05 + c + (5.0, -3.0)
        img = np.zeros((size, size, 3), np.uint8)
        warp_field(P, Q, None, (size, size))
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)  # one core: CPU time of this process, wall time as the scheduler allows
        try:
            cf, tf, ci = [], [], []
            for _ in range(20):
                c0, t0 = time.process_time(), time.perf_counter()
                f = warp_field(P, Q, None, (size, size))
                cf.append(time.process_time() - c0)
                tf.append(time.perf_counter() - t0)
                c0 = time.process_time()
                warp_image(img, f)
                ci.append(time.process_time() - c0)
        finally:
            cv2.setNumThreads(threads)
        out["timing_ms"][size] = {"warp_field_cpu": 1000 * float(np.median(cf)), "warp_field_wall_best": 1000 * min(tf),
                                  "warp_image_cpu": 1000 * float(np.median(ci))}
        log("{0}x{0}: warp_field {1:.1f} ms CPU (wall best {2:.1f} ms), warp_image {3:.1f} ms CPU, one thread, "
            "median of 20".format(size, *out["timing_ms"][size].values()))
    oval = _mesh().oval
    for clip in clips:
        rng = np.random.default_rng([seed, zlib.crc32(os.path.basename(clip).encode())])
        with open_video(clip) as v:
            n = min(len(v), 300)
            frames = {i: fr for i, fr in v.iter_frames(0, n)}
        track = track_video(clip, frames=(0, n))[0]
        pts, depth = posed_points(track)
        ok = np.flatnonzero(np.asarray(track.tracked, bool))
        rows = []
        for _ in range(pairs):
            t = int(rng.choice(ok))
            far = ok[np.abs(ok - t) >= gap]
            if not len(far):
                continue
            u = int(rng.choice(far))
            ft, fu = frames[t], frames[u]
            H, W = ft.shape[:2]
            f = warp_field(pts[t], pts[u], None, (H, W), src_depth=depth[t], dst_depth=depth[u],
                           model_points=track.identity)
            face = np.zeros((H, W), np.uint8)
            cv2.fillPoly(face, [_fix(pts[u][oval], 0.5)], 1, cv2.LINE_8, 4)
            m = (face > 0) & ~cv2.dilate(f.hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            sim = cv2.warpAffine(ft, robust_similarity_2d(pts[t], pts[u]), (W, H), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
            # the head beyond the face (hair, ears, outline): the ellipsoid proxy against the
            # single plane motion of the outline (``head_model="plane"``)
            g = warp_field(pts[t], pts[u], None, (H, W), src_depth=depth[t], dst_depth=depth[u],
                           model_points=track.identity, head_model="plane")
            ring = (f.head & (face == 0) & ~cv2.dilate(face, np.ones((9, 9), np.uint8)).astype(bool)
                    & ~cv2.dilate((f.hole | g.hole).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool))
            rows.append([_psnr(warp_image(ft, f), fu, m), _psnr(ft, fu, m), _psnr(sim, fu, m),
                         float(f.hole[face > 0].mean()), _psnr(warp_image(ft, f), fu, ring),
                         _psnr(warp_image(ft, g), fu, ring), _psnr(ft, fu, ring)])
        r = np.array(rows)
        name = os.path.basename(clip)
        out["clips"][name] = {"pairs": len(r), "warp_db": float(np.median(r[:, 0])),
                              "unwarped_db": float(np.median(r[:, 1])),
                              "similarity_db": float(np.median(r[:, 2])),
                              "gain_over_unwarped_db": float(np.median(r[:, 0] - r[:, 1])),
                              "gain_over_similarity_db": float(np.median(r[:, 0] - r[:, 2])),
                              "warp_minus_similarity_min_db": float((r[:, 0] - r[:, 2]).min()),
                              "hole_fraction_of_face": float(np.median(r[:, 3])),
                              "head_ring_ellipsoid_db": float(np.median(r[:, 4])),
                              "head_ring_plane_db": float(np.median(r[:, 5])),
                              "head_ring_unwarped_db": float(np.median(r[:, 6])),
                              "head_ring_ellipsoid_minus_plane_db": float(np.median(r[:, 4] - r[:, 5])),
                              "head_ring_ellipsoid_minus_plane_min_db": float((r[:, 4] - r[:, 5]).min())}
        log("{}: {} pairs, median PSNR in the face: warp {warp_db:.2f} dB, unwarped {unwarped_db:.2f}, "
            "2-D similarity {similarity_db:.2f}; median gain {gain_over_unwarped_db:+.2f} dB over unwarped, "
            "{gain_over_similarity_db:+.2f} over similarity, worst pair {warp_minus_similarity_min_db:+.2f}; "
            "holes {hole_fraction_of_face:.1%} of the face; head beyond the face: ellipsoid "
            "{head_ring_ellipsoid_db:.2f} dB, plane {head_ring_plane_db:.2f}, unwarped {head_ring_unwarped_db:.2f} "
            "(ellipsoid - plane median {head_ring_ellipsoid_minus_plane_db:+.2f}, worst "
            "{head_ring_ellipsoid_minus_plane_min_db:+.2f})".format(name, len(r), **out["clips"][name]))
    return out


def _psnr(a, b, m):
    d = (a.astype(np.float64) - b.astype(np.float64))[m]
    return float(10 * np.log10(255.0 ** 2 / max(float((d ** 2).mean()), 1e-9)))


def main(argv=None):
    clips = sys.argv[1:] if argv is None else argv
    res = _bench(clips)
    os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "warp.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
