# SPDX-License-Identifier: GPL-3.0-or-later
"""A shot and its pieces in the sequencer (imports bpy): the strips an editor makes of one shot
strip by cutting it (Split) or duplicating it keep its ``reenact_id`` and its footage, and each
shows the same clip frames at the timeline place it is given. A result of the shot (a render, a
restyle: a file holding every clip frame, changed or the footage's own) is shown over every
piece, trimmed as that piece is, and follows it when it moves (:func:`follow_shots`, run after
every change). Before 2026-12-05 a result followed the one strip of its shot's name: cutting the
shot trimmed the result to the first piece and left the rest without it, and cutting shot and
result together moved the second piece of the result onto the first piece of the shot.
A result (and a preview) also follows its piece's look: when the editor reframes, crops, mirrors
or re-colours the shot after the render (or keys a reframe), the result takes it again
(``blend.match_look``; since 2026-12-06, before which the dub stayed where the shot had been,
a mouth floating beside the reframed face)."""

import hashlib
import os

import bpy

from . import actor as actor_data
from . import blend

#: the names of the pieces of its shot a result knew at its last placing: a piece made since
#: (a cut, a duplicate) gets its copy of the result, one the editor took the result off does not
PIECES = "reenact_shot_pieces"
#: the digest of its piece's look (:func:`look_signature`) when a result last took it
LOOK = "reenact_shot_look"
#: the digest of its shot's footage (``actor.footage_stamp``) when a result was made
STAMP = "reenact_shot_stamp"


def shot_of(result):
    """The piece of its shot a result (or preview) strip lies on: the strip of its shot's id and
    recorded name, else the one strip of that id; None when gone."""
    rid = result.get("reenact_shot") or result.get("reenact_preview_of")
    ed = result.id_data.sequence_editor
    if not rid or ed is None:
        return None
    shots = [s for s in ed.strips_all if s.get("reenact_id") == rid and s.type in {"MOVIE", "IMAGE"}
             and "reenact_result" not in s and not blend.is_preview(s)]
    named = [s for s in shots if s.name == result.get("reenact_shot_name")]
    return named[0] if named else shots[0] if len(shots) == 1 else None


def stale_note(strip):
    """One line when ``strip`` is a result made from other footage than its shot shows now (the
    shot given another file, or its file written over by a new export), or a shot with such
    results; '' otherwise."""

    def stale(res, shot):
        try:
            return STAMP in res and res[STAMP] != actor_data.footage_stamp(shot)
        except ValueError:
            return False

    if strip.get("reenact_shot"):
        shot = shot_of(strip)
        if shot is not None and stale(strip, shot):
            return "Made from other footage than '{}' shows now: render again".format(shot.name)
        return ""
    if not strip.get("reenact_id"):
        return ""
    old = sorted(r.name for r in blend.siblings(strip) if r.get("reenact_shot") and shot_of(r) == strip
                 and stale(r, strip))
    if old:
        return "{} made from other footage than this shows now: render again".format(
            ", ".join("'{}'".format(n) for n in old))
    return ""


def look_signature(strip):
    """A digest of what ``blend.match_look`` carries from ``strip``: the values, the keys of
    those keyed (not their value at the current frame, which moves with the playhead), and the
    colourspace."""
    _bag, fcs = blend._carried_fcurves(strip)
    pre = strip.path_from_id() + "."
    parts = [getattr(getattr(strip, "colorspace_settings", None), "name", "")]
    for group, names in blend._LOOK.items():
        src = getattr(strip, group, None) if group else strip
        for n in names:
            keyed = [f for f in fcs if f.data_path == pre + (group + "." if group else "") + n]
            if keyed:
                parts.append([(f.array_index, [(tuple(k.co), tuple(k.handle_left), tuple(k.handle_right),
                                                k.interpolation, k.easing) for k in f.keyframe_points])
                              for f in sorted(keyed, key=lambda f: f.array_index)])
            else:
                v = getattr(src, n, None) if src is not None else None
                parts.append(tuple(v) if n == "origin" and v is not None else v)
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def take_look(strip, piece, single_frame=False):
    """``blend.match_look`` of ``piece`` onto ``strip``, its note kept on ``strip`` and the
    look's digest recorded."""
    note = blend.match_look(strip, piece, single_frame=single_frame)
    if note:
        strip["reenact_look_note"] = note
    elif "reenact_look_note" in strip:
        del strip["reenact_look_note"]
    strip[LOOK] = look_signature(piece)
    return note


def _footage(s):
    """What makes strips show the same clip frame at the same place from their start: the file
    (an image strip's first image) and a hard cut's offset into it."""
    return blend.strip_filepath(s), int(getattr(s, "animation_offset_start", 0))


