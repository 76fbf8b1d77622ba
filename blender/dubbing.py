# SPDX-License-Identifier: GPL-3.0-or-later
"""The dubbing actor of a transfer, beyond the record :mod:`.actor` reads for a render
(:func:`~.actor.driver_of`): which pieces of the dubbing strip drive which target frames, the
record Transfer Performance leaves (the mouth's driver through a chain of transfers, where the
dubbing strip lay), whether the dub still lines up with that strip, and the keys of other edits a
transfer replaces (docs/transfer.md, *The dubbing actor*)."""

import numpy as np

from . import actor as actor_data
from . import shots, timing
from .curves import animated_ids, edit_bag, read_keys

#: where the dubbing strip lay at the transfer: {"actor": the source's key, "name", "strip",
#: "shot": the target strip's start, "pieces": [start, first clip frame, end clip frame, ...]}
TIMING_PROP = "reenact_driver_timing"


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


# --------------------------------------------------------------------------- the record
def layout(src, strip):
    """[start, first clip frame, end clip frame, ...] of each piece of ``src``'s strip, in timeline order."""
    out = []
    for p in sorted(shots.pieces(strip), key=lambda s: (s.frame_final_start, s.channel)):
        out += [int(p.frame_start), *timing.shown_span([p])]
    return out


def record_mouth(ob, source, performance_frame, source_track, strip=None):
    """Remember on ``ob`` who drives its mouth on the rows where ``performance_frame`` (the
    transfer's ``Track.performance_frame`` from ``source``, whose Track is ``source_track``) is
    finite, and where ``source``'s dubbing strip ``strip`` lay. Where those frames of ``source``
    were themselves driven (a transfer onto it: its own record), their driver is recorded (A onto
    B, then B onto C: A's mouth is C's, and a render draws A's footage; before 2026-12-06 B's
    footage, whose own mouth C does not make). Rows the transfer did not change keep their record
    when their driver is the one recorded now; one actor drives a render's mouth, so the rows of
    another are left undriven (the shot's or the renderer's mouth there). Returns (the recorded
    driver's name, {name of a driver left out: its rows}) for the report."""
    pf = np.asarray(performance_frame, np.float64)
    rows = np.flatnonzero(np.isfinite(pf))
    if not len(rows):
        return None, {}
    P = actor_data
    own = (source.name, P.actor_key(source))
    via = np.zeros(len(rows), bool)
    frames = pf[rows].copy()
    srec = source.get(P.DRIVER_FRAMES_PROP)
    if source.get(P.DRIVER_PROP) and srec is not None and len(srec) == source_track.n_frames:
        srec = np.array(srec, np.float64)
        i = np.round(frames).astype(np.int64) - int(source_track.frame_start)
        ok = (i >= 0) & (i < len(srec))
        via[ok] = srec[i[ok]] >= 0
        frames[via] = srec[i[via]]
    up = (str(source.get(P.DRIVER_PROP)), str(source.get(P.DRIVER_KEY_PROP) or ""))
    chosen, take = (up, via) if via.sum() >= (~via).sum() else (own, ~via)
    left = {up[0] if chosen == own else own[0]: rows[~take].tolist()} if (~take).any() else {}
    old, T = ob.get(P.DRIVER_FRAMES_PROP), len(pf)
    okey, oname = ob.get(P.DRIVER_KEY_PROP) or "", ob.get(P.DRIVER_PROP)
    same = old is not None and len(old) == T and (okey == chosen[1] if okey and chosen[1] else oname == chosen[0])
    new = np.array(old, np.float64) if same else np.full(T, -1.0)
    changed = np.isin(np.arange(T), rows)
    if old is not None and len(old) == T and not same:
        lost = np.flatnonzero((np.asarray(old, np.float64) >= 0) & ~changed)
        if len(lost):
            left.setdefault(str(oname), []).extend(lost.tolist())
    kept = bool(((new >= 0) & ~changed).any())
    new[rows] = -1.0
    new[rows[take]] = frames[take]
    ob[P.DRIVER_PROP], ob[P.DRIVER_KEY_PROP], ob[P.DRIVER_FRAMES_PROP] = chosen[0], chosen[1], new.tolist()
    if strip is not None:
        lay = {"actor": own[1], "name": own[0], "strip": strip.name, "shot": int(ob.reenact.frame_offset),
               "pieces": layout(source, strip), "kept": []}
        prev = ob.get(TIMING_PROP)
        if kept and prev is not None:  # rows this transfer did not reach keep the timing of theirs: said by
            # stale_note until they are reset or transferred again (before the review of 2026-12-06 the old
            # layout was kept for every row, and the warning came back after each transfer)
            older = [int(r) for r in prev.get("kept", [])]
            if [int(v) for v in prev.get("pieces", [])] != lay["pieces"] or int(prev.get("shot", 0)) != lay["shot"]:
                older += np.flatnonzero((new >= 0) & ~changed).tolist()
            lay["kept"] = sorted(set(older) - set(rows.tolist()))
        ob[TIMING_PROP] = lay
    return chosen[0], left


