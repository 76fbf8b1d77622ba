# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe (issue 11): what the benchmark's re-tracker reads of a pure head rotation.

Takes a clip's own Track, turns the head by a fixed angle about one of its own axes over a
window (nothing else changes: no expression, no gaze, no translation), renders it with region
``head`` through the CLI, re-tracks the result as ``bench.reenact`` does (the footage's focal
length) and prints what the result shows (``bench.reenact_measures.motion_realised``): the share
of the requested 2-D mesh motion made by the result's detected landmarks and by the re-fitted
mesh, and the share of the requested rotation the re-tracked pose reads::

    python tools/rotation_probe.py TRACK.npz CLIP.mp4 --axis pitch --degrees 5 --frames 20:110 --work DIR

Needs the bundled model (``models/renderer_base.onnx``).
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AXES = {"pitch": 0, "yaw": 1, "roll": 2}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("track")
    ap.add_argument("video")
    ap.add_argument("--axis", choices=sorted(AXES), default="pitch")
    ap.add_argument("--degrees", type=float, default=5.0)
    ap.add_argument("--frames", default=None, metavar="A:B", help="rows to turn (default: the middle half)")
    ap.add_argument("--work", required=True)
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(ROOT))
    sys.path.insert(0, ROOT)
    from reenact.face.camera import euler_to_matrix, matrix_to_euler
    from reenact.face.track import Track
    from bench.reenact_measures import cli, focal_mm, motion_realised

    # (the CLI runs from the package's parent folder)
    a.track, a.video, a.work = (os.path.abspath(v) for v in (a.track, a.video, a.work))
    os.makedirs(a.work, exist_ok=True)
    tgt = Track.load(a.track)
    T = tgt.n_frames
    lo, hi = (int(v) for v in a.frames.split(":")) if a.frames else (T // 4, 3 * T // 4)
    rows = np.arange(lo, hi)
    req = tgt.subset(tgt.frame_start, tgt.frame_start + T).with_footage_rows(tgt)
    P = np.array(req.pose, copy=True)
    turn = np.zeros((1, 3))
    turn[0, AXES[a.axis]] = np.radians(a.degrees)
    P[rows, :3] = matrix_to_euler(euler_to_matrix(P[rows, :3]) @ euler_to_matrix(turn)[0])  # about the head's axes
    req.pose = P
    q = os.path.join(a.work, "request.npz")
    req.save(q)
    out, res = os.path.join(a.work, "render"), os.path.join(a.work, "result.npz")
    # as the benchmark's case 2 renders and re-tracks (bench.reenact.transfer_render_retrack)
    cli(["render", q, "--video", a.video, "--model", os.path.join(ROOT, "models", "renderer_base.onnx"),
         "--out", out, "--frames", "{}:{}".format(lo, hi), "--region", "head", "--crop-track", a.track,
         "--cache", os.path.join(a.work, "cache"), "--cpu"])
    cli(["track", out, "--out", res, "--focal", "{:.6f}".format(focal_mm(a.track))])
    lm, mesh, read = motion_realised(req, Track.load(res), tgt, rows)
    print("{} {:+.1f} deg over rows {}:{}: requested 2-D motion shown by the landmarks {:.2f}, by the re-fitted "
          "mesh {:.2f}; rotation read {:.2f} of the request (median)".format(a.axis, a.degrees, lo, hi, lm, mesh, read))


if __name__ == "__main__":
    main()