def _pieces_among(strip, candidates):
    rid = strip.get("reenact_id")
    if not rid:
        return [strip]
    mine, home = _footage(strip), strip.parent_meta()
    out = [s for s in candidates if s.type == strip.type and s.get("reenact_id") == rid and s.parent_meta() == home
           and "reenact_result" not in s and not blend.is_preview(s) and _footage(s) == mine]
    return sorted(out or [strip], key=lambda s: (s.frame_final_start, s.channel))


def pieces(strip):
    """``strip`` and the strips of its collection that are pieces of the same shot: the same
    ``reenact_id`` and the same footage, movie or image strips that are not Reenact's results
    or previews, in timeline order."""
    return _pieces_among(strip, blend.siblings(strip))


def clip_span(strips):
    """Clip frames [a, b) that ``strips`` (pieces of one shot) show between them, from the first
    to the last (a render of the shot covers every piece)."""
    spans = [(int(s.frame_final_start - s.frame_start), int(s.frame_final_end - s.frame_start)) for s in strips]
    return max(0, min(a for a, _ in spans)), max(b for _, b in spans)


def _copy_result(scene, result, piece):
    """A copy of ``result`` (same file, same Reenact properties) over ``piece``, trimmed as it is,
    directly above it (:func:`blend.channel_above`); returns it."""
    strips = blend.strips_of(scene, piece)
    channel = blend.free_channel_above(scene, piece)
    start = int(piece.frame_start)
    if result.type == "IMAGE":
        folder = bpy.path.abspath(result.directory, library=result.id_data.library)
        st = strips.new_image(name=result.name, filepath=os.path.join(folder, result.elements[0].filename),
                              channel=channel, frame_start=start)
        for e in list(result.elements)[1:]:
            st.elements.append(e.filename)
    else:
        st = strips.new_movie(name=result.name, filepath=bpy.path.abspath(result.filepath), channel=channel,
                              frame_start=start)
    blend.project_relative(st)
    for k in result.keys():  # (not its look's note, nor its Verify Strip's timeline ranges: the copy's own)
        if k.startswith("reenact_") and k not in ("reenact_look_note", blend.VERIFY_PROP):
            st[k] = result[k]
    place(st, piece)
    keep, _ = blend.channel_above(piece, piece.frame_final_start, piece.frame_final_end, new=st)
    if st.channel != keep:
        st.channel = keep
    take_look(st, piece)
    return st


def place(result, piece, names=None):
    """Give ``result`` ``piece``'s start and trims and make it that piece's result (``names``:
    the names of the pieces of its shot, when known)."""
    start, left, right = blend._timing(piece)
    result.frame_start = start
    result.frame_offset_start, result.frame_offset_end = left, right
    result.frame_start = start  # (again: Blender keeps the handles when the offsets change)
    result["reenact_shot"], result["reenact_shot_name"] = blend._shot_ref(piece)
    result["reenact_shot_at"] = [start, left, right]
    result[PIECES] = names if names is not None else sorted(p.name for p in pieces(piece))


def _same_result(a, b):
    """Whether strips ``a`` and ``b`` are the same render or restyle (one key, or one file)."""
    if a.get("reenact_actor") is not None or b.get("reenact_actor") is not None:
        return a.get("reenact_actor") == b.get("reenact_actor") and a.get("reenact_region") == b.get("reenact_region")
    return blend._strip_paths(a) == blend._strip_paths(b)


def _refile_copy(result, copy, piece):
    """``copy`` (a result of another piece of ``result``'s shot, of the same kind) given
    ``result``'s file in place (:func:`blend.refile`: what the editor set on it stays) and placed
    on ``piece`` as it is now."""
    blend.refile(copy, *blend.result_files(result))
    copy.mute = False
    for k in result.keys():
        if k.startswith("reenact_") and k not in ("reenact_look_note", blend.VERIFY_PROP, "reenact_shot_name"):
            copy[k] = result[k]
    place(copy, piece)
    if not blend._free(blend.siblings(piece), copy.channel, piece.frame_final_start, piece.frame_final_end,
                       ignore=copy):  # (a longer take over what lies after it there)
        copy.channel, _ = blend.channel_above(piece, piece.frame_final_start, piece.frame_final_end, new=copy)
    take_look(copy, piece)
    return copy


def add_result_strips(scene, original, out, n_frames, name, key=None):
    """:func:`blend.add_result_strip` over ``original``, and its file over each other piece of
    ``original``'s shot: the result there re-filed in place when the piece has one (a render
    again), else a copy of it; returns (the result strip, those over the other pieces)."""
    group = pieces(original)
    others = {p.name: p for p in group if p != original}
    st = blend.add_result_strip(scene, original, out, n_frames, name, key=key, spare=tuple(others))
    st[PIECES] = sorted(p.name for p in group)
    st[LOOK] = look_signature(original)
    st[STAMP] = actor_data.footage_stamp(original)  # (copied onto the copies below)
    kept = {}
    for r in blend.all_strips(scene):
        if (r != st and r.get("reenact_shot_name") in others and r.get("reenact_shot") and _same_result(r, st)
                and r.type == st.type and r.parent_meta() == st.parent_meta()):
            kept.setdefault(r["reenact_shot_name"], r)
    return st, [_refile_copy(st, kept[p.name], p) if p.name in kept else _copy_result(scene, st, p)
                for p in group if p != original]


