# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Track file says of itself, as ``reenact probe TRACK.npz`` prints it: the clip and frames
it tracks, how much is tracked, and for a transfer's output where its performance, and its
mouth's driver, come from (docs/track-format.md; docs/transfer.md, *The dubbing actor*)."""

import os

import numpy as np


def _runs(frames):
    from ..render.actors import frame_runs

    return frame_runs(sorted(int(f) for f in frames))


def track_card(path):
    """A JSON-able dict of the Track ``path`` (``kind`` "track"); ValueError (one line naming the
    file) when it is not a Track Reenact can read."""
    from .track import Track

    path = os.fspath(path)
    tr = Track.load(path)  # (validated: a damaged or foreign file is one line)
    T = int(tr.n_frames)
    frames = tr.frames()
    tracked = np.asarray(tr.tracked, bool)
    pf = np.asarray(tr.performance_frame, np.float64)
    driven = np.isfinite(pf) if len(pf) == T else np.zeros(T, bool)
    out = {"file": os.path.abspath(path), "kind": "track", "clip": os.path.basename(str(tr.source)),
           "clip_frames": int(tr.source_frames), "footage": str(tr.source_digest)[:16] or None,
           "frames": [int(tr.frame_start), int(tr.frame_start) + T], "fps": float(tr.fps),
           "size": [int(v) for v in tr.size], "actor": int(tr.actor),
           "tracked": round(float(tracked.mean()), 4) if T else 0.0,
           "untracked_frames": _runs(frames[~tracked]) if T else "",
           "cuts": [int(c) for c in tr.cuts()], "hidden_frames": _runs(tr.hidden_frames()),
           "expressions": len(tr.expression_names), "edited": bool(tr.edited),
           "mouth_driver": None}
    if driven.any():
        out["mouth_driver"] = {"footage": str(tr.performance_source)[:16] or None,
                               "frames": _runs(frames[driven]),
                               "driver_frames": [float(np.nanmin(pf)), float(np.nanmax(pf))]}
    return out


def format_track(r):
    """A few human-readable lines for one :func:`track_card` result."""
    a, b = r["frames"]
    lines = ["{}: Track of '{}' (actor {}), clip frames {}-{} of {} at {:g} fps, {}x{}; {:.0%} tracked".format(
        r["file"], r["clip"], r["actor"], a, b - 1, r["clip_frames"], r["fps"], r["size"][0], r["size"][1],
        r["tracked"])]
    lines.append("  footage {}; {} expression curves{}{}".format(
        r["footage"] or "not recorded", r["expressions"],
        "; cuts at {}".format(", ".join(map(str, r["cuts"]))) if r["cuts"] else "",
        "; a hand before the face on frames {}".format(r["hidden_frames"]) if r["hidden_frames"] else ""))
    if r["untracked_frames"]:
        lines.append("  untracked: frames {}".format(r["untracked_frames"]))
    if r["edited"]:
        d = r["mouth_driver"]
        lines.append("  a transfer's output (its performance is not the footage's own){}".format(
            "; its mouth driven on frames {} by the footage {} (its frames {:g}-{:g}): render --mouth-from takes "
            "that footage's Track and movie".format(d["frames"], d["footage"] or "not recorded", *d["driver_frames"])
            if d else "; no mouth driver recorded"))
    return "\n".join(lines)
