# SPDX-License-Identifier: GPL-3.0-or-later
"""The dubbing actor of a transfer, beyond the record :mod:`.actor` reads for a render
(:func:`~.actor.driver_of`): which pieces of the dubbing strip drive which target frames
(docs/transfer.md)."""

import numpy as np

from . import shots, timing


# --------------------------------------------------------------------------- which piece drives what
def piece_runs(src, strip, offset, frames, target):
    """How the dubbing strip ``strip`` of ``src`` and the pieces cut from it (:func:`shots.pieces`)
    drive the target whose Track is ``target``: ([(piece name, offset, (a, b) target clip rows or
    None: all)], names of the pieces that line up with none of rows ``frames`` (None: all)). Target
    row t takes the source's clip frame t - offset (``offset``: the transfer's for the strip in its
    actor's place); a piece moved after the cut shows its clip frames later by as much, and drives
    the target frames it lines up with there. Topmost channel last: it wins where two overlap, as
    the sequencer shows it. (Before 2026-12-06 the piece that kept the strip's name drove alone: a
    driver cut in two changed the target's frames up to the cut only.)"""
    f0, f1 = int(target.frame_start), int(target.frame_start) + int(target.n_frames)
    whole = (max(f0, frames[0]), min(f1, frames[1])) if frames else (f0, f1)
    pieces = shots.pieces(strip)
    runs, none = [], []
    for p in sorted(pieces, key=lambda s: s.channel):
        a, b = timing.shown_span([p])
        if b <= a:  # (hidden by its meta's trims)
            continue
        off = int(offset) + int(p.frame_start) - int(src.reenact.frame_offset)
        if len(pieces) == 1 and (a, b) == (0, int(p.frame_duration)):
            runs.append((p.name, off, frames))  # (the whole clip: the target's frames beyond it say so)
            continue
        lo, hi = max(whole[0], a + off), min(whole[1], b + off)
        if hi > lo:
            runs.append((p.name, off, (lo, hi)))
        else:
            none.append(p.name)
    return runs, none


def covered(runs, whole):
    """Sorted target rows of ``whole`` (a, b) that ``runs`` (:func:`piece_runs`) reach."""
    rows = set()
    for _, _, fr in runs:
        a, b = fr or whole
        rows.update(range(max(a, whole[0]), min(b, whole[1])))
    return sorted(rows)


def merge_infos(infos):
    """One ``info`` of :func:`~reenact.face.transfer.transfer` for several runs of it, one a piece."""
    out = dict(infos[0])
    out["transferred_frames"] = sorted(set().union(*(i["transferred_frames"] for i in infos)))
    out["transferred"] = len(out["transferred_frames"])
    for k in ("skipped_untracked_source", "skipped_untracked_target", "outside_source", "eased_frames",
              "eased_turns"):
        out[k] = sum(int(i.get(k) or 0) for i in infos)
    out["turned_back_deg"] = max(float(i.get("turned_back_deg") or 0.0) for i in infos)
    return out