def earlier_rows(ob, result):
    """Rows of ``ob`` still driven (:func:`record_mouth`) that the transfer of ``result`` did not
    write: an earlier transfer's mouth, kept where this one does not reach (another offset, a
    shorter dubbing strip)."""
    frames = ob.get(actor_data.DRIVER_FRAMES_PROP)
    pf = np.asarray(result.performance_frame, np.float64)
    if frames is None or len(frames) != len(pf):
        return []
    return np.flatnonzero((np.asarray(frames, np.float64) >= 0) & ~np.isfinite(pf)).tolist()


def forget_driver(ob, track, a, b):
    """Rows of timeline frames a..b (inclusive) are no longer driven (Reset to Tracked gave them
    the footage's mouth back: a render drew the driver's mouth there). Returns how many were."""
    frames = ob.get(actor_data.DRIVER_FRAMES_PROP)
    if frames is None or len(frames) != track.n_frames:
        return 0
    pf = np.array(frames, np.float64)  # (a copy: asarray can be a view of the property)
    first = int(track.frame_start) + int(ob.reenact.frame_offset)
    lo, hi = max(0, int(a) - first), min(len(pf), int(b) - first + 1)
    n = int((pf[lo:hi] >= 0).sum()) if hi > lo else 0
    if n:
        pf[lo:hi] = -1.0
        ob[actor_data.DRIVER_FRAMES_PROP] = pf.tolist()
    return n


def stale_note(ob):
    """'' while ``ob``'s transferred mouth lines up with its dubbing strip as it did at the transfer,
    else a warning for Render Performance and Preview Frame: the dubbing strip (or the shot) moved
    against the other, or the dubbing strip was trimmed or cut since, and the mouth keeps the
    timing of then (before 2026-12-06 unsaid: the dub rendered out of sync). Nothing to say where
    no row is driven, or the dubbing actor or its strip is gone (:func:`~.actor.driver_of` says so)."""
    rec, frames = ob.get(TIMING_PROP), ob.get(actor_data.DRIVER_FRAMES_PROP)
    if rec is None or frames is None or not any(f >= 0 for f in frames):
        return ""
    src = actor_data.find_actor(rec.get("name"), rec.get("actor"), ob)
    try:
        strip = actor_data.actor_strip(src)[1] if src is not None else None
    except ValueError:
        strip = None
    if strip is None:
        return ""
    then, now = list(rec.get("pieces", [])), layout(src, strip)
    moved = {(n - int(ob.reenact.frame_offset)) - (t - int(rec.get("shot", 0))) for n, t in zip(now[::3], then[::3])}
    if len(now) == len(then) and now[1::3] == then[1::3] and now[2::3] == then[2::3]:
        if moved == {0}:
            return _kept_note(ob, src, strip, rec, frames)
        d = moved.pop() if len(moved) == 1 else None
        what = ("lies {} frame(s) {} against the shot than then".format(abs(d), "later" if d > 0 else "earlier")
                if d is not None else "was rearranged")
    else:
        what = "was {} since".format("cut or joined" if len(now) != len(then) else "trimmed")
    return ("the mouth of '{}' was transferred from '{}' as its dubbing strip '{}' lay then; that strip {}, and the "
            "mouth no longer lines up with it: Transfer Performance again".format(ob.name, src.name, strip.name, what))


