# SPDX-License-Identifier: GPL-3.0-or-later
"""A mouth dub's choice of footage frames on long shots (``render/rewrite.py: plan``): the time
of the row-by-row loop and of the blocked path (:data:`reenact.render.rewrite.BLOCKED_ABOVE`),
and whether they choose alike, on the sample clip's Track tiled back and forth (no cuts) to
1,000 / 5,000 / 20,000 frames, dubbed by its own mouth 37 frames later (every row changed).
Preview Frame and Render Performance plan over the whole shot, so this is what a 10-minute
interview's dub costs before its first frame; "after an edit": Preview Frame's plan after an
edit of 30 frames (the rows' candidates kept from the plan before, ``rewrite._MEMO``). No footage
is read; no ../shared/data needed.

    python -m reenact.bench.long_shots [--sizes 1000,5000,20000] [--loop-up-to 5000]

Prints a table and writes bench/results/long_shots.json."""

import argparse
import json
import os
import time
from dataclasses import fields

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def tiled(track, n):
    """``track``'s rows played back and forth (0..T-1, T-2..1, ...) to ``n`` rows."""
    from reenact.face.track import _MAY_BE_EMPTY, _PER_FRAME, Track

    T = track.n_frames
    cycle = np.concatenate([np.arange(T), np.arange(T - 2, 0, -1)])
    idx = cycle[np.arange(n) % len(cycle)]
    kw = {}
    for f in fields(track):
        v = getattr(track, f.name)
        if f.name in _PER_FRAME and (f.name not in _MAY_BE_EMPTY or len(v)):
            v = np.array(np.asarray(v)[idx], copy=True)
        elif f.name == "shot_start" and len(v):
            v = np.zeros(n, bool)
        elif isinstance(v, np.ndarray):
            v = v.copy()
        kw[f.name] = v
    if len(kw.get("shot_start", ())) == n:
        kw["shot_start"][0] = True
    kw["frame_start"] = 0
    return Track(**kw)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m reenact.bench.long_shots", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="1000,5000,20000")
    p.add_argument("--loop-up-to", type=int, default=5000, help="time the row-by-row loop up to this many frames")
    p.add_argument("--out", default=os.path.join(HERE, "results", "long_shots.json"))
    a = p.parse_args(argv)
    from reenact.face import transfer as X
    from reenact.render import rewrite
    from reenact.sample import sample_clip
    from reenact.tracking.tracker import track_video

    base = track_video(sample_clip())[0]
    rows_out = []
    for n in [int(s) for s in a.sizes.split(",")]:
        own = tiled(base, n)
        req = X._copy(own)
        req.expression = np.roll(np.asarray(own.expression), 37, axis=0)
        req = req.with_footage_rows(own)
        rows = rewrite.changed_rows(own, req)
        row = {"frames": n, "changed_rows": int(len(rows))}
        keep = rewrite.BLOCKED_ABOVE
        try:
            rewrite.BLOCKED_ABOVE = 0
            rewrite._MEMO.clear()  # (each plan timed from nothing kept)
            t = time.perf_counter()
            blocked = rewrite.plan(own, req, rows)
            row["blocked_s"] = round(time.perf_counter() - t, 2)
            # Preview Frame after an animator's edit of 30 frames: the plan of the whole performance again,
            # the other rows' candidates kept from the plan before
            edited = X._copy(req)
            ex = np.array(edited.expression)
            ex[n // 2:n // 2 + 30] *= 1.3
            edited.expression = ex
            rewrite.BLOCKED_ABOVE = keep
            rewrite.plan(own, req, rows)  # (the preview before the edit, at the default threshold: not timed)
            t = time.perf_counter()
            rewrite.changed_rows(own, edited)
            rewrite.plan(own, edited, rows)
            row["after_edit_s"] = round(time.perf_counter() - t, 2)
            if n <= a.loop_up_to:
                rewrite.BLOCKED_ABOVE = 1 << 62
                rewrite._MEMO.clear()
                t = time.perf_counter()
                loop = rewrite.plan(own, req, rows)
                row["row_by_row_s"] = round(time.perf_counter() - t, 2)
                row["same_choices"] = bool(np.array_equal(loop[0], blocked[0]))
                # the tiled footage repeats every mouth exactly: where the two differ, is it a frame
                # showing the same picture (a tie) and the same distance?
                pic = np.concatenate([np.arange(base.n_frames), np.arange(base.n_frames - 2, 0, -1)])
                pic = pic[np.arange(n) % len(pic)]
                a_, b_ = loop[0], blocked[0]
                row["same_pictures"] = bool(np.array_equal(np.where(a_ >= 0, pic[a_], -1), np.where(b_ >= 0, pic[b_], -1)))
                row["max_distance_difference_cm"] = float(np.nanmax(np.abs(loop[1] - blocked[1]), initial=0.0))
        finally:
            rewrite.BLOCKED_ABOVE = keep
        rows_out.append(row)
        print("{:>7} frames  {:>7} rows  blocked {:>7.2f} s  after an edit {:>6.2f} s  row by row {:>8}  same frames {}  "
              "same pictures {}  distance diff {}".format(n, row["changed_rows"], row["blocked_s"], row["after_edit_s"],
                                                          "{:.2f} s".format(row["row_by_row_s"])
                                        if "row_by_row_s" in row else "-", row.get("same_choices", "-"),
                                        row.get("same_pictures", "-"), row.get("max_distance_difference_cm", "-")),
              flush=True)
    res = {"what": "render/rewrite.py plan on the sample clip's Track tiled to long shots (mouth dub, every row)",
           "rows": rows_out, "blocked_above": rewrite.BLOCKED_ABOVE, "cpu_count": os.cpu_count()}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
