# SPDX-License-Identifier: GPL-3.0-or-later
"""A shot and its pieces in the sequencer (imports bpy): the strips an editor makes of one shot
strip by cutting it (Split) or duplicating it keep its ``reenact_id`` and its footage, and each
shows the same clip frames at the timeline place it is given. A result of the shot (a render, a
restyle: a file holding every clip frame, changed or the footage's own) is shown over every
piece, trimmed as that piece is, and follows it when it moves (:func:`follow_shots`, run after
every change). Before 2026-12-05 a result followed the one strip of its shot's name: cutting the
shot trimmed the result to the first piece and left the rest without it, and cutting shot and
result together moved the second piece of the result onto the first piece of the shot."""

import os

import bpy

from . import blend

#: the names of the pieces of its shot a result knew at its last placing: a piece made since
#: (a cut, a duplicate) gets its copy of the result, one the editor took the result off does not
PIECES = "reenact_shot_pieces"


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
    note = blend.match_look(st, piece)
    if note:
        st["reenact_look_note"] = note
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
    note = blend.match_look(copy, piece)
    if note:
        copy["reenact_look_note"] = note
    elif "reenact_look_note" in copy:
        del copy["reenact_look_note"]
    return copy


def add_result_strips(scene, original, out, n_frames, name, key=None):
    """:func:`blend.add_result_strip` over ``original``, and its file over each other piece of
    ``original``'s shot: the result there re-filed in place when the piece has one (a render
    again), else a copy of it; returns (the result strip, those over the other pieces)."""
    group = pieces(original)
    others = {p.name: p for p in group if p != original}
    st = blend.add_result_strip(scene, original, out, n_frames, name, key=key, spare=tuple(others))
    st[PIECES] = sorted(p.name for p in group)
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
    for pv in previews:  # a Preview Frame strip moves with its shot's frames
        shot = named(pv, "reenact_preview_of")
        was = int(pv.get("reenact_shot_start", 0))
        if shot is not None and int(shot.frame_start) != was:
            pv.frame_start += int(shot.frame_start) - was
            pv["reenact_shot_start"] = int(shot.frame_start)
            moved += 1
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
        for p in group:  # pieces made since it was placed (the shot cut alone, or duplicated)
            if p.name not in known and p != piece and not any(
                    r != res and _same_result(r, res) and blend._timing(r) == blend._timing(p) for r in results + made):
                made.append(_copy_result(scene, res, p))
    return moved + len(made)