def _kept_note(ob, src, strip, rec, frames):
    """'' or the warning for rows a later transfer from ``src`` did not reach, which keep the mouth
    of a transfer made when its strip lay otherwise (still driven: not reset since)."""
    rows = [r for r in rec.get("kept", []) if 0 <= int(r) < len(frames) and frames[int(r)] >= 0]
    if not rows:
        return ""
    from ..render.actors import frame_runs
    from .curves import timeline_frames

    try:
        tl = timeline_frames(ob, actor_data.tracked_track(ob))
    except (ValueError, OSError):
        return ""
    return ("frame(s) {} of '{}' keep a mouth transferred from '{}' when its dubbing strip '{}' lay otherwise (the "
            "last transfer did not reach them): Reset to Tracked there, or transfer them again".format(
                frame_runs([int(tl[int(r)]) for r in rows if int(r) < len(tl)]), ob.name, src.name, strip.name))


# --------------------------------------------------------------------------- keys replaced
def replaced_keys(ob, track, result, info):
    """{channel: [timeline frames]}: the keys of ``ob``'s edit layer that transferring ``result``
    (``info``: its :func:`~reenact.face.transfer.transfer` info; ``track``: the actor's Track)
    replaces and that hold neither the tracked value nor the transfer's: hand fixes, or an
    earlier transfer of other settings or from another actor (before 2026-12-06 replaced unsaid)."""
    fr = np.asarray(info["transferred_frames"], np.int64)
    if not len(fr):
        return {}
    rows = fr - int(track.frame_start)
    tl = fr + int(ob.reenact.frame_offset)
    ob_id, key_id = animated_ids(ob)
    names = [str(n) for n in result.expression_names]
    chans = [(key_id, 'key_blocks["{}"].value'.format(n), 0, n, track.expression[rows, names.index(n)],
              result.expression[rows, names.index(n)]) for n in info["expressions"]]
    if info["gaze"]:
        chans += [(ob_id, '["{}"]'.format(p), 0, p, track.gaze[rows, i], result.gaze[rows, i])
                  for i, p in enumerate(actor_data.GAZE_PROPS)]
    if info["pose"]:
        was = actor_data.track_pose_to_blender(np.asarray(track.pose, np.float64)[rows])
        now = actor_data.track_pose_to_blender(np.asarray(result.pose, np.float64)[rows])
        chans += [(ob_id, path, i, "{}[{}]".format(path, i), was[w][:, i], now[w][:, i])
                  for w, path in enumerate(("location", "rotation_euler")) for i in range(3)]
    out = {}
    for idd, path, index, label, was, now in chans:
        bag = edit_bag(idd) if idd is not None else None
        fc = bag.fcurves.find(path, index=index) if bag is not None else None
        if fc is None or not len(fc.keyframe_points):
            continue
        co = read_keys(fc, ("co",))["co"].astype(np.float64)
        at = np.searchsorted(tl, np.round(co[:, 0]))
        on = (at < len(tl)) & (np.abs(co[:, 0] - np.round(co[:, 0])) < 1e-3)
        on[on] &= tl[at[on]] == np.round(co[on, 0])
        v, k = co[on, 1], at[on]
        tol = 1e-5 + 2e-6 * np.abs(v)
        other = (np.abs(v - was[k]) > tol) & (np.abs(v - now[k]) > tol)
        if other.any():
            out[label] = sorted(int(f) for f in np.round(co[on, 0][other]))
    return out