def copies_note(copies):
    """The report's words for the copies of a result over the shot's other pieces."""
    if not copies:
        return ""
    return " and over the shot's other piece{} ({})".format(
        "s" if len(copies) > 1 else "", ", ".join("'{}' in channel {}".format(c.name, c.channel) for c in copies))


def follow_shots(scene):
    """Keep every result strip on its piece of its shot: when the piece was moved in time or
    trimmed since the result was placed (or last followed it), the result takes its start and
    trims, so it still shows each of the shot's frames over that frame. A result cut together
    with its shot stays with the piece it lies on; a piece made since (the shot cut alone, or
    duplicated) gets a copy of the result. A result moved by hand, its piece unchanged, is left
    where it was put; a shot gone leaves its results alone. A Preview Frame strip moves with its
    shot (it shows one of its frames). Run after every change (a depsgraph handler; it writes
    only what changed, each write being another update); returns how many strips moved or were
    made."""
    ed = scene.sequence_editor if scene is not None else None
    if ed is None:
        return 0
    ids, results, previews = {}, [], []
    for s in ed.strips_all:
        if s.get("reenact_shot"):
            results.append(s)
        elif s.get("reenact_preview_of"):
            previews.append(s)
        elif s.get("reenact_id") and s.type in {"MOVIE", "IMAGE"}:
            ids.setdefault(s["reenact_id"], []).append(s)

    def named(s, key):
        """The piece of the recorded name; the one strip of the id when that name is gone (the
        shot renamed); else None (a piece tracked on its own has an id of its own since)."""
        shots, name = ids.get(s[key], []), s.get("reenact_shot_name")
        exact = [x for x in shots if x.name == name]
        if exact:
            return exact[0]
        return shots[0] if len(shots) == 1 and (not name or ed.strips_all.get(name) is None) else None

    moved = 0

    def follow_look(strip, piece, single_frame=False):
        """The piece's look onto ``strip`` when it changed since ``strip`` took it (one made
        before 2026-12-06 records it first)."""
        sig = look_signature(piece)
        if strip.get(LOOK) == sig:
            return 0
        if strip.get(LOOK) is None:
            strip[LOOK] = sig
            return 0
        take_look(strip, piece, single_frame=single_frame)
        return 1

    for pv in previews:  # a Preview Frame strip moves with its shot's frames, and takes its look
        shot = named(pv, "reenact_preview_of")
        was = int(pv.get("reenact_shot_start", 0))
        if shot is not None and int(shot.frame_start) != was:
            pv.frame_start += int(shot.frame_start) - was
            pv["reenact_shot_start"] = int(shot.frame_start)
            moved += 1
        if shot is not None:
            moved += follow_look(pv, shot, single_frame=True)
    made = []
    for res in results:
        mine = blend._timing(res)
        on = [p for p in ids.get(res["reenact_shot"], []) if blend._timing(p) == mine
              and p.parent_meta() == res.parent_meta()]
        if on:  # it lies on a piece as the piece is (cut together with it, or nothing changed)
            piece = next((p for p in on if p.name == res.get("reenact_shot_name")), on[0])
            changed = res.get("reenact_shot_name") != piece.name or list(res.get("reenact_shot_at", [])) != mine
        else:
            piece = named(res, "reenact_shot")
            if piece is None or any(r != res and _same_result(r, res) and blend._timing(r) == blend._timing(piece)
                                    for r in results + made):
                continue  # its shot gone (or its piece gone, the piece left has this result): left alone
            changed = list(res.get("reenact_shot_at", mine)) != blend._timing(piece)
        group = _pieces_among(piece, ids[res["reenact_shot"]])
        known = set(res.get(PIECES, [res.get("reenact_shot_name")]))
        names = sorted(p.name for p in group)
        if changed:
            place(res, piece, names)  # (a result moved by hand, its piece unchanged, stays where it was put)
            moved += 1
        elif list(res.get(PIECES, [])) != names:
            res[PIECES] = names
        moved += follow_look(res, piece)  # (a result re-coloured by hand, its piece's look unchanged, stays)
        for p in group:  # pieces made since it was placed (the shot cut alone, or duplicated)
            if p.name not in known and p != piece and not any(
                    r != res and _same_result(r, res) and blend._timing(r) == blend._timing(p) for r in results + made):
                made.append(_copy_result(scene, res, p))
    return moved + len(made)
